/* FindCoordinator (key 10), v0-v4. Behaviour: the coordinator of a group (KeyType 0) or a
 * transactional id (KeyType 1) is the broker chosen by the Java-compatible murmur2 of the key
 * over the live brokers, so it is stable, spread, and moves when that broker goes down; the
 * group and transaction APIs answer NOT_COORDINATOR anywhere else (group.c, txn.c). Another
 * KeyType is INVALID_REQUEST. v4 answers each of its batched keys.
 * Unlike Kafka: no internal __consumer_offsets or __transaction_state partitions behind the
 * choice. */
#include "mockbroker/internal.h"

#include "lib/errors.h"
#include "lib/proto/find_coordinator.h"

/* The error for a key, or 0 with the coordinator in *b. */
static int16_t coordinator(struct mb_cluster *c, int8_t key_type, struct kw_str key,
                           const struct mb__broker **b)
{
    *b = NULL;
    if (key_type != 0 && key_type != 1)
        return KW_EC_INVALID_REQUEST;
    int id = key_type == 1 ? mb__txn_coordinator(c, key) : mb__group_coordinator(c, key);
    if (id < 1)
        return KW_EC_COORDINATOR_NOT_AVAILABLE;
    *b = &c->brokers[id - 1];
    return 0;
}

int mb__handle_find_coordinator(struct mb__req *req)
{
    const struct kw_find_coordinator_req *m = req->body;
    struct kw_find_coordinator_resp resp = { 0 };
    if (req->version < 4) {
        const struct mb__broker *b;
        resp.error_code = coordinator(req->c, m->key_type, m->key, &b);
        resp.error_message = KW_STR_NULL;
        resp.node_id = b ? b->id : -1;
        resp.host = kw_str_c(b ? "127.0.0.1" : "");
        resp.port = b ? b->port : -1;
    } else {
        int32_t n = m->n_coordinator_keys > 0 ? m->n_coordinator_keys : 0;
        resp.coordinators = kw_arena_alloc(&req->arena,
                                           sizeof(*resp.coordinators) * (size_t)(n + 1));
        if (resp.coordinators == NULL)
            return mb__conn_close(req->conn, "out of memory"), -1;
        for (int32_t i = 0; i < n; i++) {
            const struct mb__broker *b;
            struct kw_find_coordinator_resp_coordinator *o = &resp.coordinators[i];
            o->error_code = coordinator(req->c, m->key_type, m->coordinator_keys[i], &b);
            o->key = m->coordinator_keys[i];
            o->node_id = b ? b->id : -1;
            o->host = kw_str_c(b ? "127.0.0.1" : "");
            o->port = b ? b->port : -1;
            o->error_message = KW_STR_NULL;
        }
        resp.n_coordinators = n;
    }
    mb__respond(req, &resp);
    return 0;
}
