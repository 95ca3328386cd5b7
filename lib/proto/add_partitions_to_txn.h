/* AddPartitionsToTxn (key 24), v0-v3, flexible from v3. Versions 4+ batch several transactions
 * and are sent by brokers only (KIP-890); clients stay at v3 and below, so that is what we speak.
 * v2 adds nothing on the wire: it tells the coordinator the client understands PRODUCER_FENCED
 * (older versions get INVALID_PRODUCER_EPOCH instead). */
#ifndef KW_PROTO_ADD_PARTITIONS_TO_TXN_H
#define KW_PROTO_ADD_PARTITIONS_TO_TXN_H

#include "lib/proto/schema.h"

struct kw_add_partitions_to_txn_topic {
    struct kw_str name;
    int32_t *partitions;
    int32_t n_partitions;
    struct kw_tags tags;
};

struct kw_add_partitions_to_txn_req {
    struct kw_str transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    struct kw_add_partitions_to_txn_topic *topics;
    int32_t n_topics;
    struct kw_tags tags;
};

struct kw_add_partitions_to_txn_partition_result {
    int32_t partition_index;
    int16_t partition_error_code;
    struct kw_tags tags;
};

struct kw_add_partitions_to_txn_topic_result {
    struct kw_str name;
    struct kw_add_partitions_to_txn_partition_result *results;
    int32_t n_results;
    struct kw_tags tags;
};

struct kw_add_partitions_to_txn_resp {
    int32_t throttle_time_ms;
    struct kw_add_partitions_to_txn_topic_result *results;
    int32_t n_results;
    struct kw_tags tags;
};

extern const struct kw_schema kw_add_partitions_to_txn_req_schema;
extern const struct kw_schema kw_add_partitions_to_txn_resp_schema;

/* Encoders and decoders at `version`; decoders zero the struct first, leave strings pointing
 * into the reader's buffer and take arrays from `a`. All return KW_OK or a negative kw_err. */
int kw_add_partitions_to_txn_req_encode(struct kw_buf *b, int version,
                                        const struct kw_add_partitions_to_txn_req *m);
int kw_add_partitions_to_txn_req_decode(struct kw_reader *r, int version,
                                        struct kw_add_partitions_to_txn_req *m,
                                        struct kw_arena *a);
int kw_add_partitions_to_txn_resp_encode(struct kw_buf *b, int version,
                                         const struct kw_add_partitions_to_txn_resp *m);
int kw_add_partitions_to_txn_resp_decode(struct kw_reader *r, int version,
                                         struct kw_add_partitions_to_txn_resp *m,
                                         struct kw_arena *a);

#endif
