/* Producer benchmark: libkproducer beside librdkafka's producer, both in this process, both
 * sending to a fresh bin/mockbroker (its own process) with the same settings and payload.
 *   rows 1-3: throughput. N messages of 100 bytes as fast as produce() takes them; msgs/s, MB/s
 *             of values, and the CPU seconds per million messages of this process (the
 *             producer's threads and the loop that feeds it) and of the broker;
 *   row 4:    latency. Poisson arrivals at a fixed rate, each message timed from its scheduled
 *             arrival (not from when produce() got to it, so a stall counts for every message
 *             it delayed) to its delivery report; p50/p99 from a histogram.
 * The clock starts once a first message has been delivered (metadata known, connection up,
 * producer id assigned) and stops when the last report is in. Ours and theirs alternate, one
 * round each, in turns (ours first in even rounds): the machine's speed drifts from minute to
 * minute, the ratio of neighbours much less, so the summary is the median of per-round ratios.
 * `bench_producer [--runs N] [--msgs N] [--seed S] [--rows 1234] [--side both|ours|theirs]
 *  [--latency-secs S] [--set key=value]...`: --rows and --side pick what runs (--side ours
 * under callgrind, say), --set changes a setting of both sides. BIN names the directory of
 * mockbroker (default bin). */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "tests/bench/common/broker.h"
#include "tests/bench/common/proc.h"
#include "lib/batch.h"
#include "lib/compress.h"
#include "producer/kproducer.h"

#define TOPIC "bench"
#define PARTITIONS 4
#define RECORD_BYTES 100
#define POOL 16384                  /* distinct values, cycled: 1.6 MB, beyond lz4's window */
#define DEFAULT_MSGS 1000000
#define DEFAULT_RUNS 5
#define MAX_RUNS 20
#define RETENTION "16777216"        /* per partition: the broker holds at most 64 MiB */
#define START_MS 10000              /* broker's bootstrap line; the first delivery */
#define STOP_MS 10000               /* the broker's exit once its stdin closes */
#define RUN_MS 60000                /* one throughput run, flush included */
#define POLL_EVERY 1000             /* messages between two non-blocking polls */
#define LAT_RATE 100000             /* messages per second */
#define LAT_SECS 3.0
#define LAT_DRAIN_MS 10000          /* for the last reports after the last arrival */

/* The size of a batch of n pool values compressed with codec over its size uncompressed, as
 * a producer would build it; -1 if it cannot be built. */
static double batch_ratio(const uint8_t *pool, int n, int codec)
{
    size_t len[2] = { 0, 0 };
    int codecs[2] = { KW_CODEC_NONE, codec };
    for (int c = 0; c < 2; c++) {
        struct kw_buf buf;
        struct kw_batch_builder bb;
        kw_buf_init(&buf);
        int rc = kw_batch_builder_begin(&bb, &buf, NULL, codecs[c], -1);
        for (int i = 0; i < n && rc == KW_OK; i++)
            rc = kw_batch_builder_add(&bb, 1700000000000 + i, KW_BYTES_NULL,
                                      (struct kw_bytes){ pool + (size_t)(i % POOL) *
                                                         RECORD_BYTES, RECORD_BYTES }, NULL, 0);
        int frc = kw_batch_builder_finish(&bb);
        len[c] = rc == KW_OK && frc == KW_OK ? buf.len : 0;
        kw_buf_release(&buf);
    }
    return len[0] && len[1] ? (double)len[1] / (double)len[0] : -1;
}

/* --- bin/mockbroker --------------------------------------------------------------------------- */

static char mockbroker_path[4096];

/* Starts bin/mockbroker with the topic and reads its bootstrap line: 0, or -1 (said why). */
static int broker_start(struct bench_broker *b)
{
    char topic[64];
    snprintf(topic, sizeof(topic), "%s:%d", TOPIC, PARTITIONS);
    char *const argv[] = { mockbroker_path, "--port", "0", "--seed", "1",
                           "--exit-on-stdin-close", "--log-level", "error", "--auto-create",
                           "off", "--topic", topic, "--retention-bytes", RETENTION, NULL };
    return bench_broker_start(b, "bench_producer", NULL, argv, START_MS, false);
}

