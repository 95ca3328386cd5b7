/* The transactional producer against the mock cluster's transaction coordinator, on one loop and
 * a virtual clock: commit and abort end to end (markers, what read_committed reads), calls out of
 * order, the coordinator lost mid-commit, fencing by a second instance, the coordinator's own
 * timeout, retried coordinator errors, a failed message (abortable, then an epoch bump), consumer
 * offsets, purges, configuration, and the blocking calls in the producer's own-thread mode.
 *
 * The calls are made with a zero timeout, so they return KP_ERR__TIMED_OUT (retriable) while the
 * work goes on, and pt_run calls them again (resuming) while it runs the loop and moves virtual
 * time: backoffs and timeouts pass instantly. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "lib/proto/offset_fetch.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"
#include "tests/kclient.h"
#include "tests/unit_producer_env.h"

enum { T_INIT, T_COMMIT, T_ABORT, T_OFFSETS };

struct call {
    int op;
    const char *group;
    const struct kp_topic_partition_offset *offsets;
    int n;
    int rc;
    struct kp_txn_error err;
    int retried[4];             /* retriable codes returned on the way, other than timeouts */
    int n_retried;
};

static bool call_cond(struct pt_env *e, void *arg)
{
    struct call *c = arg;
    switch (c->op) {
    case T_INIT:
        c->rc = kp_init_transactions(e->p, 0, &c->err);
        break;
    case T_COMMIT:
        c->rc = kp_commit_transaction(e->p, 0, &c->err);
        break;
    case T_ABORT:
        c->rc = kp_abort_transaction(e->p, 0, &c->err);
        break;
    default:
        c->rc = kp_send_offsets_to_transaction(e->p, c->group, c->offsets, c->n, 0, &c->err);
        break;
    }
    if (c->rc == 0 || !c->err.retriable)
        return true;
    if (c->rc != KP_ERR__TIMED_OUT && c->n_retried < 4)
        c->retried[c->n_retried++] = c->rc;
    return false;
}

/* Calls op until it returns something other than "not finished yet", moving virtual time as
 * needed (up to 60 s of it). */
static int call(struct pt_env *e, int op, struct kp_txn_error *err)
{
    struct call c = { .op = op };
    pt_run(e, call_cond, &c, 60000);
    if (err)
        *err = c.err;
    return c.rc;
}

static int send_offsets(struct pt_env *e, const char *group, const char *topic, int64_t offset,
                        struct kp_txn_error *err)
{
    struct kp_topic_partition_offset o = { topic, 0, offset, NULL };
    struct call c = { .op = T_OFFSETS, .group = group, .offsets = &o, .n = 1 };
    pt_run(e, call_cond, &c, 60000);
    if (err)
        *err = c.err;
    return c.rc;
}

/* The partition as letters: values, "C" for a commit marker, "A" for an abort marker. */
static void labels(struct pt_env *e, const char *topic, int part, bool committed, char *out,
                   size_t size)
{
    struct mb_records *r = committed ? mb_partition_records_committed(e->c, topic, part, 0, 0)
                                     : mb_partition_records(e->c, topic, part, 0, 0);
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; r && i < r->count && at + 1 < size; i++) {
        const struct mb_record *rec = &r->records[i];
        int n = rec->control >= 0
                    ? snprintf(out + at, size - at, "%s%s", i ? "," : "",
                               rec->control ? "C" : "A")
                    : snprintf(out + at, size - at, "%s%.*s", i ? "," : "", rec->value_len,
                               (const char *)rec->value);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    mb_records_destroy(r);
}

/* True if every data record of the partition came from a transactional batch. */
static bool all_transactional(struct pt_env *e, const char *topic, int part)
{
    struct mb_records *r = mb_partition_records(e->c, topic, part, 0, 0);
    bool ok = r != NULL;
    for (size_t i = 0; ok && i < r->count; i++)
        ok = r->records[i].transactional;
    mb_records_destroy(r);
    return ok;
}

static struct mb_txn_info txn_info(struct pt_env *e, const char *id)
{
    struct mb_txn_info i;
    memset(&i, 0, sizeof(i));
    i.state = -1;
    mb_txn_info(e->c, id, &i);
    return i;
}

