/* CreateTopics (key 19), v0-v7, flexible from v5. */
#ifndef KW_PROTO_CREATE_TOPICS_H
#define KW_PROTO_CREATE_TOPICS_H

#include "lib/proto/schema.h"

struct kw_create_topics_req_assignment {        /* CreatableReplicaAssignment */
    int32_t partition_index;
    int32_t *broker_ids;
    int32_t n_broker_ids;
    struct kw_tags tags;
};

struct kw_create_topics_req_config {            /* CreatableTopicConfig */
    struct kw_str name;
    struct kw_str value;                        /* nullable */
    struct kw_tags tags;
};

struct kw_create_topics_req_topic {             /* CreatableTopic */
    struct kw_str name;
    int32_t num_partitions;                     /* -1: broker default or manual assignment */
    int16_t replication_factor;                 /* -1: broker default or manual assignment */
    struct kw_create_topics_req_assignment *assignments;
    int32_t n_assignments;
    struct kw_create_topics_req_config *configs;
    int32_t n_configs;
    struct kw_tags tags;
};

struct kw_create_topics_req {
    struct kw_create_topics_req_topic *topics;
    int32_t n_topics;
    int32_t timeout_ms;                         /* default 60000 */
    bool validate_only;                         /* v1+ */
    struct kw_tags tags;
};

struct kw_create_topics_resp_config {           /* CreatableTopicConfigs, v5+ */
    struct kw_str name;
    struct kw_str value;                        /* nullable */
    bool read_only;
    int8_t config_source;                       /* default -1 */
    bool is_sensitive;
    struct kw_tags tags;
};

struct kw_create_topics_resp_topic {            /* CreatableTopicResult */
    struct kw_str name;
    uint8_t topic_id[16];                       /* v7+ */
    int16_t error_code;
    struct kw_str error_message;                /* v1+, nullable */
    int16_t topic_config_error_code;            /* tag 0, v5+ */
    int32_t num_partitions;                     /* v5+, default -1 */
    int16_t replication_factor;                 /* v5+, default -1 */
    struct kw_create_topics_resp_config *configs;   /* v5+, nullable */
    int32_t n_configs;
    struct kw_tags tags;
};

struct kw_create_topics_resp {
    int32_t throttle_time_ms;                   /* v2+ */
    struct kw_create_topics_resp_topic *topics;
    int32_t n_topics;
    struct kw_tags tags;
};

extern const struct kw_schema kw_create_topics_req_schema;
extern const struct kw_schema kw_create_topics_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_create_topics_req_encode(struct kw_buf *b, int version,
                                const struct kw_create_topics_req *m);
int kw_create_topics_req_decode(struct kw_reader *r, int version, struct kw_create_topics_req *m,
                                struct kw_arena *a);
int kw_create_topics_resp_encode(struct kw_buf *b, int version,
                                 const struct kw_create_topics_resp *m);
int kw_create_topics_resp_decode(struct kw_reader *r, int version,
                                 struct kw_create_topics_resp *m, struct kw_arena *a);

#endif
