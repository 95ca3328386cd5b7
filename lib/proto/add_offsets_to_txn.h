/* AddOffsetsToTxn (key 25), v0-v3, flexible from v3. Tells the transaction coordinator that the
 * transaction will commit consumer offsets of a group (sent before TxnOffsetCommit). v2 only
 * announces that the client understands PRODUCER_FENCED. */
#ifndef KW_PROTO_ADD_OFFSETS_TO_TXN_H
#define KW_PROTO_ADD_OFFSETS_TO_TXN_H

#include "lib/proto/schema.h"

struct kw_add_offsets_to_txn_req {
    struct kw_str transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    struct kw_str group_id;
    struct kw_tags tags;
};

struct kw_add_offsets_to_txn_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    struct kw_tags tags;
};

extern const struct kw_schema kw_add_offsets_to_txn_req_schema;
extern const struct kw_schema kw_add_offsets_to_txn_resp_schema;

int kw_add_offsets_to_txn_req_encode(struct kw_buf *b, int version,
                                     const struct kw_add_offsets_to_txn_req *m);
int kw_add_offsets_to_txn_req_decode(struct kw_reader *r, int version,
                                     struct kw_add_offsets_to_txn_req *m, struct kw_arena *a);
int kw_add_offsets_to_txn_resp_encode(struct kw_buf *b, int version,
                                      const struct kw_add_offsets_to_txn_resp *m);
int kw_add_offsets_to_txn_resp_decode(struct kw_reader *r, int version,
                                      struct kw_add_offsets_to_txn_resp *m, struct kw_arena *a);

#endif
