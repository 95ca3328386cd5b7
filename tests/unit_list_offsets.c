/* ListOffsets: v0's MaxNumOffsets and OldStyleOffsets, the v1 switch to one (Timestamp, Offset)
 * pair, librdkafka's v2, the flexible v6, and hostile counts and versions. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/list_offsets.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static bool req_encodes_to(int version, const struct kw_list_offsets_req *m,
                           const struct fx_frame *want)
{
    struct kw_buf b;
    kw_buf_init(&b);
    int err = kw_list_offsets_req_encode(&b, version, m);
    bool same = err == KW_OK && b.len == want->len && memcmp(b.data, want->data, b.len) == 0;
    kw_buf_release(&b);
    return same;
}

static bool resp_encodes_to(int version, const struct kw_list_offsets_resp *m,
                            const struct fx_frame *want)
{
    struct kw_buf b;
    kw_buf_init(&b);
    int err = kw_list_offsets_resp_encode(&b, version, m);
    bool same = err == KW_OK && b.len == want->len && memcmp(b.data, want->data, b.len) == 0;
    kw_buf_release(&b);
    return same;
}

static int decode_req(const struct fx_frame *f, int version, struct kw_list_offsets_req *m,
                      struct kw_arena *a, struct kw_reader *r)
{
    kw_reader_init(r, f->data, f->len);
    int err = kw_list_offsets_req_decode(r, version, m, a);
    if (err == KW_OK)
        CU_ASSERT_EQUAL(kw_reader_left(r), 0);
    return err;
}

static int decode_resp(const struct fx_frame *f, int version, struct kw_list_offsets_resp *m,
                       struct kw_arena *a, struct kw_reader *r)
{
    kw_reader_init(r, f->data, f->len);
    int err = kw_list_offsets_resp_decode(r, version, m, a);
    if (err == KW_OK)
        CU_ASSERT_EQUAL(kw_reader_left(r), 0);
    return err;
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_list_offsets_req_schema, KW_API_LIST_OFFSETS, kwt_sample_list_offsets_req());
    rt_check_all(&kw_list_offsets_resp_schema, KW_API_LIST_OFFSETS,
                 kwt_sample_list_offsets_resp());
}

static const char v0_req[] =
    "ffffffff            # ReplicaId -1\n"
    "00000001            # Topics: 1\n"
    "0001 74             #   Name \"t\"\n"
    "00000001            #   Partitions: 1\n"
    "00000000            #     PartitionIndex 0\n"
    "ffffffffffffffff    #     Timestamp -1 (latest)\n"
    "00000001            #     MaxNumOffsets 1\n";

static void test_v0_request_writes_max_num_offsets_defaulting_to_1(void)
{
    struct kw_list_offsets_req_partition p = { .partition_index = 0, .timestamp = -1 };
    struct kw_list_offsets_req_topic t = { .name = kw_str_c("t"), .n_partitions = 1,
                                           .partitions = &p };
    struct kw_list_offsets_req m = { .replica_id = -1, .n_topics = 1, .topics = &t };

    struct fx_frame f = fx_hex(v0_req);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_req d;
    CU_ASSERT_EQUAL(decode_req(&f, 0, &d, &a, &r), KW_OK);
    CU_ASSERT_EQUAL_FATAL(d.n_topics, 1);
    CU_ASSERT_EQUAL_FATAL(d.topics[0].n_partitions, 1);
    CU_ASSERT_EQUAL(d.topics[0].partitions[0].max_num_offsets, 1);
    CU_ASSERT_EQUAL(d.topics[0].partitions[0].current_leader_epoch, -1);
    CU_ASSERT(req_encodes_to(0, &d, &f));

    /* v1 drops the field; a v1 decode reads it as the spec's default, 1. */
    struct fx_frame v1 = fx_hex("ffffffff 00000001 0001 74 00000001 00000000 ffffffffffffffff");
    kw_arena_reset(&a);
    CU_ASSERT_EQUAL(decode_req(&v1, 1, &d, &a, &r), KW_OK);
    CU_ASSERT(d.n_topics == 1 && d.topics[0].partitions[0].max_num_offsets == 1);
    p.max_num_offsets = 5;
    CU_ASSERT(req_encodes_to(1, &m, &v1));      /* and never written there */
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_list_offsets_req_encode(&b, 0, &m), KW_OK);
    CU_ASSERT(b.len == f.len && kw_be32(b.data + b.len - 4) == 5);
    kw_buf_release(&b);
    kw_arena_release(&a);
    fx_free(&f);
    fx_free(&v1);
}

