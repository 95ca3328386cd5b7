/* bin/mockbroker: the mock cluster as a standalone server any Kafka client can use. */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ev/clock_ev.h"
#include "mockbroker/mockbroker.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mockbroker [options]\n"
        "       mockbroker grade [options] -- COMMAND ARGS...   (see mockbroker grade --help)\n"
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
        "  --scenario FILE          brokers, topics, actions and fault rules from a scenario\n"
        "                           file (docs/scenarios.md); options given here win\n"
        "  --admin-port P           serve the HTTP control API on 127.0.0.1:P (0 = ephemeral)\n"
        "  --exit-on-stdin-close    stop when standard input reaches end of file\n"
        "Prints bootstrap=HOST:PORT,... as its first line on stdout, then, with --admin-port,\n"
        "admin=http://127.0.0.1:P; logs go to stderr.\n"
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
    if (argc > 1 && strcmp(argv[1], "grade") == 0)
        return mb_grade_main(argc - 1, argv + 1);
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.port = 9092;
    const char *topics[256], *configs[256];
    int n_topics = 0, n_configs = 0;
    bool exit_on_stdin = false;
    long long v;
    const char *scenario_path = NULL;
    int admin_port = -1;
    struct mb_scenario *scenario = NULL;
    char err[512];

    /* The scenario first, so that options on the command line override what it sets. */
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--scenario") == 0)
            scenario_path = argv[i + 1];
    if (scenario_path) {
        scenario = mb_scenario_load(scenario_path, err, sizeof(err));
        if (scenario == NULL) {
            fprintf(stderr, "mockbroker: %s\n", err);
            return 2;
        }
        mb_scenario_config(scenario, &cfg);
    }

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
            mb_scenario_destroy(scenario);
            return 2;
        } else if (strcmp(a, "--scenario") == 0) {
            /* loaded above */
        } else if (strcmp(a, "--admin-port") == 0 && parse_long(val, 0, 65535, &v)) {
            admin_port = (int)v;
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
            mb_scenario_destroy(scenario);
            return 2;
        }
        if (takes)
            i++;
    }
    if (cfg.port && cfg.port + cfg.brokers - 1 > 65535) {
        fprintf(stderr, "mockbroker: ports %d..%d out of range\n", cfg.port,
                cfg.port + cfg.brokers - 1);
        mb_scenario_destroy(scenario);
        return 2;
    }

    /* One thread: the cluster runs on our event_base, beside the signal and stdin events. */
    struct event_base *base = kw_ev_base_new();
    if (base == NULL) {
        fprintf(stderr, "mockbroker: event_base_new failed\n");
        mb_scenario_destroy(scenario);
        return 1;
    }
    cfg.base = base;
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "mockbroker: %s\n", err);
        event_base_free(base);
        mb_scenario_destroy(scenario);
        return 1;
    }
    int rc = 0;
    if (scenario && mb_scenario_apply(c, scenario, err, sizeof(err)) != 0) {
        fprintf(stderr, "mockbroker: %s: %s\n", scenario_path, err);
        rc = 2;
    }
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
    struct mb_admin *admin = NULL;
    if (rc == 0 && admin_port >= 0 &&
        (admin = mb_admin_start(c, admin_port, err, sizeof(err))) == NULL) {
        fprintf(stderr, "mockbroker: --admin-port %d: %s\n", admin_port, err);
        rc = 1;
    }
    if (rc == 0) {
        printf("bootstrap=%s\n", mb_cluster_bootstrap(c));
        if (admin)
            printf("admin=http://127.0.0.1:%d\n", mb_admin_port(admin));
        fflush(stdout);
        fprintf(stderr, "mockbroker: seed %" PRIu64 "\n", mb_cluster_seed(c));
        if (scenario) {
            const struct mb_workload *w = scenario->workload;
            fprintf(stderr, "mockbroker: scenario %s: %s\n", scenario_path,
                    scenario->description ? scenario->description : "(no description)");
            if (w)
                fprintf(stderr, "mockbroker: workload: %" PRId64 " messages to %s, seed %"
                        PRIu64 "\n", w->messages, w->topic, w->seed);
        }
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
    mb_admin_stop(admin);
    mb_cluster_destroy(c);
    event_base_free(base);
    mb_scenario_destroy(scenario);
    return rc;
}
