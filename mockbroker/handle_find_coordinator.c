/* FindCoordinator (key 10), v0-v4. Behaviour: the coordinator of a key is the broker chosen by
 * the Java-compatible murmur2 of the key over the live brokers, so it is stable and spread; v4
 * answers each of its batched keys. Enough for clients that ask before consuming or for
 * transactions; the groups and transactions themselves come with their own handlers.
 * Unlike Kafka: no internal __consumer_offsets partitions behind the choice. */
#include "mockbroker/internal.h"

#include "lib/errors.h"
#include "lib/hash.h"
#include "lib/proto/find_coordinator.h"

static const struct mb__broker *coordinator(struct mb_cluster *c, struct kw_str key)
{
    int32_t pick = kw_partition_murmur2(key.ptr ? key.ptr : "", key.len > 0 ? (size_t)key.len : 0,
                                        c->n_brokers);
    for (int i = 0; i < c->n_brokers; i++) {
        const struct mb__broker *b = &c->brokers[(pick + i) % c->n_brokers];
        if (b->state != MB_BROKER_DOWN)
            return b;
    }
    return NULL;
}

int mb__handle_find_coordinator(struct mb__req *req)
{
    const struct kw_find_coordinator_req *m = req->body;
    struct kw_find_coordinator_resp resp = { 0 };
    if (req->version < 4) {
        const struct mb__broker *b = coordinator(req->c, m->key);
        resp.error_code = b ? 0 : KW_EC_COORDINATOR_NOT_AVAILABLE;
        resp.error_message = KW_STR_NULL;
        resp.node_id = b ? b->id : -1;
        resp.host = kw_str_c(b ? "127.0.0.1" : "");
        resp.port = b ? b->port : -1;
    } else {
        int32_t n = m->n_coordinator_keys > 0 ? m->n_coordinator_keys : 0;
        resp.coordinators = kw_arena_alloc(&req->arena, sizeof(*resp.coordinators) * (size_t)(n + 1));
        if (resp.coordinators == NULL)
            return mb__conn_close(req->conn, "out of memory"), -1;
        for (int32_t i = 0; i < n; i++) {
            const struct mb__broker *b = coordinator(req->c, m->coordinator_keys[i]);
            struct kw_find_coordinator_resp_coordinator *o = &resp.coordinators[i];
            o->key = m->coordinator_keys[i];
            o->node_id = b ? b->id : -1;
            o->host = kw_str_c(b ? "127.0.0.1" : "");
            o->port = b ? b->port : -1;
            o->error_code = b ? 0 : KW_EC_COORDINATOR_NOT_AVAILABLE;
            o->error_message = KW_STR_NULL;
        }
        resp.n_coordinators = n;
    }
    mb__respond(req, &resp);
    return 0;
}
