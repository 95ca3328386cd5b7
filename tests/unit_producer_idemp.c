/* The idempotent producer against the mock cluster: producer ids and sequences in the log, no
 * duplicates after lost responses, order kept when pipelined batches fail, the epoch bump of
 * KIP-360 after UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER and timed-out sequences, and
 * the fatal cases. */
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

/* Checks the partition log holds values in order, written under producer ids (all >= 0) whose
 * sequences count from 0 without gaps or repeats for each (producer id, epoch). When gen is not
 * NULL, records i and j share a (producer id, epoch) exactly when gen[i] == gen[j]: an epoch
 * bump may give a new id or a new epoch, as the broker chooses. */
static bool log_sequenced(struct pt_env *e, const char *topic, int part, const char *const *values,
                          size_t n, const int *gen)
{
    struct mb_records *r = mb_partition_records(e->c, topic, part, 0, 0);
    bool ok = r && r->count == n;
    int32_t seq = 0;
    for (size_t i = 0; ok && i < n; i++) {
        const struct mb_record *rec = &r->records[i];
        ok = rec->value_len == (int32_t)strlen(values[i]) &&
             memcmp(rec->value, values[i], strlen(values[i])) == 0 && rec->producer_id >= 0;
        bool same = i > 0 && rec->producer_id == r->records[i - 1].producer_id &&
                    rec->producer_epoch == r->records[i - 1].producer_epoch;
        if (ok && gen && i > 0)
            ok = same == (gen[i] == gen[i - 1]);
        if (!same)
            seq = 0;
        ok = ok && rec->sequence == seq++;
    }
    if (!ok && r) {
        fprintf(stderr, "\n%s-%d: %zu records\n", topic, part, r->count);
        for (size_t i = 0; i < r->count; i++)
            fprintf(stderr, "  %lld: %.*s pid %lld epoch %d seq %d\n",
                    (long long)r->records[i].offset, r->records[i].value_len,
                    (const char *)r->records[i].value, (long long)r->records[i].producer_id,
                    r->records[i].producer_epoch, r->records[i].sequence);
    }
    mb_records_destroy(r);
    return ok;
}

static const char *const IDEMP[] = { "enable.idempotence", "true", NULL };

static void test_batches_carry_the_producer_id_and_sequences_per_partition(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "i", 2, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "enable.idempotence", "true",
                                                                   "batch.num.messages", "3",
                                                                   NULL }));
    const char *v[] = { "0", "1", "2", "3", "4", "5", "6", "7" };
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "i", 0, NULL, v[i]), 0);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "i", 1, NULL, v[i]), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 10, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 10);
    CU_ASSERT(log_sequenced(&e, "i", 0, v, 8, NULL));
    CU_ASSERT(log_sequenced(&e, "i", 1, v, 2, NULL));
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.producer_id, 1000);
    CU_ASSERT_EQUAL(st.producer_epoch, 0);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_INIT_PRODUCER_ID), 1);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "i", 0, &info), 0);
    CU_ASSERT_EQUAL(info.batches, 3);
    pt_stop(&e);
}

static void test_a_lost_response_is_retried_without_a_duplicate(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "lost", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_DROP_RESPONSE, 0);
    px_rule(x, KW_API_PRODUCE, 4, 1, PX_CLOSE_AFTER, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "enable.idempotence", "true",
                                                                  "request.timeout.ms", "1000",
                                                                  "socket.timeout.ms", "1000",
                                                                  NULL }));
    const char *v[] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(pt_produce(&e, "lost", 0, NULL, v[i]), 0);
        CU_ASSERT_FATAL(pt_until_drs(&e, (size_t)i + 1, 10000));
    }
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 3);
    /* The retries were answered as duplicates, with the offsets of the first writes. */
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(e.drs[i].offset, (int64_t)i);
        CU_ASSERT_EQUAL(e.drs[i].status, KP_STATUS_PERSISTED);
    }
    CU_ASSERT_EQUAL(px_seen(x, KW_API_PRODUCE), 5);
    CU_ASSERT(log_sequenced(&e, "lost", 0, v, 3, NULL));
    pt_stop(&e);
}

