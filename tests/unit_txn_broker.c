/* The transaction coordinator and transactional partitions over sockets: InitProducerId,
 * AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit sent by tests/kclient.c to a
 * caller-driven cluster on a virtual clock (transaction timeouts run out only when the test moves
 * time), with Produce, Fetch, ListOffsets and OffsetFetch to see what they did to the logs and
 * the group's offsets. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/proto/add_offsets_to_txn.h"
#include "lib/proto/add_partitions_to_txn.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/end_txn.h"
#include "lib/proto/fetch.h"
#include "lib/proto/header.h"
#include "lib/proto/find_coordinator.h"
#include "lib/proto/init_producer_id.h"
#include "lib/proto/join_group.h"
#include "lib/proto/list_offsets.h"
#include "lib/proto/offset_commit.h"
#include "lib/proto/offset_fetch.h"
#include "lib/proto/produce.h"
#include "lib/proto/txn_offset_commit.h"
#include "mockbroker/mockbroker.h"
#include "tests/kclient.h"

#define TOPIC "t"
#define GROUP "g"
#define TIMEOUT_MS 60000

/* A cluster driven from the test's loop on a virtual clock, topic t with two partitions. */
struct env {
    struct event_base *base;
    struct kw_vclock *v;
    struct mb_cluster *c;
};

static int env_start(struct env *e, int brokers, int replication)
{
    memset(e, 0, sizeof(*e));
    e->base = event_base_new();
    e->v = kw_vclock_new(1000000);
    if (e->base == NULL || e->v == NULL)
        return -1;
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = brokers;
    cfg.seed = 11;
    cfg.log_level = MB_LOG_ERROR;
    cfg.base = e->base;
    cfg.clock = kw_vclock_clock(e->v);
    char err[256] = "";
    if ((e->c = mb_cluster_new(&cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "mb_cluster_new: %s\n", err);
        return -1;
    }
    return mb_topic_create(e->c, TOPIC, 2, replication, err, sizeof(err)) == 0 ? 0 : -1;
}

static void env_stop(struct env *e)
{
    mb_cluster_destroy(e->c);
    if (e->v)
        kw_vclock_destroy(e->v);
    if (e->base)
        event_base_free(e->base);
}

static int conn(struct env *e, struct kc_conn *k, int broker)
{
    int rc = kc_connect(k, mb_broker_port(e->c, broker));
    k->pump = e->base;
    return rc;
}

/* --- requests --------------------------------------------------------------------------------- */

/* FindCoordinator v2 for a key of key_type: the broker id, or -(error code). */
static int find_coordinator(struct kc_conn *k, const char *key, int key_type)
{
    struct kw_find_coordinator_req req = { .key = kw_str_c(key), .key_type = (int8_t)key_type };
    struct kw_find_coordinator_resp resp;
    if (kc_call(k, KW_API_FIND_COORDINATOR, 2, &req, &resp) != KW_OK)
        return -1000;
    return resp.error_code ? -resp.error_code : resp.node_id;
}

struct producer {
    const char *txn;
    int64_t pid;
    int16_t epoch;
    int32_t seq[2];                 /* next sequence per partition */
};

/* InitProducerId at `version`: the error code; on success p gets the id and epoch and its
 * sequences restart. expect_pid/epoch: the v3+ fields (-1 when not bumping our own). */
static int16_t init(struct kc_conn *k, int version, struct producer *p, int32_t timeout_ms,
                    int64_t expect_pid, int16_t expect_epoch)
{
    struct kw_init_producer_id_req req = {
        .transactional_id = kw_str_c(p->txn), .transaction_timeout_ms = timeout_ms,
        .producer_id = expect_pid, .producer_epoch = expect_epoch,
    };
    struct kw_init_producer_id_resp resp;
    if (kc_call(k, KW_API_INIT_PRODUCER_ID, version, &req, &resp) != KW_OK)
        return -1;
    if (resp.error_code == 0) {
        p->pid = resp.producer_id;
        p->epoch = resp.producer_epoch;
        p->seq[0] = p->seq[1] = 0;
    }
    return resp.error_code;
}

/* AddPartitionsToTxn for partitions of `topic`: the error of the first partition, with every
 * partition's in errs (if not NULL). */
static int16_t add_partitions(struct kc_conn *k, int version, const struct producer *p,
                              const char *topic, const int32_t *parts, int n, int16_t *errs)
{
    struct kw_add_partitions_to_txn_topic t = {
        .name = kw_str_c(topic), .partitions = (int32_t *)parts, .n_partitions = n,
    };
    struct kw_add_partitions_to_txn_req req = {
        .transactional_id = kw_str_c(p->txn), .producer_id = p->pid,
        .producer_epoch = p->epoch, .topics = &t, .n_topics = 1,
    };
    struct kw_add_partitions_to_txn_resp resp;
    if (kc_call(k, KW_API_ADD_PARTITIONS_TO_TXN, version, &req, &resp) != KW_OK ||
        resp.n_results != 1 || resp.results[0].n_results != n)
        return -1;
    for (int i = 0; i < n && errs; i++)
        errs[i] = resp.results[0].results[i].partition_index == parts[i]
                      ? resp.results[0].results[i].partition_error_code : -1;
    return resp.results[0].results[0].partition_error_code;
}

static int16_t add_both(struct kc_conn *k, const struct producer *p)
{
    static const int32_t both[] = { 0, 1 };
    return add_partitions(k, 3, p, TOPIC, both, 2, NULL);
}

static int16_t add_one(struct kc_conn *k, int version, const struct producer *p, int32_t part)
{
    return add_partitions(k, version, p, TOPIC, &part, 1, NULL);
}

static int16_t add_offsets(struct kc_conn *k, int version, const struct producer *p,
                           const char *group)
{
    struct kw_add_offsets_to_txn_req req = {
        .transactional_id = kw_str_c(p->txn), .producer_id = p->pid,
        .producer_epoch = p->epoch, .group_id = kw_str_c(group),
    };
    struct kw_add_offsets_to_txn_resp resp;
    if (kc_call(k, KW_API_ADD_OFFSETS_TO_TXN, version, &req, &resp) != KW_OK)
        return -1;
    return resp.error_code;
}

static int16_t end_txn(struct kc_conn *k, int version, const struct producer *p, bool commit)
{
    struct kw_end_txn_req req = {
        .transactional_id = kw_str_c(p->txn), .producer_id = p->pid,
        .producer_epoch = p->epoch, .committed = commit,
    };
    struct kw_end_txn_resp resp;
    if (kc_call(k, KW_API_END_TXN, version, &req, &resp) != KW_OK)
        return -1;
    return resp.error_code;
}

/* A batch of n records labelled from `first` (keys k<first+i>), transactional or not. */
static void batch(struct kw_buf *out, int64_t pid, int16_t epoch, int32_t seq, int first, int n,
                  bool transactional)
{
    struct kw_batch_hdr proto = {
        .partition_leader_epoch = -1, .producer_id = pid, .producer_epoch = epoch,
        .base_sequence = seq, .attributes = transactional ? KW_BATCH_ATTR_TRANSACTIONAL : 0,
    };
    struct kw_batch_builder bb;
    kw_batch_builder_begin(&bb, out, &proto, KW_CODEC_NONE, 0);
    for (int i = 0; i < n; i++) {
        char key[16], value[16];
        int kl = snprintf(key, sizeof(key), "k%d", first + i);
        int vl = snprintf(value, sizeof(value), "v%d", first + i);
        kw_batch_builder_add(&bb, 1000 + first + i, (struct kw_bytes){ (uint8_t *)key, kl },
                             (struct kw_bytes){ (uint8_t *)value, vl }, NULL, 0);
    }
    kw_batch_builder_finish(&bb);
}

/* Produce v`version` of one batch to TOPIC-part: the partition's error, *offset its base. */
static int16_t produce_raw(struct kc_conn *k, int version, int acks, const char *txn,
                           int32_t part, const struct kw_buf *records, int64_t *offset)
{
    struct kw_produce_req_partition pp = {
        .index = part, .records = { records->data, (int32_t)records->len },
    };
    struct kw_produce_req_topic t = {
        .name = kw_str_c(TOPIC), .n_partition_data = 1, .partition_data = &pp,
    };
    struct kw_produce_req req = {
        .transactional_id = kw_str_c(txn), .acks = (int16_t)acks, .timeout_ms = 5000,
        .n_topic_data = 1, .topic_data = &t,
    };
    struct kw_produce_resp resp;
    if (kc_call(k, KW_API_PRODUCE, version, &req, &resp) != KW_OK ||
        resp.n_responses != 1 || resp.responses[0].n_partition_responses != 1)
        return -1;
    if (offset)
        *offset = resp.responses[0].partition_responses[0].base_offset;
    return resp.responses[0].partition_responses[0].error_code;
}

/* The producer's next n records (labelled from first) to partition part; its sequence moves on
 * when they are stored. */
static int16_t produce(struct kc_conn *k, struct producer *p, int32_t part, int first, int n,
                       bool transactional, int64_t *offset)
{
    struct kw_buf b;
    kw_buf_init(&b);
    batch(&b, p->pid, p->epoch, p->seq[part], first, n, transactional);
    int16_t ec = produce_raw(k, 9, -1, transactional ? p->txn : NULL, part, &b, offset);
    if (ec == 0)
        p->seq[part] += n;
    kw_buf_release(&b);
    return ec;
}

/* Plain (not idempotent) records. */
static int16_t produce_plain(struct kc_conn *k, int32_t part, int first, int n)
{
    struct kw_buf b;
    kw_buf_init(&b);
    batch(&b, -1, -1, -1, first, n, false);
    int16_t ec = produce_raw(k, 9, -1, NULL, part, &b, NULL);
    kw_buf_release(&b);
    return ec;
}

/* Fetch of TOPIC-part from offset at `version` with an isolation level; *out is the partition's
 * answer (borrowing from k). */
static int fetch(struct kc_conn *k, int version, int32_t part, int64_t offset, int isolation,
                 struct kw_fetch_resp_partition *out)
{
    struct kw_fetch_req_partition rp = {
        .partition = part, .current_leader_epoch = -1, .fetch_offset = offset,
        .last_fetched_epoch = -1, .log_start_offset = -1, .partition_max_bytes = 1 << 20,
    };
    struct kw_fetch_req_topic rt = { .topic = kw_str_c(TOPIC), .n_partitions = 1,
                                     .partitions = &rp };
    struct kw_fetch_req req = {
        .cluster_id = KW_STR_NULL, .replica_id = -1, .max_wait_ms = 0, .min_bytes = 0,
        .max_bytes = 1 << 20, .isolation_level = (int8_t)isolation, .session_epoch = -1,
        .n_topics = 1, .topics = &rt, .rack_id = kw_str_c(""),
    };
    struct kw_fetch_resp resp;
    int rc = kc_call(k, KW_API_FETCH, version, &req, &resp);
    if (rc != KW_OK)
        return rc;
    if (resp.n_responses != 1 || resp.responses[0].n_partitions != 1)
        return KW_ERR_CORRUPT;
    *out = resp.responses[0].partitions[0];
    return KW_OK;
}

/* Batches in fetched records: how many, and how many of them are markers. */
static int count_batches(const struct kw_fetch_resp_partition *fp, int *markers)
{
    const uint8_t *p = fp->records.ptr;
    size_t left = fp->records.len > 0 ? (size_t)fp->records.len : 0;
    int n = 0;
    *markers = 0;
    while (left > 0) {
        struct kw_batch_hdr h;
        int size = kw_batch_peek(p, left, &h);
        if (size <= 0 || h.magic != 2)
            break;
        n++;
        *markers += (h.attributes & KW_BATCH_ATTR_CONTROL) != 0;
        p += size;
        left -= (size_t)size;
    }
    return n;
}

/* ListOffsets `version` of TOPIC-part for timestamp ts (-1 latest): the offset, or -1. */
static int64_t list_offset(struct kc_conn *k, int version, int32_t part, int isolation,
                           int64_t ts)
{
    struct kw_list_offsets_req_partition rp = {
        .partition_index = part, .current_leader_epoch = -1, .timestamp = ts,
        .max_num_offsets = 1,
    };
    struct kw_list_offsets_req_topic rt = { .name = kw_str_c(TOPIC), .n_partitions = 1,
                                            .partitions = &rp };
    struct kw_list_offsets_req req = { .replica_id = -1, .isolation_level = (int8_t)isolation,
                                       .n_topics = 1, .topics = &rt };
    struct kw_list_offsets_resp resp;
    if (kc_call(k, KW_API_LIST_OFFSETS, version, &req, &resp) != KW_OK || resp.n_topics != 1 ||
        resp.topics[0].n_partitions != 1 || resp.topics[0].partitions[0].error_code)
        return -1;
    const struct kw_list_offsets_resp_partition *o = &resp.topics[0].partitions[0];
    if (version == 0)
        return o->n_old_style_offsets > 0 ? o->old_style_offsets[0] : -1;
    return o->offset;
}

/* TxnOffsetCommit `version` of one offset for TOPIC-part: the partition's error. */
static int16_t txn_commit(struct kc_conn *k, int version, const struct producer *p,
                          const char *group, int32_t generation, const char *member,
                          int32_t part, int64_t offset)
{
    struct kw_txn_offset_commit_req_partition pp = {
        .partition_index = part, .committed_offset = offset, .committed_leader_epoch = -1,
        .committed_metadata = kw_str_c("txn"),
    };
    struct kw_txn_offset_commit_req_topic t = { .name = kw_str_c(TOPIC), .partitions = &pp,
                                                .n_partitions = 1 };
    struct kw_txn_offset_commit_req req = {
        .transactional_id = kw_str_c(p->txn), .group_id = kw_str_c(group),
        .producer_id = p->pid, .producer_epoch = p->epoch, .generation_id = generation,
        .member_id = kw_str_c(member), .group_instance_id = KW_STR_NULL, .topics = &t,
        .n_topics = 1,
    };
    struct kw_txn_offset_commit_resp resp;
    if (kc_call(k, KW_API_TXN_OFFSET_COMMIT, version, &req, &resp) != KW_OK ||
        resp.n_topics != 1 || resp.topics[0].n_partitions != 1)
        return -1;
    return resp.topics[0].partitions[0].error_code;
}

/* OffsetFetch `version` of GROUP's TOPIC-part: the partition's error, *offset its offset. */
static int16_t offset_fetch(struct kc_conn *k, int version, int32_t part, bool require_stable,
                            int64_t *offset)
{
    struct kw_offset_fetch_req_topic t = { .name = kw_str_c(TOPIC), .partition_indexes = &part,
                                           .n_partition_indexes = 1 };
    struct kw_offset_fetch_req req = { .group_id = kw_str_c(GROUP), .topics = &t, .n_topics = 1,
                                       .require_stable = require_stable };
    struct kw_offset_fetch_resp resp;
    *offset = -2;
    if (kc_call(k, KW_API_OFFSET_FETCH, version, &req, &resp) != KW_OK || resp.n_topics != 1 ||
        resp.topics[0].n_partitions != 1)
        return -1;
    if (resp.error_code)
        return resp.error_code;
    *offset = resp.topics[0].partitions[0].committed_offset;
    return resp.topics[0].partitions[0].error_code;
}

/* --- inspection ------------------------------------------------------------------------------- */

static struct mb_partition_info info(struct env *e, int32_t part)
{
    struct mb_partition_info i;
    memset(&i, 0, sizeof(i));
    mb_partition_info(e->c, TOPIC, part, &i);
    return i;
}

static struct mb_txn_info txn_info(struct env *e, const char *txn)
{
    struct mb_txn_info i;
    memset(&i, 0xff, sizeof(i));
    mb_txn_info(e->c, txn, &i);
    return i;
}

/* The labels (k<label>) of the records a read_committed consumer sees in TOPIC-part, as a
 * string "0,1,2" (markers as "C"/"A" in the full view). */
static void labels(struct env *e, int32_t part, bool committed, char *out, size_t size)
{
    struct mb_records *r = committed ? mb_partition_records_committed(e->c, TOPIC, part, 0, 0)
                                     : mb_partition_records(e->c, TOPIC, part, 0, 0);
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; r && i < r->count && at + 16 < size; i++) {
        const struct mb_record *rec = &r->records[i];
        const char *sep = i ? "," : "";
        if (rec->control >= 0)
            at += (size_t)snprintf(out + at, size - at, "%s%s", sep, rec->control ? "C" : "A");
        else
            at += (size_t)snprintf(out + at, size - at, "%s%.*s", sep, rec->key_len - 1,
                                   (const char *)rec->key + 1);
    }
    mb_records_destroy(r);
}

