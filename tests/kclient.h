/* A tiny blocking Kafka client for the broker suites: one TCP connection to 127.0.0.1, requests
 * encoded with lib/ codecs, responses read with a poll() deadline (never a sleep) and decoded
 * with the API's response schema. Decoded responses borrow from frames the connection keeps
 * until kc_close, so a test can hold several at once. Plus a few helpers every broker test
 * needs: record batches, single-partition Produce and Fetch, legacy messages. */
#ifndef KWT_KCLIENT_H
#define KWT_KCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/kw.h"

struct event_base;
struct kc_frame;

/* Results below every kw_err, so a test can tell transport trouble from a codec failure. */
enum kc_result {
    KC_TIMEOUT = -100,          /* nothing (or not enough) arrived before the deadline */
    KC_CLOSED = -101,           /* the peer closed the connection */
    KC_IO = -102,               /* a socket call failed */
    KC_CORRELATION = -103,      /* the response answers another request */
};

#define KC_WAIT_MS 5000         /* how long helpers wait for an answer that must come */

struct kc_conn {
    int fd;                         /* -1 when not connected */
    int32_t next_correlation_id;    /* 1 after kc_connect */
    const char *client_id;          /* "kwtest" after kc_connect; NULL sends a null ClientId */
    struct event_base *pump;        /* caller-driven cluster: this loop runs while we wait */
    struct kw_buf in;               /* bytes read but not yet cut into frames */
    struct kc_frame *frames;        /* every frame received, freed by kc_close */
    struct kw_arena arena;          /* decoded responses */
};

/* Connects to 127.0.0.1:port. Returns 0, or KC_IO (then fd is -1; kc_close is still fine). */
int kc_connect(struct kc_conn *k, int port);
/* Closes the socket and frees every frame and decoded response. Safe twice. */
void kc_close(struct kc_conn *k);

/* Appends one request frame (size prefix, header for (key, version), body encoded with the
 * API's request schema) to b. Any version is encoded, even one we do not advertise, so tests
 * can send what a client from the future would. Returns b->err, KW_ERR_API for a key we have
 * no schema for. */
int kc_encode(struct kw_buf *b, int key, int version, int32_t correlation_id,
              const char *client_id, const void *req);
/* Encodes and writes one request with the next correlation id, which it returns (>= 0), or a
 * negative kw_err / kc_result. */
int32_t kc_send(struct kc_conn *k, int key, int version, const void *req);
/* Writes n bytes within timeout_ms. Returns the bytes written (fewer than n on a timeout), or
 * KC_CLOSED / KC_IO. */
int64_t kc_send_raw(struct kc_conn *k, const void *p, size_t n, int timeout_ms);

/* Reads one whole frame (without its size prefix) within timeout_ms. *frame stays valid until
 * kc_close. Returns KW_OK, KC_TIMEOUT, KC_CLOSED, KC_IO, or KW_ERR_RANGE for a negative or
 * absurd size. */
int kc_read_frame(struct kc_conn *k, int timeout_ms, const uint8_t **frame, size_t *len);
/* Reads one frame and decodes it as the response to (key, version) with the given correlation
 * id into resp (the API's response struct). Returns KW_OK, a kc_result, or the decoder's
 * kw_err; KW_ERR_TRAILING if bytes are left after the body. */
int kc_recv(struct kc_conn *k, int key, int version, int32_t correlation_id, void *resp,
            int timeout_ms);
/* kc_send then kc_recv with KC_WAIT_MS. */
int kc_call(struct kc_conn *k, int key, int version, const void *req, void *resp);

/* Waits up to timeout_ms for the peer to close. Returns 0 if it closed without sending a
 * byte, 1 if bytes arrived (a response where none was due), KC_TIMEOUT if still open. */
int kc_expect_closed(struct kc_conn *k, int timeout_ms);
/* True if bytes are waiting to be read right now (a response that should not be there). */
bool kc_readable(struct kc_conn *k);

/* Milliseconds on the monotonic clock, for measuring how long an answer took. */
int64_t kc_now_ms(void);

/* --- records ------------------------------------------------------------------------------- */

/* Appends one record batch of n records keyed "k<first+i>" with values "v<first+i>", one
 * header "h" = "<first+i>" and timestamps ts+i, with codec (enum kw_codec) and the producer
 * fields as given (-1, -1, -1 when not idempotent). Returns KW_OK or a negative kw_err. */
int kc_batch(struct kw_buf *out, int codec, int64_t pid, int16_t epoch, int32_t seq, int first,
             int n, int64_t ts);
/* Recomputes the CRC-32C of a magic-2 batch of len bytes after a test edited it. */
void kc_batch_fix_crc(uint8_t *batch, size_t len);
/* Appends one uncompressed legacy message (magic 0 or 1) with offset 0; a NULL key or value
 * is written as null. */
void kc_message(struct kw_buf *out, int magic, int64_t ts, const char *key, const char *value);

/* --- one-partition requests ------------------------------------------------------------------ */

/* Produces records to one partition and waits for the answer. Returns the partition's error
 * code (>= 0, with *base_offset and *log_start if not NULL) or a negative kc_result / kw_err.
 * With acks 0 it returns 0 once written, as no answer comes. */
int kc_produce(struct kc_conn *k, int version, int acks, const char *topic, int32_t partition,
               const void *records, size_t len, int64_t *base_offset, int64_t *log_start);

/* What one partition of a Fetch answer said; records borrow from the connection. */
struct kc_fetched {
    int16_t error_code;
    int64_t high_watermark, log_start_offset;
    const uint8_t *records;
    size_t len;
    int32_t session_id;
};

/* Fetches one partition (MaxBytes and PartitionMaxBytes max_bytes) and waits up to
 * KC_WAIT_MS + max_wait_ms. Returns KW_OK with *out filled, or a negative kc_result / kw_err.
 * current_leader_epoch -1 leaves it unchecked (v9+). */
int kc_fetch(struct kc_conn *k, int version, const char *topic, int32_t partition,
             int64_t offset, int32_t max_bytes, int32_t max_wait_ms, int32_t min_bytes,
             int32_t current_leader_epoch, struct kc_fetched *out);
/* Sends such a Fetch without waiting; returns the correlation id (>= 0) or an error. */
int32_t kc_fetch_send(struct kc_conn *k, int version, const char *topic, int32_t partition,
                      int64_t offset, int32_t max_bytes, int32_t max_wait_ms, int32_t min_bytes);
/* Reads the answer to kc_fetch_send's request. */
int kc_fetch_recv(struct kc_conn *k, int version, int32_t correlation_id, int timeout_ms,
                  struct kc_fetched *out);

/* Counts the records in fetched bytes: magic-2 batches, or legacy messages checked by hand (an
 * independent check of the library; a compressed wrapper counts as one). *magic gets the magic
 * of the first (-1 if none), *first and *last the offsets of the first and last record. A
 * partial trailing batch is ignored. Returns the count or a negative kw_err (KW_ERR_CRC for a
 * legacy message whose CRC-32 is wrong). */
int64_t kc_count_records(const uint8_t *p, size_t len, int *magic, int64_t *first,
                         int64_t *last);

#endif