static void test_pipelined_batches_behind_a_failed_one_follow_it_in_order(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "pipe", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    /* The second request fails before the broker sees it; the three behind it reach the broker
     * out of sequence and come back OUT_OF_ORDER_SEQUENCE_NUMBER. */
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_ERROR, KW_EC_NOT_LEADER_OR_FOLLOWER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "enable.idempotence", "true",
                                                                  "batch.num.messages", "1",
                                                                  NULL }));
    const char *v[] = { "s0", "s1", "s2", "s3", "s4" };
    CU_ASSERT_EQUAL(pt_produce(&e, "pipe", 0, NULL, v[0]), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    for (int i = 1; i < 5; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "pipe", 0, NULL, v[i]), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 5, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 5);
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(e.drs[i].offset, (int64_t)i);
    CU_ASSERT(log_sequenced(&e, "pipe", 0, v, 5, NULL));
    CU_ASSERT(px_seen(x, KW_API_PRODUCE) > 5);
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.epoch_bumps, 0);
    pt_stop(&e);
}

static void test_unknown_producer_id_bumps_the_epoch_and_resends(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "upid", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_ERROR, KW_EC_UNKNOWN_PRODUCER_ID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), IDEMP));
    const char *v[] = { "first", "second" };
    CU_ASSERT_EQUAL(pt_produce(&e, "upid", 0, NULL, v[0]), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(pt_produce(&e, "upid", 0, NULL, v[1]), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 2);
    CU_ASSERT_EQUAL(e.drs[1].offset, 1);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_INIT_PRODUCER_ID), 2);
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.epoch_bumps, 1);
    CU_ASSERT(st.producer_id != 1000 || st.producer_epoch > 0);
    const int gen[] = { 0, 1 };
    CU_ASSERT(log_sequenced(&e, "upid", 0, v, 2, gen));
    pt_stop(&e);
}

static void test_out_of_order_on_the_next_expected_batch_fails_it_and_bumps(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "ooo", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_ERROR, KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), IDEMP));
    CU_ASSERT_EQUAL(pt_produce(&e, "ooo", 0, NULL, "kept"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(pt_produce(&e, "ooo", 0, NULL, "lost"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    CU_ASSERT_EQUAL(e.drs[1].err, KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(e.drs[1].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(pt_produce(&e, "ooo", 0, NULL, "after"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    CU_ASSERT_EQUAL(e.drs[2].err, 0);
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.epoch_bumps, 1);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), 0);
    const char *v[] = { "kept", "after" };
    const int gen[] = { 0, 1 };
    CU_ASSERT(log_sequenced(&e, "ooo", 0, v, 2, gen));
    pt_stop(&e);
}

static void test_out_of_order_after_a_lost_response_is_fatal(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "fat", 2, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    /* The first write lands and its answer is lost; the retry is told the sequence is wrong:
     * the broker may hold the batch under a sequence we cannot reconcile. */
    px_rule(x, KW_API_PRODUCE, 1, 1, PX_DROP_RESPONSE, 0);
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_ERROR, KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "enable.idempotence", "true",
                                                                  "request.timeout.ms", "1000",
                                                                  "socket.timeout.ms", "1000",
                                                                  "max.in.flight", "1", NULL }));
    pt_settle(&e);
    CU_ASSERT_EQUAL(pt_produce(&e, "fat", 0, NULL, "maybe"), 0);
    pt_advance(&e, 10);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_PRODUCE), 1);
    CU_ASSERT_EQUAL(pt_produce(&e, "fat", 1, NULL, "waiting"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER), 2);
    for (size_t i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(e.drs[i].status, e.drs[i].partition == 0
                                             ? KP_STATUS_POSSIBLY_PERSISTED
                                             : KP_STATUS_NOT_PERSISTED);
    char why[256] = "";
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, why, sizeof(why)),
                    KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT(strlen(why) > 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "fat", 0, NULL, "refused"), KP_ERR__FATAL);
    bool fatal_event = false;
    for (int i = 0; i < e.n_errs; i++)
        fatal_event = fatal_event || e.errs[i] == KP_ERR__FATAL;
    CU_ASSERT(fatal_event);
    pt_stop(&e);
}

