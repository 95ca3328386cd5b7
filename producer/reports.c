/* Delivery reports and error names. A finished batch joins the report queue whole; poll() walks
 * its records (the bytes that were sent) to give each message its key, value, offset and
 * timestamp, so nothing per message is kept besides the opaque. */
#include "producer/internal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

static const struct {
    int err;
    const char *name, *text;
} local_errors[] = {
    { KP_ERR__BAD_MSG, "_BAD_MSG", "Local: Bad message format" },
    { KP_ERR__DESTROY, "_DESTROY", "Local: Broker handle destroyed" },
    { KP_ERR__FAIL, "_FAIL", "Local: Internal failure" },
    { KP_ERR__TRANSPORT, "_TRANSPORT", "Local: Broker transport failure" },
    { KP_ERR__RESOLVE, "_RESOLVE", "Local: Host resolution failure" },
    { KP_ERR__MSG_TIMED_OUT, "_MSG_TIMED_OUT", "Local: Message timed out" },
    { KP_ERR__UNKNOWN_PARTITION, "_UNKNOWN_PARTITION", "Local: Unknown partition" },
    { KP_ERR__UNKNOWN_TOPIC, "_UNKNOWN_TOPIC", "Local: Unknown topic" },
    { KP_ERR__ALL_BROKERS_DOWN, "_ALL_BROKERS_DOWN", "Local: All broker connections are down" },
    { KP_ERR__INVALID_ARG, "_INVALID_ARG", "Local: Invalid argument or configuration" },
    { KP_ERR__TIMED_OUT, "_TIMED_OUT", "Local: Timed out" },
    { KP_ERR__QUEUE_FULL, "_QUEUE_FULL", "Local: Queue full" },
    { KP_ERR__CONFLICT, "_CONFLICT", "Local: Conflicting use" },
    { KP_ERR__STATE, "_STATE", "Local: Erroneous state" },
    { KP_ERR__NOT_CONFIGURED, "_NOT_CONFIGURED", "Local: Functionality not configured" },
    { KP_ERR__UNSUPPORTED_FEATURE, "_UNSUPPORTED_FEATURE",
      "Local: Required feature not supported by broker" },
    { KP_ERR__PURGE_QUEUE, "_PURGE_QUEUE", "Local: Purged in queue" },
    { KP_ERR__PURGE_INFLIGHT, "_PURGE_INFLIGHT", "Local: Purged in flight" },
    { KP_ERR__FATAL, "_FATAL", "Local: Fatal error" },
    { KP_ERR__INCONSISTENT, "_INCONSISTENT", "Local: Inconsistent state" },
    { KP_ERR__POSSIBLY_PERSISTED, "_POSSIBLY_PERSISTED",
      "Local: Message possibly persisted (its response was lost)" },
    { KP_ERR_NO_ERROR, "NO_ERROR", "Success" },
};

const char *kp_err2name(int err)
{
    for (size_t i = 0; i < sizeof(local_errors) / sizeof(local_errors[0]); i++)
        if (local_errors[i].err == err)
            return local_errors[i].name;
    if (err >= KW_EC_MIN && err <= KW_EC_MAX)
        return kw_error_name(err);
    return err < 0 ? "_UNKNOWN" : "UNKNOWN";
}

const char *kp_err2str(int err)
{
    for (size_t i = 0; i < sizeof(local_errors) / sizeof(local_errors[0]); i++)
        if (local_errors[i].err == err)
            return local_errors[i].text;
    if (err >= KW_EC_MIN && err <= KW_EC_MAX)
        return kw_error_text(err);
    return err < 0 ? "Local: Unknown error" : "Unknown error code";
}

void kp__batch_done(struct kp_producer *p, struct kp__batch *b, int err, int status,
                    const char *errstr)
{
    b->err = err;
    if (b->cause == 0)
        b->cause = err;
    b->status = status;
    free(b->errstr);
    b->errstr = errstr ? strdup(errstr) : NULL;
    if (p->conf.dr_cb) {
        TAILQ_INSERT_TAIL(&p->reports, b, link);
        pthread_cond_broadcast(&p->cond);
        return;
    }
    /* Nobody to tell: like librdkafka without a delivery callback, the message ends here. */
    p->msg_cnt -= b->count;
    p->msg_bytes -= b->bytes;
    kp__batch_recycle(p, b);
    if (p->msg_cnt == 0)
        pthread_cond_broadcast(&p->cond);
}

