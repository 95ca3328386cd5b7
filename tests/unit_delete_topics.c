/* DeleteTopics: TopicNames (v0-v5) against Topics by name or id (v6), hand-computed frames for
 * old and flexible versions, defaults, nullable names, unknown tags, hostile input. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/delete_topics.h"
#include "lib/proto/header.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static int dec_req(struct fx_dec *d, const char *hex, int v, struct kw_delete_topics_req *m)
{
    fx_dec_start(d, hex);
    return kw_delete_topics_req_decode(&d->r, v, m, &d->a);
}

static int dec_resp(struct fx_dec *d, const char *hex, int v, struct kw_delete_topics_resp *m)
{
    fx_dec_start(d, hex);
    return kw_delete_topics_resp_decode(&d->r, v, m, &d->a);
}

static bool field_is(const struct kw_reader *r, const char *name)
{
    return r->err_field != NULL && strcmp(r->err_field, name) == 0;
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_delete_topics_req_schema, KW_API_DELETE_TOPICS,
                 kwt_sample_delete_topics_req());
    rt_check_all(&kw_delete_topics_resp_schema, KW_API_DELETE_TOPICS,
                 kwt_sample_delete_topics_resp());
}

static void test_v0_and_v4_requests_match_hand_computed_bytes(void)
{
    static const char v0[] = "00000002"             /* TopicNames: ARRAY of 2 STRING */
                             "0001 61 0001 62"      /*   "a", "b" */
                             "000003e8";            /* TimeoutMs 1000 */
    static const char v4[] = "03 02 61 02 62"       /* TopicNames: COMPACT_ARRAY of 2 */
                             "000003e8 00";         /* TimeoutMs 1000, no tags */
    struct kw_str names[] = { kw_str_c("a"), kw_str_c("b") };
    struct kw_delete_topics_req_topic t = { .name = kw_str_c("not in v0-v5") };
    struct kw_delete_topics_req m = { .topics = &t, .n_topics = 1, .topic_names = names,
                                      .n_topic_names = 2, .timeout_ms = 1000 };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_delete_topics_req_encode(&b, 0, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, v0));
    kw_buf_reset(&b);
    CU_ASSERT_EQUAL(kw_delete_topics_req_encode(&b, 4, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, v4));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_delete_topics_req got;
    CU_ASSERT_EQUAL(dec_req(&d, v0, 0, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.timeout_ms, 1000);
    CU_ASSERT_EQUAL(got.n_topics, 0);
    CU_ASSERT(got.n_topic_names == 2 && kw_str_eq(got.topic_names[0], "a") &&
              kw_str_eq(got.topic_names[1], "b"));
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, v4, 4, &got), KW_OK);
    CU_ASSERT(got.n_topic_names == 2 && kw_str_eq(got.topic_names[1], "b"));
    fx_dec_done(&d);
}

static void test_v6_request_names_topics_by_name_or_id(void)
{
    static const char hex[] = "03"                                  /* Topics: 2 */
                              "02 61"                               /*   Name "a" */
                              "00000000000000000000000000000000 00" /*   TopicId zero, tags */
                              "00"                                  /*   Name null */
                              "ffffffffffffffffffffffffffffffff 00" /*   TopicId, tags */
                              "000003e8 00";                        /* TimeoutMs 1000, tags */
    struct kw_str names[] = { kw_str_c("dropped in v6") };
    struct kw_delete_topics_req_topic t[2] = { { .name = kw_str_c("a") },
                                               { .name = KW_STR_NULL } };
    memset(t[1].topic_id, 0xff, 16);
    struct kw_delete_topics_req m = { .topics = t, .n_topics = 2, .topic_names = names,
                                      .n_topic_names = 1, .timeout_ms = 1000 };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_delete_topics_req_encode(&b, 6, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_delete_topics_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 6, &got), KW_OK);
    CU_ASSERT_EQUAL(got.n_topic_names, 0);
    CU_ASSERT_EQUAL(got.n_topics, 2);
    if (got.n_topics == 2) {
        CU_ASSERT(kw_str_eq(got.topics[0].name, "a"));
        CU_ASSERT_EQUAL(got.topics[1].name.len, -1);
        CU_ASSERT_EQUAL(got.topics[1].topic_id[0], 0xff);
    }
    fx_dec_done(&d);
}

static void test_responses_match_hand_computed_bytes(void)
{
    struct kw_delete_topics_resp_result res = { .name = kw_str_c("a"), .error_code = 3,
                                                .error_message = KW_STR_NULL };
    struct kw_delete_topics_resp m = { .throttle_time_ms = 2, .responses = &res,
                                       .n_responses = 1 };
    static const struct { int v; const char *hex; } cases[] = {
        { 0, "00000001 0001 61 0003" },                 /* Responses: "a", ErrorCode 3 */
        { 1, "00000002 00000001 0001 61 0003" },        /* ThrottleTimeMs 2 first */
        { 4, "00000002 02 02 61 0003 00 00" },          /* compact; result tags, body tags */
        { 5, "00000002 02 02 61 0003 00 00 00" },       /* ErrorMessage null (compact 0) */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        CU_ASSERT_EQUAL(kw_delete_topics_resp_encode(&b, cases[i].v, &m), KW_OK);
        CU_ASSERT(fx_encoded_as(&b, cases[i].hex));
        kw_buf_release(&b);

        struct fx_dec d;
        struct kw_delete_topics_resp got;
        CU_ASSERT_EQUAL(dec_resp(&d, cases[i].hex, cases[i].v, &got), KW_OK);
        CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
        CU_ASSERT(got.n_responses == 1 && got.responses[0].error_code == 3 &&
                  kw_str_eq(got.responses[0].name, "a"));
        fx_dec_done(&d);
    }
}

