/* bin/kproducer: produce lines from stdin or generated load with libkproducer, report throughput
 * and delivery latency, optionally against an in-process mock cluster (which it then reads back
 * to check every delivered message), under a fault scenario, with the protocol traced.
 *
 * Threads: the producer and the embedded cluster run their own loops; this thread produces and
 * serves delivery reports (kp_producer_poll), so the counters below are touched by one thread
 * only. Trace and log callbacks run on the producer's loop and only print. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "lib/crc.h"
#include "lib/describe.h"
#include "lib/errors.h"
#include "lib/kw.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"
#include "producer/loadgen.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* Without --count or --duration, --embedded on a terminal generates this many messages. */
#define DEMO_COUNT 10000
#define MS 1000000LL            /* ns */
#define SEC 1000000000LL        /* ns */

/* Delivery reports carry the message's latency origin in their opaque, as the time since the
 * run began: nanoseconds where a pointer holds 64 bits, microseconds (71 minutes) elsewhere. */
#if UINTPTR_MAX >= UINT64_MAX
#define OPAQUE_UNIT 1
#else
#define OPAQUE_UNIT 1000
#endif

static void usage(FILE *f)
{
    fprintf(f,
        "usage: kproducer [options]               produce stdin, a message a line\n"
        "       kproducer --count N|--duration T [load options] [options]\n"
        "       kproducer --embedded N [--scenario FILE] [options]\n"
        "\n"
        "Where to:\n"
        "  -b, --bootstrap HOST:PORT,...  brokers (bootstrap.servers)\n"
        "  -t, --topic NAME               topic (default with --embedded: kproducer)\n"
        "  -p, --partition N              partition (default: the partitioner chooses)\n"
        "      --embedded N               start an in-process mock cluster of N brokers, produce\n"
        "                                 to it, then read the log back and check it\n"
        "      --partitions N             partitions of the embedded cluster's topics (default:\n"
        "                                 one per broker)\n"
        "      --scenario FILE            run the embedded cluster under a fault scenario\n"
        "                                 (docs/scenarios.md); without --count/--duration its\n"
        "                                 workload runs, and its expectations decide the exit\n"
        "                                 code; its producer settings apply either way (-X wins)\n"
        "Producer settings (librdkafka's names, applied in order):\n"
        "  -X, --set KEY=VALUE            any property, e.g. -X linger.ms=10\n"
        "  -a, --acks 0|1|all             acks\n"
        "  -z, --compression CODEC        none, gzip, snappy, lz4, zstd\n"
        "      --transactional-id ID      produce in transactions (transactional.id), each\n"
        "                                 committed after --txn-size messages and at the end\n"
        "      --txn-size N               messages a transaction (default 1000)\n"
        "Input from stdin:\n"
        "  -K, --key-delimiter SEP        split each line at the first SEP into key and value\n"
        "                                 (\\t for a tab); empty lines are skipped\n"
        "Generated load (bounded by --count and/or --duration):\n"
        "  -c, --count N                  messages\n"
        "  -d, --duration T               seconds, or with a unit: 500ms, 30s, 2m\n"
        "  -s, --size SPEC                value sizes: 100, 10-1000 (uniform), or weighted terms\n"
        "                                 100:9,10000:1 (default 100)\n"
        "  -r, --rate R                   messages a second (default: as fast as possible)\n"
        "      --arrivals poisson|uniform how arrivals are spaced under --rate (default uniform)\n"
        "  -k, --keys K                   keys drawn from K distinct ones (default: null keys)\n"
        "      --seed S                   seed of arrivals, sizes, keys, values, the embedded\n"
        "                                 cluster and kp.seed (default: from the clock, printed)\n"
        "Output:\n"
        "      --trace                    print every request and response on the wire\n"
        "      --trace-records N          records shown per batch in traces (default 5, 0: all)\n"
        "      --json                     print the final report as one JSON object\n"
        "  -v, --verbose                  the embedded cluster's log too\n"
        "  -h, --help\n"
        "\n"
        "Reports, while it runs and stdout is a terminal, a line a second (sent, delivered,\n"
        "failed, msgs/s, MB/s), and at the end totals, throughput and delivery latency\n"
        "percentiles, from the produce call (under --rate: from the message's scheduled arrival)\n"
        "to its delivery report. MB are 10^6 bytes of keys and values.\n"
        "Exit status: 0 all delivered (and checked, with --embedded), 1 some failed, 2 usage or\n"
        "configuration error. Ctrl-C stops producing and waits for what was sent; twice, quits.\n");
}

/* --- options -------------------------------------------------------------------------------- */

enum {
    O_BOOTSTRAP = 1, O_TOPIC, O_PARTITION, O_ACKS, O_CODEC, O_SET, O_KEYDELIM, O_COUNT,
    O_DURATION, O_SIZE, O_RATE, O_ARRIVALS, O_KEYS, O_SEED, O_EMBEDDED, O_PARTITIONS,
    O_SCENARIO, O_TRACE, O_TRACE_RECORDS, O_JSON, O_VERBOSE, O_HELP, O_TXN_ID, O_TXN_SIZE,
};

static const struct optdef {
    int id;
    char short_name;
    const char *long_name;
    bool has_arg;
} optdefs[] = {
    { O_BOOTSTRAP, 'b', "bootstrap", true },
    { O_TOPIC, 't', "topic", true },
    { O_PARTITION, 'p', "partition", true },
    { O_ACKS, 'a', "acks", true },
    { O_CODEC, 'z', "compression", true },
    { O_TXN_ID, 0, "transactional-id", true },
    { O_TXN_SIZE, 0, "txn-size", true },
    { O_SET, 'X', "set", true },
    { O_KEYDELIM, 'K', "key-delimiter", true },
    { O_COUNT, 'c', "count", true },
    { O_DURATION, 'd', "duration", true },
    { O_SIZE, 's', "size", true },
    { O_RATE, 'r', "rate", true },
    { O_ARRIVALS, 0, "arrivals", true },
    { O_KEYS, 'k', "keys", true },
    { O_SEED, 0, "seed", true },
    { O_EMBEDDED, 0, "embedded", true },
    { O_PARTITIONS, 0, "partitions", true },
    { O_SCENARIO, 0, "scenario", true },
    { O_TRACE, 0, "trace", false },
    { O_TRACE_RECORDS, 0, "trace-records", true },
    { O_JSON, 0, "json", false },
    { O_VERBOSE, 'v', "verbose", false },
    { O_HELP, 'h', "help", false },
};
#define N_OPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

struct setting {
    char *key;                  /* "key=value", cut at the '=' */
    const char *value;
};

struct opts {
    const char *bootstrap;
    const char *topic;
    int32_t partition;          /* KP_PARTITION_UA unless -p */
    char key_delim[16];         /* "" : no key */
    int64_t count;              /* -1: not given */
    int64_t duration_ns;        /* -1: not given */
    struct kp_sizes sizes;
    const char *size_spec;
    bool sizes_set;
    double rate;                /* 0: as fast as possible */
    int arrivals;
    bool arrivals_set;
    int64_t keys;               /* 0: null keys */
    uint64_t seed;
    bool seed_set;
    int embedded;               /* brokers; 0: none */
    int partitions;             /* 0: one per broker */
    const char *scenario;
    bool trace;
    int trace_records;
    bool json;
    bool verbose;
    struct setting *sets;
    int n_sets;
    int64_t txn_size;           /* 0: not given */
};

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end != '\0' || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/* Seconds, or a number with a unit ms, s, m, h; more than 0 and at most a year. */
static bool parse_duration(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double unit = 1e9;
    if (errno || end == s)
        return false;
    if (strcmp(end, "ms") == 0)
        unit = 1e6;
    else if (strcmp(end, "m") == 0)
        unit = 60e9;
    else if (strcmp(end, "h") == 0)
        unit = 3600e9;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        return false;
    v *= unit;
    if (!(v >= 1) || v > 365 * 86400e9)
        return false;
    *ns = (int64_t)v;
    return true;
}

