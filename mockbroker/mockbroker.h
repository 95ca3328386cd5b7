/* libmockbroker: an in-process mock Kafka cluster on libevent. N brokers on 127.0.0.1, partition
 * logs in memory, idempotent-producer state, simulated followers (ISR, high watermark, leader
 * election, truncation), fault rules, and a journal of everything that happened.
 *
 * Threading: by default the cluster runs its own event_base on its own thread, and every call
 * below is safe from any thread (it is handed to the loop and waits for it). With cfg.base set,
 * the caller drives that event_base (and may pass a kw_clock, e.g. a virtual one): calls then run
 * inline and must come from the loop's thread; that thread then writes to sockets, so ignore or
 * block SIGPIPE in it (the cluster's own thread blocks it).
 *
 * Time: everything timed (delays, holds with a timeout, follower lag, acks=-1 request timeouts,
 * throttles, replica.lag.time.max.ms) runs on the cluster's kw_clock, so with a virtual clock a
 * test moves all of it exactly and instantly.
 *
 * Vocabulary: the structs of rules, actions and journal entries name their members as the JSON
 * keys of scenario files and of the HTTP control API ("match": {"broker": 1, "api_key": 0},
 * "action": {"type": "error", "error_code": 6}); each enum has a _name/_parse pair for its JSON
 * string. A member documented as `"key"` is that JSON key. */
#ifndef MB_MOCKBROKER_H
#define MB_MOCKBROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct kw_clock;
struct mb_cluster;

enum mb_log_level { MB_LOG_ERROR = 0, MB_LOG_WARN, MB_LOG_INFO, MB_LOG_DEBUG };

typedef void (*mb_log_cb)(void *opaque, int level, const char *line);

struct mb_config {
    int brokers;                    /* ids 1..brokers; default 1 */
    int port;                       /* broker i listens on port+i-1; 0 = ephemeral ports */
    struct event_base *base;        /* NULL: the cluster runs its own loop thread */
    struct kw_clock *clock;         /* with base: the clock to use; NULL = libevent's */
    uint64_t seed;                  /* placement, topic ids, producer ids, fault choices */
    const char *cluster_id;         /* default "mockbroker-cluster" */
    bool auto_create;               /* create topics on Metadata (default true) */
    int default_partitions;         /* for auto-created topics (default 1) */
    int default_replication;        /* for auto-created topics (default min(3, brokers)) */
    int max_partitions;             /* per topic, CreateTopics refuses more (default 1000) */
    size_t max_request_size;        /* bytes; a larger frame closes the connection (100 MiB) */
    int32_t message_max_bytes;      /* default max.message.bytes (1048588, as Kafka) */
    int64_t retention_bytes;        /* default retention.bytes per partition; -1 = unlimited */
    int64_t producer_id_base;       /* first producer id handed out (default 1000) */
    int64_t replica_lag_time_max_ms;    /* replica.lag.time.max.ms (default 30000, as Kafka) */
    bool unclean_leader_election;   /* default of unclean.leader.election.enable (false) */
    size_t journal_max;             /* journal entries kept, oldest dropped (default 100000) */
    int log_level;                  /* enum mb_log_level; default MB_LOG_INFO */
    mb_log_cb log_cb;               /* NULL: lines go to stderr */
    void *log_opaque;
};

/* Fills cfg with the defaults above. */
void mb_config_init(struct mb_config *cfg);

/* Starts a cluster: every broker is listening when this returns. NULL on failure, with the reason
 * in errstr. */
struct mb_cluster *mb_cluster_new(const struct mb_config *cfg, char *errstr, size_t errstr_size);

/* Closes every connection and listener, stops the loop thread (if ours) and frees everything.
 * NULL is a no-op. */
void mb_cluster_destroy(struct mb_cluster *c);

/* "127.0.0.1:P1,127.0.0.1:P2,...": valid until destroy. */
const char *mb_cluster_bootstrap(struct mb_cluster *c);
/* The port broker `id` listens on (also while it is down: it comes back on it), or -1. */
int mb_broker_port(struct mb_cluster *c, int id);
/* The seed in use (cfg.seed, or the one chosen when cfg.seed was 0). */
uint64_t mb_cluster_seed(struct mb_cluster *c);

/* Topics. Each returns 0, or a Kafka error code (KW_EC_*, > 0) with errstr set. */
int mb_topic_create(struct mb_cluster *c, const char *topic, int partitions, int replication,
                    char *errstr, size_t errstr_size);
int mb_topic_delete(struct mb_cluster *c, const char *topic);
/* Sets a topic config: min.insync.replicas, max.message.bytes, message.timestamp.type
 * (CreateTime|LogAppendTime), retention.bytes, unclean.leader.election.enable (true|false).
 * Unknown keys and bad values are refused. */
int mb_topic_config_set(struct mb_cluster *c, const char *topic, const char *key,
                        const char *value, char *errstr, size_t errstr_size);

#define MB_MAX_REPLICAS 16

