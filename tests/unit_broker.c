/* The mock cluster over real sockets: every request goes through tests/kclient.c, the lib/
 * codecs and the broker's loop, as a client's would. Produce and its validation live in
 * tests/unit_broker_produce.c. No test sleeps: answers are awaited with poll() deadlines, and
 * long polls in caller-driven mode move only with the virtual clock. */
#include <CUnit/CUnit.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/create_topics.h"
#include "lib/proto/delete_topics.h"
#include "lib/proto/fetch.h"
#include "lib/proto/find_coordinator.h"
#include "lib/proto/init_producer_id.h"
#include "lib/proto/list_offsets.h"
#include "lib/proto/metadata.h"
#include "lib/proto/produce.h"
#include "mockbroker/internal.h"
#include "mockbroker/mockbroker.h"
#include "tests/kclient.h"

#define SEED 42

static void config(struct mb_config *cfg, int brokers)
{
    mb_config_init(cfg);
    cfg->brokers = brokers;
    cfg->seed = SEED;
    cfg->log_level = MB_LOG_ERROR;
}

static struct mb_cluster *start_with(const struct mb_config *cfg)
{
    char err[256] = "";
    struct mb_cluster *c = mb_cluster_new(cfg, err, sizeof(err));
    if (c == NULL)
        fprintf(stderr, "mb_cluster_new: %s\n", err);
    return c;
}

static struct mb_cluster *start(int brokers)
{
    struct mb_config cfg;
    config(&cfg, brokers);
    return start_with(&cfg);
}

static int connect_to(struct kc_conn *k, struct mb_cluster *c, int broker)
{
    return kc_connect(k, mb_broker_port(c, broker));
}

static int64_t log_end(struct mb_cluster *c, const char *topic, int partition)
{
    struct mb_partition_info info;
    return mb_partition_info(c, topic, partition, &info) == 0 ? info.log_end_offset : -1;
}

/* Produces n records (one batch) to partition 0 of topic with acks=1; the base offset or -1. */
static int64_t produce_n(struct kc_conn *k, const char *topic, int first, int n, int64_t ts)
{
    struct kw_buf b;
    int64_t base = -1;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, first, n, ts);
    if (kc_produce(k, 9, 1, topic, 0, b.data, b.len, &base, NULL) != 0)
        base = -1;
    kw_buf_release(&b);
    return base;
}

/* Metadata for names[0..n) (n -1: a null list). */
static int metadata(struct kc_conn *k, int version, const char *const *names, int n, bool allow,
                    struct kw_metadata_resp *resp)
{
    struct kw_metadata_req_topic topics[8];
    memset(topics, 0, sizeof(topics));
    for (int i = 0; i < n && i < 8; i++)
        topics[i].name = kw_str_c(names[i]);
    struct kw_metadata_req req = {
        .topics = n >= 0 ? topics : NULL,
        .n_topics = n,
        .allow_auto_topic_creation = allow,
    };
    return kc_call(k, KW_API_METADATA, version, &req, resp);
}

static const struct kw_metadata_resp_topic *md_topic(const struct kw_metadata_resp *m,
                                                     const char *name)
{
    for (int32_t i = 0; i < m->n_topics; i++)
        if (kw_str_eq(m->topics[i].name, name))
            return &m->topics[i];
    return NULL;
}

static bool uuid_zero(const uint8_t id[16])
{
    static const uint8_t zero[16];
    return memcmp(id, zero, 16) == 0;
}

static bool fetches_seen(struct mb_cluster *c, void *arg)
{
    return mb_request_count(c, -1, KW_API_FETCH) >= *(uint64_t *)arg;
}

static bool requests_seen(struct mb_cluster *c, void *arg)
{
    return mb_request_count(c, -1, -1) >= *(uint64_t *)arg;
}

static bool never(struct mb_cluster *c, void *arg)
{
    (void)c;
    (void)arg;
    return false;
}

/* --- ApiVersions ----------------------------------------------------------------------------- */

static void test_api_versions_v0_and_v3_list_every_api_with_our_ranges(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    int n;
    const struct kw_api *apis = kw_api_all(&n);
    static const int versions[] = { 0, 3 };
    for (int v = 0; v < 2; v++) {
        struct kw_api_versions_req req = { kw_str_c("kwtest"), kw_str_c("1.0.0") };
        struct kw_api_versions_resp resp;
        CU_ASSERT_EQUAL(kc_call(&k, KW_API_API_VERSIONS, versions[v], &req, &resp), KW_OK);
        CU_ASSERT_EQUAL(resp.error_code, 0);
        CU_ASSERT_EQUAL(resp.n_api_keys, n);
        for (int i = 0; i < n && i < resp.n_api_keys; i++) {
            CU_ASSERT_EQUAL(resp.api_keys[i].api_key, apis[i].key);
            CU_ASSERT_EQUAL(resp.api_keys[i].min_version, apis[i].min);
            CU_ASSERT_EQUAL(resp.api_keys[i].max_version, apis[i].max);
        }
    }
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_api_versions_above_ours_are_answered_at_v0_with_our_range_only(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    static const int versions[] = { 4, 7 };
    for (int v = 0; v < 2; v++) {
        struct kw_api_versions_req req = { kw_str_c("kwtest"), kw_str_c("1.0.0") };
        struct kw_api_versions_resp resp;
        int32_t id = kc_send(&k, KW_API_API_VERSIONS, versions[v], &req);
        CU_ASSERT(id > 0);
        /* Decoded as v0, which also checks nothing follows the v0 body (no throttle time). */
        CU_ASSERT_EQUAL(kc_recv(&k, KW_API_API_VERSIONS, 0, id, &resp, KC_WAIT_MS), KW_OK);
        CU_ASSERT_EQUAL(resp.error_code, KW_EC_UNSUPPORTED_VERSION);
        CU_ASSERT_EQUAL_FATAL(resp.n_api_keys, 1);
        CU_ASSERT_EQUAL(resp.api_keys[0].api_key, KW_API_API_VERSIONS);
        CU_ASSERT_EQUAL(resp.api_keys[0].min_version, 0);
        CU_ASSERT_EQUAL(resp.api_keys[0].max_version, 3);
    }
    /* The connection stays usable: the client steps down and asks again. */
    struct kw_api_versions_req req = { kw_str_c("kwtest"), kw_str_c("1.0.0") };
    struct kw_api_versions_resp resp;
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_API_VERSIONS, 3, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.error_code, 0);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_api_versions_v3_with_a_bad_software_name_is_invalid_request(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_api_versions_req req = { kw_str_c("-bad"), kw_str_c("1.0.0") };
    struct kw_api_versions_resp resp;
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_API_VERSIONS, 3, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.error_code, KW_EC_INVALID_REQUEST);
    CU_ASSERT_EQUAL(resp.n_api_keys, 0);
    req.client_software_name = kw_str_c("good-name");
    req.client_software_version = kw_str_c("1.0.");
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_API_VERSIONS, 3, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.error_code, KW_EC_INVALID_REQUEST);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- Metadata -------------------------------------------------------------------------------- */

