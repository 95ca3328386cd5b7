/* Produce (key 0), v0-v11, flexible from v9. Behaviour: validates each partition's records before
 * storing anything (magic, lengths, CRC, counts, codec, size), then appends the batch whole or
 * not at all; partitions in one request are independent. Produce v0-v2 message sets (magic 0/1,
 * CRC-32) are up-converted to one record batch, as Kafka does. acks=0 sends no response and a
 * failed acks=0 append closes the connection (the only way to tell that client); acks=1 answers
 * after the append; acks=-1 refuses with NOT_ENOUGH_REPLICAS when the ISR is below
 * min.insync.replicas, else answers once the high watermark covers every appended partition
 * (replication.c), or REQUEST_TIMED_OUT after TimeoutMs; other acks values get
 * INVALID_REQUIRED_ACKS. Fault rules refuse partitions before the append or fail them after it
 * (fault.c). Idempotence rules: partition.c. Transactions, as Kafka 3.6+ with KIP-890's
 * verification: a transactional batch must go to a partition of its producer's open
 * transaction, with its current epoch (else INVALID_TXN_STATE, INVALID_PRODUCER_EPOCH or
 * INVALID_PRODUCER_ID_MAPPING), and a plain batch from that producer may not (txn.c). */
#include "mockbroker/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/msgset.h"
#include "lib/proto/produce.h"

struct outcome {
    int16_t error;
    int64_t base_offset;
    int64_t log_append_time;
    char why[512];               /* Kafka's longest default message is 409 bytes */
};

/* An acks=-1 request waiting for the ISR: one entry per appended partition. */
struct wait_part {
    struct kw_str topic;
    int32_t partition;
    int32_t leader_epoch;           /* at the append: a new leader means NOT_LEADER */
    int64_t required;               /* the high watermark that covers the batch */
    struct kw_produce_resp_partition *op;
};

struct waiting {
    int n, pending;
    struct wait_part parts[];
};

static int16_t fail(struct outcome *o, int16_t ec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int16_t fail(struct outcome *o, int16_t ec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof(o->why), fmt, ap);
    va_end(ap);
    return o->error = ec;
}

/* Checks one partition's records and appends them; fills o. */
static void produce_partition(struct mb__req *req, const struct kw_produce_req *m,
                              struct mb__topic *t, const struct kw_produce_req_partition *rp,
                              struct outcome *o)
{
    struct mb_cluster *c = req->c;
    struct mb__partition *p = mb__partition_find(t, rp->index);
    /* The records lie in the request's frame, which we own: stamping offsets in place is fine. */
    uint8_t *data = (uint8_t *)rp->records.ptr;
    struct mb__frame *owner = req->frame;
    size_t len = rp->records.len > 0 ? (size_t)rp->records.len : 0;
    struct kw_batch_hdr h;

