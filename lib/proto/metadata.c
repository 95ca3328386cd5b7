/* Metadata (key 3), v0-v12, flexible from v9. No tagged fields in any version.
 * The topic list changes meaning at v1: in v0 an empty array asks for every topic and null does
 * not exist (a null is written as empty); from v1 null asks for every topic and an empty array
 * for brokers only. AllowAutoTopicCreation (v4+) reads as true when absent, as in Kafka, so an
 * old client's request behaves as the broker's auto.create.topics.enable says.
 * Requests carry a TopicId from v10, but Kafka answers lookups by id (name null) only from v12;
 * v10-v11 clients are expected to leave it zero. Strings without a "null" default in the spec
 * read as "" when absent, matching Kafka's generated defaults. */
#include "lib/proto/metadata.h"

#include "lib/proto/codec.h"

#define S struct kw_metadata_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, topic_id, "TopicId", KW_T_UUID, 10, KW_VMAX),
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(10), KW_EMPTY_DEFAULT),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_metadata_req_topic, "MetadataRequestTopic", req_topic_fields);

#define S struct kw_metadata_req
static const struct kw_field req_fields[] = {
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 0, KW_VMAX, KW_NULLABLE(1)),
    KW_FIELD(S, allow_auto_topic_creation, "AllowAutoTopicCreation", KW_T_BOOL, 4, KW_VMAX,
             KW_DEFAULT(true)),
    KW_FIELD(S, include_cluster_authorized_operations, "IncludeClusterAuthorizedOperations",
             KW_T_BOOL, 8, 10),
    KW_FIELD(S, include_topic_authorized_operations, "IncludeTopicAuthorizedOperations",
             KW_T_BOOL, 8, KW_VMAX),
};
#undef S
const struct kw_schema kw_metadata_req_schema =
    KW_SCHEMA(struct kw_metadata_req, "MetadataRequest", req_fields);

#define S struct kw_metadata_resp_broker
static const struct kw_field broker_fields[] = {
    KW_FIELD(S, node_id, "NodeId", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, host, "Host", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, port, "Port", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, rack, "Rack", KW_T_STR, 1, KW_VMAX, KW_NULLABLE(1)),
};
#undef S
static const struct kw_schema broker_schema =
    KW_SCHEMA(struct kw_metadata_resp_broker, "MetadataResponseBroker", broker_fields);

#define S struct kw_metadata_resp_partition
static const struct kw_field partition_fields[] = {
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, leader_id, "LeaderId", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, leader_epoch, "LeaderEpoch", KW_T_I32, 7, KW_VMAX, KW_DEFAULT(-1)),
    KW_PARRAY(S, replica_nodes, "ReplicaNodes", KW_T_I32, 0, KW_VMAX),
    KW_PARRAY(S, isr_nodes, "IsrNodes", KW_T_I32, 0, KW_VMAX),
    KW_PARRAY(S, offline_replicas, "OfflineReplicas", KW_T_I32, 5, KW_VMAX),
};
#undef S
static const struct kw_schema partition_schema =
    KW_SCHEMA(struct kw_metadata_resp_partition, "MetadataResponsePartition", partition_fields);

#define S struct kw_metadata_resp_topic
static const struct kw_field topic_fields[] = {
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(12), KW_EMPTY_DEFAULT),
    KW_FIELD(S, topic_id, "TopicId", KW_T_UUID, 10, KW_VMAX),
    KW_FIELD(S, is_internal, "IsInternal", KW_T_BOOL, 1, KW_VMAX),
    KW_ARRAY(S, partitions, "Partitions", partition_schema, 0, KW_VMAX),
    KW_FIELD(S, topic_authorized_operations, "TopicAuthorizedOperations", KW_T_I32, 8, KW_VMAX,
             KW_DEFAULT(INT32_MIN)),
};
#undef S
static const struct kw_schema topic_schema =
    KW_SCHEMA(struct kw_metadata_resp_topic, "MetadataResponseTopic", topic_fields);

#define S struct kw_metadata_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 3, KW_VMAX),
    KW_ARRAY(S, brokers, "Brokers", broker_schema, 0, KW_VMAX),
    KW_FIELD(S, cluster_id, "ClusterId", KW_T_STR, 2, KW_VMAX, KW_NULLABLE(2)),
    KW_FIELD(S, controller_id, "ControllerId", KW_T_I32, 1, KW_VMAX, KW_DEFAULT(-1)),
    KW_ARRAY(S, topics, "Topics", topic_schema, 0, KW_VMAX),
    KW_FIELD(S, cluster_authorized_operations, "ClusterAuthorizedOperations", KW_T_I32, 8, 10,
             KW_DEFAULT(INT32_MIN)),
};
#undef S
const struct kw_schema kw_metadata_resp_schema =
    KW_SCHEMA(struct kw_metadata_resp, "MetadataResponse", resp_fields);

KW_CODEC(metadata, KW_API_METADATA)
