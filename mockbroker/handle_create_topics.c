/* CreateTopics (key 19), v0-v7. Behaviour: creates each topic with the given or default partition
 * count and replication factor (or a manual assignment, whose first replica leads), applies the
 * topic configs we model (min.insync.replicas, max.message.bytes, message.timestamp.type,
 * retention.bytes) and accepts other Kafka configs without effect; ValidateOnly checks without
 * creating. Errors per topic as Kafka gives them: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, INVALID_REQUEST for a topic
 * named twice. Fault rules refuse topics before they are created. */
#include "mockbroker/internal.h"

#include <stdio.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/create_topics.h"

static bool modelled(struct kw_str name)
{
    return kw_str_eq(name, "min.insync.replicas") || kw_str_eq(name, "max.message.bytes") ||
           kw_str_eq(name, "message.timestamp.type") || kw_str_eq(name, "retention.bytes");
}

static int create_one(struct mb__req *req, const struct kw_create_topics_req *m,
                      const struct kw_create_topics_req_topic *t,
                      struct kw_create_topics_resp_topic *o, char *err, size_t errsize)
{
    struct mb_cluster *c = req->c;
    for (const struct kw_create_topics_req_topic *u = m->topics; u < t; u++)
        if (u->name.len == t->name.len && memcmp(u->name.ptr, t->name.ptr, (size_t)t->name.len) == 0) {
            snprintf(err, errsize, "topic named twice in one request");
            return KW_EC_INVALID_REQUEST;
        }
    int partitions = t->num_partitions, replication = t->replication_factor;
    if (t->n_assignments > 0) {
        if (partitions != -1 || replication != -1) {
            snprintf(err, errsize, "give either a replica assignment or counts, not both");
            return KW_EC_INVALID_REQUEST;
        }
        partitions = t->n_assignments;
        replication = t->assignments[0].n_broker_ids;
        for (int32_t i = 0; i < t->n_assignments; i++) {
            const struct kw_create_topics_req_assignment *a = &t->assignments[i];
            if (a->partition_index != i || a->n_broker_ids != replication) {
                snprintf(err, errsize, "replica assignment must cover partitions 0..%d with %d "
                         "replicas each", partitions - 1, replication);
                return KW_EC_INVALID_REPLICA_ASSIGNMENT;
            }
            for (int32_t r = 0; r < a->n_broker_ids; r++)
                if (a->broker_ids[r] < 1 || a->broker_ids[r] > c->n_brokers) {
                    snprintf(err, errsize, "unknown broker %d in assignment", a->broker_ids[r]);
                    return KW_EC_INVALID_REPLICA_ASSIGNMENT;
                }
        }
    }
    if (partitions == -1)
        partitions = c->cfg.default_partitions;
    if (replication == -1)
        replication = c->cfg.default_replication;
    o->num_partitions = partitions;
    o->replication_factor = (int16_t)replication;

    struct mb__topic *nt = NULL;
    if (m->validate_only) {
        if (!mb__topic_name_valid(t->name.ptr, t->name.len)) {
            snprintf(err, errsize, "topic name must match [a-zA-Z0-9._-]{1,249}");
            return KW_EC_INVALID_TOPIC_EXCEPTION;
        }
        if (mb__topic_find(c, t->name.ptr, t->name.len)) {
            snprintf(err, errsize, "topic already exists");
            return KW_EC_TOPIC_ALREADY_EXISTS;
        }
        if (partitions <= 0 || partitions > c->cfg.max_partitions) {
            snprintf(err, errsize, "partitions must be 1..%d", c->cfg.max_partitions);
            return KW_EC_INVALID_PARTITIONS;
        }
        if (replication <= 0 || replication > c->n_brokers || replication > MB_MAX_REPLICAS) {
            snprintf(err, errsize, "replication factor must be 1..%d", c->n_brokers);
            return KW_EC_INVALID_REPLICATION_FACTOR;
        }
        return 0;
    }
    int ec = mb__topic_create(c, t->name.ptr, t->name.len, partitions, replication, &nt, err,
                              errsize);
    if (ec)
        return ec;
    memcpy(o->topic_id, nt->id, 16);
    if (t->n_assignments > 0)
        for (int32_t i = 0; i < t->n_assignments; i++) {
            struct mb__partition *p = &nt->partitions[i];
            for (int32_t r = 0; r < replication; r++)
                p->replicas[r] = p->isr[r] = t->assignments[i].broker_ids[r];
            p->leader = p->replicas[0];
            mb__repl_init(c, p);
        }
    for (int32_t i = 0; i < t->n_configs; i++) {
        const struct kw_create_topics_req_config *cf = &t->configs[i];
        if (!modelled(cf->name) || cf->value.len < 0)
            continue;
        char key[64], value[64];
        kw_str_copy(cf->name, key, sizeof(key));
        kw_str_copy(cf->value, value, sizeof(value));
        ec = mb_topic_config_set(c, nt->name, key, value, err, errsize);
        if (ec) {
            mb__topic_delete(c, nt);
            memset(o->topic_id, 0, 16);
            return ec;
        }
    }
    return 0;
}

int mb__handle_create_topics(struct mb__req *req)
{
    const struct kw_create_topics_req *m = req->body;
    struct kw_create_topics_resp resp = { 0 };
    int32_t n = m->n_topics > 0 ? m->n_topics : 0;
    resp.topics = kw_arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(n + 1));
    if (resp.topics == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    resp.n_topics = n;
    for (int32_t i = 0; i < n; i++) {
        struct kw_create_topics_resp_topic *o = &resp.topics[i];
        char err[200] = "";
        o->name = m->topics[i].name;
        o->num_partitions = -1;
        o->replication_factor = -1;
        const struct mb_action *a = NULL;
        int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, o->name, -1, &a) : 0;
        if (ec)
            snprintf(err, sizeof(err), "%s", a->error_message ? a->error_message
                                                              : kw_error_text(ec));
        o->error_code = ec ? ec : (int16_t)create_one(req, m, &m->topics[i], o, err, sizeof(err));
        if (o->error_code) {
            size_t len = strlen(err);
            char *copy = kw_arena_alloc(&req->arena, len + 1);
            if (copy)
                memcpy(copy, err, len + 1);
            o->error_message = copy ? (struct kw_str){ copy, (int32_t)len } : KW_STR_NULL;
            o->num_partitions = -1;
            o->replication_factor = -1;
        } else {
            o->error_message = KW_STR_NULL;
        }
        o->n_configs = 0;
    }
    mb__respond(req, &resp);
    return 0;
}
