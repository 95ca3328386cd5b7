/* InitProducerId (key 22), v0-v4, flexible from v2. Gives an idempotent or transactional
 * producer its id and epoch. v3 (KIP-360) lets a producer send its current id and epoch so
 * that the broker can bump the epoch instead of fencing it; -1/-1 asks for a fresh id. v4 only
 * tells the broker the client understands PRODUCER_FENCED, so its layout equals v3's. */
#include "lib/proto/init_producer_id.h"

#include "lib/proto/codec.h"

#define S struct kw_init_producer_id_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, transactional_id, "TransactionalId", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(0)),
    KW_FIELD(S, transaction_timeout_ms, "TransactionTimeoutMs", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, producer_id, "ProducerId", KW_T_I64, 3, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, producer_epoch, "ProducerEpoch", KW_T_I16, 3, KW_VMAX, KW_DEFAULT(-1)),
};
#undef S
const struct kw_schema kw_init_producer_id_req_schema =
    KW_SCHEMA(struct kw_init_producer_id_req, "InitProducerIdRequest", req_fields);

#define S struct kw_init_producer_id_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, producer_id, "ProducerId", KW_T_I64, 0, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, producer_epoch, "ProducerEpoch", KW_T_I16, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_init_producer_id_resp_schema =
    KW_SCHEMA(struct kw_init_producer_id_resp, "InitProducerIdResponse", resp_fields);

KW_CODEC(init_producer_id, KW_API_INIT_PRODUCER_ID)
