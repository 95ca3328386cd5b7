/* Consumer-group codecs: their place in the advertised API list, round trips of every sample at
 * every version, hand-computed frames for two versions of each API, shape changes between
 * versions (LeaveGroup v3, OffsetCommit's timestamps, OffsetFetch's null topic list), defaults
 * and hostile counts. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/describe_groups.h"
#include "lib/proto/header.h"
#include "lib/proto/heartbeat.h"
#include "lib/proto/join_group.h"
#include "lib/proto/leave_group.h"
#include "lib/proto/offset_commit.h"
#include "lib/proto/offset_fetch.h"
#include "lib/proto/sync_group.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static const int group_keys[] = {
    KW_API_OFFSET_COMMIT, KW_API_OFFSET_FETCH, KW_API_JOIN_GROUP, KW_API_HEARTBEAT,
    KW_API_LEAVE_GROUP, KW_API_SYNC_GROUP, KW_API_DESCRIBE_GROUPS,
};
#define N_KEYS (sizeof(group_keys) / sizeof(group_keys[0]))

/* Encodes m at (key, v) and compares with hex; then decodes hex and checks it encodes back to
 * the same bytes with nothing left over. */
static void golden(const struct kw_schema *s, int key, int v, const void *m, const char *hex)
{
    bool flex = kw_api_flexible(key, v);
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_schema_encode(&b, s, v, flex, m), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    kw_buf_reset(&b);

    struct fx_dec d;
    fx_dec_start(&d, hex);
    union {
        struct kw_join_group_req a; struct kw_join_group_resp b; struct kw_sync_group_req c;
        struct kw_sync_group_resp d; struct kw_leave_group_req e; struct kw_leave_group_resp f;
        struct kw_offset_commit_req g; struct kw_offset_commit_resp h;
        struct kw_offset_fetch_req i; struct kw_offset_fetch_resp j;
        struct kw_describe_groups_req k; struct kw_describe_groups_resp l;
        struct kw_heartbeat_req m; struct kw_heartbeat_resp n;
    } out;
    CU_ASSERT_EQUAL(kw_schema_decode(&d.r, s, v, flex, &out, &d.a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(kw_schema_encode(&b, s, v, flex, &out), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, hex));
    fx_dec_done(&d);
    kw_buf_release(&b);
}

static void test_group_apis_are_advertised_with_their_codecs(void)
{
    int n;
    const struct kw_api *all = kw_api_all(&n);
    for (size_t k = 0; k < N_KEYS; k++) {
        int key = group_keys[k];
        const struct kw_api *api = kw_api_find(key);
        CU_ASSERT_PTR_NOT_NULL(api);
        if (api != NULL) {
            CU_ASSERT_STRING_EQUAL(api->name, kw_api_name(key));
            CU_ASSERT(api->req != NULL && api->resp != NULL);
            CU_ASSERT_TRUE(kw_api_supported(key, api->min));
            CU_ASSERT_TRUE(kw_api_supported(key, api->max));
            CU_ASSERT_FALSE(kw_api_supported(key, api->max + 1));
        }
        /* ApiVersions advertises kw_api_all(): each group API once, with the range find gives. */
        int seen = 0;
        for (int i = 0; i < n; i++) {
            if (all[i].key != key)
                continue;
            seen++;
            CU_ASSERT_PTR_EQUAL(&all[i], api);
        }
        CU_ASSERT_EQUAL(seen, 1);
    }
    CU_ASSERT_STRING_EQUAL(kw_api_name(KW_API_JOIN_GROUP), "JoinGroup");
    CU_ASSERT_PTR_NOT_NULL(kw_api_find(KW_API_PRODUCE));
}

static void test_header_versions_follow_each_apis_flexible_versions(void)
{
    static const struct { int key, last_rigid; } cases[] = {
        { KW_API_OFFSET_COMMIT, 7 }, { KW_API_OFFSET_FETCH, 5 }, { KW_API_JOIN_GROUP, 5 },
        { KW_API_HEARTBEAT, 3 }, { KW_API_LEAVE_GROUP, 3 }, { KW_API_SYNC_GROUP, 3 },
        { KW_API_DESCRIBE_GROUPS, 4 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int key = cases[i].key, v = cases[i].last_rigid;
        CU_ASSERT_EQUAL(kw_req_header_version(key, v), 1);
        CU_ASSERT_EQUAL(kw_req_header_version(key, v + 1), 2);
        CU_ASSERT_EQUAL(kw_resp_header_version(key, v), 0);
        CU_ASSERT_EQUAL(kw_resp_header_version(key, v + 1), 1);
    }
}

static void test_samples_round_trip_at_every_version(void)
{
    for (size_t k = 0; k < N_KEYS; k++) {
        const struct kw_api *api = kw_api_find(group_keys[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(api);
        CU_ASSERT_PTR_NOT_NULL(kwt_sample_req(api->key));
        CU_ASSERT_PTR_NOT_NULL(kwt_sample_resp(api->key));
        rt_check_all(api->req, api->key, kwt_sample_req(api->key));
        rt_check_all(api->resp, api->key, kwt_sample_resp(api->key));
    }
}

static void test_join_group_v0_and_v6_match_hand_computed_bytes(void)
{
    static const uint8_t meta[] = { 0x01, 0x02 };
    struct kw_join_group_req_protocol p = { kw_str_c("range"), { meta, 2 }, { 0 } };
    struct kw_join_group_req req = {
        .group_id = kw_str_c("g"), .session_timeout_ms = 30000, .rebalance_timeout_ms = 60000,
        .member_id = kw_str_c(""), .group_instance_id = KW_STR_NULL,
        .protocol_type = kw_str_c("consumer"), .protocols = &p, .n_protocols = 1,
    };
    golden(&kw_join_group_req_schema, KW_API_JOIN_GROUP, 0, &req,
           "0001 67"                    /* GroupId "g" */
           "00007530"                   /* SessionTimeoutMs 30000 (no rebalance timeout in v0) */
           "0000"                       /* MemberId "" */
           "0008 636f6e73756d6572"      /* ProtocolType "consumer" */
           "00000001"                   /* Protocols: 1 */
           "0005 72616e6765"            /*   Name "range" */
           "00000002 0102");            /*   Metadata: 2 bytes */
    golden(&kw_join_group_req_schema, KW_API_JOIN_GROUP, 6, &req,
           "02 67"                      /* GroupId: COMPACT_STRING "g" */
           "00007530 0000ea60"          /* SessionTimeoutMs, RebalanceTimeoutMs 60000 */
           "01"                         /* MemberId "" */
           "00"                         /* GroupInstanceId null */
           "09 636f6e73756d6572"        /* ProtocolType */
           "02 06 72616e6765 03 0102 00"    /* Protocols: 1 {Name, Metadata, no tags} */
           "00");                       /* no tagged fields */

    struct kw_join_group_resp_member mem = { kw_str_c("m"), KW_STR_NULL, { meta, 2 }, { 0 } };
    struct kw_join_group_resp resp = {
        .generation_id = 1, .protocol_type = kw_str_c("consumer"), .protocol_name = KW_STR_NULL,
        .leader = kw_str_c("m"), .member_id = kw_str_c("m"), .members = &mem, .n_members = 1,
    };
    golden(&kw_join_group_resp_schema, KW_API_JOIN_GROUP, 7, &resp,
           "00000000 0000 00000001"     /* ThrottleTimeMs, ErrorCode, GenerationId 1 */
           "09 636f6e73756d6572"        /* ProtocolType "consumer" (v7+) */
           "00"                         /* ProtocolName null (nullable from v7) */
           "02 6d 02 6d"                /* Leader "m", MemberId "m" */
           "02 02 6d 00 03 0102 00"     /* Members: 1 {MemberId, GroupInstanceId null, ...} */
           "00");
    resp.protocol_name = kw_str_c("range");
    golden(&kw_join_group_resp_schema, KW_API_JOIN_GROUP, 0, &resp,
           "0000 00000001"              /* ErrorCode, GenerationId */
           "0005 72616e6765"            /* ProtocolName "range" */
           "0001 6d 0001 6d"            /* Leader, MemberId */
           "00000001 0001 6d 00000002 0102");

    struct fx_dec d;        /* and through the typed decoder, with v0's absent fields */
    struct kw_join_group_req got;
    fx_dec_start(&d, "0001 67 00007530 0000 0008 636f6e73756d6572 00000000");
    CU_ASSERT_EQUAL(kw_join_group_req_decode(&d.r, 0, &got, &d.a), KW_OK);
    CU_ASSERT_EQUAL(got.session_timeout_ms, 30000);
    CU_ASSERT_EQUAL(got.rebalance_timeout_ms, -1);
    CU_ASSERT_EQUAL(got.group_instance_id.len, -1);
    CU_ASSERT_EQUAL(got.member_id.len, 0);
    CU_ASSERT_EQUAL(got.n_protocols, 0);
    fx_dec_done(&d);
}

static void test_sync_group_v0_and_v5_match_hand_computed_bytes(void)
{
    static const uint8_t asg[] = { 0x01, 0x02 };
    struct kw_sync_group_req_assignment a = { kw_str_c("m"), { asg, 2 }, { 0 } };
    struct kw_sync_group_req req = {
        .group_id = kw_str_c("g"), .generation_id = 1, .member_id = kw_str_c("m"),
        .group_instance_id = KW_STR_NULL, .protocol_type = kw_str_c("consumer"),
        .protocol_name = kw_str_c("range"), .assignments = &a, .n_assignments = 1,
    };
    golden(&kw_sync_group_req_schema, KW_API_SYNC_GROUP, 0, &req,
           "0001 67 00000001 0001 6d"   /* GroupId, GenerationId, MemberId */
           "00000001 0001 6d 00000002 0102");   /* Assignments: 1 {MemberId, Assignment} */
    req.n_assignments = 0;      /* a follower's request */
    golden(&kw_sync_group_req_schema, KW_API_SYNC_GROUP, 5, &req,
           "02 67 00000001 02 6d"
           "00"                         /* GroupInstanceId null */
           "09 636f6e73756d6572"        /* ProtocolType (v5+) */
           "06 72616e6765"              /* ProtocolName (v5+) */
           "01"                         /* Assignments: empty */
           "00");

    struct kw_sync_group_resp resp = { .throttle_time_ms = 5, .protocol_type = KW_STR_NULL,
                                       .protocol_name = KW_STR_NULL, .assignment = { asg, 2 } };
    golden(&kw_sync_group_resp_schema, KW_API_SYNC_GROUP, 0, &resp, "0000 00000002 0102");
    golden(&kw_sync_group_resp_schema, KW_API_SYNC_GROUP, 4, &resp,
           "00000005 0000 03 0102 00");

    struct fx_dec d;
    struct kw_sync_group_resp got;
    fx_dec_start(&d, "00000005 0000 00 06 72616e6765 03 0102 00");
    CU_ASSERT_EQUAL(kw_sync_group_resp_decode(&d.r, 5, &got, &d.a), KW_OK);
    CU_ASSERT_EQUAL(got.protocol_type.len, -1);
    CU_ASSERT(kw_str_eq(got.protocol_name, "range"));
    CU_ASSERT(got.assignment.len == 2 && got.assignment.ptr[1] == 0x02);
    fx_dec_done(&d);
}

static void test_heartbeat_v0_and_v4_match_hand_computed_bytes(void)
{
    struct kw_heartbeat_req req = { .group_id = kw_str_c("g"), .generation_id = 1,
                                    .member_id = kw_str_c("m"), .group_instance_id = KW_STR_NULL };
    golden(&kw_heartbeat_req_schema, KW_API_HEARTBEAT, 0, &req, "0001 67 00000001 0001 6d");
    golden(&kw_heartbeat_req_schema, KW_API_HEARTBEAT, 4, &req, "02 67 00000001 02 6d 00 00");
    req.group_instance_id = kw_str_c("i");
    golden(&kw_heartbeat_req_schema, KW_API_HEARTBEAT, 3, &req,
           "0001 67 00000001 0001 6d 0001 69");

    struct kw_heartbeat_resp resp = { .throttle_time_ms = 5, .error_code = 27 };
    golden(&kw_heartbeat_resp_schema, KW_API_HEARTBEAT, 0, &resp, "001b");
    golden(&kw_heartbeat_resp_schema, KW_API_HEARTBEAT, 4, &resp, "00000005 001b 00");

    struct fx_dec d;
    struct kw_heartbeat_resp got;
    fx_dec_start(&d, "001b");
    CU_ASSERT_EQUAL(kw_heartbeat_resp_decode(&d.r, 0, &got, &d.a), KW_OK);
    CU_ASSERT_EQUAL(got.error_code, 27);
    CU_ASSERT_EQUAL(got.throttle_time_ms, 0);
    fx_dec_done(&d);
}

static void test_leave_group_changes_shape_at_v3(void)
{
    struct kw_leave_group_req_member mem = { kw_str_c("m"), KW_STR_NULL, { 0 } };
    struct kw_leave_group_req req = { .group_id = kw_str_c("g"), .member_id = kw_str_c("m"),
                                      .members = &mem, .n_members = 1 };
    golden(&kw_leave_group_req_schema, KW_API_LEAVE_GROUP, 0, &req, "0001 67 0001 6d");
    golden(&kw_leave_group_req_schema, KW_API_LEAVE_GROUP, 3, &req,
           "0001 67 00000001 0001 6d ffff");    /* GroupId, Members [{m, null}] */
    golden(&kw_leave_group_req_schema, KW_API_LEAVE_GROUP, 4, &req,
           "02 67 02 02 6d 00 00 00");

    struct kw_leave_group_resp_member rm = { kw_str_c("m"), KW_STR_NULL, 25, { 0 } };
    struct kw_leave_group_resp resp = { .members = &rm, .n_members = 1 };
    golden(&kw_leave_group_resp_schema, KW_API_LEAVE_GROUP, 0, &resp, "0000");
    golden(&kw_leave_group_resp_schema, KW_API_LEAVE_GROUP, 3, &resp,
           "00000000 0000 00000001 0001 6d ffff 0019");

    struct fx_dec d;
    struct kw_leave_group_req got;
    fx_dec_start(&d, "0001 67 00000001 0001 6d ffff");
    CU_ASSERT_EQUAL(kw_leave_group_req_decode(&d.r, 3, &got, &d.a), KW_OK);
    CU_ASSERT_EQUAL(got.member_id.len, 0);      /* v0-v2 only */
    CU_ASSERT_EQUAL(got.n_members, 1);
    if (got.n_members == 1 && got.members != NULL) {
        CU_ASSERT(kw_str_eq(got.members[0].member_id, "m"));
        CU_ASSERT_EQUAL(got.members[0].group_instance_id.len, -1);
    }
    fx_dec_done(&d);
}

static void test_offset_commit_v0_v2_and_v8_match_hand_computed_bytes(void)
{
    struct kw_offset_commit_req_partition p = {
        .partition_index = 0, .committed_offset = 5, .committed_leader_epoch = -1,
        .commit_timestamp = -1, .committed_metadata = KW_STR_NULL,
    };
    struct kw_offset_commit_req_topic t = { kw_str_c("t"), &p, 1, { 0 } };
    struct kw_offset_commit_req req = {
        .group_id = kw_str_c("g"), .generation_id_or_member_epoch = 1, .member_id = kw_str_c("m"),
        .group_instance_id = KW_STR_NULL, .retention_time_ms = -1, .topics = &t, .n_topics = 1,
    };
    golden(&kw_offset_commit_req_schema, KW_API_OFFSET_COMMIT, 0, &req,
           "0001 67"                    /* GroupId */
           "00000001 0001 74"           /* Topics: 1, Name "t" */
           "00000001 00000000"          /*   Partitions: 1, PartitionIndex 0 */
           "0000000000000005 ffff");    /*   CommittedOffset 5, CommittedMetadata null */
    golden(&kw_offset_commit_req_schema, KW_API_OFFSET_COMMIT, 2, &req,
           "0001 67 00000001 0001 6d"   /* GroupId, GenerationId 1, MemberId "m" */
           "ffffffffffffffff"           /* RetentionTimeMs -1 (v2-v4) */
           "00000001 0001 74 00000001 00000000 0000000000000005 ffff");
    golden(&kw_offset_commit_req_schema, KW_API_OFFSET_COMMIT, 8, &req,
           "02 67 00000001 02 6d"
           "00"                         /* GroupInstanceId null (v7+) */
           "02 02 74"                   /* Topics: 1, Name "t" */
           "02 00000000 0000000000000005"
           "ffffffff"                   /*   CommittedLeaderEpoch -1 (v6+) */
           "00 00"                      /*   CommittedMetadata null, no tags */
           "00 00");                    /* topic tags, tags */

    struct kw_offset_commit_resp_partition rp = { 0, 22, { 0 } };
    struct kw_offset_commit_resp_topic rt = { kw_str_c("t"), &rp, 1, { 0 } };
    struct kw_offset_commit_resp resp = { .throttle_time_ms = 7, .topics = &rt, .n_topics = 1 };
    golden(&kw_offset_commit_resp_schema, KW_API_OFFSET_COMMIT, 0, &resp,
           "00000001 0001 74 00000001 00000000 0016");
    golden(&kw_offset_commit_resp_schema, KW_API_OFFSET_COMMIT, 8, &resp,
           "00000007 02 02 74 02 00000000 0016 00 00 00");
}

static void test_offset_commit_timestamp_lives_only_in_v1(void)
{
    struct kw_offset_commit_req_partition p = {
        .partition_index = 3, .committed_offset = 9, .committed_leader_epoch = 2,
        .commit_timestamp = 1000, .committed_metadata = kw_str_c(""),
    };
    struct kw_offset_commit_req_topic t = { kw_str_c("t"), &p, 1, { 0 } };
    struct kw_offset_commit_req req = { .group_id = kw_str_c("g"),
                                        .generation_id_or_member_epoch = -1,
                                        .member_id = kw_str_c(""), .retention_time_ms = 50,
                                        .topics = &t, .n_topics = 1 };
    golden(&kw_offset_commit_req_schema, KW_API_OFFSET_COMMIT, 1, &req,
           "0001 67 ffffffff 0000"      /* GroupId, no generation, MemberId "" */
           "00000001 0001 74 00000001 00000003 0000000000000009"
           "00000000000003e8"           /* CommitTimestamp 1000 (v1 only) */
           "0000");                     /* CommittedMetadata "" */

    struct fx_dec d;            /* v5: neither timestamp nor retention; both read as -1 */
    struct kw_offset_commit_req got;
    fx_dec_start(&d, "0001 67 00000001 0001 6d 00000001 0001 74 00000001 00000003"
                     "0000000000000009 0000");
    CU_ASSERT_EQUAL(kw_offset_commit_req_decode(&d.r, 5, &got, &d.a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&d.r), 0);
    CU_ASSERT_EQUAL(got.retention_time_ms, -1);
    CU_ASSERT_EQUAL(got.group_instance_id.len, -1);
    if (got.n_topics == 1 && got.topics[0].n_partitions == 1) {
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].commit_timestamp, -1);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].committed_leader_epoch, -1);
        CU_ASSERT_EQUAL(got.topics[0].partitions[0].committed_offset, 9);
    } else {
        CU_FAIL("v5 request did not decode into one topic and partition");
    }
    fx_dec_done(&d);

    fx_dec_start(&d, "0001 67 00000001 0001 74 00000001 00000000 0000000000000005 ffff");
    CU_ASSERT_EQUAL(kw_offset_commit_req_decode(&d.r, 0, &got, &d.a), KW_OK);
    CU_ASSERT_EQUAL(got.generation_id_or_member_epoch, -1);
    CU_ASSERT_EQUAL(got.member_id.len, 0);
    fx_dec_done(&d);
}

