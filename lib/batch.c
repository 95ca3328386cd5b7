/* Record batch v2: peek, validate, iterate, stamp, build. The record loop is the broker's and
 * the producer's hot path, so records are read with a local cursor (inline varints, one bounds
 * check per field) rather than through struct kw_reader's out-of-line calls. */
#include "lib/batch.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/compress.h"
#include "lib/crc.h"

/* Field offsets in the 61-byte header. */
enum {
    OFF_BASE_OFFSET = 0,
    OFF_LENGTH = 8,
    OFF_EPOCH = 12,
    OFF_MAGIC = 16,
    OFF_CRC = 17,
    OFF_ATTR = 21,
    OFF_LAST_DELTA = 23,
    OFF_BASE_TS = 27,
    OFF_MAX_TS = 35,
    OFF_PID = 43,
    OFF_PEPOCH = 51,
    OFF_BASE_SEQ = 53,
    OFF_COUNT = 57,
};

/* The smallest record: length, attributes, timestampDelta, offsetDelta, keyLength,
 * valueLength and headersCount, one byte each. Bounds a claimed count by the bytes present. */
#define MIN_RECORD 7
/* batchLength's smallest value for each magic: what follows the length field in an empty
 * batch (49), a v0 message (crc, magic, attributes, key and value lengths: 14), a v1 one (22). */
static const int32_t min_length[3] = { 14, 22, KW_BATCH_HEADER_SIZE - 12 };

