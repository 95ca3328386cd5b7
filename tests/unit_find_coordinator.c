/* FindCoordinator: one key (v0-v3) against batched keys (v4, KIP-699), hand-computed frames for
 * old and flexible versions, defaults of fields a version lacks, unknown tags, hostile input. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/find_coordinator.h"
#include "lib/proto/header.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static int dec_req(struct fx_dec *d, const char *hex, int v, struct kw_find_coordinator_req *m)
{
    fx_dec_start(d, hex);
    return kw_find_coordinator_req_decode(&d->r, v, m, &d->a);
}

static int dec_resp(struct fx_dec *d, const char *hex, int v, struct kw_find_coordinator_resp *m)
{
    fx_dec_start(d, hex);
    return kw_find_coordinator_resp_decode(&d->r, v, m, &d->a);
}

static bool field_is(const struct kw_reader *r, const char *name)
{
    return r->err_field != NULL && strcmp(r->err_field, name) == 0;
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_find_coordinator_req_schema, KW_API_FIND_COORDINATOR,
                 kwt_sample_find_coordinator_req());
    rt_check_all(&kw_find_coordinator_resp_schema, KW_API_FIND_COORDINATOR,
                 kwt_sample_find_coordinator_resp());
}

static void test_requests_match_hand_computed_bytes(void)
{
    struct kw_str keys[] = { kw_str_c("g1"), kw_str_c("g2") };
    struct kw_find_coordinator_req m = { .key = kw_str_c("g1"), .key_type = 1,
                                         .coordinator_keys = keys, .n_coordinator_keys = 2 };
    static const struct { int v; const char *hex; } cases[] = {
        { 0, "0002 6731" },                     /* Key "g1" (GroupCoordinator v0) */
        { 1, "0002 6731 01" },                  /* Key, KeyType 1 (transaction) */
        { 3, "03 6731 01 00" },                 /* COMPACT_STRING "g1", KeyType, no tags */
        { 4, "01 03 03 6731 03 6732 00" },      /* KeyType, CoordinatorKeys ["g1","g2"], tags */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int v = cases[i].v;
        struct kw_buf b;
        kw_buf_init(&b);
        CU_ASSERT_EQUAL(kw_find_coordinator_req_encode(&b, v, &m), KW_OK);
        CU_ASSERT(fx_encoded_as(&b, cases[i].hex));
        kw_buf_release(&b);

        struct fx_dec d;
        struct kw_find_coordinator_req got;
        CU_ASSERT_EQUAL(dec_req(&d, cases[i].hex, v, &got), KW_OK);
        CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
        CU_ASSERT_EQUAL(got.key_type, v >= 1 ? 1 : 0);
        if (v <= 3) {
            CU_ASSERT(kw_str_eq(got.key, "g1"));
            CU_ASSERT_EQUAL(got.n_coordinator_keys, 0);
        } else {
            CU_ASSERT(got.n_coordinator_keys == 2 && kw_str_eq(got.coordinator_keys[1], "g2"));
        }
        fx_dec_done(&d);
    }
}

static void test_responses_match_hand_computed_bytes(void)
{
    struct kw_find_coordinator_resp_coordinator c = {
        .key = kw_str_c("g1"), .node_id = 1, .host = kw_str_c("h"), .port = 9092,
        .error_code = 0, .error_message = KW_STR_NULL,
    };
    struct kw_find_coordinator_resp m = {
        .throttle_time_ms = 3, .error_code = 15, .error_message = kw_str_c("x"), .node_id = 1,
        .host = kw_str_c("h"), .port = 9092, .coordinators = &c, .n_coordinators = 1,
    };
    static const struct { int v; const char *hex; } cases[] = {
        /* ErrorCode 15, NodeId 1, Host "h", Port 9092 */
        { 0, "000f 00000001 0001 68 00002384" },
        /* ThrottleTimeMs 3, ErrorCode, ErrorMessage "x", NodeId, Host, Port */
        { 1, "00000003 000f 0001 78 00000001 0001 68 00002384" },
        /* the same, compact, then tags */
        { 3, "00000003 000f 02 78 00000001 02 68 00002384 00" },
        /* ThrottleTimeMs; Coordinators: Key "g1", NodeId 1, Host "h", Port, ErrorCode 0,
         * ErrorMessage null, tags; tags */
        { 4, "00000003 02 03 6731 00000001 02 68 00002384 0000 00 00 00" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int v = cases[i].v;
        struct kw_buf b;
        kw_buf_init(&b);
        CU_ASSERT_EQUAL(kw_find_coordinator_resp_encode(&b, v, &m), KW_OK);
        CU_ASSERT(fx_encoded_as(&b, cases[i].hex));
        kw_buf_release(&b);

        struct fx_dec d;
        struct kw_find_coordinator_resp got;
        CU_ASSERT_EQUAL(dec_resp(&d, cases[i].hex, v, &got), KW_OK);
        CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
        if (v <= 3) {
            CU_ASSERT_EQUAL(got.error_code, 15);
            CU_ASSERT_EQUAL(got.port, 9092);
            CU_ASSERT(kw_str_eq(got.host, "h"));
        } else {
            CU_ASSERT(got.n_coordinators == 1 && got.coordinators[0].port == 9092 &&
                      got.coordinators[0].error_message.len == -1);
        }
        fx_dec_done(&d);
    }
}

static void test_fields_a_version_lacks_read_as_their_spec_defaults(void)
{
    struct fx_dec d;
    struct kw_find_coordinator_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "0002 6731", 0, &req), KW_OK);
    CU_ASSERT_EQUAL(req.key_type, 0);                   /* a v0 request is for a group */
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "00 01 00", 4, &req), KW_OK);
    CU_ASSERT(kw_str_eq(req.key, ""));                  /* no "null" default: Kafka's "" */
    CU_ASSERT_EQUAL(req.n_coordinator_keys, 0);
    fx_dec_done(&d);

    struct kw_find_coordinator_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "0000 00000001 0001 68 00002384", 0, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.throttle_time_ms, 0);
    CU_ASSERT(kw_str_eq(resp.error_message, ""));
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 01 00", 4, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.error_code, 0);
    CU_ASSERT_EQUAL(resp.node_id, 0);
    CU_ASSERT(kw_str_eq(resp.host, ""));
    CU_ASSERT(kw_str_eq(resp.error_message, ""));
    fx_dec_done(&d);
}

