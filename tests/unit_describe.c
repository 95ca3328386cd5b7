/* describe: frames from real clients and from our codecs rendered as text; what is said about
 * frames that do not decode; record batches and legacy message sets record by record. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/crc.h"
#include "lib/describe.h"
#include "lib/msgset.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/produce.h"
#include "tests/fx.h"

/* librdkafka 2.0.2's first frame (WIRE.md §4.5), without the size prefix. */
#define RDKAFKA_API_VERSIONS_V3 \
    "0012 0003 00000001 0007 72646b61666b61 00 0b 6c696272646b61666b61 06 322e302e32 00"

/* The batch librdkafka 2.0.2 wrote for key "key1", value "hello" (WIRE.md §5.4). */
#define RDKAFKA_BATCH                                                                       \
    "0000000000000000 00000041 00000000 02 e7a68a04 0000 00000000 000001a2150dc028"         \
    "000001a2150dc028 ffffffffffffffff ffff ffffffff 00000001"                              \
    "1e 00 00 00 08 6b657931 0a 68656c6c6f 00"

/* kafka-python's magic 1 and magic 0 messages (WIRE.md §6): offset, size, then the message. */
#define MSG_V1 "0000000000000000 0000001f b1dc7349 01 00 000001a2150f3b55" \
               "00000004 6b657931 00000005 68656c6c6f"
#define MSG_V0 "0000000000000000 00000017 38ce7dc9 00 00 00000004 6b657931 00000005 68656c6c6f"

/* True if the description holds s; prints the description when not, to show what it said. */
static bool has(struct kw_buf *b, const char *s)
{
    kw_put_i8(b, 0);
    b->len--;
    bool found = b->data != NULL && strstr((const char *)b->data, s) != NULL;
    if (!found)
        fprintf(stderr, "\nmissing \"%s\" in:\n%s\n", s, b->data ? (char *)b->data : "");
    return found;
}

static bool lacks(struct kw_buf *b, const char *s)
{
    kw_put_i8(b, 0);
    b->len--;
    return b->data != NULL && strstr((const char *)b->data, s) == NULL;
}

static void test_librdkafka_api_versions_request_shows_every_field(void)
{
    struct fx_frame f = fx_hex(RDKAFKA_API_VERSIONS_V3);
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_OK);
    CU_ASSERT(has(&b, "Request ApiVersions v3 (header v2)  correlation_id=1  "
                      "client_id=\"rdkafka\"\n"));
    CU_ASSERT(has(&b, "\n  ClientSoftwareName: \"librdkafka\"\n"));
    CU_ASSERT(has(&b, "\n  ClientSoftwareVersion: \"2.0.2\"\n"));
    CU_ASSERT(lacks(&b, "error"));
    kw_buf_release(&b);
    fx_free(&f);
}

/* A Produce request at `version` from our encoder, carrying librdkafka's batch. */
static struct fx_frame produce_frame(int version, const struct fx_frame *batch)
{
    struct kw_produce_req_partition part = {
        .index = 3, .records = { batch->data, (int32_t)batch->len } };
    struct kw_produce_req_topic topic = {
        .name = kw_str_c("t"), .n_partition_data = 1, .partition_data = &part };
    struct kw_produce_req req = { .transactional_id = KW_STR_NULL, .acks = -1,
                                  .timeout_ms = 30000, .n_topic_data = 1, .topic_data = &topic };
    struct kw_req_header h = { .api_key = KW_API_PRODUCE, .api_version = (int16_t)version,
                               .correlation_id = 3, .client_id = kw_str_c("rdkafka") };
    struct kw_buf b;
    kw_buf_init(&b);
    kw_req_header_encode(&b, kw_req_header_version(KW_API_PRODUCE, version), &h);
    kw_produce_req_encode(&b, version, &req);
    CU_ASSERT_EQUAL(b.err, KW_OK);
    struct fx_frame f = { NULL, 0 };
    f.data = kw_buf_take(&b, &f.len);
    return f;
}

