/* The transaction coordinator (KIP-98), after Kafka's TransactionCoordinator for the clients'
 * protocol (InitProducerId, AddPartitionsToTxn and AddOffsetsToTxn up to v3, EndTxn up to v3):
 *
 *   Empty --Add*--> Ongoing --EndTxn--> PrepareCommit|PrepareAbort --markers--> Complete*
 *   Complete* --Add*--> Ongoing;  Empty|Complete* --InitProducerId--> Empty (epoch + 1)
 *   Ongoing --InitProducerId or timeout--> epoch + 1, PrepareAbort --markers--> CompleteAbort
 *
 * Each transactional id keeps its producer id; its epoch fences older producers. The
 * coordinator of an id is the broker FindCoordinator names (murmur2 over the live brokers, as
 * for groups), so it moves when that broker goes down; the state is the cluster's, as Kafka's
 * is in __transaction_state, so the new coordinator knows it at once.
 * Markers go into every partition of the transaction when EndTxn arrives; a partition without a
 * leader gets its marker when it has one again, and until then the transaction stays in its
 * Prepare state (CONCURRENT_TRANSACTIONS to whatever would change it).
 * Unlike Kafka: markers are written at once rather than by a background sender, and the state
 * completes without waiting for the markers to be replicated (the partitions' last stable
 * offsets do wait for that); a timed-out transaction is aborted exactly at its timeout, not at
 * the next 10 s check; no transactional-id expiration; coordinator epoch 0 in markers. */
#include "mockbroker/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/add_partitions_to_txn.h"
#include "lib/proto/init_producer_id.h"

/* Kafka's transaction.max.timeout.ms default. */
#define MAX_TIMEOUT_MS 900000

struct part {
    char *topic;
    int32_t partition;
};

struct mb__txn {
    struct mb_cluster *c;
    char *id;
    const char *jid;                /* the id, interned for the journal */
    int64_t producer_id;
    int16_t epoch;                  /* -1 until the first InitProducerId completes */
    int state;                      /* enum mb_txn_state */
    int32_t timeout_ms;
    uint64_t timer;                 /* the open transaction times out */
    struct part *parts;             /* of the current (or last) transaction, in order added */
    int n_parts, cap_parts;
    char **groups;                  /* whose offsets it commits (AddOffsetsToTxn) */
    int n_groups, cap_groups;
    LIST_ENTRY(mb__txn) link;
};

static const char *const state_names[] = {
    "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
};

const char *mb_txn_state_name(int state)
{
    return state >= 0 && state <= MB_TXN_COMPLETE_ABORT ? state_names[state] : "Unknown";
}

static struct mb__txn *txn_find(struct mb_cluster *c, struct kw_str id)
{
    struct mb__txn *t;
    LIST_FOREACH(t, &c->txns, link)
        if (kw_str_eq(id, t->id))
            return t;
    return NULL;
}

static struct mb__txn *txn_find_pid(struct mb_cluster *c, int64_t producer_id)
{
    struct mb__txn *t;
    LIST_FOREACH(t, &c->txns, link)
        if (t->producer_id == producer_id)
            return t;
    return NULL;
}

static struct mb__txn *txn_new(struct mb_cluster *c, struct kw_str id)
{
    struct mb__txn *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->id = mb__dup_str(id)) == NULL) {
        free(t);
        return NULL;
    }
    t->c = c;
    t->jid = mb__intern(c, t->id, strlen(t->id));
    t->producer_id = c->next_producer_id++;
    t->epoch = -1;
    t->state = MB_TXN_EMPTY;
    LIST_INSERT_HEAD(&c->txns, t, link);
    return t;
}

static void clear(struct mb__txn *t)
{
    for (int i = 0; i < t->n_parts; i++)
        free(t->parts[i].topic);
    for (int i = 0; i < t->n_groups; i++)
        free(t->groups[i]);
    t->n_parts = t->n_groups = 0;
}

static void stop_timer(struct mb__txn *t)
{
    if (t->timer)
        kw_timer_cancel(t->c->clock, t->timer);
    t->timer = 0;
}