    if (p == NULL) {
        fail(o, KW_EC_UNKNOWN_TOPIC_OR_PARTITION, "partition %d does not exist", rp->index);
        return;
    }
    if (p->leader != req->broker->id) {
        fail(o, KW_EC_NOT_LEADER_OR_FOLLOWER, "broker %d does not lead %s-%d (leader %d)",
             req->broker->id, t->name, p->index, p->leader);
        return;
    }
    if (len == 0) {
        fail(o, KW_EC_INVALID_RECORD, "no records");
        return;
    }
    int64_t size = kw_batch_peek(data, len, &h);
    if (size < 0 && size != KW_ERR_SHORT) {
        fail(o, KW_EC_CORRUPT_MESSAGE, "records do not parse: %s", kw_strerror((int)size));
        return;
    }
    if (req->version >= 3) {
        /* v3+ carries exactly one magic-2 batch per partition (KIP-98). */
        if (h.magic != 2) {
            fail(o, KW_EC_INVALID_RECORD, "magic %d in Produce v%d (v3+ needs magic 2)", h.magic,
                 req->version);
            return;
        }
        if (size < 0 || (size_t)size != len) {
            fail(o, size < 0 ? KW_EC_CORRUPT_MESSAGE : KW_EC_INVALID_RECORD,
                 size < 0 ? "batch is truncated" : "more than one batch for one partition");
            return;
        }
    } else if (h.magic == 2) {
        fail(o, KW_EC_INVALID_RECORD, "record batch (magic 2) in Produce v%d", req->version);
        return;
    }
    if (len > (size_t)t->max_message_bytes) {
        fail(o, KW_EC_MESSAGE_TOO_LARGE, "%zu bytes > max.message.bytes %d", len,
             t->max_message_bytes);
        return;
    }
    if (h.magic < 2) {
        int count, magic;
        int err = kw_msgset_validate(data, len, &count, &magic);
        if (err != KW_OK) {
            fail(o, err == KW_ERR_CRC ? KW_EC_CORRUPT_MESSAGE : KW_EC_INVALID_RECORD,
                 "message set: %s", kw_strerror(err));
            return;
        }
        kw_buf_reset(&c->scratch2);
        if ((err = kw_msgset_to_batch(data, len, &c->scratch2)) != KW_OK) {
            fail(o, KW_EC_CORRUPT_MESSAGE, "message set up-conversion: %s", kw_strerror(err));
            return;
        }
        data = c->scratch2.data;
        len = c->scratch2.len;
        owner = NULL;
        kw_batch_peek(data, len, &h);
    } else {
        char why[120];
        /* Decompressed records may be far larger than the batch; Kafka bounds them only by
         * memory, we by 64 times the topic's limit. */
        int err = kw_batch_validate_why(data, len, &h, &c->scratch,
                                        (size_t)t->max_message_bytes * 64, why, sizeof(why));
        if (err != KW_OK) {
            int16_t ec = err == KW_ERR_CRC || err == KW_ERR_CODEC ? KW_EC_CORRUPT_MESSAGE
                                                                  : KW_EC_INVALID_RECORD;
            fail(o, ec, "%s", why);
            return;
        }
        if (kw_batch_codec(h.attributes) == KW_CODEC_ZSTD && req->version < 7) {
            fail(o, KW_EC_UNSUPPORTED_COMPRESSION_TYPE, "zstd needs Produce v7+");
            return;
        }
        if (h.attributes & KW_BATCH_ATTR_CONTROL) {
            fail(o, KW_EC_INVALID_RECORD, "control batches may not come from a client");
            return;
        }
        if (h.producer_id >= 0 && h.base_sequence < 0) {
            fail(o, KW_EC_INVALID_RECORD, "producer id %" PRId64 " with sequence %" PRId32,
                 h.producer_id, h.base_sequence);
            return;
        }
        bool txn = (h.attributes & KW_BATCH_ATTR_TRANSACTIONAL) != 0;
        if (txn && h.producer_id < 0) {
            fail(o, KW_EC_INVALID_RECORD, "transactional batch without a producer id");
            return;
        }
        int16_t ec = mb__txn_produce_check(c, p, m->transactional_id, h.producer_id,
                                           h.producer_epoch, txn);
        if (ec) {
            fail(o, ec, "%s", ec == KW_EC_INVALID_TXN_STATE
                 ? (txn ? "the partition is not in the producer's open transaction"
                        : "a non-transactional batch into the producer's open transaction")
                 : ec == KW_EC_INVALID_PRODUCER_EPOCH
                 ? "not the transactional id's current producer epoch"
                 : "the producer id does not belong to the transactional id");
            return;
        }
    }
    if (m->acks == -1 && p->n_isr < t->min_insync_replicas) {
        fail(o, KW_EC_NOT_ENOUGH_REPLICAS, "ISR %d < min.insync.replicas %d", p->n_isr,
             t->min_insync_replicas);
        return;
    }
    o->error = (int16_t)mb__partition_append(c, p, owner, data, len, &o->base_offset,
                                            &o->log_append_time);
    if (o->error)
        fail(o, o->error, "%s", kw_error_text(o->error));
}

static void journal_append(struct mb__req *req, struct mb__topic *t,
                           const struct kw_produce_req_topic *rt,
                           const struct kw_produce_req_partition *rp, const struct outcome *o)
{
    struct mb_journal_entry *e = mb__jreq(req, MB_JOURNAL_APPEND);
    struct kw_batch_hdr h;
    memset(&h, 0, sizeof(h));
    h.producer_id = -1;
    h.producer_epoch = -1;
    h.base_sequence = -1;
    h.records_count = -1;
    int rc = rp->records.len > 0 ? kw_batch_peek(rp->records.ptr, (size_t)rp->records.len, &h) : -1;
    e->topic = t ? t->jname
                 : mb__intern(req->c, rt->name.ptr, rt->name.len > 0 ? (size_t)rt->name.len : 0);
    e->partition = rp->index;
    e->bytes = rp->records.len;
    if ((rc >= 0 || rc == KW_ERR_SHORT) && h.magic == 2) {
        e->records = h.records_count;
        e->producer_id = h.producer_id;
        e->producer_epoch = h.producer_epoch;
        e->base_sequence = h.base_sequence;
    }
    e->error_code = o->error;
    e->offset = o->error ? -1 : o->base_offset;
}

