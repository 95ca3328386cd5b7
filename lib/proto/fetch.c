/* Fetch (key 1), v0-v12, flexible from v12. Versions worth knowing: v3 MaxBytes (KIP-74),
 * v4 IsolationLevel and aborted transactions, v7 fetch sessions (KIP-227: SessionId,
 * SessionEpoch, ForgottenTopicsData), v9 CurrentLeaderEpoch, v11 RackId and
 * PreferredReadReplica (KIP-392), v12 LastFetchedEpoch and the tagged ClusterId,
 * DivergingEpoch, CurrentLeader and SnapshotId. Fields from v13 on (topic ids, ReplicaState,
 * NodeEndpoints, ReplicaDirectoryId) are left out: we do not advertise those versions. */
#include "lib/proto/fetch.h"

#include "lib/proto/codec.h"

#define S struct kw_fetch_req_partition
static const struct kw_field req_partition_fields[] = {
    KW_FIELD(S, partition, "Partition", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, current_leader_epoch, "CurrentLeaderEpoch", KW_T_I32, 9, KW_VMAX,
             KW_DEFAULT(-1)),
    KW_FIELD(S, fetch_offset, "FetchOffset", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, last_fetched_epoch, "LastFetchedEpoch", KW_T_I32, 12, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, log_start_offset, "LogStartOffset", KW_T_I64, 5, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, partition_max_bytes, "PartitionMaxBytes", KW_T_I32, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_partition_schema =
    KW_SCHEMA(struct kw_fetch_req_partition, "FetchPartition", req_partition_fields);

#define S struct kw_fetch_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, topic, "Topic", KW_T_STR, 0, 12),
    KW_ARRAY(S, partitions, "Partitions", req_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_fetch_req_topic, "FetchTopic", req_topic_fields);

#define S struct kw_fetch_req_forgotten_topic
static const struct kw_field forgotten_fields[] = {
    KW_FIELD(S, topic, "Topic", KW_T_STR, 7, 12),
    KW_PARRAY(S, partitions, "Partitions", KW_T_I32, 7, KW_VMAX),
};
#undef S
static const struct kw_schema forgotten_schema =
    KW_SCHEMA(struct kw_fetch_req_forgotten_topic, "ForgottenTopic", forgotten_fields);

#define S struct kw_fetch_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, cluster_id, "ClusterId", KW_T_STR, 12, KW_VMAX, KW_NULLABLE(12),
             KW_TAGGED(0, 12)),
    KW_FIELD(S, replica_id, "ReplicaId", KW_T_I32, 0, 14, KW_DEFAULT(-1)),
    KW_FIELD(S, max_wait_ms, "MaxWaitMs", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, min_bytes, "MinBytes", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, max_bytes, "MaxBytes", KW_T_I32, 3, KW_VMAX, KW_DEFAULT(0x7fffffff)),
    KW_FIELD(S, isolation_level, "IsolationLevel", KW_T_I8, 4, KW_VMAX),
    KW_FIELD(S, session_id, "SessionId", KW_T_I32, 7, KW_VMAX),
    KW_FIELD(S, session_epoch, "SessionEpoch", KW_T_I32, 7, KW_VMAX, KW_DEFAULT(-1)),
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 0, KW_VMAX),
    KW_ARRAY(S, forgotten_topics_data, "ForgottenTopicsData", forgotten_schema, 7, KW_VMAX),
    KW_FIELD(S, rack_id, "RackId", KW_T_STR, 11, KW_VMAX, KW_EMPTY_DEFAULT),
};
#undef S
const struct kw_schema kw_fetch_req_schema =
    KW_SCHEMA(struct kw_fetch_req, "FetchRequest", req_fields);

#define S struct kw_fetch_resp_epoch_end_offset
static const struct kw_field epoch_end_offset_fields[] = {
    KW_FIELD(S, epoch, "Epoch", KW_T_I32, 12, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, end_offset, "EndOffset", KW_T_I64, 12, KW_VMAX, KW_DEFAULT(-1)),
};
#undef S
static const struct kw_schema epoch_end_offset_schema =
    KW_SCHEMA(struct kw_fetch_resp_epoch_end_offset, "EpochEndOffset", epoch_end_offset_fields);

