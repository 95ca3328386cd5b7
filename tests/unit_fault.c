/* Fault rules through the C API, one action at a time, over real sockets: the exact answers a
 * client gets (tests/kclient) and what the partition logs hold afterwards. The cluster runs on
 * the test's loop and a virtual clock, so delays and throttles move only when a test says. */
#include <CUnit/CUnit.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/create_topics.h"
#include "lib/proto/fetch.h"
#include "lib/proto/init_producer_id.h"
#include "lib/proto/list_groups.h"
#include "lib/proto/metadata.h"
#include "lib/proto/produce.h"
#include "tests/unit_fault_env.h"

#define START(e, n)                                                                           \
    struct fenv e;                                                                            \
    CU_ASSERT_FATAL(fenv_start(&e, n, NULL))

/* One Produce v8 request for partitions 0 and 1 of topic, three records each. */
static int32_t produce_two(struct kc_conn *k, const char *topic, int version)
{
    struct kw_buf b0, b1;
    kw_buf_init(&b0);
    kw_buf_init(&b1);
    kc_batch(&b0, KW_CODEC_NONE, -1, -1, -1, 0, 3, 1000);
    kc_batch(&b1, KW_CODEC_NONE, -1, -1, -1, 10, 3, 1000);
    struct kw_produce_req_partition p[2] = {
        { .index = 0, .records = { b0.data, (int32_t)b0.len } },
        { .index = 1, .records = { b1.data, (int32_t)b1.len } },
    };
    struct kw_produce_req_topic t = { .name = kw_str_c(topic), .n_partition_data = 2,
                                      .partition_data = p };
    struct kw_produce_req req = { .transactional_id = KW_STR_NULL, .acks = 1, .timeout_ms = 5000,
                                  .n_topic_data = 1, .topic_data = &t };
    int32_t id = kc_send(k, KW_API_PRODUCE, version, &req);
    kw_buf_release(&b0);
    kw_buf_release(&b1);
    return id;
}

static int metadata(struct kc_conn *k, int version, const char *topic, struct kw_metadata_resp *m)
{
    struct kw_metadata_req_topic t = { .name = kw_str_c(topic) };
    struct kw_metadata_req req = { .topics = &t, .n_topics = 1,
                                   .allow_auto_topic_creation = false };
    return kc_call(k, KW_API_METADATA, version, &req, m);
}

static uint64_t count(struct fenv *e, int api_key)
{
    return mb_request_count(e->c, -1, api_key);
}

/* --- error ------------------------------------------------------------------------------------ */

