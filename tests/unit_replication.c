/* Simulated replication through the C API: followers that keep up, lag or stop; the high
 * watermark and ISR that follow from them; acks=-1 answers, min.insync.replicas, elections,
 * truncation and brokers coming back. Every answer is checked as a client reads it, and every
 * log as mb_partition_info / mb_partition_records show it. Time is virtual. */
#include <CUnit/CUnit.h>
#include <event2/event.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "lib/proto/fetch.h"
#include "lib/proto/metadata.h"
#include "lib/proto/produce.h"
#include "tests/unit_fault_env.h"

static void lag_1s(struct mb_config *cfg)
{
    cfg->replica_lag_time_max_ms = 1000;
}

static struct mb_partition_info info_of(struct fenv *e, const char *topic, int partition)
{
    struct mb_partition_info i;
    memset(&i, 0, sizeof(i));
    i.leader = -2;
    CU_ASSERT_EQUAL(mb_partition_info(e->c, topic, partition, &i), 0);
    return i;
}

static int follow(struct fenv *e, const char *topic, int broker, enum mb_follower_mode mode,
                  int64_t lag_ms, int32_t lag_batches)
{
    char err[256] = "";
    int rc = mb_follower_set(e->c, topic, 0, broker, mode, lag_ms, lag_batches, err, sizeof(err));
    if (rc)
        fprintf(stderr, "mb_follower_set: %s\n", err);
    return rc;
}

/* Sends an acks=-1 produce of n records and returns its correlation id. */
static int32_t send_all(struct kc_conn *k, int first, int n, int32_t timeout_ms)
{
    return fenv_produce_send(k, 9, -1, timeout_ms, "t", 0, first, n, -1, -1);
}

static int16_t recv_error(struct kc_conn *k, int32_t id, int timeout_ms, int64_t *base)
{
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int rc = fenv_produce_recv(k, 9, id, timeout_ms, &resp, &p);
    if (rc != KW_OK)
        return (int16_t)rc;
    if (base)
        *base = p->base_offset;
    return p->error_code;
}

