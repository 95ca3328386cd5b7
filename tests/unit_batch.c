/* Record batch v2: builder -> validate -> iterate round trips, librdkafka's bytes, stamping, and
 * what hostile batches (flipped, truncated, inconsistent) get back. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/crc.h"
#include "tests/fx.h"

#define MAX_INFLATE (64u << 20)

/* WIRE.md §5.4: librdkafka 2.0.2 (kcat), key "key1", value "hello", not idempotent. */
static const char librdkafka_batch[] =
    "0000000000000000 00000041 00000000 02 e7a68a04"    /* offset, length, epoch, magic, crc */
    "0000 00000000 000001a2150dc028 000001a2150dc028"   /* attributes, lastOffsetDelta, ts */
    "ffffffffffffffff ffff ffffffff 00000001"           /* no producer id, 1 record */
    "1e 00 00 00 08 6b657931 0a 68656c6c6f 00";         /* the record */

static const int codecs[] = { KW_CODEC_NONE, KW_CODEC_GZIP, KW_CODEC_SNAPPY,
                              KW_CODEC_SNAPPY_XERIAL, KW_CODEC_LZ4, KW_CODEC_ZSTD };
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

static struct kw_bytes bytes_c(const char *s)
{
    return s ? (struct kw_bytes){ (const uint8_t *)s, (int32_t)strlen(s) } : KW_BYTES_NULL;
}

static bool bytes_eq(struct kw_bytes b, const char *s)
{
    if (s == NULL || b.len < 0)
        return s == NULL && b.len < 0;
    return (size_t)b.len == strlen(s) && memcmp(b.ptr, s, (size_t)b.len) == 0;
}

static void fix_crc(uint8_t *p, size_t len)
{
    kw_wbe32(p + 17, kw_crc32c(0, p + KW_BATCH_CRC_FROM, len - KW_BATCH_CRC_FROM));
}

static int validate(const uint8_t *p, size_t len)
{
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    int rc = kw_batch_validate(p, len, NULL, &scratch, MAX_INFLATE);
    kw_buf_release(&scratch);
    return rc;
}

/* Iterates to the end; returns the records seen, or the error. */
static int count_records(const uint8_t *p, size_t len)
{
    struct kw_buf scratch;
    struct kw_record_iter it;
    struct kw_record rec;
    kw_buf_init(&scratch);
    int n = 0, rc = kw_record_iter_init(&it, p, len, &scratch);
    while (rc >= 0 && (rc = kw_record_iter_next(&it, &rec)) == 1)
        n++;
    kw_buf_release(&scratch);
    return rc < 0 ? rc : n;
}

/* Record i of the standard test batch: key "k<i>" (null every 7th), value "value <i>" (null
 * every 11th, empty every 13th), i % 4 headers "h<j>" = "v<j>" (the last one null). */
static void record_fields(int i, char *key, char *value, struct kw_header_kv *h, int *nh,
                          char names[][8])
{
    sprintf(key, "k%d", i);
    sprintf(value, "value %d", i);
    *nh = i % 4;
    for (int j = 0; j < *nh; j++) {
        sprintf(names[j], "h%d", j);
        sprintf(names[4 + j], "v%d", j);
        h[j].key = kw_str_c(names[j]);
        h[j].value = j == *nh - 1 && j > 0 ? KW_BYTES_NULL : bytes_c(names[4 + j]);
    }
}

static int build(struct kw_buf *out, int codec, int n, const struct kw_batch_hdr *proto)
{
    struct kw_batch_builder bb;
    int rc = kw_batch_builder_begin(&bb, out, proto, codec, -1);
    for (int i = 0; i < n && rc == KW_OK; i++) {
        char key[16], value[32], names[8][8];
        struct kw_header_kv h[4];
        int nh;
        record_fields(i, key, value, h, &nh, names);
        /* timestamps wander around the first, so deltas go negative and max is not the last */
        int64_t ts = 1700000000000 + (i % 5 == 3 ? -i : i * 2);
        rc = kw_batch_builder_add(&bb, ts, i % 7 == 6 ? KW_BYTES_NULL : bytes_c(key),
                                  i % 11 == 10 ? KW_BYTES_NULL
                                  : i % 13 == 12 ? (struct kw_bytes){ (const uint8_t *)"", 0 }
                                  : bytes_c(value), h, nh);
    }
    int frc = kw_batch_builder_finish(&bb);
    return rc ? rc : frc;
}

/* Iterates a batch from build() and checks every field of every record. */
static bool check_records(const uint8_t *p, size_t len, int n, int64_t base_offset)
{
    struct kw_buf scratch;
    struct kw_record_iter it;
    struct kw_record rec;
    kw_buf_init(&scratch);
    bool ok = kw_record_iter_init(&it, p, len, &scratch) == KW_OK;
    int64_t max_ts = INT64_MIN;
    for (int i = 0; ok && i < n; i++) {
        char key[16], value[32], names[8][8];
        struct kw_header_kv h[4], got;
        int nh;
        record_fields(i, key, value, h, &nh, names);
        int64_t ts = 1700000000000 + (i % 5 == 3 ? -i : i * 2);
        max_ts = ts > max_ts ? ts : max_ts;
        ok = kw_record_iter_next(&it, &rec) == 1 && rec.offset == base_offset + i &&
             rec.timestamp == ts && rec.attributes == 0 && rec.n_headers == nh &&
             bytes_eq(rec.key, i % 7 == 6 ? NULL : key) &&
             bytes_eq(rec.value, i % 11 == 10 ? NULL : i % 13 == 12 ? "" : value);
        struct kw_reader r;
        kw_reader_init(&r, rec.headers, rec.headers_len);
        for (int j = 0; ok && j < nh; j++)
            ok = kw_record_header_next(&r, &got) == 1 && kw_str_eq(got.key, names[j]) &&
                 bytes_eq(got.value, h[j].value.len < 0 ? NULL : names[4 + j]);
        ok = ok && kw_record_header_next(&r, &got) == 0;
    }
    ok = ok && kw_record_iter_next(&it, &rec) == 0 && kw_record_iter_next(&it, &rec) == 0;
    ok = ok && it.hdr.max_timestamp == max_ts && it.hdr.base_timestamp == 1700000000000;
    kw_buf_release(&scratch);
    return ok;
}

