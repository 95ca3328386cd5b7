/* TxnOffsetCommit (key 28), v0-v3, flexible from v3. Sent to the *group* coordinator: consumer
 * offsets that become visible only when the transaction commits (and vanish if it aborts). v2
 * adds the committed leader epoch, v3 the group member's generation, member id and instance id
 * (so a zombie member can be fenced). */
#ifndef KW_PROTO_TXN_OFFSET_COMMIT_H
#define KW_PROTO_TXN_OFFSET_COMMIT_H

#include "lib/proto/schema.h"

struct kw_txn_offset_commit_req_partition {
    int32_t partition_index;
    int64_t committed_offset;
    int32_t committed_leader_epoch;             /* v2+, default -1 */
    struct kw_str committed_metadata;           /* nullable */
    struct kw_tags tags;
};

struct kw_txn_offset_commit_req_topic {
    struct kw_str name;
    struct kw_txn_offset_commit_req_partition *partitions;
    int32_t n_partitions;
    struct kw_tags tags;
};

struct kw_txn_offset_commit_req {
    struct kw_str transactional_id;
    struct kw_str group_id;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t generation_id;                      /* v3+, default -1 */
    struct kw_str member_id;                    /* v3+, default "" */
    struct kw_str group_instance_id;            /* v3+, nullable, default null */
    struct kw_txn_offset_commit_req_topic *topics;
    int32_t n_topics;
    struct kw_tags tags;
};

struct kw_txn_offset_commit_resp_partition {
    int32_t partition_index;
    int16_t error_code;
    struct kw_tags tags;
};

struct kw_txn_offset_commit_resp_topic {
    struct kw_str name;
    struct kw_txn_offset_commit_resp_partition *partitions;
    int32_t n_partitions;
    struct kw_tags tags;
};

struct kw_txn_offset_commit_resp {
    int32_t throttle_time_ms;
    struct kw_txn_offset_commit_resp_topic *topics;
    int32_t n_topics;
    struct kw_tags tags;
};

extern const struct kw_schema kw_txn_offset_commit_req_schema;
extern const struct kw_schema kw_txn_offset_commit_resp_schema;

int kw_txn_offset_commit_req_encode(struct kw_buf *b, int version,
                                    const struct kw_txn_offset_commit_req *m);
int kw_txn_offset_commit_req_decode(struct kw_reader *r, int version,
                                    struct kw_txn_offset_commit_req *m, struct kw_arena *a);
int kw_txn_offset_commit_resp_encode(struct kw_buf *b, int version,
                                     const struct kw_txn_offset_commit_resp *m);
int kw_txn_offset_commit_resp_decode(struct kw_reader *r, int version,
                                     struct kw_txn_offset_commit_resp *m, struct kw_arena *a);

#endif