static void test_offset_fetch_v1_and_v6_match_hand_computed_bytes(void)
{
    int32_t parts[] = { 0, 1 };
    struct kw_offset_fetch_req_topic t = { kw_str_c("t"), parts, 2, { 0 } };
    struct kw_offset_fetch_req req = { .group_id = kw_str_c("g"), .topics = &t, .n_topics = 1 };
    golden(&kw_offset_fetch_req_schema, KW_API_OFFSET_FETCH, 1, &req,
           "0001 67 00000001 0001 74 00000002 00000000 00000001");
    golden(&kw_offset_fetch_req_schema, KW_API_OFFSET_FETCH, 6, &req,
           "02 67 02 02 74 03 00000000 00000001 00 00");

    struct kw_offset_fetch_resp_partition p = { .partition_index = 0, .committed_offset = 5,
                                                .committed_leader_epoch = 2,
                                                .metadata = kw_str_c(""), .error_code = 0 };
    struct kw_offset_fetch_resp_topic rt = { kw_str_c("t"), &p, 1, { 0 } };
    struct kw_offset_fetch_resp resp = { .topics = &rt, .n_topics = 1, .error_code = 16 };
    golden(&kw_offset_fetch_resp_schema, KW_API_OFFSET_FETCH, 1, &resp,
           "00000001 0001 74 00000001 00000000 0000000000000005"
           "0000 0000");                /* Metadata "", ErrorCode (no group-level code in v1) */
    p.metadata = KW_STR_NULL;
    golden(&kw_offset_fetch_resp_schema, KW_API_OFFSET_FETCH, 6, &resp,
           "00000000"                   /* ThrottleTimeMs */
           "02 02 74 02 00000000 0000000000000005"
           "00000002"                   /*   CommittedLeaderEpoch 2 (v5+) */
           "00 0000 00"                 /*   Metadata null, ErrorCode, no tags */
           "00"                         /* topic tags */
           "0010 00");                  /* ErrorCode 16 (v2+), tags */
}

