/* Metadata: hand-computed frames for old and flexible versions, the v0/v1 change in what an
 * empty topic list means, defaults of fields a version lacks, unknown tags, hostile counts. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/metadata.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static int dec_req(struct fx_dec *d, const char *hex, int v, struct kw_metadata_req *m)
{
    fx_dec_start(d, hex);
    return kw_metadata_req_decode(&d->r, v, m, &d->a);
}

static int dec_resp(struct fx_dec *d, const char *hex, int v, struct kw_metadata_resp *m)
{
    fx_dec_start(d, hex);
    return kw_metadata_resp_decode(&d->r, v, m, &d->a);
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_metadata_req_schema, KW_API_METADATA, kwt_sample_metadata_req());
    rt_check_all(&kw_metadata_resp_schema, KW_API_METADATA, kwt_sample_metadata_resp());
}

static void test_v0_request_for_one_topic_matches_hand_computed_bytes(void)
{
    static const char hex[] = "00000001"    /* Topics: ARRAY, 1 element */
                              "0001 74";    /*   Name: STRING "t" */
    struct kw_metadata_req_topic t = { .name = kw_str_c("t") };
    struct kw_metadata_req m = { .topics = &t, .n_topics = 1, .allow_auto_topic_creation = true };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_req_encode(&b, 0, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 0, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.n_topics, 1);
    if (got.n_topics == 1 && got.topics != NULL)
        CU_ASSERT(kw_str_eq(got.topics[0].name, "t"));
    fx_dec_done(&d);
}

static void test_v4_request_carries_allow_auto_topic_creation(void)
{
    static const char hex[] = "00000002"    /* Topics: ARRAY, 2 elements */
                              "0001 61"     /*   Name "a" */
                              "0002 6263"   /*   Name "bc" */
                              "00";         /* AllowAutoTopicCreation: false */
    struct kw_metadata_req_topic t[2] = { { .name = kw_str_c("a") }, { .name = kw_str_c("bc") } };
    struct kw_metadata_req m = { .topics = t, .n_topics = 2 };
    struct kw_buf b;
    kw_buf_init(&b);
    kw_metadata_req_encode(&b, 4, &m);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 4, &got), KW_OK);
    CU_ASSERT_EQUAL(got.n_topics, 2);
    CU_ASSERT_FALSE(got.allow_auto_topic_creation);
    if (got.n_topics == 2 && got.topics != NULL)
        CU_ASSERT(kw_str_eq(got.topics[1].name, "bc"));
    fx_dec_done(&d);
}

static void test_v9_request_with_null_topics_matches_hand_computed_bytes(void)
{
    static const char hex[] = "00"      /* Topics: COMPACT_NULLABLE_ARRAY, null (all topics) */
                              "01"      /* AllowAutoTopicCreation: true */
                              "00"      /* IncludeClusterAuthorizedOperations (v8-v10): false */
                              "01"      /* IncludeTopicAuthorizedOperations: true */
                              "00";     /* no tagged fields */
    struct kw_metadata_req m = { .n_topics = -1, .allow_auto_topic_creation = true,
                                 .include_topic_authorized_operations = true };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_req_encode(&b, 9, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 9, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.n_topics, -1);
    CU_ASSERT_PTR_NULL(got.topics);
    CU_ASSERT_TRUE(got.allow_auto_topic_creation);
    CU_ASSERT_FALSE(got.include_cluster_authorized_operations);
    CU_ASSERT_TRUE(got.include_topic_authorized_operations);
    CU_ASSERT_EQUAL(got.tags.count, 0);
    fx_dec_done(&d);
}

