/* Decode a request frame, check key and version, count and journal it, match it against the fault
 * rules, then take it through its stages: side effects, close, hold and delay before apply, the
 * handler, side effects after apply (the answer's own stages are in conn.c).
 * What Kafka does with bad input (WIRE.md §11): an unknown key, an unsupported version (except
 * ApiVersions) or a body that does not parse closes the connection without a response. */
#include "mockbroker/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto/fetch.h"
#include "lib/proto/produce.h"

static const mb__handler handlers[MB__MAX_API_KEY] = {
    [KW_API_PRODUCE] = mb__handle_produce,
    [KW_API_FETCH] = mb__handle_fetch,
    [KW_API_LIST_OFFSETS] = mb__handle_list_offsets,
    [KW_API_METADATA] = mb__handle_metadata,
    [KW_API_FIND_COORDINATOR] = mb__handle_find_coordinator,
    [KW_API_API_VERSIONS] = mb__handle_api_versions,
    [KW_API_CREATE_TOPICS] = mb__handle_create_topics,
    [KW_API_DELETE_TOPICS] = mb__handle_delete_topics,
    [KW_API_INIT_PRODUCER_ID] = mb__handle_init_producer_id,
    [KW_API_OFFSET_COMMIT] = mb__handle_offset_commit,
    [KW_API_OFFSET_FETCH] = mb__handle_offset_fetch,
    [KW_API_JOIN_GROUP] = mb__handle_join_group,
    [KW_API_HEARTBEAT] = mb__handle_heartbeat,
    [KW_API_LEAVE_GROUP] = mb__handle_leave_group,
    [KW_API_SYNC_GROUP] = mb__handle_sync_group,
    [KW_API_DESCRIBE_GROUPS] = mb__handle_describe_groups,
    [KW_API_LIST_GROUPS] = mb__handle_list_groups,
    [KW_API_ADD_PARTITIONS_TO_TXN] = mb__handle_add_partitions_to_txn,
    [KW_API_ADD_OFFSETS_TO_TXN] = mb__handle_add_offsets_to_txn,
    [KW_API_END_TXN] = mb__handle_end_txn,
    [KW_API_TXN_OFFSET_COMMIT] = mb__handle_txn_offset_commit,
};

static void journal_request(struct mb__req *req)
{
    struct mb__conn *conn = req->conn;
    struct mb_journal_entry *e = mb__jreq(req, MB_JOURNAL_REQUEST);
    struct kw_str cid = req->hdr.client_id;
    /* Clients send the same client id on every request: intern it once per connection. */
    if (cid.len >= 0 && !(conn->jclient && conn->jclient_len == cid.len &&
                          memcmp(conn->jclient, cid.ptr, (size_t)cid.len) == 0)) {
        conn->jclient = mb__intern(req->c, cid.ptr, (size_t)cid.len);
        conn->jclient_len = conn->jclient ? (int32_t)strlen(conn->jclient) : -1;
    }
    e->client_id = cid.len >= 0 ? conn->jclient : NULL;
    e->bytes = (int32_t)req->frame->len;
    if (req->body == NULL)
        return;
    if (req->api->key == KW_API_PRODUCE) {
        const struct kw_produce_req *m = req->body;
        int32_t n = 0;
        for (int32_t i = 0; i < m->n_topic_data; i++)
            n += m->topic_data[i].n_partition_data > 0 ? m->topic_data[i].n_partition_data : 0;
        e->acks = m->acks;
        e->timeout_ms = m->timeout_ms;
        e->partitions = n;
    } else if (req->api->key == KW_API_FETCH) {
        const struct kw_fetch_req *m = req->body;
        int32_t n = 0;
        for (int32_t i = 0; i < m->n_topics; i++)
            n += m->topics[i].n_partitions > 0 ? m->topics[i].n_partitions : 0;
        e->partitions = n;
    }
}

