/* Brokers' listeners and connections: size-prefixed frames in, responses out in request order. */
#include "mockbroker/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Back-pressure: stop reading a connection while this much output waits for a slow reader, or
 * while this many requests wait for their responses; resume below half. */
#define OUTPUT_HIGH (16u << 20)
#define PENDING_HIGH 1024
/* Reads go into a per-connection buffer of this size, one recv() per readable event; frames
 * larger than what is left of it are read straight into their own allocation. */
#define RBUF_SIZE (64u << 10)

static void conn_readable(evutil_socket_t fd, short what, void *arg);
static void parse_frames(struct mb__conn *conn);

struct mb__frame *mb__frame_new(size_t len)
{
    struct mb__frame *f = malloc(sizeof(*f) + (len ? len : 1));
    if (f) {
        f->refs = 1;
        f->len = (uint32_t)len;
    }
    return f;
}

void mb__frame_unref(struct mb__frame *f)
{
    if (f && --f->refs == 0)
        free(f);
}

void mb__req_free(struct mb__req *req)
{
    if (req->timer)
        kw_timer_cancel(req->c->clock, req->timer);
    if (req->waiting)
        LIST_REMOVE(req, wait_link);
    kw_arena_release(&req->arena);
    kw_buf_release(&req->out);
    mb__frame_unref(req->frame);
    free(req);
}

static void update_reading(struct mb__conn *conn)
{
    size_t queued = evbuffer_get_length(bufferevent_get_output(conn->bev));
    bool busy = queued > OUTPUT_HIGH || conn->n_reqs > PENDING_HIGH;
    bool idle = queued <= OUTPUT_HIGH / 2 && conn->n_reqs <= PENDING_HIGH / 2;
    if (busy && !conn->reading_paused) {
        event_del(conn->read_ev);
        /* The write callback then fires when the output drains to half, not only at empty. */
        bufferevent_setwatermark(conn->bev, EV_WRITE, OUTPUT_HIGH / 2, 0);
        conn->reading_paused = true;
        mb__log(conn->c, MB_LOG_DEBUG, "conn %" PRIu64 " %s: reading paused (back-pressure)",
                conn->id, conn->peer);
    } else if (idle && conn->reading_paused) {
        event_add(conn->read_ev, NULL);
        bufferevent_setwatermark(conn->bev, EV_WRITE, 0, 0);
        conn->reading_paused = false;
        /* Frames may already be buffered: they got no read event while we were paused. */
        parse_frames(conn);
    }
}

/* Writes every finished response at the head of the queue, in order. */
static void flush(struct mb__conn *conn)
{
    struct evbuffer *out = bufferevent_get_output(conn->bev);
    struct mb__req *req;
    while ((req = TAILQ_FIRST(&conn->reqs)) != NULL && req->done) {
        TAILQ_REMOVE(&conn->reqs, req, link);
        conn->n_reqs--;
        if (!req->silent && req->out.len)
            evbuffer_add(out, req->out.data, req->out.len);
        req->conn = NULL;
        mb__req_free(req);
    }
}

static void doomed_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mb__conn_close(arg, "a response could not be encoded (see above)");
}

/* Closes the connection from the loop, once the caller has unwound: a handler may still be
 * using it when it finds out. */
static void doom(struct mb__conn *conn)
{
    if (conn->doom_ev == NULL)
        conn->doom_ev = event_new(conn->c->base, -1, 0, doomed_cb, conn);
    if (conn->doom_ev)
        event_active(conn->doom_ev, 0, 0);
}

void mb__respond_none(struct mb__req *req)
{
    req->done = true;
    req->silent = true;
    if (req->conn)
        flush(req->conn);
}

void mb__respond(struct mb__req *req, const void *resp)
{
    struct kw_resp_header h = { .correlation_id = req->hdr.correlation_id };
    int key = req->api->key;
    int hv = kw_resp_header_version(key, req->version);
    bool flexible = kw_api_flexible(key, req->version);
    kw_buf_reset(&req->out);
    size_t at = kw_reserve_i32(&req->out);
    kw_resp_header_encode(&req->out, hv, &h);
    kw_schema_encode(&req->out, req->api->resp, req->version, flexible, resp);
    kw_patch_i32(&req->out, at, (int32_t)(req->out.len - 4));
    if (req->out.err) {
        /* Our own response failed to encode: a bug here, not the peer's; say so loudly and
         * close, as a broker whose handler threw would. */
        mb__log(req->c, MB_LOG_ERROR,
                "%s v%d response for correlation id %" PRId32 " failed to encode: %s",
                req->api->name, req->version, req->hdr.correlation_id,
                kw_strerror(req->out.err));
        req->out.len = 0;
        req->silent = true;
        if (req->conn)
            doom(req->conn);
    }
    req->done = true;
    if (req->conn)
        flush(req->conn);
}