/* An error rule on api: from its nth matching request on, count times. */
static int add_rule(struct pt_env *e, const char *name, int api, int16_t code, int nth, int count)
{
    struct mb_rule r;
    mb_rule_init(&r);
    r.name = name;
    r.match.api_key = api;
    r.match.nth = nth;
    r.action.type = MB_ACTION_ERROR;
    r.action.error_code = code;
    r.count = count;
    char why[256] = "";
    int rc = mb_rule_add(e->c, &r, why, sizeof(why));
    if (rc)
        fprintf(stderr, "mb_rule_add %s: %s\n", name, why);
    return rc;
}

static uint64_t fired(struct pt_env *e, const char *rule)
{
    struct mb_rule_stats st;
    return mb_rule_stats(e->c, rule, &st) == 0 ? st.fired : 0;
}

/* A cluster of `brokers` with topic "tx" of two partitions on every broker, and a producer with
 * transactional.id id and the extra settings kv (NULL-terminated pairs, may be NULL). */
static bool start(struct pt_env *e, int brokers, const char *id, const char *const *kv)
{
    if (pt_start(e, brokers, false) != 0 ||
        mb_topic_create(e->c, "tx", 2, brokers, NULL, 0) != 0)
        return false;
    const char *all[32] = { "transactional.id", id };
    int n = 2;
    for (int i = 0; kv && kv[i] && n < 30; i++)
        all[n++] = kv[i];
    all[n] = NULL;
    return pt_producer(e, all) != NULL;
}

/* init, then begin. */
static bool ready(struct pt_env *e)
{
    struct kp_txn_error err;
    return call(e, T_INIT, &err) == 0 && kp_begin_transaction(e->p, &err) == 0;
}

static bool request_seen(struct pt_env *e, void *arg)
{
    return mb_request_count(e->c, -1, *(int *)arg) > 0;
}

/* --- commit and abort ------------------------------------------------------------------------ */

static void test_a_committed_transaction_ends_with_markers_and_is_what_read_committed_reads(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-commit", NULL));
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(call(&e, T_INIT, &err), 0);
    CU_ASSERT_EQUAL(err.code, 0);
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    struct mb_txn_info ti = txn_info(&e, "t-commit");
    CU_ASSERT(ti.state == MB_TXN_EMPTY && ti.producer_id == st.producer_id &&
              ti.producer_epoch == st.producer_epoch && ti.timeout_ms == 60000);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    const char *v0[] = { "a", "b", "c" }, *v1[] = { "x", "y" };
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, v0[i]), 0);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "tx", 1, NULL, v1[i]), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    /* The commit sends and reports every message before it ends the transaction. */
    CU_ASSERT_EQUAL(e.n_drs, 5);
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 5);
    char got[128];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "a,b,c,C");
    labels(&e, "tx", 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "x,y,C");
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "a,b,c");
    labels(&e, "tx", 1, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "x,y");
    CU_ASSERT(all_transactional(&e, "tx", 0) && all_transactional(&e, "tx", 1));
    ti = txn_info(&e, "t-commit");
    CU_ASSERT(ti.state == MB_TXN_COMPLETE_COMMIT && ti.n_partitions == 2);
    /* Both partitions joined in one AddPartitionsToTxn. */
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_ADD_PARTITIONS_TO_TXN), 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_END_TXN), 1);
    struct mb_partition_info pi;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "tx", 0, &pi), 0);
    CU_ASSERT_EQUAL(pi.last_stable_offset, pi.log_end_offset);

    /* The next transaction continues the sequences of the same epoch. */
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "d"), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "a,b,c,d");
    labels(&e, "tx", 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "x,y,C");           /* not in the second transaction */
    struct mb_records *r = mb_partition_records(e.c, "tx", 0, 4, 0);
    CU_ASSERT(r && r->count == 2 && r->records[0].sequence == 3 &&
              r->records[0].producer_epoch == st.producer_epoch && r->records[1].control == 1);
    mb_records_destroy(r);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), 0);
    pt_stop(&e);
}

static void test_an_aborted_transaction_ends_with_abort_markers_and_nothing_committed(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-abort", NULL));
    CU_ASSERT_FATAL(ready(&e));
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "gone1"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 1, NULL, "gone2"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 1000));         /* in the log before the abort */
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(call(&e, T_ABORT, &err), 0);
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 2);
    char got[128];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "gone1,A");
    labels(&e, "tx", 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "gone2,A");
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "");
    CU_ASSERT_EQUAL(txn_info(&e, "t-abort").state, MB_TXN_COMPLETE_ABORT);
    /* No error behind the abort: the epoch stays. */
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.epoch_bumps, 0);
    /* And the next transaction commits. */
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "kept"), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "gone1,A,kept,C");
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "kept");
    pt_stop(&e);
}

