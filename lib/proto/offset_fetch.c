/* OffsetFetch (key 9), v0-v7, flexible from v6. No tagged fields in any version.
 * v0 read offsets kept in ZooKeeper, v1+ those in __consumer_offsets; the bytes are the same.
 * A null topic list (v2+) asks for every topic the group has committed; v0-v1 cannot express it,
 * so a null list is written there as empty and a null on the wire is refused. The group-level
 * ErrorCode arrives at v2; before it, group errors are repeated in every partition. v8+ (several
 * groups per request, KIP-709) is left out: no client we target sends it. */
#include "lib/proto/offset_fetch.h"

#include "lib/proto/codec.h"

#define S struct kw_offset_fetch_req_topic
static const struct kw_field req_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, 7, KW_EMPTY_DEFAULT),
    KW_PARRAY(S, partition_indexes, "PartitionIndexes", KW_T_I32, 0, 7),
};
#undef S
static const struct kw_schema req_topic_schema =
    KW_SCHEMA(struct kw_offset_fetch_req_topic, "OffsetFetchRequestTopic", req_topic_fields);

#define S struct kw_offset_fetch_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, 7, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, topics, "Topics", req_topic_schema, 0, 7, KW_NULLABLE(2)),
    KW_FIELD(S, require_stable, "RequireStable", KW_T_BOOL, 7, KW_VMAX),
};
#undef S
const struct kw_schema kw_offset_fetch_req_schema =
    KW_SCHEMA(struct kw_offset_fetch_req, "OffsetFetchRequest", req_fields);

#define S struct kw_offset_fetch_resp_partition
static const struct kw_field resp_partition_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, 7),
    KW_FIELD(S, committed_offset, "CommittedOffset", KW_T_I64, 0, 7),
    KW_FIELD(S, committed_leader_epoch, "CommittedLeaderEpoch", KW_T_I32, 5, 7, KW_DEFAULT(-1)),
    KW_FIELD(S, metadata, "Metadata", KW_T_STR, 0, 7, KW_NULLABLE(0), KW_EMPTY_DEFAULT),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, 7),
};
#undef S
static const struct kw_schema resp_partition_schema =
    KW_SCHEMA(struct kw_offset_fetch_resp_partition, "OffsetFetchResponsePartition",
              resp_partition_fields);

#define S struct kw_offset_fetch_resp_topic
static const struct kw_field resp_topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, 7, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, partitions, "Partitions", resp_partition_schema, 0, 7),
};
#undef S
static const struct kw_schema resp_topic_schema =
    KW_SCHEMA(struct kw_offset_fetch_resp_topic, "OffsetFetchResponseTopic", resp_topic_fields);

#define S struct kw_offset_fetch_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 3, KW_VMAX),
    KW_ARRAY(S, topics, "Topics", resp_topic_schema, 0, 7),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 2, 7),
};
#undef S
const struct kw_schema kw_offset_fetch_resp_schema =
    KW_SCHEMA(struct kw_offset_fetch_resp, "OffsetFetchResponse", resp_fields);

KW_CODEC(offset_fetch, KW_API_OFFSET_FETCH)
