/* bin/mockbroker: the mock cluster as a standalone server any Kafka client can use. */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mockbroker/mockbroker.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mockbroker [options]\n"
        "  --brokers N              brokers in the cluster (default 1)\n"
        "  --port P                 broker i listens on P+i-1 (default 9092; 0 = ephemeral)\n"
        "  --topic NAME:PARTS[:RF]  create a topic (repeatable)\n"
        "  --topic-config NAME:KEY=VALUE\n"
        "                           min.insync.replicas, max.message.bytes,\n"
        "                           message.timestamp.type, retention.bytes (repeatable)\n"
        "  --auto-create on|off     create topics on Metadata (default on)\n"
        "  --partitions N           partitions of auto-created topics (default 1)\n"
        "  --retention-bytes N      default retention.bytes per partition (default -1: none)\n"
        "  --max-request-size N     largest request frame accepted (default 104857600)\n"
        "  --seed S                 placement, topic ids and producer ids (default: random,\n"
        "                           printed)\n"
        "  --log-level L            error, warn, info, debug (default info)\n"
        "  --exit-on-stdin-close    stop when standard input reaches end of file\n"
        "Prints bootstrap=HOST:PORT,... as its first line on stdout; logs go to stderr.\n"
        "Stops cleanly on SIGINT or SIGTERM.\n");
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void stdin_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        event_base_loopbreak(arg);
}

static bool parse_long(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int level_of(const char *s)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.port = 9092;
    const char *topics[256], *configs[256];
    int n_topics = 0, n_configs = 0;
    bool exit_on_stdin = false;
    long long v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--exit-on-stdin-close") == 0) {
            exit_on_stdin = true;
            takes = false;
        } else if (val == NULL) {
            fprintf(stderr, "mockbroker: %s needs a value (or is unknown; see --help)\n", a);
            return 2;
        } else if (strcmp(a, "--brokers") == 0 && parse_long(val, 1, 64, &v)) {
            cfg.brokers = (int)v;
        } else if (strcmp(a, "--port") == 0 && parse_long(val, 0, 65535, &v)) {
            cfg.port = (int)v;
        } else if (strcmp(a, "--topic") == 0 && n_topics < 256) {
            topics[n_topics++] = val;
        } else if (strcmp(a, "--topic-config") == 0 && n_configs < 256) {
            configs[n_configs++] = val;
        } else if (strcmp(a, "--auto-create") == 0 &&
                   (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)) {
            cfg.auto_create = strcmp(val, "on") == 0;
        } else if (strcmp(a, "--partitions") == 0 && parse_long(val, 1, 100000, &v)) {
            cfg.default_partitions = (int)v;
        } else if (strcmp(a, "--retention-bytes") == 0 && parse_long(val, -1, INT64_MAX, &v)) {
            cfg.retention_bytes = v;
        } else if (strcmp(a, "--max-request-size") == 0 && parse_long(val, 64, INT32_MAX, &v)) {
            cfg.max_request_size = (size_t)v;
        } else if (strcmp(a, "--seed") == 0 && parse_long(val, 1, INT64_MAX, &v)) {
            cfg.seed = (uint64_t)v;
        } else if (strcmp(a, "--log-level") == 0 && level_of(val) >= 0) {
            cfg.log_level = level_of(val);
        } else {
            fprintf(stderr, "mockbroker: bad option or value: %s %s (see --help)\n", a, val);
            return 2;
        }
        if (takes)
            i++;
    }
    if (cfg.port && cfg.port + cfg.brokers - 1 > 65535) {
        fprintf(stderr, "mockbroker: ports %d..%d out of range\n", cfg.port,
                cfg.port + cfg.brokers - 1);
        return 2;
    }

    /* One thread: the cluster runs on our event_base, beside the signal and stdin events. */
    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "mockbroker: event_base_new failed\n");
        return 1;
    }
    cfg.base = base;
    char err[256];
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "mockbroker: %s\n", err);
        event_base_free(base);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < n_topics && rc == 0; i++) {
        char name[256];
        int parts = 1, rf = 0;
        if (sscanf(topics[i], "%255[^:]:%d:%d", name, &parts, &rf) < 2 ||
            mb_topic_create(c, name, parts, rf, err, sizeof(err)) != 0) {
            fprintf(stderr, "mockbroker: --topic %s: %s\n", topics[i],
                    strchr(topics[i], ':') ? err : "expected NAME:PARTITIONS[:REPLICATION]");
            rc = 2;
        }
    }
    for (int i = 0; i < n_configs && rc == 0; i++) {
        char name[256], key[128], value[128];
        if (sscanf(configs[i], "%255[^:]:%127[^=]=%127s", name, key, value) != 3 ||
            mb_topic_config_set(c, name, key, value, err, sizeof(err)) != 0) {
            fprintf(stderr, "mockbroker: --topic-config %s: %s\n", configs[i],
                    strchr(configs[i], '=') ? err : "expected NAME:KEY=VALUE");
            rc = 2;
        }
    }
    if (rc == 0) {
        printf("bootstrap=%s\n", mb_cluster_bootstrap(c));
        fflush(stdout);
        fprintf(stderr, "mockbroker: seed %" PRIu64 "\n", mb_cluster_seed(c));
        signal(SIGPIPE, SIG_IGN);
        struct event *sigint = evsignal_new(base, SIGINT, stop_cb, base);
        struct event *sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
        struct event *in = exit_on_stdin
                               ? event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb, base)
                               : NULL;
        event_add(sigint, NULL);
        event_add(sigterm, NULL);
        if (in)
            event_add(in, NULL);
        event_base_dispatch(base);
        fprintf(stderr, "mockbroker: shutting down\n");
        event_free(sigint);
        event_free(sigterm);
        if (in)
            event_free(in);
    }
    mb_cluster_destroy(c);
    event_base_free(base);
    return rc;
}
