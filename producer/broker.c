/* Brokers: one connection each, opened on demand and again after a backoff that doubles on
 * consecutive failures (reconnect.backoff.ms .. reconnect.backoff.max.ms, with jitter).
 * Each connection starts with ApiVersions; requests are then framed with the versions both sides
 * speak, pipelined, and matched to responses by correlation id. A response nobody waits for (a
 * broker answering acks=0, as librdkafka's mock does) is dropped. */
#include "producer/internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/errors.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"

/* librdkafka's receive.message.max.bytes default: a larger size prefix is a broken stream. */
#define MAX_RESPONSE 100000000u
#define SOFTWARE_NAME "kproducer"
#define SOFTWARE_VERSION "0.1.0"

static void set_name(struct kp__broker *b)
{
    if (b->id >= 0)
        snprintf(b->name, sizeof(b->name), "%s:%d/%d", b->host, b->port, b->id);
    else
        snprintf(b->name, sizeof(b->name), "%s:%d/bootstrap", b->host, b->port);
}

struct kp__broker *kp__broker_add(struct kp_producer *p, int32_t id, const char *host, int port)
{
    struct kp__broker *b = calloc(1, sizeof(*b));
    if (b == NULL || (b->host = strdup(host)) == NULL) {
        free(b);
        return NULL;
    }
    b->p = p;
    b->id = id;
    b->port = port;
    b->state = KP__B_DOWN;
    b->backoff_ms = p->conf.v.reconnect_backoff_ms;
    TAILQ_INIT(&b->inflight);
    TAILQ_INIT(&b->unwritten);
    memset(b->api_min, 0xff, sizeof(b->api_min));
    memset(b->api_max, 0xff, sizeof(b->api_max));
    set_name(b);
    TAILQ_INSERT_TAIL(&p->brokers, b, link);
    p->n_brokers++;
    return b;
}

struct kp__broker *kp__broker_find(struct kp_producer *p, int32_t id)
{
    struct kp__broker *b;
    TAILQ_FOREACH(b, &p->brokers, link)
        if (b->id == id)
            return b;
    return NULL;
}

void kp__broker_learn(struct kp_producer *p, int32_t id, const char *host, int port)
{
    struct kp__broker *b = kp__broker_find(p, id);
    if (b == NULL) {
        /* The bootstrap connection usually is this node: adopt it rather than open another. */
        TAILQ_FOREACH(b, &p->brokers, link)
            if (b->id == -1 && b->port == port && strcmp(b->host, host) == 0)
                break;
        if (b) {
            b->id = id;
            set_name(b);
            kp__dbg(p, KP__DBG_BROKER, "%s: bootstrap address is node %d", b->name, id);
        } else if ((b = kp__broker_add(p, id, host, port)) != NULL) {
            kp__dbg(p, KP__DBG_BROKER, "%s: new broker", b->name);
        }
        return;
    }
    if (b->port == port && strcmp(b->host, host) == 0)
        return;
    char *h = strdup(host);
    if (h == NULL)
        return;
    free(b->host);
    b->host = h;
    b->port = port;
    set_name(b);
    kp__broker_fail(b, KP_ERR__TRANSPORT, "the broker's address changed");
}

/* bootstrap.servers: "host:port,host:port", a "scheme://" prefix ignored (librdkafka accepts
 * PLAINTEXT://), IPv6 as "[addr]:port", port 9092 when none is given. */
int kp__brokers_bootstrap(struct kp_producer *p, char *errstr, size_t errstr_size)
{
    const char *s = p->conf.v.bootstrap;
    while (*s) {
        size_t n = strcspn(s, ", ");
        if (n == 0) {
            s++;
            continue;
        }
        char entry[512], *host = entry;
        if (n >= sizeof(entry)) {
            snprintf(errstr, errstr_size, "\"bootstrap.servers\" entry too long");
            return -1;
        }
        memcpy(entry, s, n);
        entry[n] = '\0';
        s += n;
        char *scheme = strstr(host, "://");
        if (scheme)
            host = scheme + 3;
        char *colon = NULL;
        if (host[0] == '[') {
            char *close = strchr(host, ']');
            if (close == NULL || (close[1] != '\0' && close[1] != ':'))
                goto bad;
            *close = '\0';
            colon = close[1] == ':' ? close + 1 : NULL;
            host++;
        } else {
            colon = strrchr(host, ':');
        }
        long port = 9092;
        if (colon) {
            char *end;
            *colon = '\0';
            port = strtol(colon + 1, &end, 10);
            if (end == colon + 1 || *end != '\0' || port <= 0 || port > 65535)
                goto bad;
        }
        if (host[0] == '\0')
            goto bad;
        if (kp__broker_add(p, -1, host, (int)port) == NULL) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        continue;
bad:
        snprintf(errstr, errstr_size, "Invalid \"bootstrap.servers\" entry \"%.*s\": expected "
                                      "host:port", (int)n, s - n);
        return -1;
    }
    if (p->n_brokers == 0) {
        snprintf(errstr, errstr_size, "\"bootstrap.servers\" lists no broker");
        return -1;
    }
    return 0;
}

