/* Fetch (key 1), v0-v12, flexible from v12. Behaviour: returns stored batches from the fetch
 * offset up to the high watermark, bounded by PartitionMaxBytes and MaxBytes (the first batch
 * always, even if larger, KIP-74). Readers at v0-v3 get the records down-converted to the
 * message-set format they understand (magic 0 for v0-v1, magic 1 for v2-v3). When fewer than
 * MinBytes are ready the request waits, on the loop's clock, until enough data arrives or
 * MaxWaitMs passes. v7+ answers SessionId 0 (no incremental fetch sessions, KIP-227);
 * v9+ checks CurrentLeaderEpoch (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH, KIP-320).
 * Transactions (v4+): LastStableOffset is always filled; IsolationLevel 1 (read_committed)
 * returns batches only below it and lists the aborted transactions that overlap what is
 * returned, for the client to drop their records; markers go to v4+ readers, which skip them,
 * and are left out of the down-converted answers of v0-v3 (read_uncommitted) readers. */
#include "mockbroker/internal.h"

#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/msgset.h"
#include "lib/proto/fetch.h"

/* The error for one requested partition, or 0 if it can be read. */
static int16_t check(const struct mb__req *req, const struct mb__partition *p,
                     const struct kw_fetch_req_partition *rp)
{
    if (p == NULL)
        return KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
    if (p->leader != req->broker->id)
        return KW_EC_NOT_LEADER_OR_FOLLOWER;
    if (rp->current_leader_epoch >= 0 && rp->current_leader_epoch < p->leader_epoch)
        return KW_EC_FENCED_LEADER_EPOCH;
    if (rp->current_leader_epoch > p->leader_epoch)
        return KW_EC_UNKNOWN_LEADER_EPOCH;
    if (rp->fetch_offset < p->log_start || rp->fetch_offset > p->log_end)
        return KW_EC_OFFSET_OUT_OF_RANGE;
    return 0;
}

static bool is_control(const struct mb__batch *b)
{
    return b->len > 22 && (kw_be16(b->data + 21) & KW_BATCH_ATTR_CONTROL);
}

/* How far the request may read: a read_committed consumer only below the last stable offset. */
static int64_t bound(const struct mb__req *req, const struct mb__partition *p)
{
    const struct kw_fetch_req *m = req->body;
    return req->version >= 4 && m->isolation_level == 1 ? mb__partition_lso(p)
                                                        : p->high_watermark;
}

/* The whole batches to return from p: [*first, *last), their bytes as the result. Only the
 * response's first batch may exceed the byte limits (KIP-74), so a consumer always progresses.
 * Markers weigh nothing for v0-v3 readers, whose answers leave them out. */
static int64_t span(const struct mb__req *req, const struct mb__partition *p,
                    const struct kw_fetch_req_partition *rp, int64_t total, int64_t budget,
                    size_t *first, size_t *last)
{
    size_t k = mb__partition_seek(p, rp->fetch_offset);
    int64_t bytes = 0, end = bound(req, p);
    *first = k;
    while (k < p->n_batches && p->batches[k].base_offset < end) {
        int64_t len = req->version < 4 && is_control(&p->batches[k]) ? 0 : p->batches[k].len;
        bool first_of_response = bytes == 0 && total == 0;
        if (!first_of_response &&
            (bytes + len > rp->partition_max_bytes || total + bytes + len > budget))
            break;
        bytes += len;
        k++;
    }
    *last = k;
    return bytes;
}

/* read_committed: the aborted transactions overlapping the returned offsets [from, to), in
 * marker order, from the request's arena. -1 out of memory. */
static int aborted_list(struct mb__req *req, const struct mb__partition *p, int64_t from,
                        int64_t to, struct kw_fetch_resp_partition *op)
{
    int32_t n = 0;
    for (size_t i = 0; i < p->n_aborted; i++)
        n += p->aborted[i].last_offset >= from && p->aborted[i].first_offset < to;
    op->n_aborted_transactions = 0;
    if (n == 0)
        return 0;
    op->aborted_transactions = kw_arena_alloc(&req->arena,
                                              sizeof(*op->aborted_transactions) * (size_t)n);
    if (op->aborted_transactions == NULL)
        return -1;
    for (size_t i = 0; i < p->n_aborted; i++)
        if (p->aborted[i].last_offset >= from && p->aborted[i].first_offset < to)
            op->aborted_transactions[op->n_aborted_transactions++] =
                (struct kw_fetch_resp_aborted_transaction){ p->aborted[i].producer_id,
                                                            p->aborted[i].first_offset };
    return 0;
}