static void test_invalid_producer_epoch_is_fatal(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "fence", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_PRODUCE, 1, 1, PX_ERROR, KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), IDEMP));
    CU_ASSERT_EQUAL(pt_produce(&e, "fence", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(e.drs[0].err, KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(pt_produce(&e, "fence", 0, NULL, "y"), KP_ERR__FATAL);
    pt_stop(&e);
}

static void test_a_sequenced_batch_that_times_out_bumps_the_epoch(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "to", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "to", "min.insync.replicas", "2", NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "enable.idempotence", "true",
                                                                   "delivery.timeout.ms", "2000",
                                                                   NULL }));
    CU_ASSERT_EQUAL(pt_produce(&e, "to", 0, NULL, "late"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, KP_ERR__MSG_TIMED_OUT);
    CU_ASSERT_EQUAL(e.drs[0].cause, KW_EC_NOT_ENOUGH_REPLICAS);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "to", "min.insync.replicas", "1", NULL, 0), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "to", 0, NULL, "fine"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    CU_ASSERT_EQUAL(e.drs[1].err, 0);
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.epoch_bumps, 1);
    const char *v[] = { "fine" };
    const int gen[] = { 1 };
    CU_ASSERT(log_sequenced(&e, "to", 0, v, 1, gen));
    pt_stop(&e);
}

static void test_init_producer_id_is_retried_on_retriable_errors(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "ipid", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_INIT_PRODUCER_ID, 1, 2, PX_ERROR, KW_EC_COORDINATOR_NOT_AVAILABLE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), IDEMP));
    CU_ASSERT_EQUAL(pt_produce(&e, "ipid", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, 0);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_INIT_PRODUCER_ID), 3);
    pt_stop(&e);
}

static void test_init_producer_id_refused_for_good_is_fatal(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "auth", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_rule(x, KW_API_INIT_PRODUCER_ID, 1, 1, PX_ERROR, KW_EC_CLUSTER_AUTHORIZATION_FAILED);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), IDEMP));
    CU_ASSERT_EQUAL(pt_produce(&e, "auth", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(e.drs[0].err, KP_ERR__FATAL);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), KW_EC_CLUSTER_AUTHORIZATION_FAILED);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_PRODUCE), 0);
    pt_stop(&e);
}

static void test_without_init_producer_id_v3_a_bump_takes_a_new_id(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "v2", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_cap(x, KW_API_INIT_PRODUCER_ID, 2);
    px_rule(x, KW_API_PRODUCE, 2, 1, PX_ERROR, KW_EC_UNKNOWN_PRODUCER_ID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), IDEMP));
    const char *v[] = { "one", "two" };
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(pt_produce(&e, "v2", 0, NULL, v[i]), 0);
        CU_ASSERT_FATAL(pt_until_drs(&e, (size_t)i + 1, 10000));
    }
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 2);
    CU_ASSERT_EQUAL(px_version_seen(x, KW_API_INIT_PRODUCER_ID), 2);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_INIT_PRODUCER_ID), 2);
    const int gen[] = { 0, 1 };
    CU_ASSERT(log_sequenced(&e, "v2", 0, v, 2, gen));
    pt_stop(&e);
}

static void test_a_broker_without_init_producer_id_is_fatal_for_idempotence(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "noid", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_cap(x, KW_API_INIT_PRODUCER_ID, -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), IDEMP));
    CU_ASSERT_EQUAL(pt_produce(&e, "noid", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(e.drs[0].err, KP_ERR__FATAL);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), KP_ERR__UNSUPPORTED_FEATURE);
    pt_stop(&e);
}

/* --- on its own thread -------------------------------------------------------------------- */

struct tally {
    int ok, failed;
};

static void tally_dr(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    struct tally *t = opaque;
    if (r->err)
        t->failed++;
    else
        t->ok++;
}