static void test_an_error_before_apply_refuses_every_partition_and_stores_nothing(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 2, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "nl", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_NOT_LEADER_OR_FOLLOWER;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    int32_t id = produce_two(&k, "t", 8);
    CU_ASSERT_EQUAL_FATAL(kc_recv(&k, KW_API_PRODUCE, 8, id, &resp, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL_FATAL(resp.responses[0].n_partition_responses, 2);
    for (int i = 0; i < 2; i++) {
        const struct kw_produce_resp_partition *p = &resp.responses[0].partition_responses[i];
        CU_ASSERT_EQUAL(p->index, i);
        CU_ASSERT_EQUAL(p->error_code, KW_EC_NOT_LEADER_OR_FOLLOWER);
        CU_ASSERT_EQUAL(p->base_offset, -1);
        CU_ASSERT(kw_str_eq(p->error_message, kw_error_text(KW_EC_NOT_LEADER_OR_FOLLOWER)));
    }
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 0);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 1), 0);
    /* Count 1: spent, the next one goes through. */
    id = produce_two(&k, "t", 8);
    CU_ASSERT_EQUAL_FATAL(kc_recv(&k, KW_API_PRODUCE, 8, id, &resp, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL(resp.responses[0].partition_responses[0].error_code, 0);
    CU_ASSERT_EQUAL(resp.responses[0].partition_responses[1].base_offset, 0);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 1), 3);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_an_error_on_one_partition_lists_record_errors_on_produce_v8(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 2, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "bad-record", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.match.topic = "t";
    r.match.partition = 1;
    r.action.error_code = KW_EC_INVALID_RECORD;
    r.action.error_message = "record 2 has no key";
    r.action.n_record_errors = 2;
    r.action.record_errors[0] = 0;
    r.action.record_errors[1] = 2;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    int32_t id = produce_two(&k, "t", 8);
    CU_ASSERT_EQUAL_FATAL(kc_recv(&k, KW_API_PRODUCE, 8, id, &resp, KC_WAIT_MS), KW_OK);
    const struct kw_produce_resp_partition *p0 = &resp.responses[0].partition_responses[0];
    const struct kw_produce_resp_partition *p1 = &resp.responses[0].partition_responses[1];
    CU_ASSERT(p0->error_code == 0 && p0->base_offset == 0 && p0->n_record_errors == 0);
    CU_ASSERT_EQUAL(p1->error_code, KW_EC_INVALID_RECORD);
    CU_ASSERT(kw_str_eq(p1->error_message, "record 2 has no key"));
    CU_ASSERT_EQUAL_FATAL(p1->n_record_errors, 2);
    CU_ASSERT_EQUAL(p1->record_errors[0].batch_index, 0);
    CU_ASSERT_EQUAL(p1->record_errors[1].batch_index, 2);
    CU_ASSERT(kw_str_eq(p1->record_errors[1].batch_index_error_message, "record 2 has no key"));
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 1), 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_an_error_after_apply_answers_the_error_with_the_write_in_the_log(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "timeout", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.when = MB_AFTER_APPLY;
    r.action.error_code = KW_EC_REQUEST_TIMED_OUT;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    int64_t base = 0;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 3, &base), KW_EC_REQUEST_TIMED_OUT);
    CU_ASSERT_EQUAL(base, -1);
    char values[64];
    fenv_values(&e, "t", 0, values, sizeof(values));
    CU_ASSERT_STRING_EQUAL(values, "v0,v1,v2");
    /* The client retries; without idempotence the batch is stored twice, as on Kafka. */
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 3, &base), 0);
    CU_ASSERT_EQUAL(base, 3);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_errors_reach_metadata_api_versions_and_init_producer_id(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 2, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "md", KW_API_METADATA, MB_ACTION_ERROR);
    r.match.topic = "t";
    r.action.error_code = KW_EC_LEADER_NOT_AVAILABLE;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    fenv_rule(&r, "av", KW_API_API_VERSIONS, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_UNKNOWN_SERVER_ERROR;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    fenv_rule(&r, "pid", KW_API_INIT_PRODUCER_ID, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_COORDINATOR_LOAD_IN_PROGRESS;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);

    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 12, "t", &m), KW_OK);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
    CU_ASSERT_EQUAL(m.topics[0].error_code, KW_EC_LEADER_NOT_AVAILABLE);
    CU_ASSERT_EQUAL_FATAL(m.topics[0].n_partitions, 2);
    CU_ASSERT_EQUAL(m.topics[0].partitions[1].error_code, KW_EC_LEADER_NOT_AVAILABLE);
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 12, "t", &m), KW_OK);
    CU_ASSERT_EQUAL(m.topics[0].error_code, 0);

    struct kw_api_versions_req av = { .client_software_name = kw_str_c("t"),
                                      .client_software_version = kw_str_c("1") };
    struct kw_api_versions_resp ar;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_API_VERSIONS, 3, &av, &ar), KW_OK);
    CU_ASSERT_EQUAL(ar.error_code, KW_EC_UNKNOWN_SERVER_ERROR);

    struct kw_init_producer_id_req ip = { .transactional_id = KW_STR_NULL, .producer_id = -1,
                                          .producer_epoch = -1 };
    struct kw_init_producer_id_resp ir;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_INIT_PRODUCER_ID, 4, &ip, &ir), KW_OK);
    CU_ASSERT_EQUAL(ir.error_code, KW_EC_COORDINATOR_LOAD_IN_PROGRESS);
    CU_ASSERT_EQUAL(ir.producer_id, -1);
    /* Refused before apply: no id was used up, the next call gets the first one. */
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_INIT_PRODUCER_ID, 4, &ip, &ir), KW_OK);
    CU_ASSERT(ir.error_code == 0 && ir.producer_id == 1000);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_an_error_before_apply_creates_no_topic(void)
{
    START(e, 1);
    struct mb_rule r;
    fenv_rule(&r, "ct", KW_API_CREATE_TOPICS, MB_ACTION_ERROR);
    r.match.topic = "new";
    r.action.error_code = KW_EC_POLICY_VIOLATION;
    r.action.error_message = "not today";
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_create_topics_req_topic t[2] = {
        { .name = kw_str_c("new"), .num_partitions = 1, .replication_factor = 1 },
        { .name = kw_str_c("other"), .num_partitions = 1, .replication_factor = 1 },
    };
    struct kw_create_topics_req req = { .topics = t, .n_topics = 2, .timeout_ms = 1000 };
    struct kw_create_topics_resp resp;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_CREATE_TOPICS, 7, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL_FATAL(resp.n_topics, 2);
    CU_ASSERT_EQUAL(resp.topics[0].error_code, KW_EC_POLICY_VIOLATION);
    CU_ASSERT(kw_str_eq(resp.topics[0].error_message, "not today"));
    CU_ASSERT_EQUAL(resp.topics[1].error_code, 0);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "new", 0), -1);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "other", 0), 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_fetch_error_answers_at_once_without_records(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 3, NULL), 0);
    struct mb_rule r;
    fenv_rule(&r, "fetch", KW_API_FETCH, MB_ACTION_ERROR);
    r.match.topic = "t";
    r.action.error_code = KW_EC_NOT_LEADER_OR_FOLLOWER;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_fetched f;
    /* A long poll with data ready, and one that would wait: both answered now, no records. */
    CU_ASSERT_EQUAL(kc_fetch(&k, 12, "t", 0, 0, 1 << 20, 10000, 1, -1, &f), KW_OK);
    CU_ASSERT(f.error_code == KW_EC_NOT_LEADER_OR_FOLLOWER && f.len == 0);
    CU_ASSERT_EQUAL(kc_fetch(&k, 12, "t", 0, 0, 1 << 20, 10000, 1, -1, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len > 0);
    kc_close(&k);
    fenv_stop(&e);
}