static void test_v12_request_by_topic_id_matches_hand_computed_bytes(void)
{
    static const char hex[] = "02"                                  /* Topics: 1 element */
                              "000102030405060708090a0b0c0d0e0f"    /*   TopicId */
                              "00"                                  /*   Name: null */
                              "00"                                  /*   topic: no tags */
                              "00"                                  /* AllowAuto...: false */
                              "01"                                  /* IncludeTopicAuth...: true */
                              "00";                                 /* no tagged fields */
    struct kw_metadata_req_topic t = { .name = KW_STR_NULL };
    for (int i = 0; i < 16; i++)
        t.topic_id[i] = (uint8_t)i;
    struct kw_metadata_req m = { .topics = &t, .n_topics = 1,
                                 .include_cluster_authorized_operations = true, /* not in v12 */
                                 .include_topic_authorized_operations = true };
    struct kw_buf b;
    kw_buf_init(&b);
    kw_metadata_req_encode(&b, 12, &m);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 12, &got), KW_OK);
    CU_ASSERT_EQUAL(got.n_topics, 1);
    if (got.n_topics == 1 && got.topics != NULL) {
        CU_ASSERT_EQUAL(got.topics[0].name.len, -1);
        CU_ASSERT_EQUAL(got.topics[0].topic_id[15], 0x0f);
    }
    fx_dec_done(&d);
}

static void test_v0_response_matches_hand_computed_bytes(void)
{
    static const char hex[] = "00000001"            /* Brokers: 1 */
                              "00000000 0001 68"    /*   NodeId 0, Host "h" */
                              "00002384"            /*   Port 9092 */
                              "00000001"            /* Topics: 1 */
                              "0000 0001 74"        /*   ErrorCode 0, Name "t" */
                              "00000001"            /*   Partitions: 1 */
                              "0000 00000000"       /*     ErrorCode 0, PartitionIndex 0 */
                              "00000000"            /*     LeaderId 0 */
                              "00000001 00000000"   /*     ReplicaNodes [0] */
                              "00000001 00000000";  /*     IsrNodes [0] */
    int32_t node0 = 0;
    struct kw_metadata_resp_broker br = { .node_id = 0, .host = kw_str_c("h"), .port = 9092 };
    struct kw_metadata_resp_partition p = { .replica_nodes = &node0, .n_replica_nodes = 1,
                                            .isr_nodes = &node0, .n_isr_nodes = 1 };
    struct kw_metadata_resp_topic t = { .name = kw_str_c("t"), .partitions = &p,
                                        .n_partitions = 1 };
    struct kw_metadata_resp m = { .brokers = &br, .n_brokers = 1, .topics = &t, .n_topics = 1 };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_resp_encode(&b, 0, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_resp got;
    CU_ASSERT_EQUAL(dec_resp(&d, hex, 0, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.n_brokers, 1);
    CU_ASSERT_EQUAL(got.n_topics, 1);
    if (got.n_brokers == 1 && got.n_topics == 1 && got.topics[0].n_partitions == 1) {
        CU_ASSERT_EQUAL(got.brokers[0].port, 9092);
        CU_ASSERT(kw_str_eq(got.brokers[0].host, "h"));
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].n_isr_nodes, 1);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].isr_nodes[0], 0);
    }
    fx_dec_done(&d);
}

