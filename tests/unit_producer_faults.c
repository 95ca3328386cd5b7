/* The producer under the mock cluster's own fault rules, on one loop and one virtual clock: every
 * fault the mock can inject that a producer must survive. Each test checks the delivery reports
 * against the partition log: every message reported once; nothing acknowledged missing from the
 * log; with idempotence nothing stored twice and first copies in produce order. Where the
 * outcome without idempotence differs (a write whose answer never came back), the test says what
 * Kafka's contract gives: at least once, or a report that admits the write may have happened. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"
#include "tests/unit_producer_env.h"

/* A fixed CreateTime base: journals and batch bytes must not depend on the wall clock. */
#define TS0 INT64_C(1700000000000)
#define MAX_MSGS 64

/* --- messages, rules, producers --------------------------------------------------------------- */

/* Message i: value "v<i>", no key, opaque i, CreateTime TS0 + i. Returns produce's result. */
static int send_msg(struct pt_env *e, const char *topic, int32_t part, int i)
{
    char v[16];
    int n = snprintf(v, sizeof(v), "v%d", i);
    return kp_producer_produce(e->p, topic, part, 0, NULL, 0, v, (size_t)n, NULL, 0, TS0 + i,
                               (void *)(uintptr_t)i);
}

static void send_range(struct pt_env *e, const char *topic, int from, int to)
{
    for (int i = from; i < to; i++)
        CU_ASSERT_EQUAL(send_msg(e, topic, 0, i), 0);
}

static struct mb_rule rule(const char *name, int api_key, enum mb_action_type type)
{
    struct mb_rule r;
    mb_rule_init(&r);
    r.name = name;
    r.match.api_key = api_key;
    r.action.type = type;
    return r;
}

static int add(struct pt_env *e, const struct mb_rule *r)
{
    char err[256] = "";
    int rc = mb_rule_add(e->c, r, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\nmb_rule_add %s: %s\n", r->name, err);
    return rc;
}

/* A producer that sends one message per batch at once (so several requests can be in flight),
 * with idempotence when idemp, then kv. The env lets virtual time move while the mock sits on
 * a request on purpose. */
static struct kp_producer *producer(struct pt_env *e, bool idemp, const char *const *kv)
{
    const char *all[48];
    size_t n = 0;
    all[n++] = "batch.num.messages";
    all[n++] = "1";
    all[n++] = "linger.ms";
    all[n++] = "0";
    if (idemp) {
        all[n++] = "enable.idempotence";
        all[n++] = "true";
    }
    for (size_t i = 0; kv && kv[i] && kv[i + 1] && n + 2 < sizeof(all) / sizeof(all[0]); i += 2) {
        all[n++] = kv[i];
        all[n++] = kv[i + 1];
    }
    all[n] = NULL;
    e->withheld_ok = true;
    return pt_producer(e, all);
}

/* A cluster of `brokers` with one topic of one partition. */
static bool start(struct pt_env *e, int brokers, const char *topic, int replication)
{
    if (pt_start(e, brokers, false) != 0)
        return false;
    char err[256] = "";
    if (mb_topic_create(e->c, topic, 1, replication, err, sizeof(err)) != 0) {
        fprintf(stderr, "\nmb_topic_create %s: %s\n", topic, err);
        return false;
    }
    return true;
}

static int leader_of(struct pt_env *e, const char *topic)
{
    struct mb_partition_info info;
    return mb_partition_info(e->c, topic, 0, &info) == 0 ? info.leader : -1;
}

/* --- what the reports and the log say --------------------------------------------------------- */

struct tally {
    int n;
    int reports[MAX_MSGS];      /* delivery reports per message */
    int ok[MAX_MSGS];           /* successful ones among them */
    int copies[MAX_MSGS];       /* records holding the message */
    int delivered, failed;      /* messages reported delivered / failed */
    int twice, unreported;      /* messages with more than one report / none */
    int bad_offsets;            /* success reports whose offset holds another record, or none */
    int records;                /* records in the log */
    int dups;                   /* records repeating a message stored before */
    int foreign;                /* records that are none of the messages */
    int lost;                   /* delivered, yet absent from the log */
    int reordered;              /* first copies stored after a later message's first copy */
};

static int msg_index(const struct mb_record *rec)
{
    if (rec->value == NULL || rec->value_len < 2 || rec->value_len > 10 || rec->value[0] != 'v')
        return -1;
    int k = 0;
    for (int32_t i = 1; i < rec->value_len; i++) {
        if (rec->value[i] < '0' || rec->value[i] > '9')
            return -1;
        k = k * 10 + (rec->value[i] - '0');
    }
    return k;
}

static void dump_log(const struct mb_records *r, const char *topic)
{
    if (!getenv("KWT_PRODUCER_LOG"))
        return;
    fprintf(stderr, "log of %s-0: %zu records\n", topic, r ? r->count : 0);
    for (size_t i = 0; r && i < r->count; i++)
        fprintf(stderr, "  %lld: %.*s pid %lld epoch %d seq %d\n",
                (long long)r->records[i].offset, r->records[i].value_len,
                (const char *)r->records[i].value, (long long)r->records[i].producer_id,
                r->records[i].producer_epoch, r->records[i].sequence);
}

static void dump_journal(struct pt_env *e)
{
    if (!getenv("KWT_PRODUCER_LOG"))
        return;
    char *j = mb_journal_render(e->c, 0, MB_JOURNAL_TEXT);
    fprintf(stderr, "journal:\n%s", j ? j : "(out of memory)\n");
    free(j);
}

/* Reads partition 0 of topic and the reports of messages 0..n-1 sent to it. */
static void tally(struct pt_env *e, const char *topic, int n, struct tally *t)
{
    memset(t, 0, sizeof(*t));
    t->n = n;
    struct mb_records *r = mb_partition_records(e->c, topic, 0, 0, 0);
    int highest = -1;
    for (size_t i = 0; r && i < r->count; i++) {
        int k = msg_index(&r->records[i]);
        if (k < 0 || k >= n) {
            t->foreign++;
            continue;
        }
        if (t->copies[k]++ > 0) {
            t->dups++;
            continue;
        }
        if (k < highest)
            t->reordered++;
        if (k > highest)
            highest = k;
    }
    t->records = r ? (int)r->count : 0;
    for (size_t i = 0; i < e->n_drs; i++) {
        const struct pt_dr *d = &e->drs[i];
        if (strcmp(d->topic, topic) != 0 || d->opaque >= (uintptr_t)n)
            continue;
        int k = (int)d->opaque;
        t->reports[k]++;
        if (d->err != 0)
            continue;
        t->ok[k]++;
        if (d->offset < 0)
            continue;
        bool found = false;
        for (size_t j = 0; r && j < r->count && !found; j++)
            found = r->records[j].offset == d->offset && msg_index(&r->records[j]) == k;
        t->bad_offsets += !found;
    }
    for (int k = 0; k < n; k++) {
        t->unreported += t->reports[k] == 0;
        t->twice += t->reports[k] > 1;
        if (t->ok[k]) {
            t->delivered++;
            t->lost += t->copies[k] == 0;
        } else if (t->reports[k]) {
            t->failed++;
        }
    }
    if (t->dups || t->lost || t->reordered || t->bad_offsets || t->foreign) {
        dump_log(r, topic);
        dump_journal(e);
    }
    mb_records_destroy(r);
}

/* Every message delivered once, stored once, in order, at the offset its report gives. */
#define ASSERT_EXACTLY_ONCE(t)                                                                 \
    do {                                                                                       \
        CU_ASSERT_EQUAL((t).delivered, (t).n);                                                 \
        CU_ASSERT_EQUAL((t).twice, 0);                                                         \
        CU_ASSERT_EQUAL((t).unreported, 0);                                                    \
        CU_ASSERT_EQUAL((t).records, (t).n);                                                   \
        CU_ASSERT_EQUAL((t).dups, 0);                                                          \
        CU_ASSERT_EQUAL((t).lost, 0);                                                          \
        CU_ASSERT_EQUAL((t).reordered, 0);                                                     \
        CU_ASSERT_EQUAL((t).foreign, 0);                                                       \
        CU_ASSERT_EQUAL((t).bad_offsets, 0);                                                   \
    } while (0)

/* At least once: every message reported once and delivered, none missing, first copies in
 * order, and exactly `extra` copies beyond the first ones. */
#define ASSERT_AT_LEAST_ONCE(t, extra)                                                         \
    do {                                                                                       \
        CU_ASSERT_EQUAL((t).delivered, (t).n);                                                 \
        CU_ASSERT_EQUAL((t).twice, 0);                                                         \
        CU_ASSERT_EQUAL((t).unreported, 0);                                                    \
        CU_ASSERT_EQUAL((t).dups, (extra));                                                    \
        CU_ASSERT_EQUAL((t).records, (t).n + (extra));                                         \
        CU_ASSERT_EQUAL((t).lost, 0);                                                          \
        CU_ASSERT_EQUAL((t).reordered, 0);                                                     \
        CU_ASSERT_EQUAL((t).foreign, 0);                                                       \
        CU_ASSERT_EQUAL((t).bad_offsets, 0);                                                   \
    } while (0)

/* With idempotence: records of each (producer id, epoch) carry sequences 0, 1, 2, ... in log
 * order. Returns the number of such runs (epochs seen), or -1 if a sequence is off. */
static int sequence_runs(struct pt_env *e, const char *topic)
{
    struct mb_records *r = mb_partition_records(e->c, topic, 0, 0, 0);
    int runs = 0;
    int32_t next = 0;
    for (size_t i = 0; r && i < r->count && runs >= 0; i++) {
        const struct mb_record *rec = &r->records[i];
        bool same = i > 0 && rec->producer_id == r->records[i - 1].producer_id &&
                    rec->producer_epoch == r->records[i - 1].producer_epoch;
        if (!same) {
            runs++;
            next = 0;
        }
        if (rec->producer_id < 0 || rec->sequence != next++)
            runs = -1;
    }
    if (runs < 0)
        dump_log(r, topic);
    mb_records_destroy(r);
    return runs;
}

/* Journal entries of a kind (what NULL: any), of an error code (-1: any), on the cluster's
 * connection number conn (0: any). */
static int journal_scan(struct pt_env *e, enum mb_journal_kind kind, const char *what, int ec,
                        uint64_t conn)
{
    struct mb_journal_entry batch[64];
    uint64_t after = 0;
    size_t got;
    int n = 0;
    while ((got = mb_journal_read(e->c, after, batch, 64)) > 0) {
        for (size_t i = 0; i < got; i++)
            n += batch[i].kind == kind &&
                 (what == NULL || (batch[i].what && strcmp(batch[i].what, what) == 0)) &&
                 (ec < 0 || batch[i].error_code == ec) && (conn == 0 || batch[i].conn == conn);
        after = batch[got - 1].id;
    }
    return n;
}

static int journal_count(struct pt_env *e, enum mb_journal_kind kind, const char *what, int ec)
{
    return journal_scan(e, kind, what, ec, 0);
}

/* Appends (stored, refused, or recognised as duplicates) that came on connection conn. */
static int appends_on_conn(struct pt_env *e, uint64_t conn)
{
    return journal_scan(e, MB_JOURNAL_APPEND, NULL, -1, conn);
}

static int64_t stat_retries(struct pt_env *e)
{
    struct kp_stats st;
    kp_producer_stats(e->p, &st);
    return st.retries;
}

static int64_t stat_bumps(struct pt_env *e)
{
    struct kp_stats st;
    kp_producer_stats(e->p, &st);
    return st.epoch_bumps;
}

/* Message k's (first) report; a missing one reads as an error no test expects, so assertions
 * on it fail rather than crash. */
static const struct pt_dr *report_of(const struct pt_env *e, int k)
{
    static const struct pt_dr missing = { .err = -9999, .status = -1, .offset = -9999 };
    for (size_t i = 0; i < e->n_drs; i++)
        if (e->drs[i].opaque == (uintptr_t)k)
            return &e->drs[i];
    return &missing;
}

static bool rule_holds(struct pt_env *e, void *arg)
{
    struct mb_rule_stats st;
    return mb_rule_stats(e->c, arg, &st) == 0 && st.held > 0;
}

static bool never(struct pt_env *e, void *arg)
{
    (void)e;
    (void)arg;
    return false;
}

/* Lets ms of virtual time pass, I/O and timers in turn. */
static void run_for(struct pt_env *e, int64_t ms)
{
    pt_run(e, never, NULL, ms);
}

/* Defines test_<name>_without_idempotence and test_<name>_with_idempotence from
 * <name>(bool idemp). */
#define BOTH(name)                                                                             \
    static void test_##name##_without_idempotence(void) { name(false); }                     \
    static void test_##name##_with_idempotence(void) { name(true); }

/* --- retriable per-partition errors ----------------------------------------------------------- */

/* Two refusals before apply: the producer refreshes metadata after each and the batch lands
 * once, its place kept. */
static void not_leader_refreshes_metadata_and_lands_once(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "nl", 1));
    struct mb_rule r = rule("not-leader", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_NOT_LEADER_OR_FOLLOWER;
    r.match.nth = 2;
    r.count = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "1",
                                                                        NULL }));
    pt_settle(&e);
    uint64_t md = mb_request_count(e.c, -1, KW_API_METADATA);
    send_range(&e, "nl", 0, 4);
    CU_ASSERT_FATAL(pt_until_drs(&e, 4, 10000));
    struct tally t;
    tally(&e, "nl", 4, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 4 + 2);
    CU_ASSERT_EQUAL(stat_retries(&e), 2);
    /* One refresh per refusal (spaced by retry.backoff.ms, which the retry waits anyway). */
    CU_ASSERT(mb_request_count(e.c, -1, KW_API_METADATA) >= md + 2);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_FAULT, "error", KW_EC_NOT_LEADER_OR_FOLLOWER),
                    2);
    if (idemp)
        CU_ASSERT_EQUAL(sequence_runs(&e, "nl"), 1);
    pt_stop(&e);
}
BOTH(not_leader_refreshes_metadata_and_lands_once)

