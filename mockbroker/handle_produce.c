/* Produce (key 0), v0-v11, flexible from v9. Behaviour: validates each partition's records before
 * storing anything (magic, lengths, CRC, counts, codec, size), then appends the batch whole or
 * not at all; partitions in one request are independent. Produce v0-v2 message sets (magic 0/1,
 * CRC-32) are up-converted to one record batch, as Kafka does. acks=0 sends no response and a
 * failed acks=0 append closes the connection (the only way to tell that client); acks=1 and
 * acks=-1 answer after the append (every replica is in sync: followers come with the replication
 * model); other acks values get INVALID_REQUIRED_ACKS. Idempotence rules: partition.c.
 * Unlike Kafka: a transactional batch is stored like any other (transactions come later). */
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
    char why[160];
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
    if (p->leader != req->conn->broker->id) {
        fail(o, KW_EC_NOT_LEADER_OR_FOLLOWER, "broker %d does not lead %s-%d (leader %d)",
             req->conn->broker->id, t->name, p->index, p->leader);
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

int mb__handle_produce(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    const struct kw_produce_req *m = req->body;
    struct kw_produce_resp resp = { 0 };
    bool bad_acks = m->acks != 0 && m->acks != 1 && m->acks != -1;
    bool any_failed = false, appended = false;
    int32_t nt = m->n_topic_data > 0 ? m->n_topic_data : 0;

    resp.responses = kw_arena_alloc(&req->arena, sizeof(*resp.responses) * (size_t)(nt + 1));
    if (resp.responses == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    resp.n_responses = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct kw_produce_req_topic *rt = &m->topic_data[i];
        struct kw_produce_resp_topic *ot = &resp.responses[i];
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
            if (bad_acks)
                fail(&o, KW_EC_INVALID_REQUIRED_ACKS, "acks must be -1, 0 or 1, not %d", m->acks);
            else if (t == NULL)
                fail(&o, KW_EC_UNKNOWN_TOPIC_OR_PARTITION, "unknown topic");
            else
                produce_partition(req, m, t, rp, &o);
            op->index = rp->index;
            op->error_code = o.error;
            op->base_offset = o.error ? -1 : o.base_offset;
            op->log_append_time_ms = o.log_append_time;
            op->log_start_offset = -1;
            op->error_message = KW_STR_NULL;
            op->current_leader.leader_id = -1;
            op->current_leader.leader_epoch = -1;
            struct mb__partition *p = mb__partition_find(t, rp->index);
            if (p)
                op->log_start_offset = p->log_start;
            if (o.error) {
                any_failed = true;
                mb__log(c, MB_LOG_INFO, "Produce v%d %.*s-%d from %s: %s: %s", req->version,
                        (int)rt->name.len, rt->name.ptr, rp->index, req->conn->peer,
                        kw_error_name(o.error), o.why);
                size_t wl = strlen(o.why);
                char *why = kw_arena_alloc(&req->arena, wl + 1);
                if (why) {
                    memcpy(why, o.why, wl + 1);
                    op->error_message = (struct kw_str){ why, (int32_t)wl };
                }
                if (o.error == KW_EC_NOT_LEADER_OR_FOLLOWER && p && p->leader >= 0) {
                    op->current_leader.leader_id = p->leader;
                    op->current_leader.leader_epoch = p->leader_epoch;
                }
            } else {
                appended = true;
            }
        }
    }
    if (appended)
        mb__fetch_wake(c);
    if (m->acks == 0) {
        if (any_failed) {
            mb__conn_close(req->conn, "acks=0 produce failed: closing, as Kafka does, so the "
                                      "client notices");
            return -1;
        }
        mb__respond_none(req);
        return 0;
    }
    mb__respond(req, &resp);
    return 0;
}
