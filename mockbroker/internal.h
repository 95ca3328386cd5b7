/* Shared between the files of libmockbroker; not installed. Everything here runs on the
 * cluster's loop thread. */
#ifndef MB_INTERNAL_H
#define MB_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "lib/clock.h"
#include "lib/kw.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "mockbroker/mockbroker.h"

struct bufferevent;
struct evconnlistener;
struct event;

#define MB__MAX_API_KEY 128

/* --- the log of one partition ------------------------------------------------------------- */

/* One stored batch: the bytes as received (magic 2), with base offset and leader epoch stamped. */
struct mb__frame;

struct mb__batch {
    struct mb__frame *owner;        /* holds the bytes; data points into it */
    int64_t base_offset;
    int64_t last_offset;
    int64_t max_timestamp;
    uint8_t *data;
    uint32_t len;
    int32_t records;
};

/* Idempotent-producer state of one producer id on one partition (KIP-98, WIRE.md §9). */
#define MB__PRODUCER_BATCHES 5
struct mb__producer {
    int64_t producer_id;
    int16_t epoch;
    int n;                          /* cached batches, newest last */
    struct {
        int32_t first_seq, last_seq;
        int64_t base_offset;
        int64_t timestamp;          /* LogAppendTime given, or -1 */
    } batches[MB__PRODUCER_BATCHES];
};

struct mb__topic;

struct mb__partition {
    struct mb__topic *topic;
    int32_t index;
    int leader;                     /* broker id or -1 */
    int32_t leader_epoch;
    int n_replicas, replicas[MB_MAX_REPLICAS];
    int n_isr, isr[MB_MAX_REPLICAS];
    int64_t log_start;
    int64_t log_end;                /* next offset to assign */
    int64_t high_watermark;
    struct mb__batch *batches;      /* ordered by offset */
    size_t n_batches, cap_batches, first_batch;    /* [first_batch, n_batches) are live */
    int64_t bytes;                  /* of live batches */
    struct mb__producer *producers;
    size_t n_producers, cap_producers;
};

struct mb__topic {
    char *name;
    uint8_t id[16];
    int32_t n_partitions;
    struct mb__partition *partitions;
    int32_t min_insync_replicas;
    int32_t max_message_bytes;
    int timestamp_type;             /* 0 CreateTime, 1 LogAppendTime */
    int64_t retention_bytes;
    LIST_ENTRY(mb__topic) link;
};

/* --- connections, requests ------------------------------------------------------------------ */

/* Request bytes, shared by the request and by the batches stored from it, so an appended batch
 * is never copied. Loop thread only, so the count needs no atomics. */
struct mb__frame {
    uint32_t refs;
    uint32_t len;
    uint8_t data[];
};
struct mb__frame *mb__frame_new(size_t len);
void mb__frame_unref(struct mb__frame *f);
static inline struct mb__frame *mb__frame_ref(struct mb__frame *f)
{
    f->refs++;
    return f;
}

struct mb__conn;

/* One request from arrival to its response. Requests are answered in arrival order: a response
 * that is ready waits behind earlier ones that are not (a held Fetch, a delayed Produce). */
struct mb__req {
    struct mb_cluster *c;
    struct mb__conn *conn;          /* NULL once the connection is gone (req still pending) */
    uint64_t seq;                   /* per cluster, for the journal and ordering */
    struct kw_req_header hdr;
    const struct kw_api *api;
    int16_t version;
    void *body;                     /* decoded request struct, in arena */
    struct kw_arena arena;
    struct mb__frame *frame;        /* the request bytes the body points into (a reference) */
    struct kw_buf out;              /* encoded response, size prefix included */
    bool done;                      /* out is final (or there is no response) */
    bool silent;                    /* no response on the wire (Produce acks=0) */
    int64_t arrived_us;
    uint64_t timer;                 /* a pending clock timer (long-poll Fetch), or 0 */
    TAILQ_ENTRY(mb__req) link;      /* in conn->reqs */
    LIST_ENTRY(mb__req) wait_link;  /* in cluster->fetch_waiters */
    bool waiting;
};
TAILQ_HEAD(mb__req_list, mb__req);

struct mb__broker;

struct mb__conn {
    struct mb_cluster *c;
    struct mb__broker *broker;
    uint64_t id;                    /* numbered by the cluster, never by the peer's port */
    struct bufferevent *bev;        /* writes only */
    struct event *read_ev;
    uint8_t *rbuf;                  /* bytes read, not yet framed */
    size_t rlen;
    struct mb__frame *big;          /* a frame larger than rbuf, being read into */
    size_t big_got;
    char peer[64];
    struct mb__req_list reqs;
    int n_reqs;
    bool reading_paused;
    struct event *doom_ev;          /* closes the connection soon (a response failed) */
    LIST_ENTRY(mb__conn) link;
};

struct mb__broker {
    struct mb_cluster *c;
    int id;
    int port;
    bool up;
    struct evconnlistener *listener;
    LIST_HEAD(, mb__conn) conns;
    uint64_t requests[MB__MAX_API_KEY];
    uint64_t requests_total;
};

/* A producer id handed out by InitProducerId, with its transactional id if any. */
struct mb__pid {
    int64_t producer_id;
    int16_t epoch;
    char *transactional_id;         /* NULL for an idempotent producer */
};

typedef void (*mb__call_fn)(struct mb_cluster *c, void *arg);

