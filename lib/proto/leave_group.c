/* LeaveGroup (key 13), v0-v4, flexible from v4. No tagged fields in any version.
 * The request changes shape at v3 (KIP-345): v0-v2 name one MemberId, v3+ a list of members,
 * each with an optional GroupInstanceId, answered member by member. The codec does not convert
 * between the two; a caller serving both reads MemberId below v3 and Members from v3. v5
 * (Reason, KIP-800) is left out: no client we target sends it. */
#include "lib/proto/leave_group.h"

#include "lib/proto/codec.h"

#define S struct kw_leave_group_req_member
static const struct kw_field req_member_fields[] = {
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 3, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 3, KW_VMAX, KW_NULLABLE(3)),
};
#undef S
static const struct kw_schema req_member_schema =
    KW_SCHEMA(struct kw_leave_group_req_member, "MemberIdentity", req_member_fields);

#define S struct kw_leave_group_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, 2, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, members, "Members", req_member_schema, 3, KW_VMAX),
};
#undef S
const struct kw_schema kw_leave_group_req_schema =
    KW_SCHEMA(struct kw_leave_group_req, "LeaveGroupRequest", req_fields);

#define S struct kw_leave_group_resp_member
static const struct kw_field resp_member_fields[] = {
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 3, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 3, KW_VMAX, KW_NULLABLE(3)),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 3, KW_VMAX),
};
#undef S
static const struct kw_schema resp_member_schema =
    KW_SCHEMA(struct kw_leave_group_resp_member, "MemberResponse", resp_member_fields);

#define S struct kw_leave_group_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_ARRAY(S, members, "Members", resp_member_schema, 3, KW_VMAX),
};
#undef S
const struct kw_schema kw_leave_group_resp_schema =
    KW_SCHEMA(struct kw_leave_group_resp, "LeaveGroupResponse", resp_fields);

KW_CODEC(leave_group, KW_API_LEAVE_GROUP)
