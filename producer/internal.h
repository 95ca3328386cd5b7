/* Shared between the files of libkproducer; not installed.
 *
 * Threads and locks. One loop thread (ours, or the caller's in caller-driven mode) owns brokers,
 * connections, requests, sequence numbers and timers. Application threads call produce(), poll()
 * and flush(). p->lock guards what both sides touch: the topic table and partition counts, each
 * partition's queue of batches (the open batch included), message counters, the report queue,
 * the batch free list and the wake-up bookkeeping. Everything else is the loop's alone.
 *
 * A message's path: produce() appends it to its partition's open batch (or to the topic's
 * unassigned batch until metadata is known) → the loop takes the head batch when it is full,
 * its linger expired or a flush asked for it, finishes it (sequence, CRC, compression) and puts
 * it in a ProduceRequest with the heads of other partitions led by the same broker → the
 * response succeeds, or the batch goes back to the head of its queue for a retry, or fails →
 * the batch joins the report queue, which poll() serves message by message. */
#ifndef KP_INTERNAL_H
#define KP_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/kw.h"
#include "producer/kproducer.h"

/* glibc's sys/queue.h lacks the BSD _SAFE iterator. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                                             \
    for ((var) = TAILQ_FIRST(head); (var) && ((tvar) = TAILQ_NEXT(var, field), 1); (var) = (tvar))
#endif

struct bufferevent;
struct event;
struct kw_evclock;

/* --- configuration (conf.c) ------------------------------------------------------------------- */

enum kp__partitioner {
    KP__PART_CONSISTENT_RANDOM,
    KP__PART_CONSISTENT,
    KP__PART_RANDOM,
    KP__PART_MURMUR2,
    KP__PART_MURMUR2_RANDOM,
    KP__PART_FNV1A,
    KP__PART_FNV1A_RANDOM,
};

/* debug contexts, librdkafka's names */
#define KP__DBG_GENERIC   (1u << 0)
#define KP__DBG_BROKER    (1u << 1)
#define KP__DBG_TOPIC     (1u << 2)
#define KP__DBG_METADATA  (1u << 3)
#define KP__DBG_FEATURE   (1u << 4)
#define KP__DBG_QUEUE     (1u << 5)
#define KP__DBG_MSG       (1u << 6)
#define KP__DBG_PROTOCOL  (1u << 7)
#define KP__DBG_SECURITY  (1u << 8)
#define KP__DBG_EOS       (1u << 9)
#define KP__DBG_CONF      (1u << 10)
#define KP__DBG_OTHER     (1u << 11)    /* contexts of librdkafka's consumer, admin, ...: unused */

/* The values, after parsing. Times in ms unless named _us. */
struct kp__conf {
    char *bootstrap;
    char *client_id;
    char *transactional_id;             /* "" : not transactional */
    int32_t txn_timeout_ms;
    int acks;                           /* -1, 0 or 1 */
    int64_t linger_us;
    int32_t batch_size;
    int32_t batch_num;
    int codec;                          /* enum kw_codec */
    int level;                          /* -1: the codec's default */
    bool idempotence;
    int32_t retries;
    int32_t retry_backoff_ms, retry_backoff_max_ms;
    int32_t request_timeout_ms;         /* Produce's TimeoutMs: the broker's wait for acks */
    int32_t socket_timeout_ms;          /* how long we wait for any answer ourselves */
    int32_t delivery_timeout_ms;        /* 0: no limit */
    int32_t max_inflight;
    int32_t queue_max_msgs;
    int32_t queue_max_kbytes;
    int32_t message_max_bytes;
    int partitioner;                    /* enum kp__partitioner */
    int32_t sticky_linger_ms;
    uint32_t debug;                     /* KP__DBG_* */
    int32_t metadata_max_age_ms;
    int32_t refresh_interval_ms;        /* -1: no periodic refresh */
    int32_t setup_timeout_ms;
    int32_t reconnect_backoff_ms, reconnect_backoff_max_ms;
    uint64_t seed;                      /* 0: chosen at start */
};

struct kp_conf {
    struct kp__conf v;
    uint64_t set;                       /* bit i: property i was set explicitly */
    kp_dr_cb dr_cb;
    kp_error_cb error_cb;
    kp_log_cb log_cb;
    kp_trace_cb trace_cb;
    void *opaque;
    struct event_base *base;
    struct kw_clock *clock;
};

