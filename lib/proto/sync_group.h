/* SyncGroup (key 14), v0-v5, flexible from v4. */
#ifndef KW_PROTO_SYNC_GROUP_H
#define KW_PROTO_SYNC_GROUP_H

#include "lib/proto/schema.h"

struct kw_sync_group_req_assignment {
    struct kw_str member_id;
    struct kw_bytes assignment;                 /* opaque: the protocol's own encoding */
    struct kw_tags tags;
};

struct kw_sync_group_req {
    struct kw_str group_id;
    int32_t generation_id;
    struct kw_str member_id;
    struct kw_str group_instance_id;            /* v3+, nullable, default null */
    struct kw_str protocol_type;                /* v5+, nullable, default null */
    struct kw_str protocol_name;                /* v5+, nullable, default null */
    struct kw_sync_group_req_assignment *assignments;   /* sent by the leader only */
    int32_t n_assignments;
    struct kw_tags tags;
};

struct kw_sync_group_resp {
    int32_t throttle_time_ms;                   /* v1+ */
    int16_t error_code;
    struct kw_str protocol_type;                /* v5+, nullable, default null */
    struct kw_str protocol_name;                /* v5+, nullable, default null */
    struct kw_bytes assignment;                 /* this member's share */
    struct kw_tags tags;
};

extern const struct kw_schema kw_sync_group_req_schema;
extern const struct kw_schema kw_sync_group_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings and bytes pointing into the reader's
 * buffer; all return KW_OK or a negative kw_err. */
int kw_sync_group_req_encode(struct kw_buf *b, int version, const struct kw_sync_group_req *m);
int kw_sync_group_req_decode(struct kw_reader *r, int version, struct kw_sync_group_req *m,
                             struct kw_arena *a);
int kw_sync_group_resp_encode(struct kw_buf *b, int version, const struct kw_sync_group_resp *m);
int kw_sync_group_resp_decode(struct kw_reader *r, int version, struct kw_sync_group_resp *m,
                              struct kw_arena *a);

#endif