/* Journal entries of a kind with `what` (NULL: any). */
static int journal_count(struct env *e, enum mb_journal_kind kind, const char *what)
{
    struct mb_journal_entry *j = calloc(4096, sizeof(*j));
    size_t n = j ? mb_journal_read(e->c, 0, j, 4096) : 0;
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += j[i].kind == kind && (what == NULL || (j[i].what && strcmp(j[i].what, what) == 0));
    free(j);
    return count;
}

/* A producer with an initialized transactional id on a one-broker cluster. */
static int ready(struct env *e, struct kc_conn *k, struct producer *p, const char *txn)
{
    memset(p, 0, sizeof(*p));
    p->txn = txn;
    if (env_start(e, 1, 1) != 0 || conn(e, k, 1) != 0)
        return -1;
    return init(k, 4, p, TIMEOUT_MS, -1, -1) == 0 ? 0 : -1;
}

/* --- the coordinator -------------------------------------------------------------------------- */

static void test_api_versions_advertises_the_four_transaction_apis_at_v0_to_v3(void)
{
    struct env e;
    struct kc_conn k;
    CU_ASSERT_FATAL(env_start(&e, 1, 1) == 0 && conn(&e, &k, 1) == 0);
    struct kw_api_versions_req req = { kw_str_c("kwtest"), kw_str_c("1.0") };
    struct kw_api_versions_resp resp;
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_API_VERSIONS, 3, &req, &resp), KW_OK);
    static const int keys[] = { KW_API_ADD_PARTITIONS_TO_TXN, KW_API_ADD_OFFSETS_TO_TXN,
                                KW_API_END_TXN, KW_API_TXN_OFFSET_COMMIT };
    for (int i = 0; i < 4; i++) {
        bool found = false;
        for (int32_t j = 0; j < resp.n_api_keys; j++)
            if (resp.api_keys[j].api_key == keys[i]) {
                found = true;
                CU_ASSERT(resp.api_keys[j].min_version == 0 && resp.api_keys[j].max_version == 3);
            }
        CU_ASSERT(found);
    }
    kc_close(&k);
    env_stop(&e);
}

