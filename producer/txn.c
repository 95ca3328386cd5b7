/* The transactional producer (KIP-98), in librdkafka's model. init finds the transaction
 * coordinator (FindCoordinator, key type 1) and takes the producer id and epoch for
 * transactional.id from it (InitProducerId), which fences older instances. Inside a transaction,
 * a partition's first message puts it in the next AddPartitionsToTxn; its batches (marked
 * transactional) leave only once the coordinator has it. Consumer offsets join through
 * AddOffsetsToTxn, then TxnOffsetCommit to the group's coordinator. Commit sends every message,
 * then EndTxn(commit); abort purges what is queued, waits for what is in flight, then
 * EndTxn(abort), and bumps the epoch (InitProducerId with the current id and epoch, KIP-360)
 * when an error left the sequence numbers unusable.
 *
 * Errors fall in librdkafka's classes: coordinator errors are retried (looking the coordinator
 * up again when it moved), a failed message or a refused partition makes the transaction
 * abortable, fencing and authorization errors are fatal. The calls wait in the application's
 * thread for the loop to reach a state; a call that times out leaves the work going, and the
 * same call resumes it. */
#include "producer/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/add_offsets_to_txn.h"
#include "lib/proto/add_partitions_to_txn.h"
#include "lib/proto/apis.h"
#include "lib/proto/end_txn.h"
#include "lib/proto/find_coordinator.h"
#include "lib/proto/txn_offset_commit.h"

/* kp__txn_offsets.phase */
enum { OFF_ADD, OFF_FIND, OFF_COMMIT };
/* What an answer's error calls for, mildest first. */
enum action { ACT_OK, ACT_RETRY, ACT_ABORT, ACT_BUMP, ACT_FATAL };
/* p->txn.off_state */
enum { OFF_NONE, OFF_RUNNING, OFF_DONE };

/* librdkafka waits this long between AddPartitionsToTxn tries on CONCURRENT_TRANSACTIONS: the
 * coordinator is finishing the previous transaction's markers, which takes milliseconds. */
#define CONCURRENT_BACKOFF_US 20000

static const char *state_name(int s)
{
    static const char *const names[] = {
        "NONE", "INIT", "WAIT_PID", "READY_NOT_ACKED", "READY", "IN_TRANSACTION",
        "BEGIN_COMMIT", "COMMITTING_TRANSACTION", "COMMIT_NOT_ACKED", "BEGIN_ABORT",
        "ABORTING_TRANSACTION", "ABORT_NOT_ACKED", "ABORTABLE_ERROR", "FATAL_ERROR",
    };
    return s >= 0 && s <= KP__TX_FATAL ? names[s] : "?";
}

/* Lock held. Wakes the calls waiting for a state. */
static void set_state(struct kp_producer *p, int s)
{
    struct kp__txn *t = &p->txn;
    if (t->state == s)
        return;
    kp__dbg(p, KP__DBG_EOS, "transaction state %s -> %s", state_name(t->state), state_name(s));
    t->state = s;
    t->flushing = s == KP__TX_BEGIN_COMMIT;
    pthread_cond_broadcast(&p->cond);
}

static bool is_transport(int ec)
{
    return ec == KP_ERR__TRANSPORT || ec == KP_ERR__TIMED_OUT || ec == KP_ERR__BAD_MSG;
}