static void conn_free(struct mb__conn *conn)
{
    struct mb__req *req;
    while ((req = TAILQ_FIRST(&conn->reqs)) != NULL) {
        TAILQ_REMOVE(&conn->reqs, req, link);
        req->conn = NULL;
        mb__req_free(req);
    }
    LIST_REMOVE(conn, link);
    if (conn->doom_ev)
        event_free(conn->doom_ev);
    if (conn->read_ev)
        event_free(conn->read_ev);
    mb__frame_unref(conn->big);
    free(conn->rbuf);
    bufferevent_free(conn->bev);
    free(conn);
}

void mb__conn_close(struct mb__conn *conn, const char *why, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, why);
    vsnprintf(reason, sizeof(reason), why, ap);
    va_end(ap);
    mb__log(conn->c, MB_LOG_WARN, "broker %d conn %" PRIu64 " %s: closing: %s", conn->broker->id,
            conn->id, conn->peer, reason);
    conn_free(conn);
}

/* Hands every complete frame in the read buffer to dispatch. Returns with the connection
 * freed only through mb__conn_close paths, after which it touches nothing (callers check
 * the return of this function's callers, not conn). Returns -1 if the connection is gone. */
static int take_frames(struct mb__conn *conn)
{
    size_t at = 0;
    while (!conn->reading_paused && conn->rlen - at >= 4) {
        int32_t size = (int32_t)kw_be32(conn->rbuf + at);
        /* Judge the size before waiting for the body: a bad prefix must not make us buffer
         * gigabytes. 8 bytes is the smallest header (key, version, correlation id). */
        if (size < 8 || (size_t)size > conn->c->cfg.max_request_size) {
            mb__conn_close(conn, "frame size %" PRId32 " out of bounds (8..%zu)", size,
                           conn->c->cfg.max_request_size);
            return -1;
        }
        struct mb__frame *f = mb__frame_new((size_t)size);
        if (f == NULL) {
            mb__conn_close(conn, "out of memory for a %" PRId32 "-byte frame", size);
            return -1;
        }
        size_t have = conn->rlen - at - 4;
        if (have < (size_t)size) {
            /* The rest of this frame is read straight into it (conn->big). */
            memcpy(f->data, conn->rbuf + at + 4, have);
            conn->big = f;
            conn->big_got = have;
            conn->rlen = 0;
            return 0;
        }
        memcpy(f->data, conn->rbuf + at + 4, (size_t)size);
        at += 4 + (size_t)size;
        /* mb__dispatch takes the frame; on a negative return it has closed the connection. */
        if (mb__dispatch(conn, f) < 0)
            return -1;
        update_reading(conn);
    }
    memmove(conn->rbuf, conn->rbuf + at, conn->rlen - at);
    conn->rlen -= at;
    return 0;
}

static void parse_frames(struct mb__conn *conn)
{
    take_frames(conn);
}