static void test_find_coordinator_names_the_transaction_coordinator_which_moves_with_its_broker(
    void)
{
    struct env e;
    struct kc_conn k[3];
    CU_ASSERT_FATAL(env_start(&e, 3, 1) == 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_FATAL(conn(&e, &k[i], i + 1) == 0);
    int coord = find_coordinator(&k[0], "tx-a", 1);
    CU_ASSERT_FATAL(coord >= 1 && coord <= 3);
    CU_ASSERT_EQUAL(find_coordinator(&k[1], "tx-a", 1), coord);     /* any broker says so */
    CU_ASSERT_EQUAL(find_coordinator(&k[0], "tx-a", 2), -KW_EC_INVALID_REQUEST);
    int other = coord % 3 + 1;
    struct producer p = { .txn = "tx-a" };
    /* Anywhere but at the coordinator: NOT_COORDINATOR, and nothing is created. */
    CU_ASSERT_EQUAL(init(&k[other - 1], 4, &p, TIMEOUT_MS, -1, -1), KW_EC_NOT_COORDINATOR);
    CU_ASSERT_EQUAL(mb_txn_info(e.c, "tx-a", &(struct mb_txn_info){ 0 }),
                    KW_EC_TRANSACTIONAL_ID_NOT_FOUND);
    CU_ASSERT_EQUAL(init(&k[coord - 1], 4, &p, TIMEOUT_MS, -1, -1), 0);
    CU_ASSERT_EQUAL(add_both(&k[other - 1], &p), KW_EC_NOT_COORDINATOR);
    CU_ASSERT_EQUAL(add_offsets(&k[other - 1], 3, &p, GROUP), KW_EC_NOT_COORDINATOR);
    CU_ASSERT_EQUAL(end_txn(&k[other - 1], 3, &p, true), KW_EC_NOT_COORDINATOR);
    struct mb_txn_info ti = txn_info(&e, "tx-a");
    CU_ASSERT(ti.coordinator == coord && ti.state == MB_TXN_EMPTY && ti.producer_id == p.pid &&
              ti.producer_epoch == 0 && ti.timeout_ms == TIMEOUT_MS);
    /* Its broker goes: another coordinates, knowing the state. */
    CU_ASSERT_EQUAL(mb_broker_down(e.c, coord, NULL, 0), 0);
    int next = find_coordinator(&k[other - 1], "tx-a", 1);
    CU_ASSERT(next >= 1 && next != coord);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-a").coordinator, next);
    if (next >= 1 && next != coord) {
        CU_ASSERT_EQUAL(add_offsets(&k[next - 1], 3, &p, GROUP), 0);
        CU_ASSERT_EQUAL(end_txn(&k[next - 1], 3, &p, false), 0);
        CU_ASSERT_EQUAL(txn_info(&e, "tx-a").state, MB_TXN_COMPLETE_ABORT);
    }
    for (int i = 0; i < 3; i++)
        kc_close(&k[i]);
    env_stop(&e);
}

/* --- commit, abort, the last stable offset ---------------------------------------------------- */

static void test_a_committed_transaction_writes_markers_and_read_committed_then_sees_it(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-commit") == 0);
    CU_ASSERT_EQUAL(add_both(&k, &p), 0);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-commit").state, MB_TXN_ONGOING);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-commit").n_partitions, 2);
    int64_t off = -1;
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 3, true, &off), 0);
    CU_ASSERT_EQUAL(off, 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 3, 2, true, &off), 0);
    CU_ASSERT_EQUAL(off, 3);
    CU_ASSERT_EQUAL(produce(&k, &p, 1, 10, 1, true, NULL), 0);
    /* Open: stored and replicated, but not stable. */
    struct mb_partition_info i0 = info(&e, 0);
    CU_ASSERT(i0.high_watermark == 5 && i0.last_stable_offset == 0);
    struct kw_fetch_resp_partition fp;
    int markers;
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 0, 1, &fp), KW_OK);
    CU_ASSERT(fp.error_code == 0 && fp.high_watermark == 5 && fp.last_stable_offset == 0);
    CU_ASSERT_EQUAL(count_batches(&fp, &markers), 0);
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 0, 0, &fp), KW_OK);
    CU_ASSERT(fp.last_stable_offset == 0 && count_batches(&fp, &markers) == 2);
    char got[256];
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "");

    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    struct mb_txn_info ti = txn_info(&e, "tx-commit");
    CU_ASSERT(ti.state == MB_TXN_COMPLETE_COMMIT && ti.n_partitions == 2);
    labels(&e, 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,2,3,4,C");
    labels(&e, 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "10,C");
    i0 = info(&e, 0);
    CU_ASSERT(i0.high_watermark == 6 && i0.last_stable_offset == 6 && i0.log_end_offset == 6);
    struct mb_records *r = mb_partition_records(e.c, TOPIC, 0, 5, 0);
    CU_ASSERT_FATAL(r != NULL && r->count == 1);
    CU_ASSERT(r->records[0].control == 1 && r->records[0].transactional &&
              r->records[0].producer_id == p.pid && r->records[0].producer_epoch == p.epoch &&
              r->records[0].sequence == -1);
    /* The marker's record as Kafka writes it: key version 0 + type, value version 0 + the
     * coordinator epoch. */
    CU_ASSERT(r->records[0].key_len == 4 && memcmp(r->records[0].key, "\0\0\0\1", 4) == 0);
    CU_ASSERT(r->records[0].value_len == 6 && memcmp(r->records[0].value, "\0\0\0\0\0\0", 6) == 0);
    mb_records_destroy(r);
    r = mb_partition_records(e.c, TOPIC, 0, 0, 1);
    CU_ASSERT(r && r->count == 1 && r->records[0].control == -1 && r->records[0].transactional);
    mb_records_destroy(r);

    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 0, 1, &fp), KW_OK);
    CU_ASSERT(fp.last_stable_offset == 6 && fp.n_aborted_transactions == 0);
    CU_ASSERT(count_batches(&fp, &markers) == 3 && markers == 1);    /* v4+ get the marker */
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,2,3,4");
    labels(&e, 1, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "10");
    /* The journal tells the story. */
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_TXN, "Ongoing"), 1);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_TXN, "PrepareCommit"), 1);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_TXN, "CompleteCommit"), 1);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_MARKER, "commit"), 2);
    kc_close(&k);
    env_stop(&e);
}

static void test_an_aborted_transaction_is_listed_to_read_committed_and_hidden_from_its_view(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-abort") == 0);
    CU_ASSERT_EQUAL(produce_plain(&k, 0, 0, 2), 0);                      /* offsets 0-1 */
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 2, 3, true, NULL), 0);            /* 2-4 */
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), 0);                       /* marker at 5 */
    CU_ASSERT_EQUAL(txn_info(&e, "tx-abort").state, MB_TXN_COMPLETE_ABORT);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 6, 2, true, NULL), 0);            /* 6-7 */
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);                        /* marker at 8 */
    char got[256];
    labels(&e, 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,2,3,4,A,6,7,C");
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,6,7");
    struct mb_partition_info i0 = info(&e, 0);
    CU_ASSERT(i0.last_stable_offset == 9 && i0.aborted_transactions == 1);

    struct kw_fetch_resp_partition fp;
    int markers;
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 0, 1, &fp), KW_OK);
    CU_ASSERT_EQUAL_FATAL(fp.n_aborted_transactions, 1);
    CU_ASSERT(fp.aborted_transactions[0].producer_id == p.pid &&
              fp.aborted_transactions[0].first_offset == 2);
    CU_ASSERT(count_batches(&fp, &markers) == 5 && markers == 2);
    /* From past the abort marker nothing overlaps it. */
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 6, 1, &fp), KW_OK);
    CU_ASSERT(fp.n_aborted_transactions == 0 && count_batches(&fp, &markers) == 2);
    /* read_uncommitted readers are told nothing (as now: an empty list). */
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 0, 0, &fp), KW_OK);
    CU_ASSERT(fp.n_aborted_transactions <= 0);
    /* Fetch v4, the first that knows transactions, too. */
    CU_ASSERT_EQUAL(fetch(&k, 4, 0, 0, 1, &fp), KW_OK);
    CU_ASSERT(fp.n_aborted_transactions == 1 && fp.last_stable_offset == 9);
    kc_close(&k);
    env_stop(&e);
}