void kp__batch_fail(struct kp_producer *p, struct kp__batch *b, int err, const char *errstr)
{
    int status = b->possibly ? KP_STATUS_POSSIBLY_PERSISTED : KP_STATUS_NOT_PERSISTED;
    int final = err;
    b->cause = err == KP_ERR__MSG_TIMED_OUT && b->last_err ? b->last_err : err;
    /* Without idempotence nobody can tell whether a lost response's write landed: say so
     * rather than let the application assume it did not. Purges and fatal errors keep their
     * own codes; the status says the same there. */
    if (b->possibly && !p->conf.v.idempotence && err != KP_ERR__PURGE_QUEUE &&
        err != KP_ERR__PURGE_INFLIGHT && err != KP_ERR__FATAL)
        final = KP_ERR__POSSIBLY_PERSISTED;
    if (p->txn_on && !p->stopping) {
        /* librdkafka: a message of a transaction that failed for good means the transaction
         * cannot commit. Purges are the abort itself, fatal errors say more already. */
        p->txn.dr_fails += b->count;
        if (err != KP_ERR__PURGE_QUEUE && err != KP_ERR__PURGE_INFLIGHT && err != KP_ERR__FATAL)
            kp__txn_abortable_locked(p, err, false, "%d message%s to %s [%d] failed: %s",
                                     b->count, b->count == 1 ? "" : "s", b->topic->name,
                                     b->part ? b->part->id : -1,
                                     errstr ? errstr : kp_err2str(err));
    }
    /* A sequence number that will never be acknowledged leaves a gap the broker would refuse
     * every later batch for: the epoch is bumped and sequences restart (KIP-360); for a
     * transaction, once it is aborted. */
    if (b->base_seq >= 0 && !p->stopping &&
        (p->idemp_state == KP__I_ASSIGNED || p->idemp_state == KP__I_DRAIN))
        kp__idemp_bump(p, err, "a batch with a sequence number failed");
    kp__batch_done(p, b, final, status, errstr);
}

/* Calls the delivery callback for each message of b. */
static void serve_batch(struct kp_producer *p, struct kp__batch *b)
{
    struct kp_report r = {
        .topic = b->topic->name,
        .partition = b->part ? b->part->id : -1,
        .err = b->err,
        .cause = b->cause,
        .status = b->status,
        .errstr = b->errstr ? b->errstr : b->err ? kp_err2str(b->err) : "",
        .timestamp_type = b->log_append_time >= 0,
    };
    struct kw_record_iter it;
    bool ok = b->count > 0 && (b->finished || kw_batch_builder_finish(&b->bb) == KW_OK);
    b->finished = b->finished || ok;
    ok = ok && kw_record_iter_init(&it, b->buf.data, b->buf.len, &p->report_scratch) == KW_OK;
    for (int32_t i = 0; i < b->count; i++) {
        struct kw_record rec;
        if (ok && kw_record_iter_next(&it, &rec) == 1) {
            r.key = rec.key.len >= 0 ? rec.key.ptr : NULL;
            r.key_len = rec.key.len > 0 ? (size_t)rec.key.len : 0;
            r.value = rec.value.len >= 0 ? rec.value.ptr : NULL;
            r.value_len = rec.value.len > 0 ? (size_t)rec.value.len : 0;
            r.timestamp = b->log_append_time >= 0 ? b->log_append_time : rec.timestamp;
        } else {
            ok = false;
            r.key = r.value = NULL;
            r.key_len = r.value_len = 0;
            r.timestamp = -1;
        }
        r.offset = b->offset >= 0 ? b->offset + i : -1;
        r.opaque = b->opaques[i];
        p->conf.dr_cb(p, &r, p->conf.opaque);
    }
}

int kp__reports_serve(struct kp_producer *p)
{
    struct kp__batch_list list;
    TAILQ_INIT(&list);
    pthread_mutex_lock(&p->lock);
    TAILQ_CONCAT(&list, &p->reports, link);
    struct kp__event *ev = p->events;
    p->events = p->events_tail = NULL;
    pthread_mutex_unlock(&p->lock);

    int n = 0;
    while (ev) {
        struct kp__event *e = ev;
        ev = e->next;
        if (p->conf.error_cb)
            p->conf.error_cb(p, e->err, e->reason, p->conf.opaque);
        free(e);
        n++;
    }
    struct kp__batch *b;
    TAILQ_FOREACH(b, &list, link) {
        serve_batch(p, b);
        n += b->count;
    }
    pthread_mutex_lock(&p->lock);
    while ((b = TAILQ_FIRST(&list)) != NULL) {
        TAILQ_REMOVE(&list, b, link);
        p->msg_cnt -= b->count;
        p->msg_bytes -= b->bytes;
        kp__batch_recycle(p, b);
    }
    if (p->msg_cnt == 0)
        pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return n;
}
