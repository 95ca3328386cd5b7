/* DeleteTopics (key 20), v0-v6. Behaviour: deletes by name (v0-v5 TopicNames, v6 Topics by name
 * or id). Unknown names get UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID. The logs
 * are freed at once; Kafka deletes asynchronously, which a client cannot tell apart here. Fault
 * rules refuse topics before they are deleted. */
#include "mockbroker/internal.h"

#include <string.h>

#include "lib/errors.h"
#include "lib/proto/delete_topics.h"

int mb__handle_delete_topics(struct mb__req *req)
{
    const struct kw_delete_topics_req *m = req->body;
    struct kw_delete_topics_resp resp = { 0 };
    bool v6 = req->version >= 6;
    int32_t n = v6 ? m->n_topics : m->n_topic_names;
    if (n < 0)
        n = 0;
    resp.responses = kw_arena_alloc(&req->arena, sizeof(*resp.responses) * (size_t)(n + 1));
    if (resp.responses == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    resp.n_responses = n;
    for (int32_t i = 0; i < n; i++) {
        struct kw_delete_topics_resp_result *o = &resp.responses[i];
        struct kw_str name = v6 ? m->topics[i].name : m->topic_names[i];
        struct mb__topic *t;
        o->error_message = KW_STR_NULL;
        o->name = name;
        const struct mb_action *a = NULL;
        int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, name, -1, &a) : 0;
        if (ec) {
            o->error_code = ec;
            if (a->error_message && req->version >= 5)
                o->error_message = kw_str_c(a->error_message);
            if (name.len < 0)
                memcpy(o->topic_id, m->topics[i].topic_id, 16);
            continue;
        }
        if (name.len >= 0) {
            t = mb__topic_find(req->c, name.ptr, name.len);
        } else {
            t = mb__topic_find_id(req->c, m->topics[i].topic_id);
            memcpy(o->topic_id, m->topics[i].topic_id, 16);
        }
        if (t == NULL) {
            o->error_code = name.len >= 0 ? KW_EC_UNKNOWN_TOPIC_OR_PARTITION : KW_EC_UNKNOWN_TOPIC_ID;
            continue;
        }
        memcpy(o->topic_id, t->id, 16);
        if (name.len < 0) {
            /* The name must outlive the topic: copy it into the request's arena. */
            size_t len = strlen(t->name);
            char *copy = kw_arena_alloc(&req->arena, len + 1);
            if (copy)
                memcpy(copy, t->name, len + 1);
            o->name = copy ? (struct kw_str){ copy, (int32_t)len } : KW_STR_NULL;
        }
        mb__log(req->c, MB_LOG_INFO, "deleted topic %s", t->name);
        mb__topic_delete(req->c, t);
    }
    mb__respond(req, &resp);
    return 0;
}
