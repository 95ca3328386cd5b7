/* A partition's log (the batches as received, offsets stamped), its idempotent-producer state and
 * its transactions. The producer rules are Kafka's (ProducerStateManager; KIP-98, KIP-360): per
 * producer id the epoch and the last five batches, duplicates answered with their original
 * offset. Transactions (KIP-98): the first offset of each one open here holds the last stable
 * offset back until its marker is written and replicated; aborted ones go to an index that
 * read_committed fetches return, trimmed with retention. */
#include "mockbroker/internal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
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
    /* An aborted transaction whose marker is gone has no record left to hide (Kafka deletes
     * the .txnindex with its segment). */
    size_t k = 0;
    while (k < p->n_aborted && p->aborted[k].last_offset < p->log_start)
        k++;
    if (k) {
        memmove(p->aborted, p->aborted + k, (p->n_aborted - k) * sizeof(*p->aborted));
        p->n_aborted -= k;
    }
}

void mb__partition_release(struct mb__partition *p)
{
    for (size_t i = p->first_batch; i < p->n_batches; i++)
        mb__frame_unref(p->batches[i].owner);
    free(p->batches);
    free(p->producers);
    free(p->txns);
    free(p->aborted);
    p->batches = NULL;
    p->producers = NULL;
    p->txns = NULL;
    p->aborted = NULL;
    p->n_batches = p->cap_batches = p->first_batch = 0;
    p->n_producers = p->cap_producers = 0;
    p->n_txns = p->cap_txns = p->n_aborted = p->cap_aborted = 0;
    p->bytes = 0;
}

/* --- transactions ----------------------------------------------------------------------------- */

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, ncap * size);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static void txn_remove(struct mb__partition *p, size_t i)
{
    memmove(&p->txns[i], &p->txns[i + 1], (p->n_txns - i - 1) * sizeof(*p->txns));
    p->n_txns--;
}

/* Forgets transactions whose marker the high watermark has passed: they no longer hold the
 * last stable offset back. */
static void txns_prune(struct mb__partition *p)
{
    for (size_t i = 0; i < p->n_txns;) {
        if (p->txns[i].marker_offset >= 0 && p->txns[i].marker_offset < p->high_watermark)
            txn_remove(p, i);
        else
            i++;
    }
}

/* The producer's transaction open here: data written, no marker owed or written yet. */
static struct mb__ptxn *txn_open(struct mb__partition *p, int64_t pid)
{
    for (size_t i = 0; i < p->n_txns; i++)
        if (p->txns[i].producer_id == pid && p->txns[i].owed < 0 && p->txns[i].marker_offset < 0)
            return &p->txns[i];
    return NULL;
}

int64_t mb__partition_lso(const struct mb__partition *p)
{
    int64_t lso = p->high_watermark;
    for (size_t i = 0; i < p->n_txns; i++) {
        const struct mb__ptxn *x = &p->txns[i];
        if (x->first_offset >= 0 && x->first_offset < lso &&
            (x->marker_offset < 0 || x->marker_offset >= p->high_watermark))
            lso = x->first_offset;
    }
    return lso < p->log_start ? p->log_start : lso;
}

bool mb__partition_aborted(const struct mb__partition *p, int64_t producer_id, int64_t offset)
{
    for (size_t i = 0; i < p->n_aborted; i++)
        if (p->aborted[i].producer_id == producer_id && p->aborted[i].first_offset <= offset &&
            offset <= p->aborted[i].last_offset)
            return true;
    return false;
}

bool mb__partition_owes(const struct mb__partition *p, int64_t producer_id)
{
    for (size_t i = 0; i < p->n_txns; i++)
        if (p->txns[i].producer_id == producer_id && p->txns[i].owed >= 0)
            return true;
    return false;
}

/* A control batch (KIP-98): transactional and control bits, one record whose key is version 0
 * and the marker type, whose value is version 0 and the coordinator epoch; base sequence -1. */
static int marker_build(struct kw_buf *out, int64_t pid, int16_t epoch, int type, int64_t ts)
{
    const struct kw_batch_hdr proto = {
        .partition_leader_epoch = -1,
        .attributes = KW_BATCH_ATTR_TRANSACTIONAL | KW_BATCH_ATTR_CONTROL,
        .producer_id = pid, .producer_epoch = epoch, .base_sequence = -1,
    };
    /* The mock has one coordinator that never moves its state, so its epoch stays 0. */
    static const uint8_t value[6] = { 0, 0, 0, 0, 0, 0 };
    uint8_t key[4] = { 0, 0, 0, (uint8_t)type };
    struct kw_batch_builder bb;
    kw_batch_builder_begin(&bb, out, &proto, KW_CODEC_NONE, 0);
    kw_batch_builder_add(&bb, ts, (struct kw_bytes){ key, 4 }, (struct kw_bytes){ value, 6 },
                         NULL, 0);
    return kw_batch_builder_finish(&bb);
}