static void test_followers_that_keep_up_answer_acks_all_at_once(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, fenv_leader(&e, "t", 0)), 0);
    int64_t base = -1;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, -1, "t", 0, 0, 3, &base), 0);
    CU_ASSERT_EQUAL(base, 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    CU_ASSERT(i.high_watermark == 3 && i.log_end_offset == 3 && i.n_isr == 3);
    for (int r = 0; r < 3; r++)
        CU_ASSERT_EQUAL(i.replica_offsets[r], 3);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(e.v), -1);     /* nothing lags: no timer at all */
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_stopped_follower_holds_acks_all_until_the_request_times_out(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[1], MB_FOLLOWER_STOPPED, 0, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    /* acks=1 is answered after the leader's append alone. */
    int64_t base = -1;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 2, &base), 0);
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(fenv_hw(&e, "t", 0), 0);
    /* A consumer sees nothing above the high watermark. */
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "t", 0, 0, 1 << 20, 0, 0, -1, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.high_watermark == 0 && f.len == 0);
    /* acks=-1 waits for the ISR, here until its TimeoutMs of 2 s. */
    int32_t id = send_all(&k, 2, 1, 2000);
    CU_ASSERT_EQUAL(recv_error(&k, id, FENV_QUIET_MS, NULL), KC_TIMEOUT);
    CU_ASSERT_EQUAL(fenv_advance(&e, 1999), 0);
    CU_ASSERT(!kc_readable(&k));
    fenv_advance(&e, 1);
    CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, &base), KW_EC_REQUEST_TIMED_OUT);
    CU_ASSERT_EQUAL(base, -1);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.log_end_offset == 3 && i.high_watermark == 0 && i.n_isr == 3);
    CU_ASSERT(i.replica_offsets[0] == 3 && i.replica_offsets[1] == 0 && i.replica_offsets[2] == 3);
    /* Started again, the follower copies everything at once. */
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[1], MB_FOLLOWER_IMMEDIATE, 0, 0), 0);
    CU_ASSERT_EQUAL(fenv_hw(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "t", 0, 0, 1 << 20, 0, 0, -1, &f), KW_OK);
    int magic;
    int64_t first, last;
    CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 3);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_delayed_follower_answers_acks_all_exactly_its_lag_later(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[2], MB_FOLLOWER_DELAY, 100, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    int32_t id = send_all(&k, 0, 3, 30000);
    CU_ASSERT_EQUAL(recv_error(&k, id, FENV_QUIET_MS, NULL), KC_TIMEOUT);
    CU_ASSERT_EQUAL(fenv_advance(&e, 99), 0);
    CU_ASSERT_EQUAL(info_of(&e, "t", 0).replica_offsets[2], 0);
    CU_ASSERT(!kc_readable(&k));
    CU_ASSERT_EQUAL(fenv_advance(&e, 1), 1);
    int64_t base = -1;
    CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, &base), 0);
    CU_ASSERT_EQUAL(base, 0);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.high_watermark == 3 && i.replica_offsets[2] == 3 && i.n_isr == 3);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_follower_lagging_by_batches_keeps_the_high_watermark_behind(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 2, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 2), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[1], MB_FOLLOWER_BATCHES, 0, 2), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    int64_t hw[4];
    for (int b = 0; b < 4; b++) {
        CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, b * 2, 2, NULL), 0);
        hw[b] = fenv_hw(&e, "t", 0);
    }
    CU_ASSERT(hw[0] == 0 && hw[1] == 0 && hw[2] == 2 && hw[3] == 4);
    CU_ASSERT_EQUAL(info_of(&e, "t", 0).replica_offsets[1], 4);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_follower_behind_for_replica_lag_time_max_leaves_the_isr_and_rejoins(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, lag_1s));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    int slow = i.replicas[1];
    CU_ASSERT_EQUAL(follow(&e, "t", slow, MB_FOLLOWER_STOPPED, 0, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    /* Caught up but not fetching is still in sync: only a lack of data counts. */
    CU_ASSERT_EQUAL(fenv_advance(&e, 5000), 0);
    CU_ASSERT_EQUAL(fenv_isr(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), 0);
    CU_ASSERT_EQUAL(fenv_advance(&e, 999), 0);
    CU_ASSERT_EQUAL(fenv_isr(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_hw(&e, "t", 0), 0);
    CU_ASSERT_EQUAL(fenv_advance(&e, 1), 1);
    i = info_of(&e, "t", 0);
    CU_ASSERT_EQUAL(i.n_isr, 2);
    CU_ASSERT(i.isr[0] != slow && i.isr[1] != slow);
    CU_ASSERT_EQUAL(i.high_watermark, 1);       /* no longer held back by it */
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_ISR, "shrink"), 1);
    /* Fetching again, it catches up and is back in. */
    CU_ASSERT_EQUAL(follow(&e, "t", slow, MB_FOLLOWER_IMMEDIATE, 0, 0), 0);
    CU_ASSERT_EQUAL(fenv_isr(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_ISR, "expand"), 1);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(e.v), -1);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_min_insync_replicas_refuses_before_and_after_the_append(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, lag_1s));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "t", "min.insync.replicas", "2", NULL, 0), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[1], MB_FOLLOWER_STOPPED, 0, 0), 0);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[2], MB_FOLLOWER_STOPPED, 0, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    int32_t id = send_all(&k, 0, 3, 5000);
    fenv_spin(&e);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT(!kc_readable(&k));
    /* At 1 s both followers leave the ISR: the high watermark reaches the batch with an ISR
     * of one, below min.insync.replicas. */
    CU_ASSERT(fenv_advance(&e, 1000) >= 2);
    int64_t base = 0;
    CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, &base), KW_EC_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    CU_ASSERT_EQUAL(base, -1);
    CU_ASSERT(fenv_isr(&e, "t", 0) == 1 && fenv_hw(&e, "t", 0) == 3);
    /* Now refused before the append; acks=1 still goes in. */
    id = send_all(&k, 3, 1, 5000);
    CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, NULL), KW_EC_NOT_ENOUGH_REPLICAS);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 3, 1, NULL), 0);
    char values[64];
    fenv_values(&e, "t", 0, values, sizeof(values));
    CU_ASSERT_STRING_EQUAL(values, "v0,v1,v2,v3");
    kc_close(&k);
    fenv_stop(&e);
}