/* --- latency histogram ------------------------------------------------------------------------ */

/* Microseconds: exact below 1024, then 512 buckets per power of two (0.2% wide at most). */
#define H_LINEAR 1024
#define H_SUB 512
#define H_OCTAVES 40
#define H_BUCKETS (H_LINEAR + H_OCTAVES * H_SUB)

struct hist {
    uint64_t n;
    uint64_t max_us;
    uint32_t count[H_BUCKETS];
};

static int h_index(uint64_t us)
{
    if (us < H_LINEAR)
        return (int)us;
    int msb = 63 - __builtin_clzll(us);
    int idx = H_LINEAR + (msb - 10) * H_SUB + (int)((us >> (msb - 9)) - H_SUB);
    return idx < H_BUCKETS ? idx : H_BUCKETS - 1;
}

/* The middle of bucket idx, in microseconds. */
static double h_value(int idx)
{
    if (idx < H_LINEAR)
        return idx;
    int octave = (idx - H_LINEAR) / H_SUB, sub = (idx - H_LINEAR) % H_SUB;
    double width = (double)(1ull << (octave + 1));
    return (double)(sub + H_SUB) * width + width / 2;
}

static void h_add(struct hist *h, int64_t ns)
{
    uint64_t us = ns < 0 ? 0 : (uint64_t)ns / 1000;
    h->count[h_index(us)]++;
    h->n++;
    h->max_us = us > h->max_us ? us : h->max_us;
}

/* The q-quantile in milliseconds. */
static double h_quantile_ms(const struct hist *h, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)h->n), seen = 0;
    want = want ? want : 1;
    for (int i = 0; i < H_BUCKETS; i++)
        if ((seen += h->count[i]) >= want)
            return h_value(i) / 1e3;
    return (double)h->max_us / 1e3;
}

/* --- the two producers behind one face -------------------------------------------------------- */

enum side { OURS, THEIRS };
static const char *const side_name[] = { "ours", "theirs" };

/* What the delivery callbacks count. In the latency row each message's opaque is its scheduled
 * arrival in ns after t0; elsewhere the callbacks only count, the same work for both sides. */
struct tally {
    int64_t delivered, failed;
    char first_errstr[160];
    struct hist *hist;
    int64_t t0;
};

static void tally_report(struct tally *t, int err, const char *errstr, void *opaque)
{
    if (err == 0) {
        t->delivered++;
        if (t->hist)
            h_add(t->hist, bench_now_ns() - t->t0 - (int64_t)(uintptr_t)opaque);
    } else if (t->failed++ == 0) {
        snprintf(t->first_errstr, sizeof(t->first_errstr), "%s", errstr);
    }
}

static void our_dr(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    tally_report(opaque, r->err, r->errstr, r->opaque);
}

static void their_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    tally_report(opaque, m->err, m->err ? rd_kafka_err2str(m->err) : "", m->_private);
}

struct client {
    enum side side;
    struct kp_producer *kp;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    struct tally t;
};

/* The settings of one row: librdkafka's property names, which ours takes too. */
#define MAX_PROPS 6
struct row {
    const char *title;
    bool latency;
    const char *props[MAX_PROPS][2];
};

static const struct row rows[] = {
    { "1. acks=1 linger.ms=5", false, { { "acks", "1" }, { "linger.ms", "5" } } },
    { "2. acks=all enable.idempotence=true", false,
      { { "acks", "all" }, { "enable.idempotence", "true" }, { "linger.ms", "5" } } },
    { "3. compression.codec=lz4 acks=1", false,
      { { "acks", "1" }, { "linger.ms", "5" }, { "compression.codec", "lz4" } } },
    { "4. latency: Poisson arrivals, acks=1 linger.ms=5", true,
      { { "acks", "1" }, { "linger.ms", "5" } } },
};
#define N_ROWS (int)(sizeof(rows) / sizeof(rows[0]))

