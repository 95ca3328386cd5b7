/* The producer when things go wrong without idempotence: retries and their backoff, errors that
 * are not retried, request, connection and delivery timeouts, lost responses, dead brokers, and
 * destroy with requests in flight. Faults come from the mock's own checks (min.insync.replicas,
 * max.message.bytes, unknown topics) or from the proxy in unit_producer_proxy.c. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"
#include "tests/unit_producer_env.h"
#include "tests/unit_producer_proxy.h"

static int64_t log_end(struct pt_env *e, const char *topic, int part)
{
    struct mb_partition_info info;
    if (mb_partition_info(e->c, topic, part, &info) != 0)
        return -1;
    return info.log_end_offset;
}

static void test_not_enough_replicas_is_retried_with_exponential_backoff(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "ner", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "ner", "min.insync.replicas", "2", NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "retries", "3",
                                                                   "linger.ms", "0", NULL }));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    CU_ASSERT_EQUAL(pt_produce(&e, "ner", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 60000));
    CU_ASSERT_EQUAL_FATAL(e.n_drs, 1);
    CU_ASSERT_EQUAL(e.drs[0].err, KW_EC_NOT_ENOUGH_REPLICAS);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.drs[0].errstr, "retries exhausted after 4 attempts"));
    /* Four attempts, three backoffs of 100, 200 and 400 ms, each within +-20%. */
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 4);
    int64_t took = pt_now_ms(&e) - t0;
    CU_ASSERT(took >= 560 && took <= 840);
    CU_ASSERT_EQUAL(log_end(&e, "ner", 0), 0);
    pt_stop(&e);
}

static void test_backoff_stops_growing_at_retry_backoff_max_ms(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "cap", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "cap", "min.insync.replicas", "2", NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "retries", "8",
                                                                   "retry.backoff.ms", "100",
                                                                   "retry.backoff.max.ms", "250",
                                                                   "linger.ms", "0", NULL }));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    CU_ASSERT_EQUAL(pt_produce(&e, "cap", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 60000));
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 9);
    /* 80..120 + 160..240 + six at 200..250 ms. */
    int64_t took = pt_now_ms(&e) - t0;
    CU_ASSERT(took >= 80 + 160 + 6 * 200 && took <= 120 + 240 + 6 * 250);
    pt_stop(&e);
}

static void test_delivery_timeout_ends_endless_retries(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "dt", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "dt", "min.insync.replicas", "3", NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "delivery.timeout.ms", "3000",
                                                                   NULL }));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "dt", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 60000));
    CU_ASSERT_EQUAL(pt_count_err(&e, KP_ERR__MSG_TIMED_OUT), 3);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.drs[0].errstr, "NOT_ENOUGH_REPLICAS"));
    CU_ASSERT_EQUAL(e.drs[0].cause, KW_EC_NOT_ENOUGH_REPLICAS);
    int64_t took = pt_now_ms(&e) - t0;
    CU_ASSERT(took >= 3000 && took <= 3010);
    CU_ASSERT(pt_produce_requests(&e) > 4);
    CU_ASSERT_EQUAL(log_end(&e, "dt", 0), 0);
    pt_stop(&e);
}

static void test_message_too_large_fails_the_batch_without_a_retry(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "mtl", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "mtl", "max.message.bytes", "300", NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "linger.ms", "50", NULL }));
    char v[101];
    memset(v, 'v', 100);
    v[100] = '\0';
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "mtl", 0, NULL, v), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 5, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, KW_EC_MESSAGE_TOO_LARGE), 5);
    CU_ASSERT_EQUAL(e.drs[4].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 1);
    /* The broker's words come along. */
    CU_ASSERT_PTR_NOT_NULL(strstr(e.drs[0].errstr, "max.message.bytes"));
    /* A batch that fits goes through. */
    CU_ASSERT_EQUAL(pt_produce(&e, "mtl", 0, NULL, "small"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 1000));
    CU_ASSERT_EQUAL(e.drs[5].err, 0);
    CU_ASSERT_EQUAL(log_end(&e, "mtl", 0), 1);
    pt_stop(&e);
}

