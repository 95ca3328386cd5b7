/* Metadata (key 3), v0-v12. Behaviour: every live broker, the cluster id and controller, and the
 * requested topics (v0: an empty list means all; v1+: null means all, empty means none; v10+ a
 * topic may be asked by id). A missing topic is created when auto-create is on and the request
 * allows it (v0-v3 always, v4+ by AllowAutoTopicCreation) and answered LEADER_NOT_AVAILABLE,
 * as Kafka answers while the creation propagates; otherwise UNKNOWN_TOPIC_OR_PARTITION.
 * Unlike Kafka: no authorized-operations bits (INT32_MIN, "not requested"). */
#include "mockbroker/internal.h"

#include <string.h>

#include "lib/errors.h"
#include "lib/proto/metadata.h"

static int fill_topic(struct mb__req *req, struct mb__topic *t, struct kw_metadata_resp_topic *o)
{
    o->error_code = 0;
    o->name = (struct kw_str){ t->name, (int32_t)strlen(t->name) };
    memcpy(o->topic_id, t->id, 16);
    o->topic_authorized_operations = INT32_MIN;
    o->n_partitions = t->n_partitions;
    o->partitions = kw_arena_alloc(&req->arena, sizeof(*o->partitions) * (size_t)t->n_partitions);
    if (o->partitions == NULL)
        return -1;
    for (int32_t i = 0; i < t->n_partitions; i++) {
        struct mb__partition *p = &t->partitions[i];
        struct kw_metadata_resp_partition *op = &o->partitions[i];
        int32_t *nodes = kw_arena_alloc(&req->arena, sizeof(int32_t) * 3 * MB_MAX_REPLICAS);
        if (nodes == NULL)
            return -1;
        op->partition_index = p->index;
        op->leader_id = p->leader;
        op->leader_epoch = p->leader_epoch;
        op->error_code = p->leader < 0 ? KW_EC_LEADER_NOT_AVAILABLE : 0;
        op->replica_nodes = nodes;
        op->isr_nodes = nodes + MB_MAX_REPLICAS;
        op->offline_replicas = nodes + 2 * MB_MAX_REPLICAS;
        for (int r = 0; r < p->n_replicas; r++) {
            op->replica_nodes[op->n_replica_nodes++] = p->replicas[r];
            if (req->c->brokers[p->replicas[r] - 1].state == MB_BROKER_DOWN)
                op->offline_replicas[op->n_offline_replicas++] = p->replicas[r];
        }
        for (int r = 0; r < p->n_isr; r++)
            op->isr_nodes[op->n_isr_nodes++] = p->isr[r];
    }
    return 0;
}

int mb__handle_metadata(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    const struct kw_metadata_req *m = req->body;
    struct kw_metadata_resp resp = { 0 };
    resp.cluster_id = kw_str_c(c->cluster_id);
    resp.controller_id = c->controller;
    resp.cluster_authorized_operations = INT32_MIN;

    resp.brokers = kw_arena_alloc(&req->arena, sizeof(*resp.brokers) * (size_t)c->n_brokers);
    if (resp.brokers == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    for (int i = 0; i < c->n_brokers; i++) {
        struct mb__broker *b = &c->brokers[i];
        if (b->state == MB_BROKER_DOWN)
            continue;
        struct kw_metadata_resp_broker *ob = &resp.brokers[resp.n_brokers++];
        ob->node_id = b->id;
        ob->host = kw_str_c("127.0.0.1");
        ob->port = b->port;
        ob->rack = KW_STR_NULL;
    }

    bool all = m->n_topics < 0 || (req->version == 0 && m->n_topics == 0);
    bool may_create = c->cfg.auto_create && (req->version < 4 || m->allow_auto_topic_creation);
    int32_t n = all ? c->n_topics : m->n_topics;
    resp.topics = kw_arena_alloc(&req->arena, sizeof(*resp.topics) * (size_t)(n > 0 ? n : 1));
    if (resp.topics == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    if (all) {
        struct mb__topic *t;
        LIST_FOREACH(t, &c->topics, link)
            if (fill_topic(req, t, &resp.topics[resp.n_topics++]) != 0)
                return mb__conn_close(req->conn, "out of memory"), -1;
    } else {
        for (int32_t i = 0; i < m->n_topics; i++) {
            const struct kw_metadata_req_topic *rt = &m->topics[i];
            struct kw_metadata_resp_topic *o = &resp.topics[resp.n_topics++];
            o->topic_authorized_operations = INT32_MIN;
            o->name = rt->name;
            memcpy(o->topic_id, rt->topic_id, 16);
            struct mb__topic *t = rt->name.len >= 0 ? mb__topic_find(c, rt->name.ptr, rt->name.len)
                                                     : mb__topic_find_id(c, rt->topic_id);
            if (t != NULL) {
                if (fill_topic(req, t, o) != 0)
                    return mb__conn_close(req->conn, "out of memory"), -1;
                continue;
            }
            if (rt->name.len < 0) {
                o->error_code = KW_EC_UNKNOWN_TOPIC_ID;
            } else if (!mb__topic_name_valid(rt->name.ptr, rt->name.len)) {
                o->error_code = KW_EC_INVALID_TOPIC_EXCEPTION;
            } else if (may_create) {
                char err[128];
                struct mb__topic *nt;
                int ec = mb__topic_create(c, rt->name.ptr, rt->name.len,
                                          c->cfg.default_partitions, c->cfg.default_replication,
                                          &nt, err, sizeof(err));
                o->error_code = ec ? (int16_t)ec : KW_EC_LEADER_NOT_AVAILABLE;
                if (nt)
                    memcpy(o->topic_id, nt->id, 16);
            } else {
                o->error_code = KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
            }
        }
    }
    mb__respond(req, &resp);
    return 0;
}
