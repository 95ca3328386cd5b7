/* InitProducerId (key 22), v0-v4. Behaviour: an idempotent producer (null TransactionalId) gets a
 * new producer id with epoch 0 on every call, as Kafka's ProducerIdManager hands them out, from
 * a counter starting at cfg.producer_id_base. A transactional id, at its coordinator only
 * (NOT_COORDINATOR elsewhere), keeps its producer id and bumps the epoch on each call (a new id
 * once the epoch would pass 32766) and stores the transaction timeout; an open transaction is
 * first aborted under a bumped epoch and the call answered CONCURRENT_TRANSACTIONS, for the
 * client to retry, as Kafka does (txn.c). v3+ callers naming a producer id and epoch that are
 * not the current ones are fenced (PRODUCER_FENCED at v4+, INVALID_PRODUCER_EPOCH before,
 * KIP-588). */
#include "mockbroker/internal.h"

#include <string.h>

#include "lib/errors.h"
#include "lib/proto/init_producer_id.h"

int mb__handle_init_producer_id(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    const struct kw_init_producer_id_req *m = req->body;
    struct kw_init_producer_id_resp resp = { .producer_id = -1, .producer_epoch = -1 };
    int64_t pid = -1;
    int16_t epoch = -1;

    int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, KW_STR_NULL, -1, NULL) : 0;
    if (ec == 0 && m->transactional_id.len < 0) {
        pid = c->next_producer_id++;
        epoch = 0;
    } else if (ec == 0) {
        ec = mb__txn_init(req, m, &pid, &epoch);
    }
    resp.error_code = ec;   /* a rule's error hands no producer id out */
    if (ec == 0) {
        resp.producer_id = pid;
        resp.producer_epoch = epoch;
        mb__log(c, MB_LOG_INFO, "InitProducerId: producer id %lld epoch %d%s%.*s",
                (long long)pid, epoch, m->transactional_id.len >= 0 ? " for " : "",
                m->transactional_id.len > 0 ? (int)m->transactional_id.len : 0,
                m->transactional_id.len > 0 ? m->transactional_id.ptr : "");
    }
    mb__respond(req, &resp);
    return 0;
}