static void test_a_swallowed_request_times_out_and_is_sent_again(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "sw", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 1, PX_DROP_REQUEST, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "request.timeout.ms", "2000",
                                                                  "socket.timeout.ms", "2000",
                                                                  NULL }));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    CU_ASSERT_EQUAL(pt_produce(&e, "sw", 0, NULL, "once"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    CU_ASSERT_EQUAL(e.drs[0].offset, 0);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_PRODUCE), 2);
    /* linger, the 2 s timeout, a reconnect backoff (80..120 ms) and a retry backoff. */
    int64_t took = pt_now_ms(&e) - t0;
    CU_ASSERT(took >= 2000 && took <= 2300);
    const char *expect[] = { "once" };
    CU_ASSERT(pt_log_is(&e, "sw", 0, expect, 1));
    pt_stop(&e);
}

static void test_a_lost_response_is_retried_and_duplicates_without_idempotence(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "dup", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 1, PX_DROP_RESPONSE, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "request.timeout.ms", "1000",
                                                                  "socket.timeout.ms", "1000",
                                                                  NULL }));
    CU_ASSERT_EQUAL(pt_produce(&e, "dup", 0, NULL, "twice"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_PERSISTED);
    /* At least once: the first write landed, its answer did not, the retry wrote it again. */
    CU_ASSERT_EQUAL(e.drs[0].offset, 1);
    const char *expect[] = { "twice", "twice" };
    CU_ASSERT(pt_log_is(&e, "dup", 0, expect, 2));
    pt_stop(&e);
}

static void test_a_lost_response_without_retries_is_reported_possibly_persisted(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "pp", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 1, PX_DROP_RESPONSE, 0);
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_DROP_REQUEST, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "request.timeout.ms", "1000",
                                                                  "socket.timeout.ms", "1000",
                                                                  "retries", "0", NULL }));
    CU_ASSERT_EQUAL(pt_produce(&e, "pp", 0, NULL, "maybe"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, KP_ERR__POSSIBLY_PERSISTED);
    CU_ASSERT_EQUAL(e.drs[0].cause, KP_ERR__TIMED_OUT);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_POSSIBLY_PERSISTED);
    CU_ASSERT_EQUAL(e.drs[0].offset, -1);
    const char *expect[] = { "maybe" };
    CU_ASSERT(pt_log_is(&e, "pp", 0, expect, 1));
    /* A request swallowed on its way looks the same from here: written, never answered. */
    CU_ASSERT_EQUAL(pt_produce(&e, "pp", 0, NULL, "never"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    CU_ASSERT_EQUAL(e.drs[1].err, KP_ERR__POSSIBLY_PERSISTED);
    CU_ASSERT(pt_log_is(&e, "pp", 0, expect, 1));
    pt_stop(&e);
}

static void test_a_connection_closed_after_the_write_retries_the_batch(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "ca", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 1, PX_CLOSE_AFTER, 0);
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_CLOSE_BEFORE, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), NULL));
    CU_ASSERT_EQUAL(pt_produce(&e, "ca", 0, NULL, "m"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_PRODUCE), 3);
    CU_ASSERT_EQUAL(log_end(&e, "ca", 0), 2);   /* the first write and the third */
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.retries, 2);
    pt_stop(&e);
}

static void test_not_leader_refreshes_metadata_before_the_retry(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "nl", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 2, PX_ERROR, KW_EC_NOT_LEADER_OR_FOLLOWER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), NULL));
    pt_settle(&e);
    int md = px_seen(x, KW_API_METADATA);
    CU_ASSERT_EQUAL(pt_produce(&e, "nl", 0, NULL, "m"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_PRODUCE), 3);
    CU_ASSERT(px_seen(x, KW_API_METADATA) >= md + 2);
    const char *expect[] = { "m" };
    CU_ASSERT(pt_log_is(&e, "nl", 0, expect, 1));
    pt_stop(&e);
}

