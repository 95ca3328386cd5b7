/* Legacy message sets: kafka-python's frames, wrappers of each codec, CRC failures, truncation,
 * and conversion to and from record batches. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/crc.h"
#include "lib/msgset.h"
#include "tests/fx.h"

#define MAX_INFLATE (1u << 20)

/* WIRE.md §6, kafka-python 2.0.2: Produce v2 (magic 1) and Produce v1 (magic 0). */
static const char kp_magic1[] = "0000000000000000 0000001f b1dc7349 01 00 000001a2150f3b55"
                                "00000004 6b657931 00000005 68656c6c6f";
static const char kp_magic0[] = "0000000000000000 00000017 38ce7dc9 00 00"
                                "00000004 6b657931 00000005 68656c6c6f";
/* Made with Python's zlib and gzip modules: a magic-1 gzip wrapper at offset 101 around
 * (0, ts 1000, "k0", "v0") and (1, ts 1001, null, "v1"), as a broker stores it at base 100;
 * and a magic-0 gzip wrapper at offset 6 around (5, "a", "x") and (6, "b", "y"). */
static const char gzip_magic1[] =
    "0000000000000065 00000051 62660974 01 01 00000000000003e9 ffffffff 0000003b"
    "1f8b080000000000020363608003a9846bd74318a11ce617408229db0044961940054192126572455be0"
    "aa5efe0702b01a430031ee9bae4a000000";
static const char gzip_magic0[] =
    "0000000000000006 00000043 1ce48bbf 00 01 ffffffff 00000035"
    "1f8b080000000000020363600003562016883c7f331bcc634c0411151029063690dc8a98d9c110b924105109"
    "009eac9fe638000000";

static bool bytes_eq(struct kw_bytes b, const char *s)
{
    if (s == NULL || b.len < 0)
        return s == NULL && b.len < 0;
    return (size_t)b.len == strlen(s) && memcmp(b.ptr, s, (size_t)b.len) == 0;
}

static struct kw_bytes bytes_c(const char *s)
{
    return s ? (struct kw_bytes){ (const uint8_t *)s, (int32_t)strlen(s) } : KW_BYTES_NULL;
}

/* Appends one message, its CRC computed. */
static void put_msg(struct kw_buf *b, int64_t offset, int magic, int attr, int64_t ts,
                    struct kw_bytes key, struct kw_bytes value)
{
    kw_put_i64(b, offset);
    size_t size_at = kw_reserve_i32(b), crc_at = kw_reserve_i32(b);
    kw_put_i8(b, (int8_t)magic);
    kw_put_i8(b, (int8_t)attr);
    if (magic == 1)
        kw_put_i64(b, ts);
    kw_put_bytes(b, key);
    kw_put_bytes(b, value);
    kw_patch_i32(b, size_at, (int32_t)(b->len - size_at - 4));
    kw_patch_u32(b, crc_at, kw_crc32(0, b->data + crc_at + 4, b->len - crc_at - 4));
}

/* Wraps the message set `inner` in a compressed wrapper of codec (an enum kw_codec). */
static void put_wrapper(struct kw_buf *b, int64_t offset, int magic, int codec, int attr_extra,
                        int64_t ts, const struct kw_buf *inner)
{
    struct kw_buf z;
    kw_buf_init(&z);
    CU_ASSERT_EQUAL(kw_compress(codec, -1, inner->data, inner->len, &z), KW_OK);
    put_msg(b, offset, magic, KW_CODEC_WIRE(codec) | attr_extra, ts, KW_BYTES_NULL,
            (struct kw_bytes){ z.data, (int32_t)z.len });
    kw_buf_release(&z);
}

struct seen {
    int n;
    int64_t offset[8], ts[8];
    char key[8][8], value[8][8];
    bool null_key[8];
};

