/* Metadata (key 3), v0-v12, flexible from v9. */
#ifndef KW_PROTO_METADATA_H
#define KW_PROTO_METADATA_H

#include "lib/proto/schema.h"

struct kw_metadata_req_topic {
    uint8_t topic_id[16];                       /* v10+ */
    struct kw_str name;                         /* nullable v10+ (then looked up by topic_id) */
    struct kw_tags tags;
};

struct kw_metadata_req {
    struct kw_metadata_req_topic *topics;       /* v1+: -1 (null) = all topics, 0 = none */
    int32_t n_topics;
    bool allow_auto_topic_creation;             /* v4+, default true */
    bool include_cluster_authorized_operations; /* v8-v10 */
    bool include_topic_authorized_operations;   /* v8+ */
    struct kw_tags tags;
};

struct kw_metadata_resp_broker {
    int32_t node_id;
    struct kw_str host;
    int32_t port;
    struct kw_str rack;                         /* v1+, nullable, default null */
    struct kw_tags tags;
};

struct kw_metadata_resp_partition {
    int16_t error_code;
    int32_t partition_index;
    int32_t leader_id;
    int32_t leader_epoch;                       /* v7+, default -1 */
    int32_t *replica_nodes;
    int32_t n_replica_nodes;
    int32_t *isr_nodes;
    int32_t n_isr_nodes;
    int32_t *offline_replicas;                  /* v5+ */
    int32_t n_offline_replicas;
    struct kw_tags tags;
};

struct kw_metadata_resp_topic {
    int16_t error_code;
    struct kw_str name;                         /* nullable v12+ (unknown topic asked by id) */
    uint8_t topic_id[16];                       /* v10+ */
    bool is_internal;                           /* v1+ */
    struct kw_metadata_resp_partition *partitions;
    int32_t n_partitions;
    int32_t topic_authorized_operations;        /* v8+, default INT32_MIN */
    struct kw_tags tags;
};

struct kw_metadata_resp {
    int32_t throttle_time_ms;                   /* v3+ */
    struct kw_metadata_resp_broker *brokers;
    int32_t n_brokers;
    struct kw_str cluster_id;                   /* v2+, nullable, default null */
    int32_t controller_id;                      /* v1+, default -1 */
    struct kw_metadata_resp_topic *topics;
    int32_t n_topics;
    int32_t cluster_authorized_operations;      /* v8-v10, default INT32_MIN */
    struct kw_tags tags;
};

extern const struct kw_schema kw_metadata_req_schema;
extern const struct kw_schema kw_metadata_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_metadata_req_encode(struct kw_buf *b, int version, const struct kw_metadata_req *m);
int kw_metadata_req_decode(struct kw_reader *r, int version, struct kw_metadata_req *m,
                           struct kw_arena *a);
int kw_metadata_resp_encode(struct kw_buf *b, int version, const struct kw_metadata_resp *m);
int kw_metadata_resp_decode(struct kw_reader *r, int version, struct kw_metadata_resp *m,
                            struct kw_arena *a);

#endif