static void test_offset_fetch_null_topics_mean_all_from_v2_only(void)
{
    struct kw_offset_fetch_req all = { .group_id = kw_str_c("g"), .n_topics = -1,
                                       .require_stable = true };
    golden(&kw_offset_fetch_req_schema, KW_API_OFFSET_FETCH, 2, &all, "0001 67 ffffffff");
    golden(&kw_offset_fetch_req_schema, KW_API_OFFSET_FETCH, 7, &all, "02 67 00 01 00");

    struct kw_buf b;            /* v1 cannot say "all": null goes out as empty */
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_offset_fetch_req_encode(&b, 1, &all), KW_OK);
    CU_ASSERT(fx_encoded_as(&b, "0001 67 00000000"));
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_offset_fetch_req got;
    fx_dec_start(&d, "0001 67 ffffffff");
    CU_ASSERT_EQUAL(kw_offset_fetch_req_decode(&d.r, 1, &got, &d.a), KW_ERR_RANGE);
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Topics") == 0);
    fx_dec_done(&d);
    fx_dec_start(&d, "02 67 00 01 00");
    CU_ASSERT_EQUAL(kw_offset_fetch_req_decode(&d.r, 7, &got, &d.a), KW_OK);
    CU_ASSERT_EQUAL(got.n_topics, -1);
    CU_ASSERT_TRUE(got.require_stable);
    fx_dec_done(&d);
}

