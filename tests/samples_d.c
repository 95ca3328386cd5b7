/* Samples for the transaction APIs (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * TxnOffsetCommit): producer "payments-tx" (producer id 4001, epoch 3) writing to "orders" and
 * "audit" and committing the offsets of consumer group "billing" inside the transaction. */
#include "lib/proto/add_offsets_to_txn.h"
#include "lib/proto/add_partitions_to_txn.h"
#include "lib/proto/end_txn.h"
#include "lib/proto/txn_offset_commit.h"
#include "tests/samples.h"

#define STR(s) { s, (int32_t)sizeof(s) - 1 }
#define N(arr) ((int32_t)(sizeof(arr) / sizeof((arr)[0])))

#define TXN_ID STR("payments-tx")
#define PID 4001
#define EPOCH 3

/* --- AddPartitionsToTxn ----------------------------------------------------------------------- */

const void *kwt_sample_add_partitions_to_txn_req(void)
{
    static int32_t orders[] = { 0, 2 };
    static int32_t audit[] = { 1 };
    static struct kw_add_partitions_to_txn_topic topics[] = {
        { STR("orders"), orders, N(orders), { 0 } },
        { STR("audit"), audit, N(audit), { 0 } },
    };
    static const struct kw_add_partitions_to_txn_req m = {
        .transactional_id = TXN_ID, .producer_id = PID, .producer_epoch = EPOCH,
        .topics = topics, .n_topics = N(topics),
    };
    return &m;
}

const void *kwt_sample_add_partitions_to_txn_resp(void)
{
    static struct kw_add_partitions_to_txn_partition_result orders[] = {
        { 0, 0, { 0 } }, { 2, 48 /* INVALID_TXN_STATE */, { 0 } },
    };
    static struct kw_add_partitions_to_txn_partition_result audit[] = { { 1, 3 /* UNKNOWN_TOPIC_OR_PARTITION */, { 0 } } };
    static struct kw_add_partitions_to_txn_topic_result results[] = {
        { STR("orders"), orders, N(orders), { 0 } },
        { STR("audit"), audit, N(audit), { 0 } },
    };
    static const struct kw_add_partitions_to_txn_resp m = {
        .throttle_time_ms = 12, .results = results, .n_results = N(results),
    };
    return &m;
}

/* --- AddOffsetsToTxn -------------------------------------------------------------------------- */

const void *kwt_sample_add_offsets_to_txn_req(void)
{
    static const struct kw_add_offsets_to_txn_req m = {
        .transactional_id = TXN_ID, .producer_id = PID, .producer_epoch = EPOCH,
        .group_id = STR("billing"),
    };
    return &m;
}

const void *kwt_sample_add_offsets_to_txn_resp(void)
{
    static const struct kw_add_offsets_to_txn_resp m = {
        .throttle_time_ms = 5, .error_code = 51 /* CONCURRENT_TRANSACTIONS */,
    };
    return &m;
}

/* --- EndTxn ----------------------------------------------------------------------------------- */

const void *kwt_sample_end_txn_req(void)
{
    static const struct kw_end_txn_req m = {
        .transactional_id = TXN_ID, .producer_id = PID, .producer_epoch = EPOCH, .committed = true,
    };
    return &m;
}

const void *kwt_sample_end_txn_resp(void)
{
    static const struct kw_end_txn_resp m = {
        .throttle_time_ms = 9, .error_code = 90 /* PRODUCER_FENCED */,
    };
    return &m;
}

/* --- TxnOffsetCommit -------------------------------------------------------------------------- */

const void *kwt_sample_txn_offset_commit_req(void)
{
    static struct kw_txn_offset_commit_req_partition orders[] = {
        { 0, 1200, 4, STR("batch-7"), { 0 } },
        { 2, 977, 4, { NULL, -1 }, { 0 } },
    };
    static struct kw_txn_offset_commit_req_partition audit[] = {
        { 1, 31, 2, STR(""), { 0 } },
    };
    static struct kw_txn_offset_commit_req_topic topics[] = {
        { STR("orders"), orders, N(orders), { 0 } },
        { STR("audit"), audit, N(audit), { 0 } },
    };
    static const struct kw_txn_offset_commit_req m = {
        .transactional_id = TXN_ID, .group_id = STR("billing"), .producer_id = PID,
        .producer_epoch = EPOCH, .generation_id = 6,
        .member_id = STR("rdkafka-5e1f0c2a-7d4b-4b61-9a0e-1c3f2b7d8e90"),
        .group_instance_id = STR("billing-1"), .topics = topics, .n_topics = N(topics),
    };
    return &m;
}

const void *kwt_sample_txn_offset_commit_resp(void)
{
    static struct kw_txn_offset_commit_resp_partition orders[] = {
        { 0, 0, { 0 } }, { 2, 22 /* ILLEGAL_GENERATION */, { 0 } },
    };
    static struct kw_txn_offset_commit_resp_partition audit[] = { { 1, 0, { 0 } } };
    static struct kw_txn_offset_commit_resp_topic topics[] = {
        { STR("orders"), orders, N(orders), { 0 } },
        { STR("audit"), audit, N(audit), { 0 } },
    };
    static const struct kw_txn_offset_commit_resp m = {
        .throttle_time_ms = 3, .topics = topics, .n_topics = N(topics),
    };
    return &m;
}
