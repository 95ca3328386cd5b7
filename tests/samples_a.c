/* Samples for Metadata, CreateTopics, DeleteTopics and FindCoordinator. Values look like what a
 * small cluster would send (node ids 0-3, real ports, topic names Kafka accepts), so the tshark
 * check can decode them; every field holds something other than its default in at least one
 * element, so each version's encoding carries every field it has. */
#include "lib/proto/apis.h"
#include "lib/proto/create_topics.h"
#include "lib/proto/delete_topics.h"
#include "lib/proto/find_coordinator.h"
#include "lib/proto/metadata.h"
#include "tests/samples.h"

#define STR(s) { s, (int32_t)sizeof(s) - 1 }
#define N(arr) ((int32_t)(sizeof(arr) / sizeof((arr)[0])))

#define UUID_ORDERS   { 0x6b, 0x1f, 0x3a, 0x90, 0x5c, 0x2e, 0x4d, 0x71, \
                        0x8a, 0x03, 0xe4, 0x57, 0x19, 0xc2, 0xb6, 0x0d }
#define UUID_OFFSETS  { 0x0e, 0xa4, 0x7c, 0x12, 0x93, 0xd8, 0x45, 0x6b, \
                        0xb1, 0x2f, 0x60, 0x8e, 0xc3, 0x4a, 0x17, 0xf5 }
#define UUID_PAYMENTS { 0xd2, 0x4c, 0x08, 0xe7, 0x31, 0xaf, 0x4b, 0x5e, \
                        0x97, 0x6d, 0x2a, 0x1c, 0x84, 0xf0, 0x3b, 0x66 }
#define UUID_DLQ      { 0x45, 0x93, 0xbe, 0x2a, 0x07, 0x6c, 0x4f, 0xd1, \
                        0xa8, 0x5b, 0xe9, 0x30, 0x7f, 0x14, 0xc6, 0x82 }

/* --- Metadata -------------------------------------------------------------------------------- */

static struct kw_metadata_req_topic md_req_topics[] = {
    { .topic_id = UUID_ORDERS, .name = STR("orders") },
    { .topic_id = UUID_OFFSETS, .name = STR("__consumer_offsets") },
};

static const struct kw_metadata_req md_req = {
    .topics = md_req_topics,
    .n_topics = N(md_req_topics),
    .allow_auto_topic_creation = false,
    .include_cluster_authorized_operations = true,
    .include_topic_authorized_operations = true,
};

static struct kw_metadata_resp_broker md_brokers[] = {
    { .node_id = 1, .host = STR("broker-1.kafka.local"), .port = 9092, .rack = STR("rack-a") },
    { .node_id = 2, .host = STR("broker-2.kafka.local"), .port = 9093, .rack = STR("rack-b") },
    { .node_id = 0, .host = STR("broker-0.kafka.local"), .port = 19092, .rack = STR("rack-c") },
};

/* Broker 3 holds replicas but is down: offline, and so missing from the broker list. */
static int32_t md_replicas_0[] = { 1, 2, 0, 3 };
static int32_t md_isr_0[] = { 1, 2 };
static int32_t md_offline_0[] = { 0, 3 };
static int32_t md_replicas_1[] = { 2, 0, 3 };
static int32_t md_isr_1[] = { 2, 0 };
static int32_t md_offline_1[] = { 3 };

static struct kw_metadata_resp_partition md_partitions[] = {
    { .error_code = 9, .partition_index = 0, .leader_id = 1, .leader_epoch = 7,
      .replica_nodes = md_replicas_0, .n_replica_nodes = N(md_replicas_0),
      .isr_nodes = md_isr_0, .n_isr_nodes = N(md_isr_0),
      .offline_replicas = md_offline_0, .n_offline_replicas = N(md_offline_0) },
    { .error_code = 0, .partition_index = 1, .leader_id = 2, .leader_epoch = 3,
      .replica_nodes = md_replicas_1, .n_replica_nodes = N(md_replicas_1),
      .isr_nodes = md_isr_1, .n_isr_nodes = N(md_isr_1),
      .offline_replicas = md_offline_1, .n_offline_replicas = N(md_offline_1) },
};

static struct kw_metadata_resp_topic md_resp_topics[] = {
    { .error_code = 5, .name = STR("orders"), .topic_id = UUID_ORDERS, .is_internal = false,
      .partitions = md_partitions, .n_partitions = N(md_partitions),
      .topic_authorized_operations = 0x0df8 },
    { .error_code = 0, .name = STR("__consumer_offsets"), .topic_id = UUID_OFFSETS,
      .is_internal = true,
      .partitions = md_partitions, .n_partitions = N(md_partitions),
      .topic_authorized_operations = 0x0008 },
};

static const struct kw_metadata_resp md_resp = {
    .throttle_time_ms = 25,
    .brokers = md_brokers,
    .n_brokers = N(md_brokers),
    .cluster_id = STR("kW1r3-Cluster_Id0000001"),
    .controller_id = 2,
    .topics = md_resp_topics,
    .n_topics = N(md_resp_topics),
    .cluster_authorized_operations = 0x0f80,
};

const void *kwt_sample_metadata_req(void) { return &md_req; }
const void *kwt_sample_metadata_resp(void) { return &md_resp; }

/* --- CreateTopics ---------------------------------------------------------------------------- */