/* --- matching: nth, count, filters ------------------------------------------------------------ */

static void test_nth_and_count_pick_exactly_which_requests_fail(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "2nd-and-3rd", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.match.nth = 2;
    r.count = 2;
    r.action.error_code = KW_EC_NOT_ENOUGH_REPLICAS;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    int want[5] = { 0, KW_EC_NOT_ENOUGH_REPLICAS, KW_EC_NOT_ENOUGH_REPLICAS, 0, 0 };
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, i, 1, NULL), want[i]);
    char values[64];
    fenv_values(&e, "t", 0, values, sizeof(values));
    CU_ASSERT_STRING_EQUAL(values, "v0,v3,v4");
    struct mb_rule_stats st;
    CU_ASSERT_EQUAL(mb_rule_stats(e.c, "2nd-and-3rd", &st), 0);
    CU_ASSERT(st.matched == 3 && st.fired == 2 && st.spent && st.held == 0);
    CU_ASSERT_EQUAL(mb_rule_stats(e.c, "nosuch", &st), -1);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_rule_counted_always_fires_on_every_match(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, NULL, KW_API_PRODUCE, MB_ACTION_ERROR);
    r.count = MB_ALWAYS;
    r.action.error_code = KW_EC_KAFKA_STORAGE_ERROR;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, i, 1, NULL), KW_EC_KAFKA_STORAGE_ERROR);
    struct mb_rule_stats st;
    CU_ASSERT_EQUAL(mb_rule_stats(e.c, "rule-1", &st), 0);    /* named for us */
    CU_ASSERT(st.fired == 4 && !st.spent);
    CU_ASSERT_EQUAL(mb_rule_remove(e.c, "rule-1"), 0);
    CU_ASSERT_EQUAL(mb_rule_remove(e.c, "rule-1"), -1);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 9, 1, NULL), 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_match_by_broker_client_id_version_and_producer_id(void)
{
    START(e, 2);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 2, 1), 0);
    int l0 = fenv_leader(&e, "t", 0), l1 = fenv_leader(&e, "t", 1);
    CU_ASSERT_FATAL(l0 != l1);
    struct mb_rule r;
    fenv_rule(&r, "broker", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.match.broker = l1;
    r.count = MB_ALWAYS;
    r.action.error_code = KW_EC_BROKER_NOT_AVAILABLE;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    fenv_rule(&r, "client", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.match.client_id = "picky";
    r.count = MB_ALWAYS;
    r.action.error_code = KW_EC_CLUSTER_AUTHORIZATION_FAILED;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    fenv_rule(&r, "old", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.match.min_version = 3;
    r.match.max_version = 5;
    r.count = MB_ALWAYS;
    r.action.error_code = KW_EC_UNSUPPORTED_VERSION;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    fenv_rule(&r, "pid", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.match.producer_id = 4242;
    r.count = MB_ALWAYS;
    r.action.error_code = KW_EC_INVALID_PRODUCER_EPOCH;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);

    struct kc_conn k0, k1;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k0, l0), 0);
    CU_ASSERT_EQUAL(fenv_connect(&e, &k1, l1), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k1, 9, 1, "t", 1, 0, 1, NULL), KW_EC_BROKER_NOT_AVAILABLE);
    CU_ASSERT_EQUAL(fenv_produce(&k0, 9, 1, "t", 0, 0, 1, NULL), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k0, 5, 1, "t", 0, 0, 1, NULL), KW_EC_UNSUPPORTED_VERSION);
    CU_ASSERT_EQUAL(fenv_produce(&k0, 6, 1, "t", 0, 0, 1, NULL), 0);
    k0.client_id = "picky";
    CU_ASSERT_EQUAL(fenv_produce(&k0, 9, 1, "t", 0, 0, 1, NULL),
                    KW_EC_CLUSTER_AUTHORIZATION_FAILED);
    k0.client_id = "kwtest";
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k0, 9, -1, 5000, "t", 0, 0, 1, 4242, 0);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k0, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->error_code, KW_EC_INVALID_PRODUCER_EPOCH);
    id = fenv_produce_send(&k0, 9, -1, 5000, "t", 0, 0, 1, 4243, 0);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k0, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->error_code, 0);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 1), 0);
    kc_close(&k0);
    kc_close(&k1);
    fenv_stop(&e);
}