struct mb_cluster {
    struct mb_config cfg;
    struct event_base *base;
    bool own_base;
    struct kw_clock *clock;
    struct kw_evclock *evclock;     /* when the clock is ours */
    uint64_t seed;
    uint64_t rng;                   /* splitmix64 state from the seed */
    char cluster_id[64];
    char *bootstrap;
    int n_brokers;
    struct mb__broker *brokers;     /* index id-1 */
    int controller;
    LIST_HEAD(, mb__topic) topics;
    int n_topics;
    int64_t next_producer_id;
    struct mb__pid *pids;
    size_t n_pids, cap_pids;
    uint64_t next_conn_id;
    uint64_t next_req_seq;
    LIST_HEAD(, mb__req) fetch_waiters;
    struct kw_buf scratch;          /* decompression and conversion, loop thread only */
    struct kw_buf scratch2;
    /* Cross-thread calls (own-thread mode). */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;            /* a call finished, or state changed */
    struct event *call_ev;
    struct mb__pending_call *calls; /* queued calls, FIFO */
    struct mb__pending_call *calls_tail;
    uint64_t state_version;         /* bumped after every request; wakes mb_wait_until */
    int waiters;
    bool stopping;
};

/* cluster.c */
void mb__log(struct mb_cluster *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Runs fn(c, arg) on the loop thread and returns when it has run. */
void mb__call(struct mb_cluster *c, mb__call_fn fn, void *arg);
uint64_t mb__rand(struct mb_cluster *c);
/* Wall-clock milliseconds for timestamps (the caller's clock when one was given). */
int64_t mb__wall_ms(struct mb_cluster *c);
struct mb__topic *mb__topic_find(struct mb_cluster *c, const char *name, int32_t len);
struct mb__topic *mb__topic_find_id(struct mb_cluster *c, const uint8_t id[16]);
/* Creates a topic (placement round robin from the seed). Returns 0 or a KW_EC_* code. */
int mb__topic_create(struct mb_cluster *c, const char *name, int32_t len, int partitions,
                     int replication, struct mb__topic **out, char *errstr, size_t errstr_size);
void mb__topic_delete(struct mb_cluster *c, struct mb__topic *t);
struct mb__partition *mb__partition_find(struct mb__topic *t, int32_t index);
/* Bumps the state version and wakes waiters (mb_wait_until) and long-poll fetches. */
void mb__state_changed(struct mb_cluster *c);
/* True if the name is a legal topic name: [a-zA-Z0-9._-]{1,249}. */
bool mb__topic_name_valid(const char *name, int32_t len);

/* conn.c */
int mb__brokers_start(struct mb_cluster *c, char *errstr, size_t errstr_size);
void mb__brokers_stop(struct mb_cluster *c);
/* Closes the connection and frees it; pending requests are detached and freed. */
void mb__conn_close(struct mb__conn *conn, const char *why, ...)
    __attribute__((format(printf, 2, 3)));
/* Encodes resp (the API's response struct) with its header into req->out and marks it done,
 * then flushes what is ready on the connection. */
void mb__respond(struct mb__req *req, const void *resp);
/* Marks req done without a response (acks=0) and flushes. */
void mb__respond_none(struct mb__req *req);
/* Frees a request that has no connection left (its response can never be sent). */
void mb__req_free(struct mb__req *req);

/* dispatch.c: decode the frame, count it, call the handler. A negative return closes the
 * connection (the reason is already logged). */
int mb__dispatch(struct mb__conn *conn, struct mb__frame *frame);

/* A handler answers now (mb__respond), later, or never (mb__respond_none). It returns 0, or -1
 * after closing the connection itself with mb__conn_close (the request is then freed). */
typedef int (*mb__handler)(struct mb__req *req);
int mb__handle_api_versions(struct mb__req *req);
int mb__handle_metadata(struct mb__req *req);
int mb__handle_produce(struct mb__req *req);
int mb__handle_fetch(struct mb__req *req);
int mb__handle_list_offsets(struct mb__req *req);
int mb__handle_find_coordinator(struct mb__req *req);
int mb__handle_create_topics(struct mb__req *req);
int mb__handle_delete_topics(struct mb__req *req);
int mb__handle_init_producer_id(struct mb__req *req);

/* handle_fetch.c: re-examines long-poll Fetch requests after data arrived. */
void mb__fetch_wake(struct mb_cluster *c);

/* partition.c */
/* Appends one validated magic-2 batch, assigning offsets (stamped into the bytes); handles
 * idempotence (duplicates answer with their original offset and are not stored). The batch is
 * kept in place with a reference to owner, or copied if owner is NULL. Returns a KW_EC_* code;
 * *base_offset gets the batch's base offset, *log_append_time the time stamped or -1. */
int mb__partition_append(struct mb_cluster *c, struct mb__partition *p, struct mb__frame *owner,
                         uint8_t *batch, size_t len, int64_t *base_offset,
                         int64_t *log_append_time);
/* The index of the live batch holding `offset`, or of the first one after it; n_batches if none. */
size_t mb__partition_seek(const struct mb__partition *p, int64_t offset);
void mb__partition_release(struct mb__partition *p);
/* Drops whole old batches while the partition holds more than retention bytes. */
void mb__partition_retain(struct mb__partition *p, int64_t retention_bytes);
bool mb__partition_in_isr(const struct mb__partition *p, int broker);

#endif