static int why(char *errstr, size_t size, int err, const char *fmt, ...)
{
    if (errstr && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* --- a cursor over records ------------------------------------------------------------------- */

struct cur {
    const uint8_t *p, *end;
    int err;
};

static inline void cur_fail(struct cur *c, int err)
{
    if (c->err == KW_OK)
        c->err = err;
    c->p = c->end;
}

static inline uint64_t cur_leb(struct cur *c, int max_bytes)
{
    uint64_t v = 0;
    if (c->end - c->p >= 10) {      /* the common case: no bounds check per byte */
        const uint8_t *p = c->p;
        for (int i = 0; i < max_bytes; i++) {
            v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (p[i] < 0x80) {
                c->p = p + i + 1;
                return v;
            }
        }
        cur_fail(c, KW_ERR_VARINT);
        return 0;
    }
    for (int i = 0; i < max_bytes; i++) {
        if (c->p == c->end) {
            cur_fail(c, KW_ERR_CORRUPT);    /* the batch is whole: running out is corruption */
            return 0;
        }
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0)
            return v;
    }
    cur_fail(c, KW_ERR_VARINT);
    return 0;
}

static inline int32_t cur_varint(struct cur *c)
{
    if (c->p < c->end && *c->p < 0x80) {    /* most varints in a record are one byte */
        uint8_t b = *c->p++;
        return (int32_t)(b >> 1) ^ -(int32_t)(b & 1);
    }
    uint64_t u = cur_leb(c, 5);
    if (u > UINT32_MAX) {
        cur_fail(c, KW_ERR_VARINT);
        return 0;
    }
    return (int32_t)((uint32_t)u >> 1 ^ (0u - ((uint32_t)u & 1)));
}

static inline int64_t cur_varlong(struct cur *c)
{
    uint64_t u = cur_leb(c, 10);
    return (int64_t)(u >> 1 ^ (0u - (u & 1)));
}

/* Nullable varint-length bytes: a record's key or value, or a header value. */
static inline struct kw_bytes cur_bytes(struct cur *c)
{
    int32_t n = cur_varint(c);
    if (n == -1 || c->err)
        return KW_BYTES_NULL;
    if (n < -1 || n > c->end - c->p) {
        cur_fail(c, KW_ERR_CORRUPT);
        return KW_BYTES_NULL;
    }
    struct kw_bytes b = { c->p, n };
    c->p += n;
    return b;
}

struct raw_record {
    int8_t attributes;
    int64_t ts_delta;
    int32_t offset_delta;
    struct kw_bytes key, value;
    int32_t n_headers;
    const uint8_t *headers;
    size_t headers_len;
};

/* One record at c; on failure c->err says why. Every length must agree with the record's. */
static void parse_record(struct cur *c, struct raw_record *r)
{
    int32_t len = cur_varint(c);
    if (c->err)
        return;
    if (len < MIN_RECORD - 1 || len > c->end - c->p) {
        cur_fail(c, KW_ERR_CORRUPT);
        return;
    }
    struct cur rc = { c->p, c->p + len, KW_OK };
    c->p += len;
    r->attributes = (int8_t)*rc.p++;
    r->ts_delta = cur_varlong(&rc);
    r->offset_delta = cur_varint(&rc);
    r->key = cur_bytes(&rc);
    r->value = cur_bytes(&rc);
    r->n_headers = cur_varint(&rc);
    /* each header takes two bytes at least: checked before the loop, not after a billion turns */
    if (rc.err == KW_OK && (r->n_headers < 0 || r->n_headers > (rc.end - rc.p) / 2))
        cur_fail(&rc, KW_ERR_CORRUPT);
    r->headers = rc.p;
    for (int32_t i = 0; i < r->n_headers && rc.err == KW_OK; i++) {
        int32_t klen = cur_varint(&rc);
        if (klen < 0 || klen > rc.end - rc.p) {
            cur_fail(&rc, KW_ERR_CORRUPT);  /* header keys are never null */
            break;
        }
        rc.p += klen;
        cur_bytes(&rc);
    }
    r->headers_len = (size_t)(rc.p - r->headers);
    if (rc.err == KW_OK && rc.p != rc.end)
        rc.err = KW_ERR_CORRUPT;            /* the length claims more than the fields hold */
    if (rc.err)
        cur_fail(c, rc.err);
}

/* --- the fast path for whole records ---------------------------------------------------------
 * parse_record checks the bounds of every varint byte. A record followed by SLACK more bytes
 * of the buffer needs none of that: its fields are read without bounds checks, and the
 * record's own end is checked once per length and once at the end. A varint reads at most 10
 * bytes. The timestamp, offset and key-length varints come before the first length check;
 * the first starts at least 5 bytes before the record's end, so the three end at most 15
 * bytes past it. After that, a length that passes leaves p at most one byte past the end (a
 * null after an overrun), and the varint read next ends at most 6 bytes past it. So SLACK
 * bytes are plenty, and every record but the last one or two qualifies. parse_fast accepts
 * only what parse_record accepts, with the same result; anything it does not vouch for goes
 * to parse_record, which then names the fault. */

#define SLACK 32

/* The rest of a LEB128 value of three bytes or more, as cur_leb reads it. Sets *bad, and
 * leaves *pp, if it runs past max bytes or, for a varint (max 5), past 32 bits. */
static inline uint64_t leb_long(const uint8_t **pp, int max, bool *bad)
{
    const uint8_t *p = *pp;
    uint64_t v = (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7;
    for (int i = 2; i < max; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (p[i] < 0x80) {
            if (max == 5 && v > UINT32_MAX)
                break;
            *pp = p + i + 1;
            return v;
        }
    }
    *bad = true;
    return 0;
}

/* A LEB128 value at *pp, which may be read 10 bytes on: one and two bytes inline. */
static inline uint64_t fast_leb(const uint8_t **pp, int max, bool *bad)
{
    const uint8_t *p = *pp;
    if (p[0] < 0x80) {
        *pp = p + 1;
        return p[0];
    }
    if (p[1] < 0x80) {                      /* record lengths of 64 to 8191 bytes */
        *pp = p + 2;
        return (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
    }
    return leb_long(pp, max, bad);
}

static inline int32_t fast_varint(const uint8_t **pp, bool *bad)
{
    uint32_t u = (uint32_t)fast_leb(pp, 5, bad);
    return (int32_t)(u >> 1 ^ (0u - (u & 1)));
}

/* A nullable length at *pp, then that many bytes, which must end by re. On a bad length,
 * returns false and leaves *b alone. */
static inline bool fast_bytes(const uint8_t **pp, const uint8_t *re, bool *bad,
                              struct kw_bytes *b)
{
    int32_t n = fast_varint(pp, bad);
    if (n < -1 || n > re - *pp)
        return false;
    *b = n < 0 ? KW_BYTES_NULL : (struct kw_bytes){ *pp, n };
    if (n > 0)
        *pp += n;
    return true;
}

/* parse_record for a record at c->p followed by SLACK bytes. Returns false, c unchanged, for
 * anything else, valid or not. Inlined so that *r stays in registers: a kw_bytes stored as
 * two fields by a callee and read back whole is a stalled store-to-load forward. */
static inline __attribute__((always_inline)) bool parse_fast(struct cur *c, struct raw_record *r)
{
    const uint8_t *p = c->p;
    bool bad = false;
    if (c->end - p < 5 + SLACK)
        return false;
    int32_t len = fast_varint(&p, &bad);
    if (len < MIN_RECORD - 1 || len > c->end - p - SLACK)
        return false;                       /* a bad varint left len 0 */
    const uint8_t *re = p + len;
    r->attributes = (int8_t)*p++;
    uint64_t ts = fast_leb(&p, 10, &bad);
    r->ts_delta = (int64_t)(ts >> 1 ^ (0u - (ts & 1)));
    r->offset_delta = fast_varint(&p, &bad);
    if (!fast_bytes(&p, re, &bad, &r->key) || !fast_bytes(&p, re, &bad, &r->value))
        return false;
    r->n_headers = fast_varint(&p, &bad);
    if (r->n_headers < 0 || r->n_headers > (re - p) / 2)
        return false;
    r->headers = p;
    for (int32_t i = 0; i < r->n_headers; i++) {
        int32_t klen = fast_varint(&p, &bad);
        struct kw_bytes value;
        if (klen < 0 || klen > re - p)
            return false;
        p += klen;
        if (!fast_bytes(&p, re, &bad, &value))
            return false;
    }
    r->headers_len = (size_t)(p - r->headers);
    /* p never moves back, so ending at re means no field crossed it */
    if (bad || p != re)
        return false;
    c->p = re;
    return true;
}

int kw_record_header_next(struct kw_reader *r, struct kw_header_kv *h)
{
    if (r->err || kw_reader_left(r) == 0)
        return r->err;
    struct cur c = { r->pos, r->end, KW_OK };
    int32_t klen = cur_varint(&c);
    if (c.err == KW_OK && (klen < 0 || klen > c.end - c.p))
        cur_fail(&c, KW_ERR_CORRUPT);
    if (c.err == KW_OK) {
        h->key = (struct kw_str){ (const char *)c.p, klen };
        c.p += klen;
        h->value = cur_bytes(&c);
    }
    if (c.err) {
        kw_reader_fail(r, c.err);
        return r->err;
    }
    r->pos = c.p;
    return 1;
}

/* --- header ---------------------------------------------------------------------------------- */

int kw_batch_peek(const uint8_t *p, size_t len, struct kw_batch_hdr *h)
{
    struct kw_batch_hdr tmp;
    if (h == NULL)
        h = &tmp;
    memset(h, 0, sizeof(*h));
    h->partition_leader_epoch = -1;
    h->base_timestamp = h->max_timestamp = -1;
    h->producer_id = -1;
    h->producer_epoch = -1;
    h->base_sequence = -1;
    if (len < OFF_MAGIC + 1)
        return KW_ERR_SHORT;
    h->base_offset = (int64_t)kw_be64(p + OFF_BASE_OFFSET);
    h->batch_length = (int32_t)kw_be32(p + OFF_LENGTH);
    h->magic = (int8_t)p[OFF_MAGIC];
    if (h->magic < 0 || h->magic > KW_BATCH_MAGIC)
        return KW_ERR_VERSION;
    if (h->batch_length < min_length[h->magic] || h->batch_length > INT32_MAX - 12)
        return KW_ERR_CORRUPT;
    size_t size = 12 + (size_t)h->batch_length;
    if (h->magic == KW_BATCH_MAGIC) {
        if (len < KW_BATCH_HEADER_SIZE)
            return KW_ERR_SHORT;
        h->partition_leader_epoch = (int32_t)kw_be32(p + OFF_EPOCH);
        h->crc = kw_be32(p + OFF_CRC);
        h->attributes = (int16_t)kw_be16(p + OFF_ATTR);
        h->last_offset_delta = (int32_t)kw_be32(p + OFF_LAST_DELTA);
        h->base_timestamp = (int64_t)kw_be64(p + OFF_BASE_TS);
        h->max_timestamp = (int64_t)kw_be64(p + OFF_MAX_TS);
        h->producer_id = (int64_t)kw_be64(p + OFF_PID);
        h->producer_epoch = (int16_t)kw_be16(p + OFF_PEPOCH);
        h->base_sequence = (int32_t)kw_be32(p + OFF_BASE_SEQ);
        h->records_count = (int32_t)kw_be32(p + OFF_COUNT);
    } else {
        /* A legacy message: CRC at 12, attributes at 17, a v1 timestamp at 18. */
        if (len < 18)
            return KW_ERR_SHORT;
        h->crc = kw_be32(p + 12);
        h->attributes = p[17];
        h->records_count = 1;
        if (h->magic == 1) {
            if (len < 26)
                return KW_ERR_SHORT;
            h->base_timestamp = h->max_timestamp = (int64_t)kw_be64(p + 18);
        }
    }
    return size <= len ? (int)size : KW_ERR_SHORT;
}

/* --- validation and iteration ---------------------------------------------------------------- */

/* The records section of the batch at p (size bytes), decompressed into scratch if need be. */
static int records_area(const uint8_t *p, size_t size, const struct kw_batch_hdr *h,
                        struct kw_buf *scratch, size_t max, struct cur *c, char *errstr,
                        size_t errstr_size)
{
    int codec = kw_batch_codec(h->attributes);
    c->p = p + KW_BATCH_HEADER_SIZE;
    c->end = p + size;
    c->err = KW_OK;
    if (codec > KW_CODEC_ZSTD)
        return why(errstr, errstr_size, KW_ERR_CODEC, "unknown compression codec %d", codec);
    if (codec == KW_CODEC_NONE || h->records_count == 0)
        return KW_OK;
    if (scratch == NULL)
        return why(errstr, errstr_size, KW_ERR_INVALID, "compressed batch and no scratch buffer");
    /* Judge the count before inflating anything: a billion records do not fit the budget. */
    if ((uint64_t)h->records_count * MIN_RECORD > max)
        return why(errstr, errstr_size, KW_ERR_RANGE,
                   "%" PRId32 " records cannot fit in %zu uncompressed bytes",
                   h->records_count, max);
    kw_buf_reset(scratch);
    int rc = kw_decompress(codec, c->p, (size_t)(c->end - c->p), scratch, max);
    if (rc)
        return why(errstr, errstr_size, rc, "%s records: %s", kw_codec_name(codec),
                   rc == KW_ERR_RANGE ? "decompress beyond the limit" : kw_strerror(rc));
    if (scratch->len) {     /* an empty stream may leave scratch unallocated: keep c->p then */
        c->p = scratch->data;
        c->end = scratch->data + scratch->len;
    } else {
        c->p = c->end;
    }
    return KW_OK;
}

/* The checks common to validation and iteration: one magic-2 batch of exactly len bytes. */
static int batch_frame(const uint8_t *p, size_t len, struct kw_batch_hdr *h, char *errstr,
                       size_t errstr_size)
{
    int size = kw_batch_peek(p, len, h);
    if (size == KW_ERR_SHORT)
        return why(errstr, errstr_size, size, "batch of %zu bytes is cut short",
                   h->batch_length >= 0 ? 12 + (size_t)h->batch_length : 0);
    if (size < 0 || h->magic != KW_BATCH_MAGIC)
        return why(errstr, errstr_size, size < 0 ? size : KW_ERR_VERSION,
                   "magic %d, batchLength %" PRId32, h->magic, h->batch_length);
    if ((size_t)size != len)
        return why(errstr, errstr_size, KW_ERR_TRAILING, "%zu bytes after the batch",
                   len - (size_t)size);
    return KW_OK;
}

int kw_batch_validate_why(const uint8_t *p, size_t len, struct kw_batch_hdr *h,
                          struct kw_buf *scratch, size_t max_uncompressed, char *errstr,
                          size_t errstr_size)
{
    struct kw_batch_hdr tmp;
    if (h == NULL)
        h = &tmp;
    int rc = batch_frame(p, len, h, errstr, errstr_size);
    if (rc)
        return rc;
    uint32_t crc = kw_crc32c(0, p + KW_BATCH_CRC_FROM, len - KW_BATCH_CRC_FROM);
    if (crc != h->crc)
        return why(errstr, errstr_size, KW_ERR_CRC,
                   "crc mismatch: stored 0x%08" PRIx32 ", computed 0x%08" PRIx32, h->crc, crc);
    if (h->records_count <= 0 || h->last_offset_delta != h->records_count - 1)
        return why(errstr, errstr_size, KW_ERR_CORRUPT,
                   "recordsCount %" PRId32 " with lastOffsetDelta %" PRId32, h->records_count,
                   h->last_offset_delta);
    /* The Java broker looks at the sequence only for idempotent batches: kafkajs sends
     * producerId -1 with epoch 0 and sequence 0. */
    if (h->producer_id >= 0 && h->base_sequence < 0)
        return why(errstr, errstr_size, KW_ERR_CORRUPT,
                   "producerId %" PRId64 " with baseSequence %" PRId32, h->producer_id,
                   h->base_sequence);
    struct cur c;
    rc = records_area(p, len, h, scratch, max_uncompressed, &c, errstr, errstr_size);
    if (rc)
        return rc;
    if ((uint64_t)h->records_count * MIN_RECORD > (uint64_t)(c.end - c.p))
        return why(errstr, errstr_size, KW_ERR_CORRUPT,
                   "%" PRId32 " records cannot fit in %zu bytes", h->records_count,
                   (size_t)(c.end - c.p));
    for (int32_t i = 0; i < h->records_count; i++) {
        struct raw_record r;
        if (!parse_fast(&c, &r)) {
            struct raw_record slow;     /* apart, so that r can live in registers */
            parse_record(&c, &slow);
            if (c.err)
                return why(errstr, errstr_size, c.err, "record %" PRId32 " is malformed (%s)",
                           i, kw_strerror(c.err));
            r = slow;
        }
        if (r.offset_delta != i)
            return why(errstr, errstr_size, KW_ERR_CORRUPT,
                       "record %" PRId32 " has offsetDelta %" PRId32, i, r.offset_delta);
    }
    if (c.p != c.end)
        return why(errstr, errstr_size, KW_ERR_CORRUPT, "%zu bytes after the last record",
                   (size_t)(c.end - c.p));
    return KW_OK;
}

int kw_batch_validate(const uint8_t *p, size_t len, struct kw_batch_hdr *h,
                      struct kw_buf *scratch, size_t max_uncompressed)
{
    return kw_batch_validate_why(p, len, h, scratch, max_uncompressed, NULL, 0);
}

int kw_record_iter_init_max(struct kw_record_iter *it, const uint8_t *batch, size_t len,
                            struct kw_buf *scratch, size_t max_uncompressed)
{
    it->index = 0;
    it->pos = it->end = NULL;
    int rc = batch_frame(batch, len, &it->hdr, NULL, 0);
    if (rc == KW_OK && it->hdr.records_count < 0)
        rc = KW_ERR_CORRUPT;
    struct cur c;
    if (rc == KW_OK)
        rc = records_area(batch, len, &it->hdr, scratch, max_uncompressed, &c, NULL, 0);
    if (rc == KW_OK && (uint64_t)it->hdr.records_count * MIN_RECORD > (uint64_t)(c.end - c.p))
        rc = KW_ERR_CORRUPT;
    if (rc == KW_OK && it->hdr.records_count > 0) {
        it->pos = c.p;          /* an empty batch (log compaction keeps some) has no records */
        it->end = c.end;
    }
    return it->err = rc;
}

int kw_record_iter_init(struct kw_record_iter *it, const uint8_t *batch, size_t len,
                        struct kw_buf *scratch)
{
    return kw_record_iter_init_max(it, batch, len, scratch, KW_BATCH_MAX_UNCOMPRESSED);
}

static void fill(const struct kw_record_iter *it, const struct raw_record *r,
                 struct kw_record *rec)
{
    /* Unsigned sums: hostile deltas may overflow, which must not be undefined behaviour. */
    rec->offset = (int64_t)((uint64_t)it->hdr.base_offset + (uint64_t)(int64_t)r->offset_delta);
    rec->timestamp = it->hdr.attributes & KW_BATCH_ATTR_LOG_APPEND_TIME
                         ? it->hdr.max_timestamp
                         : (int64_t)((uint64_t)it->hdr.base_timestamp + (uint64_t)r->ts_delta);
    rec->attributes = r->attributes;
    rec->key = r->key;
    rec->value = r->value;
    rec->n_headers = r->n_headers;
    rec->headers = r->headers;
    rec->headers_len = r->headers_len;
}

/* Everything kw_record_iter_next leaves to the checked parser: errors, the end, the last
 * records. Out of line, so that the common path keeps a small frame. */
static __attribute__((noinline)) int iter_next_slow(struct kw_record_iter *it,
                                                    struct kw_record *rec)
{
    if (it->err)
        return it->err;
    if (it->index >= it->hdr.records_count) {
        if (it->pos != it->end)
            return it->err = KW_ERR_CORRUPT;
        return 0;
    }
    struct cur c = { it->pos, it->end, KW_OK };
    struct raw_record r;
    parse_record(&c, &r);
    if (c.err)
        return it->err = c.err;
    it->pos = c.p;
    it->index++;
    fill(it, &r, rec);
    return 1;
}

int kw_record_iter_next(struct kw_record_iter *it, struct kw_record *rec)
{
    struct cur c = { it->pos, it->end, KW_OK };
    struct raw_record r;
    if (it->err || it->index >= it->hdr.records_count || !parse_fast(&c, &r))
        return iter_next_slow(it, rec);
    it->pos = c.p;
    it->index++;
    fill(it, &r, rec);
    return 1;
}

/* --- stamping -------------------------------------------------------------------------------- */

void kw_batch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
    kw_wbe64(batch + OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void kw_batch_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
    kw_wbe32(batch + OFF_EPOCH, (uint32_t)epoch);
}

int kw_batch_set_log_append_time(uint8_t *batch, size_t len, int64_t ts)
{
    struct kw_batch_hdr h;
    int rc = batch_frame(batch, len, &h, NULL, 0);
    if (rc)
        return rc;
    kw_wbe16(batch + OFF_ATTR, (uint16_t)(h.attributes | KW_BATCH_ATTR_LOG_APPEND_TIME));
    kw_wbe64(batch + OFF_MAX_TS, (uint64_t)ts);
    kw_wbe32(batch + OFF_CRC, kw_crc32c(0, batch + KW_BATCH_CRC_FROM, len - KW_BATCH_CRC_FROM));
    return KW_OK;
}

/* --- building -------------------------------------------------------------------------------- */

static inline uint64_t zigzag(int64_t v) { return (uint64_t)v << 1 ^ (uint64_t)(v >> 63); }

static inline size_t leb_size(uint64_t u)
{
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

static inline uint8_t *put_leb(uint8_t *p, uint64_t u)
{
    while (u >= 0x80) {
        *p++ = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    *p++ = (uint8_t)u;
    return p;
}

static inline size_t bytes_size(int32_t len)
{
    return leb_size(zigzag(len)) + (len > 0 ? (size_t)len : 0);
}

static inline uint8_t *put_bytes(uint8_t *p, const void *ptr, int32_t len)
{
    p = put_leb(p, zigzag(len < 0 ? -1 : len));
    if (len > 0) {
        memcpy(p, ptr, (size_t)len);
        p += len;
    }
    return p;
}

/* The record's size after its length field. */
static size_t body_size(int64_t ts_delta, int32_t offset_delta, struct kw_bytes key,
                        struct kw_bytes value, const struct kw_header_kv *headers, int n_headers)
{
    size_t n = 1 + leb_size(zigzag(ts_delta)) + leb_size(zigzag(offset_delta)) +
               bytes_size(key.len) + bytes_size(value.len) + leb_size(zigzag(n_headers));
    for (int i = 0; i < n_headers; i++)
        n += bytes_size(headers[i].key.len) + bytes_size(headers[i].value.len);
    return n;
}

size_t kw_record_size(int64_t timestamp_delta, int32_t offset_delta, struct kw_bytes key,
                      struct kw_bytes value, const struct kw_header_kv *headers, int n_headers)
{
    size_t n = body_size(timestamp_delta, offset_delta, key, value, headers, n_headers);
    return leb_size(zigzag((int64_t)n)) + n;
}

int kw_batch_builder_begin(struct kw_batch_builder *bb, struct kw_buf *out,
                           const struct kw_batch_hdr *proto, int codec, int level)
{
    static const struct kw_batch_hdr none = {
        .partition_leader_epoch = -1, .producer_id = -1, .producer_epoch = -1,
        .base_sequence = -1,
    };
    if (proto == NULL)
        proto = &none;
    bb->out = out;
    bb->start = out->len;
    bb->codec = codec;
    bb->level = level;
    bb->count = 0;
    bb->base_timestamp = bb->max_timestamp = -1;
    bb->err = out->err;
    if (bb->err)
        return bb->err;
    switch (codec) {
    case KW_CODEC_NONE: case KW_CODEC_GZIP: case KW_CODEC_SNAPPY: case KW_CODEC_LZ4:
    case KW_CODEC_ZSTD: case KW_CODEC_SNAPPY_XERIAL:
        break;
    default:
        return bb->err = KW_ERR_INVALID;
    }
    uint8_t *p = kw_buf_space(out, KW_BATCH_HEADER_SIZE);
    if (p == NULL)
        return bb->err = out->err;
    memset(p, 0, KW_BATCH_HEADER_SIZE);     /* lengths, CRC, deltas, timestamps: at finish */
    kw_wbe64(p + OFF_BASE_OFFSET, (uint64_t)proto->base_offset);
    kw_wbe32(p + OFF_EPOCH, (uint32_t)proto->partition_leader_epoch);
    p[OFF_MAGIC] = KW_BATCH_MAGIC;
    kw_wbe16(p + OFF_ATTR, (uint16_t)((proto->attributes & ~KW_BATCH_ATTR_CODEC_MASK) |
                                      KW_CODEC_WIRE(codec)));
    kw_wbe64(p + OFF_PID, (uint64_t)proto->producer_id);
    kw_wbe16(p + OFF_PEPOCH, (uint16_t)proto->producer_epoch);
    kw_wbe32(p + OFF_BASE_SEQ, (uint32_t)proto->base_sequence);
    kw_buf_commit(out, KW_BATCH_HEADER_SIZE);
    return KW_OK;
}

int kw_batch_builder_add(struct kw_batch_builder *bb, int64_t timestamp, struct kw_bytes key,
                         struct kw_bytes value, const struct kw_header_kv *headers,
                         int n_headers)
{
    if (bb->err)
        return bb->err;
    if (n_headers < 0 || (n_headers > 0 && headers == NULL) || bb->count == INT32_MAX)
        return bb->err = KW_ERR_INVALID;
    for (int i = 0; i < n_headers; i++)
        if (headers[i].key.len < 0)
            return bb->err = KW_ERR_INVALID;
    if (bb->count == 0)
        bb->base_timestamp = bb->max_timestamp = timestamp;
    int64_t ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)bb->base_timestamp);
    size_t body = body_size(ts_delta, bb->count, key, value, headers, n_headers);
    if (body > INT32_MAX)
        return bb->err = KW_ERR_INVALID;
    uint8_t *start = kw_buf_space(bb->out, body + 5), *p = start;
    if (p == NULL)
        return bb->err = bb->out->err;
    p = put_leb(p, zigzag((int64_t)body));
    *p++ = 0;                               /* record attributes: unused */
    p = put_leb(p, zigzag(ts_delta));
    p = put_leb(p, zigzag(bb->count));
    p = put_bytes(p, key.ptr, key.len);
    p = put_bytes(p, value.ptr, value.len);
    p = put_leb(p, zigzag(n_headers));
    for (int i = 0; i < n_headers; i++) {
        p = put_bytes(p, headers[i].key.ptr, headers[i].key.len);
        p = put_bytes(p, headers[i].value.ptr, headers[i].value.len);
    }
    kw_buf_commit(bb->out, (size_t)(p - start));
    if (timestamp > bb->max_timestamp)
        bb->max_timestamp = timestamp;
    bb->count++;
    return KW_OK;
}

int kw_batch_builder_finish(struct kw_batch_builder *bb)
{
    struct kw_buf *out = bb->out;
    int rc = bb->err ? bb->err : out->err;
    if (rc == KW_OK && bb->count == 0)
        rc = KW_ERR_INVALID;                /* Kafka has no empty producer batches */
    size_t records = bb->start + KW_BATCH_HEADER_SIZE;
    if (rc == KW_OK && bb->codec != KW_CODEC_NONE) {
        /* The compressor cannot write into the buffer it reads (it may move), so the
         * compressed form goes through a buffer of its own and is copied over the plain
         * records. */
        struct kw_buf z;
        kw_buf_init(&z);
        size_t plain = out->len - records;
        rc = kw_compress(bb->codec, bb->level, out->data + records, plain, &z);
        /* incompressible records come out longer than they went in */
        if (rc == KW_OK && z.len > plain && kw_buf_space(out, z.len - plain) == NULL)
            rc = out->err;
        if (rc == KW_OK) {
            memcpy(out->data + records, z.data, z.len);
            out->len = records + z.len;
        }
        kw_buf_release(&z);
    }
    if (rc == KW_OK && out->len - bb->start - 12 > INT32_MAX)
        rc = KW_ERR_INVALID;
    if (rc) {
        if (out->len > bb->start)
            out->len = bb->start;
        return bb->err = rc;
    }
    uint8_t *p = out->data + bb->start;
    size_t size = out->len - bb->start;
    kw_wbe32(p + OFF_LENGTH, (uint32_t)(size - 12));
    kw_wbe32(p + OFF_LAST_DELTA, (uint32_t)(bb->count - 1));
    kw_wbe64(p + OFF_BASE_TS, (uint64_t)bb->base_timestamp);
    kw_wbe64(p + OFF_MAX_TS, (uint64_t)bb->max_timestamp);
    kw_wbe32(p + OFF_COUNT, (uint32_t)bb->count);
    kw_wbe32(p + OFF_CRC, kw_crc32c(0, p + KW_BATCH_CRC_FROM, size - KW_BATCH_CRC_FROM));
    return KW_OK;
}