static void test_bad_rules_are_refused_with_a_reason(void)
{
    START(e, 2);
    char err[256];
    struct mb_rule r;
    fenv_rule(&r, "x", KW_API_PRODUCE, MB_ACTION_ERROR);
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), -1);    /* error_code 0 */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "error_code"));
    r.action.error_code = KW_EC_NETWORK_EXCEPTION;
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "exists"));
    fenv_rule(&r, "y", KW_API_PRODUCE, MB_ACTION_BROKER_DOWN);
    r.action.broker = 3;
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), -1);
    fenv_rule(&r, "z", KW_API_PRODUCE, MB_ACTION_SPLIT_RESPONSE);
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), -1);    /* bytes 0 */
    r.count = 0;
    r.action.bytes = 4;
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), -1);    /* count 0 */
    r.count = 1;
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(mb_rule_count(e.c), 2);
    struct mb_rule got;
    char strings[MB_RULE_STRINGS];
    struct mb_rule_stats st;
    CU_ASSERT_EQUAL(mb_rule_get(e.c, 1, &got, strings, &st), 0);
    CU_ASSERT_STRING_EQUAL(got.name, "z");
    CU_ASSERT(got.action.type == MB_ACTION_SPLIT_RESPONSE && got.action.bytes == 4);
    CU_ASSERT_EQUAL(mb_rule_get(e.c, 2, &got, strings, &st), -1);
    /* Only side effects run without a request. */
    struct mb_action a = r.action;
    CU_ASSERT_EQUAL(mb_action_run(e.c, &a, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "side effect"));
    mb_rule_clear(e.c);
    CU_ASSERT_EQUAL(mb_rule_count(e.c), 0);
    /* The names of the vocabulary round-trip. */
    for (int t = 0; t < MB_ACTION_TYPES; t++)
        CU_ASSERT_EQUAL(mb_action_type_parse(mb_action_type_name(t)), t);
    CU_ASSERT_EQUAL(mb_action_type_parse("lose_response"), MB_ACTION_LOSE_RESPONSE);
    CU_ASSERT_EQUAL(mb_when_parse("after_apply"), MB_AFTER_APPLY);
    CU_ASSERT_EQUAL(mb_follower_mode_parse("stopped"), MB_FOLLOWER_STOPPED);
    CU_ASSERT_EQUAL(mb_broker_state_parse("blackhole"), MB_BROKER_BLACKHOLE);
    CU_ASSERT_EQUAL(mb_action_type_parse("nope"), -1);
    fenv_stop(&e);
}

/* --- delay, throttle, pause ------------------------------------------------------------------- */

static void test_a_delay_after_apply_holds_only_the_answer_for_exactly_its_time(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "slow", KW_API_PRODUCE, MB_ACTION_DELAY);
    r.action.when = MB_AFTER_APPLY;
    r.action.duration_ms = 250;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, id, FENV_QUIET_MS, &resp, &p), KC_TIMEOUT);
    CU_ASSERT_EQUAL(fenv_advance(&e, 249), 0);
    CU_ASSERT(!kc_readable(&k));
    CU_ASSERT_EQUAL(fenv_advance(&e, 1), 1);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT(p->error_code == 0 && p->base_offset == 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_delay_before_apply_stores_nothing_until_its_time(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "late", KW_API_PRODUCE, MB_ACTION_DELAY);
    r.action.duration_ms = 100;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 0);
    CU_ASSERT_EQUAL(fenv_advance(&e, 100), 1);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->error_code, 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_throttle_answers_at_once_then_mutes_the_connection_from_produce_v6(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "quota", KW_API_PRODUCE, MB_ACTION_THROTTLE);
    r.action.duration_ms = 500;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 7, 1, 5000, "t", 0, 0, 3, -1, -1);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 7, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT(p->error_code == 0 && resp.throttle_time_ms == 500);
    /* Muted for the throttle time: the next request is not even read. */
    struct kw_metadata_req md = { .n_topics = 0 };
    int32_t mid = kc_send(&k, KW_API_METADATA, 4, &md);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(count(&e, KW_API_METADATA), 0);
    CU_ASSERT_EQUAL(fenv_advance(&e, 499), 0);
    CU_ASSERT_EQUAL(count(&e, KW_API_METADATA), 0);
    CU_ASSERT_EQUAL(fenv_advance(&e, 1), 1);
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL(kc_recv(&k, KW_API_METADATA, 4, mid, &m, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL(m.throttle_time_ms, 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_throttle_delays_the_answer_before_produce_v6(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "quota", KW_API_PRODUCE, MB_ACTION_THROTTLE);
    r.action.duration_ms = 500;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 5, 1, 5000, "t", 0, 0, 3, -1, -1);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 5, id, FENV_QUIET_MS, &resp, &p), KC_TIMEOUT);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_advance(&e, 500), 1);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 5, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT(p->error_code == 0 && resp.throttle_time_ms == 500);
    kc_close(&k);
    fenv_stop(&e);
}

/* KIP-219 reached the group and transaction APIs too, each from its own version: ListGroups
 * v1 has its throttled answer held back, v2 gets it at once and the connection muted. */