static void test_metadata_lists_brokers_cluster_id_and_controller(void)
{
    struct mb_config cfg;
    config(&cfg, 3);
    cfg.cluster_id = "kwtest-cluster";
    struct mb_cluster *c = start_with(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 2), 0);
    static const int versions[] = { 1, 4, 9, 12 };
    for (int v = 0; v < 4; v++) {
        struct kw_metadata_resp m;
        CU_ASSERT_EQUAL_FATAL(metadata(&k, versions[v], NULL, 0, true, &m), KW_OK);
        CU_ASSERT_EQUAL_FATAL(m.n_brokers, 3);
        for (int i = 0; i < 3; i++) {
            CU_ASSERT_EQUAL(m.brokers[i].node_id, i + 1);
            CU_ASSERT(kw_str_eq(m.brokers[i].host, "127.0.0.1"));
            CU_ASSERT_EQUAL(m.brokers[i].port, mb_broker_port(c, i + 1));
            CU_ASSERT(m.brokers[i].port > 0);
        }
        CU_ASSERT_EQUAL(m.controller_id, 1);
        CU_ASSERT_EQUAL(m.n_topics, 0);
        if (versions[v] >= 2)
            CU_ASSERT(kw_str_eq(m.cluster_id, "kwtest-cluster"));
    }
    char want[80];
    snprintf(want, sizeof(want), "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", mb_broker_port(c, 1),
             mb_broker_port(c, 2), mb_broker_port(c, 3));
    CU_ASSERT_STRING_EQUAL(mb_cluster_bootstrap(c), want);
    CU_ASSERT_EQUAL(mb_broker_port(c, 4), -1);
    CU_ASSERT_EQUAL(mb_cluster_seed(c), SEED);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_metadata_auto_creates_a_topic_leader_not_available_first(void)
{
    struct mb_config cfg;
    config(&cfg, 3);
    cfg.default_partitions = 4;
    struct mb_cluster *c = start_with(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    const char *names[] = { "auto" };
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 4, names, 1, true, &m), KW_OK);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
    CU_ASSERT(kw_str_eq(m.topics[0].name, "auto"));
    CU_ASSERT_EQUAL(m.topics[0].error_code, KW_EC_LEADER_NOT_AVAILABLE);

    CU_ASSERT_EQUAL_FATAL(metadata(&k, 4, names, 1, true, &m), KW_OK);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
    CU_ASSERT_EQUAL(m.topics[0].error_code, 0);
    CU_ASSERT_EQUAL_FATAL(m.topics[0].n_partitions, 4);
    for (int32_t i = 0; i < 4; i++) {
        const struct kw_metadata_resp_partition *p = &m.topics[0].partitions[i];
        struct mb_partition_info info;
        CU_ASSERT_EQUAL(p->partition_index, i);
        CU_ASSERT_EQUAL(p->error_code, 0);
        CU_ASSERT_EQUAL(p->n_replica_nodes, 3);     /* min(3, brokers) */
        CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "auto", i, &info), 0);
        CU_ASSERT_EQUAL(p->leader_id, info.leader);
        CU_ASSERT(info.leader >= 1 && info.leader <= 3);
    }
    CU_ASSERT_EQUAL(mb_partition_info(c, "auto", 4, &(struct mb_partition_info){ 0 }),
                    KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_metadata_without_auto_creation_answers_unknown_and_creates_nothing(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    const char *names[] = { "nope" };
    static const int versions[] = { 4, 9, 12 };
    for (int v = 0; v < 3; v++) {
        struct kw_metadata_resp m;
        CU_ASSERT_EQUAL_FATAL(metadata(&k, versions[v], names, 1, false, &m), KW_OK);
        CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
        CU_ASSERT(kw_str_eq(m.topics[0].name, "nope"));
        CU_ASSERT_EQUAL(m.topics[0].error_code, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
        CU_ASSERT_EQUAL(m.topics[0].n_partitions, 0);
    }
    CU_ASSERT_EQUAL(log_end(c, "nope", 0), -1);
    kc_close(&k);
    mb_cluster_destroy(c);

    /* And with auto-creation off in the cluster, even v1 (which always allows) creates none. */
    struct mb_config cfg;
    config(&cfg, 1);
    cfg.auto_create = false;
    c = start_with(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 1, names, 1, true, &m), KW_OK);
    CU_ASSERT(m.n_topics == 1 && m.topics[0].error_code == KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(log_end(c, "nope", 0), -1);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_metadata_empty_and_null_topic_lists_by_version(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "one", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_create(c, "two", 2, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL(metadata(&k, 0, NULL, 0, true, &m), KW_OK);    /* v0: [] = all */
    CU_ASSERT_EQUAL(m.n_topics, 2);
    CU_ASSERT(md_topic(&m, "one") && md_topic(&m, "two"));
    CU_ASSERT_EQUAL(metadata(&k, 1, NULL, -1, true, &m), KW_OK);   /* v1: null = all */
    CU_ASSERT_EQUAL(m.n_topics, 2);
    CU_ASSERT(md_topic(&m, "two") && md_topic(&m, "two")->n_partitions == 2);
    CU_ASSERT_EQUAL(metadata(&k, 1, NULL, 0, true, &m), KW_OK);    /* v1: [] = none */
    CU_ASSERT_EQUAL(m.n_topics, 0);
    CU_ASSERT_EQUAL(metadata(&k, 12, NULL, -1, true, &m), KW_OK);
    CU_ASSERT_EQUAL(m.n_topics, 2);
    CU_ASSERT_EQUAL(metadata(&k, 12, NULL, 0, true, &m), KW_OK);
    CU_ASSERT_EQUAL(m.n_topics, 0);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_metadata_refuses_an_invalid_topic_name(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    const char *names[] = { "bad/name", "ok.name" };
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 4, names, 2, true, &m), KW_OK);
    CU_ASSERT_EQUAL_FATAL(m.n_topics, 2);
    CU_ASSERT(kw_str_eq(m.topics[0].name, "bad/name"));
    CU_ASSERT_EQUAL(m.topics[0].error_code, KW_EC_INVALID_TOPIC_EXCEPTION);
    CU_ASSERT_EQUAL(m.topics[1].error_code, KW_EC_LEADER_NOT_AVAILABLE);
    CU_ASSERT_EQUAL(log_end(c, "bad/name", 0), -1);
    CU_ASSERT_EQUAL(log_end(c, "ok.name", 0), 0);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_metadata_v10_topic_ids_are_non_zero_and_stable(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "ids", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_create(c, "other", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    const char *names[] = { "ids", "other" };
    struct kw_metadata_resp m1, m2;
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 10, names, 2, true, &m1), KW_OK);
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 12, names, 2, true, &m2), KW_OK);
    CU_ASSERT_FATAL(m1.n_topics == 2 && m2.n_topics == 2);
    CU_ASSERT(!uuid_zero(m1.topics[0].topic_id));
    CU_ASSERT(memcmp(m1.topics[0].topic_id, m2.topics[0].topic_id, 16) == 0);
    CU_ASSERT(memcmp(m1.topics[0].topic_id, m1.topics[1].topic_id, 16) != 0);

    /* v12 by id: the name comes back; an unknown id is UNKNOWN_TOPIC_ID. */
    struct kw_metadata_req_topic by_id[2];
    memset(by_id, 0, sizeof(by_id));
    by_id[0].name = KW_STR_NULL;
    memcpy(by_id[0].topic_id, m1.topics[1].topic_id, 16);
    by_id[1].name = KW_STR_NULL;
    memset(by_id[1].topic_id, 0x5a, 16);
    struct kw_metadata_req req = { .topics = by_id, .n_topics = 2,
                                   .allow_auto_topic_creation = true };
    struct kw_metadata_resp m3;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_METADATA, 12, &req, &m3), KW_OK);
    CU_ASSERT_EQUAL_FATAL(m3.n_topics, 2);
    CU_ASSERT_EQUAL(m3.topics[0].error_code, 0);
    CU_ASSERT(kw_str_eq(m3.topics[0].name, "other"));
    CU_ASSERT_EQUAL(m3.topics[1].error_code, KW_EC_UNKNOWN_TOPIC_ID);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_placement_and_topic_ids_are_deterministic_for_a_seed(void)
{
    struct mb_cluster *a = start(3), *b = start(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(mb_topic_create(a, "placed", 6, 2, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_create(b, "placed", 6, 2, NULL, 0), 0);
    int leaders[4] = { 0 };
    for (int p = 0; p < 6; p++) {
        struct mb_partition_info x, y;
        CU_ASSERT_EQUAL_FATAL(mb_partition_info(a, "placed", p, &x), 0);
        CU_ASSERT_EQUAL_FATAL(mb_partition_info(b, "placed", p, &y), 0);
        CU_ASSERT_EQUAL(x.leader, y.leader);
        CU_ASSERT(x.n_replicas == 2 && y.n_replicas == 2 && x.n_isr == 2);
        CU_ASSERT(memcmp(x.replicas, y.replicas, sizeof(x.replicas)) == 0);
        CU_ASSERT(memcmp(x.isr, y.isr, sizeof(x.isr)) == 0);
        CU_ASSERT_EQUAL(x.leader, x.replicas[0]);
        CU_ASSERT(x.replicas[0] != x.replicas[1]);
        if (x.leader >= 1 && x.leader <= 3)
            leaders[x.leader]++;
    }
    /* Round robin: six partitions over three brokers lead twice each. */
    CU_ASSERT(leaders[1] == 2 && leaders[2] == 2 && leaders[3] == 2);

    struct kc_conn ka, kb;
    CU_ASSERT_EQUAL(connect_to(&ka, a, 1), 0);
    CU_ASSERT_EQUAL(connect_to(&kb, b, 1), 0);
    const char *names[] = { "placed" };
    struct kw_metadata_resp ma, mb;
    CU_ASSERT_EQUAL_FATAL(metadata(&ka, 12, names, 1, true, &ma), KW_OK);
    CU_ASSERT_EQUAL_FATAL(metadata(&kb, 12, names, 1, true, &mb), KW_OK);
    CU_ASSERT_FATAL(ma.n_topics == 1 && mb.n_topics == 1);
    CU_ASSERT(memcmp(ma.topics[0].topic_id, mb.topics[0].topic_id, 16) == 0);
    CU_ASSERT(!uuid_zero(ma.topics[0].topic_id));
    kc_close(&ka);
    kc_close(&kb);
    mb_cluster_destroy(a);
    mb_cluster_destroy(b);
}

static void test_metadata_v10_and_v11_asked_by_topic_id_get_an_answer(void)
{
    /* Names are nullable in v10+ requests but only v12+ answers may carry a null name, and
     * Kafka refuses ids below v12. Whatever the broker says, it must say something. */
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "ids", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    for (int v = 10; v <= 11; v++) {
        struct kw_metadata_req_topic by_id = { .name = KW_STR_NULL };
        memset(by_id.topic_id, 0x5a, 16);
        struct kw_metadata_req req = { .topics = &by_id, .n_topics = 1,
                                       .allow_auto_topic_creation = true };
        struct kw_metadata_resp m;
        CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_METADATA, v, &req, &m), KW_OK);
        CU_ASSERT_EQUAL_FATAL(m.n_topics, 1);
        CU_ASSERT(m.topics[0].error_code != 0);
    }
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_find_coordinator_answers_a_live_broker_at_every_version(void)
{
    struct mb_cluster *c = start(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    int32_t node = -1;
    for (int v = 0; v <= 3; v++) {
        struct kw_find_coordinator_req req = { .key = kw_str_c("group-a"), .key_type = 0 };
        struct kw_find_coordinator_resp resp;
        CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_FIND_COORDINATOR, v, &req, &resp), KW_OK);
        CU_ASSERT_EQUAL(resp.error_code, 0);
        CU_ASSERT(resp.node_id >= 1 && resp.node_id <= 3);
        CU_ASSERT(node < 0 || resp.node_id == node);    /* stable */
        node = resp.node_id;
        CU_ASSERT_EQUAL(resp.port, mb_broker_port(c, resp.node_id));
        CU_ASSERT(kw_str_eq(resp.host, "127.0.0.1"));
    }
    struct kw_str keys[] = { kw_str_c("group-a"), kw_str_c("txn-b") };
    struct kw_find_coordinator_req req = { .key_type = 1, .coordinator_keys = keys,
                                           .n_coordinator_keys = 2 };
    struct kw_find_coordinator_resp resp;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_FIND_COORDINATOR, 4, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL_FATAL(resp.n_coordinators, 2);
    CU_ASSERT(kw_str_eq(resp.coordinators[0].key, "group-a"));
    CU_ASSERT_EQUAL(resp.coordinators[0].node_id, node);
    CU_ASSERT(kw_str_eq(resp.coordinators[1].key, "txn-b"));
    CU_ASSERT_EQUAL(resp.coordinators[1].error_code, 0);
    CU_ASSERT_EQUAL(resp.coordinators[1].port, mb_broker_port(c, resp.coordinators[1].node_id));
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- acks=0, pipelining ---------------------------------------------------------------------- */

static void test_acks_0_gets_no_response_and_the_next_request_is_answered(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "t", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    CU_ASSERT_EQUAL(kc_produce(&k, 7, 0, "t", 0, b.data, b.len, NULL, NULL), 0);
    /* Correlation id 2 must be the next frame: none was sent for id 1. */
    const char *names[] = { "t" };
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL(metadata(&k, 1, names, 1, true, &m), KW_OK);
    CU_ASSERT(m.n_topics == 1 && m.topics[0].error_code == 0);
    CU_ASSERT_EQUAL(mb_wait_offset(c, "t", 0, 2, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(log_end(c, "t", 0), 2);
    CU_ASSERT(!kc_readable(&k));
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_a_failed_acks_0_produce_closes_the_connection(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "t", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    CU_ASSERT_EQUAL(kc_produce(&k, 7, 0, "t", 5, b.data, b.len, NULL, NULL), 0);
    CU_ASSERT_EQUAL(kc_expect_closed(&k, KC_WAIT_MS), 0);
    kc_close(&k);
    CU_ASSERT_EQUAL(log_end(c, "t", 0), 0);
    kw_buf_release(&b);
    mb_cluster_destroy(c);
}

static void test_fifty_pipelined_requests_are_answered_in_order(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "t", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_buf out;
    kw_buf_init(&out);
    struct kw_metadata_req md = { .n_topics = -1 };
    struct kw_api_versions_req av = { kw_str_c("kwtest"), kw_str_c("1.0.0") };
    struct kw_list_offsets_req_partition lp = { .partition_index = 0, .timestamp = -1,
                                                .current_leader_epoch = -1 };
    struct kw_list_offsets_req_topic lt = { .name = kw_str_c("t"), .n_partitions = 1,
                                            .partitions = &lp };
    struct kw_list_offsets_req lo = { .replica_id = -1, .n_topics = 1, .topics = &lt };
    for (int i = 0; i < 50; i++) {
        int32_t id = k.next_correlation_id++;
        if (i % 3 == 0)
            kc_encode(&out, KW_API_METADATA, 1, id, k.client_id, &md);
        else if (i % 3 == 1)
            kc_encode(&out, KW_API_API_VERSIONS, 3, id, k.client_id, &av);
        else
            kc_encode(&out, KW_API_LIST_OFFSETS, 1, id, k.client_id, &lo);
    }
    CU_ASSERT_EQUAL_FATAL(out.err, KW_OK);
    CU_ASSERT_EQUAL(kc_send_raw(&k, out.data, out.len, KC_WAIT_MS), (int64_t)out.len);
    int ok = 0;
    for (int i = 0; i < 50; i++) {
        int rc;
        if (i % 3 == 0) {
            struct kw_metadata_resp m;
            rc = kc_recv(&k, KW_API_METADATA, 1, i + 1, &m, KC_WAIT_MS);
            rc = rc ? rc : m.n_topics == 1 ? 0 : -1;
        } else if (i % 3 == 1) {
            struct kw_api_versions_resp a;
            rc = kc_recv(&k, KW_API_API_VERSIONS, 3, i + 1, &a, KC_WAIT_MS);
            rc = rc ? rc : a.error_code;
        } else {
            struct kw_list_offsets_resp l;
            rc = kc_recv(&k, KW_API_LIST_OFFSETS, 1, i + 1, &l, KC_WAIT_MS);
            rc = rc ? rc : l.topics[0].partitions[0].error_code;
        }
        if (rc != 0) {
            fprintf(stderr, "pipelined request %d: %d\n", i, rc);
            break;
        }
        ok++;
    }
    CU_ASSERT_EQUAL(ok, 50);
    CU_ASSERT_EQUAL(mb_request_count(c, 1, -1), 50);
    CU_ASSERT_EQUAL(mb_request_count(c, -1, KW_API_API_VERSIONS), 17);
    CU_ASSERT(!kc_readable(&k));
    kw_buf_release(&out);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* Frames larger than the read buffer are read straight into their own memory, with only the
 * start of what follows read ahead: pipelined big and small requests of many sizes, some
 * cut so that the next size prefix straddles two reads, must each be answered in order and
 * stored whole. */
static void test_pipelined_large_and_small_frames_are_each_stored_and_answered(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "t", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    static const int counts[] = { 9000, 1, 14000, 3, 7000, 6500, 2, 20000, 1, 8000 };
    enum { N = sizeof(counts) / sizeof(counts[0]) };
    struct kw_buf out, batch;
    kw_buf_init(&out);
    kw_buf_init(&batch);
    struct kw_metadata_req md = { .n_topics = -1 };
    int64_t total = 0;
    for (int i = 0; i < N; i++) {
        kw_buf_reset(&batch);
        kc_batch(&batch, KW_CODEC_NONE, -1, -1, -1, (int)total, counts[i], 1000);
        total += counts[i];
        struct kw_produce_req_partition part = {
            .index = 0, .records = { batch.data, (int32_t)batch.len },
        };
        struct kw_produce_req_topic topic = {
            .name = kw_str_c("t"), .n_partition_data = 1, .partition_data = &part,
        };
        struct kw_produce_req req = {
            .transactional_id = KW_STR_NULL, .acks = 1, .timeout_ms = 30000,
            .n_topic_data = 1, .topic_data = &topic,
        };
        kc_encode(&out, KW_API_PRODUCE, 7, k.next_correlation_id++, k.client_id, &req);
        kc_encode(&out, KW_API_METADATA, 1, k.next_correlation_id++, k.client_id, &md);
    }
    CU_ASSERT_EQUAL_FATAL(out.err, KW_OK);
    CU_ASSERT(out.len > 4 * (64u << 10));
    CU_ASSERT_EQUAL(kc_send_raw(&k, out.data, out.len, KC_WAIT_MS), (int64_t)out.len);
    int ok = 0;
    int64_t expect_base = 0;
    for (int i = 0; i < N; i++) {
        struct kw_produce_resp p;
        struct kw_metadata_resp m;
        int rc = kc_recv(&k, KW_API_PRODUCE, 7, 2 * i + 1, &p, KC_WAIT_MS);
        if (rc == 0 && (p.responses[0].partition_responses[0].error_code != 0 ||
                        p.responses[0].partition_responses[0].base_offset != expect_base))
            rc = -1;
        expect_base += counts[i];
        if (rc == 0)
            rc = kc_recv(&k, KW_API_METADATA, 1, 2 * i + 2, &m, KC_WAIT_MS);
        if (rc != 0) {
            fprintf(stderr, "pair %d: %d\n", i, rc);
            break;
        }
        ok++;
    }
    CU_ASSERT_EQUAL(ok, N);
    CU_ASSERT_EQUAL(log_end(c, "t", 0), total);
    struct mb_records *r = mb_partition_records(c, "t", 0, 0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->count, (size_t)total);
    bool same = r->count == (size_t)total;
    for (size_t i = 0; same && i < r->count; i += 997) {
        char want[24];
        int n = snprintf(want, sizeof(want), "v%zu", i);
        same = r->records[i].offset == (int64_t)i && r->records[i].value_len == n &&
               memcmp(r->records[i].value, want, (size_t)n) == 0;
    }
    CU_ASSERT(same);
    mb_records_destroy(r);
    CU_ASSERT(!kc_readable(&k));
    kw_buf_release(&batch);
    kw_buf_release(&out);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- InitProducerId -------------------------------------------------------------------------- */

static int init_pid(struct kc_conn *k, int version, const char *txn, int64_t pid, int16_t epoch,
                    struct kw_init_producer_id_resp *resp)
{
    struct kw_init_producer_id_req req = {
        .transactional_id = kw_str_c(txn),
        .transaction_timeout_ms = 60000,
        .producer_id = pid,
        .producer_epoch = epoch,
    };
    return kc_call(k, KW_API_INIT_PRODUCER_ID, version, &req, resp);
}

static void test_init_producer_id_hands_out_ids_from_the_base(void)
{
    for (int round = 0; round < 2; round++) {
        struct mb_config cfg;
        config(&cfg, 1);
        if (round == 1)
            cfg.producer_id_base = 5000;
        int64_t base = round == 0 ? 1000 : 5000;
        struct mb_cluster *c = start_with(&cfg);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        struct kc_conn k;
        CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
        for (int i = 0; i < 3; i++) {
            struct kw_init_producer_id_resp r;
            CU_ASSERT_EQUAL(init_pid(&k, i == 2 ? 4 : 0, NULL, -1, -1, &r), KW_OK);
            CU_ASSERT_EQUAL(r.error_code, 0);
            CU_ASSERT_EQUAL(r.producer_id, base + i);
            CU_ASSERT_EQUAL(r.producer_epoch, 0);
        }
        kc_close(&k);
        mb_cluster_destroy(c);
    }
}

static void test_init_producer_id_with_a_transactional_id_bumps_the_epoch(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_init_producer_id_resp r;
    CU_ASSERT_EQUAL(init_pid(&k, 1, "tx", -1, -1, &r), KW_OK);
    CU_ASSERT_EQUAL(r.error_code, 0);
    int64_t pid = r.producer_id;
    CU_ASSERT(pid >= 1000);
    CU_ASSERT_EQUAL(r.producer_epoch, 0);
    for (int i = 1; i <= 3; i++) {
        CU_ASSERT_EQUAL(init_pid(&k, 3, "tx", -1, -1, &r), KW_OK);
        CU_ASSERT_EQUAL(r.error_code, 0);
        CU_ASSERT_EQUAL(r.producer_id, pid);
        CU_ASSERT_EQUAL(r.producer_epoch, i);
    }
    /* A transactional id needs a sane transaction timeout. */
    struct kw_init_producer_id_req bad = { .transactional_id = kw_str_c("tx"),
                                           .transaction_timeout_ms = 0, .producer_id = -1,
                                           .producer_epoch = -1 };
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_INIT_PRODUCER_ID, 2, &bad, &r), KW_OK);
    CU_ASSERT_EQUAL(r.error_code, KW_EC_INVALID_TRANSACTION_TIMEOUT);
    CU_ASSERT_EQUAL(r.producer_id, -1);
    /* Another transactional id gets its own producer id. */
    CU_ASSERT_EQUAL(init_pid(&k, 3, "tx2", -1, -1, &r), KW_OK);
    CU_ASSERT(r.error_code == 0 && r.producer_id != pid && r.producer_epoch == 0);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_init_producer_id_v4_with_a_stale_epoch_is_producer_fenced(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_init_producer_id_resp r;
    CU_ASSERT_EQUAL(init_pid(&k, 4, "fence", -1, -1, &r), KW_OK);
    int64_t pid = r.producer_id;
    CU_ASSERT_EQUAL(init_pid(&k, 4, "fence", -1, -1, &r), KW_OK);
    CU_ASSERT_EQUAL(r.producer_epoch, 1);
    CU_ASSERT_EQUAL(init_pid(&k, 4, "fence", pid, 0, &r), KW_OK);     /* stale */
    CU_ASSERT_EQUAL(r.error_code, KW_EC_PRODUCER_FENCED);
    CU_ASSERT_EQUAL(init_pid(&k, 3, "fence", pid, 0, &r), KW_OK);     /* before KIP-588 */
    CU_ASSERT_EQUAL(r.error_code, KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(init_pid(&k, 4, "fence", pid, 1, &r), KW_OK);     /* current: bumps */
    CU_ASSERT_EQUAL(r.error_code, 0);
    CU_ASSERT(r.producer_id == pid && r.producer_epoch == 2);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- Fetch ----------------------------------------------------------------------------------- */

static void test_fetch_returns_records_from_the_offset_with_hw_and_log_start(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "f", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    CU_ASSERT_EQUAL(produce_n(&k, "f", 0, 3, 1000), 0);
    CU_ASSERT_EQUAL(produce_n(&k, "f", 3, 2, 2000), 3);
    CU_ASSERT_EQUAL(produce_n(&k, "f", 5, 4, 3000), 5);
    static const int versions[] = { 4, 7, 11, 12 };
    for (int v = 0; v < 4; v++) {
        struct kc_fetched f;
        int magic;
        int64_t first, last;
        CU_ASSERT_EQUAL_FATAL(kc_fetch(&k, versions[v], "f", 0, 4, 1 << 20, 0, 1, -1, &f),
                              KW_OK);
        CU_ASSERT_EQUAL(f.error_code, 0);
        CU_ASSERT_EQUAL(f.high_watermark, 9);
        if (versions[v] >= 5)
            CU_ASSERT_EQUAL(f.log_start_offset, 0);
        /* Whole batches: the one holding offset 4 starts at 3. */
        CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 6);
        CU_ASSERT(magic == 2 && first == 3 && last == 8);
    }
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "f", 0, 9, 1 << 20, 0, 0, -1, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len == 0 && f.high_watermark == 9);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "f", 0, 10, 1 << 20, 0, 0, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_OFFSET_OUT_OF_RANGE);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "f", 1, 0, 1 << 20, 0, 0, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "nosuch", 0, 0, 1 << 20, 0, 0, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_partition_max_bytes_limits_but_the_first_batch_always_comes(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "f", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    size_t sizes[3];
    for (int i = 0; i < 3; i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, i * 4, 4, 1000);
        sizes[i] = b.len;
        CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "f", 0, b.data, b.len, NULL, NULL), 0);
        kw_buf_release(&b);
    }
    struct kc_fetched f;
    int magic;
    int64_t first, last;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "f", 0, 0, 1, 0, 1, -1, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len == sizes[0]);
    CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 4);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "f", 0, 0, (int32_t)(sizes[0] + sizes[1]), 0, 1, -1, &f),
                    KW_OK);
    CU_ASSERT_EQUAL(f.len, sizes[0] + sizes[1]);
    CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 8);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "f", 0, 0, (int32_t)(sizes[0] + sizes[1] + sizes[2] - 1),
                             0, 1, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(f.len, sizes[0] + sizes[1]);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "f", 0, 4, 1, 0, 1, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 4);
    CU_ASSERT_EQUAL(first, 4);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_fetch_max_bytes_spans_partitions_and_non_leaders_are_refused(void)
{
    struct mb_cluster *c = start(2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "mp", 4, 1, NULL, 0), 0);
    /* The partitions broker 1 leads, and one it does not. */
    int led[4], n_led = 0, other = -1;
    for (int p = 0; p < 4; p++) {
        struct mb_partition_info info;
        CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "mp", p, &info), 0);
        if (info.leader == 1)
            led[n_led++] = p;
        else
            other = p;
    }
    CU_ASSERT_FATAL(n_led == 2 && other >= 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 3, 1000);
    size_t one = b.len;
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "mp", led[i], b.data, b.len, NULL, NULL), 0);
        CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "mp", led[i], b.data, b.len, NULL, NULL), 0);
    }
    /* MaxBytes of three batches over two partitions of two batches each. */
    struct kw_fetch_req_partition ps[3] = {
        { .partition = led[0], .current_leader_epoch = -1, .last_fetched_epoch = -1,
          .log_start_offset = -1, .partition_max_bytes = 1 << 20 },
        { .partition = led[1], .current_leader_epoch = -1, .last_fetched_epoch = -1,
          .log_start_offset = -1, .partition_max_bytes = 1 << 20 },
        { .partition = other, .current_leader_epoch = -1, .last_fetched_epoch = -1,
          .log_start_offset = -1, .partition_max_bytes = 1 << 20 },
    };
    struct kw_fetch_req_topic t = { .topic = kw_str_c("mp"), .n_partitions = 3,
                                    .partitions = ps };
    struct kw_fetch_req req = { .replica_id = -1, .max_wait_ms = 0, .min_bytes = 1,
                                .max_bytes = (int32_t)(3 * one), .session_epoch = -1,
                                .n_topics = 1, .topics = &t, .rack_id = kw_str_c("") };
    struct kw_fetch_resp resp;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_FETCH, 12, &req, &resp), KW_OK);
    CU_ASSERT_FATAL(resp.n_responses == 1 && resp.responses[0].n_partitions == 3);
    const struct kw_fetch_resp_partition *o = resp.responses[0].partitions;
    CU_ASSERT(o[0].error_code == 0 && o[0].records.len == (int32_t)(2 * one));
    CU_ASSERT(o[1].error_code == 0 && o[1].records.len == (int32_t)one);
    CU_ASSERT_EQUAL(o[2].error_code, KW_EC_NOT_LEADER_OR_FOLLOWER);
    CU_ASSERT_EQUAL(o[2].current_leader.leader_id, 2);
    CU_ASSERT_EQUAL(o[2].current_leader.leader_epoch, 0);
    CU_ASSERT(o[2].records.len <= 0);

    /* ListOffsets refuses a partition this broker does not lead, too. */
    struct kw_list_offsets_req_partition lp = { .partition_index = other, .timestamp = -1,
                                                .current_leader_epoch = -1 };
    struct kw_list_offsets_req_topic lt = { .name = kw_str_c("mp"), .n_partitions = 1,
                                            .partitions = &lp };
    struct kw_list_offsets_req lo = { .replica_id = -1, .n_topics = 1, .topics = &lt };
    struct kw_list_offsets_resp lr;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_LIST_OFFSETS, 7, &lo, &lr), KW_OK);
    CU_ASSERT_EQUAL(lr.topics[0].partitions[0].error_code, KW_EC_NOT_LEADER_OR_FOLLOWER);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

