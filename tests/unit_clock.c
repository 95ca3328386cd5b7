/* The virtual clock (ordering, time seen by callbacks, callbacks that add and cancel, stale ids,
 * a large random load) and the libevent clock driven by a real event_base. */
#include <CUnit/CUnit.h>
#include <event2/event.h>
#include <stdlib.h>

#include "lib/clock.h"
#include "lib/ev/clock_ev.h"
#include "lib/kw.h"

/* What a callback saw: which timer it was and what the clock said. */
struct fired {
    int tag;
    int64_t now;
};

struct log {
    struct kw_clock *clock;
    struct fired *seen;
    size_t n, cap;
};

struct probe {
    struct log *log;
    int tag;
};

static void record(struct log *l, int tag)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct fired *p = realloc(l->seen, cap * sizeof(*p));
        if (p == NULL)
            return;
        l->seen = p;
        l->cap = cap;
    }
    l->seen[l->n++] = (struct fired){ tag, kw_now_us(l->clock) };
}

static void probe_cb(void *arg)
{
    struct probe *p = arg;
    record(p->log, p->tag);
}

static void test_virtual_time_moves_only_when_advanced(void)
{
    struct kw_vclock *v = kw_vclock_new(1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct kw_clock *c = kw_vclock_clock(v);
    CU_ASSERT_EQUAL(kw_now_us(c), 1000);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), -1);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 250), 0);
    CU_ASSERT_EQUAL(kw_now_us(c), 1250);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 0), 0);
    CU_ASSERT_EQUAL(kw_now_us(c), 1250);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, -1), KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_now_us(c), 1250);
    CU_ASSERT_EQUAL(kw_vclock_run_next(v), 0);
    CU_ASSERT_EQUAL(kw_now_us(c), 1250);
    kw_vclock_destroy(v);

    v = kw_vclock_new(-5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(kw_now_us(kw_vclock_clock(v)), 0);
    kw_vclock_destroy(v);
    kw_vclock_destroy(NULL);
}

static void test_virtual_timers_fire_by_deadline_then_in_the_order_added(void)
{
    struct kw_vclock *v = kw_vclock_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct log l = { kw_vclock_clock(v), NULL, 0, 0 };
    struct probe p[6];
    static const int64_t delays[6] = { 30, 10, 20, 10, 30, 10 };
    for (int i = 0; i < 6; i++) {
        p[i] = (struct probe){ &l, i };
        CU_ASSERT(kw_timer_add(l.clock, delays[i], probe_cb, &p[i]) != 0);
    }
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), 10);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 9), 0);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 21), 6);
    static const int order[6] = { 1, 3, 5, 2, 0, 4 };
    static const int64_t at[6] = { 10, 10, 10, 20, 30, 30 };
    CU_ASSERT_EQUAL_FATAL(l.n, 6);
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(l.seen[i].tag, order[i]);
        CU_ASSERT_EQUAL(l.seen[i].now, at[i]);   /* the clock reads the deadline in the callback */
    }
    CU_ASSERT_EQUAL(kw_now_us(l.clock), 30);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), -1);
    free(l.seen);
    kw_vclock_destroy(v);
}

static void test_run_next_jumps_to_the_next_deadline(void)
{
    struct kw_vclock *v = kw_vclock_new(100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct log l = { kw_vclock_clock(v), NULL, 0, 0 };
    struct probe a = { &l, 1 }, b = { &l, 2 }, c = { &l, 3 };
    kw_timer_add(l.clock, 5000, probe_cb, &a);
    kw_timer_add(l.clock, 700, probe_cb, &b);
    kw_timer_add(l.clock, 700, probe_cb, &c);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), 800);
    CU_ASSERT_EQUAL(kw_vclock_run_next(v), 2);
    CU_ASSERT_EQUAL(kw_now_us(l.clock), 800);
    CU_ASSERT_EQUAL(kw_vclock_run_next(v), 1);
    CU_ASSERT_EQUAL(kw_now_us(l.clock), 5100);
    CU_ASSERT_EQUAL(kw_vclock_run_next(v), 0);
    CU_ASSERT(l.n == 3 && l.seen[0].tag == 2 && l.seen[1].tag == 3 && l.seen[2].tag == 1);
    free(l.seen);
    kw_vclock_destroy(v);
}

/* A callback that reschedules: adds a zero-delay timer, a later one, and cancels a victim. */
struct busy {
    struct log *log;
    struct kw_vclock *v;
    struct probe now_probe, later_probe;
    uint64_t victim, self;
    int nested_rc, nested_next_rc;
};