/* Iterates a set; returns the last iterator result (0 at a clean end). */
static int iterate(const uint8_t *p, size_t len, struct seen *s)
{
    struct kw_buf scratch;
    struct kw_msgset_iter it;
    struct kw_record rec;
    kw_buf_init(&scratch);
    memset(s, 0, sizeof(*s));
    int rc = kw_msgset_iter_init(&it, p, len, &scratch, MAX_INFLATE);
    while (rc >= 0 && (rc = kw_msgset_iter_next(&it, &rec)) == 1 && s->n < 8) {
        s->offset[s->n] = rec.offset;
        s->ts[s->n] = rec.timestamp;
        s->null_key[s->n] = rec.key.len < 0;
        if (rec.key.len > 0 && rec.key.len < 8)
            memcpy(s->key[s->n], rec.key.ptr, (size_t)rec.key.len);
        if (rec.value.len > 0 && rec.value.len < 8)
            memcpy(s->value[s->n], rec.value.ptr, (size_t)rec.value.len);
        struct kw_reader r;     /* no headers in legacy messages, and a reader on them is fine */
        struct kw_header_kv h;
        kw_reader_init(&r, rec.headers, rec.headers_len);
        CU_ASSERT(rec.n_headers == 0 && kw_record_header_next(&r, &h) == 0);
        s->n++;
    }
    kw_buf_release(&scratch);
    return rc;
}

static void test_kafka_python_frames_decode_with_their_crcs(void)
{
    struct fx_frame m1 = fx_hex(kp_magic1), m0 = fx_hex(kp_magic0);
    int count = -1, magic = -1;
    CU_ASSERT_EQUAL(kw_msgset_validate(m1.data, m1.len, &count, &magic), KW_OK);
    CU_ASSERT(count == 1 && magic == 1);
    CU_ASSERT_EQUAL(kw_msgset_validate(m0.data, m0.len, &count, &magic), KW_OK);
    CU_ASSERT(count == 1 && magic == 0);
    CU_ASSERT_EQUAL(kw_msgset_validate(m0.data, m0.len, NULL, NULL), KW_OK);
    struct seen s;
    CU_ASSERT_EQUAL(iterate(m1.data, m1.len, &s), 0);
    CU_ASSERT(s.n == 1 && s.offset[0] == 0 && s.ts[0] == 0x1a2150f3b55);
    CU_ASSERT(strcmp(s.key[0], "key1") == 0 && strcmp(s.value[0], "hello") == 0);
    CU_ASSERT_EQUAL(iterate(m0.data, m0.len, &s), 0);
    CU_ASSERT(s.n == 1 && s.offset[0] == 0 && s.ts[0] == -1);
    CU_ASSERT(strcmp(s.key[0], "key1") == 0 && strcmp(s.value[0], "hello") == 0);

    /* our writer makes the same bytes */
    struct kw_buf b;
    kw_buf_init(&b);
    put_msg(&b, 0, 1, 0, 0x1a2150f3b55, bytes_c("key1"), bytes_c("hello"));
    CU_ASSERT(b.len == m1.len && memcmp(b.data, m1.data, m1.len) == 0);
    kw_buf_release(&b);

    /* one set, two magics */
    uint8_t both[43 + 35];
    memcpy(both, m1.data, 43);
    memcpy(both + 43, m0.data, 35);
    CU_ASSERT_EQUAL(kw_msgset_validate(both, sizeof(both), &count, &magic), KW_ERR_CORRUPT);
    fx_free(&m1);
    fx_free(&m0);
}