/* Settles what depends on several properties (transactional.id implies idempotence and bounds
 * request and delivery timeouts by transaction.timeout.ms; idempotence implies acks=all, retries
 * and at most 5 in flight; an explicit conflicting value is refused), as librdkafka does at
 * rd_kafka_new. Returns 0, or -1 with errstr set. */
int kp__conf_finalize(struct kp_conf *c, char *errstr, size_t errstr_size);
/* Deep copy of src into dst (strings duplicated); -1 if out of memory. */
int kp__conf_copy(struct kp_conf *dst, const struct kp_conf *src);
void kp__conf_release(struct kp_conf *c);
/* True if the property (by its canonical name) was set explicitly. */
bool kp__conf_is_set(const struct kp_conf *c, const char *name);

/* --- batches (accumulator.c) ------------------------------------------------------------------ */

struct kp__topic;
struct kp__part;
struct kp__broker;
struct kp__req;

/* One record batch from creation to its report. Records are built straight into buf as they are
 * produced; the loop finishes buf when it first takes the batch (sequence, compression, CRC), and
 * buf is then what goes on the wire, each attempt the same bytes. Reports read keys and values
 * back from buf (decompressing it if need be). */
struct kp__batch {
    TAILQ_ENTRY(kp__batch) link;        /* in part->queue, a request, or the report queue */
    struct kp__part *part;              /* NULL for a topic's unassigned batch */
    struct kp__topic *topic;
    struct kw_buf buf;                  /* batch header + plain records */
    struct kw_batch_builder bb;
    int codec;                          /* what bb compresses with */
    void **opaques;                     /* per message */
    int32_t *parts;                     /* unassigned batches: the partition asked for, per msg */
    int32_t count, cap;
    struct kp__batch *next_free;        /* in p->free_batches */
    int64_t bytes;                      /* counted against queue.buffering.max.kbytes */
    uint64_t order;                     /* creation order within the partition */
    int64_t created_us;
    int64_t deadline_us;                /* delivery.timeout.ms; INT64_MAX if none */
    bool sealed;                        /* no more appends */
    bool finished;                      /* buf is a complete batch */
    int attempts;                       /* times sent */
    bool possibly;                      /* some attempt may have been written */
    bool in_retry;                      /* back in the queue after a failed attempt */
    int last_err;                       /* what the last failed attempt got */
    /* idempotence: what the header says once finished */
    int64_t pid;
    int16_t epoch;
    int32_t base_seq;                   /* -1 until assigned */
    /* outcome, for the report */
    int err, cause;
    int status;
    int64_t offset;                     /* base offset, -1 if unknown */
    int64_t log_append_time;            /* -1: CreateTime */
    char *errstr;                       /* NULL: the error's standard text */
};
TAILQ_HEAD(kp__batch_list, kp__batch);

/* --- topics and partitions (metadata.c) ------------------------------------------------------- */

/* A partition's place in the open transaction: its batches go out only once it is ADDED. */
enum kp__part_txn {
    KP__PT_NONE,
    KP__PT_PENDING,                     /* has messages: AddPartitionsToTxn wanted */
    KP__PT_WAIT,                        /* in an AddPartitionsToTxn request */
    KP__PT_ADDED,
};

enum kp__topic_state {
    KP__T_UNKNOWN,                      /* no metadata yet: messages wait unassigned */
    KP__T_EXISTS,
    KP__T_NOTEXISTS,                    /* the cluster said UNKNOWN_TOPIC_OR_PARTITION */
    KP__T_ERROR,                        /* another topic error (authorization, invalid name) */
};

struct kp__part {
    struct kp__topic *topic;
    int32_t id;
    /* under p->lock */
    struct kp__batch_list queue;        /* oldest first; the open batch, if any, is last */
    struct kp__batch *open;
    uint64_t next_order;
    /* loop only */
    int32_t leader_id;                  /* -1: unknown or none */
    struct kp__broker *leader;
    int64_t retry_at_us;                /* a retried head batch waits until then */
    int n_inflight;                     /* batches of this partition in requests */
    struct kp__broker *inflight_to;     /* ... all to this broker */
    int32_t next_seq;                   /* next sequence to hand out */
    int32_t next_ack_seq;               /* sequence the broker expects after the last ack */
    int txn;                            /* enum kp__part_txn, under p->lock */
};

