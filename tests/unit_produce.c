/* Produce: hand-encoded requests in a classic (v3) and a flexible (v9) version, transactional
 * ids, acks, null records, the KIP-951 tagged fields of the v10 response, and hostile counts
 * and lengths. Records are opaque to this codec, so the golden frames carry 4 stand-in bytes. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/produce.h"
#include "tests/fx.h"
#include "tests/rt.h"
#include "tests/samples.h"

static const uint8_t stand_in[4] = { 0xde, 0xad, 0xbe, 0xef };

static bool req_encodes_to(int version, const struct kw_produce_req *m,
                           const struct fx_frame *want)
{
    struct kw_buf b;
    kw_buf_init(&b);
    int err = kw_produce_req_encode(&b, version, m);
    bool same = err == KW_OK && b.len == want->len && memcmp(b.data, want->data, b.len) == 0;
    kw_buf_release(&b);
    return same;
}

/* Decodes a whole request body; returns the reader's error. */
static int decode_req(const struct fx_frame *f, int version, struct kw_produce_req *m,
                      struct kw_arena *a, struct kw_reader *r)
{
    kw_reader_init(r, f->data, f->len);
    int err = kw_produce_req_decode(r, version, m, a);
    if (err == KW_OK)
        CU_ASSERT_EQUAL(kw_reader_left(r), 0);
    return err;
}

/* One topic "orders", one partition 0 holding `records`. */
struct one {
    struct kw_produce_req_partition part;
    struct kw_produce_req_topic topic;
    struct kw_produce_req req;
};

static void one_init(struct one *o, struct kw_str txn, int16_t acks, struct kw_bytes records)
{
    o->part = (struct kw_produce_req_partition){ .index = 0, .records = records };
    o->topic = (struct kw_produce_req_topic){
        .name = kw_str_c("orders"), .n_partition_data = 1, .partition_data = &o->part,
    };
    o->req = (struct kw_produce_req){
        .transactional_id = txn, .acks = acks, .timeout_ms = 30000,
        .n_topic_data = 1, .topic_data = &o->topic,
    };
}

static void test_samples_round_trip_at_every_version(void)
{
    rt_check_all(&kw_produce_req_schema, KW_API_PRODUCE, kwt_sample_produce_req());
    rt_check_all(&kw_produce_resp_schema, KW_API_PRODUCE, kwt_sample_produce_resp());
}

static const char v3_req[] =
    "ffff                # TransactionalId null\n"
    "ffff                # Acks -1\n"
    "00007530            # TimeoutMs 30000\n"
    "00000001            # TopicData: 1\n"
    "0006 6f7264657273   #   Name \"orders\"\n"
    "00000001            #   PartitionData: 1\n"
    "00000000            #     Index 0\n"
    "00000004 deadbeef   #     Records: 4 bytes\n";

static void test_v3_request_matches_hand_encoding(void)
{
    struct fx_frame f = fx_hex(v3_req);
    struct one o;
    one_init(&o, KW_STR_NULL, -1, (struct kw_bytes){ stand_in, 4 });
    CU_ASSERT(req_encodes_to(3, &o.req, &f));

    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 3, &m, &a, &r), KW_OK);
    CU_ASSERT(m.transactional_id.len == -1 && m.acks == -1 && m.timeout_ms == 30000);
    CU_ASSERT_EQUAL_FATAL(m.n_topic_data, 1);
    CU_ASSERT(kw_str_eq(m.topic_data[0].name, "orders"));
    CU_ASSERT_EQUAL_FATAL(m.topic_data[0].n_partition_data, 1);
    const struct kw_produce_req_partition *p = &m.topic_data[0].partition_data[0];
    CU_ASSERT(p->index == 0 && p->records.len == 4);
    CU_ASSERT(p->records.ptr == f.data + f.len - 4);    /* borrowed from the frame, not copied */
    kw_arena_release(&a);
    fx_free(&f);
}

