/* FindCoordinator (key 10), v0-v4, flexible from v3. */
#ifndef KW_PROTO_FIND_COORDINATOR_H
#define KW_PROTO_FIND_COORDINATOR_H

#include "lib/proto/schema.h"

struct kw_find_coordinator_req {
    struct kw_str key;                          /* v0-v3 */
    int8_t key_type;                            /* v1+: 0 group, 1 transaction */
    struct kw_str *coordinator_keys;            /* v4+ */
    int32_t n_coordinator_keys;
    struct kw_tags tags;
};

struct kw_find_coordinator_resp_coordinator {   /* Coordinator, v4+ */
    struct kw_str key;
    int32_t node_id;
    struct kw_str host;
    int32_t port;
    int16_t error_code;
    struct kw_str error_message;                /* nullable */
    struct kw_tags tags;
};

struct kw_find_coordinator_resp {
    int32_t throttle_time_ms;                   /* v1+ */
    int16_t error_code;                         /* v0-v3 */
    struct kw_str error_message;                /* v1-v3, nullable */
    int32_t node_id;                            /* v0-v3 */
    struct kw_str host;                         /* v0-v3 */
    int32_t port;                               /* v0-v3 */
    struct kw_find_coordinator_resp_coordinator *coordinators;  /* v4+ */
    int32_t n_coordinators;
    struct kw_tags tags;
};

extern const struct kw_schema kw_find_coordinator_req_schema;
extern const struct kw_schema kw_find_coordinator_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings pointing into the reader's buffer;
 * all return KW_OK or a negative kw_err. */
int kw_find_coordinator_req_encode(struct kw_buf *b, int version,
                                   const struct kw_find_coordinator_req *m);
int kw_find_coordinator_req_decode(struct kw_reader *r, int version,
                                   struct kw_find_coordinator_req *m, struct kw_arena *a);
int kw_find_coordinator_resp_encode(struct kw_buf *b, int version,
                                    const struct kw_find_coordinator_resp *m);
int kw_find_coordinator_resp_decode(struct kw_reader *r, int version,
                                    struct kw_find_coordinator_resp *m, struct kw_arena *a);

#endif