static int add_setting(struct opts *o, const char *key, const char *value, char *err,
                       size_t errsize)
{
    size_t kl = strlen(key), vl = strlen(value);
    struct setting *s = realloc(o->sets, (size_t)(o->n_sets + 1) * sizeof(*s));
    char *kv = malloc(kl + vl + 2);
    if (s)
        o->sets = s;
    if (s == NULL || kv == NULL) {
        free(kv);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    memcpy(kv, key, kl + 1);
    memcpy(kv + kl + 1, value, vl + 1);
    s[o->n_sets].key = kv;
    s[o->n_sets].value = kv + kl + 1;
    o->n_sets++;
    return 0;
}

static void opts_release(struct opts *o)
{
    for (int i = 0; i < o->n_sets; i++)
        free(o->sets[i].key);
    free(o->sets);
    o->sets = NULL;
    o->n_sets = 0;
}

/* -K's separator, with \t, \n and \\ understood (a tab is awkward to type). */
static bool parse_delim(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s; s++) {
        char c = *s;
        if (c == '\\' && s[1]) {
            s++;
            c = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
        }
        if (n + 1 >= size)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n > 0;
}

static int apply_option(struct opts *o, const struct optdef *d, const char *v, char *err,
                        size_t errsize)
{
    int64_t n;
    const char *name = d->long_name;
    switch (d->id) {
    case O_BOOTSTRAP:
        o->bootstrap = v;
        return 0;
    case O_TOPIC:
        if (v[0] == '\0')
            break;
        o->topic = v;
        return 0;
    case O_PARTITION:
        if (!parse_i64(v, 0, INT32_MAX, &n))
            break;
        o->partition = (int32_t)n;
        return 0;
    case O_ACKS:
        return add_setting(o, "acks", v, err, errsize);
    case O_CODEC:
        return add_setting(o, "compression.type", v, err, errsize);
    case O_TXN_ID:
        if (v[0] == '\0')
            break;
        return add_setting(o, "transactional.id", v, err, errsize);
    case O_TXN_SIZE:
        if (!parse_i64(v, 1, INT64_MAX / 2, &o->txn_size))
            break;
        return 0;
    case O_SET: {
        const char *eq = strchr(v, '=');
        if (eq == NULL || eq == v) {
            snprintf(err, errsize, "-X %s: expected KEY=VALUE", v);
            return -1;
        }
        char key[256];
        if ((size_t)(eq - v) >= sizeof(key)) {
            snprintf(err, errsize, "-X %s: key too long", v);
            return -1;
        }
        memcpy(key, v, (size_t)(eq - v));
        key[eq - v] = '\0';
        return add_setting(o, key, eq + 1, err, errsize);
    }
    case O_KEYDELIM:
        if (!parse_delim(v, o->key_delim, sizeof(o->key_delim)))
            break;
        return 0;
    case O_COUNT:
        if (!parse_i64(v, 1, INT64_MAX / 2, &o->count))
            break;
        return 0;
    case O_DURATION:
        if (!parse_duration(v, &o->duration_ns))
            break;
        return 0;
    case O_SIZE: {
        char why[256];
        if (kp_sizes_parse(&o->sizes, v, why, sizeof(why)) != 0) {
            snprintf(err, errsize, "--size: %s", why);
            return -1;
        }
        o->sizes_set = true;
        o->size_spec = v;
        return 0;
    }
    case O_RATE: {
        char *end;
        errno = 0;
        o->rate = strtod(v, &end);
        if (errno || end == v || *end != '\0' || !(o->rate > 0) || o->rate > 1e9)
            break;
        return 0;
    }
    case O_ARRIVALS:
        if ((o->arrivals = kp_arrivals_parse(v)) < 0)
            break;
        o->arrivals_set = true;
        return 0;
    case O_KEYS:
        if (!parse_i64(v, 1, INT64_MAX / 2, &o->keys))
            break;
        return 0;
    case O_SEED:
        if (!parse_u64(v, &o->seed) || o->seed == 0)
            break;
        o->seed_set = true;
        return 0;
    case O_EMBEDDED:
        if (!parse_i64(v, 1, 64, &n))
            break;
        o->embedded = (int)n;
        return 0;
    case O_PARTITIONS:
        if (!parse_i64(v, 1, 1000, &n))
            break;
        o->partitions = (int)n;
        return 0;
    case O_SCENARIO:
        o->scenario = v;
        return 0;
    case O_TRACE:
        o->trace = true;
        return 0;
    case O_TRACE_RECORDS:
        if (!parse_i64(v, 0, 1000000, &n))
            break;
        o->trace_records = (int)n;
        return 0;
    case O_JSON:
        o->json = true;
        return 0;
    case O_VERBOSE:
        o->verbose = true;
        return 0;
    case O_HELP:
        return 1;
    }
    static const char *const expected[] = {
        [O_TOPIC] = "a topic name", [O_PARTITION] = "a partition number",
        [O_KEYDELIM] = "a non-empty separator of at most 15 bytes",
        [O_COUNT] = "a number of messages, at least 1",
        [O_DURATION] = "seconds, or a number with ms, s, m or h (more than 1 ns)",
        [O_RATE] = "messages a second, more than 0", [O_ARRIVALS] = "poisson or uniform",
        [O_KEYS] = "a number of keys, at least 1", [O_SEED] = "a number other than 0",
        [O_EMBEDDED] = "a number of brokers from 1 to 64",
        [O_PARTITIONS] = "a number of partitions from 1 to 1000",
        [O_TRACE_RECORDS] = "a number of records (0: all)",
        [O_TXN_ID] = "a transactional id", [O_TXN_SIZE] = "a number of messages, at least 1",
    };
    snprintf(err, errsize, "--%s %s: expected %s", name, v,
             d->id < (int)(sizeof(expected) / sizeof(expected[0])) && expected[d->id]
                 ? expected[d->id] : "a valid value");
    return -1;
}

/* Parses argv into o. 0, 1 for --help, or -1 with the reason in err. */
static int parse_args(int argc, char **argv, struct opts *o, char *err, size_t errsize)
{
    memset(o, 0, sizeof(*o));
    o->partition = KP_PARTITION_UA;
    o->count = -1;
    o->duration_ns = -1;
    o->trace_records = 5;
    o->arrivals = KP_ARRIVALS_UNIFORM;
    kp_sizes_parse(&o->sizes, "100", err, errsize);
    o->size_spec = "100";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        const struct optdef *d = NULL;
        bool inline_value = false;
        if (a[0] == '-' && a[1] == '-' && a[2] != '\0') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (size_t j = 0; j < N_OPTDEFS; j++)
                if (strlen(optdefs[j].long_name) == n &&
                    memcmp(optdefs[j].long_name, a + 2, n) == 0)
                    d = &optdefs[j];
            if (d && eq) {
                value = eq + 1;
                inline_value = true;
            }
        } else if (a[0] == '-' && a[1] != '\0' && a[1] != '-') {
            for (size_t j = 0; j < N_OPTDEFS; j++)
                if (optdefs[j].short_name == a[1])
                    d = &optdefs[j];
            if (d && a[2] != '\0') {
                value = a + 2;
                inline_value = true;
            }
        } else {
            snprintf(err, errsize, "unexpected argument \"%s\"", a);
            return -1;
        }
        if (d == NULL) {
            snprintf(err, errsize, "unknown option \"%s\"", a);
            return -1;
        }
        if (!d->has_arg && inline_value) {
            snprintf(err, errsize, "option \"%s\" takes no value", a);
            return -1;
        }
        if (d->has_arg && !inline_value) {
            if (i + 1 >= argc) {
                snprintf(err, errsize, "option \"%s\" needs a value", a);
                return -1;
            }
            value = argv[++i];
        }
        int rc = apply_option(o, d, value ? value : "", err, errsize);
        if (rc != 0)
            return rc;
    }

    bool bounded = o->count > 0 || o->duration_ns > 0;
    if (o->bootstrap && (o->embedded || o->scenario)) {
        snprintf(err, errsize, "-b names real brokers: it does not go with --embedded or "
                 "--scenario");
        return -1;
    }
    if (!o->bootstrap && !o->embedded && !o->scenario) {
        snprintf(err, errsize, "no brokers: give -b HOST:PORT, or --embedded N for an "
                 "in-process mock cluster");
        return -1;
    }
    if (!o->topic && !o->embedded && !o->scenario) {
        snprintf(err, errsize, "no topic: give -t NAME");
        return -1;
    }
    if (o->key_delim[0] && bounded) {
        snprintf(err, errsize, "-K splits lines read from stdin: it does not go with --count "
                 "or --duration");
        return -1;
    }
    if (!bounded && !o->scenario && (o->rate > 0 || o->sizes_set || o->keys || o->arrivals_set)) {
        snprintf(err, errsize, "--rate, --size, --keys and --arrivals generate load: bound it "
                 "with --count N and/or --duration T");
        return -1;
    }
    if (o->arrivals_set && o->rate <= 0) {
        snprintf(err, errsize, "--arrivals spaces arrivals at a --rate: give one");
        return -1;
    }
    if (o->partitions && !o->embedded && !o->scenario) {
        snprintf(err, errsize, "--partitions is for the --embedded cluster");
        return -1;
    }
    return 0;
}

