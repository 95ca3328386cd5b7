/* Bounded load test: one process holds many connections to a bin/mockbroker of its own and
 * produces at a fixed total rate for a fixed time, then checks that nothing was lost.
 *   - N libkproducer instances (one connection each) share one event_base on this thread, in
 *     caller-driven mode: 200 producer threads would fight the broker for 2 cores;
 *   - arrivals follow one schedule (Poisson by default) at the total rate, dealt round robin to
 *     the producers; each message is timed from its scheduled arrival to its delivery report, so
 *     a stall counts against every message it delayed, not just the one produce() was on;
 *   - every second: messages scheduled, produced and delivered, how far produce() is behind the
 *     schedule, the broker's RSS (/proc/PID/status) and CPU (schedstat of its threads);
 *   - at the end, each partition's log start and end offsets from the broker's admin API: the
 *     records in the log plus those retention dropped must be the successful delivery reports,
 *     and each partition's end must be one past the highest offset any report gave.
 * Exits 1 only when the run fails (errors, lost or unexplained records, broker trouble); a rate
 * the machine cannot sustain is a MISS in the table, not a failure.
 * `bench_load [--duration S] [--rate R] [--connections N] [--partitions P] [--linger-ms MS]
 *  [--arrivals poisson|uniform] [--retention-bytes B] [--every S] [--seed S] [--set k=v]...`;
 * BIN names the directory of mockbroker (default bin). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "producer/kproducer.h"
#include "producer/loadgen.h"
#include "tests/bench/common/broker.h"
#include "tests/bench/common/proc.h"

#define TOPIC "load"
#define VALUE_BYTES 100
#define POOL 4096                   /* distinct values, cycled */
#define MAX_PARTITIONS 256
#define MAX_CONNECTIONS 2000
#define MAX_DURATION 86400
#define START_MS 30000              /* bootstrap line; every producer's first delivery */
#define STOP_MS 10000               /* the broker's exit once its stdin closes */
#define DRAIN_MS 60000              /* the last reports after the schedule ends */
#define HTTP_MS 10000
#define MAX_SETS 16

/* --- the broker's process, from /proc --------------------------------------------------------- */

/* Open sockets of the process (its listeners included), or -1. */
static int proc_sockets(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char link[320], target[64];
        snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len > 0) {
            target[len] = 0;
            n += strncmp(target, "socket:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

/* --- bin/mockbroker --------------------------------------------------------------------------- */

static char mockbroker_path[4096];

/* Starts bin/mockbroker with the topic and its admin API, and reads its first two lines
 * (bootstrap=..., admin=...): 0, or -1 (said why). */
static int broker_start(struct bench_broker *b, int partitions, const char *retention)
{
    char topic[64];
    snprintf(topic, sizeof(topic), "%s:%d", TOPIC, partitions);
    char *const argv[] = { mockbroker_path, "--port", "0", "--admin-port", "0", "--seed", "1",
                           "--exit-on-stdin-close", "--log-level", "error", "--auto-create",
                           "off", "--topic", topic, "--retention-bytes", (char *)retention,
                           NULL };
    return bench_broker_start(b, "bench_load", NULL, argv, START_MS, true);
}

/* GET path from the broker's admin API: the parsed JSON body of a 200 answer, or NULL (said
 * why). A blocking exchange, bounded by HTTP_MS: it runs only after the load. */
static json_t *admin_get(const struct bench_broker *b, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("bench_load: socket");
        return NULL;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)b->admin_port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Connection: close\r\n\r\n", path);
    size_t cap = 1 << 16, len = 0;
    char *resp = malloc(cap);
    bool ok = resp && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
              write(fd, req, (size_t)n) == n;
    int64_t deadline = bench_now_ns() + (int64_t)HTTP_MS * 1000000;
    while (ok) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, bench_ms_left(deadline)) <= 0) {
            ok = false;
            break;
        }
        ssize_t r = read(fd, resp + len, cap - 1 - len);
        if (r == 0)
            break;
        ok = r > 0 && (len += (size_t)r) < cap - 1;
    }
    close(fd);
    json_t *body = NULL;
    if (ok) {
        resp[len] = 0;
        const char *start = strstr(resp, "\r\n\r\n");
        json_error_t err;
        if (strncmp(resp, "HTTP/1.1 200", 12) == 0 && start)
            body = json_loads(start + 4, 0, &err);
    }
    if (body == NULL)
        fprintf(stderr, "bench_load: GET %s from the admin API failed: %.200s\n", path,
                ok ? resp : strerror(errno));
    free(resp);
    return body;
}

