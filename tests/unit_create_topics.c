/* CreateTopics: hand-computed frames for old and flexible versions, manual assignments, the
 * tagged TopicConfigErrorCode, defaults of fields a version lacks, hostile counts and lengths. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/create_topics.h"
#include "lib/proto/header.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static int dec_req(struct fx_dec *d, const char *hex, int v, struct kw_create_topics_req *m)
{
    fx_dec_start(d, hex);
    return kw_create_topics_req_decode(&d->r, v, m, &d->a);
}

static int dec_resp(struct fx_dec *d, const char *hex, int v, struct kw_create_topics_resp *m)
{
    fx_dec_start(d, hex);
    return kw_create_topics_resp_decode(&d->r, v, m, &d->a);
}

static bool field_is(const struct kw_reader *r, const char *name)
{
    return r->err_field != NULL && strcmp(r->err_field, name) == 0;
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_create_topics_req_schema, KW_API_CREATE_TOPICS,
                 kwt_sample_create_topics_req());
    rt_check_all(&kw_create_topics_resp_schema, KW_API_CREATE_TOPICS,
                 kwt_sample_create_topics_resp());
}

static void test_v0_request_with_configs_matches_hand_computed_bytes(void)
{
    static const char hex[] = "00000001"            /* Topics: 1 */
                              "0001 74"             /*   Name "t" */
                              "00000003 0001"       /*   NumPartitions 3, ReplicationFactor 1 */
                              "00000000"            /*   Assignments: none */
                              "00000002"            /*   Configs: 2 */
                              "0001 78 0001 79"     /*     "x" = "y" */
                              "0001 7a ffff"        /*     "z" = null */
                              "00001388";           /* timeoutMs 5000 (no validateOnly in v0) */
    struct kw_create_topics_req_config cfg[2] = {
        { .name = kw_str_c("x"), .value = kw_str_c("y") },
        { .name = kw_str_c("z"), .value = KW_STR_NULL },
    };
    struct kw_create_topics_req_topic t = { .name = kw_str_c("t"), .num_partitions = 3,
                                            .replication_factor = 1, .configs = cfg,
                                            .n_configs = 2 };
    struct kw_create_topics_req m = { .topics = &t, .n_topics = 1, .timeout_ms = 5000,
                                      .validate_only = true };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_create_topics_req_encode(&b, 0, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_create_topics_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 0, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.timeout_ms, 5000);
    CU_ASSERT_FALSE(got.validate_only);
    if (got.n_topics == 1 && got.topics[0].n_configs == 2) {
        CU_ASSERT_EQUAL(got.topics[0].num_partitions, 3);
        CU_ASSERT_EQUAL(got.topics[0].replication_factor, 1);
        CU_ASSERT_EQUAL(got.topics[0].n_assignments, 0);
        CU_ASSERT(kw_str_eq(got.topics[0].configs[0].value, "y"));
        CU_ASSERT_EQUAL(got.topics[0].configs[1].value.len, -1);
    } else {
        CU_FAIL("v0 request did not decode into one topic with two configs");
    }
    fx_dec_done(&d);
}