static void busy_cb(void *arg)
{
    struct busy *b = arg;
    record(b->log, 100);
    kw_timer_cancel(b->log->clock, b->self);        /* already fired: a no-op */
    kw_timer_cancel(b->log->clock, b->victim);
    kw_timer_add(b->log->clock, 0, probe_cb, &b->now_probe);
    kw_timer_add(b->log->clock, 1000, probe_cb, &b->later_probe);
    b->nested_rc = kw_vclock_advance(b->v, 1);
    b->nested_next_rc = kw_vclock_run_next(b->v);
}

static void test_callbacks_may_add_and_cancel_timers(void)
{
    struct kw_vclock *v = kw_vclock_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct log l = { kw_vclock_clock(v), NULL, 0, 0 };
    struct busy b = { &l, v, { &l, 1 }, { &l, 2 }, 0, 0, 0, 0 };
    struct probe same = { &l, 3 }, victim = { &l, 4 }, after = { &l, 5 };
    b.self = kw_timer_add(l.clock, 50, busy_cb, &b);
    kw_timer_add(l.clock, 50, probe_cb, &same);          /* same deadline, added later */
    b.victim = kw_timer_add(l.clock, 60, probe_cb, &victim);
    kw_timer_add(l.clock, 70, probe_cb, &after);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 100), 4);
    /* busy at 50; then what was already due at 50 before the zero-delay timer it added; the
     * victim never fires; the 1000 us timer is outside the window. */
    static const int order[4] = { 100, 3, 1, 5 };
    static const int64_t at[4] = { 50, 50, 50, 70 };
    CU_ASSERT_EQUAL_FATAL(l.n, 4);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(l.seen[i].tag, order[i]);
        CU_ASSERT_EQUAL(l.seen[i].now, at[i]);
    }
    CU_ASSERT_EQUAL(b.nested_rc, KW_ERR_INVALID);
    CU_ASSERT_EQUAL(b.nested_next_rc, KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), 1050);
    CU_ASSERT_EQUAL(kw_vclock_run_next(v), 1);
    CU_ASSERT_EQUAL(l.seen[4].tag, 2);
    free(l.seen);
    kw_vclock_destroy(v);
}

static void test_cancelling_a_fired_or_cancelled_id_is_a_no_op(void)
{
    struct kw_vclock *v = kw_vclock_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct log l = { kw_vclock_clock(v), NULL, 0, 0 };
    struct probe a = { &l, 1 }, b = { &l, 2 }, c = { &l, 3 };
    uint64_t ia = kw_timer_add(l.clock, 10, probe_cb, &a);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 10), 1);
    uint64_t ib = kw_timer_add(l.clock, 10, probe_cb, &b);   /* likely reuses a's slot */
    CU_ASSERT(ia != 0 && ib != 0 && ia != ib);
    kw_timer_cancel(l.clock, ia);                            /* must not hit b */
    kw_timer_cancel(l.clock, 0);
    kw_timer_cancel(l.clock, UINT64_MAX);
    kw_timer_cancel(l.clock, ib ^ 1);
    kw_timer_cancel(l.clock, ib + ((uint64_t)1 << 32));
    kw_timer_cancel(l.clock, ia + ((uint64_t)2 << 32));     /* b's slot, a generation ahead */
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), 20);
    CU_ASSERT_EQUAL(kw_timer_add(l.clock, 1, NULL, NULL), 0);
    uint64_t ic = kw_timer_add(l.clock, 5, probe_cb, &c);
    kw_timer_cancel(l.clock, ic);
    kw_timer_cancel(l.clock, ic);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 100), 1);
    CU_ASSERT(l.n == 2 && l.seen[0].tag == 1 && l.seen[1].tag == 2);
    /* Every slot is free now; ids forged for their next generations must not match either. */
    for (uint64_t g = 0; g < 4; g++) {
        kw_timer_cancel(l.clock, ia + (g << 32));
        kw_timer_cancel(l.clock, ic + (g << 32));
    }
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), -1);
    struct probe d = { &l, 4 };
    kw_timer_add(l.clock, 1, probe_cb, &d);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 1), 1);
    free(l.seen);
    kw_vclock_destroy(v);
}

