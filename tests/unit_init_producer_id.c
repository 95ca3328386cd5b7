/* InitProducerId: the frames librdkafka and kafkajs send (CLIENTS.md §2.3, §4.1), hand-encoded,
 * and the ProducerId/ProducerEpoch defaults below v3. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/init_producer_id.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static bool req_encodes_to(int version, const struct kw_init_producer_id_req *m,
                           const struct fx_frame *want)
{
    struct kw_buf b;
    kw_buf_init(&b);
    int err = kw_init_producer_id_req_encode(&b, version, m);
    bool same = err == KW_OK && b.len == want->len && memcmp(b.data, want->data, b.len) == 0;
    kw_buf_release(&b);
    return same;
}

static bool resp_encodes_to(int version, const struct kw_init_producer_id_resp *m,
                            const struct fx_frame *want)
{
    struct kw_buf b;
    kw_buf_init(&b);
    int err = kw_init_producer_id_resp_encode(&b, version, m);
    bool same = err == KW_OK && b.len == want->len && memcmp(b.data, want->data, b.len) == 0;
    kw_buf_release(&b);
    return same;
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_init_producer_id_req_schema, KW_API_INIT_PRODUCER_ID,
                 kwt_sample_init_producer_id_req());
    rt_check_all(&kw_init_producer_id_resp_schema, KW_API_INIT_PRODUCER_ID,
                 kwt_sample_init_producer_id_resp());
}

static void test_kafkajs_v1_request_is_classic_and_reads_defaults(void)
{
    struct fx_frame f = fx_hex("ffff        # TransactionalId null (int16 length -1)\n"
                               "0000ea60    # TransactionTimeoutMs 60000\n");
    struct kw_init_producer_id_req m;
    struct kw_reader r;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_init_producer_id_req_decode(&r, 1, &m, NULL), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    CU_ASSERT_EQUAL(m.transactional_id.len, -1);
    CU_ASSERT_EQUAL(m.transaction_timeout_ms, 60000);
    CU_ASSERT_EQUAL(m.producer_id, -1);         /* absent before v3: the spec's default */
    CU_ASSERT_EQUAL(m.producer_epoch, -1);
    CU_ASSERT(req_encodes_to(1, &m, &f));
    m.producer_id = 77;                         /* and not written where absent */
    CU_ASSERT(req_encodes_to(1, &m, &f));
    kw_reader_init(&r, f.data, f.len);          /* v0 is the same, null included */
    CU_ASSERT_EQUAL(kw_init_producer_id_req_decode(&r, 0, &m, NULL), KW_OK);
    CU_ASSERT(m.transactional_id.len == -1 && m.transaction_timeout_ms == 60000);
    fx_free(&f);
}

static void test_librdkafka_v4_request_is_flexible(void)
{
    struct fx_frame f = fx_hex("00                  # TransactionalId null (compact 0)\n"
                               "ffffffff            # TransactionTimeoutMs -1\n"
                               "ffffffffffffffff    # ProducerId -1\n"
                               "ffff                # ProducerEpoch -1\n"
                               "00                  # no tagged fields\n");
    struct kw_init_producer_id_req want = {
        .transactional_id = KW_STR_NULL, .transaction_timeout_ms = -1,
        .producer_id = -1, .producer_epoch = -1,
    };
    CU_ASSERT(req_encodes_to(4, &want, &f));
    struct kw_init_producer_id_req m;
    struct kw_reader r;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_init_producer_id_req_decode(&r, 4, &m, NULL), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    CU_ASSERT(m.transactional_id.len == -1 && m.transaction_timeout_ms == -1);
    CU_ASSERT(m.producer_id == -1 && m.producer_epoch == -1 && m.tags.count == 0);
    fx_free(&f);
}