static void test_v1_request_with_manual_assignment_matches_hand_computed_bytes(void)
{
    static const char hex[] = "00000001 0001 74"    /* Topics: 1, Name "t" */
                              "ffffffff ffff"       /*   NumPartitions -1, ReplicationFactor -1 */
                              "00000001"            /*   Assignments: 1 */
                              "00000000"            /*     PartitionIndex 0 */
                              "00000002 00000001 00000002"  /* BrokerIds [1, 2] */
                              "00000000"            /*   Configs: none */
                              "0000ea60"            /* timeoutMs 60000 */
                              "01";                 /* validateOnly true */
    int32_t brokers[] = { 1, 2 };
    struct kw_create_topics_req_assignment as = { .partition_index = 0, .broker_ids = brokers,
                                                  .n_broker_ids = 2 };
    struct kw_create_topics_req_topic t = { .name = kw_str_c("t"), .num_partitions = -1,
                                            .replication_factor = -1, .assignments = &as,
                                            .n_assignments = 1 };
    struct kw_create_topics_req m = { .topics = &t, .n_topics = 1, .timeout_ms = 60000,
                                      .validate_only = true };
    struct kw_buf b;
    kw_buf_init(&b);
    kw_create_topics_req_encode(&b, 1, &m);
    CU_ASSERT(fx_encoded_as(&b, hex));

    /* Flexible v5: compact counts and strings, a tag section after every struct. */
    kw_buf_reset(&b);
    kw_create_topics_req_encode(&b, 5, &m);
    CU_ASSERT(fx_encoded_as(&b, "02 02 74"             /* Topics: 1, Name "t" */
                             "ffffffff ffff"        /*   NumPartitions, ReplicationFactor */
                             "02 00000000"          /*   Assignments: 1, PartitionIndex 0 */
                             "03 00000001 00000002" /*     BrokerIds [1, 2] */
                             "00"                   /*     assignment tags */
                             "01 00"                /*   Configs: empty; topic tags */
                             "0000ea60 01 00"));    /* timeoutMs, validateOnly, tags */
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_create_topics_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 1, &got), KW_OK);
    CU_ASSERT_TRUE(got.validate_only);
    if (got.n_topics == 1 && got.topics[0].n_assignments == 1) {
        const struct kw_create_topics_req_assignment *ga = &got.topics[0].assignments[0];
        CU_ASSERT_EQUAL(ga->n_broker_ids, 2);
        CU_ASSERT(ga->n_broker_ids == 2 && ga->broker_ids[0] == 1 && ga->broker_ids[1] == 2);
        CU_ASSERT_EQUAL(got.topics[0].num_partitions, -1);
    } else {
        CU_FAIL("v1 request did not decode into one topic with one assignment");
    }
    fx_dec_done(&d);
}

static void test_v0_response_matches_hand_computed_bytes(void)
{
    static const char hex[] = "00000001"        /* Topics: 1 */
                              "0001 74 0024";   /*   Name "t", ErrorCode 36 (exists) */
    struct kw_create_topics_resp_topic t = { .name = kw_str_c("t"), .error_code = 36,
                                             .error_message = kw_str_c("dropped in v0") };
    struct kw_create_topics_resp m = { .throttle_time_ms = 7, .topics = &t, .n_topics = 1 };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_create_topics_resp_encode(&b, 0, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);
}

static void test_v5_response_writes_topic_config_error_code_as_tag_0(void)
{
    static const char hex[] = "00000000"        /* ThrottleTimeMs 0 */
                              "02 02 74"        /* Topics: 1, Name "t" */
                              "0000 00"         /*   ErrorCode 0, ErrorMessage null */
                              "00000003 0001"   /*   NumPartitions 3, ReplicationFactor 1 */
                              "00"              /*   Configs: null */
                              "01 00 02 0028"   /*   1 tag: TopicConfigErrorCode 40 */
                              "00";             /* no tagged fields */
    struct kw_create_topics_resp_topic t = { .name = kw_str_c("t"), .error_message = KW_STR_NULL,
                                             .topic_config_error_code = 40, .num_partitions = 3,
                                             .replication_factor = 1, .n_configs = -1 };
    struct kw_create_topics_resp m = { .topics = &t, .n_topics = 1 };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_create_topics_resp_encode(&b, 5, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));

    /* At its default (0) the tag is left out. */
    t.topic_config_error_code = 0;
    kw_buf_reset(&b);
    kw_create_topics_resp_encode(&b, 5, &m);
    CU_ASSERT(fx_encoded_as(&b, "00000000 02 02 74 0000 00 00000003 0001 00 00 00"));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_create_topics_resp got;
    CU_ASSERT_EQUAL(dec_resp(&d, hex, 5, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    if (got.n_topics == 1) {
        CU_ASSERT_EQUAL(got.topics[0].topic_config_error_code, 40);
        CU_ASSERT_EQUAL(got.topics[0].tags.count, 0);     /* known, so not kept raw */
        CU_ASSERT_EQUAL(got.topics[0].n_configs, -1);
        CU_ASSERT_EQUAL(got.topics[0].error_message.len, -1);
    } else {
        CU_FAIL("v5 response did not decode into one topic");
    }
    fx_dec_done(&d);
}

static void test_unknown_tags_beside_a_known_one_are_kept_and_re_encoded(void)
{
    static const char hex[] = "00000000 02 02 74 0000 00 00000003 0001 00"
                              "02"              /* 2 tags: */
                              "00 02 0028"      /*   0: TopicConfigErrorCode 40 (known) */
                              "03 01 ff"        /*   3: one byte (unknown) */
                              "01 09 00";       /* top level: 1 tag, 9, empty (unknown) */
    struct fx_dec d;
    struct kw_create_topics_resp got;
    CU_ASSERT_EQUAL(dec_resp(&d, hex, 6, &got), KW_OK);
    CU_ASSERT_EQUAL(got.tags.count, 1);
    CU_ASSERT_EQUAL(got.tags.len, 2);
    if (got.n_topics == 1) {
        CU_ASSERT_EQUAL(got.topics[0].topic_config_error_code, 40);
        CU_ASSERT_EQUAL(got.topics[0].tags.count, 1);
        CU_ASSERT_EQUAL(got.topics[0].tags.len, 3);
    }
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_create_topics_resp_encode(&b, 6, &got), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);
    fx_dec_done(&d);
}