struct kp__topic {
    char *name;
    size_t name_len;
    /* under p->lock */
    int state;                          /* enum kp__topic_state */
    int err;                            /* KP__T_ERROR: the Kafka code */
    int32_t n_parts;                    /* 0 until known */
    struct kp__part **parts;
    int32_t n_avail;                    /* partitions with a leader, for random choices */
    int32_t *avail;
    struct kp__batch *ua;               /* unassigned messages (state UNKNOWN) */
    int32_t sticky_part;                /* sticky partitioner: current choice, -1 if none */
    int64_t sticky_until_us;
};

/* --- brokers and requests (broker.c) ---------------------------------------------------------- */

enum kp__broker_state {
    KP__B_DOWN,
    KP__B_CONNECTING,                   /* TCP connect in progress */
    KP__B_APIVERSION,                   /* ApiVersions in flight */
    KP__B_UP,
};

#define KP__MAX_KEY 64                  /* API keys we keep broker ranges for */

/* A response handler: err is 0 with r over the response body, or a local error (transport,
 * timeout) with r NULL. For requests without a response (acks=0) it runs once the request is
 * written, with err 0 and r NULL. */
typedef void (*kp__resp_cb)(struct kp_producer *p, struct kp__req *req, int err,
                            struct kw_reader *r);

struct kp__req {
    TAILQ_ENTRY(kp__req) link;
    struct kp__broker *b;
    int16_t key, version;
    int32_t corrid;
    struct kw_buf frame;                /* size prefix, header, body: until handed to the socket */
    size_t size_at;                     /* the size prefix's offset */
    uint64_t end_pos;                   /* the connection's output byte count at our last byte */
    int64_t sent_us, deadline_us;
    bool no_response;
    kp__resp_cb cb;
    /* Produce requests */
    struct kp__batch **batches;
    int n_batches;
    uint64_t txn_gen;                   /* transactional requests: p->txn.gen when sent */
};
TAILQ_HEAD(kp__req_list, kp__req);

struct kp__broker {
    struct kp_producer *p;
    TAILQ_ENTRY(kp__broker) link;
    int32_t id;                         /* -1: a bootstrap address not matched to a node yet */
    char *host;
    int port;
    char name[96];                      /* "host:port/id", for logs */
    int state;                          /* enum kp__broker_state */
    struct bufferevent *bev;
    int32_t corrid;                     /* last used; keeps counting across reconnects */
    int16_t api_min[KP__MAX_KEY], api_max[KP__MAX_KEY];     /* -1: not offered */
    int apiv_version;                   /* ApiVersions version being tried */
    struct kp__req_list inflight;       /* awaiting a response, in send order */
    struct kp__req_list unwritten;      /* acks=0: awaiting their last byte's write */
    int n_inflight;
    int n_produce_inflight;
    uint64_t out_queued, out_written;   /* bytes handed to / taken by the socket */
    int64_t connect_started_us;
    int64_t reconnect_at_us;
    int64_t backoff_ms;                 /* next reconnect backoff */
    int fails;                          /* consecutive failed connection attempts */
    uint64_t conn_gen;                  /* bumped when a connection closes */
    int64_t throttle_until_us;          /* KIP-219: the broker reads nothing from us until then */
};
TAILQ_HEAD(kp__broker_list, kp__broker);

/* --- the producer ----------------------------------------------------------------------------- */

/* An error event for the error callback. */
struct kp__event {
    struct kp__event *next;
    int err;
    char reason[256];
};

enum kp__idemp_state {
    KP__I_NONE,                         /* idempotence off */
    KP__I_REQUEST,                      /* need a producer id */
    KP__I_WAIT,                         /* InitProducerId in flight */
    KP__I_ASSIGNED,
    KP__I_DRAIN,                        /* bump wanted: waiting for Produce requests to finish */
    KP__I_FATAL,
    KP__I_TXN_INIT,                     /* transactional: waiting for kp_init_transactions */
    KP__I_WAIT_ABORT,                   /* transactional: bump wanted once the transaction is
                                           aborted (KIP-360); nothing is sent meanwhile */
};

/* The transactional producer's states, librdkafka's. The *_NOT_ACKED states mean the loop
 * finished an operation whose call had already timed out: the next call returns its result. */
