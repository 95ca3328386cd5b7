/* Internal to lib/proto: defines an API's four public codec functions from its schemas. */
#ifndef KW_PROTO_CODEC_H
#define KW_PROTO_CODEC_H

#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/schema.h"

/* Versions outside what we advertise are refused here, so a caller cannot put a version on the
 * wire that ApiVersions did not promise, nor decode one it would misread. */
#define KW_CODEC(name, KEY)                                                                   \
    int kw_##name##_req_encode(struct kw_buf *b, int version, const struct kw_##name##_req *m) \
    {                                                                                         \
        if (!kw_api_supported(KEY, version))                                                  \
            return b->err ? b->err : (b->err = KW_ERR_VERSION);                               \
        return kw_schema_encode(b, &kw_##name##_req_schema, version,                          \
                                kw_api_flexible(KEY, version), m);                            \
    }                                                                                         \
    int kw_##name##_req_decode(struct kw_reader *r, int version, struct kw_##name##_req *m,    \
                               struct kw_arena *a)                                            \
    {                                                                                         \
        if (!kw_api_supported(KEY, version))                                                  \
            return kw_reader_fail(r, KW_ERR_VERSION), r->err;                                 \
        return kw_schema_decode(r, &kw_##name##_req_schema, version,                          \
                                kw_api_flexible(KEY, version), m, a);                         \
    }                                                                                         \
    int kw_##name##_resp_encode(struct kw_buf *b, int version,                                \
                                const struct kw_##name##_resp *m)                             \
    {                                                                                         \
        if (!kw_api_supported(KEY, version))                                                  \
            return b->err ? b->err : (b->err = KW_ERR_VERSION);                               \
        return kw_schema_encode(b, &kw_##name##_resp_schema, version,                         \
                                kw_api_flexible(KEY, version), m);                            \
    }                                                                                         \
    int kw_##name##_resp_decode(struct kw_reader *r, int version, struct kw_##name##_resp *m,  \
                                struct kw_arena *a)                                           \
    {                                                                                         \
        if (!kw_api_supported(KEY, version))                                                  \
            return kw_reader_fail(r, KW_ERR_VERSION), r->err;                                 \
        return kw_schema_decode(r, &kw_##name##_resp_schema, version,                         \
                                kw_api_flexible(KEY, version), m, a);                         \
    }

#endif
