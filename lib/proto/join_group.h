/* JoinGroup (key 11), v0-v7, flexible from v6. */
#ifndef KW_PROTO_JOIN_GROUP_H
#define KW_PROTO_JOIN_GROUP_H

#include "lib/proto/schema.h"

struct kw_join_group_req_protocol {
    struct kw_str name;                         /* "range", "roundrobin", ... */
    struct kw_bytes metadata;                   /* opaque to the coordinator */
    struct kw_tags tags;
};

struct kw_join_group_req {
    struct kw_str group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;               /* v1+, default -1 (session timeout applies) */
    struct kw_str member_id;                    /* "" on the first join */
    struct kw_str group_instance_id;            /* v5+, nullable, default null (KIP-345) */
    struct kw_str protocol_type;                /* "consumer" for consumers */
    struct kw_join_group_req_protocol *protocols;
    int32_t n_protocols;
    struct kw_tags tags;
};

struct kw_join_group_resp_member {
    struct kw_str member_id;
    struct kw_str group_instance_id;            /* v5+, nullable, default null */
    struct kw_bytes metadata;
    struct kw_tags tags;
};

struct kw_join_group_resp {
    int32_t throttle_time_ms;                   /* v2+ */
    int16_t error_code;
    int32_t generation_id;                      /* default -1 */
    struct kw_str protocol_type;                /* v7+, nullable, default null (KIP-559) */
    struct kw_str protocol_name;                /* nullable v7+ */
    struct kw_str leader;
    struct kw_str member_id;
    struct kw_join_group_resp_member *members;  /* filled for the leader only */
    int32_t n_members;
    struct kw_tags tags;
};

extern const struct kw_schema kw_join_group_req_schema;
extern const struct kw_schema kw_join_group_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings and bytes pointing into the reader's
 * buffer; all return KW_OK or a negative kw_err. */
int kw_join_group_req_encode(struct kw_buf *b, int version, const struct kw_join_group_req *m);
int kw_join_group_req_decode(struct kw_reader *r, int version, struct kw_join_group_req *m,
                             struct kw_arena *a);
int kw_join_group_resp_encode(struct kw_buf *b, int version, const struct kw_join_group_resp *m);
int kw_join_group_resp_decode(struct kw_reader *r, int version, struct kw_join_group_resp *m,
                              struct kw_arena *a);

#endif