bool kp__req_written(const struct kp__req *req)
{
    return req->end_pos <= req->b->out_written;
}

void kp__req_free(struct kp__req *req)
{
    if (req == NULL)
        return;
    kw_buf_release(&req->frame);
    free(req->batches);
    free(req);
}

static void out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);

static int64_t jitter(struct kp_producer *p, int64_t ms)
{
    /* 80% .. 120%, so brokers failing together do not reconnect together. */
    return ms * 1000 * (80 + (int64_t)(kp__rand(&p->loop_rng) % 41)) / 100;
}

static bool all_down(struct kp_producer *p)
{
    struct kp__broker *b;
    TAILQ_FOREACH(b, &p->brokers, link)
        if (b->state != KP__B_DOWN || b->fails == 0)
            return false;
    return true;
}

void kp__broker_fail(struct kp__broker *b, int err, const char *fmt, ...)
{
    struct kp_producer *p = b->p;
    if (b->state == KP__B_DOWN)
        return;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    int64_t now = kp__now(p);
    bool was_up = b->state == KP__B_UP;
    if (err == KP_ERR__DESTROY)
        kp__dbg(p, KP__DBG_BROKER, "%s: closing: %s", b->name, why);
    else
        kp__log(p, was_up || b->fails == 0 ? KP_LOG_WARNING : KP_LOG_DEBUG, KP__DBG_BROKER,
                "%s: %s: %s", b->name, kp_err2name(err), why);
    if (b->bev) {
        evbuffer_remove_cb(bufferevent_get_output(b->bev), out_cb, b);
        bufferevent_free(b->bev);
        b->bev = NULL;
    }
    b->conn_gen++;
    b->state = KP__B_DOWN;
    if (was_up) {
        b->fails = 0;
        b->backoff_ms = p->conf.v.reconnect_backoff_ms;
    }
    b->fails++;
    b->reconnect_at_us = now + jitter(p, b->backoff_ms);
    b->backoff_ms *= 2;
    if (b->backoff_ms > p->conf.v.reconnect_backoff_max_ms)
        b->backoff_ms = p->conf.v.reconnect_backoff_max_ms;
    memset(b->api_min, 0xff, sizeof(b->api_min));
    memset(b->api_max, 0xff, sizeof(b->api_max));

    /* Every request on the connection ends here; the written/unwritten distinction (it decides
     * whether a batch may be in the log) is taken before the counters are reset. */
    struct kp__req_list list;
    TAILQ_INIT(&list);
    TAILQ_CONCAT(&list, &b->inflight, link);
    TAILQ_CONCAT(&list, &b->unwritten, link);
    b->n_inflight = 0;
    struct kp__req *req;
    while ((req = TAILQ_FIRST(&list)) != NULL) {
        TAILQ_REMOVE(&list, req, link);
        int rerr = err;
        if (err == KP_ERR__TIMED_OUT && req->deadline_us > now)
            rerr = KP_ERR__TRANSPORT;
        req->cb(p, req, rerr, NULL);
        kp__req_free(req);
    }
    b->out_queued = b->out_written = 0;
    if (err != KP_ERR__DESTROY && all_down(p) && !p->all_down_reported) {
        p->all_down_reported = true;
        kp__error_event(p, KP_ERR__ALL_BROKERS_DOWN, "%d/%d brokers are down", p->n_brokers,
                        p->n_brokers);
    }
    if (was_up && err != KP_ERR__DESTROY)
        kp__metadata_refresh(p, "a broker connection was lost");
    p->resched = true;
}

/* --- reading ---------------------------------------------------------------------------------- */