static void test_an_abort_purges_queued_messages_and_an_empty_transaction_sends_nothing(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-purge", (const char *[]){ "linger.ms", "50000", NULL }));
    CU_ASSERT_FATAL(ready(&e));
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "lingering"), 0);
    /* The partition joins at once; its batch waits for linger.ms. */
    int api = KW_API_ADD_PARTITIONS_TO_TXN;
    CU_ASSERT_FATAL(pt_run(&e, request_seen, &api, 100));
    CU_ASSERT_EQUAL(txn_info(&e, "t-purge").n_partitions, 1);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(call(&e, T_ABORT, &err), 0);
    CU_ASSERT_EQUAL(e.n_drs, 3);
    CU_ASSERT_EQUAL(pt_count_err(&e, KP_ERR__PURGE_QUEUE), 3);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 0);
    char got[64];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "A");
    /* Nothing produced, nothing registered: neither end goes to the coordinator. */
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(call(&e, T_ABORT, &err), 0);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_END_TXN), 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_ADD_PARTITIONS_TO_TXN), 1);
    pt_stop(&e);
}

/* --- calls out of order -------------------------------------------------------------------- */

static void test_messages_and_calls_outside_their_state_are_refused(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-state", NULL));
    struct kp_txn_error err;
    /* Before init: no transaction, so no message. */
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "early"), KP_ERR__STATE);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), KP_ERR__STATE);
    CU_ASSERT(!err.retriable && !err.fatal && !err.txn_requires_abort);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.str, "INIT"));
    CU_ASSERT_EQUAL(kp_commit_transaction(e.p, 0, &err), KP_ERR__STATE);
    CU_ASSERT_EQUAL(call(&e, T_INIT, &err), 0);
    CU_ASSERT_EQUAL(kp_init_transactions(e.p, 0, &err), KP_ERR__STATE);     /* once only */
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "before begin"), KP_ERR__STATE);
    CU_ASSERT_EQUAL(kp_abort_transaction(e.p, 0, &err), KP_ERR__STATE);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), KP_ERR__STATE);       /* one at a time */
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "inside"), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "after commit"), KP_ERR__STATE);
    CU_ASSERT_EQUAL(kp_commit_transaction(e.p, 0, &err), KP_ERR__STATE);
    /* Arguments are checked before anything else; no offsets to send is no work. */
    CU_ASSERT_EQUAL(kp_send_offsets_to_transaction(e.p, NULL, NULL, 0, 0, &err),
                    KP_ERR__INVALID_ARG);
    struct kp_topic_partition_offset logical = { "tx", 0, -1001, NULL };
    CU_ASSERT_EQUAL(kp_send_offsets_to_transaction(e.p, "g", &logical, 1, 0, &err), 0);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_ADD_OFFSETS_TO_TXN), 0);
    /* Only what produce accepted got a report. */
    CU_ASSERT_EQUAL(e.n_drs, 1);
    char got[64];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "inside,C");
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), 0);
    pt_stop(&e);

    /* Without transactional.id the calls are not configured, and produce is as before. */
    CU_ASSERT_FATAL(pt_start(&e, 1, true) == 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    CU_ASSERT_EQUAL(kp_init_transactions(e.p, 0, &err), KP_ERR__NOT_CONFIGURED);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, NULL), KP_ERR__NOT_CONFIGURED);
    CU_ASSERT_EQUAL(pt_produce(&e, "plain", 0, NULL, "v"), 0);
    CU_ASSERT(pt_until_drs(&e, 1, 1000) && e.drs[0].err == 0);
    pt_stop(&e);
}