/* --- the run -------------------------------------------------------------------------------- */

struct errcount {
    int err;
    int cause;                  /* what the last attempt got, when it differs */
    int64_t n;
};

/* A delivered message, to find in the embedded cluster's log afterwards. */
struct delivered {
    int32_t partition;
    uint32_t crc;               /* of key and value, see msg_crc */
    int64_t offset;             /* -1 with acks=0 */
};

enum mode { MODE_STDIN, MODE_GENERATE, MODE_WORKLOAD };

struct run {
    struct opts *o;
    struct kp_producer *p;
    struct mb_cluster *c;
    struct mb_scenario *scenario;
    const struct mb_workload *w;
    const char *topic;
    const char *bootstrap;
    int mode;
    int64_t count;              /* messages to generate; -1: no limit */
    uint64_t seed;
    uint64_t rng;               /* sizes, keys, values */
    int64_t t0;                 /* monotonic ns when producing began */
    int64_t deadline;           /* monotonic ns to give up by (workload); INT64_MAX: none */
    bool stopped_early;         /* a produce error no later message could escape */

    int64_t sent, sent_bytes;
    int64_t delivered, delivered_bytes;
    int64_t failed;
    struct errcount errs[24];
    int n_errs;
    struct kp_hist *lat;        /* ns, origin to report */
    struct kp_hist *lag;        /* ns behind schedule at the produce call, --rate runs */
    int64_t lag_last;
    struct kp_moments gaps;     /* ns between produce calls */
    struct kp_moments drawn;    /* ns between scheduled arrivals */
    int64_t first_call, last_call, last_report;
    struct kp_stats stats;

    bool txn;                   /* transactional.id is set */
    bool txn_open;
    int64_t txn_size, in_txn;   /* messages a transaction, and in the open one */
    int64_t txn_committed, txn_aborted;

    bool verify;
    struct delivered *dl;
    size_t n_dl, cap_dl;
    bool dl_oom;

    bool live;
    int64_t live_next, live_at, live_delivered, live_bytes;
    int64_t trace_t0;
};

static volatile sig_atomic_t g_signals;

static void on_signal(int sig)
{
    (void)sig;
    g_signals++;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / SEC), (long)(ns % SEC) };
    nanosleep(&ts, NULL);
}

static uint32_t msg_crc(const void *key, size_t klen, const void *value, size_t vlen)
{
    /* The null key differs from an empty one: a marker byte before the key. */
    uint8_t mark = key ? 1 : 0;
    uint32_t crc = kw_crc32c(0, &mark, 1);
    if (key)
        crc = kw_crc32c(crc, key, klen);
    return kw_crc32c(crc, value ? value : "", vlen);
}

static void count_err(struct run *run, int err, int cause)
{
    if (cause == err)
        cause = 0;
    for (int i = 0; i < run->n_errs; i++) {
        if (run->errs[i].err == err && run->errs[i].cause == cause) {
            run->errs[i].n++;
            return;
        }
    }
    if (run->n_errs == (int)(sizeof(run->errs) / sizeof(run->errs[0]))) {
        run->errs[run->n_errs - 1].n++;     /* so many kinds: the rest count with the last */
        return;
    }
    run->errs[run->n_errs++] = (struct errcount){ err, cause, 1 };
}

/* "_MSG_TIMED_OUT", or with the last attempt's error "_MSG_TIMED_OUT(NOT_ENOUGH_REPLICAS)". */
static const char *err_label(const struct errcount *e, char *buf, size_t size)
{
    if (e->cause)
        snprintf(buf, size, "%s(%s)", kp_err2name(e->err), kp_err2name(e->cause));
    else
        snprintf(buf, size, "%s", kp_err2name(e->err));
    return buf;
}

/* Any thread: run->live is fixed before the producer and the cluster start. */
static void clear_live(struct run *run)
{
    if (run->live) {
        fputs("\r\033[K", stdout);
        fflush(stdout);
    }
}

/* The live line: at most once a second, only on a terminal. */
static void tick(struct run *run, int64_t now)
{
    if (!run->live || now < run->live_next)
        return;
    if (run->live_at) {
        double dt = (double)(now - run->live_at) / 1e9;
        printf("\r\033[K  sent %" PRId64 "  delivered %" PRId64 "  failed %" PRId64
               "  |  %.0f msgs/s  %.2f MB/s", run->sent, run->delivered, run->failed,
               (double)(run->delivered - run->live_delivered) / dt,
               (double)(run->delivered_bytes - run->live_bytes) / dt / 1e6);
        fflush(stdout);
    }
    run->live_at = now;
    run->live_delivered = run->delivered;
    run->live_bytes = run->delivered_bytes;
    run->live_next = now + SEC;
}

static void dr_cb(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    struct run *run = opaque;
    int64_t now = mono_ns();
    run->last_report = now;
    if (r->err) {
        run->failed++;
        count_err(run, r->err, r->cause);
        return;
    }
    int64_t origin = run->t0 + (int64_t)(uintptr_t)r->opaque * OPAQUE_UNIT;
    run->delivered++;
    run->delivered_bytes += (int64_t)(r->key_len + r->value_len);
    kp_hist_record(run->lat, now > origin ? (uint64_t)(now - origin) : 0);
    if (!run->verify || run->dl_oom)
        return;
    if (run->n_dl == run->cap_dl) {
        size_t cap = run->cap_dl ? run->cap_dl * 2 : 4096;
        struct delivered *d = realloc(run->dl, cap * sizeof(*d));
        if (d == NULL) {
            run->dl_oom = true;
            return;
        }
        run->dl = d;
        run->cap_dl = cap;
    }
    run->dl[run->n_dl++] = (struct delivered){
        r->partition, msg_crc(r->key, r->key_len, r->value, r->value_len), r->offset };
}


static void log_cb(const struct kp_producer *p, int level, const char *ctx, const char *line,
                   void *opaque)
{
    (void)p;
    struct run *run = opaque;
    static const char *const levels[] = { "", "", "", "error", "warning", "notice", "info",
                                          "debug" };
    const char *lv = level >= 0 && level <= 7 ? levels[level] : "log";
    /* In a trace the log belongs between the frames it explains. */
    if (run->o->trace) {
        printf("  ~ +%.3f ms  producer %s (%s): %s\n",
               (double)(mono_ns() - run->trace_t0) / 1e6, lv, ctx, line);
        fflush(stdout);
        return;
    }
    clear_live(run);
    fprintf(stderr, "kproducer: producer %s (%s): %s\n", lv, ctx, line);
}

static void mock_log_cb(void *opaque, int level, const char *line)
{
    struct run *run = opaque;
    static const char *const levels[] = { "error", "warning", "info", "debug" };
    clear_live(run);
    fprintf(stderr, "kproducer: cluster %s: %s\n", level >= 0 && level <= 3 ? levels[level] : "",
            line);
}

/* --- the trace ------------------------------------------------------------------------------ */

static void put(struct kw_buf *b, const char *s, size_t n)
{
    kw_put_raw(b, s, n);
}

static void put_skipped(struct kw_buf *b, size_t skipped, size_t indent)
{
    char line[96];
    int n = snprintf(line, sizeof(line), "%*s... %zu more record%s\n", (int)indent, "", skipped,
                     skipped == 1 ? "" : "s");
    put(b, line, (size_t)n);
}

