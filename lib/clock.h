/* The one time interface of the mock cluster and the producer. Code reads time and sets timers
 * only through a struct kw_clock, so tests can swap the real clock (lib/ev/clock_ev.h) for the
 * virtual one below, where time moves only when the test says and timeouts are exact. */
#ifndef KW_CLOCK_H
#define KW_CLOCK_H

#include <stdint.h>

typedef void (*kw_timer_cb)(void *arg);

/* Timer ids are never 0 and never reused, so cancelling a timer that already fired or was
 * cancelled is always safe and can never hit someone else's timer. timer_add returns 0 when it
 * cannot allocate or cb is NULL. A negative delay counts as 0. A fired timer is forgotten
 * before its callback runs; callbacks may add and cancel timers. */
struct kw_clock {
    int64_t (*now_us)(struct kw_clock *c);     /* monotonic microseconds */
    uint64_t (*timer_add)(struct kw_clock *c, int64_t delay_us, kw_timer_cb cb, void *arg);
    void (*timer_cancel)(struct kw_clock *c, uint64_t id);  /* unknown or fired id: no-op */
};

static inline int64_t kw_now_us(struct kw_clock *c) { return c->now_us(c); }
static inline uint64_t kw_timer_add(struct kw_clock *c, int64_t delay_us, kw_timer_cb cb,
                                    void *arg)
{
    return c->timer_add(c, delay_us, cb, arg);
}
static inline void kw_timer_cancel(struct kw_clock *c, uint64_t id) { c->timer_cancel(c, id); }

/* --- A virtual clock: time moves only in kw_vclock_advance / kw_vclock_run_next. ----------- */

struct kw_vclock;

/* A virtual clock reading start_us (negative counts as 0); NULL if out of memory. */
struct kw_vclock *kw_vclock_new(int64_t start_us);
/* Drops pending timers without calling them. NULL does nothing; not from inside a callback. */
void kw_vclock_destroy(struct kw_vclock *v);
/* The kw_clock interface of v, valid as long as v. */
struct kw_clock *kw_vclock_clock(struct kw_vclock *v);
/* Moves time forward by us, firing every timer due by then in deadline order (equal deadlines in
 * the order they were added), with now_us() at each timer's deadline while its callback runs.
 * Timers that callbacks add are fired too if due in the window, zero-delay ones included.
 * Returns the number fired, or KW_ERR_INVALID if us < 0 or if called from a callback. */
int kw_vclock_advance(struct kw_vclock *v, int64_t us);
/* The deadline of the earliest pending timer, or -1 if none is pending. */
int64_t kw_vclock_next_deadline(struct kw_vclock *v);
/* Jumps to the next deadline and fires what is due there: the number fired, 0 if no timer is
 * pending, or KW_ERR_INVALID from a callback. */
int kw_vclock_run_next(struct kw_vclock *v);

#endif
