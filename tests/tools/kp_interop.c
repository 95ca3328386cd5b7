/* Interop checks for libkproducer (tests/scripts/producer_interop.sh runs them).
 *
 *   kp_interop rdmock
 *       Starts librdkafka's own mock cluster (rdkafka_mock.h), produces into it with libkproducer
 *       (its ApiVersions fallback to v0, Metadata v0-v2, answers to acks=0 and injected errors
 *       and leader moves exercise us), reads every partition back with a librdkafka consumer and
 *       compares: every message once, in order per partition, at the offset its report gave.
 *       Then the transactional producer: committed and aborted transactions with consumer
 *       offsets, under injected coordinator errors and a coordinator move. That mock writes no
 *       transaction markers, so there it checks the calls and that committed messages arrived.
 *   kp_interop txn BOOTSTRAP TOPIC PARTITIONS
 *       Transactions against a broker that keeps markers (bin/mockbroker): a librdkafka consumer
 *       with isolation.level=read_committed must read exactly the committed messages, one with
 *       read_uncommitted the aborted ones too, and the group's offset of kp-interop-source [0]
 *       (a topic the broker must have: Kafka refuses offsets of unknown ones) must be the
 *       committed transaction's.
 *   kp_interop produce BOOTSTRAP TOPIC N [property=value ...]
 *       Produces N messages (key "k<i mod 7>", value "m<i>") and exits 0 if every report is a
 *       success; for a consumer such as kcat to check what arrived. */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "producer/kproducer.h"

#define MAX_PARTS 8

struct sent {
    int n, failed;
    int first_err;
    int32_t *part;              /* per message, from its report */
    int64_t *offset;
};

static void dr(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    struct sent *s = opaque;
    intptr_t i = (intptr_t)r->opaque;
    if (r->err) {
        if (s->failed++ == 0) {
            s->first_err = r->err;
            fprintf(stderr, "kp_interop: message %" PRIdPTR " failed: %s: %s\n", i,
                    kp_err2name(r->err), r->errstr);
        }
        return;
    }
    s->part[i] = r->partition;
    s->offset[i] = r->offset;
}

static struct kp_producer *producer(const char *bootstrap, const char *const *kv, struct sent *s)
{
    char err[512];
    struct kp_conf *c = kp_conf_new();
    if (kp_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err)) != KP_CONF_OK)
        goto bad;
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (kp_conf_set(c, kv[i], kv[i + 1], err, sizeof(err)) != KP_CONF_OK)
            goto bad;
    if (getenv("KP_INTEROP_DEBUG") &&
        kp_conf_set(c, "debug", getenv("KP_INTEROP_DEBUG"), err, sizeof(err)) != KP_CONF_OK)
        goto bad;
    kp_conf_set_dr_cb(c, dr);
    kp_conf_set_opaque(c, s);
    struct kp_producer *p = kp_producer_new(c, err, sizeof(err));
    kp_conf_destroy(c);
    if (p == NULL)
        fprintf(stderr, "kp_interop: kp_producer_new: %s\n", err);
    return p;
bad:
    fprintf(stderr, "kp_interop: %s\n", err);
    kp_conf_destroy(c);
    return NULL;
}

/* Produces n messages "m<i>" keyed "k<i mod 7>" (partition -1: by key) and flushes. Returns 0
 * if all were delivered. */
static int produce_all(struct kp_producer *p, struct sent *s, const char *topic, int n,
                       int32_t partition)
{
    for (int i = 0; i < n; i++) {
        char k[16], v[32];
        int kl = snprintf(k, sizeof(k), "k%d", i % 7);
        int vl = snprintf(v, sizeof(v), "m%d", i);
        int rc;
        while ((rc = kp_producer_produce(p, topic, partition, 0, k, (size_t)kl, v, (size_t)vl,
                                         NULL, 0, 0, (void *)(intptr_t)i)) == KP_ERR__QUEUE_FULL)
            kp_producer_poll(p, 10);
        if (rc) {
            fprintf(stderr, "kp_interop: produce: %s\n", kp_err2name(rc));
            return -1;
        }
    }
    if (kp_producer_flush(p, 60000) != 0) {
        fprintf(stderr, "kp_interop: flush timed out with %d messages left\n",
                kp_producer_outq_len(p));
        return -1;
    }
    return s->failed ? -1 : 0;
}