/* Copies describe's text to out, keeping the first max records of each batch (0: all). */
static void trim_records(struct kw_buf *out, const uint8_t *text, size_t len, int max)
{
    size_t i = 0, skipped = 0, rec_indent = 0;
    int in_batch = 0;           /* records seen in the current run of Record lines */
    bool skipping = false;
    while (i < len) {
        const char *line = (const char *)text + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) + 1 : len - i, sp = 0;
        while (sp < ll && line[sp] == ' ')
            sp++;
        bool rec = ll - sp >= 7 && memcmp(line + sp, "Record ", 7) == 0;
        if (rec && (in_batch == 0 || sp == rec_indent)) {
            rec_indent = sp;
            skipping = max > 0 && in_batch >= max;
            in_batch++;
            if (skipping)
                skipped++;
            else
                put(out, line, ll);
        } else if (in_batch && sp > rec_indent) {
            if (!skipping)      /* a record's header lines go with it */
                put(out, line, ll);
        } else {
            if (skipped)
                put_skipped(out, skipped, rec_indent);
            skipped = 0;
            in_batch = 0;
            skipping = false;
            put(out, line, ll);
        }
        i += ll;
    }
    if (skipped)
        put_skipped(out, skipped, rec_indent);
}

static void trace_cb(struct kp_producer *p, int direction, int broker_id, const uint8_t *frame,
                     size_t len, int api_key, int api_version, void *opaque)
{
    (void)p;
    struct run *run = opaque;
    struct kw_buf text, out;
    char head[160], who[32];
    kw_buf_init(&text);
    kw_buf_init(&out);
    if (broker_id >= 0)
        snprintf(who, sizeof(who), "broker %d", broker_id);
    else
        snprintf(who, sizeof(who), "bootstrap broker");
    int n = snprintf(head, sizeof(head), "\n%s %s  +%.3f ms  %zu bytes\n",
                     direction ? "<--" : "-->", who,
                     (double)(mono_ns() - run->trace_t0) / 1e6, len + 4);
    put(&out, head, (size_t)n);
    if (direction == 0) {
        kw_describe_request(&text, frame, len);
    } else if (api_key < 0) {
        static const char unknown[] = "Response to no request in flight (dropped)\n";
        put(&text, unknown, sizeof(unknown) - 1);
    } else {
        kw_describe_response(&text, api_key, api_version, frame, len);
    }
    trim_records(&out, text.data, text.len, run->o->trace_records);
    if (out.err == KW_OK) {
        fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
    }
    kw_buf_release(&text);
    kw_buf_release(&out);
}

/* --- transactions --------------------------------------------------------------------------- */

static int txn_failed(struct run *run, const char *what, int rc, const struct kp_txn_error *e)
{
    clear_live(run);
    fprintf(stderr, "kproducer: %s: %s: %s%s\n", what, kp_err2name(rc), e->str,
            e->fatal ? " (fatal)" : "");
    run->stopped_early = true;
    run->txn_open = false;
    return -1;
}

/* init_transactions, then the first transaction. 0, or -1 after saying why. */
static int txn_start(struct run *run)
{
    struct kp_txn_error e;
    int rc;
    while ((rc = kp_init_transactions(run->p, -1, &e)) != 0 && e.retriable && !g_signals)
        ;
    if (rc)
        return txn_failed(run, "init_transactions", rc, &e);
    if ((rc = kp_begin_transaction(run->p, &e)) != 0)
        return txn_failed(run, "begin_transaction", rc, &e);
    run->txn_open = true;
    return 0;
}

/* Ends the open transaction: commits it, or aborts it (when asked, or when the commit says it
 * must be); then, with next, begins another. Only transactions with messages are counted.
 * 0, or -1 when transactions cannot go on. */
static int txn_end(struct run *run, bool abort, bool next)
{
    struct kp_txn_error e;
    int rc = 0;
    int64_t counted = run->in_txn > 0;
    run->in_txn = 0;
    if (!abort) {
        while ((rc = kp_commit_transaction(run->p, -1, &e)) != 0 && e.retriable && !g_signals)
            ;
        if (rc == 0)
            run->txn_committed += counted;
        else if (e.txn_requires_abort)
            abort = true;
        else
            return txn_failed(run, "commit_transaction", rc, &e);
    }
    if (abort) {
        while ((rc = kp_abort_transaction(run->p, -1, &e)) != 0 && e.retriable && !g_signals)
            ;
        if (rc)
            return txn_failed(run, "abort_transaction", rc, &e);
        run->txn_aborted += counted;
    }
    run->txn_open = false;
    if (!next)
        return 0;
    if ((rc = kp_begin_transaction(run->p, &e)) != 0)
        return txn_failed(run, "begin_transaction", rc, &e);
    run->txn_open = true;
    return 0;
}

/* --- producing ------------------------------------------------------------------------------ */

/* Produces one message with its latency origin; waits out a full queue. 0, or -1 when the run
 * must stop (an error no later message can escape, or Ctrl-C). */
static int send_one(struct run *run, const void *key, size_t klen, const void *value,
                    size_t vlen, int32_t partition, int64_t origin)
{
    void *opaque = (void *)(uintptr_t)((origin > run->t0 ? origin - run->t0 : 0) / OPAQUE_UNIT);
    for (;;) {
        int64_t call = mono_ns();
        int rc = kp_producer_produce(run->p, run->topic, partition, KP_MSG_COPY, key, klen,
                                     value, vlen, NULL, 0, 0, opaque);
        if (rc == 0) {
            if (run->sent)
                kp_moments_add(&run->gaps, (double)(call - run->last_call));
            else
                run->first_call = call;
            run->last_call = call;
            run->sent++;
            run->sent_bytes += (int64_t)(klen + vlen);
            if (run->txn && ++run->in_txn >= run->txn_size)
                return txn_end(run, false, true);
            return 0;
        }
        if (rc == KP_ERR__STATE && run->txn_open) {
            /* The transaction failed under us: end it (an abort), then this message goes in
             * the next one. */
            if (txn_end(run, false, true) != 0)
                return -1;
            continue;
        }
        if (rc == KP_ERR__QUEUE_FULL) {
            if (g_signals)
                return -1;
            kp_producer_poll(run->p, 10);
            tick(run, mono_ns());
            continue;
        }
        run->failed++;
        count_err(run, rc, rc);
        if (rc == KW_EC_MESSAGE_TOO_LARGE)
            return 0;           /* only this message: the next may be smaller */
        clear_live(run);
        fprintf(stderr, "kproducer: produce to \"%s\" failed: %s: %s; stopping\n", run->topic,
                kp_err2name(rc), kp_err2str(rc));
        run->stopped_early = true;
        return -1;
    }
}

/* Serves delivery reports until the monotonic time target. -1 if the run must stop. */
static int wait_until(struct run *run, int64_t target)
{
    for (;;) {
        if (g_signals)
            return -1;
        int64_t now = mono_ns();
        tick(run, now);
        int64_t left = target - now;
        if (left <= 0)
            return 0;
        if (left > 2 * MS) {
            int64_t ms = (left - MS) / MS;
            kp_producer_poll(run->p, ms > 100 ? 100 : (int)ms);
        } else {
            /* Short naps, so reports keep being served on time. No spinning: the producer's
             * and the cluster's threads need the CPUs more. */
            kp_producer_poll(run->p, 0);
            sleep_ns(left < 200000 ? left : 200000);
        }
    }
}

/* The next message of the generated load: a value of a drawn size, printable seeded text, and a key
 * from --keys. */
static void make_generated(struct run *run, uint8_t *buf, size_t *vlen, char *key, size_t *klen)
{
    *vlen = kp_sizes_draw(&run->o->sizes, &run->rng);
    kp_rand_text(&run->rng, buf, *vlen);
    *klen = 0;
    if (run->o->keys > 0) {
        int n = snprintf(key, 32, "key-%" PRIu64, kp_rand(&run->rng) % (uint64_t)run->o->keys);
        *klen = (size_t)n;
    }
}