static void test_gzip_wrappers_from_python_decode_with_reader_offsets(void)
{
    struct fx_frame w1 = fx_hex(gzip_magic1), w0 = fx_hex(gzip_magic0);
    int count, magic;
    struct seen s;
    CU_ASSERT_EQUAL(kw_msgset_validate(w1.data, w1.len, &count, &magic), KW_OK);
    CU_ASSERT(count == 2 && magic == 1);
    CU_ASSERT_EQUAL(iterate(w1.data, w1.len, &s), 0);
    /* relative inner offsets 0, 1 under a wrapper at 101: absolute 100, 101 */
    CU_ASSERT(s.n == 2 && s.offset[0] == 100 && s.offset[1] == 101);
    CU_ASSERT(s.ts[0] == 1000 && s.ts[1] == 1001);
    CU_ASSERT(strcmp(s.key[0], "k0") == 0 && s.null_key[1] && strcmp(s.value[1], "v1") == 0);
    /* a wrapper offset of 0 (librdkafka, some versions): inner offsets as they are */
    memset(w1.data, 0, 8);
    CU_ASSERT_EQUAL(iterate(w1.data, w1.len, &s), 0);
    CU_ASSERT(s.n == 2 && s.offset[0] == 0 && s.offset[1] == 1);

    CU_ASSERT_EQUAL(kw_msgset_validate(w0.data, w0.len, &count, &magic), KW_OK);
    CU_ASSERT(count == 2 && magic == 0);
    CU_ASSERT_EQUAL(iterate(w0.data, w0.len, &s), 0);
    /* magic 0: inner offsets are absolute already */
    CU_ASSERT(s.n == 2 && s.offset[0] == 5 && s.offset[1] == 6 && s.ts[1] == -1);
    CU_ASSERT(strcmp(s.key[1], "b") == 0 && strcmp(s.value[1], "y") == 0);
    fx_free(&w1);
    fx_free(&w0);
}