static struct sent *sent_new(int n)
{
    struct sent *s = calloc(1, sizeof(*s));
    s->part = calloc((size_t)n, sizeof(*s->part));
    s->offset = calloc((size_t)n, sizeof(*s->offset));
    for (int i = 0; i < n; i++)
        s->part[i] = -1;
    s->n = n;
    return s;
}

static void sent_free(struct sent *s)
{
    free(s->part);
    free(s->offset);
    free(s);
}

/* Reads topic's partitions from the beginning with a librdkafka consumer and checks that they
 * hold exactly the n messages of s, each at the offset its report gave (when known), each
 * partition in production order. */
static int verify(const char *bootstrap, const char *topic, int parts, struct sent *s,
                  bool offsets_known)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "kp-interop", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kp_interop: consumer: %s\n", err);
        return -1;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(list, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);

    int got = 0, bad = 0, last[MAX_PARTS];
    char *seen = calloc((size_t)s->n, 1);
    for (int i = 0; i < MAX_PARTS; i++)
        last[i] = -1;
    time_t until = time(NULL) + 30;
    while (got < s->n && time(NULL) < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (m == NULL)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "kp_interop: consume: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        char v[32] = "";
        snprintf(v, sizeof(v), "%.*s", (int)m->len, (const char *)m->payload);
        int i = v[0] == 'm' ? atoi(v + 1) : -1;
        int32_t part = m->partition;
        if (i < 0 || i >= s->n || part < 0 || part >= MAX_PARTS) {
            fprintf(stderr, "kp_interop: unexpected message \"%s\" in partition %d\n", v, part);
            bad++;
        } else if (seen[i]) {
            fprintf(stderr, "kp_interop: duplicate m%d at %s [%d] offset %" PRId64 "\n", i,
                    topic, part, m->offset);
            bad++;
        } else if (i <= last[part]) {
            fprintf(stderr, "kp_interop: m%d after m%d in partition %d\n", i, last[part], part);
            bad++;
        } else if (part != s->part[i] || (offsets_known && m->offset != s->offset[i])) {
            fprintf(stderr, "kp_interop: m%d at [%d] %" PRId64 ", reported [%d] %" PRId64 "\n",
                    i, part, m->offset, s->part[i], s->offset[i]);
            bad++;
        }
        if (i >= 0 && i < s->n) {
            seen[i] = 1;
            if (part >= 0 && part < MAX_PARTS)
                last[part] = i;
        }
        got++;
        rd_kafka_message_destroy(m);
    }
    /* Anything beyond the messages sent would be a duplicate too. */
    for (int spins = 0; spins < 5; spins++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m && !m->err) {
            fprintf(stderr, "kp_interop: extra message at [%d] %" PRId64 "\n", m->partition,
                    m->offset);
            bad++;
        }
        if (m)
            rd_kafka_message_destroy(m);
    }
    free(seen);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got < s->n)
        fprintf(stderr, "kp_interop: read %d of %d messages from %s\n", got, s->n, topic);
    return got == s->n && bad == 0 ? 0 : -1;
}

