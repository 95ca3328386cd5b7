/* Fetch: hand-encoded requests at v4 (classic), v7 (sessions), v11 (rack) and v12 (flexible,
 * tagged ClusterId next to a tag we do not know), the v12 response's tagged partition fields,
 * and hostile counts, lengths and versions. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/fetch.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static bool req_encodes_to(int version, const struct kw_fetch_req *m, const struct fx_frame *want)
{
    struct kw_buf b;
    kw_buf_init(&b);
    int err = kw_fetch_req_encode(&b, version, m);
    bool same = err == KW_OK && b.len == want->len && memcmp(b.data, want->data, b.len) == 0;
    kw_buf_release(&b);
    return same;
}

static int decode_req(const struct fx_frame *f, int version, struct kw_fetch_req *m,
                      struct kw_arena *a, struct kw_reader *r)
{
    kw_reader_init(r, f->data, f->len);
    int err = kw_fetch_req_decode(r, version, m, a);
    if (err == KW_OK)
        CU_ASSERT_EQUAL(kw_reader_left(r), 0);
    return err;
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_fetch_req_schema, KW_API_FETCH, kwt_sample_fetch_req());
    rt_check_all(&kw_fetch_resp_schema, KW_API_FETCH, kwt_sample_fetch_resp());
}

static const char v4_req[] =
    "ffffffff            # ReplicaId -1 (a consumer)\n"
    "000001f4            # MaxWaitMs 500\n"
    "00000001            # MinBytes 1\n"
    "03200000            # MaxBytes 52428800\n"
    "01                  # IsolationLevel read_committed\n"
    "00000001            # Topics: 1\n"
    "0001 74             #   Topic \"t\"\n"
    "00000001            #   Partitions: 1\n"
    "00000000            #     Partition 0\n"
    "0000000000000005    #     FetchOffset 5\n"
    "00100000            #     PartitionMaxBytes 1 MiB\n";

static void test_v4_request_matches_hand_encoding_and_reads_defaults(void)
{
    struct fx_frame f = fx_hex(v4_req);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 4, &m, &a, &r), KW_OK);
    CU_ASSERT(m.replica_id == -1 && m.max_wait_ms == 500 && m.min_bytes == 1);
    CU_ASSERT(m.max_bytes == 52428800 && m.isolation_level == 1);
    /* Fields from later versions read as the spec's defaults. */
    CU_ASSERT(m.session_id == 0 && m.session_epoch == -1 && m.n_forgotten_topics_data == 0);
    CU_ASSERT(m.rack_id.len == 0 && m.cluster_id.len == -1);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
    CU_ASSERT(kw_str_eq(m.topics[0].topic, "t"));
    CU_ASSERT_EQUAL_FATAL(m.topics[0].n_partitions, 1);
    const struct kw_fetch_req_partition *p = &m.topics[0].partitions[0];
    CU_ASSERT(p->partition == 0 && p->fetch_offset == 5 && p->partition_max_bytes == 1048576);
    CU_ASSERT(p->current_leader_epoch == -1 && p->last_fetched_epoch == -1);
    CU_ASSERT(p->log_start_offset == -1);
    CU_ASSERT(req_encodes_to(4, &m, &f));
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_v2_request_has_no_max_bytes_and_v0_defaults_it(void)
{
    struct fx_frame f = fx_hex("ffffffff 000001f4 00000001 00000000   # no MaxBytes before v3\n");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 2, &m, &a, &r), KW_OK);
    CU_ASSERT(m.max_bytes == 0x7fffffff && m.isolation_level == 0 && m.n_topics == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_v7_request_carries_session_fields_and_forgotten_topics(void)
{
    struct fx_frame f = fx_hex("ffffffff 000001f4 00000001 03200000 00\n"
                               "00003039            # SessionId 12345\n"
                               "00000006            # SessionEpoch 6\n"
                               "00000000            # Topics: none (nothing changed)\n"
                               "00000001            # ForgottenTopicsData: 1\n"
                               "0001 74             #   Topic \"t\"\n"
                               "00000002 00000001 00000002   # Partitions [1, 2]\n");
    int32_t gone[2] = { 1, 2 };
    struct kw_fetch_req_forgotten_topic ft = {
        .topic = kw_str_c("t"), .n_partitions = 2, .partitions = gone,
    };
    struct kw_fetch_req m = {
        .replica_id = -1, .max_wait_ms = 500, .min_bytes = 1, .max_bytes = 52428800,
        .session_id = 12345, .session_epoch = 6,
        .n_forgotten_topics_data = 1, .forgotten_topics_data = &ft,
    };
    CU_ASSERT(req_encodes_to(7, &m, &f));

    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req d;
    CU_ASSERT_EQUAL(decode_req(&f, 7, &d, &a, &r), KW_OK);
    CU_ASSERT(d.session_id == 12345 && d.session_epoch == 6 && d.n_topics == 0);
    CU_ASSERT_EQUAL_FATAL(d.n_forgotten_topics_data, 1);
    CU_ASSERT(kw_str_eq(d.forgotten_topics_data[0].topic, "t"));
    CU_ASSERT_EQUAL_FATAL(d.forgotten_topics_data[0].n_partitions, 2);
    CU_ASSERT(d.forgotten_topics_data[0].partitions[0] == 1);
    CU_ASSERT(d.forgotten_topics_data[0].partitions[1] == 2);

    struct kw_buf b;                            /* v6 has none of it */
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_fetch_req_encode(&b, 6, &m), KW_OK);
    CU_ASSERT_EQUAL(b.len, 4 + 4 + 4 + 4 + 1 + 4);
    kw_buf_release(&b);
    kw_arena_release(&a);
    fx_free(&f);
}

