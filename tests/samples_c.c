/* Samples for the consumer-group APIs (JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch, DescribeGroups). Values are what a two-member "range" consumer group
 * on topic "orders" would exchange; metadata and assignments hold real consumer-protocol bytes.
 * Every field differs from its default somewhere, so each version carries all it has. */
#include "lib/proto/describe_groups.h"
#include "lib/proto/list_groups.h"
#include "lib/proto/heartbeat.h"
#include "lib/proto/join_group.h"
#include "lib/proto/leave_group.h"
#include "lib/proto/offset_commit.h"
#include "lib/proto/offset_fetch.h"
#include "lib/proto/sync_group.h"
#include "tests/samples.h"

#define STR(s) { s, (int32_t)sizeof(s) - 1 }
#define BYTES(a) { a, (int32_t)sizeof(a) }
#define N(arr) ((int32_t)(sizeof(arr) / sizeof((arr)[0])))

#define MEMBER_A "rdkafka-5e1f0c2a-7d4b-4b61-9a0e-1c3f2b7d8e90"
#define MEMBER_B "kafka-python-2.0.2-0b9d4c6e-2f71-4a83-b5d0-6e8c1a9f3b27"

/* ConsumerProtocolSubscription v0: Version, Topics ["orders"], UserData null. */
static const uint8_t subscription[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
    0xff, 0xff, 0xff, 0xff,
};
/* ConsumerProtocolAssignment v0: orders [0, 1], UserData null. */
static const uint8_t assignment_a[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0xff, 0xff, 0xff,
};
/* orders [2]. */
static const uint8_t assignment_b[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff,
};

/* --- JoinGroup -------------------------------------------------------------------------------- */

const void *kwt_sample_join_group_req(void)
{
    static struct kw_join_group_req_protocol protocols[] = {
        { .name = STR("range"), .metadata = BYTES(subscription) },
        { .name = STR("roundrobin"), .metadata = BYTES(subscription) },
    };
    static const struct kw_join_group_req m = {
        .group_id = STR("orders-consumers"),
        .session_timeout_ms = 45000,
        .rebalance_timeout_ms = 300000,
        .member_id = STR(MEMBER_A),
        .group_instance_id = STR("consumer-host-1"),
        .protocol_type = STR("consumer"),
        .protocols = protocols, .n_protocols = N(protocols),
    };
    return &m;
}

const void *kwt_sample_join_group_resp(void)
{
    static struct kw_join_group_resp_member members[] = {
        { .member_id = STR(MEMBER_A), .group_instance_id = STR("consumer-host-1"),
          .metadata = BYTES(subscription) },
        { .member_id = STR(MEMBER_B), .group_instance_id = STR("consumer-host-2"),
          .metadata = BYTES(subscription) },
    };
    static const struct kw_join_group_resp m = {
        .throttle_time_ms = 12,
        .error_code = 0,
        .generation_id = 3,
        .protocol_type = STR("consumer"),
        .protocol_name = STR("range"),
        .leader = STR(MEMBER_A),
        .member_id = STR(MEMBER_A),
        .members = members, .n_members = N(members),
    };
    return &m;
}

/* --- SyncGroup -------------------------------------------------------------------------------- */

const void *kwt_sample_sync_group_req(void)
{
    static struct kw_sync_group_req_assignment assignments[] = {
        { .member_id = STR(MEMBER_A), .assignment = BYTES(assignment_a) },
        { .member_id = STR(MEMBER_B), .assignment = BYTES(assignment_b) },
    };
    static const struct kw_sync_group_req m = {
        .group_id = STR("orders-consumers"),
        .generation_id = 3,
        .member_id = STR(MEMBER_A),
        .group_instance_id = STR("consumer-host-1"),
        .protocol_type = STR("consumer"),
        .protocol_name = STR("range"),
        .assignments = assignments, .n_assignments = N(assignments),
    };
    return &m;
}

const void *kwt_sample_sync_group_resp(void)
{
    static const struct kw_sync_group_resp m = {
        .throttle_time_ms = 4,
        .error_code = 0,
        .protocol_type = STR("consumer"),
        .protocol_name = STR("range"),
        .assignment = BYTES(assignment_a),
    };
    return &m;
}

/* --- Heartbeat -------------------------------------------------------------------------------- */