static void test_librdkafka_batch_validates_and_iterates(void)
{
    struct fx_frame f = fx_hex(librdkafka_batch);
    CU_ASSERT_EQUAL_FATAL(f.len, 77);
    struct kw_batch_hdr h;
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    CU_ASSERT_EQUAL(kw_batch_peek(f.data, f.len, &h), 77);
    CU_ASSERT_EQUAL(kw_batch_validate(f.data, f.len, &h, &scratch, MAX_INFLATE), KW_OK);
    CU_ASSERT(h.crc == 0xe7a68a04u && h.magic == 2 && h.batch_length == 65);
    CU_ASSERT(h.producer_id == -1 && h.producer_epoch == -1 && h.base_sequence == -1);
    CU_ASSERT(h.records_count == 1 && h.last_offset_delta == 0 && h.attributes == 0);
    CU_ASSERT(h.base_timestamp == 0x1a2150dc028 && h.max_timestamp == 0x1a2150dc028);

    struct kw_record_iter it;
    struct kw_record rec;
    CU_ASSERT_EQUAL(kw_record_iter_init(&it, f.data, f.len, NULL), KW_OK);
    CU_ASSERT_EQUAL(kw_record_iter_next(&it, &rec), 1);
    CU_ASSERT(rec.offset == 0 && rec.timestamp == 0x1a2150dc028);
    CU_ASSERT(bytes_eq(rec.key, "key1") && bytes_eq(rec.value, "hello") && rec.n_headers == 0);
    CU_ASSERT_EQUAL(kw_record_iter_next(&it, &rec), 0);

    /* the builder, given what librdkafka put in the header, writes the same bytes */
    struct kw_buf out;
    kw_buf_init(&out);
    struct kw_batch_hdr proto = { .partition_leader_epoch = 0, .producer_id = -1,
                                  .producer_epoch = -1, .base_sequence = -1 };
    struct kw_batch_builder bb;
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, &out, &proto, KW_CODEC_NONE, -1), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_builder_add(&bb, 0x1a2150dc028, bytes_c("key1"), bytes_c("hello"),
                                         NULL, 0), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_OK);
    CU_ASSERT(out.len == f.len && memcmp(out.data, f.data, f.len) == 0);
    CU_ASSERT_EQUAL(kw_record_size(0, 0, bytes_c("key1"), bytes_c("hello"), NULL, 0), 16);
    kw_buf_release(&out);
    kw_buf_release(&scratch);
    fx_free(&f);
}

static void test_kafkajs_producer_fields_are_accepted_and_bad_sequences_are_not(void)
{
    /* kafkajs 2.2.4: producerId -1 with epoch 0 and sequence 0 (Java writes -1/-1) */
    struct kw_batch_hdr proto = { .partition_leader_epoch = 0, .producer_id = -1,
                                  .producer_epoch = 0, .base_sequence = 0 };
    struct kw_buf out;
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 3, &proto), KW_OK);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_OK);
    /* idempotent with a sequence; then an idempotent batch without one */
    kw_buf_reset(&out);
    proto.producer_id = 1000;
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 3, &proto), KW_OK);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_OK);
    kw_buf_reset(&out);
    proto.base_sequence = -1;
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 3, &proto), KW_OK);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_ERR_CORRUPT);
    kw_buf_release(&out);
}

static void test_every_codec_round_trips_headers_null_keys_and_empty_values(void)
{
    static const int ns[] = { 1, 2, 14, 100 };
    for (size_t c = 0; c < N_CODECS; c++)
        for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
            struct kw_buf out;
            kw_buf_init(&out);
            kw_put_raw(&out, "xyz", 3);     /* the batch is appended after what is there */
            struct kw_batch_hdr proto = { .base_offset = 42, .partition_leader_epoch = 7,
                                          .producer_id = 9, .producer_epoch = 2,
                                          .base_sequence = 17,
                                          .attributes = KW_BATCH_ATTR_TRANSACTIONAL | 7 };
            CU_ASSERT_EQUAL(build(&out, codecs[c], ns[k], &proto), KW_OK);
            const uint8_t *p = out.data + 3;
            size_t len = out.len - 3;
            struct kw_batch_hdr h;
            struct kw_buf scratch;
            kw_buf_init(&scratch);
            char why[128] = "";
            CU_ASSERT_EQUAL(kw_batch_validate_why(p, len, &h, &scratch, MAX_INFLATE, why,
                                                  sizeof(why)), KW_OK);
            CU_ASSERT_STRING_EQUAL(why, "");
            CU_ASSERT_EQUAL(kw_batch_codec(h.attributes), KW_CODEC_WIRE(codecs[c]));
            CU_ASSERT_EQUAL(h.attributes & ~7, KW_BATCH_ATTR_TRANSACTIONAL);
            CU_ASSERT(h.base_offset == 42 && h.partition_leader_epoch == 7 &&
                      h.producer_id == 9 && h.producer_epoch == 2 && h.base_sequence == 17);
            CU_ASSERT(h.records_count == ns[k] && h.last_offset_delta == ns[k] - 1);
            CU_ASSERT(check_records(p, len, ns[k], 42));
            kw_buf_release(&scratch);
            kw_buf_release(&out);
        }
}

