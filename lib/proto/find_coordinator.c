/* FindCoordinator (key 10), v0-v4, flexible from v3 (v5-v6 only add error codes and share
 * groups, so we stop at v4). Up to v3 a request asks for one Key and the response carries one
 * coordinator at top level; v4 (KIP-699) batches: CoordinatorKeys in, one Coordinators entry
 * per key out, and the top-level fields are gone. KeyType (v1+, 0 group, 1 transaction) reads
 * as 0 when absent, which is what a v0 request (GroupCoordinator) means. Nothing is tagged.
 * Strings without a "null" default in the spec read as "" when absent, matching Kafka's
 * generated defaults. */
#include "lib/proto/find_coordinator.h"

#include "lib/proto/codec.h"

#define S struct kw_find_coordinator_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, key, "Key", KW_T_STR, 0, 3, KW_EMPTY_DEFAULT),
    KW_FIELD(S, key_type, "KeyType", KW_T_I8, 1, KW_VMAX),
    KW_PARRAY(S, coordinator_keys, "CoordinatorKeys", KW_T_STR, 4, KW_VMAX),
};
#undef S
const struct kw_schema kw_find_coordinator_req_schema =
    KW_SCHEMA(struct kw_find_coordinator_req, "FindCoordinatorRequest", req_fields);

#define S struct kw_find_coordinator_resp_coordinator
static const struct kw_field coordinator_fields[] = {
    KW_FIELD(S, key, "Key", KW_T_STR, 4, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, node_id, "NodeId", KW_T_I32, 4, KW_VMAX),
    KW_FIELD(S, host, "Host", KW_T_STR, 4, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, port, "Port", KW_T_I32, 4, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 4, KW_VMAX),
    KW_FIELD(S, error_message, "ErrorMessage", KW_T_STR, 4, KW_VMAX, KW_NULLABLE(4),
             KW_EMPTY_DEFAULT),
};
#undef S
static const struct kw_schema coordinator_schema =
    KW_SCHEMA(struct kw_find_coordinator_resp_coordinator, "Coordinator", coordinator_fields);

#define S struct kw_find_coordinator_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, 3),
    KW_FIELD(S, error_message, "ErrorMessage", KW_T_STR, 1, 3, KW_NULLABLE(1),
             KW_EMPTY_DEFAULT),
    KW_FIELD(S, node_id, "NodeId", KW_T_I32, 0, 3),
    KW_FIELD(S, host, "Host", KW_T_STR, 0, 3, KW_EMPTY_DEFAULT),
    KW_FIELD(S, port, "Port", KW_T_I32, 0, 3),
    KW_ARRAY(S, coordinators, "Coordinators", coordinator_schema, 4, KW_VMAX),
};
#undef S
const struct kw_schema kw_find_coordinator_resp_schema =
    KW_SCHEMA(struct kw_find_coordinator_resp, "FindCoordinatorResponse", resp_fields);

KW_CODEC(find_coordinator, KW_API_FIND_COORDINATOR)