const void *kwt_sample_heartbeat_req(void)
{
    static const struct kw_heartbeat_req m = {
        .group_id = STR("orders-consumers"),
        .generation_id = 3,
        .member_id = STR(MEMBER_B),
        .group_instance_id = STR("consumer-host-2"),
    };
    return &m;
}

const void *kwt_sample_heartbeat_resp(void)
{
    static const struct kw_heartbeat_resp m = {
        .throttle_time_ms = 9,
        .error_code = 27,       /* REBALANCE_IN_PROGRESS */
    };
    return &m;
}

/* --- LeaveGroup ------------------------------------------------------------------------------- */

const void *kwt_sample_leave_group_req(void)
{
    static struct kw_leave_group_req_member members[] = {
        { .member_id = STR(MEMBER_A), .group_instance_id = STR("consumer-host-1") },
        { .member_id = STR(MEMBER_B), .group_instance_id = KW_STR_NULL },
    };
    static const struct kw_leave_group_req m = {
        .group_id = STR("orders-consumers"),
        .member_id = STR(MEMBER_B),
        .members = members, .n_members = N(members),
    };
    return &m;
}

const void *kwt_sample_leave_group_resp(void)
{
    static struct kw_leave_group_resp_member members[] = {
        { .member_id = STR(MEMBER_A), .group_instance_id = STR("consumer-host-1"),
          .error_code = 0 },
        { .member_id = STR(MEMBER_B), .group_instance_id = KW_STR_NULL,
          .error_code = 25 },   /* UNKNOWN_MEMBER_ID */
    };
    static const struct kw_leave_group_resp m = {
        .throttle_time_ms = 2,
        .error_code = 0,
        .members = members, .n_members = N(members),
    };
    return &m;
}

/* --- OffsetCommit ----------------------------------------------------------------------------- */

const void *kwt_sample_offset_commit_req(void)
{
    static struct kw_offset_commit_req_partition orders[] = {
        { .partition_index = 0, .committed_offset = 1042, .committed_leader_epoch = 4,
          .commit_timestamp = 1700000000123, .committed_metadata = STR("host-1") },
        { .partition_index = 1, .committed_offset = 977, .committed_leader_epoch = -1,
          .commit_timestamp = -1, .committed_metadata = KW_STR_NULL },
    };
    static struct kw_offset_commit_req_partition payments[] = {
        { .partition_index = 2, .committed_offset = 0, .committed_leader_epoch = 1,
          .commit_timestamp = 1700000000456, .committed_metadata = STR("") },
    };
    static struct kw_offset_commit_req_topic topics[] = {
        { .name = STR("orders"), .partitions = orders, .n_partitions = N(orders) },
        { .name = STR("payments"), .partitions = payments, .n_partitions = N(payments) },
    };
    static const struct kw_offset_commit_req m = {
        .group_id = STR("orders-consumers"),
        .generation_id_or_member_epoch = 3,
        .member_id = STR(MEMBER_A),
        .group_instance_id = STR("consumer-host-1"),
        .retention_time_ms = 604800000,
        .topics = topics, .n_topics = N(topics),
    };
    return &m;
}

const void *kwt_sample_offset_commit_resp(void)
{
    static struct kw_offset_commit_resp_partition orders[] = {
        { .partition_index = 0, .error_code = 0 },
        { .partition_index = 1, .error_code = 22 },     /* ILLEGAL_GENERATION */
    };
    static struct kw_offset_commit_resp_partition payments[] = {
        { .partition_index = 2, .error_code = 12 },     /* OFFSET_METADATA_TOO_LARGE */
    };
    static struct kw_offset_commit_resp_topic topics[] = {
        { .name = STR("orders"), .partitions = orders, .n_partitions = N(orders) },
        { .name = STR("payments"), .partitions = payments, .n_partitions = N(payments) },
    };
    static const struct kw_offset_commit_resp m = {
        .throttle_time_ms = 6,
        .topics = topics, .n_topics = N(topics),
    };
    return &m;
}

/* --- OffsetFetch ------------------------------------------------------------------------------ */