static void test_an_open_transaction_holds_the_lso_and_later_plain_data_back_from_read_committed(
    void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-lso") == 0);
    CU_ASSERT_EQUAL(produce_plain(&k, 0, 0, 2), 0);                      /* 0-1 */
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 2, 2, true, NULL), 0);            /* 2-3, open */
    CU_ASSERT_EQUAL(produce_plain(&k, 0, 4, 3), 0);                      /* 4-6 */
    struct mb_partition_info i0 = info(&e, 0);
    CU_ASSERT(i0.high_watermark == 7 && i0.last_stable_offset == 2);
    struct kw_fetch_resp_partition fp;
    int markers;
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 0, 1, &fp), KW_OK);
    CU_ASSERT(fp.high_watermark == 7 && fp.last_stable_offset == 2);
    CU_ASSERT_EQUAL(count_batches(&fp, &markers), 1);                    /* only 0-1 */
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 2, 1, &fp), KW_OK);
    CU_ASSERT(fp.error_code == 0 && count_batches(&fp, &markers) == 0);
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, 2, 0, &fp), KW_OK);
    CU_ASSERT_EQUAL(count_batches(&fp, &markers), 2);
    char got[256];
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1");
    /* ListOffsets: read_committed's latest is the LSO (v2+), everyone else's the HW. */
    for (int v = 2; v <= 7; v++) {
        CU_ASSERT_EQUAL(list_offset(&k, v, 0, 1, -1), 2);
        CU_ASSERT_EQUAL(list_offset(&k, v, 0, 0, -1), 7);
    }
    CU_ASSERT_EQUAL(list_offset(&k, 0, 0, 1, -1), 7);
    CU_ASSERT_EQUAL(list_offset(&k, 1, 0, 1, -1), 7);
    /* By timestamp, read_committed finds nothing past the LSO (record k5 has time 1005). */
    CU_ASSERT_EQUAL(list_offset(&k, 4, 0, 0, 1005), 5);
    CU_ASSERT_EQUAL(list_offset(&k, 4, 0, 1, 1005), -1);

    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);                        /* marker at 7 */
    i0 = info(&e, 0);
    CU_ASSERT(i0.high_watermark == 8 && i0.last_stable_offset == 8);
    CU_ASSERT_EQUAL(list_offset(&k, 5, 0, 1, -1), 8);
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,2,3,4,5,6");
    kc_close(&k);
    env_stop(&e);
}

static bool fetches_seen(struct mb_cluster *c, void *arg)
{
    return mb_request_count(c, -1, KW_API_FETCH) >= *(uint64_t *)arg;
}

static void test_a_read_committed_long_poll_waits_for_the_commit_not_the_data(void)
{
    struct env e;
    struct kc_conn k, reader;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-poll") == 0);
    CU_ASSERT_FATAL(conn(&e, &reader, 1) == 0);
    struct kw_fetch_req_partition rp = {
        .partition = 0, .current_leader_epoch = -1, .fetch_offset = 0, .last_fetched_epoch = -1,
        .log_start_offset = -1, .partition_max_bytes = 1 << 20,
    };
    struct kw_fetch_req_topic rt = { .topic = kw_str_c(TOPIC), .n_partitions = 1,
                                     .partitions = &rp };
    struct kw_fetch_req req = {
        .cluster_id = KW_STR_NULL, .replica_id = -1, .max_wait_ms = 30000, .min_bytes = 1,
        .max_bytes = 1 << 20, .isolation_level = 1, .session_epoch = -1, .n_topics = 1,
        .topics = &rt, .rack_id = kw_str_c(""),
    };
    int32_t id = kc_send(&reader, KW_API_FETCH, 11, &req);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(mb_wait_until(e.c, fetches_seen, &one, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 3, true, NULL), 0);
    CU_ASSERT(!kc_readable(&reader));       /* data, but nothing a read_committed reader sees */
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    struct kw_fetch_resp resp;
    CU_ASSERT_EQUAL(kc_recv(&reader, KW_API_FETCH, 11, id, &resp, KC_WAIT_MS), KW_OK);
    if (resp.n_responses == 1 && resp.responses[0].n_partitions == 1) {
        int markers;
        CU_ASSERT_EQUAL(resp.responses[0].partitions[0].last_stable_offset, 4);
        CU_ASSERT_EQUAL(count_batches(&resp.responses[0].partitions[0], &markers), 2);
    } else {
        CU_FAIL("no answer to the long poll");
    }
    kc_close(&reader);
    kc_close(&k);
    env_stop(&e);
}

/* --- fencing ---------------------------------------------------------------------------------- */

static void test_fencing_is_producer_fenced_from_the_versions_that_know_it_and_epoch_errors_before(
    void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-fence") == 0);
    struct producer old = p;
    struct producer now = p;
    CU_ASSERT_EQUAL(init(&k, 4, &now, TIMEOUT_MS, -1, -1), 0);
    CU_ASSERT(now.pid == old.pid && now.epoch == old.epoch + 1);
    CU_ASSERT_EQUAL(add_one(&k, 0, &old, 0), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(add_one(&k, 1, &old, 0), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(add_one(&k, 2, &old, 0), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(add_one(&k, 3, &old, 0), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(add_offsets(&k, 1, &old, GROUP), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(add_offsets(&k, 2, &old, GROUP), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(add_one(&k, 3, &now, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &now, 0, 0, 1, true, NULL), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 0, &old, true), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(end_txn(&k, 1, &old, true), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(end_txn(&k, 2, &old, true), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &old, true), KW_EC_PRODUCER_FENCED);
    /* Produce with the old epoch: INVALID_PRODUCER_EPOCH at every version. */
    struct kw_buf b;
    kw_buf_init(&b);
    batch(&b, old.pid, old.epoch, 0, 50, 1, true);
    CU_ASSERT_EQUAL(produce_raw(&k, 3, -1, old.txn, 0, &b, NULL), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(produce_raw(&k, 9, -1, old.txn, 0, &b, NULL), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(produce_raw(&k, 11, 1, old.txn, 0, &b, NULL), KW_EC_INVALID_PRODUCER_EPOCH);
    kw_buf_release(&b);
    /* A stale InitProducerId bump (KIP-360, v3+). */
    struct producer stale = old;
    CU_ASSERT_EQUAL(init(&k, 3, &stale, TIMEOUT_MS, old.pid, old.epoch),
                    KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(init(&k, 4, &stale, TIMEOUT_MS, old.pid, old.epoch), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-fence").state, MB_TXN_ONGOING);  /* none of that hurt */
    /* Unknown producer ids and transactional ids. */
    struct producer wrong = now;
    wrong.pid = now.pid + 100;
    CU_ASSERT_EQUAL(add_one(&k, 3, &wrong, 0), KW_EC_INVALID_PRODUCER_ID_MAPPING);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &wrong, true), KW_EC_INVALID_PRODUCER_ID_MAPPING);
    wrong = now;
    wrong.txn = "nobody";
    CU_ASSERT_EQUAL(add_one(&k, 3, &wrong, 0), KW_EC_INVALID_PRODUCER_ID_MAPPING);
    CU_ASSERT_EQUAL(add_offsets(&k, 3, &wrong, GROUP), KW_EC_INVALID_PRODUCER_ID_MAPPING);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &wrong, true), KW_EC_INVALID_PRODUCER_ID_MAPPING);
    wrong.txn = "";
    CU_ASSERT_EQUAL(end_txn(&k, 3, &wrong, true), KW_EC_INVALID_REQUEST);
    CU_ASSERT_EQUAL(init(&k, 4, &wrong, TIMEOUT_MS, -1, -1), KW_EC_INVALID_REQUEST);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &now, true), 0);
    char got[64];
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0");
    kc_close(&k);
    env_stop(&e);
}

static void test_batches_outside_the_open_transaction_are_invalid_txn_state(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-state") == 0);
    /* Before any AddPartitionsToTxn, then into a partition not added (KIP-890). */
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 1, true, NULL), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 1, 0, 1, true, NULL), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 2, true, NULL), 0);
    /* A plain batch from the producer into its open transaction's partition. */
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 2, 1, false, NULL), KW_EC_INVALID_TXN_STATE);
    /* Elsewhere it is only idempotent, as Kafka lets it be. */
    CU_ASSERT_EQUAL(produce(&k, &p, 1, 5, 1, false, NULL), 0);
    /* A transactional batch needs a producer id, and the id of its transactional id. */
    struct kw_buf b;
    kw_buf_init(&b);
    batch(&b, -1, -1, -1, 9, 1, true);
    CU_ASSERT_EQUAL(produce_raw(&k, 9, -1, p.txn, 0, &b, NULL), KW_EC_INVALID_RECORD);
    kw_buf_reset(&b);
    batch(&b, p.pid + 1, 0, 0, 9, 1, true);
    CU_ASSERT_EQUAL(produce_raw(&k, 9, -1, p.txn, 0, &b, NULL),
                    KW_EC_INVALID_PRODUCER_ID_MAPPING);
    kw_buf_release(&b);
    CU_ASSERT_EQUAL(info(&e, 0).log_end_offset, 2);
    CU_ASSERT_EQUAL(info(&e, 1).log_end_offset, 1);
    /* After the commit the partition is no longer in a transaction. */
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 2, 1, true, NULL), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 2, 1, false, NULL), 0);
    /* AddPartitionsToTxn naming a partition that does not exist adds nothing. */
    static const int32_t parts[] = { 1, 7 };
    int16_t errs[2];
    CU_ASSERT_EQUAL(add_partitions(&k, 3, &p, TOPIC, parts, 2, errs),
                    KW_EC_OPERATION_NOT_ATTEMPTED);
    CU_ASSERT(errs[0] == KW_EC_OPERATION_NOT_ATTEMPTED &&
              errs[1] == KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(add_partitions(&k, 3, &p, "nope", parts, 1, errs),
                    KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-state").state, MB_TXN_COMPLETE_COMMIT);
    kc_close(&k);
    env_stop(&e);
}

static void test_a_transaction_open_past_its_timeout_is_aborted_and_its_producer_fenced(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p = { .txn = "tx-slow" };
    CU_ASSERT_FATAL(env_start(&e, 1, 1) == 0 && conn(&e, &k, 1) == 0);
    CU_ASSERT_EQUAL(init(&k, 4, &p, 10000, -1, -1), 0);
    /* The clock runs while nothing is open: no timeout. */
    kw_vclock_advance(e.v, 20000 * 1000LL);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-slow").state, MB_TXN_EMPTY);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(add_offsets(&k, 3, &p, GROUP), 0);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, -1, "", 0, 42), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 2, true, NULL), 0);
    kw_vclock_advance(e.v, 9999 * 1000LL);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-slow").state, MB_TXN_ONGOING);
    kw_vclock_advance(e.v, 1000);
    struct mb_txn_info ti = txn_info(&e, "tx-slow");
    CU_ASSERT(ti.state == MB_TXN_COMPLETE_ABORT && ti.producer_epoch == p.epoch + 1);
    char got[64];
    labels(&e, 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,A");
    struct mb_records *r = mb_partition_records(e.c, TOPIC, 0, 2, 0);
    CU_ASSERT(r && r->count == 1 && r->records[0].producer_epoch == p.epoch + 1);
    mb_records_destroy(r);
    CU_ASSERT(info(&e, 0).last_stable_offset == 3 && info(&e, 0).aborted_transactions == 1);
    int64_t off;
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 0, true, &off), 0);
    CU_ASSERT_EQUAL(off, -1);                               /* dropped with the abort */
    /* The coordinator did it by itself: no request behind its lines. */
    struct mb_journal_entry j[512];
    size_t n = mb_journal_read(e.c, 0, j, 512);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (j[i].kind == MB_JOURNAL_TXN && j[i].what && strcmp(j[i].what, "PrepareAbort") == 0)
            found = j[i].request == 0 && j[i].producer_epoch == p.epoch + 1 &&
                    j[i].transactional_id && strcmp(j[i].transactional_id, "tx-slow") == 0;
    CU_ASSERT(found);
    /* The old producer is fenced everywhere. */
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 2, 1, true, NULL), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(produce(&k, &p, 1, 2, 1, true, NULL), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(end_txn(&k, 1, &p, true), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 1), KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, -1, "", 0, 43), KW_EC_INVALID_PRODUCER_EPOCH);
    /* A new producer takes over; a transaction it commits in time stays committed. */
    struct producer next = { .txn = "tx-slow" };
    CU_ASSERT_EQUAL(init(&k, 4, &next, 10000, -1, -1), 0);
    CU_ASSERT_EQUAL(next.epoch, p.epoch + 2);
    CU_ASSERT_EQUAL(add_one(&k, 3, &next, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &next, 0, 5, 1, true, NULL), 0);
    kw_vclock_advance(e.v, 5000 * 1000LL);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &next, true), 0);
    kw_vclock_advance(e.v, 60000 * 1000LL);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-slow").state, MB_TXN_COMPLETE_COMMIT);
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "5");
    kc_close(&k);
    env_stop(&e);
}