static void test_acks_1_is_lost_on_failover_while_acks_all_was_never_acknowledged(void)
{
    for (int acks = 1; acks >= -1; acks -= 2) {
        struct fenv e;
        CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
        CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
        struct mb_partition_info i = info_of(&e, "t", 0);
        CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[1], MB_FOLLOWER_STOPPED, 0, 0), 0);
        CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[2], MB_FOLLOWER_STOPPED, 0, 0), 0);
        struct kc_conn k;
        CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
        int32_t id = fenv_produce_send(&k, 9, acks, 5000, "t", 0, 0, 3, -1, -1);
        int64_t base = -1;
        if (acks == 1) {
            CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, &base), 0);     /* told: stored */
            CU_ASSERT_EQUAL(base, 0);
        } else {
            CU_ASSERT_EQUAL(recv_error(&k, id, FENV_QUIET_MS, NULL), KC_TIMEOUT);
        }
        CU_ASSERT_EQUAL(mb_broker_down(e.c, i.leader, NULL, 0), 0);
        if (acks == -1)
            CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, NULL), KC_CLOSED);  /* never told */
        struct mb_partition_info after = info_of(&e, "t", 0);
        CU_ASSERT_EQUAL(after.leader, i.replicas[1]);
        CU_ASSERT_EQUAL(after.leader_epoch, 1);
        CU_ASSERT(after.log_end_offset == 0 && after.high_watermark == 0);
        struct mb_records *r = mb_partition_records(e.c, "t", 0, 0, 0);
        CU_ASSERT(r != NULL && r->count == 0);
        mb_records_destroy(r);
        CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_TRUNCATE, NULL), 1);
        kc_close(&k);
        fenv_stop(&e);
    }
}