/* Handles one response frame (size prefix removed). */
static void handle_frame(struct kp__broker *b, const uint8_t *data, size_t len)
{
    struct kp_producer *p = b->p;
    int32_t corrid = (int32_t)kw_be32(data);
    struct kp__req *req;
    TAILQ_FOREACH(req, &b->inflight, link)
        if (req->corrid == corrid)
            break;
    if (p->conf.trace_cb)
        p->conf.trace_cb(p, 1, b->id, data, len, req ? req->key : -1, req ? req->version : -1,
                         p->conf.opaque);
    if (req == NULL) {
        kp__dbg(p, KP__DBG_PROTOCOL, "%s: dropping a %zu-byte response with unknown "
                "correlation id %d", b->name, len, corrid);
        return;
    }
    TAILQ_REMOVE(&b->inflight, req, link);
    b->n_inflight--;
    struct kw_reader r;
    struct kw_resp_header h;
    kw_reader_init(&r, data, len);
    kw_resp_header_decode(&r, kw_resp_header_version(req->key, req->version), &h);
    kp__dbg(p, KP__DBG_PROTOCOL, "%s: received %s v%d response (corrid %d, %zu bytes, %.2f ms)",
            b->name, kw_api_name(req->key), req->version, corrid, len,
            (double)(kp__now(p) - req->sent_us) / 1000.0);
    if (r.err) {
        uint64_t gen = b->conn_gen;
        req->cb(p, req, KP_ERR__BAD_MSG, NULL);
        kp__req_free(req);
        if (gen == b->conn_gen)
            kp__broker_fail(b, KP_ERR__BAD_MSG, "response header does not parse");
        return;
    }
    req->cb(p, req, 0, &r);
    kp__req_free(req);
    kw_arena_reset(&p->arena);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct kp__broker *b = arg;
    struct kp_producer *p = b->p;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint64_t gen = b->conn_gen;
    size_t want = 4;
    for (;;) {
        size_t have = evbuffer_get_length(in);
        uint8_t hdr[4];
        if (have < 4)
            break;
        evbuffer_copyout(in, hdr, 4);
        uint32_t size = kw_be32(hdr);
        if (size < 4 || size > MAX_RESPONSE) {
            kp__broker_fail(b, KP_ERR__BAD_MSG, "response size %u is out of bounds", size);
            break;
        }
        if (have - 4 < size) {
            want = 4 + (size_t)size;
            break;
        }
        evbuffer_drain(in, 4);
        const uint8_t *frame = evbuffer_pullup(in, size);
        if (frame == NULL) {
            kp__broker_fail(b, KP_ERR__FAIL, "out of memory reading a response");
            break;
        }
        handle_frame(b, frame, size);
        if (gen != b->conn_gen)
            break;              /* the handler closed the connection: bev is gone */
        evbuffer_drain(in, size);
    }
    /* Sleep until the whole frame is here, not once per TCP segment. */
    if (gen == b->conn_gen)
        bufferevent_setwatermark(bev, EV_READ, want, 0);
    kp__schedule(p);
}

static void out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    struct kp__broker *b = arg;
    b->out_written += info->n_deleted;
    /* acks=0 requests are complete once written; finish them from the loop, not from inside
     * libevent's write path. */
    struct kp__req *req = TAILQ_FIRST(&b->unwritten);
    if (info->n_deleted && req && req->end_pos <= b->out_written)
        kp__wake(b->p);
}

/* --- ApiVersions ------------------------------------------------------------------------------ */

static void apiv_cb(struct kp_producer *p, struct kp__req *req, int err, struct kw_reader *r);

static void send_api_versions(struct kp__broker *b)
{
    struct kp_producer *p = b->p;
    struct kp__req *req = kp__req_new(b, KW_API_API_VERSIONS, b->apiv_version);
    if (req == NULL) {
        kp__broker_fail(b, KP_ERR__FAIL, "out of memory");
        return;
    }
    struct kw_api_versions_req m = { kw_str_c(SOFTWARE_NAME), kw_str_c(SOFTWARE_VERSION) };
    kw_api_versions_req_encode(&req->frame, b->apiv_version, &m);
    int64_t left = b->connect_started_us + (int64_t)p->conf.v.setup_timeout_ms * 1000 -
                   kp__now(p);
    kp__req_send(req, apiv_cb, left, false);
}