static void not_enough_replicas_is_retried_until_it_lands_once(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "ner", 1));
    struct mb_rule r = rule("ner", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_NOT_ENOUGH_REPLICAS;
    r.count = 3;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "1",
                                                                        NULL }));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    send_range(&e, "ner", 0, 3);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    struct tally t;
    tally(&e, "ner", 3, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_FAULT, "error", KW_EC_NOT_ENOUGH_REPLICAS), 3);
    /* Refused before apply: nothing was stored by the refused attempts. One in flight: the
     * first batch takes all three refusals, backing off 100, 200, 400 ms (+-20%), and the
     * others wait behind it. */
    int64_t took = pt_now_ms(&e) - t0;
    CU_ASSERT(took >= 80 + 160 + 320 && took <= 120 + 240 + 480);
    if (idemp)
        CU_ASSERT_EQUAL(sequence_runs(&e, "ner"), 1);
    pt_stop(&e);
}
BOTH(not_enough_replicas_is_retried_until_it_lands_once)

/* REQUEST_TIMED_OUT after the append: the write is in the log, the producer is told it failed.
 * Its retry writes it again unless the broker recognises the sequence. */
static void request_timed_out_after_apply(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "rto", 1));
    struct mb_rule r = rule("late", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_REQUEST_TIMED_OUT;
    r.action.when = MB_AFTER_APPLY;
    r.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "1",
                                                                        NULL }));
    send_range(&e, "rto", 0, 3);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    struct tally t;
    tally(&e, "rto", 3, &t);
    CU_ASSERT_EQUAL(stat_retries(&e), 1);
    const struct pt_dr *d = report_of(&e, 1);
    CU_ASSERT_EQUAL(d->err, 0);
    CU_ASSERT_EQUAL(d->status, KP_STATUS_PERSISTED);
    if (idemp) {
        /* The retry is answered as the duplicate it is, with the first write's offset. */
        ASSERT_EXACTLY_ONCE(t);
        CU_ASSERT_EQUAL(d->offset, 1);
        CU_ASSERT_EQUAL(sequence_runs(&e, "rto"), 1);
    } else {
        /* At least once: v1 twice, and its report names the second copy. */
        ASSERT_AT_LEAST_ONCE(t, 1);
        CU_ASSERT_EQUAL(t.copies[1], 2);
        CU_ASSERT_EQUAL(d->offset, 2);
    }
    pt_stop(&e);
}
BOTH(request_timed_out_after_apply)