static void test_wrappers_of_every_legacy_codec_decode(void)
{
    static const struct { int magic, codec, ok; } cases[] = {
        { 1, KW_CODEC_SNAPPY, KW_OK }, { 1, KW_CODEC_SNAPPY_XERIAL, KW_OK },
        { 1, KW_CODEC_LZ4, KW_OK }, { 0, KW_CODEC_LZ4_LEGACY, KW_OK },
        { 0, KW_CODEC_LZ4, KW_OK },         /* a magic-0 reader ignores the checksum */
        { 1, KW_CODEC_LZ4_LEGACY, KW_ERR_CODEC }, { 0, KW_CODEC_GZIP, KW_OK },
        { 1, KW_CODEC_ZSTD, KW_ERR_CODEC }, /* zstd exists only in magic 2 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kw_buf inner, set;
        kw_buf_init(&inner);
        kw_buf_init(&set);
        int m = cases[i].magic;
        put_msg(&inner, 0, m, 0, 10, bytes_c("a"), bytes_c("1"));
        put_msg(&inner, 1, m, 0, 11, bytes_c("b"), bytes_c("2"));
        put_msg(&inner, 2, m, 0, 12, KW_BYTES_NULL, KW_BYTES_NULL);
        put_wrapper(&set, m ? 52 : 2, m, cases[i].codec, 0, 12, &inner);
        int count = 0, magic;
        CU_ASSERT_EQUAL(kw_msgset_validate(set.data, set.len, &count, &magic), cases[i].ok);
        if (cases[i].ok == KW_OK) {
            struct seen s;
            CU_ASSERT(count == 3 && magic == m);
            CU_ASSERT_EQUAL(iterate(set.data, set.len, &s), 0);
            CU_ASSERT(s.n == 3 && s.offset[0] == (m ? 50 : 0) && s.offset[2] == (m ? 52 : 2));
            CU_ASSERT(strcmp(s.value[1], "2") == 0 && s.null_key[2]);
            CU_ASSERT(s.ts[1] == (m ? 11 : -1));
        }
        kw_buf_release(&inner);
        kw_buf_release(&set);
    }
}

static void test_log_append_time_wrappers_lend_their_timestamp(void)
{
    struct kw_buf inner, set;
    kw_buf_init(&inner);
    kw_buf_init(&set);
    put_msg(&inner, 0, 1, 0, 10, bytes_c("a"), bytes_c("1"));
    put_msg(&inner, 1, 1, 0, 11, bytes_c("b"), bytes_c("2"));
    put_wrapper(&set, 1, 1, KW_CODEC_GZIP, 0x08, 777, &inner);
    struct seen s;
    CU_ASSERT_EQUAL(iterate(set.data, set.len, &s), 0);
    CU_ASSERT(s.n == 2 && s.ts[0] == 777 && s.ts[1] == 777);
    kw_buf_release(&inner);
    kw_buf_release(&set);
}

static void test_malformed_wrappers_are_refused(void)
{
    struct kw_buf inner, nested, set;
    kw_buf_init(&inner);
    kw_buf_init(&nested);
    kw_buf_init(&set);
    int count, magic;
    put_msg(&inner, 0, 1, 0, 10, bytes_c("a"), bytes_c("1"));
    put_wrapper(&nested, 0, 1, KW_CODEC_GZIP, 0, 10, &inner);
    put_wrapper(&set, 0, 1, KW_CODEC_GZIP, 0, 10, &nested);
    CU_ASSERT_EQUAL(kw_msgset_validate(set.data, set.len, &count, &magic), KW_ERR_CORRUPT);
    kw_buf_reset(&set);
    put_msg(&set, 0, 1, KW_CODEC_GZIP, 10, KW_BYTES_NULL, KW_BYTES_NULL);  /* no value */
    CU_ASSERT_EQUAL(kw_msgset_validate(set.data, set.len, &count, &magic), KW_ERR_CORRUPT);
    kw_buf_reset(&set);
    put_msg(&set, 0, 1, KW_CODEC_GZIP, 10, KW_BYTES_NULL, bytes_c("not gzip"));
    CU_ASSERT_EQUAL(kw_msgset_validate(set.data, set.len, &count, &magic), KW_ERR_CODEC);
    kw_buf_reset(&set);
    kw_buf_reset(&inner);
    put_msg(&inner, 0, 0, 0, 0, bytes_c("a"), bytes_c("1"));   /* magic 0 inside magic 1 */
    put_wrapper(&set, 0, 1, KW_CODEC_GZIP, 0, 10, &inner);
    CU_ASSERT_EQUAL(kw_msgset_validate(set.data, set.len, &count, &magic), KW_ERR_CORRUPT);
    kw_buf_reset(&set);
    put_wrapper(&set, 0, 1, KW_CODEC_GZIP, 0, 10, &(struct kw_buf){ 0 });  /* nothing inside */
    CU_ASSERT_EQUAL(kw_msgset_validate(set.data, set.len, &count, &magic), KW_ERR_CORRUPT);
    kw_buf_reset(&set);
    kw_buf_reset(&inner);
    put_msg(&inner, 0, 1, 0, 10, bytes_c("a"), bytes_c("1"));
    inner.len -= 1;                         /* a partial inner message is corruption */
    put_wrapper(&set, 0, 1, KW_CODEC_GZIP, 0, 10, &inner);
    CU_ASSERT_EQUAL(kw_msgset_validate(set.data, set.len, &count, &magic), KW_ERR_CORRUPT);
    kw_buf_release(&inner);
    kw_buf_release(&nested);
    kw_buf_release(&set);
}

static void test_a_flipped_byte_fails_the_crc_and_offsets_are_outside_it(void)
{
    static const char *const frames[] = { kp_magic1, kp_magic0, gzip_magic1, gzip_magic0 };
    for (size_t f = 0; f < 4; f++) {
        struct fx_frame m = fx_hex(frames[f]);
        unsigned wrong = 0, right = 0;
        for (size_t i = 12; i < m.len; i++) {   /* the CRC and everything it covers */
            m.data[i] ^= 0x01;      /* bit 0: the magic stays 0 or 1 */
            wrong += kw_msgset_validate(m.data, m.len, NULL, NULL) != KW_ERR_CRC;
            m.data[i] ^= 0x01;
        }
        for (size_t i = 0; i < 8; i++) {
            m.data[i] ^= 0x40;
            right += kw_msgset_validate(m.data, m.len, NULL, NULL) == KW_OK;
            m.data[i] ^= 0x40;
        }
        CU_ASSERT_EQUAL(wrong, 0);
        CU_ASSERT_EQUAL(right, 8);
        fx_free(&m);
    }
}

static void test_every_truncation_fails_and_a_partial_tail_is_short(void)
{
    static const char *const frames[] = { kp_magic1, kp_magic0, gzip_magic1, gzip_magic0 };
    for (size_t f = 0; f < 4; f++) {
        struct fx_frame m = fx_hex(frames[f]);
        unsigned passed = 0;
        for (size_t k = 1; k < m.len; k++) {
            uint8_t *copy = malloc(k);
            CU_ASSERT_FATAL(copy != NULL);
            memcpy(copy, m.data, k);
            passed += kw_msgset_validate(copy, k, NULL, NULL) != KW_ERR_SHORT;
            free(copy);
        }
        CU_ASSERT_EQUAL(passed, 0);
        fx_free(&m);
    }
    /* a whole message, then part of one: the first is read, then KW_ERR_SHORT */
    struct fx_frame m = fx_hex(kp_magic1);
    uint8_t set[43 + 20];
    memcpy(set, m.data, 43);
    memcpy(set + 43, m.data, 20);
    struct seen s;
    CU_ASSERT_EQUAL(iterate(set, sizeof(set), &s), KW_ERR_SHORT);
    CU_ASSERT_EQUAL(s.n, 1);
    int count = -1, magic = -1;
    CU_ASSERT_EQUAL(kw_msgset_validate(NULL, 0, &count, &magic), KW_OK);
    CU_ASSERT(count == 0 && magic == -1);
    fx_free(&m);
}

/* A magic-2 batch of 5 records at offset 500, compressed with gzip, with headers. */
static void make_batch(struct kw_buf *out, int16_t attrs)
{
    struct kw_batch_builder bb;
    struct kw_batch_hdr proto = { .base_offset = 500, .producer_id = -1, .producer_epoch = -1,
                                  .base_sequence = -1, .attributes = attrs };
    struct kw_header_kv h = { kw_str_c("h"), bytes_c("v") };
    static const char *const keys[] = { "k0", NULL, "k2", "k3", "" };
    static const char *const values[] = { "v0", "v1", NULL, "", "v4" };
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, out, &proto, KW_CODEC_GZIP, -1), KW_OK);
    for (int i = 0; i < 5; i++)
        kw_batch_builder_add(&bb, 9000 + i, bytes_c(keys[i]), bytes_c(values[i]), &h, i & 1);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_OK);
}