static void test_describe_groups_v0_and_v5_match_hand_computed_bytes(void)
{
    struct kw_str names[] = { kw_str_c("g") };
    struct kw_describe_groups_req req = { .groups = names, .n_groups = 1,
                                          .include_authorized_operations = true };
    golden(&kw_describe_groups_req_schema, KW_API_DESCRIBE_GROUPS, 0, &req, "00000001 0001 67");
    golden(&kw_describe_groups_req_schema, KW_API_DESCRIBE_GROUPS, 5, &req, "02 02 67 01 00");

    struct kw_describe_groups_resp_member mem = {
        .member_id = kw_str_c("m"), .group_instance_id = KW_STR_NULL, .client_id = kw_str_c("c"),
        .client_host = kw_str_c("h"), .member_metadata = { (const uint8_t *)"", 0 },
        .member_assignment = { (const uint8_t *)"", 0 },
    };
    struct kw_describe_groups_resp_group g = {
        .group_id = kw_str_c("g"), .group_state = kw_str_c("Stable"),
        .protocol_type = kw_str_c(""), .protocol_data = kw_str_c(""),
        .members = &mem, .n_members = 1, .authorized_operations = INT32_MIN,
    };
    struct kw_describe_groups_resp resp = { .groups = &g, .n_groups = 1 };
    golden(&kw_describe_groups_resp_schema, KW_API_DESCRIBE_GROUPS, 0, &resp,
           "00000001 0000 0001 67"      /* Groups: 1, ErrorCode, GroupId */
           "0006 537461626c65"          /*   GroupState "Stable" */
           "0000 0000"                  /*   ProtocolType "", ProtocolData "" */
           "00000001 0001 6d"           /*   Members: 1, MemberId */
           "0001 63 0001 68"            /*     ClientId "c", ClientHost "h" */
           "00000000 00000000");        /*     MemberMetadata, MemberAssignment: empty */
    golden(&kw_describe_groups_resp_schema, KW_API_DESCRIBE_GROUPS, 5, &resp,
           "00000000"                   /* ThrottleTimeMs */
           "02 0000 02 67 07 537461626c65 01 01"
           "02 02 6d 00 02 63 02 68 01 01 00"   /* member: ..., GroupInstanceId null, tags */
           "80000000"                   /*   AuthorizedOperations: not provided */
           "00 00");

    struct fx_dec d;
    struct kw_describe_groups_resp got;
    fx_dec_start(&d, "00000001 0000 0001 67 0006 537461626c65 0000 0000 00000000");
    CU_ASSERT_EQUAL(kw_describe_groups_resp_decode(&d.r, 0, &got, &d.a), KW_OK);
    if (got.n_groups == 1 && got.groups != NULL) {
        CU_ASSERT(kw_str_eq(got.groups[0].group_state, "Stable"));
        CU_ASSERT_EQUAL(got.groups[0].authorized_operations, INT32_MIN);
        CU_ASSERT_EQUAL(got.groups[0].n_members, 0);
    } else {
        CU_FAIL("v0 response did not decode into one group");
    }
    fx_dec_done(&d);
}