struct mb_partition_info {
    int leader;                     /* broker id, -1 if none */
    int32_t leader_epoch;
    int n_replicas, replicas[MB_MAX_REPLICAS];
    int n_isr, isr[MB_MAX_REPLICAS];
    int64_t log_start_offset;
    int64_t high_watermark;
    int64_t log_end_offset;
    int64_t batches;                /* batches held */
    int64_t bytes;                  /* bytes of batches held */
    /* Each replica's log end offset, in replicas[] order: the leader's is log_end_offset, a
     * follower's is how far it has copied (its log is the leader's up to there). */
    int64_t replica_offsets[MB_MAX_REPLICAS];
    /* What a read_committed consumer may read up to: the high watermark, or the first offset of
     * the earliest transaction still open on the partition if that is lower. */
    int64_t last_stable_offset;
    int64_t aborted_transactions;   /* entries in the aborted-transaction index */
};

/* 0, or KW_EC_UNKNOWN_TOPIC_OR_PARTITION. */
int mb_partition_info(struct mb_cluster *c, const char *topic, int partition,
                      struct mb_partition_info *out);

/* One record as stored, decoded: pointers into the mb_records it came from. */
struct mb_record {
    int64_t offset;
    int64_t timestamp;
    int timestamp_type;             /* 0 CreateTime, 1 LogAppendTime */
    const uint8_t *key;             /* NULL for a null key */
    int32_t key_len;
    const uint8_t *value;           /* NULL for a null value */
    int32_t value_len;
    int32_t n_headers;
    const struct mb_header *headers;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t sequence;               /* of this record: base sequence + offset delta; -1 if none */
    bool transactional;             /* from a transactional batch (markers included) */
    int control;                    /* -1 data, 0 abort marker, 1 commit marker */
};

struct mb_header {
    const char *key;                /* NUL-terminated */
    const uint8_t *value;           /* NULL for a null value */
    int32_t value_len;
};

struct mb_records {
    size_t count;
    struct mb_record *records;
    /* the bytes the records point into follow, owned by this object */
};

/* A decoded copy of partition records from `from` (the log start if lower), at most max (0 = all).
 * NULL if the partition does not exist. Free with mb_records_destroy. */
struct mb_records *mb_partition_records(struct mb_cluster *c, const char *topic, int partition,
                                        int64_t from, size_t max);
/* What a read_committed consumer reads from `from`: data records below the last stable offset,
 * without the records of aborted transactions and without markers. NULL if the partition does
 * not exist. Free with mb_records_destroy. */
struct mb_records *mb_partition_records_committed(struct mb_cluster *c, const char *topic,
                                                  int partition, int64_t from, size_t max);
void mb_records_destroy(struct mb_records *r);

/* --- transactions --------------------------------------------------------------------------------
 * A transaction coordinator as Kafka's (KIP-98): per transactional id a producer id, an epoch and
 * a state. InitProducerId bumps the epoch (aborting an open transaction first), AddPartitionsToTxn
 * and AddOffsetsToTxn open one, EndTxn writes a commit or abort marker into each of its
 * partitions; an open transaction older than its timeout is aborted by the coordinator, which
 * bumps the epoch and so fences its producer. */

enum mb_txn_state {
    MB_TXN_EMPTY = 0,               /* "Empty": no transaction since InitProducerId */
    MB_TXN_ONGOING,                 /* "Ongoing": partitions or a group were added */
    MB_TXN_PREPARE_COMMIT,          /* "PrepareCommit": markers still owed to a leaderless */
    MB_TXN_PREPARE_ABORT,           /* "PrepareAbort":  partition */
    MB_TXN_COMPLETE_COMMIT,         /* "CompleteCommit": every marker written */
    MB_TXN_COMPLETE_ABORT,          /* "CompleteAbort" */
};
/* Kafka's name of a state ("PrepareCommit"), "Unknown" out of range. */
const char *mb_txn_state_name(int state);

struct mb_txn_info {
    int64_t producer_id;
    int16_t producer_epoch;
    int state;                      /* enum mb_txn_state */
    int32_t timeout_ms;             /* the transaction timeout InitProducerId gave */
    int n_partitions;               /* topic partitions in the current (or last) transaction */
    int coordinator;                /* the broker coordinating it now, -1 if none is up */
};

/* 0 with *out filled, or KW_EC_TRANSACTIONAL_ID_NOT_FOUND (105) if no InitProducerId named it. */
int mb_txn_info(struct mb_cluster *c, const char *transactional_id, struct mb_txn_info *out);

/* Requests seen, by broker (-1: all) and API key (-1: all). */
uint64_t mb_request_count(struct mb_cluster *c, int broker, int api_key);

/* Runs cond(c, arg) on the cluster's loop until it returns true or timeout_ms passes; returns 0
 * when it held, -1 on timeout. Waits on state changes, never sleeps blindly. With cfg.base set
 * it runs the caller's loop meanwhile. cond must only read cluster state (mb_partition_info,
 * mb_request_count, ...). */
typedef bool (*mb_cond_cb)(struct mb_cluster *c, void *arg);
int mb_wait_until(struct mb_cluster *c, mb_cond_cb cond, void *arg, int timeout_ms);
/* Waits until the partition's log end offset reaches `count` records past its start... precisely:
 * until log_end_offset >= end_offset. 0 or -1 on timeout. */
