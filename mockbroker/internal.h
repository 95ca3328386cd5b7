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
    int64_t append_us;              /* cluster clock at append: follower lag and ISR expiry */
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

/* A transaction's footprint on one partition, from its first data batch (or, with no data, from
 * EndTxn) until its marker is below the high watermark; meanwhile the last stable offset stays at
 * or below its first offset (Kafka's ongoing and not yet replicated transactions). */
struct mb__ptxn {
    int64_t producer_id;
    int16_t epoch;                  /* of the marker, once one is owed */
    int8_t owed;                    /* -1, or the marker still to write: 0 abort, 1 commit */
    int8_t type;                    /* the marker written: 0 abort, 1 commit; -1 none yet */
    int64_t first_offset;           /* of its first data batch here, -1 if none */
    int64_t marker_offset;          /* -1 until the marker is written */
};

/* One entry of the aborted-transaction index (Kafka's .txnindex), kept in marker order. */
struct mb__aborted {
    int64_t producer_id;
    int64_t first_offset;
    int64_t last_offset;            /* its abort marker */
};

struct mb__topic;
struct mb__partition;

/* A replica's copy of the log, which is always the partition's log up to pos: followers copy
 * whole batches, and a truncation clamps every replica (replication.c). */
struct mb__replica {
    struct mb__partition *p;
    int broker;
    int64_t pos;                    /* its log end offset (the leader's is p->log_end) */
    uint8_t mode;                   /* enum mb_follower_mode */
    int64_t lag_us;
    int32_t lag_batches;
    uint64_t advance_timer;         /* delay mode: the next batch is due */
    uint64_t expire_timer;          /* in the ISR but behind: replica.lag.time.max.ms runs out */
};

struct mb__partition {
    struct mb__topic *topic;
    int32_t index;
    int leader;                     /* broker id or -1 */
    int32_t leader_epoch;
    int n_replicas, replicas[MB_MAX_REPLICAS];
    int n_isr, isr[MB_MAX_REPLICAS];  /* in assignment order */
    struct mb__replica repl[MB_MAX_REPLICAS];  /* parallel to replicas */
    int64_t epoch_start;            /* log end when the current leader epoch began */
    int64_t log_start;
    int64_t log_end;                /* next offset to assign */
    int64_t high_watermark;
    struct mb__batch *batches;      /* ordered by offset */
    size_t n_batches, cap_batches, first_batch;    /* [first_batch, n_batches) are live */
    int64_t bytes;                  /* of live batches */
    struct mb__producer *producers;
    size_t n_producers, cap_producers;
    struct mb__ptxn *txns;          /* in order of their first batch (or marker) */
    size_t n_txns, cap_txns;
    struct mb__aborted *aborted;
    size_t n_aborted, cap_aborted;
};