static void test_transactional_settings_follow_librdkafkas_rules(void)
{
    char err[512];
    struct kp_conf *c = kp_conf_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char v[64];
    CU_ASSERT_EQUAL(kp_conf_get(c, "transactional.id", v, sizeof(v)), KP_CONF_OK);
    CU_ASSERT_STRING_EQUAL(v, "");
    CU_ASSERT_EQUAL(kp_conf_get(c, "transaction.timeout.ms", v, sizeof(v)), KP_CONF_OK);
    CU_ASSERT_STRING_EQUAL(v, "60000");
    CU_ASSERT_EQUAL(kp_conf_set(c, "transaction.timeout.ms", "999", err, sizeof(err)),
                    KP_CONF_INVALID);
    kp_conf_set(c, "bootstrap.servers", "127.0.0.1:1", err, sizeof(err));
    kp_conf_set(c, "transactional.id", "t-conf", err, sizeof(err));
    struct {
        const char *key, *value, *why;
    } bad[] = {
        { "enable.idempotence", "false", "requires \"enable.idempotence\"" },
        { "acks", "1", "\"acks\" must be set to \"all\"" },
        { "delivery.timeout.ms", "60001", "\"delivery.timeout.ms\" must be set <=" },
        { "socket.timeout.ms", "60101", "\"socket.timeout.ms\" must be set <=" },
        { "max.in.flight.requests.per.connection", "6", "must be set <= 5" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kp_conf *d = kp_conf_dup(c);
        CU_ASSERT_EQUAL(kp_conf_set(d, bad[i].key, bad[i].value, err, sizeof(err)), KP_CONF_OK);
        err[0] = '\0';
        struct kp_producer *p = kp_producer_new(d, err, sizeof(err));
        CU_ASSERT_PTR_NULL(p);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
        kp_producer_destroy(p);
        kp_conf_destroy(d);
    }
    /* Within the bounds, and with idempotence implied, it starts. */
    kp_conf_set(c, "socket.timeout.ms", "60100", err, sizeof(err));
    kp_conf_set(c, "delivery.timeout.ms", "60000", err, sizeof(err));
    struct kp_producer *p = kp_producer_new(c, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(p);
    kp_producer_destroy(p);
    kp_conf_destroy(c);
}

/* --- the coordinator ------------------------------------------------------------------------- */

struct held {
    const char *rule;
};

static bool rule_holds(struct pt_env *e, void *arg)
{
    struct mb_rule_stats st;
    kp_commit_transaction(e->p, 0, NULL);     /* the commit goes on: resume it */
    return mb_rule_stats(e->c, ((struct held *)arg)->rule, &st) == 0 && st.held == 1;
}

/* The coordinator goes down while it holds the EndTxn (applied or not): the producer finds the
 * new coordinator, ends the transaction there, and every partition has exactly one marker. */
static void coordinator_down_mid_commit(int when)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 3, "t-coord", NULL));
    CU_ASSERT_FATAL(ready(&e));
    int coord = txn_info(&e, "t-coord").coordinator;
    CU_ASSERT_FATAL(coord >= 1 && coord <= 3);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "p0"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 1, NULL, "p1"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 1000));
    struct mb_rule r;
    mb_rule_init(&r);
    r.name = "hold-end";
    r.match.api_key = KW_API_END_TXN;
    r.match.broker = coord;
    r.action.type = MB_ACTION_HOLD;
    r.action.when = when;
    CU_ASSERT_EQUAL_FATAL(mb_rule_add(e.c, &r, NULL, 0), 0);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(kp_commit_transaction(e.p, 0, &err), KP_ERR__TIMED_OUT);
    CU_ASSERT(err.retriable && !err.fatal && !err.txn_requires_abort);
    struct held h = { "hold-end" };
    CU_ASSERT_FATAL(pt_run(&e, rule_holds, &h, 1000));
    CU_ASSERT_EQUAL(txn_info(&e, "t-coord").state,
                    when == MB_AFTER_APPLY ? MB_TXN_COMPLETE_COMMIT : MB_TXN_ONGOING);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, coord, NULL, 0), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    struct mb_txn_info ti = txn_info(&e, "t-coord");
    CU_ASSERT(ti.state == MB_TXN_COMPLETE_COMMIT && ti.coordinator != coord &&
              ti.coordinator >= 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_END_TXN), 2);
    CU_ASSERT(mb_request_count(e.c, -1, KW_API_FIND_COORDINATOR) >= 2);
    char got[64];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "p0,C");
    labels(&e, "tx", 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "p1,C");
    labels(&e, "tx", 1, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "p1");
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), 0);
    pt_stop(&e);
}

static void test_a_coordinator_lost_with_the_commit_applied_is_found_again_and_commits_once(void)
{
    coordinator_down_mid_commit(MB_AFTER_APPLY);
}

static void test_a_coordinator_lost_before_the_commit_is_found_again_and_commits_once(void)
{
    coordinator_down_mid_commit(MB_BEFORE_APPLY);
}