static void test_error_message_is_nullable_from_v1(void)
{
    struct fx_dec d;
    struct kw_find_coordinator_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 0000 ffff 00000001 0001 68 00002384", 1, &resp),
                    KW_OK);
    CU_ASSERT_EQUAL(resp.error_message.len, -1);
    fx_dec_done(&d);
    /* Host is never nullable. */
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 0000 ffff 00000001 ffff 00002384", 1, &resp),
                    KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "Host"));
    fx_dec_done(&d);
}

static void test_unknown_tags_are_kept_raw_and_re_encoded(void)
{
    static const char hex[] = "00000000"                /* ThrottleTimeMs */
                              "03"                      /* Coordinators: 2 */
                              "02 61 00000001 02 68 00002384 0000 00"
                              "01 0a 03 010203"         /*   tag 10, 3 bytes (unknown) */
                              "02 62 00000002 02 68 00002385 0000 00"
                              "00"                      /*   no tags */
                              "01 00 01 07";            /* tag 0, 1 byte (unknown here) */
    struct fx_dec d;
    struct kw_find_coordinator_resp got;
    CU_ASSERT_EQUAL(dec_resp(&d, hex, 4, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT(got.tags.count == 1 && got.tags.len == 3);
    CU_ASSERT(got.n_coordinators == 2 && got.coordinators[0].tags.count == 1 &&
              got.coordinators[0].tags.len == 5 && got.coordinators[1].tags.count == 0);
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_find_coordinator_resp_encode(&b, 4, &got), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);
    fx_dec_done(&d);
}

static void test_hostile_counts_and_lengths_fail_cleanly(void)
{
    struct fx_dec d;
    struct kw_find_coordinator_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "00 8194ebdc03 03 6731 00", 4, &req), KW_ERR_SHORT);
    CU_ASSERT(field_is(&d.r, "CoordinatorKeys"));
    CU_ASSERT_PTR_NULL(d.a.head);
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "fffe 6731", 0, &req), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "Key"));
    CU_ASSERT_EQUAL(d.r.err_at, 2);
    fx_dec_done(&d);
    /* -1 (null) where the version has no null. */
    CU_ASSERT_EQUAL(dec_req(&d, "ffff 00", 1, &req), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "Key"));
    fx_dec_done(&d);
    /* A compact length beyond the frame. */
    CU_ASSERT_EQUAL(dec_req(&d, "7f 6731 01 00", 3, &req), KW_ERR_SHORT);
    fx_dec_done(&d);

    struct kw_find_coordinator_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 ffffffff0f", 4, &resp), KW_ERR_SHORT);
    CU_ASSERT(field_is(&d.r, "Coordinators"));
    fx_dec_done(&d);
}

static void test_unsupported_versions_are_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_find_coordinator_req_encode(&b, 5, kwt_sample_find_coordinator_req()),
                    KW_ERR_VERSION);
    kw_buf_release(&b);
    struct fx_dec d;
    struct kw_find_coordinator_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "00 01 00", 5, &req), KW_ERR_VERSION);
    fx_dec_done(&d);
}

CU_TestInfo kwt_find_coordinator_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "requests match hand-computed bytes", test_requests_match_hand_computed_bytes },
    { "responses match hand-computed bytes", test_responses_match_hand_computed_bytes },
    { "fields a version lacks read as their spec defaults",
      test_fields_a_version_lacks_read_as_their_spec_defaults },
    { "error message is nullable from v1", test_error_message_is_nullable_from_v1 },
    { "unknown tags are kept raw and re-encoded", test_unknown_tags_are_kept_raw_and_re_encoded },
    { "hostile counts and lengths fail cleanly", test_hostile_counts_and_lengths_fail_cleanly },
    { "unsupported versions are refused", test_unsupported_versions_are_refused },
    CU_TEST_INFO_NULL,
};
