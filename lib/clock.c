/* The virtual clock. Pending timers sit in a binary heap ordered by (deadline, seq), seq being
 * the order of timer_add, so equal deadlines fire in the order they were set. Cancel finds its
 * timer through a slot table: an id is (generation << 32 | slot), and a slot's generation moves
 * on each time its timer fires or is cancelled, so an old id never matches again. A slot whose
 * generation would wrap is retired for good rather than reused: ids stay unique. */
#include <stdlib.h>

#include "lib/clock.h"
#include "lib/kw.h"

#define NIL UINT32_MAX          /* end of the free list; also caps the slot count */

struct slot {
    kw_timer_cb cb;
    void *arg;
    uint32_t gen;               /* ids of this slot carry it; 0 once the slot is retired */
    uint32_t pos;               /* heap index while pending, next free slot while free */
};

struct entry {
    int64_t deadline;
    uint64_t seq;
    uint32_t slot;
};

struct kw_vclock {
    struct kw_clock clock;      /* first, so the interface pointer converts back */
    int64_t now;
    uint64_t seq;
    struct entry *heap;
    uint32_t n, cap;
    struct slot *slots;
    uint32_t nslots, slots_cap, free_head;
    bool firing;                /* inside advance: a nested advance would reorder time */
};

static bool before(const struct entry *a, const struct entry *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void place(struct kw_vclock *v, uint32_t i, struct entry e)
{
    v->heap[i] = e;
    v->slots[e.slot].pos = i;
}

static void sift_up(struct kw_vclock *v, uint32_t i)
{
    struct entry e = v->heap[i];
    while (i > 0 && before(&e, &v->heap[(i - 1) / 2])) {
        place(v, i, v->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(v, i, e);
}

static void sift_down(struct kw_vclock *v, uint32_t i)
{
    struct entry e = v->heap[i];
    for (;;) {
        uint64_t c = 2 * (uint64_t)i + 1;
        if (c >= v->n)
            break;
        if (c + 1 < v->n && before(&v->heap[c + 1], &v->heap[c]))
            c++;
        if (!before(&v->heap[c], &e))
            break;
        place(v, i, v->heap[c]);
        i = (uint32_t)c;
    }
    place(v, i, e);
}

static void heap_remove(struct kw_vclock *v, uint32_t i)
{
    if (--v->n == i)
        return;
    v->heap[i] = v->heap[v->n];
    if (i > 0 && before(&v->heap[i], &v->heap[(i - 1) / 2]))
        sift_up(v, i);
    else
        sift_down(v, i);
}

static void slot_free(struct kw_vclock *v, uint32_t s)
{
    struct slot *sl = &v->slots[s];
    sl->cb = NULL;
    sl->arg = NULL;
    if (sl->gen == UINT32_MAX) {
        sl->gen = 0;
        return;
    }
    sl->gen++;
    sl->pos = v->free_head;
    v->free_head = s;
}

/* Grows an array of *cap elements of size sz to hold at least need; false if it cannot. */
static bool grow(void **p, uint32_t *cap, uint32_t need, size_t sz)
{
    if (need <= *cap)
        return true;
    uint64_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    if (c > NIL)
        c = NIL;
    void *q = realloc(*p, (size_t)c * sz);
    if (q == NULL)
        return false;
    *p = q;
    *cap = (uint32_t)c;
    return true;
}

static int64_t vnow(struct kw_clock *c)
{
    return ((struct kw_vclock *)c)->now;
}

static uint64_t vadd(struct kw_clock *c, int64_t delay_us, kw_timer_cb cb, void *arg)
{
    struct kw_vclock *v = (struct kw_vclock *)c;
    if (cb == NULL)
        return 0;
    if (delay_us < 0)
        delay_us = 0;
    int64_t deadline = v->now > INT64_MAX - delay_us ? INT64_MAX : v->now + delay_us;

    /* Both arrays grow before either changes, so a failure leaves the clock as it was. */
    if (v->n == NIL - 1 || !grow((void **)&v->heap, &v->cap, v->n + 1, sizeof(*v->heap)))
        return 0;
    uint32_t s = v->free_head;
    if (s == NIL) {
        if (v->nslots == NIL - 1
            || !grow((void **)&v->slots, &v->slots_cap, v->nslots + 1, sizeof(*v->slots)))
            return 0;
        s = v->nslots++;
        v->slots[s].gen = 1;
    } else {
        v->free_head = v->slots[s].pos;
    }
    v->slots[s].cb = cb;
    v->slots[s].arg = arg;
    v->heap[v->n] = (struct entry){ deadline, v->seq++, s };
    sift_up(v, v->n++);
    return (uint64_t)v->slots[s].gen << 32 | s;
}

static void vcancel(struct kw_clock *c, uint64_t id)
{
    struct kw_vclock *v = (struct kw_vclock *)c;
    uint32_t s = (uint32_t)id, gen = (uint32_t)(id >> 32);
    /* A free slot has no callback: an id forged for its next generation must not match. */
    if (gen == 0 || s >= v->nslots || v->slots[s].gen != gen || v->slots[s].cb == NULL)
        return;
    heap_remove(v, v->slots[s].pos);
    slot_free(v, s);
}

struct kw_vclock *kw_vclock_new(int64_t start_us)
{
    struct kw_vclock *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    v->clock = (struct kw_clock){ vnow, vadd, vcancel };
    v->now = start_us < 0 ? 0 : start_us;
    v->free_head = NIL;
    return v;
}

void kw_vclock_destroy(struct kw_vclock *v)
{
    if (v == NULL)
        return;
    free(v->heap);
    free(v->slots);
    free(v);
}

struct kw_clock *kw_vclock_clock(struct kw_vclock *v)
{
    return &v->clock;
}

int kw_vclock_advance(struct kw_vclock *v, int64_t us)
{
    if (us < 0 || v->firing)
        return KW_ERR_INVALID;
    int64_t target = v->now > INT64_MAX - us ? INT64_MAX : v->now + us;
    int fired = 0;
    v->firing = true;
    while (v->n > 0 && v->heap[0].deadline <= target) {
        uint32_t s = v->heap[0].slot;
        kw_timer_cb cb = v->slots[s].cb;
        void *arg = v->slots[s].arg;
        v->now = v->heap[0].deadline;
        heap_remove(v, 0);
        slot_free(v, s);    /* before the callback: cancelling its own id is then a no-op */
        cb(arg);
        fired++;
    }
    v->now = target;
    v->firing = false;
    return fired;
}

int64_t kw_vclock_next_deadline(struct kw_vclock *v)
{
    return v->n > 0 ? v->heap[0].deadline : -1;
}

int kw_vclock_run_next(struct kw_vclock *v)
{
    if (v->firing)
        return KW_ERR_INVALID;
    if (v->n == 0)
        return 0;
    return kw_vclock_advance(v, v->heap[0].deadline - v->now);
}