struct epoch_set {
    const char *topic;
    int32_t epoch;
};

static void set_leader_epoch(struct mb_cluster *c, void *arg)
{
    struct epoch_set *e = arg;
    struct mb__topic *t = mb__topic_find(c, e->topic, (int32_t)strlen(e->topic));
    struct mb__partition *p = mb__partition_find(t, 0);
    if (p)
        p->leader_epoch = e->epoch;
}

static void test_fetch_v9_checks_the_current_leader_epoch(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "e", 1, 1, NULL, 0), 0);
    /* No public call moves leadership yet: set the epoch on the loop thread, as an election
     * would, so that a lower epoch than the leader's exists. */
    struct epoch_set es = { "e", 5 };
    mb__call(c, set_leader_epoch, &es);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    CU_ASSERT_EQUAL(produce_n(&k, "e", 0, 2, 1000), 0);
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch(&k, 9, "e", 0, 0, 1 << 20, 0, 1, 4, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_FENCED_LEADER_EPOCH);
    CU_ASSERT_EQUAL(f.len, 0);
    CU_ASSERT_EQUAL(kc_fetch(&k, 12, "e", 0, 0, 1 << 20, 0, 1, 6, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_UNKNOWN_LEADER_EPOCH);
    CU_ASSERT_EQUAL(kc_fetch(&k, 9, "e", 0, 0, 1 << 20, 0, 1, 5, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len > 0);
    CU_ASSERT_EQUAL(kc_fetch(&k, 9, "e", 0, 0, 1 << 20, 0, 1, -1, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len > 0);
    /* The stored batch carries the leader epoch it was appended under. */
    struct kw_batch_hdr h;
    CU_ASSERT(kw_batch_peek(f.records, f.len, &h) > 0 && h.partition_leader_epoch == 5);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_fetch_v7_and_later_answer_session_id_0(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "s", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    for (int v = 7; v <= 12; v++) {
        struct kc_fetched f = { .session_id = -7 };
        CU_ASSERT_EQUAL(kc_fetch(&k, v, "s", 0, 0, 1 << 20, 0, 0, -1, &f), KW_OK);
        CU_ASSERT_EQUAL(f.session_id, 0);
        CU_ASSERT_EQUAL(f.error_code, 0);
    }
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_a_long_poll_fetch_is_answered_when_another_connection_produces(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "lp", 1, 1, NULL, 0), 0);
    struct kc_conn reader, writer;
    CU_ASSERT_EQUAL(connect_to(&reader, c, 1), 0);
    CU_ASSERT_EQUAL(connect_to(&writer, c, 1), 0);
    int32_t id = kc_fetch_send(&reader, 11, "lp", 0, 0, 1 << 20, 30000, 1);
    CU_ASSERT(id > 0);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(mb_wait_until(c, fetches_seen, &one, KC_WAIT_MS), 0);
    struct kc_fetched f;
    /* Held: nothing arrives while the log is empty. */
    CU_ASSERT_EQUAL(kc_fetch_recv(&reader, 11, id, 100, &f), KC_TIMEOUT);
    int64_t t0 = kc_now_ms();
    CU_ASSERT_EQUAL(produce_n(&writer, "lp", 0, 3, 1000), 0);
    CU_ASSERT_EQUAL(kc_fetch_recv(&reader, 11, id, KC_WAIT_MS, &f), KW_OK);
    int64_t waited = kc_now_ms() - t0;
    CU_ASSERT(waited < KC_WAIT_MS);
    CU_ASSERT_EQUAL(f.error_code, 0);
    CU_ASSERT_EQUAL(f.high_watermark, 3);
    int magic;
    int64_t first, last;
    CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 3);
    kc_close(&reader);
    kc_close(&writer);
    mb_cluster_destroy(c);
}

static void test_a_long_poll_fetch_whose_max_wait_expires_is_answered_empty(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "lp", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    int64_t t0 = kc_now_ms();
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "lp", 0, 0, 1 << 20, 150, 1, -1, &f), KW_OK);
    int64_t waited = kc_now_ms() - t0;
    CU_ASSERT(waited >= 140);
    CU_ASSERT(waited < 150 + KC_WAIT_MS);
    CU_ASSERT(f.error_code == 0 && f.len == 0 && f.high_watermark == 0);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_requests_behind_a_held_fetch_wait_their_turn(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "lp", 1, 1, NULL, 0), 0);
    struct kc_conn reader, writer;
    CU_ASSERT_EQUAL(connect_to(&reader, c, 1), 0);
    CU_ASSERT_EQUAL(connect_to(&writer, c, 1), 0);
    int32_t fid = kc_fetch_send(&reader, 4, "lp", 0, 0, 1 << 20, 30000, 1);
    struct kw_metadata_req md = { .n_topics = -1 };
    int32_t mid = kc_send(&reader, KW_API_METADATA, 1, &md);
    CU_ASSERT(fid > 0 && mid > 0);
    uint64_t one = 1;
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL(mb_wait_until(c, requests_seen, &one, KC_WAIT_MS), 0);
    /* As a Kafka broker mutes a connection while a request on it is in progress, the Metadata
     * request is not even read until the Fetch is answered. */
    CU_ASSERT_EQUAL(kc_recv(&reader, KW_API_METADATA, 1, mid, &m, 100), KC_TIMEOUT);
    CU_ASSERT_EQUAL(mb_request_count(c, -1, KW_API_METADATA), 0);
    CU_ASSERT_EQUAL(produce_n(&writer, "lp", 0, 1, 1000), 0);
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch_recv(&reader, 4, fid, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.high_watermark == 1 && f.len > 0);
    CU_ASSERT_EQUAL(kc_recv(&reader, KW_API_METADATA, 1, mid, &m, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL(m.n_topics, 1);
    kc_close(&reader);
    kc_close(&writer);
    mb_cluster_destroy(c);
}

static void test_a_long_poll_waits_until_min_bytes_have_arrived(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "mb", 1, 1, NULL, 0), 0);
    struct kc_conn reader, writer;
    CU_ASSERT_EQUAL(connect_to(&reader, c, 1), 0);
    CU_ASSERT_EQUAL(connect_to(&writer, c, 1), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 1, 1000);
    /* MinBytes of two and a half batches: the third one releases the answer. */
    int32_t id = kc_fetch_send(&reader, 11, "mb", 0, 0, 1 << 20, 30000,
                               (int32_t)(2 * b.len + b.len / 2));
    uint64_t one = 1;
    CU_ASSERT_EQUAL(mb_wait_until(c, fetches_seen, &one, KC_WAIT_MS), 0);
    struct kc_fetched f;
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(kc_produce(&writer, 9, 1, "mb", 0, b.data, b.len, NULL, NULL), 0);
        CU_ASSERT_EQUAL(kc_fetch_recv(&reader, 11, id, 50, &f), KC_TIMEOUT);
    }
    CU_ASSERT_EQUAL(kc_produce(&writer, 9, 1, "mb", 0, b.data, b.len, NULL, NULL), 0);
    CU_ASSERT_EQUAL(kc_fetch_recv(&reader, 11, id, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len == 3 * b.len);
    kw_buf_release(&b);
    kc_close(&reader);
    kc_close(&writer);
    mb_cluster_destroy(c);
}