static uint64_t seed = 0x9E3779B97F4A7C15ull;
/* --set key=value: applied to both sides after the row's own settings. */
#define MAX_SETS 8
static char *sets[MAX_SETS][2];
static int n_sets;

/* The row's settings, then the overrides, in order: the property count. */
static int props_of(const struct row *row, const char *out[MAX_PROPS + MAX_SETS][2])
{
    int n = 0;
    for (int i = 0; i < MAX_PROPS && row->props[i][0]; i++, n++)
        out[n][0] = row->props[i][0], out[n][1] = row->props[i][1];
    for (int i = 0; i < n_sets; i++, n++)
        out[n][0] = sets[i][0], out[n][1] = sets[i][1];
    return n;
}

/* Creates the producer with the row's settings: 0, or -1 (said why). */
static int client_new(struct client *c, enum side side, const char *bootstrap,
                      const struct row *row)
{
    char errstr[512];
    const char *props[MAX_PROPS + MAX_SETS][2];
    int n_props = props_of(row, props);
    memset(c, 0, sizeof(*c));
    c->side = side;
    if (side == OURS) {
        struct kp_conf *conf = kp_conf_new();
        char s[32];
        snprintf(s, sizeof(s), "%" PRIu64, seed);
        bool ok = conf && kp_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                      sizeof(errstr)) == KP_CONF_OK &&
                  kp_conf_set(conf, "kp.seed", s, errstr, sizeof(errstr)) == KP_CONF_OK;
        for (int i = 0; ok && i < n_props; i++)
            ok = kp_conf_set(conf, props[i][0], props[i][1], errstr, sizeof(errstr)) ==
                 KP_CONF_OK;
        if (ok) {
            kp_conf_set_dr_cb(conf, our_dr);
            kp_conf_set_opaque(conf, &c->t);
            c->kp = kp_producer_new(conf, errstr, sizeof(errstr));
        }
        kp_conf_destroy(conf);
        if (c->kp == NULL) {
            fprintf(stderr, "bench_producer: ours: %s\n", conf ? errstr : "out of memory");
            return -1;
        }
        return 0;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    bool ok = rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                sizeof(errstr)) == RD_KAFKA_CONF_OK;
    for (int i = 0; ok && i < n_props; i++)
        ok = rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof(errstr)) ==
             RD_KAFKA_CONF_OK;
    if (ok) {
        rd_kafka_conf_set_dr_msg_cb(conf, their_dr);
        rd_kafka_conf_set_opaque(conf, &c->t);
        /* rd_kafka_new takes conf only when it succeeds. */
        c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    }
    if (c->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "bench_producer: theirs: %s\n", errstr);
        return -1;
    }
    c->rkt = rd_kafka_topic_new(c->rk, TOPIC, NULL);
    if (c->rkt == NULL) {
        fprintf(stderr, "bench_producer: theirs: rd_kafka_topic_new: %s\n",
                rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(c->rk);
        c->rk = NULL;
        return -1;
    }
    return 0;
}

static void client_destroy(struct client *c)
{
    kp_producer_destroy(c->kp);
    if (c->rkt)
        rd_kafka_topic_destroy(c->rkt);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    memset(c, 0, sizeof(*c));
}

enum { PRODUCED = 0, QUEUE_FULL = 1, REFUSED = -1 };

