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
#include <sys/socket.h>
#include <sys/uio.h>

/* Back-pressure: stop reading a connection while this much output waits for a slow reader;
 * resume below half. */
#define OUTPUT_HIGH (16u << 20)
/* Reads go into a per-connection buffer of this size, one recv() per readable event; frames
 * larger than what is left of it are read straight into their own allocation. */
#define RBUF_SIZE (64u << 10)
/* While a large frame is being read, at most this much of what follows it goes into rbuf. */
#define BIG_TAIL (4u << 10)
/* Frames up to this size get all their memory at once; larger ones double it as bytes come. */
#define GROW_FROM (1u << 20)

static void conn_readable(evutil_socket_t fd, short what, void *arg);
static int take_frames(struct mb__conn *conn);

/* A frame of len bytes with room for cap of them (cap <= len: the rest comes with growth). */
static struct mb__frame *frame_alloc(size_t len, size_t cap)
{
    struct mb__frame *f = malloc(sizeof(*f) + (cap ? cap : 1));
    if (f) {
        f->refs = 1;
        f->len = (uint32_t)len;
    }
    return f;
}

struct mb__frame *mb__frame_new(size_t len)
{
    return frame_alloc(len, len);
}

void mb__frame_unref(struct mb__frame *f)
{
    if (f && --f->refs == 0)
        free(f);
}

static struct mb_journal_entry *jresponse(struct mb__req *req, const char *what, int32_t bytes)
{
    struct mb_journal_entry *e = mb__jreq(req, MB_JOURNAL_RESPONSE);
    e->what = what;
    e->error_code = req->first_error;
    e->bytes = bytes;
    req->answered = true;
    return e;
}

void mb__req_free(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    if (!req->answered)
        jresponse(req, "dropped", -1);
    if (req->timer)
        kw_timer_cancel(c->clock, req->timer);
    if (req->fault_timer)
        kw_timer_cancel(c->clock, req->fault_timer);
    if (req->waiting)
        LIST_REMOVE(req, wait_link);
    mb__fault_unhold(req);
    mb__plan_release(req->plan);
    kw_arena_release(&req->arena);
    kw_buf_release(&req->out);
    mb__frame_unref(req->frame);
    free(req);
}

/* --- reading ---------------------------------------------------------------------------------- */

/* A connection takes a new request only when nothing earlier on it is unanswered, as Kafka
 * mutes a channel from a request's arrival until its response is sent. */
static void conn_free(struct mb__conn *conn);

static bool may_read(const struct mb__conn *conn)
{
    return !conn->closing && !conn->paused && !conn->backpressure &&
           conn->broker->state == MB_BROKER_UP && TAILQ_EMPTY(&conn->reqs);
}

static bool trickling(const struct mb__conn *conn)
{
    return conn->trickle_at < conn->trickle.len;
}

void mb__conn_update(struct mb__conn *conn)
{
    size_t queued = evbuffer_get_length(bufferevent_get_output(conn->bev));
    if (!conn->backpressure && queued > OUTPUT_HIGH) {
        conn->backpressure = true;
        mb__log(conn->c, MB_LOG_DEBUG, "conn %" PRIu64 " %s: reading paused (back-pressure)",
                conn->id, conn->peer);
    } else if (conn->backpressure && queued <= OUTPUT_HIGH / 2) {
        conn->backpressure = false;
    }
    /* The write callback fires at this much output: half way down while back-pressure holds,
     * else only once all is written (a split answer's next piece, a close after draining). */
    bool low = conn->backpressure && !conn->closing && !trickling(conn);
    if (low != conn->write_low) {
        bufferevent_setwatermark(conn->bev, EV_WRITE, low ? OUTPUT_HIGH / 2 : 0, 0);
        conn->write_low = low;
    }
    bool want = may_read(conn);
    if (want && !conn->reading) {
        event_add(conn->read_ev, NULL);
        conn->reading = true;
        /* Frames may already be buffered: they get no read event. */
        if (conn->rlen >= 4)
            event_active(conn->resume_ev, 0, 0);
    } else if (!want && conn->reading) {
        event_del(conn->read_ev);
        conn->reading = false;
    }
    /* Muted, the connection would not see its client leave: watch for the end without
     * reading (EPOLLRDHUP), so a long poll does not keep a dead connection for MaxWaitMs. */
    if (conn->closed_ev) {
        if (!conn->reading && !conn->watching_close && !conn->peer_gone &&
            !TAILQ_EMPTY(&conn->reqs)) {
            event_add(conn->closed_ev, NULL);
            conn->watching_close = true;
        } else if ((conn->reading || TAILQ_EMPTY(&conn->reqs)) && conn->watching_close) {
            event_del(conn->closed_ev);
            conn->watching_close = false;
        }
    }
}