/* --- leaders and brokers ---------------------------------------------------------------------- */

/* Leadership moves right after the third request is applied, with more requests on their way
 * to the old leader: those are refused NOT_LEADER (naming the new leader, KIP-951) and go to
 * the new leader in order. */
static void leader_move_mid_stream(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 3, "lm", 3));
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "lm", 0, &info), 0);
    int old = info.leader, next = info.replicas[0] == old ? info.replicas[1] : info.replicas[0];
    struct mb_rule r = rule("move", KW_API_PRODUCE, MB_ACTION_LEADER_MOVE);
    r.match.nth = 3;
    r.action.when = MB_AFTER_APPLY;
    r.action.broker = next;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "5",
                                                                        NULL }));
    pt_settle(&e);
    send_range(&e, "lm", 0, 10);
    CU_ASSERT_FATAL(pt_until_drs(&e, 10, 10000));
    struct tally t;
    tally(&e, "lm", 10, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(leader_of(&e, "lm"), next);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_LEADER, "move", -1), 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, old, KW_API_PRODUCE) + mb_request_count(e.c, next,
                    KW_API_PRODUCE), pt_produce_requests(&e));
    CU_ASSERT(mb_request_count(e.c, next, KW_API_PRODUCE) >= 7);
    CU_ASSERT(journal_count(&e, MB_JOURNAL_APPEND, NULL, KW_EC_NOT_LEADER_OR_FOLLOWER) >= 1);
    if (idemp)
        CU_ASSERT_EQUAL(sequence_runs(&e, "lm"), 1);
    pt_stop(&e);
}
BOTH(leader_move_mid_stream)

/* acks=all, followers copying at once: the leader dies right after applying the third request
 * (its answer dies with the connection). A follower takes over with everything acknowledged,
 * and the retried batch is either recognised (idempotence) or stored a second time. */
static void leader_down_with_acks_all_loses_nothing_acknowledged(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 3, "down", 3));
    int old = leader_of(&e, "down");
    struct mb_rule r = rule("crash", KW_API_PRODUCE, MB_ACTION_BROKER_DOWN);
    r.match.nth = 3;
    r.action.when = MB_AFTER_APPLY;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "acks", "all",
                                                                        "max.in.flight", "1",
                                                                        NULL }));
    send_range(&e, "down", 0, 6);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 30000));
    CU_ASSERT_EQUAL(mb_broker_state(e.c, old), MB_BROKER_DOWN);
    int now = leader_of(&e, "down");
    CU_ASSERT(now > 0 && now != old);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_LEADER, "election", -1), 1);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_TRUNCATE, NULL, -1), 0);
    struct tally t;
    tally(&e, "down", 6, &t);
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 6);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
        CU_ASSERT_EQUAL(sequence_runs(&e, "down"), 1);
    } else {
        ASSERT_AT_LEAST_ONCE(t, 1);
        CU_ASSERT_EQUAL(t.copies[2], 2);
    }
    pt_stop(&e);
}
BOTH(leader_down_with_acks_all_loses_nothing_acknowledged)

/* acks=1 with followers that copy nothing: five messages are acknowledged by the leader alone.
 * The leader dies; a follower still in the ISR (replica.lag.time.max.ms has not passed) is
 * elected and the log is truncated to what it holds: nothing. As with Kafka, acks=1 loses
 * acknowledged messages on failover, and the producer cannot know: its reports said
 * PERSISTED, and offsets 0..4 are handed out again to the next messages. The journal is where
 * the loss shows. */
static void test_leader_down_with_acks_1_loses_what_only_the_leader_had(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 3, "a1", 3));
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "a1", 0, &info), 0);
    int old = info.leader;
    for (int i = 0; i < info.n_replicas; i++)
        if (info.replicas[i] != old)
            CU_ASSERT_EQUAL(mb_follower_set(e.c, "a1", 0, info.replicas[i], MB_FOLLOWER_STOPPED,
                                            0, 0, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, false, (const char *[]){ "acks", "1", NULL }));
    send_range(&e, "a1", 0, 5);
    CU_ASSERT_FATAL(pt_until_drs(&e, 5, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 5);
    for (int k = 0; k < 5; k++) {
        CU_ASSERT_EQUAL(report_of(&e, k)->status, KP_STATUS_PERSISTED);
        CU_ASSERT_EQUAL(report_of(&e, k)->offset, k);
    }
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "a1", 0, &info), 0);
    CU_ASSERT_EQUAL(info.log_end_offset, 5);
    CU_ASSERT_EQUAL(info.high_watermark, 0);
    CU_ASSERT_EQUAL(info.n_isr, 3);

    CU_ASSERT_EQUAL(mb_broker_down(e.c, old, NULL, 0), 0);
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "a1", 0, &info), 0);
    CU_ASSERT(info.leader > 0 && info.leader != old);
    CU_ASSERT_EQUAL(info.log_end_offset, 0);
    struct mb_journal_entry j[256];
    size_t n = mb_journal_read(e.c, 0, j, 256), truncations = 0;
    for (size_t i = 0; i < n; i++)
        if (j[i].kind == MB_JOURNAL_TRUNCATE) {
            truncations++;
            CU_ASSERT_EQUAL(j[i].offset_before, 5);
            CU_ASSERT_EQUAL(j[i].offset, 0);
        }
    CU_ASSERT_EQUAL(truncations, 1);

    /* The producer follows the new leader; the next messages take the lost ones' offsets. */
    send_range(&e, "a1", 5, 8);
    CU_ASSERT_FATAL(pt_until_drs(&e, 8, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 8);
    struct tally t;
    tally(&e, "a1", 8, &t);
    CU_ASSERT_EQUAL(t.delivered, 8);
    CU_ASSERT_EQUAL(t.lost, 5);
    CU_ASSERT_EQUAL(t.records, 3);
    CU_ASSERT_EQUAL(t.dups, 0);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(report_of(&e, 5 + k)->offset, k);
    /* Reports of the lost messages name offsets that now hold other messages, or nothing. */
    CU_ASSERT_EQUAL(t.bad_offsets, 5);
    pt_stop(&e);
}

/* The only broker goes down with messages queued and comes back: nothing can be sent meanwhile
 * (the producer keeps reconnecting, backing off), then everything lands once, in order. */