static int64_t budget_of(const struct mb__req *req)
{
    const struct kw_fetch_req *m = req->body;
    return req->version >= 3 ? m->max_bytes : INT32_MAX;
}

/* Bytes a response would carry now, and whether any partition has an error; allocates nothing,
 * so a waiting request can be re-examined after every append. */
static int64_t ready(struct mb__req *req, bool *error)
{
    const struct kw_fetch_req *m = req->body;
    int64_t total = 0, budget = budget_of(req);
    *error = false;
    for (int32_t i = 0; i < m->n_topics; i++) {
        const struct kw_fetch_req_topic *rt = &m->topics[i];
        struct mb__topic *t = mb__topic_find(req->c, rt->topic.ptr, rt->topic.len);
        for (int32_t j = 0; j < rt->n_partitions; j++) {
            const struct kw_fetch_req_partition *rp = &rt->partitions[j];
            const struct mb__partition *p = mb__partition_find(t, rp->partition);
            size_t first, last;
            if (check(req, p, rp)) {
                *error = true;
                continue;
            }
            total += span(req, p, rp, total, budget, &first, &last);
        }
    }
    return total;
}

static bool has_zstd(const struct mb__partition *p, size_t first, size_t last)
{
    for (size_t k = first; k < last; k++)
        if (p->batches[k].len > 22 &&
            kw_batch_codec((int16_t)kw_be16(p->batches[k].data + 21)) == KW_CODEC_ZSTD)
            return true;
    return false;
}