int mb_wait_offset(struct mb_cluster *c, const char *topic, int partition, int64_t end_offset,
                   int timeout_ms);

/* --- replication and brokers ------------------------------------------------------------------
 * Each follower replica of a partition has a position (its log end offset) that follows the
 * leader's log on the cluster's loop, in one of these modes. The high watermark is the lowest
 * position in the ISR (it never goes back); a follower behind the leader for longer than
 * replica.lag.time.max.ms leaves the ISR, and rejoins once it reaches the high watermark. A
 * produce with acks=-1 is answered when the high watermark covers it (NOT_ENOUGH_REPLICAS_AFTER_
 * APPEND if the ISR is then below min.insync.replicas) or REQUEST_TIMED_OUT after its TimeoutMs;
 * the data stays in the leader's log either way, as in Kafka. */

enum mb_follower_mode {
    MB_FOLLOWER_IMMEDIATE = 0,      /* "immediate": copies each batch as it is appended */
    MB_FOLLOWER_DELAY,              /* "delay": copies each batch lag_ms after its append */
    MB_FOLLOWER_BATCHES,            /* "batches": stays lag_batches batches behind */
    MB_FOLLOWER_STOPPED,            /* "stopped": copies nothing until set otherwise */
};
const char *mb_follower_mode_name(enum mb_follower_mode m);
/* The mode for a name ("delay"), or -1. */
int mb_follower_mode_parse(const char *name);

enum mb_broker_state {
    MB_BROKER_UP = 0,               /* "up" */
    MB_BROKER_DOWN,                 /* "down": not listening; its connections are closed */
    MB_BROKER_BLACKHOLE,            /* "blackhole": accepts connections, never reads or answers */
};
const char *mb_broker_state_name(enum mb_broker_state s);
int mb_broker_state_parse(const char *name);
/* The state of broker `id`, or -1 for an unknown id. */
int mb_broker_state(struct mb_cluster *c, int id);

/* The calls below return 0, or -1 with the reason in errstr (errstr may be NULL). They are the
 * actions of the same names (mb_action_run) without a request around them. */

/* Down: closes the broker's listener (connects are refused) and its connections, removes it
 * from every ISR and elects new leaders for the partitions it led: the first live in-sync
 * replica in assignment order, else (with unclean.leader.election.enable) the first live
 * replica, else none (leader -1). A new leader bumps the leader epoch and truncates the log to
 * what it holds. */
int mb_broker_down(struct mb_cluster *c, int broker, char *errstr, size_t errstr_size);
/* Up: listens again on the same port (or stops a blackhole: held connections resume), rejoins
 * as a follower (truncated to the leader's log, then catching up in its follower mode) and
 * leads the partitions left leaderless that it may lead. */
int mb_broker_up(struct mb_cluster *c, int broker, char *errstr, size_t errstr_size);
/* Blackhole: new and existing connections are neither read nor answered until mb_broker_up;
 * the broker keeps its partitions and keeps replicating (a network partition from clients). */
int mb_broker_blackhole(struct mb_cluster *c, int broker, char *errstr, size_t errstr_size);
/* Moves leadership to `broker`, a live in-sync replica (MB_ANY: the preferred replica, the first
 * in the assignment). Epoch bump and truncation to the new leader's log, as on failover. */
int mb_leader_move(struct mb_cluster *c, const char *topic, int partition, int broker,
                   char *errstr, size_t errstr_size);
/* Sets the ISR (replicas of the partition, live, including the leader if there is one). A
 * follower left out that keeps copying rejoins when it catches up, as in Kafka: stop it first
 * (mb_follower_set) to keep it out. */
int mb_isr_set(struct mb_cluster *c, const char *topic, int partition, const int *brokers, int n,
               char *errstr, size_t errstr_size);
/* Reassigns the partition's replicas: new ones start empty and catch up in their mode, removed
 * ones are dropped; if the leader goes, the first new replica in the ISR leads. Refused if no
 * in-sync replica would remain. */
int mb_replicas_set(struct mb_cluster *c, const char *topic, int partition, const int *brokers,
                    int n, char *errstr, size_t errstr_size);
/* Sets how `broker` follows: for one partition, every partition of a topic (partition MB_ANY)
 * or of every topic (topic NULL); it also applies to topics created later when topic is NULL.
 * lag_ms is for MB_FOLLOWER_DELAY, lag_batches for MB_FOLLOWER_BATCHES. */
int mb_follower_set(struct mb_cluster *c, const char *topic, int partition, int broker,
                    enum mb_follower_mode mode, int64_t lag_ms, int32_t lag_batches,
                    char *errstr, size_t errstr_size);

/* --- fault rules --------------------------------------------------------------------------------
 * A rule is a name, a match, an action and a count. Every request is matched against the rules
 * in the order they were added, on the cluster's loop, when it is decoded; each rule that
 * matches counts the request, and fires once its count of matches reaches match.nth, until it
 * has fired `count` times. Every rule that fires acts (so two rules can delay and then fail the
 * same request); each firing is journaled. Nothing is random: corrupt_response's byte, when not
 * given, comes from the cluster's seed. With no rules installed matching costs nothing. */