static void test_a_leaderless_partition_refuses_until_its_last_in_sync_replica_returns(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 2, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    int leader = fenv_leader(&e, "t", 0), other = leader == 1 ? 2 : 1;
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, leader), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 2, NULL), 0);
    kc_close(&k);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, leader, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, leader, NULL, 0), 0);     /* already down: fine */
    struct mb_partition_info i = info_of(&e, "t", 0);
    CU_ASSERT(i.leader == -1 && i.leader_epoch == 1 && i.n_isr == 1 && i.isr[0] == leader);
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, other), 0);
    struct kw_metadata_req_topic mt = { .name = kw_str_c("t") };
    struct kw_metadata_req mr = { .topics = &mt, .n_topics = 1 };
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_METADATA, 12, &mr, &m), KW_OK);
    CU_ASSERT_EQUAL(m.n_brokers, 1);
    CU_ASSERT_EQUAL_FATAL(m.topics[0].n_partitions, 1);
    const struct kw_metadata_resp_partition *mp = &m.topics[0].partitions[0];
    CU_ASSERT(mp->error_code == KW_EC_LEADER_NOT_AVAILABLE && mp->leader_id == -1);
    CU_ASSERT(mp->n_offline_replicas == 1 && mp->offline_replicas[0] == leader);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 2, 1, NULL), KW_EC_NOT_LEADER_OR_FOLLOWER);
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "t", 0, 0, 1 << 20, 0, 0, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_NOT_LEADER_OR_FOLLOWER);
    kc_close(&k);
    CU_ASSERT_EQUAL(mb_broker_up(e.c, leader, NULL, 0), 0);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.leader == leader && i.leader_epoch == 2 && i.log_end_offset == 2);
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, leader), 0);             /* listening again */
    int64_t base = -1;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 2, 1, &base), 0);
    CU_ASSERT_EQUAL(base, 2);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_unclean_election_lets_an_out_of_sync_replica_lead_with_its_log(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 2, lag_1s));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 2), 0);
    char err[128];
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "t", "unclean.leader.election.enable", "maybe", err,
                                        sizeof(err)), KW_EC_INVALID_CONFIG);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "t", "unclean.leader.election.enable", "true", err,
                                        sizeof(err)), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    int leader = i.leader, f = i.replicas[1];
    CU_ASSERT_EQUAL(follow(&e, "t", f, MB_FOLLOWER_STOPPED, 0, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, leader), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 2, NULL), 0);
    fenv_advance(&e, 1000);
    CU_ASSERT_EQUAL(fenv_isr(&e, "t", 0), 1);
    kc_close(&k);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, leader, NULL, 0), 0);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.leader == f && i.leader_epoch == 1 && i.n_isr == 1 && i.isr[0] == f);
    CU_ASSERT(i.log_end_offset == 0 && i.high_watermark == 0);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_LEADER, "unclean"), 1);
    /* The old leader returns as a follower of the shorter log. */
    CU_ASSERT_EQUAL(mb_broker_up(e.c, leader, NULL, 0), 0);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.leader == f && i.n_isr == 2 && i.replica_offsets[0] == 0);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_returning_broker_is_truncated_to_the_new_leader_and_catches_up(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    int old = i.leader, next = i.replicas[1];
    CU_ASSERT_EQUAL(follow(&e, "t", next, MB_FOLLOWER_STOPPED, 0, 0), 0);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[2], MB_FOLLOWER_STOPPED, 0, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, old), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 2, NULL), 0);
    kc_close(&k);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, old, NULL, 0), 0);
    CU_ASSERT_EQUAL(fenv_leader(&e, "t", 0), next);
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, next), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 100, 1, NULL), 0);
    CU_ASSERT_EQUAL(mb_broker_up(e.c, old, NULL, 0), 0);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.leader == next && i.log_end_offset == 1 && i.replica_offsets[0] == 1);
    CU_ASSERT_EQUAL(i.n_isr, 3);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[2], MB_FOLLOWER_IMMEDIATE, 0, 0), 0);
    CU_ASSERT_EQUAL(fenv_hw(&e, "t", 0), 1);
    char values[64];
    fenv_values(&e, "t", 0, values, sizeof(values));
    CU_ASSERT_STRING_EQUAL(values, "v100");
    /* The batch stored in epoch 1 says so. */
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "t", 0, 0, 1 << 20, 0, 0, -1, &f), KW_OK);
    struct kw_batch_hdr h;
    CU_ASSERT_FATAL(f.len > 0 && kw_batch_peek(f.records, f.len, &h) > 0);
    CU_ASSERT_EQUAL(h.partition_leader_epoch, 1);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_leader_move_bumps_the_epoch_and_ends_long_polls_on_the_old_leader(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    int old = i.leader, next = i.replicas[2];
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, old), 0);
    int32_t id = kc_fetch_send(&k, 11, "t", 0, 0, 1 << 20, 30000, 1);
    fenv_spin(&e);
    CU_ASSERT(!kc_readable(&k));
    char err[128];
    CU_ASSERT_EQUAL(mb_leader_move(e.c, "t", 0, next, err, sizeof(err)), 0);
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch_recv(&k, 11, id, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_NOT_LEADER_OR_FOLLOWER);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.leader == next && i.leader_epoch == 1 && i.n_isr == 3);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), KW_EC_NOT_LEADER_OR_FOLLOWER);
    /* Back to the preferred replica (the first in the assignment). */
    CU_ASSERT_EQUAL(mb_leader_move(e.c, "t", 0, MB_ANY, err, sizeof(err)), 0);
    CU_ASSERT(fenv_leader(&e, "t", 0) == old && info_of(&e, "t", 0).leader_epoch == 2);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), 0);
    /* Only a live in-sync replica can lead. */
    CU_ASSERT_EQUAL(follow(&e, "t", next, MB_FOLLOWER_STOPPED, 0, 0), 0);
    int only = old;
    CU_ASSERT_EQUAL(mb_isr_set(e.c, "t", 0, &only, 1, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(mb_leader_move(e.c, "t", 0, next, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "ISR"));
    CU_ASSERT_EQUAL(mb_leader_move(e.c, "nosuch", 0, next, err, sizeof(err)), -1);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_isr_set_keeps_stopped_followers_out_and_lets_fetching_ones_rejoin(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    CU_ASSERT_EQUAL(follow(&e, "t", i.replicas[1], MB_FOLLOWER_STOPPED, 0, 0), 0);
    char err[128];
    int isr[1] = { i.leader };
    CU_ASSERT_EQUAL(mb_isr_set(e.c, "t", 0, isr, 1, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(fenv_isr(&e, "t", 0), 1);
    int bad[1] = { i.replicas[1] };
    CU_ASSERT_EQUAL(mb_isr_set(e.c, "t", 0, bad, 1, err, sizeof(err)), -1);   /* no leader */
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), 0);
    i = info_of(&e, "t", 0);
    /* The fetching follower caught up and is back; the stopped one stays out. */
    CU_ASSERT(i.n_isr == 2 && i.isr[0] == i.replicas[0] && i.isr[1] == i.replicas[2]);
    CU_ASSERT_EQUAL(i.high_watermark, 1);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_a_reassignment_moves_the_replicas_and_the_leader(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 4, NULL));
    char err[128];
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 2), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, -1, "t", 0, 0, 3, NULL), 0);
    kc_close(&k);
    int to[2], n = 0;
    for (int b = 1; b <= 4 && n < 2; b++)
        if (b != i.replicas[0] && b != i.replicas[1])
            to[n++] = b;
    CU_ASSERT_EQUAL(mb_replicas_set(e.c, "t", 0, to, 2, err, sizeof(err)), 0);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.n_replicas == 2 && i.replicas[0] == to[0] && i.replicas[1] == to[1]);
    CU_ASSERT(i.leader == to[0] && i.leader_epoch == 1 && i.n_isr == 2);
    CU_ASSERT(i.replica_offsets[0] == 3 && i.replica_offsets[1] == 3 && i.log_end_offset == 3);
    CU_ASSERT_EQUAL(fenv_journal_count(&e, MB_JOURNAL_LEADER, "reassign"), 1);
    int twice[2] = { to[0], to[0] };
    CU_ASSERT_EQUAL(mb_replicas_set(e.c, "t", 0, twice, 2, err, sizeof(err)), -1);
    fenv_stop(&e);
}

