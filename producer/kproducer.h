/* libkproducer: a Kafka producer in the manner of librdkafka. Configuration uses librdkafka's
 * property names and defaults; produce() never blocks; every message gets exactly one delivery
 * report, served by kp_producer_poll() in the application's thread.
 *
 * Threading: by default the producer runs its own event loop on a background thread, and every
 * function below may be called from any thread (poll and flush from one thread at a time). With
 * kp_conf_set_event_base() the caller drives the loop instead: every call must then come from
 * the thread that runs that event_base, which also writes to sockets (block or ignore SIGPIPE
 * there; the producer's own thread blocks it). */
#ifndef KP_KPRODUCER_H
#define KP_KPRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct kw_clock;
struct kp_conf;
struct kp_producer;

/* Let the partitioner choose the partition. */
#define KP_PARTITION_UA (-1)

/* Error codes: 0, our own local errors (negative, numbered as librdkafka's RD_KAFKA_RESP_ERR__*
 * where librdkafka has the same error), and Kafka's wire codes (KW_EC_* in lib/errors.h:
 * positive, and -1 for UNKNOWN_SERVER_ERROR). */
enum kp_err {
    KP_ERR__BEGIN = -200,
    KP_ERR__BAD_MSG = -199,             /* a response we could not parse */
    KP_ERR__DESTROY = -197,             /* the producer is being destroyed */
    KP_ERR__FAIL = -196,                /* an internal failure (out of memory, ...) */
    KP_ERR__TRANSPORT = -195,           /* the connection failed or closed */
    KP_ERR__RESOLVE = -193,             /* a broker's host name did not resolve */
    KP_ERR__MSG_TIMED_OUT = -192,       /* delivery.timeout.ms passed before delivery */
    KP_ERR__UNKNOWN_PARTITION = -190,   /* the partition does not exist in the topic */
    KP_ERR__UNKNOWN_TOPIC = -188,       /* the cluster says the topic does not exist */
    KP_ERR__ALL_BROKERS_DOWN = -187,    /* error callback only: no broker is reachable */
    KP_ERR__INVALID_ARG = -186,
    KP_ERR__TIMED_OUT = -185,           /* a request or an operation timed out */
    KP_ERR__QUEUE_FULL = -184,          /* queue.buffering.max.messages/kbytes reached */
    KP_ERR__CONFLICT = -173,            /* the transactional call conflicts with one in progress */
    KP_ERR__STATE = -172,               /* not valid in the current (transactional) state */
    KP_ERR__UNSUPPORTED_FEATURE = -165, /* the broker cannot take what we need to send */
    KP_ERR__PURGE_QUEUE = -152,         /* destroyed (or purged) before it was sent */
    KP_ERR__PURGE_INFLIGHT = -151,      /* destroyed (or purged) while its request was out */
    KP_ERR__NOT_CONFIGURED = -145,      /* a transactional call without transactional.id */
    KP_ERR__FATAL = -150,               /* the producer hit a fatal error: see fatal_error() */
    KP_ERR__INCONSISTENT = -149,        /* the broker's answer contradicts itself */
    /* Ours, no librdkafka equivalent: without idempotence, the message failed after a request
     * carrying it may have been written (its response was lost or timed out). */
    KP_ERR__POSSIBLY_PERSISTED = -120,
    KP_ERR__END = -100,
    KP_ERR_NO_ERROR = 0,
};

/* Kafka's or our name for an error ("NOT_LEADER_OR_FOLLOWER", "_MSG_TIMED_OUT"), and its text
 * ("Local: Message timed out"). Static strings; unknown codes get a generic one. */
const char *kp_err2name(int err);
const char *kp_err2str(int err);

/* Whether a message may be in the partition log (librdkafka's rd_kafka_msg_status_t). */
enum kp_status {
    KP_STATUS_NOT_PERSISTED = 0,        /* never written: safe to produce again */
    KP_STATUS_POSSIBLY_PERSISTED = 1,   /* sent, outcome unknown */
    KP_STATUS_PERSISTED = 2,            /* acknowledged by the broker */
};

