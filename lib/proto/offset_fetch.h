/* OffsetFetch (key 9), v0-v7, flexible from v6. */
#ifndef KW_PROTO_OFFSET_FETCH_H
#define KW_PROTO_OFFSET_FETCH_H

#include "lib/proto/schema.h"

struct kw_offset_fetch_req_topic {
    struct kw_str name;
    int32_t *partition_indexes;
    int32_t n_partition_indexes;
    struct kw_tags tags;
};

struct kw_offset_fetch_req {
    struct kw_str group_id;
    struct kw_offset_fetch_req_topic *topics;   /* v2+: -1 (null) = every committed topic */
    int32_t n_topics;
    bool require_stable;                        /* v7+ (KIP-447) */
    struct kw_tags tags;
};

struct kw_offset_fetch_resp_partition {
    int32_t partition_index;
    int64_t committed_offset;                   /* -1: nothing committed */
    int32_t committed_leader_epoch;             /* v5+, default -1 */
    struct kw_str metadata;                     /* nullable */
    int16_t error_code;
    struct kw_tags tags;
};

struct kw_offset_fetch_resp_topic {
    struct kw_str name;
    struct kw_offset_fetch_resp_partition *partitions;
    int32_t n_partitions;
    struct kw_tags tags;
};

struct kw_offset_fetch_resp {
    int32_t throttle_time_ms;                   /* v3+ */
    struct kw_offset_fetch_resp_topic *topics;
    int32_t n_topics;
    int16_t error_code;                         /* v2+: group-level errors */
    struct kw_tags tags;
};

extern const struct kw_schema kw_offset_fetch_req_schema;
extern const struct kw_schema kw_offset_fetch_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_offset_fetch_req_encode(struct kw_buf *b, int version,
                               const struct kw_offset_fetch_req *m);
int kw_offset_fetch_req_decode(struct kw_reader *r, int version, struct kw_offset_fetch_req *m,
                               struct kw_arena *a);
int kw_offset_fetch_resp_encode(struct kw_buf *b, int version,
                                const struct kw_offset_fetch_resp *m);
int kw_offset_fetch_resp_decode(struct kw_reader *r, int version, struct kw_offset_fetch_resp *m,
                                struct kw_arena *a);

#endif