static void test_fields_a_version_lacks_read_as_their_spec_defaults(void)
{
    struct fx_dec d;
    struct kw_delete_topics_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000001 0001 61 0003", 0, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.throttle_time_ms, 0);
    if (resp.n_responses == 1) {
        static const uint8_t zero[16];
        CU_ASSERT_EQUAL(resp.responses[0].error_message.len, -1);  /* "default": "null" */
        CU_ASSERT_EQUAL(memcmp(resp.responses[0].topic_id, zero, 16), 0);
    } else {
        CU_FAIL("v0 response did not decode into one result");
    }
    fx_dec_done(&d);

    struct kw_delete_topics_req_topic t;
    struct kw_delete_topics_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "02 00 00000000000000000000000000000001 00 00000064 00", 6, &req),
                    KW_OK);
    CU_ASSERT(req.n_topics == 1 && req.topics[0].name.len == -1 && req.topics[0].topic_id[15] == 1);
    fx_dec_done(&d);
    kw_schema_defaults(kw_delete_topics_req_schema.fields[0].sub, &t);
    CU_ASSERT_EQUAL(t.name.len, -1);                            /* "default": "null" */
}

static void test_a_null_result_name_is_read_only_from_v6(void)
{
    struct fx_dec d;
    struct kw_delete_topics_resp got;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 02 00 0003 00 00 00", 5, &got), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "Name"));
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 02 00 0102030405060708090a0b0c0d0e0f10 0003 00 00 00",
                             6, &got), KW_OK);
    CU_ASSERT(got.n_responses == 1 && got.responses[0].name.len == -1 &&
              got.responses[0].topic_id[0] == 1);
    fx_dec_done(&d);
}

static void test_unknown_tags_are_kept_raw_and_re_encoded(void)
{
    static const char hex[] = "02 02 61"                            /* Topics: 1, Name "a" */
                              "00000000000000000000000000000000"    /*   TopicId */
                              "01 04 02 abcd"                       /*   tag 4, 2 bytes */
                              "000003e8"                            /* TimeoutMs 1000 */
                              "02 00 00 01 01 ee";                  /* tags 0 (empty), 1 */
    struct fx_dec d;
    struct kw_delete_topics_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 6, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.tags.count, 2);
    CU_ASSERT(got.n_topics == 1 && got.topics[0].tags.count == 1 && got.topics[0].tags.len == 4);
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_delete_topics_req_encode(&b, 6, &got), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);
    fx_dec_done(&d);
}

static void test_hostile_counts_and_lengths_fail_cleanly(void)
{
    struct fx_dec d;
    struct kw_delete_topics_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "3b9aca00 0001 61 000003e8", 0, &req), KW_ERR_SHORT);
    CU_ASSERT(field_is(&d.r, "TopicNames"));
    CU_ASSERT_PTR_NULL(d.a.head);
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "8194ebdc03 02 61 000003e8 00", 4, &req), KW_ERR_SHORT);
    CU_ASSERT_PTR_NULL(d.a.head);
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "00000002 0001 61 ff00 000003e8", 0, &req), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "TopicNames"));
    CU_ASSERT_EQUAL(d.r.err_at, 9);
    fx_dec_done(&d);

    struct kw_delete_topics_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 00000001 fff0 0000", 1, &resp), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "Name"));
    fx_dec_done(&d);
}

static void test_unsupported_versions_are_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_delete_topics_req_encode(&b, 7, kwt_sample_delete_topics_req()),
                    KW_ERR_VERSION);
    kw_buf_release(&b);
    struct fx_dec d;
    struct kw_delete_topics_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 00000000", 7, &resp), KW_ERR_VERSION);
    fx_dec_done(&d);
}

CU_TestInfo kwt_delete_topics_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "v0 and v4 requests match hand-computed bytes",
      test_v0_and_v4_requests_match_hand_computed_bytes },
    { "v6 request names topics by name or id", test_v6_request_names_topics_by_name_or_id },
    { "responses match hand-computed bytes", test_responses_match_hand_computed_bytes },
    { "fields a version lacks read as their spec defaults",
      test_fields_a_version_lacks_read_as_their_spec_defaults },
    { "a null result name is read only from v6", test_a_null_result_name_is_read_only_from_v6 },
    { "unknown tags are kept raw and re-encoded", test_unknown_tags_are_kept_raw_and_re_encoded },
    { "hostile counts and lengths fail cleanly", test_hostile_counts_and_lengths_fail_cleanly },
    { "unsupported versions are refused", test_unsupported_versions_are_refused },
    CU_TEST_INFO_NULL,
};
