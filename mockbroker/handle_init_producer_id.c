/* InitProducerId (key 22), v0-v4. Behaviour: an idempotent producer (null TransactionalId) gets a
 * new producer id with epoch 0 on every call, as Kafka's ProducerIdManager hands them out, from
 * a counter starting at cfg.producer_id_base. A transactional id keeps its producer id and bumps
 * the epoch on each call (a new id once the epoch would pass 32766); v3+ callers naming a
 * producer id and epoch that are not the current ones are fenced (PRODUCER_FENCED at v4+,
 * INVALID_PRODUCER_EPOCH before, KIP-588). */
#include "mockbroker/internal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/init_producer_id.h"

#define MAX_TRANSACTION_TIMEOUT_MS 900000   /* Kafka's transaction.max.timeout.ms default */

static struct mb__pid *pid_new(struct mb_cluster *c, struct kw_str txn)
{
    if (c->n_pids == c->cap_pids) {
        size_t cap = c->cap_pids ? c->cap_pids * 2 : 16;
        struct mb__pid *n = realloc(c->pids, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        c->pids = n;
        c->cap_pids = cap;
    }
    struct mb__pid *e = &c->pids[c->n_pids];
    e->producer_id = c->next_producer_id++;
    e->epoch = 0;
    e->transactional_id = NULL;
    if (txn.len >= 0) {
        if ((e->transactional_id = malloc((size_t)txn.len + 1)) == NULL)
            return NULL;
        kw_str_copy(txn, e->transactional_id, (size_t)txn.len + 1);
    }
    c->n_pids++;
    return e;
}

static struct mb__pid *pid_by_txn(struct mb_cluster *c, struct kw_str txn)
{
    for (size_t i = 0; i < c->n_pids; i++)
        if (c->pids[i].transactional_id && kw_str_eq(txn, c->pids[i].transactional_id))
            return &c->pids[i];
    return NULL;
}

int mb__handle_init_producer_id(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    const struct kw_init_producer_id_req *m = req->body;
    struct kw_init_producer_id_resp resp = { .producer_id = -1, .producer_epoch = -1 };
    struct mb__pid *e = NULL;

    int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, KW_STR_NULL, -1, NULL) : 0;
    if (ec) {
        resp.error_code = ec;   /* a rule refuses it: no producer id is handed out */
    } else if (m->transactional_id.len >= 0 &&
        (m->transaction_timeout_ms <= 0 || m->transaction_timeout_ms > MAX_TRANSACTION_TIMEOUT_MS)) {
        resp.error_code = KW_EC_INVALID_TRANSACTION_TIMEOUT;
    } else if (m->transactional_id.len < 0) {
        if ((e = pid_new(c, KW_STR_NULL)) == NULL)
            resp.error_code = KW_EC_UNKNOWN_SERVER_ERROR;
    } else if ((e = pid_by_txn(c, m->transactional_id)) == NULL) {
        if ((e = pid_new(c, m->transactional_id)) == NULL)
            resp.error_code = KW_EC_UNKNOWN_SERVER_ERROR;
    } else if (m->producer_id >= 0 &&
               (m->producer_id != e->producer_id || m->producer_epoch != e->epoch)) {
        resp.error_code = req->version >= 4 ? KW_EC_PRODUCER_FENCED : KW_EC_INVALID_PRODUCER_EPOCH;
        e = NULL;
    } else if (e->epoch >= INT16_MAX - 1) {
        /* The epoch is exhausted: a fresh producer id for the same transactional id. */
        e->producer_id = c->next_producer_id++;
        e->epoch = 0;
    } else {
        e->epoch++;
    }
    if (e) {
        resp.producer_id = e->producer_id;
        resp.producer_epoch = e->epoch;
        mb__log(c, MB_LOG_INFO, "InitProducerId: producer id %lld epoch %d%s%.*s",
                (long long)e->producer_id, e->epoch, e->transactional_id ? " for " : "",
                e->transactional_id ? (int)strlen(e->transactional_id) : 0,
                e->transactional_id ? e->transactional_id : "");
    }
    mb__respond(req, &resp);
    return 0;
}
