/* ListOffsets (key 2), v0-v7, flexible from v6. v0 asks for up to MaxNumOffsets offsets per
 * partition and gets them back as a bare list (OldStyleOffsets); v1 replaced that with one
 * (Timestamp, Offset) pair (KIP-79). v2 adds IsolationLevel, v4 leader epochs (KIP-320), v7
 * the max-timestamp query -3 (KIP-734). TimeoutMs (v10+) is left out: we stop at v7. */
#include "lib/proto/list_offsets.h"

#include "lib/proto/codec.h"

#define S struct kw_list_offsets_req_partition
static const struct kw_field req_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, current_leader_epoch, "CurrentLeaderEpoch", KW_T_I32, 4, KW_VMAX,
             KW_DEFAULT(-1)),
    KW_FIELD(S, timestamp, "Timestamp", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, max_num_offsets, "MaxNumOffsets", KW_T_I32, 0, 0, KW_DEFAULT(1)),
};
#undef S
static const struct kw_schema req_partition_schema =
    KW_SCHEMA(struct kw_list_offsets_req_partition, "ListOffsetsPartition",
              req_partition_fields);

#define S struct kw_list_offsets_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX),
    KW_ARRAY(S, partitions, "Partitions", req_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_list_offsets_req_topic, "ListOffsetsTopic", req_topic_fields);

#define S struct kw_list_offsets_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, replica_id, "ReplicaId", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, isolation_level, "IsolationLevel", KW_T_I8, 2, KW_VMAX),
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_list_offsets_req_schema =
    KW_SCHEMA(struct kw_list_offsets_req, "ListOffsetsRequest", req_fields);

#define S struct kw_list_offsets_resp_partition
static const struct kw_field resp_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_PARRAY(S, old_style_offsets, "OldStyleOffsets", KW_T_I64, 0, 0),
    KW_FIELD(S, timestamp, "Timestamp", KW_T_I64, 1, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, offset, "Offset", KW_T_I64, 1, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, leader_epoch, "LeaderEpoch", KW_T_I32, 4, KW_VMAX, KW_DEFAULT(-1)),
};
#undef S
static const struct kw_schema resp_partition_schema =
    KW_SCHEMA(struct kw_list_offsets_resp_partition, "ListOffsetsPartitionResponse",
              resp_partition_fields);

#define S struct kw_list_offsets_resp_topic
static const struct kw_field resp_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX),
    KW_ARRAY(S, partitions, "Partitions", resp_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema resp_topic_schema =
    KW_SCHEMA(struct kw_list_offsets_resp_topic, "ListOffsetsTopicResponse", resp_topic_fields);

#define S struct kw_list_offsets_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 2, KW_VMAX),
    KW_ARRAY(S, topics, "Topics", resp_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_list_offsets_resp_schema =
    KW_SCHEMA(struct kw_list_offsets_resp, "ListOffsetsResponse", resp_fields);

KW_CODEC(list_offsets, KW_API_LIST_OFFSETS)