int mb__dispatch(struct mb__conn *conn, struct mb__frame *frame)
{
    struct mb_cluster *c = conn->c;
    struct mb__req *req = calloc(1, sizeof(*req));
    if (req == NULL) {
        mb__frame_unref(frame);
        mb__conn_close(conn, "out of memory for a request");
        return -1;
    }
    req->c = c;
    req->conn = conn;
    req->broker = conn->broker;
    req->conn_id = conn->id;
    req->frame = frame;
    req->seq = ++c->next_req_seq;
    req->arrived_us = kw_now_us(c->clock);
    req->answered = true;       /* until it is journaled: a frame that fails to decode is not */
    kw_arena_init(&req->arena);
    kw_buf_init(&req->out);

    struct kw_reader r;
    kw_reader_init(&r, frame->data, frame->len);
    if (kw_req_header_read(&r, &req->hdr) < 0) {
        mb__conn_close(conn, "request header does not parse: %s at offset %zu (%s)",
                       kw_strerror(r.err), r.err_at, r.err_field ? r.err_field : "?");
        goto drop;
    }
    int key = req->hdr.api_key, version = req->hdr.api_version;
    req->version = (int16_t)version;
    req->api = kw_api_find(key);
    if (req->api == NULL || key >= MB__MAX_API_KEY || handlers[key] == NULL) {
        mb__conn_close(conn, "unknown API key %d (%s), correlation id %" PRId32, key,
                       kw_api_name(key), req->hdr.correlation_id);
        goto drop;
    }
    conn->broker->requests[key]++;
    conn->broker->requests_total++;
    if (!kw_api_supported(key, version)) {
        if (key == KW_API_API_VERSIONS) {
            /* Answered, not closed: the client must learn our range (KIP-511). The handler
             * sees the version and encodes a v0 answer. */
            req->body = NULL;
        } else {
            mb__conn_close(conn, "%s v%d is not supported (we speak v%d-v%d)", req->api->name,
                           version, req->api->min, req->api->max);
            goto drop;
        }
    } else {
        req->body = kw_arena_alloc(&req->arena, req->api->req->size);
        if (req->body == NULL ||
            kw_schema_decode(&r, req->api->req, version, kw_api_flexible(key, version), req->body,
                             &req->arena) != KW_OK) {
            mb__conn_close(conn, "%s v%d request does not parse: %s at offset %zu (field %s)",
                           req->api->name, version, kw_strerror(r.err ? r.err : KW_ERR_NOMEM),
                           r.err_at, r.err_field ? r.err_field : "?");
            goto drop;
        }
        /* Trailing bytes are tolerated, as Kafka's parser ignores them. */
    }
    TAILQ_INSERT_TAIL(&conn->reqs, req, link);
    conn->n_reqs++;
    req->answered = false;
    journal_request(req);
    mb__log(c, MB_LOG_DEBUG, "broker %d conn %" PRIu64 ": %s v%d correlation id %" PRId32,
            conn->broker->id, conn->id, req->api->name, version, req->hdr.correlation_id);
    if (c->n_rules)
        mb__fault_match(req);
    return mb__req_continue(req);
drop:
    req->conn = NULL;
    mb__req_free(req);
    return -1;
}

static void delay_before_cb(void *arg)
{
    struct mb__req *req = arg;
    req->fault_timer = 0;
    mb__req_continue(req);
}

/* Applies the request: the handler, then the side effects after apply. */
static int apply(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    req->stage = MB__STAGE_APPLY;
    req->pinned = true;
    handlers[req->api->key](req);
    if (req->conn && req->plan && req->plan->side_after)
        mb__fault_side_effects(req, MB_AFTER_APPLY);
    req->pinned = false;
    mb__state_changed(c);
    if (req->conn == NULL) {
        /* The handler or a side effect closed the connection; the request was left to us. */
        mb__req_free(req);
        return -1;
    }
    if (req->done)
        mb__conn_flush(req->conn);
    return 0;
}

int mb__req_continue(struct mb__req *req)
{
    struct mb__plan *pl = req->plan;
    if (req->stage == MB__STAGE_NEW) {
        if (pl) {
            if (pl->pause_us)
                mb__conn_pause(req->conn, pl->pause_us);
            if (pl->side_before && mb__fault_side_effects(req, MB_BEFORE_APPLY) < 0)
                return -1;
            if (pl->close_before) {
                struct mb_journal_entry *e = mb__jreq(req, MB_JOURNAL_RESPONSE);
                e->what = "closed";
                req->answered = true;
                mb__conn_close(req->conn, "a rule closes the connection before applying %s v%d "
                               "correlation id %" PRId32, req->api->name, req->version,
                               req->hdr.correlation_id);
                return -1;
            }
            if (pl->hold_before) {
                req->stage = MB__STAGE_HOLD_BEFORE;
                mb__fault_hold(req, pl->hold_before);
                return 0;
            }
        }
        req->stage = MB__STAGE_HOLD_BEFORE;
    }
    if (req->stage == MB__STAGE_HOLD_BEFORE) {
        req->stage = MB__STAGE_DELAY_BEFORE;
        if (pl && pl->delay_before_us > 0) {
            req->fault_timer = kw_timer_add(req->c->clock, pl->delay_before_us, delay_before_cb,
                                            req);
            if (req->fault_timer)
                return 0;
        }
    }
    return apply(req);
}
