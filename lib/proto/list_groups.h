/* ListGroups (key 16), v0-v4, flexible from v3. */
#ifndef KW_PROTO_LIST_GROUPS_H
#define KW_PROTO_LIST_GROUPS_H

#include "lib/proto/schema.h"

struct kw_list_groups_req {
    struct kw_str *states_filter;               /* v4+ (KIP-518): empty lists every state */
    int32_t n_states_filter;
    struct kw_tags tags;
};

struct kw_list_groups_resp_group {
    struct kw_str group_id;
    struct kw_str protocol_type;                /* "consumer", or "" for offsets-only groups */
    struct kw_str group_state;                  /* v4+ */
    struct kw_tags tags;
};

struct kw_list_groups_resp {
    int32_t throttle_time_ms;                   /* v1+ */
    int16_t error_code;
    struct kw_list_groups_resp_group *groups;
    int32_t n_groups;
    struct kw_tags tags;
};

extern const struct kw_schema kw_list_groups_req_schema;
extern const struct kw_schema kw_list_groups_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_list_groups_req_encode(struct kw_buf *b, int version, const struct kw_list_groups_req *m);
int kw_list_groups_req_decode(struct kw_reader *r, int version, struct kw_list_groups_req *m,
                              struct kw_arena *a);
int kw_list_groups_resp_encode(struct kw_buf *b, int version, const struct kw_list_groups_resp *m);
int kw_list_groups_resp_decode(struct kw_reader *r, int version, struct kw_list_groups_resp *m,
                               struct kw_arena *a);

#endif
