/* The accumulator: per-partition queues of record batches. produce() appends each message to the
 * partition's open batch, encoding the record in place (one copy of key and value, no allocation
 * per message once the batch has grown); a batch closes when full, and the loop takes it when it
 * is closed, its linger is over or a flush wants it. Before metadata is known, a topic's messages
 * wait in one unassigned batch and are replayed into partitions when it arrives. */
#include "producer/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compress.h"
#include "lib/errors.h"

#define FREE_BATCHES_MAX 16
#define FIRST_CAP 64                    /* messages a new batch has room for */
#define FIRST_BYTES 16384               /* initial buffer of a new batch */
#define STACK_HEADERS 16

static int32_t batch_limit(const struct kp_producer *p)
{
    int32_t a = p->conf.v.batch_size, b = p->conf.v.message_max_bytes;
    return a < b ? a : b;
}

void kp__batch_free(struct kp__batch *b)
{
    if (b == NULL)
        return;
    kw_buf_release(&b->buf);
    free(b->opaques);
    free(b->parts);
    free(b->errstr);
    free(b);
}

struct kp__batch *kp__batch_new(struct kp_producer *p, struct kp__topic *t, struct kp__part *pt,
                                int64_t now_us)
{
    struct kp__batch *b = p->free_batches;
    if (b) {
        p->free_batches = b->next_free;
        p->n_free_batches--;
    } else if ((b = calloc(1, sizeof(*b))) == NULL) {
        return NULL;
    } else {
        kw_buf_init(&b->buf);
    }
    kw_buf_reset(&b->buf);
    b->part = pt;
    b->topic = t;
    b->next_free = NULL;
    b->count = 0;
    b->bytes = 0;
    b->order = pt ? pt->next_order++ : 0;
    b->created_us = now_us;
    b->deadline_us = p->conf.v.delivery_timeout_ms
                         ? now_us + (int64_t)p->conf.v.delivery_timeout_ms * 1000
                         : INT64_MAX;
    b->sealed = b->finished = b->possibly = b->in_retry = false;
    b->attempts = 0;
    b->pid = -1;
    b->epoch = -1;
    b->base_seq = -1;
    b->err = b->cause = b->last_err = 0;
    b->status = KP_STATUS_NOT_PERSISTED;
    b->offset = -1;
    b->log_append_time = -1;
    /* Unassigned messages are replayed, never sent: no point compressing them. */
    b->codec = pt ? p->conf.v.codec : KW_CODEC_NONE;
    if (b->buf.cap < FIRST_BYTES)
        kw_buf_space(&b->buf, FIRST_BYTES);
    /* A transactional producer's batches say so (KIP-98): read_committed consumers hold them
     * back until the transaction's marker. */
    struct kw_batch_hdr txn = { .partition_leader_epoch = -1, .producer_id = -1,
                                .producer_epoch = -1, .base_sequence = -1,
                                .attributes = KW_BATCH_ATTR_TRANSACTIONAL };
    if (kw_batch_builder_begin(&b->bb, &b->buf, p->txn_on ? &txn : NULL, b->codec,
                               p->conf.v.level) != KW_OK) {
        kp__batch_free(b);
        return NULL;
    }
    return b;
}

void kp__batch_recycle(struct kp_producer *p, struct kp__batch *b)
{
    free(b->errstr);
    b->errstr = NULL;
    if (b->parts) {                     /* capacity counts both arrays: drop both */
        free(b->parts);
        b->parts = NULL;
        free(b->opaques);
        b->opaques = NULL;
        b->cap = 0;
    }
    if (p->n_free_batches >= FREE_BATCHES_MAX || b->buf.cap > 4 * (size_t)batch_limit(p) + 4096 ||
        b->buf.err) {
        kp__batch_free(b);
        return;
    }
    b->next_free = p->free_batches;
    p->free_batches = b;
    p->n_free_batches++;
}

/* Room for one more message's opaque (and partition, for unassigned batches). */
static int grow(struct kp__batch *b, bool with_parts)
{
    if (b->count < b->cap && (!with_parts || b->parts))
        return 0;
    int32_t cap = b->count < b->cap ? b->cap : (b->cap ? b->cap * 2 : FIRST_CAP);
    if (b->count >= b->cap) {
        void **o = realloc(b->opaques, (size_t)cap * sizeof(*o));
        if (o == NULL)
            return -1;
        b->opaques = o;
    }
    if (with_parts) {
        int32_t *pa = realloc(b->parts, (size_t)cap * sizeof(*pa));
        if (pa == NULL)
            return -1;
        b->parts = pa;
    }
    b->cap = cap;
    return 0;
}