static void test_versions_past_our_range_are_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_join_group_req_encode(&b, 8, kwt_sample_join_group_req()),
                    KW_ERR_VERSION);
    CU_ASSERT_EQUAL(b.len, 0);
    kw_buf_release(&b);
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_offset_commit_resp_encode(&b, 9, kwt_sample_offset_commit_resp()),
                    KW_ERR_VERSION);
    kw_buf_release(&b);
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_leave_group_req_encode(&b, -1, kwt_sample_leave_group_req()),
                    KW_ERR_VERSION);
    kw_buf_release(&b);

    struct fx_dec d;
    struct kw_offset_fetch_req of;
    fx_dec_start(&d, "02 02 67 00 00 00 00");   /* a v8 request: Groups [...] */
    CU_ASSERT_EQUAL(kw_offset_fetch_req_decode(&d.r, 8, &of, &d.a), KW_ERR_VERSION);
    fx_dec_done(&d);
    struct kw_heartbeat_resp hb;
    fx_dec_start(&d, "00000000 0000 00");
    CU_ASSERT_EQUAL(kw_heartbeat_resp_decode(&d.r, 5, &hb, &d.a), KW_ERR_VERSION);
    fx_dec_done(&d);
}

static void test_huge_counts_in_short_frames_fail_before_any_allocation(void)
{
    struct fx_dec d;
    struct kw_offset_commit_req oc;     /* a billion partitions under one topic */
    fx_dec_start(&d, "0001 67 00000001 0001 74 3b9aca00 00000000");
    CU_ASSERT_EQUAL(kw_offset_commit_req_decode(&d.r, 0, &oc, &d.a), KW_ERR_SHORT);
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Partitions") == 0);
    fx_dec_done(&d);

    struct kw_describe_groups_req dg;   /* compact count 1e9+1 */
    fx_dec_start(&d, "8194ebdc03 02 67 00 00");
    CU_ASSERT_EQUAL(kw_describe_groups_req_decode(&d.r, 5, &dg, &d.a), KW_ERR_SHORT);
    CU_ASSERT_PTR_NULL(d.a.head);
    fx_dec_done(&d);

    struct kw_join_group_req jg;        /* Metadata claims 2 GB */
    fx_dec_start(&d, "0001 67 00007530 0000 0000 00000001 0001 72 7fffffff 00");
    CU_ASSERT_EQUAL(kw_join_group_req_decode(&d.r, 0, &jg, &d.a), KW_ERR_SHORT);
    CU_ASSERT(d.r.err_field != NULL && strcmp(d.r.err_field, "Metadata") == 0);
    fx_dec_done(&d);
}