static void test_a_throttled_list_groups_is_held_at_v1_and_answered_at_once_from_v2(void)
{
    START(e, 1);
    struct mb_rule r;
    fenv_rule(&r, "quota", KW_API_LIST_GROUPS, MB_ACTION_THROTTLE);
    r.action.duration_ms = 300;
    r.count = MB_ALWAYS;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_list_groups_req req = { 0 };
    struct kw_list_groups_resp resp;
    int32_t id = kc_send(&k, KW_API_LIST_GROUPS, 1, &req);
    CU_ASSERT_EQUAL(kc_recv(&k, KW_API_LIST_GROUPS, 1, id, &resp, FENV_QUIET_MS), KC_TIMEOUT);
    CU_ASSERT_EQUAL(fenv_advance(&e, 300), 1);
    CU_ASSERT_EQUAL_FATAL(kc_recv(&k, KW_API_LIST_GROUPS, 1, id, &resp, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL(resp.throttle_time_ms, 300);
    id = kc_send(&k, KW_API_LIST_GROUPS, 2, &req);
    CU_ASSERT_EQUAL_FATAL(kc_recv(&k, KW_API_LIST_GROUPS, 2, id, &resp, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL(resp.throttle_time_ms, 300);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_pause_reading_stops_taking_requests_for_its_time(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "bp", KW_API_PRODUCE, MB_ACTION_PAUSE_READING);
    r.action.duration_ms = 1000;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), 0);
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 1, 1, -1, -1);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(count(&e, KW_API_PRODUCE), 1);
    CU_ASSERT_EQUAL(fenv_advance(&e, 999), 0);
    CU_ASSERT_EQUAL(count(&e, KW_API_PRODUCE), 1);
    CU_ASSERT_EQUAL(fenv_advance(&e, 1), 1);
    CU_ASSERT_EQUAL(count(&e, KW_API_PRODUCE), 2);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->base_offset, 1);
    kc_close(&k);
    fenv_stop(&e);
}

/* --- close, lose ------------------------------------------------------------------------------ */

static void test_close_before_apply_drops_the_request(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "cut", KW_API_PRODUCE, MB_ACTION_CLOSE);
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    CU_ASSERT(fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1) > 0);
    CU_ASSERT_EQUAL(kc_expect_closed(&k, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 0);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_RESPONSE, "closed"), 1);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_close_after_apply_keeps_the_write_and_sends_nothing(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), 0);
    struct mb_rule r;
    fenv_rule(&r, "cut", KW_API_PRODUCE, MB_ACTION_CLOSE);
    r.action.when = MB_AFTER_APPLY;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    CU_ASSERT(fenv_produce_send(&k, 9, 1, 5000, "t", 0, 1, 3, -1, -1) > 0);
    CU_ASSERT_EQUAL(kc_expect_closed(&k, KC_WAIT_MS), 0);
    char values[64];
    fenv_values(&e, "t", 0, values, sizeof(values));
    CU_ASSERT_STRING_EQUAL(values, "v0,v1,v2,v3");
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_lost_response_withholds_every_later_one_on_the_connection(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "lost", KW_API_PRODUCE, MB_ACTION_LOSE_RESPONSE);
    r.match.nth = 2;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k, other;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    CU_ASSERT_EQUAL(fenv_connect(&e, &other, 1), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t a = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 1, 1, -1, -1);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, a, FENV_QUIET_MS, &resp, &p), KC_TIMEOUT);
    /* Still applied, still unanswered, and so is what follows on this connection. */
    int32_t b = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 2, 1, -1, -1);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, b, FENV_QUIET_MS, &resp, &p), KC_TIMEOUT);
    CU_ASSERT_EQUAL(fenv_produce(&other, 9, 1, "t", 0, 3, 1, NULL), 0);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_RESPONSE, "lost"), 2);
    kc_close(&k);
    kc_close(&other);
    fenv_stop(&e);
}

/* --- producer state --------------------------------------------------------------------------- */

static void test_unknown_producer_id_forgets_the_producer_state(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 9, -1, 5000, "t", 0, 0, 3, 1000, 0);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->error_code, 0);
    /* Out of sequence (3 expected) is refused while the partition knows the producer... */
    id = fenv_produce_send(&k, 9, -1, 5000, "t", 0, 3, 1, 1000, 5);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->error_code, KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    struct mb_rule r;
    fenv_rule(&r, "forget", KW_API_PRODUCE, MB_ACTION_UNKNOWN_PRODUCER_ID);
    r.match.producer_id = 1000;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    id = fenv_produce_send(&k, 9, -1, 5000, "t", 0, 3, 1, 1000, 3);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT(p->error_code == KW_EC_UNKNOWN_PRODUCER_ID && p->base_offset == -1);
    /* ...and accepted once it does not (any sequence, as Kafka since KIP-360). */
    id = fenv_produce_send(&k, 9, -1, 5000, "t", 0, 3, 1, 1000, 5);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT(p->error_code == 0 && p->base_offset == 3);
    kc_close(&k);
    fenv_stop(&e);
}

/* --- hold ------------------------------------------------------------------------------------- */