const void *kwt_sample_offset_fetch_req(void)
{
    static int32_t orders[] = { 0, 1, 2 };
    static int32_t payments[] = { 2 };
    static struct kw_offset_fetch_req_topic topics[] = {
        { .name = STR("orders"), .partition_indexes = orders,
          .n_partition_indexes = N(orders) },
        { .name = STR("payments"), .partition_indexes = payments,
          .n_partition_indexes = N(payments) },
    };
    static const struct kw_offset_fetch_req m = {
        .group_id = STR("orders-consumers"),
        .topics = topics, .n_topics = N(topics),
        .require_stable = true,
    };
    return &m;
}

const void *kwt_sample_offset_fetch_resp(void)
{
    static struct kw_offset_fetch_resp_partition orders[] = {
        { .partition_index = 0, .committed_offset = 1042, .committed_leader_epoch = 4,
          .metadata = STR("host-1"), .error_code = 0 },
        { .partition_index = 1, .committed_offset = -1, .committed_leader_epoch = -1,
          .metadata = KW_STR_NULL, .error_code = 0 },
        { .partition_index = 2, .committed_offset = -1, .committed_leader_epoch = -1,
          .metadata = STR(""), .error_code = 3 },       /* UNKNOWN_TOPIC_OR_PARTITION */
    };
    static struct kw_offset_fetch_resp_topic topics[] = {
        { .name = STR("orders"), .partitions = orders, .n_partitions = N(orders) },
        { .name = STR("payments"), .partitions = orders, .n_partitions = 1 },
    };
    static const struct kw_offset_fetch_resp m = {
        .throttle_time_ms = 3,
        .topics = topics, .n_topics = N(topics),
        .error_code = 14,       /* COORDINATOR_LOAD_IN_PROGRESS */
    };
    return &m;
}

/* --- DescribeGroups --------------------------------------------------------------------------- */

const void *kwt_sample_describe_groups_req(void)
{
    static struct kw_str groups[] = { STR("orders-consumers"), STR("audit") };
    static const struct kw_describe_groups_req m = {
        .groups = groups, .n_groups = N(groups),
        .include_authorized_operations = true,
    };
    return &m;
}

const void *kwt_sample_describe_groups_resp(void)
{
    static struct kw_describe_groups_resp_member members[] = {
        { .member_id = STR(MEMBER_A), .group_instance_id = STR("consumer-host-1"),
          .client_id = STR("rdkafka"), .client_host = STR("/10.0.0.11"),
          .member_metadata = BYTES(subscription), .member_assignment = BYTES(assignment_a) },
        { .member_id = STR(MEMBER_B), .group_instance_id = KW_STR_NULL,
          .client_id = STR("kafka-python-2.0.2"), .client_host = STR("/10.0.0.12"),
          .member_metadata = BYTES(subscription), .member_assignment = BYTES(assignment_b) },
    };
    /* The second group is answered with NOT_COORDINATOR (16). */
    static struct kw_describe_groups_resp_group groups[] = {
        { .error_code = 0, .group_id = STR("orders-consumers"), .group_state = STR("Stable"),
          .protocol_type = STR("consumer"), .protocol_data = STR("range"),
          .members = members, .n_members = N(members), .authorized_operations = 0x0c08 },
        { .error_code = 16, .group_id = STR("audit"), .group_state = STR("Dead"),
          .protocol_type = STR(""), .protocol_data = STR(""),
          .authorized_operations = INT32_MIN },
    };
    static const struct kw_describe_groups_resp m = {
        .throttle_time_ms = 1,
        .groups = groups, .n_groups = N(groups),
    };
    return &m;
}

/* --- ListGroups ------------------------------------------------------------------------------- */

const void *kwt_sample_list_groups_req(void)
{
    static struct kw_str states[] = { STR("Stable"), STR("Empty") };
    static const struct kw_list_groups_req m = { .states_filter = states, .n_states_filter = N(states) };
    return &m;
}

const void *kwt_sample_list_groups_resp(void)
{
    static struct kw_list_groups_resp_group groups[] = {
        { .group_id = STR("orders-consumers"), .protocol_type = STR("consumer"),
          .group_state = STR("Stable") },
        { .group_id = STR("offsets-only"), .protocol_type = STR(""), .group_state = STR("Empty") },
    };
    static const struct kw_list_groups_resp m = {
        .throttle_time_ms = 2, .groups = groups, .n_groups = N(groups),
    };
    return &m;
}