static struct mb__partition *part_of(struct mb__txn *t, int i)
{
    const struct part *pt = &t->parts[i];
    return mb__partition_find(mb__topic_find(t->c, pt->topic, (int32_t)strlen(pt->topic)),
                              pt->partition);
}

static bool has_part(const struct mb__txn *t, const struct mb__partition *p)
{
    for (int i = 0; i < t->n_parts; i++)
        if (t->parts[i].partition == p->index && strcmp(t->parts[i].topic, p->topic->name) == 0)
            return true;
    return false;
}

static bool has_group(const struct mb__txn *t, struct kw_str group_id)
{
    for (int i = 0; i < t->n_groups; i++)
        if (kw_str_eq(group_id, t->groups[i]))
            return true;
    return false;
}

/* Journals the state (after a request's, or the coordinator's own, change). */
static void journal(struct mb__txn *t, struct mb__req *req)
{
    struct mb_journal_entry *e = req ? mb__jreq(req, MB_JOURNAL_TXN)
                                     : mb__jadd(t->c, MB_JOURNAL_TXN);
    e->what = state_names[t->state];
    e->transactional_id = t->jid;
    e->producer_id = t->producer_id;
    e->producer_epoch = t->epoch;
    e->partitions = t->n_parts;
    e->timeout_ms = t->timeout_ms;
}

static void set_state(struct mb__txn *t, int state, struct mb__req *req)
{
    t->state = state;
    journal(t, req);
    mb__log(t->c, MB_LOG_INFO, "transactional id %s: %s (producer id %" PRId64 " epoch %d, %d "
            "partition%s)", t->id, state_names[state], t->producer_id, t->epoch, t->n_parts,
            t->n_parts == 1 ? "" : "s");
}

/* A Prepare state ends once no partition of the transaction owes its marker. */
static void complete_if_done(struct mb__txn *t, struct mb__req *req)
{
    if (t->state != MB_TXN_PREPARE_COMMIT && t->state != MB_TXN_PREPARE_ABORT)
        return;
    for (int i = 0; i < t->n_parts; i++) {
        const struct mb__partition *p = part_of(t, i);
        if (p && mb__partition_owes(p, t->producer_id))
            return;
    }
    set_state(t, t->state == MB_TXN_PREPARE_COMMIT ? MB_TXN_COMPLETE_COMMIT
                                                   : MB_TXN_COMPLETE_ABORT, req);
}

/* Ends the open transaction: the groups' pending offsets are applied or dropped, each partition
 * gets its marker (or owes it), and the state moves on as far as it can. */
static void end(struct mb__txn *t, bool commit, struct mb__req *req)
{
    struct mb_cluster *c = t->c;
    stop_timer(t);
    set_state(t, commit ? MB_TXN_PREPARE_COMMIT : MB_TXN_PREPARE_ABORT, req);
    for (int i = 0; i < t->n_groups; i++)
        mb__group_txn_offsets_complete(c, t->groups[i], t->producer_id, commit);
    for (int i = 0; i < t->n_parts; i++) {
        struct mb__partition *p = part_of(t, i);
        /* A deleted topic needs no marker. */
        if (p && mb__partition_end_txn(c, p, t->producer_id, t->epoch, commit) < 0)
            mb__log(c, MB_LOG_ERROR, "transactional id %s: out of memory for the marker of "
                    "%s-%d", t->id, p->topic->name, p->index);
    }
    complete_if_done(t, req);
    mb__state_changed(c);
}

/* Fences the producer of an open transaction and aborts it, as Kafka's coordinator does before
 * a new InitProducerId or when the transaction times out: the markers carry the new epoch, so
 * the old producer's next write is refused everywhere. */
static void fence_and_abort(struct mb__txn *t, struct mb__req *req)
{
    if (t->epoch < INT16_MAX)
        t->epoch++;
    end(t, false, req);
}

static void timeout_cb(void *arg)
{
    struct mb__txn *t = arg;
    t->timer = 0;
    if (t->state != MB_TXN_ONGOING)
        return;
    mb__log(t->c, MB_LOG_INFO, "transactional id %s: transaction open for longer than its "
            "timeout (%" PRId32 " ms): aborted, producer fenced", t->id, t->timeout_ms);
    fence_and_abort(t, NULL);
}