static void test_a_blackholed_broker_accepts_but_answers_only_once_it_is_up(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 1, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct kc_conn before, after;
    CU_ASSERT_EQUAL(fenv_connect(&e, &before, 1), 0);
    CU_ASSERT_EQUAL(mb_broker_blackhole(e.c, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_broker_state(e.c, 1), MB_BROKER_BLACKHOLE);
    CU_ASSERT_EQUAL(fenv_connect(&e, &after, 1), 0);
    int32_t a = fenv_produce_send(&before, 9, 1, 5000, "t", 0, 0, 1, -1, -1);
    int32_t b = fenv_produce_send(&after, 9, 1, 5000, "t", 0, 1, 1, -1, -1);
    CU_ASSERT_EQUAL(recv_error(&before, a, FENV_QUIET_MS, NULL), KC_TIMEOUT);
    CU_ASSERT_EQUAL(recv_error(&after, b, FENV_QUIET_MS, NULL), KC_TIMEOUT);
    CU_ASSERT_EQUAL(mb_request_count(e.c, 1, KW_API_PRODUCE), 0);
    CU_ASSERT_EQUAL(mb_broker_up(e.c, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(recv_error(&before, a, KC_WAIT_MS, NULL), 0);
    CU_ASSERT_EQUAL(recv_error(&after, b, KC_WAIT_MS, NULL), 0);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 2);
    kc_close(&before);
    kc_close(&after);
    fenv_stop(&e);
}

static void test_truncation_rebuilds_the_idempotent_producer_state(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 2, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 2), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    int old = i.leader, next = i.replicas[1];
    CU_ASSERT_EQUAL(follow(&e, "t", next, MB_FOLLOWER_BATCHES, 0, 1), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, old), 0);
    for (int b = 0; b < 2; b++) {
        int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, b * 3, 3, 77, b * 3);
        CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, NULL), 0);
    }
    kc_close(&k);
    CU_ASSERT_EQUAL(info_of(&e, "t", 0).replica_offsets[1], 3);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, old, NULL, 0), 0);
    CU_ASSERT_EQUAL(fenv_log_end(&e, "t", 0), 3);
    /* The retry of the lost batch is new to the new leader: stored, not taken for a duplicate;
     * a retry of the kept one is a duplicate, answered with its offset. */
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, next), 0);
    int64_t base = -1;
    int32_t id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 3, 3, 77, 3);
    CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, &base), 0);
    CU_ASSERT_EQUAL(base, 3);
    id = fenv_produce_send(&k, 9, 1, 5000, "t", 0, 0, 3, 77, 0);
    CU_ASSERT_EQUAL(recv_error(&k, id, KC_WAIT_MS, &base), 0);
    CU_ASSERT_EQUAL(base, 0);
    char values[64];
    fenv_values(&e, "t", 0, values, sizeof(values));
    CU_ASSERT_STRING_EQUAL(values, "v0,v1,v2,v3,v4,v5");
    kc_close(&k);
    fenv_stop(&e);
}