static void test_with_one_in_flight_a_retried_batch_keeps_its_place(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "ord", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 1, PX_ERROR, KW_EC_REQUEST_TIMED_OUT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "max.in.flight", "1",
                                                                  "batch.num.messages", "2",
                                                                  NULL }));
    pt_settle(&e);
    const char *v[] = { "a1", "a2", "b1", "b2", "c1" };
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "ord", 0, NULL, v[i]), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 5, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 5);
    CU_ASSERT(pt_log_is(&e, "ord", 0, v, 5));
    for (size_t i = 0; i < e.n_drs; i++)
        CU_ASSERT_EQUAL(e.drs[i].offset, (int64_t)i);
    pt_stop(&e);
}

static void test_a_dead_bootstrap_times_out_messages_and_reports_all_brokers_down(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, "127.0.0.1:1",
                                                (const char *[]){ "delivery.timeout.ms", "5000",
                                                                  "debug", "broker", NULL }));
    CU_ASSERT_EQUAL(pt_produce(&e, "t", KP_PARTITION_UA, NULL, "lost"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 20000));
    CU_ASSERT_EQUAL(e.drs[0].err, KP_ERR__MSG_TIMED_OUT);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(pt_now_ms(&e), 5000);
    CU_ASSERT(e.n_errs >= 1);
    CU_ASSERT_EQUAL(e.errs[0], KP_ERR__ALL_BROKERS_DOWN);
    /* Reconnects back off exponentially: 100, 200, ... 3200 ms fit in 5 s, give or take. */
    CU_ASSERT(e.n_connects >= 5 && e.n_connects <= 8);
    pt_stop(&e);
}

static void test_without_debug_contexts_no_debug_line_is_logged(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    if (getenv("KWT_PRODUCER_LOG"))         /* the env turns every context on then */
        return pt_stop(&e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, "127.0.0.1:1",
                                                (const char *[]){ "delivery.timeout.ms", "2000",
                                                                  NULL }));
    CU_ASSERT_EQUAL(pt_produce(&e, "t", KP_PARTITION_UA, NULL, "lost"), 0);
    CU_ASSERT(pt_until_drs(&e, 1, 5000));
    CU_ASSERT_EQUAL(e.n_debug, 0);
    CU_ASSERT_EQUAL(e.n_warnings, 2);       /* the first refusal, then all brokers down */
    pt_stop(&e);
}

static void test_a_dead_first_bootstrap_entry_does_not_hide_the_others(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "bs", 1, 1, NULL, 0), 0);
    char list[128];
    snprintf(list, sizeof(list), "127.0.0.1:1,%s", mb_cluster_bootstrap(e.c));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, list, NULL));
    CU_ASSERT_EQUAL(pt_produce(&e, "bs", 0, NULL, "hi"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 5000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    pt_stop(&e);
}

static void test_a_cluster_gone_mid_stream_times_messages_out(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "gone", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "delivery.timeout.ms", "4000",
                                                                   "linger.ms", "100", NULL }));
    CU_ASSERT_EQUAL(pt_produce(&e, "gone", 0, NULL, "before"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "gone", 0, NULL, "after"), 0);
    mb_cluster_destroy(e.c);
    e.c = NULL;
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 20000));
    CU_ASSERT_EQUAL(e.drs[1].err, KP_ERR__MSG_TIMED_OUT);
    CU_ASSERT_EQUAL(e.drs[1].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(kp_producer_outq_len(e.p), 0);
    pt_stop(&e);
}