static const char v11_req[] =
    "ffffffff 000001f4 00000001 03200000 00\n"
    "00000000 ffffffff   # SessionId 0, SessionEpoch -1: no session\n"
    "00000001 0001 74 00000001\n"
    "00000000            #     Partition 0\n"
    "00000003            #     CurrentLeaderEpoch 3\n"
    "0000000000000005    #     FetchOffset 5\n"
    "ffffffffffffffff    #     LogStartOffset -1\n"
    "00100000            #     PartitionMaxBytes\n"
    "00000000            # ForgottenTopicsData: none\n"
    "0006 7261636b2d61   # RackId \"rack-a\"\n";

static void test_v11_request_carries_the_rack_id(void)
{
    struct fx_frame f = fx_hex(v11_req);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 11, &m, &a, &r), KW_OK);
    CU_ASSERT(kw_str_eq(m.rack_id, "rack-a"));
    CU_ASSERT(m.session_id == 0 && m.session_epoch == -1);
    CU_ASSERT(m.n_topics == 1 && m.topics[0].n_partitions == 1);
    CU_ASSERT(m.topics[0].partitions[0].current_leader_epoch == 3);
    CU_ASSERT(req_encodes_to(11, &m, &f));
    m.rack_id = (struct kw_str){ "", 0 };       /* "" is the default, still written in full */
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_fetch_req_encode(&b, 11, &m), KW_OK);
    CU_ASSERT(b.len == f.len - 6 && memcmp(b.data + b.len - 2, "\x00\x00", 2) == 0);
    kw_buf_release(&b);
    kw_arena_release(&a);
    fx_free(&f);
}

static const char v12_req[] =
    "ffffffff 000001f4 00000001 03200000 00 00000000 ffffffff\n"
    "02                  # Topics: 1 (compact)\n"
    "02 74               #   Topic \"t\"\n"
    "02                  #   Partitions: 1\n"
    "00000000            #     Partition 0\n"
    "00000003            #     CurrentLeaderEpoch 3\n"
    "0000000000000005    #     FetchOffset 5\n"
    "00000002            #     LastFetchedEpoch 2\n"
    "ffffffffffffffff    #     LogStartOffset -1\n"
    "00100000            #     PartitionMaxBytes\n"
    "00 00               #     partition tags, topic tags\n"
    "01                  # ForgottenTopicsData: none\n"
    "01                  # RackId \"\" (compact 0+1)\n"
    "02                  # body tags: 2\n"
    "00 03 03 6331       #   tag 0 ClusterId \"c1\"\n"
    "07 03 aabbcc        #   tag 7, unknown to us\n";

