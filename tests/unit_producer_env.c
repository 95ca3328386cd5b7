/* The producer suites' environment: see unit_producer_env.h. */
#include "tests/unit_producer_env.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/proto/apis.h"
#include "tests/unit_producer_proxy.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_bytes(char *dst, size_t cap, size_t *len, bool *null, const void *src, size_t n)
{
    *null = src == NULL;
    *len = n;
    memset(dst, 0, cap);
    if (src)
        memcpy(dst, src, n < cap - 1 ? n : cap - 1);
}

static void dr_cb(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    struct pt_env *e = opaque;
    if (e->n_drs == e->cap_drs) {
        size_t cap = e->cap_drs ? e->cap_drs * 2 : 64;
        struct pt_dr *n = realloc(e->drs, cap * sizeof(*n));
        if (n == NULL)
            abort();
        e->drs = n;
        e->cap_drs = cap;
    }
    struct pt_dr *d = &e->drs[e->n_drs++];
    memset(d, 0, sizeof(*d));
    snprintf(d->topic, sizeof(d->topic), "%s", r->topic);
    d->partition = r->partition;
    d->offset = r->offset;
    d->timestamp = r->timestamp;
    d->ts_type = r->timestamp_type;
    d->err = r->err;
    d->cause = r->cause;
    d->status = r->status;
    copy_bytes(d->key, sizeof(d->key), &d->key_len, &d->key_null, r->key, r->key_len);
    copy_bytes(d->value, sizeof(d->value), &d->value_len, &d->value_null, r->value, r->value_len);
    d->opaque = (uintptr_t)r->opaque;
    snprintf(d->errstr, sizeof(d->errstr), "%s", r->errstr);
}

static void error_cb(struct kp_producer *p, int err, const char *reason, void *opaque)
{
    (void)p;
    struct pt_env *e = opaque;
    if (e->n_errs < 32) {
        e->errs[e->n_errs] = err;
        snprintf(e->err_reasons[e->n_errs], sizeof(e->err_reasons[0]), "%s", reason);
        e->n_errs++;
    }
}

static void log_cb(const struct kp_producer *p, int level, const char *ctx, const char *line,
                   void *opaque)
{
    (void)p;
    struct pt_env *e = opaque;
    if (level <= KP_LOG_WARNING)
        e->n_warnings++;
    if (strstr(line, ": connecting"))
        e->n_connects++;
    if (level >= KP_LOG_DEBUG)
        e->n_debug++;
    snprintf(e->last_log, sizeof(e->last_log), "%s: %s", ctx, line);
    if (getenv("KWT_PRODUCER_LOG"))
        fprintf(stderr, "[%lld] %d|%s| %s\n", e->vc ? (long long)pt_now_ms(e) : -1LL, level,
                ctx, line);
}

static void mb_log(void *opaque, int level, const char *line)
{
    (void)opaque;
    if (getenv("KWT_PRODUCER_LOG"))
        fprintf(stderr, "mock %d: %s\n", level, line);
}

int pt_start(struct pt_env *e, int brokers, bool auto_create)
{
    memset(e, 0, sizeof(*e));
    /* The loop runs on this thread and writes to sockets a peer may have closed. */
    signal(SIGPIPE, SIG_IGN);
    e->base = event_base_new();
    e->vc = kw_vclock_new(PT_START_US);
    if (e->base == NULL || e->vc == NULL)
        return -1;
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = brokers;
    cfg.seed = PT_SEED;
    cfg.base = e->base;
    cfg.clock = kw_vclock_clock(e->vc);
    cfg.auto_create = auto_create;
    cfg.log_level = getenv("KWT_PRODUCER_LOG") ? MB_LOG_DEBUG : MB_LOG_ERROR;
    cfg.log_cb = mb_log;
    char err[256] = "";
    e->c = mb_cluster_new(&cfg, err, sizeof(err));
    if (e->c == NULL) {
        fprintf(stderr, "mb_cluster_new: %s\n", err);
        return -1;
    }
    return 0;
}