enum kp__txn_state {
    KP__TX_NONE,                        /* not transactional */
    KP__TX_INIT,                        /* kp_init_transactions not called yet */
    KP__TX_WAIT_PID,                    /* finding the coordinator, InitProducerId */
    KP__TX_READY_NOT_ACKED,
    KP__TX_READY,                       /* between transactions */
    KP__TX_IN_TXN,                      /* produce() accepts messages */
    KP__TX_BEGIN_COMMIT,                /* sending every message, waiting for the outcomes */
    KP__TX_COMMITTING,                  /* EndTxn(commit) */
    KP__TX_COMMIT_NOT_ACKED,
    KP__TX_BEGIN_ABORT,                 /* purging queued messages, waiting for in-flight ones */
    KP__TX_ABORTING,                    /* EndTxn(abort), then the epoch bump if one is due */
    KP__TX_ABORT_NOT_ACKED,
    KP__TX_ABORTABLE,                   /* failed: only an abort may follow */
    KP__TX_FATAL,
};

/* An offsets operation of kp_send_offsets_to_transaction. */
struct kp__txn_offsets {
    char *group;
    int n;
    struct kp__txn_offset {
        char *topic;
        int32_t partition;
        int64_t offset;
        char *metadata;                 /* NULL: none */
    } *o;
    /* loop only */
    int phase;                          /* enum in txn.c: AddOffsetsToTxn, find, commit */
    struct kp__broker *group_coord;
    uint64_t group_conn_gen;            /* as kp__txn.coord_conn_gen */
    bool inflight;
    int attempts;
    int64_t retry_at_us;
};

struct kp__txn {
    /* under p->lock */
    int state;                          /* enum kp__txn_state */
    int err;                            /* ABORTABLE, FATAL: what caused it */
    char errstr[256];
    bool bump;                          /* the abort must end with an epoch bump (KIP-360) */
    bool flushing;                      /* BEGIN_COMMIT: linger no longer applies */
    int64_t dr_fails;                   /* messages of this transaction that failed */
    int init_err;                       /* the last reason init could not finish yet */
    bool parts_pending;                 /* some partition is KP__PT_PENDING */
    int req_cnt;                        /* Add*ToTxn the coordinator took or may have taken
                                           (no answer): with none, there is nothing to end, and
                                           Kafka would refuse the EndTxn (INVALID_TXN_STATE) */
    uint64_t gen;                       /* bumped by begin and by every end: stale answers */
    struct kp__txn_offsets *off;        /* send_offsets in progress (or done, not yet seen) */
    int off_state;                      /* 0 none, 1 running, 2 done */
    struct kp_txn_error off_result;
    /* loop only */
    struct kp__broker *coord;           /* NULL: unknown */
    uint64_t coord_conn_gen;            /* its conn_gen when named: later failures count */
    bool coord_inflight;
    int coord_attempts;
    int64_t coord_retry_at_us;
    bool addparts_inflight;
    int addparts_attempts;
    int64_t addparts_retry_at_us;
    bool endtxn_inflight;
    bool endtxn_done;                   /* ABORTING: EndTxn answered, a bump may follow */
    int endtxn_attempts;
    int64_t endtxn_retry_at_us;
    bool bump_sent;                     /* ABORTING: the bump's InitProducerId was asked for */
};

struct kp_producer {
    struct kp_conf conf;
    struct event_base *base;
    bool own_base;
    struct kw_clock *clock;
    struct kw_evclock *evclock;         /* the clock, when it is ours */
    pthread_t thread;
    bool thread_started;
    struct event *wake_ev;
    uint64_t timer_id;
    int64_t timer_at_us;

    pthread_mutex_t lock;
    pthread_cond_t cond;                /* reports queued, or all delivered */
    /* under lock */
    bool wake_pending;
    int64_t next_wakeup_us;             /* the loop's timer; produce() wakes it for earlier work */
    bool stopping;
    int flushing;                       /* flush() calls in progress */
    struct kp__topic **topics;
    int n_topics, cap_topics;
    struct kp__topic *last_topic;       /* produce()'s last lookup */
    int64_t msg_cnt, msg_bytes;         /* produced, not yet reported */
    struct kp__batch_list reports;
    struct kp__event *events, *events_tail;
    struct kp__batch *free_batches;     /* recycled, linked through next_free */
    int n_free_batches;
    uint64_t rng;                       /* partitioners */
    int fatal_err;
    char fatal_reason[256];
    bool topics_added;                  /* a topic nobody asked metadata for yet */
    bool txn_on;                        /* transactional.id is set (constant) */
    struct kp__txn txn;