static void test_down_and_up_conversion_keep_keys_values_and_offsets(void)
{
    static const char *const keys[] = { "k0", NULL, "k2", "k3", "" };
    static const char *const values[] = { "v0", "v1", NULL, "", "v4" };
    for (int magic = 0; magic <= 1; magic++) {
        struct kw_buf batch, set, back, scratch;
        kw_buf_init(&batch);
        kw_buf_init(&set);
        kw_buf_init(&back);
        kw_buf_init(&scratch);
        make_batch(&batch, 0);
        kw_put_raw(&set, "pre", 3);
        CU_ASSERT_EQUAL(kw_msgset_from_batch(batch.data, batch.len, magic, &set, &scratch),
                        KW_OK);
        int count, m;
        CU_ASSERT_EQUAL(kw_msgset_validate(set.data + 3, set.len - 3, &count, &m), KW_OK);
        CU_ASSERT(count == 5 && m == magic);
        CU_ASSERT_EQUAL(kw_msgset_to_batch(set.data + 3, set.len - 3, &back), KW_OK);
        CU_ASSERT_EQUAL(kw_batch_validate(back.data, back.len, NULL, NULL, 0), KW_OK);

        struct kw_msgset_iter mi;
        struct kw_record_iter bi;
        struct kw_record mr, br;
        CU_ASSERT_EQUAL(kw_msgset_iter_init(&mi, set.data + 3, set.len - 3, NULL, 0), KW_OK);
        CU_ASSERT_EQUAL(kw_record_iter_init(&bi, back.data, back.len, NULL), KW_OK);
        for (int i = 0; i < 5; i++) {
            CU_ASSERT_EQUAL(kw_msgset_iter_next(&mi, &mr), 1);
            CU_ASSERT_EQUAL(kw_record_iter_next(&bi, &br), 1);
            CU_ASSERT(mr.offset == 500 + i && br.offset == 500 + i);
            CU_ASSERT(bytes_eq(mr.key, keys[i]) && bytes_eq(br.key, keys[i]));
            CU_ASSERT(bytes_eq(mr.value, values[i]) && bytes_eq(br.value, values[i]));
            CU_ASSERT_EQUAL(mr.timestamp, magic ? 9000 + i : -1);
            CU_ASSERT_EQUAL(br.timestamp, magic ? 9000 + i : -1);
            CU_ASSERT_EQUAL(br.n_headers, 0);
        }
        CU_ASSERT_EQUAL(kw_msgset_iter_next(&mi, &mr), 0);
        CU_ASSERT_EQUAL(kw_record_iter_next(&bi, &br), 0);
        kw_buf_release(&batch);
        kw_buf_release(&set);
        kw_buf_release(&back);
        kw_buf_release(&scratch);
    }
}