/* --- the load --------------------------------------------------------------------------------- */

/* One second of the run. */
struct second {
    int64_t scheduled, produced, delivered;
    double lag_ms;                  /* produce() behind the schedule at the second's end */
    int64_t outq;                   /* produced, not yet reported, at the second's end */
    double rss;                     /* broker, bytes */
    double broker_cpu, self_cpu;    /* CPU seconds spent in this second */
};

struct load {
    int n_prod;
    struct kp_producer **prod;
    int partitions;
    int64_t t0;                     /* the schedule's origin, ns */
    int n_secs;                     /* entries in sec: the run, the drain, one spare */
    struct second *sec;
    struct kp_hist hist;            /* ns from scheduled arrival to report */
    int64_t delivered;              /* warm-up messages included */
    int64_t delivered_timed;        /* scheduled ones */
    int64_t last_report_ns;         /* after t0 */
    int64_t errors, error_events, refused, queue_full;
    char first_error[256];
    int64_t part_delivered[MAX_PARTITIONS];
    int64_t part_max_offset[MAX_PARTITIONS];
};

static int sec_of(const struct load *l, int64_t t_ns)
{
    int64_t s = t_ns < 0 ? 0 : t_ns / 1000000000;
    return s < l->n_secs ? (int)s : l->n_secs - 1;
}

static void note_error(struct load *l, const char *fmt, const char *what, const char *why)
{
    if (l->first_error[0] == 0)
        snprintf(l->first_error, sizeof(l->first_error), fmt, what, why);
}

/* A report's opaque is its scheduled arrival + 1 in ns after t0; NULL marks a warm-up message. */
static void dr_cb(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    struct load *l = opaque;
    int64_t t = bench_now_ns() - l->t0;
    if (r->err) {
        l->errors++;
        note_error(l, "delivery failed: %s: %s", kp_err2name(r->err), r->errstr);
        return;
    }
    if (r->partition < 0 || r->partition >= l->partitions || r->offset < 0) {
        l->errors++;
        note_error(l, "%s%s", "a report names no valid partition or offset", "");
        return;
    }
    l->delivered++;
    l->part_delivered[r->partition]++;
    if (r->offset > l->part_max_offset[r->partition])
        l->part_max_offset[r->partition] = r->offset;
    if (r->opaque == NULL)
        return;
    int64_t sched = (int64_t)(uintptr_t)r->opaque - 1;
    kp_hist_record(&l->hist, (uint64_t)(t > sched ? t - sched : 0));
    l->delivered_timed++;
    l->last_report_ns = t;
    l->sec[sec_of(l, t)].delivered++;
}

static void error_cb(struct kp_producer *p, int err, const char *reason, void *opaque)
{
    (void)p;
    struct load *l = opaque;
    l->error_events++;
    note_error(l, "producer error: %s: %s", kp_err2name(err), reason);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Serves every producer's reports. In caller-driven mode each poll also runs the shared loop
 * once without waiting. */
static void poll_all(struct load *l)
{
    for (int i = 0; i < l->n_prod; i++)
        kp_producer_poll(l->prod[i], 0);
}

static int64_t outq_all(const struct load *l)
{
    int64_t n = 0;
    for (int i = 0; i < l->n_prod; i++)
        n += kp_producer_outq_len(l->prod[i]);
    return n;
}

/* Runs the shared loop until I/O or until ns have passed. */
static void wait_loop(struct event_base *base, struct event *wake, int64_t ns)
{
    struct timeval tv = { (time_t)(ns / 1000000000), (long)(ns % 1000000000 / 1000) };
    evtimer_add(wake, &tv);
    event_base_loop(base, EVLOOP_ONCE);
    evtimer_del(wake);
}

struct opts {
    int duration, connections, partitions, every, arrivals;
    double rate;
    const char *linger_ms, *retention;
    uint64_t seed;
    const char *sets[MAX_SETS][2];
    int n_sets;
};

/* Creates the producers on base: 0, or -1 (said why). */
static int producers_new(struct load *l, const struct opts *o, struct event_base *base,
                         const char *bootstrap)
{
    char errstr[512] = "out of memory";
    struct kp_conf *conf = kp_conf_new();
    bool ok = conf && kp_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                  sizeof(errstr)) == KP_CONF_OK &&
              kp_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) == KP_CONF_OK &&
              kp_conf_set(conf, "linger.ms", o->linger_ms, errstr, sizeof(errstr)) ==
              KP_CONF_OK;
    for (int i = 0; ok && i < o->n_sets; i++)
        ok = kp_conf_set(conf, o->sets[i][0], o->sets[i][1], errstr, sizeof(errstr)) ==
             KP_CONF_OK;
    if (ok) {
        kp_conf_set_dr_cb(conf, dr_cb);
        kp_conf_set_error_cb(conf, error_cb);
        kp_conf_set_opaque(conf, l);
        kp_conf_set_event_base(conf, base, NULL);
    }
    for (int i = 0; ok && i < l->n_prod; i++) {
        char v[32];
        snprintf(v, sizeof(v), "load-%d", i);
        ok = kp_conf_set(conf, "client.id", v, errstr, sizeof(errstr)) == KP_CONF_OK;
        snprintf(v, sizeof(v), "%" PRIu64, o->seed + (uint64_t)i);
        ok = ok && kp_conf_set(conf, "kp.seed", v, errstr, sizeof(errstr)) == KP_CONF_OK &&
             (l->prod[i] = kp_producer_new(conf, errstr, sizeof(errstr))) != NULL;
    }
    kp_conf_destroy(conf);
    if (!ok)
        fprintf(stderr, "bench_load: producer: %s\n", errstr);
    return ok ? 0 : -1;
}