static void generate(struct run *run)
{
    struct opts *o = run->o;
    struct kp_arrival_gen gen;
    size_t cap = run->mode == MODE_WORKLOAD ? (size_t)run->w->value_size + 1
                                            : kp_sizes_max(&o->sizes) + 1;
    size_t kcap = run->mode == MODE_WORKLOAD ? (size_t)run->w->key_size + 32 : 32;
    uint8_t *buf = malloc(cap);
    char *key = malloc(kcap);
    if (buf == NULL || key == NULL) {
        fprintf(stderr, "kproducer: out of memory\n");
        run->stopped_early = true;
        goto out;
    }
    if (o->rate > 0)
        kp_arrival_init(&gen, o->arrivals, o->rate, run->seed);
    double sched = 0;           /* ns after t0 of the next arrival */
    int32_t partition = o->partition;
    if (run->mode == MODE_WORKLOAD)
        partition = run->w->partition == MB_ANY ? KP_PARTITION_UA : run->w->partition;
    for (int64_t i = 0; run->count < 0 || i < run->count; i++) {
        size_t vlen, klen;
        const char *k = key;
        if (run->mode == MODE_WORKLOAD) {
            vlen = mb_workload_value(run->w, i, buf, cap);
            klen = run->w->key_size > 0 ? mb_workload_key(run->w, i, (uint8_t *)key, kcap) : 0;
            k = run->w->key_size > 0 ? key : NULL;
        } else {
            make_generated(run, buf, &vlen, key, &klen);
            k = klen ? key : NULL;
        }
        int64_t origin;
        if (o->rate > 0) {
            if (i > 0) {
                double gap = kp_arrival_next(&gen);
                kp_moments_add(&run->drawn, gap);
                sched += gap;
            }
            if (o->duration_ns > 0 && sched >= (double)o->duration_ns)
                break;
            origin = run->t0 + (int64_t)sched;
            if (origin > run->deadline || wait_until(run, origin) != 0)
                break;
            int64_t behind = mono_ns() - origin;
            run->lag_last = behind > 0 ? behind : 0;
            kp_hist_record(run->lag, (uint64_t)run->lag_last);
        } else {
            origin = mono_ns();
            if ((o->duration_ns > 0 && origin - run->t0 >= o->duration_ns) ||
                origin > run->deadline || g_signals)
                break;
        }
        if (send_one(run, k, klen, buf, vlen, partition, origin) != 0)
            break;
        kp_producer_poll(run->p, 0);
        tick(run, mono_ns());
    }
out:
    free(buf);
    free(key);
}

static void read_stdin(struct run *run)
{
    char *line = NULL;
    size_t cap = 0, dl = strlen(run->o->key_delim);
    ssize_t n;
    while (!g_signals && (n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0)
            continue;
        const char *key = NULL, *value = line;
        size_t klen = 0, vlen = (size_t)n;
        char *sep = dl ? strstr(line, run->o->key_delim) : NULL;
        if (sep) {
            key = line;
            klen = (size_t)(sep - line);
            value = sep + dl;
            vlen = (size_t)n - klen - dl;
        }
        if (send_one(run, key, klen, value, vlen, run->o->partition, mono_ns()) != 0)
            break;
        kp_producer_poll(run->p, 0);
        tick(run, mono_ns());
    }
    if (ferror(stdin) && !g_signals)
        fprintf(stderr, "kproducer: reading stdin: %s\n", strerror(errno));
    free(line);
}

/* Waits for every report, up to the run's deadline; Ctrl-C a second time gives up. */
static void drain(struct run *run)
{
    while (kp_producer_outq_len(run->p) > 0 && g_signals < 2 && mono_ns() < run->deadline) {
        kp_producer_flush(run->p, 100);
        tick(run, mono_ns());
    }
}

/* --- checking the embedded cluster's log ---------------------------------------------------- */