struct kp_producer *pt_producer_at(struct pt_env *e, const char *bootstrap, const char *const *kv)
{
    struct kp_conf *conf = kp_conf_new();
    char err[512];
    if (conf == NULL)
        return NULL;
    kp_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    kp_conf_set(conf, "kp.seed", "7", err, sizeof(err));
    if (getenv("KWT_PRODUCER_LOG"))
        kp_conf_set(conf, "debug", "all", err, sizeof(err));
    for (size_t i = 0; kv && kv[i]; i += 2) {
        if (kp_conf_set(conf, kv[i], kv[i + 1], err, sizeof(err)) != KP_CONF_OK) {
            fprintf(stderr, "kp_conf_set %s=%s: %s\n", kv[i], kv[i + 1], err);
            kp_conf_destroy(conf);
            return NULL;
        }
    }
    kp_conf_set_dr_cb(conf, dr_cb);
    kp_conf_set_error_cb(conf, error_cb);
    kp_conf_set_log_cb(conf, log_cb);
    kp_conf_set_opaque(conf, e);
    kp_conf_set_event_base(conf, e->base, kw_vclock_clock(e->vc));
    e->p = kp_producer_new(conf, err, sizeof(err));
    if (e->p == NULL)
        fprintf(stderr, "kp_producer_new: %s\n", err);
    kp_conf_destroy(conf);
    return e->p;
}

struct kp_producer *pt_producer(struct pt_env *e, const char *const *kv)
{
    return pt_producer_at(e, mb_cluster_bootstrap(e->c), kv);
}

static void expire_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

/* One loop iteration that may wait (real time) up to ms for I/O. */
static void loop_once(struct pt_env *e, int ms)
{
    bool expired = false;
    struct event *t = evtimer_new(e->base, expire_cb, &expired);
    struct timeval tv = { 0, ms * 1000 };
    evtimer_add(t, &tv);
    event_base_loop(e->base, EVLOOP_ONCE);
    event_free(t);
}

static bool busy(struct pt_env *e)
{
    struct kp_stats st;
    if (e->p == NULL)
        return false;
    kp_producer_stats(e->p, &st);
    /* In flight, unless the proxy is sitting on it on purpose (an ApiVersions it swallowed
     * keeps a connection "connecting"). */
    int stuck = e->px ? px_stuck(e->px) : 0;
    return st.requests_inflight > stuck || (st.brokers_connecting > 0 && stuck == 0);
}

/* True once nothing observable (journal, producer counters, reports) changed over two rounds
 * of real-time waiting: with withheld_ok, the mock is then withholding on purpose and only
 * virtual time (or the test) can move things. Loopback I/O in progress changes one of these
 * within a round; an answer split into many pieces with no interval may not, so split rules in
 * such tests need an interval. */
static bool stalled(struct pt_env *e)
{
    if (!e->withheld_ok)
        return false;
    uint64_t mark[8] = { 0 };
    struct kp_stats st;
    if (e->p) {
        kp_producer_stats(e->p, &st);
        mark[0] = (uint64_t)st.requests_inflight;
        mark[1] = (uint64_t)st.produce_requests;
        mark[2] = (uint64_t)st.brokers_up;
        mark[3] = (uint64_t)st.brokers_connecting;
        mark[4] = (uint64_t)st.msgs_queued;
    }
    if (e->c) {
        struct mb_journal_stats js;
        mb_journal_stats(e->c, &js);
        mark[5] = js.total;
    }
    mark[6] = e->n_drs;
    mark[7] = (uint64_t)e->n_errs;
    if (memcmp(mark, e->quiet_mark, sizeof(mark)) != 0) {
        memcpy(e->quiet_mark, mark, sizeof(mark));
        e->quiet_rounds = 0;
        return false;
    }
    return ++e->quiet_rounds >= 2;
}