int kp__acc_append(struct kp_producer *p, struct kp__part *pt, int64_t now_us, int64_t ts,
                   struct kw_bytes key, struct kw_bytes value, const struct kw_header_kv *hdrs,
                   int n_hdrs, int64_t msz, void *opaque, bool *wake)
{
    struct kp__batch *b = pt->open;
    if (b) {
        size_t rsz = kw_record_size(ts - b->bb.base_timestamp, b->count, key, value, hdrs, n_hdrs);
        if (kw_batch_builder_size(&b->bb) + rsz > (size_t)batch_limit(p)) {
            b->sealed = true;
            pt->open = NULL;
            *wake = true;
            b = NULL;
        }
    }
    if (b == NULL) {
        if ((b = kp__batch_new(p, pt->topic, pt, now_us)) == NULL)
            return KP_ERR__FAIL;
        TAILQ_INSERT_TAIL(&pt->queue, b, link);
        pt->open = b;
        /* One wake-up per new batch at most, and none when the loop's timer comes first. */
        if (now_us + p->conf.v.linger_us < p->next_wakeup_us)
            *wake = true;
    }
    if (grow(b, false) != 0)
        return KP_ERR__FAIL;
    if (p->txn_on && kp__txn_part_used(p, pt))
        *wake = true;
    if (kw_batch_builder_add(&b->bb, ts, key, value, hdrs, n_hdrs) != KW_OK) {
        /* The builder keeps the error: this batch cannot take more, nor be sent as is. It only
         * happens without memory; what it held fails when finished. */
        b->sealed = true;
        pt->open = NULL;
        return KP_ERR__FAIL;
    }
    b->opaques[b->count++] = opaque;
    b->bytes += msz;
    if (b->count >= p->conf.v.batch_num) {
        b->sealed = true;
        pt->open = NULL;
        *wake = true;
    }
    return 0;
}

int kp__acc_append_ua(struct kp_producer *p, struct kp__topic *t, int32_t partition,
                      int64_t now_us, int64_t ts, struct kw_bytes key, struct kw_bytes value,
                      const struct kw_header_kv *hdrs, int n_hdrs, int64_t msz, void *opaque)
{
    struct kp__batch *b = t->ua;
    if (b == NULL) {
        if ((b = kp__batch_new(p, t, NULL, now_us)) == NULL)
            return KP_ERR__FAIL;
        t->ua = b;
    }
    if (grow(b, true) != 0 || kw_batch_builder_add(&b->bb, ts, key, value, hdrs, n_hdrs) != KW_OK)
        return KP_ERR__FAIL;
    b->parts[b->count] = partition;
    b->opaques[b->count++] = opaque;
    b->bytes += msz;
    return 0;
}

/* The headers of a decoded record as an array: stack if they fit, else allocated (*heap set).
 * Returns the count, or -1. */
static int record_headers(const struct kw_record *rec, struct kw_header_kv *stack,
                          struct kw_header_kv **out)
{
    struct kw_header_kv *h = stack;
    *out = stack;
    if (rec->n_headers <= 0)
        return 0;
    if (rec->n_headers > STACK_HEADERS &&
        (h = malloc((size_t)rec->n_headers * sizeof(*h))) == NULL)
        return -1;
    struct kw_reader r;
    kw_reader_init(&r, rec->headers, rec->headers_len);
    int n = 0;
    while (n < rec->n_headers && kw_record_header_next(&r, &h[n]) == 1)
        n++;
    if (n != rec->n_headers) {
        if (h != stack)
            free(h);
        return -1;
    }
    *out = h;
    return n;
}

/* Fails one unassigned message on its own (it has no partition to go to). */
static void fail_one(struct kp_producer *p, struct kp__topic *t, const struct kw_record *rec,
                     const struct kw_header_kv *h, int nh, void *opaque, int64_t created_us,
                     int err, const char *why)
{
    struct kp__batch *b = kp__batch_new(p, t, NULL, created_us);
    if (b == NULL)
        return;
    if (grow(b, false) != 0 ||
        kw_batch_builder_add(&b->bb, rec->timestamp, rec->key, rec->value, h, nh) != KW_OK) {
        kp__batch_free(b);
        return;
    }
    b->opaques[b->count++] = opaque;
    b->bytes = (int64_t)kw_record_size(0, 0, rec->key, rec->value, h, nh);
    kp__batch_fail(p, b, err, why);
}