/* Only long polls are let go at once: every other unanswered request (held, delayed, waiting
 * for replicas) keeps Kafka's behaviour of a muted channel, which notices nothing until it is
 * answered, and its rules and tests rely on that. */
static bool only_long_polls(const struct mb__conn *conn)
{
    const struct mb__req *req;
    TAILQ_FOREACH(req, &conn->reqs, link)
        if (!(req->waiting && req->api->key == KW_API_FETCH))
            return false;
    return true;
}

static void peer_closed_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mb__conn *conn = arg;
    event_del(conn->closed_ev);     /* level-triggered: stop it firing while we keep the conn */
    conn->watching_close = false;
    conn->peer_gone = true;
    if (only_long_polls(conn)) {
        mb__log(conn->c, MB_LOG_DEBUG, "broker %d conn %" PRIu64 " %s: closed by peer during a "
                "long poll", conn->broker->id, conn->id, conn->peer);
        conn_free(conn);
    }
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mb__conn *conn = arg;
    if (take_frames(conn) == 0)
        mb__conn_update(conn);
}

static void pause_end_cb(void *arg)
{
    struct mb__conn *conn = arg;
    conn->pause_timer = 0;
    conn->paused = false;
    mb__conn_update(conn);
}

void mb__conn_pause(struct mb__conn *conn, int64_t us)
{
    struct mb_cluster *c = conn->c;
    int64_t until = kw_now_us(c->clock) + us;
    if (conn->paused && until <= conn->paused_until_us)
        return;
    if (conn->pause_timer)
        kw_timer_cancel(c->clock, conn->pause_timer);
    conn->paused_until_us = until;
    conn->pause_timer = kw_timer_add(c->clock, us, pause_end_cb, conn);
    conn->paused = conn->pause_timer != 0;
    mb__conn_update(conn);
}

/* --- closing ---------------------------------------------------------------------------------- */

static void conn_free(struct mb__conn *conn)
{
    struct mb_cluster *c = conn->c;
    struct mb__req *req;
    while ((req = TAILQ_FIRST(&conn->reqs)) != NULL) {
        TAILQ_REMOVE(&conn->reqs, req, link);
        req->conn = NULL;
        /* A request being applied belongs to whoever applies it: it sees conn NULL, frees. */
        if (!req->pinned)
            mb__req_free(req);
    }
    LIST_REMOVE(conn, link);
    if (conn->pause_timer)
        kw_timer_cancel(c->clock, conn->pause_timer);
    if (conn->trickle_timer)
        kw_timer_cancel(c->clock, conn->trickle_timer);
    if (conn->doom_ev)
        event_free(conn->doom_ev);
    if (conn->resume_ev)
        event_free(conn->resume_ev);
    if (conn->read_ev)
        event_free(conn->read_ev);
    if (conn->closed_ev)
        event_free(conn->closed_ev);
    kw_buf_release(&conn->trickle);
    mb__frame_unref(conn->big);
    free(conn->rbuf);
    bufferevent_free(conn->bev);
    free(conn);
    mb__state_changed(c);           /* a waiter may be counting connections */
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

static void doomed_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mb__conn *conn = arg;
    mb__conn_close(conn, "%s", conn->doom_why);
}

