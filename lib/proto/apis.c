#include "lib/proto/apis.h"

#include <stddef.h>

#include "lib/proto/add_offsets_to_txn.h"
#include "lib/proto/add_partitions_to_txn.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/create_topics.h"
#include "lib/proto/delete_topics.h"
#include "lib/proto/end_txn.h"
#include "lib/proto/describe_groups.h"
#include "lib/proto/fetch.h"
#include "lib/proto/find_coordinator.h"
#include "lib/proto/heartbeat.h"
#include "lib/proto/init_producer_id.h"
#include "lib/proto/join_group.h"
#include "lib/proto/leave_group.h"
#include "lib/proto/list_groups.h"
#include "lib/proto/list_offsets.h"
#include "lib/proto/metadata.h"
#include "lib/proto/offset_commit.h"
#include "lib/proto/offset_fetch.h"
#include "lib/proto/produce.h"
#include "lib/proto/sync_group.h"
#include "lib/proto/txn_offset_commit.h"

/* The protocol's own names, for logs and kdump. */
#define NAME_PRODUCE "Produce"
#define NAME_FETCH "Fetch"
#define NAME_LIST_OFFSETS "ListOffsets"
#define NAME_METADATA "Metadata"
#define NAME_FIND_COORDINATOR "FindCoordinator"
#define NAME_API_VERSIONS "ApiVersions"
#define NAME_CREATE_TOPICS "CreateTopics"
#define NAME_DELETE_TOPICS "DeleteTopics"
#define NAME_INIT_PRODUCER_ID "InitProducerId"
#define NAME_OFFSET_COMMIT "OffsetCommit"
#define NAME_OFFSET_FETCH "OffsetFetch"
#define NAME_JOIN_GROUP "JoinGroup"
#define NAME_HEARTBEAT "Heartbeat"
#define NAME_LEAVE_GROUP "LeaveGroup"
#define NAME_SYNC_GROUP "SyncGroup"
#define NAME_DESCRIBE_GROUPS "DescribeGroups"
#define NAME_LIST_GROUPS "ListGroups"
#define NAME_ADD_PARTITIONS_TO_TXN "AddPartitionsToTxn"
#define NAME_ADD_OFFSETS_TO_TXN "AddOffsetsToTxn"
#define NAME_END_TXN "EndTxn"
#define NAME_TXN_OFFSET_COMMIT "TxnOffsetCommit"

#define X(key, CONST, name, min, max, flex) \
    { key, NAME_##CONST, min, max, flex, &kw_##name##_req_schema, &kw_##name##_resp_schema },
static const struct kw_api apis[] = { KW_APIS(X) };
/* Ended by a nameless entry, so the list may be empty (as it is once every API is served). */
static const struct kw_api pending[] = { KW_APIS_PENDING(X) { -1, NULL, 0, 0, 0, NULL, NULL } };
#undef X

/* Every key Kafka defines up to 2024, so logs and kdump can name what we do not speak. */
static const char *const names[] = {
    "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica",
    "UpdateMetadata", "ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator",
    "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups",
    "SaslHandshake", "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords",
    "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn",
    "WriteTxnMarkers", "TxnOffsetCommit", "DescribeAcls", "CreateAcls", "DeleteAcls",
    "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs",
    "SaslAuthenticate", "CreatePartitions", "CreateDelegationToken", "RenewDelegationToken",
    "ExpireDelegationToken", "DescribeDelegationToken", "DeleteGroups", "ElectLeaders",
    "IncrementalAlterConfigs", "AlterPartitionReassignments", "ListPartitionReassignments",
    "OffsetDelete", "DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
    "AlterUserScramCredentials", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch", "DescribeQuorum",
    "AlterPartition", "UpdateFeatures", "Envelope", "FetchSnapshot", "DescribeCluster",
    "DescribeProducers", "BrokerRegistration", "BrokerHeartbeat", "UnregisterBroker",
    "DescribeTransactions", "ListTransactions", "AllocateProducerIds", "ConsumerGroupHeartbeat",
    "ConsumerGroupDescribe", "ControllerRegistration", "GetTelemetrySubscriptions",
    "PushTelemetry", "AssignReplicasToDirs", "ListClientMetricsResources", "DescribeTopicPartitions",
};

const char *kw_api_name(int key)
{
    if (key >= 0 && (size_t)key < sizeof(names) / sizeof(names[0]))
        return names[key];
    return "Unknown";
}

const struct kw_api *kw_api_find(int key)
{
    for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
        if (apis[i].key == key)
            return &apis[i];
    for (const struct kw_api *p = pending; p->name != NULL; p++)
        if (p->key == key)
            return p;
    return NULL;
}

const struct kw_api *kw_api_all(int *n)
{
    *n = (int)(sizeof(apis) / sizeof(apis[0]));
    return apis;
}

bool kw_api_supported(int key, int version)
{
    const struct kw_api *api = kw_api_find(key);
    return api != NULL && version >= api->min && version <= api->max;
}
