/* ListOffsets (key 2), v0-v7, flexible from v6. Behaviour: -1 (latest) answers the high
 * watermark, or with IsolationLevel 1 (read_committed, v2+) the last stable offset; -2
 * (earliest) the log start, -3 (v7+, max timestamp, KIP-734) the offset of the record with the
 * largest timestamp; any other timestamp the first offset whose record timestamp is at or after
 * it (or -1 if none); lookups by timestamp see what the isolation level may read. v0 answers
 * OldStyleOffsets, at most MaxNumOffsets of them. v4+ checks CurrentLeaderEpoch and returns the
 * leader epoch. */
#include "mockbroker/internal.h"

#include "lib/batch.h"
#include "lib/errors.h"
#include "lib/proto/list_offsets.h"

/* First record at or after ts, or (ts == -3) the record with the largest timestamp, below end. */
static void by_timestamp(struct mb_cluster *c, const struct mb__partition *p, int64_t ts,
                         int64_t end, int64_t *offset, int64_t *found_ts)
{
    *offset = -1;
    *found_ts = -1;
    for (size_t i = p->first_batch; i < p->n_batches; i++) {
        const struct mb__batch *b = &p->batches[i];
        if (b->base_offset >= end)
            break;
        if (ts != -3 && b->max_timestamp < ts)
            continue;
        if (ts == -3 && *found_ts >= b->max_timestamp)
            continue;
        struct kw_record_iter it;
        struct kw_record rec;
        kw_buf_reset(&c->scratch);
        if (kw_record_iter_init(&it, b->data, b->len, &c->scratch) != KW_OK)
            continue;
        while (kw_record_iter_next(&it, &rec) == 1) {
            if (ts == -3 ? rec.timestamp > *found_ts : rec.timestamp >= ts) {
                *offset = rec.offset;
                *found_ts = rec.timestamp;
                if (ts != -3)
                    return;
            }
        }
    }
}

int mb__handle_list_offsets(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    const struct kw_list_offsets_req *m = req->body;
    struct kw_list_offsets_resp resp = { 0 };
    int32_t nt = m->n_topics > 0 ? m->n_topics : 0;
    resp.topics = kw_arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(nt + 1));
    if (resp.topics == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    resp.n_topics = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct kw_list_offsets_req_topic *rt = &m->topics[i];
        struct kw_list_offsets_resp_topic *ot = &resp.topics[i];
        struct mb__topic *t = mb__topic_find(c, rt->name.ptr, rt->name.len);
        int32_t np = rt->n_partitions > 0 ? rt->n_partitions : 0;
        ot->name = rt->name;
        ot->n_partitions = np;
        ot->partitions = kw_arena_alloc(&req->arena, sizeof(*ot->partitions) * (size_t)(np + 1));
        if (ot->partitions == NULL)
            return mb__conn_close(req->conn, "out of memory"), -1;
        for (int32_t j = 0; j < np; j++) {
            const struct kw_list_offsets_req_partition *rp = &rt->partitions[j];
            struct kw_list_offsets_resp_partition *op = &ot->partitions[j];
            struct mb__partition *p = mb__partition_find(t, rp->partition_index);
            op->partition_index = rp->partition_index;
            op->timestamp = -1;
            op->offset = -1;
            op->leader_epoch = -1;
            bool twice = false;     /* Kafka refuses a partition asked twice (v1+) */
            for (int32_t k = 0; k < j && req->version >= 1; k++)
                twice |= rt->partitions[k].partition_index == rp->partition_index;
            if (twice)
                op->error_code = KW_EC_INVALID_REQUEST;
            else if (p == NULL)
                op->error_code = KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
            else if (p->leader != req->broker->id)
                op->error_code = KW_EC_NOT_LEADER_OR_FOLLOWER;
            else if (rp->current_leader_epoch >= 0 && rp->current_leader_epoch < p->leader_epoch)
                op->error_code = KW_EC_FENCED_LEADER_EPOCH;
            else if (rp->current_leader_epoch > p->leader_epoch)
                op->error_code = KW_EC_UNKNOWN_LEADER_EPOCH;
            if (op->error_code)
                continue;
            op->leader_epoch = p->leader_epoch;
            int64_t end = req->version >= 2 && m->isolation_level == 1 ? mb__partition_lso(p)
                                                                        : p->high_watermark;
            if (rp->timestamp == -1) {
                op->offset = end;
            } else if (rp->timestamp == -2 || rp->timestamp == -4) {
                op->offset = p->log_start;
            } else if (rp->timestamp == -3 && req->version >= 7) {
                by_timestamp(c, p, -3, end, &op->offset, &op->timestamp);
                if (op->offset < 0)
                    op->offset = end;
            } else if (rp->timestamp >= 0) {
                by_timestamp(c, p, rp->timestamp, end, &op->offset, &op->timestamp);
            } else {
                op->error_code = KW_EC_INVALID_REQUEST;
            }
            if (req->version == 0 && !op->error_code) {
                /* v0 answers a list: the offset found, then the log start when asked for more. */
                int64_t *offs = kw_arena_alloc(&req->arena, 2 * sizeof(int64_t));
                if (offs == NULL)
                    return mb__conn_close(req->conn, "out of memory"), -1;
                int32_t n = 0;
                if (rp->max_num_offsets > 0 && op->offset >= 0)
                    offs[n++] = op->offset;
                if (rp->max_num_offsets > 1 && rp->timestamp == -1 && p->log_start != op->offset)
                    offs[n++] = p->log_start;
                op->old_style_offsets = offs;
                op->n_old_style_offsets = n;
            }
        }
    }
    mb__respond(req, &resp);
    return 0;
}