static void test_ids_are_never_zero_or_reused(void)
{
    struct kw_vclock *v = kw_vclock_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct kw_clock *c = kw_vclock_clock(v);
    enum { N = 10000 };
    uint64_t *ids = malloc(N * sizeof(*ids));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
    struct log l = { c, NULL, 0, 0 };
    struct probe p = { &l, 0 };
    for (int i = 0; i < N; i++) {    /* add and cancel over and over: the same slot each time */
        ids[i] = kw_timer_add(c, i, probe_cb, &p);
        kw_timer_cancel(c, ids[i]);
    }
    int zero = 0, dup = 0;
    for (int i = 0; i < N; i++) {
        zero += ids[i] == 0;
        dup += i > 0 && ids[i] == ids[i - 1];
    }
    for (int i = 0; i < N; i += 997)
        for (int j = i + 1; j < N; j++)
            dup += ids[i] == ids[j];
    CU_ASSERT_EQUAL(zero, 0);
    CU_ASSERT_EQUAL(dup, 0);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 2 * N), 0);
    free(ids);
    kw_vclock_destroy(v);
}

struct rnd_timer {
    int64_t deadline;
    uint64_t seq;
    bool cancelled;
    struct rnd_ctx *ctx;
};

struct rnd_ctx {
    struct kw_clock *clock;
    struct rnd_timer *prev;
    long fired, bad_order, bad_now, fired_cancelled;
};

static void rnd_cb(void *arg)
{
    struct rnd_timer *t = arg;
    struct rnd_ctx *x = t->ctx;
    x->fired++;
    x->bad_now += kw_now_us(x->clock) != t->deadline;
    x->fired_cancelled += t->cancelled;
    if (x->prev != NULL && (x->prev->deadline > t->deadline
                            || (x->prev->deadline == t->deadline && x->prev->seq > t->seq)))
        x->bad_order++;
    x->prev = t;
}

static void test_a_hundred_thousand_random_timers_fire_in_sorted_order(void)
{
    enum { N = 100000 };
    struct kw_vclock *v = kw_vclock_new(0);
    struct rnd_timer *ts = calloc(N, sizeof(*ts));
    uint64_t *ids = calloc(N, sizeof(*ids));
    CU_ASSERT_FATAL(v != NULL && ts != NULL && ids != NULL);
    struct rnd_ctx x = { kw_vclock_clock(v), NULL, 0, 0, 0, 0 };
    srand(777);
    for (int i = 0; i < N; i++) {
        /* A narrow range, so many deadlines tie and the insertion order is exercised. */
        ts[i] = (struct rnd_timer){ rand() % 5000, (uint64_t)i, false, &x };
        ids[i] = kw_timer_add(x.clock, ts[i].deadline, rnd_cb, &ts[i]);
    }
    long cancelled = 0;
    for (int i = 0; i < N; i += 7) {
        ts[i].cancelled = true;
        kw_timer_cancel(x.clock, ids[i]);
        cancelled++;
    }
    long fired = 0;
    for (int64_t t = 0; t < 6000; t += 1000)
        fired += kw_vclock_advance(v, 1000);
    CU_ASSERT_EQUAL(fired, N - cancelled);
    CU_ASSERT_EQUAL(x.fired, N - cancelled);
    CU_ASSERT_EQUAL(x.bad_order, 0);
    CU_ASSERT_EQUAL(x.bad_now, 0);
    CU_ASSERT_EQUAL(x.fired_cancelled, 0);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), -1);
    free(ids);
    free(ts);
    kw_vclock_destroy(v);
}

static void test_destroying_a_virtual_clock_drops_pending_timers(void)
{
    struct kw_vclock *v = kw_vclock_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct log l = { kw_vclock_clock(v), NULL, 0, 0 };
    struct probe p = { &l, 1 };
    for (int i = 0; i < 100; i++)
        kw_timer_add(l.clock, i, probe_cb, &p);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 9), 10);
    kw_vclock_destroy(v);
    CU_ASSERT_EQUAL(l.n, 10);
    free(l.seen);
}

static void test_huge_delays_saturate_instead_of_wrapping(void)
{
    struct kw_vclock *v = kw_vclock_new(INT64_MAX - 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct log l = { kw_vclock_clock(v), NULL, 0, 0 };
    struct probe p = { &l, 1 }, q = { &l, 2 };
    kw_timer_add(l.clock, INT64_MAX, probe_cb, &p);
    kw_timer_add(l.clock, -5, probe_cb, &q);             /* negative: due now */
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), INT64_MAX - 10);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 0), 1);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), INT64_MAX);
    CU_ASSERT_EQUAL(kw_vclock_advance(v, INT64_MAX), 1);
    CU_ASSERT_EQUAL(kw_now_us(l.clock), INT64_MAX);
    CU_ASSERT(l.n == 2 && l.seen[0].tag == 2 && l.seen[1].tag == 1);
    free(l.seen);
    kw_vclock_destroy(v);
}