static void test_a_known_tag_too_short_for_its_type_fails_naming_it(void)
{
    struct fx_dec d;
    struct kw_create_topics_resp got;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 02 02 74 0000 00 00000003 0001 00 01 00 01 28 00", 5,
                             &got), KW_ERR_SHORT);
    CU_ASSERT(field_is(&d.r, "TopicConfigErrorCode"));
    fx_dec_done(&d);
}

static void test_null_and_empty_response_configs_stay_distinct(void)
{
    struct kw_create_topics_resp_topic t = { .name = kw_str_c("t"), .n_configs = -1 };
    struct kw_create_topics_resp m = { .topics = &t, .n_topics = 1 };
    struct kw_arena a;
    kw_arena_init(&a);
    for (int32_t n = -1; n <= 0; n++) {
        t.n_configs = n;
        struct kw_buf b;
        kw_buf_init(&b);
        kw_create_topics_resp_encode(&b, 5, &m);
        struct kw_reader r;
        struct kw_create_topics_resp got;
        kw_reader_init(&r, b.data, b.len);
        CU_ASSERT_EQUAL(kw_create_topics_resp_decode(&r, 5, &got, &a), KW_OK);
        CU_ASSERT(got.n_topics == 1 && got.topics[0].n_configs == n);
        kw_buf_release(&b);
    }
    kw_arena_release(&a);
}

static void test_fields_a_version_lacks_read_as_their_spec_defaults(void)
{
    struct fx_dec d;
    struct kw_create_topics_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "00000000 000003e8", 0, &req), KW_OK);
    CU_ASSERT_FALSE(req.validate_only);
    CU_ASSERT_EQUAL(req.timeout_ms, 1000);
    fx_dec_done(&d);

    struct kw_create_topics_req fresh;
    kw_schema_defaults(&kw_create_topics_req_schema, &fresh);
    CU_ASSERT_EQUAL(fresh.timeout_ms, 60000);          /* "default": "60000" */

    struct kw_create_topics_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000001 0001 74 0024", 0, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.throttle_time_ms, 0);
    if (resp.n_topics == 1) {
        const struct kw_create_topics_resp_topic *t = &resp.topics[0];
        CU_ASSERT_EQUAL(t->error_code, 36);
        CU_ASSERT(kw_str_eq(t->error_message, ""));     /* no "null" default: Kafka's "" */
        CU_ASSERT_EQUAL(t->topic_config_error_code, 0);
        CU_ASSERT_EQUAL(t->num_partitions, -1);
        CU_ASSERT_EQUAL(t->replication_factor, -1);
        CU_ASSERT_EQUAL(t->n_configs, 0);
    } else {
        CU_FAIL("v0 response did not decode into one topic");
    }
    fx_dec_done(&d);
}

static void test_hostile_counts_and_lengths_fail_cleanly(void)
{
    struct fx_dec d;
    struct kw_create_topics_req req;
    /* Topics claims 1,000,000,000 entries in a 12-byte frame. */
    CU_ASSERT_EQUAL(dec_req(&d, "3b9aca00 0001 74 00000000", 0, &req), KW_ERR_SHORT);
    CU_ASSERT(field_is(&d.r, "Topics"));
    CU_ASSERT_PTR_NULL(d.a.head);
    fx_dec_done(&d);
    /* The same claim one level down, in Assignments. */
    CU_ASSERT_EQUAL(dec_req(&d, "00000001 0001 74 00000001 0001 3b9aca00 00000000 00000000"
                                "000003e8", 0, &req), KW_ERR_SHORT);
    CU_ASSERT(field_is(&d.r, "Assignments"));
    fx_dec_done(&d);
    /* A negative count that is not -1, and -1 where the array is not nullable. */
    CU_ASSERT_EQUAL(dec_req(&d, "00000001 0001 74 00000001 0001 00000001 00000000 fffffffe"
                                "00000000 000003e8", 0, &req), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "BrokerIds"));
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "ffffffff 000003e8", 0, &req), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "Topics"));
    fx_dec_done(&d);
    /* A config name of length -3. */
    CU_ASSERT_EQUAL(dec_req(&d, "00000001 0001 74 00000001 0001 00000000 00000001 fffd 0000"
                                "000003e8", 0, &req), KW_ERR_RANGE);
    CU_ASSERT(field_is(&d.r, "Name"));
    CU_ASSERT_EQUAL(d.r.err_at, 23);
    fx_dec_done(&d);
}