static void test_destroy_with_a_request_in_flight_purges_it_as_possibly_persisted(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "inf", 2, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 0, PX_HOLD, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "linger.ms", "10", NULL }));
    pt_settle(&e);
    CU_ASSERT_EQUAL(pt_produce(&e, "inf", 0, NULL, "in flight"), 0);
    pt_advance(&e, 10);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_PRODUCE), 1);
    CU_ASSERT_EQUAL(pt_produce(&e, "inf", 1, NULL, "queued"), 0);
    kp_producer_destroy(e.p);
    e.p = NULL;
    CU_ASSERT_EQUAL_FATAL(e.n_drs, 2);
    CU_ASSERT_EQUAL(pt_count_err(&e, KP_ERR__PURGE_INFLIGHT), 1);
    CU_ASSERT_EQUAL(pt_count_err(&e, KP_ERR__PURGE_QUEUE), 1);
    for (size_t i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(e.drs[i].status, e.drs[i].err == KP_ERR__PURGE_INFLIGHT
                                             ? KP_STATUS_POSSIBLY_PERSISTED
                                             : KP_STATUS_NOT_PERSISTED);
    pt_stop(&e);
}

static void test_connection_setup_times_out_without_an_api_versions_answer(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "st", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_API_VERSIONS, 1, 1, PX_DROP_REQUEST, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){
                                                    "socket.connection.setup.timeout.ms", "1500",
                                                    NULL }));
    CU_ASSERT_EQUAL(pt_produce(&e, "st", 0, NULL, "m"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_API_VERSIONS), 2);
    CU_ASSERT(pt_now_ms(&e) >= 1500 && pt_now_ms(&e) < 1800);
    pt_stop(&e);
}

static void test_metadata_is_refreshed_on_its_interval(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){
                                                 "topic.metadata.refresh.interval.ms", "1000",
                                                 NULL }));
    pt_settle(&e);
    uint64_t before = mb_request_count(e.c, -1, KW_API_METADATA);
    CU_ASSERT_EQUAL(before, 1);
    pt_advance(&e, 1000);
    pt_advance(&e, 1000);
    pt_advance(&e, 1000);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_METADATA), before + 3);
    pt_stop(&e);
}

CU_TestInfo kwt_producer_retry_tests[] = {
    { "NOT_ENOUGH_REPLICAS is retried with exponential backoff",
      test_not_enough_replicas_is_retried_with_exponential_backoff },
    { "backoff stops growing at retry.backoff.max.ms",
      test_backoff_stops_growing_at_retry_backoff_max_ms },
    { "delivery.timeout.ms ends endless retries", test_delivery_timeout_ends_endless_retries },
    { "MESSAGE_TOO_LARGE fails the batch without a retry",
      test_message_too_large_fails_the_batch_without_a_retry },
    { "a swallowed request times out and is sent again",
      test_a_swallowed_request_times_out_and_is_sent_again },
    { "a lost response is retried and duplicates without idempotence",
      test_a_lost_response_is_retried_and_duplicates_without_idempotence },
    { "a lost response without retries is reported possibly persisted",
      test_a_lost_response_without_retries_is_reported_possibly_persisted },
    { "a connection closed after the write retries the batch",
      test_a_connection_closed_after_the_write_retries_the_batch },
    { "NOT_LEADER refreshes metadata before the retry",
      test_not_leader_refreshes_metadata_before_the_retry },
    { "with one in flight a retried batch keeps its place",
      test_with_one_in_flight_a_retried_batch_keeps_its_place },
    { "a dead bootstrap times out messages and reports all brokers down",
      test_a_dead_bootstrap_times_out_messages_and_reports_all_brokers_down },
    { "without debug contexts no debug line is logged",
      test_without_debug_contexts_no_debug_line_is_logged },
    { "a dead first bootstrap entry does not hide the others",
      test_a_dead_first_bootstrap_entry_does_not_hide_the_others },
    { "a cluster gone mid-stream times messages out",
      test_a_cluster_gone_mid_stream_times_messages_out },
    { "destroy with a request in flight purges it as possibly persisted",
      test_destroy_with_a_request_in_flight_purges_it_as_possibly_persisted },
    { "connection setup times out without an ApiVersions answer",
      test_connection_setup_times_out_without_an_api_versions_answer },
    { "metadata is refreshed on its interval", test_metadata_is_refreshed_on_its_interval },
    CU_TEST_INFO_NULL,
};
