/* EndTxn (key 26), v0-v3, flexible from v3. Commits or aborts the producer's open transaction:
 * the coordinator writes a control batch into every partition of the transaction. v2 only
 * announces that the client understands PRODUCER_FENCED. v4-v5 (KIP-890) are left out: no client
 * we target sends them. */
#ifndef KW_PROTO_END_TXN_H
#define KW_PROTO_END_TXN_H

#include "lib/proto/schema.h"

struct kw_end_txn_req {
    struct kw_str transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    bool committed;                             /* true commits, false aborts */
    struct kw_tags tags;
};

struct kw_end_txn_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    struct kw_tags tags;
};

extern const struct kw_schema kw_end_txn_req_schema;
extern const struct kw_schema kw_end_txn_resp_schema;

int kw_end_txn_req_encode(struct kw_buf *b, int version, const struct kw_end_txn_req *m);
int kw_end_txn_req_decode(struct kw_reader *r, int version, struct kw_end_txn_req *m,
                          struct kw_arena *a);
int kw_end_txn_resp_encode(struct kw_buf *b, int version, const struct kw_end_txn_resp *m);
int kw_end_txn_resp_decode(struct kw_reader *r, int version, struct kw_end_txn_resp *m,
                           struct kw_arena *a);

#endif