static const char v9_req[] =
    "00                  # TransactionalId null (compact)\n"
    "0001                # Acks 1\n"
    "00007530            # TimeoutMs 30000\n"
    "02                  # TopicData: 1 (compact 1+1)\n"
    "07 6f7264657273     #   Name \"orders\" (compact 6+1)\n"
    "02                  #   PartitionData: 1\n"
    "00000000            #     Index 0\n"
    "05 deadbeef         #     Records: compact 4+1\n"
    "00                  #     partition tags\n"
    "00                  #   topic tags\n"
    "00                  # body tags\n";

static void test_v9_request_is_flexible_with_compact_records(void)
{
    struct fx_frame f = fx_hex(v9_req);
    struct one o;
    one_init(&o, KW_STR_NULL, 1, (struct kw_bytes){ stand_in, 4 });
    CU_ASSERT(req_encodes_to(9, &o.req, &f));
    CU_ASSERT(req_encodes_to(11, &o.req, &f));      /* v10 and v11 change no request field */

    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 9, &m, &a, &r), KW_OK);
    CU_ASSERT(m.acks == 1 && m.n_topic_data == 1);
    if (m.n_topic_data == 1 && m.topic_data[0].n_partition_data == 1) {
        const struct kw_bytes *rec = &m.topic_data[0].partition_data[0].records;
        CU_ASSERT(rec->len == 4 && memcmp(rec->ptr, stand_in, 4) == 0);
    }
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_transactional_id_is_null_or_set_from_v3_and_absent_before(void)
{
    struct one o;
    struct kw_buf b;
    one_init(&o, kw_str_c("tx"), 1, (struct kw_bytes){ stand_in, 4 });

    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_produce_req_encode(&b, 3, &o.req), KW_OK);
    CU_ASSERT(b.len > 4 && memcmp(b.data, "\x00\x02tx\x00\x01", 6) == 0);
    kw_buf_release(&b);

    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_produce_req_encode(&b, 9, &o.req), KW_OK);
    CU_ASSERT(b.len > 4 && memcmp(b.data, "\x03tx\x00\x01", 5) == 0);
    kw_buf_release(&b);

    kw_buf_init(&b);                                /* v2 has no such field: Acks comes first */
    CU_ASSERT_EQUAL(kw_produce_req_encode(&b, 2, &o.req), KW_OK);
    CU_ASSERT(b.len > 2 && memcmp(b.data, "\x00\x01\x00\x00\x75\x30", 6) == 0);
    struct kw_reader r;
    struct kw_produce_req m;
    struct kw_arena a;
    kw_arena_init(&a);
    kw_reader_init(&r, b.data, b.len);
    CU_ASSERT_EQUAL(kw_produce_req_decode(&r, 2, &m, &a), KW_OK);
    CU_ASSERT_EQUAL(m.transactional_id.len, -1);    /* the spec's default when absent */
    kw_buf_release(&b);

    for (int v = 3; v <= 11; v++) {
        for (int set = 0; set < 2; set++) {
            one_init(&o, set ? kw_str_c("txn-app_1") : KW_STR_NULL, -1,
                     (struct kw_bytes){ stand_in, 4 });
            kw_buf_init(&b);
            kw_produce_req_encode(&b, v, &o.req);
            kw_arena_reset(&a);
            kw_reader_init(&r, b.data, b.len);
            CU_ASSERT_EQUAL(kw_produce_req_decode(&r, v, &m, &a), KW_OK);
            CU_ASSERT(set ? kw_str_eq(m.transactional_id, "txn-app_1")
                          : m.transactional_id.len == -1 && m.transactional_id.ptr == NULL);
            kw_buf_release(&b);
        }
    }
    kw_arena_release(&a);
}