#define MB_ANY (-1)                 /* any broker / API key / version / partition / producer id */
#define MB_ALWAYS (-1)              /* rule count: fire on every match ("always" in JSON) */
#define MB_MAX_RECORD_ERRORS 16

struct mb_match {
    int broker;                     /* "broker": broker id, or MB_ANY */
    int api_key;                    /* "api_key": KW_API_* (0 = Produce), or MB_ANY */
    int min_version, max_version;   /* "min_version", "max_version": inclusive; MB_ANY = open */
    const char *topic;              /* "topic": the request names this topic; NULL = any */
    int32_t partition;              /* "partition": ... and this partition; MB_ANY = any */
    int64_t producer_id;            /* "producer_id": a Produce batch or InitProducerId with this
                                     * producer id; MB_ANY = any */
    const char *client_id;          /* "client_id": the request header's, exactly; NULL = any */
    int nth;                        /* "nth": fire from the nth matching request on (1-based);
                                     * 0 counts as 1 */
};

enum mb_action_type {
    MB_ACTION_NONE = 0,             /* "none": counts and journals the match, nothing else */
    /* Answer error_code instead of applying (when before_apply: for Produce every partition, or
     * the matched topic/partitions if the match names them; with record_errors a Produce v8+
     * partition also lists those batch indexes, as KIP-467 does), or apply and then answer it
     * (after_apply: e.g. REQUEST_TIMED_OUT or NOT_ENOUGH_REPLICAS_AFTER_APPEND with the write
     * in the log). */
    MB_ACTION_ERROR,                /* "error" */
    /* Before apply: apply duration_ms later. After apply: apply now, answer duration_ms later. */
    MB_ACTION_DELAY,                /* "delay" */
    /* Answer with ThrottleTimeMs = duration_ms; from the version that follows KIP-219 the
     * answer goes at once and the connection is not read for that long, older versions get the
     * answer duration_ms late. */
    MB_ACTION_THROTTLE,             /* "throttle" */
    /* Close the connection without an answer, before applying or after. */
    MB_ACTION_CLOSE,                /* "close" */
    /* Apply, then withhold this response and every later one on the connection (the requests
     * are still applied) until the client closes: its request times out. */
    MB_ACTION_LOSE_RESPONSE,        /* "lose_response" */
    /* Park the request, before applying or after (its answer ready but not sent), until
     * mb_rule_release names the rule; the connection reads nothing meanwhile, as a Kafka broker
     * reads nothing more from a connection whose request is in progress. */
    MB_ACTION_HOLD,                 /* "hold" */
    /* Produce: the matched partitions forget the batch's producer id and answer
     * UNKNOWN_PRODUCER_ID without appending, as a partition that lost the producer's state. */
    MB_ACTION_UNKNOWN_PRODUCER_ID,  /* "unknown_producer_id" */
    /* Send only the first `bytes` bytes of the answer (size prefix included), then close. */
    MB_ACTION_TRUNCATE_RESPONSE,    /* "truncate_response" */
    /* Invert the byte at `offset` of the answer (from its size prefix; -1: a seeded choice
     * after the correlation id). */
    MB_ACTION_CORRUPT_RESPONSE,     /* "corrupt_response" */
    /* Write the answer `bytes` bytes at a time, interval_ms apart (0: one piece per loop
     * iteration). */
    MB_ACTION_SPLIT_RESPONSE,       /* "split_response" */
    /* Stop reading the connection for duration_ms from now (back-pressure). */
    MB_ACTION_PAUSE_READING,        /* "pause_reading" */
    /* Side effects, before or after the request is applied; `broker` MB_ANY = the request's. */
    MB_ACTION_BROKER_DOWN,          /* "broker_down" */
    MB_ACTION_BROKER_UP,            /* "broker_up" */
    MB_ACTION_BLACKHOLE,            /* "blackhole" */
    /* For topic/partition (topic NULL: each partition the request names that the match
     * accepts): leadership to `broker` (MB_ANY: the preferred replica). */
    MB_ACTION_LEADER_MOVE,          /* "leader_move" */
    MB_ACTION_ISR_SET,              /* "isr_set": ISR := brokers */
    MB_ACTION_REPLICAS_SET,         /* "replicas_set": replicas := brokers */
    MB_ACTION_FOLLOWER,             /* "follower": `broker` follows in mode (lag_ms, lag_batches) */
    MB_ACTION_TYPES
};
const char *mb_action_type_name(enum mb_action_type t);
/* The type for a name ("lose_response"), or -1. */
int mb_action_type_parse(const char *name);

enum mb_when {
    MB_BEFORE_APPLY = 0,            /* "before_apply" (the default) */
    MB_AFTER_APPLY,                 /* "after_apply" */
    MB_AFTER_RESPONSE,              /* "after_response": side effects only, once the answer has
                                     * gone to the connection (a loop turn later) */
};
const char *mb_when_name(enum mb_when w);
int mb_when_parse(const char *name);