static void test_many_idempotent_messages_land_once_each_in_order(void)
{
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = 3;
    cfg.seed = PT_SEED;
    cfg.log_level = MB_LOG_ERROR;
    char err[256];
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "many", 4, 3, NULL, 0), 0);
    struct kp_conf *conf = kp_conf_new();
    kp_conf_set(conf, "bootstrap.servers", mb_cluster_bootstrap(c), err, sizeof(err));
    kp_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
    kp_conf_set(conf, "batch.num.messages", "500", err, sizeof(err));
    kp_conf_set(conf, "compression.type", "lz4", err, sizeof(err));
    struct tally t = { 0 };
    kp_conf_set_dr_cb(conf, tally_dr);
    kp_conf_set_opaque(conf, &t);
    struct kp_producer *p = kp_producer_new(conf, err, sizeof(err));
    kp_conf_destroy(conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        char k[16], v[32];
        int kl = snprintf(k, sizeof(k), "key%d", i % 100);
        int vl = snprintf(v, sizeof(v), "%d", i);
        int rc;
        while ((rc = kp_producer_produce(p, "many", KP_PARTITION_UA, 0, k, (size_t)kl, v,
                                         (size_t)vl, NULL, 0, 0, NULL)) == KP_ERR__QUEUE_FULL)
            kp_producer_poll(p, 10);
        CU_ASSERT_EQUAL(rc, 0);
    }
    CU_ASSERT_EQUAL(kp_producer_flush(p, 20000), 0);
    CU_ASSERT_EQUAL(t.ok, n);
    CU_ASSERT_EQUAL(t.failed, 0);
    kp_producer_destroy(p);
    size_t total = 0;
    for (int part = 0; part < 4; part++) {
        struct mb_records *r = mb_partition_records(c, "many", part, 0, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        bool ordered = true;
        int last[100];
        for (int k = 0; k < 100; k++)
            last[k] = -1;
        for (size_t i = 0; i < r->count; i++) {
            char buf[32];
            snprintf(buf, sizeof(buf), "%.*s", r->records[i].value_len,
                     (const char *)r->records[i].value);
            int v = atoi(buf);
            /* Per key, values only grow: order kept, nothing twice. */
            if (v <= last[v % 100])
                ordered = false;
            last[v % 100] = v;
            if (r->records[i].sequence != (int32_t)i)
                ordered = false;
        }
        CU_ASSERT(ordered);
        total += r->count;
        mb_records_destroy(r);
    }
    CU_ASSERT_EQUAL(total, (size_t)n);
    mb_cluster_destroy(c);
}

CU_TestInfo kwt_producer_idemp_tests[] = {
    { "batches carry the producer id and sequences per partition",
      test_batches_carry_the_producer_id_and_sequences_per_partition },
    { "a lost response is retried without a duplicate",
      test_a_lost_response_is_retried_without_a_duplicate },
    { "pipelined batches behind a failed one follow it in order",
      test_pipelined_batches_behind_a_failed_one_follow_it_in_order },
    { "UNKNOWN_PRODUCER_ID bumps the epoch and resends",
      test_unknown_producer_id_bumps_the_epoch_and_resends },
    { "OUT_OF_ORDER_SEQUENCE on the next expected batch fails it and bumps",
      test_out_of_order_on_the_next_expected_batch_fails_it_and_bumps },
    { "OUT_OF_ORDER_SEQUENCE after a lost response is fatal",
      test_out_of_order_after_a_lost_response_is_fatal },
    { "INVALID_PRODUCER_EPOCH is fatal", test_invalid_producer_epoch_is_fatal },
    { "a sequenced batch that times out bumps the epoch",
      test_a_sequenced_batch_that_times_out_bumps_the_epoch },
    { "InitProducerId is retried on retriable errors",
      test_init_producer_id_is_retried_on_retriable_errors },
    { "InitProducerId refused for good is fatal",
      test_init_producer_id_refused_for_good_is_fatal },
    { "without InitProducerId v3 a bump takes a new id",
      test_without_init_producer_id_v3_a_bump_takes_a_new_id },
    { "a broker without InitProducerId is fatal for idempotence",
      test_a_broker_without_init_producer_id_is_fatal_for_idempotence },
    { "many idempotent messages land once each, in order",
      test_many_idempotent_messages_land_once_each_in_order },
    CU_TEST_INFO_NULL,
};
