/* Simulated replication: each follower replica has a position in the leader's log that moves on
 * the cluster's loop (at once, some time or batches behind, or not at all); the high watermark,
 * the ISR and acks=-1 answers follow from those positions as in Kafka (Partition.scala:
 * maybeExpandIsr, maybeShrinkIsr with replica.lag.time.max.ms, checkEnoughReplicasReachOffset).
 * Brokers go down and up, leaders are elected from the ISR (or uncleanly), and a new leader's
 * log is the truth: what it never copied is truncated away on every replica.
 * Nothing here adds a timer unless a follower lags, so a cluster whose followers keep up leaves
 * a virtual clock untouched. */
#include "mockbroker/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/errors.h"

static int fail(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *errstr, size_t size, const char *fmt, ...)
{
    if (errstr && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool alive(const struct mb_cluster *c, int broker)
{
    return broker >= 1 && broker <= c->n_brokers &&
           c->brokers[broker - 1].state != MB_BROKER_DOWN;
}

static int index_of(const struct mb__partition *p, int broker)
{
    for (int i = 0; i < p->n_replicas; i++)
        if (p->replicas[i] == broker)
            return i;
    return -1;
}

static uint64_t isr_mask(const struct mb__partition *p)
{
    uint64_t m = 0;
    for (int i = 0; i < p->n_isr; i++)
        m |= 1ULL << (p->isr[i] - 1);
    return m;
}

static struct mb_journal_entry *jpart(struct mb_cluster *c, enum mb_journal_kind kind,
                                      const struct mb__partition *p, const char *what)
{
    struct mb_journal_entry *e = mb__jadd(c, kind);
    e->topic = p->topic->jname;
    e->partition = p->index;
    e->what = what;
    return e;
}

/* Sets the ISR to the replicas in mask, kept in assignment order. */
static void isr_assign(struct mb_cluster *c, struct mb__partition *p, uint64_t mask,
                       const char *what)
{
    uint64_t before = isr_mask(p);
    if (mask == before)
        return;
    p->n_isr = 0;
    for (int i = 0; i < p->n_replicas; i++)
        if (mask & (1ULL << (p->replicas[i] - 1)))
            p->isr[p->n_isr++] = p->replicas[i];
    struct mb_journal_entry *e = jpart(c, MB_JOURNAL_ISR, p, what);
    e->isr = isr_mask(p);
    e->isr_before = before;
    mb__log(c, MB_LOG_INFO, "%s-%d: ISR %s to %d replica%s", p->topic->name, p->index, what,
            p->n_isr, p->n_isr == 1 ? "" : "s");
}

static void cancel(struct mb_cluster *c, uint64_t *timer)
{
    if (*timer)
        kw_timer_cancel(c->clock, *timer);
    *timer = 0;
}

/* --- positions, the high watermark and the ISR ------------------------------------------------ */

static void settle(struct mb_cluster *c, struct mb__partition *p, bool expand);
static void expire_cb(void *arg);
static void advance_cb(void *arg);

/* The time the follower was last caught up: just before the first batch it lacks arrived. */
static int64_t behind_since(const struct mb__partition *p, const struct mb__replica *r)
{
    size_t k = mb__partition_seek(p, r->pos);
    return k < p->n_batches ? p->batches[k].append_us : 0;
}

/* An in-sync follower that lacks data leaves the ISR replica.lag.time.max.ms after it was last
 * caught up; anything else needs no timer. */
static void schedule_expiry(struct mb_cluster *c, struct mb__partition *p, struct mb__replica *r)
{
    cancel(c, &r->expire_timer);
    if (r->broker == p->leader || p->leader < 0 || r->pos >= p->log_end ||
        !mb__partition_in_isr(p, r->broker) || !alive(c, r->broker))
        return;
    int64_t due = behind_since(p, r) + c->cfg.replica_lag_time_max_ms * 1000;
    r->expire_timer = kw_timer_add(c->clock, due - kw_now_us(c->clock), expire_cb, r);
}

/* Delay mode: the next batch this follower lacks is copied lag_us after its append. */
static void schedule_advance(struct mb_cluster *c, struct mb__partition *p, struct mb__replica *r)
{
    if (r->advance_timer || r->mode != MB_FOLLOWER_DELAY || r->pos >= p->log_end ||
        p->leader < 0 || r->broker == p->leader || !alive(c, r->broker))
        return;
    size_t k = mb__partition_seek(p, r->pos);
    if (k >= p->n_batches)
        return;
    int64_t due = p->batches[k].append_us + r->lag_us;
    r->advance_timer = kw_timer_add(c->clock, due - kw_now_us(c->clock), advance_cb, r);
}

/* Copies what the follower's mode lets it copy now. True if it moved. */
static bool follow(struct mb_cluster *c, struct mb__partition *p, struct mb__replica *r)
{
    int64_t pos = r->pos < p->log_start ? p->log_start : r->pos;
    if (r->broker == p->leader) {
        pos = p->log_end;
    } else if (alive(c, r->broker) && p->leader >= 0) {
        switch (r->mode) {
        case MB_FOLLOWER_IMMEDIATE:
            pos = p->log_end;
            break;
        case MB_FOLLOWER_BATCHES: {
            size_t live = p->n_batches - p->first_batch;
            if (live > (size_t)r->lag_batches) {
                int64_t to = p->batches[p->n_batches - (size_t)r->lag_batches - 1].last_offset + 1;
                if (to > pos)
                    pos = to;
            }
            break;
        }
        case MB_FOLLOWER_DELAY: {
            int64_t now = kw_now_us(c->clock);
            for (size_t k = mb__partition_seek(p, pos);
                 k < p->n_batches && p->batches[k].append_us + r->lag_us <= now; k++)
                pos = p->batches[k].last_offset + 1;
            break;
        }
        default:
            break;
        }
    }
    bool moved = pos != r->pos;
    r->pos = pos;
    return moved;
}

/* After positions or membership changed: the ISR grows by followers that caught up (when they
 * fetched: not right after an ISR was set by command), the high watermark follows the ISR,
 * timers are set for what lags, and whoever waits is told. */
static void settle(struct mb_cluster *c, struct mb__partition *p, bool expand)
{
    if (p->leader >= 0) {
        int64_t hw = p->log_end;
        for (int i = 0; i < p->n_replicas; i++)
            if (mb__partition_in_isr(p, p->replicas[i]) && p->repl[i].pos < hw)
                hw = p->repl[i].pos;
        /* Kafka's maybeExpandIsr: a live, fetching follower at or past the high watermark and
         * inside the current leader epoch is in sync again. */
        int64_t floor = hw > p->high_watermark ? hw : p->high_watermark;
        uint64_t mask = isr_mask(p);
        for (int i = 0; i < p->n_replicas && expand; i++) {
            const struct mb__replica *r = &p->repl[i];
            if (!(mask & (1ULL << (r->broker - 1))) && alive(c, r->broker) &&
                r->mode != MB_FOLLOWER_STOPPED && r->pos >= floor && r->pos >= p->epoch_start)
                mask |= 1ULL << (r->broker - 1);
        }
        isr_assign(c, p, mask, "expand");
        if (hw > p->high_watermark) {
            p->high_watermark = hw;
            mb__fetch_wake(c);
        }
    }
    if (p->high_watermark > p->log_end)
        p->high_watermark = p->log_end;
    if (p->high_watermark < p->log_start)
        p->high_watermark = p->log_start;
    for (int i = 0; i < p->n_replicas; i++) {
        schedule_expiry(c, p, &p->repl[i]);
        schedule_advance(c, p, &p->repl[i]);
    }
    if (!LIST_EMPTY(&c->produce_waiters))
        mb__produce_wake(c);
    mb__state_changed(c);
}

static void expire_cb(void *arg)
{
    struct mb__replica *r = arg;
    struct mb__partition *p = r->p;
    struct mb_cluster *c = p->topic->c;
    r->expire_timer = 0;
    if (r->pos < p->log_end && mb__partition_in_isr(p, r->broker) && r->broker != p->leader) {
        mb__log(c, MB_LOG_INFO, "%s-%d: follower %d behind for replica.lag.time.max.ms (%" PRId64
                " ms), out of the ISR", p->topic->name, p->index, r->broker,
                c->cfg.replica_lag_time_max_ms);
        isr_assign(c, p, isr_mask(p) & ~(1ULL << (r->broker - 1)), "shrink");
    }
    settle(c, p, true);
}

static void advance_cb(void *arg)
{
    struct mb__replica *r = arg;
    struct mb__partition *p = r->p;
    r->advance_timer = 0;
    follow(p->topic->c, p, r);
    settle(p->topic->c, p, true);
}

/* --- partitions ------------------------------------------------------------------------------- */

void mb__repl_init(struct mb_cluster *c, struct mb__partition *p)
{
    mb__repl_release(c, p);
    for (int i = 0; i < p->n_replicas; i++) {
        const struct mb__follow_default *d = &c->follow[p->replicas[i] - 1];
        p->repl[i] = (struct mb__replica){
            .p = p, .broker = p->replicas[i], .pos = p->log_end, .mode = d->mode,
            .lag_us = d->lag_us, .lag_batches = d->lag_batches,
        };
    }
    p->epoch_start = p->log_end;
    /* A replica assigned to a broker that is down (CreateTopics may name one) is out of the
     * ISR, and cannot lead. */
    uint64_t mask = 0;
    for (int i = 0; i < p->n_isr; i++)
        if (alive(c, p->isr[i]))
            mask |= 1ULL << (p->isr[i] - 1);
    if (mask != isr_mask(p) && mask) {
        p->n_isr = 0;
        for (int i = 0; i < p->n_replicas; i++)
            if (mask & (1ULL << (p->replicas[i] - 1)))
                p->isr[p->n_isr++] = p->replicas[i];
    }
    if (p->leader >= 0 && !alive(c, p->leader))
        p->leader = mask ? p->isr[0] : -1;
}

void mb__repl_release(struct mb_cluster *c, struct mb__partition *p)
{
    for (int i = 0; i < MB_MAX_REPLICAS; i++) {
        cancel(c, &p->repl[i].advance_timer);
        cancel(c, &p->repl[i].expire_timer);
    }
}

void mb__repl_appended(struct mb_cluster *c, struct mb__partition *p)
{
    if (p->n_replicas == 1 && p->leader == p->replicas[0]) {
        /* The common single-replica case: the leader alone is the ISR. */
        p->repl[0].pos = p->log_end;
        if (p->high_watermark != p->log_end) {
            p->high_watermark = p->log_end;
            mb__fetch_wake(c);
            if (!LIST_EMPTY(&c->produce_waiters))
                mb__produce_wake(c);
        }
        return;
    }
    for (int i = 0; i < p->n_replicas; i++)
        follow(c, p, &p->repl[i]);
    settle(c, p, true);
}

bool mb__repl_acks_done(const struct mb__partition *p, int broker, int32_t leader_epoch,
                        int64_t required, int16_t *ec)
{
    if (p == NULL) {
        *ec = KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
        return true;
    }
    if (p->leader != broker || p->leader_epoch != leader_epoch) {
        *ec = KW_EC_NOT_LEADER_OR_FOLLOWER;
        return true;
    }
    if (p->high_watermark >= required) {
        *ec = p->n_isr < p->topic->min_insync_replicas ? KW_EC_NOT_ENOUGH_REPLICAS_AFTER_APPEND : 0;
        return true;
    }
    return false;
}

/* --- leaders ---------------------------------------------------------------------------------- */

/* `broker` leads from now: a new epoch, and its log is the truth for every replica. */
static void become_leader(struct mb_cluster *c, struct mb__partition *p, int broker,
                          const char *what)
{
    int old = p->leader;
    int i = index_of(p, broker);
    int64_t end = p->repl[i].pos;
    if (end < p->log_start)
        end = p->log_start;
    if (end < p->log_end) {
        struct mb_journal_entry *e = jpart(c, MB_JOURNAL_TRUNCATE, p, NULL);
        e->offset_before = p->log_end;
        e->offset = end;
        mb__log(c, MB_LOG_INFO, "%s-%d: new leader %d lacks offsets %" PRId64 "..%" PRId64
                ": truncated", p->topic->name, p->index, broker, end, p->log_end - 1);
        mb__partition_truncate(p, end);
    }
    for (int k = 0; k < p->n_replicas; k++)
        if (p->repl[k].pos > p->log_end)
            p->repl[k].pos = p->log_end;
    p->leader = broker;
    p->leader_epoch++;
    p->epoch_start = p->log_end;
    p->repl[i].pos = p->log_end;
    uint64_t mask = isr_mask(p) | (1ULL << (broker - 1));
    if (strcmp(what, "unclean") == 0)
        mask = 1ULL << (broker - 1);
    isr_assign(c, p, mask, "set");
    struct mb_journal_entry *e = jpart(c, MB_JOURNAL_LEADER, p, what);
    e->from = old;
    e->to = broker;
    e->leader_epoch = p->leader_epoch;
    e->offset = p->log_end;
    mb__log(c, MB_LOG_INFO, "%s-%d: leader %d -> %d (%s), epoch %d", p->topic->name, p->index,
            old, broker, what, p->leader_epoch);
    for (int k = 0; k < p->n_replicas; k++)
        follow(c, p, &p->repl[k]);
    settle(c, p, true);
    /* Transaction markers cut by the truncation, or owed while the partition had no leader,
     * go to the new leader now, as Kafka's coordinator retries them. */
    mb__txn_partition_led(c, p);
    mb__fetch_wake(c);          /* long polls on the old leader learn it is no more */
}

/* The leader is gone (down, or removed by a reassignment): the first live in-sync replica in
 * assignment order leads, else with unclean election the first live replica, else nobody. */
static void elect(struct mb_cluster *c, struct mb__partition *p, int gone, const char *what)
{
    int pick = -1;
    for (int i = 0; i < p->n_replicas && pick < 0; i++)
        if (p->replicas[i] != gone && alive(c, p->replicas[i]) &&
            mb__partition_in_isr(p, p->replicas[i]))
            pick = p->replicas[i];
    if (pick >= 0) {
        if (gone >= 1)
            isr_assign(c, p, isr_mask(p) & ~(1ULL << (gone - 1)), "shrink");
        become_leader(c, p, pick, what);
        return;
    }
    for (int i = 0; i < p->n_replicas && pick < 0 && p->topic->unclean; i++)
        if (p->replicas[i] != gone && alive(c, p->replicas[i]))
            pick = p->replicas[i];
    if (pick >= 0) {
        become_leader(c, p, pick, "unclean");
        return;
    }
    /* No one may lead. Like Kafka, the ISR keeps its last member, so that replica (and only it,
     * without unclean election) leads when it returns. */
    if (p->leader >= 0) {
        struct mb_journal_entry *e = jpart(c, MB_JOURNAL_LEADER, p, "none");
        e->from = p->leader;
        e->to = -1;
        p->leader = -1;
        p->leader_epoch++;
        e->leader_epoch = p->leader_epoch;
        mb__log(c, MB_LOG_WARN, "%s-%d: no replica may lead: leaderless", p->topic->name,
                p->index);
    }
    settle(c, p, true);
    mb__fetch_wake(c);
}

/* --- brokers ---------------------------------------------------------------------------------- */

static void broker_down(struct mb_cluster *c, struct mb__broker *b)
{
    struct mb__topic *t;
    b->state = MB_BROKER_DOWN;
    mb__broker_unlisten(b, "broker down");
    LIST_FOREACH(t, &c->topics, link)
        for (int32_t k = 0; k < t->n_partitions; k++) {
            struct mb__partition *p = &t->partitions[k];
            int i = index_of(p, b->id);
            if (i < 0)
                continue;
            cancel(c, &p->repl[i].advance_timer);
            cancel(c, &p->repl[i].expire_timer);
            if (p->leader == b->id)
                elect(c, p, b->id, "election");
            else if (p->leader >= 0 && mb__partition_in_isr(p, b->id)) {
                isr_assign(c, p, isr_mask(p) & ~(1ULL << (b->id - 1)), "shrink");
                settle(c, p, true);
            }
        }
}

static void broker_up(struct mb_cluster *c, struct mb__broker *b)
{
    struct mb__topic *t;
    LIST_FOREACH(t, &c->topics, link)
        for (int32_t k = 0; k < t->n_partitions; k++) {
            struct mb__partition *p = &t->partitions[k];
            int i = index_of(p, b->id);
            if (i < 0)
                continue;
            if (p->leader < 0) {
                if (mb__partition_in_isr(p, b->id))
                    become_leader(c, p, b->id, "election");
                else if (t->unclean)
                    become_leader(c, p, b->id, "unclean");
                continue;
            }
            follow(c, p, &p->repl[i]);
            settle(c, p, true);
        }
}

int mb__broker_set_state(struct mb_cluster *c, int id, int state, char *errstr, size_t size)
{
    if (id < 1 || id > c->n_brokers)
        return fail(errstr, size, "no broker %d", id);
    struct mb__broker *b = &c->brokers[id - 1];
    if (b->state == state)
        return 0;
    if (state == MB_BROKER_BLACKHOLE && b->state == MB_BROKER_DOWN)
        return fail(errstr, size, "broker %d is down: bring it up before blackholing it", id);
    if (state == MB_BROKER_UP && b->state == MB_BROKER_DOWN &&
        mb__broker_listen(b, errstr, size) != 0)
        return -1;
    int was = b->state;
    struct mb_journal_entry *e = mb__jadd(c, MB_JOURNAL_BROKER);
    e->broker = id;
    e->what = mb_broker_state_name(state);
    mb__log(c, MB_LOG_INFO, "broker %d %s", id, mb_broker_state_name(state));
    if (state == MB_BROKER_DOWN) {
        broker_down(c, b);
    } else {
        b->state = state;
        struct mb__conn *conn, *next;
        /* Blackholed connections stop or resume reading and writing. */
        for (conn = LIST_FIRST(&b->conns); conn; conn = next) {
            next = LIST_NEXT(conn, link);
            mb__conn_update(conn);
            if (state == MB_BROKER_UP)
                mb__conn_flush(conn);
        }
        if (was == MB_BROKER_DOWN)
            broker_up(c, b);
    }
    mb__state_changed(c);
    return 0;
}

/* --- commands on partitions ------------------------------------------------------------------- */

static int check_replica(struct mb_cluster *c, const struct mb__partition *p, int broker,
                         const char *what, char *errstr, size_t size)
{
    if (index_of(p, broker) < 0)
        return fail(errstr, size, "%s: broker %d is no replica of %s-%d", what, broker,
                    p->topic->name, p->index);
    if (!alive(c, broker))
        return fail(errstr, size, "%s: broker %d is down", what, broker);
    return 0;
}

int mb__leader_move(struct mb_cluster *c, struct mb__partition *p, int broker, char *errstr,
                    size_t size)
{
    if (broker < 0)
        broker = p->replicas[0];
    if (check_replica(c, p, broker, "leader_move", errstr, size) != 0)
        return -1;
    if (!mb__partition_in_isr(p, broker))
        return fail(errstr, size, "leader_move: broker %d is not in the ISR of %s-%d", broker,
                    p->topic->name, p->index);
    if (p->leader != broker)
        become_leader(c, p, broker, "move");
    return 0;
}

int mb__isr_set(struct mb_cluster *c, struct mb__partition *p, const int *brokers, int n,
                char *errstr, size_t size)
{
    uint64_t mask = 0;
    for (int i = 0; i < n; i++) {
        if (check_replica(c, p, brokers[i], "isr_set", errstr, size) != 0)
            return -1;
        mask |= 1ULL << (brokers[i] - 1);
    }
    if (p->leader >= 0 && !(mask & (1ULL << (p->leader - 1))))
        return fail(errstr, size, "isr_set: the ISR of %s-%d must hold its leader %d",
                    p->topic->name, p->index, p->leader);
    isr_assign(c, p, mask, "set");
    if (p->leader < 0)
        elect(c, p, -1, "election");
    else
        settle(c, p, false);
    return 0;
}

int mb__replicas_set(struct mb_cluster *c, struct mb__partition *p, const int *brokers, int n,
                     char *errstr, size_t size)
{
    uint64_t mask = 0;
    for (int i = 0; i < n; i++) {
        if (brokers[i] < 1 || brokers[i] > c->n_brokers)
            return fail(errstr, size, "replicas_set: no broker %d", brokers[i]);
        if (mask & (1ULL << (brokers[i] - 1)))
            return fail(errstr, size, "replicas_set: broker %d named twice", brokers[i]);
        mask |= 1ULL << (brokers[i] - 1);
    }
    /* As Kafka's reassignment: new replicas copy the log first, old ones leave after. A replica
     * can lead afterwards if it is in sync now, or new, live and copying at once. */
    bool leader_stays = p->leader >= 0 && (mask & (1ULL << (p->leader - 1)));
    bool can_lead = leader_stays;
    for (int i = 0; i < n && !can_lead; i++) {
        int k = index_of(p, brokers[i]);
        uint8_t mode = k >= 0 ? p->repl[k].mode : c->follow[brokers[i] - 1].mode;
        can_lead = alive(c, brokers[i]) &&
                   (k >= 0 ? mb__partition_in_isr(p, brokers[i]) : mode == MB_FOLLOWER_IMMEDIATE);
    }
    if (!can_lead && p->leader >= 0)
        return fail(errstr, size, "replicas_set: no replica of %s-%d would be in sync to lead",
                    p->topic->name, p->index);
    struct mb__replica repl[MB_MAX_REPLICAS];
    for (int i = 0; i < n; i++) {
        int k = index_of(p, brokers[i]);
        if (k >= 0) {
            repl[i] = p->repl[k];
        } else {
            const struct mb__follow_default *d = &c->follow[brokers[i] - 1];
            repl[i] = (struct mb__replica){ .p = p, .broker = brokers[i], .pos = p->log_start,
                                            .mode = d->mode, .lag_us = d->lag_us,
                                            .lag_batches = d->lag_batches };
        }
        repl[i].advance_timer = repl[i].expire_timer = 0;
    }
    mb__repl_release(c, p);
    uint64_t isr = isr_mask(p) & mask;
    int old_leader = p->leader;
    p->n_replicas = n;
    for (int i = 0; i < n; i++) {
        p->replicas[i] = brokers[i];
        p->repl[i] = repl[i];
    }
    isr_assign(c, p, isr, "set");
    if (old_leader >= 0 && !leader_stays) {
        /* New replicas copy from the old leader before it goes, then an in-sync one leads. */
        for (int i = 0; i < n; i++) {
            follow(c, p, &p->repl[i]);
            if (p->repl[i].pos >= p->log_end && alive(c, brokers[i]) &&
                p->repl[i].mode != MB_FOLLOWER_STOPPED)
                isr |= 1ULL << (brokers[i] - 1);
        }
        isr_assign(c, p, isr, "set");
        elect(c, p, old_leader, "reassign");
        return 0;
    }
    for (int i = 0; i < n; i++)
        follow(c, p, &p->repl[i]);
    settle(c, p, true);
    return 0;
}

static void set_mode(struct mb_cluster *c, struct mb__partition *p, int broker, int mode,
                     int64_t lag_us, int32_t lag_batches)
{
    int i = index_of(p, broker);
    if (i < 0)
        return;
    struct mb__replica *r = &p->repl[i];
    cancel(c, &r->advance_timer);
    r->mode = (uint8_t)mode;
    r->lag_us = lag_us;
    r->lag_batches = lag_batches;
    follow(c, p, r);
    settle(c, p, true);
}

int mb__follower_set(struct mb_cluster *c, struct mb__partition *p, int broker, int mode,
                     int64_t lag_us, int32_t lag_batches, char *errstr, size_t size)
{
    if (broker < 1 || broker > c->n_brokers)
        return fail(errstr, size, "follower: no broker %d", broker);
    if (p) {
        if (index_of(p, broker) < 0)
            return fail(errstr, size, "follower: broker %d is no replica of %s-%d", broker,
                        p->topic->name, p->index);
        set_mode(c, p, broker, mode, lag_us, lag_batches);
        return 0;
    }
    c->follow[broker - 1] = (struct mb__follow_default){ (uint8_t)mode, lag_us, lag_batches };
    struct mb__topic *t;
    LIST_FOREACH(t, &c->topics, link)
        for (int32_t k = 0; k < t->n_partitions; k++)
            set_mode(c, &t->partitions[k], broker, mode, lag_us, lag_batches);
    return 0;
}
