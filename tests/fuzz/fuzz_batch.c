/* libFuzzer target: the input as a RECORDS blob (batches or legacy messages, walked with
 * kw_batch_peek), as a message set, and as compressed bytes for each codec. Every byte a
 * parser hands out is read, so ASan sees any pointer past the input. */
#include <stddef.h>
#include <stdint.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/msgset.h"

#define MAX_INFLATE (1u << 20)

static volatile uint8_t sink;

static void touch(const uint8_t *p, int32_t len)
{
    uint8_t x = 0;
    for (int32_t i = 0; i < len; i++)
        x ^= p[i];
    sink ^= x;
}

static void touch_record(const struct kw_record *rec)
{
    touch(rec->key.ptr, rec->key.len);
    touch(rec->value.ptr, rec->value.len);
    struct kw_reader r;
    struct kw_header_kv h;
    kw_reader_init(&r, rec->headers, rec->headers_len);
    int n = 0;
    while (kw_record_header_next(&r, &h) == 1) {
        touch((const uint8_t *)h.key.ptr, h.key.len);
        touch(h.value.ptr, h.value.len);
        n++;
    }
    if (r.err == KW_OK && n != rec->n_headers)
        __builtin_trap();       /* the iterator vouched for the headers it counted */
}

static void walk_msgset(const uint8_t *p, size_t len, struct kw_buf *scratch)
{
    int count = 0, magic = 0;
    int valid = kw_msgset_validate(p, len, &count, &magic);
    struct kw_msgset_iter it;
    struct kw_record rec;
    int n = 0, rc = kw_msgset_iter_init(&it, p, len, scratch, MAX_INFLATE);
    while (rc >= 0 && (rc = kw_msgset_iter_next(&it, &rec)) == 1) {
        touch_record(&rec);
        n++;
    }
    if (valid == KW_OK && (rc != 0 || n != count))
        __builtin_trap();       /* validation and iteration must agree */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    size_t off = 0;
    while (off < size) {
        struct kw_batch_hdr h;
        int n = kw_batch_peek(data + off, size - off, &h);
        if (n < 0)
            break;
        const uint8_t *p = data + off;
        if (h.magic == KW_BATCH_MAGIC) {
            char why[128];
            int valid = kw_batch_validate_why(p, (size_t)n, &h, &scratch, MAX_INFLATE, why,
                                              sizeof(why));
            struct kw_record_iter it;
            struct kw_record rec;
            int count = 0, rc = kw_record_iter_init_max(&it, p, (size_t)n, &scratch, MAX_INFLATE);
            while (rc >= 0 && (rc = kw_record_iter_next(&it, &rec)) == 1) {
                touch_record(&rec);
                count++;
            }
            if (valid == KW_OK && (rc != 0 || count != h.records_count))
                __builtin_trap();
        } else {
            walk_msgset(p, (size_t)n, &scratch);
        }
        off += (size_t)n;
    }
    walk_msgset(data, size, &scratch);
    static const int codecs[] = { KW_CODEC_GZIP, KW_CODEC_SNAPPY, KW_CODEC_LZ4,
                                  KW_CODEC_LZ4_LEGACY, KW_CODEC_ZSTD };
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
        kw_buf_reset(&scratch);
        if (kw_decompress(codecs[i], data, size, &scratch, MAX_INFLATE) == KW_OK)
            touch(scratch.data, (int32_t)scratch.len);
    }
    kw_buf_release(&scratch);
    return 0;
}
