/* The fault-injecting proxy of unit_producer_proxy.h. Responses go back to the client in request
 * order, whether they come from the broker or are made up here, as a broker would send them. */
#include "tests/unit_producer_proxy.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/kw.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/init_producer_id.h"
#include "lib/proto/metadata.h"
#include "lib/proto/produce.h"
#include "mockbroker/mockbroker.h"

#define PX_MAX_BROKERS 8
#define PX_MAX_RULES 16

struct px_pending {
    TAILQ_ENTRY(px_pending) link;
    int32_t corrid;
    int16_t key, version;
    int action;
    bool ready, drop, held;
    struct kw_buf resp;         /* size prefix included */
};
TAILQ_HEAD(px_pending_list, px_pending);

struct px_conn {
    struct px *x;
    int broker;
    struct bufferevent *cli, *srv;
    struct px_pending_list pending;
    int stuck;                  /* requests that will never be answered, or held */
    LIST_ENTRY(px_conn) link;
};

struct px_rule {
    int key, nth, count, action;
    int16_t error;
};

struct px {
    struct event_base *base;
    struct mb_cluster *c;
    int n;
    struct evconnlistener *lis[PX_MAX_BROKERS];
    int port[PX_MAX_BROKERS];
    bool down[PX_MAX_BROKERS];
    char bootstrap[256];
    struct px_rule rules[PX_MAX_RULES];
    int n_rules;
    int seen[64];
    int seen_all;
    int version_seen[64];       /* highest version of each key, -1 if none */
    int cap[64];                /* highest version to advertise, -2 = as the broker says */
    LIST_HEAD(, px_conn) conns;
};

static void conn_free(struct px_conn *pc)
{
    struct px_pending *e;
    while ((e = TAILQ_FIRST(&pc->pending)) != NULL) {
        TAILQ_REMOVE(&pc->pending, e, link);
        kw_buf_release(&e->resp);
        free(e);
    }
    if (pc->cli)
        bufferevent_free(pc->cli);
    if (pc->srv)
        bufferevent_free(pc->srv);
    LIST_REMOVE(pc, link);
    free(pc);
}

static int action_for(struct px *x, int key, int version, int16_t *error)
{
    if (version > x->version_seen[key & 63])
        x->version_seen[key & 63] = version;
    int n = ++x->seen[key & 63];
    x->seen_all++;
    for (int i = 0; i < x->n_rules; i++) {
        struct px_rule *r = &x->rules[i];
        if (r->key == key && n >= r->nth && (r->count == 0 || n < r->nth + r->count)) {
            *error = r->error;
            return r->action;
        }
    }
    return PX_PASS;
}

/* Writes what is ready at the head of the queue to the client, in request order. */
static void flush(struct px_conn *pc)
{
    struct px_pending *e;
    while ((e = TAILQ_FIRST(&pc->pending)) != NULL && e->ready && !e->held) {
        TAILQ_REMOVE(&pc->pending, e, link);
        if (!e->drop)
            bufferevent_write(pc->cli, e->resp.data, e->resp.len);
        kw_buf_release(&e->resp);
        free(e);
    }
}

