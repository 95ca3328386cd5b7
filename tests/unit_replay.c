/* Every scenario in fixtures/scenarios/, with its workload, run by our producer against the mock
 * cluster on one event_base and one virtual clock, twice: the two journals must be byte-identical
 * and the topic's log must show what the scenario's "expect" block says. Time moves only when
 * the loop has nothing left to do, to the next timer, so timeouts, linger, backoff, follower lag
 * and delayed answers take the same path in every run and no test waits for them.
 *
 * KWT_REPLAY_LOG=1 prints the producer's and the cluster's logs; KWT_REPLAY_JOURNAL=1 prints each
 * fixture's journal. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"
#include "tests/fx.h"

/* Both runs must start at the same virtual instant: the journal's times and the messages'
 * timestamps come from it. Any fixed value does; this one is November 2023 in microseconds. */
#define START_US INT64_C(1700000000000000)
#define DEFAULT_SEED 1              /* for a scenario without "seed": 0 would pick a random one */
#define MAX_VIRTUAL_MS (10 * 60 * 1000)
#define MAX_STEPS 200000            /* clock jumps per run */
#define QUIET_PASSES 3
#define MAX_PASSES 100000           /* loop passes between two clock jumps */
#define REAL_LIMIT_MS 60000         /* per run: a livelock fails instead of hanging the suite */
#define MAX_ERRS 8

struct err_count {
    int err;
    int64_t n;
};