/* --- The libevent clock. ------------------------------------------------------------------- */

struct ev_probe {
    struct kw_clock *clock;
    int fired;
    int64_t at;
};

static void ev_probe_cb(void *arg)
{
    struct ev_probe *p = arg;
    p->fired++;
    p->at = kw_now_us(p->clock);
}

/* Runs the loop until *flag is set, at most bound passes; EVLOOP_ONCE blocks until a timer is
 * due, so this waits on the condition instead of sleeping. */
static void run_until(struct event_base *base, const int *flag, int bound)
{
    for (int i = 0; i < bound && !*flag; i++)
        event_base_loop(base, EVLOOP_ONCE);
}

static void test_a_libevent_timer_fires_when_the_loop_runs(void)
{
    struct event_base *base = event_base_new();
    struct kw_evclock *ec = base ? kw_evclock_new(base) : NULL;
    CU_ASSERT_FATAL(base != NULL && ec != NULL);
    struct kw_clock *c = kw_evclock_clock(ec);
    struct ev_probe p = { c, 0, 0 };
    int64_t t0 = kw_now_us(c);
    CU_ASSERT(t0 > 0);
    uint64_t id = kw_timer_add(c, 1000, ev_probe_cb, &p);
    CU_ASSERT(id != 0);
    CU_ASSERT_EQUAL(p.fired, 0);                 /* nothing happens until the loop runs */
    run_until(base, &p.fired, 100);
    CU_ASSERT_EQUAL(p.fired, 1);
    CU_ASSERT(p.at - t0 >= 1000);
    CU_ASSERT(kw_now_us(c) >= p.at);
    kw_timer_cancel(c, id);                      /* fired: a no-op */
    kw_evclock_destroy(ec);
    event_base_free(base);
}

static void test_cancelling_a_libevent_timer_stops_it(void)
{
    struct event_base *base = event_base_new();
    struct kw_evclock *ec = base ? kw_evclock_new(base) : NULL;
    CU_ASSERT_FATAL(base != NULL && ec != NULL);
    struct kw_clock *c = kw_evclock_clock(ec);
    struct ev_probe a = { c, 0, 0 }, b = { c, 0, 0 }, z = { c, 0, 0 };
    uint64_t ia = kw_timer_add(c, 1000, ev_probe_cb, &a);
    uint64_t ib = kw_timer_add(c, 3000, ev_probe_cb, &b);
    uint64_t iz = kw_timer_add(c, 0, ev_probe_cb, &z);
    CU_ASSERT(ia != 0 && ib != 0 && iz != 0 && ia != ib && ib != iz && ia != iz);
    kw_timer_cancel(c, ia);
    kw_timer_cancel(c, ia);
    kw_timer_cancel(c, 0);
    kw_timer_cancel(c, UINT64_MAX);
    run_until(base, &b.fired, 100);
    CU_ASSERT_EQUAL(a.fired, 0);
    CU_ASSERT_EQUAL(b.fired, 1);
    CU_ASSERT_EQUAL(z.fired, 1);
    /* A new timer may take a's slot; a's old id must not reach it. */
    struct ev_probe d = { c, 0, 0 };
    uint64_t id = kw_timer_add(c, 0, ev_probe_cb, &d);
    CU_ASSERT(id != ia && id != ib && id != iz);
    kw_timer_cancel(c, ia);
    kw_timer_cancel(c, iz);
    run_until(base, &d.fired, 100);
    CU_ASSERT_EQUAL(d.fired, 1);
    kw_evclock_destroy(ec);
    event_base_free(base);
}

struct ev_chain {
    struct kw_clock *clock;
    struct ev_probe next;
    uint64_t victim;
    int fired;
};

static void ev_chain_cb(void *arg)
{
    struct ev_chain *ch = arg;
    ch->fired++;
    kw_timer_cancel(ch->clock, ch->victim);
    kw_timer_add(ch->clock, 0, ev_probe_cb, &ch->next);
}