static void test_v12_request_keeps_an_unknown_tag_beside_cluster_id(void)
{
    struct fx_frame f = fx_hex(v12_req);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 12, &m, &a, &r), KW_OK);
    CU_ASSERT(kw_str_eq(m.cluster_id, "c1"));
    CU_ASSERT(m.tags.count == 1 && m.tags.len == 5);
    CU_ASSERT(m.tags.raw != NULL && memcmp(m.tags.raw, "\x07\x03\xaa\xbb\xcc", 5) == 0);
    CU_ASSERT(m.rack_id.len == 0 && m.rack_id.ptr != NULL);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
    CU_ASSERT_EQUAL_FATAL(m.topics[0].n_partitions, 1);
    CU_ASSERT_EQUAL(m.topics[0].partitions[0].last_fetched_epoch, 2);
    CU_ASSERT(req_encodes_to(12, &m, &f));      /* tags re-emitted in order, byte for byte */

    /* Without the unknown tag and with ClusterId at its default, the section is empty. */
    m.tags = (struct kw_tags){ 0 };
    m.cluster_id = KW_STR_NULL;
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_fetch_req_encode(&b, 12, &m), KW_OK);
    CU_ASSERT(b.len == f.len - 10 && b.data[b.len - 1] == 0x00);
    kw_buf_release(&b);

    /* A ClusterId tag that spells out null is legal, if pointless: it reads as null. */
    memcpy(f.data + f.len - 11, "\x01\x00\x01\x00", 4);    /* 1 tag: 0, 1 byte, null */
    f.len -= 7;
    kw_arena_reset(&a);
    CU_ASSERT_EQUAL(decode_req(&f, 12, &m, &a, &r), KW_OK);
    CU_ASSERT(m.cluster_id.len == -1 && m.tags.count == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static const char v12_resp[] =
    "00000000 0000 00000000   # ThrottleTimeMs, ErrorCode, SessionId\n"
    "02 02 74 02         # Responses: 1, Topic \"t\", Partitions: 1\n"
    "00000000 0000       #   PartitionIndex 0, ErrorCode 0\n"
    "000000000000000a    #   HighWatermark 10\n"
    "000000000000000a    #   LastStableOffset 10\n"
    "0000000000000000    #   LogStartOffset 0\n"
    "00                  #   AbortedTransactions null\n"
    "ffffffff            #   PreferredReadReplica -1\n"
    "01                  #   Records: empty (compact 0+1)\n"
    "02                  #   partition tags: 2\n"
    "00 0d 00000001 0000000000000008 00   # tag 0 DivergingEpoch: epoch 1, end 8\n"
    "01 09 00000002 00000005 00           # tag 1 CurrentLeader: 2, epoch 5\n"
    "00 00               # topic tags, body tags\n";

static void test_v12_response_round_trips_its_tagged_partition_fields(void)
{
    struct fx_frame f = fx_hex(v12_resp);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_resp m;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_fetch_resp_decode(&r, 12, &m, &a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    CU_ASSERT_EQUAL_FATAL(m.n_responses, 1);
    CU_ASSERT_EQUAL_FATAL(m.responses[0].n_partitions, 1);
    const struct kw_fetch_resp_partition *p = &m.responses[0].partitions[0];
    CU_ASSERT(p->high_watermark == 10 && p->last_stable_offset == 10);
    CU_ASSERT(p->diverging_epoch.epoch == 1 && p->diverging_epoch.end_offset == 8);
    CU_ASSERT(p->current_leader.leader_id == 2 && p->current_leader.leader_epoch == 5);
    CU_ASSERT(p->snapshot_id.end_offset == -1 && p->snapshot_id.epoch == -1);  /* not sent */
    CU_ASSERT(p->n_aborted_transactions == -1 && p->preferred_read_replica == -1);
    CU_ASSERT(p->records.len == 0);

    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_fetch_resp_encode(&b, 12, &m), KW_OK);
    CU_ASSERT(b.len == f.len && memcmp(b.data, f.data, f.len) == 0);
    kw_buf_release(&b);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_v4_response_with_aborted_transactions_matches_hand_encoding(void)
{
    static const uint8_t rec[3] = { 1, 2, 3 };
    struct kw_fetch_resp_aborted_transaction ab = { .producer_id = 1000, .first_offset = 7 };
    struct kw_fetch_resp_partition part = {
        .partition_index = 1, .error_code = 0, .high_watermark = 9, .last_stable_offset = 7,
        .log_start_offset = 3, .n_aborted_transactions = 1, .aborted_transactions = &ab,
        .preferred_read_replica = 2, .records = { rec, 3 },
    };
    struct kw_fetch_resp_topic topic = { .topic = kw_str_c("t"), .n_partitions = 1,
                                         .partitions = &part };
    struct kw_fetch_resp m = { .throttle_time_ms = 5, .n_responses = 1, .responses = &topic };
    struct fx_frame f = fx_hex("00000005            # ThrottleTimeMs 5\n"
                               "00000001 0001 74 00000001\n"
                               "00000001 0000 0000000000000009   # partition 1, hw 9\n"
                               "0000000000000007    # LastStableOffset 7 (v4+)\n"
                               "00000001 00000000000003e8 0000000000000007  # 1 aborted\n"
                               "00000003 010203     # Records\n");
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_fetch_resp_encode(&b, 4, &m), KW_OK);
    CU_ASSERT(b.len == f.len && memcmp(b.data, f.data, f.len) == 0);
    kw_buf_release(&b);
    fx_free(&f);
}

static void test_a_billion_partitions_fail_fast_as_short(void)
{
    struct fx_frame f = fx_hex("ffffffff 000001f4 00000001 03200000 00 00000001 0001 74"
                               "3b9aca00");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 4, &m, &a, &r), KW_ERR_SHORT);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "Partitions") == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_a_negative_records_length_fails_with_range(void)
{
    struct fx_frame f = fx_hex("00000000 00000001 0001 74 00000001"
                               "00000000 0000 0000000000000000 0000000000000000"
                               "ffffffff            # AbortedTransactions null\n"
                               "fffffff0            # Records length -16\n");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_resp m;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_fetch_resp_decode(&r, 4, &m, &a), KW_ERR_RANGE);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "Records") == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_a_tag_longer_than_the_frame_fails_as_short(void)
{
    struct fx_frame f = fx_hex(v12_req);
    f.data[f.len - 4] = 0x7f;                   /* the unknown tag now claims 127 bytes */
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 12, &m, &a, &r), KW_ERR_SHORT);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_version_13_is_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_fetch_req_encode(&b, 13, kwt_sample_fetch_req()), KW_ERR_VERSION);
    CU_ASSERT_EQUAL(b.len, 0);
    kw_buf_release(&b);
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_fetch_resp_encode(&b, 13, kwt_sample_fetch_resp()), KW_ERR_VERSION);
    kw_buf_release(&b);
    struct fx_frame f = fx_hex(v12_req);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_fetch_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 13, &m, &a, &r), KW_ERR_VERSION);
    kw_arena_release(&a);
    fx_free(&f);
}