static void test_conversion_edge_cases(void)
{
    struct kw_buf batch, out, scratch;
    kw_buf_init(&batch);
    kw_buf_init(&out);
    kw_buf_init(&scratch);
    make_batch(&batch, KW_BATCH_ATTR_CONTROL);
    CU_ASSERT_EQUAL(kw_msgset_from_batch(batch.data, batch.len, 1, &out, &scratch), KW_OK);
    CU_ASSERT_EQUAL(out.len, 0);            /* old readers get no transaction markers */
    kw_buf_reset(&batch);
    make_batch(&batch, 0);
    CU_ASSERT_EQUAL(kw_batch_set_log_append_time(batch.data, batch.len, 4242), KW_OK);
    CU_ASSERT_EQUAL(kw_msgset_from_batch(batch.data, batch.len, 2, &out, &scratch),
                    KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_msgset_from_batch(batch.data, batch.len, 1, &out, &scratch), KW_OK);
    struct seen s;
    CU_ASSERT_EQUAL(iterate(out.data, out.len, &s), 0);
    CU_ASSERT(s.n == 5 && s.ts[0] == 4242 && s.ts[4] == 4242);
    CU_ASSERT_EQUAL(out.data[17], 0x08);    /* the message says LogAppendTime too */
    size_t len = out.len;
    CU_ASSERT_EQUAL(kw_msgset_from_batch(batch.data, batch.len - 1, 1, &out, &scratch),
                    KW_ERR_SHORT);
    CU_ASSERT_EQUAL(out.len, len);
    kw_buf_reset(&out);
    CU_ASSERT_EQUAL(kw_msgset_to_batch(NULL, 0, &out), KW_ERR_INVALID);
    CU_ASSERT_EQUAL(out.len, 0);
    struct fx_frame m = fx_hex(kp_magic1);
    m.data[20] ^= 1;
    CU_ASSERT_EQUAL(kw_msgset_to_batch(m.data, m.len, &out), KW_ERR_CRC);
    CU_ASSERT_EQUAL(out.len, 0);
    fx_free(&m);
    kw_buf_release(&batch);
    kw_buf_release(&out);
    kw_buf_release(&scratch);
}

CU_TestInfo kwt_msgset_tests[] = {
    { "kafka-python frames decode with their crcs",
      test_kafka_python_frames_decode_with_their_crcs },
    { "gzip wrappers from Python decode with reader offsets",
      test_gzip_wrappers_from_python_decode_with_reader_offsets },
    { "wrappers of every legacy codec decode", test_wrappers_of_every_legacy_codec_decode },
    { "log append time wrappers lend their timestamp",
      test_log_append_time_wrappers_lend_their_timestamp },
    { "malformed wrappers are refused", test_malformed_wrappers_are_refused },
    { "a flipped byte fails the crc and offsets are outside it",
      test_a_flipped_byte_fails_the_crc_and_offsets_are_outside_it },
    { "every truncation fails and a partial tail is short",
      test_every_truncation_fails_and_a_partial_tail_is_short },
    { "down and up conversion keep keys, values and offsets",
      test_down_and_up_conversion_keep_keys_values_and_offsets },
    { "conversion edge cases", test_conversion_edge_cases },
    CU_TEST_INFO_NULL,
};
