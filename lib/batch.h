/* Record batches (magic 2): the payload of Produce v3+ and Fetch v4+. Parsing borrows from the
 * caller's bytes and allocates nothing per record; the builder appends to a kw_buf. */
#ifndef KW_BATCH_H
#define KW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/kw.h"

#define KW_BATCH_HEADER_SIZE 61
#define KW_BATCH_MAGIC 2
/* The CRC covers the batch from the attributes (byte 21) to its end; the base offset, length,
 * leader epoch and magic before it can be stamped without recomputing it. */
#define KW_BATCH_CRC_FROM 21

/* Attribute bits. The codec is bits 0-2 (enum kw_codec's wire ids). */
#define KW_BATCH_ATTR_CODEC_MASK 0x07
#define KW_BATCH_ATTR_LOG_APPEND_TIME (1 << 3)
#define KW_BATCH_ATTR_TRANSACTIONAL (1 << 4)
#define KW_BATCH_ATTR_CONTROL (1 << 5)
#define KW_BATCH_ATTR_DELETE_HORIZON (1 << 6)
static inline int kw_batch_codec(int16_t attributes)
{
    return attributes & KW_BATCH_ATTR_CODEC_MASK;
}

/* Decompressed records beyond this are refused by kw_record_iter_init (64 MiB). */
#define KW_BATCH_MAX_UNCOMPRESSED ((size_t)64 << 20)

struct kw_batch_hdr {
    int64_t base_offset;
    int32_t batch_length;           /* bytes after this field: total size - 12 */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp, max_timestamp;
    int64_t producer_id;            /* -1: not idempotent */
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
};

/* A record header: the key is never null on the wire, the value may be. */
struct kw_header_kv {
    struct kw_str key;
    struct kw_bytes value;
};

/* One record, its bytes borrowed from the batch (or the scratch buffer it was decompressed
 * into). offset and timestamp are absolute. */
struct kw_record {
    int64_t offset;
    int64_t timestamp;
    int8_t attributes;
    struct kw_bytes key, value;     /* len -1: null */
    int32_t n_headers;
    const uint8_t *headers;         /* the raw headers, read with kw_record_header_next */
    size_t headers_len;
};

/* Reads the next header from a reader over rec.headers / rec.headers_len. Returns 1 with *h
 * filled, 0 once the reader is empty, or a negative kw_err (also left in r->err). */
int kw_record_header_next(struct kw_reader *r, struct kw_header_kv *h);

/* Reads the header of the batch, or legacy message, at p: returns its total size (12 +
 * batch_length) or a negative kw_err: KW_ERR_SHORT if fewer than that many bytes are there (h
 * is filled as far as the bytes allow: Fetch responses may end in a partial batch),
 * KW_ERR_VERSION for an unknown magic, KW_ERR_CORRUPT for a length too small for the magic.
 * For magic 0/1, h holds the offset, length, magic, CRC, attributes and timestamp only. */
int kw_batch_peek(const uint8_t *p, size_t len, struct kw_batch_hdr *h);

/* Checks a produced batch the way a broker must before storing it: len is exactly the batch,
 * magic 2, the CRC-32C, a known codec, records_count > 0 and lastOffsetDelta + 1 ==
 * records_count, baseSequence >= 0 if producerId >= 0, and every record (lengths, varints,
 * offset deltas 0..n-1, headers). A compressed batch is decompressed into scratch (reset first;
 * may be NULL for uncompressed ones), at most max_uncompressed bytes (else KW_ERR_RANGE).
 * Fills *h (if not NULL) once the header is read. Returns KW_OK or a negative kw_err. */
int kw_batch_validate(const uint8_t *p, size_t len, struct kw_batch_hdr *h,
                      struct kw_buf *scratch, size_t max_uncompressed);
/* The same, also writing the reason for a failure ("crc mismatch: stored 0x..., computed
 * 0x...") to errstr (which may be NULL with errstr_size 0). */
int kw_batch_validate_why(const uint8_t *p, size_t len, struct kw_batch_hdr *h,
                          struct kw_buf *scratch, size_t max_uncompressed, char *errstr,
                          size_t errstr_size);