/* Queues one message with a copy of the value: PRODUCED, QUEUE_FULL or REFUSED (said why). */
static int client_produce(struct client *c, const void *value, void *opaque)
{
    int err;
    if (c->side == OURS) {
        err = kp_producer_produce(c->kp, TOPIC, KP_PARTITION_UA, KP_MSG_COPY, NULL, 0, value,
                                  RECORD_BYTES, NULL, 0, 0, opaque);
        if (err == 0)
            return PRODUCED;
        if (err == KP_ERR__QUEUE_FULL)
            return QUEUE_FULL;
        fprintf(stderr, "bench_producer: ours: produce: %s\n", kp_err2str(err));
        return REFUSED;
    }
    if (rd_kafka_produce(c->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value,
                         RECORD_BYTES, NULL, 0, opaque) == 0)
        return PRODUCED;
    err = rd_kafka_last_error();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return QUEUE_FULL;
    fprintf(stderr, "bench_producer: theirs: produce: %s\n", rd_kafka_err2str(err));
    return REFUSED;
}

static void client_poll(struct client *c, int timeout_ms)
{
    if (c->side == OURS)
        kp_producer_poll(c->kp, timeout_ms);
    else
        rd_kafka_poll(c->rk, timeout_ms);
}

/* Waits until every message is reported: true, or false when timeout_ms passed (said so). */
static bool client_flush(struct client *c, int timeout_ms)
{
    int err = c->side == OURS ? kp_producer_flush(c->kp, timeout_ms)
                              : (int)rd_kafka_flush(c->rk, timeout_ms);
    if (err)
        fprintf(stderr, "bench_producer: %s: flush: %s (%" PRId64 " reported)\n",
                side_name[c->side], c->side == OURS ? kp_err2str(err) : rd_kafka_err2str(err),
                c->t.delivered + c->t.failed);
    return err == 0;
}

/* Reports what failed; true if every one of want messages was delivered. */
static bool client_all_delivered(const struct client *c, int64_t want)
{
    if (c->t.failed)
        fprintf(stderr, "bench_producer: %s: %" PRId64 " deliveries failed, the first: %s\n",
                side_name[c->side], c->t.failed, c->t.first_errstr);
    else if (c->t.delivered != want)
        fprintf(stderr, "bench_producer: %s: %" PRId64 " of %" PRId64 " delivered\n",
                side_name[c->side], c->t.delivered, want);
    return c->t.failed == 0 && c->t.delivered == want;
}

/* One message through before the clock starts: metadata, the leader's connection and, with
 * idempotence, the producer id are then in place for both sides. */
static bool client_warm(struct client *c, const uint8_t *value)
{
    bool ok = client_produce(c, value, NULL) == PRODUCED && client_flush(c, START_MS) &&
              client_all_delivered(c, 1);
    memset(&c->t, 0, sizeof(c->t));
    return ok;
}

/* --- runs ------------------------------------------------------------------------------------- */

struct result {
    bool ok;
    int64_t msgs;                   /* delivered in the timed span */
    double secs;
    double cpu_s;                   /* this process's CPU time: the producer and its feeding */
    double broker_cpu_s;
    double p50_ms, p99_ms, p999_ms, max_ms;    /* latency row */
};

static double rate(const struct result *r) { return (double)r->msgs / r->secs; }
static double cpu_per_m(const struct result *r) { return r->cpu_s / ((double)r->msgs / 1e6); }

/* As fast as produce() takes them: n messages, polling every POLL_EVERY and when full. */
static bool run_throughput(struct client *c, const uint8_t *pool, int64_t n)
{
    int64_t deadline = bench_now_ns() + (int64_t)RUN_MS * 1000000;
    for (int64_t i = 0; i < n;) {
        int rc = client_produce(c, pool + (size_t)(i % POOL) * RECORD_BYTES, NULL);
        if (rc == PRODUCED) {
            if (++i % POLL_EVERY == 0)
                client_poll(c, 0);
            continue;
        }
        if (rc == REFUSED)
            return false;
        if (bench_ms_left(deadline) == 0) {
            fprintf(stderr, "bench_producer: %s: the queue stayed full for %d ms\n",
                    side_name[c->side], RUN_MS);
            return false;
        }
        client_poll(c, 1);
    }
    return client_flush(c, bench_ms_left(deadline)) && client_all_delivered(c, n);
}

