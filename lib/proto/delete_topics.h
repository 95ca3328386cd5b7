/* DeleteTopics (key 20), v0-v6, flexible from v4. */
#ifndef KW_PROTO_DELETE_TOPICS_H
#define KW_PROTO_DELETE_TOPICS_H

#include "lib/proto/schema.h"

struct kw_delete_topics_req_topic {             /* DeleteTopicState, v6+ */
    struct kw_str name;                         /* nullable, default null (then by topic_id) */
    uint8_t topic_id[16];
    struct kw_tags tags;
};

struct kw_delete_topics_req {
    struct kw_delete_topics_req_topic *topics;  /* v6+ */
    int32_t n_topics;
    struct kw_str *topic_names;                 /* v0-v5 */
    int32_t n_topic_names;
    int32_t timeout_ms;
    struct kw_tags tags;
};

struct kw_delete_topics_resp_result {           /* DeletableTopicResult */
    struct kw_str name;                         /* nullable v6+ */
    uint8_t topic_id[16];                       /* v6+ */
    int16_t error_code;
    struct kw_str error_message;                /* v5+, nullable, default null */
    struct kw_tags tags;
};

struct kw_delete_topics_resp {
    int32_t throttle_time_ms;                   /* v1+ */
    struct kw_delete_topics_resp_result *responses;
    int32_t n_responses;
    struct kw_tags tags;
};

extern const struct kw_schema kw_delete_topics_req_schema;
extern const struct kw_schema kw_delete_topics_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_delete_topics_req_encode(struct kw_buf *b, int version,
                                const struct kw_delete_topics_req *m);
int kw_delete_topics_req_decode(struct kw_reader *r, int version, struct kw_delete_topics_req *m,
                                struct kw_arena *a);
int kw_delete_topics_resp_encode(struct kw_buf *b, int version,
                                 const struct kw_delete_topics_resp *m);
int kw_delete_topics_resp_decode(struct kw_reader *r, int version,
                                 struct kw_delete_topics_resp *m, struct kw_arena *a);

#endif
