/* The idempotent producer (KIP-98), with the epoch bump of KIP-360. A producer id comes from
 * InitProducerId before the first batch leaves; each batch takes the partition's next sequence
 * number when it is first sent and keeps it through retries, so the broker can drop duplicates.
 * When a sequence can no longer be acknowledged (a batch failed or timed out after it got one)
 * or the broker forgot us (UNKNOWN_PRODUCER_ID), sending stops until every Produce request has
 * come back, InitProducerId bumps the epoch (v3+, else a new id is handed out), and every batch
 * not yet acknowledged is renumbered from 0, as the Java client and librdkafka do. Cases where a
 * message may already be in the log under a sequence the broker no longer matches cannot be
 * resolved safely: they are fatal. */
#include "producer/internal.h"

#include <inttypes.h>
#include <stdio.h>

#include "lib/crc.h"
#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "lib/proto/init_producer_id.h"

bool kp__idemp_may_send(const struct kp_producer *p)
{
    return p->idemp_state == KP__I_NONE || p->idemp_state == KP__I_ASSIGNED;
}

static int32_t seq_add(int32_t seq, int32_t n)
{
    return (int32_t)(((uint32_t)seq + (uint32_t)n) & 0x7fffffffu);
}

void kp__batch_stamp(struct kp__batch *b, int64_t pid, int16_t epoch, int32_t base_seq)
{
    uint8_t *h = b->buf.data;
    size_t len = b->buf.len;
    kw_wbe64(h + KP__BATCH_OFF_PID, (uint64_t)pid);
    kw_wbe16(h + KP__BATCH_OFF_EPOCH, (uint16_t)epoch);
    kw_wbe32(h + KP__BATCH_OFF_SEQ, (uint32_t)base_seq);
    kw_wbe32(h + KP__BATCH_OFF_CRC, kw_crc32c(0, h + KW_BATCH_CRC_FROM, len - KW_BATCH_CRC_FROM));
    b->pid = pid;
    b->epoch = epoch;
    b->base_seq = base_seq;
}

void kp__idemp_bump(struct kp_producer *p, int err, const char *why)
{
    if (p->txn_on) {
        /* The epoch of a transactional producer moves only at the coordinator, and only
         * between transactions: the open one must be aborted first (librdkafka's
         * abortable error with bump). */
        kp__txn_abortable_locked(p, err, true, "%s", why);
        return;
    }
    if (p->idemp_state != KP__I_ASSIGNED)
        return;                 /* a new id or epoch is on its way already */
    p->idemp_state = KP__I_DRAIN;
    p->stat_bumps++;
    kp__log(p, KP_LOG_NOTICE, KP__DBG_EOS, "bumping the epoch of producer id %" PRId64 ": %s "
            "(%s); waiting for %" PRId64 " Produce request%s to finish", p->pid, why,
            kp_err2name(err), p->n_produce_inflight, p->n_produce_inflight == 1 ? "" : "s");
}

void kp__idemp_acked(struct kp_producer *p, struct kp__batch *b)
{
    (void)p;
    b->part->next_ack_seq = seq_add(b->base_seq, b->count);
}

enum kp__verdict kp__idemp_classify(struct kp_producer *p, struct kp__batch *b, int err)
{
    struct kp__part *pt = b->part;
    /* Whether the broker's next expected sequence should be ours: nothing earlier is pending. */
    bool first = b->base_seq == pt->next_ack_seq;
    switch (err) {
    case KW_EC_DUPLICATE_SEQUENCE_NUMBER:
        return KP__V_DONE;
    case KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER:
        if (!first || b->base_seq < 0)
            return KP__V_RETRY;     /* an earlier batch failed: it goes first, then this one */
        if (b->possibly)
            return KP__V_FATAL;     /* an earlier attempt may be in the log under this sequence */
        /* The broker expects another sequence though all before ours were acknowledged: it
         * lost data. These messages fail; the rest go on under a new epoch (KIP-360). */
        kp__idemp_bump(p, err, "the broker's sequence and ours disagree");
        return KP__V_FAIL;
    case KW_EC_UNKNOWN_PRODUCER_ID:
        if (!first || b->base_seq < 0)
            return KP__V_RETRY;
        if (b->possibly)
            return KP__V_FATAL;
        if (p->txn_on) {
            /* A transaction cannot carry on under a new epoch: it fails, the abort bumps. */
            kp__idemp_bump(p, err, "the broker no longer knows our producer id");
            return KP__V_FAIL;
        }
        /* The broker dropped our state (retention removed the producer's last data): a new
         * epoch and sequence 0 are safe, and the batch is sent again under them. */
        kp__idemp_bump(p, err, "the broker no longer knows our producer id");
        return KP__V_RETRY;
    case KW_EC_INVALID_PRODUCER_EPOCH:
    case KW_EC_PRODUCER_FENCED:
    case KW_EC_INVALID_PRODUCER_ID_MAPPING:
        return KP__V_FATAL;
    case KP_ERR__TRANSPORT:
    case KP_ERR__TIMED_OUT:
    case KP_ERR__BAD_MSG:
    case KP_ERR__INCONSISTENT:
        return KP__V_RETRY;
    default:
        return err > 0 && kw_error_retriable(err) ? KP__V_RETRY : KP__V_FAIL;
    }
}

