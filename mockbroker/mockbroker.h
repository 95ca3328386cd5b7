/* libmockbroker: an in-process mock Kafka cluster on libevent. N brokers on 127.0.0.1, partition
 * logs in memory, idempotent-producer state, acks 0/1/all as a real broker does them.
 *
 * Threading: by default the cluster runs its own event_base on its own thread, and every call
 * below is safe from any thread (it is handed to the loop and waits for it). With cfg.base set,
 * the caller drives that event_base (and may pass a kw_clock, e.g. a virtual one): calls then run
 * inline and must come from the loop's thread; that thread then writes to sockets, so ignore or
 * block SIGPIPE in it (the cluster's own thread blocks it). */
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
    uint64_t seed;                  /* replica placement, topic ids, producer ids */
    const char *cluster_id;         /* default "mockbroker-cluster" */
    bool auto_create;               /* create topics on Metadata (default true) */
    int default_partitions;         /* for auto-created topics (default 1) */
    int default_replication;        /* for auto-created topics (default min(3, brokers)) */
    int max_partitions;             /* per topic, CreateTopics refuses more (default 1000) */
    size_t max_request_size;        /* bytes; a larger frame closes the connection (100 MiB) */
    int32_t message_max_bytes;      /* default max.message.bytes (1048588, as Kafka) */
    int64_t retention_bytes;        /* default retention.bytes per partition; -1 = unlimited */
    int64_t producer_id_base;       /* first producer id handed out (default 1000) */
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
/* The port broker `id` listens on, or -1. */
int mb_broker_port(struct mb_cluster *c, int id);
/* The seed in use (cfg.seed, or the one chosen when cfg.seed was 0). */
uint64_t mb_cluster_seed(struct mb_cluster *c);

/* Topics. Each returns 0, or a Kafka error code (KW_EC_*, > 0) with errstr set. */
int mb_topic_create(struct mb_cluster *c, const char *topic, int partitions, int replication,
                    char *errstr, size_t errstr_size);
int mb_topic_delete(struct mb_cluster *c, const char *topic);
/* Sets a topic config: min.insync.replicas, max.message.bytes, message.timestamp.type
 * (CreateTime|LogAppendTime), retention.bytes. Unknown keys and bad values are refused. */
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
void mb_records_destroy(struct mb_records *r);

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

#endif
