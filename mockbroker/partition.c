/* A partition's log (the batches as received, offsets stamped) and its idempotent-producer state.
 * The producer rules are Kafka's (ProducerStateManager; KIP-98, KIP-360): per producer id the
 * epoch and the last five batches, duplicates answered with their original offset. */
#include "mockbroker/internal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/errors.h"

bool mb__partition_in_isr(const struct mb__partition *p, int broker)
{
    for (int i = 0; i < p->n_isr; i++)
        if (p->isr[i] == broker)
            return true;
    return false;
}

static struct mb__producer *producer_find(struct mb__partition *p, int64_t pid)
{
    for (size_t i = 0; i < p->n_producers; i++)
        if (p->producers[i].producer_id == pid)
            return &p->producers[i];
    return NULL;
}

static struct mb__producer *producer_add(struct mb__partition *p, int64_t pid)
{
    if (p->n_producers == p->cap_producers) {
        size_t cap = p->cap_producers ? p->cap_producers * 2 : 4;
        struct mb__producer *n = realloc(p->producers, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        p->producers = n;
        p->cap_producers = cap;
    }
    struct mb__producer *st = &p->producers[p->n_producers++];
    memset(st, 0, sizeof(*st));
    st->producer_id = pid;
    st->epoch = -1;
    return st;
}

/* The sequence of a batch's last record, wrapping past INT32_MAX to 0 as Kafka does. */
static int32_t last_sequence(int32_t base, int32_t delta)
{
    if (base > INT32_MAX - delta)
        return delta - (INT32_MAX - base) - 1;
    return base + delta;
}

static bool in_sequence(int32_t last, int32_t next)
{
    return next == (int32_t)((uint32_t)last + 1u) || (next == 0 && last == INT32_MAX);
}

size_t mb__partition_seek(const struct mb__partition *p, int64_t offset)
{
    size_t lo = p->first_batch, hi = p->n_batches;
    while (lo < hi) {           /* first batch whose last offset >= offset */
        size_t mid = lo + (hi - lo) / 2;
        if (p->batches[mid].last_offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int push_batch(struct mb__partition *p, const struct mb__batch *b)
{
    if (p->n_batches == p->cap_batches) {
        /* Compact the dropped prefix away before growing. */
        if (p->first_batch > 0 && p->first_batch >= p->n_batches / 2) {
            memmove(p->batches, p->batches + p->first_batch,
                    (p->n_batches - p->first_batch) * sizeof(*b));
            p->n_batches -= p->first_batch;
            p->first_batch = 0;
        } else {
            size_t cap = p->cap_batches ? p->cap_batches * 2 : 16;
            struct mb__batch *n = realloc(p->batches, cap * sizeof(*n));
            if (n == NULL)
                return -1;
            p->batches = n;
            p->cap_batches = cap;
        }
    }
    p->batches[p->n_batches++] = *b;
    p->bytes += b->len;
    return 0;
}

void mb__partition_retain(struct mb__partition *p, int64_t retention_bytes)
{
    if (retention_bytes < 0)
        return;
    /* Whole batches only, oldest first, and never the active (newest) one, as Kafka keeps the
     * active segment. */
    while (p->n_batches - p->first_batch > 1 && p->bytes > retention_bytes) {
        struct mb__batch *b = &p->batches[p->first_batch++];
        p->bytes -= b->len;
        p->log_start = b->last_offset + 1;
        mb__frame_unref(b->owner);
    }
    if (p->high_watermark < p->log_start)
        p->high_watermark = p->log_start;
}

void mb__partition_release(struct mb__partition *p)
{
    for (size_t i = p->first_batch; i < p->n_batches; i++)
        mb__frame_unref(p->batches[i].owner);
    free(p->batches);
    free(p->producers);
    p->batches = NULL;
    p->producers = NULL;
    p->n_batches = p->cap_batches = p->first_batch = 0;
    p->n_producers = p->cap_producers = 0;
    p->bytes = 0;
}

int mb__partition_append(struct mb_cluster *c, struct mb__partition *p, struct mb__frame *owner,
                         uint8_t *data, size_t len, int64_t *base_offset, int64_t *log_append_time)
{
    struct kw_batch_hdr h;
    *base_offset = -1;
    *log_append_time = -1;
    if (kw_batch_peek(data, len, &h) < 0 || h.magic != 2)
        return KW_EC_CORRUPT_MESSAGE;

    struct mb__producer *st = NULL;
    int32_t last_seq = -1;
    if (h.producer_id >= 0) {
        last_seq = last_sequence(h.base_sequence, h.last_offset_delta);
        st = producer_find(p, h.producer_id);
        if (st && st->epoch == h.producer_epoch) {
            for (int i = 0; i < st->n; i++)
                if (st->batches[i].first_seq == h.base_sequence &&
                    st->batches[i].last_seq == last_seq) {
                    /* A retry of a batch we have: success, with the offset it got then. */
                    *base_offset = st->batches[i].base_offset;
                    *log_append_time = st->batches[i].timestamp;
                    mb__log(c, MB_LOG_INFO,
                            "%s-%d: duplicate batch from producer %lld epoch %d seq %d-%d, "
                            "answered with its offset %lld", p->topic->name, p->index,
                            (long long)h.producer_id, h.producer_epoch, h.base_sequence,
                            last_seq, (long long)*base_offset);
                    return 0;
                }
        }
        if (st && st->epoch >= 0) {
            if (h.producer_epoch < st->epoch)
                return KW_EC_INVALID_PRODUCER_EPOCH;
            if (h.producer_epoch > st->epoch) {
                if (h.base_sequence != 0)
                    return KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER;
            } else if (st->n > 0 &&
                       !in_sequence(st->batches[st->n - 1].last_seq, h.base_sequence)) {
                return KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER;
            }
        }
        /* No state for this producer id: any sequence is accepted (Kafka >= 2.5, KIP-360). */
    }

    /* The batch stays where it arrived, in the request's frame, which it keeps alive; bytes
     * from elsewhere (an up-converted message set) get a frame of their own. */
    if (owner) {
        mb__frame_ref(owner);
    } else {
        if ((owner = mb__frame_new(len)) == NULL)
            return KW_EC_UNKNOWN_SERVER_ERROR;
        memcpy(owner->data, data, len);
        data = owner->data;
    }
    struct mb__batch b = {
        .owner = owner,
        .base_offset = p->log_end,
        .last_offset = p->log_end + h.last_offset_delta,
        .max_timestamp = h.max_timestamp,
        .data = data,
        .len = (uint32_t)len,
        .records = h.records_count,
        .append_us = kw_now_us(c->clock),
    };
    kw_batch_set_base_offset(b.data, b.base_offset);
    kw_batch_set_leader_epoch(b.data, p->leader_epoch);
    if (p->topic->timestamp_type == 1) {
        int64_t now = mb__wall_ms(c);
        kw_batch_set_log_append_time(b.data, len, now);
        b.max_timestamp = now;
        *log_append_time = now;
    }
    if (h.producer_id >= 0) {
        if (st == NULL && (st = producer_add(p, h.producer_id)) == NULL) {
            mb__frame_unref(owner);
            return KW_EC_UNKNOWN_SERVER_ERROR;
        }
        if (st->epoch != h.producer_epoch) {
            st->epoch = h.producer_epoch;
            st->n = 0;
        }
    }
    if (push_batch(p, &b) != 0) {
        mb__frame_unref(owner);
        return KW_EC_UNKNOWN_SERVER_ERROR;
    }
    if (st) {
        if (st->n == MB__PRODUCER_BATCHES) {
            memmove(st->batches, st->batches + 1, sizeof(st->batches[0]) * (st->n - 1));
            st->n--;
        }
        st->batches[st->n].first_seq = h.base_sequence;
        st->batches[st->n].last_seq = last_seq;
        st->batches[st->n].base_offset = b.base_offset;
        st->batches[st->n].timestamp = *log_append_time;
        st->n++;
    }
    p->log_end = b.last_offset + 1;
    *base_offset = b.base_offset;
    mb__partition_retain(p, p->topic->retention_bytes);
    mb__repl_appended(c, p);
    return 0;
}

/* The producer's last batches still in the log, newest last, as Kafka rebuilds its producer
 * state from the log after a truncation. */
static void rebuild_producer(struct mb__partition *p, struct mb__producer *st)
{
    int n = 0;
    for (size_t i = p->n_batches; i > p->first_batch && n < MB__PRODUCER_BATCHES; i--) {
        const struct mb__batch *b = &p->batches[i - 1];
        struct kw_batch_hdr h;
        if (kw_batch_peek(b->data, b->len, &h) < 0 || h.producer_id != st->producer_id)
            continue;
        if (n == 0)
            st->epoch = h.producer_epoch;
        else if (h.producer_epoch != st->epoch)
            break;
        n++;
    }
    st->n = 0;
    for (size_t i = p->n_batches; i > p->first_batch && st->n < n; i--) {
        const struct mb__batch *b = &p->batches[i - 1];
        struct kw_batch_hdr h;
        if (kw_batch_peek(b->data, b->len, &h) < 0 || h.producer_id != st->producer_id)
            continue;
        /* Filled from the back: entry n-1 is the newest. */
        int k = n - 1 - st->n++;
        st->batches[k].first_seq = h.base_sequence;
        st->batches[k].last_seq = last_sequence(h.base_sequence, h.last_offset_delta);
        st->batches[k].base_offset = b->base_offset;
        st->batches[k].timestamp =
            (h.attributes & KW_BATCH_ATTR_LOG_APPEND_TIME) ? b->max_timestamp : -1;
    }
}

void mb__partition_truncate(struct mb__partition *p, int64_t end)
{
    if (end < p->log_start)
        end = p->log_start;
    if (end >= p->log_end)
        return;
    size_t k = mb__partition_seek(p, end);
    for (size_t i = k; i < p->n_batches; i++) {
        p->bytes -= p->batches[i].len;
        mb__frame_unref(p->batches[i].owner);
    }
    p->n_batches = k;
    p->log_end = end;
    if (p->high_watermark > end)
        p->high_watermark = end;
    /* Producers whose cached batches were cut learn their state from what is left; one with
     * nothing left is forgotten (then any sequence is accepted again, KIP-360). */
    for (size_t i = 0; i < p->n_producers;) {
        struct mb__producer *st = &p->producers[i];
        bool cut = false;
        for (int j = 0; j < st->n; j++)
            cut |= st->batches[j].base_offset >= end;
        if (cut)
            rebuild_producer(p, st);
        if (cut && st->n == 0) {
            p->producers[i] = p->producers[--p->n_producers];
            continue;
        }
        i++;
    }
}

void mb__partition_forget_producer(struct mb__partition *p, int64_t producer_id)
{
    for (size_t i = 0; i < p->n_producers; i++)
        if (p->producers[i].producer_id == producer_id) {
            p->producers[i] = p->producers[--p->n_producers];
            return;
        }
}