static void test_produce_request_shows_its_batch_record_by_record(void)
{
    struct fx_frame batch = fx_hex(RDKAFKA_BATCH);
    struct fx_frame f = produce_frame(7, &batch);
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_OK);
    CU_ASSERT(has(&b, "Request Produce v7 (header v1)  correlation_id=3  client_id=\"rdkafka\"\n"));
    CU_ASSERT(has(&b, "\n  TransactionalId: null\n  Acks: -1\n  TimeoutMs: 30000\n"));
    CU_ASSERT(has(&b, "TopicData: 1 item\n"));
    CU_ASSERT(has(&b, "Records: 77 bytes\n"));
    CU_ASSERT(has(&b, "RecordBatch offset=0 count=1 magic=2 codec=none crc=0xe7a68a04 (ok)"));
    CU_ASSERT(has(&b, "producer_id=-1"));
    CU_ASSERT(has(&b, "Record offset=0 timestamp=1795649552424 key=\"key1\" value=\"hello\" "
                      "headers=0\n"));
    kw_buf_release(&b);
    fx_free(&f);

    f = produce_frame(9, &batch);      /* flexible: compact records, header v2 */
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_OK);
    CU_ASSERT(has(&b, "Request Produce v9 (header v2)"));
    CU_ASSERT(has(&b, "key=\"key1\" value=\"hello\""));
    kw_buf_release(&b);
    fx_free(&f);
    fx_free(&batch);
}