/* After a new id or epoch: every partition restarts at sequence 0, and batches that had a
 * sequence take new ones in queue order (nothing is in flight). Lock held. */
static void renumber(struct kp_producer *p)
{
    for (int i = 0; i < p->n_topics; i++) {
        struct kp__topic *t = p->topics[i];
        for (int32_t j = 0; j < t->n_parts; j++) {
            struct kp__part *pt = t->parts[j];
            struct kp__batch *b;
            pt->next_seq = 0;
            pt->next_ack_seq = 0;
            TAILQ_FOREACH(b, &pt->queue, link) {
                if (!b->finished)
                    break;      /* the rest get theirs when first sent */
                kp__batch_stamp(b, p->pid, p->epoch, pt->next_seq);
                pt->next_seq = seq_add(pt->next_seq, b->count);
            }
        }
    }
}

/* A transactional InitProducerId failed with ec: retried after a backoff unless it cannot
 * succeed (librdkafka's classes). */
static void txn_pid_failed(struct kp_producer *p, int ec)
{
    switch (ec) {
    case KW_EC_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case KW_EC_CLUSTER_AUTHORIZATION_FAILED:
    case KW_EC_INVALID_TRANSACTION_TIMEOUT:
    case KW_EC_INVALID_PRODUCER_EPOCH:
    case KW_EC_PRODUCER_FENCED:
    case KP_ERR__UNSUPPORTED_FEATURE:
        kp__fatal(p, ec, "InitProducerId for transactional.id \"%s\" failed: %s: %s",
                  p->conf.v.transactional_id, kp_err2name(ec), kp_err2str(ec));
        return;
    case KW_EC_NOT_COORDINATOR:
    case KW_EC_COORDINATOR_NOT_AVAILABLE:
    case KP_ERR__TRANSPORT:
    case KP_ERR__TIMED_OUT:
        kp__txn_coord_lost(p, kp_err2name(ec));
        break;
    default:
        break;
    }
    pthread_mutex_lock(&p->lock);
    p->txn.init_err = ec;
    pthread_mutex_unlock(&p->lock);
    p->idemp_state = KP__I_REQUEST;
    p->idemp_retry_at_us = kp__now(p) + kp__backoff_us(p, 1);
    kp__log(p, KP_LOG_WARNING, KP__DBG_EOS, "InitProducerId for transactional.id \"%s\" "
            "failed: %s: retrying", p->conf.v.transactional_id, kp_err2name(ec));
}

