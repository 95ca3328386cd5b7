/* EndTxn (key 26), v0-v3, flexible from v3. No tagged fields in any version. */
#include "lib/proto/end_txn.h"

#include "lib/proto/codec.h"

#define S struct kw_end_txn_req
static const struct kw_field req_fields[] = {
    KW_FIELD(S, transactional_id, "TransactionalId", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
    KW_FIELD(S, producer_id, "ProducerId", KW_T_I64, 0, KW_VMAX),
    KW_FIELD(S, producer_epoch, "ProducerEpoch", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, committed, "Committed", KW_T_BOOL, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_end_txn_req_schema =
    KW_SCHEMA(struct kw_end_txn_req, "EndTxnRequest", req_fields);

#define S struct kw_end_txn_resp
static const struct kw_field resp_fields[] = {
    KW_FIELD(S, throttle_time_ms, "ThrottleTimeMs", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, error_code, "ErrorCode", KW_T_I16, 0, KW_VMAX),
};
#undef S
const struct kw_schema kw_end_txn_resp_schema =
    KW_SCHEMA(struct kw_end_txn_resp, "EndTxnResponse", resp_fields);

KW_CODEC(end_txn, KW_API_END_TXN)