static void test_transactional_v3_request_carries_id_and_epoch(void)
{
    struct fx_frame f = fx_hex("04 747831            # TransactionalId \"tx1\" (compact 3+1)\n"
                               "0000ea60             # TransactionTimeoutMs 60000\n"
                               "00000000000003e8     # ProducerId 1000\n"
                               "0002                 # ProducerEpoch 2\n"
                               "00\n");
    struct kw_init_producer_id_req m = {
        .transactional_id = kw_str_c("tx1"), .transaction_timeout_ms = 60000,
        .producer_id = 1000, .producer_epoch = 2,
    };
    CU_ASSERT(req_encodes_to(3, &m, &f));
    struct kw_reader r;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_init_producer_id_req_decode(&r, 3, &m, NULL), KW_OK);
    CU_ASSERT(kw_str_eq(m.transactional_id, "tx1"));
    CU_ASSERT(m.producer_id == 1000 && m.producer_epoch == 2);
    fx_free(&f);
}

static void test_responses_match_hand_encoding(void)
{
    struct kw_init_producer_id_resp m = {
        .throttle_time_ms = 0, .error_code = 0, .producer_id = 1000, .producer_epoch = 0,
    };
    struct fx_frame v0 = fx_hex("00000000 0000 00000000000003e8 0000");
    struct fx_frame v2 = fx_hex("00000000 0000 00000000000003e8 0000 00   # v2: tag section\n");
    CU_ASSERT(resp_encodes_to(0, &m, &v0));
    CU_ASSERT(resp_encodes_to(2, &m, &v2));
    struct kw_init_producer_id_resp d;
    struct kw_reader r;
    kw_reader_init(&r, v2.data, v2.len);
    CU_ASSERT_EQUAL(kw_init_producer_id_resp_decode(&r, 2, &d, NULL), KW_OK);
    CU_ASSERT(d.producer_id == 1000 && d.producer_epoch == 0 && d.error_code == 0);
    struct fx_frame fenced = fx_hex("00000000 005a ffffffffffffffff ffff 00   # PRODUCER_FENCED\n");
    kw_reader_init(&r, fenced.data, fenced.len);
    CU_ASSERT_EQUAL(kw_init_producer_id_resp_decode(&r, 4, &d, NULL), KW_OK);
    CU_ASSERT(d.error_code == 90 && d.producer_id == -1 && d.producer_epoch == -1);
    fx_free(&v0);
    fx_free(&v2);
    fx_free(&fenced);
}

static void test_unsupported_versions_are_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_init_producer_id_req_encode(&b, 5, kwt_sample_init_producer_id_req()),
                    KW_ERR_VERSION);
    CU_ASSERT_EQUAL(b.len, 0);
    kw_buf_release(&b);
    static const uint8_t body[] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0x00 };
    struct kw_init_producer_id_req m;
    struct kw_reader r;
    kw_reader_init(&r, body, sizeof(body));
    CU_ASSERT_EQUAL(kw_init_producer_id_req_decode(&r, 5, &m, NULL), KW_ERR_VERSION);
    CU_ASSERT_EQUAL(r.err, KW_ERR_VERSION);
}

static void test_a_negative_string_length_fails_with_range(void)
{
    static const uint8_t body[] = { 0xff, 0xfe, 0x00, 0x00, 0xea, 0x60 };  /* length -2 */
    struct kw_init_producer_id_req m;
    struct kw_reader r;
    kw_reader_init(&r, body, sizeof(body));
    CU_ASSERT_EQUAL(kw_init_producer_id_req_decode(&r, 1, &m, NULL), KW_ERR_RANGE);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "TransactionalId") == 0);
}

CU_TestInfo kwt_init_producer_id_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "kafkajs' v1 request is classic and reads the v3 fields as defaults",
      test_kafkajs_v1_request_is_classic_and_reads_defaults },
    { "librdkafka's v4 request is flexible", test_librdkafka_v4_request_is_flexible },
    { "a transactional v3 request carries its id and epoch",
      test_transactional_v3_request_carries_id_and_epoch },
    { "responses match hand encoding", test_responses_match_hand_encoding },
    { "unsupported versions are refused", test_unsupported_versions_are_refused },
    { "a negative string length fails with a range error",
      test_a_negative_string_length_fails_with_range },
    CU_TEST_INFO_NULL,
};
