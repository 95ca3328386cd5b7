/* The producer's life cycle: start (own thread or the caller's loop), the scheduler every event
 * ends in, produce(), poll(), flush(), destroy. */
#include "producer/internal.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/errors.h"
#include "lib/ev/clock_ev.h"

/* Batches kept for reuse: their buffers already have the capacity a busy partition needs. */
#define FREE_BATCHES_MAX 16
/* Headers converted on the stack up to this many. */
#define STACK_HEADERS 16

static const char *ctx_name(uint32_t ctx)
{
    static const char *const names[] = { "generic", "broker", "topic", "metadata", "feature",
                                          "queue", "msg", "protocol", "security", "eos", "conf" };
    for (int i = 0; i < 11; i++)
        if (ctx == 1u << i)
            return names[i];
    return "generic";
}

void kp__log(const struct kp_producer *p, int level, uint32_t ctx, const char *fmt, ...)
{
    if (level >= KP_LOG_DEBUG && !(p->conf.v.debug & ctx))
        return;                 /* debug lines only for the contexts asked for */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (p->conf.log_cb) {
        p->conf.log_cb(p, level, ctx_name(ctx), line, p->conf.opaque);
        return;
    }
    fprintf(stderr, "%%%d|kproducer|%s| %s\n", level, ctx_name(ctx), line);
}

int64_t kp__now(const struct kp_producer *p)
{
    return kw_now_us(p->clock);
}

int64_t kp__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: small, fast, and the same sequence for the same kp.seed. */
uint64_t kp__rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void kp__wake_locked(struct kp_producer *p)
{
    if (p->wake_pending || p->wake_ev == NULL)
        return;
    p->wake_pending = true;
    event_active(p->wake_ev, EV_TIMEOUT, 0);
}

void kp__wake(struct kp_producer *p)
{
    pthread_mutex_lock(&p->lock);
    kp__wake_locked(p);
    pthread_mutex_unlock(&p->lock);
}