static void apiv_cb(struct kp_producer *p, struct kp__req *req, int err, struct kw_reader *r)
{
    struct kp__broker *b = req->b;
    if (err)
        return;                 /* the connection is going down and says why */
    /* A broker that does not speak our version answers at v0 with UNSUPPORTED_VERSION and its
     * own range (KIP-511); librdkafka's mock and older brokers do. Try again lower. */
    if (kw_reader_left(r) >= 2 && kw_be16(r->pos) == KW_EC_UNSUPPORTED_VERSION &&
        req->version > 0) {
        struct kw_api_versions_resp v0;
        struct kw_reader copy = *r;
        int next = 0;
        if (kw_api_versions_resp_decode(&copy, 0, &v0, &p->arena) == KW_OK)
            for (int32_t i = 0; i < v0.n_api_keys; i++)
                if (v0.api_keys[i].api_key == KW_API_API_VERSIONS)
                    next = v0.api_keys[i].max_version < req->version - 1
                               ? v0.api_keys[i].max_version : req->version - 1;
        if (next < 0)
            next = 0;
        kp__dbg(p, KP__DBG_PROTOCOL, "%s: ApiVersions v%d unsupported, retrying with v%d",
                b->name, req->version, next);
        b->apiv_version = next;
        send_api_versions(b);
        return;
    }
    struct kw_api_versions_resp m;
    if (kw_api_versions_resp_decode(r, req->version, &m, &p->arena) != KW_OK) {
        kp__broker_fail(b, KP_ERR__BAD_MSG, "ApiVersions v%d response does not parse: %s at %s",
                        req->version, kw_strerror(r->err), r->err_field ? r->err_field : "?");
        return;
    }
    if (m.error_code == KW_EC_INVALID_REQUEST && req->version > 0) {
        b->apiv_version = 0;
        send_api_versions(b);
        return;
    }
    if (m.error_code) {
        kp__broker_fail(b, m.error_code, "ApiVersions failed: %s", kw_error_name(m.error_code));
        return;
    }
    for (int32_t i = 0; i < m.n_api_keys; i++) {
        int key = m.api_keys[i].api_key;
        if (key >= 0 && key < KP__MAX_KEY) {
            b->api_min[key] = m.api_keys[i].min_version;
            b->api_max[key] = m.api_keys[i].max_version;
        }
    }
    b->state = KP__B_UP;
    b->fails = 0;
    b->backoff_ms = p->conf.v.reconnect_backoff_ms;
    p->all_down_reported = false;
    kp__dbg(p, KP__DBG_BROKER, "%s: up (ApiVersions v%d; Produce v%d, Metadata v%d, "
            "InitProducerId v%d)", b->name, req->version,
            kp__broker_version(b, KW_API_PRODUCE, 0), kp__broker_version(b, KW_API_METADATA, 0),
            kp__broker_version(b, KW_API_INIT_PRODUCER_ID, 0));
    if (kp__broker_version(b, KW_API_PRODUCE, 3) < 0)
        kp__log(p, KP_LOG_WARNING, KP__DBG_FEATURE, "%s: broker does not speak Produce v3+ "
                "(record batches): messages led by it will fail", b->name);
}

/* --- connecting ------------------------------------------------------------------------------- */

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct kp__broker *b = arg;
    struct kp_producer *p = b->p;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        b->state = KP__B_APIVERSION;
        kp__dbg(p, KP__DBG_BROKER, "%s: connected, sending ApiVersions v%d", b->name,
                b->apiv_version);
        send_api_versions(b);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        int e = EVUTIL_SOCKET_ERROR();
        const char *state = b->state == KP__B_CONNECTING ? "connect" :
                            b->state == KP__B_APIVERSION ? "ApiVersions" : "up";
        if (what & BEV_EVENT_EOF)
            kp__broker_fail(b, KP_ERR__TRANSPORT, "connection closed by the broker (state %s)",
                            state);
        else
            kp__broker_fail(b, KP_ERR__TRANSPORT, "%s (state %s)",
                            evutil_socket_error_to_string(e), state);
    }
    kp__schedule(p);
}