/* One delivery report. Pointers are valid only during the callback. */
struct kp_report {
    const char *topic;
    int32_t partition;          /* -1 if the message never reached a partition */
    int64_t offset;             /* -1 if unknown (failure, acks=0) */
    int64_t timestamp;          /* ms: CreateTime as sent, or the broker's LogAppendTime */
    int timestamp_type;         /* 0 CreateTime, 1 LogAppendTime */
    const void *key;            /* NULL for a null key */
    size_t key_len;
    const void *value;          /* NULL for a null value */
    size_t value_len;
    void *opaque;               /* as given to kp_producer_produce */
    int err;                    /* 0, or the error that ended the message */
    int cause;                  /* the error behind err: what the last attempt got, for
                                   KP_ERR__MSG_TIMED_OUT and KP_ERR__POSSIBLY_PERSISTED; else err */
    int status;                 /* enum kp_status */
    const char *errstr;         /* what happened, in words ("" on success) */
};

/* A record header for produce(): name must not be NULL; a NULL value is a null header value. */
struct kp_header {
    const char *name;
    const void *value;
    size_t value_len;
};

/* Syslog levels, as librdkafka's log callback. */
enum kp_log_level {
    KP_LOG_ERR = 3,
    KP_LOG_WARNING = 4,
    KP_LOG_NOTICE = 5,
    KP_LOG_INFO = 6,
    KP_LOG_DEBUG = 7,
};

typedef void (*kp_dr_cb)(struct kp_producer *p, const struct kp_report *r, void *opaque);
/* Errors outside delivery reports (all brokers down, fatal errors), served by poll. */
typedef void (*kp_error_cb)(struct kp_producer *p, int err, const char *reason, void *opaque);
/* Log lines; ctx names the debug context ("broker", "metadata", ...). Called from the producer's
 * thread (or the caller's loop thread), sometimes with internal locks held: it must be
 * thread-safe and must not call kp_producer_* functions. */
typedef void (*kp_log_cb)(const struct kp_producer *p, int level, const char *ctx,
                          const char *line, void *opaque);

/* --- configuration ---------------------------------------------------------------------------- */

enum kp_conf_res { KP_CONF_OK = 0, KP_CONF_INVALID = -1, KP_CONF_UNKNOWN = -2 };

/* A configuration holding every default; NULL if out of memory. */
struct kp_conf *kp_conf_new(void);
/* An independent copy (callbacks included); NULL if out of memory. */
struct kp_conf *kp_conf_dup(const struct kp_conf *conf);
void kp_conf_destroy(struct kp_conf *conf);
/* Sets a property by librdkafka's name (or alias). Returns KP_CONF_OK, or KP_CONF_UNKNOWN /
 * KP_CONF_INVALID with a message naming the key and the allowed values in errstr. */
int kp_conf_set(struct kp_conf *conf, const char *name, const char *value, char *errstr,
                size_t errstr_size);
/* Writes the property's current value, as text, to dst; KP_CONF_OK or KP_CONF_UNKNOWN. */
int kp_conf_get(const struct kp_conf *conf, const char *name, char *dst, size_t dst_size);
void kp_conf_set_dr_cb(struct kp_conf *conf, kp_dr_cb cb);
void kp_conf_set_error_cb(struct kp_conf *conf, kp_error_cb cb);
/* NULL restores the default, which writes to stderr. */
void kp_conf_set_log_cb(struct kp_conf *conf, kp_log_cb cb);
/* The opaque passed to every callback. */
void kp_conf_set_opaque(struct kp_conf *conf, void *opaque);
/* Every request frame the producer writes (direction 0) and every response frame it reads
 * (direction 1), size prefix excluded, with the broker's node id (-1 for a bootstrap address not
 * matched to a node yet) and the key and version of the request (a response's: of the request it
 * answers; -1 for a response nobody waits for, which is then dropped). Called on the loop thread
 * as the frame goes out or comes in; frame is valid only during the call. Like the log callback,
 * it must not call kp_producer_* functions. */
typedef void (*kp_trace_cb)(struct kp_producer *p, int direction, int broker_id,
                            const uint8_t *frame, size_t len, int api_key, int api_version,
                            void *opaque);