static void queue_event(struct kp_producer *p, int err, const char *reason)
{
    struct kp__event *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return;
    e->err = err;
    snprintf(e->reason, sizeof(e->reason), "%s", reason);
    pthread_mutex_lock(&p->lock);
    if (p->events_tail)
        p->events_tail->next = e;
    else
        p->events = e;
    p->events_tail = e;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void kp__error_event(struct kp_producer *p, int err, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    kp__log(p, KP_LOG_ERR, KP__DBG_GENERIC, "%s: %s", kp_err2name(err), reason);
    queue_event(p, err, reason);
}

void kp__fatal(struct kp_producer *p, int err, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    /* A transactional producer told its epoch is old was fenced by a newer instance, whatever
     * the API version called it (librdkafka's normalization). */
    if (p->txn_on && err == KW_EC_INVALID_PRODUCER_EPOCH)
        err = KW_EC_PRODUCER_FENCED;
    pthread_mutex_lock(&p->lock);
    bool first = p->fatal_err == 0;
    if (first) {
        p->fatal_err = err;
        snprintf(p->fatal_reason, sizeof(p->fatal_reason), "%s", reason);
        if (p->txn_on)
            kp__txn_fatal_locked(p, err, reason);
    }
    pthread_mutex_unlock(&p->lock);
    if (!first)
        return;
    p->idemp_state = KP__I_FATAL;
    kp__log(p, KP_LOG_ERR, KP__DBG_EOS, "fatal error %s: %s", kp_err2name(err), reason);
    queue_event(p, KP_ERR__FATAL, reason);
    /* Nothing queued can be sent safely any more. In-flight batches fail as they return. */
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->n_topics; i++) {
        struct kp__topic *t = p->topics[i];
        for (int32_t j = 0; j < t->n_parts; j++)
            kp__part_fail_queued(p, t->parts[j], KP_ERR__FATAL, reason);
        if (t->ua) {
            struct kp__batch *b = t->ua;
            t->ua = NULL;
            kp__batch_fail(p, b, KP_ERR__FATAL, reason);
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* --- the scheduler ---------------------------------------------------------------------------- */

static void on_timer(void *arg)
{
    struct kp_producer *p = arg;
    p->timer_id = 0;
    p->timer_at_us = INT64_MAX;
    kp__schedule(p);
}

/* The loop's share of kp_stats (loop thread). */
static void loop_stats(struct kp_producer *p, struct kp_stats *out)
{
    struct kp__broker *b;
    out->requests_inflight = 0;
    out->brokers_up = out->brokers_connecting = 0;
    TAILQ_FOREACH(b, &p->brokers, link) {
        out->requests_inflight += b->n_inflight;
        if (b->state == KP__B_UP)
            out->brokers_up++;
        else if (b->state != KP__B_DOWN)
            out->brokers_connecting++;
    }
    out->producer_id = p->pid;
    out->producer_epoch = p->epoch;
    out->produce_requests = p->stat_requests;
    out->retries = p->stat_retries;
    out->epoch_bumps = p->stat_bumps;
    out->seed = p->conf.v.seed;
}

static void arm(struct kp_producer *p, int64_t now, int64_t next)
{
    struct kp_stats snap;
    loop_stats(p, &snap);
    pthread_mutex_lock(&p->lock);
    p->next_wakeup_us = next;
    p->snap = snap;
    pthread_mutex_unlock(&p->lock);
    if (next == p->timer_at_us && p->timer_id)
        return;
    if (p->timer_id)
        kw_timer_cancel(p->clock, p->timer_id);
    p->timer_id = 0;
    p->timer_at_us = INT64_MAX;
    if (next == INT64_MAX)
        return;
    p->timer_id = kw_timer_add(p->clock, next - now, on_timer, p);
    if (p->timer_id)
        p->timer_at_us = next;
}

static void schedule_once(struct kp_producer *p)
{
    int64_t now = kp__now(p), next = INT64_MAX;

    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->n_topics; i++) {
        struct kp__topic *t = p->topics[i];
        if (t->ua && t->ua->deadline_us <= now) {
            struct kp__batch *b = t->ua;
            t->ua = NULL;
            kp__batch_fail(p, b, KP_ERR__MSG_TIMED_OUT,
                           "delivery.timeout.ms passed before the topic's metadata was known");
        } else if (t->ua && t->ua->deadline_us < next) {
            next = t->ua->deadline_us;
        }
        for (int32_t j = 0; j < t->n_parts; j++)
            kp__part_expire(p, t->parts[j], now, &next);
    }
    pthread_mutex_unlock(&p->lock);

    struct kp__broker *b, *tmp;
    TAILQ_FOREACH_SAFE(b, &p->brokers, link, tmp) {
        kp__broker_written(b);
        kp__broker_timeouts(b, now, &next);
    }
    kp__idemp_serve(p, now, &next);
    kp__txn_serve(p, now, &next);
    kp__metadata_serve(p, now, &next);
    TAILQ_FOREACH(b, &p->brokers, link)
        kp__produce_serve(p, b, now, &next);
    /* Again, for the deadlines of what this pass sent. */
    TAILQ_FOREACH_SAFE(b, &p->brokers, link, tmp)
        kp__broker_timeouts(b, now, &next);
    arm(p, now, next);
}

void kp__schedule(struct kp_producer *p)
{
    /* Handlers that run inside the scheduler (a send failing at once, say) ask for another pass
     * instead of nesting one. */
    if (p->in_loop) {
        p->resched = true;
        return;
    }
    if (p->stopped)
        return;
    p->in_loop = true;
    int passes = 0;
    do {
        p->resched = false;
        schedule_once(p);
    } while (p->resched && ++passes < 8);
    p->in_loop = false;
    if (p->resched)
        kp__wake(p);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kp_producer *p = arg;
    pthread_mutex_lock(&p->lock);
    p->wake_pending = false;
    bool stop = p->stopping && p->thread_started;
    pthread_mutex_unlock(&p->lock);
    if (stop) {
        /* destroy's request, made from its thread: see kp_producer_destroy. */
        event_base_loopbreak(p->base);
        return;
    }
    kp__schedule(p);
}

/* --- life cycle ----------------------------------------------------------------------------- */

static void *loop_main(void *arg)
{
    struct kp_producer *p = arg;
    event_base_loop(p->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static uint64_t pick_seed(const struct kp_producer *p)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    s ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)p;
    uint64_t st = s;
    s = kp__rand(&st);
    return s ? s : 1;
}

struct kp_producer *kp_producer_new(const struct kp_conf *conf, char *errstr, size_t errstr_size)
{
    char dummy[1];
    if (errstr == NULL || errstr_size == 0) {
        errstr = dummy;
        errstr_size = sizeof(dummy);
    }
    if (conf == NULL) {
        snprintf(errstr, errstr_size, "no configuration given");
        return NULL;
    }
    struct kp_producer *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    TAILQ_INIT(&p->brokers);
    TAILQ_INIT(&p->reports);
    kw_arena_init(&p->arena);
    kw_buf_init(&p->scratch);
    kw_buf_init(&p->report_scratch);
    p->timer_at_us = INT64_MAX;
    p->next_wakeup_us = INT64_MAX;
    p->pid = -1;
    p->epoch = -1;
    if (kp__conf_copy(&p->conf, conf) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        free(p);
        return NULL;
    }
    p->conf_copied = true;
    if (kp__conf_finalize(&p->conf, errstr, errstr_size) != 0)
        goto fail;
    if (p->conf.v.seed == 0)
        p->conf.v.seed = pick_seed(p);
    p->rng = p->conf.v.seed;
    p->loop_rng = p->conf.v.seed ^ UINT64_C(0x5851f42d4c957f2d);
    p->idemp_state = p->conf.v.idempotence ? KP__I_REQUEST : KP__I_NONE;
    if (p->conf.v.transactional_id[0]) {
        /* The producer id comes from the transaction coordinator, once init asks for it. */
        p->txn_on = true;
        p->txn.state = KP__TX_INIT;
        p->idemp_state = KP__I_TXN_INIT;
    }

    if (conf->base) {
        p->base = conf->base;
    } else {
        /* Threads other than the loop's activate the wake event: libevent must lock. */
        evthread_use_pthreads();
        p->base = kw_ev_base_new();
        p->own_base = true;
        if (p->base == NULL) {
            snprintf(errstr, errstr_size, "event_base_new failed");
            goto fail;
        }
    }
    if (conf->clock) {
        p->clock = conf->clock;
    } else {
        p->evclock = kw_evclock_new(p->base);
        if (p->evclock == NULL) {
            snprintf(errstr, errstr_size, "out of memory");
            goto fail;
        }
        p->clock = kw_evclock_clock(p->evclock);
    }
    p->wake_ev = event_new(p->base, -1, 0, on_wake, p);
    if (p->wake_ev == NULL) {
        snprintf(errstr, errstr_size, "event_new failed");
        goto fail;
    }
    if (kp__brokers_bootstrap(p, errstr, errstr_size) != 0)
        goto fail;
    /* Like librdkafka, learn the cluster at once: a wrong bootstrap list shows up in the log
     * and the error callback before the first message. */
    p->md_wanted = true;
    kp__dbg(p, KP__DBG_GENERIC, "producer started: kp.seed=%" PRIu64 ", %s, acks=%d, "
            "linger.ms=%g, idempotence=%s%s%s", p->conf.v.seed,
            p->own_base ? "own thread" : "caller's event loop", p->conf.v.acks,
            (double)p->conf.v.linger_us / 1000.0, p->conf.v.idempotence ? "on" : "off",
            p->txn_on ? ", transactional.id=" : "", p->conf.v.transactional_id);

    if (p->own_base) {
        /* A write to a socket its peer reset raises SIGPIPE in the writing thread: block it
         * there. The new thread inherits the mask. */
        sigset_t blocked, old;
        sigemptyset(&blocked);
        sigaddset(&blocked, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &blocked, &old);
        int rc = pthread_create(&p->thread, NULL, loop_main, p);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
            snprintf(errstr, errstr_size, "pthread_create failed");
            goto fail;
        }
        p->thread_started = true;
    }
    kp__wake(p);
    return p;
fail:
    kp_producer_destroy(p);
    return NULL;
}

void kp_producer_destroy(struct kp_producer *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    /* A loopbreak sent before the thread entered its loop would be forgotten (the loop clears
     * it when it starts): the wake event stays active until the loop runs it, and then the
     * loop breaks itself. */
    if (p->thread_started) {
        p->wake_pending = false;
        kp__wake_locked(p);
    }
    pthread_mutex_unlock(&p->lock);
    if (p->thread_started) {
        pthread_join(p->thread, NULL);
        p->thread_started = false;
    }
    /* From here on this thread is the only one: purge, report, free. */
    p->in_loop = true;          /* handlers run below must not schedule anything */
    kp__brokers_destroy(p);
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->n_topics; i++) {
        struct kp__topic *t = p->topics[i];
        for (int32_t j = 0; j < t->n_parts; j++)
            kp__part_fail_queued(p, t->parts[j], KP_ERR__PURGE_QUEUE,
                                 "purged: the producer was destroyed");
        if (t->ua) {
            struct kp__batch *b = t->ua;
            t->ua = NULL;
            kp__batch_fail(p, b, KP_ERR__PURGE_QUEUE, "purged: the producer was destroyed");
        }
    }
    pthread_mutex_unlock(&p->lock);
    kp__reports_serve(p);
    p->stopped = true;
    if (p->timer_id)
        kw_timer_cancel(p->clock, p->timer_id);
    p->timer_id = 0;
    kp__txn_release(p);
    kp__topics_destroy(p);
    while (p->free_batches) {
        struct kp__batch *b = p->free_batches;
        p->free_batches = b->next_free;
        kp__batch_free(b);
    }
    while (p->events) {
        struct kp__event *e = p->events;
        p->events = e->next;
        free(e);
    }
    if (p->wake_ev)
        event_free(p->wake_ev);
    kw_evclock_destroy(p->evclock);
    if (p->own_base && p->base)
        event_base_free(p->base);
    kw_arena_release(&p->arena);
    kw_buf_release(&p->scratch);
    kw_buf_release(&p->report_scratch);
    if (p->conf_copied)
        kp__conf_release(&p->conf);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* --- produce -------------------------------------------------------------------------------- */

int kp_producer_produce(struct kp_producer *p, const char *topic, int32_t partition, int msgflags,
                        const void *key, size_t key_len, const void *value, size_t value_len,
                        const struct kp_header *headers, size_t n_headers, int64_t timestamp,
                        void *opaque)
{
    if (p == NULL || topic == NULL || topic[0] == '\0' || partition < KP_PARTITION_UA ||
        (n_headers && headers == NULL) || n_headers > INT32_MAX || (msgflags & ~KP_MSG_FREE))
        return KP_ERR__INVALID_ARG;
    if (key_len > INT32_MAX || value_len > INT32_MAX)
        return KW_EC_MESSAGE_TOO_LARGE;
    struct kw_bytes k = key ? (struct kw_bytes){ key, (int32_t)key_len } : KW_BYTES_NULL;
    struct kw_bytes v = value ? (struct kw_bytes){ value, (int32_t)value_len } : KW_BYTES_NULL;
    struct kw_header_kv stack[STACK_HEADERS], *hdrs = stack;
    if (n_headers > STACK_HEADERS && (hdrs = malloc(n_headers * sizeof(*hdrs))) == NULL)
        return KP_ERR__FAIL;
    int rc = 0;
    for (size_t i = 0; i < n_headers; i++) {
        size_t nl = headers[i].name ? strlen(headers[i].name) : 0;
        if (headers[i].name == NULL || nl > INT32_MAX || headers[i].value_len > INT32_MAX) {
            rc = KP_ERR__INVALID_ARG;
            break;
        }
        hdrs[i].key = (struct kw_str){ headers[i].name, (int32_t)nl };
        hdrs[i].value = headers[i].value
                            ? (struct kw_bytes){ headers[i].value, (int32_t)headers[i].value_len }
                            : KW_BYTES_NULL;
    }
    /* The whole record in a batch of its own must fit message.max.bytes. */
    size_t size = rc ? 0 : kw_record_size(0, 0, k, v, n_headers ? hdrs : NULL, (int)n_headers);
    if (rc == 0 && size + KW_BATCH_HEADER_SIZE > (size_t)p->conf.v.message_max_bytes)
        rc = KW_EC_MESSAGE_TOO_LARGE;
    if (rc) {
        if (hdrs != stack)
            free(hdrs);
        return rc;
    }
    /* A caller's clock (a virtual one in tests) is the only time, so batches repeat byte for
     * byte from run to run; otherwise CreateTime is the wall clock. */
    if (timestamp == 0)
        timestamp = p->evclock ? kp__wall_ms() : kw_now_us(p->clock) / 1000;
    int64_t now = kp__now(p);
    bool wake = false;

    pthread_mutex_lock(&p->lock);
    struct kp__topic *t = NULL;
    if (p->fatal_err)
        rc = KP_ERR__FATAL;
    else if (p->stopping)
        rc = KP_ERR__DESTROY;
    else if (p->txn_on && p->txn.state != KP__TX_IN_TXN)
        rc = KP_ERR__STATE;     /* librdkafka: messages only inside a transaction */
    else if ((p->conf.v.queue_max_msgs && p->msg_cnt >= p->conf.v.queue_max_msgs) ||
             p->msg_bytes + (int64_t)size > (int64_t)p->conf.v.queue_max_kbytes * 1024)
        rc = KP_ERR__QUEUE_FULL;
    else if ((t = kp__topic_get(p, topic, true)) == NULL)
        rc = KP_ERR__FAIL;
    if (rc == 0) {
        switch (t->state) {
        case KP__T_NOTEXISTS:
            rc = KP_ERR__UNKNOWN_TOPIC;
            break;
        case KP__T_ERROR:
            rc = t->err;
            break;
        case KP__T_UNKNOWN:
            rc = kp__acc_append_ua(p, t, partition, now, timestamp, k, v,
                                   n_headers ? hdrs : NULL, (int)n_headers,
                                   (int64_t)size, opaque);
            /* The first message of a topic nobody asked about yet: metadata is needed. */
            wake = p->topics_added;
            break;
        default:
            if (partition == KP_PARTITION_UA)
                partition = kp__partition(p, t, k, now);
            if (partition < 0 || partition >= t->n_parts)
                rc = KP_ERR__UNKNOWN_PARTITION;
            else
                rc = kp__acc_append(p, t->parts[partition], now, timestamp, k, v,
                                    n_headers ? hdrs : NULL, (int)n_headers, (int64_t)size,
                                    opaque, &wake);
            break;
        }
    }
    if (rc == 0) {
        p->msg_cnt++;
        p->msg_bytes += (int64_t)size;
    }
    if (wake)
        kp__wake_locked(p);
    pthread_mutex_unlock(&p->lock);
    if (hdrs != stack)
        free(hdrs);
    if (rc == 0 && (msgflags & KP_MSG_FREE))
        free((void *)value);
    return rc;
}

/* --- poll, flush ---------------------------------------------------------------------------- */

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

/* Caller-driven mode: runs the caller's loop once, waiting at most timeout_ms (real time) for
 * something to happen. */
static void run_loop(struct kp_producer *p, int timeout_ms)
{
    if (timeout_ms == 0) {
        event_base_loop(p->base, EVLOOP_NONBLOCK);
        return;
    }
    bool expired = false;
    struct event *t = evtimer_new(p->base, deadline_cb, &expired);
    if (t == NULL) {
        event_base_loop(p->base, EVLOOP_NONBLOCK);
        return;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(t, &tv);
    event_base_loop(p->base, EVLOOP_ONCE);
    event_free(t);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool have_reports(struct kp_producer *p)
{
    return !TAILQ_EMPTY(&p->reports) || p->events != NULL;
}

/* Waits (own-thread mode) or runs the loop (caller mode) until a report is queued, the queue is
 * empty (if want_empty), or the deadline (-1: none) passes. */
static void wait_some(struct kp_producer *p, int64_t deadline_ms, bool want_empty)
{
    int64_t left = deadline_ms < 0 ? 1000 : deadline_ms - mono_ms();
    if (left <= 0)
        return;
    if (!p->own_base) {
        run_loop(p, left > 1000 ? 1000 : (int)left);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&p->lock);
    while (!have_reports(p) && !(want_empty && p->msg_cnt == 0) &&
           pthread_cond_timedwait(&p->cond, &p->lock, &ts) == 0)
        ;
    pthread_mutex_unlock(&p->lock);
}

int kp_producer_poll(struct kp_producer *p, int timeout_ms)
{
    if (!p->own_base)
        run_loop(p, 0);
    int n = kp__reports_serve(p);
    if (n > 0 || timeout_ms == 0)
        return n;
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    do {
        wait_some(p, deadline, false);
        n = kp__reports_serve(p);
    } while (n == 0 && (deadline < 0 || mono_ms() < deadline));
    return n;
}

int kp_producer_flush(struct kp_producer *p, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    pthread_mutex_lock(&p->lock);
    p->flushing++;
    kp__wake_locked(p);
    pthread_mutex_unlock(&p->lock);
    int rc = 0;
    for (;;) {
        kp__reports_serve(p);
        pthread_mutex_lock(&p->lock);
        int64_t left = p->msg_cnt;
        pthread_mutex_unlock(&p->lock);
        if (left == 0)
            break;
        if (deadline >= 0 && mono_ms() >= deadline) {
            rc = KP_ERR__TIMED_OUT;
            break;
        }
        wait_some(p, deadline, true);
    }
    pthread_mutex_lock(&p->lock);
    p->flushing--;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

bool kp__wait(struct kp_producer *p, int timeout_ms, bool (*done)(struct kp_producer *p))
{
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    for (;;) {
        /* Caller-driven: one non-blocking turn first, so even a zero timeout makes progress. */
        if (!p->own_base)
            run_loop(p, 0);
        kp__reports_serve(p);
        pthread_mutex_lock(&p->lock);
        bool ok = done(p);
        pthread_mutex_unlock(&p->lock);
        if (ok)
            return true;
        int64_t left = deadline < 0 ? 1000 : deadline - mono_ms();
        if (left <= 0)
            return false;
        if (left > 1000)
            left = 1000;
        if (!p->own_base) {
            run_loop(p, (int)left);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&p->lock);
        while (!have_reports(p) && !done(p) &&
               pthread_cond_timedwait(&p->cond, &p->lock, &ts) == 0)
            ;
        pthread_mutex_unlock(&p->lock);
    }
}

int kp_producer_outq_len(struct kp_producer *p)
{
    pthread_mutex_lock(&p->lock);
    int64_t n = p->msg_cnt;
    pthread_mutex_unlock(&p->lock);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int kp_producer_fatal_error(struct kp_producer *p, char *errstr, size_t errstr_size)
{
    pthread_mutex_lock(&p->lock);
    int err = p->fatal_err;
    if (err && errstr_size)
        snprintf(errstr, errstr_size, "%s", p->fatal_reason);
    pthread_mutex_unlock(&p->lock);
    return err;
}

void kp_producer_stats(struct kp_producer *p, struct kp_stats *out)
{
    memset(out, 0, sizeof(*out));
    /* The loop's counters: live in caller-driven mode (this is the loop's thread), else as the
     * loop published them after its last pass. */
    if (!p->own_base)
        loop_stats(p, out);
    pthread_mutex_lock(&p->lock);
    if (p->own_base)
        *out = p->snap;
    out->msgs_queued = p->msg_cnt;
    out->bytes_queued = p->msg_bytes;
    pthread_mutex_unlock(&p->lock);
}
