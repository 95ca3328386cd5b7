/* Fetch (key 1), v0-v12, flexible from v12. Topics are named (v13+ topic ids are not spoken). */
#ifndef KW_PROTO_FETCH_H
#define KW_PROTO_FETCH_H

#include "lib/proto/schema.h"

struct kw_fetch_req_partition {             /* FetchPartition */
    int32_t partition;
    int32_t current_leader_epoch;           /* v9+, default -1 */
    int64_t fetch_offset;
    int32_t last_fetched_epoch;             /* v12+, default -1 */
    int64_t log_start_offset;               /* v5+, default -1 (followers only) */
    int32_t partition_max_bytes;
    struct kw_tags tags;
};

struct kw_fetch_req_topic {                 /* FetchTopic */
    struct kw_str topic;
    int32_t n_partitions;
    struct kw_fetch_req_partition *partitions;
    struct kw_tags tags;
};

struct kw_fetch_req_forgotten_topic {       /* ForgottenTopic, v7+ */
    struct kw_str topic;
    int32_t n_partitions;
    int32_t *partitions;
    struct kw_tags tags;
};

struct kw_fetch_req {
    struct kw_str cluster_id;               /* tag 0, v12+, nullable, default null */
    int32_t replica_id;                     /* default -1 (a consumer) */
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;                      /* v3+, default 0x7fffffff */
    int8_t isolation_level;                 /* v4+, 0 read uncommitted, 1 read committed */
    int32_t session_id;                     /* v7+, default 0 */
    int32_t session_epoch;                  /* v7+, default -1 */
    int32_t n_topics;
    struct kw_fetch_req_topic *topics;
    int32_t n_forgotten_topics_data;        /* v7+ */
    struct kw_fetch_req_forgotten_topic *forgotten_topics_data;
    struct kw_str rack_id;                  /* v11+, default "" */
    struct kw_tags tags;
};

struct kw_fetch_resp_epoch_end_offset {     /* EpochEndOffset, v12+ */
    int32_t epoch;                          /* default -1 */
    int64_t end_offset;                     /* default -1 */
    struct kw_tags tags;
};

struct kw_fetch_resp_leader {               /* LeaderIdAndEpoch, v12+ */
    int32_t leader_id;                      /* default -1 */
    int32_t leader_epoch;                   /* default -1 */
    struct kw_tags tags;
};

struct kw_fetch_resp_snapshot_id {          /* SnapshotId, v12+ */
    int64_t end_offset;                     /* default -1 */
    int32_t epoch;                          /* default -1 */
    struct kw_tags tags;
};

struct kw_fetch_resp_aborted_transaction {  /* AbortedTransaction, v4+ */
    int64_t producer_id;
    int64_t first_offset;
    struct kw_tags tags;
};

struct kw_fetch_resp_partition {            /* PartitionData */
    int32_t partition_index;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset;             /* v4+, default -1 */
    int64_t log_start_offset;               /* v5+, default -1 */
    struct kw_fetch_resp_epoch_end_offset diverging_epoch;  /* tag 0, v12+ */
    struct kw_fetch_resp_leader current_leader;             /* tag 1, v12+ */
    struct kw_fetch_resp_snapshot_id snapshot_id;           /* tag 2, v12+ */
    int32_t n_aborted_transactions;         /* v4+, nullable */
    struct kw_fetch_resp_aborted_transaction *aborted_transactions;
    int32_t preferred_read_replica;         /* v11+, default -1 */
    struct kw_bytes records;                /* nullable */
    struct kw_tags tags;
};

struct kw_fetch_resp_topic {                /* FetchableTopicResponse */
    struct kw_str topic;
    int32_t n_partitions;
    struct kw_fetch_resp_partition *partitions;
    struct kw_tags tags;
};

struct kw_fetch_resp {
    int32_t throttle_time_ms;               /* v1+ */
    int16_t error_code;                     /* v7+ */
    int32_t session_id;                     /* v7+, default 0 */
    int32_t n_responses;
    struct kw_fetch_resp_topic *responses;
    struct kw_tags tags;
};

extern const struct kw_schema kw_fetch_req_schema;
extern const struct kw_schema kw_fetch_resp_schema;

/* Encoders and decoders at `version` (flexibility follows the version). Decoders zero the
 * struct first, allocate arrays from `a` and leave strings and records pointing into the
 * reader's buffer; all return KW_OK or a negative kw_err. Records are not looked into. */
int kw_fetch_req_encode(struct kw_buf *b, int version, const struct kw_fetch_req *m);
int kw_fetch_req_decode(struct kw_reader *r, int version, struct kw_fetch_req *m,
                        struct kw_arena *a);
int kw_fetch_resp_encode(struct kw_buf *b, int version, const struct kw_fetch_resp *m);
int kw_fetch_resp_decode(struct kw_reader *r, int version, struct kw_fetch_resp *m,
                         struct kw_arena *a);

#endif