static void test_retriable_coordinator_errors_are_retried_until_the_calls_succeed(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-retry", NULL));
    CU_ASSERT_EQUAL(add_rule(&e, "init", KW_API_INIT_PRODUCER_ID,
                             KW_EC_COORDINATOR_LOAD_IN_PROGRESS, 1, 2), 0);
    CU_ASSERT_EQUAL(add_rule(&e, "add", KW_API_ADD_PARTITIONS_TO_TXN,
                             KW_EC_CONCURRENT_TRANSACTIONS, 1, 2), 0);
    CU_ASSERT_EQUAL(add_rule(&e, "end1", KW_API_END_TXN, KW_EC_NOT_COORDINATOR, 1, 1), 0);
    CU_ASSERT_EQUAL(add_rule(&e, "end2", KW_API_END_TXN, KW_EC_COORDINATOR_LOAD_IN_PROGRESS,
                             2, 1), 0);
    /* init says why it is not done yet: the coordinator's error, retriable. */
    struct call c = { .op = T_INIT };
    pt_run(&e, call_cond, &c, 60000);
    CU_ASSERT_EQUAL(c.rc, 0);
    CU_ASSERT(c.n_retried >= 1 && c.retried[0] == KW_EC_COORDINATOR_LOAD_IN_PROGRESS);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "once"), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    CU_ASSERT(fired(&e, "init") == 2 && fired(&e, "add") == 2 && fired(&e, "end1") == 1 &&
              fired(&e, "end2") == 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_INIT_PRODUCER_ID), 3);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_ADD_PARTITIONS_TO_TXN), 3);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_END_TXN), 3);
    /* NOT_COORDINATOR sent the producer to FindCoordinator again. */
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_FIND_COORDINATOR), 2);
    char got[64];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "once,C");
    CU_ASSERT_EQUAL(e.n_drs, 1);
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 1);
    pt_stop(&e);
}

/* --- fencing and timeouts -------------------------------------------------------------------- */

static void test_a_second_producer_with_the_same_id_fences_the_first(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-fence", NULL));
    struct kp_producer *first = e.p;
    CU_ASSERT_FATAL(ready(&e));
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "zombie"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    struct kp_stats st1, st2;
    kp_producer_stats(first, &st1);
    /* The new instance: its init aborts what the old one left open and bumps the epoch. */
    struct kp_producer *second = pt_producer(&e, (const char *[]){ "transactional.id",
                                                                   "t-fence", NULL });
    CU_ASSERT_PTR_NOT_NULL_FATAL(second);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(call(&e, T_INIT, &err), 0);
    kp_producer_stats(second, &st2);
    CU_ASSERT(st2.producer_id == st1.producer_id && st2.producer_epoch > st1.producer_epoch);
    char got[64];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "zombie,A");
    /* The old one's next call is fatal, with the code librdkafka gives it. */
    e.p = first;
    int n_errs = e.n_errs;
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), KW_EC_PRODUCER_FENCED);
    CU_ASSERT(err.fatal && !err.retriable && !err.txn_requires_abort);
    char why[256];
    CU_ASSERT_EQUAL(kp_producer_fatal_error(first, why, sizeof(why)), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "EndTxn"));
    CU_ASSERT(e.n_errs > n_errs && e.errs[e.n_errs - 1] == KP_ERR__FATAL);
    CU_ASSERT_EQUAL(kp_abort_transaction(first, 0, &err), KW_EC_PRODUCER_FENCED);
    CU_ASSERT(err.fatal);
    CU_ASSERT_EQUAL(kp_begin_transaction(first, &err), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "more"), KP_ERR__FATAL);
    /* The new one is unaffected. */
    e.p = second;
    CU_ASSERT_EQUAL(kp_begin_transaction(second, &err), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "heir"), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "heir");
    kp_producer_destroy(first);
    pt_stop(&e);
}

static void test_a_transaction_past_its_timeout_is_aborted_and_its_commit_is_fenced(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-slow", (const char *[]){ "transaction.timeout.ms", "10000",
                                                             NULL }));
    CU_ASSERT_FATAL(ready(&e));
    CU_ASSERT_EQUAL(txn_info(&e, "t-slow").timeout_ms, 10000);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "late1"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 1, NULL, "late2"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 1000));
    pt_advance(&e, 10001);
    CU_ASSERT_EQUAL(txn_info(&e, "t-slow").state, MB_TXN_COMPLETE_ABORT);
    struct kp_txn_error err;
    /* The coordinator bumped the epoch when it aborted: the commit is fenced (librdkafka:
     * fatal), nothing was committed. */
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), KW_EC_PRODUCER_FENCED);
    CU_ASSERT(err.fatal && !err.txn_requires_abort);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), KW_EC_PRODUCER_FENCED);
    char got[64];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "late1,A");
    labels(&e, "tx", 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "late2,A");
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "");
    labels(&e, "tx", 1, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "");
    pt_stop(&e);
}