static void test_hold_before_apply_parks_the_request_and_mutes_the_connection(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "gate", KW_API_PRODUCE, MB_ACTION_HOLD);
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1);
    struct kw_metadata_req md = { .n_topics = 0 };
    int32_t mid = kc_send(&k, KW_API_METADATA, 9, &md);
    fenv_spin(&e);
    struct mb_rule_stats st;
    CU_ASSERT_EQUAL(mb_rule_stats(e.c, "gate", &st), 0);
    CU_ASSERT_EQUAL(st.held, 1);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 0);
    CU_ASSERT_EQUAL(count(&e, KW_API_METADATA), 0);
    CU_ASSERT(!kc_readable(&k));
    CU_ASSERT_EQUAL(mb_rule_release(e.c, "nosuch"), -1);
    CU_ASSERT_EQUAL(mb_rule_release(e.c, "gate"), 1);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->base_offset, 0);
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL(kc_recv(&k, KW_API_METADATA, 9, mid, &m, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL(mb_rule_stats(e.c, "gate", &st), 0);
    CU_ASSERT_EQUAL(st.held, 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_hold_after_apply_keeps_the_answer_until_released(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "gate", KW_API_PRODUCE, MB_ACTION_HOLD);
    r.action.when = MB_AFTER_APPLY;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, id, FENV_QUIET_MS, &resp, &p), KC_TIMEOUT);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    /* Removing the rule releases what it holds. */
    CU_ASSERT_EQUAL(mb_rule_remove(e.c, "gate"), 0);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT(p->error_code == 0 && p->base_offset == 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_held_request_released_after_its_client_left_is_still_applied(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "gate", KW_API_PRODUCE, MB_ACTION_HOLD);
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    CU_ASSERT(fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1) > 0);
    fenv_spin(&e);
    kc_close(&k);
    /* The broker notices the close once it reads again; the held request goes with it. */
    CU_ASSERT_EQUAL(mb_rule_release(e.c, NULL), 1);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_RESPONSE, "sent"), 1);
    fenv_stop(&e);
}

/* --- mangled answers -------------------------------------------------------------------------- */

static void test_a_truncated_answer_is_followed_by_a_close(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "half", KW_API_PRODUCE, MB_ACTION_TRUNCATE_RESPONSE);
    r.action.bytes = 10;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KC_CLOSED);
    CU_ASSERT_EQUAL(k.in.len, 10);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_RESPONSE, "truncated"), 1);
    kc_close(&k);
    fenv_stop(&e);
}

/* The frame of the answer to one Produce under a corrupt_response rule at offset (-1: seeded). */
static size_t corrupted_frame(int32_t offset, uint8_t *out, size_t size)
{
    struct fenv e;
    size_t n = 0;
    if (!fenv_start(&e, 1, NULL))
        return 0;
    fenv_topic(&e, "t", 1, 1);
    struct mb_rule r;
    fenv_rule(&r, "flip", KW_API_PRODUCE, MB_ACTION_CORRUPT_RESPONSE);
    r.action.offset = offset;
    if (offset >= -1)
        fenv_add(&e, &r);
    struct kc_conn k;
    fenv_connect(&e, &k, 1);
    const uint8_t *frame;
    size_t len;
    if (fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1) > 0 &&
        kc_read_frame(&k, KC_WAIT_MS, &frame, &len) == KW_OK && len <= size) {
        memcpy(out, frame, len);
        n = len;
    }
    kc_close(&k);
    fenv_stop(&e);
    return n;
}

static void test_a_corrupted_answer_differs_in_one_byte_chosen_by_the_seed(void)
{
    uint8_t clean[512], a[512], b[512], at4[512];
    size_t n = corrupted_frame(-2, clean, sizeof(clean));
    CU_ASSERT_FATAL(n > 8);
    CU_ASSERT_EQUAL(corrupted_frame(-1, a, sizeof(a)), n);
    CU_ASSERT_EQUAL(corrupted_frame(-1, b, sizeof(b)), n);
    CU_ASSERT_EQUAL(memcmp(a, b, n), 0);        /* the same seed flips the same byte */
    int diff = 0, where = -1;
    for (size_t i = 0; i < n; i++)
        if (a[i] != clean[i]) {
            diff++;
            where = (int)i;
            CU_ASSERT_EQUAL(a[i] ^ clean[i], 0xff);
        }
    CU_ASSERT_EQUAL(diff, 1);
    CU_ASSERT(where >= 4);                      /* past the correlation id (frame offset 4) */
    /* Offset 4 counts from the size prefix: the correlation id's first byte. */
    CU_ASSERT_EQUAL(corrupted_frame(4, at4, sizeof(at4)), n);
    CU_ASSERT((at4[0] ^ clean[0]) == 0xff && memcmp(at4 + 1, clean + 1, n - 1) == 0);
}

static void test_a_split_answer_arrives_whole_piece_by_piece(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "drip", KW_API_PRODUCE, MB_ACTION_SPLIT_RESPONSE);
    r.action.bytes = 7;
    r.action.interval_ms = 10;
    r.count = 2;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, id, FENV_QUIET_MS, &resp, &p), KC_TIMEOUT);
    CU_ASSERT_EQUAL(k.in.len, 7);               /* the first piece only */
    int steps = 0;
    while (steps < 100 && fenv_produce_recv(&k, 9, id, 5, &resp, &p) == KC_TIMEOUT) {
        fenv_advance(&e, 10);
        steps++;
    }
    CU_ASSERT(steps > 3 && steps < 100);
    CU_ASSERT(p != NULL && p->error_code == 0 && p->base_offset == 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_split_answer_without_interval_needs_no_time(void)
{
    START(e, 1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct mb_rule r;
    fenv_rule(&r, "drip", KW_API_PRODUCE, MB_ACTION_SPLIT_RESPONSE);
    r.action.bytes = 1;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    int64_t base = -1;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 3, &base), 0);
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 3, 3, &base), 0);
    CU_ASSERT_EQUAL(base, 3);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_RESPONSE, "split"), 1);
    kc_close(&k);
    fenv_stop(&e);
}