static void test_end_txn_retried_succeeds_and_the_other_outcome_or_nothing_added_is_refused(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-retry") == 0);
    /* Nothing added since InitProducerId: Kafka's Empty state refuses (clients skip EndTxn). */
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 1), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 1, 0, 1, true, NULL), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);           /* the retry: answered again */
    CU_ASSERT_EQUAL(end_txn(&k, 0, &p, true), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_MARKER, NULL), 1);   /* written once */
    /* A transaction with a partition and no data still gets its marker, as in Kafka. */
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), KW_EC_INVALID_TXN_STATE);
    char got[64];
    labels(&e, 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "A");
    CU_ASSERT_EQUAL(info(&e, 0).aborted_transactions, 0);   /* no data: nothing to hide */
    CU_ASSERT_EQUAL(info(&e, 0).last_stable_offset, 1);
    kc_close(&k);
    env_stop(&e);
}

static void test_init_producer_id_with_a_transaction_open_aborts_it_and_asks_for_a_retry(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-reinit") == 0);
    CU_ASSERT_EQUAL(add_both(&k, &p), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 2, true, NULL), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 1, 10, 1, true, NULL), 0);
    struct producer next = { .txn = "tx-reinit" };
    CU_ASSERT_EQUAL(init(&k, 4, &next, 30000, -1, -1), KW_EC_CONCURRENT_TRANSACTIONS);
    struct mb_txn_info ti = txn_info(&e, "tx-reinit");
    CU_ASSERT(ti.state == MB_TXN_COMPLETE_ABORT && ti.producer_epoch == p.epoch + 1 &&
              ti.timeout_ms == TIMEOUT_MS);
    char got[64];
    labels(&e, 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,A");
    labels(&e, 1, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "10,A");
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "");
    /* The retry: the epoch that fenced is never handed out. */
    CU_ASSERT_EQUAL(init(&k, 4, &next, 30000, -1, -1), 0);
    CU_ASSERT(next.pid == p.pid && next.epoch == p.epoch + 2);
    ti = txn_info(&e, "tx-reinit");
    CU_ASSERT(ti.state == MB_TXN_EMPTY && ti.timeout_ms == 30000 && ti.n_partitions == 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 2, 1, true, NULL), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(add_one(&k, 3, &next, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &next, 0, 3, 1, true, NULL), 0);    /* sequence 0, new epoch */
    CU_ASSERT_EQUAL(end_txn(&k, 3, &next, true), 0);
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "3");
    kc_close(&k);
    env_stop(&e);
}

/* --- offsets ---------------------------------------------------------------------------------- */

static void test_txn_offsets_stay_pending_until_commit_are_dropped_on_abort_and_read_unstable(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-offsets") == 0);
    struct kw_offset_commit_req_partition cp = { .partition_index = 0, .committed_offset = 5,
                                                 .committed_leader_epoch = -1,
                                                 .commit_timestamp = -1,
                                                 .committed_metadata = kw_str_c("") };
    struct kw_offset_commit_req_topic ct = { .name = kw_str_c(TOPIC), .partitions = &cp,
                                             .n_partitions = 1 };
    struct kw_offset_commit_req oc = { .group_id = kw_str_c(GROUP),
                                       .generation_id_or_member_epoch = -1,
                                       .member_id = kw_str_c(""),
                                       .group_instance_id = KW_STR_NULL,
                                       .retention_time_ms = -1, .topics = &ct, .n_topics = 1 };
    struct kw_offset_commit_resp ocr;
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_OFFSET_COMMIT, 8, &oc, &ocr), KW_OK);
    /* Not added to the transaction yet. */
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, -1, "", 0, 10), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(add_offsets(&k, 3, &p, GROUP), 0);
    CU_ASSERT_EQUAL(txn_info(&e, "tx-offsets").state, MB_TXN_ONGOING);
    for (int v = 0; v <= 3; v++)
        CU_ASSERT_EQUAL(txn_commit(&k, v, &p, GROUP, -1, "", 0, 10), 0);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, -1, "", 9, 10),
                    KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    struct producer other = p;
    other.txn = "tx-unknown";
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &other, GROUP, -1, "", 0, 11),
                    KW_EC_INVALID_PRODUCER_ID_MAPPING);
    other = p;
    other.epoch = (int16_t)(p.epoch - 1);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &other, GROUP, -1, "", 0, 11),
                    KW_EC_INVALID_PRODUCER_EPOCH);
    /* Pending: RequireStable (v7) waits, everyone else reads the last committed offset. */
    int64_t off;
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 0, true, &off), KW_EC_UNSTABLE_OFFSET_COMMIT);
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 0, false, &off), 0);
    CU_ASSERT_EQUAL(off, 5);
    CU_ASSERT_EQUAL(offset_fetch(&k, 6, 0, true, &off), 0);     /* v6 has no RequireStable */
    CU_ASSERT_EQUAL(off, 5);
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 1, true, &off), 0);     /* another partition */
    CU_ASSERT_EQUAL(off, -1);
    /* Every offset of the group (null topics), the same. */
    struct kw_offset_fetch_req all = { .group_id = kw_str_c(GROUP), .topics = NULL,
                                       .n_topics = -1, .require_stable = true };
    struct kw_offset_fetch_resp allr;
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_OFFSET_FETCH, 7, &all, &allr), KW_OK);
    CU_ASSERT(allr.n_topics == 1 && allr.topics[0].n_partitions == 1 &&
              allr.topics[0].partitions[0].error_code == KW_EC_UNSTABLE_OFFSET_COMMIT);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 0, true, &off), 0);
    CU_ASSERT_EQUAL(off, 10);
    /* The next transaction aborts: its offset never shows. */
    CU_ASSERT_EQUAL(add_offsets(&k, 3, &p, GROUP), 0);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, -1, "", 0, 20), 0);
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 0, true, &off), KW_EC_UNSTABLE_OFFSET_COMMIT);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), 0);
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 0, true, &off), 0);
    CU_ASSERT_EQUAL(off, 10);
    kc_close(&k);
    env_stop(&e);
}