struct mb__topic {
    struct mb_cluster *c;
    char *name;
    uint8_t id[16];
    int32_t n_partitions;
    struct mb__partition *partitions;
    int32_t min_insync_replicas;
    int32_t max_message_bytes;
    int timestamp_type;             /* 0 CreateTime, 1 LogAppendTime */
    int64_t retention_bytes;
    bool unclean;                   /* unclean.leader.election.enable */
    const char *jname;              /* the name, interned for the journal */
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
struct mb__rule;

/* What the rules that fired on one request add up to (fault.c builds it, the pipeline in
 * dispatch.c and conn.c follows it). Rules stay referenced until the request is freed. */
struct mb__plan {
    int n;
    struct mb__rule **rules;        /* those that fired, in rule order */
    bool error_before, error_after; /* an error (or unknown_producer_id) rule fired */
    bool close_before, close_after, lose;
    bool side_before, side_after;   /* side-effect actions to run */
    bool side_response;             /* ... and some once the answer has gone */
    bool corrupt;
    struct mb__rule *hold_before, *hold_after;
    int64_t delay_before_us, delay_after_us, throttle_us, pause_us;
    int32_t truncate_at;            /* bytes of the answer to send, or -1 */
    int32_t corrupt_at;             /* byte to invert, -1: chosen from the fault stream */
    int32_t split_bytes;            /* 0: not split */
    int64_t split_interval_us;
};

/* One request from arrival to its response. Requests are answered in arrival order, and, as a
 * Kafka broker mutes a connection while a request on it is in progress, a connection reads no
 * new request while an earlier one is unanswered (held, delayed, waiting for the ISR...). */
struct mb__req {
    struct mb_cluster *c;
    struct mb__conn *conn;          /* NULL once the connection is gone */
    struct mb__broker *broker;      /* the broker it arrived at */
    uint64_t conn_id;               /* conn->id, kept for the journal after a close */
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
    bool pinned;                    /* being applied: a closing connection detaches, not frees */
    bool waiting;                   /* in fetch_waiters or produce_waiters */
    bool held;                      /* in the cluster's held list */
    bool answered;                  /* its fate on the wire is journaled */
    uint8_t stage;                  /* enum mb__stage */
    int16_t first_error;            /* the response's first error code, for the journal */
    int64_t arrived_us;
    uint64_t timer;                 /* long-poll Fetch or acks=-1 timeout, or 0 */
    uint64_t fault_timer;           /* a delay, or 0 */
    struct mb__plan *plan;          /* the rules that fired on it, or NULL */
    void *resp;                     /* a response kept while it waits (acks=-1), in arena */
    void *wait;                     /* the handler's waiting state, in arena */
    TAILQ_ENTRY(mb__req) link;      /* in conn->reqs */
    LIST_ENTRY(mb__req) wait_link;  /* in cluster->fetch_waiters or produce_waiters */
    TAILQ_ENTRY(mb__req) hold_link; /* in cluster->held */
};
TAILQ_HEAD(mb__req_list, mb__req);
LIST_HEAD(mb__wait_list, mb__req);

/* Where a request is on its way; a hold or delay moves it one stage on when it ends. */
enum mb__stage {
    MB__STAGE_NEW = 0,
    MB__STAGE_HOLD_BEFORE,          /* parked before applying */
    MB__STAGE_DELAY_BEFORE,
    MB__STAGE_APPLY,                /* applied (or applying, or waiting in its handler) */
    MB__STAGE_HOLD_AFTER,           /* answer encoded, parked */
    MB__STAGE_DELAY_AFTER,
    MB__STAGE_READY,                /* answer final */
};

struct mb__broker;

struct mb__conn {
    struct mb_cluster *c;
    struct mb__broker *broker;
    uint64_t id;                    /* numbered by the cluster, never by the peer's port */
    struct bufferevent *bev;        /* writes only */
    struct event *read_ev;
    struct event *closed_ev;        /* the client's end, watched while muted (may be NULL) */
    bool watching_close;
    bool peer_gone;                 /* seen by closed_ev; not watched again */
    struct event *resume_ev;        /* deferred: take buffered frames once reading may resume */
    uint8_t *rbuf;                  /* bytes read, not yet framed */
    size_t rlen;
    struct mb__frame *big;          /* a frame larger than rbuf, being read into */
    size_t big_got;
    size_t big_cap;                 /* bytes allocated for big's data: grows as they arrive */
    char peer[64];
    struct mb__req_list reqs;
    int n_reqs;
    bool reading;                   /* read_ev is added */
    bool backpressure;              /* output too large: reading stops until it drains */
    bool write_low;                 /* the write callback fires at half of OUTPUT_HIGH */
    bool lost;                      /* lose_response fired: no more responses are written */
    bool closing;                   /* close once the output has drained */
    bool paused;                    /* pause_reading or a KIP-219 throttle is running */
    uint64_t pause_timer;
    int64_t paused_until_us;
    /* split_response: bytes written a piece at a time; everything after them queues here */
    struct kw_buf trickle;
    size_t trickle_at, split_end;
    int32_t split_bytes;
    int64_t split_interval_us;
    uint64_t trickle_timer;
    const char *jclient;            /* the last client id, interned, and its length */
    int32_t jclient_len;
    struct event *doom_ev;          /* closes the connection soon */
    char doom_why[96];
    LIST_ENTRY(mb__conn) link;
};

struct mb__broker {
    struct mb_cluster *c;
    int id;
    int port;
    int state;                      /* enum mb_broker_state */
    struct evconnlistener *listener;    /* NULL while down */
    LIST_HEAD(, mb__conn) conns;
    uint64_t requests[MB__MAX_API_KEY];
    uint64_t requests_total;
};

/* A fault rule as installed: the public struct with its strings owned here. Requests that it
 * fired on hold references, so removing it while they are in flight is safe. */
struct mb__rule {
    struct mb_rule r;               /* strings point into `strings` */
    char *strings;
    const char *jname;              /* the name, interned for the journal */
    uint32_t refs;
    bool removed;
    uint64_t matched, fired;
    int held;
    TAILQ_ENTRY(mb__rule) link;
};
TAILQ_HEAD(mb__rule_list, mb__rule);

/* The default follower mode of a broker for topics created later (mb_follower_set, topic NULL). */
struct mb__follow_default {
    uint8_t mode;
    int64_t lag_us;
    int32_t lag_batches;
};

/* The journal: a ring of fixed-size entries, grown up to its cap, then overwriting the oldest. */
struct mb__journal {
    struct mb_journal_entry *ring;
    size_t cap, max, head, n;
    uint64_t last_id;
    uint64_t dropped, dropped_by_kind[MB_JOURNAL_KINDS];
    struct mb_journal_entry sink;   /* written to when memory runs out */
    char **names;                   /* interned strings: an open-addressed set */
    size_t n_names, cap_names;
};

typedef void (*mb__call_fn)(struct mb_cluster *c, void *arg);

struct mb__group;
LIST_HEAD(mb__group_list, mb__group);
struct mb__txn;
LIST_HEAD(mb__txn_list, mb__txn);

struct mb_cluster {
    struct mb_config cfg;
    struct event_base *base;
    bool own_base;
    struct kw_clock *clock;
    struct kw_evclock *evclock;     /* when the clock is ours */
    uint64_t seed;
    uint64_t rng;                   /* splitmix64 state from the seed */
    uint64_t fault_rng;             /* a second stream, so faults do not shift topic ids */
    char cluster_id[64];
    char *bootstrap;
    int n_brokers;
    struct mb__broker *brokers;     /* index id-1 */
    int controller;
    LIST_HEAD(, mb__topic) topics;
    int n_topics;
    int64_t next_producer_id;
    struct mb__txn_list txns;       /* transactional ids, txn.c */
    uint64_t next_conn_id;
    uint64_t next_req_seq;
    struct mb__wait_list fetch_waiters;
    struct mb__wait_list produce_waiters;   /* acks=-1 requests waiting for the ISR */
    struct mb__req_list held;               /* requests held by rules, in arrival order */
    struct mb__rule_list rules;
    int n_rules;
    LIST_HEAD(, mb__after_response) after_response;    /* side effects due next loop turn */
    uint64_t rules_added;
    struct mb__follow_default *follow;      /* per broker (index id-1) */
    struct mb__journal journal;
    struct mb__group_list groups;   /* consumer groups, group.c */
    uint64_t member_seq;            /* member ids handed out */
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
/* A NUL-terminated copy of s (a null string gives ""), or NULL without memory. */
char *mb__dup_str(struct kw_str s);
/* Makes room for element n in *arr (capacity *cap, elements of size bytes), doubling it from 4;
 * false, with *arr untouched, without memory. */
bool mb__grow(void **arr, int *cap, int n, size_t size);
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
/* Closes the connection and frees it; pending requests are freed, or only detached if pinned
 * (being applied: whoever pinned frees them). */
void mb__conn_close(struct mb__conn *conn, const char *why, ...)
    __attribute__((format(printf, 2, 3)));
/* Closes the connection from the loop soon, once whoever is using it has unwound. */
void mb__conn_doom(struct mb__conn *conn, const char *why);
/* Encodes resp (the API's response struct; fault rules may stamp errors and a throttle time on
 * a copy) with its header into req->out, then mb__req_ready. */
void mb__respond(struct mb__req *req, const void *resp);
/* No response at all (acks=0), then mb__req_ready. */
void mb__respond_none(struct mb__req *req);
/* The answer is final: a hold or delay after apply parks it, else it is done and the
 * connection writes what is ready (unless the request is being applied: then later). */
void mb__req_ready(struct mb__req *req);
/* Writes every finished response at the head of the queue, in order, through the faults that
 * shape it (lose, close, truncate, corrupt, split, throttle). */
void mb__conn_flush(struct mb__conn *conn);
/* Stops reading the connection for us microseconds (from now; a longer pause wins). */
void mb__conn_pause(struct mb__conn *conn, int64_t us);
/* Starts or stops reading as the connection's state allows (after a blackhole ends...). */
void mb__conn_update(struct mb__conn *conn);
/* Frees a request (journaled as dropped if it was never answered). */
void mb__req_free(struct mb__req *req);
/* Listens on the broker's port (again) / closes its listener and its connections. */
int mb__broker_listen(struct mb__broker *b, char *errstr, size_t errstr_size);
void mb__broker_unlisten(struct mb__broker *b, const char *why);

/* dispatch.c: decode the frame, count it, journal it, match it against the rules, then go
 * through its stages. A negative return means the connection is gone (the reason is logged). */
int mb__dispatch(struct mb__conn *conn, struct mb__frame *frame);
/* Runs the request's stages from where it is (a hold or delay before apply ended): side effects
 * and faults before apply, the handler, side effects after. -1 if the connection went. */
int mb__req_continue(struct mb__req *req);

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
int mb__handle_offset_commit(struct mb__req *req);
int mb__handle_offset_fetch(struct mb__req *req);
int mb__handle_join_group(struct mb__req *req);
int mb__handle_heartbeat(struct mb__req *req);
int mb__handle_leave_group(struct mb__req *req);
int mb__handle_sync_group(struct mb__req *req);
int mb__handle_describe_groups(struct mb__req *req);
int mb__handle_list_groups(struct mb__req *req);
int mb__handle_add_partitions_to_txn(struct mb__req *req);
int mb__handle_add_offsets_to_txn(struct mb__req *req);
int mb__handle_end_txn(struct mb__req *req);
int mb__handle_txn_offset_commit(struct mb__req *req);

/* handle_fetch.c: re-examines long-poll Fetch requests after data arrived. */
void mb__fetch_wake(struct mb_cluster *c);
/* handle_produce.c: re-examines acks=-1 requests waiting for the ISR. */
void mb__produce_wake(struct mb_cluster *c);

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
/* Drops every batch at or after `end` (a batch boundary) and rebuilds the producer state from
 * what remains. */
void mb__partition_truncate(struct mb__partition *p, int64_t end);
/* Forgets a producer id (unknown_producer_id). */
void mb__partition_forget_producer(struct mb__partition *p, int64_t producer_id);
/* The last stable offset: the high watermark, or the first offset of the earliest transaction
 * open here (or whose marker is not yet below the high watermark) if lower; never below the
 * log start. */
int64_t mb__partition_lso(const struct mb__partition *p);
/* Whether `offset` holds data of an aborted transaction of producer_id (the aborted index). */
bool mb__partition_aborted(const struct mb__partition *p, int64_t producer_id, int64_t offset);
/* The producer's transaction here is over: its marker (commit or abort, with the producer epoch
 * given) is owed, and written at once if the partition has a leader. -1 out of memory. */
int mb__partition_end_txn(struct mb_cluster *c, struct mb__partition *p, int64_t producer_id,
                          int16_t epoch, bool commit);
/* Writes the markers owed (after an election brought a leader, or a truncation cut markers).
 * Returns how many are still owed. */
int mb__partition_write_markers(struct mb_cluster *c, struct mb__partition *p);
/* True if a marker of producer_id is still owed here. */
bool mb__partition_owes(const struct mb__partition *p, int64_t producer_id);

/* replication.c */
/* Sets up the replicas of a new partition (positions, the brokers' default follower modes). */
void mb__repl_init(struct mb_cluster *c, struct mb__partition *p);
/* Cancels a partition's replication timers (before it is freed). */
void mb__repl_release(struct mb_cluster *c, struct mb__partition *p);
/* After an append (or a retention drop): followers copy what their mode lets them, the high
 * watermark and ISR follow, and waiters are woken. */
void mb__repl_appended(struct mb_cluster *c, struct mb__partition *p);
/* Whether an acks=-1 append that needs the high watermark at `required` is answered, as
 * Kafka's checkEnoughReplicasReachOffset: true with *ec set (0, NOT_LEADER_OR_FOLLOWER, or
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND), or false while it must wait. */
bool mb__repl_acks_done(const struct mb__partition *p, int broker, int32_t leader_epoch,
                        int64_t required, int16_t *ec);
/* The state changes behind the public calls and the side-effect actions; 0 or -1 + errstr. */
int mb__broker_set_state(struct mb_cluster *c, int id, int state, char *errstr, size_t size);
int mb__leader_move(struct mb_cluster *c, struct mb__partition *p, int broker, char *errstr,
                    size_t size);
int mb__isr_set(struct mb_cluster *c, struct mb__partition *p, const int *brokers, int n,
                char *errstr, size_t size);
int mb__replicas_set(struct mb_cluster *c, struct mb__partition *p, const int *brokers, int n,
                     char *errstr, size_t size);
int mb__follower_set(struct mb_cluster *c, struct mb__partition *p, int broker, int mode,
                     int64_t lag_us, int32_t lag_batches, char *errstr, size_t size);

/* fault.c */
/* Matches a decoded request against the rules (only called when there are some): counts,
 * fires, journals, and builds req->plan if any fired. */
void mb__fault_match(struct mb__req *req);
/* The error code a fired error rule (or unknown_producer_id, before apply) gives topic /
 * partition at `when`, or 0; *action gets the action for its message and record errors. */
int16_t mb__fault_error(const struct mb__req *req, int when, struct kw_str topic,
                        int32_t partition, const struct mb_action **action);
/* Returns resp, or a copy with fired errors stamped (read-only APIs before apply, every API but
 * Produce after apply) and the throttle time set; also sets req->first_error. */
const void *mb__fault_stamp(struct mb__req *req, const void *resp);
/* The first non-zero ErrorCode in a response struct, or 0. */
int16_t mb__first_error(const struct mb__req *req, const void *resp);
/* Runs the plan's side effects for `when`. -1 if they closed the request's connection. */
int mb__fault_side_effects(struct mb__req *req, int when);
/* Parks a request under its hold rule until mb_rule_release. */
void mb__fault_hold(struct mb__req *req, struct mb__rule *rule);
/* Takes a request off the held list (it is being freed). */
void mb__fault_unhold(struct mb__req *req);
/* Drops the plan's rule references. */
void mb__plan_release(struct mb__plan *plan);
/* True if the API answers a throttle at once and then mutes the connection (KIP-219). */
bool mb__throttle_first(int api_key, int version);
/* Frees every rule (cluster destroy), and the side effects still due after an answer. */
void mb__rules_destroy(struct mb_cluster *c);
/* Schedules the plan's after_response side effects: its answer has just been handed to the
 * connection; they run a loop turn later, so that answer is on its way first. */
void mb__fault_after_response(struct mb__req *req);
/* The action's effect, with the request that fired it or NULL. 0 or -1 + errstr. */
int mb__action_do(struct mb_cluster *c, const struct mb_action *a, struct mb__req *req,
                  char *errstr, size_t size);

/* group.c: the group coordinator. */
struct kw_offset_commit_req_partition;
struct kw_offset_fetch_resp;
struct kw_describe_groups_resp_group;
struct kw_list_groups_req;
struct kw_list_groups_resp;
/* The broker id coordinating group_id (murmur2 over the live brokers, as FindCoordinator), -1
 * if none is up. */
int mb__group_coordinator(struct mb_cluster *c, struct kw_str group_id);
/* 0 if req's broker coordinates group_id; else an error rule's code, INVALID_GROUP_ID or
 * NOT_COORDINATOR. */
int16_t mb__group_check(struct mb__req *req, struct kw_str group_id);
/* JoinGroup / SyncGroup: answer now or hold the request until the group moves on. Return 0. */
int mb__group_join(struct mb__req *req);
int mb__group_sync(struct mb__req *req);
/* Heartbeat / LeaveGroup of one member: the error code to answer. */
int16_t mb__group_heartbeat(struct mb__req *req, struct kw_str group_id, int32_t generation,
                            struct kw_str member_id);
int16_t mb__group_leave(struct mb__req *req, struct kw_str group_id, struct kw_str member_id);
/* OffsetCommit: whether this member may commit now (creating an empty group for a groupless
 * commit), then each partition's store; error codes. */
int16_t mb__group_commit_check(struct mb__req *req, struct kw_str group_id, int32_t generation,
                               struct kw_str member_id);
int16_t mb__group_commit(struct mb__req *req, struct kw_str group_id, struct kw_str topic,
                         const struct kw_offset_commit_req_partition *p);
/* Fill responses from group state (arrays from req's arena, strings borrowed until the answer
 * is encoded). -1 when out of memory. */
int mb__group_offset_fetch(struct mb__req *req, struct kw_offset_fetch_resp *resp);
int mb__group_describe(struct mb__req *req, struct kw_str group_id,
                       struct kw_describe_groups_resp_group *out);
int mb__group_list(struct mb__req *req, const struct kw_list_groups_req *m,
                   struct kw_list_groups_resp *resp);
/* Frees every group (cluster stop, after the connections are closed). */
void mb__groups_destroy(struct mb_cluster *c);
/* TxnOffsetCommit: whether the member may commit (as OffsetCommit, from v3 when it names its
 * generation or member id; a missing group is created empty), then each partition's offset is
 * kept pending under the producer id. Error codes. */
struct kw_txn_offset_commit_req_partition;
int16_t mb__group_txn_commit_check(struct mb__req *req, struct kw_str group_id,
                                   int32_t generation, struct kw_str member_id);
int16_t mb__group_txn_commit(struct mb__req *req, struct kw_str group_id, int64_t producer_id,
                             struct kw_str topic,
                             const struct kw_txn_offset_commit_req_partition *p);
/* The transaction of producer_id ended: its pending offsets in the group become committed
 * (commit) or are dropped. */
void mb__group_txn_offsets_complete(struct mb_cluster *c, const char *group_id,
                                    int64_t producer_id, bool commit);

/* txn.c: the transaction coordinator. */
struct kw_init_producer_id_req;
/* The broker coordinating a transactional id (as groups: murmur2 over the live brokers), -1 if
 * none is up. */
int mb__txn_coordinator(struct mb_cluster *c, struct kw_str transactional_id);
/* InitProducerId with a transactional id: the error code, else *pid and *epoch. */
int16_t mb__txn_init(struct mb__req *req, const struct kw_init_producer_id_req *m, int64_t *pid,
                     int16_t *epoch);
/* AddPartitionsToTxn and AddOffsetsToTxn: the transactional id, producer id and epoch name the
 * current producer of an id this broker coordinates, whose transaction is not being completed.
 * 0 or the error code (PRODUCER_FENCED as the request's version knows it). */
int16_t mb__txn_check(struct mb__req *req, struct kw_str transactional_id, int64_t producer_id,
                      int16_t producer_epoch);
/* After mb__txn_check: the transaction (begun if need be) gets every partition of m that
 * exists, or the group. 0 or UNKNOWN_SERVER_ERROR (out of memory). */
struct kw_add_partitions_to_txn_req;
int16_t mb__txn_add_partitions(struct mb__req *req, const struct kw_add_partitions_to_txn_req *m);
int16_t mb__txn_add_group(struct mb__req *req, struct kw_str transactional_id,
                          struct kw_str group_id);
/* EndTxn: the error code to answer. */
int16_t mb__txn_end(struct mb__req *req, struct kw_str transactional_id, int64_t producer_id,
                    int16_t producer_epoch, bool commit);
/* TxnOffsetCommit's view of the transaction: 0, INVALID_PRODUCER_ID_MAPPING,
 * INVALID_PRODUCER_EPOCH or INVALID_TXN_STATE (the group was not added to it). */
int16_t mb__txn_offsets_check(struct mb_cluster *c, struct kw_str transactional_id,
                              int64_t producer_id, int16_t producer_epoch, struct kw_str group_id);
/* Produce: may this batch (its header) go into partition p? 0, or INVALID_TXN_STATE,
 * INVALID_PRODUCER_EPOCH, INVALID_PRODUCER_ID_MAPPING (KIP-890's verification). */
int16_t mb__txn_produce_check(struct mb_cluster *c, const struct mb__partition *p,
                              struct kw_str transactional_id, int64_t producer_id,
                              int16_t producer_epoch, bool transactional);
/* A partition got a leader: it writes the markers it owes, and transactions waiting for them
 * complete. */
void mb__txn_partition_led(struct mb_cluster *c, struct mb__partition *p);
/* Frees every transactional id (cluster stop). */
void mb__txns_destroy(struct mb_cluster *c);
/* The transactional ids known (at most max into ids, valid until the next request); returns how
 * many there are. */
int mb__txn_ids(struct mb_cluster *c, const char **ids, int max);

/* journal.c */
void mb__journal_init(struct mb_cluster *c);
void mb__journal_destroy(struct mb_cluster *c);
/* A new entry of `kind` stamped with the next id and the clock, other members at their "none"
 * values; never NULL (out of memory, a scratch entry that is then lost). */
struct mb_journal_entry *mb__jadd(struct mb_cluster *c, enum mb_journal_kind kind);
/* An entry about a request (its broker, connection, ids filled in). */
struct mb_journal_entry *mb__jreq(struct mb__req *req, enum mb_journal_kind kind);
/* A copy of s kept until the cluster is destroyed; the same pointer for equal strings. */
const char *mb__intern(struct mb_cluster *c, const char *s, size_t len);

#endif