static void test_truncated_frame_names_the_field_and_offset(void)
{
    struct fx_frame f = fx_hex(RDKAFKA_API_VERSIONS_V3);
    struct kw_buf b;
    kw_buf_init(&b);
    /* 20 bytes: the header (18), ClientSoftwareName's length (10 + 1), then 1 of its 10 bytes;
     * the reader fails where the string's bytes start. */
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, 20), KW_ERR_SHORT);
    CU_ASSERT(has(&b, "Request ApiVersions v3 (header v2)"));
    CU_ASSERT(has(&b, "decode error: input ends inside a field at offset 19 in field "
                      "ClientSoftwareName\n"));
    CU_ASSERT(has(&b, "0010  61 00 0b 6c    "));
    CU_ASSERT(has(&b, "\n                   ^^ offset 19: input ends inside a field in "
                      "ClientSoftwareName\n"));
    CU_ASSERT(has(&b, "0000  00 12 00 03"));
    kw_buf_release(&b);

    kw_buf_init(&b);                    /* inside the header */
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, 6), KW_ERR_SHORT);
    CU_ASSERT(has(&b, "at offset 4 in field CorrelationId"));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_trailing_bytes_are_reported(void)
{
    struct fx_frame f = fx_hex(RDKAFKA_API_VERSIONS_V3 "beef");
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_ERR_TRAILING);
    CU_ASSERT(has(&b, "ClientSoftwareVersion: \"2.0.2\""));
    CU_ASSERT(has(&b, "trailing bytes: 2 after the body, from offset 36"));
    CU_ASSERT(has(&b, "be ef"));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_unknown_api_key_is_named_and_dumped(void)
{
    /* SaslHandshake v4 (key 17): we do not speak it, but know its name. */
    struct fx_frame f = fx_hex("0011 0004 00000009 0003 616263 00 01 00");
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_ERR_API);
    CU_ASSERT(has(&b, "Request SaslHandshake (key 17) v4"));
    CU_ASSERT(has(&b, "correlation_id=9  client_id=\"abc\""));
    CU_ASSERT(has(&b, "unknown API key 17 (SaslHandshake)"));
    kw_buf_release(&b);
    fx_free(&f);

    f = fx_hex("03e7 0000 00000001 ffff");  /* key 999: no name at all; client_id null */
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_ERR_API);
    CU_ASSERT(has(&b, "Request API key 999 v0 (header v1)  correlation_id=1  client_id=null"));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_unsupported_version_is_reported(void)
{
    struct fx_frame f = fx_hex("0000 000c 00000001 0000 00 00 ffff 00000000 00 00");
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_ERR_VERSION);
    CU_ASSERT(has(&b, "Request Produce v12"));
    CU_ASSERT(has(&b, "version not supported: we speak Produce v0-v11"));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_response_uses_the_given_key_and_version(void)
{
    /* Kafka's v0 answer to an ApiVersions request it cannot read (WIRE.md §3). */
    struct fx_frame f = fx_hex("00000001 0023 00000001 0012 0000 0004");
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_response(&b, KW_API_API_VERSIONS, 0, f.data, f.len), KW_OK);
    CU_ASSERT(has(&b, "Response ApiVersions v0 (header v0)  correlation_id=1\n"));
    CU_ASSERT(has(&b, "  ErrorCode: 35 (UNSUPPORTED_VERSION)\n  ApiKeys: 1 item\n    [0] ApiVersion\n"
                      "      ApiKey: 18\n      MinVersion: 0\n      MaxVersion: 4\n"));
    kw_buf_release(&b);

    kw_buf_init(&b);                    /* the same bytes read as v3 do not fit */
    CU_ASSERT(kw_describe_response(&b, KW_API_API_VERSIONS, 3, f.data, f.len) < 0);
    CU_ASSERT(has(&b, "decode error:"));
    kw_buf_release(&b);

    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_response(&b, 17, 0, f.data, f.len), KW_ERR_API);
    CU_ASSERT(has(&b, "Response SaslHandshake (key 17) v0 (header v0)  correlation_id=1"));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_bad_crc_is_named_and_records_still_shown(void)
{
    struct fx_frame f = fx_hex(RDKAFKA_BATCH);
    f.data[f.len - 2] = 'O';            /* "hellO" */
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_records(&b, f.data, f.len, 4), KW_ERR_CRC);
    CU_ASSERT(has(&b, "    RecordBatch offset=0 count=1 magic=2 codec=none crc=0xe7a68a04 "
                      "(mismatch: computed 0x"));
    CU_ASSERT(has(&b, "value=\"hellO\""));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_partial_batch_at_the_end_is_named(void)
{
    struct fx_frame f = fx_hex(RDKAFKA_BATCH RDKAFKA_BATCH);
    struct kw_buf b;
    kw_buf_init(&b);
    /* Fetch responses may cut the last batch short: not an error. */
    CU_ASSERT_EQUAL(kw_describe_records(&b, f.data, f.len - 10, 0), KW_OK);
    CU_ASSERT(has(&b, "key=\"key1\""));
    CU_ASSERT(has(&b, "partial batch, 67 of 77 bytes\n"));
    kw_buf_release(&b);

    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_records(&b, f.data, 10, 0), KW_OK);
    CU_ASSERT(has(&b, "partial batch, 10 bytes\n"));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_legacy_messages_are_shown(void)
{
    struct fx_frame f = fx_hex(MSG_V1 MSG_V0);
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_records(&b, f.data, 43, 2), KW_OK);
    CU_ASSERT(has(&b, "  Message offset=0 magic=1 codec=none crc=0xb1dc7349 (ok)"));
    CU_ASSERT(has(&b, "timestamp=1795649649493 key=\"key1\" value=\"hello\""));
    kw_buf_release(&b);

    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_records(&b, f.data + 43, f.len - 43, 2), KW_OK);
    CU_ASSERT(has(&b, "magic=0 codec=none crc=0x38ce7dc9 (ok)"));
    CU_ASSERT(has(&b, "key=\"key1\" value=\"hello\""));
    kw_buf_release(&b);

    f.data[f.len - 1] ^= 1;             /* the magic-0 message's CRC no longer matches */
    kw_buf_init(&b);
    CU_ASSERT(kw_describe_records(&b, f.data + 43, f.len - 43, 2) < 0);
    CU_ASSERT(has(&b, "crc=0x38ce7dc9 (mismatch"));
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_binary_and_long_values_are_hex_or_truncated(void)
{
    /* The client id goes through the same renderer as keys, values and record headers. */
    struct fx_frame f = fx_hex("0012 0000 00000001 0003 61 0a 62");
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_OK);
    CU_ASSERT(has(&b, "client_id=\"a\\nb\""));
    kw_buf_release(&b);
    fx_free(&f);

    char hex[2 * 200 + 64];
    strcpy(hex, "0012 0000 00000001 00c8");
    for (int i = 0; i < 200; i++)
        strcat(hex, i == 0 ? "ff" : "41");
    f = fx_hex(hex);
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_request(&b, f.data, f.len), KW_OK);
    CU_ASSERT(has(&b, "client_id=0xff414141"));
    CU_ASSERT(has(&b, "...(200 bytes)"));
    kw_buf_release(&b);
    fx_free(&f);
}