/* NULL (the default) traces nothing and costs nothing. */
void kp_conf_set_trace_cb(struct kp_conf *conf, kp_trace_cb cb);
/* Runs the producer on base, driven by the caller, instead of its own thread; clock (NULL: a
 * libevent clock on base) times linger, backoff and timeouts, so a test can share a virtual clock
 * with a mock cluster (time then moves only when the test moves it: poll and flush wait in real
 * time for I/O only). poll and flush run the loop themselves, so call them from outside it, not
 * from its callbacks. base and clock must outlive the producer. */
void kp_conf_set_event_base(struct kp_conf *conf, struct event_base *base, struct kw_clock *clock);

/* --- the producer ----------------------------------------------------------------------------- */

/* Checks conf (idempotence conflicts included, as librdkafka does), copies it, and starts the
 * producer; conf stays the caller's. NULL on failure, with the reason in errstr. */
struct kp_producer *kp_producer_new(const struct kp_conf *conf, char *errstr, size_t errstr_size);

/* Stops the producer without waiting for delivery (call kp_producer_flush first for that):
 * messages not yet delivered get their report now, with KP_ERR__PURGE_QUEUE or, if a request
 * carried them, KP_ERR__PURGE_INFLIGHT. Frees everything. NULL does nothing. */
void kp_producer_destroy(struct kp_producer *p);

/* Message flags for produce. */
#define KP_MSG_COPY 0           /* copy key, value and headers (the default) */
#define KP_MSG_FREE 0x1         /* on success, the producer owns value and frees it (free()) */

/* Queues one message and returns at once: 0, or KP_ERR__QUEUE_FULL, KP_ERR__UNKNOWN_TOPIC (the
 * cluster said it does not exist), the Kafka error the cluster gave for the topic
 * (TOPIC_AUTHORIZATION_FAILED, ...), KP_ERR__UNKNOWN_PARTITION, KW_EC_MESSAGE_TOO_LARGE (over
 * message.max.bytes), KP_ERR__INVALID_ARG, KP_ERR__FATAL, KP_ERR__STATE (transactional.id is
 * set and no transaction is open: see kp_begin_transaction). Only a 0 return is followed by a
 * delivery report. partition is KP_PARTITION_UA or an explicit one; key/value NULL are null;
 * timestamp 0 means now (ms since the epoch); opaque comes back in the report. */
int kp_producer_produce(struct kp_producer *p, const char *topic, int32_t partition, int msgflags,
                        const void *key, size_t key_len, const void *value, size_t value_len,
                        const struct kp_header *headers, size_t n_headers, int64_t timestamp,
                        void *opaque);

/* Serves queued delivery reports and error events in the calling thread, waiting up to
 * timeout_ms (-1: forever) for the first. Returns the number served. In caller-driven mode it
 * runs the event loop meanwhile. */
int kp_producer_poll(struct kp_producer *p, int timeout_ms);

/* Sends every queued message at once (linger no longer applies) and waits up to timeout_ms
 * (-1: forever) until all are reported, serving reports as poll does. 0, or KP_ERR__TIMED_OUT. */
int kp_producer_flush(struct kp_producer *p, int timeout_ms);

/* Messages produced and not yet reported. */
int kp_producer_outq_len(struct kp_producer *p);

/* 0 while all is well; once a fatal error happened (idempotence could not be kept safely, or a
 * transactional producer was fenced, refused or told its transaction state is invalid), its
 * code, with the reason in errstr. Then produce fails and queued messages fail with
 * KP_ERR__FATAL. A fenced transactional producer's code is KW_EC_PRODUCER_FENCED, also when the
 * broker said INVALID_PRODUCER_EPOCH. */
int kp_producer_fatal_error(struct kp_producer *p, char *errstr, size_t errstr_size);

/* A snapshot of counters, for applications and tests. */
struct kp_stats {
    int64_t msgs_queued;        /* produced, not yet reported */
    int64_t bytes_queued;
    int64_t requests_inflight;  /* requests awaiting a response, all brokers */
    int brokers_up;             /* connections ready for requests */
    int brokers_connecting;     /* connections being set up (TCP or ApiVersions) */
    int64_t producer_id;        /* -1 without idempotence or before InitProducerId */
    int16_t producer_epoch;
    int64_t produce_requests;   /* ProduceRequests sent */
    int64_t retries;            /* batches sent again */
    int64_t epoch_bumps;
    uint64_t seed;              /* kp.seed in use */
};
void kp_producer_stats(struct kp_producer *p, struct kp_stats *out);