static int32_t ct_brokers_0[] = { 1, 2 };
static int32_t ct_brokers_1[] = { 2, 0 };

static struct kw_create_topics_req_assignment ct_assignments[] = {
    { .partition_index = 0, .broker_ids = ct_brokers_0, .n_broker_ids = N(ct_brokers_0) },
    { .partition_index = 1, .broker_ids = ct_brokers_1, .n_broker_ids = N(ct_brokers_1) },
};

static struct kw_create_topics_req_config ct_req_configs[] = {
    { .name = STR("cleanup.policy"), .value = STR("compact") },
    { .name = STR("retention.ms"), .value = STR("86400000") },
};

static struct kw_create_topics_req_topic ct_req_topics[] = {
    { .name = STR("payments"), .num_partitions = -1, .replication_factor = -1,
      .assignments = ct_assignments, .n_assignments = N(ct_assignments),
      .configs = ct_req_configs, .n_configs = N(ct_req_configs) },
    { .name = STR("payments.dlq"), .num_partitions = 3, .replication_factor = 2,
      .configs = ct_req_configs, .n_configs = N(ct_req_configs) },
};

static const struct kw_create_topics_req ct_req = {
    .topics = ct_req_topics,
    .n_topics = N(ct_req_topics),
    .timeout_ms = 30000,
    .validate_only = true,
};

static struct kw_create_topics_resp_config ct_resp_configs[] = {
    { .name = STR("cleanup.policy"), .value = STR("compact"), .read_only = true,
      .config_source = 1, .is_sensitive = true },
    { .name = STR("retention.ms"), .value = STR("86400000"), .read_only = false,
      .config_source = 5, .is_sensitive = false },
};

static struct kw_create_topics_resp_topic ct_resp_topics[] = {
    { .name = STR("payments"), .topic_id = UUID_PAYMENTS, .error_code = 36,
      .error_message = STR("Topic 'payments' already exists."),
      .topic_config_error_code = 29, .num_partitions = 2, .replication_factor = 2,
      .configs = ct_resp_configs, .n_configs = N(ct_resp_configs) },
    { .name = STR("payments.dlq"), .topic_id = UUID_DLQ, .error_code = 0,
      .error_message = STR("ok"), .num_partitions = 3, .replication_factor = 2,
      .configs = ct_resp_configs, .n_configs = N(ct_resp_configs) },
};

static const struct kw_create_topics_resp ct_resp = {
    .throttle_time_ms = 10,
    .topics = ct_resp_topics,
    .n_topics = N(ct_resp_topics),
};

const void *kwt_sample_create_topics_req(void) { return &ct_req; }
const void *kwt_sample_create_topics_resp(void) { return &ct_resp; }

/* --- DeleteTopics ---------------------------------------------------------------------------- */

static struct kw_delete_topics_req_topic dt_req_topics[] = {
    { .name = STR("payments"), .topic_id = UUID_PAYMENTS },
    { .name = STR("payments.dlq"), .topic_id = UUID_DLQ },
};

static struct kw_str dt_topic_names[] = { STR("payments"), STR("payments.dlq") };

static const struct kw_delete_topics_req dt_req = {
    .topics = dt_req_topics,
    .n_topics = N(dt_req_topics),
    .topic_names = dt_topic_names,
    .n_topic_names = N(dt_topic_names),
    .timeout_ms = 15000,
};

static struct kw_delete_topics_resp_result dt_results[] = {
    { .name = STR("payments"), .topic_id = UUID_PAYMENTS, .error_code = 3,
      .error_message = STR("This server does not host this topic-partition.") },
    { .name = STR("payments.dlq"), .topic_id = UUID_DLQ, .error_code = 0,
      .error_message = STR("deleted") },
};

static const struct kw_delete_topics_resp dt_resp = {
    .throttle_time_ms = 5,
    .responses = dt_results,
    .n_responses = N(dt_results),
};

const void *kwt_sample_delete_topics_req(void) { return &dt_req; }
const void *kwt_sample_delete_topics_resp(void) { return &dt_resp; }

/* --- FindCoordinator ------------------------------------------------------------------------- */

static struct kw_str fc_keys[] = { STR("txn-app-1"), STR("txn-app-2") };

static const struct kw_find_coordinator_req fc_req = {
    .key = STR("txn-app-1"),
    .key_type = 1,
    .coordinator_keys = fc_keys,
    .n_coordinator_keys = N(fc_keys),
};

static struct kw_find_coordinator_resp_coordinator fc_coordinators[] = {
    { .key = STR("txn-app-1"), .node_id = 1, .host = STR("broker-1.kafka.local"), .port = 9092,
      .error_code = 15, .error_message = STR("The coordinator is not available.") },
    { .key = STR("txn-app-2"), .node_id = 2, .host = STR("broker-2.kafka.local"), .port = 9093,
      .error_code = 0, .error_message = STR("NONE") },
};

static const struct kw_find_coordinator_resp fc_resp = {
    .throttle_time_ms = 50,
    .error_code = 14,
    .error_message = STR("The coordinator is loading."),
    .node_id = 1,
    .host = STR("broker-1.kafka.local"),
    .port = 9092,
    .coordinators = fc_coordinators,
    .n_coordinators = N(fc_coordinators),
};

const void *kwt_sample_find_coordinator_req(void) { return &fc_req; }
const void *kwt_sample_find_coordinator_resp(void) { return &fc_resp; }