/* The transaction moves to Ongoing (a new one begins, its lists cleared, its timeout running). */
static void begin(struct mb__txn *t)
{
    if (t->state == MB_TXN_ONGOING)
        return;
    clear(t);
    t->state = MB_TXN_ONGOING;
    stop_timer(t);
    t->timer = kw_timer_add(t->c->clock, (int64_t)t->timeout_ms * 1000, timeout_cb, t);
}

int mb__txn_coordinator(struct mb_cluster *c, struct kw_str transactional_id)
{
    return mb__group_coordinator(c, transactional_id);
}

/* PRODUCER_FENCED is known to InitProducerId v4+ and the other APIs' v2+ (KIP-588); older
 * clients get INVALID_PRODUCER_EPOCH. */
static int16_t fenced(const struct mb__req *req)
{
    int since = req->api->key == KW_API_INIT_PRODUCER_ID ? 4 : 2;
    return req->version >= since ? KW_EC_PRODUCER_FENCED : KW_EC_INVALID_PRODUCER_EPOCH;
}

/* The checks every request about an existing transaction starts with. */
static int16_t lookup(struct mb__req *req, struct kw_str id, int64_t producer_id,
                      int16_t producer_epoch, struct mb__txn **out)
{
    *out = NULL;
    if (id.len <= 0)
        return KW_EC_INVALID_REQUEST;
    if (mb__txn_coordinator(req->c, id) != req->broker->id)
        return KW_EC_NOT_COORDINATOR;
    struct mb__txn *t = txn_find(req->c, id);
    if (t == NULL || t->producer_id != producer_id)
        return KW_EC_INVALID_PRODUCER_ID_MAPPING;
    complete_if_done(t, req);   /* a partition owing a marker may have been deleted since */
    /* Strict equality: only the coordinator bumps epochs (a newer one is as wrong). */
    if (t->epoch != producer_epoch)
        return fenced(req);
    *out = t;
    return 0;
}

int16_t mb__txn_init(struct mb__req *req, const struct kw_init_producer_id_req *m, int64_t *pid,
                     int16_t *epoch)
{
    struct mb_cluster *c = req->c;
    if (m->transactional_id.len == 0)
        return KW_EC_INVALID_REQUEST;
    if (m->transaction_timeout_ms <= 0 || m->transaction_timeout_ms > MAX_TIMEOUT_MS)
        return KW_EC_INVALID_TRANSACTION_TIMEOUT;
    if (mb__txn_coordinator(c, m->transactional_id) != req->broker->id)
        return KW_EC_NOT_COORDINATOR;
    struct mb__txn *t = txn_find(c, m->transactional_id);
    if (t == NULL && (t = txn_new(c, m->transactional_id)) == NULL)
        return KW_EC_UNKNOWN_SERVER_ERROR;
    complete_if_done(t, req);
    /* v3+ (KIP-360): a producer bumping its own epoch names the one it has; anything but the
     * current one (or a brand new id) means another producer took over. */
    if (m->producer_id >= 0 && t->epoch >= 0 &&
        (m->producer_id != t->producer_id || m->producer_epoch != t->epoch))
        return fenced(req);
    switch (t->state) {
    case MB_TXN_PREPARE_COMMIT:
    case MB_TXN_PREPARE_ABORT:
        return KW_EC_CONCURRENT_TRANSACTIONS;
    case MB_TXN_ONGOING:
        /* As Kafka: abort with a bumped epoch, and let the client retry (which bumps again),
         * so the epoch that fenced is never handed out. */
        mb__log(c, MB_LOG_INFO, "transactional id %s: InitProducerId with a transaction open: "
                "aborting it", t->id);
        fence_and_abort(t, req);
        return KW_EC_CONCURRENT_TRANSACTIONS;
    default:
        break;
    }
    if (t->epoch >= INT16_MAX - 1) {
        /* The epoch is exhausted: a fresh producer id for the same transactional id. */
        t->producer_id = c->next_producer_id++;
        t->epoch = 0;
    } else {
        t->epoch++;
    }
    t->timeout_ms = m->transaction_timeout_ms;
    clear(t);
    set_state(t, MB_TXN_EMPTY, req);
    *pid = t->producer_id;
    *epoch = t->epoch;
    return 0;
}

