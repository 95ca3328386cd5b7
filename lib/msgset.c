/* Legacy message sets: reading (with wrappers), checking, and conversion to and from magic 2.
 * Not a hot path: only clients from before Kafka 0.11 speak it. */
#include "lib/msgset.h"

#include <string.h>

#include "lib/compress.h"
#include "lib/crc.h"

#define ATTR_LOG_APPEND_TIME 0x08

struct msg {
    int64_t offset;
    int8_t magic;
    int8_t attributes;
    int64_t timestamp;
    struct kw_bytes key, value;
};

/* Nullable int32-length bytes inside [*q, end), leaving room for `after` more bytes. */
static int get_bytes(const uint8_t **q, const uint8_t *end, size_t after, struct kw_bytes *b)
{
    int32_t n = (int32_t)kw_be32(*q);
    *q += 4;
    if (n < -1 || (n > 0 && (size_t)n > (size_t)(end - *q) - after))
        return KW_ERR_CORRUPT;
    *b = (struct kw_bytes){ n >= 0 ? *q : NULL, n };
    if (n > 0)
        *q += n;
    return KW_OK;
}

/* Reads the message at *pp (offset, size, then the message) and moves past it. KW_ERR_SHORT if
 * the bytes end inside it; the CRC is checked before anything inside is believed. */
static int read_msg(const uint8_t **pp, const uint8_t *end, struct msg *m)
{
    const uint8_t *p = *pp;
    size_t left = (size_t)(end - p);
    if (left < 12)
        return KW_ERR_SHORT;
    m->offset = (int64_t)kw_be64(p);
    int32_t size = (int32_t)kw_be32(p + 8);
    if (size < 14)                          /* crc, magic, attributes, two lengths */
        return KW_ERR_CORRUPT;
    if ((size_t)size > left - 12)
        return KW_ERR_SHORT;
    const uint8_t *q = p + 12, *mend = q + size;
    uint32_t crc = kw_be32(q);
    m->magic = (int8_t)q[4];
    m->attributes = (int8_t)q[5];
    if (m->magic != 0 && m->magic != 1)
        return KW_ERR_VERSION;
    if (m->magic == 1 && size < 22)         /* and a timestamp */
        return KW_ERR_CORRUPT;
    if (kw_crc32(0, q + 4, (size_t)size - 4) != crc)
        return KW_ERR_CRC;
    q += 6;
    m->timestamp = -1;
    if (m->magic == 1) {
        m->timestamp = (int64_t)kw_be64(q);
        q += 8;
    }
    if (get_bytes(&q, mend, 4, &m->key) || get_bytes(&q, mend, 0, &m->value) || q != mend)
        return KW_ERR_CORRUPT;
    *pp = mend;
    return KW_OK;
}

/* Offset of the last message in an inner set, by walking the headers only. */
static int64_t last_offset(const uint8_t *p, const uint8_t *end)
{
    int64_t last = 0;
    while (end - p >= 12) {
        int32_t size = (int32_t)kw_be32(p + 8);
        if (size < 0 || size > end - p - 12)
            break;                          /* reading the message will say what is wrong */
        last = (int64_t)kw_be64(p);
        p += 12 + size;
    }
    return last;
}

static const uint8_t no_headers[1];

static void fill(struct kw_record *rec, const struct msg *m, int64_t offset, int64_t ts)
{
    rec->offset = offset;
    rec->timestamp = ts;
    rec->attributes = m->attributes;
    rec->key = m->key;
    rec->value = m->value;
    rec->n_headers = 0;
    rec->headers = no_headers;              /* never NULL: callers build a reader on it */
    rec->headers_len = 0;
}

int kw_msgset_iter_init(struct kw_msgset_iter *it, const uint8_t *p, size_t len,
                        struct kw_buf *scratch, size_t max_uncompressed)
{
    memset(it, 0, sizeof(*it));
    if (len) {
        it->pos = p;
        it->end = p + len;
    }
    it->scratch = scratch;
    it->max_uncompressed = max_uncompressed;
    it->magic = -1;
    return KW_OK;
}

/* Opens the wrapper m: decompresses its value and positions the iterator on the inner set. */
static int open_wrapper(struct kw_msgset_iter *it, const struct msg *m)
{
    int codec = m->attributes & KW_BATCH_ATTR_CODEC_MASK;
    if (codec > KW_CODEC_LZ4)               /* zstd exists only in magic 2 */
        return KW_ERR_CODEC;
    if (m->value.len <= 0)
        return KW_ERR_CORRUPT;
    if (it->scratch == NULL)
        return KW_ERR_INVALID;
    /* Magic 0 LZ4 came from Kafka's own wrong header checksum, so it is not checked. */
    if (codec == KW_CODEC_LZ4 && m->magic == 0)
        codec = KW_CODEC_LZ4_LEGACY;
    kw_buf_reset(it->scratch);
    int rc = kw_decompress(codec, m->value.ptr, (size_t)m->value.len, it->scratch,
                           it->max_uncompressed);
    if (rc)
        return rc;
    if (it->scratch->len == 0)
        return KW_ERR_CORRUPT;              /* a wrapper of nothing */
    it->ipos = it->scratch->data;
    it->iend = it->scratch->data + it->scratch->len;
    it->inner_base = 0;
    /* Magic 1 inner offsets count from 0 and the wrapper holds the last one's absolute
     * offset; a wrapper offset of 0 (some librdkafka versions) leaves them as they are. */
    if (m->magic == 1 && m->offset != 0)
        it->inner_base = (int64_t)((uint64_t)m->offset - (uint64_t)last_offset(it->ipos, it->iend));
    it->log_append_time = m->magic == 1 && (m->attributes & ATTR_LOG_APPEND_TIME);
    it->wrapper_ts = m->timestamp;
    return KW_OK;
}