static void test_txn_offset_commit_v3_from_a_member_checks_its_generation_and_id(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-member") == 0);
    struct kw_join_group_req_protocol proto = { .name = { "range", 5 },
                                                .metadata = { (const uint8_t *)"\x00", 1 } };
    struct kw_join_group_req jr = {
        .group_id = kw_str_c(GROUP), .session_timeout_ms = 30000, .rebalance_timeout_ms = 30000,
        .member_id = kw_str_c(""), .group_instance_id = KW_STR_NULL,
        .protocol_type = kw_str_c("consumer"), .protocols = &proto, .n_protocols = 1,
    };
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_JOIN_GROUP, 3, &jr, &j), KW_OK);
    CU_ASSERT_EQUAL_FATAL(j.error_code, 0);
    char member[128];
    kw_str_copy(j.member_id, member, sizeof(member));
    CU_ASSERT_EQUAL(add_offsets(&k, 3, &p, GROUP), 0);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, j.generation_id + 1, member, 0, 7),
                    KW_EC_ILLEGAL_GENERATION);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, j.generation_id, "someone-else", 0, 7),
                    KW_EC_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(txn_commit(&k, 3, &p, GROUP, j.generation_id, member, 0, 7), 0);
    /* Before v3 nobody names a member: the producer commits for the group. */
    CU_ASSERT_EQUAL(txn_commit(&k, 2, &p, GROUP, -1, "", 1, 8), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    int64_t off;
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 0, true, &off), 0);
    CU_ASSERT_EQUAL(off, 7);
    CU_ASSERT_EQUAL(offset_fetch(&k, 7, 1, true, &off), 0);
    CU_ASSERT_EQUAL(off, 8);
    kc_close(&k);
    env_stop(&e);
}

/* --- markers, readers, retention, replication ------------------------------------------------- */

static void test_fetch_v3_leaves_markers_out_and_does_not_spin_on_one(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-old") == 0);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 2, true, NULL), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);                        /* marker at 2 */
    CU_ASSERT_EQUAL(produce_plain(&k, 0, 3, 1), 0);                      /* 3 */
    for (int v = 0; v <= 3; v++) {
        struct kw_fetch_resp_partition fp;
        int magic;
        int64_t first, last;
        CU_ASSERT_EQUAL(fetch(&k, v, 0, 0, 0, &fp), KW_OK);
        CU_ASSERT_EQUAL(kc_count_records(fp.records.ptr, (size_t)fp.records.len, &magic, &first,
                                         &last), 3);
        CU_ASSERT(magic == (v <= 1 ? 0 : 1) && first == 0 && last == 3);
        /* At the marker: the record after it, not an empty answer forever. */
        CU_ASSERT_EQUAL(fetch(&k, v, 0, 2, 0, &fp), KW_OK);
        CU_ASSERT_EQUAL(kc_count_records(fp.records.ptr, (size_t)fp.records.len, &magic, &first,
                                         &last), 1);
        CU_ASSERT_EQUAL(first, 3);
    }
    /* A v3 long poll at the end of a log that ends with a marker waits instead of answering
     * an empty set at once. */
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);                        /* marker at 4 */
    uint64_t n = mb_request_count(e.c, -1, KW_API_FETCH) + 1;
    int32_t id = kc_fetch_send(&k, 3, TOPIC, 0, 4, 1 << 20, 30000, 1);
    CU_ASSERT_EQUAL(mb_wait_until(e.c, fetches_seen, &n, KC_WAIT_MS), 0);
    CU_ASSERT(!kc_readable(&k));
    kw_vclock_advance(e.v, 30000 * 1000LL);
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch_recv(&k, 3, id, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len == 0);
    kc_close(&k);
    env_stop(&e);
}

static void test_retention_trims_the_aborted_transaction_index_with_the_log(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-retain") == 0);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 2, true, NULL), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), 0);                       /* 0-1, marker 2 */
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 3, 2, true, NULL), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), 0);                       /* 3-4, marker 5 */
    CU_ASSERT_EQUAL(info(&e, 0).aborted_transactions, 2);
    int64_t bytes = info(&e, 0).bytes;
    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)bytes);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, TOPIC, "retention.bytes", v, NULL, 0), 0);
    /* Two more batches push the first three out (whole batches, oldest first). */
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(produce_plain(&k, 0, 6 + i, 1), 0);
    struct mb_partition_info i0 = info(&e, 0);
    CU_ASSERT(i0.log_start_offset >= 3 && i0.log_start_offset <= 5);
    CU_ASSERT_EQUAL(i0.aborted_transactions, 1);
    struct kw_fetch_resp_partition fp;
    CU_ASSERT_EQUAL(fetch(&k, 11, 0, i0.log_start_offset, 1, &fp), KW_OK);
    CU_ASSERT(fp.n_aborted_transactions == 1 && fp.aborted_transactions[0].first_offset == 3);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(produce_plain(&k, 0, 9 + i, 1), 0);
    i0 = info(&e, 0);
    CU_ASSERT(i0.log_start_offset > 5 && i0.aborted_transactions == 0);
    char got[64];
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT(strstr(got, "3") == NULL && strstr(got, "12") != NULL);
    kc_close(&k);
    env_stop(&e);
}

static void test_a_leaderless_partition_owes_its_marker_and_the_transaction_waits_in_prepare(void)
{
    struct env e;
    CU_ASSERT_FATAL(env_start(&e, 2, 1) == 0);
    struct mb_partition_info i0 = info(&e, 0), i1 = info(&e, 1);
    CU_ASSERT_FATAL(i0.leader != i1.leader);
    struct kc_conn k[2];
    CU_ASSERT_FATAL(conn(&e, &k[0], 1) == 0 && conn(&e, &k[1], 2) == 0);
    struct producer p = { .txn = "tx-owed" };
    int coord = find_coordinator(&k[0], p.txn, 1);
    CU_ASSERT_FATAL(coord == 1 || coord == 2);
    /* The partition that goes away is the one not led by the coordinator. */
    int32_t gone = i0.leader == coord ? 1 : 0;
    int32_t stays = 1 - gone;
    int gone_broker = gone ? i1.leader : i0.leader;
    struct kc_conn *kc = &k[coord - 1];
    CU_ASSERT_EQUAL(init(kc, 4, &p, TIMEOUT_MS, -1, -1), 0);
    CU_ASSERT_EQUAL(add_both(kc, &p), 0);
    CU_ASSERT_EQUAL(produce(&k[gone_broker - 1], &p, gone, 0, 2, true, NULL), 0);
    CU_ASSERT_EQUAL(produce(kc, &p, stays, 10, 1, true, NULL), 0);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, gone_broker, NULL, 0), 0);
    CU_ASSERT_EQUAL(info(&e, gone).leader, -1);
    CU_ASSERT_EQUAL(end_txn(kc, 3, &p, true), 0);
    CU_ASSERT_EQUAL(txn_info(&e, p.txn).state, MB_TXN_PREPARE_COMMIT);
    char got[64];
    labels(&e, stays, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "10,C");
    /* Until the marker is written: the same outcome again is CONCURRENT_TRANSACTIONS, the other
     * INVALID_TXN_STATE, and nothing new may start. */
    CU_ASSERT_EQUAL(end_txn(kc, 3, &p, true), KW_EC_CONCURRENT_TRANSACTIONS);
    CU_ASSERT_EQUAL(end_txn(kc, 3, &p, false), KW_EC_INVALID_TXN_STATE);
    CU_ASSERT_EQUAL(add_one(kc, 3, &p, stays), KW_EC_CONCURRENT_TRANSACTIONS);
    CU_ASSERT_EQUAL(add_offsets(kc, 3, &p, GROUP), KW_EC_CONCURRENT_TRANSACTIONS);
    struct producer q = { .txn = p.txn };
    CU_ASSERT_EQUAL(init(kc, 4, &q, TIMEOUT_MS, -1, -1), KW_EC_CONCURRENT_TRANSACTIONS);
    CU_ASSERT_EQUAL(mb_broker_up(e.c, gone_broker, NULL, 0), 0);
    CU_ASSERT_EQUAL(txn_info(&e, p.txn).state, MB_TXN_COMPLETE_COMMIT);
    labels(&e, gone, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,C");
    struct mb_partition_info ig = info(&e, gone);
    CU_ASSERT(ig.last_stable_offset == 3 && ig.high_watermark == 3);
    kc_close(&k[0]);
    kc_close(&k[1]);
    env_stop(&e);
}

