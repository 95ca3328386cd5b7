/* InitProducerId (key 22), v0-v4, flexible from v2. */
#ifndef KW_PROTO_INIT_PRODUCER_ID_H
#define KW_PROTO_INIT_PRODUCER_ID_H

#include "lib/proto/schema.h"

struct kw_init_producer_id_req {
    struct kw_str transactional_id;         /* nullable: null for an idempotent producer */
    int32_t transaction_timeout_ms;
    int64_t producer_id;                    /* v3+, default -1 */
    int16_t producer_epoch;                 /* v3+, default -1 */
    struct kw_tags tags;
};

struct kw_init_producer_id_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;                    /* default -1 */
    int16_t producer_epoch;
    struct kw_tags tags;
};

extern const struct kw_schema kw_init_producer_id_req_schema;
extern const struct kw_schema kw_init_producer_id_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first and leave strings pointing into the reader's buffer (`a` is unused: no arrays);
 * all return KW_OK or a negative kw_err. */
int kw_init_producer_id_req_encode(struct kw_buf *b, int version,
                                   const struct kw_init_producer_id_req *m);
int kw_init_producer_id_req_decode(struct kw_reader *r, int version,
                                   struct kw_init_producer_id_req *m, struct kw_arena *a);
int kw_init_producer_id_resp_encode(struct kw_buf *b, int version,
                                    const struct kw_init_producer_id_resp *m);
int kw_init_producer_id_resp_decode(struct kw_reader *r, int version,
                                    struct kw_init_producer_id_resp *m, struct kw_arena *a);

#endif