struct check {
    int64_t checked;            /* delivered messages looked for */
    int64_t found;              /* ... found with the same key and value */
    int64_t mismatched;         /* ... whose offset holds another message */
    int64_t missing;            /* ... not in the log */
    int64_t log_records;        /* records in every partition of the topic */
    int64_t committed_records;  /* ... that a read_committed consumer reads (transactions) */
    int partitions;
    bool ok;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The record at offset in r (records are in offset order), or NULL. */
static const struct mb_record *record_at(const struct mb_records *r, int64_t offset)
{
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->records[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->count && r->records[lo].offset == offset ? &r->records[lo] : NULL;
}

static uint32_t record_crc(const struct mb_record *rec)
{
    return msg_crc(rec->key, rec->key ? (size_t)rec->key_len : 0, rec->value,
                   rec->value ? (size_t)rec->value_len : 0);
}

/* Each partition: messages with an offset are looked up there; those without (acks=0) must be
 * among the records no offset claimed, as a multiset of contents. */
static void check_partition(struct run *run, int32_t part, struct check *ck)
{
    struct mb_records *r = mb_partition_records(run->c, run->topic, part, 0, 0);
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->count; i++)
        ck->log_records += r->records[i].control < 0;  /* transaction markers are no message */
    if (run->txn) {
        struct mb_records *c = mb_partition_records_committed(run->c, run->topic, part, 0, 0);
        ck->committed_records += c ? (int64_t)c->count : 0;
        mb_records_destroy(c);
    }
    bool *claimed = calloc(r->count + 1, sizeof(*claimed));
    uint32_t *want = malloc((run->n_dl + 1) * sizeof(*want));
    uint32_t *have = malloc((r->count + 1) * sizeof(*have));
    size_t n_want = 0, n_have = 0;
    if (claimed == NULL || want == NULL || have == NULL) {
        fprintf(stderr, "kproducer: out of memory checking the log\n");
        ck->ok = false;
        goto out;
    }
    for (size_t i = 0; i < run->n_dl; i++) {
        const struct delivered *d = &run->dl[i];
        if (d->partition != part)
            continue;
        ck->checked++;
        if (d->offset < 0) {
            want[n_want++] = d->crc;
            continue;
        }
        const struct mb_record *rec = record_at(r, d->offset);
        if (rec == NULL) {
            ck->missing++;
        } else if (record_crc(rec) != d->crc) {
            ck->mismatched++;
        } else {
            ck->found++;
            claimed[rec - r->records] = true;
        }
    }
    if (n_want) {
        for (size_t i = 0; i < r->count; i++)
            if (!claimed[i] && r->records[i].control < 0)
                have[n_have++] = record_crc(&r->records[i]);
        qsort(want, n_want, sizeof(*want), cmp_u32);
        qsort(have, n_have, sizeof(*have), cmp_u32);
        size_t j = 0;
        for (size_t i = 0; i < n_want; i++) {
            while (j < n_have && have[j] < want[i])
                j++;
            if (j < n_have && have[j] == want[i]) {
                ck->found++;
                j++;
            } else {
                ck->missing++;
            }
        }
    }
out:
    free(claimed);
    free(want);
    free(have);
    mb_records_destroy(r);
}

static void check_log(struct run *run, struct check *ck)
{
    memset(ck, 0, sizeof(*ck));
    ck->ok = true;
    struct mb_partition_info info;
    for (int32_t part = 0; mb_partition_info(run->c, run->topic, part, &info) == 0; part++) {
        ck->partitions++;
        check_partition(run, part, ck);
    }
    if (run->dl_oom) {
        fprintf(stderr, "kproducer: out of memory recording deliveries: the log check is "
                "partial\n");
        ck->ok = false;
    }
    ck->ok = ck->ok && ck->found == ck->checked && ck->checked == run->delivered;
}

/* --- the report ----------------------------------------------------------------------------- */

static const char *fmt_ns(char *buf, size_t size, double ns)
{
    if (ns < 1e3)
        snprintf(buf, size, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, size, "%.1f us", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, size, "%.2f ms", ns / 1e6);
    else
        snprintf(buf, size, "%.3f s", ns / 1e9);
    return buf;
}

struct figures {
    double elapsed_s;           /* first produce call to the last report */
    double msgs_per_s, mb_per_s;
    double offered, achieved;   /* --rate runs */
};

static void compute(const struct run *run, struct figures *f)
{
    memset(f, 0, sizeof(*f));
    int64_t end = run->last_report > run->last_call ? run->last_report : run->last_call;
    if (run->sent && end > run->first_call)
        f->elapsed_s = (double)(end - run->first_call) / 1e9;
    if (f->elapsed_s > 0) {
        f->msgs_per_s = (double)run->delivered / f->elapsed_s;
        f->mb_per_s = (double)run->delivered_bytes / f->elapsed_s / 1e6;
    }
    f->offered = run->o->rate;
    if (run->gaps.n && run->gaps.mean > 0)
        f->achieved = 1e9 / run->gaps.mean;
}

static const double percentiles[] = { 50, 90, 99, 99.9 };
static const char *const pct_names[] = { "p50", "p90", "p99", "p99.9" };

static void print_errors(const struct run *run, FILE *f)
{
    char label[96];
    for (int i = 0; i < run->n_errs; i++)
        fprintf(f, "%s%s %" PRId64, i ? ", " : " (",
                err_label(&run->errs[i], label, sizeof(label)), run->errs[i].n);
    if (run->n_errs)
        fputc(')', f);
}

static void report_text(const struct run *run, const struct figures *f, const struct check *ck,
                        const struct mb_tally *tally, int expect_rc, const char *expect_why)
{
    const struct opts *o = run->o;
    char a[32], b[32];
    printf("kproducer: %s%s\n", run->stopped_early ? "stopped early" : "done",
           g_signals ? " (interrupted)" : "");
    printf("  messages    sent %" PRId64 ", delivered %" PRId64 ", failed %" PRId64, run->sent,
           run->delivered, run->failed);
    print_errors(run, stdout);
    printf("\n  throughput  %.0f msgs/s, %.2f MB/s over %.3f s (first produce to last "
           "report; %.2f MB delivered)\n", f->msgs_per_s, f->mb_per_s, f->elapsed_s,
           (double)run->delivered_bytes / 1e6);
    if (run->lat->count) {
        printf("  latency    ");
        for (size_t i = 0; i < 4; i++)
            printf("%s%s %s", i ? "  " : " ", pct_names[i],
                   fmt_ns(a, sizeof(a), (double)kp_hist_percentile(run->lat, percentiles[i])));
        printf("  max %s\n              (%s to delivery report, %" PRIu64 " messages, mean %s)\n",
               fmt_ns(b, sizeof(b), (double)run->lat->max),
               o->rate > 0 ? "from each message's scheduled arrival" : "from the produce call",
               run->lat->count, fmt_ns(a, sizeof(a), kp_hist_mean(run->lat)));
    }
    if (o->rate > 0 && run->gaps.n) {
        printf("  arrivals    %s, offered %.1f msgs/s, achieved %.1f msgs/s\n"
               "              measured at the produce calls: inter-arrival mean %s, CV %.3f%s\n"
               "              as scheduled: mean %s, CV %.3f\n", kp_arrivals_name(o->arrivals),
               f->offered, f->achieved, fmt_ns(a, sizeof(a), run->gaps.mean),
               kp_moments_cv(&run->gaps),
               o->arrivals == KP_ARRIVALS_POISSON ? " (Poisson: 1)" : " (uniform: 0)",
               fmt_ns(b, sizeof(b), run->drawn.mean), kp_moments_cv(&run->drawn));
        printf("  schedule    behind by at most %s (p99 %s), %s at the last message\n",
               fmt_ns(a, sizeof(a), (double)run->lag->max),
               fmt_ns(b, sizeof(b), (double)kp_hist_percentile(run->lag, 99)),
               fmt_ns((char[32]){ 0 }, 32, (double)run->lag_last));
    }
    printf("  producer    Produce requests %" PRId64 ", retries %" PRId64 ", epoch bumps %"
           PRId64, run->stats.produce_requests, run->stats.retries, run->stats.epoch_bumps);
    if (run->stats.producer_id >= 0)
        printf(", producer id %" PRId64 " epoch %d", run->stats.producer_id,
               run->stats.producer_epoch);
    printf("; seed %" PRIu64 "\n", run->seed);
    if (run->txn) {
        printf("  transactions committed %" PRId64 ", aborted %" PRId64 " (%" PRId64
               " messages each)", run->txn_committed, run->txn_aborted, run->txn_size);
        if (ck)
            printf("; %" PRId64 " records visible to read_committed", ck->committed_records);
        printf("\n");
    }
    if (ck) {
        printf("  log check   %" PRId64 " of %" PRId64 " delivered messages found in the log%s; "
               "%" PRId64 " records in %d partition%s of \"%s\"",
               ck->found, run->delivered,
               ck->checked && ck->found == ck->checked ? " with the same key and value" : "",
               ck->log_records, ck->partitions, ck->partitions == 1 ? "" : "s", run->topic);
        if (ck->mismatched || ck->missing)
            printf(" (%" PRId64 " missing, %" PRId64 " overwritten)", ck->missing,
                   ck->mismatched);
        printf(": %s\n", ck->ok ? "ok" : tally ? "acknowledged messages lost (the scenario's "
               "expectations decide)" : "FAILED");
    }
    if (tally) {
        printf("  scenario    log: %" PRId64 " records, %" PRId64 " distinct, %" PRId64
               " duplicates, %" PRId64 " missing, %" PRId64 " out of order; expectations %s%s\n",
               tally->log_records, tally->distinct, tally->duplicates, tally->missing,
               tally->out_of_order, expect_rc == 0 ? "hold" : "FAILED: ",
               expect_rc == 0 ? "" : expect_why);
    }
}

static json_t *latency_json(const struct kp_hist *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)h->count));
    json_object_set_new(o, "min", json_real(h->count ? (double)h->min / 1e3 : 0));
    json_object_set_new(o, "mean", json_real(kp_hist_mean(h) / 1e3));
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(o, pct_names[i],
                            json_real((double)kp_hist_percentile(h, percentiles[i]) / 1e3));
    json_object_set_new(o, "max", json_real((double)h->max / 1e3));
    return o;
}