void mb__conn_doom(struct mb__conn *conn, const char *why)
{
    if (conn->doom_ev == NULL)
        conn->doom_ev = event_new(conn->c->base, -1, 0, doomed_cb, conn);
    if (conn->doom_why[0] == '\0')
        snprintf(conn->doom_why, sizeof(conn->doom_why), "%s", why);
    if (conn->doom_ev)
        event_active(conn->doom_ev, 0, 0);
}

/* Writes nothing more and closes once what is queued has gone out. */
static void close_after_output(struct mb__conn *conn, const char *why)
{
    conn->closing = true;
    conn->lost = true;
    snprintf(conn->doom_why, sizeof(conn->doom_why), "%s", why);
    mb__conn_update(conn);
    if (!trickling(conn) && evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
        mb__conn_doom(conn, why);
}

/* --- writing ---------------------------------------------------------------------------------- */

static void trickle_step(struct mb__conn *conn);

static void trickle_timer_cb(void *arg)
{
    struct mb__conn *conn = arg;
    conn->trickle_timer = 0;
    trickle_step(conn);
}

/* Writes the next piece of a split answer (or, past the split part, all that follows it). */
static void trickle_step(struct mb__conn *conn)
{
    size_t end = conn->trickle_at < conn->split_end ? conn->split_end : conn->trickle.len;
    size_t n = end - conn->trickle_at;
    if (conn->trickle_at < conn->split_end && n > (size_t)conn->split_bytes)
        n = (size_t)conn->split_bytes;
    bufferevent_write(conn->bev, conn->trickle.data + conn->trickle_at, n);
    conn->trickle_at += n;
    if (!trickling(conn)) {
        kw_buf_reset(&conn->trickle);
        conn->trickle_at = conn->split_end = 0;
    }
}

static void write_out(struct mb__conn *conn, const uint8_t *data, size_t len, bool split,
                      int32_t split_bytes, int64_t interval_us)
{
    if (!split && !trickling(conn)) {
        /* With nothing queued the answer goes out at once: through the bufferevent it would
         * cost a copy, two epoll changes and a later write callback. What the socket does not
         * take (or an error, which the bufferevent then meets and reports) queues as before. */
        if (len > 0 && evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0) {
            ssize_t n = send(bufferevent_getfd(conn->bev), data, len,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                data += n;
                len -= (size_t)n;
            }
        }
        if (len > 0)
            bufferevent_write(conn->bev, data, len);
        return;
    }
    /* Everything after a split answer queues behind it, so answers stay in order. */
    kw_put_raw(&conn->trickle, data, len);
    if (split) {
        conn->split_end = conn->trickle.len;
        conn->split_bytes = split_bytes;
        conn->split_interval_us = interval_us;
    }
    if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0 && !conn->trickle_timer)
        trickle_step(conn);
    mb__conn_update(conn);
}