static void test_follower_modes_for_every_topic_apply_to_topics_created_later(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 2, NULL));
    char err[128];
    CU_ASSERT_EQUAL(mb_follower_set(e.c, NULL, MB_ANY, 2, MB_FOLLOWER_STOPPED, 0, 0, err,
                                    sizeof(err)), 0);
    CU_ASSERT_EQUAL(mb_follower_set(e.c, NULL, MB_ANY, 9, MB_FOLLOWER_STOPPED, 0, 0, err,
                                    sizeof(err)), -1);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 2, 2), 0);
    struct kc_conn k;
    for (int p = 0; p < 2; p++) {
        struct mb_partition_info i = info_of(&e, "t", p);
        CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
        CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", p, 0, 1, NULL), 0);
        kc_close(&k);
        i = info_of(&e, "t", p);
        /* Broker 2 copies nothing as a follower; as the leader it is not following. */
        CU_ASSERT_EQUAL(i.high_watermark, i.leader == 2 ? 1 : 0);
        CU_ASSERT_EQUAL(i.replica_offsets[i.replicas[0] == 2 ? 0 : 1], i.leader == 2 ? 1 : 0);
    }
    fenv_stop(&e);
}

static void test_topics_created_while_a_broker_is_down_live_on_the_others(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(mb_broker_down(e.c, 2, NULL, 0), 0);
    char err[128];
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "t", 4, 3, err, sizeof(err)),
                    KW_EC_INVALID_REPLICATION_FACTOR);
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 4, 2), 0);
    for (int p = 0; p < 4; p++) {
        struct mb_partition_info i = info_of(&e, "t", p);
        CU_ASSERT(i.replicas[0] != 2 && i.replicas[1] != 2 && i.n_isr == 2);
        CU_ASSERT(i.leader == i.replicas[0]);
    }
    /* Broker 2 comes back with nothing to lead or follow until a reassignment says so. */
    CU_ASSERT_EQUAL(mb_broker_up(e.c, 2, NULL, 0), 0);
    struct mb_partition_info i = info_of(&e, "t", 0);
    int to[2] = { 2, i.replicas[0] };
    CU_ASSERT_EQUAL(mb_replicas_set(e.c, "t", 0, to, 2, err, sizeof(err)), 0);
    i = info_of(&e, "t", 0);
    CU_ASSERT(i.leader == to[1] && i.n_isr == 2 && i.leader_epoch == 0);
    fenv_stop(&e);
}

CU_TestInfo kwt_replication_tests[] = {
    { "Followers that keep up answer acks=all at once",
      test_followers_that_keep_up_answer_acks_all_at_once },
    { "A stopped follower holds acks=all until the request times out",
      test_a_stopped_follower_holds_acks_all_until_the_request_times_out },
    { "A delayed follower answers acks=all exactly its lag later",
      test_a_delayed_follower_answers_acks_all_exactly_its_lag_later },
    { "A follower lagging by batches keeps the high watermark behind",
      test_a_follower_lagging_by_batches_keeps_the_high_watermark_behind },
    { "A follower behind for replica.lag.time.max.ms leaves the ISR and rejoins",
      test_a_follower_behind_for_replica_lag_time_max_leaves_the_isr_and_rejoins },
    { "min.insync.replicas refuses before and after the append",
      test_min_insync_replicas_refuses_before_and_after_the_append },
    { "acks=1 is lost on failover while acks=all was never acknowledged",
      test_acks_1_is_lost_on_failover_while_acks_all_was_never_acknowledged },
    { "A leaderless partition refuses until its last in-sync replica returns",
      test_a_leaderless_partition_refuses_until_its_last_in_sync_replica_returns },
    { "Unclean election lets an out-of-sync replica lead with its log",
      test_unclean_election_lets_an_out_of_sync_replica_lead_with_its_log },
    { "A returning broker is truncated to the new leader and catches up",
      test_a_returning_broker_is_truncated_to_the_new_leader_and_catches_up },
    { "A leader move bumps the epoch and ends long polls on the old leader",
      test_a_leader_move_bumps_the_epoch_and_ends_long_polls_on_the_old_leader },
    { "isr_set keeps stopped followers out and lets fetching ones rejoin",
      test_isr_set_keeps_stopped_followers_out_and_lets_fetching_ones_rejoin },
    { "A reassignment moves the replicas and the leader",
      test_a_reassignment_moves_the_replicas_and_the_leader },
    { "A blackholed broker accepts but answers only once it is up",
      test_a_blackholed_broker_accepts_but_answers_only_once_it_is_up },
    { "Truncation rebuilds the idempotent producer state",
      test_truncation_rebuilds_the_idempotent_producer_state },
    { "Follower modes for every topic apply to topics created later",
      test_follower_modes_for_every_topic_apply_to_topics_created_later },
    { "Topics created while a broker is down live on the others",
      test_topics_created_while_a_broker_is_down_live_on_the_others },
    CU_TEST_INFO_NULL,
};