static void broker_down_then_up(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "bounce", 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, NULL));
    send_range(&e, "bounce", 0, 3);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    CU_ASSERT_EQUAL(mb_broker_down(e.c, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(leader_of(&e, "bounce"), -1);
    send_range(&e, "bounce", 3, 6);
    run_for(&e, 5000);
    CU_ASSERT_EQUAL(e.n_drs, 3);
    CU_ASSERT_EQUAL(kp_producer_outq_len(e.p), 3);
    CU_ASSERT(e.n_errs >= 1);
    CU_ASSERT_EQUAL(e.errs[0], KP_ERR__ALL_BROKERS_DOWN);
    CU_ASSERT_EQUAL(mb_broker_up(e.c, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(leader_of(&e, "bounce"), 1);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 30000));
    struct tally t;
    tally(&e, "bounce", 6, &t);
    ASSERT_EXACTLY_ONCE(t);
    if (idemp)
        CU_ASSERT_EQUAL(sequence_runs(&e, "bounce"), 1);
    pt_stop(&e);
}
BOTH(broker_down_then_up)

/* Three brokers: the leader goes down mid-stream and a follower takes over; it comes back as a
 * follower, catches up, and leadership returns to it (the preferred replica) mid-stream too.
 * The producer follows each move; every message lands once, in order. */
static void leader_bounce_mid_stream(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 3, "lb", 3));
    int old = leader_of(&e, "lb");
    /* Before apply: the third request dies with the broker. */
    struct mb_rule down = rule("down", KW_API_PRODUCE, MB_ACTION_BROKER_DOWN);
    down.match.nth = 3;
    down.match.broker = old;
    CU_ASSERT_EQUAL(add(&e, &down), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "5",
                                                                        NULL }));
    send_range(&e, "lb", 0, 8);
    CU_ASSERT_FATAL(pt_until_drs(&e, 8, 30000));
    CU_ASSERT(leader_of(&e, "lb") != old);
    CU_ASSERT_EQUAL(mb_broker_up(e.c, old, NULL, 0), 0);
    pt_settle(&e);
    CU_ASSERT_EQUAL(mb_leader_move(e.c, "lb", 0, MB_ANY, NULL, 0), 0);
    CU_ASSERT_EQUAL(leader_of(&e, "lb"), old);
    send_range(&e, "lb", 8, 16);
    CU_ASSERT_FATAL(pt_until_drs(&e, 16, 30000));
    struct tally t;
    tally(&e, "lb", 16, &t);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
    } else {
        /* Down before apply: the third request and those behind it never reached the log.
         * The first two were applied, but their answers may still have been in the broker's
         * output when it died (the mock reads the next request once an answer is queued):
         * those come back, and are stored again. */
        CU_ASSERT_EQUAL(t.delivered, 16);
        CU_ASSERT_EQUAL(t.twice + t.unreported + t.lost + t.reordered + t.foreign, 0);
        CU_ASSERT(t.dups <= 2 && t.copies[0] <= 2 && t.copies[1] <= 2);
        CU_ASSERT_EQUAL(t.records, 16 + t.dups);
    }
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_LEADER, "move", -1), 1);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_LEADER, "election", -1), 1);
    CU_ASSERT(mb_request_count(e.c, old, KW_API_PRODUCE) > 2);
    if (idemp)
        CU_ASSERT_EQUAL(sequence_runs(&e, "lb"), 1);
    pt_stop(&e);
}
BOTH(leader_bounce_mid_stream)

/* --- answers that never come ------------------------------------------------------------------ */

/* The second request's answer is lost, and with it every later answer on that connection,
 * though the mock applies what it reads. After request.timeout.ms the producer closes the
 * connection and sends again everything that was in flight. */
static void lose_response(bool idemp, int inflight)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "lose", 1));
    struct mb_rule r = rule("lose", KW_API_PRODUCE, MB_ACTION_LOSE_RESPONSE);
    r.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    char mif[8];
    snprintf(mif, sizeof(mif), "%d", inflight);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){
                                                 "max.in.flight", mif,
                                                 "request.timeout.ms", "1000",
                                                 "socket.timeout.ms", "1000", NULL }));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    send_range(&e, "lose", 0, 6);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 20000));
    int64_t took = pt_now_ms(&e) - t0;
    /* The timeout, a reconnect backoff (at most 120 ms) and retry backoffs. */
    CU_ASSERT(took >= 1000 && took < 1000 + 120 + 6 * 120);
    /* Requests 2 .. 1 + inflight were applied with their answers withheld. */
    int withheld = inflight;
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_RESPONSE, "lost", -1), withheld);
    struct tally t;
    tally(&e, "lose", 6, &t);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
        CU_ASSERT_EQUAL(sequence_runs(&e, "lose"), 1);
    } else {
        ASSERT_AT_LEAST_ONCE(t, withheld);
        for (int k = 1; k <= withheld; k++)
            CU_ASSERT_EQUAL(t.copies[k], 2);
    }
    for (int k = 0; k < 6; k++) {
        const struct pt_dr *d = report_of(&e, k);
        CU_ASSERT_EQUAL(d->err, 0);
        CU_ASSERT_EQUAL(d->status, KP_STATUS_PERSISTED);
    }
    pt_stop(&e);
}

static void test_a_lost_response_with_one_in_flight_duplicates_without_idempotence(void)
{
    lose_response(false, 1);
}

static void test_a_lost_response_with_five_in_flight_duplicates_without_idempotence(void)
{
    lose_response(false, 5);
}

static void test_a_lost_response_with_one_in_flight_stores_once_with_idempotence(void)
{
    lose_response(true, 1);
}

static void test_a_lost_response_with_five_in_flight_stores_once_with_idempotence(void)
{
    lose_response(true, 5);
}

/* Without retries, the withheld writes cannot be confirmed: the producer says so with
 * _POSSIBLY_PERSISTED, and the log shows they were in fact stored. */
static void test_a_lost_response_without_retries_reports_possibly_persisted(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "pp", 1));
    struct mb_rule r = rule("lose", KW_API_PRODUCE, MB_ACTION_LOSE_RESPONSE);
    r.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, false, (const char *[]){
                                                  "max.in.flight", "5", "retries", "0",
                                                  "request.timeout.ms", "1000",
                                                  "socket.timeout.ms", "1000", NULL }));
    pt_settle(&e);
    send_range(&e, "pp", 0, 6);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 20000));
    struct tally t;
    tally(&e, "pp", 6, &t);
    CU_ASSERT_EQUAL(t.delivered, 1);
    CU_ASSERT_EQUAL(t.failed, 5);
    CU_ASSERT_EQUAL(t.records, 6);
    CU_ASSERT_EQUAL(t.dups, 0);
    CU_ASSERT_EQUAL(t.reordered, 0);
    for (int k = 1; k < 6; k++) {
        const struct pt_dr *d = report_of(&e, k);
        CU_ASSERT_EQUAL(d->err, KP_ERR__POSSIBLY_PERSISTED);
        CU_ASSERT_EQUAL(d->cause, KP_ERR__TIMED_OUT);
        CU_ASSERT_EQUAL(d->status, KP_STATUS_POSSIBLY_PERSISTED);
        CU_ASSERT_EQUAL(d->offset, -1);
        CU_ASSERT_EQUAL(t.copies[k], 1);
    }
    pt_stop(&e);
}

/* The second request is applied and its answer held; the connection reads nothing more
 * meanwhile, so requests pipelined behind it wait unread. Released before the producer's
 * timeout, the answer arrives late and nothing is sent twice. */
static void hold_after_apply_then_release(bool idemp, int inflight)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "hold", 1));
    struct mb_rule r = rule("gate", KW_API_PRODUCE, MB_ACTION_HOLD);
    r.match.nth = 2;
    r.action.when = MB_AFTER_APPLY;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    char mif[8];
    snprintf(mif, sizeof(mif), "%d", inflight);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", mif,
                                                                        NULL }));
    send_range(&e, "hold", 0, 6);
    CU_ASSERT_FATAL(pt_run(&e, rule_holds, "gate", 10000));
    pt_settle(&e);
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.requests_inflight, inflight);
    CU_ASSERT_EQUAL(e.n_drs, 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_PRODUCE), 2);
    const char *applied[] = { "v0", "v1" };
    CU_ASSERT(pt_log_is(&e, "hold", 0, applied, 2));
    pt_advance(&e, 5000);       /* well within request.timeout.ms */
    CU_ASSERT_EQUAL(e.n_drs, 1);
    CU_ASSERT_EQUAL(mb_rule_release(e.c, "gate"), 1);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 10000));
    struct tally t;
    tally(&e, "hold", 6, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(stat_retries(&e), 0);
    for (int k = 0; k < 6; k++)
        CU_ASSERT_EQUAL(report_of(&e, k)->offset, k);
    if (idemp)
        CU_ASSERT_EQUAL(sequence_runs(&e, "hold"), 1);
    pt_stop(&e);
}

static void test_a_held_answer_released_in_time_with_one_in_flight(void)
{
    hold_after_apply_then_release(false, 1);
}

static void test_a_held_answer_released_in_time_with_five_in_flight(void)
{
    hold_after_apply_then_release(false, 5);
}

static void test_a_held_answer_released_in_time_with_five_in_flight_and_idempotence(void)
{
    hold_after_apply_then_release(true, 5);
}