struct mb_action {
    enum mb_action_type type;       /* "type" */
    enum mb_when when;              /* "when": error, delay, close, hold (before/after apply)
                                     * and side effects (also after_response) */
    int16_t error_code;             /* "error_code": error (JSON may give Kafka's name) */
    const char *error_message;      /* "error_message": error, where the API has one; NULL =
                                     * Kafka's text for the code */
    int n_record_errors;            /* "record_errors": [batch_index, ...], Produce v8+ */
    int32_t record_errors[MB_MAX_RECORD_ERRORS];
    int64_t duration_ms;            /* "duration_ms": delay, throttle, pause_reading */
    int64_t interval_ms;            /* "interval_ms": split_response */
    int32_t bytes;                  /* "bytes": truncate_response, split_response (>= 1) */
    int32_t offset;                 /* "offset": corrupt_response */
    int broker;                     /* "broker": side effects' broker (MB_ANY: the request's) */
    const char *topic;              /* "topic": leader_move, isr_set, replicas_set, follower */
    int32_t partition;              /* "partition": with topic; MB_ANY = all of the topic */
    int n_brokers;                  /* "brokers": isr_set's ISR, replicas_set's replicas */
    int brokers[MB_MAX_REPLICAS];
    enum mb_follower_mode mode;     /* "mode": follower */
    int64_t lag_ms;                 /* "lag_ms": follower, mode delay */
    int32_t lag_batches;            /* "lag_batches": follower, mode batches */
};

struct mb_rule {
    const char *name;               /* "name": unique; NULL = "rule-N" (N counts rules added) */
    struct mb_match match;          /* "match" */
    struct mb_action action;        /* "action" */
    int count;                      /* "count": times it fires, >= 1, or MB_ALWAYS */
};

/* Fills r with "match anything once, do nothing": every match field MB_ANY or NULL, nth 1,
 * count 1, action none (broker and partition MB_ANY, offset -1). */
void mb_rule_init(struct mb_rule *r);
/* Validates and installs a copy of r (strings copied). 0, or -1 with the reason in errstr (a
 * duplicate or too long name, an action without what it needs, ...). */
int mb_rule_add(struct mb_cluster *c, const struct mb_rule *r, char *errstr, size_t errstr_size);
/* Removes a rule, releasing what it holds first. 0, or -1 if no rule has that name. */
int mb_rule_remove(struct mb_cluster *c, const char *name);
/* Removes every rule (releasing held requests). */
void mb_rule_clear(struct mb_cluster *c);
/* Releases the requests the rule holds (name NULL: every rule's), in arrival order: a hold
 * before apply now applies, a hold after apply sends its answer. Returns how many, or -1 if no
 * rule has that name. */
int mb_rule_release(struct mb_cluster *c, const char *name);

struct mb_rule_stats {
    uint64_t matched;               /* "matched": requests that matched (nth counts these) */
    uint64_t fired;                 /* "fired" */
    int held;                       /* "held": requests it holds now */
    bool spent;                     /* "spent": fired `count` times, matches nothing more */
};
/* 0, or -1 if no rule has that name. */
int mb_rule_stats(struct mb_cluster *c, const char *name, struct mb_rule_stats *out);
/* The number of rules installed. */
int mb_rule_count(struct mb_cluster *c);
/* Bytes of string space that always hold a rule's strings: names are at most 127 bytes,
 * topics 249, client ids and error messages 255. */
#define MB_RULE_STRINGS 1152
/* The index-th rule in matching order: a copy in *out whose strings are copied into strings
 * (MB_RULE_STRINGS bytes), and its stats (stats may be NULL). 0, or -1 if index is out of
 * range. */
int mb_rule_get(struct mb_cluster *c, int index, struct mb_rule *out, char *strings,
                struct mb_rule_stats *stats);

/* Runs a side-effect action now (broker_down, broker_up, blackhole, leader_move, isr_set,
 * replicas_set, follower): the same as a rule firing it, without a request (so `broker` and, for
 * partition actions, `topic` must be given). 0, or -1 with the reason in errstr. */
int mb_action_run(struct mb_cluster *c, const struct mb_action *a, char *errstr,
                  size_t errstr_size);

/* --- the journal ---------------------------------------------------------------------------------
 * Every request, response, Produce append, fault and state change, in order, with the cluster
 * clock's time: with a virtual clock two runs of the same requests give identical journals.
 * Entries are fixed-size; at most cfg.journal_max are kept and the oldest are dropped (counted).
 * Strings in entries (topic, client_id, rule, what) stay valid until mb_cluster_destroy. */

enum mb_journal_kind {
    MB_JOURNAL_REQUEST = 0,         /* "request": decoded, before any rule acts */
    MB_JOURNAL_FAULT,               /* "fault": a rule fired on it (what = the action type) */
    MB_JOURNAL_APPEND,              /* "append": one Produce partition, stored or refused */
    MB_JOURNAL_RESPONSE,            /* "response": its answer, what = "sent", "none" (acks=0),
                                     * "lost", "closed", "truncated", "corrupted", "split",
                                     * "dropped" (the connection went first) */
    MB_JOURNAL_BROKER,              /* "broker": what = "down", "up", "blackhole" */
    MB_JOURNAL_LEADER,              /* "leader": what = "election", "unclean", "none", "move",
                                     * "reassign" */
    MB_JOURNAL_ISR,                 /* "isr": what = "shrink", "expand", "set" */
    MB_JOURNAL_TRUNCATE,            /* "truncate": the log end went from offset_before to offset */
    MB_JOURNAL_TXN,                 /* "txn": a transactional id changed state, what = the new
                                     * state ("Ongoing", "CompleteAbort", ...) */
    MB_JOURNAL_MARKER,              /* "marker": a control batch written, what = "commit" or
                                     * "abort" */
    MB_JOURNAL_KINDS
};
const char *mb_journal_kind_name(enum mb_journal_kind k);
int mb_journal_kind_parse(const char *name);