    struct kp_stats snap;               /* the loop's counters, published after each pass */

    /* loop only */
    bool in_loop;                       /* the scheduler is running: handlers must not nest it */
    bool resched;                       /* ... and asked for another pass */
    bool stopped;                       /* destroy has begun: schedule nothing */
    bool conf_copied;
    uint64_t loop_rng;                  /* jitter */
    struct kp__broker_list brokers;
    int n_brokers;
    unsigned next_bootstrap;
    bool all_down_reported;
    struct kp__req *md_req;             /* Metadata in flight */
    bool md_wanted;                     /* a refresh is due as soon as a broker is up */
    int64_t md_next_us;                 /* next periodic refresh */
    int64_t md_fast_us;                 /* earliest next error-driven refresh */
    int idemp_state;                    /* enum kp__idemp_state */
    int64_t pid;
    int16_t epoch;
    int64_t idemp_retry_at_us;
    bool bump_fresh;                    /* the broker refused a bump: ask for a new id */
    int64_t n_produce_inflight;
    struct kw_arena arena;              /* response decoding, reset per response */
    struct kw_buf scratch;              /* rebuilding batches (loop thread) */
    struct kw_buf report_scratch;       /* decompressing batches for reports (poll's thread) */
    int64_t stat_requests, stat_retries, stat_bumps;
};