static void test_acks_values_survive_every_version(void)
{
    static const int16_t acks[] = { -1, 0, 1 };
    struct kw_arena a;
    kw_arena_init(&a);
    for (int v = 0; v <= 11; v++) {
        for (size_t i = 0; i < 3; i++) {
            struct one o;
            one_init(&o, KW_STR_NULL, acks[i], (struct kw_bytes){ stand_in, 4 });
            struct kw_buf b;
            kw_buf_init(&b);
            CU_ASSERT_EQUAL(kw_produce_req_encode(&b, v, &o.req), KW_OK);
            /* Acks follows the null TransactionalId: 2 bytes classic, 1 compact, none < v3. */
            size_t at = v < 3 ? 0 : v < 9 ? 2 : 1;
            CU_ASSERT(b.len > at + 2 && (int16_t)kw_be16(b.data + at) == acks[i]);
            struct kw_reader r;
            struct kw_produce_req m;
            kw_arena_reset(&a);
            kw_reader_init(&r, b.data, b.len);
            CU_ASSERT_EQUAL(kw_produce_req_decode(&r, v, &m, &a), KW_OK);
            CU_ASSERT_EQUAL(m.acks, acks[i]);
            kw_buf_release(&b);
        }
    }
    kw_arena_release(&a);
}

static void test_null_records_are_kept_null(void)
{
    struct one o;
    one_init(&o, KW_STR_NULL, 1, KW_BYTES_NULL);
    struct fx_frame classic = fx_hex("ffff 0001 00007530 00000001 0006 6f7264657273 00000001"
                                     "00000000 ffffffff   # Records null: int32 -1\n");
    struct fx_frame compact = fx_hex("00 0001 00007530 02 07 6f7264657273 02"
                                     "00000000 00 00 00 00   # Records null: compact 0\n");
    CU_ASSERT(req_encodes_to(3, &o.req, &classic));
    CU_ASSERT(req_encodes_to(9, &o.req, &compact));

    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_req m;
    CU_ASSERT_EQUAL(decode_req(&classic, 3, &m, &a, &r), KW_OK);
    CU_ASSERT(m.n_topic_data == 1 && m.topic_data[0].partition_data[0].records.len == -1);
    kw_arena_reset(&a);
    CU_ASSERT_EQUAL(decode_req(&compact, 9, &m, &a, &r), KW_OK);
    CU_ASSERT(m.n_topic_data == 1 && m.topic_data[0].partition_data[0].records.len == -1);
    CU_ASSERT_EQUAL(m.topic_data[0].partition_data[0].records.ptr, NULL);
    kw_arena_release(&a);
    fx_free(&classic);
    fx_free(&compact);
}

static const char v10_resp[] =
    "02                  # Responses: 1\n"
    "02 74               #   Name \"t\"\n"
    "02                  #   PartitionResponses: 1\n"
    "00000000            #     Index 0\n"
    "0006                #     ErrorCode NOT_LEADER_OR_FOLLOWER\n"
    "ffffffffffffffff    #     BaseOffset -1\n"
    "ffffffffffffffff    #     LogAppendTimeMs -1\n"
    "ffffffffffffffff    #     LogStartOffset -1\n"
    "01                  #     RecordErrors: empty\n"
    "00                  #     ErrorMessage null\n"
    "01                  #     partition tags: 1\n"
    "00 09               #       tag 0 CurrentLeader, 9 bytes\n"
    "00000002 00000007 00   #    LeaderId 2, LeaderEpoch 7, no tags\n"
    "00                  #   topic tags\n"
    "00000000            # ThrottleTimeMs 0\n"
    "01                  # body tags: 1\n"
    "00 0e               #   tag 0 NodeEndpoints, 14 bytes\n"
    "02 00000002 03 6232 00002384 00 00   # 1 node: id 2, \"b2\", port 9092, rack null\n";