void kp__topic_assign_ua(struct kp_producer *p, struct kp__topic *t)
{
    struct kp__batch *ua = t->ua;
    if (ua == NULL || t->state != KP__T_EXISTS)
        return;
    t->ua = NULL;
    struct kw_record_iter it;
    if (kw_batch_builder_finish(&ua->bb) != KW_OK ||
        kw_record_iter_init(&it, ua->buf.data, ua->buf.len, NULL) != KW_OK) {
        kp__batch_fail(p, ua, KP_ERR__FAIL, "out of memory while assigning partitions");
        return;
    }
    ua->finished = true;
    struct kw_record rec;
    int64_t now = kp__now(p);
    bool wake = false;
    for (int32_t i = 0; i < ua->count && kw_record_iter_next(&it, &rec) == 1; i++) {
        struct kw_header_kv stack[STACK_HEADERS], *h;
        int nh = record_headers(&rec, stack, &h);
        if (nh < 0)
            continue;
        int32_t part = ua->parts[i];
        if (part == KP_PARTITION_UA)
            part = kp__partition(p, t, rec.key, now);
        int64_t msz = (int64_t)kw_record_size(0, 0, rec.key, rec.value, h, nh);
        int rc = part < 0 || part >= t->n_parts
                     ? KP_ERR__UNKNOWN_PARTITION
                     : kp__acc_append(p, t->parts[part], ua->created_us, rec.timestamp, rec.key,
                                      rec.value, h, nh, msz, ua->opaques[i], &wake);
        if (rc) {
            char why[128];
            snprintf(why, sizeof(why), "partition %d does not exist in \"%s\" (%d partitions)",
                     ua->parts[i], t->name, t->n_parts);
            fail_one(p, t, &rec, h, nh, ua->opaques[i], ua->created_us, rc,
                     rc == KP_ERR__UNKNOWN_PARTITION ? why : "out of memory");
        }
        if (h != stack)
            free((void *)h);
    }
    kp__batch_recycle(p, ua);
}

/* Kafka's sequence numbers wrap from INT32_MAX to 0. */
static int32_t seq_add(int32_t seq, int32_t n)
{
    return (int32_t)(((uint32_t)seq + (uint32_t)n) & 0x7fffffffu);
}

/* Rebuilds a finished batch with another codec (a zstd batch for a broker before Produce v7). */
static int rebuild(struct kp_producer *p, struct kp__batch *b, int codec)
{
    struct kw_buf out;
    struct kw_batch_builder bb;
    struct kw_record_iter it;
    struct kw_record rec;
    struct kw_batch_hdr proto = { .partition_leader_epoch = -1, .producer_id = b->pid,
                                  .producer_epoch = b->epoch, .base_sequence = b->base_seq,
                                  .attributes = p->txn_on ? KW_BATCH_ATTR_TRANSACTIONAL : 0 };
    kw_buf_init(&out);
    int rc = kw_record_iter_init(&it, b->buf.data, b->buf.len, &p->scratch);
    if (rc == KW_OK)
        rc = kw_batch_builder_begin(&bb, &out, &proto, codec, p->conf.v.level);
    while (rc == KW_OK && kw_record_iter_next(&it, &rec) == 1) {
        struct kw_header_kv stack[STACK_HEADERS], *h;
        int nh = record_headers(&rec, stack, &h);
        rc = nh < 0 ? KW_ERR_NOMEM : kw_batch_builder_add(&bb, rec.timestamp, rec.key, rec.value,
                                                          h, nh);
        if (h != stack)
            free(h);
    }
    if (rc == KW_OK && it.err == KW_OK)
        rc = kw_batch_builder_finish(&bb);
    if (rc != KW_OK || it.err != KW_OK) {
        kw_buf_release(&out);
        return KP_ERR__FAIL;
    }
    kw_buf_release(&b->buf);
    b->buf = out;
    b->codec = codec;
    return 0;
}