/* producer.c */
void kp__log(const struct kp_producer *p, int level, uint32_t ctx, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define kp__dbg(p, ctx, ...)                                                                   \
    do {                                                                                       \
        if ((p)->conf.v.debug & (ctx))                                                         \
            kp__log((p), KP_LOG_DEBUG, (ctx), __VA_ARGS__);                                    \
    } while (0)
/* Asks the loop to run the scheduler soon. Any thread; the lock must NOT be held. */
void kp__wake(struct kp_producer *p);
/* Same, with p->lock held. */
void kp__wake_locked(struct kp_producer *p);
/* Runs the scheduler now (loop thread): metadata, connections, sends, timeouts, next timer. */
void kp__schedule(struct kp_producer *p);
/* Queues an error event for the error callback (loop thread). */
void kp__error_event(struct kp_producer *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int64_t kp__now(const struct kp_producer *p);
/* Milliseconds since the epoch, for record timestamps. */
int64_t kp__wall_ms(void);
uint64_t kp__rand(uint64_t *state);
/* Sets the fatal error (first one wins) and fails every queued message (loop thread). */
void kp__fatal(struct kp_producer *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* accumulator.c */
/* Appends one message to the partition's open batch (opening one if needed). Lock held. Returns
 * 0 or a kp error; *woke tells whether the loop must be woken. */
int kp__acc_append(struct kp_producer *p, struct kp__part *pt, int64_t now_us, int64_t ts,
                   struct kw_bytes key, struct kw_bytes value, const struct kw_header_kv *hdrs,
                   int n_hdrs, int64_t msz, void *opaque, bool *wake);
/* Appends a message to the topic's unassigned batch. Lock held. msz is the message's size as
 * counted against queue.buffering.max.kbytes. */
int kp__acc_append_ua(struct kp_producer *p, struct kp__topic *t, int32_t partition,
                      int64_t now_us, int64_t ts, struct kw_bytes key, struct kw_bytes value,
                      const struct kw_header_kv *hdrs, int n_hdrs, int64_t msz, void *opaque);
/* Replays unassigned messages of a topic whose metadata is now known. Lock held. */
void kp__topic_assign_ua(struct kp_producer *p, struct kp__topic *t);
/* A fresh batch (from the free list when possible); NULL if out of memory. Lock held. */
struct kp__batch *kp__batch_new(struct kp_producer *p, struct kp__topic *t, struct kp__part *pt,
                                int64_t now_us);
/* Returns a batch to the free list, or frees it. Lock held. */
void kp__batch_recycle(struct kp_producer *p, struct kp__batch *b);
void kp__batch_free(struct kp__batch *b);
/* Finishes a batch taken for its first send: producer id, epoch and sequence (if idempotent),
 * then compression, lengths and CRC. A zstd batch bound for a broker older than Produce v7 is
 * rebuilt uncompressed. Loop thread, lock not held. Returns 0 or a kp error. */
int kp__batch_finish(struct kp_producer *p, struct kp__batch *b, int produce_version);
/* Moves the partition's head batch out for sending to b if it may go now; else NULL, lowering
 * *next_us to when it may. Lock held. */
struct kp__batch *kp__part_take(struct kp_producer *p, struct kp__part *pt,
                                const struct kp__broker *b, int64_t now_us, int64_t *next_us);
/* Puts a batch back in its partition's queue in creation order (a retry). Lock held. */
void kp__part_requeue(struct kp__part *pt, struct kp__batch *b);
/* Fails every queued batch of pt (lock held) with err. */
void kp__part_fail_queued(struct kp_producer *p, struct kp__part *pt, int err, const char *why);
/* Times out queued batches past their delivery deadline; lowers *next_us to the next deadline.
 * Loop thread, lock held. */
void kp__part_expire(struct kp_producer *p, struct kp__part *pt, int64_t now_us,
                     int64_t *next_us);

/* partitioner.c */
/* Chooses a partition for a keyed or key-less message (lock held); -1 if no partition is known. */
int32_t kp__partition(struct kp_producer *p, struct kp__topic *t, struct kw_bytes key,
                      int64_t now_us);

/* reports.c */
/* Ends a batch: sets its outcome and queues it for poll (or frees it when there is no delivery
 * callback). Lock held. errstr may be NULL (the standard text). */
void kp__batch_done(struct kp_producer *p, struct kp__batch *b, int err, int status,
                    const char *errstr);
/* Serves queued reports and events in the calling thread; returns how many. */
int kp__reports_serve(struct kp_producer *p);
/* Fails a batch that is neither queued nor in flight with err, choosing the status from what
 * its attempts did: not persisted, possibly persisted (KP_ERR__POSSIBLY_PERSISTED without
 * idempotence), as librdkafka does. Lock held. */
void kp__batch_fail(struct kp_producer *p, struct kp__batch *b, int err, const char *errstr);

/* broker.c */
struct kp__broker *kp__broker_add(struct kp_producer *p, int32_t id, const char *host, int port);
struct kp__broker *kp__broker_find(struct kp_producer *p, int32_t id);
/* Records node id at host:port from a Metadata response: adopts a matching bootstrap entry,
 * adds a broker, or moves one whose address changed. */
void kp__broker_learn(struct kp_producer *p, int32_t id, const char *host, int port);
/* Parses bootstrap.servers into brokers with id -1; -1 with errstr on a bad list. */
int kp__brokers_bootstrap(struct kp_producer *p, char *errstr, size_t errstr_size);
/* Starts connecting if down and its backoff is over; lowers *next_us to when it may. */
void kp__broker_want(struct kp__broker *b, int64_t now_us, int64_t *next_us);
/* Any broker whose connection is up and not throttled, or NULL after asking one to connect
 * (or while the only ones up are throttled). */
struct kp__broker *kp__broker_any_up(struct kp_producer *p, int64_t now_us, int64_t *next_us);
/* The highest version of key that both sides speak, at least min; -1 if none. */
int kp__broker_version(const struct kp__broker *b, int key, int min);
/* A request to b with a header for (key, version); the caller encodes the body into
 * req->frame, then calls kp__req_send. NULL if out of memory. */
struct kp__req *kp__req_new(struct kp__broker *b, int key, int version);
/* Frames and writes req; the callback runs exactly once (response, error, or written when
 * no_response). Returns 0, or a kp error after running the callback with it. */
int kp__req_send(struct kp__req *req, kp__resp_cb cb, int64_t timeout_us, bool no_response);
void kp__req_free(struct kp__req *req);
/* Closes the connection: every request on it gets err (timeouts keep KP_ERR__TIMED_OUT). */
void kp__broker_fail(struct kp__broker *b, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Checks request and connection-setup deadlines; lowers *next_us. */
void kp__broker_timeouts(struct kp__broker *b, int64_t now_us, int64_t *next_us);
/* Completes acks=0 requests whose bytes have all been written. */
void kp__broker_written(struct kp__broker *b);
/* Frees every broker (connections closed, requests failed with KP_ERR__DESTROY). */
void kp__brokers_destroy(struct kp_producer *p);
/* True if the request's last byte was handed to the kernel. */
bool kp__req_written(const struct kp__req *req);

/* metadata.c */
/* The topic called name (lock held), created in state UNKNOWN if new; NULL if out of memory. */
struct kp__topic *kp__topic_get(struct kp_producer *p, const char *name, bool create);
void kp__topics_destroy(struct kp_producer *p);
/* Sends a Metadata request if one is due or wanted; lowers *next_us. */
void kp__metadata_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us);
/* Asks for a refresh soon (after an error), no sooner than retry.backoff.ms after the last. */
void kp__metadata_refresh(struct kp_producer *p, const char *why);
/* req_produce.c */
/* Sends as many ProduceRequests to b as its in-flight limit and the ready batches allow. */
void kp__produce_serve(struct kp_producer *p, struct kp__broker *b, int64_t now_us,
                       int64_t *next_us);
/* Backoff before the n-th retry: exponential from retry.backoff.ms, capped by
 * retry.backoff.max.ms, with jitter. */
int64_t kp__backoff_us(struct kp_producer *p, int attempt);

/* idempotence.c */
/* Sends InitProducerId when a producer id is needed and no Produce request is in flight. */
void kp__idemp_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us);
/* True if Produce requests may carry batches now. */
bool kp__idemp_may_send(const struct kp_producer *p);
/* Writes producer id, epoch and base sequence into a batch header (and its compressed copy)
 * and recomputes their CRCs. */
void kp__batch_stamp(struct kp__batch *b, int64_t pid, int16_t epoch, int32_t base_seq);
/* Asks for an epoch bump (KIP-360): no new batches go out until every Produce request has
 * come back; then InitProducerId, and every unacknowledged batch gets a new sequence. */
void kp__idemp_bump(struct kp_producer *p, int err, const char *why);
/* Handles a partition error of an idempotent batch. Returns what to do with it. */
enum kp__verdict {
    KP__V_DONE,                         /* in the log already (a duplicate): report success */
    KP__V_RETRY,
    KP__V_FAIL,
    KP__V_FATAL,                        /* fail it, and the producer with it */
};
enum kp__verdict kp__idemp_classify(struct kp_producer *p, struct kp__batch *b, int err);
/* Bookkeeping when an idempotent batch is acknowledged. */
void kp__idemp_acked(struct kp_producer *p, struct kp__batch *b);

/* txn.c */
/* Runs the transaction manager's side of a scheduler pass: coordinator lookup,
 * AddPartitionsToTxn, offsets, EndTxn, purges, state changes (loop thread, lock not held). */
void kp__txn_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us);
/* The transaction coordinator if its connection is up; else NULL after starting its lookup or
 * its connection (lowering *next_us to a retry). */
struct kp__broker *kp__txn_coord(struct kp_producer *p, int64_t now_us, int64_t *next_us);
/* Forgets the coordinator (a NOT_COORDINATOR answer, a lost connection): it is looked up again. */
void kp__txn_coord_lost(struct kp_producer *p, const char *why);
/* A partition got a message in the open transaction: it joins the next AddPartitionsToTxn.
 * Lock held. Returns true if the loop should run soon. */
bool kp__txn_part_used(struct kp_producer *p, struct kp__part *pt);
/* May the partition's batches be sent now? Lock held. */
bool kp__txn_may_send(const struct kp_producer *p, const struct kp__part *pt);
/* The open transaction can no longer commit (a message failed, a sequence broke, ...): the next
 * transactional call says so and kp_abort_transaction is the way out; with bump, the abort ends
 * with an epoch bump. Later errors keep the first. Lock held. */
void kp__txn_abortable_locked(struct kp_producer *p, int err, bool bump, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The producer became fatal (kp__fatal): calls waiting on the transaction return. Lock held. */
void kp__txn_fatal_locked(struct kp_producer *p, int err, const char *reason);
/* Frees what the transaction manager holds (destroy). */
void kp__txn_release(struct kp_producer *p);

/* producer.c, for txn.c: waits (own thread) or runs the caller's loop until done(p) holds
 * (called with the lock held), serving delivery reports meanwhile, for up to timeout_ms of real
 * time (-1: no limit). Returns whether done held. */
bool kp__wait(struct kp_producer *p, int timeout_ms, bool (*done)(struct kp_producer *p));

/* Record batch header fields the producer stamps after building (KIP-98 layout): producer id,
 * epoch and base sequence sit inside the CRC-covered part, so the CRC is recomputed. */
#define KP__BATCH_OFF_PID 43
#define KP__BATCH_OFF_EPOCH 51
#define KP__BATCH_OFF_SEQ 53
#define KP__BATCH_OFF_CRC 17

#endif