CU_TestInfo kwt_fetch_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "v4 request matches hand encoding and reads later fields as defaults",
      test_v4_request_matches_hand_encoding_and_reads_defaults },
    { "v2 request has no MaxBytes and reads it as the default",
      test_v2_request_has_no_max_bytes_and_v0_defaults_it },
    { "v7 request carries session fields and forgotten topics",
      test_v7_request_carries_session_fields_and_forgotten_topics },
    { "v11 request carries the rack id", test_v11_request_carries_the_rack_id },
    { "v12 request keeps an unknown tag beside ClusterId",
      test_v12_request_keeps_an_unknown_tag_beside_cluster_id },
    { "v12 response round-trips its tagged partition fields",
      test_v12_response_round_trips_its_tagged_partition_fields },
    { "v4 response with aborted transactions matches hand encoding",
      test_v4_response_with_aborted_transactions_matches_hand_encoding },
    { "a billion partitions fail fast as short input",
      test_a_billion_partitions_fail_fast_as_short },
    { "a negative records length other than -1 fails with a range error",
      test_a_negative_records_length_fails_with_range },
    { "a tag longer than the frame fails as short input",
      test_a_tag_longer_than_the_frame_fails_as_short },
    { "version 13 is refused", test_version_13_is_refused },
    CU_TEST_INFO_NULL,
};