static void test_v9_response_matches_hand_computed_bytes(void)
{
    static const char hex[] = "0000000a"            /* ThrottleTimeMs 10 */
                              "02"                  /* Brokers: COMPACT_ARRAY, 1 */
                              "00000001 02 68"      /*   NodeId 1, Host "h" */
                              "00002384 00 00"      /*   Port 9092, Rack null, no tags */
                              "03 6331"             /* ClusterId "c1" */
                              "00000001"            /* ControllerId 1 */
                              "02"                  /* Topics: 1 */
                              "0000 02 74 00"       /*   ErrorCode 0, Name "t", IsInternal false */
                              "02"                  /*   Partitions: 1 */
                              "0000 00000000"       /*     ErrorCode 0, PartitionIndex 0 */
                              "00000001 00000005"   /*     LeaderId 1, LeaderEpoch 5 */
                              "02 00000001"         /*     ReplicaNodes [1] */
                              "02 00000001"         /*     IsrNodes [1] */
                              "01 00"               /*     OfflineReplicas [], no tags */
                              "80000000 00"         /*   TopicAuthorizedOperations unset, tags */
                              "80000000"            /* ClusterAuthorizedOperations unset */
                              "00";                 /* no tagged fields */
    int32_t node1 = 1;
    struct kw_metadata_resp_broker br = { .node_id = 1, .host = kw_str_c("h"), .port = 9092,
                                          .rack = KW_STR_NULL };
    struct kw_metadata_resp_partition p = { .leader_id = 1, .leader_epoch = 5,
                                            .replica_nodes = &node1, .n_replica_nodes = 1,
                                            .isr_nodes = &node1, .n_isr_nodes = 1 };
    struct kw_metadata_resp_topic t = { .name = kw_str_c("t"), .partitions = &p, .n_partitions = 1,
                                        .topic_authorized_operations = INT32_MIN };
    struct kw_metadata_resp m = { .throttle_time_ms = 10, .brokers = &br, .n_brokers = 1,
                                  .cluster_id = kw_str_c("c1"), .controller_id = 1,
                                  .topics = &t, .n_topics = 1,
                                  .cluster_authorized_operations = INT32_MIN };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_resp_encode(&b, 9, &m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_resp got;
    CU_ASSERT_EQUAL(dec_resp(&d, hex, 9, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT(kw_str_eq(got.cluster_id, "c1"));
    CU_ASSERT_EQUAL(got.controller_id, 1);
    if (got.n_brokers == 1 && got.n_topics == 1 && got.topics[0].n_partitions == 1) {
        CU_ASSERT_EQUAL(got.brokers[0].rack.len, -1);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].leader_epoch, 5);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].n_offline_replicas, 0);
    }
    fx_dec_done(&d);
}

static void test_null_and_empty_topic_lists_stay_distinct_from_v1(void)
{
    static const struct { int v; const char *null_hex, *empty_hex; } cases[] = {
        { 1, "ffffffff", "00000000" },
        { 9, "00 01 00 00 00", "01 01 00 00 00" },  /* compact: 0 null, 1 empty */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int v = cases[i].v;
        struct kw_metadata_req all = { .n_topics = -1, .allow_auto_topic_creation = true };
        struct kw_metadata_req none = { .n_topics = 0, .allow_auto_topic_creation = true };
        struct kw_buf b;
        kw_buf_init(&b);
        kw_metadata_req_encode(&b, v, &all);
        CU_ASSERT(fx_encoded_as(&b, cases[i].null_hex));
        kw_buf_reset(&b);
        kw_metadata_req_encode(&b, v, &none);
        CU_ASSERT(fx_encoded_as(&b, cases[i].empty_hex));
        kw_buf_release(&b);

        struct fx_dec d;
        struct kw_metadata_req got;
        CU_ASSERT_EQUAL(dec_req(&d, cases[i].null_hex, v, &got), KW_OK);
        CU_ASSERT_EQUAL(got.n_topics, -1);
        fx_dec_done(&d);
        CU_ASSERT_EQUAL(dec_req(&d, cases[i].empty_hex, v, &got), KW_OK);
        CU_ASSERT_EQUAL(got.n_topics, 0);
        fx_dec_done(&d);
    }
}

static void test_v0_writes_a_null_topic_list_as_empty_and_refuses_to_read_null(void)
{
    struct kw_metadata_req all = { .n_topics = -1 };
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_req_encode(&b, 0, &all), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, "00000000"));     /* v0's "all topics" */
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_req got;
    CU_ASSERT_EQUAL(dec_req(&d, "ffffffff", 0, &got), KW_ERR_RANGE);
    CU_ASSERT_PTR_NOT_NULL(d.r.err_field);
    if (d.r.err_field)
        CU_ASSERT_STRING_EQUAL(d.r.err_field, "Topics");
    fx_dec_done(&d);
}