/* --- side effects ----------------------------------------------------------------------------- */

static void test_broker_down_right_after_it_applies_the_third_produce(void)
{
    START(e, 3);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    int leader = fenv_leader(&e, "t", 0);
    struct mb_rule r;
    fenv_rule(&r, "crash", KW_API_PRODUCE, MB_ACTION_BROKER_DOWN);
    r.match.broker = leader;
    r.match.nth = 3;
    r.action.when = MB_AFTER_APPLY;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, leader), 0);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(fenv_produce(&k, 9, -1, "t", 0, i, 1, NULL), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 9, -1, 5000, "t", 0, 2, 1, -1, -1);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KC_CLOSED);
    kc_close(&k);
    CU_ASSERT_EQUAL(mb_broker_state(e.c, leader), MB_BROKER_DOWN);
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(e.c, leader)), KC_IO);
    kc_close(&k);
    /* The followers had copied it: the new leader holds all three, in epoch 1. */
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "t", 0, &info), 0);
    CU_ASSERT(info.leader != leader && info.leader > 0);
    CU_ASSERT_EQUAL(info.leader_epoch, 1);
    CU_ASSERT_EQUAL(info.log_end_offset, 3);
    CU_ASSERT_EQUAL(info.n_isr, 2);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_BROKER, "down"), 1);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_LEADER, "election"), 1);
    fenv_stop(&e);
}

/* after_response: the answer goes first, then the broker. With followers 500 ms behind, the
 * acknowledged record exists nowhere else: the new leader does not have it (acks=1 loss). */
static void test_broker_down_after_it_answers_loses_an_acknowledged_acks_1_write(void)
{
    START(e, 3);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    int leader = fenv_leader(&e, "t", 0);
    for (int b = 1; b <= 3; b++)
        if (b != leader)
            CU_ASSERT_EQUAL(mb_follower_set(e.c, "t", 0, b, MB_FOLLOWER_DELAY, 500, 0, NULL,
                                            0), 0);
    struct mb_rule r;
    fenv_rule(&r, "crash", KW_API_PRODUCE, MB_ACTION_BROKER_DOWN);
    r.action.when = MB_AFTER_RESPONSE;      /* broker MB_ANY: the request's */
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, leader), 0);
    int64_t base = -1;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 2, &base), 0);     /* acknowledged */
    CU_ASSERT_EQUAL(base, 0);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(mb_broker_state(e.c, leader), MB_BROKER_DOWN);
    CU_ASSERT_EQUAL(kc_expect_closed(&k, KC_WAIT_MS), 0);
    kc_close(&k);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "t", 0, &info), 0);
    CU_ASSERT(info.leader != leader && info.leader > 0);
    CU_ASSERT_EQUAL(info.log_end_offset, 0);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_BROKER, "down"), 1);
    fenv_stop(&e);
}

/* after_response is for side effects, and a partition action then needs its topic. */
static void test_after_response_is_refused_where_it_cannot_act(void)
{
    START(e, 1);
    struct mb_rule r;
    char err[256] = "";
    fenv_rule(&r, "late-error", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_NOT_LEADER_OR_FOLLOWER;
    r.action.when = MB_AFTER_RESPONSE;
    CU_ASSERT_NOT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "side effects only"));
    fenv_rule(&r, "late-move", KW_API_PRODUCE, MB_ACTION_LEADER_MOVE);
    r.action.when = MB_AFTER_RESPONSE;
    CU_ASSERT_NOT_EQUAL(mb_rule_add(e.c, &r, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs a topic"));
    fenv_stop(&e);
}

static void test_a_leader_move_before_apply_makes_the_produce_not_leader(void)
{
    START(e, 3);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "t", 0, &info), 0);
    int leader = info.leader, next = info.replicas[1];
    struct mb_rule r;
    fenv_rule(&r, "move", KW_API_PRODUCE, MB_ACTION_LEADER_MOVE);
    r.action.broker = next;     /* topic NULL: the partitions the request names */
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, leader), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 10, 1, 5000, "t", 0, 0, 1, -1, -1);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 10, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->error_code, KW_EC_NOT_LEADER_OR_FOLLOWER);
    CU_ASSERT(p->current_leader.leader_id == next && p->current_leader.leader_epoch == 1);
    CU_ASSERT_EQUAL(fenv_leader(&e, "t", 0), next);
    kc_close(&k);
    fenv_stop(&e);
}

/* --- the cluster's own thread ----------------------------------------------------------------- */

static bool holding(struct mb_cluster *c, void *arg)
{
    struct mb_rule_stats st;
    return mb_rule_stats(c, arg, &st) == 0 && st.held == 1;
}