/* Two records through the batch builder: headers, a long text value, a null key, binary. */
static void build_batch(struct kw_buf *out, int codec)
{
    static const char big[] = "0123456789012345678901234567890123456789"
                              "0123456789012345678901234567890123456789";
    const struct kw_header_kv hs[] = {
        { kw_str_c("trace"), { (const uint8_t *)"abc", 3 } },
        { kw_str_c("bin"), KW_BYTES_NULL },
    };
    static const uint8_t raw[] = { 0x00, 0xff, 0x10 };
    struct kw_batch_builder bb;
    kw_buf_init(out);
    CU_ASSERT_EQUAL(kw_batch_builder_begin(&bb, out, NULL, codec, -1), KW_OK);
    struct kw_bytes key = { (const uint8_t *)"user-1", 6 };
    struct kw_bytes value = { (const uint8_t *)big, 80 };
    CU_ASSERT_EQUAL(kw_batch_builder_add(&bb, 1000, key, value, hs, 2), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_builder_add(&bb, 1005, KW_BYTES_NULL,
                                         (struct kw_bytes){ raw, 3 }, NULL, 0), KW_OK);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_OK);
}

static void test_compressed_batch_shows_headers_and_values(void)
{
    struct kw_buf batch, b;
    build_batch(&batch, KW_CODEC_GZIP);
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_records(&b, batch.data, batch.len, 0), KW_OK);
    CU_ASSERT(has(&b, "RecordBatch offset=0 count=2 magic=2 codec=gzip crc=0x"));
    CU_ASSERT(has(&b, "(ok) producer_id=-1"));
    CU_ASSERT(has(&b, "\n  Record offset=0 timestamp=1000 key=\"user-1\" value=\""
                      "0123456789012345678901234567890123456789012345678901234567890123\""
                      "...(80 bytes) headers=2\n"));
    CU_ASSERT(has(&b, "\n    \"trace\": \"abc\"\n    \"bin\": null\n"));
    CU_ASSERT(has(&b, "\n  Record offset=1 timestamp=1005 key=null value=0x00ff10 headers=0\n"));
    kw_buf_release(&b);
    kw_buf_release(&batch);
}

static void test_compressed_legacy_wrapper_shows_inner_messages(void)
{
    struct kw_buf batch, inner, gz, set, scratch, b;
    build_batch(&batch, KW_CODEC_NONE);
    kw_buf_init(&inner);
    kw_buf_init(&gz);
    kw_buf_init(&set);
    kw_buf_init(&scratch);
    CU_ASSERT_EQUAL(kw_msgset_from_batch(batch.data, batch.len, 1, &inner, &scratch), KW_OK);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_GZIP, -1, inner.data, inner.len, &gz), KW_OK);
    /* The wrapper (WIRE.md §6): offset of the last inner message, size, CRC-32 from magic on. */
    kw_put_i64(&set, 1);
    size_t size_at = kw_reserve_i32(&set);
    size_t crc_at = kw_reserve_i32(&set);
    kw_put_i8(&set, 1);                 /* magic */
    kw_put_i8(&set, KW_CODEC_GZIP);     /* attributes */
    kw_put_i64(&set, 2000);             /* timestamp */
    kw_put_bytes(&set, KW_BYTES_NULL);  /* key */
    kw_put_bytes(&set, (struct kw_bytes){ gz.data, (int32_t)gz.len });
    kw_patch_i32(&set, size_at, (int32_t)(set.len - 12));
    kw_patch_u32(&set, crc_at, kw_crc32(0, set.data + 16, set.len - 16));
    CU_ASSERT_EQUAL(set.err, KW_OK);

    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_describe_records(&b, set.data, set.len, 0), KW_OK);
    CU_ASSERT(has(&b, "Message offset=1 magic=1 codec=gzip crc=0x"));
    CU_ASSERT(has(&b, "(ok), wrapping:\n  Message offset=0 timestamp=1000 key=\"user-1\""));
    CU_ASSERT(has(&b, "\n  Message offset=1 timestamp=1005 key=null value=0x00ff10\n"));
    kw_buf_release(&b);
    kw_buf_release(&scratch);
    kw_buf_release(&set);
    kw_buf_release(&gz);
    kw_buf_release(&inner);
    kw_buf_release(&batch);
}