static void test_a_message_sent_after_the_coordinator_timed_out_its_transaction_is_fenced(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-slow-produce",
                          (const char *[]){ "transaction.timeout.ms", "10000", NULL }));
    CU_ASSERT_FATAL(ready(&e));
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "in time"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    pt_advance(&e, 10001);
    /* The partition is in the transaction already: the batch goes out under the old epoch and
     * the leader answers INVALID_PRODUCER_EPOCH, which librdkafka (rdkafka_request.c) makes
     * fatal for a transactional producer: fenced. */
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "too late"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 1000));
    CU_ASSERT_EQUAL(e.drs[1].err, KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), KW_EC_PRODUCER_FENCED);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(kp_commit_transaction(e.p, 0, &err), KW_EC_PRODUCER_FENCED);
    CU_ASSERT(err.fatal);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_END_TXN), 0);
    char got[64];
    labels(&e, "tx", 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "in time,A");
    pt_stop(&e);
}

/* --- failures inside a transaction ----------------------------------------------------------- */

static void test_a_failed_message_makes_commit_abortable_and_the_abort_bumps_the_epoch(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-fail", NULL));
    CU_ASSERT_FATAL(ready(&e));
    struct kp_stats before, after;
    kp_producer_stats(e.p, &before);
    struct mb_rule r;
    mb_rule_init(&r);
    r.name = "bad-record";
    r.match.api_key = KW_API_PRODUCE;
    r.match.topic = "tx";
    r.match.partition = 1;
    r.action.type = MB_ACTION_ERROR;
    r.action.error_code = KW_EC_INVALID_RECORD;
    CU_ASSERT_EQUAL_FATAL(mb_rule_add(e.c, &r, NULL, 0), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "fine"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 1, NULL, "refused"), 0);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), KW_EC_INVALID_RECORD);
    CU_ASSERT(err.txn_requires_abort && !err.fatal && !err.retriable);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.str, "tx [1]"));
    CU_ASSERT_EQUAL(pt_count_err(&e, KW_EC_INVALID_RECORD), 1);
    /* Until the abort, every call says so. */
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), KW_EC_INVALID_RECORD);
    CU_ASSERT(err.txn_requires_abort);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "no"), KP_ERR__STATE);
    CU_ASSERT_EQUAL(call(&e, T_ABORT, &err), 0);
    /* The refused batch had a sequence number the broker never took: the abort bumped the
     * epoch (KIP-360) so the next transaction starts from sequence 0. */
    kp_producer_stats(e.p, &after);
    CU_ASSERT_EQUAL(after.epoch_bumps, 1);
    CU_ASSERT(after.producer_id == before.producer_id &&
              after.producer_epoch == before.producer_epoch + 1);
    CU_ASSERT_EQUAL(txn_info(&e, "t-fail").producer_epoch, after.producer_epoch);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 1, NULL, "again"), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    char got[64];
    labels(&e, "tx", 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "A,again,C");
    labels(&e, "tx", 1, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "again");
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "");
    struct mb_records *rec = mb_partition_records(e.c, "tx", 1, 1, 1);
    CU_ASSERT(rec && rec->count == 1 && rec->records[0].sequence == 0 &&
              rec->records[0].producer_epoch == after.producer_epoch);
    mb_records_destroy(rec);
    pt_stop(&e);
}

static void test_a_partition_the_coordinator_refuses_makes_the_transaction_abortable(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-refuse", NULL));
    CU_ASSERT_FATAL(ready(&e));
    CU_ASSERT_EQUAL(add_rule(&e, "no-auth", KW_API_ADD_PARTITIONS_TO_TXN,
                             KW_EC_TOPIC_AUTHORIZATION_FAILED, 1, 1), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "never"), 0);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), KW_EC_TOPIC_AUTHORIZATION_FAILED);
    CU_ASSERT(err.txn_requires_abort && !err.fatal);
    /* The message never left: purged when the transaction failed. */
    CU_ASSERT_EQUAL(pt_count_err(&e, KP_ERR__PURGE_QUEUE), 1);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 0);
    CU_ASSERT_EQUAL(call(&e, T_ABORT, &err), 0);
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "ok"), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    char got[64];
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "ok");
    pt_stop(&e);
}