/* One message through each producer before the clock starts, so metadata and every connection
 * are up: true, or false (said why). */
static bool warm_up(struct load *l, struct event_base *base, struct event *wake,
                    const uint8_t *pool)
{
    for (int i = 0; i < l->n_prod; i++) {
        int err = kp_producer_produce(l->prod[i], TOPIC, KP_PARTITION_UA, KP_MSG_COPY, NULL, 0,
                                      pool, VALUE_BYTES, NULL, 0, 0, NULL);
        if (err) {
            fprintf(stderr, "bench_load: warm-up produce: %s\n", kp_err2str(err));
            return false;
        }
    }
    int64_t deadline = bench_now_ns() + (int64_t)START_MS * 1000000;
    while (l->delivered + l->errors < l->n_prod && bench_ms_left(deadline) > 0) {
        poll_all(l);
        wait_loop(base, wake, 1000000);
    }
    if (l->delivered != l->n_prod || l->errors) {
        fprintf(stderr, "bench_load: warm-up: %" PRId64 " of %d delivered within %d ms%s%s\n",
                l->delivered, l->n_prod, START_MS, l->first_error[0] ? "; " : "",
                l->first_error);
        return false;
    }
    return true;
}

/* Produces the schedule, sampling every second; returns the time the last scheduled message
 * was produced, in ns after t0. */