static void test_a_held_answer_released_in_time_with_one_in_flight_and_idempotence(void)
{
    hold_after_apply_then_release(true, 1);
}

/* Held past request.timeout.ms: the producer gives up on the connection and sends the held
 * batch and those queued behind it again on a new one. The held write was applied: without
 * idempotence it is stored twice, with it the retry is recognised. The mock reads nothing from
 * a connection whose request is in progress, so it has not noticed the client leave: released
 * afterwards, it sends the answer into the void and then reads the requests that were queued
 * behind, applying them on the dead connection, as a broker stuck on a request would. Without
 * idempotence those are stored a second time too; with it they are recognised. */
static void hold_after_apply_past_the_timeout(bool idemp, int inflight)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "late", 1));
    struct mb_rule r = rule("gate", KW_API_PRODUCE, MB_ACTION_HOLD);
    r.match.nth = 2;
    r.action.when = MB_AFTER_APPLY;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    char mif[8];
    snprintf(mif, sizeof(mif), "%d", inflight);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){
                                                 "max.in.flight", mif,
                                                 "request.timeout.ms", "2000",
                                                 "socket.timeout.ms", "2000", NULL }));
    send_range(&e, "late", 0, 6);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 20000));
    CU_ASSERT(pt_now_ms(&e) >= 2000);
    for (int k = 0; k < 6; k++)
        CU_ASSERT_EQUAL(report_of(&e, k)->err, 0);
    struct tally t;
    tally(&e, "late", 6, &t);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
    } else {
        /* Only the held request had been read: those behind it were not applied yet. */
        ASSERT_AT_LEAST_ONCE(t, 1);
        CU_ASSERT_EQUAL(t.copies[1], 2);
    }
    /* Connection 1: v0, and v1 held; connection 2: v1 .. v5 again. */
    CU_ASSERT_EQUAL(appends_on_conn(&e, 1), 2);
    CU_ASSERT_EQUAL(appends_on_conn(&e, 2), 5);
    CU_ASSERT_EQUAL(mb_rule_release(e.c, "gate"), 1);
    pt_settle(&e);
    CU_ASSERT_EQUAL(appends_on_conn(&e, 1), 2 + (inflight - 1));
    tally(&e, "late", 6, &t);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
        CU_ASSERT_EQUAL(sequence_runs(&e, "late"), 1);
    } else {
        ASSERT_AT_LEAST_ONCE(t, inflight);
    }
    pt_stop(&e);
}

static void test_a_held_answer_past_the_timeout_with_one_in_flight_duplicates(void)
{
    hold_after_apply_past_the_timeout(false, 1);
}

static void test_a_held_answer_past_the_timeout_with_five_in_flight_duplicates(void)
{
    hold_after_apply_past_the_timeout(false, 5);
}

static void test_a_held_answer_past_the_timeout_with_idempotence_stores_once(void)
{
    hold_after_apply_past_the_timeout(true, 5);
}

/* Held before apply past the producer's timeout, then released: the stale request, and the two
 * queued behind it on its dead connection, are applied after their retries. With idempotence
 * the broker recognises them as duplicates of what it holds: nothing twice, nothing
 * reordered. */
static void test_a_stale_request_released_late_is_recognised_with_idempotence(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "stale", 1));
    struct mb_rule r = rule("gate", KW_API_PRODUCE, MB_ACTION_HOLD);
    r.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, (const char *[]){
                                                 "request.timeout.ms", "2000",
                                                 "socket.timeout.ms", "2000", NULL }));
    send_range(&e, "stale", 0, 4);
    CU_ASSERT_FATAL(pt_until_drs(&e, 4, 20000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 4);
    /* The first connection: v0 applied, v1 held, v2 and v3 unread. */
    CU_ASSERT_EQUAL(appends_on_conn(&e, 1), 1);
    CU_ASSERT_EQUAL(mb_rule_release(e.c, "gate"), 1);
    pt_settle(&e);
    CU_ASSERT_EQUAL(appends_on_conn(&e, 1), 4);
    struct tally t;
    tally(&e, "stale", 4, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(sequence_runs(&e, "stale"), 1);
    pt_stop(&e);
}

/* acks=all with the only follower stopped: the high watermark cannot cover the batch, so the
 * leader answers REQUEST_TIMED_OUT once the request's TimeoutMs (request.timeout.ms) has
 * passed, the write staying in its log. As in librdkafka, the producer itself waits
 * socket.timeout.ms (60 s by default), so it reads that answer on the same connection and
 * retries the batch, possibly persisted; the retry waits until the follower resumes. Without
 * idempotence the first write stands beside the retry's. */
static void stopped_follower_times_out_acks_all(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 2, "isr", 2));
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "isr", 0, &info), 0);
    int leader = info.leader;
    int follower = info.replicas[0] == leader ? info.replicas[1] : info.replicas[0];
    CU_ASSERT_EQUAL(mb_follower_set(e.c, "isr", 0, follower, MB_FOLLOWER_STOPPED, 0, 0, NULL, 0),
                    0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){
                                                 "acks", "all", "request.timeout.ms", "2000",
                                                 NULL }));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    send_range(&e, "isr", 0, 1);
    run_for(&e, 2500);
    CU_ASSERT_EQUAL(e.n_drs, 0);
    CU_ASSERT_EQUAL(stat_retries(&e), 1);
    /* The leader answered REQUEST_TIMED_OUT at TimeoutMs and the producer read it: the retry
     * went on the same connection. */
    struct mb_journal_entry j[128];
    size_t n = mb_journal_read(e.c, 0, j, 128);
    int timed_out = 0;
    for (size_t i = 0; i < n; i++)
        if (j[i].kind == MB_JOURNAL_RESPONSE && j[i].error_code == KW_EC_REQUEST_TIMED_OUT) {
            timed_out++;
            CU_ASSERT_EQUAL(j[i].time_us, PT_START_US + (t0 + 2000) * 1000);
        }
    CU_ASSERT_EQUAL(timed_out, 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, leader, KW_API_API_VERSIONS), 1);
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "isr", 0, &info), 0);
    CU_ASSERT_EQUAL(info.high_watermark, 0);
    CU_ASSERT_EQUAL(info.log_end_offset, idemp ? 1 : 2);
    CU_ASSERT_EQUAL(mb_follower_set(e.c, "isr", 0, follower, MB_FOLLOWER_IMMEDIATE, 0, 0, NULL,
                                    0), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    const struct pt_dr *d = report_of(&e, 0);
    CU_ASSERT_EQUAL(d->err, 0);
    CU_ASSERT_EQUAL(d->status, KP_STATUS_PERSISTED);
    struct tally t;
    tally(&e, "isr", 1, &t);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
    } else {
        ASSERT_AT_LEAST_ONCE(t, 1);
        CU_ASSERT_EQUAL(d->offset, 1);
    }
    pt_stop(&e);
}
BOTH(stopped_follower_times_out_acks_all)

/* --- throttling ------------------------------------------------------------------------------- */

/* KIP-219: from Produce v6 the broker answers at once with ThrottleTimeMs and then reads nothing
 * from the connection for that long. The next request therefore reaches the broker no sooner
 * than the throttle's end, and everything is delivered once. */
static void throttled_answers(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "thr", 1));
    struct mb_rule r = rule("slow", KW_API_PRODUCE, MB_ACTION_THROTTLE);
    r.action.duration_ms = 700;
    r.count = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, NULL));
    pt_settle(&e);
    int64_t t0 = pt_now_ms(&e);
    send_range(&e, "thr", 0, 1);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    CU_ASSERT_EQUAL(pt_now_ms(&e), t0);         /* answered at once */
    send_range(&e, "thr", 1, 5);
    CU_ASSERT_FATAL(pt_until_drs(&e, 5, 20000));
    /* The second answer came right after the first mute (700 ms), the rest after the
     * second. */
    CU_ASSERT(pt_now_ms(&e) - t0 >= 1400);
    struct mb_journal_entry j[256];
    size_t n = mb_journal_read(e.c, 0, j, 256);
    int64_t first = -1, second = -1;
    for (size_t i = 0; i < n; i++)
        if (j[i].kind == MB_JOURNAL_REQUEST && j[i].api_key == KW_API_PRODUCE) {
            if (first < 0)
                first = j[i].time_us;
            else if (second < 0)
                second = j[i].time_us;
        }
    CU_ASSERT(second - first >= 700 * 1000);
    struct tally t;
    tally(&e, "thr", 5, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(stat_retries(&e), 0);
    pt_stop(&e);
}
BOTH(throttled_answers)