/* Fills a refused partition from a rule's error action (message, KIP-467 record errors). */
static void fault_fail(struct mb__req *req, struct outcome *o, int16_t ec,
                       const struct mb_action *a, struct kw_produce_resp_partition *op)
{
    fail(o, ec, "%s", a && a->error_message ? a->error_message : kw_error_text(ec));
    if (a == NULL || a->n_record_errors == 0 || req->version < 8)
        return;
    struct kw_produce_resp_record_error *re =
        kw_arena_alloc(&req->arena, sizeof(*re) * (size_t)a->n_record_errors);
    if (re == NULL)
        return;
    for (int i = 0; i < a->n_record_errors; i++)
        re[i] = (struct kw_produce_resp_record_error){
            .batch_index = a->record_errors[i],
            .batch_index_error_message = a->error_message ? kw_str_c(a->error_message)
                                                          : KW_STR_NULL,
        };
    op->record_errors = re;
    op->n_record_errors = a->n_record_errors;
}

static void set_error(struct mb__req *req, struct kw_produce_resp_partition *op, int16_t ec,
                      const char *why)
{
    op->error_code = ec;
    op->base_offset = -1;
    op->log_append_time_ms = -1;
    size_t wl = strlen(why);
    char *copy = kw_arena_alloc(&req->arena, wl + 1);
    if (copy) {
        memcpy(copy, why, wl + 1);
        op->error_message = (struct kw_str){ copy, (int32_t)wl };
    }
}

static int16_t first_error(const struct kw_produce_resp *resp)
{
    for (int32_t i = 0; i < resp->n_responses; i++)
        for (int32_t j = 0; j < resp->responses[i].n_partition_responses; j++)
            if (resp->responses[i].partition_responses[j].error_code)
                return resp->responses[i].partition_responses[j].error_code;
    return 0;
}

static void answer(struct mb__req *req)
{
    req->first_error = first_error(req->resp);
    mb__respond(req, req->resp);
}

/* Checks the waiting partitions; true when none is left. */
static bool check_waiting(struct mb__req *req)
{
    struct waiting *w = req->wait;
    for (int i = 0; i < w->n; i++) {
        struct wait_part *wp = &w->parts[i];
        int16_t ec;
        if (wp->op == NULL)
            continue;
        struct mb__partition *p =
            mb__partition_find(mb__topic_find(req->c, wp->topic.ptr, wp->topic.len), wp->partition);
        if (!mb__repl_acks_done(p, req->broker->id, wp->leader_epoch, wp->required, &ec))
            continue;
        if (ec)
            set_error(req, wp->op, ec, kw_error_text(ec));
        wp->op = NULL;
        w->pending--;
    }
    return w->pending == 0;
}

static void stop_waiting(struct mb__req *req)
{
    if (req->waiting) {
        LIST_REMOVE(req, wait_link);
        req->waiting = false;
    }
    if (req->timer) {
        kw_timer_cancel(req->c->clock, req->timer);
        req->timer = 0;
    }
}

static void timeout_cb(void *arg)
{
    struct mb__req *req = arg;
    struct waiting *w = req->wait;
    req->timer = 0;
    for (int i = 0; i < w->n; i++)
        if (w->parts[i].op) {
            /* As Kafka: the write stays in the log, the client is told it timed out. */
            set_error(req, w->parts[i].op, KW_EC_REQUEST_TIMED_OUT,
                      "the in-sync replicas did not copy the batch within TimeoutMs");
            w->parts[i].op = NULL;
        }
    w->pending = 0;
    stop_waiting(req);
    answer(req);
}

void mb__produce_wake(struct mb_cluster *c)
{
    /* answer() may free the request (and close nothing else), so start over after each. */
    struct mb__req *req;
again:
    LIST_FOREACH(req, &c->produce_waiters, wait_link)
        if (check_waiting(req)) {
            stop_waiting(req);
            answer(req);
            goto again;
        }
}