/* Sends (or withholds, or mangles) one finished answer as its plan says, and journals it. */
static void emit(struct mb__conn *conn, struct mb__req *req)
{
    struct mb_cluster *c = conn->c;
    const struct mb__plan *pl = req->plan;
    if (req->silent) {
        jresponse(req, "none", -1);
        /* Nothing to carry ThrottleTimeMs (acks=0): the mute alone throttles, as in Kafka. */
        if (pl && pl->throttle_us)
            mb__conn_pause(conn, pl->throttle_us);
        return;
    }
    if (conn->lost) {
        jresponse(req, "lost", (int32_t)req->out.len);
        return;
    }
    if (pl && pl->close_after) {
        jresponse(req, "closed", -1);
        close_after_output(conn, "a rule closes the connection after applying");
        return;
    }
    if (pl && pl->lose) {
        jresponse(req, "lost", (int32_t)req->out.len);
        conn->lost = true;
        mb__log(c, MB_LOG_INFO, "conn %" PRIu64 ": responses from correlation id %" PRId32
                " on are withheld", conn->id, req->hdr.correlation_id);
        return;
    }
    const char *what = "sent";
    size_t len = req->out.len;
    if (pl && pl->corrupt && len > 0) {
        size_t at = (size_t)pl->corrupt_at;
        if (pl->corrupt_at < 0) {
            /* After the size prefix and the correlation id when there is room: a client then
             * reads the answer to the right request, wrongly. */
            uint64_t z = (c->fault_rng += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z ^= z >> 31;
            at = len > 8 ? 8 + (size_t)(z % (len - 8)) : (size_t)(z % len);
        }
        if (at < len)
            req->out.data[at] ^= 0xff;
        what = "corrupted";
    }
    bool truncated = pl && pl->truncate_at >= 0 && (size_t)pl->truncate_at < len;
    if (truncated) {
        len = (size_t)pl->truncate_at;
        what = "truncated";
    }
    bool split = pl && pl->split_bytes > 0;
    if (split)
        what = "split";
    jresponse(req, what, (int32_t)len);
    write_out(conn, req->out.data, len, split, split ? pl->split_bytes : 0,
              split ? pl->split_interval_us : 0);
    if (truncated)
        close_after_output(conn, "a rule truncated a response");
    else if (pl && pl->throttle_us && mb__throttle_first(req->api->key, req->version))
        mb__conn_pause(conn, pl->throttle_us);
}

void mb__conn_flush(struct mb__conn *conn)
{
    struct mb__req *req;
    if (conn->broker->state == MB_BROKER_BLACKHOLE)
        return;
    while (!conn->closing && (req = TAILQ_FIRST(&conn->reqs)) != NULL && req->done &&
           !req->pinned) {
        TAILQ_REMOVE(&conn->reqs, req, link);
        conn->n_reqs--;
        emit(conn, req);
        if (req->plan && req->plan->side_response)
            mb__fault_after_response(req);
        req->conn = NULL;
        mb__req_free(req);
    }
    mb__conn_update(conn);
}

static void delay_after_cb(void *arg)
{
    struct mb__req *req = arg;
    req->fault_timer = 0;
    mb__req_ready(req);
}

void mb__req_ready(struct mb__req *req)
{
    struct mb__plan *pl = req->plan;
    if (req->stage < MB__STAGE_HOLD_AFTER) {
        req->stage = MB__STAGE_HOLD_AFTER;
        if (pl && pl->hold_after) {
            mb__fault_hold(req, pl->hold_after);
            return;
        }
    }
    if (req->stage == MB__STAGE_HOLD_AFTER) {
        req->stage = MB__STAGE_DELAY_AFTER;
        int64_t us = 0;
        if (pl) {
            us = pl->delay_after_us;
            if (pl->throttle_us && !mb__throttle_first(req->api->key, req->version))
                us += pl->throttle_us;
        }
        if (us > 0) {
            req->fault_timer = kw_timer_add(req->c->clock, us, delay_after_cb, req);
            if (req->fault_timer)
                return;
        }
    }
    req->stage = MB__STAGE_READY;
    req->done = true;
    if (req->conn && !req->pinned)
        mb__conn_flush(req->conn);
}

void mb__respond_none(struct mb__req *req)
{
    req->silent = true;
    mb__req_ready(req);
}

void mb__respond(struct mb__req *req, const void *resp)
{
    struct kw_resp_header h = { .correlation_id = req->hdr.correlation_id };
    int key = req->api->key;
    if (req->plan)
        resp = mb__fault_stamp(req, resp);
    else if (key != KW_API_PRODUCE)
        req->first_error = mb__first_error(req, resp);
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
            mb__conn_doom(req->conn, "a response could not be encoded (see above)");
    }
    mb__req_ready(req);
}

/* Hands every complete frame in the read buffer to dispatch while the connection may take
 * them. Returns -1 if the connection is gone (then it touches nothing), else 0. */