static int64_t run_schedule(struct load *l, const struct opts *o, struct event_base *base,
                            struct event *wake, const uint8_t *pool, struct bench_broker *b,
                            double *max_lag_ms)
{
    struct kp_arrival_gen gen;
    kp_arrival_init(&gen, o->arrivals, o->rate, o->seed);
    const int64_t end = (int64_t)o->duration * 1000000000;
    double next = kp_arrival_next(&gen);     /* ns after t0 */
    int64_t i = 0, last_produced = 0;
    int next_sample = 1;
    double bcpu = bench_proc_cpu_s(b->pid), cpu = bench_self_cpu_s();
    l->t0 = bench_now_ns();
    *max_lag_ms = 0;
    for (;;) {
        int64_t now = bench_now_ns() - l->t0;
        while ((int64_t)next <= now && next < (double)end) {
            int err = kp_producer_produce(l->prod[i % l->n_prod], TOPIC, KP_PARTITION_UA,
                                          KP_MSG_COPY, NULL, 0,
                                          pool + (size_t)(i % POOL) * VALUE_BYTES, VALUE_BYTES,
                                          NULL, 0, 0, (void *)(uintptr_t)((int64_t)next + 1));
            if (err == KP_ERR__QUEUE_FULL) {
                l->queue_full++;    /* retried after the loop ran; the lag shows it */
                break;
            }
            if (err) {
                l->refused++;
                note_error(l, "produce refused: %s: %s", kp_err2name(err), kp_err2str(err));
            }
            l->sec[sec_of(l, (int64_t)next)].scheduled++;
            l->sec[sec_of(l, now)].produced++;
            last_produced = now;
            i++;
            next += kp_arrival_next(&gen);
        }
        bool done = next >= (double)end;
        poll_all(l);

        now = bench_now_ns() - l->t0;
        if (now >= (int64_t)next_sample * 1000000000 || (done && next_sample <= o->duration)) {
            struct second *s = &l->sec[next_sample - 1];
            double bc = bench_proc_cpu_s(b->pid), c = bench_self_cpu_s();
            s->lag_ms = !done && next < (double)now ? ((double)now - next) / 1e6 : 0;
            s->outq = outq_all(l);
            s->rss = bench_proc_rss(b->pid);
            s->broker_cpu = bc - bcpu;
            s->self_cpu = c - cpu;
            bcpu = bc;
            cpu = c;
            *max_lag_ms = s->lag_ms > *max_lag_ms ? s->lag_ms : *max_lag_ms;
            bench_broker_drain(b);
            if (next_sample % o->every == 0 || done) {
                const struct second *w = s - (next_sample - 1) % o->every;
                int64_t del = 0, prod = 0;
                for (const struct second *x = w; x <= s; x++)
                    del += x->delivered, prod += x->produced;
                double span = (double)(s - w + 1);
                printf("  %5d %10.0f %10.0f %8.1f %8" PRId64 " %8.1f %6.0f%% %6.0f%%\n",
                       next_sample, (double)prod / span, (double)del / span, s->lag_ms, s->outq,
                       s->rss / 1048576, 100 * s->broker_cpu, 100 * s->self_cpu);
                fflush(stdout);
            }
            next_sample++;
        }
        if (done)
            break;
        /* Sleep until the next arrival or I/O rather than spin, so this process's CPU time is
         * the work done; the loop's timer is coarse (1 ms), which the latency includes. */
        int64_t gap = (int64_t)next - (bench_now_ns() - l->t0);
        if (gap > 0)
            wait_loop(base, wake, gap < 1000000 ? gap : 1000000);
    }
    return last_produced;
}

/* Serves reports until every message is reported: true, or false after DRAIN_MS. */
static bool drain(struct load *l, struct event_base *base, struct event *wake)
{
    int64_t deadline = bench_now_ns() + (int64_t)DRAIN_MS * 1000000;
    for (;;) {
        poll_all(l);
        if (outq_all(l) == 0)
            return true;
        if (bench_ms_left(deadline) == 0)
            return false;
        wait_loop(base, wake, 1000000);
    }
}

/* What the broker's logs hold per partition, against the delivery reports; prints a line per
 * partition. Returns the records unaccounted for (lost if positive, extra if negative) in
 * *lost and false if the broker could not be asked. */