/* A throttle longer than request.timeout.ms. Requests sent into the muted connection would sit
 * unread, time out, and be sent again on a new connection, while the old connection still
 * holds them: once the mute ends the broker applies them too. The producer therefore holds its
 * requests back until the throttle is over (KIP-219, as the Java client does): no timeout, no
 * reconnect, nothing stored twice, even without idempotence. */
static void throttle_longer_than_the_request_timeout(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "thr", 1));
    struct mb_rule r = rule("slow", KW_API_PRODUCE, MB_ACTION_THROTTLE);
    r.action.duration_ms = 5000;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    /* Metadata is due every second: it too waits for the throttle's end. */
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){
                                                 "max.in.flight", "5",
                                                 "request.timeout.ms", "2000",
                                                 "socket.timeout.ms", "2000",
                                                 "topic.metadata.refresh.interval.ms", "1000",
                                                 NULL }));
    send_range(&e, "thr", 0, 1);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    int64_t t0 = pt_now_ms(&e);
    send_range(&e, "thr", 1, 4);
    CU_ASSERT_FATAL(pt_until_drs(&e, 4, 30000));
    CU_ASSERT(pt_now_ms(&e) - t0 >= 5000);
    run_for(&e, 10000);         /* the old connection's mute is long over */
    CU_ASSERT_EQUAL(stat_retries(&e), 0);
    CU_ASSERT_EQUAL(e.n_errs, 0);
    CU_ASSERT_EQUAL(e.n_warnings, 0);
    struct tally t;
    tally(&e, "thr", 4, &t);
    ASSERT_EXACTLY_ONCE(t);
    if (idemp)
        CU_ASSERT_EQUAL(sequence_runs(&e, "thr"), 1);
    pt_stop(&e);
}
BOTH(throttle_longer_than_the_request_timeout)

/* --- refusals that are final ------------------------------------------------------------------ */

/* A batch over the topic's max.message.bytes fails at once, without a retry, and is not stored;
 * the messages after it are. With idempotence its sequence number was used up: the epoch is
 * bumped so the next batch is not refused as out of order. */
static void message_too_large(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "big", 1));
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "big", "max.message.bytes", "200", NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "1",
                                                                        NULL }));
    send_range(&e, "big", 0, 1);
    char big[301];
    memset(big, 'x', 300);
    big[300] = '\0';
    CU_ASSERT_EQUAL(kp_producer_produce(e.p, "big", 0, 0, NULL, 0, big, 300, NULL, 0, TS0,
                                        (void *)(uintptr_t)1), 0);
    send_range(&e, "big", 2, 4);
    CU_ASSERT_FATAL(pt_until_drs(&e, 4, 10000));
    const struct pt_dr *d = report_of(&e, 1);
    CU_ASSERT_EQUAL(d->err, KW_EC_MESSAGE_TOO_LARGE);
    CU_ASSERT_EQUAL(d->status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(d->errstr, "max.message.bytes"));
    CU_ASSERT_EQUAL(stat_retries(&e), 0);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_APPEND, NULL, KW_EC_MESSAGE_TOO_LARGE), 1);
    struct tally t;
    tally(&e, "big", 4, &t);
    CU_ASSERT_EQUAL(t.delivered, 3);
    CU_ASSERT_EQUAL(t.failed, 1);
    CU_ASSERT_EQUAL(t.records, 3);
    CU_ASSERT_EQUAL(t.copies[1], 0);
    CU_ASSERT_EQUAL(t.dups + t.lost + t.reordered + t.bad_offsets + t.twice, 0);
    if (idemp) {
        CU_ASSERT_EQUAL(stat_bumps(&e), 1);
        CU_ASSERT_EQUAL(sequence_runs(&e, "big"), 2);
    }
    pt_stop(&e);
}
BOTH(message_too_large)

/* With auto-creation off, a topic the cluster does not know fails its messages once metadata
 * says so, and later produce calls are refused at once. */
static void test_an_unknown_topic_fails_its_messages_without_auto_creation(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "known", 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, false, NULL));
    send_range(&e, "nosuch", 0, 3);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, KW_EC_UNKNOWN_TOPIC_OR_PARTITION), 3);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(report_of(&e, k)->status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 0);
    CU_ASSERT_EQUAL(send_msg(&e, "nosuch", 0, 3), KP_ERR__UNKNOWN_TOPIC);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "nosuch", 0, &info), KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    pt_stop(&e);
}

/* A topic deleted while messages flow: the broker refuses the partition, the producer asks
 * metadata, learns the topic is gone and fails what is left; what was acknowledged before
 * went with the topic, as in Kafka. */
static void test_a_topic_deleted_mid_stream_fails_the_rest(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "gone", 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, false, NULL));
    send_range(&e, "gone", 0, 2);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    CU_ASSERT_EQUAL(mb_topic_delete(e.c, "gone"), 0);
    send_range(&e, "gone", 2, 4);
    CU_ASSERT_FATAL(pt_until_drs(&e, 4, 10000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 2);
    CU_ASSERT_EQUAL(pt_count_err(&e, KW_EC_UNKNOWN_TOPIC_OR_PARTITION), 2);
    CU_ASSERT_EQUAL(report_of(&e, 3)->status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT(journal_count(&e, MB_JOURNAL_APPEND, NULL, KW_EC_UNKNOWN_TOPIC_OR_PARTITION) >= 2);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "gone", 0, &info), KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    pt_stop(&e);
}

/* --- the idempotent producer's own errors ----------------------------------------------------- */

/* The partition forgets the producer (its state expired): UNKNOWN_PRODUCER_ID for a batch
 * whose predecessors were all acknowledged. KIP-360: the producer bumps its epoch and sends
 * the batch again at sequence 0. */
static void test_unknown_producer_id_bumps_the_epoch_without_a_duplicate(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "upid", 1));
    struct mb_rule r = rule("forget", KW_API_PRODUCE, MB_ACTION_UNKNOWN_PRODUCER_ID);
    r.match.nth = 3;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, NULL));
    for (int k = 0; k < 5; k++) {
        send_range(&e, "upid", k, k + 1);
        CU_ASSERT_FATAL(pt_until_drs(&e, (size_t)k + 1, 10000));
    }
    struct tally t;
    tally(&e, "upid", 5, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(stat_bumps(&e), 1);
    CU_ASSERT_EQUAL(mb_request_count(e.c, -1, KW_API_INIT_PRODUCER_ID), 2);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_APPEND, NULL, KW_EC_UNKNOWN_PRODUCER_ID), 1);
    /* v0, v1 under the first epoch; v2 .. v4 from sequence 0 under the second. */
    CU_ASSERT_EQUAL(sequence_runs(&e, "upid"), 2);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), 0);
    pt_stop(&e);
}

/* The same with five requests in flight, all refused: the partition forgets the producer on
 * each, so they all come back, and follow the first under the new epoch, in order. (Were only
 * the first refused, those behind it would find a partition with no state for the producer,
 * which accepts any sequence as Kafka does since KIP-360: they would be stored ahead of it
 * under the old epoch, and nothing a producer does could prevent that.) */
static void test_unknown_producer_id_with_five_in_flight_keeps_the_order(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "upid5", 1));
    struct mb_rule r = rule("forget", KW_API_PRODUCE, MB_ACTION_UNKNOWN_PRODUCER_ID);
    r.match.nth = 3;
    r.count = 5;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, NULL));
    send_range(&e, "upid5", 0, 2);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    send_range(&e, "upid5", 2, 8);
    CU_ASSERT_FATAL(pt_until_drs(&e, 8, 10000));
    struct tally t;
    tally(&e, "upid5", 8, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(stat_bumps(&e), 1);
    CU_ASSERT_EQUAL(sequence_runs(&e, "upid5"), 2);
    pt_stop(&e);
}