static void test_rules_work_from_another_thread_on_the_real_clock(void)
{
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.seed = FENV_SEED;
    cfg.log_level = MB_LOG_ERROR;
    char err[256] = "";
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "t", 1, 1, err, sizeof(err)), 0);
    struct mb_rule r;
    fenv_rule(&r, "gate", KW_API_PRODUCE, MB_ACTION_HOLD);
    r.action.when = MB_AFTER_APPLY;
    CU_ASSERT_EQUAL(mb_rule_add(c, &r, err, sizeof(err)), 0);
    fenv_rule(&r, "slow", KW_API_PRODUCE, MB_ACTION_DELAY);
    r.match.nth = 2;
    r.action.when = MB_AFTER_APPLY;
    r.action.duration_ms = 100;
    CU_ASSERT_EQUAL(mb_rule_add(c, &r, err, sizeof(err)), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(c, 1)), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, -1, -1);
    CU_ASSERT_EQUAL(mb_wait_until(c, holding, "gate", KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(mb_wait_offset(c, "t", 0, 3, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, id, FENV_QUIET_MS, &resp, &p), KC_TIMEOUT);
    CU_ASSERT_EQUAL(mb_rule_release(c, "gate"), 1);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    CU_ASSERT_EQUAL(p->base_offset, 0);
    int64_t t0 = kc_now_ms();
    int64_t base = -1;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 3, 1, &base), 0);
    CU_ASSERT(kc_now_ms() - t0 >= 95 && base == 3);
    char *text = mb_journal_render(c, 0, MB_JOURNAL_TEXT);
    CU_ASSERT(text && strstr(text, "rule \"gate\" hold") && strstr(text, "rule \"slow\" delay"));
    free(text);
    kc_close(&k);
    mb_cluster_destroy(c);
}

CU_TestInfo kwt_fault_tests[] = {
    { "An error before apply refuses every partition and stores nothing",
      test_an_error_before_apply_refuses_every_partition_and_stores_nothing },
    { "An error on one partition lists record errors on Produce v8",
      test_an_error_on_one_partition_lists_record_errors_on_produce_v8 },
    { "An error after apply answers the error with the write in the log",
      test_an_error_after_apply_answers_the_error_with_the_write_in_the_log },
    { "Errors reach Metadata, ApiVersions and InitProducerId",
      test_errors_reach_metadata_api_versions_and_init_producer_id },
    { "An error before apply creates no topic", test_an_error_before_apply_creates_no_topic },
    { "A Fetch error answers at once without records",
      test_a_fetch_error_answers_at_once_without_records },
    { "nth and count pick exactly which requests fail",
      test_nth_and_count_pick_exactly_which_requests_fail },
    { "A rule counted always fires on every match",
      test_a_rule_counted_always_fires_on_every_match },
    { "Match by broker, client id, version and producer id",
      test_match_by_broker_client_id_version_and_producer_id },
    { "Bad rules are refused with a reason", test_bad_rules_are_refused_with_a_reason },
    { "A delay after apply holds only the answer, for exactly its time",
      test_a_delay_after_apply_holds_only_the_answer_for_exactly_its_time },
    { "A delay before apply stores nothing until its time",
      test_a_delay_before_apply_stores_nothing_until_its_time },
    { "A throttle answers at once, then mutes the connection (Produce v6+)",
      test_a_throttle_answers_at_once_then_mutes_the_connection_from_produce_v6 },
    { "A throttled ListGroups is held at v1 and answered at once from v2",
      test_a_throttled_list_groups_is_held_at_v1_and_answered_at_once_from_v2 },
    { "A throttle delays the answer before Produce v6",
      test_a_throttle_delays_the_answer_before_produce_v6 },
    { "pause_reading stops taking requests for its time",
      test_pause_reading_stops_taking_requests_for_its_time },
    { "Close before apply drops the request", test_close_before_apply_drops_the_request },
    { "Close after apply keeps the write and sends nothing",
      test_close_after_apply_keeps_the_write_and_sends_nothing },
    { "A lost response withholds every later one on the connection",
      test_a_lost_response_withholds_every_later_one_on_the_connection },
    { "unknown_producer_id forgets the producer state",
      test_unknown_producer_id_forgets_the_producer_state },
    { "Hold before apply parks the request and mutes the connection",
      test_hold_before_apply_parks_the_request_and_mutes_the_connection },
    { "Hold after apply keeps the answer until released",
      test_hold_after_apply_keeps_the_answer_until_released },
    { "A held request released after its client left is still applied",
      test_a_held_request_released_after_its_client_left_is_still_applied },
    { "A truncated answer is followed by a close",
      test_a_truncated_answer_is_followed_by_a_close },
    { "A corrupted answer differs in one byte, chosen by the seed",
      test_a_corrupted_answer_differs_in_one_byte_chosen_by_the_seed },
    { "A split answer arrives whole, piece by piece",
      test_a_split_answer_arrives_whole_piece_by_piece },
    { "A split answer without interval needs no time",
      test_a_split_answer_without_interval_needs_no_time },
    { "Broker down right after it applies the third Produce",
      test_broker_down_right_after_it_applies_the_third_produce },
    { "Broker down after it answers loses an acknowledged acks=1 write",
      test_broker_down_after_it_answers_loses_an_acknowledged_acks_1_write },
    { "after_response is refused where it cannot act",
      test_after_response_is_refused_where_it_cannot_act },
    { "A leader move before apply makes the Produce NOT_LEADER",
      test_a_leader_move_before_apply_makes_the_produce_not_leader },
    { "Rules work from another thread, on the real clock",
      test_rules_work_from_another_thread_on_the_real_clock },
    CU_TEST_INFO_NULL,
};