/* Poisson arrivals at LAT_RATE for lat_secs, the same schedule for both sides of a round. Each
 * message is produced as soon as this thread sees its time has come; between arrivals it sleeps
 * until the next one (a few tens of microseconds late, on average, for both sides alike). */
static bool run_latency(struct client *c, const uint8_t *pool, int64_t n, uint64_t round_seed)
{
    uint64_t x = round_seed ? round_seed : 1;
    int64_t t0 = c->t.t0 = bench_now_ns();
    int64_t deadline = t0 + (int64_t)(((double)n / LAT_RATE) * 1e9) + (int64_t)RUN_MS * 1000000;
    double next = 0;                /* ns after t0 */
    for (int64_t i = 0; i < n;) {
        int64_t now = bench_now_ns() - t0;
        while (i < n && (int64_t)next <= now) {
            int rc = client_produce(c, pool + (size_t)(i % POOL) * RECORD_BYTES,
                                    (void *)(uintptr_t)(int64_t)next);
            if (rc == REFUSED)
                return false;
            if (rc == QUEUE_FULL) {
                if (bench_ms_left(deadline) == 0) {
                    fprintf(stderr, "bench_producer: %s: the queue stayed full\n",
                            side_name[c->side]);
                    return false;
                }
                client_poll(c, 1);
                continue;
            }
            i++;
            double u = (double)(bench_xorshift(&x) >> 11) / 9007199254740992.0;   /* [0, 1) */
            next += -log1p(-u) / LAT_RATE * 1e9;
        }
        client_poll(c, 0);
        if (i < n) {
            int64_t at = t0 + (int64_t)next;
            struct timespec ts = { (time_t)(at / 1000000000), (long)(at % 1000000000) };
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
    int drain = bench_ms_left(deadline);
    return client_flush(c, drain < LAT_DRAIN_MS ? drain : LAT_DRAIN_MS) &&
           client_all_delivered(c, n);
}

struct plan {
    int64_t msgs;                   /* per throughput run */
    double lat_secs;
};

/* One run on a fresh broker. */
static struct result run_one(enum side side, const struct row *row, const struct plan *pl,
                             const uint8_t *pool, uint64_t round_seed)
{
    struct result res = { .ok = false };
    struct bench_broker b;
    struct client c;
    if (broker_start(&b) != 0)
        return res;
    bool ok = client_new(&c, side, b.bootstrap, row) == 0;
    if (ok && !client_warm(&c, pool)) {
        fprintf(stderr, "bench_producer: %s: no first delivery within %d ms\n", side_name[side],
                START_MS);
        ok = false;
    }
    struct hist *h = NULL;
    if (ok && row->latency && (h = calloc(1, sizeof(*h))) == NULL) {
        fprintf(stderr, "bench_producer: out of memory\n");
        ok = false;
    }
    if (ok) {
        c.t.hist = h;
        int64_t n = row->latency ? (int64_t)(pl->lat_secs * LAT_RATE) : pl->msgs;
        double bcpu0 = bench_proc_cpu_s(b.pid), cpu0 = bench_self_cpu_s();
        int64_t t0 = bench_now_ns();
        ok = row->latency ? run_latency(&c, pool, n, round_seed) : run_throughput(&c, pool, n);
        res.secs = (double)(bench_now_ns() - t0) / 1e9;
        res.cpu_s = bench_self_cpu_s() - cpu0;
        res.broker_cpu_s = bench_proc_cpu_s(b.pid) - bcpu0;
        res.msgs = c.t.delivered;
        if (h && h->n) {
            res.p50_ms = h_quantile_ms(h, 0.50);
            res.p99_ms = h_quantile_ms(h, 0.99);
            res.p999_ms = h_quantile_ms(h, 0.999);
            res.max_ms = (double)h->max_us / 1e3;
        }
        res.ok = ok && bcpu0 >= 0 && res.msgs > 0;
    }
    if (c.kp || c.rk)
        client_destroy(&c);
    free(h);
    bench_broker_stop(&b, STOP_MS, !res.ok);
    return res;
}

/* --- output ----------------------------------------------------------------------------------- */

static void print_run(int run, enum side side, const struct result *r, bool latency,
                      const char *ratios)
{
    if (latency)
        printf("  %3d  %-6s %9.0f %7.3f %7.3f %7.3f %7.1f %7.3f %4.0f%% %7.3f  %s\n", run,
               side_name[side], rate(r), r->p50_ms, r->p99_ms, r->p999_ms, r->max_ms,
               cpu_per_m(r), 100 * r->cpu_s / r->secs, r->broker_cpu_s / (r->msgs / 1e6),
               ratios);
    else
        printf("  %3d  %-6s %9.0f %7.1f %6.2f %7.3f %4.0f%% %7.3f %4.0f%%  %s\n", run,
               side_name[side], rate(r), rate(r) * RECORD_BYTES / 1e6, r->secs, cpu_per_m(r),
               100 * r->cpu_s / r->secs, r->broker_cpu_s / (r->msgs / 1e6),
               100 * r->broker_cpu_s / r->secs, ratios);
}

static const char *verdict(bool pass) { return pass ? "PASS" : "MISS"; }

/* What the summary shows of a row: three measures of each run, the first two with a goal for
 * the ratio ours/theirs, the third for information. */
#define N_MEASURES 3
struct measure {
    const char *name;
    int decimals;
    int goal;                       /* +1: ratio >= 1.0 passes, -1: <= 1.0 passes, 0: none */
};
static const struct measure measures[2][N_MEASURES] = {
    { { "msgs/s", 0, +1 }, { "CPU s per M msgs (this process)", 3, -1 },
      { "broker CPU s per M msgs", 3, 0 } },
    { { "p50 delivery latency, ms", 3, -1 }, { "p99 delivery latency, ms", 3, -1 },
      { "CPU s per M msgs (this process)", 3, 0 } },
};

static double measure_of(const struct result *r, bool latency, int m)
{
    if (latency)
        return m == 0 ? r->p50_ms : m == 1 ? r->p99_ms : cpu_per_m(r);
    return m == 0 ? rate(r) : m == 1 ? cpu_per_m(r) : r->broker_cpu_s / ((double)r->msgs / 1e6);
}

/* Per row: each side's figures per run, and the ratios of the rounds where both ran. */
struct row_stats {
    double side[2][N_MEASURES][MAX_RUNS];
    int n_side[2];
    double ratio[N_MEASURES][MAX_RUNS];
    int n;
};

/* Records a round; writes the first two ratios to ratios ("" unless both sides ran). */
static void row_stats_add(struct row_stats *s, const struct result r[2], const bool ran[2],
                          bool latency, char *ratios, size_t size)
{
    bool both = true;
    for (int sd = 0; sd < 2; sd++) {
        both = both && ran[sd] && r[sd].ok;
        if (!ran[sd] || !r[sd].ok)
            continue;
        for (int m = 0; m < N_MEASURES; m++)
            s->side[sd][m][s->n_side[sd]] = measure_of(&r[sd], latency, m);
        s->n_side[sd]++;
    }
    ratios[0] = 0;
    if (!both)
        return;
    for (int m = 0; m < N_MEASURES; m++)
        s->ratio[m][s->n] = measure_of(&r[OURS], latency, m) / measure_of(&r[THEIRS], latency, m);
    snprintf(ratios, size, "%5.2fx  %5.2fx", s->ratio[0][s->n], s->ratio[1][s->n]);
    s->n++;
}

static void row_stats_print(const struct row_stats *s, const struct row *row)
{
    int title_len = (int)strcspn(row->title, ":");
    printf("  %.*s\n", title_len, row->title);
    for (int m = 0; m < N_MEASURES; m++) {
        const struct measure *me = &measures[row->latency][m];
        printf("     %-39s", me->name);
        for (int sd = 0; sd < 2; sd++) {
            if (s->n_side[sd])
                printf(" %9.*f", me->decimals, bench_median(s->side[sd][m], s->n_side[sd]));
            else
                printf(" %9s", "-");
        }
        if (s->n == 0) {
            printf("\n");
            continue;
        }
        double ratio = bench_median(s->ratio[m], s->n);
        if (me->goal == 0)
            printf(" %6.2fx  %-8s (info)\n", ratio, "");
        else
            printf(" %6.2fx  %-8s %s\n", ratio, me->goal > 0 ? ">= 1.0x" : "<= 1.0x",
                   verdict(me->goal > 0 ? ratio >= 1.0 : ratio <= 1.0));
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_producer [--runs 1..%d] [--msgs N] [--seed S] [--rows 1234]\n"
            "         [--side both|ours|theirs] [--latency-secs S] [--set key=value]...\n",
            MAX_RUNS);
}

int main(int argc, char **argv)
{
    int runs = DEFAULT_RUNS;
    struct plan pl = { DEFAULT_MSGS, LAT_SECS };
    bool want_row[N_ROWS] = { true, true, true, true };
    bool want_side[2] = { true, true };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(a, "--runs") == 0) {
            runs = atoi(v);
        } else if (strcmp(a, "--msgs") == 0) {
            pl.msgs = strtoll(v, NULL, 10);
        } else if (strcmp(a, "--seed") == 0) {
            seed = strtoull(v, NULL, 0);
        } else if (strcmp(a, "--latency-secs") == 0) {
            pl.lat_secs = strtod(v, NULL);
        } else if (strcmp(a, "--set") == 0 && strchr(v, '=') && n_sets < MAX_SETS) {
            sets[n_sets][0] = argv[i];
            sets[n_sets][1] = strchr(argv[i], '=') + 1;
            *strchr(argv[i], '=') = 0;
            n_sets++;
        } else if (strcmp(a, "--rows") == 0) {
            for (int r = 0; r < N_ROWS; r++)
                want_row[r] = strchr(v, '1' + r) != NULL;
        } else if (strcmp(a, "--side") == 0 && (strcmp(v, "both") == 0 ||
                                                strcmp(v, "ours") == 0 ||
                                                strcmp(v, "theirs") == 0)) {
            want_side[OURS] = strcmp(v, "theirs") != 0;
            want_side[THEIRS] = strcmp(v, "ours") != 0;
        } else {
            usage();
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || seed == 0 || pl.msgs < 1 || pl.msgs > 100000000 ||
        !(pl.lat_secs > 0 && pl.lat_secs <= 60)) {
        fprintf(stderr, "bench_producer: runs must be 1..%d, the seed not 0, msgs 1..1e8, "
                "latency-secs in (0, 60]\n", MAX_RUNS);
        return 2;
    }
    if (bench_mockbroker_path(mockbroker_path, sizeof(mockbroker_path), "bench_producer") != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);

    uint8_t *pool = malloc((size_t)POOL * RECORD_BYTES);
    if (pool == NULL) {
        fprintf(stderr, "bench_producer: out of memory\n");
        return 1;
    }
    uint64_t x = seed;
    bench_fill_text(pool, (size_t)POOL * RECORD_BYTES, &x);

    char ld[64];
    bench_loadavg(ld, sizeof(ld));
    int64_t start = bench_now_ns();
    printf("bench_producer: seed 0x%016" PRIx64 ", %d rounds, nproc %ld, load %s\n", seed, runs,
           sysconf(_SC_NPROCESSORS_ONLN), ld);
    printf("ours: libkproducer; theirs: librdkafka %s. Both in this process, one at a time,\n"
           "each run against a fresh %s (its own process: 1 broker, topic \"%s\" of %d\n"
           "partitions, retention %s bytes per partition). %d-byte values of seeded text from\n"
           "a pool of %d, null keys, the default partitioner; produce() copies the value,\n"
           "poll(0) every %d messages, poll(1) when the queue is full. Settings are given to\n"
           "both by librdkafka's names; the rest are defaults (the same in both). The clock\n"
           "starts after a first message is delivered and stops at the last report.\n"
           "CPU s/M: CPU seconds per million messages, of this process (producer threads and\n"
           "the loop feeding it) and of the broker; %%: CPU time / wall time. Rounds alternate\n"
           "ours, theirs / theirs, ours; the summary is the median of per-round ratios.\n",
           rd_kafka_version_str(), mockbroker_path, TOPIC, PARTITIONS, RETENTION, RECORD_BYTES,
           POOL, POLL_EVERY);

    for (int i = 0; i < n_sets; i++)
        printf("%s%s=%s%s", i ? " " : "--set, both sides: ", sets[i][0], sets[i][1],
               i + 1 == n_sets ? "\n" : "");
    printf("lz4 (row 3) makes a batch of 500 of these values %.0f%% of its plain size.\n",
           100 * batch_ratio(pool, 500, KW_CODEC_LZ4));

    int failures = 0, attempted = 0;
    struct row_stats st[N_ROWS];
    memset(st, 0, sizeof(st));
    for (int ri = 0; ri < N_ROWS; ri++) {
        if (!want_row[ri])
            continue;
        const struct row *row = &rows[ri];
        struct row_stats *s = &st[ri];
        printf("\n%s", row->title);
        if (row->latency)
            printf(": %d msgs/s for %.1f s (%.0f messages), latency\n"
                   "   from each message's scheduled arrival to its delivery report; ms.\n",
                   LAT_RATE, pl.lat_secs, pl.lat_secs * LAT_RATE);
        else
            printf(": %" PRId64 " messages per run.\n", pl.msgs);
        if (row->latency)
            printf("  %3s  %-6s %9s %7s %7s %7s %7s %7s %5s %7s  %s\n", "run", "side", "msgs/s",
                   "p50", "p99", "p99.9", "max", "CPU s/M", "clnt", "brkr/M",
                   "ours/theirs: p50, p99");
        else
            printf("  %3s  %-6s %9s %7s %6s %7s %5s %7s %5s  %s\n", "run", "side", "msgs/s",
                   "MB/s", "secs", "CPU s/M", "clnt", "brkr/M", "brkr",
                   "ours/theirs: msgs/s, CPU/msg");
        for (int i = 0; i < runs; i++) {
            struct result r[2];
            bool ran[2] = { false, false };
            uint64_t round_seed = seed + (uint64_t)i * 0x9E3779B97F4A7C15ull;
            for (int j = 0; j < 2; j++) {
                enum side sd = (i + j) % 2 ? THEIRS : OURS;
                if (!want_side[sd])
                    continue;
                attempted++;
                r[sd] = run_one(sd, row, &pl, pool, round_seed);
                ran[sd] = true;
                if (!r[sd].ok) {
                    printf("  %3d  %-6s failed (see the messages above)\n", i + 1,
                           side_name[sd]);
                    failures++;
                }
            }
            char ratios[64];
            row_stats_add(s, r, ran, row->latency, ratios, sizeof(ratios));
            for (int sd = 0; sd < 2; sd++)
                if (ran[sd] && r[sd].ok)
                    print_run(i + 1, (enum side)sd, &r[sd], row->latency,
                              sd == OURS ? ratios : "");
            fflush(stdout);
        }
    }

    bench_loadavg(ld, sizeof(ld));
    printf("\nsummary: medians over %d rounds, %.0f s, load now %s\n", runs,
           (double)(bench_now_ns() - start) / 1e9, ld);
    printf("  %-42s %9s %9s %7s  %-8s %s\n", "measure", "ours", "theirs", "ratio", "goal",
           "result");
    for (int ri = 0; ri < N_ROWS; ri++)
        if (want_row[ri])
            row_stats_print(&st[ri], &rows[ri]);
    if (failures)
        printf("  %d of %d runs FAILED (see the messages above)\n", failures, attempted);
    free(pool);
    return failures ? 1 : 0;
}