static void connect_broker(struct kp__broker *b, int64_t now)
{
    struct kp_producer *p = b->p;
    char port[16];
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", b->port);
    b->connect_started_us = now;
    b->state = KP__B_CONNECTING;
    b->apiv_version = kw_api_find(KW_API_API_VERSIONS)->max;
    /* Name resolution blocks the loop; bootstrap lists are usually addresses or local names. */
    int rc = getaddrinfo(b->host, port, &hints, &res);
    if (rc != 0) {
        kp__broker_fail(b, KP_ERR__RESOLVE, "cannot resolve %s: %s", b->host, gai_strerror(rc));
        return;
    }
    kp__dbg(p, KP__DBG_BROKER, "%s: connecting", b->name);
    b->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (b->bev == NULL) {
        freeaddrinfo(res);
        kp__broker_fail(b, KP_ERR__FAIL, "bufferevent_socket_new failed");
        return;
    }
    bufferevent_setcb(b->bev, read_cb, NULL, event_cb, b);
    bufferevent_setwatermark(b->bev, EV_READ, 4, 0);
    evbuffer_add_cb(bufferevent_get_output(b->bev), out_cb, b);
    bufferevent_enable(b->bev, EV_READ | EV_WRITE);
    /* A refused connection is reported later through event_cb; -1 here means no socket. */
    rc = bufferevent_socket_connect(b->bev, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0)
        kp__broker_fail(b, KP_ERR__TRANSPORT, "cannot create a socket");
}

void kp__broker_want(struct kp__broker *b, int64_t now_us, int64_t *next_us)
{
    if (b->state != KP__B_DOWN)
        return;
    if (b->reconnect_at_us > now_us) {
        if (b->reconnect_at_us < *next_us)
            *next_us = b->reconnect_at_us;
        return;
    }
    connect_broker(b, now_us);
}

struct kp__broker *kp__broker_any_up(struct kp_producer *p, int64_t now_us, int64_t *next_us)
{
    struct kp__broker *b;
    bool connecting = false;
    int64_t throttled = INT64_MAX;
    TAILQ_FOREACH(b, &p->brokers, link) {
        if (b->state == KP__B_UP && b->throttle_until_us <= now_us)
            return b;
        if (b->state == KP__B_UP && b->throttle_until_us < throttled)
            throttled = b->throttle_until_us;   /* muted by the broker (KIP-219): wait */
        if (b->state != KP__B_DOWN)
            connecting = true;
    }
    if (connecting) {
        if (throttled < *next_us)
            *next_us = throttled;
        return NULL;
    }
    /* Nobody is up or on the way: try the next broker whose backoff is over, in turn, so a
     * dead first entry of the bootstrap list does not hide the others. */
    int n = p->n_brokers, start = (int)(p->next_bootstrap % (unsigned)n), i = 0;
    TAILQ_FOREACH(b, &p->brokers, link) {
        if (i++ < start)
            continue;
        if (b->reconnect_at_us <= now_us)
            break;
    }
    if (b == NULL)
        TAILQ_FOREACH(b, &p->brokers, link)
            if (b->reconnect_at_us <= now_us)
                break;
    p->next_bootstrap++;
    if (b) {
        connect_broker(b, now_us);
        return NULL;
    }
    TAILQ_FOREACH(b, &p->brokers, link)
        if (b->reconnect_at_us < *next_us)
            *next_us = b->reconnect_at_us;
    return NULL;
}

int kp__broker_version(const struct kp__broker *b, int key, int min)
{
    const struct kw_api *a = kw_api_find(key);
    if (a == NULL || key >= KP__MAX_KEY || b->api_max[key] < 0)
        return -1;
    int hi = a->max < b->api_max[key] ? a->max : b->api_max[key];
    int lo = a->min > b->api_min[key] ? a->min : b->api_min[key];
    if (hi < lo || hi < min)
        return -1;
    return hi;
}

/* --- requests --------------------------------------------------------------------------------- */

struct kp__req *kp__req_new(struct kp__broker *b, int key, int version)
{
    struct kp__req *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->b = b;
    req->key = (int16_t)key;
    req->version = (int16_t)version;
    req->end_pos = UINT64_MAX;          /* not written until kp__req_send hands it over */
    /* Never negative: correlation ids keep counting across reconnects, as librdkafka's do. */
    b->corrid = b->corrid == INT32_MAX ? 1 : b->corrid + 1;
    req->corrid = b->corrid;
    kw_buf_init(&req->frame);
    req->size_at = kw_reserve_i32(&req->frame);
    struct kw_req_header h = { .api_key = (int16_t)key, .api_version = (int16_t)version,
                               .correlation_id = req->corrid,
                               .client_id = kw_str_c(b->p->conf.v.client_id) };
    kw_req_header_encode(&req->frame, kw_req_header_version(key, version), &h);
    return req;
}

