/* JoinGroup (key 11), v0-v7, flexible from v6. No tagged fields in any version.
 * RebalanceTimeoutMs (v1+) reads as -1 when absent: a v0 member's rebalance timeout is its
 * session timeout, which the coordinator substitutes. From v4 a member joining with an empty
 * MemberId is refused with MEMBER_ID_REQUIRED and a fresh id, and must join again (KIP-394).
 * ProtocolName turns nullable at v7, together with the ProtocolType echo of KIP-559. v8 (Reason,
 * KIP-800) and v9 (SkipAssignment) are left out: no client we target sends them. */
#include "lib/proto/join_group.h"

#include "lib/proto/codec.h"

#define S struct kw_join_group_req_protocol
static const struct kw_field req_protocol_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, metadata, "Metadata", KW_T_BYTES, 0, KW_VMAX),
};
#undef S
static const struct kw_schema req_protocol_schema =
    KW_SCHEMA(struct kw_join_group_req_protocol, "JoinGroupRequestProtocol",
              req_protocol_fields);

#define S struct kw_join_group_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, session_timeout_ms, "SessionTimeoutMs", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, rebalance_timeout_ms, "RebalanceTimeoutMs", KW_T_I32, 1, KW_VMAX,
             KW_DEFAULT(-1)),
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5)),
    KW_FIELD(S, protocol_type, "ProtocolType", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, protocols, "Protocols", req_protocol_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_join_group_req_schema =
    KW_SCHEMA(struct kw_join_group_req, "JoinGroupRequest", req_fields);

#define S struct kw_join_group_resp_member
static const struct kw_field member_fields[] = {
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5)),
    KW_FIELD(S, metadata, "Metadata", KW_T_BYTES, 0, KW_VMAX),
};
#undef S
static const struct kw_schema member_schema =
    KW_SCHEMA(struct kw_join_group_resp_member, "JoinGroupResponseMember", member_fields);

#define S struct kw_join_group_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 2, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, generation_id, "GenerationId", KW_T_I32, 0, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, protocol_type, "ProtocolType", KW_T_STR, 7, KW_VMAX, KW_NULLABLE(7)),
    KW_FIELD(S, protocol_name, "ProtocolName", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(7),
             KW_EMPTY_DEFAULT),
    KW_FIELD(S, leader, "Leader", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, members, "Members", member_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_join_group_resp_schema =
    KW_SCHEMA(struct kw_join_group_resp, "JoinGroupResponse", resp_fields);

KW_CODEC(join_group, KW_API_JOIN_GROUP)
