/* TxnOffsetCommit (key 28), v0-v3, flexible from v3. Behaviour: sent to the group coordinator;
 * the group's checks come first (NOT_COORDINATOR..., and from v3 a named member must be current:
 * UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, KIP-447), then the producer's: an unknown id
 * INVALID_PRODUCER_ID_MAPPING, another epoch INVALID_PRODUCER_EPOCH, a group not added to its
 * open transaction (AddOffsetsToTxn) INVALID_TXN_STATE; the error goes on every partition. Else
 * each partition's offset is kept pending until EndTxn (group.c), as Kafka keeps it until the
 * transaction's marker reaches __consumer_offsets. */
#include "mockbroker/internal.h"

#include "lib/proto/txn_offset_commit.h"

int mb__handle_txn_offset_commit(struct mb__req *req)
{
    const struct kw_txn_offset_commit_req *m = req->body;
    struct kw_txn_offset_commit_resp resp = { 0 };
    int16_t ec = mb__group_txn_commit_check(req, m->group_id, m->generation_id, m->member_id);
    if (ec == 0)
        ec = mb__txn_offsets_check(req->c, m->transactional_id, m->producer_id,
                                   m->producer_epoch, m->group_id);
    int32_t nt = m->n_topics > 0 ? m->n_topics : 0;
    resp.topics = kw_arena_alloc(&req->arena, sizeof(*resp.topics) * ((size_t)nt + 1));
    if (resp.topics == NULL)
        return mb__conn_close(req->conn, "out of memory answering TxnOffsetCommit"), -1;
    for (int32_t i = 0; i < nt; i++) {
        const struct kw_txn_offset_commit_req_topic *t = &m->topics[i];
        struct kw_txn_offset_commit_resp_topic *o = &resp.topics[i];
        int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;
        *o = (struct kw_txn_offset_commit_resp_topic){ .name = t->name, .n_partitions = np };
        o->partitions = kw_arena_alloc(&req->arena, sizeof(*o->partitions) * ((size_t)np + 1));
        if (o->partitions == NULL)
            return mb__conn_close(req->conn, "out of memory answering TxnOffsetCommit"), -1;
        for (int32_t j = 0; j < np; j++)
            o->partitions[j] = (struct kw_txn_offset_commit_resp_partition){
                .partition_index = t->partitions[j].partition_index,
                .error_code = ec ? ec : mb__group_txn_commit(req, m->group_id, m->producer_id,
                                                             t->name, &t->partitions[j]),
            };
    }
    resp.n_topics = nt;
    mb__respond(req, &resp);
    return 0;
}