/* --- consumer offsets ------------------------------------------------------------------------ */

/* The group's committed offset of src [0] (-1: none), read with OffsetFetch v5. */
static int64_t group_offset(struct pt_env *e, const char *group)
{
    struct kc_conn k;
    int64_t off = -2;
    if (kc_connect(&k, mb_broker_port(e->c, 1)) == 0) {
        k.pump = e->base;
        int32_t part = 0;
        struct kw_offset_fetch_req_topic t = { .name = kw_str_c("src"),
                                               .partition_indexes = &part,
                                               .n_partition_indexes = 1 };
        struct kw_offset_fetch_req req = { .group_id = kw_str_c(group), .topics = &t,
                                           .n_topics = 1 };
        struct kw_offset_fetch_resp resp;
        if (kc_call(&k, KW_API_OFFSET_FETCH, 5, &req, &resp) == KW_OK && resp.n_topics == 1 &&
            resp.topics[0].n_partitions == 1 && resp.topics[0].partitions[0].error_code == 0)
            off = resp.topics[0].partitions[0].committed_offset;
    }
    kc_close(&k);
    return off;
}

static void test_offsets_sent_to_a_transaction_count_only_once_it_commits(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-offsets", NULL));
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "src", 1, 1, NULL, 0), 0);
    CU_ASSERT_FATAL(ready(&e));
    CU_ASSERT_EQUAL(pt_produce(&e, "tx", 0, NULL, "out"), 0);
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(send_offsets(&e, "g", "src", 7, &err), 0);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_ADD_OFFSETS_TO_TXN), 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_TXN_OFFSET_COMMIT), 1);
    CU_ASSERT_EQUAL(group_offset(&e, "g"), -1);         /* pending until the commit */
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    CU_ASSERT_EQUAL(group_offset(&e, "g"), 7);
    char got[64];
    labels(&e, "tx", 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "out");
    /* Offsets of an aborted transaction are dropped, even with no message in it. */
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(send_offsets(&e, "g", "src", 9, &err), 0);
    CU_ASSERT_EQUAL(call(&e, T_ABORT, &err), 0);
    CU_ASSERT_EQUAL(group_offset(&e, "g"), 7);
    CU_ASSERT_EQUAL(txn_info(&e, "t-offsets").state, MB_TXN_COMPLETE_ABORT);
    /* Offsets alone are a transaction too: committed. */
    CU_ASSERT_EQUAL(kp_begin_transaction(e.p, &err), 0);
    CU_ASSERT_EQUAL(send_offsets(&e, "g", "src", 11, &err), 0);
    CU_ASSERT_EQUAL(call(&e, T_COMMIT, &err), 0);
    CU_ASSERT_EQUAL(group_offset(&e, "g"), 11);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_END_TXN), 3);
    pt_stop(&e);
}

static void test_offsets_the_broker_keeps_refusing_are_retried_until_an_abort_drops_them(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "t-offsets-unknown", NULL));
    CU_ASSERT_FATAL(ready(&e));
    /* Kafka answers UNKNOWN_TOPIC_OR_PARTITION for a topic it does not have, which librdkafka
     * retries: the call times out, retriable, while the retries go on. */
    struct kp_topic_partition_offset o = { "nosuch", 0, 5, NULL };
    struct kp_txn_error err;
    CU_ASSERT_EQUAL(kp_send_offsets_to_transaction(e.p, "g", &o, 1, 0, &err), KP_ERR__TIMED_OUT);
    CU_ASSERT(err.retriable);
    pt_advance(&e, 1000);
    CU_ASSERT(mb_request_count(e.c, -1, KW_API_TXN_OFFSET_COMMIT) >= 2);
    /* Other offsets while these are in progress: a conflict, retriable. */
    struct kp_topic_partition_offset other = { "nosuch", 0, 6, NULL };
    CU_ASSERT_EQUAL(kp_send_offsets_to_transaction(e.p, "g", &other, 1, 0, &err),
                    KP_ERR__CONFLICT);
    CU_ASSERT(err.retriable);
    /* The abort gives up on them. */
    CU_ASSERT_EQUAL(call(&e, T_ABORT, &err), 0);
    CU_ASSERT_EQUAL(txn_info(&e, "t-offsets-unknown").state, MB_TXN_COMPLETE_ABORT);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), 0);
    pt_stop(&e);
}

