/* AddPartitionsToTxn (key 24), v0-v3, flexible from v3. Behaviour: as Kafka's: if a partition
 * does not exist (or a rule refuses it), it gets UNKNOWN_TOPIC_OR_PARTITION (or the rule's
 * error), every other one OPERATION_NOT_ATTEMPTED, and nothing is added; otherwise an error of
 * the transactional id (NOT_COORDINATOR, INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED or before
 * v2 INVALID_PRODUCER_EPOCH, CONCURRENT_TRANSACTIONS) goes on every partition; else all are
 * added to the transaction, which begins if it was not open (txn.c).
 * v4+ (KIP-890's batched form, sent by brokers) is not spoken. */
#include "mockbroker/internal.h"

#include "lib/errors.h"
#include "lib/proto/add_partitions_to_txn.h"

int mb__handle_add_partitions_to_txn(struct mb__req *req)
{
    const struct kw_add_partitions_to_txn_req *m = req->body;
    struct kw_add_partitions_to_txn_resp resp = { 0 };
    int32_t nt = m->n_topics > 0 ? m->n_topics : 0;
    bool refused = false;
    resp.results = kw_arena_alloc(&req->arena, sizeof(*resp.results) * ((size_t)nt + 1));
    if (resp.results == NULL)
        return mb__conn_close(req->conn, "out of memory answering AddPartitionsToTxn"), -1;
    resp.n_results = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct kw_add_partitions_to_txn_topic *rt = &m->topics[i];
        struct kw_add_partitions_to_txn_topic_result *ot = &resp.results[i];
        struct mb__topic *t = mb__topic_find(req->c, rt->name.ptr, rt->name.len);
        int32_t np = rt->n_partitions > 0 ? rt->n_partitions : 0;
        *ot = (struct kw_add_partitions_to_txn_topic_result){ .name = rt->name, .n_results = np };
        ot->results = kw_arena_alloc(&req->arena, sizeof(*ot->results) * ((size_t)np + 1));
        if (ot->results == NULL)
            return mb__conn_close(req->conn, "out of memory answering AddPartitionsToTxn"), -1;
        for (int32_t j = 0; j < np; j++) {
            int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, rt->name,
                                                     rt->partitions[j], NULL)
                                   : 0;
            if (ec == 0 && mb__partition_find(t, rt->partitions[j]) == NULL)
                ec = KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
            ot->results[j] = (struct kw_add_partitions_to_txn_partition_result){
                .partition_index = rt->partitions[j], .partition_error_code = ec,
            };
            refused |= ec != 0;
        }
    }
    int16_t ec = KW_EC_OPERATION_NOT_ATTEMPTED;
    if (!refused) {
        ec = mb__txn_check(req, m->transactional_id, m->producer_id, m->producer_epoch);
        if (ec == 0)
            ec = mb__txn_add_partitions(req, m);
    }
    for (int32_t i = 0; i < nt; i++)
        for (int32_t j = 0; j < resp.results[i].n_results; j++) {
            struct kw_add_partitions_to_txn_partition_result *r = &resp.results[i].results[j];
            if (r->partition_error_code == 0)
                r->partition_error_code = ec;
        }
    mb__respond(req, &resp);
    return 0;
}
