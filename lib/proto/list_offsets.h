/* ListOffsets (key 2), v0-v7, flexible from v6. */
#ifndef KW_PROTO_LIST_OFFSETS_H
#define KW_PROTO_LIST_OFFSETS_H

#include "lib/proto/schema.h"

struct kw_list_offsets_req_partition {      /* ListOffsetsPartition */
    int32_t partition_index;
    int32_t current_leader_epoch;           /* v4+, default -1 */
    int64_t timestamp;                      /* or -1 latest, -2 earliest, -3 max timestamp (v7+) */
    int32_t max_num_offsets;                /* v0 only, default 1 */
    struct kw_tags tags;
};

struct kw_list_offsets_req_topic {          /* ListOffsetsTopic */
    struct kw_str name;
    int32_t n_partitions;
    struct kw_list_offsets_req_partition *partitions;
    struct kw_tags tags;
};

struct kw_list_offsets_req {
    int32_t replica_id;                     /* -1 for a consumer */
    int8_t isolation_level;                 /* v2+ */
    int32_t n_topics;
    struct kw_list_offsets_req_topic *topics;
    struct kw_tags tags;
};

struct kw_list_offsets_resp_partition {     /* ListOffsetsPartitionResponse */
    int32_t partition_index;
    int16_t error_code;
    int32_t n_old_style_offsets;            /* v0 only */
    int64_t *old_style_offsets;
    int64_t timestamp;                      /* v1+, default -1 */
    int64_t offset;                         /* v1+, default -1 */
    int32_t leader_epoch;                   /* v4+, default -1 */
    struct kw_tags tags;
};

struct kw_list_offsets_resp_topic {         /* ListOffsetsTopicResponse */
    struct kw_str name;
    int32_t n_partitions;
    struct kw_list_offsets_resp_partition *partitions;
    struct kw_tags tags;
};

struct kw_list_offsets_resp {
    int32_t throttle_time_ms;               /* v2+ */
    int32_t n_topics;
    struct kw_list_offsets_resp_topic *topics;
    struct kw_tags tags;
};

extern const struct kw_schema kw_list_offsets_req_schema;
extern const struct kw_schema kw_list_offsets_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_list_offsets_req_encode(struct kw_buf *b, int version, const struct kw_list_offsets_req *m);
int kw_list_offsets_req_decode(struct kw_reader *r, int version, struct kw_list_offsets_req *m,
                               struct kw_arena *a);
int kw_list_offsets_resp_encode(struct kw_buf *b, int version,
                                const struct kw_list_offsets_resp *m);
int kw_list_offsets_resp_decode(struct kw_reader *r, int version, struct kw_list_offsets_resp *m,
                                struct kw_arena *a);

#endif
