/* ApiVersions (key 18), v0-v3, flexible from v3 (WIRE.md §3). */
#ifndef KW_PROTO_API_VERSIONS_H
#define KW_PROTO_API_VERSIONS_H

#include "lib/proto/schema.h"

struct kw_api_versions_req {
    struct kw_str client_software_name;     /* v3+ */
    struct kw_str client_software_version;  /* v3+ */
    struct kw_tags tags;
};

struct kw_api_versions_resp_key {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
    struct kw_tags tags;
};

struct kw_api_versions_resp_feature {       /* SupportedFeatures entry */
    struct kw_str name;
    int16_t min_version;
    int16_t max_version;
    struct kw_tags tags;
};

struct kw_api_versions_resp_finalized {     /* FinalizedFeatures entry */
    struct kw_str name;
    int16_t max_version_level;
    int16_t min_version_level;
    struct kw_tags tags;
};

struct kw_api_versions_resp {
    int16_t error_code;
    int32_t n_api_keys;
    struct kw_api_versions_resp_key *api_keys;
    int32_t throttle_time_ms;                                   /* v1+ */
    int32_t n_supported_features;                               /* tag 0, v3+ */
    struct kw_api_versions_resp_feature *supported_features;
    int64_t finalized_features_epoch;                           /* tag 1, v3+, default -1 */
    int32_t n_finalized_features;                               /* tag 2, v3+ */
    struct kw_api_versions_resp_finalized *finalized_features;
    bool zk_migration_ready;                                    /* tag 3, v3+ */
    struct kw_tags tags;
};

extern const struct kw_schema kw_api_versions_req_schema;
extern const struct kw_schema kw_api_versions_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_api_versions_req_encode(struct kw_buf *b, int version, const struct kw_api_versions_req *m);
int kw_api_versions_req_decode(struct kw_reader *r, int version, struct kw_api_versions_req *m,
                               struct kw_arena *a);
int kw_api_versions_resp_encode(struct kw_buf *b, int version,
                                const struct kw_api_versions_resp *m);
int kw_api_versions_resp_decode(struct kw_reader *r, int version, struct kw_api_versions_resp *m,
                                struct kw_arena *a);

#endif