/* Members unused by a kind are 0, NULL or -1 and left out of JSON and text. */
struct mb_journal_entry {
    uint64_t id;                    /* "id": 1, 2, ... in order, never reused */
    int64_t time_us;                /* "time_us": the cluster clock */
    enum mb_journal_kind kind;      /* "kind" */
    const char *what;               /* "what": see the kinds */
    int broker;                     /* "broker": where it happened; -1 none */
    uint64_t conn;                  /* "conn": connection number, counted by the cluster from 1 */
    uint64_t request;               /* "request": request number, counted by the cluster from 1 */
    int32_t correlation_id;         /* "correlation_id": request, fault, append, response */
    int16_t api_key;                /* "api_key" (JSON also gives "api": its name) */
    int16_t api_version;            /* "api_version" */
    const char *client_id;          /* "client_id": request */
    const char *rule;               /* "rule": fault */
    const char *topic;              /* "topic" */
    int32_t partition;              /* "partition" */
    int16_t error_code;             /* "error_code": append's outcome, response's first error
                                     * (JSON also gives "error": its name) */
    int16_t acks;                   /* "acks": Produce request */
    int32_t timeout_ms;             /* "timeout_ms": Produce request, txn (transaction timeout) */
    int32_t partitions;             /* "partitions": Produce/Fetch request, topic-partitions;
                                     * txn: partitions in the transaction */
    int32_t records;                /* "records": append */
    int64_t producer_id;            /* "producer_id": append (-1 none), txn, marker */
    int16_t producer_epoch;         /* "producer_epoch": append, txn, marker */
    int32_t base_sequence;          /* "base_sequence": append */
    int64_t offset;                 /* "offset": append's base offset (-1 if refused), the
                                     * truncation's new log end, the marker's offset */
    int64_t offset_before;          /* "offset_before": truncate */
    int32_t bytes;                  /* "bytes": request and response frames, append's batch */
    int32_t leader_epoch;           /* "leader_epoch": leader, append */
    int from, to;                   /* "from", "to": leader ids (-1 none) */
    uint64_t isr, isr_before;       /* "isr", "isr_before": bit (id - 1) per broker; JSON lists */
    const char *transactional_id;   /* "transactional_id": txn */
};

/* Copies up to max entries with id > after_id, oldest first; returns how many. */
size_t mb_journal_read(struct mb_cluster *c, uint64_t after_id, struct mb_journal_entry *out,
                       size_t max);

struct mb_journal_stats {
    uint64_t total;                 /* "total": entries ever written (the last id) */
    size_t held;                    /* "held": entries kept now */
    size_t max;                     /* "max": the cap */
    uint64_t dropped;               /* "dropped": entries dropped for the cap, or cleared */
    uint64_t dropped_by_kind[MB_JOURNAL_KINDS];
};
void mb_journal_stats(struct mb_cluster *c, struct mb_journal_stats *out);
/* Drops every entry (counted as dropped); ids keep counting. */
void mb_journal_clear(struct mb_cluster *c);

enum mb_journal_format {
    MB_JOURNAL_TEXT = 0,            /* one line per entry, for humans (describe) */
    MB_JOURNAL_JSONL,               /* one JSON object per line, keys as above */
};
/* Renders entries with id > after_id as a NUL-terminated string to free() with free(). NULL if
 * out of memory. */
char *mb_journal_render(struct mb_cluster *c, uint64_t after_id, enum mb_journal_format format);
/* Renders one entry into buf (NUL-terminated, truncated to size); returns the length it needed,
 * as snprintf does. */
int mb_journal_entry_render(const struct mb_journal_entry *e, enum mb_journal_format format,
                            char *buf, size_t size);

/* --- scenarios -----------------------------------------------------------------------------------
 * A scenario (JSON, see docs/scenarios.md and docs/scenario.schema.json) declares a cluster: its
 * brokers, seed and settings, topics with their configs, side-effect actions to run once the
 * topics exist, fault rules in the vocabulary above, and optionally a workload for a producer to
 * run against it (this library has no producer: whoever has one runs it). Parsing needs no
 * cluster and refuses, naming the path, anything it does not know ("rules[2].action.type:
 * unknown action 'lose'"); applying checks the rest against the cluster. */

struct mb_kv {
    const char *key, *value;        /* values as text, whatever their JSON type was */
};

struct mb_scenario_topic {
    const char *name;               /* "name" */
    int partitions;                 /* "partitions" (default 1) */
    int replication;                /* "replication": 0 = the cluster's default */
    int n_configs;
    const struct mb_kv *configs;    /* "configs": {"min.insync.replicas": 2, ...} */
};