struct run {
    const struct mb_workload *w;
    struct event_base *base;
    struct kw_vclock *vc;
    struct mb_cluster *c;
    struct kp_producer *p;
    uint8_t *reports;           /* per message: how many delivery reports it got */
    int64_t delivered, failed, refused, unknown_reports;
    struct err_count errs[MAX_ERRS];
    int n_errs;
    uint64_t frames_out, frames_in;
    int64_t steps;
    int64_t virtual_ms;         /* from the first produce to the last report */
    int64_t real_ms;
    bool complete;              /* every message reported before the bounds */
    int64_t reported;           /* reports when driving stopped (destroy purges the rest) */
    const char *stop;           /* why driving stopped short */
    struct kp_stats stats;      /* just before destroy */
    int verify_rc;
    char verify_err[256];
    struct mb_tally tally;
    char *journal;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool verbose(void)
{
    return getenv("KWT_REPLAY_LOG") != NULL;
}

static void count_err(struct run *r, int err)
{
    for (int i = 0; i < r->n_errs; i++)
        if (r->errs[i].err == err) {
            r->errs[i].n++;
            return;
        }
    if (r->n_errs < MAX_ERRS)
        r->errs[r->n_errs++] = (struct err_count){ err, 1 };
}

static void dr_cb(struct kp_producer *p, const struct kp_report *rep, void *opaque)
{
    (void)p;
    struct run *r = opaque;
    /* The opaque is the message index + 1, so a report for no message (NULL) is caught. */
    uintptr_t i = (uintptr_t)rep->opaque;
    if (i == 0 || (int64_t)i > r->w->messages) {
        r->unknown_reports++;
        return;
    }
    if (r->reports[i - 1] < UINT8_MAX)
        r->reports[i - 1]++;
    if (rep->err == 0) {
        r->delivered++;
    } else {
        r->failed++;
        count_err(r, rep->err);
    }
}

static void trace_cb(struct kp_producer *p, int direction, int broker_id, const uint8_t *frame,
                     size_t len, int api_key, int api_version, void *opaque)
{
    (void)p, (void)broker_id, (void)frame, (void)len, (void)api_key, (void)api_version;
    struct run *r = opaque;
    if (direction == 0)
        r->frames_out++;
    else
        r->frames_in++;
}

static void kp_log(const struct kp_producer *p, int level, const char *ctx, const char *line,
                   void *opaque)
{
    (void)p, (void)opaque;
    if (verbose())
        fprintf(stderr, "  kp %d|%s| %s\n", level, ctx, line);
}

static void mb_log(void *opaque, int level, const char *line)
{
    (void)opaque;
    if (verbose())
        fprintf(stderr, "  mb %d: %s\n", level, line);
}

/* librdkafka settings the fixtures may carry and our producer does not have (none now). */
static const char *const skipped_keys[] = {
    NULL,
};

static bool skipped(const char *key)
{
    for (int i = 0; skipped_keys[i]; i++)
        if (strcmp(key, skipped_keys[i]) == 0)
            return true;
    return false;
}

static bool conf_set(struct kp_conf *conf, const char *origin, const char *key, const char *value)
{
    char why[512];
    int rc = kp_conf_set(conf, key, value, why, sizeof(why));
    if (rc == KP_CONF_UNKNOWN && skipped(key))
        return true;
    if (rc != KP_CONF_OK)
        fprintf(stderr, "replay %s: %s=%s refused: %s\n", origin, key, value, why);
    return rc == KP_CONF_OK;
}

/* The workload's settings, then `extra` (NULL-terminated key/value pairs), on the run's loop
 * and clock. NULL if a setting was refused or the producer would not start. */
static struct kp_producer *producer_new(struct run *r, const struct mb_scenario *s,
                                        const char *const *extra)
{
    struct kp_conf *conf = kp_conf_new();
    char seed[32], err[512];
    bool ok = conf != NULL;
    snprintf(seed, sizeof(seed), "%" PRIu64, mb_cluster_seed(r->c));
    ok = ok && conf_set(conf, s->origin, "bootstrap.servers", mb_cluster_bootstrap(r->c));
    /* Jitter and partitioner choices: fixed, as the cluster's. */
    ok = ok && conf_set(conf, s->origin, "kp.seed", seed);
    if (ok && verbose())
        ok = conf_set(conf, s->origin, "debug", "all");
    for (int i = 0; ok && i < r->w->n_config; i++)
        ok = conf_set(conf, s->origin, r->w->config[i].key, r->w->config[i].value);
    for (size_t i = 0; ok && extra && extra[i]; i += 2)
        ok = conf_set(conf, s->origin, extra[i], extra[i + 1]);
    struct kp_producer *p = NULL;
    if (ok) {
        kp_conf_set_dr_cb(conf, dr_cb);
        kp_conf_set_trace_cb(conf, trace_cb);
        kp_conf_set_log_cb(conf, kp_log);
        kp_conf_set_opaque(conf, r);
        kp_conf_set_event_base(conf, r->base, kw_vclock_clock(r->vc));
        p = kp_producer_new(conf, err, sizeof(err));
        if (p == NULL)
            fprintf(stderr, "replay %s: kp_producer_new: %s\n", s->origin, err);
    }
    kp_conf_destroy(conf);
    return p;
}

/* Whatever the loop can change that matters to what happens next. */
enum { P_JOURNAL, P_OUT, P_IN, P_REPORTS, P_QUEUED, P_INFLIGHT, P_UP, P_CONNECTING, P_PRODUCE,
       P_RETRIES, P_N };

static void progress(struct run *r, int64_t *v)
{
    struct mb_journal_stats js;
    mb_journal_stats(r->c, &js);
    v[P_JOURNAL] = (int64_t)js.total;
    v[P_OUT] = (int64_t)r->frames_out;
    v[P_IN] = (int64_t)r->frames_in;
    v[P_REPORTS] = r->delivered + r->failed;
    struct kp_stats st;
    memset(&st, 0, sizeof(st));
    if (r->p)
        kp_producer_stats(r->p, &st);
    v[P_QUEUED] = st.msgs_queued;
    v[P_INFLIGHT] = st.requests_inflight;
    v[P_UP] = st.brokers_up;
    v[P_CONNECTING] = st.brokers_connecting;
    v[P_PRODUCE] = st.produce_requests;
    v[P_RETRIES] = st.retries;
}

/* Runs the loop until QUIET_PASSES passes in a row change nothing. Producer and cluster talk
 * over loopback on this one thread, and loopback hands a write to the peer's socket before
 * write() returns, so a pass that finds nothing ready means nothing is on its way. More than
 * one pass: a pass may only queue work for the next (the producer's wake event, a
 * bufferevent's pending write, a connection the cluster has just accepted). False if the loop
 * never went quiet. */
static bool settle(struct run *r)
{
    int64_t before[P_N], after[P_N];
    int quiet = 0;
    progress(r, before);
    for (int i = 0; i < MAX_PASSES && quiet < QUIET_PASSES; i++) {
        if (r->p)
            kp_producer_poll(r->p, 0);
        else
            event_base_loop(r->base, EVLOOP_NONBLOCK);
        progress(r, after);
        quiet = memcmp(before, after, sizeof(before)) == 0 ? quiet + 1 : 0;
        memcpy(before, after, sizeof(before));
    }
    return quiet >= QUIET_PASSES;
}

/* Loop and clock until every message has its report: I/O first; when the loop is quiet, time
 * jumps to the next timer. */
static void drive(struct run *r)
{
    struct kw_clock *clock = kw_vclock_clock(r->vc);
    int64_t t0 = kw_now_us(clock), real0 = mono_ms();
    int64_t end = t0 + (int64_t)MAX_VIRTUAL_MS * 1000;
    for (;;) {
        bool quiet = settle(r);
        int64_t next = kw_vclock_next_deadline(r->vc);
        if (r->delivered + r->failed >= r->w->messages)
            r->complete = true;
        else if (!quiet)
            r->stop = "the loop never went quiet";
        else if (r->steps >= MAX_STEPS || mono_ms() - real0 > REAL_LIMIT_MS)
            r->stop = "too many steps";
        else if (next < 0)
            r->stop = "no timer left to wait for";
        else if (next > end)
            r->stop = "out of virtual time";
        if (r->complete || r->stop)
            break;
        kw_vclock_run_next(r->vc);
        r->steps++;
    }
    r->reported = r->delivered + r->failed;
    r->virtual_ms = (kw_now_us(clock) - t0) / 1000;
    r->real_ms = mono_ms() - real0;
}

static void produce_all(struct run *r)
{
    const struct mb_workload *w = r->w;
    size_t vcap = (size_t)w->value_size + 1, kcap = (size_t)w->key_size + 1;
    uint8_t *value = malloc(vcap), *key = malloc(kcap);
    /* The virtual clock, not the wall clock, stamps the messages: record batches then repeat
     * byte for byte. */
    int64_t ts = kw_now_us(kw_vclock_clock(r->vc)) / 1000;
    int32_t part = w->partition == MB_ANY ? KP_PARTITION_UA : w->partition;
    for (int64_t i = 0; value && key && i < w->messages; i++) {
        size_t vlen = mb_workload_value(w, i, value, vcap);
        size_t klen = w->key_size > 0 ? mb_workload_key(w, i, key, kcap) : 0;
        int rc = kp_producer_produce(r->p, w->topic, part, KP_MSG_COPY,
                                     w->key_size > 0 ? key : NULL, klen, value, vlen, NULL, 0,
                                     ts, (void *)(uintptr_t)(i + 1));
        if (rc != 0) {
            r->refused++;
            count_err(r, rc);
        }
    }
    CU_ASSERT(value != NULL && key != NULL);
    free(value);
    free(key);
}

/* One run of s's workload, its outcome in *r (to release with run_release). extra: more
 * producer settings, NULL-terminated pairs, or NULL. */
static void replay(const struct mb_scenario *s, const char *const *extra, struct run *r)
{
    char err[512] = "";
    memset(r, 0, sizeof(*r));
    r->w = s->workload;
    r->reports = calloc((size_t)r->w->messages, 1);
    r->base = event_base_new();
    r->vc = kw_vclock_new(START_US);
    if (r->reports == NULL || r->base == NULL || r->vc == NULL) {
        CU_FAIL("out of memory");
        return;
    }
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.seed = DEFAULT_SEED;
    mb_scenario_config(s, &cfg);
    cfg.base = r->base;
    cfg.clock = kw_vclock_clock(r->vc);
    cfg.log_level = verbose() ? MB_LOG_DEBUG : MB_LOG_ERROR;
    cfg.log_cb = mb_log;
    r->c = mb_cluster_new(&cfg, err, sizeof(err));
    if (r->c == NULL || mb_scenario_apply(r->c, s, err, sizeof(err)) != 0) {
        fprintf(stderr, "replay %s: %s\n", s->origin, err);
        CU_FAIL("the scenario did not start");
        return;
    }
    r->p = producer_new(r, s, extra);
    CU_ASSERT_PTR_NOT_NULL(r->p);
    if (r->p == NULL)
        return;
    produce_all(r);
    drive(r);
    kp_producer_flush(r->p, 0);
    kp_producer_stats(r->p, &r->stats);
    kp_producer_destroy(r->p);
    r->p = NULL;
    /* The cluster sees the producer's connections close: part of the journal, so settled. */
    settle(r);
    r->verify_rc = mb_workload_verify(r->c, r->w, r->delivered, r->failed, &r->tally,
                                      r->verify_err, sizeof(r->verify_err));
    r->journal = mb_journal_render(r->c, 0, MB_JOURNAL_JSONL);
    CU_ASSERT_PTR_NOT_NULL(r->journal);
    /* Ports are ephemeral, so they must stay out of what is compared. */
    for (int id = 1; r->journal && mb_broker_port(r->c, id) >= 0; id++) {
        char num[3][24];
        int port = mb_broker_port(r->c, id);
        snprintf(num[0], sizeof(num[0]), ":%d,", port);
        snprintf(num[1], sizeof(num[1]), ":%d}", port);
        snprintf(num[2], sizeof(num[2]), "\"%d\"", port);
        for (int k = 0; k < 3; k++)
            if (strstr(r->journal, num[k])) {
                fprintf(stderr, "replay %s: the journal holds port %d\n", s->origin, port);
                CU_FAIL("the journal holds a broker port");
            }
    }
}

static void run_release(struct run *r)
{
    kp_producer_destroy(r->p);
    mb_cluster_destroy(r->c);
    kw_vclock_destroy(r->vc);
    if (r->base)
        event_base_free(r->base);
    free(r->reports);
    free(r->journal);
    memset(r, 0, sizeof(*r));
}

/* Prints the first line where a and b differ; true if they are identical. */
static bool same_journal(const char *origin, const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    if (strcmp(a, b) == 0)
        return true;
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++, b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    fprintf(stderr, "replay %s: the journals differ at line %d:\n  first:  %.*s\n  second: %.*s\n",
            origin, line, na, la, nb, lb);
    return false;
}

static void describe_errs(const struct run *r, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->n_errs && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%" PRId64 " %s", i ? ", " : " (",
                              r->errs[i].n, kp_err2name(r->errs[i].err));
    if (r->n_errs && n < size)
        snprintf(buf + n, size - n, ")");
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* The checks each run must pass on its own, whatever the other run did. */
static void check_run(const struct mb_scenario *s, const struct run *r)
{
    const char *name = s->origin;
    CU_ASSERT_EQUAL(r->refused, 0);
    CU_ASSERT_EQUAL(r->unknown_reports, 0);
    CU_ASSERT(r->complete);
    if (!r->complete)
        fprintf(stderr, "replay %s: %" PRId64 " of %" PRId64 " reports after %" PRId64
                " ms virtual, %" PRId64 " steps: %s\n", name, r->reported, r->w->messages,
                r->virtual_ms, r->steps, r->stop ? r->stop : "not started");
    /* The scenario's own bound for the whole run, in its virtual time. */
    CU_ASSERT(r->virtual_ms <= r->w->timeout_ms);
    int64_t not_once = 0;
    for (int64_t i = 0; r->reports && i < r->w->messages; i++)
        not_once += r->reports[i] != 1;
    CU_ASSERT_EQUAL(not_once, 0);   /* one report per message, purges included */
    CU_ASSERT_EQUAL(r->verify_rc, 0);
    if (r->verify_rc != 0)
        fprintf(stderr, "replay %s: expectation failed: %s\n", name, r->verify_err);
}

static void print_outcome(const struct mb_scenario *s, const struct run *r, bool same)
{
    const char *base = strrchr(s->origin, '/');
    char errs[256];
    describe_errs(r, errs, sizeof(errs));
    fprintf(stderr, "replay %-32s %3" PRId64 " delivered, %2" PRId64 " failed%s; log %3" PRId64
            " records, %" PRId64 " duplicates, %" PRId64 " missing, %" PRId64 " out of order; %"
            PRId64 " Produce requests, %" PRId64 " retries, %" PRId64 " epoch bumps; %" PRId64
            ".%03" PRId64 " s virtual in %" PRId64 " ms, %" PRId64 " steps; journal %zu lines %s\n",
            base ? base + 1 : s->origin, r->delivered, r->failed, errs, r->tally.log_records,
            r->tally.duplicates, r->tally.missing, r->tally.out_of_order, r->stats.produce_requests,
            r->stats.retries, r->stats.epoch_bumps, r->virtual_ms / 1000, r->virtual_ms % 1000,
            r->real_ms, r->steps, count_lines(r->journal), same ? "identical" : "DIFFERENT");
}

/* Both runs of s; the first one's outcome stays in *first for the caller (to release). */
static bool replay_twice(const struct mb_scenario *s, const char *const *extra, struct run *first)
{
    struct run second;
    replay(s, extra, first);
    replay(s, extra, &second);
    bool same = same_journal(s->origin, first->journal, second.journal);
    CU_ASSERT(same);
    check_run(s, first);
    check_run(s, &second);
    /* Identical journals with different reports would mean the producer's side is not. */
    CU_ASSERT(first->delivered == second.delivered && first->failed == second.failed);
    print_outcome(s, first, same);
    if (getenv("KWT_REPLAY_JOURNAL") && first->journal)
        fputs(first->journal, stderr);
    run_release(&second);
    return same;
}

static int json_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

static void test_every_fixture_scenario_replays_to_the_same_journal_and_meets_its_expectations(void)
{
    char dir[512];
    struct dirent **names = NULL;
    snprintf(dir, sizeof(dir), "%s/scenarios", fx_dir());
    /* The loop writes to sockets the peer may have closed, on this thread. */
    signal(SIGPIPE, SIG_IGN);
    /* Sorted, so the lines on stderr come in the same order on every machine. */
    int n = scandir(dir, &names, json_file, alphasort);
    CU_ASSERT_FATAL(n > 0);
    int with_workload = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], err[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        free(names[i]);
        struct mb_scenario *s = mb_scenario_load(path, err, sizeof(err));
        CU_ASSERT_PTR_NOT_NULL(s);
        if (s == NULL) {
            fprintf(stderr, "replay: %s\n", err);
            continue;
        }
        if (s->workload) {
            struct run r;
            with_workload++;
            replay_twice(s, NULL, &r);
            run_release(&r);
        }
        mb_scenario_destroy(s);
    }
    free(names);
    CU_ASSERT(with_workload >= 11);     /* the fixtures as of this suite, each with a workload */
}

static void test_a_thirty_second_request_timeout_passes_in_virtual_time_the_same_way_twice(void)
{
    char path[1024], err[512];
    snprintf(path, sizeof(path), "%s/scenarios/lost_ack_idempotent.json", fx_dir());
    signal(SIGPIPE, SIG_IGN);
    struct mb_scenario *s = mb_scenario_load(path, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* The lost answer now costs Kafka's default request timeout; the scenario's own bound of
     * the run would not hold, hence the larger delivery timeout and the checks below. */
    static const char *const slow[] = { "request.timeout.ms", "30000",
                                        "socket.timeout.ms", "30000",
                                        "message.timeout.ms", "120000", NULL };
    struct mb_workload w = *s->workload;
    w.timeout_ms = 120000;
    struct mb_scenario copy = *s;
    copy.workload = &w;
    struct run r;
    CU_ASSERT(replay_twice(&copy, slow, &r));
    /* The retry waited out the whole timeout, yet the run took no real 30 s. */
    CU_ASSERT(r.complete && r.virtual_ms >= 30000 && r.virtual_ms < 60000);
    CU_ASSERT(r.real_ms < 15000);
    CU_ASSERT(r.stats.retries >= 1 && r.tally.duplicates == 0 && r.tally.missing == 0);
    run_release(&r);
    mb_scenario_destroy(s);
}

CU_TestInfo kwt_replay_tests[] = {
    { "every fixture scenario replays to the same journal and meets its expectations",
      test_every_fixture_scenario_replays_to_the_same_journal_and_meets_its_expectations },
    { "a thirty second request timeout passes in virtual time the same way twice",
      test_a_thirty_second_request_timeout_passes_in_virtual_time_the_same_way_twice },
    CU_TEST_INFO_NULL,
};