/* A made-up error response for a request we did not forward. */
static int synthesize(struct px_pending *e, const uint8_t *body, size_t len, int16_t error)
{
    struct kw_arena a;
    struct kw_reader r;
    kw_arena_init(&a);
    kw_reader_init(&r, body, len);
    kw_buf_init(&e->resp);
    size_t at = kw_reserve_i32(&e->resp);
    struct kw_resp_header h = { .correlation_id = e->corrid };
    kw_resp_header_encode(&e->resp, kw_resp_header_version(e->key, e->version), &h);
    int rc = -1;
    if (e->key == KW_API_PRODUCE) {
        struct kw_produce_req req;
        if (kw_produce_req_decode(&r, e->version, &req, &a) == KW_OK) {
            struct kw_produce_resp resp = { .n_responses = req.n_topic_data };
            resp.responses = kw_arena_alloc(&a, sizeof(*resp.responses) *
                                                    (size_t)(req.n_topic_data + 1));
            for (int32_t i = 0; resp.responses && i < req.n_topic_data; i++) {
                struct kw_produce_resp_topic *t = &resp.responses[i];
                t->name = req.topic_data[i].name;
                t->n_partition_responses = req.topic_data[i].n_partition_data;
                t->partition_responses = kw_arena_alloc(
                    &a, sizeof(*t->partition_responses) * (size_t)(t->n_partition_responses + 1));
                for (int32_t j = 0; t->partition_responses && j < t->n_partition_responses; j++) {
                    struct kw_produce_resp_partition *pr = &t->partition_responses[j];
                    pr->index = req.topic_data[i].partition_data[j].index;
                    pr->error_code = error;
                    pr->base_offset = -1;
                    pr->log_append_time_ms = -1;
                    pr->log_start_offset = -1;
                    pr->error_message = KW_STR_NULL;
                    pr->current_leader.leader_id = -1;
                    pr->current_leader.leader_epoch = -1;
                }
            }
            rc = kw_produce_resp_encode(&e->resp, e->version, &resp);
        }
    } else if (e->key == KW_API_INIT_PRODUCER_ID) {
        struct kw_init_producer_id_resp resp = { .error_code = error, .producer_id = -1,
                                                 .producer_epoch = -1 };
        rc = kw_init_producer_id_resp_encode(&e->resp, e->version, &resp);
    }
    kw_patch_i32(&e->resp, at, (int32_t)(e->resp.len - at - 4));
    kw_arena_release(&a);
    return rc == KW_OK && e->resp.err == KW_OK ? 0 : -1;
}

static bool acks_zero(const struct px_pending *e, const uint8_t *body, size_t len)
{
    struct kw_arena a;
    struct kw_reader r;
    struct kw_produce_req req;
    kw_arena_init(&a);
    kw_reader_init(&r, body, len);
    bool zero = kw_produce_req_decode(&r, e->version, &req, &a) == KW_OK && req.acks == 0;
    kw_arena_release(&a);
    return zero;
}

static void cli_read(struct bufferevent *bev, void *arg)
{
    struct px_conn *pc = arg;
    struct px *x = pc->x;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        uint8_t sz[4];
        if (evbuffer_get_length(in) < 4)
            return;
        evbuffer_copyout(in, sz, 4);
        size_t size = kw_be32(sz);
        if (evbuffer_get_length(in) < 4 + size)
            return;
        uint8_t *frame = malloc(4 + size);
        if (frame == NULL)
            abort();
        evbuffer_remove(in, frame, 4 + size);
        struct kw_reader r;
        struct kw_req_header h;
        kw_reader_init(&r, frame + 4, size);
        if (kw_req_header_read(&r, &h) < 0) {
            free(frame);
            conn_free(pc);
            return;
        }
        int16_t error = 0;
        int action = action_for(x, h.api_key, h.api_version, &error);
        struct px_pending *e = calloc(1, sizeof(*e));
        if (e == NULL)
            abort();
        e->corrid = h.correlation_id;
        e->key = h.api_key;
        e->version = h.api_version;
        e->action = action;
        kw_buf_init(&e->resp);
        bool no_response = h.api_key == KW_API_PRODUCE && acks_zero(e, r.pos, kw_reader_left(&r));
        switch (action) {
        case PX_CLOSE_BEFORE:
            free(e);
            free(frame);
            conn_free(pc);
            return;
        case PX_DROP_REQUEST:
            free(e);
            pc->stuck++;
            break;
        case PX_ERROR:
            if (synthesize(e, r.pos, kw_reader_left(&r), error) != 0)
                abort();
            e->ready = true;
            TAILQ_INSERT_TAIL(&pc->pending, e, link);
            flush(pc);
            break;
        default:
            bufferevent_write(pc->srv, frame, 4 + size);
            if (no_response)
                free(e);
            else
                TAILQ_INSERT_TAIL(&pc->pending, e, link);
            break;
        }
        free(frame);
    }
}