static void test_a_marker_cut_by_a_failover_is_written_again_by_the_new_leader(void)
{
    struct env e;
    CU_ASSERT_FATAL(env_start(&e, 2, 2) == 0);
    struct mb_partition_info i0 = info(&e, 0);
    int leader = i0.leader, follower = i0.replicas[0] == leader ? i0.replicas[1] : i0.replicas[0];
    struct kc_conn k[2];
    CU_ASSERT_FATAL(conn(&e, &k[0], 1) == 0 && conn(&e, &k[1], 2) == 0);
    struct producer p = { .txn = "tx-cut" };
    int coord = find_coordinator(&k[0], p.txn, 1);
    CU_ASSERT_FATAL(coord == 1 || coord == 2);
    CU_ASSERT_EQUAL(init(&k[coord - 1], 4, &p, TIMEOUT_MS, -1, -1), 0);
    CU_ASSERT_EQUAL(add_one(&k[coord - 1], 3, &p, 0), 0);
    /* The follower copies each batch a second after its append. */
    CU_ASSERT_EQUAL(mb_follower_set(e.c, TOPIC, 0, follower, MB_FOLLOWER_DELAY, 1000, 0, NULL, 0),
                    0);
    struct kw_buf b;
    kw_buf_init(&b);
    batch(&b, p.pid, p.epoch, 0, 0, 2, true);
    CU_ASSERT_EQUAL(produce_raw(&k[leader - 1], 9, 1, p.txn, 0, &b, NULL), 0);
    kw_buf_release(&b);
    kw_vclock_advance(e.v, 1000 * 1000LL);
    CU_ASSERT_EQUAL(info(&e, 0).high_watermark, 2);
    CU_ASSERT_EQUAL(end_txn(&k[coord - 1], 3, &p, true), 0);             /* marker at 2 */
    CU_ASSERT(info(&e, 0).log_end_offset == 3 && info(&e, 0).last_stable_offset == 0);
    /* The leader goes before the follower copied the marker: the follower leads, without it. */
    CU_ASSERT_EQUAL(mb_broker_down(e.c, leader, NULL, 0), 0);
    struct mb_partition_info now = info(&e, 0);
    CU_ASSERT_EQUAL(now.leader, follower);
    char got[64];
    labels(&e, 0, false, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1,C");
    CU_ASSERT(now.log_end_offset == 3 && now.high_watermark == 3 && now.last_stable_offset == 3);
    labels(&e, 0, true, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "0,1");
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_TRUNCATE, NULL), 1);
    CU_ASSERT_EQUAL(journal_count(&e, MB_JOURNAL_MARKER, "commit"), 2);
    kc_close(&k[0]);
    kc_close(&k[1]);
    env_stop(&e);
}

/* --- the request path ------------------------------------------------------------------------- */

static void test_fault_rules_refuse_and_close_the_new_apis_without_applying_them(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-rules") == 0);
    struct mb_rule r;
    mb_rule_init(&r);
    r.name = "no-end";
    r.match.api_key = KW_API_END_TXN;
    r.action.type = MB_ACTION_ERROR;
    r.action.error_code = KW_EC_COORDINATOR_LOAD_IN_PROGRESS;
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, NULL, 0), 0);
    mb_rule_init(&r);
    r.name = "drop-add";
    r.match.api_key = KW_API_ADD_PARTITIONS_TO_TXN;
    r.action.type = MB_ACTION_CLOSE;
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, NULL, 0), 0);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), -1);             /* closed, no answer */
    CU_ASSERT_EQUAL(txn_info(&e, p.txn).state, MB_TXN_EMPTY);
    kc_close(&k);
    CU_ASSERT_FATAL(conn(&e, &k, 1) == 0);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);              /* the rule fired once */
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), KW_EC_COORDINATOR_LOAD_IN_PROGRESS);
    CU_ASSERT_EQUAL(txn_info(&e, p.txn).state, MB_TXN_ONGOING);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    CU_ASSERT_EQUAL(txn_info(&e, p.txn).state, MB_TXN_COMPLETE_COMMIT);
    /* After apply: the partition is added, the answer says it failed. */
    mb_rule_init(&r);
    r.name = "late";
    r.match.api_key = KW_API_ADD_PARTITIONS_TO_TXN;
    r.action.type = MB_ACTION_ERROR;
    r.action.when = MB_AFTER_APPLY;
    r.action.error_code = KW_EC_REQUEST_TIMED_OUT;
    CU_ASSERT_EQUAL(mb_rule_add(e.c, &r, NULL, 0), 0);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 1), KW_EC_REQUEST_TIMED_OUT);
    CU_ASSERT_EQUAL(txn_info(&e, p.txn).state, MB_TXN_ONGOING);
    /* The journal's response line carries the stamped PartitionErrorCode as its first error. */
    struct mb_journal_entry j[256];
    size_t nj = mb_journal_read(e.c, 0, j, 256);
    int16_t last_add_error = -1;
    for (size_t i = 0; i < nj; i++)
        if (j[i].kind == MB_JOURNAL_RESPONSE && j[i].api_key == KW_API_ADD_PARTITIONS_TO_TXN)
            last_add_error = j[i].error_code;
    CU_ASSERT_EQUAL(last_add_error, KW_EC_REQUEST_TIMED_OUT);
    CU_ASSERT_EQUAL(produce(&k, &p, 1, 0, 1, true, NULL), 0);
    kc_close(&k);
    env_stop(&e);
}

/* Each new API's request cut short, with a size prefix that matches the cut: the broker closes
 * that connection without answering, and serves another as before. */
static void test_truncated_bodies_of_the_new_apis_close_only_their_connection(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-hostile") == 0);
    int32_t part = 0;
    struct kw_add_partitions_to_txn_topic apt = { .name = kw_str_c(TOPIC), .partitions = &part,
                                                  .n_partitions = 1 };
    struct kw_add_partitions_to_txn_req ap = { .transactional_id = kw_str_c(p.txn),
                                               .producer_id = p.pid, .producer_epoch = p.epoch,
                                               .topics = &apt, .n_topics = 1 };
    struct kw_add_offsets_to_txn_req ao = { .transactional_id = kw_str_c(p.txn),
                                            .producer_id = p.pid, .producer_epoch = p.epoch,
                                            .group_id = kw_str_c(GROUP) };
    struct kw_end_txn_req et = { .transactional_id = kw_str_c(p.txn), .producer_id = p.pid,
                                 .producer_epoch = p.epoch, .committed = true };
    struct kw_txn_offset_commit_req_partition tp = { .partition_index = 0, .committed_offset = 1,
                                                     .committed_leader_epoch = -1,
                                                     .committed_metadata = kw_str_c("m") };
    struct kw_txn_offset_commit_req_topic tt = { .name = kw_str_c(TOPIC), .partitions = &tp,
                                                 .n_partitions = 1 };
    struct kw_txn_offset_commit_req to = {
        .transactional_id = kw_str_c(p.txn), .group_id = kw_str_c(GROUP), .producer_id = p.pid,
        .producer_epoch = p.epoch, .generation_id = -1, .member_id = kw_str_c(""),
        .group_instance_id = KW_STR_NULL, .topics = &tt, .n_topics = 1,
    };
    const struct {
        int key;
        const void *req;
    } apis[] = {
        { KW_API_ADD_PARTITIONS_TO_TXN, &ap }, { KW_API_ADD_OFFSETS_TO_TXN, &ao },
        { KW_API_END_TXN, &et }, { KW_API_TXN_OFFSET_COMMIT, &to },
    };
    int dropped = 0, tried = 0;
    for (size_t a = 0; a < 4; a++)
        for (int v = 0; v <= 3; v++) {
            struct kw_buf full, hdr;
            kw_buf_init(&full);
            kw_buf_init(&hdr);
            CU_ASSERT_EQUAL(kc_encode(&full, apis[a].key, v, 9, "kwtest", apis[a].req), KW_OK);
            struct kw_req_header h = { .api_key = (int16_t)apis[a].key, .api_version = (int16_t)v,
                                       .correlation_id = 9, .client_id = kw_str_c("kwtest") };
            kw_req_header_encode(&hdr, kw_req_header_version(apis[a].key, v), &h);
            size_t body_at = 4 + hdr.len;      /* every cut keeps the header whole */
            for (size_t cut = body_at; cut < full.len; cut++) {
                struct kc_conn bad;
                uint8_t *frame = malloc(cut);
                memcpy(frame, full.data, cut);
                kw_wbe32(frame, (uint32_t)(cut - 4));
                CU_ASSERT_EQUAL(conn(&e, &bad, 1), 0);
                CU_ASSERT_EQUAL(kc_send_raw(&bad, frame, cut, KC_WAIT_MS), (int64_t)cut);
                /* The broker reads it on the loop the client's waits run. */
                int rc = KC_TIMEOUT;
                for (int i = 0; i < 100 && rc == KC_TIMEOUT; i++) {
                    event_base_loop(e.base, EVLOOP_NONBLOCK);
                    rc = kc_expect_closed(&bad, 10);
                }
                dropped += rc == 0;
                tried++;
                kc_close(&bad);
                free(frame);
            }
            kw_buf_release(&full);
            kw_buf_release(&hdr);
        }
    CU_ASSERT(tried > 40);
    CU_ASSERT_EQUAL(dropped, tried);
    /* Nothing was applied, and the first connection is served as before. */
    CU_ASSERT_EQUAL(txn_info(&e, p.txn).state, MB_TXN_EMPTY);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, true), 0);
    kc_close(&k);
    env_stop(&e);
}