int16_t mb__txn_check(struct mb__req *req, struct kw_str transactional_id, int64_t producer_id,
                      int16_t producer_epoch)
{
    struct mb__txn *t;
    int16_t ec = lookup(req, transactional_id, producer_id, producer_epoch, &t);
    if (ec)
        return ec;
    if (t->state == MB_TXN_PREPARE_COMMIT || t->state == MB_TXN_PREPARE_ABORT)
        return KW_EC_CONCURRENT_TRANSACTIONS;
    return 0;
}

int16_t mb__txn_add_partitions(struct mb__req *req, const struct kw_add_partitions_to_txn_req *m)
{
    struct mb__txn *t = txn_find(req->c, m->transactional_id);
    if (t == NULL)
        return KW_EC_INVALID_PRODUCER_ID_MAPPING;
    bool was = t->state == MB_TXN_ONGOING;
    int before = t->n_parts;
    begin(t);
    for (int32_t i = 0; i < m->n_topics; i++) {
        const struct kw_add_partitions_to_txn_topic *tp = &m->topics[i];
        struct mb__topic *topic = mb__topic_find(req->c, tp->name.ptr, tp->name.len);
        for (int32_t j = 0; j < tp->n_partitions && topic; j++) {
            struct mb__partition *p = mb__partition_find(topic, tp->partitions[j]);
            if (p == NULL || has_part(t, p))
                continue;
            if (!mb__grow((void **)&t->parts, &t->cap_parts, t->n_parts, sizeof(*t->parts)) ||
                (t->parts[t->n_parts].topic = strdup(topic->name)) == NULL)
                return KW_EC_UNKNOWN_SERVER_ERROR;
            t->parts[t->n_parts++].partition = p->index;
        }
    }
    /* Kafka writes the transaction's new partition set to its log: one journal line. */
    if (!was || t->n_parts != before)
        set_state(t, MB_TXN_ONGOING, req);
    return 0;
}

int16_t mb__txn_add_group(struct mb__req *req, struct kw_str transactional_id,
                          struct kw_str group_id)
{
    struct mb__txn *t = txn_find(req->c, transactional_id);
    if (t == NULL)
        return KW_EC_INVALID_PRODUCER_ID_MAPPING;
    bool was = t->state == MB_TXN_ONGOING;
    begin(t);
    if (has_group(t, group_id)) {
        if (!was)
            set_state(t, MB_TXN_ONGOING, req);
        return 0;
    }
    if (!mb__grow((void **)&t->groups, &t->cap_groups, t->n_groups, sizeof(*t->groups)) ||
        (t->groups[t->n_groups] = mb__dup_str(group_id)) == NULL)
        return KW_EC_UNKNOWN_SERVER_ERROR;
    t->n_groups++;
    set_state(t, MB_TXN_ONGOING, req);
    return 0;
}

int16_t mb__txn_end(struct mb__req *req, struct kw_str transactional_id, int64_t producer_id,
                    int16_t producer_epoch, bool commit)
{
    struct mb__txn *t;
    int16_t ec = lookup(req, transactional_id, producer_id, producer_epoch, &t);
    if (ec)
        return ec;
    switch (t->state) {
    case MB_TXN_ONGOING:
        end(t, commit, req);
        return 0;
    case MB_TXN_COMPLETE_COMMIT:
    case MB_TXN_COMPLETE_ABORT:
        /* A retry of the EndTxn that completed it is answered again; the other outcome is a
         * client bug. */
        return (t->state == MB_TXN_COMPLETE_COMMIT) == commit ? 0 : KW_EC_INVALID_TXN_STATE;
    case MB_TXN_PREPARE_COMMIT:
    case MB_TXN_PREPARE_ABORT:
        return (t->state == MB_TXN_PREPARE_COMMIT) == commit ? KW_EC_CONCURRENT_TRANSACTIONS
                                                             : KW_EC_INVALID_TXN_STATE;
    default:
        /* Empty: nothing was added since InitProducerId (clients skip EndTxn then). */
        return KW_EC_INVALID_TXN_STATE;
    }
}