/* Builds the response into resp (arrays and record bytes from the request's arena). */
static int build(struct mb__req *req, struct kw_fetch_resp *resp)
{
    struct mb_cluster *c = req->c;
    const struct kw_fetch_req *m = req->body;
    int64_t total = 0, budget = budget_of(req);
    int magic = req->version <= 1 ? 0 : req->version <= 3 ? 1 : 2;

    memset(resp, 0, sizeof(*resp));
    int32_t nt = m->n_topics > 0 ? m->n_topics : 0;
    resp->responses = kw_arena_alloc(&req->arena, sizeof(*resp->responses) * (size_t)(nt + 1));
    if (resp->responses == NULL)
        return -1;
    resp->n_responses = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct kw_fetch_req_topic *rt = &m->topics[i];
        struct kw_fetch_resp_topic *ot = &resp->responses[i];
        struct mb__topic *t = mb__topic_find(c, rt->topic.ptr, rt->topic.len);
        int32_t np = rt->n_partitions > 0 ? rt->n_partitions : 0;
        ot->topic = rt->topic;
        ot->n_partitions = np;
        ot->partitions = kw_arena_alloc(&req->arena, sizeof(*ot->partitions) * (size_t)(np + 1));
        if (ot->partitions == NULL)
            return -1;
        for (int32_t j = 0; j < np; j++) {
            const struct kw_fetch_req_partition *rp = &rt->partitions[j];
            struct kw_fetch_resp_partition *op = &ot->partitions[j];
            struct mb__partition *p = mb__partition_find(t, rp->partition);
            op->partition_index = rp->partition;
            op->high_watermark = p ? p->high_watermark : -1;
            op->last_stable_offset = p ? mb__partition_lso(p) : -1;
            op->log_start_offset = p ? p->log_start : -1;
            op->diverging_epoch = (struct kw_fetch_resp_epoch_end_offset){ -1, -1 };
            op->current_leader = (struct kw_fetch_resp_leader){ -1, -1 };
            op->snapshot_id = (struct kw_fetch_resp_snapshot_id){ -1, -1 };
            op->preferred_read_replica = -1;
            op->records = (struct kw_bytes){ (const uint8_t *)"", 0 };
            op->error_code = check(req, p, rp);
            if (op->error_code == KW_EC_NOT_LEADER_OR_FOLLOWER && p->leader >= 0)
                op->current_leader = (struct kw_fetch_resp_leader){ p->leader, p->leader_epoch };
            if (op->error_code)
                continue;
            size_t first, last;
            int64_t bytes = span(req, p, rp, total, budget, &first, &last);
            if (bytes == 0)
                continue;
            if (req->version < 10 && has_zstd(p, first, last)) {
                /* A reader below Fetch v10 cannot know zstd (KIP-110): Kafka refuses, as we do. */
                op->error_code = KW_EC_UNSUPPORTED_COMPRESSION_TYPE;
                continue;
            }
            if (req->version >= 4 && m->isolation_level == 1 &&
                aborted_list(req, p, rp->fetch_offset, p->batches[last - 1].last_offset + 1,
                             op) < 0)
                return -1;
            if (magic == 2) {
                uint8_t *buf = kw_arena_alloc(&req->arena, (size_t)bytes);
                if (buf == NULL)
                    return -1;
                size_t at = 0;
                for (size_t k = first; k < last; k++) {
                    memcpy(buf + at, p->batches[k].data, p->batches[k].len);
                    at += p->batches[k].len;
                }
                op->records = (struct kw_bytes){ buf, (int32_t)bytes };
                total += bytes;
                continue;
            }
            /* Old readers: the same records as a message set of their magic. */
            struct kw_buf conv;
            kw_buf_init(&conv);
            for (size_t k = first; k < last && conv.err == KW_OK; k++) {
                if (is_control(&p->batches[k]))
                    continue;
                kw_buf_reset(&c->scratch);
                kw_msgset_from_batch(p->batches[k].data, p->batches[k].len, magic, &conv,
                                     &c->scratch);
            }
            uint8_t *buf = conv.err == KW_OK ? kw_arena_alloc(&req->arena, conv.len + 1) : NULL;
            if (buf == NULL) {
                kw_buf_release(&conv);
                op->error_code = KW_EC_UNKNOWN_SERVER_ERROR;
                continue;
            }
            memcpy(buf, conv.data, conv.len);
            op->records = (struct kw_bytes){ buf, (int32_t)conv.len };
            total += (int64_t)conv.len;
            kw_buf_release(&conv);
        }
    }
    return 0;
}

static void finish(struct mb__req *req)
{
    struct kw_fetch_resp resp;
    if (req->waiting) {
        LIST_REMOVE(req, wait_link);
        req->waiting = false;
    }
    if (req->timer) {
        kw_timer_cancel(req->c->clock, req->timer);
        req->timer = 0;
    }
    if (build(req, &resp) < 0) {
        mb__conn_close(req->conn, "out of memory building a Fetch response");
        return;
    }
    mb__respond(req, &resp);
}

static void expire_cb(void *arg)
{
    struct mb__req *req = arg;
    req->timer = 0;
    finish(req);
}

void mb__fetch_wake(struct mb_cluster *c)
{
    /* finish() may close a connection and free its other waiters, so start over after each
     * one rather than keep a pointer to the next. */
    struct mb__req *req;
again:
    LIST_FOREACH(req, &c->fetch_waiters, wait_link) {
        const struct kw_fetch_req *m = req->body;
        bool error;
        if (ready(req, &error) >= m->min_bytes || error) {
            finish(req);
            goto again;
        }
    }
}

int mb__handle_fetch(struct mb__req *req)
{
    const struct kw_fetch_req *m = req->body;
    bool error;
    int64_t have = ready(req, &error);
    /* A rule failing the request answers it now, not after a long poll. */
    if (req->plan && req->plan->error_before)
        error = true;
    if (error || have >= m->min_bytes || m->max_wait_ms <= 0) {
        finish(req);
        return 0;
    }
    req->waiting = true;
    LIST_INSERT_HEAD(&req->c->fetch_waiters, req, wait_link);
    req->timer = kw_timer_add(req->c->clock, (int64_t)m->max_wait_ms * 1000, expire_cb, req);
    return 0;
}