/* GET path from the control API on the test's loop: the body (to free), or NULL. */
static char *http_get(struct env *e, int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct kw_buf b;
    kw_buf_init(&b);
    int64_t deadline = kc_now_ms() + KC_WAIT_MS;
    while (kc_now_ms() < deadline) {
        event_base_loop(e->base, EVLOOP_NONBLOCK);
        uint8_t *p = kw_buf_space(&b, 4096);
        ssize_t got = p ? read(fd, p, 4096) : -1;
        if (got == 0)
            break;
        if (got > 0)
            kw_buf_commit(&b, (size_t)got);
        else
            poll(NULL, 0, 1);
    }
    close(fd);
    kw_put_raw(&b, "", 1);
    const char *body = b.err ? NULL : strstr((const char *)b.data, "\r\n\r\n");
    char *out = body ? strdup(body + 4) : NULL;
    kw_buf_release(&b);
    return out;
}

static void test_the_control_api_shows_transactions_lso_and_markers(void)
{
    struct env e;
    struct kc_conn k;
    struct producer p;
    CU_ASSERT_FATAL(ready(&e, &k, &p, "tx-admin") == 0);
    char err[128];
    struct mb_admin *a = mb_admin_start(e.c, 0, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(add_one(&k, 3, &p, 0), 0);
    CU_ASSERT_EQUAL(produce(&k, &p, 0, 0, 2, true, NULL), 0);
    char *body = http_get(&e, mb_admin_port(a), "/transactions");
    CU_ASSERT(body && strstr(body, "\"transactional_id\":\"tx-admin\"") &&
              strstr(body, "\"state\":\"Ongoing\""));
    free(body);
    body = http_get(&e, mb_admin_port(a), "/partitions/t/0");
    CU_ASSERT(body && strstr(body, "\"last_stable_offset\":0") &&
              strstr(body, "\"high_watermark\":2"));
    free(body);
    CU_ASSERT_EQUAL(end_txn(&k, 3, &p, false), 0);
    body = http_get(&e, mb_admin_port(a), "/transactions/tx-admin");
    CU_ASSERT(body && strstr(body, "\"state\":\"CompleteAbort\"") &&
              strstr(body, "\"partitions\":1"));
    free(body);
    body = http_get(&e, mb_admin_port(a), "/partitions/t/0/records?from=2");
    CU_ASSERT(body && strstr(body, "\"control\":\"abort\"") &&
              strstr(body, "\"transactional\":true"));
    free(body);
    body = http_get(&e, mb_admin_port(a), "/transactions/nobody");
    CU_ASSERT(body && strstr(body, "no transactional id"));
    free(body);
    mb_admin_stop(a);
    kc_close(&k);
    env_stop(&e);
}

/* A scenario on a fresh cluster: its txn and marker journal lines as text. */
static char *journal_run(void)
{
    struct env e;
    struct kc_conn k = { .fd = -1 };
    struct producer p;
    char *text = NULL;
    if (ready(&e, &k, &p, "tx-journal") == 0 && add_both(&k, &p) == 0 &&
        produce(&k, &p, 0, 0, 2, true, NULL) == 0 && end_txn(&k, 3, &p, false) == 0 &&
        add_one(&k, 3, &p, 1) == 0 && produce(&k, &p, 1, 2, 1, true, NULL) == 0 &&
        kw_vclock_advance(e.v, TIMEOUT_MS * 1000LL) >= 1) {
        struct mb_journal_entry j[512];
        size_t n = mb_journal_read(e.c, 0, j, 512);
        size_t size = 1, at = 0;
        for (size_t i = 0; i < n; i++)
            if (j[i].kind == MB_JOURNAL_TXN || j[i].kind == MB_JOURNAL_MARKER)
                size += (size_t)mb_journal_entry_render(&j[i], MB_JOURNAL_JSONL, NULL, 0);
        text = calloc(1, size);
        for (size_t i = 0; text && i < n; i++)
            if (j[i].kind == MB_JOURNAL_TXN || j[i].kind == MB_JOURNAL_MARKER)
                at += (size_t)mb_journal_entry_render(&j[i], MB_JOURNAL_JSONL, text + at,
                                                      size - at);
    }
    kc_close(&k);
    env_stop(&e);
    return text;
}

static void test_transaction_journal_lines_are_the_same_on_every_run(void)
{
    char *a = journal_run(), *b = journal_run();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (b)
        CU_ASSERT_STRING_EQUAL(a, b);
    /* Empty, Ongoing, PrepareAbort, CompleteAbort, Ongoing, then the timeout's abort. */
    int lines = 0;
    for (const char *s = a; *s; s++)
        lines += *s == '\n';
    CU_ASSERT_EQUAL(lines, 10);
    CU_ASSERT(strstr(a, "\"kind\":\"txn\",\"what\":\"Ongoing\"") != NULL);
    CU_ASSERT(strstr(a, "\"transactional_id\":\"tx-journal\"") != NULL);
    CU_ASSERT(strstr(a, "\"kind\":\"marker\",\"what\":\"abort\"") != NULL);
    free(a);
    free(b);
}

CU_TestInfo kwt_txn_broker_tests[] = {
    { "ApiVersions advertises the four transaction APIs at v0-v3",
      test_api_versions_advertises_the_four_transaction_apis_at_v0_to_v3 },
    { "FindCoordinator names the transaction coordinator, which moves with its broker",
      test_find_coordinator_names_the_transaction_coordinator_which_moves_with_its_broker },
    { "A committed transaction writes markers and read_committed then sees it",
      test_a_committed_transaction_writes_markers_and_read_committed_then_sees_it },
    { "An aborted transaction is listed to read_committed and hidden from its view",
      test_an_aborted_transaction_is_listed_to_read_committed_and_hidden_from_its_view },
    { "An open transaction holds the LSO, and later plain data back from read_committed",
      test_an_open_transaction_holds_the_lso_and_later_plain_data_back_from_read_committed },
    { "A read_committed long poll waits for the commit, not the data",
      test_a_read_committed_long_poll_waits_for_the_commit_not_the_data },
    { "Fencing is PRODUCER_FENCED from the versions that know it, epoch errors before",
      test_fencing_is_producer_fenced_from_the_versions_that_know_it_and_epoch_errors_before },
    { "Batches outside the open transaction are INVALID_TXN_STATE",
      test_batches_outside_the_open_transaction_are_invalid_txn_state },
    { "A transaction open past its timeout is aborted and its producer fenced",
      test_a_transaction_open_past_its_timeout_is_aborted_and_its_producer_fenced },
    { "EndTxn retried succeeds; the other outcome, or nothing added, is refused",
      test_end_txn_retried_succeeds_and_the_other_outcome_or_nothing_added_is_refused },
    { "InitProducerId with a transaction open aborts it and asks for a retry",
      test_init_producer_id_with_a_transaction_open_aborts_it_and_asks_for_a_retry },
    { "TxnOffsetCommit offsets stay pending until commit, drop on abort, read unstable",
      test_txn_offsets_stay_pending_until_commit_are_dropped_on_abort_and_read_unstable },
    { "TxnOffsetCommit v3 from a member checks its generation and id",
      test_txn_offset_commit_v3_from_a_member_checks_its_generation_and_id },
    { "Fetch v0-v3 leaves markers out and does not spin on one",
      test_fetch_v3_leaves_markers_out_and_does_not_spin_on_one },
    { "Retention trims the aborted-transaction index with the log",
      test_retention_trims_the_aborted_transaction_index_with_the_log },
    { "A leaderless partition owes its marker; the transaction waits in Prepare",
      test_a_leaderless_partition_owes_its_marker_and_the_transaction_waits_in_prepare },
    { "A marker cut by a failover is written again by the new leader",
      test_a_marker_cut_by_a_failover_is_written_again_by_the_new_leader },
    { "Fault rules refuse and close the new APIs without applying them",
      test_fault_rules_refuse_and_close_the_new_apis_without_applying_them },
    { "Truncated bodies of the new APIs close only their connection",
      test_truncated_bodies_of_the_new_apis_close_only_their_connection },
    { "The control API shows transactions, the LSO and markers",
      test_the_control_api_shows_transactions_lso_and_markers },
    { "Transaction journal lines are the same on every run",
      test_transaction_journal_lines_are_the_same_on_every_run },
    CU_TEST_INFO_NULL,
};
