/* The libevent clock. Each timer is a one-shot libevent timer event with a small record; a slot
 * table finds the record from an id: an id is (generation << 32 | slot), and a slot's
 * generation moves on each time its timer fires or is cancelled, so an old id never matches
 * again (a slot whose generation would wrap is retired, not reused). */
#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

#include "lib/ev/clock_ev.h"

#define NIL UINT32_MAX          /* end of the free list; also caps the slot count */

struct timer {
    struct kw_evclock *owner;
    struct event *ev;
    kw_timer_cb cb;
    void *arg;
    uint32_t slot;
};

struct slot {
    struct timer *t;            /* NULL unless pending */
    uint32_t gen;               /* ids of this slot carry it; 0 once the slot is retired */
    uint32_t next_free;
};

struct kw_evclock {
    struct kw_clock clock;      /* first, so the interface pointer converts back */
    struct event_base *base;
    struct slot *slots;
    uint32_t nslots, cap, free_head;
};

static void slot_free(struct kw_evclock *c, uint32_t s)
{
    struct slot *sl = &c->slots[s];
    sl->t = NULL;
    if (sl->gen == UINT32_MAX) {
        sl->gen = 0;
        return;
    }
    sl->gen++;
    sl->next_free = c->free_head;
    c->free_head = s;
}

static void drop(struct timer *t)
{
    event_free(t->ev);
    free(t);
}

static void fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct timer *t = arg;
    kw_timer_cb cb = t->cb;
    void *cb_arg = t->arg;
    /* All bookkeeping is done before the callback, which may cancel this id (a no-op by then),
     * add timers that grow the slot table, or destroy the clock. */
    slot_free(t->owner, t->slot);
    drop(t);
    cb(cb_arg);
}

static int64_t evnow(struct kw_clock *clock)
{
    (void)clock;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t slot_alloc(struct kw_evclock *c)
{
    if (c->free_head != NIL) {
        uint32_t s = c->free_head;
        c->free_head = c->slots[s].next_free;
        return s;
    }
    if (c->nslots == c->cap) {
        uint64_t cap = c->cap ? 2 * (uint64_t)c->cap : 16;
        if (cap > NIL)
            cap = NIL;
        struct slot *p = cap > c->cap ? realloc(c->slots, (size_t)cap * sizeof(*p)) : NULL;
        if (p == NULL)
            return NIL;
        c->slots = p;
        c->cap = (uint32_t)cap;
    }
    c->slots[c->nslots] = (struct slot){ NULL, 1, NIL };
    return c->nslots++;
}

static uint64_t evadd(struct kw_clock *clock, int64_t delay_us, kw_timer_cb cb, void *arg)
{
    struct kw_evclock *c = (struct kw_evclock *)clock;
    if (cb == NULL)
        return 0;
    if (delay_us < 0)
        delay_us = 0;
    struct timeval tv = { (time_t)(delay_us / 1000000), (suseconds_t)(delay_us % 1000000) };
    struct timer *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return 0;
    t->ev = event_new(c->base, -1, 0, fire, t);
    uint32_t s = t->ev ? slot_alloc(c) : NIL;
    if (s == NIL) {
        if (t->ev)
            event_free(t->ev);
        free(t);
        return 0;
    }
    if (event_add(t->ev, &tv) != 0) {
        slot_free(c, s);
        drop(t);
        return 0;
    }
    *t = (struct timer){ c, t->ev, cb, arg, s };
    c->slots[s].t = t;
    return (uint64_t)c->slots[s].gen << 32 | s;
}

static void evcancel(struct kw_clock *clock, uint64_t id)
{
    struct kw_evclock *c = (struct kw_evclock *)clock;
    uint32_t s = (uint32_t)id, gen = (uint32_t)(id >> 32);
    if (gen == 0 || s >= c->nslots || c->slots[s].gen != gen || c->slots[s].t == NULL)
        return;
    struct timer *t = c->slots[s].t;
    slot_free(c, s);
    drop(t);
}

struct kw_evclock *kw_evclock_new(struct event_base *base)
{
    struct kw_evclock *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->clock = (struct kw_clock){ evnow, evadd, evcancel };
    c->base = base;
    c->free_head = NIL;
    return c;
}

void kw_evclock_destroy(struct kw_evclock *c)
{
    if (c == NULL)
        return;
    for (uint32_t s = 0; s < c->nslots; s++)
        if (c->slots[s].t != NULL)
            drop(c->slots[s].t);
    free(c->slots);
    free(c);
}

struct kw_clock *kw_evclock_clock(struct kw_evclock *c)
{
    return &c->clock;
}

struct event_base *kw_ev_base_new(void)
{
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}