static void test_a_client_that_leaves_during_a_long_poll_is_forgotten(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "gone", 1, 1, NULL, 0), 0);
    struct kc_conn reader, other, writer;
    CU_ASSERT_EQUAL(connect_to(&reader, c, 1), 0);
    CU_ASSERT_EQUAL(connect_to(&other, c, 1), 0);
    CU_ASSERT_EQUAL(connect_to(&writer, c, 1), 0);
    CU_ASSERT(kc_fetch_send(&reader, 11, "gone", 0, 0, 1 << 20, 30000, 1) > 0);
    int32_t id = kc_fetch_send(&other, 11, "gone", 0, 0, 1 << 20, 30000, 1);
    uint64_t two = 2;
    CU_ASSERT_EQUAL(mb_wait_until(c, fetches_seen, &two, KC_WAIT_MS), 0);
    kc_close(&reader);
    /* The broker notices the close before the next request on another connection? Not
     * necessarily: either way the append must wake only live waiters. */
    CU_ASSERT_EQUAL(produce_n(&writer, "gone", 0, 2, 1000), 0);
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch_recv(&other, 11, id, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.high_watermark == 2);
    CU_ASSERT_EQUAL(produce_n(&writer, "gone", 2, 2, 1000), 2);
    kc_close(&other);
    kc_close(&writer);
    mb_cluster_destroy(c);
}