/* OUT_OF_ORDER_SEQUENCE_NUMBER for the batch the broker should expect next (everything before
 * it acknowledged): the broker lost data. That batch fails, not persisted; the producer bumps
 * its epoch and the rest continue from sequence 0. */
static void test_out_of_order_sequence_fails_that_batch_and_bumps_the_epoch(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "oos", 1));
    struct mb_rule r = rule("oos", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER;
    r.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, NULL));
    send_range(&e, "oos", 0, 1);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    send_range(&e, "oos", 1, 6);
    CU_ASSERT_FATAL(pt_until_drs(&e, 6, 10000));
    const struct pt_dr *d = report_of(&e, 1);
    CU_ASSERT_EQUAL(d->err, KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(d->status, KP_STATUS_NOT_PERSISTED);
    struct tally t;
    tally(&e, "oos", 6, &t);
    CU_ASSERT_EQUAL(t.delivered, 5);
    CU_ASSERT_EQUAL(t.failed, 1);
    CU_ASSERT_EQUAL(t.copies[1], 0);
    CU_ASSERT_EQUAL(t.records, 5);
    CU_ASSERT_EQUAL(t.dups + t.lost + t.reordered + t.bad_offsets + t.twice + t.unreported, 0);
    CU_ASSERT_EQUAL(stat_bumps(&e), 1);
    CU_ASSERT_EQUAL(sequence_runs(&e, "oos"), 2);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), 0);
    pt_stop(&e);
}

/* The first attempt of a batch was applied and its answer lost; its retry is then told
 * OUT_OF_ORDER_SEQUENCE_NUMBER. The batch may be in the log under a sequence the broker no
 * longer matches: the producer cannot keep its promise and stops (fatal), reporting the batch
 * possibly persisted. */
static void test_out_of_order_after_a_lost_answer_is_fatal(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "fatal", 1));
    struct mb_rule lose = rule("lose", KW_API_PRODUCE, MB_ACTION_LOSE_RESPONSE);
    struct mb_rule oos = rule("oos", KW_API_PRODUCE, MB_ACTION_ERROR);
    oos.action.error_code = KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER;
    oos.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &lose), 0);
    CU_ASSERT_EQUAL(add(&e, &oos), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, (const char *[]){
                                                 "request.timeout.ms", "1000",
                                                 "socket.timeout.ms", "1000", NULL }));
    send_range(&e, "fatal", 0, 1);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 10000));
    const struct pt_dr *d = report_of(&e, 0);
    CU_ASSERT_EQUAL(d->err, KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(d->status, KP_STATUS_POSSIBLY_PERSISTED);
    CU_ASSERT_EQUAL(kp_producer_fatal_error(e.p, NULL, 0), KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(send_msg(&e, "fatal", 0, 1), KP_ERR__FATAL);
    const char *stored[] = { "v0" };
    CU_ASSERT(pt_log_is(&e, "fatal", 0, stored, 1));
    pt_stop(&e);
}

/* --- mangled answers -------------------------------------------------------------------------- */

/* The answer stops after 10 bytes and the connection closes: the producer cannot tell whether
 * the write happened, reconnects and sends the batch again. */
static void truncated_answer(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "cut", 1));
    struct mb_rule r = rule("cut", KW_API_PRODUCE, MB_ACTION_TRUNCATE_RESPONSE);
    r.action.bytes = 10;
    r.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "1",
                                                                        NULL }));
    send_range(&e, "cut", 0, 4);
    CU_ASSERT_FATAL(pt_until_drs(&e, 4, 10000));
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_RESPONSE, "truncated", -1), 1);
    CU_ASSERT_EQUAL(stat_retries(&e), 1);
    struct tally t;
    tally(&e, "cut", 4, &t);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
    } else {
        ASSERT_AT_LEAST_ONCE(t, 1);
        CU_ASSERT_EQUAL(t.copies[1], 2);
    }
    pt_stop(&e);
}
BOTH(truncated_answer)

/* A flipped byte in the size prefix makes the answer's size absurd: the producer drops the
 * connection rather than wait for 4 GB, and retries. */
static void test_a_corrupt_size_prefix_resets_the_connection_and_retries(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "crc", 1));
    struct mb_rule r = rule("flip", KW_API_PRODUCE, MB_ACTION_CORRUPT_RESPONSE);
    r.action.offset = 0;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, NULL));
    send_range(&e, "crc", 0, 3);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_RESPONSE, "corrupted", -1), 1);
    CU_ASSERT(e.n_warnings >= 1);
    CU_ASSERT(stat_retries(&e) >= 1);
    struct tally t;
    tally(&e, "crc", 3, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(sequence_runs(&e, "crc"), 1);
    pt_stop(&e);
}

/* A flipped byte in the correlation id: the answer matches no request and is dropped; the
 * request times out and is sent again. */
static void test_a_corrupt_correlation_id_times_the_request_out(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "cid", 1));
    struct mb_rule r = rule("flip", KW_API_PRODUCE, MB_ACTION_CORRUPT_RESPONSE);
    r.action.offset = 7;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, (const char *[]){
                                                 "request.timeout.ms", "1500",
                                                 "socket.timeout.ms", "1500", NULL }));
    send_range(&e, "cid", 0, 3);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    CU_ASSERT(pt_now_ms(&e) >= 1500);
    struct tally t;
    tally(&e, "cid", 3, &t);
    ASSERT_EXACTLY_ONCE(t);
    CU_ASSERT_EQUAL(sequence_runs(&e, "cid"), 1);
    pt_stop(&e);
}

/* A flipped byte in the body (the topic array's length, just after the flexible header's
 * tags): the answer does not parse. The batch is retried on the same connection. */
static void corrupt_body(bool idemp)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "body", 1));
    struct mb_rule r = rule("flip", KW_API_PRODUCE, MB_ACTION_CORRUPT_RESPONSE);
    r.action.offset = 9;
    r.match.nth = 2;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, idemp, (const char *[]){ "max.in.flight", "1",
                                                                        NULL }));
    send_range(&e, "body", 0, 3);
    CU_ASSERT_FATAL(pt_until_drs(&e, 3, 10000));
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_RESPONSE, "corrupted", -1), 1);
    CU_ASSERT_EQUAL(stat_retries(&e), 1);
    struct tally t;
    tally(&e, "body", 3, &t);
    if (idemp) {
        ASSERT_EXACTLY_ONCE(t);
    } else {
        ASSERT_AT_LEAST_ONCE(t, 1);
    }
    pt_stop(&e);
}
BOTH(corrupt_body)

/* Answers (Metadata and Produce alike) written three bytes at a time, 5 ms apart: the producer
 * reassembles them and reads the right offsets. */