static void test_unsupported_versions_are_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_create_topics_req_encode(&b, 8, kwt_sample_create_topics_req()),
                    KW_ERR_VERSION);
    CU_ASSERT_EQUAL(b.len, 0);
    kw_buf_release(&b);
    struct fx_dec d;
    struct kw_create_topics_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 00", 8, &resp), KW_ERR_VERSION);
    fx_dec_done(&d);
}

/* Every single-byte corruption of the sample, at every version: the decoder either succeeds
 * (and what it read encodes again) or fails with an error; ASan and valgrind watch the reads. */
static void test_corrupted_samples_fail_cleanly_or_decode(void)
{
    const struct kw_schema *schemas[] = { &kw_create_topics_req_schema,
                                          &kw_create_topics_resp_schema };
    const void *samples[] = { kwt_sample_create_topics_req(), kwt_sample_create_topics_resp() };
    const struct kw_api *api = kw_api_find(KW_API_CREATE_TOPICS);
    struct kw_arena a;
    kw_arena_init(&a);
    unsigned bad = 0;
    for (int k = 0; k < 2; k++) {
        for (int v = api->min; v <= api->max; v++) {
            bool flex = kw_api_flexible(KW_API_CREATE_TOPICS, v);
            struct kw_buf b, again;
            kw_buf_init(&b);
            kw_schema_encode(&b, schemas[k], v, flex, samples[k]);
            for (size_t i = 0; i < b.len; i++) {
                uint8_t saved = b.data[i];
                b.data[i] ^= (uint8_t)(0x80 | i);
                union {
                    struct kw_create_topics_req req;
                    struct kw_create_topics_resp resp;
                } out;
                struct kw_reader r;
                kw_reader_init(&r, b.data, b.len);
                int e = kw_schema_decode(&r, schemas[k], v, flex, &out, &a);
                kw_buf_init(&again);
                if (e == KW_OK && kw_schema_encode(&again, schemas[k], v, flex, &out) != KW_OK)
                    bad++;
                if (e != KW_OK && (e >= 0 || r.err != e))
                    bad++;
                kw_buf_release(&again);
                kw_arena_reset(&a);
                b.data[i] = saved;
            }
            kw_buf_release(&b);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    kw_arena_release(&a);
}

CU_TestInfo kwt_create_topics_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "v0 request with configs matches hand-computed bytes",
      test_v0_request_with_configs_matches_hand_computed_bytes },
    { "v1 and v5 requests with a manual assignment match hand-computed bytes",
      test_v1_request_with_manual_assignment_matches_hand_computed_bytes },
    { "v0 response matches hand-computed bytes", test_v0_response_matches_hand_computed_bytes },
    { "v5 response writes TopicConfigErrorCode as tag 0",
      test_v5_response_writes_topic_config_error_code_as_tag_0 },
    { "unknown tags beside a known one are kept and re-encoded",
      test_unknown_tags_beside_a_known_one_are_kept_and_re_encoded },
    { "a known tag too short for its type fails naming it",
      test_a_known_tag_too_short_for_its_type_fails_naming_it },
    { "null and empty response configs stay distinct",
      test_null_and_empty_response_configs_stay_distinct },
    { "fields a version lacks read as their spec defaults",
      test_fields_a_version_lacks_read_as_their_spec_defaults },
    { "hostile counts and lengths fail cleanly", test_hostile_counts_and_lengths_fail_cleanly },
    { "unsupported versions are refused", test_unsupported_versions_are_refused },
    { "corrupted samples fail cleanly or decode", test_corrupted_samples_fail_cleanly_or_decode },
    CU_TEST_INFO_NULL,
};
