/* OffsetCommit (key 8), v0-v8, flexible from v8. No tagged fields in any version.
 * The per-partition timestamp exists only in v1; v2-v4 replace it with one RetentionTimeMs for
 * the whole request, and v5 drops that too (retention is the broker's offsets.retention.minutes
 * alone, KIP-211). Absent, both read as -1, Kafka's "not given". A commit outside any group
 * generation (kafka-python's manual assign) sends GenerationId -1 and an empty MemberId. v9
 * (KIP-848 member epochs) is left out: no client we target sends it. */
#include "lib/proto/offset_commit.h"

#include "lib/proto/codec.h"

#define S struct kw_offset_commit_req_partition
static const struct kw_field req_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, committed_offset, "CommittedOffset", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, committed_leader_epoch, "CommittedLeaderEpoch", KW_T_I32, 6, KW_VMAX,
             KW_DEFAULT(-1)),
    KW_FIELD(S, commit_timestamp, "CommitTimestamp", KW_T_I64, 1, 1, KW_DEFAULT(-1)),
    KW_FIELD(S, committed_metadata, "CommittedMetadata", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(0),
             KW_EMPTY_DEFAULT),
};
#undef S
static const struct kw_schema req_partition_schema =
    KW_SCHEMA(struct kw_offset_commit_req_partition, "OffsetCommitRequestPartition",
              req_partition_fields);

#define S struct kw_offset_commit_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, partitions, "Partitions", req_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_offset_commit_req_topic, "OffsetCommitRequestTopic", req_topic_fields);

#define S struct kw_offset_commit_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, generation_id_or_member_epoch, "GenerationIdOrMemberEpoch", KW_T_I32, 1,
             KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 1, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 7, KW_VMAX, KW_NULLABLE(7)),
    KW_FIELD(S, retention_time_ms, "RetentionTimeMs", KW_T_I64, 2, 4, KW_DEFAULT(-1)),
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_offset_commit_req_schema =
    KW_SCHEMA(struct kw_offset_commit_req, "OffsetCommitRequest", req_fields);

#define S struct kw_offset_commit_resp_partition
static const struct kw_field resp_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
};
#undef S
static const struct kw_schema resp_partition_schema =
    KW_SCHEMA(struct kw_offset_commit_resp_partition, "OffsetCommitResponsePartition",
              resp_partition_fields);

#define S struct kw_offset_commit_resp_topic
static const struct kw_field resp_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, partitions, "Partitions", resp_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema resp_topic_schema =
    KW_SCHEMA(struct kw_offset_commit_resp_topic, "OffsetCommitResponseTopic",
              resp_topic_fields);

#define S struct kw_offset_commit_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 3, KW_VMAX),
    KW_ARRAY(S, topics, "Topics", resp_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_offset_commit_resp_schema =
    KW_SCHEMA(struct kw_offset_commit_resp, "OffsetCommitResponse", resp_fields);

KW_CODEC(offset_commit, KW_API_OFFSET_COMMIT)