static void report_json(const struct run *run, const struct figures *f, const struct check *ck,
                        const struct mb_tally *tally, int expect_rc, const char *expect_why)
{
    const struct opts *o = run->o;
    static const char *const modes[] = { "stdin", "generated", "workload" };
    json_t *j = json_object(), *errs = json_object();
    json_object_set_new(j, "topic", json_string(run->topic));
    json_object_set_new(j, "bootstrap", json_string(run->bootstrap));
    json_object_set_new(j, "mode", json_string(modes[run->mode]));
    json_object_set_new(j, "seed", json_integer((json_int_t)run->seed));
    json_object_set_new(j, "interrupted", json_boolean(g_signals != 0));
    json_object_set_new(j, "stopped_early", json_boolean(run->stopped_early));
    json_object_set_new(j, "sent", json_integer(run->sent));
    json_object_set_new(j, "delivered", json_integer(run->delivered));
    json_object_set_new(j, "failed", json_integer(run->failed));
    char label[96];
    for (int i = 0; i < run->n_errs; i++)
        json_object_set_new(errs, err_label(&run->errs[i], label, sizeof(label)),
                            json_integer(run->errs[i].n));
    json_object_set_new(j, "errors", errs);
    json_object_set_new(j, "bytes_sent", json_integer(run->sent_bytes));
    json_object_set_new(j, "bytes_delivered", json_integer(run->delivered_bytes));
    json_object_set_new(j, "elapsed_s", json_real(f->elapsed_s));
    json_object_set_new(j, "msgs_per_s", json_real(f->msgs_per_s));
    json_object_set_new(j, "mb_per_s", json_real(f->mb_per_s));
    json_t *lat = latency_json(run->lat);
    json_object_set_new(lat, "origin", json_string(o->rate > 0 ? "schedule" : "produce"));
    json_object_set_new(j, "latency_us", lat);
    if (o->rate > 0) {
        json_t *r = json_object();
        json_object_set_new(r, "arrivals", json_string(kp_arrivals_name(o->arrivals)));
        json_object_set_new(r, "offered", json_real(f->offered));
        json_object_set_new(r, "achieved", json_real(f->achieved));
        json_object_set_new(r, "interarrival_mean_us", json_real(run->gaps.mean / 1e3));
        json_object_set_new(r, "interarrival_cv", json_real(kp_moments_cv(&run->gaps)));
        json_object_set_new(r, "scheduled_mean_us", json_real(run->drawn.mean / 1e3));
        json_object_set_new(r, "scheduled_cv", json_real(kp_moments_cv(&run->drawn)));
        json_object_set_new(r, "behind_max_ms", json_real((double)run->lag->max / 1e6));
        json_object_set_new(r, "behind_p99_ms",
                            json_real((double)kp_hist_percentile(run->lag, 99) / 1e6));
        json_object_set_new(r, "behind_last_ms", json_real((double)run->lag_last / 1e6));
        json_object_set_new(j, "rate", r);
    }
    json_t *pr = json_object();
    json_object_set_new(pr, "produce_requests", json_integer(run->stats.produce_requests));
    json_object_set_new(pr, "retries", json_integer(run->stats.retries));
    json_object_set_new(pr, "epoch_bumps", json_integer(run->stats.epoch_bumps));
    json_object_set_new(pr, "producer_id", json_integer(run->stats.producer_id));
    json_object_set_new(pr, "producer_epoch", json_integer(run->stats.producer_epoch));
    json_object_set_new(j, "producer", pr);
    if (run->txn) {
        json_t *t = json_object();
        json_object_set_new(t, "committed", json_integer(run->txn_committed));
        json_object_set_new(t, "aborted", json_integer(run->txn_aborted));
        json_object_set_new(t, "size", json_integer(run->txn_size));
        if (ck)
            json_object_set_new(t, "committed_records", json_integer(ck->committed_records));
        json_object_set_new(j, "transactions", t);
    }
    if (ck) {
        json_t *c = json_object();
        json_object_set_new(c, "brokers", json_integer(o->embedded));
        json_object_set_new(c, "partitions", json_integer(ck->partitions));
        json_object_set_new(c, "checked", json_integer(ck->checked));
        json_object_set_new(c, "found", json_integer(ck->found));
        json_object_set_new(c, "missing", json_integer(ck->missing));
        json_object_set_new(c, "mismatched", json_integer(ck->mismatched));
        json_object_set_new(c, "log_records", json_integer(ck->log_records));
        json_object_set_new(c, "ok", json_boolean(ck->ok));
        json_object_set_new(j, "log_check", c);
    }
    if (tally) {
        json_t *s = json_object();
        json_object_set_new(s, "file", json_string(o->scenario));
        json_object_set_new(s, "log_records", json_integer(tally->log_records));
        json_object_set_new(s, "distinct", json_integer(tally->distinct));
        json_object_set_new(s, "duplicates", json_integer(tally->duplicates));
        json_object_set_new(s, "missing", json_integer(tally->missing));
        json_object_set_new(s, "out_of_order", json_integer(tally->out_of_order));
        json_object_set_new(s, "expectations_hold", json_boolean(expect_rc == 0));
        if (expect_rc != 0)
            json_object_set_new(s, "reason", json_string(expect_why));
        json_object_set_new(j, "scenario", s);
    }
    char *text = json_dumps(j, JSON_COMPACT);
    if (text)
        puts(text);
    free(text);
    json_decref(j);
}

/* The cluster's faults and state changes, from its journal: what the trace's retries answer. */
static void print_cluster_events(struct run *run)
{
    struct mb_journal_entry e[64];
    uint64_t after = 0;
    size_t n;
    bool any = false;
    char line[512];
    while ((n = mb_journal_read(run->c, after, e, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            after = e[i].id;
            if (e[i].kind == MB_JOURNAL_REQUEST || e[i].kind == MB_JOURNAL_APPEND ||
                (e[i].kind == MB_JOURNAL_RESPONSE && strcmp(e[i].what, "sent") == 0) ||
                (e[i].kind == MB_JOURNAL_RESPONSE && strcmp(e[i].what, "none") == 0))
                continue;
            if (!any)
                printf("  cluster events (the mock's journal, faults and state changes):\n");
            any = true;
            mb_journal_entry_render(&e[i], MB_JOURNAL_TEXT, line, sizeof(line));
            printf("    %s%s", line, line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
        }
    }
}

/* --- setup ---------------------------------------------------------------------------------- */

static uint64_t clock_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
                 (uint64_t)getpid() << 40;
    s = kp_rand(&s) % 1000000000u;      /* short enough to retype */
    return s ? s : 1;
}

static int start_cluster(struct run *run, char *err, size_t errsize)
{
    struct opts *o = run->o;
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.seed = run->seed;
    cfg.log_level = o->verbose ? MB_LOG_INFO : MB_LOG_WARN;
    cfg.log_cb = mock_log_cb;
    cfg.log_opaque = run;
    if (run->scenario)
        mb_scenario_config(run->scenario, &cfg);
    if (o->embedded)
        cfg.brokers = o->embedded;
    if (cfg.brokers < 1)
        cfg.brokers = 1;
    o->embedded = cfg.brokers;
    cfg.default_partitions = o->partitions ? o->partitions : cfg.brokers;
    run->c = mb_cluster_new(&cfg, err, errsize);
    if (run->c == NULL)
        return -1;
    if (run->scenario && mb_scenario_apply(run->c, run->scenario, err, errsize) != 0)
        return -1;
    /* Created now, not on the first Metadata: an auto-created topic has no leader for the
     * first answer, and the producer's 100 ms wait would count as latency. */
    int ec = mb_topic_create(run->c, run->topic, cfg.default_partitions, 0, err, errsize);
    if (ec != 0 && ec != KW_EC_TOPIC_ALREADY_EXISTS)
        return -1;
    run->bootstrap = mb_cluster_bootstrap(run->c);
    return 0;
}

static struct kp_conf *make_conf(struct run *run, char *err, size_t errsize)
{
    struct opts *o = run->o;
    struct kp_conf *conf = kp_conf_new();
    char seed[32];
    if (conf == NULL) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    snprintf(seed, sizeof(seed), "%" PRIu64, run->seed);
    kp_conf_set(conf, "client.id", "kproducer", err, errsize);
    kp_conf_set(conf, "kp.seed", seed, err, errsize);
    if (kp_conf_set(conf, "bootstrap.servers", run->bootstrap, err, errsize) != KP_CONF_OK)
        goto fail;
    if (run->scenario && run->scenario->workload) {
        /* The scenario's producer settings (its timeouts fit its faults), also under load of
         * one's own. They use librdkafka's names; any we lack are left out, not fatal: the
         * file also serves other clients. */
        const struct mb_workload *w = run->scenario->workload;
        for (int i = 0; i < w->n_config; i++) {
            const struct mb_kv *kv = &w->config[i];
            char why[256];
            int rc = kp_conf_set(conf, kv->key, kv->value, why, sizeof(why));
            if (rc == KP_CONF_UNKNOWN) {
                if (!o->json)
                    fprintf(stderr, "kproducer: scenario setting %s=%s ignored: kproducer has "
                            "no such property\n", kv->key, kv->value);
            } else if (rc != KP_CONF_OK) {
                snprintf(err, errsize, "scenario setting: %s", why);
                goto fail;
            }
        }
    }
    for (int i = 0; i < o->n_sets; i++)
        if (kp_conf_set(conf, o->sets[i].key, o->sets[i].value, err, errsize) != KP_CONF_OK)
            goto fail;
    kp_conf_set_dr_cb(conf, dr_cb);
    kp_conf_set_log_cb(conf, log_cb);
    kp_conf_set_opaque(conf, run);
    if (o->trace)
        kp_conf_set_trace_cb(conf, trace_cb);
    return conf;
fail:
    kp_conf_destroy(conf);
    return NULL;
}

static void print_header(const struct run *run)
{
    const struct opts *o = run->o;
    printf("kproducer: ");
    if (run->mode == MODE_STDIN) {
        printf("producing lines from stdin");
    } else if (run->mode == MODE_WORKLOAD) {
        printf("running the workload of %s: %" PRId64 " messages of %d bytes", o->scenario,
               run->w->messages, run->w->value_size);
    } else {
        printf("producing ");
        if (run->count > 0)
            printf("%" PRId64 " messages", run->count);
        else
            printf("messages");
        if (o->sizes.n == 1 && o->sizes.lo[0] == o->sizes.hi[0])
            printf(" of %u bytes", o->sizes.lo[0]);
        else
            printf(" of %s bytes (mean %.0f)", o->size_spec, kp_sizes_mean(&o->sizes));
        if (o->duration_ns > 0)
            printf(" for %.3f s", (double)o->duration_ns / 1e9);
        if (o->keys)
            printf(", %" PRId64 " keys", o->keys);
        if (o->rate > 0)
            printf(", %s arrivals at %g msgs/s", kp_arrivals_name(o->arrivals), o->rate);
    }
    printf(" to \"%s\" at %s", run->topic, run->bootstrap);
    if (o->embedded)
        printf(" (embedded cluster of %d broker%s)", o->embedded, o->embedded == 1 ? "" : "s");
    printf("; seed %" PRIu64 "\n", run->seed);
    if (run->scenario && run->scenario->description)
        printf("  scenario: %s\n", run->scenario->description);
    fflush(stdout);
}

/* Chooses stdin, generated load or the scenario's workload, and the topic. 0, or -1 after
 * saying why not. */
static int choose_mode(struct run *run)
{
    const struct opts *o = run->o;
    bool bounded = o->count > 0 || o->duration_ns > 0;
    if (run->scenario && run->scenario->workload && !bounded) {
        run->mode = MODE_WORKLOAD;
        run->w = run->scenario->workload;
        run->count = run->w->messages;
    } else if (bounded) {
        run->mode = MODE_GENERATE;
    } else if ((o->embedded || o->scenario) && isatty(STDIN_FILENO)) {
        run->mode = MODE_GENERATE;
        run->count = DEMO_COUNT;
        if (!o->json)
            printf("kproducer: no input on stdin: generating %d messages (--count)\n",
                   DEMO_COUNT);
    } else {
        run->mode = MODE_STDIN;
    }
    if (run->mode == MODE_STDIN && (o->sizes_set || o->keys)) {
        fprintf(stderr, "kproducer: --size and --keys generate load: bound it with --count "
                "and/or --duration\n");
        return -1;
    }
    if (run->mode == MODE_WORKLOAD &&
        (o->sizes_set || o->keys || o->topic || o->partition != KP_PARTITION_UA)) {
        fprintf(stderr, "kproducer: the scenario's workload sets topic, partition, sizes and "
                "keys: give --count or --duration to produce your own load under the "
                "scenario\n");
        return -1;
    }
    run->topic = o->topic;
    if (run->topic == NULL && run->scenario) {
        /* Under a scenario, the topic its faults are set up for. */
        if (run->scenario->workload)
            run->topic = run->scenario->workload->topic;
        else if (run->scenario->n_topics)
            run->topic = run->scenario->topics[0].name;
    }
    if (run->topic == NULL)
        run->topic = "kproducer";
    return 0;
}

/* Starts the embedded cluster (if any) and the producer. 0, or the exit code after saying
 * why not. */
static int start(struct run *run, struct kp_conf **conf)
{
    const struct opts *o = run->o;
    char err[512] = "";
    int rc = 0;
    /* Signals go to this thread: the producer's and the cluster's threads inherit the block. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (o->embedded || o->scenario) {
        if (start_cluster(run, err, sizeof(err)) != 0) {
            fprintf(stderr, "kproducer: embedded cluster: %s\n", err);
            /* A scenario the cluster refuses is a configuration error. */
            rc = run->c ? EXIT_USAGE : EXIT_FAILED;
            goto out;
        }
        run->verify = true;
    } else {
        run->bootstrap = o->bootstrap;
    }
    *conf = make_conf(run, err, sizeof(err));
    if (*conf) {
        /* Transactional however it was set (--transactional-id, -X, a scenario). */
        char tid[256] = "";
        kp_conf_get(*conf, "transactional.id", tid, sizeof(tid));
        run->txn = tid[0] != '\0';
        run->txn_size = o->txn_size ? o->txn_size : 1000;
        if (o->txn_size && !run->txn) {
            fprintf(stderr, "kproducer: --txn-size sizes transactions: give "
                    "--transactional-id too\n");
            rc = EXIT_USAGE;
            goto out;
        }
        run->trace_t0 = mono_ns();
        run->p = kp_producer_new(*conf, err, sizeof(err));
    }
    if (run->p == NULL) {
        fprintf(stderr, "kproducer: %s\n", err);
        rc = EXIT_USAGE;
    }
