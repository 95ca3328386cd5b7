/* AddOffsetsToTxn (key 25), v0-v3, flexible from v3. Behaviour: the transaction (begun if it
 * was not open) will commit offsets of this group; Kafka adds the group's __consumer_offsets
 * partition, we remember the group, whose pending TxnOffsetCommit offsets EndTxn then applies
 * or drops. Errors as AddPartitionsToTxn's for the transactional id (txn.c). */
#include "mockbroker/internal.h"

#include "lib/proto/add_offsets_to_txn.h"

int mb__handle_add_offsets_to_txn(struct mb__req *req)
{
    const struct kw_add_offsets_to_txn_req *m = req->body;
    struct kw_add_offsets_to_txn_resp resp = { 0 };
    int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, KW_STR_NULL, -1, NULL) : 0;
    if (ec == 0)
        ec = mb__txn_check(req, m->transactional_id, m->producer_id, m->producer_epoch);
    if (ec == 0)
        ec = mb__txn_add_group(req, m->transactional_id, m->group_id);
    resp.error_code = ec;
    mb__respond(req, &resp);
    return 0;
}