static int take_frames(struct mb__conn *conn)
{
    size_t at = 0;
    while (may_read(conn) && conn->rlen - at >= 4) {
        int32_t size = (int32_t)kw_be32(conn->rbuf + at);
        /* Judge the size before waiting for the body: a bad prefix must not make us buffer
         * gigabytes. 8 bytes is the smallest header (key, version, correlation id). */
        if (size < 8 || (size_t)size > conn->c->cfg.max_request_size) {
            mb__conn_close(conn, "frame size %" PRId32 " out of bounds (8..%zu)", size,
                           conn->c->cfg.max_request_size);
            return -1;
        }
        size_t have = conn->rlen - at - 4;
        /* A frame that has not arrived yet gets memory as its bytes come, past the first
         * GROW_FROM: a peer that announces 100 MiB and sends ten bytes holds no more. */
        size_t cap = have < (size_t)size && (size_t)size > GROW_FROM
                   ? (have > GROW_FROM ? have : GROW_FROM) : (size_t)size;
        struct mb__frame *f = frame_alloc((size_t)size, cap);
        if (f == NULL) {
            mb__conn_close(conn, "out of memory for a %" PRId32 "-byte frame", size);
            return -1;
        }
        if (have < (size_t)size) {
            /* The rest of this frame is read straight into it (conn->big). */
            memcpy(f->data, conn->rbuf + at + 4, have);
            conn->big = f;
            conn->big_got = have;
            conn->big_cap = cap;
            conn->rlen = 0;
            return 0;
        }
        memcpy(f->data, conn->rbuf + at + 4, (size_t)size);
        at += 4 + (size_t)size;
        /* mb__dispatch takes the frame; on a negative return the connection is gone. */
        if (mb__dispatch(conn, f) < 0)
            return -1;
        mb__conn_update(conn);
    }
    memmove(conn->rbuf, conn->rbuf + at, conn->rlen - at);
    conn->rlen -= at;
    return 0;
}