static void test_v10_response_carries_the_new_leader_in_tagged_fields(void)
{
    struct fx_frame f = fx_hex(v10_resp);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_resp m;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_produce_resp_decode(&r, 10, &m, &a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    CU_ASSERT_EQUAL_FATAL(m.n_responses, 1);
    CU_ASSERT_EQUAL_FATAL(m.responses[0].n_partition_responses, 1);
    const struct kw_produce_resp_partition *p = &m.responses[0].partition_responses[0];
    CU_ASSERT(p->error_code == 6 && p->base_offset == -1 && p->n_record_errors == 0);
    CU_ASSERT(p->error_message.len == -1);
    CU_ASSERT(p->current_leader.leader_id == 2 && p->current_leader.leader_epoch == 7);
    CU_ASSERT_EQUAL_FATAL(m.n_node_endpoints, 1);
    CU_ASSERT(m.node_endpoints[0].node_id == 2 && kw_str_eq(m.node_endpoints[0].host, "b2"));
    CU_ASSERT(m.node_endpoints[0].port == 9092 && m.node_endpoints[0].rack.len == -1);
    CU_ASSERT(m.tags.count == 0 && p->tags.count == 0);

    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_produce_resp_encode(&b, 10, &m), KW_OK);
    CU_ASSERT(b.len == f.len && memcmp(b.data, f.data, f.len) == 0);
    kw_buf_release(&b);

    /* At v9 the same response has no tags to give: the leader hint is simply not sent. */
    struct fx_frame v9 = fx_hex("02 02 74 02 00000000 0006 ffffffffffffffff ffffffffffffffff"
                                "ffffffffffffffff 01 00 00 00 00000000 00");
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_produce_resp_encode(&b, 9, &m), KW_OK);
    CU_ASSERT(b.len == v9.len && memcmp(b.data, v9.data, v9.len) == 0);
    kw_buf_release(&b);
    kw_arena_release(&a);
    fx_free(&f);
    fx_free(&v9);
}

static void test_v8_response_lists_per_record_errors(void)
{
    struct fx_frame f = fx_hex("00000001 0001 74 00000001   # 1 topic \"t\", 1 partition\n"
                               "00000000 0057               # Index 0, INVALID_RECORD\n"
                               "ffffffffffffffff ffffffffffffffff 0000000000000000\n"
                               "00000002                    # RecordErrors: 2\n"
                               "00000001 0003 626164        #   index 1, \"bad\"\n"
                               "00000004 ffff               #   index 4, null\n"
                               "0004 6f6f7073               # ErrorMessage \"oops\"\n"
                               "00000000                    # ThrottleTimeMs\n");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_resp m;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_produce_resp_decode(&r, 8, &m, &a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    if (m.n_responses == 1 && m.responses[0].n_partition_responses == 1) {
        const struct kw_produce_resp_partition *p = &m.responses[0].partition_responses[0];
        CU_ASSERT(p->error_code == 87 && p->log_start_offset == 0);
        CU_ASSERT_EQUAL_FATAL(p->n_record_errors, 2);
        CU_ASSERT(p->record_errors[0].batch_index == 1);
        CU_ASSERT(kw_str_eq(p->record_errors[0].batch_index_error_message, "bad"));
        CU_ASSERT(p->record_errors[1].batch_index == 4);
        CU_ASSERT(p->record_errors[1].batch_index_error_message.len == -1);
        CU_ASSERT(kw_str_eq(p->error_message, "oops"));
    } else {
        CU_FAIL("wrong shape");
    }
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_produce_resp_encode(&b, 8, &m), KW_OK);
    CU_ASSERT(b.len == f.len && memcmp(b.data, f.data, f.len) == 0);
    kw_buf_release(&b);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_absent_response_fields_read_as_their_defaults(void)
{
    struct fx_frame f = fx_hex("00000001 0001 74 00000001 00000003 0000 000000000000002a");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_resp m;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_produce_resp_decode(&r, 0, &m, &a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    if (m.n_responses == 1 && m.responses[0].n_partition_responses == 1) {
        const struct kw_produce_resp_partition *p = &m.responses[0].partition_responses[0];
        CU_ASSERT(p->index == 3 && p->base_offset == 42);
        CU_ASSERT(p->log_append_time_ms == -1 && p->log_start_offset == -1);
        CU_ASSERT(p->error_message.len == -1 && p->n_record_errors == 0);
        CU_ASSERT(p->current_leader.leader_id == -1 && p->current_leader.leader_epoch == -1);
    } else {
        CU_FAIL("wrong shape");
    }
    CU_ASSERT(m.throttle_time_ms == 0 && m.n_node_endpoints == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_a_billion_partitions_fail_fast_as_short(void)
{
    struct fx_frame f = fx_hex("ffff ffff 00007530 00000001 0001 74"
                               "3b9aca00   # PartitionData: 1000000000, then nothing\n");
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 3, &m, &a, &r), KW_ERR_SHORT);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "PartitionData") == 0);
    CU_ASSERT_EQUAL(r.err_at, f.len);
    fx_free(&f);
    /* The same claim in compact form (uvarint 1e9+1). */
    f = fx_hex("00 ffff 00007530 02 02 74 81 94 eb dc 03");
    kw_arena_reset(&a);
    CU_ASSERT_EQUAL(decode_req(&f, 9, &m, &a, &r), KW_ERR_SHORT);
    CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "PartitionData") == 0);
    kw_arena_release(&a);
    fx_free(&f);
}