static void test_fields_a_version_lacks_read_as_their_spec_defaults(void)
{
    struct fx_dec d;
    struct kw_metadata_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "00000000", 0, &req), KW_OK);
    CU_ASSERT_TRUE(req.allow_auto_topic_creation);     /* "default": "true" */
    CU_ASSERT_FALSE(req.include_cluster_authorized_operations);
    CU_ASSERT_FALSE(req.include_topic_authorized_operations);
    fx_dec_done(&d);

    struct kw_metadata_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000001 00000003 0001 68 00002384"
                                 "00000001 0000 0001 74"
                                 "00000001 0000 00000000 00000003 00000000 00000000",
                             0, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.throttle_time_ms, 0);
    CU_ASSERT_EQUAL(resp.cluster_id.len, -1);          /* "default": "null" */
    CU_ASSERT_EQUAL(resp.controller_id, -1);
    CU_ASSERT_EQUAL(resp.cluster_authorized_operations, INT32_MIN);
    if (resp.n_brokers == 1 && resp.n_topics == 1 && resp.topics[0].n_partitions == 1) {
        CU_ASSERT_EQUAL(resp.brokers[0].rack.len, -1);
        CU_ASSERT_FALSE(resp.topics[0].is_internal);
        CU_ASSERT_EQUAL(resp.topics[0].topic_authorized_operations, INT32_MIN);
        CU_ASSERT_EQUAL(resp.topics[0].partitions[0].leader_epoch, -1);
        CU_ASSERT_EQUAL(resp.topics[0].partitions[0].n_offline_replicas, 0);
        static const uint8_t zero[16];
        CU_ASSERT_EQUAL(memcmp(resp.topics[0].topic_id, zero, 16), 0);
    } else {
        CU_FAIL("v0 response did not decode into one broker, topic and partition");
    }
    fx_dec_done(&d);
}

static void test_fields_dropped_after_v10_read_as_defaults_at_v11(void)
{
    const struct kw_metadata_req *sreq = kwt_sample_metadata_req();
    const struct kw_metadata_resp *sresp = kwt_sample_metadata_resp();
    CU_ASSERT_TRUE(sreq->include_cluster_authorized_operations);
    CU_ASSERT_NOT_EQUAL(sresp->cluster_authorized_operations, INT32_MIN);

    struct kw_buf b;
    struct kw_arena a;
    struct kw_reader r;
    kw_buf_init(&b);
    kw_arena_init(&a);
    struct kw_metadata_req req;
    kw_metadata_req_encode(&b, 11, sreq);
    kw_reader_init(&r, b.data, b.len);
    CU_ASSERT_EQUAL(kw_metadata_req_decode(&r, 11, &req, &a), KW_OK);
    CU_ASSERT_FALSE(req.include_cluster_authorized_operations);
    CU_ASSERT_TRUE(req.include_topic_authorized_operations);

    struct kw_metadata_resp resp;
    kw_buf_reset(&b);
    kw_metadata_resp_encode(&b, 11, sresp);
    kw_reader_init(&r, b.data, b.len);
    CU_ASSERT_EQUAL(kw_metadata_resp_decode(&r, 11, &resp, &a), KW_OK);
    CU_ASSERT_EQUAL(resp.cluster_authorized_operations, INT32_MIN);
    CU_ASSERT_EQUAL(resp.throttle_time_ms, sresp->throttle_time_ms);
    kw_arena_release(&a);
    kw_buf_release(&b);
}

