/* DescribeGroups (key 15), v0-v5, flexible from v5. No tagged fields in any version.
 * AuthorizedOperations (v3+) reads as INT32_MIN when absent or not asked for, Kafka's "not
 * provided"; it is a bit set of ACL operations otherwise (KIP-430). Member metadata and
 * assignment are opaque bytes here, empty unless the group is Stable. */
#include "lib/proto/describe_groups.h"

#include "lib/proto/codec.h"

#define S struct kw_describe_groups_req
static const struct kw_field req_fields[] = {
    KW_PARRAY(S, groups, "Groups", KW_T_STR, 0, KW_VMAX),
    KW_FIELD(S, include_authorized_operations, "IncludeAuthorizedOperations", KW_T_BOOL, 3,
             KW_VMAX),
};
#undef S
const struct kw_schema kw_describe_groups_req_schema =
    KW_SCHEMA(struct kw_describe_groups_req, "DescribeGroupsRequest", req_fields);

#define S struct kw_describe_groups_resp_member
static const struct kw_field member_fields[] = {
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 4, KW_VMAX, KW_NULLABLE(4)),
    KW_FIELD(S, client_id, "ClientId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, client_host, "ClientHost", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, member_metadata, "MemberMetadata", KW_T_BYTES, 0, KW_VMAX),
    KW_FIELD(S, member_assignment, "MemberAssignment", KW_T_BYTES, 0, KW_VMAX),
};
#undef S
static const struct kw_schema member_schema =
    KW_SCHEMA(struct kw_describe_groups_resp_member, "DescribedGroupMember", member_fields);

#define S struct kw_describe_groups_resp_group
static const struct kw_field group_fields[] = {
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_state, "GroupState", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, protocol_type, "ProtocolType", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, protocol_data, "ProtocolData", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, members, "Members", member_schema, 0, KW_VMAX),
    KW_FIELD(S, authorized_operations, "AuthorizedOperations", KW_T_I32, 3, KW_VMAX,
             KW_DEFAULT(INT32_MIN)),
};
#undef S
static const struct kw_schema group_schema =
    KW_SCHEMA(struct kw_describe_groups_resp_group, "DescribedGroup", group_fields);

#define S struct kw_describe_groups_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_ARRAY(S, groups, "Groups", group_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_describe_groups_resp_schema =
    KW_SCHEMA(struct kw_describe_groups_resp, "DescribeGroupsResponse", resp_fields);

KW_CODEC(describe_groups, KW_API_DESCRIBE_GROUPS)