static void conn_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct mb__conn *conn = arg;
    ssize_t n;
    if (!conn->reading)
        return;                 /* stopped within this loop iteration */
    if (conn->big) {
        /* The rest of the frame goes straight into it, and what follows into rbuf, in one
         * call. Only a little of what follows: each byte read into rbuf is copied again into
         * its own frame, while the next frame's size, once known, lets it be read in place. */
        struct mb__frame *f = conn->big;
        if (conn->big_got == conn->big_cap) {
            size_t cap = conn->big_cap * 2 < f->len ? conn->big_cap * 2 : f->len;
            struct mb__frame *g = realloc(f, sizeof(*f) + cap);
            if (g == NULL) {
                mb__conn_close(conn, "out of memory for a %" PRIu32 "-byte frame", f->len);
                return;
            }
            conn->big = f = g;
            conn->big_cap = cap;
        }
        size_t tail = RBUF_SIZE - conn->rlen;
        struct iovec iov[2] = {
            { f->data + conn->big_got, conn->big_cap - conn->big_got },
            { conn->rbuf + conn->rlen, tail < BIG_TAIL ? tail : BIG_TAIL },
        };
        /* What follows the frame may be read only once the frame's whole rest has room. */
        n = readv(fd, iov, conn->big_cap == f->len ? 2 : 1);
        if (n > 0) {
            size_t into = iov[0].iov_len < (size_t)n ? iov[0].iov_len : (size_t)n;
            conn->big_got += into;
            conn->rlen += (size_t)n - into;
            if (conn->big_got < f->len)
                return;
            conn->big = NULL;
            if (mb__dispatch(conn, f) < 0)
                return;
            mb__conn_update(conn);
            if (conn->rlen && take_frames(conn) == 0)
                mb__conn_update(conn);
            return;
        }
    } else {
        n = recv(fd, conn->rbuf + conn->rlen, RBUF_SIZE - conn->rlen, 0);
        if (n > 0) {
            conn->rlen += (size_t)n;
            if (take_frames(conn) == 0)
                mb__conn_update(conn);
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
    struct mb__conn *conn = arg;
    bool drained = evbuffer_get_length(bufferevent_get_output(bev)) == 0;
    if (drained && trickling(conn)) {
        if (conn->trickle_at < conn->split_end && conn->split_interval_us > 0) {
            if (!conn->trickle_timer)
                conn->trickle_timer = kw_timer_add(conn->c->clock, conn->split_interval_us,
                                                   trickle_timer_cb, conn);
        } else {
            trickle_step(conn);
        }
        return;
    }
    if (drained && conn->closing) {
        mb__conn_close(conn, "%s", conn->doom_why);
        return;
    }
    mb__conn_update(conn);
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
    if (event_base_get_features(c->base) & EV_FEATURE_EARLY_CLOSE)
        conn->closed_ev = event_new(c->base, fd, EV_CLOSED | EV_PERSIST, peer_closed_cb, conn);
    conn->resume_ev = event_new(c->base, -1, 0, resume_cb, conn);
    kw_buf_init(&conn->trickle);
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
    if (conn->rbuf == NULL || conn->read_ev == NULL || conn->resume_ev == NULL) {
        mb__conn_close(conn, "out of memory accepting a connection");
        return;
    }
    /* Our own read event: the bufferevent only writes. Reading through it costs a 4 KiB
     * read and a size query per call; a frame then takes one recv() and one copy. */
    bufferevent_setcb(bev, NULL, conn_write_cb, conn_event_cb, conn);
    bufferevent_enable(bev, EV_WRITE);
    mb__conn_update(conn);      /* reads, unless the broker is a blackhole */
    mb__log(c, MB_LOG_DEBUG, "broker %d conn %" PRIu64 ": accepted %s", b->id, conn->id,
            conn->peer);
    mb__state_changed(c);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    (void)l;
    struct mb__broker *b = arg;
    mb__log(b->c, MB_LOG_WARN, "broker %d: accept failed: %s", b->id, strerror(errno));
}

int mb__broker_listen(struct mb__broker *b, char *errstr, size_t errstr_size)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)b->port);
    b->listener = evconnlistener_new_bind(b->c->base, accept_cb, b,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                          (struct sockaddr *)&sin, sizeof(sin));
    if (b->listener == NULL) {
        snprintf(errstr, errstr_size, "broker %d: cannot listen on 127.0.0.1:%d: %s", b->id,
                 b->port, strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(b->listener, accept_error_cb);
    struct sockaddr_in bound;
    socklen_t blen = sizeof(bound);
    getsockname(evconnlistener_get_fd(b->listener), (struct sockaddr *)&bound, &blen);
    b->port = ntohs(bound.sin_port);
    return 0;
}

void mb__broker_unlisten(struct mb__broker *b, const char *why)
{
    struct mb__conn *conn;
    if (b->listener)
        evconnlistener_free(b->listener);
    b->listener = NULL;
    while ((conn = LIST_FIRST(&b->conns)) != NULL)
        mb__conn_close(conn, "%s", why);
}

int mb__brokers_start(struct mb_cluster *c, char *errstr, size_t errstr_size)
{
    c->brokers = calloc((size_t)c->cfg.brokers, sizeof(*c->brokers));
    c->follow = calloc((size_t)c->cfg.brokers, sizeof(*c->follow));
    c->bootstrap = calloc((size_t)c->cfg.brokers, 24);
    if (c->brokers == NULL || c->follow == NULL || c->bootstrap == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    c->n_brokers = c->cfg.brokers;
    c->controller = 1;
    for (int i = 0; i < c->n_brokers; i++) {
        struct mb__broker *b = &c->brokers[i];
        b->c = c;
        b->id = i + 1;
        b->port = c->cfg.port ? c->cfg.port + i : 0;
        b->state = MB_BROKER_UP;
        LIST_INIT(&b->conns);
        if (mb__broker_listen(b, errstr, errstr_size) != 0)
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
    }
}
