/* The real clock: CLOCK_MONOTONIC for now_us, libevent timer events for timers. It belongs to
 * the thread that runs its event_base: call it, and destroy it, only from that thread. */
#ifndef KW_EV_CLOCK_EV_H
#define KW_EV_CLOCK_EV_H

#include "lib/clock.h"

struct event_base;
struct kw_evclock;

/* A clock whose timers run on base, which must outlive it. NULL if out of memory. */
struct kw_evclock *kw_evclock_new(struct event_base *base);
/* Frees pending timers without calling them; call before freeing the base. NULL does nothing.
 * Safe from inside a timer callback. */
void kw_evclock_destroy(struct kw_evclock *c);
/* The kw_clock interface of c, valid as long as c. */
struct kw_clock *kw_evclock_clock(struct kw_evclock *c);

/* A new event_base whose timers use the precise monotonic clock. libevent's default reads
 * CLOCK_MONOTONIC_COARSE, which ticks every 4 ms on some kernels: a 5 ms linger then fires up to
 * 4 ms late. NULL on failure. */
struct event_base *kw_ev_base_new(void);

#endif