static void test_ten_thousand_records_round_trip_with_each_codec(void)
{
    for (size_t c = 0; c < N_CODECS; c++) {
        struct kw_buf out;
        kw_buf_init(&out);
        CU_ASSERT_EQUAL(build(&out, codecs[c], 10000, NULL), KW_OK);
        CU_ASSERT_EQUAL(validate(out.data, out.len), KW_OK);
        CU_ASSERT(check_records(out.data, out.len, 10000, 0));
        if (codecs[c] != KW_CODEC_NONE)
            CU_ASSERT(out.len < 200000);    /* the records went through the codec */
        kw_buf_release(&out);
    }
}

static void test_xerial_snappy_batches_are_what_the_java_client_writes(void)
{
    struct kw_buf out;
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_SNAPPY_XERIAL, 5, NULL), KW_OK);
    CU_ASSERT(out.len > 69 && memcmp(out.data + 61, "\x82SNAPPY", 8) == 0);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_OK);
    kw_buf_release(&out);
}

static void test_every_truncation_fails(void)
{
    for (size_t c = 0; c < N_CODECS; c++) {
        struct kw_buf out;
        kw_buf_init(&out);
        CU_ASSERT_EQUAL(build(&out, codecs[c], 5, NULL), KW_OK);
        unsigned passed = 0;
        for (size_t k = 0; k < out.len; k++) {
            uint8_t *copy = malloc(k ? k : 1);  /* exactly k bytes: ASan sees any over-read */
            CU_ASSERT_FATAL(copy != NULL);
            memcpy(copy, out.data, k);
            passed += validate(copy, k) >= 0;
            passed += count_records(copy, k) >= 0;
            passed += kw_batch_peek(copy, k, NULL) >= 0;
            free(copy);
        }
        CU_ASSERT_EQUAL(passed, 0);
        kw_put_i8(&out, 0);
        CU_ASSERT_EQUAL(validate(out.data, out.len), KW_ERR_TRAILING);
        kw_buf_release(&out);
    }
}

static void test_a_flipped_byte_after_the_crc_field_fails_the_crc(void)
{
    for (size_t c = 0; c < N_CODECS; c++) {
        struct kw_buf out;
        kw_buf_init(&out);
        CU_ASSERT_EQUAL(build(&out, codecs[c], 3, NULL), KW_OK);
        unsigned wrong = 0;
        for (size_t i = 17; i < out.len; i++) {
            out.data[i] ^= 0x10;
            wrong += validate(out.data, out.len) != KW_ERR_CRC;
            out.data[i] ^= 0x10;
        }
        CU_ASSERT_EQUAL(wrong, 0);
        CU_ASSERT_EQUAL(validate(out.data, out.len), KW_OK);
        kw_buf_release(&out);
    }
}

static void test_stamped_fields_stay_outside_the_crc(void)
{
    struct kw_buf out;
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_GZIP, 20, NULL), KW_OK);
    for (size_t i = 0; i < 16; i++) {       /* base offset, batch length, leader epoch */
        if (i >= 8 && i < 12)
            continue;
        out.data[i] ^= 0xa5;
        CU_ASSERT_EQUAL(validate(out.data, out.len), KW_OK);
        out.data[i] ^= 0xa5;
    }
    kw_batch_set_base_offset(out.data, 1000);
    kw_batch_set_leader_epoch(out.data, 12);
    struct kw_batch_hdr h;
    CU_ASSERT_EQUAL(kw_batch_peek(out.data, out.len, &h), (int)out.len);
    CU_ASSERT(h.base_offset == 1000 && h.partition_leader_epoch == 12);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_OK);
    CU_ASSERT(check_records(out.data, out.len, 20, 1000));
    kw_buf_release(&out);
}

static void test_log_append_time_is_stamped_with_a_valid_crc(void)
{
    struct kw_buf out, scratch;
    kw_buf_init(&out);
    kw_buf_init(&scratch);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_LZ4, 4, NULL), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_set_log_append_time(out.data, out.len, 1234567), KW_OK);
    struct kw_batch_hdr h;
    CU_ASSERT_EQUAL(kw_batch_validate(out.data, out.len, &h, &scratch, MAX_INFLATE), KW_OK);
    CU_ASSERT(h.max_timestamp == 1234567 && (h.attributes & KW_BATCH_ATTR_LOG_APPEND_TIME));
    CU_ASSERT_EQUAL(kw_batch_codec(h.attributes), KW_CODEC_LZ4);
    struct kw_record_iter it;
    struct kw_record rec;
    int n = 0;
    CU_ASSERT_EQUAL(kw_record_iter_init(&it, out.data, out.len, &scratch), KW_OK);
    while (kw_record_iter_next(&it, &rec) == 1)
        n += rec.timestamp == 1234567;
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(kw_batch_set_log_append_time(out.data, out.len - 1, 1), KW_ERR_SHORT);
    kw_buf_release(&out);
    kw_buf_release(&scratch);
}