/* Points the brokers of a Metadata response at our listeners. */
static void rewrite_metadata(struct px *x, struct px_pending *e, const uint8_t *frame, size_t len)
{
    struct kw_arena a;
    struct kw_reader r;
    struct kw_resp_header h;
    struct kw_metadata_resp m;
    kw_arena_init(&a);
    kw_reader_init(&r, frame, len);
    int hv = kw_resp_header_version(e->key, e->version);
    kw_resp_header_decode(&r, hv, &h);
    if (kw_metadata_resp_decode(&r, e->version, &m, &a) == KW_OK) {
        for (int32_t i = 0; i < m.n_brokers; i++)
            if (m.brokers[i].node_id >= 1 && m.brokers[i].node_id <= x->n)
                m.brokers[i].port = x->port[m.brokers[i].node_id - 1];
        kw_buf_reset(&e->resp);
        size_t at = kw_reserve_i32(&e->resp);
        kw_resp_header_encode(&e->resp, hv, &h);
        kw_metadata_resp_encode(&e->resp, e->version, &m);
        kw_patch_i32(&e->resp, at, (int32_t)(e->resp.len - at - 4));
    }
    kw_arena_release(&a);
}

/* Lowers (or removes) what an ApiVersions response advertises, to play an older broker. */
static void rewrite_api_versions(struct px *x, struct px_pending *e, const uint8_t *frame,
                                 size_t len)
{
    struct kw_arena a;
    struct kw_reader r;
    struct kw_resp_header h;
    struct kw_api_versions_resp m;
    kw_arena_init(&a);
    kw_reader_init(&r, frame, len);
    kw_resp_header_decode(&r, 0, &h);
    if (kw_api_versions_resp_decode(&r, e->version, &m, &a) == KW_OK && m.error_code == 0) {
        int32_t n = 0;
        for (int32_t i = 0; i < m.n_api_keys; i++) {
            struct kw_api_versions_resp_key k = m.api_keys[i];
            int cap = k.api_key >= 0 && k.api_key < 64 ? x->cap[k.api_key] : -2;
            if (cap == -1)
                continue;
            if (cap >= 0 && k.max_version > cap)
                k.max_version = (int16_t)cap;
            m.api_keys[n++] = k;
        }
        m.n_api_keys = n;
        kw_buf_reset(&e->resp);
        size_t at = kw_reserve_i32(&e->resp);
        kw_resp_header_encode(&e->resp, 0, &h);
        kw_api_versions_resp_encode(&e->resp, e->version, &m);
        kw_patch_i32(&e->resp, at, (int32_t)(e->resp.len - at - 4));
    }
    kw_arena_release(&a);
}

static void srv_read(struct bufferevent *bev, void *arg)
{
    struct px_conn *pc = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        uint8_t sz[4];
        if (evbuffer_get_length(in) < 4)
            return;
        evbuffer_copyout(in, sz, 4);
        size_t size = kw_be32(sz);
        if (evbuffer_get_length(in) < 4 + size)
            return;
        uint8_t *frame = malloc(4 + size);
        if (frame == NULL)
            abort();
        evbuffer_remove(in, frame, 4 + size);
        int32_t corrid = (int32_t)kw_be32(frame + 4);
        struct px_pending *e;
        TAILQ_FOREACH(e, &pc->pending, link)
            if (!e->ready && e->corrid == corrid)
                break;
        if (e == NULL) {
            free(frame);
            continue;
        }
        kw_put_raw(&e->resp, frame, 4 + size);
        if (e->key == KW_API_METADATA)
            rewrite_metadata(pc->x, e, frame + 4, size);
        if (e->key == KW_API_API_VERSIONS)
            rewrite_api_versions(pc->x, e, frame + 4, size);
        free(frame);
        e->ready = true;
        if (e->action == PX_DROP_RESPONSE) {
            e->drop = true;
            pc->stuck++;
        }
        if (e->action == PX_HOLD) {
            e->held = true;
            pc->stuck++;
        }
        if (e->action == PX_CLOSE_AFTER) {
            conn_free(pc);
            return;
        }
        flush(pc);
    }
}