out:
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);           /* no SA_RESTART: a blocked read returns */
    sigaction(SIGTERM, &sa, NULL);
#ifdef __linux__
    /* Sleeps end up to the timer slack (50 us) late: too coarse for arrivals 100 us apart. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
    return 0;
}

/* After the last report: checks the embedded log and the scenario's expectations, prints the
 * report, and returns the exit code. */
static int finish(struct run *run)
{
    const struct opts *o = run->o;
    struct check ck, *ckp = NULL;
    struct mb_tally tally, *tallyp = NULL;
    int expect_rc = 0;
    char expect_why[256] = "";
    int rc = run->failed || run->stopped_early ? EXIT_FAILED : 0;
    if (run->c) {
        check_log(run, &ck);
        ckp = &ck;
        if (!ck.ok)
            rc = EXIT_FAILED;
    }
    if (run->mode == MODE_WORKLOAD) {
        expect_rc = mb_workload_verify(run->c, run->w, run->delivered, run->failed, &tally,
                                       expect_why, sizeof(expect_why));
        tallyp = &tally;
        /* Under a scenario, failures may be the point: its expectations decide. */
        rc = expect_rc == 0 ? 0 : EXIT_FAILED;
    }
    struct figures f;
    compute(run, &f);
    if (o->json) {
        report_json(run, &f, ckp, tallyp, expect_rc, expect_why);
        return rc;
    }
    if (o->trace)
        printf("\n");
    report_text(run, &f, ckp, tallyp, expect_rc, expect_why);
    if (run->scenario)
        print_cluster_events(run);
    if (run->failed && run->mode != MODE_WORKLOAD)
        printf("kproducer: %" PRId64 " message%s failed\n", run->failed,
               run->failed == 1 ? "" : "s");
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct run run;
    char err[512] = "";
    int rc = EXIT_USAGE;
    struct kp_conf *conf = NULL;

    memset(&run, 0, sizeof(run));
    int pr = parse_args(argc, argv, &o, err, sizeof(err));
    if (pr != 0) {
        if (pr == 1)
            usage(stdout);
        else
            fprintf(stderr, "kproducer: %s\n(kproducer --help lists the options)\n", err);
        opts_release(&o);
        return pr == 1 ? 0 : EXIT_USAGE;
    }
    run.o = &o;
    run.seed = o.seed_set ? o.seed : clock_seed();
    run.rng = run.seed ^ UINT64_C(0x6a09e667f3bcc909);
    run.deadline = INT64_MAX;
    run.count = o.count;
    run.lat = malloc(sizeof(*run.lat));
    run.lag = malloc(sizeof(*run.lag));
    if (run.lat == NULL || run.lag == NULL) {
        fprintf(stderr, "kproducer: out of memory\n");
        goto out;
    }
    kp_hist_init(run.lat);
    kp_hist_init(run.lag);
    if (o.scenario && (run.scenario = mb_scenario_load(o.scenario, err, sizeof(err))) == NULL) {
        fprintf(stderr, "kproducer: %s\n", err);
        goto out;
    }
    if (choose_mode(&run) != 0)
        goto out;
    run.live = isatty(STDOUT_FILENO) && !o.trace && !o.json;
    if ((rc = start(&run, &conf)) != 0)
        goto out;

    if (!o.json)
        print_header(&run);
    if (run.mode == MODE_WORKLOAD)
        run.deadline = mono_ns() + run.w->timeout_ms * MS;
    run.t0 = mono_ns();
    if (!run.txn || txn_start(&run) == 0) {
        if (run.mode == MODE_STDIN)
            read_stdin(&run);
        else
            generate(&run);
        /* The last transaction: committed, unless the run was interrupted. */
        if (run.txn_open)
            txn_end(&run, g_signals != 0, false);
    }
    drain(&run);
    clear_live(&run);
    kp_producer_stats(run.p, &run.stats);
    /* What is still queued (a second Ctrl-C, the workload's timeout) is reported as purged. */
    kp_producer_destroy(run.p);
    run.p = NULL;
    rc = finish(&run);
out:
    kp_producer_destroy(run.p);
    kp_conf_destroy(conf);
    mb_cluster_destroy(run.c);
    mb_scenario_destroy(run.scenario);
    free(run.dl);
    free(run.lat);
    free(run.lag);
    opts_release(&o);
    return rc;
}