int kp__batch_finish(struct kp_producer *p, struct kp__batch *b, int produce_version)
{
    if (!b->finished) {
        if (p->idemp_state != KP__I_NONE && b->part) {
            /* The sequence is handed out when the batch first leaves, in queue order, so
             * sequences follow the partition's order (KIP-98). The CRC, computed next, covers
             * these fields. */
            b->pid = p->pid;
            b->epoch = p->epoch;
            b->base_seq = b->part->next_seq;
            b->part->next_seq = seq_add(b->part->next_seq, b->count);
            uint8_t *h = b->buf.data + b->bb.start;
            kw_wbe64(h + KP__BATCH_OFF_PID, (uint64_t)b->pid);
            kw_wbe16(h + KP__BATCH_OFF_EPOCH, (uint16_t)b->epoch);
            kw_wbe32(h + KP__BATCH_OFF_SEQ, (uint32_t)b->base_seq);
        }
        if (kw_batch_builder_finish(&b->bb) != KW_OK)
            return KP_ERR__FAIL;
        b->finished = true;
    }
    /* ZSTD needs Produce v7 (KIP-110); an older broker gets the records uncompressed, as
     * librdkafka does when the broker lacks a codec. */
    if (b->codec == KW_CODEC_ZSTD && produce_version < 7) {
        kp__dbg(p, KP__DBG_MSG, "%s [%d]: broker speaks Produce v%d < 7: sending a zstd batch "
                "uncompressed", b->topic->name, b->part ? b->part->id : -1, produce_version);
        return rebuild(p, b, KW_CODEC_NONE);
    }
    return 0;
}

struct kp__batch *kp__part_take(struct kp_producer *p, struct kp__part *pt,
                                const struct kp__broker *to, int64_t now_us, int64_t *next_us)
{
    struct kp__batch *b = TAILQ_FIRST(&pt->queue);
    if (b == NULL)
        return NULL;
    /* A retry waits for the partition's other requests to come back, so it cannot overtake
     * them; and after a leader change nothing goes to the new leader while the old one still
     * holds batches. That keeps order, and with idempotence the broker's sequence checks pass.
     * The response that ends the wait runs the scheduler again. */
    if (pt->n_inflight > 0 && (b->in_retry || pt->inflight_to != to))
        return NULL;
    if (pt->retry_at_us > now_us) {
        if (pt->retry_at_us < *next_us)
            *next_us = pt->retry_at_us;
        return NULL;
    }
    if (!b->sealed) {
        int64_t ready = b->created_us + p->conf.v.linger_us;
        if (p->flushing == 0 && !p->txn.flushing && ready > now_us) {
            if (ready < *next_us)
                *next_us = ready;
            return NULL;
        }
        b->sealed = true;
        pt->open = NULL;
    }
    TAILQ_REMOVE(&pt->queue, b, link);
    return b;
}

void kp__part_requeue(struct kp__part *pt, struct kp__batch *b)
{
    struct kp__batch *q;
    b->in_retry = true;
    b->sealed = true;
    TAILQ_FOREACH(q, &pt->queue, link) {
        if (q->order > b->order) {
            TAILQ_INSERT_BEFORE(q, b, link);
            return;
        }
    }
    TAILQ_INSERT_TAIL(&pt->queue, b, link);
}

void kp__part_fail_queued(struct kp_producer *p, struct kp__part *pt, int err, const char *why)
{
    struct kp__batch *b;
    while ((b = TAILQ_FIRST(&pt->queue)) != NULL) {
        TAILQ_REMOVE(&pt->queue, b, link);
        kp__batch_fail(p, b, err, why);
    }
    pt->open = NULL;
}

void kp__part_expire(struct kp_producer *p, struct kp__part *pt, int64_t now_us,
                     int64_t *next_us)
{
    struct kp__batch *b, *tmp;
    TAILQ_FOREACH_SAFE(b, &pt->queue, link, tmp) {
        if (b->deadline_us > now_us) {
            if (b->deadline_us < *next_us)
                *next_us = b->deadline_us;
            continue;
        }
        TAILQ_REMOVE(&pt->queue, b, link);
        if (pt->open == b)
            pt->open = NULL;
        char why[200];
        snprintf(why, sizeof(why), "delivery.timeout.ms (%d ms) passed after %d attempt%s%s%s",
                 p->conf.v.delivery_timeout_ms, b->attempts, b->attempts == 1 ? "" : "s",
                 b->last_err ? "; last error " : "", b->last_err ? kp_err2name(b->last_err) : "");
        kp__batch_fail(p, b, KP_ERR__MSG_TIMED_OUT, why);
    }
}
