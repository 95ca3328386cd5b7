/* AddPartitionsToTxn (key 24), v0-v3, flexible from v3. The v0-v3 fields are named
 * "V3AndBelow..." in Kafka's definitions since v4 moved them into a per-transaction array; on the
 * wire they are the same transactional id, producer id and epoch, and topics. */
#include "lib/proto/add_partitions_to_txn.h"

#include "lib/proto/codec.h"

#define S struct kw_add_partitions_to_txn_topic
static const struct kw_field topic_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_PARRAY(S, partitions, "Partitions", KW_T_I32, 0, KW_VMAX),
};
#undef S
static const struct kw_schema topic_schema =
    KW_SCHEMA(struct kw_add_partitions_to_txn_topic, "AddPartitionsToTxnTopic", topic_fields);

#define S struct kw_add_partitions_to_txn_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, transactional_id, "V3AndBelowTransactionalId", KW_T_STR, 0, KW_VMAX,
             KW_EMPTY_DEFAULT),
    KW_FIELD(S, producer_id, "V3AndBelowProducerId", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, producer_epoch, "V3AndBelowProducerEpoch", KW_T_I16, 0, KW_VMAX),
    KW_ARRAY(S, topics, "V3AndBelowTopics", topic_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_add_partitions_to_txn_req_schema =
    KW_SCHEMA(struct kw_add_partitions_to_txn_req, "AddPartitionsToTxnRequest", req_fields);

#define S struct kw_add_partitions_to_txn_partition_result
static const struct kw_field partition_result_fields[] = {
    KW_FIELD(S, partition_index, "PartitionIndex", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, partition_error_code, "PartitionErrorCode", KW_T_I16, 0, KW_VMAX),
};
#undef S
static const struct kw_schema partition_result_schema =
    KW_SCHEMA(struct kw_add_partitions_to_txn_partition_result,
              "AddPartitionsToTxnPartitionResult", partition_result_fields);

#define S struct kw_add_partitions_to_txn_topic_result
static const struct kw_field topic_result_fields[] = {
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_ARRAY(S, results, "ResultsByPartition", partition_result_schema, 0, KW_VMAX),
};
#undef S
static const struct kw_schema topic_result_schema =
    KW_SCHEMA(struct kw_add_partitions_to_txn_topic_result, "AddPartitionsToTxnTopicResult",
              topic_result_fields);

#define S struct kw_add_partitions_to_txn_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 0, KW_VMAX),
    KW_ARRAY(S, results, "ResultsByTopicV3AndBelow", topic_result_schema, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_add_partitions_to_txn_resp_schema =
    KW_SCHEMA(struct kw_add_partitions_to_txn_resp, "AddPartitionsToTxnResponse", resp_fields);

KW_CODEC(add_partitions_to_txn, KW_API_ADD_PARTITIONS_TO_TXN)