static void test_batch_with_a_bad_count_is_named(void)
{
    struct kw_buf batch, b;
    build_batch(&batch, KW_CODEC_NONE);
    kw_wbe32(batch.data + 57, 3);       /* recordsCount, inside the CRC */
    kw_wbe32(batch.data + 17, kw_crc32c(0, batch.data + 21, batch.len - 21));
    kw_buf_init(&b);
    CU_ASSERT(kw_describe_records(&b, batch.data, batch.len, 0) < 0);
    CU_ASSERT(has(&b, "count=3 magic=2 codec=none"));
    CU_ASSERT(has(&b, "  invalid batch: "));
    CU_ASSERT(has(&b, "key=\"user-1\""));
    kw_buf_release(&b);
    kw_buf_release(&batch);
}

/* Every prefix and a spread of single-byte corruptions: an error or a description, never a
 * crash or an over-read (ASan and valgrind watch: each input sits in its own allocation). */
static void test_hostile_frames_never_crash(void)
{
    struct fx_frame batch = fx_hex(RDKAFKA_BATCH);
    struct fx_frame f = produce_frame(9, &batch);
    for (size_t n = 0; n < f.len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, f.data, n);
        struct kw_buf b;
        kw_buf_init(&b);
        CU_ASSERT(kw_describe_request(&b, cut, n) < 0);
        CU_ASSERT(b.len > 0);
        kw_buf_release(&b);
        free(cut);
    }
    uint32_t seed = 12345;
    for (int i = 0; i < 2000; i++) {
        uint8_t *copy = malloc(f.len);
        memcpy(copy, f.data, f.len);
        seed = seed * 1103515245 + 12345;
        copy[(seed >> 8) % f.len] ^= (uint8_t)(1 + (seed >> 20) % 255);
        struct kw_buf b;
        kw_buf_init(&b);
        int err = kw_describe_request(&b, copy, f.len);
        CU_ASSERT(err <= 0 && b.len > 0 && b.err == KW_OK);
        kw_buf_release(&b);
        free(copy);
    }
    fx_free(&f);
    fx_free(&batch);
}

CU_TestInfo kwt_describe_tests[] = {
    { "librdkafka's ApiVersions v3 request shows every field",
      test_librdkafka_api_versions_request_shows_every_field },
    { "a Produce request shows its batch record by record",
      test_produce_request_shows_its_batch_record_by_record },
    { "a truncated frame names the failing field and offset",
      test_truncated_frame_names_the_field_and_offset },
    { "trailing bytes after the body are reported", test_trailing_bytes_are_reported },
    { "an unknown API key is named and dumped", test_unknown_api_key_is_named_and_dumped },
    { "an unsupported version is reported", test_unsupported_version_is_reported },
    { "a response is read with the key and version it is given",
      test_response_uses_the_given_key_and_version },
    { "a bad CRC is named and the records are still shown",
      test_bad_crc_is_named_and_records_still_shown },
    { "a partial batch at the end is named", test_partial_batch_at_the_end_is_named },
    { "legacy magic 0 and 1 messages are shown", test_legacy_messages_are_shown },
    { "a compressed batch shows headers and values",
      test_compressed_batch_shows_headers_and_values },
    { "a compressed legacy wrapper shows its inner messages",
      test_compressed_legacy_wrapper_shows_inner_messages },
    { "a batch with a bad record count is named", test_batch_with_a_bad_count_is_named },
    { "binary and long values are shown as hex or truncated",
      test_binary_and_long_values_are_hex_or_truncated },
    { "hostile frames never crash the describer", test_hostile_frames_never_crash },
    CU_TEST_INFO_NULL,
};