/* One check: produce n messages to a new topic with the given properties, verify them. */
static int check(rd_kafka_mock_cluster_t *mc, const char *name, const char *topic, int parts,
                 int n, const char *const *kv, bool offsets_known,
                 void (*during)(rd_kafka_mock_cluster_t *mc, const char *topic))
{
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    if (rd_kafka_mock_topic_create(mc, topic, parts, 3) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kp_interop: cannot create %s\n", topic);
        return -1;
    }
    struct sent *s = sent_new(n);
    struct kp_producer *p = producer(bootstrap, kv, s);
    int rc = p ? 0 : -1;
    if (rc == 0 && during) {
        /* Half, then the fault, then the rest. */
        rc = produce_all(p, s, topic, n / 2, -1);
        during(mc, topic);
        for (int i = n / 2; rc == 0 && i < n; i++) {
            char k[16], v[32];
            int kl = snprintf(k, sizeof(k), "k%d", i % 7);
            int vl = snprintf(v, sizeof(v), "m%d", i);
            while ((rc = kp_producer_produce(p, topic, KP_PARTITION_UA, 0, k, (size_t)kl, v,
                                             (size_t)vl, NULL, 0, 0, (void *)(intptr_t)i)) ==
                   KP_ERR__QUEUE_FULL)
                kp_producer_poll(p, 10);
        }
        if (rc == 0 && (kp_producer_flush(p, 60000) != 0 || s->failed))
            rc = -1;
    } else if (rc == 0) {
        rc = produce_all(p, s, topic, n, -1);
    }
    kp_producer_destroy(p);
    if (rc == 0)
        rc = verify(bootstrap, topic, parts, s, offsets_known);
    printf("%s %s: %d messages\n", rc == 0 ? "ok  " : "FAIL", name, n);
    fflush(stdout);
    sent_free(s);
    return rc;
}

static void move_leaders(rd_kafka_mock_cluster_t *mc, const char *topic)
{
    for (int part = 0; part < 3; part++)
        rd_kafka_mock_partition_set_leader(mc, topic, part, 1 + (part + 1) % 3);
}

static void push_errors(rd_kafka_mock_cluster_t *mc, const char *topic)
{
    (void)topic;
    rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 4,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
}

/* --- transactions ------------------------------------------------------------------------ */

#define TXN_GROUP "kp-interop-group"
#define TXN_SRC "kp-interop-source"

static bool txn_ok(const char *what, int rc, const struct kp_txn_error *e)
{
    if (rc == 0)
        return true;
    fprintf(stderr, "kp_interop: %s: %s%s%s%s: %s\n", what, kp_err2name(rc),
            e->retriable ? " (retriable)" : "", e->txn_requires_abort ? " (requires abort)" : "",
            e->fatal ? " (fatal)" : "", e->str);
    return false;
}

/* Produces messages first..first+n-1 ("m<i>" keyed "k<i mod 7>") into the open transaction. */
static bool txn_produce(struct kp_producer *p, const char *topic, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        char k[16], v[32];
        int kl = snprintf(k, sizeof(k), "k%d", i % 7);
        int vl = snprintf(v, sizeof(v), "m%d", i);
        int rc;
        while ((rc = kp_producer_produce(p, topic, KP_PARTITION_UA, 0, k, (size_t)kl, v,
                                         (size_t)vl, NULL, 0, 0, (void *)(intptr_t)i)) ==
               KP_ERR__QUEUE_FULL)
            kp_producer_poll(p, 10);
        if (rc) {
            fprintf(stderr, "kp_interop: produce m%d: %s\n", i, kp_err2name(rc));
            return false;
        }
    }
    return true;
}

static bool txn_offsets(struct kp_producer *p, int64_t offset)
{
    struct kp_txn_error e;
    struct kp_topic_partition_offset o = { TXN_SRC, 0, offset, "kp-interop" };
    return txn_ok("send_offsets_to_transaction",
                  kp_send_offsets_to_transaction(p, TXN_GROUP, &o, 1, 30000, &e), &e);
}

/* Three transactions: 0..c-1 committed (with the group's offset 42), c..c+a-1 aborted after
 * they were all delivered (with offset 99), c+a..2c+a-1 committed. during() runs before each
 * transaction (index 0, 1, 2). Returns 0 if every call succeeded. */
