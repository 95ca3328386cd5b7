/* Heartbeat (key 12), v0-v4, flexible from v4. No tagged fields in any version.
 * A static member (KIP-345) also names its GroupInstanceId from v3, so the coordinator can fence
 * an older instance that still uses the same id. */
#include "lib/proto/heartbeat.h"

#include "lib/proto/codec.h"

#define S struct kw_heartbeat_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, generation_id, "GenerationId", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, member_id, "MemberId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_instance_id, "GroupInstanceId", KW_T_STR, 3, KW_VMAX, KW_NULLABLE(3)),
};
#undef S
const struct kw_schema kw_heartbeat_req_schema =
    KW_SCHEMA(struct kw_heartbeat_req, "HeartbeatRequest", req_fields);

#define S struct kw_heartbeat_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_heartbeat_resp_schema =
    KW_SCHEMA(struct kw_heartbeat_resp, "HeartbeatResponse", resp_fields);

KW_CODEC(heartbeat, KW_API_HEARTBEAT)
