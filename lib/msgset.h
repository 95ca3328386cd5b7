/* Legacy message sets (magic 0 and 1): Produce v0-v2 and Fetch v0-v3. Each message carries its
 * own CRC-32; a compressed "wrapper" message holds an inner message set as its value. */
#ifndef KW_MSGSET_H
#define KW_MSGSET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/batch.h"
#include "lib/kw.h"

/* What kw_msgset_validate and kw_msgset_to_batch let one wrapper decompress to (64 MiB). */
#define KW_MSGSET_MAX_UNCOMPRESSED ((size_t)64 << 20)

/* Checks every message of the set: sizes, CRC-32, key and value lengths, one magic throughout
 * (inner messages too), wrappers decompressed (lz4 in magic 0 with Kafka's old header
 * checksum) and their inner messages checked, no wrapper inside a wrapper. A set ending inside a
 * message fails with KW_ERR_SHORT. Sets *count to the messages (inner ones, not wrappers) and
 * *magic to the magic (-1 for an empty set); either may be NULL. Returns KW_OK or a kw_err. */
int kw_msgset_validate(const uint8_t *p, size_t len, int *count, int *magic);

struct kw_msgset_iter {
    const uint8_t *pos, *end;       /* outer messages still to read */
    const uint8_t *ipos, *iend;     /* inner messages of the current wrapper, if any */
    struct kw_buf *scratch;         /* the current wrapper, decompressed */
    size_t max_uncompressed;
    int magic;                      /* of the set; -1 until the first message */
    int64_t inner_base;             /* added to inner offsets (magic 1: they are relative) */
    bool log_append_time;           /* the current wrapper's timestamp replaces the inner ones */
    int64_t wrapper_ts;
    int err;                        /* sticky */
};

/* Starts iterating the set of len bytes at p; wrappers are decompressed into scratch (reset
 * for each one; may be NULL if nothing is compressed), at most max_uncompressed bytes each.
 * Borrows p and scratch. Returns KW_OK (failures surface from kw_msgset_iter_next). */
int kw_msgset_iter_init(struct kw_msgset_iter *it, const uint8_t *p, size_t len,
                        struct kw_buf *scratch, size_t max_uncompressed);
/* Returns 1 with *rec filled, 0 at the end, or a negative kw_err (sticky). rec->offset is what
 * a reader makes of it: the message's own, or for a magic-1 wrapper the wrapper's offset minus
 * the last inner offset plus the inner one (inner offsets as they are if the wrapper's offset
 * is 0, as some producers write); rec->timestamp is -1 in magic 0, the wrapper's under
 * LogAppendTime. No headers. KW_ERR_SHORT means the set ends in a partial message, which Fetch
 * readers drop; the records before it were whole. */
int kw_msgset_iter_next(struct kw_msgset_iter *it, struct kw_record *rec);

/* Up-conversion for Produce v0-v2: appends to out one uncompressed magic-2 batch with the set's
 * keys, values and timestamps (-1 in magic 0), offsetDelta 0..n-1 from the first message's
 * offset; no producer id. Returns KW_OK or a kw_err (KW_ERR_INVALID for an empty set); on
 * failure out->len is as before. */
int kw_msgset_to_batch(const uint8_t *p, size_t len, struct kw_buf *out);

/* Down-conversion for Fetch v0-v3: appends the records of the magic-2 batch at batch (exactly
 * len bytes) as uncompressed messages of magic 0 or 1 with absolute offsets, decompressing into
 * scratch. Headers are dropped; a control batch gives nothing, as old readers know no markers.
 * Returns KW_OK or a kw_err; on failure out->len is as before. */
int kw_msgset_from_batch(const uint8_t *batch, size_t len, int magic, struct kw_buf *out,
                         struct kw_buf *scratch);

#endif