static void conn_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct mb__conn *conn = arg;
    ssize_t n;
    if (conn->big) {
        struct mb__frame *f = conn->big;
        n = recv(fd, f->data + conn->big_got, f->len - conn->big_got, 0);
        if (n > 0) {
            conn->big_got += (size_t)n;
            if (conn->big_got < f->len)
                return;
            conn->big = NULL;
            if (mb__dispatch(conn, f) < 0)
                return;
            update_reading(conn);
            return;
        }
    } else {
        n = recv(fd, conn->rbuf + conn->rlen, RBUF_SIZE - conn->rlen, 0);
        if (n > 0) {
            conn->rlen += (size_t)n;
            take_frames(conn);
            return;
        }
    }
    if (n == 0) {
        if (conn->big || conn->rlen)
            mb__conn_close(conn, "peer closed in the middle of a frame");
        else {
            mb__log(conn->c, MB_LOG_DEBUG, "broker %d conn %" PRIu64 " %s: closed by peer",
                    conn->broker->id, conn->id, conn->peer);
            conn_free(conn);
        }
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        mb__conn_close(conn, "read failed: %s", strerror(errno));
    }
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct mb__conn *conn = arg;
    if (conn->reading_paused)
        update_reading(conn);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct mb__conn *conn = arg;
    if (what & BEV_EVENT_EOF) {
        mb__log(conn->c, MB_LOG_DEBUG, "broker %d conn %" PRIu64 " %s: closed by peer",
                conn->broker->id, conn->id, conn->peer);
        conn_free(conn);
    } else if (what & BEV_EVENT_ERROR) {
        mb__conn_close(conn, "socket error: %s", strerror(errno));
    }
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)len;
    struct mb__broker *b = arg;
    struct mb_cluster *c = b->c;
    struct mb__conn *conn = calloc(1, sizeof(*conn));
    struct bufferevent *bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (conn == NULL || bev == NULL) {
        free(conn);
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        mb__log(c, MB_LOG_ERROR, "broker %d: out of memory accepting a connection", b->id);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conn->c = c;
    conn->broker = b;
    conn->id = ++c->next_conn_id;
    conn->bev = bev;
    conn->rbuf = malloc(RBUF_SIZE);
    conn->read_ev = event_new(c->base, fd, EV_READ | EV_PERSIST, conn_readable, conn);
    TAILQ_INIT(&conn->reqs);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(conn->peer, sizeof(conn->peer), "%s:%u", ip, ntohs(sin->sin_port));
    } else {
        snprintf(conn->peer, sizeof(conn->peer), "peer");
    }
    LIST_INSERT_HEAD(&b->conns, conn, link);
    if (conn->rbuf == NULL || conn->read_ev == NULL) {
        mb__conn_close(conn, "out of memory accepting a connection");
        return;
    }
    /* Our own read event: the bufferevent only writes. Reading through it costs a 4 KiB
     * read and a size query per call; a frame then takes one recv() and one copy. */
    bufferevent_setcb(bev, NULL, conn_write_cb, conn_event_cb, conn);
    bufferevent_enable(bev, EV_WRITE);
    event_add(conn->read_ev, NULL);
    mb__log(c, MB_LOG_DEBUG, "broker %d conn %" PRIu64 ": accepted %s", b->id, conn->id,
            conn->peer);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    (void)l;
    struct mb__broker *b = arg;
    mb__log(b->c, MB_LOG_WARN, "broker %d: accept failed: %s", b->id, strerror(errno));
}

static int listen_broker(struct mb__broker *b, int port, char *errstr, size_t errstr_size)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port);
    b->listener = evconnlistener_new_bind(b->c->base, accept_cb, b,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                          (struct sockaddr *)&sin, sizeof(sin));
    if (b->listener == NULL) {
        snprintf(errstr, errstr_size, "broker %d: cannot listen on 127.0.0.1:%d: %s", b->id, port,
                 strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(b->listener, accept_error_cb);
    struct sockaddr_in bound;
    socklen_t blen = sizeof(bound);
    getsockname(evconnlistener_get_fd(b->listener), (struct sockaddr *)&bound, &blen);
    b->port = ntohs(bound.sin_port);
    b->up = true;
    return 0;
}

int mb__brokers_start(struct mb_cluster *c, char *errstr, size_t errstr_size)
{
    c->brokers = calloc((size_t)c->cfg.brokers, sizeof(*c->brokers));
    c->bootstrap = calloc((size_t)c->cfg.brokers, 24);
    if (c->brokers == NULL || c->bootstrap == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    c->n_brokers = c->cfg.brokers;
    c->controller = 1;
    for (int i = 0; i < c->n_brokers; i++) {
        struct mb__broker *b = &c->brokers[i];
        b->c = c;
        b->id = i + 1;
        LIST_INIT(&b->conns);
        if (listen_broker(b, c->cfg.port ? c->cfg.port + i : 0, errstr, errstr_size) != 0)
            return -1;
        char *end = c->bootstrap + strlen(c->bootstrap);
        sprintf(end, "%s127.0.0.1:%d", i ? "," : "", b->port);
    }
    return 0;
}

void mb__brokers_stop(struct mb_cluster *c)
{
    for (int i = 0; i < c->n_brokers; i++) {
        struct mb__broker *b = &c->brokers[i];
        struct mb__conn *conn;
        while ((conn = LIST_FIRST(&b->conns)) != NULL)
            conn_free(conn);
        if (b->listener)
            evconnlistener_free(b->listener);
        b->listener = NULL;
        b->up = false;
    }
}