/* Fills err (if not NULL) and returns code. */
static int result(struct kp_txn_error *err, int code, bool retriable, bool abort, bool fatal,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int result(struct kp_txn_error *err, int code, bool retriable, bool abort, bool fatal,
                  const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->retriable = retriable;
    err->txn_requires_abort = abort;
    err->fatal = fatal;
    err->str[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->str, sizeof(err->str), fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A call's answer when the state does not allow it (lock held): the transaction's own error when
 * it failed, else KP_ERR__STATE (librdkafka's rd_kafka_txn_require_state). */
static int state_error(struct kp_producer *p, struct kp_txn_error *err, const char *call)
{
    struct kp__txn *t = &p->txn;
    if (t->state == KP__TX_FATAL || p->fatal_err)
        return result(err, p->fatal_err ? p->fatal_err : t->err, false, false, true, "%s",
                      p->fatal_err ? p->fatal_reason : t->errstr);
    if (t->state == KP__TX_ABORTABLE)
        return result(err, t->err, false, true, false, "%s", t->errstr);
    return result(err, KP_ERR__STATE, false, false, false, "%s is not valid in transaction "
                  "state %s", call, state_name(t->state));
}

static int not_transactional(struct kp_txn_error *err)
{
    return result(err, KP_ERR__NOT_CONFIGURED, false, false, false, "the producer is not "
                  "transactional: transactional.id is not set");
}

/* --- errors raised by the loop ---------------------------------------------------------------- */

void kp__txn_abortable_locked(struct kp_producer *p, int err, bool bump, const char *fmt, ...)
{
    struct kp__txn *t = &p->txn;
    if (p->fatal_err || t->state == KP__TX_FATAL)
        return;
    if (bump) {
        t->bump = true;
        if (p->idemp_state == KP__I_ASSIGNED || p->idemp_state == KP__I_DRAIN)
            p->idemp_state = KP__I_WAIT_ABORT;
    }
    if (t->state != KP__TX_IN_TXN && t->state != KP__TX_BEGIN_COMMIT &&
        t->state != KP__TX_COMMITTING)
        return;                 /* failed or being aborted already: the first error stands */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->errstr, sizeof(t->errstr), fmt, ap);
    va_end(ap);
    t->err = err;
    kp__log(p, KP_LOG_ERR, KP__DBG_EOS, "the transaction failed in state %s and must be "
            "aborted: %s (%s%s)", state_name(t->state), t->errstr, kp_err2name(err),
            t->bump ? ", the abort will bump the epoch" : "");
    set_state(p, KP__TX_ABORTABLE);
    kp__wake_locked(p);         /* to purge what is queued */
}

void kp__txn_fatal_locked(struct kp_producer *p, int err, const char *reason)
{
    struct kp__txn *t = &p->txn;
    t->err = err;
    snprintf(t->errstr, sizeof(t->errstr), "%s", reason);
    set_state(p, KP__TX_FATAL);
}

/* Loop thread, lock not held. */
static void abortable(struct kp_producer *p, int err, bool bump, const char *what)
{
    pthread_mutex_lock(&p->lock);
    kp__txn_abortable_locked(p, err, bump, "%s: %s", what, kp_err2str(err));
    pthread_mutex_unlock(&p->lock);
}

/* --- partitions ------------------------------------------------------------------------------- */

bool kp__txn_part_used(struct kp_producer *p, struct kp__part *pt)
{
    if (pt->txn != KP__PT_NONE)
        return false;
    pt->txn = KP__PT_PENDING;
    p->txn.parts_pending = true;
    return true;
}

bool kp__txn_may_send(const struct kp_producer *p, const struct kp__part *pt)
{
    return pt->txn == KP__PT_ADDED &&
           (p->txn.state == KP__TX_IN_TXN || p->txn.state == KP__TX_BEGIN_COMMIT);
}

/* Lock held: every partition out of the transaction. */
static void parts_reset(struct kp_producer *p)
{
    for (int i = 0; i < p->n_topics; i++)
        for (int32_t j = 0; j < p->topics[i]->n_parts; j++)
            p->topics[i]->parts[j]->txn = KP__PT_NONE;
    p->txn.parts_pending = false;
}

/* Lock held: fails every queued message of the transaction with KP_ERR__PURGE_QUEUE, and drops
 * partitions not yet asked for (librdkafka's purge on abort). */
static void purge(struct kp_producer *p, const char *why)
{
    for (int i = 0; i < p->n_topics; i++) {
        struct kp__topic *tp = p->topics[i];
        if (tp->ua) {
            struct kp__batch *b = tp->ua;
            tp->ua = NULL;
            kp__batch_fail(p, b, KP_ERR__PURGE_QUEUE, why);
        }
        for (int32_t j = 0; j < tp->n_parts; j++) {
            struct kp__part *pt = tp->parts[j];
            if (!TAILQ_EMPTY(&pt->queue))
                kp__part_fail_queued(p, pt, KP_ERR__PURGE_QUEUE, why);
            if (pt->txn == KP__PT_PENDING)
                pt->txn = KP__PT_NONE;
        }
    }
    p->txn.parts_pending = false;
}

/* Lock held: nothing of the transaction is queued or in flight. */
static bool drained(const struct kp_producer *p)
{
    if (p->n_produce_inflight > 0)
        return false;
    for (int i = 0; i < p->n_topics; i++) {
        const struct kp__topic *tp = p->topics[i];
        if (tp->ua)
            return false;
        for (int32_t j = 0; j < tp->n_parts; j++)
            if (!TAILQ_EMPTY(&tp->parts[j]->queue))
                return false;
    }
    return true;
}

static void offsets_free(struct kp__txn_offsets *o)
{
    if (o == NULL)
        return;
    for (int i = 0; i < o->n; i++) {
        free(o->o[i].topic);
        free(o->o[i].metadata);
    }
    free(o->o);
    free(o->group);
    free(o);
}

/* Lock held: the transaction is over (state done_state), ready for the next. */
static void complete(struct kp_producer *p, int done_state)
{
    struct kp__txn *t = &p->txn;
    kp__dbg(p, KP__DBG_EOS, "transaction %s", done_state == KP__TX_COMMIT_NOT_ACKED
                                                  ? "committed" : "aborted");
    t->gen++;
    t->req_cnt = 0;
    t->bump = false;
    t->endtxn_done = t->bump_sent = false;
    t->endtxn_attempts = 0;
    parts_reset(p);
    offsets_free(t->off);
    t->off = NULL;
    t->off_state = OFF_NONE;
    set_state(p, done_state);
}

/* --- the coordinators ------------------------------------------------------------------------- */

void kp__txn_coord_lost(struct kp_producer *p, const char *why)
{
    if (p->txn.coord)
        kp__dbg(p, KP__DBG_EOS, "transaction coordinator %s forgotten: %s", p->txn.coord->name,
                why);
    p->txn.coord = NULL;
}

/* Sends FindCoordinator for key (key_type 1: a transactional id, 0: a group) to any broker up,
 * setting *inflight first (the callback clears it, even when the send fails at once). */
static void find_send(struct kp_producer *p, int key_type, const char *key, kp__resp_cb cb,
                      bool *inflight, int64_t now_us, int64_t *next_us)
{
    struct kp__broker *b = kp__broker_any_up(p, now_us, next_us);
    if (b == NULL)
        return;
    /* v0 knows groups only; key types came with v1 (KIP-98). */
    int v = kp__broker_version(b, KW_API_FIND_COORDINATOR, key_type);
    if (v < 0) {
        kp__fatal(p, KP_ERR__UNSUPPORTED_FEATURE, "%s does not offer FindCoordinator v%d: "
                  "transactions need Kafka 0.11 or later", b->name, key_type);
        return;
    }
    struct kp__req *req = kp__req_new(b, KW_API_FIND_COORDINATOR, v);
    if (req == NULL)
        return;
    struct kw_str k = kw_str_c(key);
    struct kw_find_coordinator_req m = { .key = k, .key_type = (int8_t)key_type,
                                         .coordinator_keys = &k, .n_coordinator_keys = 1 };
    kw_find_coordinator_req_encode(&req->frame, v, &m);
    req->txn_gen = p->txn.gen;
    kp__dbg(p, KP__DBG_EOS, "%s: FindCoordinator v%d for %s \"%s\"", b->name, v,
            key_type ? "transactional id" : "group", key);
    *inflight = true;
    kp__req_send(req, cb, (int64_t)p->conf.v.socket_timeout_ms * 1000, false);
}

/* The broker a FindCoordinator answer names: 0 with *out set, or the error. */
static int find_result(struct kp_producer *p, struct kp__req *req, int err, struct kw_reader *r,
                       struct kp__broker **out)
{
    if (err)
        return err;
    struct kw_find_coordinator_resp m;
    if (kw_find_coordinator_resp_decode(r, req->version, &m, &p->arena) != KW_OK)
        return KP_ERR__BAD_MSG;
    int ec = m.error_code, node = m.node_id, port = m.port;
    struct kw_str host = m.host;
    if (req->version >= 4) {
        /* KIP-699: one answer per key asked; we ask for one. */
        if (m.n_coordinators < 1)
            return KP_ERR__BAD_MSG;
        ec = m.coordinators[0].error_code;
        node = m.coordinators[0].node_id;
        host = m.coordinators[0].host;
        port = m.coordinators[0].port;
    }
    if (ec)
        return ec;
    if (node < 0)
        return KW_EC_COORDINATOR_NOT_AVAILABLE;
    struct kp__broker *b = kp__broker_find(p, node);
    if (b == NULL) {
        char h[256];
        kw_str_copy(host, h, sizeof(h));
        kp__broker_learn(p, node, h, port);
        b = kp__broker_find(p, node);
    }
    if (b == NULL)
        return KP_ERR__FAIL;
    *out = b;
    return 0;
}

static void coord_find_cb(struct kp_producer *p, struct kp__req *req, int err,
                          struct kw_reader *r)
{
    struct kp__txn *t = &p->txn;
    t->coord_inflight = false;
    if (err == KP_ERR__DESTROY)
        return;
    struct kp__broker *b = NULL;
    int ec = find_result(p, req, err, r, &b);
    if (ec == 0) {
        t->coord = b;
        t->coord_conn_gen = b->conn_gen;
        t->coord_attempts = 0;
        kp__dbg(p, KP__DBG_EOS, "transaction coordinator for \"%s\" is %s",
                p->conf.v.transactional_id, b->name);
        return;
    }
    if (ec == KW_EC_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
        ec == KW_EC_CLUSTER_AUTHORIZATION_FAILED) {
        kp__fatal(p, ec, "cannot find the transaction coordinator: %s", kp_err2str(ec));
        return;
    }
    pthread_mutex_lock(&p->lock);
    t->init_err = ec;
    pthread_mutex_unlock(&p->lock);
    t->coord_retry_at_us = kp__now(p) + kp__backoff_us(p, ++t->coord_attempts);
    kp__dbg(p, KP__DBG_EOS, "FindCoordinator for \"%s\" failed: %s: retrying",
            p->conf.v.transactional_id, kp_err2name(ec));
}

/* A request of api_key for broker b at the highest version both speak, or NULL: out of memory,
 * or b does not speak that API at all, which makes the producer fatal (it cannot do
 * transactions with this cluster). */
static struct kp__req *txn_req_new(struct kp_producer *p, struct kp__broker *b, int api_key)
{
    int v = kp__broker_version(b, api_key, 0);
    if (v < 0) {
        kp__fatal(p, KP_ERR__UNSUPPORTED_FEATURE, "%s does not offer %s", b->name,
                  kw_api_name(api_key));
        return NULL;
    }
    return kp__req_new(b, api_key, v);
}

/* The next request of api_key for the transaction coordinator, or NULL if none may go yet:
 * before retry_at_us (which then bounds *next_us), while the coordinator is being looked for,
 * or when it does not speak the API (see txn_req_new). */
static struct kp__req *coord_req_new(struct kp_producer *p, int64_t retry_at_us, int api_key,
                                     int64_t now_us, int64_t *next_us)
{
    if (now_us < retry_at_us) {
        if (retry_at_us < *next_us)
            *next_us = retry_at_us;
        return NULL;
    }
    struct kp__broker *b = kp__txn_coord(p, now_us, next_us);
    return b ? txn_req_new(p, b, api_key) : NULL;
}

struct kp__broker *kp__txn_coord(struct kp_producer *p, int64_t now_us, int64_t *next_us)
{
    struct kp__txn *t = &p->txn;
    if (t->coord) {
        struct kp__broker *b = t->coord;
        if (b->state == KP__B_UP)
            return b;
        /* A connection to it failed since it was named: the coordinator may have moved
         * (librdkafka asks again when its coordinator goes down). Otherwise reach it. */
        if (b->state != KP__B_DOWN || b->conn_gen == t->coord_conn_gen) {
            kp__broker_want(b, now_us, next_us);
            return NULL;
        }
        kp__txn_coord_lost(p, "its connection failed");
    }
    if (t->coord_inflight)
        return NULL;
    if (now_us < t->coord_retry_at_us) {
        if (t->coord_retry_at_us < *next_us)
            *next_us = t->coord_retry_at_us;
        return NULL;
    }
    find_send(p, 1, p->conf.v.transactional_id, coord_find_cb, &t->coord_inflight, now_us,
              next_us);
    return NULL;
}

/* --- AddPartitionsToTxn ----------------------------------------------------------------------- */

static void addparts_cb(struct kp_producer *p, struct kp__req *req, int err,
                        struct kw_reader *r)
{
    struct kp__txn *t = &p->txn;
    t->addparts_inflight = false;
    if (err == KP_ERR__DESTROY)
        return;
    struct kw_add_partitions_to_txn_resp m = { 0 };
    if (err == 0 && kw_add_partitions_to_txn_resp_decode(r, req->version, &m, &p->arena) != KW_OK)
        err = KP_ERR__BAD_MSG;
    int action = ACT_OK, ec = err, coord_err = 0;
    char where[128] = "";
    pthread_mutex_lock(&p->lock);
    if (req->txn_gen != t->gen) {
        pthread_mutex_unlock(&p->lock);
        return;                 /* for a transaction that is over */
    }
    /* Whether the coordinator may now hold the transaction, even if it failed meanwhile:
     * then it must be ended. Kafka refuses all partitions or none. */
    bool accepted = err != 0;
    for (int32_t i = 0; err == 0 && i < m.n_results; i++)
        for (int32_t j = 0; j < m.results[i].n_results; j++)
            accepted = accepted || m.results[i].results[j].partition_error_code == 0;
    if (accepted)
        t->req_cnt++;
    if (t->state != KP__TX_IN_TXN && t->state != KP__TX_BEGIN_COMMIT) {
        pthread_mutex_unlock(&p->lock);
        return;                 /* failed or being aborted: nothing more to do with it */
    }
    if (err)
        action = ACT_RETRY;
    for (int32_t i = 0; err == 0 && i < m.n_results; i++) {
        const struct kw_add_partitions_to_txn_topic_result *tr = &m.results[i];
        char name[256];
        kw_str_copy(tr->name, name, sizeof(name));
        struct kp__topic *tp = kp__topic_get(p, name, false);
        for (int32_t j = 0; j < tr->n_results; j++) {
            int32_t idx = tr->results[j].partition_index;
            int pec = tr->results[j].partition_error_code;
            struct kp__part *pt = tp && idx >= 0 && idx < tp->n_parts ? tp->parts[idx] : NULL;
            if (pt == NULL || pt->txn != KP__PT_WAIT)
                continue;       /* not one we asked for: ignored, as librdkafka does */
            if (pec == 0) {
                pt->txn = KP__PT_ADDED;
                kp__dbg(p, KP__DBG_EOS, "%s [%d] joined the transaction", name, idx);
                continue;
            }
            int a;
            switch (pec) {
            case KW_EC_NOT_COORDINATOR:
            case KW_EC_COORDINATOR_NOT_AVAILABLE:
                coord_err = pec;
                a = ACT_RETRY;
                break;
            case KW_EC_CONCURRENT_TRANSACTIONS:
            case KW_EC_COORDINATOR_LOAD_IN_PROGRESS:
            case KW_EC_UNKNOWN_TOPIC_OR_PARTITION:
            case KW_EC_OPERATION_NOT_ATTEMPTED:
                /* Not attempted: another partition's error in the same request decides. */
                a = ACT_RETRY;
                break;
            case KW_EC_INVALID_PRODUCER_EPOCH:
            case KW_EC_PRODUCER_FENCED:
            case KW_EC_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            case KW_EC_INVALID_TXN_STATE:
            case KW_EC_CLUSTER_AUTHORIZATION_FAILED:
                a = ACT_FATAL;
                break;
            case KW_EC_UNKNOWN_PRODUCER_ID:
            case KW_EC_INVALID_PRODUCER_ID_MAPPING:
                a = ACT_BUMP;
                break;
            default:
                a = ACT_ABORT;
                break;
            }
            /* The error reported is the gravest one's, and never a mere "not attempted". */
            if (a > action || ec == 0 || (ec == KW_EC_OPERATION_NOT_ATTEMPTED && a >= action)) {
                ec = pec;
                snprintf(where, sizeof(where), " (%.100s [%d])", name, idx);
            }
            if (a > action)
                action = a;
        }
    }
    /* What was not added goes in the next request. */
    bool left = false;
    for (int i = 0; i < p->n_topics; i++)
        for (int32_t j = 0; j < p->topics[i]->n_parts; j++)
            if (p->topics[i]->parts[j]->txn == KP__PT_WAIT) {
                p->topics[i]->parts[j]->txn = KP__PT_PENDING;
                left = true;
            }
    if (left)
        t->parts_pending = true;
    if (left && action == ACT_OK) {
        action = ACT_RETRY;     /* the answer left some out */
        ec = KP_ERR__INCONSISTENT;
    }
    pthread_mutex_unlock(&p->lock);

    int64_t now = kp__now(p);
    switch (action) {
    case ACT_OK:
        t->addparts_attempts = 0;
        break;
    case ACT_RETRY:
        if (coord_err || is_transport(ec))
            kp__txn_coord_lost(p, kp_err2name(coord_err ? coord_err : ec));
        t->addparts_retry_at_us = now + (ec == KW_EC_CONCURRENT_TRANSACTIONS
                                             ? CONCURRENT_BACKOFF_US
                                             : kp__backoff_us(p, ++t->addparts_attempts));
        kp__dbg(p, KP__DBG_EOS, "AddPartitionsToTxn: %s%s: retrying", kp_err2name(ec), where);
        break;
    case ACT_ABORT:
    case ACT_BUMP:
        abortable(p, ec, action == ACT_BUMP, "AddPartitionsToTxn failed");
        break;
    case ACT_FATAL:
        kp__fatal(p, ec, "AddPartitionsToTxn failed%s: %s: %s", where, kp_err2name(ec),
                  kp_err2str(ec));
        break;
    }
}

static void addparts_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us)
{
    struct kp__txn *t = &p->txn;
    if (t->addparts_inflight || p->idemp_state != KP__I_ASSIGNED)
        return;
    pthread_mutex_lock(&p->lock);
    bool want = t->parts_pending;
    pthread_mutex_unlock(&p->lock);
    if (!want)
        return;
    struct kp__req *req = coord_req_new(p, t->addparts_retry_at_us, KW_API_ADD_PARTITIONS_TO_TXN,
                                        now_us, next_us);
    if (req == NULL)
        return;
    struct kp__broker *b = req->b;
    int v = req->version;
    pthread_mutex_lock(&p->lock);
    int n_topics = 0, n_parts = 0;
    for (int i = 0; i < p->n_topics; i++) {
        int before = n_parts;
        for (int32_t j = 0; j < p->topics[i]->n_parts; j++)
            n_parts += p->topics[i]->parts[j]->txn == KP__PT_PENDING;
        n_topics += n_parts > before;
    }
    struct kw_add_partitions_to_txn_topic *topics = calloc((size_t)(n_topics + 1),
                                                           sizeof(*topics));
    int32_t *ids = calloc((size_t)(n_parts + 1), sizeof(*ids));
    struct kw_add_partitions_to_txn_req m = {
        .transactional_id = kw_str_c(p->conf.v.transactional_id), .producer_id = p->pid,
        .producer_epoch = p->epoch, .topics = topics };
    int k = 0;
    for (int i = 0; topics && ids && i < p->n_topics; i++) {
        struct kp__topic *tp = p->topics[i];
        struct kw_add_partitions_to_txn_topic *mt = &topics[m.n_topics];
        mt->partitions = &ids[k];
        for (int32_t j = 0; j < tp->n_parts; j++) {
            if (tp->parts[j]->txn != KP__PT_PENDING)
                continue;
            tp->parts[j]->txn = KP__PT_WAIT;
            ids[k++] = j;
            mt->n_partitions++;
        }
        if (mt->n_partitions) {
            /* Topic names live until destroy: the request may point at them. */
            mt->name = (struct kw_str){ tp->name, (int32_t)tp->name_len };
            m.n_topics++;
        }
    }
    if (topics && ids)
        t->parts_pending = false;
    pthread_mutex_unlock(&p->lock);
    if (topics == NULL || ids == NULL) {
        free(topics);
        free(ids);
        kp__req_free(req);
        return;
    }
    kw_add_partitions_to_txn_req_encode(&req->frame, v, &m);
    free(topics);
    free(ids);
    req->txn_gen = t->gen;
    t->addparts_inflight = true;
    kp__dbg(p, KP__DBG_EOS, "%s: AddPartitionsToTxn v%d with %d partition%s of %d topic%s",
            b->name, v, k, k == 1 ? "" : "s", m.n_topics, m.n_topics == 1 ? "" : "s");
    kp__req_send(req, addparts_cb, (int64_t)p->conf.v.socket_timeout_ms * 1000, false);
}

/* --- AddOffsetsToTxn, then TxnOffsetCommit ---------------------------------------------------- */

/* Lock held: the offsets operation ended; the call waiting for it returns this. */
static void offsets_done(struct kp_producer *p, int code, bool abort, bool fatal,
                         const char *what)
{
    struct kp__txn *t = &p->txn;
    if (t->off_state != OFF_RUNNING)
        return;
    t->off_state = OFF_DONE;
    if (code)
        result(&t->off_result, code, false, abort, fatal, "%s: %s", what, kp_err2str(code));
    else
        result(&t->off_result, 0, false, false, false, NULL);
    pthread_cond_broadcast(&p->cond);
}

/* The operation the answer is for, or NULL if it is gone (the transaction was aborted). */
static struct kp__txn_offsets *offsets_current(struct kp_producer *p)
{
    struct kp__txn_offsets *o = p->txn.off;
    if (o)
        o->inflight = false;
    return o && p->txn.off_state == OFF_RUNNING ? o : NULL;
}

/* A failure of the operation: fatal, abortable, or retried after a backoff. */
static void offsets_failed(struct kp_producer *p, struct kp__txn_offsets *o, int ec, int action,
                           const char *what)
{
    if (action == ACT_FATAL) {
        kp__fatal(p, ec, "%s failed: %s: %s", what, kp_err2name(ec), kp_err2str(ec));
        pthread_mutex_lock(&p->lock);
        offsets_done(p, p->fatal_err, false, true, what);
        pthread_mutex_unlock(&p->lock);
        return;
    }
    if (action == ACT_ABORT) {
        pthread_mutex_lock(&p->lock);
        kp__txn_abortable_locked(p, ec, false, "%s failed: %s", what, kp_err2str(ec));
        offsets_done(p, ec, true, false, what);
        pthread_mutex_unlock(&p->lock);
        return;
    }
    o->retry_at_us = kp__now(p) + kp__backoff_us(p, ++o->attempts);
    kp__dbg(p, KP__DBG_EOS, "%s for group \"%s\": %s: retrying", what, o->group,
            kp_err2name(ec));
}

static void addoffsets_cb(struct kp_producer *p, struct kp__req *req, int err,
                          struct kw_reader *r)
{
    pthread_mutex_lock(&p->lock);
    struct kp__txn_offsets *o = offsets_current(p);
    pthread_mutex_unlock(&p->lock);
    if (err == KP_ERR__DESTROY)
        return;
    struct kw_add_offsets_to_txn_resp m = { 0 };
    if (err == 0 && kw_add_offsets_to_txn_resp_decode(r, req->version, &m, &p->arena) != KW_OK)
        err = KP_ERR__BAD_MSG;
    int ec = err ? err : m.error_code, action = ACT_RETRY;
    /* Accepted, or perhaps applied before the answer was lost: the transaction has begun at
     * the coordinator and must be ended (see addparts_cb). */
    pthread_mutex_lock(&p->lock);
    if (req->txn_gen == p->txn.gen && (ec == 0 || is_transport(ec)))
        p->txn.req_cnt++;
    pthread_mutex_unlock(&p->lock);
    if (o == NULL)
        return;
    switch (ec) {
    case 0:
        o->phase = OFF_FIND;
        o->attempts = 0;
        return;
    case KP_ERR__TRANSPORT:
    case KP_ERR__TIMED_OUT:
    case KP_ERR__BAD_MSG:
    case KW_EC_COORDINATOR_NOT_AVAILABLE:
    case KW_EC_NOT_COORDINATOR:
    case KW_EC_REQUEST_TIMED_OUT:
        kp__txn_coord_lost(p, kp_err2name(ec));
        break;
    case KW_EC_UNKNOWN_TOPIC_OR_PARTITION:
    case KW_EC_COORDINATOR_LOAD_IN_PROGRESS:
    case KW_EC_CONCURRENT_TRANSACTIONS:
        break;
    case KW_EC_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case KW_EC_CLUSTER_AUTHORIZATION_FAILED:
    case KW_EC_INVALID_PRODUCER_EPOCH:
    case KW_EC_PRODUCER_FENCED:
    case KW_EC_INVALID_TXN_STATE:
    case KW_EC_UNSUPPORTED_FOR_MESSAGE_FORMAT:
        action = ACT_FATAL;
        break;
    default:
        action = ACT_ABORT;
        break;
    }
    offsets_failed(p, o, ec, action, "AddOffsetsToTxn");
}

static void group_find_cb(struct kp_producer *p, struct kp__req *req, int err,
                          struct kw_reader *r)
{
    pthread_mutex_lock(&p->lock);
    struct kp__txn_offsets *o = offsets_current(p);
    pthread_mutex_unlock(&p->lock);
    if (err == KP_ERR__DESTROY || o == NULL)
        return;
    struct kp__broker *b = NULL;
    int ec = find_result(p, req, err, r, &b);
    if (ec == 0) {
        o->group_coord = b;
        o->group_conn_gen = b->conn_gen;
        o->phase = OFF_COMMIT;
        kp__dbg(p, KP__DBG_EOS, "group coordinator for \"%s\" is %s", o->group, b->name);
        return;
    }
    offsets_failed(p, o, ec, ec == KW_EC_GROUP_AUTHORIZATION_FAILED ? ACT_ABORT : ACT_RETRY,
                   "FindCoordinator for the group");
}

static void txncommit_cb(struct kp_producer *p, struct kp__req *req, int err,
                         struct kw_reader *r)
{
    pthread_mutex_lock(&p->lock);
    struct kp__txn_offsets *o = offsets_current(p);
    pthread_mutex_unlock(&p->lock);
    if (err == KP_ERR__DESTROY || o == NULL)
        return;
    struct kw_txn_offset_commit_resp m = { 0 };
    if (err == 0 && kw_txn_offset_commit_resp_decode(r, req->version, &m, &p->arena) != KW_OK)
        err = KP_ERR__BAD_MSG;
    int ec = err;
    for (int32_t i = 0; ec == 0 && i < m.n_topics; i++)
        for (int32_t j = 0; ec == 0 && j < m.topics[i].n_partitions; j++)
            ec = m.topics[i].partitions[j].error_code;
    int action = ACT_RETRY;
    switch (ec) {
    case 0:
        kp__dbg(p, KP__DBG_EOS, "%d offset%s of group \"%s\" added to the transaction", o->n,
                o->n == 1 ? "" : "s", o->group);
        pthread_mutex_lock(&p->lock);
        offsets_done(p, 0, false, false, NULL);
        pthread_mutex_unlock(&p->lock);
        return;
    case KW_EC_NOT_COORDINATOR:
    case KW_EC_COORDINATOR_NOT_AVAILABLE:
    case KW_EC_REQUEST_TIMED_OUT:
    case KP_ERR__TRANSPORT:
    case KP_ERR__TIMED_OUT:
    case KP_ERR__BAD_MSG:
        /* This is the group's coordinator, not the transaction's: look it up again. */
        o->phase = OFF_FIND;
        break;
    case KW_EC_CONCURRENT_TRANSACTIONS:
    case KW_EC_COORDINATOR_LOAD_IN_PROGRESS:
    case KW_EC_UNKNOWN_TOPIC_OR_PARTITION:
        break;
    case KW_EC_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case KW_EC_CLUSTER_AUTHORIZATION_FAILED:
    case KW_EC_INVALID_PRODUCER_ID_MAPPING:
    case KW_EC_INVALID_PRODUCER_EPOCH:
    case KW_EC_PRODUCER_FENCED:
    case KW_EC_INVALID_TXN_STATE:
    case KW_EC_UNSUPPORTED_FOR_MESSAGE_FORMAT:
        action = ACT_FATAL;
        break;
    default:
        /* Authorization, a fenced group member (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID), ... */
        action = ACT_ABORT;
        break;
    }
    offsets_failed(p, o, ec, action, "TxnOffsetCommit");
}

static void txncommit_send(struct kp_producer *p, struct kp__txn_offsets *o, struct kp__broker *b)
{
    struct kp__req *req = txn_req_new(p, b, KW_API_TXN_OFFSET_COMMIT);
    int v = req ? req->version : -1;
    struct kw_txn_offset_commit_req_topic *topics = calloc((size_t)o->n, sizeof(*topics));
    struct kw_txn_offset_commit_req_partition *parts = calloc((size_t)o->n, sizeof(*parts));
    int *done = calloc((size_t)o->n, sizeof(*done));
    if (req == NULL || topics == NULL || parts == NULL || done == NULL) {
        kp__req_free(req);
        free(topics);
        free(parts);
        free(done);
        return;
    }
    struct kw_txn_offset_commit_req m = {
        .transactional_id = kw_str_c(p->conf.v.transactional_id),
        .group_id = kw_str_c(o->group), .producer_id = p->pid, .producer_epoch = p->epoch,
        .generation_id = -1, .member_id = kw_str_c(""), .group_instance_id = KW_STR_NULL,
        .topics = topics };
    /* The offsets grouped by topic, in the order topics first appear. */
    int k = 0;
    for (int i = 0; i < o->n; i++) {
        if (done[i])
            continue;
        struct kw_txn_offset_commit_req_topic *mt = &topics[m.n_topics++];
        mt->name = kw_str_c(o->o[i].topic);
        mt->partitions = &parts[k];
        for (int j = i; j < o->n; j++) {
            if (done[j] || strcmp(o->o[j].topic, o->o[i].topic) != 0)
                continue;
            done[j] = 1;
            parts[k].partition_index = o->o[j].partition;
            parts[k].committed_offset = o->o[j].offset;
            parts[k].committed_leader_epoch = -1;
            parts[k].committed_metadata = o->o[j].metadata ? kw_str_c(o->o[j].metadata)
                                                           : KW_STR_NULL;
            k++;
            mt->n_partitions++;
        }
    }
    kw_txn_offset_commit_req_encode(&req->frame, v, &m);
    free(topics);
    free(parts);
    free(done);
    req->txn_gen = p->txn.gen;
    o->inflight = true;
    kp__dbg(p, KP__DBG_EOS, "%s: TxnOffsetCommit v%d: %d offset%s of group \"%s\"", b->name, v,
            o->n, o->n == 1 ? "" : "s", o->group);
    kp__req_send(req, txncommit_cb, (int64_t)p->conf.v.socket_timeout_ms * 1000, false);
}

static void offsets_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us)
{
    pthread_mutex_lock(&p->lock);
    struct kp__txn_offsets *o = p->txn.off_state == OFF_RUNNING ? p->txn.off : NULL;
    pthread_mutex_unlock(&p->lock);
    if (o == NULL || o->inflight || p->idemp_state != KP__I_ASSIGNED)
        return;
    if (now_us < o->retry_at_us) {
        if (o->retry_at_us < *next_us)
            *next_us = o->retry_at_us;
        return;
    }
    if (o->phase == OFF_ADD) {
        struct kp__req *req = coord_req_new(p, 0, KW_API_ADD_OFFSETS_TO_TXN, now_us, next_us);
        if (req == NULL)
            return;
        struct kp__broker *b = req->b;
        int v = req->version;
        struct kw_add_offsets_to_txn_req m = {
            .transactional_id = kw_str_c(p->conf.v.transactional_id), .producer_id = p->pid,
            .producer_epoch = p->epoch, .group_id = kw_str_c(o->group) };
        kw_add_offsets_to_txn_req_encode(&req->frame, v, &m);
        req->txn_gen = p->txn.gen;
        o->inflight = true;
        kp__dbg(p, KP__DBG_EOS, "%s: AddOffsetsToTxn v%d for group \"%s\"", b->name, v,
                o->group);
        kp__req_send(req, addoffsets_cb, (int64_t)p->conf.v.socket_timeout_ms * 1000, false);
        return;
    }
    if (o->phase == OFF_FIND) {
        find_send(p, 0, o->group, group_find_cb, &o->inflight, now_us, next_us);
        return;
    }
    struct kp__broker *b = o->group_coord;
    if (b->state == KP__B_UP) {
        txncommit_send(p, o, b);
    } else if (b->state == KP__B_DOWN && b->conn_gen != o->group_conn_gen) {
        o->phase = OFF_FIND;    /* the group may have moved */
        p->resched = true;
    } else {
        kp__broker_want(b, now_us, next_us);
    }
}

/* --- EndTxn ----------------------------------------------------------------------------------- */

static void endtxn_cb(struct kp_producer *p, struct kp__req *req, int err, struct kw_reader *r)
{
    struct kp__txn *t = &p->txn;
    t->endtxn_inflight = false;
    if (err == KP_ERR__DESTROY)
        return;
    struct kw_end_txn_resp m = { 0 };
    if (err == 0 && kw_end_txn_resp_decode(r, req->version, &m, &p->arena) != KW_OK)
        err = KP_ERR__BAD_MSG;
    int ec = err ? err : m.error_code;
    pthread_mutex_lock(&p->lock);
    int s = t->state;
    if (req->txn_gen != t->gen) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    if (s == KP__TX_ABORTABLE) {
        /* The transaction failed here while its commit was on the way (librdkafka's tricky
         * case): if the coordinator committed it anyway, what the application was told and
         * what consumers see disagree, and nothing can repair that. */
        pthread_mutex_unlock(&p->lock);
        if (ec == 0)
            kp__fatal(p, t->err, "the transaction was committed by the coordinator after it "
                      "had failed here: %s", t->errstr);
        return;
    }
    pthread_mutex_unlock(&p->lock);
    if (s != KP__TX_COMMITTING && s != KP__TX_ABORTING)
        return;
    bool commit = s == KP__TX_COMMITTING;
    const char *what = commit ? "EndTxn(commit)" : "EndTxn(abort)";
    switch (ec) {
    case 0:
        t->endtxn_attempts = 0;
        pthread_mutex_lock(&p->lock);
        if (commit)
            complete(p, KP__TX_COMMIT_NOT_ACKED);
        else
            t->endtxn_done = true;  /* the serve bumps the epoch if due, then completes */
        pthread_mutex_unlock(&p->lock);
        return;
    case KP_ERR__TRANSPORT:
    case KP_ERR__TIMED_OUT:
    case KP_ERR__BAD_MSG:
    case KW_EC_COORDINATOR_NOT_AVAILABLE:
    case KW_EC_NOT_COORDINATOR:
        kp__txn_coord_lost(p, kp_err2name(ec));
        break;
    case KW_EC_COORDINATOR_LOAD_IN_PROGRESS:
    case KW_EC_CONCURRENT_TRANSACTIONS:
        break;
    case KW_EC_UNKNOWN_PRODUCER_ID:
    case KW_EC_INVALID_PRODUCER_ID_MAPPING:
        /* The coordinator lost our id: an abort ends with a bump, a commit fails. */
        pthread_mutex_lock(&p->lock);
        if (commit) {
            kp__txn_abortable_locked(p, ec, true, "%s failed: %s", what, kp_err2str(ec));
        } else {
            t->bump = true;
            t->endtxn_done = true;
        }
        pthread_mutex_unlock(&p->lock);
        return;
    case KW_EC_INVALID_PRODUCER_EPOCH:
    case KW_EC_PRODUCER_FENCED:
    case KW_EC_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case KW_EC_CLUSTER_AUTHORIZATION_FAILED:
    case KW_EC_INVALID_TXN_STATE:
        kp__fatal(p, ec, "%s failed: %s: %s", what, kp_err2name(ec), kp_err2str(ec));
        return;
    default:
        /* Anything else is permanent: the transaction needs an abort (again, for an abort:
         * the next call starts it over, as librdkafka's does). */
        pthread_mutex_lock(&p->lock);
        if (commit) {
            kp__txn_abortable_locked(p, ec, false, "%s failed: %s", what, kp_err2str(ec));
        } else {
            t->err = ec;
            snprintf(t->errstr, sizeof(t->errstr), "%s failed: %s", what, kp_err2str(ec));
            set_state(p, KP__TX_ABORTABLE);
        }
        pthread_mutex_unlock(&p->lock);
        return;
    }
    t->endtxn_retry_at_us = kp__now(p) + kp__backoff_us(p, ++t->endtxn_attempts);
    kp__dbg(p, KP__DBG_EOS, "%s: %s: retrying", what, kp_err2name(ec));
}

static void endtxn_serve(struct kp_producer *p, bool commit, int64_t now_us, int64_t *next_us)
{
    struct kp__txn *t = &p->txn;
    if (t->endtxn_inflight)
        return;
    /* An abort goes out under the epoch its transaction had, bump pending or not. */
    if (p->idemp_state != KP__I_ASSIGNED && p->idemp_state != KP__I_WAIT_ABORT)
        return;
    struct kp__req *req = coord_req_new(p, t->endtxn_retry_at_us, KW_API_END_TXN, now_us, next_us);
    if (req == NULL)
        return;
    struct kp__broker *b = req->b;
    int v = req->version;
    struct kw_end_txn_req m = { .transactional_id = kw_str_c(p->conf.v.transactional_id),
                                .producer_id = p->pid, .producer_epoch = p->epoch,
                                .committed = commit };
    kw_end_txn_req_encode(&req->frame, v, &m);
    req->txn_gen = t->gen;
    t->endtxn_inflight = true;
    kp__dbg(p, KP__DBG_EOS, "%s: EndTxn v%d (%s, producer id %" PRId64 " epoch %d)", b->name, v,
            commit ? "commit" : "abort", p->pid, p->epoch);
    kp__req_send(req, endtxn_cb, (int64_t)p->conf.v.socket_timeout_ms * 1000, false);
}

/* --- the loop's pass -------------------------------------------------------------------------- */

void kp__txn_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us)
{
    struct kp__txn *t = &p->txn;
    if (!p->txn_on || p->stopped)
        return;
    pthread_mutex_lock(&p->lock);
    int s = t->state;
    switch (s) {
    case KP__TX_ABORTABLE:
        purge(p, "purged: the transaction failed and must be aborted");
        break;
    case KP__TX_BEGIN_ABORT:
        purge(p, "purged: the transaction is being aborted");
        /* In-flight messages and registrations come back first: their outcome decides
         * whether the coordinator holds anything, and whether the epoch must move. */
        if (!drained(p) || t->addparts_inflight || (t->off && t->off->inflight))
            break;
        offsets_free(t->off);
        t->off = NULL;
        t->off_state = OFF_NONE;
        if (t->req_cnt > 0) {
            set_state(p, KP__TX_ABORTING);
        } else if (t->bump) {
            set_state(p, KP__TX_ABORTING);
            t->endtxn_done = true;  /* nothing to end at the coordinator, only the bump */
        } else {
            kp__dbg(p, KP__DBG_EOS, "nothing reached the coordinator: no EndTxn");
            complete(p, KP__TX_ABORT_NOT_ACKED);
        }
        p->resched = true;
        break;
    case KP__TX_BEGIN_COMMIT:
        if (!drained(p) || t->parts_pending || t->addparts_inflight ||
            t->off_state == OFF_RUNNING)
            break;
        if (t->dr_fails > 0) {
            kp__txn_abortable_locked(p, KP_ERR__INCONSISTENT, false, "%" PRId64 " message%s "
                                     "failed delivery (see the delivery reports)", t->dr_fails,
                                     t->dr_fails == 1 ? "" : "s");
        } else if (t->req_cnt == 0) {
            kp__dbg(p, KP__DBG_EOS, "nothing reached the coordinator: no EndTxn");
            complete(p, KP__TX_COMMIT_NOT_ACKED);
        } else {
            set_state(p, KP__TX_COMMITTING);
            p->resched = true;
        }
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&p->lock);

    switch (s) {
    case KP__TX_WAIT_PID:
        if (p->idemp_state == KP__I_TXN_INIT) {
            p->idemp_state = KP__I_REQUEST;
            p->resched = true;
        } else if (p->idemp_state == KP__I_ASSIGNED) {
            pthread_mutex_lock(&p->lock);
            t->init_err = 0;
            set_state(p, KP__TX_READY_NOT_ACKED);
            pthread_mutex_unlock(&p->lock);
        }
        break;
    case KP__TX_IN_TXN:
    case KP__TX_BEGIN_COMMIT:
        addparts_serve(p, now_us, next_us);
        offsets_serve(p, now_us, next_us);
        break;
    case KP__TX_COMMITTING:
        endtxn_serve(p, true, now_us, next_us);
        break;
    case KP__TX_ABORTING:
        if (!t->endtxn_done) {
            endtxn_serve(p, false, now_us, next_us);
        } else if (t->bump && !t->bump_sent) {
            /* KIP-360: InitProducerId with the current id and epoch (idempotence.c) gives
             * the next transaction a fresh epoch, its sequences from 0. */
            kp__log(p, KP_LOG_NOTICE, KP__DBG_EOS, "transaction aborted: bumping the epoch of "
                    "producer id %" PRId64 " (epoch %d)", p->pid, p->epoch);
            t->bump_sent = true;
            p->stat_bumps++;
            p->idemp_state = KP__I_DRAIN;
            p->resched = true;
        } else if (!t->bump || p->idemp_state == KP__I_ASSIGNED) {
            pthread_mutex_lock(&p->lock);
            complete(p, KP__TX_ABORT_NOT_ACKED);
            pthread_mutex_unlock(&p->lock);
        }
        break;
    default:
        break;
    }
}

