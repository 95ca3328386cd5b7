/* LeaveGroup (key 13), v0-v4, flexible from v4. */
#ifndef KW_PROTO_LEAVE_GROUP_H
#define KW_PROTO_LEAVE_GROUP_H

#include "lib/proto/schema.h"

struct kw_leave_group_req_member {
    struct kw_str member_id;
    struct kw_str group_instance_id;            /* nullable, default null */
    struct kw_tags tags;
};

struct kw_leave_group_req {
    struct kw_str group_id;
    struct kw_str member_id;                    /* v0-v2: the one member leaving */
    struct kw_leave_group_req_member *members;  /* v3+: a batch of members (KIP-345) */
    int32_t n_members;
    struct kw_tags tags;
};

struct kw_leave_group_resp_member {
    struct kw_str member_id;
    struct kw_str group_instance_id;            /* nullable */
    int16_t error_code;
    struct kw_tags tags;
};

struct kw_leave_group_resp {
    int32_t throttle_time_ms;                   /* v1+ */
    int16_t error_code;
    struct kw_leave_group_resp_member *members; /* v3+: one result per member asked */
    int32_t n_members;
    struct kw_tags tags;
};

extern const struct kw_schema kw_leave_group_req_schema;
extern const struct kw_schema kw_leave_group_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_leave_group_req_encode(struct kw_buf *b, int version, const struct kw_leave_group_req *m);
int kw_leave_group_req_decode(struct kw_reader *r, int version, struct kw_leave_group_req *m,
                              struct kw_arena *a);
int kw_leave_group_resp_encode(struct kw_buf *b, int version,
                               const struct kw_leave_group_resp *m);
int kw_leave_group_resp_decode(struct kw_reader *r, int version, struct kw_leave_group_resp *m,
                               struct kw_arena *a);

#endif