/* --- the producer's own thread --------------------------------------------------------------- */

static void test_the_calls_block_until_done_when_the_producer_runs_its_own_thread(void)
{
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = 1;
    cfg.seed = PT_SEED;
    cfg.auto_create = false;
    cfg.log_level = MB_LOG_ERROR;
    char err[256];
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "tx", 1, 1, NULL, 0), 0);
    struct kp_conf *conf = kp_conf_new();
    kp_conf_set(conf, "bootstrap.servers", mb_cluster_bootstrap(c), err, sizeof(err));
    kp_conf_set(conf, "transactional.id", "t-thread", err, sizeof(err));
    kp_conf_set(conf, "linger.ms", "1000", err, sizeof(err));
    struct kp_producer *p = kp_producer_new(conf, err, sizeof(err));
    kp_conf_destroy(conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct kp_txn_error e;
    CU_ASSERT_EQUAL(kp_init_transactions(p, 10000, &e), 0);
    CU_ASSERT_EQUAL(kp_begin_transaction(p, &e), 0);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(kp_producer_produce(p, "tx", 0, 0, NULL, 0, "m", 1, NULL, 0, 0, NULL),
                        0);
    /* The commit does not wait for linger.ms: it sends at once, then ends the transaction. */
    int64_t t0 = kc_now_ms();
    CU_ASSERT_EQUAL(kp_commit_transaction(p, 10000, &e), 0);
    CU_ASSERT(kc_now_ms() - t0 < 900);
    CU_ASSERT_EQUAL(kp_producer_outq_len(p), 0);
    struct mb_txn_info ti;
    CU_ASSERT_EQUAL(mb_txn_info(c, "t-thread", &ti), 0);
    CU_ASSERT_EQUAL(ti.state, MB_TXN_COMPLETE_COMMIT);
    struct mb_records *r = mb_partition_records_committed(c, "tx", 0, 0, 0);
    CU_ASSERT(r && r->count == 100);
    mb_records_destroy(r);
    kp_producer_destroy(p);
    mb_cluster_destroy(c);
}

CU_TestInfo kwt_producer_txn_tests[] = {
    { "a committed transaction ends with markers and is what read_committed reads",
      test_a_committed_transaction_ends_with_markers_and_is_what_read_committed_reads },
    { "an aborted transaction ends with abort markers and nothing committed",
      test_an_aborted_transaction_ends_with_abort_markers_and_nothing_committed },
    { "an abort purges queued messages and an empty transaction sends nothing",
      test_an_abort_purges_queued_messages_and_an_empty_transaction_sends_nothing },
    { "messages and calls outside their state are refused",
      test_messages_and_calls_outside_their_state_are_refused },
    { "transactional settings follow librdkafka's rules",
      test_transactional_settings_follow_librdkafkas_rules },
    { "a coordinator lost with the commit applied is found again and commits once",
      test_a_coordinator_lost_with_the_commit_applied_is_found_again_and_commits_once },
    { "a coordinator lost before the commit is found again and commits once",
      test_a_coordinator_lost_before_the_commit_is_found_again_and_commits_once },
    { "retriable coordinator errors are retried until the calls succeed",
      test_retriable_coordinator_errors_are_retried_until_the_calls_succeed },
    { "a second producer with the same id fences the first",
      test_a_second_producer_with_the_same_id_fences_the_first },
    { "a transaction past its timeout is aborted and its commit is fenced",
      test_a_transaction_past_its_timeout_is_aborted_and_its_commit_is_fenced },
    { "a message sent after the coordinator timed out its transaction is fenced",
      test_a_message_sent_after_the_coordinator_timed_out_its_transaction_is_fenced },
    { "a failed message makes commit abortable and the abort bumps the epoch",
      test_a_failed_message_makes_commit_abortable_and_the_abort_bumps_the_epoch },
    { "a partition the coordinator refuses makes the transaction abortable",
      test_a_partition_the_coordinator_refuses_makes_the_transaction_abortable },
    { "offsets sent to a transaction count only once it commits",
      test_offsets_sent_to_a_transaction_count_only_once_it_commits },
    { "offsets the broker keeps refusing are retried until an abort drops them",
      test_offsets_the_broker_keeps_refusing_are_retried_until_an_abort_drops_them },
    { "the calls block until done when the producer runs its own thread",
      test_the_calls_block_until_done_when_the_producer_runs_its_own_thread },
    CU_TEST_INFO_NULL,
};