static void test_a_negative_records_length_fails_with_range(void)
{
    static const char *const lens[] = { "fffffffe", "80000000" };
    for (size_t i = 0; i < 2; i++) {
        char hex[128];
        snprintf(hex, sizeof(hex), "ffff ffff 00007530 00000001 0001 74 00000001 00000000 %s",
                 lens[i]);
        struct fx_frame f = fx_hex(hex);
        struct kw_arena a;
        kw_arena_init(&a);
        struct kw_reader r;
        struct kw_produce_req m;
        CU_ASSERT_EQUAL(decode_req(&f, 3, &m, &a, &r), KW_ERR_RANGE);
        CU_ASSERT(r.err_field != NULL && strcmp(r.err_field, "Records") == 0);
        kw_arena_release(&a);
        fx_free(&f);
    }
}

static void test_version_12_is_refused(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_produce_req_encode(&b, 12, kwt_sample_produce_req()), KW_ERR_VERSION);
    CU_ASSERT_EQUAL(b.len, 0);
    kw_buf_release(&b);
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_produce_resp_encode(&b, 12, kwt_sample_produce_resp()), KW_ERR_VERSION);
    kw_buf_release(&b);

    struct fx_frame f = fx_hex(v9_req);
    struct kw_arena a;
    kw_arena_init(&a);
    struct kw_reader r;
    struct kw_produce_req m;
    CU_ASSERT_EQUAL(decode_req(&f, 12, &m, &a, &r), KW_ERR_VERSION);
    struct kw_produce_resp resp;
    kw_reader_init(&r, f.data, f.len);
    CU_ASSERT_EQUAL(kw_produce_resp_decode(&r, -1, &resp, &a), KW_ERR_VERSION);
    kw_arena_release(&a);
    fx_free(&f);
}

CU_TestInfo kwt_produce_tests[] = {
    { "samples round-trip at every version", test_samples_round_trip_at_every_version },
    { "v3 request matches hand encoding", test_v3_request_matches_hand_encoding },
    { "v9 request is flexible with compact records",
      test_v9_request_is_flexible_with_compact_records },
    { "transactional id is null or set from v3 and absent before",
      test_transactional_id_is_null_or_set_from_v3_and_absent_before },
    { "acks -1, 0 and 1 survive every version", test_acks_values_survive_every_version },
    { "null records are kept null", test_null_records_are_kept_null },
    { "v10 response carries the new leader in tagged fields",
      test_v10_response_carries_the_new_leader_in_tagged_fields },
    { "v8 response lists per-record errors", test_v8_response_lists_per_record_errors },
    { "absent response fields read as their defaults",
      test_absent_response_fields_read_as_their_defaults },
    { "a billion partitions fail fast as short input",
      test_a_billion_partitions_fail_fast_as_short },
    { "a negative records length other than -1 fails with a range error",
      test_a_negative_records_length_fails_with_range },
    { "version 12 is refused", test_version_12_is_refused },
    CU_TEST_INFO_NULL,
};