static int txn_run(const char *bootstrap, const char *topic, struct sent *s, int c, int a,
                   void (*during)(void *arg, int txn), void *arg)
{
    char id[128];
    snprintf(id, sizeof(id), "kp-interop-%s", topic);
    struct kp_producer *p = producer(bootstrap, (const char *[]){ "transactional.id", id,
                                                                  "linger.ms", "5", NULL }, s);
    if (p == NULL)
        return -1;
    struct kp_txn_error e;
    bool ok = true;
    if (during)
        during(arg, 0);
    ok = txn_ok("init_transactions", kp_init_transactions(p, 30000, &e), &e);
    ok = ok && txn_ok("begin_transaction", kp_begin_transaction(p, &e), &e);
    ok = ok && txn_produce(p, topic, 0, c) && txn_offsets(p, 42);
    ok = ok && txn_ok("commit_transaction", kp_commit_transaction(p, 30000, &e), &e);
    if (ok && during)
        during(arg, 1);
    ok = ok && txn_ok("begin_transaction", kp_begin_transaction(p, &e), &e);
    ok = ok && txn_produce(p, topic, c, a);
    /* Delivered, so the aborted records are in the log and read_committed must skip them. */
    ok = ok && kp_producer_flush(p, 30000) == 0 && txn_offsets(p, 99);
    ok = ok && txn_ok("abort_transaction", kp_abort_transaction(p, 30000, &e), &e);
    if (ok && during)
        during(arg, 2);
    ok = ok && txn_ok("begin_transaction", kp_begin_transaction(p, &e), &e);
    ok = ok && txn_produce(p, topic, c + a, c);
    ok = ok && txn_ok("commit_transaction", kp_commit_transaction(p, 30000, &e), &e);
    kp_producer_destroy(p);
    if (ok && s->failed) {
        fprintf(stderr, "kp_interop: %d messages failed\n", s->failed);
        ok = false;
    }
    return ok ? 0 : -1;
}

/* Reads topic from the beginning with isolation level iso and checks that it holds exactly the
 * messages i with want[i], each once, in production order per partition. */
static int verify_txn(const char *bootstrap, const char *topic, int parts, int n,
                      const bool *want, const char *iso)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "kp-interop-reader", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "isolation.level", iso, err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kp_interop: consumer: %s\n", err);
        return -1;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(list, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    int expected = 0, got = 0, bad = 0, eofs = 0, last[MAX_PARTS];
    for (int i = 0; i < n; i++)
        expected += want[i];
    for (int i = 0; i < MAX_PARTS; i++)
        last[i] = -1;
    char *seen = calloc((size_t)n, 1);
    time_t until = time(NULL) + 30;
    /* Until every partition reached its end (for read_committed: the last stable offset) with
     * all expected messages read. */
    while ((got < expected || eofs < parts) && time(NULL) < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (m->err) {
            fprintf(stderr, "kp_interop: consume: %s\n", rd_kafka_message_errstr(m));
        } else {
            eofs = 0;
            char v[32] = "";
            snprintf(v, sizeof(v), "%.*s", (int)m->len, (const char *)m->payload);
            int i = v[0] == 'm' ? atoi(v + 1) : -1;
            int32_t part = m->partition;
            if (i < 0 || i >= n || part < 0 || part >= MAX_PARTS || !want[i]) {
                fprintf(stderr, "kp_interop: %s read \"%s\" at [%d] %" PRId64 ": not "
                        "expected\n", iso, v, part, m->offset);
                bad++;
            } else if (seen[i]++) {
                fprintf(stderr, "kp_interop: %s read m%d twice\n", iso, i);
                bad++;
            } else if (i <= last[part]) {
                fprintf(stderr, "kp_interop: %s read m%d after m%d in partition %d\n", iso, i,
                        last[part], part);
                bad++;
            } else {
                last[part] = i;
                got++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    free(seen);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got < expected)
        fprintf(stderr, "kp_interop: %s read %d of %d expected messages\n", iso, got,
                expected);
    return got == expected && bad == 0 ? 0 : -1;
}

/* The group's committed offset of TXN_SRC [0], or -2 on failure. */
static int64_t group_offset(const char *bootstrap)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", TXN_GROUP, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        return -2;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, TXN_SRC, 0);
    int64_t off = -2;
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, list, 10000);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        off = list->elems[0].offset;
    else
        fprintf(stderr, "kp_interop: committed offsets of %s: %s\n", TXN_GROUP,
                rd_kafka_err2str(e ? e : list->elems[0].err));
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return off;
}

