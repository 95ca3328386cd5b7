/* SyncGroup (key 14), v0-v5, flexible from v4. No tagged fields in any version.
 * Only the group's leader sends assignments; the others send an empty list and wait for theirs.
 * From v5 both sides name the protocol type and name (KIP-559), and Kafka refuses a request
 * whose values disagree with what the group chose at JoinGroup. */
#include "lib/proto/sync_group.h"

#include "lib/proto/codec.h"

#define S struct kw_sync_group_req_assignment
static const struct kw_field assignment_fields[] = {
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, assignment, "Assignment", KW_T_BYTES, 0, KW_VMAX),
};
#undef S
static const struct kw_schema assignment_schema =
    KW_SCHEMA(struct kw_sync_group_req_assignment, "SyncGroupRequestAssignment",
              assignment_fields);

#define S struct kw_sync_group_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, generation_id, "GenerationId", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 3, KW_VMAX, KW_NULLABLE(3)),
    KW_FIELD(S, protocol_type, "ProtocolType", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5)),
    KW_FIELD(S, protocol_name, "ProtocolName", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5)),
    KW_ARRAY(S, assignments, "Assignments", assignment_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_sync_group_req_schema =
    KW_SCHEMA(struct kw_sync_group_req, "SyncGroupRequest", req_fields);

#define S struct kw_sync_group_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, protocol_type, "ProtocolType", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5)),
    KW_FIELD(S, protocol_name, "ProtocolName", KW_T_STR, 5, KW_VMAX, KW_NULLABLE(5)),
    KW_FIELD(S, assignment, "Assignment", KW_T_BYTES, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_sync_group_resp_schema =
    KW_SCHEMA(struct kw_sync_group_resp, "SyncGroupResponse", resp_fields);

KW_CODEC(sync_group, KW_API_SYNC_GROUP)
