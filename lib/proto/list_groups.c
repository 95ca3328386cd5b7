/* ListGroups (key 16), v0-v4, flexible from v3. No tagged fields in any version.
 * Each broker lists only the groups it coordinates, so a client asks every broker; v4 can
 * filter by state (KIP-518) and then reports each group's state. */
#include "lib/proto/list_groups.h"

#include "lib/proto/codec.h"

#define S struct kw_list_groups_req
static const struct kw_field req_fields[] = {
    KW_PARRAY(S, states_filter, "StatesFilter", KW_T_STR, 4, KW_VMAX),
};
#undef S
const struct kw_schema kw_list_groups_req_schema =
    KW_SCHEMA(struct kw_list_groups_req, "ListGroupsRequest", req_fields);

#define S struct kw_list_groups_resp_group
static const struct kw_field group_fields[] = {
    KW_FIELD(S, group_id, "GroupId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, protocol_type, "ProtocolType", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, group_state, "GroupState", KW_T_STR, 4, KW_VMAX, KW_EMPTY_DEFAULT),
};
#undef S
static const struct kw_schema group_schema =
    KW_SCHEMA(struct kw_list_groups_resp_group, "ListedGroup", group_fields);

#define S struct kw_list_groups_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_ARRAY(S, groups, "Groups", group_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_list_groups_resp_schema =
    KW_SCHEMA(struct kw_list_groups_resp, "ListGroupsResponse", resp_fields);

KW_CODEC(list_groups, KW_API_LIST_GROUPS)
