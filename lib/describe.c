/* describe: frames as indented text. The body is decoded with the API's schema and rendered by
 * the schema engine; this file adds the header line, what to say when a frame does not decode
 * (the error, where, and a hex dump that points at the byte), and the record batches and
 * legacy message sets inside RECORDS fields, record by record. */
#include "lib/describe.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/crc.h"
#include "lib/msgset.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/schema.h"

/* Up to this many bytes of a key or value are shown; longer ones say their full length. */
#define SHOW_STR 64
#define SHOW_HEX 32
/* A compressed batch may claim any size; describe refuses to inflate more than this. */
#define MAX_INFLATE (32u << 20)
/* Frames up to this size are dumped whole; larger ones only around the interesting byte. */
#define DUMP_WHOLE 512

static void outf(struct kw_buf *b, int indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void outf(struct kw_buf *b, int indent, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    uint8_t *p = kw_buf_space(b, (size_t)(indent > 0 ? indent : 0));
    if (p != NULL && indent > 0) {
        memset(p, ' ', (size_t)indent);
        kw_buf_commit(b, (size_t)indent);
    }
    if (n > 0)
        kw_put_raw(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void put_c(struct kw_buf *b, const char *s)
{
    kw_put_raw(b, s, strlen(s));
}

/* --- keys, values and strings ---------------------------------------------------------------- */

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\n' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* A key, value or header: null, a quoted string if it is text, else hex; long ones truncated
 * with their length, so one record stays one line. */
static void put_value(struct kw_buf *b, const uint8_t *p, int64_t len)
{
    if (len < 0) {
        put_c(b, "null");
        return;
    }
    size_t n = (size_t)len;
    if (printable(p, n)) {
        size_t show = n > SHOW_STR ? SHOW_STR : n;
        kw_put_i8(b, '"');
        for (size_t i = 0; i < show; i++) {
            switch (p[i]) {
            case '"': put_c(b, "\\\""); break;
            case '\\': put_c(b, "\\\\"); break;
            case '\n': put_c(b, "\\n"); break;
            case '\t': put_c(b, "\\t"); break;
            case '\r': put_c(b, "\\r"); break;
            default: kw_put_i8(b, (int8_t)p[i]);
            }
        }
        kw_put_i8(b, '"');
        if (show < n)
            outf(b, 0, "...(%zu bytes)", n);
        return;
    }
    size_t show = n > SHOW_HEX ? SHOW_HEX : n;
    put_c(b, "0x");
    for (size_t i = 0; i < show; i++)
        outf(b, 0, "%02x", p[i]);
    if (show < n)
        outf(b, 0, "...(%zu bytes)", n);
}

/* --- hex dump -------------------------------------------------------------------------------- */

static int hex_width(size_t n)
{
    int w = 4;
    while (w < 16 && (n >> (4 * w)) != 0)
        w++;
    return w;
}

static void dump_line(struct kw_buf *b, const uint8_t *p, size_t at, size_t end, int indent,
                      int w)
{
    outf(b, indent, "%0*zx ", w, at);
    for (size_t i = 0; i < 16; i++) {
        if (i == 8)
            kw_put_i8(b, ' ');
        if (at + i < end)
            outf(b, 0, " %02x", p[at + i]);
        else
            put_c(b, "   ");
    }
    put_c(b, "  |");
    for (size_t i = 0; i < 16 && at + i < end; i++)
        kw_put_i8(b, (int8_t)(p[at + i] >= 0x20 && p[at + i] < 0x7f ? p[at + i] : '.'));
    put_c(b, "|\n");
}

/* Dumps p[from, end), 16 bytes a line, each headed by its offset in p. If mark is inside
 * [from, end] a caret line points at that byte and says `why`. A large range is shown only at
 * its start, around the mark and at its end. */
static void hexdump(struct kw_buf *b, const uint8_t *p, size_t from, size_t end, size_t mark,
                    const char *why, int indent)
{
    int w = hex_width(end);
    bool marked = mark >= from && mark <= end;
    size_t nlines = (end - from + 15) / 16;
    size_t mline = marked ? (mark - from) / 16 : SIZE_MAX;
    size_t skipped = 0;
    for (size_t l = 0; l < nlines; l++) {
        bool show = end - from <= DUMP_WHOLE || l < 4 || l + 2 >= nlines ||
                    (marked && l + 4 >= mline && l <= mline + 4);
        if (!show) {
            skipped += 16;
            continue;
        }
        if (skipped) {
            outf(b, indent, "%*s   ... %zu bytes ...\n", w, "", skipped);
            skipped = 0;
        }
        dump_line(b, p, from + 16 * l, end, indent, w);
        if (l == mline) {
            size_t col = (mark - from) % 16;
            outf(b, indent, "%*s  %*s^^ offset %zu: %s\n", w, "", (int)(col * 3 + (col >= 8)),
                 "", mark, why);
        }
    }
    if (marked && mline >= nlines)      /* the mark sits just past the last byte */
        outf(b, indent, "%*s  ^^ offset %zu (end of input): %s\n", w, "", mark, why);
}

/* --- record batches and message sets --------------------------------------------------------- */

static void describe_record(struct kw_buf *b, const struct kw_record *rec, const char *what,
                            int indent)
{
    outf(b, indent, "%s offset=%" PRId64 " timestamp=%" PRId64 " key=", what, rec->offset,
         rec->timestamp);
    put_value(b, rec->key.ptr, rec->key.len);
    put_c(b, " value=");
    put_value(b, rec->value.ptr, rec->value.len);
    outf(b, 0, " headers=%" PRId32 "\n", rec->n_headers);
    if (rec->n_headers <= 0)
        return;
    struct kw_reader r;
    struct kw_header_kv h;
    kw_reader_init(&r, rec->headers, rec->headers_len);
    for (int32_t i = 0; i < rec->n_headers; i++) {
        if (kw_record_header_next(&r, &h) <= 0) {
            outf(b, indent + 2, "header %" PRId32 ": %s\n", i,
                 kw_strerror(r.err ? r.err : KW_ERR_CORRUPT));
            return;
        }
        outf(b, indent + 2, "%s", "");
        put_value(b, (const uint8_t *)h.key.ptr, h.key.len);
        put_c(b, ": ");
        put_value(b, h.value.ptr, h.value.len);
        put_c(b, "\n");
    }
}

/* One magic-2 batch of `size` bytes. A batch that fails validation is still shown as far as
 * the iterator gets: a CRC mismatch, in particular, usually leaves every record readable. */
static int describe_batch(struct kw_buf *b, const uint8_t *p, size_t size,
                          const struct kw_batch_hdr *h, struct kw_buf *scratch, int indent)
{
    char why[160] = "";
    int err = kw_batch_validate_why(p, size, NULL, scratch, MAX_INFLATE, why, sizeof(why));
    /* Computed here too: validation may stop at another fault before it gets to the CRC. */
    uint32_t crc = kw_crc32c(0, p + KW_BATCH_CRC_FROM, size - KW_BATCH_CRC_FROM);
    outf(b, indent, "RecordBatch offset=%" PRId64 " count=%" PRId32 " magic=2 codec=%s crc=0x%08"
         PRIx32, h->base_offset, h->records_count, kw_codec_name(kw_batch_codec(h->attributes)),
         h->crc);
    if (crc != h->crc)
        outf(b, 0, " (mismatch: computed 0x%08" PRIx32 ")", crc);
    else
        put_c(b, " (ok)");
    outf(b, 0, " producer_id=%" PRId64 " producer_epoch=%" PRId16 " base_sequence=%" PRId32 "\n",
         h->producer_id, h->producer_epoch, h->base_sequence);
    outf(b, indent + 2, "length=%zu leader_epoch=%" PRId32 " last_offset_delta=%" PRId32
         " base_timestamp=%" PRId64 " max_timestamp=%" PRId64 "%s%s%s%s\n", size,
         h->partition_leader_epoch, h->last_offset_delta, h->base_timestamp, h->max_timestamp,
         h->attributes & KW_BATCH_ATTR_LOG_APPEND_TIME ? " log_append_time" : "",
         h->attributes & KW_BATCH_ATTR_TRANSACTIONAL ? " transactional" : "",
         h->attributes & KW_BATCH_ATTR_CONTROL ? " control" : "",
         h->attributes & KW_BATCH_ATTR_DELETE_HORIZON ? " delete_horizon" : "");
    if (err && (err != KW_ERR_CRC || crc == h->crc))    /* a mismatch is on the line above */
        outf(b, indent + 2, "invalid batch: %s\n", why[0] ? why : kw_strerror(err));

    if (err == KW_ERR_CODEC || err == KW_ERR_RANGE || err == KW_ERR_NOMEM)
        return err;                     /* the records would not inflate a second time either */
    struct kw_record_iter it;
    struct kw_record rec;
    int rc = kw_record_iter_init_max(&it, p, size, scratch, MAX_INFLATE);
    int32_t n = 0;
    while (rc == KW_OK && (rc = kw_record_iter_next(&it, &rec)) == 1) {
        describe_record(b, &rec, "Record", indent + 2);
        rc = KW_OK;
        n++;
    }
    if (rc < 0) {
        outf(b, indent + 2, "record %" PRId32 ": %s\n", n, kw_strerror(rc));
        if (err == KW_OK)
            err = rc;
    }
    return err;
}

/* One legacy message (magic 0/1) of `size` bytes: its own line, and for a compressed wrapper
 * the messages inside it, one level deeper. */
static int describe_message(struct kw_buf *b, const uint8_t *p, size_t size,
                            const struct kw_batch_hdr *h, struct kw_buf *scratch, int indent)
{
    /* The CRC-32 covers the message from its magic byte (offset 16) to its end. */
    uint32_t crc = kw_crc32(0, p + 16, size - 16);
    int codec = h->attributes & 7;
    int err = kw_msgset_validate(p, size, NULL, NULL);
    outf(b, indent, "Message offset=%" PRId64 " magic=%d codec=%s crc=0x%08" PRIx32,
         h->base_offset, h->magic, kw_codec_name(codec), h->crc);
    if (crc != h->crc)
        outf(b, 0, " (mismatch: computed 0x%08" PRIx32 ")", crc);
    else
        put_c(b, " (ok)");
    if (h->magic == 1 && (h->attributes & 8))
        put_c(b, " log_append_time");

    struct kw_msgset_iter it;
    struct kw_record rec;
    int rc = kw_msgset_iter_init(&it, p, size, scratch, MAX_INFLATE);
    if (codec == 0) {
        if (rc == KW_OK && (rc = kw_msgset_iter_next(&it, &rec)) == 1) {
            if (h->magic == 1)
                outf(b, 0, " timestamp=%" PRId64, rec.timestamp);
            put_c(b, " key=");
            put_value(b, rec.key.ptr, rec.key.len);
            put_c(b, " value=");
            put_value(b, rec.value.ptr, rec.value.len);
            rc = KW_OK;
        }
        put_c(b, "\n");
    } else {
        put_c(b, ", wrapping:\n");
        while (rc == KW_OK && (rc = kw_msgset_iter_next(&it, &rec)) == 1) {
            outf(b, indent + 2, "Message offset=%" PRId64, rec.offset);
            if (h->magic == 1)
                outf(b, 0, " timestamp=%" PRId64, rec.timestamp);
            put_c(b, " key=");
            put_value(b, rec.key.ptr, rec.key.len);
            put_c(b, " value=");
            put_value(b, rec.value.ptr, rec.value.len);
            put_c(b, "\n");
            rc = KW_OK;
        }
    }
    if (rc < 0)
        outf(b, indent + 2, "message: %s\n", kw_strerror(rc));
    if (err == KW_OK && crc != h->crc)
        err = KW_ERR_CRC;
    return err ? err : rc < 0 ? rc : KW_OK;
}

int kw_describe_records(struct kw_buf *out, const uint8_t *data, size_t len, int indent)
{
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    int err = KW_OK;
    size_t off = 0;
    while (off < len) {
        struct kw_batch_hdr h;
        int size = kw_batch_peek(data + off, len - off, &h);
        if (size == KW_ERR_SHORT) {
            /* Fetch responses may end inside a batch (the broker cuts at max bytes); readers
             * drop the tail, so it is not an error. */
            if (h.batch_length > 0 && (size_t)h.batch_length + 12 > len - off)
                outf(out, indent, "partial batch, %zu of %" PRId64 " bytes\n", len - off,
                     (int64_t)h.batch_length + 12);
            else
                outf(out, indent, "partial batch, %zu bytes\n", len - off);
            break;
        }
        if (size < 0) {
            outf(out, indent, "bad batch at offset %zu: %s\n", off, kw_strerror(size));
            hexdump(out, data, off, len, off, kw_strerror(size), indent + 2);
            if (err == KW_OK)
                err = size;
            break;
        }
        int e;
        kw_buf_reset(&scratch);
        if (h.magic == 2)
            e = describe_batch(out, data + off, (size_t)size, &h, &scratch, indent);
        else
            e = describe_message(out, data + off, (size_t)size, &h, &scratch, indent);
        if (err == KW_OK)
            err = e;
        off += (size_t)size;
    }
    kw_buf_release(&scratch);
    return err;
}

/* --- frames ---------------------------------------------------------------------------------- */

static void api_label(struct kw_buf *b, int key)
{
    const char *name = kw_api_name(key);
    if (kw_api_find(key) != NULL)
        put_c(b, name);
    else if (strcmp(name, "Unknown") != 0)
        outf(b, 0, "%s (key %d)", name, key);
    else
        outf(b, 0, "API key %d", key);
}

static void decode_error(struct kw_buf *b, const struct kw_reader *r, const uint8_t *frame,
                         size_t len)
{
    char why[160];
    snprintf(why, sizeof(why), "%s%s%s", kw_strerror(r->err), r->err_field ? " in " : "",
             r->err_field ? r->err_field : "");
    outf(b, 2, "decode error: %s at offset %zu%s%s\n", kw_strerror(r->err), r->err_at,
         r->err_field ? " in field " : "", r->err_field ? r->err_field : "");
    hexdump(b, frame, 0, len, r->err_at, why, 4);
}

/* The body from r's position: decoded and described, or the reason it could not be. */
static int describe_body(struct kw_buf *b, struct kw_reader *r, int key, int version,
                         bool request, const uint8_t *frame, size_t len)
{
    const struct kw_api *api = kw_api_find(key);
    size_t at = kw_reader_offset(r);
    if (api == NULL) {
        outf(b, 2, "unknown API key %d (%s): %zu body bytes not decoded\n", key,
             kw_api_name(key), len - at);
        hexdump(b, frame, at, len, SIZE_MAX, NULL, 4);
        return KW_ERR_API;
    }
    if (version < api->min || version > api->max) {
        outf(b, 2, "version not supported: we speak %s v%d-v%d; %zu body bytes not decoded\n",
             kw_api_name(key), api->min, api->max, len - at);
        hexdump(b, frame, at, len, SIZE_MAX, NULL, 4);
        return KW_ERR_VERSION;
    }

    const struct kw_schema *s = request ? api->req : api->resp;
    bool flex = kw_api_flexible(key, version);
    struct kw_arena a;
    kw_arena_init(&a);
    void *m = kw_arena_alloc(&a, s->size);
    int err = m == NULL ? KW_ERR_NOMEM : kw_schema_decode(r, s, version, flex, m, &a);
    if (err == KW_OK) {
        kw_schema_describe(b, s, version, flex, m, 2);
        size_t left = kw_reader_left(r);
        if (left) {
            outf(b, 2, "trailing bytes: %zu after the body, from offset %zu\n", left,
                 kw_reader_offset(r));
            hexdump(b, frame, kw_reader_offset(r), len, SIZE_MAX, NULL, 4);
            err = KW_ERR_TRAILING;
        }
    } else if (err == KW_ERR_NOMEM) {
        outf(b, 2, "decode error: %s\n", kw_strerror(err));
    } else {
        decode_error(b, r, frame, len);
    }
    kw_arena_release(&a);
    return err;
}

int kw_describe_request(struct kw_buf *out, const uint8_t *frame, size_t len)
{
    struct kw_reader r;
    struct kw_req_header h;
    kw_reader_init(&r, frame, len);
    int hv = kw_req_header_read(&r, &h);
    if (hv < 0) {
        put_c(out, "Request: header does not decode\n");
        decode_error(out, &r, frame, len);
        return hv;
    }
    put_c(out, "Request ");
    api_label(out, h.api_key);
    outf(out, 0, " v%d (header v%d)  correlation_id=%" PRId32 "  client_id=", h.api_version, hv,
         h.correlation_id);
    put_value(out, (const uint8_t *)h.client_id.ptr, h.client_id.len);
    if (h.tags.count)
        outf(out, 0, "  (%" PRIu32 " unknown header tags)", h.tags.count);
    put_c(out, "\n");
    int err = describe_body(out, &r, h.api_key, h.api_version, true, frame, len);
    return out->err ? out->err : err;
}

int kw_describe_response(struct kw_buf *out, int api_key, int api_version, const uint8_t *frame,
                         size_t len)
{
    struct kw_reader r;
    struct kw_resp_header h;
    int hv = kw_resp_header_version(api_key, api_version);
    kw_reader_init(&r, frame, len);
    put_c(out, "Response ");
    api_label(out, api_key);
    outf(out, 0, " v%d (header v%d)", api_version, hv);
    if (kw_resp_header_decode(&r, hv, &h) != KW_OK) {
        put_c(out, "\n");
        decode_error(out, &r, frame, len);
        return out->err ? out->err : r.err;
    }
    outf(out, 0, "  correlation_id=%" PRId32, h.correlation_id);
    if (h.tags.count)
        outf(out, 0, "  (%" PRIu32 " unknown header tags)", h.tags.count);
    put_c(out, "\n");
    int err = describe_body(out, &r, api_key, api_version, false, frame, len);
    return out->err ? out->err : err;
}