int mb__handle_produce(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    const struct kw_produce_req *m = req->body;
    struct kw_produce_resp *resp = kw_arena_alloc(&req->arena, sizeof(*resp));
    bool bad_acks = m->acks != 0 && m->acks != 1 && m->acks != -1;
    bool any_failed = false;
    int32_t nt = m->n_topic_data > 0 ? m->n_topic_data : 0;
    int32_t total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += m->topic_data[i].n_partition_data > 0 ? m->topic_data[i].n_partition_data : 0;
    struct waiting *w = NULL;
    if (m->acks == -1)
        w = kw_arena_alloc(&req->arena, sizeof(*w) + sizeof(w->parts[0]) * (size_t)(total + 1));

    if (resp == NULL || (m->acks == -1 && w == NULL))
        return mb__conn_close(req->conn, "out of memory"), -1;
    memset(resp, 0, sizeof(*resp));
    resp->responses = kw_arena_alloc(&req->arena, sizeof(*resp->responses) * (size_t)(nt + 1));
    if (resp->responses == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    resp->n_responses = nt;
    if (w)
        w->n = w->pending = 0;
    for (int32_t i = 0; i < nt; i++) {
        const struct kw_produce_req_topic *rt = &m->topic_data[i];
        struct kw_produce_resp_topic *ot = &resp->responses[i];
        int32_t np = rt->n_partition_data > 0 ? rt->n_partition_data : 0;
        struct mb__topic *t = mb__topic_find(c, rt->name.ptr, rt->name.len);
        ot->name = rt->name;
        ot->n_partition_responses = np;
        ot->partition_responses = kw_arena_alloc(&req->arena,
                                                 sizeof(*ot->partition_responses) * (size_t)(np + 1));
        if (ot->partition_responses == NULL)
            return mb__conn_close(req->conn, "out of memory"), -1;
        for (int32_t j = 0; j < np; j++) {
            const struct kw_produce_req_partition *rp = &rt->partition_data[j];
            struct kw_produce_resp_partition *op = &ot->partition_responses[j];
            struct outcome o = { .base_offset = -1, .log_append_time = -1 };
            const struct mb_action *a = NULL;
            struct mb__partition *p = mb__partition_find(t, rp->index);
            int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, rt->name, rp->index, &a)
                                   : 0;
            memset(op, 0, sizeof(*op));
            if (ec) {
                if (ec == KW_EC_UNKNOWN_PRODUCER_ID && a->type == MB_ACTION_UNKNOWN_PRODUCER_ID &&
                    p && rp->records.len > 0) {
                    struct kw_batch_hdr h;
                    memset(&h, 0, sizeof(h));
                    int rc = kw_batch_peek(rp->records.ptr, (size_t)rp->records.len, &h);
                    if ((rc >= 0 || rc == KW_ERR_SHORT) && h.magic == 2 && h.producer_id >= 0)
                        mb__partition_forget_producer(p, h.producer_id);
                    a = NULL;
                }
                fault_fail(req, &o, ec, a, op);
            } else if (bad_acks) {
                fail(&o, KW_EC_INVALID_REQUIRED_ACKS, "acks must be -1, 0 or 1, not %d", m->acks);
            } else if (t == NULL) {
                fail(&o, KW_EC_UNKNOWN_TOPIC_OR_PARTITION, "unknown topic");
            } else {
                produce_partition(req, m, t, rp, &o);
            }
            journal_append(req, t, rt, rp, &o);
            if (o.error == 0 && req->plan &&
                (ec = mb__fault_error(req, MB_AFTER_APPLY, rt->name, rp->index, &a)) != 0) {
                /* Applied, and answered as failed: the batch stays in the log. */
                fault_fail(req, &o, ec, a, op);
            }
            op->index = rp->index;
            op->error_code = o.error;
            op->base_offset = o.error ? -1 : o.base_offset;
            op->log_append_time_ms = o.error ? -1 : o.log_append_time;
            op->log_start_offset = -1;
            op->error_message = KW_STR_NULL;
            op->current_leader.leader_id = -1;
            op->current_leader.leader_epoch = -1;
            if (p)
                op->log_start_offset = p->log_start;
            if (o.error) {
                any_failed = true;
                mb__log(c, MB_LOG_INFO, "Produce v%d %.*s-%d from %s: %s: %s", req->version,
                        (int)rt->name.len, rt->name.ptr, rp->index, req->conn->peer,
                        kw_error_name(o.error), o.why);
                set_error(req, op, o.error, o.why);
                if (o.error == KW_EC_NOT_LEADER_OR_FOLLOWER && p && p->leader >= 0) {
                    op->current_leader.leader_id = p->leader;
                    op->current_leader.leader_epoch = p->leader_epoch;
                }
            } else if (w) {
                /* The high watermark that covers this batch (or the duplicate it repeats). */
                struct kw_batch_hdr h;
                memset(&h, 0, sizeof(h));
                kw_batch_peek(rp->records.ptr, (size_t)rp->records.len, &h);
                w->parts[w->n++] = (struct wait_part){
                    .topic = rt->name, .partition = rp->index, .leader_epoch = p->leader_epoch,
                    .required = o.base_offset + h.last_offset_delta + 1, .op = op,
                };
                w->pending++;
            }
        }
    }
    req->resp = resp;
    if (m->acks == 0) {
        if (any_failed) {
            mb__conn_close(req->conn, "acks=0 produce failed: closing, as Kafka does, so the "
                                      "client notices");
            return -1;
        }
        mb__respond_none(req);
        return 0;
    }
    if (w && w->pending) {
        req->wait = w;
        if (!check_waiting(req)) {
            req->waiting = true;
            LIST_INSERT_HEAD(&c->produce_waiters, req, wait_link);
            req->timer = kw_timer_add(c->clock, m->timeout_ms > 0 ? (int64_t)m->timeout_ms * 1000
                                                                  : 0, timeout_cb, req);
            return 0;
        }
    }
    answer(req);
    return 0;
}
