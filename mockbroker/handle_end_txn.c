/* EndTxn (key 26), v0-v3, flexible from v3. Behaviour: commits or aborts the open transaction:
 * a marker into each of its partitions, its groups' pending offsets applied or dropped, then
 * CompleteCommit or CompleteAbort. As Kafka: a retry of the same outcome after completion
 * succeeds, the other outcome (or EndTxn with nothing added since InitProducerId) is
 * INVALID_TXN_STATE, a stale epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2) (txn.c).
 * v4-v5 (KIP-890's epoch bump on every EndTxn) are not spoken. */
#include "mockbroker/internal.h"

#include "lib/proto/end_txn.h"

int mb__handle_end_txn(struct mb__req *req)
{
    const struct kw_end_txn_req *m = req->body;
    struct kw_end_txn_resp resp = { 0 };
    int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, KW_STR_NULL, -1, NULL) : 0;
    if (ec == 0)
        ec = mb__txn_end(req, m->transactional_id, m->producer_id, m->producer_epoch,
                         m->committed);
    resp.error_code = ec;
    mb__respond(req, &resp);
    return 0;
}
