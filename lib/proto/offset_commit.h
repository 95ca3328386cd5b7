/* OffsetCommit (key 8), v0-v8, flexible from v8. */
#ifndef KW_PROTO_OFFSET_COMMIT_H
#define KW_PROTO_OFFSET_COMMIT_H

#include "lib/proto/schema.h"

struct kw_offset_commit_req_partition {
    int32_t partition_index;
    int64_t committed_offset;
    int32_t committed_leader_epoch;             /* v6+, default -1 */
    int64_t commit_timestamp;                   /* v1 only, default -1 */
    struct kw_str committed_metadata;           /* nullable */
    struct kw_tags tags;
};

struct kw_offset_commit_req_topic {
    struct kw_str name;
    struct kw_offset_commit_req_partition *partitions;
    int32_t n_partitions;
    struct kw_tags tags;
};

struct kw_offset_commit_req {
    struct kw_str group_id;
    int32_t generation_id_or_member_epoch;      /* v1+, default -1 (a simple, groupless commit) */
    struct kw_str member_id;                    /* v1+ */
    struct kw_str group_instance_id;            /* v7+, nullable, default null */
    int64_t retention_time_ms;                  /* v2-v4, default -1 (the broker's setting) */
    struct kw_offset_commit_req_topic *topics;
    int32_t n_topics;
    struct kw_tags tags;
};

struct kw_offset_commit_resp_partition {
    int32_t partition_index;
    int16_t error_code;
    struct kw_tags tags;
};

struct kw_offset_commit_resp_topic {
    struct kw_str name;
    struct kw_offset_commit_resp_partition *partitions;
    int32_t n_partitions;
    struct kw_tags tags;
};

struct kw_offset_commit_resp {
    int32_t throttle_time_ms;                   /* v3+ */
    struct kw_offset_commit_resp_topic *topics;
    int32_t n_topics;
    struct kw_tags tags;
};

extern const struct kw_schema kw_offset_commit_req_schema;
extern const struct kw_schema kw_offset_commit_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_offset_commit_req_encode(struct kw_buf *b, int version,
                                const struct kw_offset_commit_req *m);
int kw_offset_commit_req_decode(struct kw_reader *r, int version, struct kw_offset_commit_req *m,
                                struct kw_arena *a);
int kw_offset_commit_resp_encode(struct kw_buf *b, int version,
                                 const struct kw_offset_commit_resp *m);
int kw_offset_commit_resp_decode(struct kw_reader *r, int version,
                                 struct kw_offset_commit_resp *m, struct kw_arena *a);

#endif
