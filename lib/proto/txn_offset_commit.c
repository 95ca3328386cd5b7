/* TxnOffsetCommit (key 28), v0-v3, flexible from v3. No tagged fields in any version. */
#include "lib/proto/txn_offset_commit.h"

#include "lib/proto/codec.h"

#define S struct kw_txn_offset_commit_req_partition
static const struct kw_field req_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, committed_offset, "CommittedOffset", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, committed_leader_epoch, "CommittedLeaderEpoch", KW_T_I32, 2, KW_VMAX,
             KW_DEFAULT(-1)),
    KW_FIELD(S, committed_metadata, "CommittedMetadata", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(0)),
};
#undef S
static const struct kw_schema req_partition_schema =
    KW_SCHEMA(struct kw_txn_offset_commit_req_partition, "TxnOffsetCommitRequestPartition",
              req_partition_fields);

#define S struct kw_txn_offset_commit_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, partitions, "Partitions", req_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_txn_offset_commit_req_topic, "TxnOffsetCommitRequestTopic",
              req_topic_fields);

#define S struct kw_txn_offset_commit_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, transactional_id, "TransactionalId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, producer_id, "ProducerId", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, producer_epoch, "ProducerEpoch", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, generation_id, "GenerationId", KW_T_I32, 3, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 3, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 3, KW_VMAX, KW_NULLABLE(3)),
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_txn_offset_commit_req_schema =
    KW_SCHEMA(struct kw_txn_offset_commit_req, "TxnOffsetCommitRequest", req_fields);

#define S struct kw_txn_offset_commit_resp_partition
static const struct kw_field resp_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
};
#undef S
static const struct kw_schema resp_partition_schema =
    KW_SCHEMA(struct kw_txn_offset_commit_resp_partition, "TxnOffsetCommitResponsePartition",
              resp_partition_fields);

#define S struct kw_txn_offset_commit_resp_topic
static const struct kw_field resp_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, partitions, "Partitions", resp_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema resp_topic_schema =
    KW_SCHEMA(struct kw_txn_offset_commit_resp_topic, "TxnOffsetCommitResponseTopic",
              resp_topic_fields);

#define S struct kw_txn_offset_commit_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 0, KW_VMAX),
    KW_ARRAY(S, topics, "Topics", resp_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_txn_offset_commit_resp_schema =
    KW_SCHEMA(struct kw_txn_offset_commit_resp, "TxnOffsetCommitResponse", resp_fields);

KW_CODEC(txn_offset_commit, KW_API_TXN_OFFSET_COMMIT)