#define S struct kw_fetch_resp_leader
static const struct kw_field leader_fields[] = {
    KW_FIELD(S, leader_id, "LeaderId", KW_T_I32, 12, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, leader_epoch, "LeaderEpoch", KW_T_I32, 12, KW_VMAX, KW_DEFAULT(-1)),
};
#undef S
static const struct kw_schema leader_schema =
    KW_SCHEMA(struct kw_fetch_resp_leader, "LeaderIdAndEpoch", leader_fields);

/* Its fields say "0+" in the spec; the struct itself exists only from v12, as a tag. */
#define S struct kw_fetch_resp_snapshot_id
static const struct kw_field snapshot_id_fields[] = {
    KW_FIELD(S, end_offset, "EndOffset", KW_T_I64, 0, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, epoch, "Epoch", KW_T_I32, 0, KW_VMAX, KW_DEFAULT(-1)),
};
#undef S
static const struct kw_schema snapshot_id_schema =
    KW_SCHEMA(struct kw_fetch_resp_snapshot_id, "SnapshotId", snapshot_id_fields);

#define S struct kw_fetch_resp_aborted_transaction
static const struct kw_field aborted_fields[] = {
    KW_FIELD(S, producer_id, "ProducerId", KW_T_I64, 4, KW_VMAX),
    KW_FIELD(S, first_offset, "FirstOffset", KW_T_I64, 4, KW_VMAX),
};
#undef S
static const struct kw_schema aborted_schema =
    KW_SCHEMA(struct kw_fetch_resp_aborted_transaction, "AbortedTransaction", aborted_fields);

#define S struct kw_fetch_resp_partition
static const struct kw_field resp_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, high_watermark, "HighWatermark", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, last_stable_offset, "LastStableOffset", KW_T_I64, 4, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, log_start_offset, "LogStartOffset", KW_T_I64, 5, KW_VMAX, KW_DEFAULT(-1)),
    KW_STRUCT(S, diverging_epoch, "DivergingEpoch", epoch_end_offset_schema, 12, KW_VMAX,
              KW_TAGGED(0, 12)),
    KW_STRUCT(S, current_leader, "CurrentLeader", leader_schema, 12, KW_VMAX, KW_TAGGED(1, 12)),
    KW_STRUCT(S, snapshot_id, "SnapshotId", snapshot_id_schema, 12, KW_VMAX, KW_TAGGED(2, 12)),
    KW_ARRAY(S, aborted_transactions, "AbortedTransactions", aborted_schema, 4, KW_VMAX,
             KW_NULLABLE(4)),
    KW_FIELD(S, preferred_read_replica, "PreferredReadReplica", KW_T_I32, 11, KW_VMAX,
             KW_DEFAULT(-1)),
    KW_FIELD(S, records, "Records", KW_T_RECORDS, 0, KW_VMAX, KW_NULLABLE(0)),
};
#undef S
static const struct kw_schema resp_partition_schema =
    KW_SCHEMA(struct kw_fetch_resp_partition, "PartitionData", resp_partition_fields);

#define S struct kw_fetch_resp_topic
static const struct kw_field resp_topic_fields[] = {
    KW_FIELD(S, topic, "Topic", KW_T_STR, 0, 12),
    KW_ARRAY(S, partitions, "Partitions", resp_partition_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema resp_topic_schema =
    KW_SCHEMA(struct kw_fetch_resp_topic, "FetchableTopicResponse", resp_topic_fields);

#define S struct kw_fetch_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 7, KW_VMAX),
    KW_FIELD(S, session_id, "SessionId", KW_T_I32, 7, KW_VMAX),
    KW_ARRAY(S, responses, "Responses", resp_topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_fetch_resp_schema =
    KW_SCHEMA(struct kw_fetch_resp, "FetchResponse", resp_fields);

KW_CODEC(fetch, KW_API_FETCH)