/* An expected count: a JSON number n is [n, n], {"min": a, "max": b} either bound. */
struct mb_range {
    bool set;                       /* false: not checked */
    int64_t min, max;
};

struct mb_expect {
    struct mb_range delivered;      /* "delivered": messages the producer reported delivered */
    struct mb_range failed;         /* "failed": messages it reported failed */
    struct mb_range log_records;    /* "log_records": records in the topic's log */
    struct mb_range duplicates;     /* "duplicates": stored copies of a message beyond its first */
    struct mb_range missing;        /* "missing": workload messages absent from the log */
    bool in_order;                  /* "in_order": per partition, first copies in send order */
};

struct mb_workload {
    const char *topic;              /* "topic" */
    int32_t partition;              /* "partition": MB_ANY (default) = the partitioner's choice */
    int64_t messages;               /* "messages" */
    int32_t key_size;               /* "key_size": 0 (default) = null keys, else >= 10 bytes */
    int32_t value_size;             /* "value_size": >= 11 bytes (default 100) */
    uint64_t seed;                  /* "seed": payload filler; default the scenario's seed */
    int64_t timeout_ms;             /* "timeout_ms": bound for the whole run (default 30000) */
    int n_config;
    const struct mb_kv *config;     /* "config": producer settings, librdkafka's names */
    struct mb_expect expect;        /* "expect" */
};

struct mb_scenario {
    const char *description;        /* "description"; NULL if absent */
    const char *origin;             /* the file name, or "<string>" */
    uint64_t seed;                  /* "seed": the cluster's; 0 = not given */
    int brokers;                    /* "brokers"; 0 = not given */
    int n_topics;
    const struct mb_scenario_topic *topics;     /* "topics" */
    int n_actions;
    const struct mb_action *actions;            /* "actions": side effects, run in order */
    int n_rules;
    const struct mb_rule *rules;                /* "rules", installed in order */
    const struct mb_workload *workload;         /* "workload"; NULL if absent */
    void *_priv;                                /* the parsed document and allocations */
};

/* Parses a scenario from JSON text (origin names it in messages; NULL = "<string>"). NULL on
 * failure with "path: reason" in errstr. Free with mb_scenario_destroy. */
struct mb_scenario *mb_scenario_parse(const char *json, size_t len, const char *origin,
                                      char *errstr, size_t errstr_size);
/* Reads and parses a scenario file; messages start with the file name. */
struct mb_scenario *mb_scenario_load(const char *path, char *errstr, size_t errstr_size);
/* NULL is a no-op. */
void mb_scenario_destroy(struct mb_scenario *s);
/* Sets in cfg what the scenario gives: brokers, seed and its "cluster" settings. Strings stay
 * the scenario's: keep it until mb_cluster_new has returned. */
void mb_scenario_config(const struct mb_scenario *s, struct mb_config *cfg);
/* Creates the topics and sets their configs, runs the actions, then installs the rules. 0, or
 * -1 with "path: reason" in errstr; what came before the failure stays applied. */
int mb_scenario_apply(struct mb_cluster *c, const struct mb_scenario *s, char *errstr,
                      size_t errstr_size);

/* A rule as JSON, in the scenario vocabulary, with "stats" when stats is not NULL: a string to
 * free() (NULL if out of memory). Defaults are left out. */
char *mb_rule_json(const struct mb_rule *r, const struct mb_rule_stats *stats);

/* Message i of a workload, the same for every run with the same seed: the value is i as 10
 * decimal digits, '-', then seeded letters; the key (key_size > 0) is 'k' and i as 9 digits,
 * then letters. Each writes at most size bytes and returns the full length. */
size_t mb_workload_value(const struct mb_workload *w, int64_t i, uint8_t *buf, size_t size);
size_t mb_workload_key(const struct mb_workload *w, int64_t i, uint8_t *buf, size_t size);
/* The message index a value starts with, or -1 if it is no workload value. */
int64_t mb_workload_index(const uint8_t *value, size_t len);

/* What the topic's log holds of a workload. */
struct mb_tally {
    int64_t log_records;            /* records in every partition of the topic */
    int64_t distinct;               /* workload messages found at least once */
    int64_t duplicates;             /* records of a message already found */
    int64_t missing;                /* workload messages not found */
    int64_t foreign;                /* records that are no workload message */
    int64_t out_of_order;           /* first copies below an earlier one of their partition */
};
/* Counts the workload's messages in the cluster's log into *out (may be NULL) and checks the
 * expectations, with the producer's own counts of delivered and failed messages. 0 if every
 * expectation holds, else -1 with the first that failed in errstr ("duplicates: 1, expected
 * 0"). */
int mb_workload_verify(struct mb_cluster *c, const struct mb_workload *w, int64_t delivered,
                       int64_t failed, struct mb_tally *out, char *errstr, size_t errstr_size);

/* --- control API ---------------------------------------------------------------------------------
 * HTTP+JSON on 127.0.0.1, served on the cluster's loop, in the scenario vocabulary
 * (docs/scenarios.md lists the endpoints): rules, holds, brokers, partitions, topics, the
 * journal, the state, records, and waits for a condition that answer once it holds (or with 408
 * after their timeout) without blocking the loop. */