static void test_unknown_tags_are_kept_raw_and_re_encoded(void)
{
    static const char hex[] = "02"              /* Topics: 1 */
                              "02 74"           /*   Name "t" */
                              "01 05 01 aa"     /*   1 tag: tag 5, 1 byte aa (unknown) */
                              "01 00 01"        /* AllowAuto true, IncludeCluster false, */
                                                /* IncludeTopic true */
                              "02"              /* 2 tags: */
                              "07 02 bbcc"      /*   tag 7, 2 bytes */
                              "2a 00";          /*   tag 42, empty */
    struct fx_dec d;
    struct kw_metadata_req got;
    CU_ASSERT_EQUAL(dec_req(&d, hex, 10, &got), KW_ERR_SHORT);  /* v10 has a TopicId first */
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, hex, 9, &got), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.tags.count, 2);
    CU_ASSERT_EQUAL(got.tags.len, 6);
    if (got.n_topics == 1 && got.topics != NULL) {
        CU_ASSERT(kw_str_eq(got.topics[0].name, "t"));
        CU_ASSERT_EQUAL(got.topics[0].tags.count, 1);
        CU_ASSERT_EQUAL(got.topics[0].tags.len, 3);
    }
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_req_encode(&b, 9, &got), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_release(&b);
    fx_dec_done(&d);
}

static void test_a_billion_topics_in_a_short_frame_fail_before_any_allocation(void)
{
    struct fx_dec d;
    struct kw_metadata_req req;
    /* 1,000,000,000 = 0x3b9aca00; compact form 1e9+1 as LEB128 = 81 94 eb dc 03. */
    CU_ASSERT_EQUAL(dec_req(&d, "3b9aca00 0001 74", 1, &req), KW_ERR_SHORT);
    CU_ASSERT_EQUAL(d.r.err_at, 4);
    CU_ASSERT_PTR_NULL(d.a.head);       /* judged before the arena was touched */
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Topics") == 0);
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "8194ebdc03 02 74 00 01 00 01 00", 9, &req), KW_ERR_SHORT);
    CU_ASSERT_EQUAL(d.r.err_at, 5);
    CU_ASSERT_PTR_NULL(d.a.head);
    fx_dec_done(&d);

    struct kw_metadata_resp resp;       /* a nested count: the partitions of one topic */
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 00000001 0000 0001 74 3b9aca00 00000000", 0, &resp),
                    KW_ERR_SHORT);
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Partitions") == 0);
    fx_dec_done(&d);
}

static void test_negative_string_lengths_fail_naming_the_field(void)
{
    struct fx_dec d;
    struct kw_metadata_req req;
    CU_ASSERT_EQUAL(dec_req(&d, "00000001 fffe", 1, &req), KW_ERR_RANGE);
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Name") == 0);
    CU_ASSERT_EQUAL(d.r.err_at, 6);
    fx_dec_done(&d);
    /* -1 is null, which Name allows only from v10 (all flexible, where null is compact 0). */
    CU_ASSERT_EQUAL(dec_req(&d, "00000001 ffff", 1, &req), KW_ERR_RANGE);
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "02 00 00 01 00 00 00", 9, &req), KW_ERR_RANGE);
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Name") == 0);
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_req(&d, "02 00000000000000000000000000000000 00 00 01 00 00 00", 10, &req),
                    KW_OK);
    CU_ASSERT(req.n_topics == 1 && req.topics != NULL && req.topics[0].name.len == -1);
    fx_dec_done(&d);

    struct kw_metadata_resp resp;
    CU_ASSERT_EQUAL(dec_resp(&d, "00000001 00000000 8000 00002384 00000000", 0, &resp),
                    KW_ERR_RANGE);
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Host") == 0);
    fx_dec_done(&d);
}

static void test_unsupported_versions_are_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_req_encode(&b, 13, kwt_sample_metadata_req()), KW_ERR_VERSION);
    CU_ASSERT_EQUAL(b.len, 0);
    kw_buf_release(&b);
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_metadata_resp_encode(&b, -1, kwt_sample_metadata_resp()), KW_ERR_VERSION);
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_metadata_req req;
    struct kw_metadata_resp resp;
    CU_ASSERT_EQUAL(dec_req(&d, "00 01 00 00", 13, &req), KW_ERR_VERSION);
    fx_dec_done(&d);
    CU_ASSERT_EQUAL(dec_resp(&d, "00000000 00000000", 13, &resp), KW_ERR_VERSION);
    fx_dec_done(&d);
}