/* Walks the records of one batch. It checks structure as it goes but not the CRC (that is
 * kw_batch_validate's job) nor offsetDelta == index (compacted batches have gaps). */
struct kw_record_iter {
    struct kw_batch_hdr hdr;
    const uint8_t *pos, *end;       /* the records still to read, decompressed if need be */
    int32_t index;                  /* records returned so far */
    int err;                        /* sticky */
};

/* Starts iterating the batch of exactly len bytes at batch, decompressing the records into
 * scratch (reset first; may be NULL if uncompressed) up to KW_BATCH_MAX_UNCOMPRESSED. The
 * iterator borrows batch and scratch. Returns KW_OK or a negative kw_err. */
int kw_record_iter_init(struct kw_record_iter *it, const uint8_t *batch, size_t len,
                        struct kw_buf *scratch);
/* kw_record_iter_init with a limit of max_uncompressed bytes instead. */
int kw_record_iter_init_max(struct kw_record_iter *it, const uint8_t *batch, size_t len,
                            struct kw_buf *scratch, size_t max_uncompressed);
/* Returns 1 with *rec filled (absolute offset; timestamp = base + delta, or maxTimestamp under
 * LogAppendTime), 0 after the last record, or a negative kw_err (sticky). */
int kw_record_iter_next(struct kw_record_iter *it, struct kw_record *rec);

/* Broker stamping. These two fields sit outside the CRC, which stays valid. */
void kw_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
void kw_batch_set_leader_epoch(uint8_t *batch, int32_t epoch);
/* Marks the batch LogAppendTime with maxTimestamp ts and recomputes the CRC. Returns KW_OK,
 * or a negative kw_err if len does not hold a magic-2 batch. */
int kw_batch_set_log_append_time(uint8_t *batch, size_t len, int64_t ts);

/* Builds one batch at the end of a kw_buf: begin, add records, finish. */
struct kw_batch_builder {
    struct kw_buf *out;
    size_t start;                   /* offset of the batch in out: out may move */
    int codec, level;
    int32_t count;
    int64_t base_timestamp, max_timestamp;
    int err;                        /* sticky: the first failure, returned by finish */
};

/* Writes the batch header to out. proto supplies base_offset, partition_leader_epoch,
 * producer_id/epoch, base_sequence and the attribute bits other than the codec; NULL means
 * offset 0, epoch -1, not idempotent, no bits. codec is an enum kw_codec
 * (KW_CODEC_SNAPPY_XERIAL as Java writes; not KW_CODEC_LZ4_LEGACY), level as for kw_compress.
 * The builder keeps out until finish. Returns KW_OK or a negative kw_err. */
int kw_batch_builder_begin(struct kw_batch_builder *bb, struct kw_buf *out,
                           const struct kw_batch_hdr *proto, int codec, int level);
/* Appends a record with offsetDelta = the records so far; the first one's timestamp becomes
 * the base. The builder copies key, value and headers (header keys must not be null).
 * Returns KW_OK or a negative kw_err (then the batch is lost: finish returns it too). */
int kw_batch_builder_add(struct kw_batch_builder *bb, int64_t timestamp, struct kw_bytes key,
                         struct kw_bytes value, const struct kw_header_kv *headers,
                         int n_headers);
/* Fills the lengths, counts and timestamps, compresses the records if asked to, then sets the
 * CRC. Returns KW_OK; or a negative kw_err (KW_ERR_INVALID for an empty batch), and then out
 * is back to its length before begin. */
int kw_batch_builder_finish(struct kw_batch_builder *bb);
/* Bytes the batch takes so far, before compression. */
static inline size_t kw_batch_builder_size(const struct kw_batch_builder *bb)
{
    return bb->out->len - bb->start;
}

/* The exact encoded size of a record (its length prefix included), for batch.size decisions. */
size_t kw_record_size(int64_t timestamp_delta, int32_t offset_delta, struct kw_bytes key,
                      struct kw_bytes value, const struct kw_header_kv *headers, int n_headers);

#endif