static void test_answers_split_in_pieces_are_read_whole(void)
{
    struct pt_env e;
    CU_ASSERT_FATAL(start(&e, 1, "split", 1));
    struct mb_rule r = rule("split", MB_ANY, MB_ACTION_SPLIT_RESPONSE);
    r.action.bytes = 3;
    r.action.interval_ms = 5;
    r.count = MB_ALWAYS;
    CU_ASSERT_EQUAL(add(&e, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(producer(&e, true, NULL));
    send_range(&e, "split", 0, 5);
    CU_ASSERT_FATAL(pt_until_drs(&e, 5, 20000));
    CU_ASSERT(journal_count(&e, MB_JOURNAL_RESPONSE, "split", -1) >= 5 + 3);
    CU_ASSERT_EQUAL(stat_retries(&e), 0);
    struct tally t;
    tally(&e, "split", 5, &t);
    ASSERT_EXACTLY_ONCE(t);
    for (int k = 0; k < 5; k++)
        CU_ASSERT_EQUAL(report_of(&e, k)->offset, k);
    pt_stop(&e);
}

/* --- determinism ------------------------------------------------------------------------------ */

/* One faulty run: a lost answer, a NOT_LEADER, a held answer released by the test, a throttle,
 * a truncated answer, on the virtual clock. Returns the journal as JSON lines (to free). */
static char *faulty_run(struct tally *t)
{
    struct pt_env e;
    if (!start(&e, 1, "det", 1))
        return NULL;
    struct mb_rule lose = rule("lose", KW_API_PRODUCE, MB_ACTION_LOSE_RESPONSE);
    lose.match.nth = 2;
    struct mb_rule nl = rule("nl", KW_API_PRODUCE, MB_ACTION_ERROR);
    nl.action.error_code = KW_EC_NOT_LEADER_OR_FOLLOWER;
    nl.match.nth = 5;
    struct mb_rule hold = rule("hold", KW_API_PRODUCE, MB_ACTION_HOLD);
    hold.match.nth = 8;
    hold.action.when = MB_AFTER_APPLY;
    struct mb_rule thr = rule("thr", KW_API_PRODUCE, MB_ACTION_THROTTLE);
    thr.match.nth = 10;
    thr.action.duration_ms = 300;
    struct mb_rule cut = rule("cut", KW_API_PRODUCE, MB_ACTION_TRUNCATE_RESPONSE);
    cut.match.nth = 12;
    cut.action.bytes = 6;
    CU_ASSERT_EQUAL(add(&e, &lose) + add(&e, &nl) + add(&e, &hold) + add(&e, &thr) +
                    add(&e, &cut), 0);
    char *out = NULL;
    if (producer(&e, true, (const char *[]){ "request.timeout.ms", "1000",
                                             "socket.timeout.ms", "1000", NULL }) != NULL) {
        send_range(&e, "det", 0, 10);
        CU_ASSERT(pt_run(&e, rule_holds, "hold", 10000));
        pt_advance(&e, 200);
        CU_ASSERT_EQUAL(mb_rule_release(e.c, "hold"), 1);
        send_range(&e, "det", 10, 16);
        CU_ASSERT(pt_until_drs(&e, 16, 20000));
        tally(&e, "det", 16, t);
        kp_producer_destroy(e.p);
        e.p = NULL;
        out = mb_journal_render(e.c, 0, MB_JOURNAL_JSONL);
    }
    pt_stop(&e);
    return out;
}

static void test_the_same_faults_twice_give_the_same_journal(void)
{
    struct tally t1, t2;
    char *a = faulty_run(&t1);
    char *b = faulty_run(&t2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    ASSERT_EXACTLY_ONCE(t1);
    /* Every fault fired in both runs, and the journals agree line for line. */
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"what\":\"lost\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"what\":\"truncated\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"rule\":\"thr\""));
    CU_ASSERT(strlen(a) > 1000);
    CU_ASSERT_STRING_EQUAL(a, b);
    if (strcmp(a, b) != 0 && getenv("KWT_PRODUCER_LOG"))
        fprintf(stderr, "--- first run\n%s--- second run\n%s", a, b);
    CU_ASSERT_EQUAL(memcmp(&t1, &t2, sizeof(t1)), 0);
    free(a);
    free(b);
}

#define BOTH_INFO(sentence, name)                                                              \
    { sentence " without idempotence", test_##name##_without_idempotence },                   \
    { sentence " with idempotence", test_##name##_with_idempotence }

CU_TestInfo kwt_producer_faults_tests[] = {
    BOTH_INFO("NOT_LEADER_OR_FOLLOWER refreshes metadata and the batch lands once",
              not_leader_refreshes_metadata_and_lands_once),
    BOTH_INFO("NOT_ENOUGH_REPLICAS is retried until the batch lands once",
              not_enough_replicas_is_retried_until_it_lands_once),
    BOTH_INFO("REQUEST_TIMED_OUT after apply is retried", request_timed_out_after_apply),
    BOTH_INFO("a leader move mid-stream keeps every message once, in order",
              leader_move_mid_stream),
    BOTH_INFO("the leader down with acks=all loses nothing acknowledged",
              leader_down_with_acks_all_loses_nothing_acknowledged),
    { "the leader down with acks=1 loses what only the leader had",
      test_leader_down_with_acks_1_loses_what_only_the_leader_had },
    BOTH_INFO("the only broker down then up delivers everything once", broker_down_then_up),
    BOTH_INFO("the leader down and back mid-stream keeps every message once",
              leader_bounce_mid_stream),
    { "a lost response with one in flight duplicates without idempotence",
      test_a_lost_response_with_one_in_flight_duplicates_without_idempotence },
    { "a lost response with five in flight duplicates without idempotence",
      test_a_lost_response_with_five_in_flight_duplicates_without_idempotence },
    { "a lost response with one in flight stores once with idempotence",
      test_a_lost_response_with_one_in_flight_stores_once_with_idempotence },
    { "a lost response with five in flight stores once with idempotence",
      test_a_lost_response_with_five_in_flight_stores_once_with_idempotence },
    { "a lost response without retries reports possibly persisted",
      test_a_lost_response_without_retries_reports_possibly_persisted },
    { "a held answer released in time with one in flight",
      test_a_held_answer_released_in_time_with_one_in_flight },
    { "a held answer released in time with five in flight",
      test_a_held_answer_released_in_time_with_five_in_flight },
    { "a held answer released in time with one in flight and idempotence",
      test_a_held_answer_released_in_time_with_one_in_flight_and_idempotence },
    { "a held answer released in time with five in flight and idempotence",
      test_a_held_answer_released_in_time_with_five_in_flight_and_idempotence },
    { "a held answer past the timeout with one in flight duplicates",
      test_a_held_answer_past_the_timeout_with_one_in_flight_duplicates },
    { "a held answer past the timeout with five in flight duplicates",
      test_a_held_answer_past_the_timeout_with_five_in_flight_duplicates },
    { "a held answer past the timeout with idempotence stores once",
      test_a_held_answer_past_the_timeout_with_idempotence_stores_once },
    { "a stale request released late is recognised with idempotence",
      test_a_stale_request_released_late_is_recognised_with_idempotence },
    BOTH_INFO("a stopped follower times acks=all out until it resumes",
              stopped_follower_times_out_acks_all),
    BOTH_INFO("throttled answers delay the next request and lose nothing", throttled_answers),
    BOTH_INFO("a throttle longer than the request timeout holds requests back",
              throttle_longer_than_the_request_timeout),
    BOTH_INFO("MESSAGE_TOO_LARGE fails that batch only", message_too_large),
    { "an unknown topic fails its messages without auto-creation",
      test_an_unknown_topic_fails_its_messages_without_auto_creation },
    { "a topic deleted mid-stream fails the rest", test_a_topic_deleted_mid_stream_fails_the_rest },
    { "UNKNOWN_PRODUCER_ID bumps the epoch without a duplicate",
      test_unknown_producer_id_bumps_the_epoch_without_a_duplicate },
    { "UNKNOWN_PRODUCER_ID with five in flight keeps the order",
      test_unknown_producer_id_with_five_in_flight_keeps_the_order },
    { "OUT_OF_ORDER_SEQUENCE fails that batch and bumps the epoch",
      test_out_of_order_sequence_fails_that_batch_and_bumps_the_epoch },
    { "OUT_OF_ORDER_SEQUENCE after a lost answer is fatal",
      test_out_of_order_after_a_lost_answer_is_fatal },
    BOTH_INFO("a truncated answer resets the connection and retries", truncated_answer),
    { "a corrupt size prefix resets the connection and retries",
      test_a_corrupt_size_prefix_resets_the_connection_and_retries },
    { "a corrupt correlation id times the request out",
      test_a_corrupt_correlation_id_times_the_request_out },
    BOTH_INFO("a corrupt answer body is retried", corrupt_body),
    { "answers split in pieces are read whole", test_answers_split_in_pieces_are_read_whole },
    { "the same faults twice give the same journal",
      test_the_same_faults_twice_give_the_same_journal },
    CU_TEST_INFO_NULL,
};