void kp__txn_release(struct kp_producer *p)
{
    offsets_free(p->txn.off);
    p->txn.off = NULL;
    p->txn.off_state = OFF_NONE;
}

/* --- the calls -------------------------------------------------------------------------------- */

static bool init_done(struct kp_producer *p)
{
    return p->txn.state != KP__TX_WAIT_PID;
}

static bool commit_done(struct kp_producer *p)
{
    return p->txn.state != KP__TX_BEGIN_COMMIT && p->txn.state != KP__TX_COMMITTING;
}

static bool abort_done(struct kp_producer *p)
{
    return p->txn.state != KP__TX_BEGIN_ABORT && p->txn.state != KP__TX_ABORTING;
}

static bool offsets_call_done(struct kp_producer *p)
{
    /* Outside these states the loop no longer drives the operation. */
    return p->txn.off_state != OFF_RUNNING ||
           (p->txn.state != KP__TX_IN_TXN && p->txn.state != KP__TX_BEGIN_COMMIT);
}

/* -1 means transaction.timeout.ms (times factor), as in librdkafka. */
static int call_timeout(const struct kp_producer *p, int timeout_ms, int factor)
{
    if (timeout_ms >= 0)
        return timeout_ms;
    int64_t t = (int64_t)p->conf.v.txn_timeout_ms * factor;
    return t > INT32_MAX ? INT32_MAX : (int)t;
}