static void test_inconsistent_counts_and_lengths_are_corrupt(void)
{
    struct kw_buf out, scratch;
    kw_buf_init(&out);
    kw_buf_init(&scratch);
    char why[128];
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 3, NULL), KW_OK);
    uint8_t *p = out.data;
    size_t len = out.len;

    kw_wbe32(p + 23, 3);                    /* lastOffsetDelta 3 with 3 records */
    fix_crc(p, len);
    CU_ASSERT_EQUAL(kw_batch_validate_why(p, len, NULL, &scratch, MAX_INFLATE, why, sizeof(why)),
                    KW_ERR_CORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "lastOffsetDelta 3"));
    kw_wbe32(p + 23, 2);

    kw_wbe32(p + 57, 1000000000);           /* a billion records in a few bytes */
    kw_wbe32(p + 23, 999999999);
    fix_crc(p, len);
    CU_ASSERT_EQUAL(validate(p, len), KW_ERR_CORRUPT);
    CU_ASSERT_EQUAL(count_records(p, len), KW_ERR_CORRUPT);
    kw_wbe32(p + 57, 3);
    kw_wbe32(p + 23, 2);

    p[61] = 0x7e;                           /* the first record claims 63 bytes: past the end */
    fix_crc(p, len);
    CU_ASSERT_EQUAL(validate(p, len), KW_ERR_CORRUPT);
    CU_ASSERT_EQUAL(count_records(p, len), KW_ERR_CORRUPT);
    kw_buf_reset(&out);

    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 1, NULL), KW_OK);
    p = out.data;
    len = out.len;
    CU_ASSERT_EQUAL(p[61], 2 * (len - 62));      /* one record: its length, then its body */
    p[61] -= 2;                             /* a length one short: no room for the headers count */
    fix_crc(p, len);
    CU_ASSERT_EQUAL(validate(p, len), KW_ERR_CORRUPT);
    p[61] += 2;
    p[64] = 2;                              /* offsetDelta 1 for the first record */
    fix_crc(p, len);
    CU_ASSERT_EQUAL(kw_batch_validate_why(p, len, NULL, &scratch, MAX_INFLATE, why, sizeof(why)),
                    KW_ERR_CORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "offsetDelta 1"));
    CU_ASSERT_EQUAL(count_records(p, len), 1);   /* compacted batches have gaps: iteration copes */
    p[64] = 0;
    p[65] = 0x03;                           /* key length -2 */
    fix_crc(p, len);
    CU_ASSERT_EQUAL(validate(p, len), KW_ERR_CORRUPT);
    CU_ASSERT_EQUAL(count_records(p, len), KW_ERR_CORRUPT);
    p[65] = 0xff;                           /* a varint running on past five bytes */
    memset(p + 66, 0xff, len - 66);
    fix_crc(p, len);
    CU_ASSERT(validate(p, len) < 0);
    kw_buf_reset(&out);

    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 1, NULL), KW_OK);
    kw_wbe16(out.data + 21, 5);             /* codec 5 */
    fix_crc(out.data, out.len);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_ERR_CODEC);
    kw_buf_release(&out);
    kw_buf_release(&scratch);
}

static void test_hostile_headers_fail_without_overreading(void)
{
    static const uint8_t neg_key[] = { 0x01, 0x00 };        /* key length -1 */
    static const uint8_t long_key[] = { 0x0a, 'a', 'b' };   /* key of 5, 2 bytes there */
    static const uint8_t long_val[] = { 0x02, 'k', 0x08 };  /* value of 4, none there */
    static const uint8_t ok[] = { 0x02, 'k', 0x01, 0x00, 0x00 };   /* k=null, ""="" */
    struct kw_reader r;
    struct kw_header_kv h;
    kw_reader_init(&r, neg_key, sizeof(neg_key));
    CU_ASSERT_EQUAL(kw_record_header_next(&r, &h), KW_ERR_CORRUPT);
    CU_ASSERT_EQUAL(kw_record_header_next(&r, &h), KW_ERR_CORRUPT);     /* sticky */
    kw_reader_init(&r, long_key, sizeof(long_key));
    CU_ASSERT(kw_record_header_next(&r, &h) < 0);
    kw_reader_init(&r, long_val, sizeof(long_val));
    CU_ASSERT(kw_record_header_next(&r, &h) < 0);
    kw_reader_init(&r, ok, sizeof(ok));
    CU_ASSERT_EQUAL(kw_record_header_next(&r, &h), 1);
    CU_ASSERT(kw_str_eq(h.key, "k") && h.value.len == -1);
    CU_ASSERT_EQUAL(kw_record_header_next(&r, &h), 1);
    CU_ASSERT(h.key.len == 0 && h.value.len == 0);
    CU_ASSERT_EQUAL(kw_record_header_next(&r, &h), 0);
}

static void test_compressed_batches_respect_the_inflate_limit(void)
{
    struct kw_buf out, scratch;
    kw_buf_init(&out);
    kw_buf_init(&scratch);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_ZSTD, 1000, NULL), KW_OK);
    size_t plain = 0;
    for (int i = 0; i < 1000; i++) {    /* what the records take uncompressed */
        char key[16], value[32], names[8][8];
        struct kw_header_kv h[4];
        int nh;
        record_fields(i, key, value, h, &nh, names);
        int64_t ts = 1700000000000 + (i % 5 == 3 ? -i : i * 2);
        plain += kw_record_size(ts - 1700000000000, i, i % 7 == 6 ? KW_BYTES_NULL : bytes_c(key),
                                i % 11 == 10 ? KW_BYTES_NULL
                                : i % 13 == 12 ? (struct kw_bytes){ (const uint8_t *)"", 0 }
                                : bytes_c(value), h, nh);
    }
    CU_ASSERT_EQUAL(kw_batch_validate(out.data, out.len, NULL, &scratch, plain), KW_OK);
    CU_ASSERT_EQUAL(scratch.len, plain);    /* kw_record_size is exact */
    CU_ASSERT_EQUAL(kw_batch_validate(out.data, out.len, NULL, &scratch, plain - 1),
                    KW_ERR_RANGE);
    CU_ASSERT_EQUAL(kw_batch_validate(out.data, out.len, NULL, NULL, plain), KW_ERR_INVALID);
    /* a claimed count beyond what the limit allows fails before inflating anything */
    kw_wbe32(out.data + 57, 1000000000);
    kw_wbe32(out.data + 23, 999999999);
    fix_crc(out.data, out.len);
    kw_buf_release(&scratch);
    kw_buf_init(&scratch);
    CU_ASSERT_EQUAL(kw_batch_validate(out.data, out.len, NULL, &scratch, MAX_INFLATE),
                    KW_ERR_RANGE);
    CU_ASSERT_EQUAL(scratch.cap, 0);
    kw_buf_release(&out);
    kw_buf_release(&scratch);
}