static void test_libevent_callbacks_may_add_and_cancel_timers(void)
{
    struct event_base *base = event_base_new();
    struct kw_evclock *ec = base ? kw_evclock_new(base) : NULL;
    CU_ASSERT_FATAL(base != NULL && ec != NULL);
    struct kw_clock *c = kw_evclock_clock(ec);
    struct ev_probe victim = { c, 0, 0 };
    struct ev_chain ch = { c, { c, 0, 0 }, 0, 0 };
    kw_timer_add(c, 1000, ev_chain_cb, &ch);
    ch.victim = kw_timer_add(c, 60 * 1000000, ev_probe_cb, &victim);
    run_until(base, &ch.next.fired, 100);
    CU_ASSERT_EQUAL(ch.fired, 1);
    CU_ASSERT_EQUAL(ch.next.fired, 1);
    CU_ASSERT_EQUAL(victim.fired, 0);
    /* The victim is gone from the base too: nothing is left for the loop to wait on. */
    CU_ASSERT_EQUAL(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    kw_evclock_destroy(ec);
    event_base_free(base);
}

static void test_destroying_a_libevent_clock_frees_pending_timers_uncalled(void)
{
    struct event_base *base = event_base_new();
    struct kw_evclock *ec = base ? kw_evclock_new(base) : NULL;
    CU_ASSERT_FATAL(base != NULL && ec != NULL);
    struct kw_clock *c = kw_evclock_clock(ec);
    struct ev_probe p = { c, 0, 0 };
    for (int i = 0; i < 50; i++)
        CU_ASSERT(kw_timer_add(c, 1000000 + i, ev_probe_cb, &p) != 0);
    kw_evclock_destroy(ec);
    /* No events are left on the base: the loop has nothing to run. */
    CU_ASSERT_EQUAL(event_base_loop(base, EVLOOP_NONBLOCK), 1);
    CU_ASSERT_EQUAL(p.fired, 0);
    event_base_free(base);
    kw_evclock_destroy(NULL);
}

struct ev_destroyer {
    struct kw_evclock *ec;
    int fired;
};

static void ev_destroy_cb(void *arg)
{
    struct ev_destroyer *d = arg;
    d->fired++;
    kw_evclock_destroy(d->ec);
    d->ec = NULL;
}

static void test_a_libevent_clock_may_be_destroyed_from_its_own_callback(void)
{
    struct event_base *base = event_base_new();
    struct kw_evclock *ec = base ? kw_evclock_new(base) : NULL;
    CU_ASSERT_FATAL(base != NULL && ec != NULL);
    struct kw_clock *c = kw_evclock_clock(ec);
    struct ev_destroyer d = { ec, 0 };
    struct ev_probe later = { c, 0, 0 };
    kw_timer_add(c, 0, ev_destroy_cb, &d);
    kw_timer_add(c, 60 * 1000000, ev_probe_cb, &later);
    run_until(base, &d.fired, 100);
    CU_ASSERT_EQUAL(d.fired, 1);
    CU_ASSERT_PTR_NULL(d.ec);
    CU_ASSERT_EQUAL(event_base_loop(base, EVLOOP_NONBLOCK), 1);     /* the later timer went too */
    CU_ASSERT_EQUAL(later.fired, 0);
    event_base_free(base);
}

CU_TestInfo kwt_clock_tests[] = {
    { "virtual time moves only when advanced", test_virtual_time_moves_only_when_advanced },
    { "virtual timers fire by deadline, then in the order added",
      test_virtual_timers_fire_by_deadline_then_in_the_order_added },
    { "run_next jumps to the next deadline", test_run_next_jumps_to_the_next_deadline },
    { "callbacks may add and cancel timers", test_callbacks_may_add_and_cancel_timers },
    { "cancelling a fired or cancelled id is a no-op",
      test_cancelling_a_fired_or_cancelled_id_is_a_no_op },
    { "ids are never zero or reused", test_ids_are_never_zero_or_reused },
    { "a hundred thousand random timers fire in sorted order",
      test_a_hundred_thousand_random_timers_fire_in_sorted_order },
    { "destroying a virtual clock drops pending timers",
      test_destroying_a_virtual_clock_drops_pending_timers },
    { "huge delays saturate instead of wrapping", test_huge_delays_saturate_instead_of_wrapping },
    { "a libevent timer fires when the loop runs", test_a_libevent_timer_fires_when_the_loop_runs },
    { "cancelling a libevent timer stops it", test_cancelling_a_libevent_timer_stops_it },
    { "libevent callbacks may add and cancel timers",
      test_libevent_callbacks_may_add_and_cancel_timers },
    { "destroying a libevent clock frees pending timers uncalled",
      test_destroying_a_libevent_clock_frees_pending_timers_uncalled },
    { "a libevent clock may be destroyed from its own callback",
      test_a_libevent_clock_may_be_destroyed_from_its_own_callback },
    CU_TEST_INFO_NULL,
};