int kp_init_transactions(struct kp_producer *p, int timeout_ms, struct kp_txn_error *err)
{
    if (!p->txn_on)
        return not_transactional(err);
    pthread_mutex_lock(&p->lock);
    struct kp__txn *t = &p->txn;
    int rc = 0;
    if (t->state == KP__TX_INIT) {
        t->init_err = 0;
        set_state(p, KP__TX_WAIT_PID);
        kp__wake_locked(p);
    } else if (t->state == KP__TX_READY_NOT_ACKED) {
        set_state(p, KP__TX_READY);     /* finished after an earlier call timed out */
        pthread_mutex_unlock(&p->lock);
        return result(err, 0, false, false, false, NULL);
    } else if (t->state != KP__TX_WAIT_PID) {
        rc = state_error(p, err, "init_transactions");
    }
    pthread_mutex_unlock(&p->lock);
    if (rc)
        return rc;
    bool done = kp__wait(p, call_timeout(p, timeout_ms, 2), init_done);
    pthread_mutex_lock(&p->lock);
    if (!done) {
        int ec = t->init_err ? t->init_err : KP_ERR__TIMED_OUT;
        rc = result(err, ec, true, false, false, "the producer id is not there yet (%s): call "
                    "again to resume", kp_err2str(ec));
    } else if (t->state == KP__TX_READY_NOT_ACKED) {
        set_state(p, KP__TX_READY);
        rc = result(err, 0, false, false, false, NULL);
    } else {
        rc = state_error(p, err, "init_transactions");
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int kp_begin_transaction(struct kp_producer *p, struct kp_txn_error *err)
{
    if (!p->txn_on)
        return not_transactional(err);
    pthread_mutex_lock(&p->lock);
    struct kp__txn *t = &p->txn;
    int rc;
    if (t->state == KP__TX_READY) {
        t->err = 0;
        t->errstr[0] = '\0';
        t->dr_fails = 0;
        t->req_cnt = 0;
        t->bump = false;
        t->gen++;
        parts_reset(p);
        set_state(p, KP__TX_IN_TXN);
        rc = result(err, 0, false, false, false, NULL);
    } else {
        rc = state_error(p, err, "begin_transaction");
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* Whether the operation holds exactly these offsets (the valid ones, in order). */
static bool offsets_same(const struct kp__txn_offsets *o, const char *group,
                         const struct kp_topic_partition_offset *offsets, int n)
{
    if (strcmp(o->group, group) != 0)
        return false;
    int k = 0;
    for (int i = 0; i < n; i++) {
        const struct kp_topic_partition_offset *x = &offsets[i];
        if (x->offset < 0)
            continue;
        if (k >= o->n || strcmp(o->o[k].topic, x->topic) != 0 ||
            o->o[k].partition != x->partition || o->o[k].offset != x->offset)
            return false;
        k++;
    }
    return k == o->n;
}

static struct kp__txn_offsets *offsets_new(const char *group,
                                           const struct kp_topic_partition_offset *offsets,
                                           int n, int valid)
{
    struct kp__txn_offsets *o = calloc(1, sizeof(*o));
    if (o == NULL || (o->group = strdup(group)) == NULL ||
        (o->o = calloc((size_t)valid, sizeof(*o->o))) == NULL) {
        offsets_free(o);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const struct kp_topic_partition_offset *x = &offsets[i];
        if (x->offset < 0)
            continue;
        struct kp__txn_offset *d = &o->o[o->n++];
        d->partition = x->partition;
        d->offset = x->offset;
        if ((d->topic = strdup(x->topic)) == NULL ||
            (x->metadata && (d->metadata = strdup(x->metadata)) == NULL)) {
            offsets_free(o);
            return NULL;
        }
    }
    return o;
}

int kp_send_offsets_to_transaction(struct kp_producer *p, const char *group_id,
                                   const struct kp_topic_partition_offset *offsets, int n,
                                   int timeout_ms, struct kp_txn_error *err)
{
    if (!p->txn_on)
        return not_transactional(err);
    if (group_id == NULL || group_id[0] == '\0' || n < 0 || (n > 0 && offsets == NULL))
        return result(err, KP_ERR__INVALID_ARG, false, false, false, "a group id and the "
                      "offsets are required");
    int valid = 0;
    for (int i = 0; i < n; i++) {
        if (offsets[i].topic == NULL || offsets[i].topic[0] == '\0' || offsets[i].partition < 0)
            return result(err, KP_ERR__INVALID_ARG, false, false, false, "offset %d names no "
                          "topic or partition", i);
        valid += offsets[i].offset >= 0;
    }
    if (valid == 0)             /* nothing consumed: nothing to do (librdkafka) */
        return result(err, 0, false, false, false, NULL);
    struct kp__txn *t = &p->txn;
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    if (t->state != KP__TX_IN_TXN && !(t->state == KP__TX_BEGIN_COMMIT &&
                                       t->off_state == OFF_RUNNING)) {
        rc = state_error(p, err, "send_offsets_to_transaction");
    } else if (t->off_state != OFF_NONE && offsets_same(t->off, group_id, offsets, n)) {
        /* The same call again: resume it (or collect its result). */
    } else if (t->off_state == OFF_RUNNING) {
        rc = result(err, KP_ERR__CONFLICT, true, false, false, "a send_offsets_to_transaction "
                    "for other offsets is in progress: call again with those to resume it");
    } else {
        struct kp__txn_offsets *o = offsets_new(group_id, offsets, n, valid);
        if (o == NULL) {
            rc = result(err, KP_ERR__FAIL, true, false, false, "out of memory");
        } else {
            offsets_free(t->off);
            t->off = o;
            t->off_state = OFF_RUNNING;
            kp__wake_locked(p);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (rc)
        return rc;
    bool done = kp__wait(p, call_timeout(p, timeout_ms, 1), offsets_call_done);
    pthread_mutex_lock(&p->lock);
    if (!done) {
        rc = result(err, KP_ERR__TIMED_OUT, true, false, false, "the offsets are not in the "
                    "transaction yet: call again with the same offsets to resume");
    } else if (t->off_state == OFF_DONE) {
        struct kp_txn_error r = t->off_result;
        rc = r.code;
        if (err)
            *err = r;
        offsets_free(t->off);
        t->off = NULL;
        t->off_state = OFF_NONE;
    } else {
        rc = state_error(p, err, "send_offsets_to_transaction");
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* commit_transaction and abort_transaction: start ending the transaction (or resume an end
 * that timed out), wait for it, and collect the outcome. */
static int end_transaction(struct kp_producer *p, bool commit, int timeout_ms,
                           struct kp_txn_error *err)
{
    if (!p->txn_on)
        return not_transactional(err);
    const char *what = commit ? "commit_transaction" : "abort_transaction";
    int begin = commit ? KP__TX_BEGIN_COMMIT : KP__TX_BEGIN_ABORT;
    int running = commit ? KP__TX_COMMITTING : KP__TX_ABORTING;
    int not_acked = commit ? KP__TX_COMMIT_NOT_ACKED : KP__TX_ABORT_NOT_ACKED;
    struct kp__txn *t = &p->txn;
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    if (t->state == KP__TX_IN_TXN || (!commit && t->state == KP__TX_ABORTABLE)) {
        set_state(p, begin);
        kp__wake_locked(p);
    } else if (t->state == not_acked) {
        /* Ended while the last call had already timed out: this call collects it. */
        set_state(p, KP__TX_READY);
        pthread_mutex_unlock(&p->lock);
        return result(err, 0, false, false, false, NULL);
    } else if (t->state != begin && t->state != running) {
        rc = state_error(p, err, what);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc)
        return rc;
    bool done = kp__wait(p, call_timeout(p, timeout_ms, 1), commit ? commit_done : abort_done);
    pthread_mutex_lock(&p->lock);
    if (!done && commit) {
        rc = result(err, KP_ERR__TIMED_OUT, true, false, false, "the commit is not finished "
                    "(%" PRId64 " message%s not yet delivered): call again to resume",
                    p->msg_cnt, p->msg_cnt == 1 ? "" : "s");
    } else if (!done) {
        rc = result(err, KP_ERR__TIMED_OUT, true, false, false, "the abort is not finished: "
                    "call again to resume");
    } else if (t->state == not_acked) {
        set_state(p, KP__TX_READY);
        rc = result(err, 0, false, false, false, NULL);
    } else {
        rc = state_error(p, err, what);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int kp_commit_transaction(struct kp_producer *p, int timeout_ms, struct kp_txn_error *err)
{
    return end_transaction(p, true, timeout_ms, err);
}

int kp_abort_transaction(struct kp_producer *p, int timeout_ms, struct kp_txn_error *err)
{
    return end_transaction(p, false, timeout_ms, err);
}