int kw_msgset_iter_next(struct kw_msgset_iter *it, struct kw_record *rec)
{
    struct msg m;
    int rc;
    if (it->err)
        return it->err;
    if (it->ipos != it->iend) {
        rc = read_msg(&it->ipos, it->iend, &m);
        if (rc == KW_OK && (m.magic != it->magic || (m.attributes & KW_BATCH_ATTR_CODEC_MASK)))
            rc = KW_ERR_CORRUPT;            /* mixed magics, or compression inside compression */
        if (rc)
            return it->err = rc == KW_ERR_SHORT ? KW_ERR_CORRUPT : rc;
        fill(rec, &m, (int64_t)((uint64_t)it->inner_base + (uint64_t)m.offset),
             it->log_append_time ? it->wrapper_ts : m.timestamp);
        return 1;
    }
    if (it->pos == it->end)
        return 0;
    rc = read_msg(&it->pos, it->end, &m);
    if (rc == KW_OK && it->magic >= 0 && m.magic != it->magic)
        rc = KW_ERR_CORRUPT;
    if (rc)
        return it->err = rc;
    it->magic = m.magic;
    if ((m.attributes & KW_BATCH_ATTR_CODEC_MASK) == 0) {
        fill(rec, &m, m.offset, m.timestamp);
        return 1;
    }
    if ((rc = open_wrapper(it, &m)) != KW_OK)
        return it->err = rc;
    return kw_msgset_iter_next(it, rec);    /* once: the wrapper holds a message */
}

int kw_msgset_validate(const uint8_t *p, size_t len, int *count, int *magic)
{
    struct kw_buf scratch;
    struct kw_msgset_iter it;
    struct kw_record rec;
    int n = 0, rc;
    kw_buf_init(&scratch);
    kw_msgset_iter_init(&it, p, len, &scratch, KW_MSGSET_MAX_UNCOMPRESSED);
    while ((rc = kw_msgset_iter_next(&it, &rec)) == 1)
        n++;
    kw_buf_release(&scratch);
    if (count)
        *count = n;
    if (magic)
        *magic = it.magic;
    return rc;
}

int kw_msgset_to_batch(const uint8_t *p, size_t len, struct kw_buf *out)
{
    struct kw_buf scratch;
    struct kw_msgset_iter it;
    struct kw_batch_builder bb;
    struct kw_record rec;
    int64_t base = 0;
    int rc;
    kw_buf_init(&scratch);
    kw_msgset_iter_init(&it, p, len, &scratch, KW_MSGSET_MAX_UNCOMPRESSED);
    if ((rc = kw_batch_builder_begin(&bb, out, NULL, KW_CODEC_NONE, -1)) != KW_OK) {
        kw_buf_release(&scratch);
        return rc;
    }
    while ((rc = kw_msgset_iter_next(&it, &rec)) == 1) {
        if (bb.count == 0)
            base = rec.offset;
        if ((rc = kw_batch_builder_add(&bb, rec.timestamp, rec.key, rec.value, NULL, 0)) != 0)
            break;
    }
    kw_buf_release(&scratch);
    if (rc != KW_OK) {
        out->len = bb.start;                /* the builder's header and records go */
        return rc;
    }
    if ((rc = kw_batch_builder_finish(&bb)) == KW_OK)
        kw_batch_set_base_offset(out->data + bb.start, base);
    return rc;
}

int kw_msgset_from_batch(const uint8_t *batch, size_t len, int magic, struct kw_buf *out,
                         struct kw_buf *scratch)
{
    struct kw_record_iter it;
    struct kw_record rec;
    if (magic != 0 && magic != 1)
        return KW_ERR_INVALID;
    if (out->err)
        return out->err;
    int rc = kw_record_iter_init(&it, batch, len, scratch);
    if (rc || (it.hdr.attributes & KW_BATCH_ATTR_CONTROL))
        return rc;
    int8_t attr = magic == 1 && (it.hdr.attributes & KW_BATCH_ATTR_LOG_APPEND_TIME)
                      ? ATTR_LOG_APPEND_TIME : 0;
    size_t start = out->len;
    while ((rc = kw_record_iter_next(&it, &rec)) == 1) {
        kw_put_i64(out, rec.offset);
        size_t size_at = kw_reserve_i32(out);
        size_t crc_at = kw_reserve_i32(out);
        kw_put_i8(out, (int8_t)magic);
        kw_put_i8(out, attr);
        if (magic == 1)
            kw_put_i64(out, rec.timestamp);
        kw_put_bytes(out, rec.key);
        kw_put_bytes(out, rec.value);
        if (out->err)
            break;
        kw_patch_i32(out, size_at, (int32_t)(out->len - size_at - 4));
        kw_patch_u32(out, crc_at, kw_crc32(0, out->data + crc_at + 4, out->len - crc_at - 4));
    }
    if (rc == 1)
        rc = out->err;
    if (rc != KW_OK && out->err == KW_OK)
        out->len = start;
    return rc;
}