static void test_deleting_a_topic_answers_its_long_polls(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "del", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    int32_t id = kc_fetch_send(&k, 11, "del", 0, 0, 1 << 20, 30000, 1);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(mb_wait_until(c, fetches_seen, &one, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(mb_topic_delete(c, "del"), 0);
    CU_ASSERT_EQUAL(mb_topic_delete(c, "del"), KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    struct kc_fetched f;
    int rc = kc_fetch_recv(&k, 11, id, 1000, &f);
    CU_ASSERT_EQUAL(rc, KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- caller-driven mode ---------------------------------------------------------------------- */

static void test_in_caller_driven_mode_mb_wait_until_runs_the_callers_loop(void)
{
    struct event_base *base = event_base_new();
    struct kw_vclock *v = kw_vclock_new(1000000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct mb_config cfg;
    config(&cfg, 1);
    cfg.base = base;
    cfg.clock = kw_vclock_clock(v);
    struct mb_cluster *c = start_with(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "cd", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 3, 1000);
    /* acks=0: no answer to wait for, so only mb_wait_offset running our loop gets it read. */
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 0, "cd", 0, b.data, b.len, NULL, NULL), 0);
    CU_ASSERT_EQUAL(log_end(c, "cd", 0), 0);
    CU_ASSERT_EQUAL(mb_wait_offset(c, "cd", 0, 3, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(log_end(c, "cd", 0), 3);
    /* With the pump set, the client runs our loop while it waits for an answer. */
    k.pump = base;
    int64_t base_offset = -1;
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "cd", 0, b.data, b.len, &base_offset, NULL), 0);
    CU_ASSERT_EQUAL(base_offset, 3);
    int64_t t0 = kc_now_ms();
    CU_ASSERT_EQUAL(mb_wait_until(c, never, NULL, 100), -1);
    int64_t waited = kc_now_ms() - t0;
    CU_ASSERT(waited >= 90 && waited < 100 + KC_WAIT_MS);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
    kw_vclock_destroy(v);
    event_base_free(base);
}

static void test_in_caller_driven_mode_max_wait_expires_only_with_the_virtual_clock(void)
{
    struct event_base *base = event_base_new();
    struct kw_vclock *v = kw_vclock_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct mb_config cfg;
    config(&cfg, 1);
    cfg.base = base;
    cfg.clock = kw_vclock_clock(v);
    struct mb_cluster *c = start_with(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "vc", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    k.pump = base;
    int32_t id = kc_fetch_send(&k, 11, "vc", 0, 0, 1 << 20, 500, 1);
    CU_ASSERT(id > 0);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(mb_wait_until(c, fetches_seen, &one, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), 500000);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CU_ASSERT(!kc_readable(&k));
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 499000), 0);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CU_ASSERT(!kc_readable(&k));
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 1000), 1);
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch_recv(&k, 11, id, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len == 0 && f.high_watermark == 0);
    CU_ASSERT_EQUAL(kw_vclock_next_deadline(v), -1);
    kc_close(&k);
    mb_cluster_destroy(c);
    kw_vclock_destroy(v);
    event_base_free(base);
}

/* --- ListOffsets ----------------------------------------------------------------------------- */

static int list_offsets(struct kc_conn *k, int version, const char *topic, int64_t ts,
                        int32_t max_num, struct kw_list_offsets_resp_partition *out)
{
    struct kw_list_offsets_req_partition p = { .partition_index = 0, .timestamp = ts,
                                               .current_leader_epoch = -1,
                                               .max_num_offsets = max_num };
    struct kw_list_offsets_req_topic t = { .name = kw_str_c(topic), .n_partitions = 1,
                                           .partitions = &p };
    struct kw_list_offsets_req req = { .replica_id = -1, .n_topics = 1, .topics = &t };
    struct kw_list_offsets_resp resp;
    memset(out, 0, sizeof(*out));
    int rc = kc_call(k, KW_API_LIST_OFFSETS, version, &req, &resp);
    if (rc != KW_OK)
        return rc;
    if (resp.n_topics != 1 || resp.topics[0].n_partitions != 1)
        return KW_ERR_CORRUPT;
    *out = resp.topics[0].partitions[0];
    return KW_OK;
}

static void test_list_offsets_answers_earliest_latest_and_by_timestamp(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "lo", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    CU_ASSERT_EQUAL(produce_n(&k, "lo", 0, 3, 1000), 0);     /* 0-2: 1000..1002 */
    CU_ASSERT_EQUAL(produce_n(&k, "lo", 3, 2, 5000), 3);     /* 3-4: 5000, 5001 */
    CU_ASSERT_EQUAL(produce_n(&k, "lo", 5, 4, 2000), 5);     /* 5-8: 2000..2003 */
    struct kw_list_offsets_resp_partition p;
    CU_ASSERT_EQUAL(list_offsets(&k, 1, "lo", -2, 1, &p), KW_OK);
    CU_ASSERT(p.error_code == 0 && p.offset == 0);
    CU_ASSERT_EQUAL(list_offsets(&k, 1, "lo", -1, 1, &p), KW_OK);
    CU_ASSERT(p.error_code == 0 && p.offset == 9);
    CU_ASSERT_EQUAL(list_offsets(&k, 4, "lo", 1001, 1, &p), KW_OK);
    CU_ASSERT(p.error_code == 0 && p.offset == 1 && p.timestamp == 1001);
    CU_ASSERT_EQUAL(p.leader_epoch, 0);
    CU_ASSERT_EQUAL(list_offsets(&k, 6, "lo", 1500, 1, &p), KW_OK);
    CU_ASSERT(p.error_code == 0 && p.offset == 3 && p.timestamp == 5000);
    CU_ASSERT_EQUAL(list_offsets(&k, 7, "lo", 6000, 1, &p), KW_OK);
    CU_ASSERT(p.error_code == 0 && p.offset == -1 && p.timestamp == -1);
    CU_ASSERT_EQUAL(list_offsets(&k, 7, "lo", -3, 1, &p), KW_OK);
    CU_ASSERT(p.error_code == 0 && p.offset == 4 && p.timestamp == 5001);
    CU_ASSERT_EQUAL(list_offsets(&k, 7, "nosuch", -1, 1, &p), KW_OK);
    CU_ASSERT_EQUAL(p.error_code, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_list_offsets_v0_answers_old_style_offsets(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "lo", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    CU_ASSERT_EQUAL(produce_n(&k, "lo", 0, 4, 1000), 0);
    struct kw_list_offsets_resp_partition p;
    CU_ASSERT_EQUAL(list_offsets(&k, 0, "lo", -1, 2, &p), KW_OK);
    CU_ASSERT_EQUAL(p.error_code, 0);
    CU_ASSERT_EQUAL_FATAL(p.n_old_style_offsets, 2);
    CU_ASSERT(p.old_style_offsets[0] == 4 && p.old_style_offsets[1] == 0);
    CU_ASSERT_EQUAL(list_offsets(&k, 0, "lo", -2, 1, &p), KW_OK);
    CU_ASSERT_EQUAL_FATAL(p.n_old_style_offsets, 1);
    CU_ASSERT_EQUAL(p.old_style_offsets[0], 0);
    CU_ASSERT_EQUAL(list_offsets(&k, 0, "lo", -1, 1, &p), KW_OK);
    CU_ASSERT_EQUAL_FATAL(p.n_old_style_offsets, 1);
    CU_ASSERT_EQUAL(p.old_style_offsets[0], 4);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- CreateTopics, DeleteTopics -------------------------------------------------------------- */

struct create_args {
    int32_t partitions;
    int16_t replication;
    bool validate_only;
    const struct kw_create_topics_req_config *configs;
    int n_configs;
    struct kw_create_topics_req_assignment *assignments;
    int n_assignments;
};

static int create_topic(struct kc_conn *k, int version, const char *name,
                        const struct create_args *a, struct kw_create_topics_resp_topic *out)
{
    struct kw_create_topics_req_topic t = {
        .name = kw_str_c(name),
        .num_partitions = a->partitions,
        .replication_factor = a->replication,
        .assignments = a->assignments,
        .n_assignments = a->n_assignments,
        .configs = (struct kw_create_topics_req_config *)a->configs,
        .n_configs = a->n_configs,
    };
    struct kw_create_topics_req req = { .topics = &t, .n_topics = 1, .timeout_ms = 5000,
                                        .validate_only = a->validate_only };
    struct kw_create_topics_resp resp;
    memset(out, 0, sizeof(*out));
    int rc = kc_call(k, KW_API_CREATE_TOPICS, version, &req, &resp);
    if (rc != KW_OK)
        return rc;
    if (resp.n_topics != 1 || !kw_str_eq(resp.topics[0].name, name))
        return KW_ERR_CORRUPT;
    *out = resp.topics[0];
    return KW_OK;
}

static void test_create_topics_creates_and_refuses_a_second_time(void)
{
    struct mb_cluster *c = start(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_create_topics_resp_topic o;
    struct create_args a = { .partitions = 3, .replication = 2 };
    CU_ASSERT_EQUAL(create_topic(&k, 7, "ct", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, 0);
    CU_ASSERT(o.num_partitions == 3 && o.replication_factor == 2);
    CU_ASSERT(!uuid_zero(o.topic_id));
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(c, "ct", 2, &info), 0);
    CU_ASSERT_EQUAL(info.n_replicas, 2);
    CU_ASSERT_EQUAL(create_topic(&k, 7, "ct", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_TOPIC_ALREADY_EXISTS);
    CU_ASSERT(o.error_message.len > 0);
    /* -1 means the broker's defaults. */
    struct create_args d = { .partitions = -1, .replication = -1 };
    CU_ASSERT_EQUAL(create_topic(&k, 0, "dflt", &d, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, 0);
    CU_ASSERT_EQUAL(mb_partition_info(c, "dflt", 0, &info), 0);
    CU_ASSERT_EQUAL(info.n_replicas, 3);
    CU_ASSERT_EQUAL(mb_partition_info(c, "dflt", 1, &info), KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_create_topics_refuses_bad_partition_counts_and_replication(void)
{
    struct mb_config cfg;
    config(&cfg, 3);
    cfg.max_partitions = 10;
    struct mb_cluster *c = start_with(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_create_topics_resp_topic o;
    struct create_args zero = { .partitions = 0, .replication = 1 };
    struct create_args many = { .partitions = 11, .replication = 1 };
    struct create_args rf = { .partitions = 1, .replication = 4 };
    struct create_args bad = { .partitions = 1, .replication = 1 };
    CU_ASSERT_EQUAL(create_topic(&k, 4, "zero", &zero, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_INVALID_PARTITIONS);
    CU_ASSERT_EQUAL(create_topic(&k, 5, "many", &many, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_INVALID_PARTITIONS);
    CU_ASSERT_EQUAL(create_topic(&k, 7, "rf", &rf, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_INVALID_REPLICATION_FACTOR);
    CU_ASSERT_EQUAL(create_topic(&k, 7, "bad/name", &bad, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_INVALID_TOPIC_EXCEPTION);
    /* The same name twice in one request: the second is refused, the first created. */
    struct kw_create_topics_req_topic twice[2] = {
        { .name = kw_str_c("twice"), .num_partitions = 1, .replication_factor = 1 },
        { .name = kw_str_c("twice"), .num_partitions = 2, .replication_factor = 1 },
    };
    struct kw_create_topics_req req = { .topics = twice, .n_topics = 2, .timeout_ms = 5000 };
    struct kw_create_topics_resp resp;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_CREATE_TOPICS, 7, &req, &resp), KW_OK);
    CU_ASSERT_FATAL(resp.n_topics == 2);
    CU_ASSERT_EQUAL(resp.topics[0].error_code, 0);
    CU_ASSERT_EQUAL(resp.topics[1].error_code, KW_EC_INVALID_REQUEST);
    CU_ASSERT_EQUAL(log_end(c, "twice", 0), 0);
    CU_ASSERT_EQUAL(log_end(c, "twice", 1), -1);
    CU_ASSERT_EQUAL(log_end(c, "zero", 0), -1);
    CU_ASSERT_EQUAL(log_end(c, "many", 0), -1);
    CU_ASSERT_EQUAL(log_end(c, "rf", 0), -1);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_create_topics_validate_only_creates_nothing(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "exists", 1, 1, NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_create_topics_resp_topic o;
    struct create_args a = { .partitions = 2, .replication = 1, .validate_only = true };
    CU_ASSERT_EQUAL(create_topic(&k, 1, "dry", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, 0);
    CU_ASSERT_EQUAL(log_end(c, "dry", 0), -1);
    CU_ASSERT_EQUAL(create_topic(&k, 7, "exists", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_TOPIC_ALREADY_EXISTS);
    a.partitions = 0;
    CU_ASSERT_EQUAL(create_topic(&k, 7, "dry", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_INVALID_PARTITIONS);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_create_topics_applies_configs(void)
{
    struct mb_cluster *c = start(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_create_topics_req_config configs[] = {
        { kw_str_c("min.insync.replicas"), kw_str_c("3") },
        { kw_str_c("cleanup.policy"), kw_str_c("delete") },     /* accepted, no effect */
    };
    struct create_args a = { .partitions = 1, .replication = 2, .configs = configs,
                             .n_configs = 2 };
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_create_topics_resp_topic o;
    CU_ASSERT_EQUAL(create_topic(&k, 7, "cfg", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, 0);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "cfg", 0, &info), 0);
    struct kc_conn leader;
    CU_ASSERT_EQUAL(connect_to(&leader, c, info.leader), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 1, 1000);
    /* Two replicas in sync, three required. */
    CU_ASSERT_EQUAL(kc_produce(&leader, 9, -1, "cfg", 0, b.data, b.len, NULL, NULL),
                    KW_EC_NOT_ENOUGH_REPLICAS);
    CU_ASSERT_EQUAL(kc_produce(&leader, 9, 1, "cfg", 0, b.data, b.len, NULL, NULL), 0);

    struct kw_create_topics_req_config bad[] = { { kw_str_c("min.insync.replicas"),
                                                   kw_str_c("zero") } };
    a.configs = bad;
    a.n_configs = 1;
    CU_ASSERT_EQUAL(create_topic(&k, 7, "badcfg", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_INVALID_CONFIG);
    CU_ASSERT_EQUAL(log_end(c, "badcfg", 0), -1);
    kw_buf_release(&b);
    kc_close(&leader);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_create_topics_honours_a_manual_assignment(void)
{
    struct mb_cluster *c = start(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int32_t p0[] = { 3, 1 }, p1[] = { 2, 3 };
    struct kw_create_topics_req_assignment as[] = {
        { .partition_index = 0, .broker_ids = p0, .n_broker_ids = 2 },
        { .partition_index = 1, .broker_ids = p1, .n_broker_ids = 2 },
    };
    struct create_args a = { .partitions = -1, .replication = -1, .assignments = as,
                             .n_assignments = 2 };
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_create_topics_resp_topic o;
    CU_ASSERT_EQUAL(create_topic(&k, 7, "manual", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, 0);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "manual", 0, &info), 0);
    CU_ASSERT(info.leader == 3 && info.n_replicas == 2);
    CU_ASSERT(info.replicas[0] == 3 && info.replicas[1] == 1);
    CU_ASSERT(info.n_isr == 2 && info.isr[0] == 3 && info.isr[1] == 1);
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "manual", 1, &info), 0);
    CU_ASSERT(info.leader == 2 && info.replicas[0] == 2 && info.replicas[1] == 3);
    /* Metadata agrees. */
    const char *names[] = { "manual" };
    struct kw_metadata_resp m;
    CU_ASSERT_EQUAL_FATAL(metadata(&k, 9, names, 1, false, &m), KW_OK);
    CU_ASSERT_FATAL(m.n_topics == 1 && m.topics[0].n_partitions == 2);
    CU_ASSERT_EQUAL(m.topics[0].partitions[0].leader_id, 3);
    CU_ASSERT_EQUAL(m.topics[0].partitions[1].leader_id, 2);
    /* An assignment naming a broker we do not have. */
    int32_t p9[] = { 9 };
    struct kw_create_topics_req_assignment bad[] = {
        { .partition_index = 0, .broker_ids = p9, .n_broker_ids = 1 } };
    a.assignments = bad;
    a.n_assignments = 1;
    CU_ASSERT_EQUAL(create_topic(&k, 7, "manual2", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, KW_EC_INVALID_REPLICA_ASSIGNMENT);
    CU_ASSERT_EQUAL(log_end(c, "manual2", 0), -1);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_delete_topics_by_name_and_by_id(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_create_topics_resp_topic o;
    struct create_args a = { .partitions = 1, .replication = 1 };
    CU_ASSERT_EQUAL(create_topic(&k, 7, "d1", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(create_topic(&k, 7, "d2", &a, &o), KW_OK);
    uint8_t d2_id[16];
    memcpy(d2_id, o.topic_id, 16);
    CU_ASSERT_EQUAL(create_topic(&k, 7, "d3", &a, &o), KW_OK);

    struct kw_str names[] = { kw_str_c("d1"), kw_str_c("nope") };
    struct kw_delete_topics_req req = { .topic_names = names, .n_topic_names = 2,
                                        .timeout_ms = 5000 };
    struct kw_delete_topics_resp resp;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_DELETE_TOPICS, 5, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL_FATAL(resp.n_responses, 2);
    CU_ASSERT(kw_str_eq(resp.responses[0].name, "d1") && resp.responses[0].error_code == 0);
    CU_ASSERT(kw_str_eq(resp.responses[1].name, "nope"));
    CU_ASSERT_EQUAL(resp.responses[1].error_code, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(log_end(c, "d1", 0), -1);

    struct kw_delete_topics_req_topic topics[3];
    memset(topics, 0, sizeof(topics));
    topics[0].name = KW_STR_NULL;
    memcpy(topics[0].topic_id, d2_id, 16);
    topics[1].name = KW_STR_NULL;
    memset(topics[1].topic_id, 0x77, 16);
    topics[2].name = kw_str_c("d3");
    struct kw_delete_topics_req req6 = { .topics = topics, .n_topics = 3, .timeout_ms = 5000 };
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_DELETE_TOPICS, 6, &req6, &resp), KW_OK);
    CU_ASSERT_EQUAL_FATAL(resp.n_responses, 3);
    CU_ASSERT_EQUAL(resp.responses[0].error_code, 0);
    CU_ASSERT(kw_str_eq(resp.responses[0].name, "d2"));
    CU_ASSERT(memcmp(resp.responses[0].topic_id, d2_id, 16) == 0);
    CU_ASSERT_EQUAL(resp.responses[1].error_code, KW_EC_UNKNOWN_TOPIC_ID);
    CU_ASSERT_EQUAL(resp.responses[2].error_code, 0);
    CU_ASSERT(kw_str_eq(resp.responses[2].name, "d3"));
    CU_ASSERT_EQUAL(log_end(c, "d2", 0), -1);
    CU_ASSERT_EQUAL(log_end(c, "d3", 0), -1);
    /* The name is free again. */
    CU_ASSERT_EQUAL(create_topic(&k, 7, "d2", &a, &o), KW_OK);
    CU_ASSERT_EQUAL(o.error_code, 0);
    CU_ASSERT(memcmp(o.topic_id, d2_id, 16) != 0);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- hostile input --------------------------------------------------------------------------- */

/* Checks that a new connection is served and that partition t-0 holds nothing. */
static void expect_served(struct mb_cluster *c)
{
    struct kc_conn good;
    CU_ASSERT_EQUAL(connect_to(&good, c, 1), 0);
    const char *names[] = { "t" };
    struct kw_metadata_resp m;
    int rc = metadata(&good, 1, names, 1, false, &m);
    CU_ASSERT_EQUAL(rc, KW_OK);
    CU_ASSERT(rc == KW_OK && m.n_topics == 1 && m.topics[0].error_code == 0);
    kc_close(&good);
    CU_ASSERT_EQUAL(log_end(c, "t", 0), 0);
}

/* Sends bytes on a fresh connection, checks the broker closes it without a word, then that
 * the broker still serves others. */
static void expect_dropped(struct mb_cluster *c, const void *bytes, size_t n, const char *what)
{
    struct kc_conn bad;
    CU_ASSERT_EQUAL(connect_to(&bad, c, 1), 0);
    CU_ASSERT_EQUAL(kc_send_raw(&bad, bytes, n, KC_WAIT_MS), (int64_t)n);
    int rc = kc_expect_closed(&bad, KC_WAIT_MS);
    if (rc != 0)
        fprintf(stderr, "%s: not dropped (%d)\n", what, rc);
    CU_ASSERT_EQUAL(rc, 0);
    kc_close(&bad);
    expect_served(c);
}

static struct mb_cluster *hostile_cluster(void)
{
    struct mb_cluster *c = start(1);
    if (c && mb_topic_create(c, "t", 1, 1, NULL, 0) != 0) {
        mb_cluster_destroy(c);
        c = NULL;
    }
    return c;
}

static void test_bad_size_prefixes_close_the_connection(void)
{
    struct mb_cluster *c = hostile_cluster();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static const uint8_t prefixes[][4] = {
        { 0xff, 0xff, 0xff, 0xff },     /* -1 */
        { 0x00, 0x00, 0x00, 0x00 },     /* 0 */
        { 0x00, 0x00, 0x00, 0x07 },     /* shorter than any header */
        { 0x7f, 0xff, 0xff, 0xff },     /* 2 GiB */
        { 0x06, 0x40, 0x00, 0x01 },     /* 104857601: one past socket.request.max.bytes */
    };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        expect_dropped(c, prefixes[i], 4, "size prefix");
    mb_cluster_destroy(c);
}

static void test_a_truncated_frame_then_close_leaves_the_broker_serving(void)
{
    struct mb_cluster *c = hostile_cluster();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    struct kw_metadata_req md = { .n_topics = -1 };
    kc_encode(&b, KW_API_METADATA, 1, 1, "kwtest", &md);
    kw_wbe32(b.data, 100);      /* promises more than comes */
    CU_ASSERT_EQUAL(kc_send_raw(&k, b.data, b.len, KC_WAIT_MS), (int64_t)b.len);
    CU_ASSERT_EQUAL(kc_expect_closed(&k, 50), KC_TIMEOUT);   /* the broker waits for more */
    kc_close(&k);
    expect_served(c);
    CU_ASSERT_EQUAL(mb_request_count(c, -1, KW_API_METADATA), 1);
    kw_buf_release(&b);
    mb_cluster_destroy(c);
}

static void test_an_unknown_api_key_closes_the_connection(void)
{
    struct mb_cluster *c = hostile_cluster();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kw_put_i32(&b, 13);
    kw_put_i16(&b, 999);
    kw_put_i16(&b, 0);
    kw_put_i32(&b, 1);
    kw_put_str(&b, kw_str_c("kwt"));
    expect_dropped(c, b.data, b.len, "api key 999");
    kw_buf_reset(&b);
    /* A key Kafka has but we do not serve (SaslHandshake). */
    kw_put_i32(&b, 13);
    kw_put_i16(&b, 17);
    kw_put_i16(&b, 0);
    kw_put_i32(&b, 1);
    kw_put_str(&b, kw_str_c("kwt"));
    expect_dropped(c, b.data, b.len, "SaslHandshake");
    kw_buf_release(&b);
    mb_cluster_destroy(c);
}

static void produce_req_t(struct kw_produce_req *req, struct kw_produce_req_topic *t,
                          struct kw_produce_req_partition *p, const struct kw_buf *records)
{
    *p = (struct kw_produce_req_partition){ .index = 0,
                                            .records = { records->data, (int32_t)records->len } };
    *t = (struct kw_produce_req_topic){ .name = kw_str_c("t"), .n_partition_data = 1,
                                        .partition_data = p };
    *req = (struct kw_produce_req){ .transactional_id = KW_STR_NULL, .acks = 1,
                                    .timeout_ms = 5000, .n_topic_data = 1, .topic_data = t };
}

static void test_an_unsupported_produce_version_closes_the_connection(void)
{
    struct mb_cluster *c = hostile_cluster();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf records, b;
    kw_buf_init(&records);
    kw_buf_init(&b);
    kc_batch(&records, KW_CODEC_NONE, -1, -1, -1, 0, 1, 1000);
    struct kw_produce_req req;
    struct kw_produce_req_topic t;
    struct kw_produce_req_partition p;
    produce_req_t(&req, &t, &p, &records);
    CU_ASSERT_EQUAL(kc_encode(&b, KW_API_PRODUCE, 12, 1, "kwt", &req), KW_OK);
    expect_dropped(c, b.data, b.len, "Produce v12");
    kw_buf_release(&records);
    kw_buf_release(&b);
    mb_cluster_destroy(c);
}

static void test_a_body_that_does_not_parse_closes_the_connection(void)
{
    struct mb_cluster *c = hostile_cluster();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    size_t at = kw_reserve_i32(&b);
    kw_put_i16(&b, KW_API_PRODUCE);
    kw_put_i16(&b, 3);
    kw_put_i32(&b, 1);
    kw_put_str(&b, kw_str_c("kwt"));
    kw_put_i16(&b, -1);                 /* transactional id: null */
    kw_put_i16(&b, 1);                  /* acks */
    kw_put_i32(&b, 5000);
    kw_put_i32(&b, 1000000000);         /* topics: a billion, in a few bytes */
    kw_put_str(&b, kw_str_c("t"));
    kw_patch_i32(&b, at, (int32_t)(b.len - 4));
    expect_dropped(c, b.data, b.len, "topics count 1e9");

    /* A valid produce frame cut short inside its records, size prefix adjusted. */
    struct kw_buf records;
    kw_buf_init(&records);
    kc_batch(&records, KW_CODEC_NONE, -1, -1, -1, 0, 3, 1000);
    struct kw_produce_req req;
    struct kw_produce_req_topic t;
    struct kw_produce_req_partition p;
    produce_req_t(&req, &t, &p, &records);
    kw_buf_reset(&b);
    CU_ASSERT_EQUAL(kc_encode(&b, KW_API_PRODUCE, 8, 1, "kwt", &req), KW_OK);
    b.len -= 10;
    kw_wbe32(b.data, (uint32_t)(b.len - 4));
    expect_dropped(c, b.data, b.len, "short records");
    kw_buf_release(&records);
    kw_buf_release(&b);
    mb_cluster_destroy(c);
}

static void test_garbage_bytes_close_the_connection(void)
{
    struct mb_cluster *c = hostile_cluster();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    expect_dropped(c, http, sizeof(http) - 1, "HTTP");
    /* A plausible size, then noise: API key 0x9c3e is no key at all. */
    uint8_t noise[24] = { 0, 0, 0, 20 };
    uint64_t x = 0x9c3e5a17d2b4f00dULL;
    for (size_t i = 4; i < sizeof(noise); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (uint8_t)(x >> 24);
    }
    noise[4] = 0x9c;
    noise[5] = 0x3e;
    expect_dropped(c, noise, sizeof(noise), "noise");
    mb_cluster_destroy(c);
}

struct paused_log {
    bool paused;
};

static void paused_log_cb(void *opaque, int level, const char *line)
{
    struct paused_log *l = opaque;
    (void)level;
    if (strstr(line, "reading paused"))
        l->paused = true;
}

/* Runs on the loop thread, as the log callback does. */
static bool paused_cond(struct mb_cluster *c, void *arg)
{
    (void)c;
    return ((struct paused_log *)arg)->paused;
}

/* A cluster whose topic "big" holds one ~1 MB batch, and a connection with a small receive
 * buffer (so the kernel cannot soak up what the broker should hold) that has sent n Fetches
 * of it without reading; returns once the broker says it paused reading, or NULL. */
static struct mb_cluster *flooded_cluster(struct paused_log *log, struct kc_conn *k, int n)
{
    static uint8_t value[1000000];
    struct mb_config cfg;
    config(&cfg, 1);
    cfg.log_level = MB_LOG_DEBUG;
    cfg.log_cb = paused_log_cb;
    cfg.log_opaque = log;
    struct mb_cluster *c = start_with(&cfg);
    if (c == NULL)
        return NULL;
    struct kw_buf b;
    struct kw_batch_builder bb;
    kw_buf_init(&b);
    kw_batch_builder_begin(&bb, &b, NULL, KW_CODEC_NONE, -1);
    kw_batch_builder_add(&bb, 1000, KW_BYTES_NULL, (struct kw_bytes){ value, sizeof(value) },
                         NULL, 0);
    int small = 64 << 10;
    bool ok = kw_batch_builder_finish(&bb) == KW_OK &&
              mb_topic_create(c, "big", 1, 1, NULL, 0) == 0 &&
              mb_topic_create(c, "t", 1, 1, NULL, 0) == 0 && connect_to(k, c, 1) == 0 &&
              kc_produce(k, 9, 1, "big", 0, b.data, b.len, NULL, NULL) == 0 &&
              setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0;
    for (int i = 0; ok && i < n; i++)
        ok = kc_fetch_send(k, 11, "big", 0, 0, 2 << 20, 0, 1) > 0;
    kw_buf_release(&b);
    if (ok && mb_wait_until(c, paused_cond, log, KC_WAIT_MS) == 0)
        return c;
    kc_close(k);
    mb_cluster_destroy(c);
    return NULL;
}

static void test_a_client_that_never_reads_does_not_make_the_broker_buffer_without_bound(void)
{
    enum { N = 48 };
    struct paused_log log = { false };
    struct kc_conn k;
    struct mb_cluster *c = flooded_cluster(&log, &k, N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* Paused, it stays short of the rest while we do not read. */
    uint64_t all = N;
    CU_ASSERT_EQUAL(mb_wait_until(c, fetches_seen, &all, 200), -1);
    uint64_t seen = mb_request_count(c, 1, KW_API_FETCH);
    CU_ASSERT(seen >= 16 && seen < N);      /* 16 MiB of answers held, then no more */
    /* Reading resumes it: every answer comes, in order. */
    int answered = 0;
    for (int i = 0; i < N; i++) {
        struct kc_fetched f;
        if (kc_fetch_recv(&k, 11, i + 2, KC_WAIT_MS, &f) != KW_OK || f.error_code != 0 ||
            f.len < 1000000)
            break;
        answered++;
    }
    CU_ASSERT_EQUAL(answered, N);
    CU_ASSERT_EQUAL(mb_request_count(c, 1, KW_API_FETCH), N);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_a_client_that_leaves_with_answers_pending_does_not_hurt_the_broker(void)
{
    struct paused_log log = { false };
    struct kc_conn k;
    struct mb_cluster *c = flooded_cluster(&log, &k, 24);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* Half-close first: the broker, not reading, never sees the end of file, and the reset
     * that close() then sends (unread data) leaves its socket failing with EPIPE. Its next
     * write raises SIGPIPE, which must not end the process embedding the cluster. */
    CU_ASSERT_EQUAL(shutdown(k.fd, SHUT_WR), 0);
    kc_close(&k);
    expect_served(c);
    CU_ASSERT_EQUAL(log_end(c, "big", 0), 1);

    /* A plain reset while answers are queued. */
    log.paused = false;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    for (int i = 0; i < 24; i++)
        CU_ASSERT(kc_fetch_send(&k, 11, "big", 0, 0, 2 << 20, 0, 1) > 0);
    CU_ASSERT_EQUAL(mb_wait_until(c, paused_cond, &log, KC_WAIT_MS), 0);
    kc_close(&k);
    expect_served(c);
    mb_cluster_destroy(c);
}

/* --- waiting, shutting down ------------------------------------------------------------------ */

static void test_mb_wait_offset_and_mb_wait_until_time_out_in_about_the_time_given(void)
{
    struct mb_cluster *c = start(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "w", 1, 1, NULL, 0), 0);
    int64_t t0 = kc_now_ms();
    CU_ASSERT_EQUAL(mb_wait_offset(c, "w", 0, 1, 200), -1);
    int64_t waited = kc_now_ms() - t0;
    CU_ASSERT(waited >= 190 && waited < 200 + KC_WAIT_MS);
    t0 = kc_now_ms();
    CU_ASSERT_EQUAL(mb_wait_until(c, never, NULL, 100), -1);
    waited = kc_now_ms() - t0;
    CU_ASSERT(waited >= 90 && waited < 100 + KC_WAIT_MS);
    CU_ASSERT_EQUAL(mb_wait_offset(c, "w", 0, 0, 100), 0);      /* holds at once */
    CU_ASSERT_EQUAL(mb_wait_offset(c, "nosuch", 0, 0, 10), -1);
    /* And it wakes on a change rather than at the deadline. */
    struct kc_conn k;
    CU_ASSERT_EQUAL(connect_to(&k, c, 1), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 0, "w", 0, b.data, b.len, NULL, NULL), 0);
    t0 = kc_now_ms();
    CU_ASSERT_EQUAL(mb_wait_offset(c, "w", 0, 2, 30000), 0);
    CU_ASSERT(kc_now_ms() - t0 < KC_WAIT_MS);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_destroy_with_open_connections_and_a_pending_long_poll_frees_everything(void)
{
    struct mb_cluster *c = start(2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "p", 2, 1, NULL, 0), 0);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "p", 0, &info), 0);
    struct kc_conn polling, idle, half;
    CU_ASSERT_EQUAL(connect_to(&polling, c, info.leader), 0);
    CU_ASSERT_EQUAL(connect_to(&idle, c, 1), 0);
    CU_ASSERT_EQUAL(connect_to(&half, c, 2), 0);
    int32_t id = kc_fetch_send(&polling, 12, "p", 0, 0, 1 << 20, 60000, 1);
    CU_ASSERT(id > 0);
    /* A pipelined request behind the held Fetch, and half a frame on another connection. */
    struct kw_metadata_req md = { .n_topics = -1 };
    CU_ASSERT(kc_send(&polling, KW_API_METADATA, 12, &md) > 0);
    CU_ASSERT_EQUAL(kc_send_raw(&half, "\0\0\0\x40\0\x03", 6, KC_WAIT_MS), 6);
    uint64_t one = 1;
    CU_ASSERT_EQUAL(mb_wait_until(c, requests_seen, &one, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(mb_request_count(c, -1, KW_API_FETCH), 1);
    /* Muted behind the Fetch, the Metadata request waits unread. */
    CU_ASSERT_EQUAL(mb_request_count(c, -1, KW_API_METADATA), 0);
    int64_t t0 = kc_now_ms();
    mb_cluster_destroy(c);
    CU_ASSERT(kc_now_ms() - t0 < KC_WAIT_MS);
    CU_ASSERT_EQUAL(kc_expect_closed(&polling, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(kc_expect_closed(&idle, KC_WAIT_MS), 0);
    CU_ASSERT_EQUAL(kc_expect_closed(&half, KC_WAIT_MS), 0);
    kc_close(&polling);
    kc_close(&idle);
    kc_close(&half);
}

CU_TestInfo kwt_broker_tests[] = {
    { "ApiVersions v0 and v3 list every API with our ranges",
      test_api_versions_v0_and_v3_list_every_api_with_our_ranges },
    { "ApiVersions above ours is answered at v0 with our range only",
      test_api_versions_above_ours_are_answered_at_v0_with_our_range_only },
    { "ApiVersions v3 with a bad software name is INVALID_REQUEST",
      test_api_versions_v3_with_a_bad_software_name_is_invalid_request },
    { "Metadata lists brokers, cluster id and controller",
      test_metadata_lists_brokers_cluster_id_and_controller },
    { "Metadata auto-creates a topic, LEADER_NOT_AVAILABLE first",
      test_metadata_auto_creates_a_topic_leader_not_available_first },
    { "Metadata without auto-creation answers UNKNOWN_TOPIC and creates nothing",
      test_metadata_without_auto_creation_answers_unknown_and_creates_nothing },
    { "Metadata empty and null topic lists mean what each version says",
      test_metadata_empty_and_null_topic_lists_by_version },
    { "Metadata refuses an invalid topic name",
      test_metadata_refuses_an_invalid_topic_name },
    { "Metadata v10+ topic ids are non-zero and stable",
      test_metadata_v10_topic_ids_are_non_zero_and_stable },
    { "Metadata v10 and v11 asked by topic id get an answer",
      test_metadata_v10_and_v11_asked_by_topic_id_get_an_answer },
    { "FindCoordinator answers a live broker at every version",
      test_find_coordinator_answers_a_live_broker_at_every_version },
    { "Placement and topic ids are deterministic for a seed",
      test_placement_and_topic_ids_are_deterministic_for_a_seed },
    { "acks=0 gets no response and the next request is answered",
      test_acks_0_gets_no_response_and_the_next_request_is_answered },
    { "A failed acks=0 produce closes the connection",
      test_a_failed_acks_0_produce_closes_the_connection },
    { "Fifty pipelined requests are answered in order",
      test_fifty_pipelined_requests_are_answered_in_order },
    { "Pipelined large and small frames are each stored and answered in order",
      test_pipelined_large_and_small_frames_are_each_stored_and_answered },
    { "InitProducerId hands out ids from the base with epoch 0",
      test_init_producer_id_hands_out_ids_from_the_base },
    { "InitProducerId with a transactional id bumps the epoch",
      test_init_producer_id_with_a_transactional_id_bumps_the_epoch },
    { "InitProducerId v4 with a stale epoch is PRODUCER_FENCED",
      test_init_producer_id_v4_with_a_stale_epoch_is_producer_fenced },
    { "Fetch returns records from the offset with HW and log start",
      test_fetch_returns_records_from_the_offset_with_hw_and_log_start },
    { "PartitionMaxBytes limits but the first batch always comes",
      test_partition_max_bytes_limits_but_the_first_batch_always_comes },
    { "Fetch MaxBytes spans partitions and non-leaders are refused",
      test_fetch_max_bytes_spans_partitions_and_non_leaders_are_refused },
    { "Fetch v9+ checks the current leader epoch",
      test_fetch_v9_checks_the_current_leader_epoch },
    { "Fetch v7+ answers session id 0", test_fetch_v7_and_later_answer_session_id_0 },
    { "A long-poll Fetch is answered when another connection produces",
      test_a_long_poll_fetch_is_answered_when_another_connection_produces },
    { "A long-poll Fetch whose MaxWaitMs expires is answered empty",
      test_a_long_poll_fetch_whose_max_wait_expires_is_answered_empty },
    { "Requests behind a held Fetch wait their turn",
      test_requests_behind_a_held_fetch_wait_their_turn },
    { "A long poll waits until MinBytes have arrived",
      test_a_long_poll_waits_until_min_bytes_have_arrived },
    { "A client that leaves during a long poll is forgotten",
      test_a_client_that_leaves_during_a_long_poll_is_forgotten },
    { "Deleting a topic answers its long polls", test_deleting_a_topic_answers_its_long_polls },
    { "In caller-driven mode mb_wait_until runs the caller's loop",
      test_in_caller_driven_mode_mb_wait_until_runs_the_callers_loop },
    { "In caller-driven mode MaxWaitMs expires only with the virtual clock",
      test_in_caller_driven_mode_max_wait_expires_only_with_the_virtual_clock },
    { "ListOffsets answers earliest, latest and by timestamp",
      test_list_offsets_answers_earliest_latest_and_by_timestamp },
    { "ListOffsets v0 answers old-style offsets",
      test_list_offsets_v0_answers_old_style_offsets },
    { "CreateTopics creates, and refuses a second time",
      test_create_topics_creates_and_refuses_a_second_time },
    { "CreateTopics refuses bad partition counts and replication",
      test_create_topics_refuses_bad_partition_counts_and_replication },
    { "CreateTopics validate_only creates nothing",
      test_create_topics_validate_only_creates_nothing },
    { "CreateTopics applies configs", test_create_topics_applies_configs },
    { "CreateTopics honours a manual assignment",
      test_create_topics_honours_a_manual_assignment },
    { "DeleteTopics by name and by id", test_delete_topics_by_name_and_by_id },
    { "Bad size prefixes close the connection", test_bad_size_prefixes_close_the_connection },
    { "A truncated frame then close leaves the broker serving",
      test_a_truncated_frame_then_close_leaves_the_broker_serving },
    { "An unknown API key closes the connection",
      test_an_unknown_api_key_closes_the_connection },
    { "An unsupported Produce version closes the connection",
      test_an_unsupported_produce_version_closes_the_connection },
    { "A body that does not parse closes the connection",
      test_a_body_that_does_not_parse_closes_the_connection },
    { "Garbage bytes close the connection", test_garbage_bytes_close_the_connection },
    { "A client that never reads does not make the broker buffer without bound",
      test_a_client_that_never_reads_does_not_make_the_broker_buffer_without_bound },
    { "A client that leaves with answers pending does not hurt the broker",
      test_a_client_that_leaves_with_answers_pending_does_not_hurt_the_broker },
    { "mb_wait_offset and mb_wait_until time out in about the time given",
      test_mb_wait_offset_and_mb_wait_until_time_out_in_about_the_time_given },
    { "Destroy with open connections and a pending long poll frees everything",
      test_destroy_with_open_connections_and_a_pending_long_poll_frees_everything },
    CU_TEST_INFO_NULL,
};
