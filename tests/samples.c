#include "tests/samples.h"

#include <stddef.h>

const void *kwt_sample_req(int api_key)
{
    switch (api_key) {
#define X(key, CONST, name, min, max, flex) case key: return kwt_sample_##name##_req();
    KW_APIS(X)
    KW_APIS_PENDING(X)
#undef X
    }
    return NULL;
}

const void *kwt_sample_resp(int api_key)
{
    switch (api_key) {
#define X(key, CONST, name, min, max, flex) case key: return kwt_sample_##name##_resp();
    KW_APIS(X)
    KW_APIS_PENDING(X)
#undef X
    }
    return NULL;
}

#include "lib/proto/api_versions.h"

const void *kwt_sample_api_versions_req(void)
{
    static const struct kw_api_versions_req m = {
        .client_software_name = { "librdkafka", 10 },
        .client_software_version = { "2.0.2", 5 },
    };
    return &m;
}

const void *kwt_sample_api_versions_resp(void)
{
    static struct kw_api_versions_resp_key keys[] = {
        { .api_key = 0, .min_version = 0, .max_version = 11 },
        { .api_key = 18, .min_version = 0, .max_version = 3 },
    };
    static struct kw_api_versions_resp_feature features[] = {
        { .name = { "metadata.version", 16 }, .min_version = 1, .max_version = 20 },
    };
    static const struct kw_api_versions_resp m = {
        .error_code = 0,
        .n_api_keys = 2, .api_keys = keys,
        .throttle_time_ms = 7,
        .n_supported_features = 1, .supported_features = features,
        .finalized_features_epoch = 3,
        .zk_migration_ready = true,
    };
    return &m;
}