int16_t mb__txn_offsets_check(struct mb_cluster *c, struct kw_str transactional_id,
                              int64_t producer_id, int16_t producer_epoch, struct kw_str group_id)
{
    struct mb__txn *t = transactional_id.len > 0 ? txn_find(c, transactional_id) : NULL;
    if (t == NULL || t->producer_id != producer_id)
        return KW_EC_INVALID_PRODUCER_ID_MAPPING;
    if (t->epoch != producer_epoch)
        return KW_EC_INVALID_PRODUCER_EPOCH;
    /* The offsets must belong to the open transaction (AddOffsetsToTxn first), or nothing
     * would ever commit or drop them (KIP-890 verifies this in Kafka 3.6+). */
    if (t->state != MB_TXN_ONGOING || !has_group(t, group_id))
        return KW_EC_INVALID_TXN_STATE;
    return 0;
}

int16_t mb__txn_produce_check(struct mb_cluster *c, const struct mb__partition *p,
                              struct kw_str transactional_id, int64_t producer_id,
                              int16_t producer_epoch, bool transactional)
{
    if (producer_id < 0)
        return 0;
    if (!transactional) {
        /* Kafka's ProducerAppendInfo: no plain write into a partition the producer's open
         * transaction holds. */
        const struct mb__txn *t = txn_find_pid(c, producer_id);
        return t && t->state == MB_TXN_ONGOING && has_part(t, p) ? KW_EC_INVALID_TXN_STATE : 0;
    }
    const struct mb__txn *t = transactional_id.len >= 0 ? txn_find(c, transactional_id)
                                                       : txn_find_pid(c, producer_id);
    if (t == NULL || t->producer_id != producer_id)
        return KW_EC_INVALID_PRODUCER_ID_MAPPING;
    /* KIP-890's verification answers a wrong epoch as fenced, which Produce calls
     * INVALID_PRODUCER_EPOCH. */
    if (t->epoch != producer_epoch)
        return KW_EC_INVALID_PRODUCER_EPOCH;
    if (t->state != MB_TXN_ONGOING || !has_part(t, p))
        return KW_EC_INVALID_TXN_STATE;
    return 0;
}

void mb__txn_partition_led(struct mb_cluster *c, struct mb__partition *p)
{
    if (p->n_txns == 0)
        return;
    mb__partition_write_markers(c, p);
    struct mb__txn *t;
    LIST_FOREACH(t, &c->txns, link)
        complete_if_done(t, NULL);
}

void mb__txns_destroy(struct mb_cluster *c)
{
    struct mb__txn *t;
    while ((t = LIST_FIRST(&c->txns)) != NULL) {
        LIST_REMOVE(t, link);
        stop_timer(t);
        clear(t);
        free(t->parts);
        free(t->groups);
        free(t->id);
        free(t);
    }
}

/* --- inspection ------------------------------------------------------------------------------- */

int mb__txn_ids(struct mb_cluster *c, const char **ids, int max)
{
    int n = 0;
    const struct mb__txn *t;
    LIST_FOREACH(t, &c->txns, link) {
        if (n < max)
            ids[n] = t->id;
        n++;
    }
    return n;
}

struct info_call {
    const char *id;
    struct mb_txn_info *out;
    int rc;
};

static void info_call(struct mb_cluster *c, void *arg)
{
    struct info_call *a = arg;
    struct kw_str id = kw_str_c(a->id);
    const struct mb__txn *t = txn_find(c, id);
    if (t == NULL) {
        a->rc = KW_EC_TRANSACTIONAL_ID_NOT_FOUND;
        return;
    }
    *a->out = (struct mb_txn_info){
        .producer_id = t->producer_id, .producer_epoch = t->epoch, .state = t->state,
        .timeout_ms = t->timeout_ms, .n_partitions = t->n_parts,
        .coordinator = mb__txn_coordinator(c, id),
    };
    a->rc = 0;
}

int mb_txn_info(struct mb_cluster *c, const char *transactional_id, struct mb_txn_info *out)
{
    struct info_call a = { transactional_id, out, 0 };
    mb__call(c, info_call, &a);
    return a.rc;
}
