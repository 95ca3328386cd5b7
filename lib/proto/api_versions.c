/* ApiVersions (key 18), v0-v3, flexible from v3. v0-v2 requests are empty; v3 adds the client
 * software name and version. The response is encoded like any other, but its header is always
 * v0 (header.c) and an unsupported request version is answered at v0 (the broker's job). */
#include "lib/proto/api_versions.h"

#include "lib/proto/codec.h"

#define S struct kw_api_versions_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, client_software_name, "ClientSoftwareName", KW_T_STR, 3, KW_VMAX),
    KW_FIELD(S, client_software_version, "ClientSoftwareVersion", KW_T_STR, 3, KW_VMAX),
};
#undef S
const struct kw_schema kw_api_versions_req_schema =
    KW_SCHEMA(struct kw_api_versions_req, "ApiVersionsRequest", req_fields);

#define S struct kw_api_versions_resp_key
static const struct kw_field key_fields[] = {
    KW_FIELD(S, api_key, "ApiKey", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, min_version, "MinVersion", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, max_version, "MaxVersion", KW_T_I16, 0, KW_VMAX),
};
#undef S
static const struct kw_schema key_schema =
    KW_SCHEMA(struct kw_api_versions_resp_key, "ApiVersion", key_fields);

#define S struct kw_api_versions_resp_feature
static const struct kw_field feature_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 3, KW_VMAX),
    KW_FIELD(S, min_version, "MinVersion", KW_T_I16, 3, KW_VMAX),
    KW_FIELD(S, max_version, "MaxVersion", KW_T_I16, 3, KW_VMAX),
};
#undef S
static const struct kw_schema feature_schema =
    KW_SCHEMA(struct kw_api_versions_resp_feature, "SupportedFeatureKey", feature_fields);

#define S struct kw_api_versions_resp_finalized
static const struct kw_field finalized_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 3, KW_VMAX),
    KW_FIELD(S, max_version_level, "MaxVersionLevel", KW_T_I16, 3, KW_VMAX),
    KW_FIELD(S, min_version_level, "MinVersionLevel", KW_T_I16, 3, KW_VMAX),
};
#undef S
static const struct kw_schema finalized_schema =
    KW_SCHEMA(struct kw_api_versions_resp_finalized, "FinalizedFeatureKey", finalized_fields);

#define S struct kw_api_versions_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_ARRAY(S, api_keys, "ApiKeys", key_schema, 0, KW_VMAX),
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 1, KW_VMAX),
    KW_ARRAY(S, supported_features, "SupportedFeatures", feature_schema, 3, KW_VMAX,
             KW_TAGGED(0, 3)),
    KW_FIELD(S, finalized_features_epoch, "FinalizedFeaturesEpoch", KW_T_I64, 3, KW_VMAX,
             KW_TAGGED(1, 3), KW_DEFAULT(-1)),
    KW_ARRAY(S, finalized_features, "FinalizedFeatures", finalized_schema, 3, KW_VMAX,
             KW_TAGGED(2, 3)),
    KW_FIELD(S, zk_migration_ready, "ZkMigrationReady", KW_T_BOOL, 3, KW_VMAX, KW_TAGGED(3, 3)),
};
#undef S
const struct kw_schema kw_api_versions_resp_schema =
    KW_SCHEMA(struct kw_api_versions_resp, "ApiVersionsResponse", resp_fields);

KW_CODEC(api_versions, KW_API_API_VERSIONS)