static void test_librdkafka_v2_request_adds_isolation_level(void)
{
    struct fx_frame f = fx_hex("ffffffff            # ReplicaId -1\n"
                               "01                  # IsolationLevel read_committed\n"
                               "00000001 0001 74 00000002\n"
                               "00000000 fffffffffffffffe   # partition 0, earliest\n"
                               "00000001 ffffffffffffffff   # partition 1, latest\n");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 2, &m, &a, &r), KW_OK);
    CU_ASSERT(m.replica_id == -1 && m.isolation_level == 1);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
    CU_ASSERT_EQUAL_FATAL(m.topics[0].n_partitions, 2);
    CU_ASSERT(m.topics[0].partitions[0].timestamp == -2);
    CU_ASSERT(m.topics[0].partitions[1].partition_index == 1);
    CU_ASSERT(m.topics[0].partitions[1].timestamp == -1);
    CU_ASSERT(req_encodes_to(2, &m, &f));
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_v6_request_is_flexible(void)
{
    struct fx_frame f = fx_hex("ffffffff 00          # ReplicaId -1, IsolationLevel 0\n"
                               "02 02 74 02          # Topics: 1, \"t\", Partitions: 1\n"
                               "00000000             #     PartitionIndex 0\n"
                               "00000004             #     CurrentLeaderEpoch 4\n"
                               "fffffffffffffffd     #     Timestamp -3 (max timestamp)\n"
                               "00 00 00             # partition, topic and body tags\n");
    struct kw_list_offsets_req_partition p = {
        .partition_index = 0, .current_leader_epoch = 4, .timestamp = -3, .max_num_offsets = 1,
    };
    struct kw_list_offsets_req_topic t = { .name = kw_str_c("t"), .n_partitions = 1,
                                           .partitions = &p };
    struct kw_list_offsets_req m = { .replica_id = -1, .n_topics = 1, .topics = &t };
    CU_ASSERT(req_encodes_to(6, &m, &f));
    CU_ASSERT(req_encodes_to(7, &m, &f));
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_req d;
    CU_ASSERT_EQUAL(decode_req(&f, 7, &d, &a, &r), KW_OK);
    CU_ASSERT(d.n_topics == 1 && d.topics[0].n_partitions == 1);
    CU_ASSERT(d.topics[0].partitions[0].current_leader_epoch == 4);
    CU_ASSERT(d.topics[0].partitions[0].timestamp == -3);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_v0_response_lists_old_style_offsets(void)
{
    struct fx_frame f = fx_hex("00000001 0001 74 00000001\n"
                               "00000000 0000        # PartitionIndex 0, no error\n"
                               "00000002             # OldStyleOffsets: 2\n"
                               "000000000000002a 0000000000000000   # 42, 0\n");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_resp m;
    CU_ASSERT_EQUAL(decode_resp(&f, 0, &m, &a, &r), KW_OK);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
    CU_ASSERT_EQUAL_FATAL(m.topics[0].n_partitions, 1);
    const struct kw_list_offsets_resp_partition *p = &m.topics[0].partitions[0];
    CU_ASSERT_EQUAL_FATAL(p->n_old_style_offsets, 2);
    CU_ASSERT(p->old_style_offsets[0] == 42 && p->old_style_offsets[1] == 0);
    CU_ASSERT(p->timestamp == -1 && p->offset == -1 && p->leader_epoch == -1);
    CU_ASSERT(resp_encodes_to(0, &m, &f));

    /* v1 replaces the list with one (Timestamp, Offset) pair; v2 adds ThrottleTimeMs. */
    struct kw_list_offsets_resp_partition p1 = *p;
    p1.timestamp = -1;
    p1.offset = 42;
    struct kw_list_offsets_resp_topic t1 = m.topics[0];
    t1.partitions = &p1;
    struct kw_list_offsets_resp m1 = { .throttle_time_ms = 3, .n_topics = 1, .topics = &t1 };
    struct fx_frame v1 = fx_hex("00000001 0001 74 00000001 00000000 0000"
                                "ffffffffffffffff 000000000000002a   # Timestamp -1, Offset 42\n");
    struct fx_frame v2 = fx_hex("00000003 00000001 0001 74 00000001 00000000 0000"
                                "ffffffffffffffff 000000000000002a");
    CU_ASSERT(resp_encodes_to(1, &m1, &v1));
    CU_ASSERT(resp_encodes_to(2, &m1, &v2));
    kw_arena_release(&a);
    fx_free(&f);
    fx_free(&v1);
    fx_free(&v2);
}

static void test_a_billion_old_style_offsets_fail_fast_as_short(void)
{
    struct fx_frame f = fx_hex("00000001 0001 74 00000001 00000000 0000 3b9aca00 00");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_resp m;
    CU_ASSERT_EQUAL(decode_resp(&f, 0, &m, &a, &r), KW_ERR_SHORT);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "OldStyleOffsets") == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_a_billion_partitions_fail_fast_as_short(void)
{
    struct fx_frame f = fx_hex("ffffffff 00000001 0001 74 3b9aca00 00000000");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 1, &m, &a, &r), KW_ERR_SHORT);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "Partitions") == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_a_negative_topic_count_fails_with_range(void)
{
    struct fx_frame f = fx_hex("ffffffff fffffffe   # Topics: -2\n");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 1, &m, &a, &r), KW_ERR_RANGE);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "Topics") == 0);
    fx_free(&f);
    f = fx_hex("ffffffff ffffffff   # Topics: null, which the spec never allows here\n");
    kw_arena_reset(&a);
    CU_ASSERT_EQUAL(decode_req(&f, 1, &m, &a, &r), KW_ERR_RANGE);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_version_8_is_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_list_offsets_req_encode(&b, 8, kwt_sample_list_offsets_req()),
                    KW_ERR_VERSION);
    CU_ASSERT_EQUAL(b.len, 0);
    kw_buf_release(&b);
    struct fx_frame f = fx_hex(v0_req);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_list_offsets_resp m;
    CU_ASSERT_EQUAL(decode_resp(&f, 8, &m, &a, &r), KW_ERR_VERSION);
    kw_arena_release(&a);
    fx_free(&f);
}

CU_TestInfo kwt_list_offsets_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "v0 request writes MaxNumOffsets, which defaults to 1",
      test_v0_request_writes_max_num_offsets_defaulting_to_1 },
    { "librdkafka's v2 request adds the isolation level",
      test_librdkafka_v2_request_adds_isolation_level },
    { "v6 request is flexible", test_v6_request_is_flexible },
    { "v0 response lists old-style offsets", test_v0_response_lists_old_style_offsets },
    { "a billion old-style offsets fail fast as short input",
      test_a_billion_old_style_offsets_fail_fast_as_short },
    { "a billion partitions fail fast as short input",
      test_a_billion_partitions_fail_fast_as_short },
    { "a negative or null topic count fails with a range error",
      test_a_negative_topic_count_fails_with_range },
    { "version 8 is refused", test_version_8_is_refused },
    CU_TEST_INFO_NULL,
};
