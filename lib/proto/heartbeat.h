/* Heartbeat (key 12), v0-v4, flexible from v4. */
#ifndef KW_PROTO_HEARTBEAT_H
#define KW_PROTO_HEARTBEAT_H

#include "lib/proto/schema.h"

struct kw_heartbeat_req {
    struct kw_str group_id;
    int32_t generation_id;
    struct kw_str member_id;
    struct kw_str group_instance_id;            /* v3+, nullable, default null */
    struct kw_tags tags;
};

struct kw_heartbeat_resp {
    int32_t throttle_time_ms;                   /* v1+ */
    int16_t error_code;                         /* REBALANCE_IN_PROGRESS asks for a rejoin */
    struct kw_tags tags;
};

extern const struct kw_schema kw_heartbeat_req_schema;
extern const struct kw_schema kw_heartbeat_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first and leave strings pointing into the reader's buffer; `a` is unused here but kept
 * for the common signature. All return KW_OK or a negative kw_err. */
int kw_heartbeat_req_encode(struct kw_buf *b, int version, const struct kw_heartbeat_req *m);
int kw_heartbeat_req_decode(struct kw_reader *r, int version, struct kw_heartbeat_req *m,
                            struct kw_arena *a);
int kw_heartbeat_resp_encode(struct kw_buf *b, int version, const struct kw_heartbeat_resp *m);
int kw_heartbeat_resp_decode(struct kw_reader *r, int version, struct kw_heartbeat_resp *m,
                             struct kw_arena *a);

#endif