int mb__partition_write_markers(struct mb_cluster *c, struct mb__partition *p)
{
    int owed = 0, written = 0;
    for (size_t i = 0; i < p->n_txns; i++) {
        if (p->txns[i].owed < 0)
            continue;
        if (p->leader < 0) {
            owed++;
            continue;
        }
        struct mb__ptxn x = p->txns[i];
        struct kw_buf b;
        int64_t offset, lat;
        kw_buf_init(&b);
        int err = marker_build(&b, x.producer_id, x.epoch, x.owed, mb__wall_ms(c));
        int ec = err == KW_OK ? mb__partition_append(c, p, NULL, b.data, b.len, &offset, &lat)
                              : KW_EC_UNKNOWN_SERVER_ERROR;
        kw_buf_release(&b);
        if (ec == 0 && x.owed == 0 && x.first_offset >= 0 &&
            !grow((void **)&p->aborted, &p->cap_aborted, p->n_aborted, sizeof(*p->aborted)))
            ec = KW_EC_UNKNOWN_SERVER_ERROR;    /* stored, but not indexed: it stays owed */
        if (ec) {
            mb__log(c, MB_LOG_WARN, "%s-%d: %s marker of producer %lld not written: %s",
                    p->topic->name, p->index, x.owed ? "commit" : "abort",
                    (long long)x.producer_id, kw_error_name((int16_t)ec));
            owed++;
            continue;
        }
        /* The append only touched producer state, so entry i is still this transaction. */
        p->txns[i].marker_offset = offset;
        p->txns[i].type = x.owed;
        p->txns[i].owed = -1;
        if (x.owed == 0 && x.first_offset >= 0)
            p->aborted[p->n_aborted++] = (struct mb__aborted){ x.producer_id, x.first_offset,
                                                               offset };
        struct mb_journal_entry *e = mb__jadd(c, MB_JOURNAL_MARKER);
        e->what = x.owed ? "commit" : "abort";
        e->broker = p->leader;
        e->topic = p->topic->jname;
        e->partition = p->index;
        e->producer_id = x.producer_id;
        e->producer_epoch = x.epoch;
        e->offset = offset;
        mb__log(c, MB_LOG_INFO, "%s-%d: %s marker of producer %lld epoch %d at offset %lld",
                p->topic->name, p->index, x.owed ? "commit" : "abort", (long long)x.producer_id,
                x.epoch, (long long)offset);
        written++;
    }
    txns_prune(p);
    /* The append woke long polls before the transaction was marked ended here: read_committed
     * ones must look again now that the last stable offset moved. */
    if (written)
        mb__fetch_wake(c);
    return owed;
}

int mb__partition_end_txn(struct mb_cluster *c, struct mb__partition *p, int64_t producer_id,
                          int16_t epoch, bool commit)
{
    struct mb__ptxn *x = txn_open(p, producer_id);
    if (x == NULL) {
        /* Kafka writes a marker into every partition of the transaction, data or not. */
        if (!grow((void **)&p->txns, &p->cap_txns, p->n_txns, sizeof(*p->txns)))
            return -1;
        x = &p->txns[p->n_txns++];
        *x = (struct mb__ptxn){ .producer_id = producer_id, .first_offset = -1,
                                .marker_offset = -1, .type = -1 };
    }
    x->epoch = epoch;
    x->owed = commit ? 1 : 0;
    mb__partition_write_markers(c, p);
    return 0;
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
    /* Markers come from the coordinator: no sequence, and an epoch that is never behind. */
    bool control = (h.attributes & KW_BATCH_ATTR_CONTROL) != 0;
    if (control && h.producer_id >= 0)
        st = producer_find(p, h.producer_id);
    if (h.producer_id >= 0 && !control) {
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
    bool opens = (h.attributes & KW_BATCH_ATTR_TRANSACTIONAL) && !control &&
                 h.producer_id >= 0 && txn_open(p, h.producer_id) == NULL;
    if (h.producer_id >= 0) {
        if (st == NULL && (st = producer_add(p, h.producer_id)) == NULL) {
            mb__frame_unref(owner);
            return KW_EC_UNKNOWN_SERVER_ERROR;
        }
        if (st->epoch != h.producer_epoch && !(control && st->epoch > h.producer_epoch)) {
            st->epoch = h.producer_epoch;
            st->n = 0;
        }
    }
    if (opens) {
        txns_prune(p);
        if (!grow((void **)&p->txns, &p->cap_txns, p->n_txns, sizeof(*p->txns))) {
            mb__frame_unref(owner);
            return KW_EC_UNKNOWN_SERVER_ERROR;
        }
    }
    if (push_batch(p, &b) != 0) {
        mb__frame_unref(owner);
        return KW_EC_UNKNOWN_SERVER_ERROR;
    }
    if (opens)
        p->txns[p->n_txns++] = (struct mb__ptxn){
            .producer_id = h.producer_id, .epoch = h.producer_epoch, .owed = -1, .type = -1,
            .first_offset = b.base_offset, .marker_offset = -1,
        };
    if (st && !control) {
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
        if (kw_batch_peek(b->data, b->len, &h) < 0 || h.producer_id != st->producer_id ||
            (h.attributes & KW_BATCH_ATTR_CONTROL))
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
        if (kw_batch_peek(b->data, b->len, &h) < 0 || h.producer_id != st->producer_id ||
            (h.attributes & KW_BATCH_ATTR_CONTROL))
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
    /* Transactions lose what was cut: data written after `end` is gone (a transaction with
     * none left here is forgotten), and a marker cut away is owed again, as Kafka's
     * coordinator retries a marker until the partition's leader has it. */
    while (p->n_aborted && p->aborted[p->n_aborted - 1].last_offset >= end)
        p->n_aborted--;
    for (size_t i = 0; i < p->n_txns;) {
        struct mb__ptxn *x = &p->txns[i];
        if (x->first_offset >= end || (x->first_offset < 0 && x->marker_offset >= end)) {
            txn_remove(p, i);
            continue;
        }
        if (x->marker_offset >= end) {
            x->owed = x->type;
            x->type = -1;
            x->marker_offset = -1;
        }
        i++;
    }
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