static void init_pid_cb(struct kp_producer *p, struct kp__req *req, int err, struct kw_reader *r)
{
    int64_t now = kp__now(p);
    struct kw_init_producer_id_resp m;
    if (err == KP_ERR__DESTROY || p->idemp_state == KP__I_FATAL)
        return;
    if (err == 0 && kw_init_producer_id_resp_decode(r, req->version, &m, &p->arena) != KW_OK)
        err = KP_ERR__BAD_MSG;
    int ec = err ? err : m.error_code;
    if (ec == 0 && m.producer_id < 0) {
        kp__log(p, KP_LOG_WARNING, KP__DBG_EOS, "%s: InitProducerId gave producer id %" PRId64
                ": ignored", req->b->name, m.producer_id);
        ec = KP_ERR__BAD_MSG;
    }
    if (ec && p->txn_on) {
        txn_pid_failed(p, ec);
        return;
    }
    if (ec == 0) {
        bool bump = p->pid >= 0;
        int64_t old_pid = p->pid;
        int16_t old_epoch = p->epoch;
        p->pid = m.producer_id;
        p->epoch = m.producer_epoch;
        p->idemp_state = KP__I_ASSIGNED;
        p->bump_fresh = false;
        if (bump) {
            pthread_mutex_lock(&p->lock);
            renumber(p);
            pthread_mutex_unlock(&p->lock);
            kp__log(p, KP_LOG_NOTICE, KP__DBG_EOS, "producer id %" PRId64 " epoch %d -> "
                    "producer id %" PRId64 " epoch %d; sequences restart at 0", old_pid,
                    old_epoch, p->pid, p->epoch);
        } else {
            kp__dbg(p, KP__DBG_EOS, "producer id %" PRId64 " epoch %d (from %s)", p->pid,
                    p->epoch, req->b->name);
        }
        return;
    }
    bool asked_bump = req->version >= 3 && p->pid >= 0 && !p->bump_fresh;
    if (ec < 0 || kw_error_retriable(ec) || ec == KW_EC_COORDINATOR_NOT_AVAILABLE ||
        ec == KW_EC_NOT_COORDINATOR || ec == KW_EC_CONCURRENT_TRANSACTIONS) {
        p->idemp_state = KP__I_REQUEST;
        p->idemp_retry_at_us = now + kp__backoff_us(p, 1);
        kp__dbg(p, KP__DBG_EOS, "InitProducerId failed (%s), retrying", kp_err2name(ec));
        return;
    }
    if (asked_bump && (ec == KW_EC_INVALID_PRODUCER_EPOCH || ec == KW_EC_PRODUCER_FENCED ||
                       ec == KW_EC_INVALID_PRODUCER_ID_MAPPING)) {
        /* The broker will not bump this id: ask for a fresh one instead. */
        p->bump_fresh = true;
        p->idemp_state = KP__I_REQUEST;
        return;
    }
    kp__fatal(p, ec, "InitProducerId failed: %s: %s", kp_err2name(ec), kp_err2str(ec));
}

void kp__idemp_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us)
{
    if (p->idemp_state == KP__I_DRAIN) {
        if (p->n_produce_inflight > 0)
            return;             /* the last response brings us back */
        p->idemp_state = KP__I_REQUEST;
    }
    if (p->idemp_state != KP__I_REQUEST)
        return;
    if (now_us < p->idemp_retry_at_us) {
        if (p->idemp_retry_at_us < *next_us)
            *next_us = p->idemp_retry_at_us;
        return;
    }
    /* A transactional producer's id comes from its transaction coordinator. */
    struct kp__broker *b = p->txn_on ? kp__txn_coord(p, now_us, next_us)
                                     : kp__broker_any_up(p, now_us, next_us);
    if (b == NULL)
        return;
    int v = kp__broker_version(b, KW_API_INIT_PRODUCER_ID, 0);
    if (v < 0) {
        kp__fatal(p, KP_ERR__UNSUPPORTED_FEATURE, "%s does not offer InitProducerId: the "
                  "%s producer needs Kafka 0.11 or later", b->name,
                  p->txn_on ? "transactional" : "idempotent");
        return;
    }
    if (p->txn_on && p->pid >= 0 && v < 3) {
        /* Only the coordinator can bump a transactional producer's epoch, and only from v3
         * (KIP-360); a new id would not fence anything. librdkafka gives up here too. */
        kp__fatal(p, KP_ERR__UNSUPPORTED_FEATURE, "%s speaks InitProducerId v%d: bumping the "
                  "epoch after an aborted transaction needs v3 (KIP-360)", b->name, v);
        return;
    }
    struct kp__req *req = kp__req_new(b, KW_API_INIT_PRODUCER_ID, v);
    if (req == NULL)
        return;
    struct kw_init_producer_id_req m = { .transactional_id = KW_STR_NULL,
                                         .transaction_timeout_ms = -1, .producer_id = -1,
                                         .producer_epoch = -1 };
    if (p->txn_on) {
        m.transactional_id = kw_str_c(p->conf.v.transactional_id);
        m.transaction_timeout_ms = p->conf.v.txn_timeout_ms;
    }
    /* KIP-360: v3+ may name the current id and epoch to have the epoch bumped; older brokers
     * hand out a new id, which does as well for an idempotent producer. */
    if (v >= 3 && p->pid >= 0 && (p->txn_on || !p->bump_fresh)) {
        m.producer_id = p->pid;
        m.producer_epoch = p->epoch;
    }
    kw_init_producer_id_req_encode(&req->frame, v, &m);
    p->idemp_state = KP__I_WAIT;
    kp__dbg(p, KP__DBG_EOS, "%s: InitProducerId v%d (producer id %" PRId64 ", epoch %d)",
            b->name, v, m.producer_id, m.producer_epoch);
    kp__req_send(req, init_pid_cb, (int64_t)p->conf.v.socket_timeout_ms * 1000, false);
}