static void test_crc_mismatch_says_both_values(void)
{
    struct fx_frame f = fx_hex(librdkafka_batch);
    f.data[76] = 0x01;                      /* the headers count */
    char why[128] = "";
    CU_ASSERT_EQUAL(kw_batch_validate_why(f.data, f.len, NULL, NULL, 0, why, sizeof(why)),
                    KW_ERR_CRC);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "crc mismatch: stored 0xe7a68a04, computed 0x"));
    fx_free(&f);
}

static void test_peek_walks_a_records_blob_and_reports_legacy_magic(void)
{
    struct kw_buf blob;
    kw_buf_init(&blob);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(build(&blob, codecs[i], i + 1, NULL), KW_OK);
    size_t whole = blob.len;
    CU_ASSERT_EQUAL(build(&blob, KW_CODEC_NONE, 2, NULL), KW_OK);
    blob.len -= 5;                          /* Fetch responses may end inside a batch */
    int batches = 0, records = 0;
    size_t off = 0;
    struct kw_batch_hdr h;
    int size;
    while ((size = kw_batch_peek(blob.data + off, blob.len - off, &h)) > 0) {
        batches++;
        records += count_records(blob.data + off, (size_t)size);
        off += (size_t)size;
    }
    CU_ASSERT(batches == 3 && records == 6 && off == whole);
    CU_ASSERT_EQUAL(size, KW_ERR_SHORT);
    CU_ASSERT(h.magic == 2 && h.records_count == 2);     /* the partial batch's header */

    /* a legacy message: WIRE.md §6, kafka-python, magic 1 */
    struct fx_frame m = fx_hex("0000000000000000 0000001f b1dc7349 01 00 000001a2150f3b55"
                               "00000004 6b657931 00000005 68656c6c6f");
    CU_ASSERT_EQUAL(kw_batch_peek(m.data, m.len, &h), 43);
    CU_ASSERT(h.magic == 1 && h.crc == 0xb1dc7349u && h.max_timestamp == 0x1a2150f3b55);
    CU_ASSERT_EQUAL(validate(m.data, m.len), KW_ERR_VERSION);
    m.data[16] = 3;
    CU_ASSERT_EQUAL(kw_batch_peek(m.data, m.len, &h), KW_ERR_VERSION);
    m.data[16] = 1;
    kw_wbe32(m.data + 8, 21);               /* too short for a magic-1 message */
    CU_ASSERT_EQUAL(kw_batch_peek(m.data, m.len, &h), KW_ERR_CORRUPT);
    kw_wbe32(m.data + 8, 0x7ffffffe);
    CU_ASSERT_EQUAL(kw_batch_peek(m.data, m.len, &h), KW_ERR_CORRUPT);
    CU_ASSERT_EQUAL(kw_batch_peek(m.data, 16, &h), KW_ERR_SHORT);
    fx_free(&m);
    kw_buf_release(&blob);
}

static void test_builder_refuses_what_kafka_cannot_carry(void)
{
    struct kw_buf out;
    struct kw_batch_builder bb;
    kw_buf_init(&out);
    kw_put_raw(&out, "ab", 2);
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, &out, NULL, KW_CODEC_GZIP, -1), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_ERR_INVALID);     /* no records */
    CU_ASSERT_EQUAL(out.len, 2);
    struct kw_header_kv nullkey = { KW_STR_NULL, KW_BYTES_NULL };
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, &out, NULL, KW_CODEC_NONE, -1), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_builder_add(&bb, 1, KW_BYTES_NULL, KW_BYTES_NULL, &nullkey, 1),
                    KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_batch_builder_add(&bb, 1, KW_BYTES_NULL, KW_BYTES_NULL, NULL, 0),
                    KW_ERR_INVALID);       /* sticky */
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_ERR_INVALID);
    CU_ASSERT_EQUAL(out.len, 2);
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, &out, NULL, KW_CODEC_LZ4_LEGACY, -1),
                    KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, &out, NULL, KW_CODEC_GZIP, 42), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_builder_add(&bb, 1, KW_BYTES_NULL, bytes_c("v"), NULL, 0), KW_OK);
    CU_ASSERT(kw_batch_builder_size(&bb) > KW_BATCH_HEADER_SIZE);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_ERR_INVALID);     /* gzip level 42 */
    CU_ASSERT_EQUAL(out.len, 2);
    kw_buf_release(&out);
}

