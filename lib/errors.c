/* The Kafka error table: every code Kafka defines (-1 to 128, from its Errors enum), its name,
 * its default message, and whether it is retriable in the Java client's sense: the exception
 * class extends RetriableException, directly or through a parent (NOT_LEADER_OR_FOLLOWER does so
 * through InvalidMetadataException). Some answers surprise: CORRUPT_MESSAGE and NETWORK_EXCEPTION
 * are retriable, OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID and PRODUCER_FENCED are not.
 * Generated once from Kafka's sources; new codes are added by hand. */
#include <stddef.h>
#include <strings.h>

#include "lib/errors.h"

static const struct entry {
    const char *name;
    const char *text;
    bool retriable;
} table[] = {
#define E(name, retriable, text) [KW_EC_##name - KW_EC_MIN] = { #name, text, retriable }
    E(UNKNOWN_SERVER_ERROR, false,
      "The server experienced an unexpected error when processing the request."),
    E(NONE, false, ""),
    E(OFFSET_OUT_OF_RANGE, false,
      "The requested offset is not within the range of offsets maintained by the server."),
    E(CORRUPT_MESSAGE, true,
      "This message has failed its CRC checksum, exceeds the valid size, has a null key for a "
      "compacted topic, or is otherwise corrupt."),
    E(UNKNOWN_TOPIC_OR_PARTITION, true, "This server does not host this topic-partition."),
    E(INVALID_FETCH_SIZE, false, "The requested fetch size is invalid."),
    E(LEADER_NOT_AVAILABLE, true,
      "There is no leader for this topic-partition as we are in the middle of a leadership "
      "election."),
    E(NOT_LEADER_OR_FOLLOWER, true,
      "For requests intended only for the leader, this error indicates that the broker is not the "
      "current leader. For requests intended for any replica, this error indicates that the "
      "broker is not a replica of the topic partition."),
    E(REQUEST_TIMED_OUT, true, "The request timed out."),
    E(BROKER_NOT_AVAILABLE, false, "The broker is not available."),
    E(REPLICA_NOT_AVAILABLE, true,
      "The replica is not available for the requested topic-partition. Produce/Fetch requests and "
      "other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if "
      "the broker is not a replica of the topic-partition."),
    E(MESSAGE_TOO_LARGE, false,
      "The request included a message larger than the max message size the server will accept."),
    E(STALE_CONTROLLER_EPOCH, false, "The controller moved to another broker."),
    E(OFFSET_METADATA_TOO_LARGE, false, "The metadata field of the offset request was too large."),
    E(NETWORK_EXCEPTION, true, "The server disconnected before a response was received."),
    E(COORDINATOR_LOAD_IN_PROGRESS, true,
      "The coordinator is loading and hence can't process requests."),
    E(COORDINATOR_NOT_AVAILABLE, true, "The coordinator is not available."),
    E(NOT_COORDINATOR, true, "This is not the correct coordinator."),
    E(INVALID_TOPIC_EXCEPTION, false,
      "The request attempted to perform an operation on an invalid topic."),
    E(RECORD_LIST_TOO_LARGE, false,
      "The request included message batch larger than the configured segment size on the server."),
    E(NOT_ENOUGH_REPLICAS, true,
      "Messages are rejected since there are fewer in-sync replicas than required."),
    E(NOT_ENOUGH_REPLICAS_AFTER_APPEND, true,
      "Messages are written to the log, but to fewer in-sync replicas than required."),
    E(INVALID_REQUIRED_ACKS, false,
      "Produce request specified an invalid value for required acks."),
    E(ILLEGAL_GENERATION, false, "Specified group generation id is not valid."),
    E(INCONSISTENT_GROUP_PROTOCOL, false,
      "The group member's supported protocols are incompatible with those of existing members or "
      "first group member tried to join with empty protocol type or empty protocol list."),
    E(INVALID_GROUP_ID, false, "The configured groupId is invalid."),
    E(UNKNOWN_MEMBER_ID, false, "The coordinator is not aware of this member."),
    E(INVALID_SESSION_TIMEOUT, false,
      "The session timeout is not within the range allowed by the broker (as configured by "
      "group.min.session.timeout.ms and group.max.session.timeout.ms)."),
    E(REBALANCE_IN_PROGRESS, false, "The group is rebalancing, so a rejoin is needed."),
    E(INVALID_COMMIT_OFFSET_SIZE, false, "The committing offset data size is not valid."),
    E(TOPIC_AUTHORIZATION_FAILED, false, "Topic authorization failed."),
    E(GROUP_AUTHORIZATION_FAILED, false, "Group authorization failed."),
    E(CLUSTER_AUTHORIZATION_FAILED, false, "Cluster authorization failed."),
    E(INVALID_TIMESTAMP, false, "The timestamp of the message is out of acceptable range."),
    E(UNSUPPORTED_SASL_MECHANISM, false,
      "The broker does not support the requested SASL mechanism."),
    E(ILLEGAL_SASL_STATE, false, "Request is not valid given the current SASL state."),
    E(UNSUPPORTED_VERSION, false, "The version of API is not supported."),
    E(TOPIC_ALREADY_EXISTS, false, "Topic with this name already exists."),
    E(INVALID_PARTITIONS, false, "Number of partitions is below 1."),
    E(INVALID_REPLICATION_FACTOR, false,
      "Replication factor is below 1 or larger than the number of available brokers."),
    E(INVALID_REPLICA_ASSIGNMENT, false, "Replica assignment is invalid."),
    E(INVALID_CONFIG, false, "Configuration is invalid."),
    E(NOT_CONTROLLER, true, "This is not the correct controller for this cluster."),
    E(INVALID_REQUEST, false,
      "This most likely occurs because of a request being malformed by the client library or the "
      "message was sent to an incompatible broker. See the broker logs for more details."),
    E(UNSUPPORTED_FOR_MESSAGE_FORMAT, false,
      "The message format version on the broker does not support the request."),
    E(POLICY_VIOLATION, false, "Request parameters do not satisfy the configured policy."),
    E(OUT_OF_ORDER_SEQUENCE_NUMBER, false, "The broker received an out of order sequence number."),
    E(DUPLICATE_SEQUENCE_NUMBER, false, "The broker received a duplicate sequence number."),
    E(INVALID_PRODUCER_EPOCH, false, "Producer attempted to produce with an old epoch."),
    E(INVALID_TXN_STATE, false,
      "The producer attempted a transactional operation in an invalid state."),
    E(INVALID_PRODUCER_ID_MAPPING, false,
      "The producer attempted to use a producer id which is not currently assigned to its "
      "transactional id."),
    E(INVALID_TRANSACTION_TIMEOUT, false,
      "The transaction timeout is larger than the maximum value allowed by the broker (as "
      "configured by transaction.max.timeout.ms)."),
    E(CONCURRENT_TRANSACTIONS, true,
      "The producer attempted to update a transaction while another concurrent operation on the "
      "same transaction was ongoing."),
    E(TRANSACTION_COORDINATOR_FENCED, false,
      "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the "
      "current coordinator for a given producer."),
    E(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, false, "Transactional Id authorization failed."),
    E(SECURITY_DISABLED, false, "Security features are disabled."),
    E(OPERATION_NOT_ATTEMPTED, false,
      "The broker did not attempt to execute this operation. This may happen for batched RPCs "
      "where some operations in the batch failed, causing the broker to respond without trying "
      "the rest."),
    E(KAFKA_STORAGE_ERROR, true, "Disk error when trying to access log file on the disk."),
    E(LOG_DIR_NOT_FOUND, false,
      "The user-specified log directory is not found in the broker config."),
    E(SASL_AUTHENTICATION_FAILED, false, "SASL Authentication failed."),
    E(UNKNOWN_PRODUCER_ID, false,
      "This exception is raised by the broker if it could not locate the producer metadata "
      "associated with the producerId in question. This could happen if, for instance, the "
      "producer's records were deleted because their retention time had elapsed. Once the last "
      "records of the producerId are removed, the producer's metadata is removed from the broker, "
      "and future appends by the producer will return this exception."),
    E(REASSIGNMENT_IN_PROGRESS, false, "A partition reassignment is in progress."),
    E(DELEGATION_TOKEN_AUTH_DISABLED, false, "Delegation Token feature is not enabled."),
    E(DELEGATION_TOKEN_NOT_FOUND, false, "Delegation Token is not found on server."),
    E(DELEGATION_TOKEN_OWNER_MISMATCH, false, "Specified Principal is not valid Owner/Renewer."),
    E(DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, false,
      "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on "
      "delegation token authenticated channels."),
    E(DELEGATION_TOKEN_AUTHORIZATION_FAILED, false, "Delegation Token authorization failed."),
    E(DELEGATION_TOKEN_EXPIRED, false, "Delegation Token is expired."),
    E(INVALID_PRINCIPAL_TYPE, false, "Supplied principalType is not supported."),
    E(NON_EMPTY_GROUP, false, "The group is not empty."),
    E(GROUP_ID_NOT_FOUND, false, "The group id does not exist."),
    E(FETCH_SESSION_ID_NOT_FOUND, true, "The fetch session ID was not found."),
    E(INVALID_FETCH_SESSION_EPOCH, true, "The fetch session epoch is invalid."),
    E(LISTENER_NOT_FOUND, true,
      "There is no listener on the leader broker that matches the listener on which metadata "
      "request was processed."),
    E(TOPIC_DELETION_DISABLED, false, "Topic deletion is disabled."),
    E(FENCED_LEADER_EPOCH, true,
      "The leader epoch in the request is older than the epoch on the broker."),
    E(UNKNOWN_LEADER_EPOCH, true,
      "The leader epoch in the request is newer than the epoch on the broker."),
    E(UNSUPPORTED_COMPRESSION_TYPE, false,
      "The requesting client does not support the compression type of given partition."),
    E(STALE_BROKER_EPOCH, false, "Broker epoch has changed."),
    E(OFFSET_NOT_AVAILABLE, true,
      "The leader high watermark has not caught up from a recent leader election so the offsets "
      "cannot be guaranteed to be monotonically increasing."),
    E(MEMBER_ID_REQUIRED, false,
      "The group member needs to have a valid member id before actually entering a consumer "
      "group."),
    E(PREFERRED_LEADER_NOT_AVAILABLE, true, "The preferred leader was not available."),
    E(GROUP_MAX_SIZE_REACHED, false, "The consumer group has reached its max size."),
    E(FENCED_INSTANCE_ID, false,
      "The broker rejected this static consumer since another consumer with the same "
      "group.instance.id has registered with a different member.id."),
    E(ELIGIBLE_LEADERS_NOT_AVAILABLE, true, "Eligible topic partition leaders are not available."),
    E(ELECTION_NOT_NEEDED, true, "Leader election not needed for topic partition."),
    E(NO_REASSIGNMENT_IN_PROGRESS, false, "No partition reassignment is in progress."),
    E(GROUP_SUBSCRIBED_TO_TOPIC, false,
      "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed "
      "to it."),
    E(INVALID_RECORD, false,
      "This record has failed the validation on broker and hence will be rejected."),
    E(UNSTABLE_OFFSET_COMMIT, true, "There are unstable offsets that need to be cleared."),
    E(THROTTLING_QUOTA_EXCEEDED, true, "The throttling quota has been exceeded."),
    E(PRODUCER_FENCED, false,
      "There is a newer producer with the same transactionalId which fences the current one."),
    E(RESOURCE_NOT_FOUND, false, "A request illegally referred to a resource that does not exist."),
    E(DUPLICATE_RESOURCE, false, "A request illegally referred to the same resource twice."),
    E(UNACCEPTABLE_CREDENTIAL, false,
      "Requested credential would not meet criteria for acceptability."),
    E(INCONSISTENT_VOTER_SET, false,
      "Indicates that the either the sender or recipient of a voter-only request is not one of "
      "the expected voters."),
    E(INVALID_UPDATE_VERSION, false, "The given update version was invalid."),
    E(FEATURE_UPDATE_FAILED, false,
      "Unable to update finalized features due to an unexpected server error."),
    E(PRINCIPAL_DESERIALIZATION_FAILURE, false,
      "Request principal deserialization failed during forwarding. This indicates an internal "
      "error on the broker cluster security setup."),
    E(SNAPSHOT_NOT_FOUND, false, "Requested snapshot was not found."),
    E(POSITION_OUT_OF_RANGE, false,
      "Requested position is not greater than or equal to zero, and less than the size of the "
      "snapshot."),
    E(UNKNOWN_TOPIC_ID, true, "This server does not host this topic ID."),
    E(DUPLICATE_BROKER_REGISTRATION, false, "This broker ID is already in use."),
    E(BROKER_ID_NOT_REGISTERED, false, "The given broker ID was not registered."),
    E(INCONSISTENT_TOPIC_ID, true, "The log's topic ID did not match the topic ID in the request."),
    E(INCONSISTENT_CLUSTER_ID, false,
      "The clusterId in the request does not match that found on the server."),
    E(TRANSACTIONAL_ID_NOT_FOUND, false, "The transactionalId could not be found."),
    E(FETCH_SESSION_TOPIC_ID_ERROR, true,
      "The fetch session encountered inconsistent topic ID usage."),
    E(INELIGIBLE_REPLICA, false, "The new ISR contains at least one ineligible replica."),
    E(NEW_LEADER_ELECTED, false,
      "The AlterPartition request successfully updated the partition state but the leader has "
      "changed."),
    E(OFFSET_MOVED_TO_TIERED_STORAGE, false, "The requested offset is moved to tiered storage."),
    E(FENCED_MEMBER_EPOCH, false,
      "The member epoch is fenced by the group coordinator. The member must abandon all its "
      "partitions and rejoin."),
    E(UNRELEASED_INSTANCE_ID, false,
      "The instance ID is still used by another member in the consumer group. That member must "
      "leave first."),
    E(UNSUPPORTED_ASSIGNOR, false,
      "The assignor or its version range is not supported by the consumer group."),
    E(STALE_MEMBER_EPOCH, false,
      "The member epoch is stale. The member must retry after receiving its updated member epoch "
      "via the ConsumerGroupHeartbeat API."),
    E(MISMATCHED_ENDPOINT_TYPE, false, "The request was sent to an endpoint of the wrong type."),
    E(UNSUPPORTED_ENDPOINT_TYPE, false, "This endpoint type is not supported yet."),
    E(UNKNOWN_CONTROLLER_ID, false, "This controller ID is not known."),
    E(UNKNOWN_SUBSCRIPTION_ID, false,
      "Client sent a push telemetry request with an invalid or outdated subscription ID."),
    E(TELEMETRY_TOO_LARGE, false,
      "Client sent a push telemetry request larger than the maximum size the broker will accept."),
    E(INVALID_REGISTRATION, false,
      "The controller has considered the broker registration to be invalid."),
    E(TRANSACTION_ABORTABLE, false,
      "The server encountered an error with the transaction. The client can abort the transaction "
      "to continue using this transactional ID."),
    E(INVALID_RECORD_STATE, false,
      "The record state is invalid. The acknowledgement of delivery could not be completed."),
    E(SHARE_SESSION_NOT_FOUND, true, "The share session was not found."),
    E(INVALID_SHARE_SESSION_EPOCH, true, "The share session epoch is invalid."),
    E(FENCED_STATE_EPOCH, false,
      "The share coordinator rejected the request because the share-group state epoch did not "
      "match."),
    E(INVALID_VOTER_KEY, false, "The voter key doesn't match the receiving replica's key."),
    E(DUPLICATE_VOTER, false, "The voter is already part of the set of voters."),
    E(VOTER_NOT_FOUND, false, "The voter is not part of the set of voters."),
    E(INVALID_REGULAR_EXPRESSION, false, "The regular expression is not valid."),
#undef E
};

_Static_assert(sizeof(table) / sizeof(table[0]) == KW_EC_MAX - KW_EC_MIN + 1,
               "one entry per code, no gaps");

static const struct entry *find(int code)
{
    if (code < KW_EC_MIN || code > KW_EC_MAX)
        return NULL;
    return &table[code - KW_EC_MIN];
}

const char *kw_error_name(int code)
{
    const struct entry *e = find(code);
    return e ? e->name : "UNKNOWN";
}

const char *kw_error_text(int code)
{
    const struct entry *e = find(code);
    return e ? e->text : "Unknown error code.";
}

bool kw_error_retriable(int code)
{
    const struct entry *e = find(code);
    return e ? e->retriable : false;
}

int kw_error_by_name(const char *name)
{
    if (name == NULL)
        return KW_ERROR_NOT_FOUND;
    for (int code = KW_EC_MIN; code <= KW_EC_MAX; code++)
        if (strcasecmp(table[code - KW_EC_MIN].name, name) == 0)
            return code;
    return KW_ERROR_NOT_FOUND;
}