struct mb_admin;

/* Listens on 127.0.0.1:port (0 = an ephemeral port). NULL on failure, with the reason in
 * errstr. Stop it before destroying the cluster. */
struct mb_admin *mb_admin_start(struct mb_cluster *c, int port, char *errstr,
                                size_t errstr_size);
/* The port it listens on. */
int mb_admin_port(const struct mb_admin *a);
/* Answers pending waits with 503, closes the listener and every connection, frees a. NULL is a
 * no-op. */
void mb_admin_stop(struct mb_admin *a);

/* --- grade ---------------------------------------------------------------------------------------
 * A conformance report card for any producer (`mockbroker grade`, docs/conformance.md): under a
 * scenario, a command produces messages 0..count-1 (key = decimal n, value = "<n>:" + padding);
 * the partition logs and the journal decide a verdict. Rules go by message number and offset,
 * never by request position, so a client that batches differently each run gets the same verdict.
 * Verdicts, worst first (the first that applies wins; the reason names the others' evidence): */

enum mb_verdict {
    MB_VERDICT_PASS = 0,            /* every message stored once, in order; the command said so */
    MB_VERDICT_REPORTED_FAILURE,    /* messages missing, and the command reported them failed */
    MB_VERDICT_SPURIOUS_FAILURE,    /* nothing missing, but the command reported failures */
    MB_VERDICT_BAD_BACKOFF,         /* a retry after an error answer came outside --backoff */
    MB_VERDICT_REORDERED,           /* a partition holds first copies out of send order */
    MB_VERDICT_DUPLICATES,          /* a message is stored more than once */
    MB_VERDICT_UNREPORTED_FAILURE,  /* the broker refused messages, the command claimed success */
    MB_VERDICT_LOSS,                /* messages missing that the command called delivered */
    MB_VERDICT_BAD_SEQUENCE,        /* idempotence broken: a sequence reused for other data, or
                                     * gaps and repeats among the stored sequences */
    MB_VERDICT_TIMEOUT,             /* the command outlived its time limit and was killed */
    MB_VERDICT_ERROR,               /* the command could not run, or produced nothing at all */
    MB_VERDICTS
};
const char *mb_verdict_name(enum mb_verdict v);
/* The verdict for a name ("LOSS"), or -1. */
int mb_verdict_parse(const char *name);

struct mb_grade_opts {
    char *const *argv;              /* the command; {bootstrap} {topic} {count} {seed}
                                     * {partition} in its arguments are substituted */
    int64_t count;                  /* messages; 0 = the workload's (100 without one) */
    int64_t timeout_ms;             /* for the command; 0 = the workload's timeout + 10 s */
    int64_t backoff_min_ms;         /* with backoff_max_ms >= 0: bounds of the pause between */
    int64_t backoff_max_ms;         /* an error answer and the retry; -1 = not checked */
    uint64_t seed;                  /* KAFKA_SEED; 0 = the scenario's seed */
    bool verbose;                   /* the cluster's log to stderr */
};

/* Sets the defaults above (backoff unchecked). */
void mb_grade_opts_init(struct mb_grade_opts *o);

struct mb_grade_result {
    enum mb_verdict verdict;
    char reason[512];               /* one line */
    int64_t messages;               /* count asked for */
    int64_t log_records;            /* records in the topic's log */
    int64_t stored;                 /* distinct messages stored */
    int64_t missing, duplicates, reordered, foreign;
    int64_t reported_delivered;     /* from the command's "delivered=D failed=F" line; -1: */
    int64_t reported_failed;        /* none printed */
    int exit_status;                /* the command's, 128+signal if killed, -1 not started */
    bool timed_out;
    int64_t retries;                /* appends repeating a producer id, epoch and sequence */
    int64_t sequence_errors;        /* gaps or repeats among stored sequences */
    int64_t backoffs, backoff_violations;
    int64_t backoff_min_seen_ms, backoff_max_seen_ms;   /* -1 if none measured */
    int64_t elapsed_ms;
    uint64_t seed;
    char *output;                   /* the command's stdout and stderr (the last 16 KiB) */
    char *evidence;                 /* journal lines that show why (NULL for PASS) */
};

/* Starts the scenario's cluster (ephemeral ports), runs the command in a child process with
 * KAFKA_BOOTSTRAP, KAFKA_TOPIC, MESSAGE_COUNT, KAFKA_SEED (and KAFKA_PARTITION when the workload
 * names one) in its environment, kills its process group after the time limit, and judges.
 * 0 with *out filled (release it), or -1 with the reason in errstr if the cluster could not
 * start. */
int mb_grade_run(const struct mb_scenario *s, const struct mb_grade_opts *o,
                 struct mb_grade_result *out, char *errstr, size_t errstr_size);
/* Frees what a result holds; the result may be zeroed or half-filled. */
void mb_grade_result_release(struct mb_grade_result *r);

/* `mockbroker grade ...` (argv[0] is "grade"): prints the table, --json, --junit FILE. 0 when
 * every verdict is PASS or REPORTED_FAILURE, 1 otherwise, 2 on a usage error. */
int mb_grade_main(int argc, char **argv);

#endif