static void test_an_empty_batch_iterates_to_nothing_but_does_not_validate(void)
{
    /* Log compaction can leave a batch with no records; producers may not send one. */
    struct kw_buf out;
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 1, NULL), KW_OK);
    out.len = KW_BATCH_HEADER_SIZE;
    kw_wbe32(out.data + 8, KW_BATCH_HEADER_SIZE - 12);
    kw_wbe32(out.data + 57, 0);
    kw_wbe32(out.data + 23, -1);
    fix_crc(out.data, out.len);
    CU_ASSERT_EQUAL(count_records(out.data, out.len), 0);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_ERR_CORRUPT);
    kw_buf_release(&out);
}

static void test_a_compressed_batch_of_nothing_is_corrupt(void)
{
    /* snappy-java's stream header alone is a valid empty stream: the records are missing */
    struct kw_buf out;
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 1, NULL), KW_OK);
    out.len = KW_BATCH_HEADER_SIZE;
    kw_put_raw(&out, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
    kw_wbe32(out.data + 8, (uint32_t)out.len - 12);
    kw_wbe16(out.data + 21, KW_CODEC_SNAPPY);
    fix_crc(out.data, out.len);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_ERR_CORRUPT);
    CU_ASSERT_EQUAL(count_records(out.data, out.len), KW_ERR_CORRUPT);
    out.len = KW_BATCH_HEADER_SIZE;         /* and no bytes at all where the stream should be */
    kw_wbe32(out.data + 8, KW_BATCH_HEADER_SIZE - 12);
    fix_crc(out.data, out.len);
    CU_ASSERT_EQUAL(validate(out.data, out.len), KW_ERR_CODEC);
    kw_buf_release(&out);
}

/* A record as the reference below reads it. */
struct ref_record {
    int8_t attributes;
    int64_t ts_delta;
    int32_t offset_delta;
    struct kw_bytes key, value;
    int32_t n_headers;
    const uint8_t *headers;
    size_t headers_len;
};

/* A nullable varint-length byte string; false if it is not all there. */
static bool ref_bytes(struct kw_reader *r, struct kw_bytes *b)
{
    int32_t n = kw_get_varint(r);
    if (r->err || n < -1 || (n >= 0 && (size_t)n > kw_reader_left(r)))
        return false;
    *b = n < 0 ? KW_BYTES_NULL : (struct kw_bytes){ kw_get_raw(r, (size_t)n), n };
    return true;
}

/* The record grammar read the obvious way, every byte through a kw_reader: the oracle for the
 * parser in batch.c, whose fast path leaves the per-byte checks out. True if a whole, well
 * formed record was read. */
static bool ref_record(struct kw_reader *r, struct ref_record *rec)
{
    int32_t len = kw_get_varint(r);
    if (r->err || len < 6 || (size_t)len > kw_reader_left(r))
        return false;
    struct kw_reader body;
    kw_reader_init(&body, kw_get_raw(r, (size_t)len), (size_t)len);
    rec->attributes = kw_get_i8(&body);
    rec->ts_delta = kw_get_varlong(&body);
    rec->offset_delta = kw_get_varint(&body);
    if (!ref_bytes(&body, &rec->key) || !ref_bytes(&body, &rec->value))
        return false;
    rec->n_headers = kw_get_varint(&body);
    if (body.err || rec->n_headers < 0 || (size_t)rec->n_headers > kw_reader_left(&body) / 2)
        return false;
    rec->headers = body.pos;
    for (int32_t i = 0; i < rec->n_headers; i++) {
        struct kw_bytes k, v;
        if (!ref_bytes(&body, &k) || k.len < 0 || !ref_bytes(&body, &v))
            return false;
    }
    rec->headers_len = (size_t)(body.pos - rec->headers);
    return body.err == KW_OK && kw_reader_left(&body) == 0;
}

static bool same_bytes(struct kw_bytes a, struct kw_bytes b)
{
    return a.len == b.len && (a.len < 0 || a.ptr == b.ptr);
}

/* Iterates and validates the uncompressed batch at p, and walks its records with the
 * reference: they must agree record for record, on whether there is a fault and on which
 * record holds it. *faulty says whether there was one. */
static bool agrees_with_reference(const uint8_t *p, size_t len, bool *faulty)
{
    struct kw_record_iter it;
    struct kw_record rec;
    struct kw_reader r;
    if (kw_record_iter_init(&it, p, len, NULL) != KW_OK)
        return false;
    kw_reader_init(&r, p + KW_BATCH_HEADER_SIZE, len - KW_BATCH_HEADER_SIZE);
    bool ordered = true;
    for (int32_t i = 0; i < it.hdr.records_count; i++) {
        struct ref_record want;
        bool ok = ref_record(&r, &want);
        int rc = kw_record_iter_next(&it, &rec);
        if (!ok) {
            *faulty = true;
            return rc < 0 && kw_record_iter_next(&it, &rec) == rc && validate(p, len) < 0;
        }
        /* unsigned sums, as batch.c: hostile deltas overflow */
        int64_t ts = (int64_t)((uint64_t)it.hdr.base_timestamp + (uint64_t)want.ts_delta);
        int64_t off = (int64_t)((uint64_t)it.hdr.base_offset + (uint64_t)want.offset_delta);
        if (rc != 1 || rec.offset != off || rec.timestamp != ts ||
            rec.attributes != want.attributes || !same_bytes(rec.key, want.key) ||
            !same_bytes(rec.value, want.value) || rec.n_headers != want.n_headers ||
            rec.headers != want.headers || rec.headers_len != want.headers_len)
            return false;
        ordered = ordered && want.offset_delta == i;
    }
    bool whole = kw_reader_left(&r) == 0;
    *faulty = !whole || !ordered;
    return kw_record_iter_next(&it, &rec) == (whole ? 0 : KW_ERR_CORRUPT) &&
           (validate(p, len) == KW_OK) == (whole && ordered);
}