/* --- transactions ------------------------------------------------------------------------------
 * With transactional.id set the producer is transactional, as librdkafka's: call
 * kp_init_transactions once, then kp_begin_transaction, produce, optionally
 * kp_send_offsets_to_transaction, and kp_commit_transaction or kp_abort_transaction; then the
 * next begin. Messages are accepted only inside a transaction. read_committed consumers see a
 * transaction's messages (and its consumer offsets take effect) only once it commits.
 *
 * Each call returns err->code (0 on success) and, when err is not NULL, classifies a failure:
 *   retriable           the same call may simply be made again; init, commit, abort and
 *                       send_offsets go on in the background after a timeout
 *                       (KP_ERR__TIMED_OUT), and calling again resumes them;
 *   txn_requires_abort  the transaction cannot commit: call kp_abort_transaction, then begin
 *                       a new one;
 *   fatal               the producer is unusable (fenced by a newer instance with the same
 *                       transactional.id, not authorized, ...): kp_producer_fatal_error gives
 *                       the same code; destroy it.
 * A failure with no flag set (KP_ERR__STATE: a call out of order) is the application's.
 *
 * The calls block, waiting up to timeout_ms of real time (-1: transaction.timeout.ms, twice that
 * for init), serving delivery reports meanwhile as kp_producer_flush does; in caller-driven mode
 * they run the caller's event loop, so call them from outside it. One thread at a time. */
struct kp_txn_error {
    int code;                   /* 0, a KW_EC_* broker code or a KP_ERR__* local code */
    bool retriable;             /* the same call may simply be made again */
    bool txn_requires_abort;    /* call kp_abort_transaction, then start a new one */
    bool fatal;                 /* the producer is unusable: destroy it */
    char str[256];
};

/* One consumer offset for kp_send_offsets_to_transaction: the next message to consume. */
struct kp_topic_partition_offset {
    const char *topic;
    int32_t partition;
    int64_t offset;             /* < 0: skipped, as librdkafka skips logical offsets */
    const char *metadata;       /* NULL: none */
};

/* Finds the transaction coordinator and gets the producer id and epoch for transactional.id,
 * which fences any older producer with the same id and has the coordinator abort a
 * transaction it left open. Retriable on timeout; KP_ERR__STATE if already done. */
int kp_init_transactions(struct kp_producer *p, int timeout_ms, struct kp_txn_error *err);
/* Opens a transaction (no request: partitions join it as messages are produced to them).
 * KP_ERR__STATE if one is open or init has not succeeded. */
int kp_begin_transaction(struct kp_producer *p, struct kp_txn_error *err);
/* Adds consumer offsets of group_id to the open transaction: AddOffsetsToTxn to the transaction
 * coordinator, then TxnOffsetCommit to the group's coordinator. They take effect only if the
 * transaction commits. Offsets below 0 are skipped (none left: success, nothing sent); the
 * strings are copied. Calling again while one is in progress resumes it. */
int kp_send_offsets_to_transaction(struct kp_producer *p, const char *group_id,
                                   const struct kp_topic_partition_offset *offsets, int n,
                                   int timeout_ms, struct kp_txn_error *err);
/* Sends every message of the transaction (linger no longer applies), then commits it with
 * EndTxn. If any message failed, nothing is committed and the error requires an abort. */
int kp_commit_transaction(struct kp_producer *p, int timeout_ms, struct kp_txn_error *err);
/* Purges the transaction's queued messages (reported with KP_ERR__PURGE_QUEUE), waits for those
 * in flight, and aborts it with EndTxn; after an error that broke the sequence numbers it also
 * bumps the producer epoch (KIP-360) so the next transaction starts clean. */
int kp_abort_transaction(struct kp_producer *p, int timeout_ms, struct kp_txn_error *err);

#endif
