/* Produce (key 0), v0-v11, flexible from v9. acks=0 requests get no response at all. */
#ifndef KW_PROTO_PRODUCE_H
#define KW_PROTO_PRODUCE_H

#include "lib/proto/schema.h"

struct kw_produce_req_partition {           /* PartitionProduceData */
    int32_t index;
    struct kw_bytes records;                /* nullable; batches (v3+) or a message set */
    struct kw_tags tags;
};

struct kw_produce_req_topic {               /* TopicProduceData */
    struct kw_str name;
    int32_t n_partition_data;
    struct kw_produce_req_partition *partition_data;
    struct kw_tags tags;
};

struct kw_produce_req {
    struct kw_str transactional_id;         /* v3+, nullable, default null */
    int16_t acks;                           /* 0, 1 or -1 (all in-sync replicas) */
    int32_t timeout_ms;
    int32_t n_topic_data;
    struct kw_produce_req_topic *topic_data;
    struct kw_tags tags;
};

struct kw_produce_resp_record_error {       /* BatchIndexAndErrorMessage, v8+ */
    int32_t batch_index;
    struct kw_str batch_index_error_message;    /* nullable, default null */
    struct kw_tags tags;
};

struct kw_produce_resp_leader {             /* LeaderIdAndEpoch, v10+ */
    int32_t leader_id;                      /* default -1 */
    int32_t leader_epoch;                   /* default -1 */
    struct kw_tags tags;
};

struct kw_produce_resp_partition {          /* PartitionProduceResponse */
    int32_t index;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time_ms;             /* v2+, default -1 */
    int64_t log_start_offset;               /* v5+, default -1 */
    int32_t n_record_errors;                /* v8+ */
    struct kw_produce_resp_record_error *record_errors;
    struct kw_str error_message;            /* v8+, nullable, default null */
    struct kw_produce_resp_leader current_leader;   /* tag 0, v10+ */
    struct kw_tags tags;
};

struct kw_produce_resp_topic {              /* TopicProduceResponse */
    struct kw_str name;
    int32_t n_partition_responses;
    struct kw_produce_resp_partition *partition_responses;
    struct kw_tags tags;
};

struct kw_produce_resp_node_endpoint {      /* NodeEndpoint, v10+ */
    int32_t node_id;
    struct kw_str host;
    int32_t port;
    struct kw_str rack;                     /* nullable, default null */
    struct kw_tags tags;
};

struct kw_produce_resp {
    int32_t n_responses;
    struct kw_produce_resp_topic *responses;
    int32_t throttle_time_ms;               /* v1+ */
    int32_t n_node_endpoints;               /* tag 0, v10+ */
    struct kw_produce_resp_node_endpoint *node_endpoints;
    struct kw_tags tags;
};

extern const struct kw_schema kw_produce_req_schema;
extern const struct kw_schema kw_produce_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings and records pointing into the
 * reader's buffer; all return KW_OK or a negative kw_err. Records are not looked into. */
int kw_produce_req_encode(struct kw_buf *b, int version, const struct kw_produce_req *m);
int kw_produce_req_decode(struct kw_reader *r, int version, struct kw_produce_req *m,
                          struct kw_arena *a);
int kw_produce_resp_encode(struct kw_buf *b, int version, const struct kw_produce_resp *m);
int kw_produce_resp_decode(struct kw_reader *r, int version, struct kw_produce_resp *m,
                           struct kw_arena *a);

#endif