/* Every single-byte corruption of every sample at every version: the decoder succeeds (and what
 * it read encodes again) or fails with a negative error; ASan and valgrind watch the reads. */
static void test_corrupted_samples_fail_cleanly_or_decode(void)
{
    struct kw_arena a;
    kw_arena_init(&a);
    unsigned bad = 0;
    for (size_t k = 0; k < N_KEYS; k++) {
        const struct kw_api *api = kw_api_find(group_keys[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(api);
        for (int dir = 0; dir < 2; dir++) {
            const struct kw_schema *s = dir ? api->resp : api->req;
            const void *sample = dir ? kwt_sample_resp(api->key) : kwt_sample_req(api->key);
            for (int v = api->min; v <= api->max; v++) {
                bool flex = kw_api_flexible(api->key, v);
                struct kw_buf b, again;
                kw_buf_init(&b);
                kw_schema_encode(&b, s, v, flex, sample);
                for (size_t i = 0; i < b.len; i++) {
                    uint8_t saved = b.data[i];
                    b.data[i] ^= (uint8_t)(0x80 | i);
                    void *out = kw_arena_alloc(&a, s->size);
                    struct kw_reader r;
                    kw_reader_init(&r, b.data, b.len);
                    int e = out ? kw_schema_decode(&r, s, v, flex, out, &a) : KW_ERR_NOMEM;
                    kw_buf_init(&again);
                    if (e == KW_OK && kw_schema_encode(&again, s, v, flex, out) != KW_OK)
                        bad++;
                    if (e != KW_OK && (e >= 0 || (out != NULL && r.err != e)))
                        bad++;
                    kw_buf_release(&again);
                    kw_arena_reset(&a);
                    b.data[i] = saved;
                }
                kw_buf_release(&b);
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    kw_arena_release(&a);
}

CU_TestInfo kwt_groups_tests[] = {
    { "group APIs are advertised with their codecs",
      test_group_apis_are_advertised_with_their_codecs },
    { "header versions follow each API's flexible versions",
      test_header_versions_follow_each_apis_flexible_versions },
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "JoinGroup v0 and v6 match hand-computed bytes",
      test_join_group_v0_and_v6_match_hand_computed_bytes },
    { "SyncGroup v0 and v5 match hand-computed bytes",
      test_sync_group_v0_and_v5_match_hand_computed_bytes },
    { "Heartbeat v0 and v4 match hand-computed bytes",
      test_heartbeat_v0_and_v4_match_hand_computed_bytes },
    { "LeaveGroup changes shape at v3", test_leave_group_changes_shape_at_v3 },
    { "OffsetCommit v0, v2 and v8 match hand-computed bytes",
      test_offset_commit_v0_v2_and_v8_match_hand_computed_bytes },
    { "OffsetCommit's timestamp lives only in v1",
      test_offset_commit_timestamp_lives_only_in_v1 },
    { "OffsetFetch v1 and v6 match hand-computed bytes",
      test_offset_fetch_v1_and_v6_match_hand_computed_bytes },
    { "OffsetFetch null topics mean all, from v2 only",
      test_offset_fetch_null_topics_mean_all_from_v2_only },
    { "DescribeGroups v0 and v5 match hand-computed bytes",
      test_describe_groups_v0_and_v5_match_hand_computed_bytes },
    { "versions past our range are refused", test_versions_past_our_range_are_refused },
    { "huge counts in short frames fail before any allocation",
      test_huge_counts_in_short_frames_fail_before_any_allocation },
    { "corrupted samples fail cleanly or decode", test_corrupted_samples_fail_cleanly_or_decode },
    CU_TEST_INFO_NULL,
};