/* Sets each byte from `from` on to each of a few values that make varints end, continue or
 * change sign, fixing the CRC each time; counts disagreements with the reference. The batch
 * must be exactly len bytes long, so that ASan sees any read past it. */
static void mutate_and_compare(uint8_t *p, size_t len, size_t from, size_t to, unsigned *bad,
                               unsigned *faults, unsigned *cases)
{
    for (size_t pos = from; pos < to && pos < len; pos++) {
        uint8_t orig = p[pos];
        const uint8_t values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, (uint8_t)(orig ^ 0x80),
                                   (uint8_t)(orig + 2) };
        for (size_t v = 0; v < sizeof(values); v++) {
            bool faulty = false;
            p[pos] = values[v];
            fix_crc(p, len);
            *bad += !agrees_with_reference(p, len, &faulty);
            *faults += faulty;
            ++*cases;
        }
        p[pos] = orig;
    }
    fix_crc(p, len);
}

static void test_the_record_parser_agrees_with_a_reference_on_every_changed_byte(void)
{
    struct kw_buf out;
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(build(&out, KW_CODEC_NONE, 40, NULL), KW_OK);
    uint8_t *p = malloc(out.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    memcpy(p, out.data, out.len);
    bool faulty = true;
    CU_ASSERT(agrees_with_reference(p, out.len, &faulty) && !faulty);
    unsigned bad = 0, faults = 0, cases = 0;
    mutate_and_compare(p, out.len, KW_BATCH_HEADER_SIZE, out.len, &bad, &faults, &cases);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(faults > cases / 4 && faults < cases);    /* both kinds were exercised */
    free(p);
    kw_buf_release(&out);
}

static void test_long_varints_and_large_values_parse_alike_on_both_paths(void)
{
    /* Timestamp deltas and lengths of one to ten varint bytes, around the 64 and 8192 edges
     * where the inline decoding stops. Records in the last 32 bytes take the checked path. */
    static const int64_t deltas[] = { 0, 63, -64, 64, 8191, -8192, 8192, 1 << 20, -(1LL << 40),
                                      INT64_MAX, INT64_MIN };
    static const int32_t sizes[] = { 0, 1, 63, 64, 65, 8191, 8192, 20000, -1, 30, 7,
                                     30, 7, 0, 1, 63, 64, 65, 200, -1, 129, 8 };
    enum { N = sizeof(sizes) / sizeof(sizes[0]), D = sizeof(deltas) / sizeof(deltas[0]) };
    static uint8_t big[20000];
    memset(big, 'v', sizeof(big));
    struct kw_header_kv h[3] = { { kw_str_c("a"), { big, 64 } }, { kw_str_c(""), KW_BYTES_NULL },
                                 { kw_str_c("trace"), { big, 200 } } };
    struct kw_buf out;
    kw_buf_init(&out);
    struct kw_batch_builder bb;
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, &out, NULL, KW_CODEC_NONE, -1), KW_OK);
    for (int i = 0; i < N; i++) {
        int32_t size = sizes[i];
        struct kw_bytes v = { size < 0 ? NULL : big, size };
        struct kw_bytes k = i % 3 ? KW_BYTES_NULL : (struct kw_bytes){ big, 70 };
        /* the first record sets the base */
        CU_ASSERT_EQUAL(kw_batch_builder_add(&bb, i ? deltas[i % D] : 0, k, v, h, i % 4),
                        KW_OK);
    }
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_OK);
    uint8_t *p = malloc(out.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    memcpy(p, out.data, out.len);
    bool faulty = true;
    CU_ASSERT(agrees_with_reference(p, out.len, &faulty) && !faulty);
    CU_ASSERT_EQUAL(validate(p, out.len), KW_OK);

    /* and the fields themselves, so that the reference is not the only judge */
    struct kw_record_iter it;
    struct kw_record rec;
    CU_ASSERT_EQUAL(kw_record_iter_init(&it, p, out.len, NULL), KW_OK);
    int wrong = 0;
    for (int i = 0; i < N; i++) {
        int32_t size = sizes[i];
        wrong += kw_record_iter_next(&it, &rec) != 1 || rec.offset != i ||
                 rec.timestamp != (i ? deltas[i % D] : 0) || rec.value.len != size ||
                 rec.key.len != (i % 3 ? -1 : 70) || rec.n_headers != i % 4;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(kw_record_iter_next(&it, &rec), 0);

    /* every record's leading bytes, where its varints are, changed one at a time */
    unsigned bad = 0, faults = 0, cases = 0;
    struct kw_reader r;
    kw_reader_init(&r, p + KW_BATCH_HEADER_SIZE, out.len - KW_BATCH_HEADER_SIZE);
    struct ref_record want;
    for (size_t at = KW_BATCH_HEADER_SIZE; ref_record(&r, &want);
         at = (size_t)(r.pos - p))
        mutate_and_compare(p, out.len, at, at + 16, &bad, &faults, &cases);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(faults > 0 && cases == 16 * 7 * N);
    free(p);
    kw_buf_release(&out);
}

/* Appends a record whose timestamp and offset deltas are the raw varint bytes given, with a
 * null key, a value of vlen bytes and no headers. */
static void put_raw_record(struct kw_buf *b, const char *ts, const char *off, int32_t vlen)
{
    size_t ts_len = strlen(ts) / 2, off_len = strlen(off) / 2;
    kw_put_varint(b, (int32_t)(1 + ts_len + off_len + 1 + kw_varint_size(vlen) + (size_t)vlen
                               + 1));
    kw_put_i8(b, 0);
    for (size_t i = 0; i < ts_len + off_len; i++) {
        unsigned byte;
        sscanf(i < ts_len ? ts + 2 * i : off + 2 * (i - ts_len), "%2x", &byte);
        kw_put_i8(b, (int8_t)byte);
    }
    kw_put_varint(b, -1);
    kw_put_varint(b, vlen);
    for (int32_t i = 0; i < vlen; i++)
        kw_put_i8(b, 'x');
    kw_put_varint(b, 0);
}

/* Fills in the lengths, counts and CRC of a batch whose n records follow its header. */
static void close_raw_batch(struct kw_buf *b, int32_t n)
{
    kw_wbe32(b->data + 8, (uint32_t)(b->len - 12));
    kw_wbe32(b->data + 23, (uint32_t)(n - 1));
    kw_wbe32(b->data + 57, (uint32_t)n);
    fix_crc(b->data, b->len);
}

static void test_overlong_varints_fail_alike_on_both_paths(void)
{
    /* Kafka reads a varint in at most 5 bytes and a varlong in at most 10; a non-canonical
     * encoding within that is accepted. Each case is tried as the first of three records
     * (the fast path) and alone (the checked path): same verdict, same error. */
    static const struct {
        const char *ts, *off;
        int want;
    } cases[] = {
        { "00", "8080808000", KW_OK },              /* offsetDelta 0 in five bytes */
        { "00", "8080808010", KW_ERR_VARINT },      /* 2^32: beyond 32 bits */
        { "00", "808080808000", KW_ERR_VARINT },    /* six bytes */
        { "80808080808080808001", "00", KW_OK },    /* ten bytes */
        { "ffffffffffffffffff7f", "00", KW_OK },    /* ten bytes, bits beyond 64 dropped */
        { "8080808080808080808000", "00", KW_ERR_VARINT },     /* eleven bytes */
    };
    unsigned wrong = 0;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        for (int alone = 0; alone < 2; alone++) {
            struct kw_buf b;
            kw_buf_init(&b);
            CU_ASSERT_EQUAL(build(&b, KW_CODEC_NONE, 1, NULL), KW_OK);
            b.len = KW_BATCH_HEADER_SIZE;
            put_raw_record(&b, cases[c].ts, cases[c].off, 5);
            if (!alone) {
                put_raw_record(&b, "02", "02", 40);
                put_raw_record(&b, "04", "04", 40);
            }
            close_raw_batch(&b, alone ? 1 : 3);
            uint8_t *p = malloc(b.len);
            CU_ASSERT_PTR_NOT_NULL_FATAL(p);
            memcpy(p, b.data, b.len);
            struct kw_record_iter it;
            struct kw_record rec;
            CU_ASSERT_EQUAL(kw_record_iter_init(&it, p, b.len, NULL), KW_OK);
            int first = kw_record_iter_next(&it, &rec);
            wrong += validate(p, b.len) != cases[c].want;
            wrong += first != (cases[c].want == KW_OK ? 1 : cases[c].want);
            wrong += count_records(p, b.len) != (cases[c].want == KW_OK ? 3 - 2 * alone
                                                                         : cases[c].want);
            free(p);
            kw_buf_release(&b);
        }
    CU_ASSERT_EQUAL(wrong, 0);
}

CU_TestInfo kwt_batch_tests[] = {
    { "librdkafka's batch validates, iterates and is rebuilt byte for byte",
      test_librdkafka_batch_validates_and_iterates },
    { "kafkajs producer fields are accepted and bad sequences are not",
      test_kafkajs_producer_fields_are_accepted_and_bad_sequences_are_not },
    { "every codec round trips headers, null keys and empty values",
      test_every_codec_round_trips_headers_null_keys_and_empty_values },
    { "ten thousand records round trip with each codec",
      test_ten_thousand_records_round_trip_with_each_codec },
    { "xerial snappy batches are what the Java client writes",
      test_xerial_snappy_batches_are_what_the_java_client_writes },
    { "every truncation fails", test_every_truncation_fails },
    { "a flipped byte after the crc field fails the crc",
      test_a_flipped_byte_after_the_crc_field_fails_the_crc },
    { "stamped fields stay outside the crc", test_stamped_fields_stay_outside_the_crc },
    { "log append time is stamped with a valid crc",
      test_log_append_time_is_stamped_with_a_valid_crc },
    { "inconsistent counts and lengths are corrupt",
      test_inconsistent_counts_and_lengths_are_corrupt },
    { "hostile headers fail without over-reading", test_hostile_headers_fail_without_overreading },
    { "compressed batches respect the inflate limit",
      test_compressed_batches_respect_the_inflate_limit },
    { "a crc mismatch says both values", test_crc_mismatch_says_both_values },
    { "peek walks a records blob and reports legacy magic",
      test_peek_walks_a_records_blob_and_reports_legacy_magic },
    { "the builder refuses what Kafka cannot carry",
      test_builder_refuses_what_kafka_cannot_carry },
    { "an empty batch iterates to nothing but does not validate",
      test_an_empty_batch_iterates_to_nothing_but_does_not_validate },
    { "a compressed batch of nothing is corrupt", test_a_compressed_batch_of_nothing_is_corrupt },
    { "the record parser agrees with a reference on every changed byte",
      test_the_record_parser_agrees_with_a_reference_on_every_changed_byte },
    { "long varints and large values parse alike on both paths",
      test_long_varints_and_large_values_parse_alike_on_both_paths },
    { "overlong varints fail alike on both paths",
      test_overlong_varints_fail_alike_on_both_paths },
    CU_TEST_INFO_NULL,
};