static void test_header_versions_follow_flexible_versions(void)
{
    CU_ASSERT_EQUAL(kw_req_header_version(KW_API_METADATA, 8), 1);
    CU_ASSERT_EQUAL(kw_req_header_version(KW_API_METADATA, 9), 2);
    CU_ASSERT_EQUAL(kw_resp_header_version(KW_API_METADATA, 8), 0);
    CU_ASSERT_EQUAL(kw_resp_header_version(KW_API_METADATA, 12), 1);
}

/* Every single-byte corruption of the sample, at every version: the decoder either succeeds
 * (and what it read encodes again) or fails with an error; ASan and valgrind watch the reads. */
static void test_corrupted_samples_fail_cleanly_or_decode(void)
{
    const struct kw_schema *schemas[] = { &kw_metadata_req_schema, &kw_metadata_resp_schema };
    const void *samples[] = { kwt_sample_metadata_req(), kwt_sample_metadata_resp() };
    const struct kw_api *api = kw_api_find(KW_API_METADATA);
    struct kw_arena a;
    kw_arena_init(&a);
    unsigned bad = 0;
    for (int k = 0; k < 2; k++) {
        for (int v = api->min; v <= api->max; v++) {
            bool flex = kw_api_flexible(KW_API_METADATA, v);
            struct kw_buf b, again;
            kw_buf_init(&b);
            kw_schema_encode(&b, schemas[k], v, flex, samples[k]);
            for (size_t i = 0; i < b.len; i++) {
                uint8_t saved = b.data[i];
                b.data[i] ^= (uint8_t)(0x80 | i);
                union {
                    struct kw_metadata_req req;
                    struct kw_metadata_resp resp;
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

CU_TestInfo kwt_metadata_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "v0 request for one topic matches hand-computed bytes",
      test_v0_request_for_one_topic_matches_hand_computed_bytes },
    { "v4 request carries AllowAutoTopicCreation",
      test_v4_request_carries_allow_auto_topic_creation },
    { "v9 request with null topics matches hand-computed bytes",
      test_v9_request_with_null_topics_matches_hand_computed_bytes },
    { "v12 request by topic id matches hand-computed bytes",
      test_v12_request_by_topic_id_matches_hand_computed_bytes },
    { "v0 response matches hand-computed bytes", test_v0_response_matches_hand_computed_bytes },
    { "v9 response matches hand-computed bytes", test_v9_response_matches_hand_computed_bytes },
    { "null and empty topic lists stay distinct from v1",
      test_null_and_empty_topic_lists_stay_distinct_from_v1 },
    { "v0 writes a null topic list as empty and refuses to read null",
      test_v0_writes_a_null_topic_list_as_empty_and_refuses_to_read_null },
    { "fields a version lacks read as their spec defaults",
      test_fields_a_version_lacks_read_as_their_spec_defaults },
    { "fields dropped after v10 read as defaults at v11",
      test_fields_dropped_after_v10_read_as_defaults_at_v11 },
    { "unknown tags are kept raw and re-encoded", test_unknown_tags_are_kept_raw_and_re_encoded },
    { "a billion topics in a short frame fail before any allocation",
      test_a_billion_topics_in_a_short_frame_fail_before_any_allocation },
    { "negative string lengths fail naming the field",
      test_negative_string_lengths_fail_naming_the_field },
    { "unsupported versions are refused", test_unsupported_versions_are_refused },
    { "header versions follow flexible versions", test_header_versions_follow_flexible_versions },
    { "corrupted samples fail cleanly or decode", test_corrupted_samples_fail_cleanly_or_decode },
    CU_TEST_INFO_NULL,
};
