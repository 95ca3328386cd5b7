/* Produce (key 0), v0-v11, flexible from v9. Records are carried as opaque bytes: magic 0/1
 * message sets in v0-v2, record batches from v3 (which also adds TransactionalId). A request
 * with acks=0 gets no response frame, so nothing here is ever encoded for it. v8 adds
 * per-record errors (KIP-467), v10 the new leader as tagged fields on a NOT_LEADER_OR_FOLLOWER
 * answer (KIP-951): CurrentLeader per partition and NodeEndpoints at the top, both tag 0. */
#include "lib/proto/produce.h"

#include "lib/proto/codec.h"

#define S struct kw_produce_req_partition
static const struct kw_field req_partition_fields[] = {
    KW_FIELD(S, index, "Index", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, records, "Records", KW_T_RECORDS, 0, KW_VMAX, KW_NULLABLE(0)),
};
#undef S
static const struct kw_schema req_partition_schema =
    KW_SCHEMA(struct kw_produce_req_partition, "PartitionProduceData", req_partition_fields);

#define S struct kw_produce_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX),
    KW_ARRAY(S, partition_data, "PartitionData", req_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_produce_req_topic, "TopicProduceData", req_topic_fields);

#define S struct kw_produce_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, transactional_id, "TransactionalId", KW_T_STR, 3, KW_VMAX, KW_NULLABLE(3)),
    KW_FIELD(S, acks, "Acks", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, timeout_ms, "TimeoutMs", KW_T_I32, 0, KW_VMAX),
    KW_ARRAY(S, topic_data, "TopicData", req_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_produce_req_schema =
    KW_SCHEMA(struct kw_produce_req, "ProduceRequest", req_fields);

#define S struct kw_produce_resp_record_error
static const struct kw_field record_error_fields[] = {
    KW_FIELD(S, batch_index, "BatchIndex", KW_T_I32, 8, KW_VMAX),
    KW_FIELD(S, batch_index_error_message, "BatchIndexErrorMessage", KW_T_STR, 8, KW_VMAX,
             KW_NULLABLE(8)),
};
#undef S
static const struct kw_schema record_error_schema =
    KW_SCHEMA(struct kw_produce_resp_record_error, "BatchIndexAndErrorMessage",
              record_error_fields);

#define S struct kw_produce_resp_leader
static const struct kw_field leader_fields[] = {
    KW_FIELD(S, leader_id, "LeaderId", KW_T_I32, 10, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, leader_epoch, "LeaderEpoch", KW_T_I32, 10, KW_VMAX, KW_DEFAULT(-1)),
};
#undef S
static const struct kw_schema leader_schema =
    KW_SCHEMA(struct kw_produce_resp_leader, "LeaderIdAndEpoch", leader_fields);

#define S struct kw_produce_resp_partition
static const struct kw_field resp_partition_fields[] = {
    KW_FIELD(S, index, "Index", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, base_offset, "BaseOffset", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, log_append_time_ms, "LogAppendTimeMs", KW_T_I64, 2, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, log_start_offset, "LogStartOffset", KW_T_I64, 5, KW_VMAX, KW_DEFAULT(-1)),
    KW_ARRAY(S, record_errors, "RecordErrors", record_error_schema, 8, KW_VMAX),
    KW_FIELD(S, error_message, "ErrorMessage", KW_T_STR, 8, KW_VMAX, KW_NULLABLE(8)),
    KW_STRUCT(S, current_leader, "CurrentLeader", leader_schema, 10, KW_VMAX, KW_TAGGED(0, 10)),
};
#undef S
static const struct kw_schema resp_partition_schema =
    KW_SCHEMA(struct kw_produce_resp_partition, "PartitionProduceResponse",
              resp_partition_fields);

#define S struct kw_produce_resp_topic
static const struct kw_field resp_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX),
    KW_ARRAY(S, partition_responses, "PartitionResponses", resp_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema resp_topic_schema =
    KW_SCHEMA(struct kw_produce_resp_topic, "TopicProduceResponse", resp_topic_fields);

#define S struct kw_produce_resp_node_endpoint
static const struct kw_field node_endpoint_fields[] = {
    KW_FIELD(S, node_id, "NodeId", KW_T_I32, 10, KW_VMAX),
    KW_FIELD(S, host, "Host", KW_T_STR, 10, KW_VMAX),
    KW_FIELD(S, port, "Port", KW_T_I32, 10, KW_VMAX),
    KW_FIELD(S, rack, "Rack", KW_T_STR, 10, KW_VMAX, KW_NULLABLE(10)),
};
#undef S
static const struct kw_schema node_endpoint_schema =
    KW_SCHEMA(struct kw_produce_resp_node_endpoint, "NodeEndpoint", node_endpoint_fields);

#define S struct kw_produce_resp
static const struct kw_field resp_fields[] = {
    KW_ARRAY(S, responses, "Responses", resp_topic_schema, 0, KW_VMAX),
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_ARRAY(S, node_endpoints, "NodeEndpoints", node_endpoint_schema, 10, KW_VMAX,
             KW_TAGGED(0, 10)),
};
#undef S
const struct kw_schema kw_produce_resp_schema =
    KW_SCHEMA(struct kw_produce_resp, "ProduceResponse", resp_fields);

KW_CODEC(produce, KW_API_PRODUCE)