static void ev_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct px_conn *pc = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_free(pc);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)sa;
    (void)len;
    struct px *x = arg;
    int broker = 0;
    for (int i = 0; i < x->n; i++)
        if (x->lis[i] == l)
            broker = i + 1;
    if (broker == 0 || x->down[broker - 1]) {
        evutil_closesocket(fd);
        return;
    }
    struct px_conn *pc = calloc(1, sizeof(*pc));
    if (pc == NULL)
        abort();
    pc->x = x;
    pc->broker = broker;
    TAILQ_INIT(&pc->pending);
    LIST_INSERT_HEAD(&x->conns, pc, link);
    pc->cli = bufferevent_socket_new(x->base, fd, BEV_OPT_CLOSE_ON_FREE);
    pc->srv = bufferevent_socket_new(x->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(pc->cli, cli_read, NULL, ev_cb, pc);
    bufferevent_setcb(pc->srv, srv_read, NULL, ev_cb, pc);
    bufferevent_enable(pc->cli, EV_READ | EV_WRITE);
    bufferevent_enable(pc->srv, EV_READ | EV_WRITE);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)mb_broker_port(x->c, broker));
    if (bufferevent_socket_connect(pc->srv, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        conn_free(pc);
}

struct px *px_new(struct event_base *base, struct mb_cluster *c, int brokers)
{
    struct px *x = calloc(1, sizeof(*x));
    if (x == NULL || brokers > PX_MAX_BROKERS)
        return free(x), NULL;
    x->base = base;
    x->c = c;
    x->n = brokers;
    LIST_INIT(&x->conns);
    for (int i = 0; i < 64; i++) {
        x->cap[i] = -2;
        x->version_seen[i] = -1;
    }
    size_t off = 0;
    for (int i = 0; i < brokers; i++) {
        struct sockaddr_in sin = { .sin_family = AF_INET };
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        x->lis[i] = evconnlistener_new_bind(base, accept_cb, x,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                            (struct sockaddr *)&sin, sizeof(sin));
        if (x->lis[i] == NULL) {
            px_destroy(x);
            return NULL;
        }
        struct sockaddr_in got;
        socklen_t gl = sizeof(got);
        getsockname(evconnlistener_get_fd(x->lis[i]), (struct sockaddr *)&got, &gl);
        x->port[i] = ntohs(got.sin_port);
        off += (size_t)snprintf(x->bootstrap + off, sizeof(x->bootstrap) - off, "%s127.0.0.1:%d",
                                i ? "," : "", x->port[i]);
    }
    return x;
}

void px_destroy(struct px *x)
{
    if (x == NULL)
        return;
    while (!LIST_EMPTY(&x->conns))
        conn_free(LIST_FIRST(&x->conns));
    for (int i = 0; i < x->n; i++)
        if (x->lis[i])
            evconnlistener_free(x->lis[i]);
    free(x);
}

const char *px_bootstrap(struct px *x)
{
    return x->bootstrap;
}

void px_rule(struct px *x, int api_key, int nth, int count, int action, int16_t error)
{
    if (x->n_rules < PX_MAX_RULES)
        x->rules[x->n_rules++] = (struct px_rule){ api_key, nth, count, action, error };
}

void px_release(struct px *x)
{
    struct px_conn *pc, *next;
    for (pc = LIST_FIRST(&x->conns); pc; pc = next) {
        next = LIST_NEXT(pc, link);
        struct px_pending *e;
        TAILQ_FOREACH(e, &pc->pending, link) {
            if (e->held)
                pc->stuck--;
            e->held = false;
        }
        flush(pc);
    }
}

int px_seen(struct px *x, int api_key)
{
    return api_key < 0 ? x->seen_all : x->seen[api_key & 63];
}

void px_set_down(struct px *x, int id, bool down)
{
    if (id < 1 || id > x->n)
        return;
    x->down[id - 1] = down;
    if (!down)
        return;
    struct px_conn *pc, *next;
    for (pc = LIST_FIRST(&x->conns); pc; pc = next) {
        next = LIST_NEXT(pc, link);
        if (pc->broker == id)
            conn_free(pc);
    }
}

int px_stuck(struct px *x)
{
    int n = 0;
    struct px_conn *pc;
    LIST_FOREACH(pc, &x->conns, link)
        n += pc->stuck;
    return n;
}

void px_cap(struct px *x, int api_key, int max_version)
{
    if (api_key >= 0 && api_key < 64)
        x->cap[api_key] = max_version < 0 ? -1 : max_version;
}

int px_version_seen(struct px *x, int api_key)
{
    return api_key >= 0 && api_key < 64 ? x->version_seen[api_key] : -1;
}
