/* DescribeGroups (key 15), v0-v5, flexible from v5. */
#ifndef KW_PROTO_DESCRIBE_GROUPS_H
#define KW_PROTO_DESCRIBE_GROUPS_H

#include "lib/proto/schema.h"

struct kw_describe_groups_req {
    struct kw_str *groups;
    int32_t n_groups;
    bool include_authorized_operations;         /* v3+ */
    struct kw_tags tags;
};

struct kw_describe_groups_resp_member {
    struct kw_str member_id;
    struct kw_str group_instance_id;            /* v4+, nullable, default null */
    struct kw_str client_id;
    struct kw_str client_host;
    struct kw_bytes member_metadata;            /* filled when the group is Stable */
    struct kw_bytes member_assignment;          /* likewise */
    struct kw_tags tags;
};

struct kw_describe_groups_resp_group {
    int16_t error_code;
    struct kw_str group_id;
    struct kw_str group_state;                  /* "Stable", "PreparingRebalance", "Dead", ... */
    struct kw_str protocol_type;
    struct kw_str protocol_data;                /* the chosen protocol's name, e.g. "range" */
    struct kw_describe_groups_resp_member *members;
    int32_t n_members;
    int32_t authorized_operations;              /* v3+, default INT32_MIN */
    struct kw_tags tags;
};

struct kw_describe_groups_resp {
    int32_t throttle_time_ms;                   /* v1+ */
    struct kw_describe_groups_resp_group *groups;
    int32_t n_groups;
    struct kw_tags tags;
};

extern const struct kw_schema kw_describe_groups_req_schema;
extern const struct kw_schema kw_describe_groups_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings and bytes pointing into the reader's
 * buffer; all return KW_OK or a negative kw_err. */
int kw_describe_groups_req_encode(struct kw_buf *b, int version,
                                  const struct kw_describe_groups_req *m);
int kw_describe_groups_req_decode(struct kw_reader *r, int version,
                                  struct kw_describe_groups_req *m, struct kw_arena *a);
int kw_describe_groups_resp_encode(struct kw_buf *b, int version,
                                   const struct kw_describe_groups_resp *m);
int kw_describe_groups_resp_decode(struct kw_reader *r, int version,
                                   struct kw_describe_groups_resp *m, struct kw_arena *a);

#endif
