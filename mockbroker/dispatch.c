/* Decode a request frame, check key and version, count it, hand it to its handler.
 * What Kafka does with bad input (WIRE.md §11): an unknown key, an unsupported version (except
 * ApiVersions) or a body that does not parse closes the connection without a response. */
#include "mockbroker/internal.h"

#include <inttypes.h>
#include <stdlib.h>

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
};

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
    req->frame = frame;
    req->seq = ++c->next_req_seq;
    req->arrived_us = kw_now_us(c->clock);
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
    mb__log(c, MB_LOG_DEBUG, "broker %d conn %" PRIu64 ": %s v%d correlation id %" PRId32,
            conn->broker->id, conn->id, req->api->name, version, req->hdr.correlation_id);
    if (handlers[key](req) < 0)
        return -1;              /* the handler closed the connection and said why */
    mb__state_changed(c);
    return 0;
drop:
    req->conn = NULL;
    mb__req_free(req);
    return -1;
}