struct rdmock_faults {
    rd_kafka_mock_cluster_t *mc;
    const char *id;
};

/* Coordinator errors before each transaction, and the coordinator moved before the last. */
static void rdmock_txn_faults(void *arg, int txn)
{
    struct rdmock_faults *f = arg;
    rd_kafka_mock_cluster_t *mc = f->mc;
    switch (txn) {
    case 0:
        rd_kafka_mock_push_request_errors(mc, 22 /* InitProducerId */, 2,
                                          RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                          RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
        rd_kafka_mock_push_request_errors(mc, 24 /* AddPartitionsToTxn */, 2,
                                          RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS,
                                          RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
        rd_kafka_mock_push_request_errors(mc, 25 /* AddOffsetsToTxn */, 1,
                                          RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
        rd_kafka_mock_push_request_errors(mc, 28 /* TxnOffsetCommit */, 1,
                                          RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
        rd_kafka_mock_push_request_errors(mc, 26 /* EndTxn */, 2,
                                          RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                                          RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
        break;
    case 1:
        rd_kafka_mock_push_request_errors(mc, 26 /* EndTxn */, 1,
                                          RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
        break;
    case 2:
        rd_kafka_mock_coordinator_set(mc, "transaction", f->id, 3);
        break;
    }
}

static int rdmock_txn(rd_kafka_mock_cluster_t *mc)
{
    const char *topic = "t-txn", *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    const int c = 300, a = 200, n = 2 * c + a;
    if (rd_kafka_mock_topic_create(mc, topic, 3, 3) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_mock_topic_create(mc, TXN_SRC, 1, 3) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    rd_kafka_mock_coordinator_set(mc, "transaction", "kp-interop-t-txn", 2);
    struct rdmock_faults f = { mc, "kp-interop-t-txn" };
    struct sent *s = sent_new(n);
    int rc = txn_run(bootstrap, topic, s, c, a, rdmock_txn_faults, &f);
    /* Without markers a read_committed consumer reads the aborted records too: the check is
     * that the committed ones all arrived, once and in order, alongside them. */
    bool *want = calloc((size_t)n, sizeof(*want));
    for (int i = 0; i < n; i++)
        want[i] = true;
    if (rc == 0)
        rc = verify_txn(bootstrap, topic, 3, n, want, "read_committed");
    free(want);
    printf("%s transactions (commit, abort, offsets; coordinator errors and a move): %d "
           "messages in 3 transactions\n", rc == 0 ? "ok  " : "FAIL", n);
    fflush(stdout);
    sent_free(s);
    return rc;
}

static int txn_cmd(const char *bootstrap, const char *topic, int parts)
{
    const int c = 500, a = 300, n = 2 * c + a;
    struct sent *s = sent_new(n);
    int rc = txn_run(bootstrap, topic, s, c, a, NULL, NULL), failed = rc != 0;
    printf("%s transactions: 2 committed, 1 aborted\n", rc == 0 ? "ok  " : "FAIL");
    bool *want = calloc((size_t)n, sizeof(*want));
    for (int i = 0; i < n; i++)
        want[i] = i < c || i >= c + a;
    if (!failed) {
        rc = verify_txn(bootstrap, topic, parts, n, want, "read_committed");
        failed += rc != 0;
        printf("%s read_committed reads the %d committed messages, none of the %d aborted\n",
               rc == 0 ? "ok  " : "FAIL", 2 * c, a);
        for (int i = 0; i < n; i++)
            want[i] = true;
        rc = verify_txn(bootstrap, topic, parts, n, want, "read_uncommitted");
        failed += rc != 0;
        printf("%s read_uncommitted reads all %d\n", rc == 0 ? "ok  " : "FAIL", n);
        int64_t off = group_offset(bootstrap);
        failed += off != 42;
        printf("%s the group's offset is the committed transaction's (42): %" PRId64 "\n",
               off == 42 ? "ok  " : "FAIL", off);
    }
    fflush(stdout);
    free(want);
    sent_free(s);
    return failed ? 1 : 0;
}

static int rdmock(void)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kp_interop: rd_kafka_new: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 3);
    if (mc == NULL) {
        fprintf(stderr, "kp_interop: rd_kafka_mock_cluster_new failed\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    int failed = 0;
    failed += check(mc, "keyed, acks=all", "t-plain", 3, 3000, NULL, true, NULL) != 0;
    failed += check(mc, "acks=0 (the mock answers anyway)", "t-acks0", 3, 1000,
                    (const char *[]){ "acks", "0", NULL }, false, NULL) != 0;
    failed += check(mc, "acks=1, gzip", "t-gzip", 3, 2000,
                    (const char *[]){ "acks", "1", "compression.type", "gzip", NULL }, true,
                    NULL) != 0;
    failed += check(mc, "snappy", "t-snappy", 3, 2000,
                    (const char *[]){ "compression.type", "snappy", NULL }, true, NULL) != 0;
    failed += check(mc, "lz4", "t-lz4", 3, 2000,
                    (const char *[]){ "compression.type", "lz4", NULL }, true, NULL) != 0;
    failed += check(mc, "zstd", "t-zstd", 3, 2000,
                    (const char *[]){ "compression.type", "zstd", NULL }, true, NULL) != 0;
    failed += check(mc, "idempotent, leaders moved halfway", "t-idemp-move", 3, 4000,
                    (const char *[]){ "enable.idempotence", "true", "linger.ms", "1", NULL },
                    true, move_leaders) != 0;
    failed += check(mc, "idempotent, injected Produce errors", "t-idemp-err", 3, 4000,
                    (const char *[]){ "enable.idempotence", "true", "retry.backoff.ms", "10",
                                      NULL },
                    true, push_errors) != 0;
    failed += rdmock_txn(mc) != 0;
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}

static int produce_cmd(int argc, char **argv)
{
    const char *bootstrap = argv[2], *topic = argv[3];
    int n = atoi(argv[4]);
    const char *kv[64];
    int m = 0;
    for (int i = 5; i < argc && m < 62; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "kp_interop: expected property=value, got %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        kv[m++] = argv[i];
        kv[m++] = eq + 1;
    }
    kv[m] = NULL;
    struct sent *s = sent_new(n > 0 ? n : 1);
    struct kp_producer *p = producer(bootstrap, kv, s);
    int rc = p ? produce_all(p, s, topic, n, -1) : -1;
    kp_producer_destroy(p);
    sent_free(s);
    if (rc == 0)
        printf("delivered %d\n", n);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "rdmock") == 0)
        return rdmock();
    if (argc >= 5 && strcmp(argv[1], "produce") == 0)
        return produce_cmd(argc, argv);
    if (argc == 5 && strcmp(argv[1], "txn") == 0)
        return txn_cmd(argv[2], argv[3], atoi(argv[4]));
    fprintf(stderr, "usage: kp_interop rdmock\n"
                    "       kp_interop txn BOOTSTRAP TOPIC PARTITIONS\n"
                    "       kp_interop produce BOOTSTRAP TOPIC N [property=value ...]\n");
    return 2;
}