bool pt_run(struct pt_env *e, pt_cond cond, void *arg, int64_t max_virtual_ms)
{
    int64_t real_deadline = mono_ms() + 10000;
    int64_t virt_deadline = kw_now_us(kw_vclock_clock(e->vc)) + max_virtual_ms * 1000;
    for (;;) {
        /* Loopback I/O between producer and cluster takes a few loop turns, write to read to
         * answer; while a request is in flight, wait for it for real. */
        for (int i = 0; i < 3; i++) {
            if (e->p)
                kp_producer_poll(e->p, 0);
            else
                event_base_loop(e->base, EVLOOP_NONBLOCK);
            if (cond(e, arg))
                return true;
        }
        if (mono_ms() > real_deadline)
            return false;
        if (busy(e) && !stalled(e)) {
            loop_once(e, 20);
            continue;
        }
        int64_t next = kw_vclock_next_deadline(e->vc);
        if (next < 0 || next > virt_deadline) {
            if (getenv("KWT_PRODUCER_LOG"))
                fprintf(stderr, "pt_run: stops at %lld ms, next timer %lld\n",
                        (long long)pt_now_ms(e), (long long)next);
            return cond(e, arg);
        }
        kw_vclock_run_next(e->vc);
        e->quiet_rounds = 0;
    }
}

static bool drs_reached(struct pt_env *e, void *arg)
{
    return e->n_drs >= *(size_t *)arg;
}

bool pt_until_drs(struct pt_env *e, size_t n, int64_t max_virtual_ms)
{
    return pt_run(e, drs_reached, &n, max_virtual_ms);
}

void pt_settle(struct pt_env *e)
{
    int64_t real_deadline = mono_ms() + 5000;
    for (int quiet = 0; quiet < 3 && mono_ms() < real_deadline;) {
        if (e->p)
            kp_producer_poll(e->p, 0);
        event_base_loop(e->base, EVLOOP_NONBLOCK);
        if (busy(e) && !stalled(e)) {
            quiet = 0;
            loop_once(e, 20);
        } else {
            quiet++;
            loop_once(e, 1);
        }
    }
    if (e->p)
        kp_producer_poll(e->p, 0);
}

void pt_advance(struct pt_env *e, int64_t ms)
{
    kw_vclock_advance(e->vc, ms * 1000);
    pt_settle(e);
}

int pt_produce(struct pt_env *e, const char *topic, int32_t partition, const char *key,
               const char *value)
{
    static uintptr_t counter;
    return kp_producer_produce(e->p, topic, partition, 0, key, key ? strlen(key) : 0, value,
                               value ? strlen(value) : 0, NULL, 0, 0, (void *)++counter);
}

struct px *pt_proxy(struct pt_env *e, int brokers)
{
    e->px = px_new(e->base, e->c, brokers);
    return e->px;
}

void pt_stop(struct pt_env *e)
{
    kp_producer_destroy(e->p);
    e->p = NULL;
    px_destroy(e->px);
    e->px = NULL;
    mb_cluster_destroy(e->c);
    e->c = NULL;
    kw_vclock_destroy(e->vc);
    e->vc = NULL;
    if (e->base)
        event_base_free(e->base);
    e->base = NULL;
    free(e->drs);
    e->drs = NULL;
    e->n_drs = e->cap_drs = 0;
}

int64_t pt_now_ms(struct pt_env *e)
{
    return (kw_now_us(kw_vclock_clock(e->vc)) - PT_START_US) / 1000;
}

size_t pt_count_err(const struct pt_env *e, int err)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n_drs; i++)
        n += e->drs[i].err == err;
    return n;
}

bool pt_log_is(struct pt_env *e, const char *topic, int partition, const char *const *values,
               size_t n)
{
    struct mb_records *r = mb_partition_records(e->c, topic, partition, 0, 0);
    bool ok = r != NULL && r->count == n;
    for (size_t i = 0; ok && i < n; i++) {
        const struct mb_record *rec = &r->records[i];
        ok = rec->value != NULL && (size_t)rec->value_len == strlen(values[i]) &&
             memcmp(rec->value, values[i], strlen(values[i])) == 0;
    }
    if (!ok && getenv("KWT_PRODUCER_LOG")) {
        fprintf(stderr, "log of %s-%d: %zu records, expected %zu\n", topic, partition,
                r ? r->count : 0, n);
        for (size_t i = 0; r && i < r->count; i++)
            fprintf(stderr, "  %lld: %.*s\n", (long long)r->records[i].offset,
                    r->records[i].value_len, (const char *)r->records[i].value);
    }
    mb_records_destroy(r);
    return ok;
}

uint64_t pt_produce_requests(struct pt_env *e)
{
    return mb_request_count(e->c, -1, KW_API_PRODUCE);
}