static void free_data(const void *data, size_t len, void *extra)
{
    (void)len;
    (void)extra;
    free((void *)data);
}

int kp__req_send(struct kp__req *req, kp__resp_cb cb, int64_t timeout_us, bool no_response)
{
    struct kp__broker *b = req->b;
    struct kp_producer *p = b->p;
    req->cb = cb;
    req->no_response = no_response;
    kw_patch_i32(&req->frame, req->size_at, (int32_t)(req->frame.len - req->size_at - 4));
    int err = req->frame.err ? KP_ERR__FAIL : b->bev == NULL ? KP_ERR__TRANSPORT : 0;
    if (err) {
        kp__log(p, KP_LOG_ERR, KP__DBG_PROTOCOL, "%s: cannot send %s v%d: %s", b->name,
                kw_api_name(req->key), req->version,
                req->frame.err ? kw_strerror(req->frame.err) : "not connected");
        cb(p, req, err, NULL);
        kp__req_free(req);
        return err;
    }
    if (p->conf.trace_cb)
        p->conf.trace_cb(p, 0, b->id, req->frame.data + req->size_at + 4,
                         req->frame.len - req->size_at - 4, req->key, req->version,
                         p->conf.opaque);
    size_t len;
    uint8_t *data = kw_buf_take(&req->frame, &len);
    /* The frame's memory is handed over, not copied; libevent frees it once written. */
    if (evbuffer_add_reference(bufferevent_get_output(b->bev), data, len, free_data, NULL) != 0) {
        free(data);
        cb(p, req, KP_ERR__FAIL, NULL);
        kp__req_free(req);
        return KP_ERR__FAIL;
    }
    b->out_queued += len;
    req->end_pos = b->out_queued;
    req->sent_us = kp__now(p);
    req->deadline_us = req->sent_us + timeout_us;
    if (no_response) {
        TAILQ_INSERT_TAIL(&b->unwritten, req, link);
    } else {
        TAILQ_INSERT_TAIL(&b->inflight, req, link);
        b->n_inflight++;
    }
    kp__dbg(p, KP__DBG_PROTOCOL, "%s: sent %s v%d (corrid %d, %zu bytes)", b->name,
            kw_api_name(req->key), req->version, req->corrid, len);
    return 0;
}

void kp__broker_written(struct kp__broker *b)
{
    struct kp__req *req;
    while ((req = TAILQ_FIRST(&b->unwritten)) != NULL && req->end_pos <= b->out_written) {
        TAILQ_REMOVE(&b->unwritten, req, link);
        req->cb(b->p, req, 0, NULL);
        kp__req_free(req);
    }
}

void kp__broker_timeouts(struct kp__broker *b, int64_t now_us, int64_t *next_us)
{
    struct kp_producer *p = b->p;
    if (b->state == KP__B_CONNECTING || b->state == KP__B_APIVERSION) {
        int64_t dl = b->connect_started_us + (int64_t)p->conf.v.setup_timeout_ms * 1000;
        if (dl <= now_us) {
            kp__broker_fail(b, KP_ERR__TIMED_OUT, "connection setup timed out after %d ms "
                            "(socket.connection.setup.timeout.ms)", p->conf.v.setup_timeout_ms);
            return;
        }
        if (dl < *next_us)
            *next_us = dl;
    }
    struct kp__req *req;
    TAILQ_FOREACH(req, &b->inflight, link) {
        if (req->deadline_us <= now_us) {
            /* As librdkafka and the Java client do: a request without an answer in time means
             * the connection cannot be trusted; it is closed and everything on it retried. */
            kp__broker_fail(b, KP_ERR__TIMED_OUT, "%s v%d request (corrid %d) timed out after "
                            "%.0f ms", kw_api_name(req->key), req->version, req->corrid,
                            (double)(now_us - req->sent_us) / 1000.0);
            return;
        }
        if (req->deadline_us < *next_us)
            *next_us = req->deadline_us;
    }
}

void kp__brokers_destroy(struct kp_producer *p)
{
    struct kp__broker *b;
    while ((b = TAILQ_FIRST(&p->brokers)) != NULL) {
        kp__broker_fail(b, KP_ERR__DESTROY, "the producer is being destroyed");
        TAILQ_REMOVE(&p->brokers, b, link);
        free(b->host);
        free(b);
    }
    p->n_brokers = 0;
}
