/* ApiVersions: the frames real clients send (WIRE.md §4.5) and the v0 answer to a version we
 * do not speak (§3). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_api_versions_req_schema, KW_API_API_VERSIONS, kwt_sample_api_versions_req());
    rt_check_all(&kw_api_versions_resp_schema, KW_API_API_VERSIONS,
                 kwt_sample_api_versions_resp());
}

static void test_librdkafka_v3_request_decodes_and_re_encodes(void)
{
    struct fx_frame f = fx_hex("0012 0003 00000001 0007 72646b61666b61 00"
                               "0b 6c696272646b61666b61 06 322e302e32 00");
    struct kw_reader r;
    struct kw_req_header h;
    struct kw_api_versions_req req;
    struct kw_arena a;
    kw_arena_init(&a);
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_req_header_read(&r, &h), 2);
    CU_ASSERT_EQUAL(kw_api_versions_req_decode(&r, h.api_version, &req, &a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    CU_ASSERT(h.api_key == KW_API_API_VERSIONS && h.correlation_id == 1);
    CU_ASSERT(kw_str_eq(h.client_id, "rdkafka"));
    CU_ASSERT(kw_str_eq(req.client_software_name, "librdkafka"));
    CU_ASSERT(kw_str_eq(req.client_software_version, "2.0.2"));

    struct kw_buf b;
    kw_buf_init(&b);
    kw_req_header_encode(&b, 2, &h);
    kw_api_versions_req_encode(&b, h.api_version, &req);
    CU_ASSERT(b.err == KW_OK && b.len == f.len && memcmp(b.data, f.data, f.len) == 0);
    kw_buf_release(&b);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_v0_answer_to_unsupported_version_matches_kafka(void)
{
    /* What a broker speaking 0..4 sends to ApiVersions v7 with correlation id 1. */
    struct fx_frame want = fx_hex("00000001 0023 00000001 0012 0000 0004");
    struct kw_api_versions_resp_key key = { .api_key = 18, .min_version = 0, .max_version = 4 };
    struct kw_api_versions_resp m = { .error_code = 35, .n_api_keys = 1, .api_keys = &key };
    struct kw_resp_header h = { .correlation_id = 1 };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_resp_header_version(KW_API_API_VERSIONS, 3), 0);
    kw_resp_header_encode(&b, 0, &h);
    kw_api_versions_resp_encode(&b, 0, &m);
    CU_ASSERT(b.err == KW_OK && b.len == want.len && memcmp(b.data, want.data, want.len) == 0);
    kw_buf_release(&b);
    fx_free(&want);
}

static void test_header_versions_follow_flexible_versions(void)
{
    CU_ASSERT_EQUAL(kw_req_header_version(KW_API_API_VERSIONS, 2), 1);
    CU_ASSERT_EQUAL(kw_req_header_version(KW_API_API_VERSIONS, 3), 2);
    CU_ASSERT_EQUAL(kw_req_header_version(KW_API_API_VERSIONS, 7), 2); /* future version */
    CU_ASSERT_EQUAL(kw_resp_header_version(KW_API_API_VERSIONS, 3), 0);
    CU_ASSERT_EQUAL(kw_req_header_version(7, 0), 0);    /* ControlledShutdown v0 */
}

static void test_unsupported_version_is_refused_by_the_codec(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_api_versions_req_encode(&b, 4, kwt_sample_api_versions_req()),
                    KW_ERR_VERSION);
    kw_buf_release(&b);
    static const uint8_t empty[1];
    struct kw_reader r;
    struct kw_api_versions_req req;
    struct kw_arena a;
    kw_arena_init(&a);
    kw_reader_init(&r, empty, 0);
    CU_ASSERT_EQUAL(kw_api_versions_req_decode(&r, -1, &req, &a), KW_ERR_VERSION);
    kw_arena_release(&a);
}

CU_TestInfo kwt_api_versions_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "librdkafka's v3 request decodes and re-encodes",
      test_librdkafka_v3_request_decodes_and_re_encodes },
    { "v0 answer to an unsupported version matches Kafka's",
      test_v0_answer_to_unsupported_version_matches_kafka },
    { "header versions follow flexible versions", test_header_versions_follow_flexible_versions },
    { "unsupported version is refused by the codec",
      test_unsupported_version_is_refused_by_the_codec },
    CU_TEST_INFO_NULL,
};