static bool check_logs(const struct load *l, const struct bench_broker *b, int64_t *lost,
                       int64_t *in_logs, int64_t *dropped, int64_t *mismatched)
{
    *lost = *in_logs = *dropped = *mismatched = 0;
    printf("\n  part  delivered  log start    log end   in log   log MiB  max offset+1\n");
    for (int p = 0; p < l->partitions; p++) {
        char path[128];
        snprintf(path, sizeof(path), "/partitions/%s/%d", TOPIC, p);
        json_t *o = admin_get(b, path);
        json_t *lso = json_object_get(o, "log_start_offset");
        json_t *leo = json_object_get(o, "log_end_offset");
        json_t *bytes = json_object_get(o, "bytes");
        if (!json_is_integer(lso) || !json_is_integer(leo)) {
            json_decref(o);
            return false;
        }
        int64_t start = json_integer_value(lso), end = json_integer_value(leo);
        int64_t top = l->part_delivered[p] ? l->part_max_offset[p] + 1 : 0;
        printf("  %4d %10" PRId64 " %10" PRId64 " %10" PRId64 " %8" PRId64 " %9.1f %13" PRId64
               "%s\n", p, l->part_delivered[p], start, end, end - start,
               json_is_integer(bytes) ? (double)json_integer_value(bytes) / 1048576 : -1.0,
               top, top == end && end == l->part_delivered[p] ? "" : "  MISMATCH");
        *lost += l->part_delivered[p] - end;
        *in_logs += end - start;
        *dropped += start;
        *mismatched += top != end || end != l->part_delivered[p];
        json_decref(o);
    }
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *verdict(bool pass) { return pass ? "PASS" : "MISS"; }

static void usage(void)
{
    fprintf(stderr, "usage: bench_load [--duration S] [--rate MSGS_PER_S] [--connections N]\n"
            "         [--partitions P] [--linger-ms MS] [--arrivals poisson|uniform]\n"
            "         [--retention-bytes B] [--every S] [--seed S] [--set key=value]...\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return -1;
        if (strcmp(a, "--duration") == 0)
            o->duration = atoi(v);
        else if (strcmp(a, "--rate") == 0)
            o->rate = strtod(v, NULL);
        else if (strcmp(a, "--connections") == 0)
            o->connections = atoi(v);
        else if (strcmp(a, "--partitions") == 0)
            o->partitions = atoi(v);
        else if (strcmp(a, "--linger-ms") == 0)
            o->linger_ms = v;
        else if (strcmp(a, "--retention-bytes") == 0)
            o->retention = v;
        else if (strcmp(a, "--every") == 0)
            o->every = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            o->seed = strtoull(v, NULL, 0);
        else if (strcmp(a, "--arrivals") == 0 && kp_arrivals_parse(v) >= 0)
            o->arrivals = kp_arrivals_parse(v);
        else if (strcmp(a, "--set") == 0 && strchr(v, '=') && o->n_sets < MAX_SETS) {
            char *eq = strchr(argv[i + 1], '=');
            *eq = 0;
            o->sets[o->n_sets][0] = argv[i + 1];
            o->sets[o->n_sets][1] = eq + 1;
            o->n_sets++;
        } else
            return -1;
    }
    if (o->duration < 1 || o->duration > MAX_DURATION || !(o->rate > 0 && o->rate <= 1e8) ||
        o->connections < 1 || o->connections > MAX_CONNECTIONS || o->partitions < 1 ||
        o->partitions > MAX_PARTITIONS || o->every < 1 || o->seed == 0) {
        fprintf(stderr, "bench_load: duration 1..%d s, rate (0, 1e8], connections 1..%d, "
                "partitions 1..%d, every >= 1, seed not 0\n", MAX_DURATION, MAX_CONNECTIONS,
                MAX_PARTITIONS);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { .duration = 300, .rate = 200000, .connections = 200, .partitions = 8,
                      .every = 10, .arrivals = KP_ARRIVALS_POISSON, .linger_ms = "20",
                      .retention = "67108864", .seed = 0x9E3779B97F4A7C15ull };
    if (parse_opts(&o, argc, argv) != 0) {
        usage();
        return 2;
    }
    if (bench_mockbroker_path(mockbroker_path, sizeof(mockbroker_path), "bench_load") != 0)
        return 1;
    /* Caller-driven producers write to sockets from this thread. */
    signal(SIGPIPE, SIG_IGN);

    char ld[64];
    bench_loadavg(ld, sizeof(ld));
    printf("bench_load: %d connections (one producer each, one event loop, one thread), %.0f "
           "msgs/s in total\nfor %d s (this takes about %d s; --duration shortens it), %s "
           "arrivals, %d-byte values,\nacks=all linger.ms=%s, topic \"%s\" of %d partitions, "
           "retention.bytes %s per partition;\nnproc %ld, load %s, seed 0x%016" PRIx64 "\n",
           o.connections, o.rate, o.duration, o.duration + 15, kp_arrivals_name(o.arrivals),
           VALUE_BYTES, o.linger_ms, TOPIC, o.partitions, o.retention,
           sysconf(_SC_NPROCESSORS_ONLN), ld, o.seed);
    for (int i = 0; i < o.n_sets; i++)
        printf("%s%s=%s%s", i ? " " : "--set: ", o.sets[i][0], o.sets[i][1],
               i + 1 == o.n_sets ? "\n" : "");
    fflush(stdout);

    struct load *l = calloc(1, sizeof(*l));
    uint8_t *pool = malloc((size_t)POOL * VALUE_BYTES);
    struct event_base *base = event_base_new();
    struct event *wake = base ? evtimer_new(base, wake_cb, NULL) : NULL;
    struct bench_broker b = { .pid = -1 };
    bool ok = l && pool && wake;
    if (ok) {
        l->n_prod = o.connections;
        l->partitions = o.partitions;
        l->n_secs = o.duration + DRAIN_MS / 1000 + 2;
        l->prod = calloc((size_t)o.connections, sizeof(*l->prod));
        l->sec = calloc((size_t)l->n_secs, sizeof(*l->sec));
        ok = l->prod && l->sec;
        for (int p = 0; p < MAX_PARTITIONS; p++)
            l->part_max_offset[p] = -1;
    }
    if (!ok)
        fprintf(stderr, "bench_load: out of memory\n");
    uint64_t x = o.seed;
    if (ok) {
        kp_hist_init(&l->hist);
        kp_rand_text(&x, pool, (size_t)POOL * VALUE_BYTES);
        ok = broker_start(&b, o.partitions, o.retention) == 0;
    }
    ok = ok && producers_new(l, &o, base, b.bootstrap) == 0 && warm_up(l, base, wake, pool);

    bool ran = false, drained = false, logs_ok = false;
    int64_t last_produced = 0, unreported = 0, lost = 0, in_logs = 0, dropped = 0, mismatched = 0;
    double max_lag_ms = 0, broker_cpu0 = 0, broker_cpu1 = 0, cpu0 = 0, cpu1 = 0;
    int sockets = -1;
    if (ok) {
        struct kp_stats st;
        int up = 0;
        for (int i = 0; i < l->n_prod; i++) {
            kp_producer_stats(l->prod[i], &st);
            up += st.brokers_up;
        }
        sockets = proc_sockets(b.pid);
        printf("warm-up: %d producers delivered a message each; %d connections up; the broker "
               "holds %d sockets\n(its listeners included)\n\n", l->n_prod, up, sockets);
        printf("  %5s %10s %10s %8s %8s %8s %7s %7s\n", "sec", "produced/s", "deliv'd/s",
               "lag ms", "outq", "RSS MiB", "broker", "load");
        broker_cpu0 = bench_proc_cpu_s(b.pid);
        cpu0 = bench_self_cpu_s();
        last_produced = run_schedule(l, &o, base, wake, pool, &b, &max_lag_ms);
        ran = true;
        drained = drain(l, base, wake);
        broker_cpu1 = bench_proc_cpu_s(b.pid);
        cpu1 = bench_self_cpu_s();
        unreported = outq_all(l);
        if (!drained)
            fprintf(stderr, "bench_load: %" PRId64 " messages unreported %d ms after the "
                    "schedule ended\n", unreported, DRAIN_MS);
        logs_ok = check_logs(l, &b, &lost, &in_logs, &dropped, &mismatched);
    }
    for (int i = 0; l && l->prod && i < l->n_prod; i++)
        kp_producer_destroy(l->prod[i]);
    bool broker_ok = bench_broker_stop(&b, STOP_MS, false);
    if (b.log_len)
        printf("the broker said:\n%s%s", b.log, b.log[b.log_len - 1] == '\n' ? "" : "\n");

    int rc = 1;
    if (ran) {
        double secs = (double)o.duration;
        double span = (double)(l->last_report_ns > last_produced ? l->last_report_ns
                                                                 : last_produced) / 1e9;
        span = span > secs ? span : secs;
        double achieved = (double)l->delivered_timed / span;
        int64_t scheduled = 0;
        for (int s = 0; s < l->n_secs; s++)
            scheduled += l->sec[s].scheduled;

        /* RSS: from minute 1 on against the value at 60 s; a shorter run uses its middle. */
        int ref = o.duration >= 120 ? 60 : o.duration / 2;
        ref = ref < 1 ? 1 : ref;
        double rss_ref = l->sec[ref - 1].rss, rss_min = rss_ref, rss_max = rss_ref;
        for (int s = ref - 1; s < o.duration; s++) {
            double r = l->sec[s].rss;
            if (r > 0) {
                rss_min = r < rss_min ? r : rss_min;
                rss_max = r > rss_max ? r : rss_max;
            }
        }
        bool rss_pass = rss_ref > 0 && rss_min >= 0.9 * rss_ref && rss_max <= 1.1 * rss_ref;

        /* Per-second deliveries over the full seconds of the schedule, skipping the first. */
        int n_full = o.duration > 2 ? o.duration - 2 : 0;
        int64_t *per_s = calloc((size_t)(n_full ? n_full : 1), sizeof(int64_t));
        if (per_s)
            for (int s = 0; s < n_full; s++)
                per_s[s] = l->sec[s + 1].delivered;
        if (per_s && n_full)
            qsort(per_s, (size_t)n_full, sizeof(int64_t), cmp_i64);

        /* Unreported messages got a purge report from destroy: errors already counts them. */
        int64_t errors = l->errors + l->error_events + l->refused + (unreported > 0);
        bench_loadavg(ld, sizeof(ld));
        printf("\nresults (load now %s)\n", ld);
        printf("  scheduled %" PRId64 " messages in %d s (%.0f msgs/s); delivered %" PRId64
               " + %d warm-up;\n  the last produced %.3f s and reported %.3f s after the start; "
               "produce() was at most %.1f ms\n  behind the schedule; queue full %" PRId64
               " times\n", scheduled, o.duration, (double)scheduled / secs, l->delivered_timed,
               l->n_prod, (double)last_produced / 1e9, (double)l->last_report_ns / 1e9,
               max_lag_ms, l->queue_full);
        if (per_s && n_full)
            printf("  delivered per second (seconds 2..%d): min %" PRId64 ", median %" PRId64
                   ", max %" PRId64 "\n", o.duration - 1, per_s[0], per_s[n_full / 2],
                   per_s[n_full - 1]);
        printf("  latency from scheduled arrival to report, ms: p50 %.2f  p99 %.2f  p99.9 %.2f  "
               "max %.2f  mean %.2f\n", (double)kp_hist_percentile(&l->hist, 50) / 1e6,
               (double)kp_hist_percentile(&l->hist, 99) / 1e6,
               (double)kp_hist_percentile(&l->hist, 99.9) / 1e6, (double)l->hist.max / 1e6,
               kp_hist_mean(&l->hist) / 1e6);
        printf("  CPU over the schedule and drain: broker %.0f%% of a core (%.2f s per M msgs), "
               "this process %.0f%%\n", 100 * (broker_cpu1 - broker_cpu0) / span,
               (broker_cpu1 - broker_cpu0) / ((double)l->delivered_timed / 1e6),
               100 * (cpu1 - cpu0) / span);
        printf("  broker RSS: %.1f MiB at %d s, then %.1f .. %.1f MiB (%+.1f%% .. %+.1f%%)\n",
               rss_ref / 1048576, ref, rss_min / 1048576, rss_max / 1048576,
               100 * (rss_min / rss_ref - 1), 100 * (rss_max / rss_ref - 1));
        if (logs_ok)
            printf("  records: %" PRId64 " in the logs + %" PRId64 " dropped by retention = %"
                   PRId64 ", against %" PRId64 " delivery reports\n", in_logs, dropped,
                   in_logs + dropped, l->delivered);
        if (l->first_error[0])
            printf("  first error: %s\n", l->first_error);
        free(per_s);

        char v[4][64];
        snprintf(v[0], sizeof(v[0]), "%" PRId64, errors);
        if (logs_ok)
            snprintf(v[1], sizeof(v[1]), "%" PRId64 " (%" PRId64 " partitions off)", lost,
                     mismatched);
        else
            snprintf(v[1], sizeof(v[1]), "unknown");
        snprintf(v[2], sizeof(v[2]), "%+.1f%% .. %+.1f%%", 100 * (rss_min / rss_ref - 1),
                 100 * (rss_max / rss_ref - 1));
        snprintf(v[3], sizeof(v[3]), "%.0f (%.1f%%)", achieved, 100 * achieved / o.rate);
        bool lost_pass = logs_ok && lost == 0 && mismatched == 0;
        printf("\n  %-34s %-28s %-14s %s\n", "check", "value", "goal", "result");
        printf("  %-34s %-28s %-14s %s\n", "errors", v[0], "0", verdict(errors == 0));
        printf("  %-34s %-28s %-14s %s\n", "lost records", v[1], "0", verdict(lost_pass));
        char rss_name[64];
        snprintf(rss_name, sizeof(rss_name), "broker RSS after %d s vs at %d s", ref, ref);
        printf("  %-34s %-28s %-14s %s\n", rss_name, v[2], "within 10%", verdict(rss_pass));
        printf("  %-34s %-28s %-14s %s\n", "achieved msgs/s (of offered)", v[3], ">= 98%",
               verdict(achieved >= 0.98 * o.rate));
        rc = errors == 0 && lost_pass && broker_ok ? 0 : 1;
        if (!broker_ok)
            printf("  the broker did not exit cleanly: FAILED\n");
    }
    if (wake)
        event_free(wake);
    if (base)
        event_base_free(base);
    if (l) {
        free(l->prod);
        free(l->sec);
    }
    free(l);
    free(pool);
    return rc;
}
