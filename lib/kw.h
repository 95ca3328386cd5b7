/* libkwire: the Kafka wire protocol as pure functions over bytes. No I/O, no printing, no abort
 * on peer input. Functions return >= 0 on success and a negative enum kw_err on failure; readers
 * and writers keep the first failure (sticky), so a codec does a whole frame and checks once. */
#ifndef KW_KW_H
#define KW_KW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Our own failures. Kafka's error codes are data (int16_t error_code, KW_EC_* in errors.h). */
enum kw_err {
    KW_OK = 0,
    KW_ERR_SHORT = -1,      /* input ended inside a field */
    KW_ERR_RANGE = -2,      /* a length, count or value outside what the protocol allows */
    KW_ERR_VARINT = -3,     /* a varint longer than its type */
    KW_ERR_NOMEM = -4,
    KW_ERR_VERSION = -5,    /* an API version we do not speak */
    KW_ERR_CRC = -6,        /* a record batch or message CRC that does not match */
    KW_ERR_CORRUPT = -7,    /* structure inconsistent with itself (lengths, counts, deltas) */
    KW_ERR_CODEC = -8,      /* unknown compression codec, or its library refused the data */
    KW_ERR_TRAILING = -9,   /* bytes left over where a frame should have ended */
    KW_ERR_API = -10,       /* an API key we do not know */
    KW_ERR_INVALID = -11,   /* a caller's argument our encoder cannot represent */
};

/* Returns a static, human-readable name for a kw_err ("short input", ...). */
const char *kw_strerror(int err);

/* A string or byte range. ptr points into a frame (decoded) or the caller's memory (to encode);
 * len -1 is null. Neither owns its bytes. */
struct kw_str {
    const char *ptr;
    int32_t len;
};
struct kw_bytes {
    const uint8_t *ptr;
    int32_t len;
};
#define KW_STR_NULL ((struct kw_str){ NULL, -1 })
#define KW_BYTES_NULL ((struct kw_bytes){ NULL, -1 })

/* A kw_str for a C string (NULL gives a null string). */
struct kw_str kw_str_c(const char *s);
/* True if s holds exactly the C string c (a null s equals only NULL). */
bool kw_str_eq(struct kw_str s, const char *c);
/* Copies s into dst as a C string, truncated to size; returns dst. A null s gives "". */
char *kw_str_copy(struct kw_str s, char *dst, size_t size);

/* --- Reading: a bounded cursor with a sticky error. --------------------------------------- */

struct kw_reader {
    const uint8_t *start, *pos, *end;
    int err;                    /* KW_OK until the first failure, then fixed */
    size_t err_at;              /* offset from start of that failure */
    const char *field;          /* the field being read now, set by codecs that name fields */
    const char *err_field;      /* field at the first failure (or NULL) */
};

void kw_reader_init(struct kw_reader *r, const void *data, size_t len);
static inline size_t kw_reader_left(const struct kw_reader *r) { return (size_t)(r->end - r->pos); }
static inline size_t kw_reader_offset(const struct kw_reader *r) { return (size_t)(r->pos - r->start); }
/* Records err at the current position unless an error is already set, and empties the reader.
 * Returns 0 so that a failed read can return its value directly. */
int kw_reader_fail(struct kw_reader *r, int err);

int8_t kw_get_i8(struct kw_reader *r);
int16_t kw_get_i16(struct kw_reader *r);
int32_t kw_get_i32(struct kw_reader *r);
int64_t kw_get_i64(struct kw_reader *r);
uint16_t kw_get_u16(struct kw_reader *r);
uint32_t kw_get_u32(struct kw_reader *r);
double kw_get_f64(struct kw_reader *r);
bool kw_get_bool(struct kw_reader *r);
int32_t kw_get_varint(struct kw_reader *r);        /* zigzag, 1-5 bytes */
int64_t kw_get_varlong(struct kw_reader *r);       /* zigzag, 1-10 bytes */
uint32_t kw_get_uvarint(struct kw_reader *r);      /* LEB128, 1-5 bytes */
void kw_get_uuid(struct kw_reader *r, uint8_t out[16]);
/* Borrow n raw bytes (NULL and a sticky KW_ERR_SHORT if fewer are left). */
const uint8_t *kw_get_raw(struct kw_reader *r, size_t n);

/* Strings: Kafka caps them at 32767 bytes. A negative length other than -1, or -1 where the
 * form is not nullable, is KW_ERR_RANGE. The result points into the reader's buffer. */
struct kw_str kw_get_str(struct kw_reader *r, bool nullable);          /* int16 length */
struct kw_str kw_get_compact_str(struct kw_reader *r, bool nullable);  /* uvarint N+1 */
struct kw_bytes kw_get_bytes(struct kw_reader *r, bool nullable);      /* int32 length */
struct kw_bytes kw_get_compact_bytes(struct kw_reader *r, bool nullable);
/* An array count, checked against the bytes left assuming each element takes at least
 * min_elem_size bytes; -1 is null (only if nullable). A bad count fails the reader. */
int32_t kw_get_array_len(struct kw_reader *r, bool compact, bool nullable, size_t min_elem_size);

/* --- Writing: a growing buffer with a sticky error, reserve now and patch later. ------------ */

struct kw_buf {
    uint8_t *data;
    size_t len, cap;
    int err;                    /* sticky, as in the reader */
};

void kw_buf_init(struct kw_buf *b);
/* Frees the data; the buffer can be initialised again. */
void kw_buf_release(struct kw_buf *b);
/* Forgets the contents but keeps the memory (and clears err). */
void kw_buf_reset(struct kw_buf *b);
/* Makes room for n more bytes; returns a pointer to them (NULL on failure, err set) without
 * changing len. Use kw_buf_commit(b, n) after writing into it. */
uint8_t *kw_buf_space(struct kw_buf *b, size_t n);
static inline void kw_buf_commit(struct kw_buf *b, size_t n) { b->len += n; }
/* Hands the data to the caller (who frees it with free()) and empties the buffer. */
uint8_t *kw_buf_take(struct kw_buf *b, size_t *len);

void kw_put_i8(struct kw_buf *b, int8_t v);
void kw_put_i16(struct kw_buf *b, int16_t v);
void kw_put_i32(struct kw_buf *b, int32_t v);
void kw_put_i64(struct kw_buf *b, int64_t v);
void kw_put_u16(struct kw_buf *b, uint16_t v);
void kw_put_u32(struct kw_buf *b, uint32_t v);
void kw_put_f64(struct kw_buf *b, double v);
void kw_put_bool(struct kw_buf *b, bool v);
void kw_put_varint(struct kw_buf *b, int32_t v);
void kw_put_varlong(struct kw_buf *b, int64_t v);
void kw_put_uvarint(struct kw_buf *b, uint32_t v);
void kw_put_uuid(struct kw_buf *b, const uint8_t v[16]);
void kw_put_raw(struct kw_buf *b, const void *p, size_t n);
/* A null s/v (len -1) is written as null; strings longer than 32767 fail with KW_ERR_INVALID. */
void kw_put_str(struct kw_buf *b, struct kw_str s);
void kw_put_compact_str(struct kw_buf *b, struct kw_str s);
void kw_put_bytes(struct kw_buf *b, struct kw_bytes v);
void kw_put_compact_bytes(struct kw_buf *b, struct kw_bytes v);
void kw_put_array_len(struct kw_buf *b, bool compact, int32_t n);   /* n -1 is null */

/* Placeholders: the returned offset (not a pointer: the buffer may move) is patched later. */
size_t kw_reserve_i32(struct kw_buf *b);
void kw_patch_i32(struct kw_buf *b, size_t at, int32_t v);
void kw_patch_u32(struct kw_buf *b, size_t at, uint32_t v);
void kw_patch_i64(struct kw_buf *b, size_t at, int64_t v);

/* Byte-order helpers for code that patches or peeks at raw bytes. */
static inline uint16_t kw_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t kw_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t kw_be64(const uint8_t *p) { return (uint64_t)kw_be32(p) << 32 | kw_be32(p + 4); }
static inline void kw_wbe16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void kw_wbe32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void kw_wbe64(uint8_t *p, uint64_t v) { kw_wbe32(p, (uint32_t)(v >> 32)); kw_wbe32(p + 4, (uint32_t)v); }

/* Encoded sizes, for callers that size a frame before writing it. */
size_t kw_varint_size(int32_t v);
size_t kw_varlong_size(int64_t v);
size_t kw_uvarint_size(uint32_t v);

/* --- An arena: decoded arrays live here and are freed together with the frame. -------------- */

struct kw_arena {
    struct kw_arena_chunk *head;    /* newest chunk first */
    size_t used, cap;               /* of head */
    int err;                        /* KW_ERR_NOMEM once an allocation failed */
};
void kw_arena_init(struct kw_arena *a);
/* Zeroed, 16-byte aligned memory valid until kw_arena_reset/release; NULL (and err) on failure. */
void *kw_arena_alloc(struct kw_arena *a, size_t n);
/* Frees everything except the newest (largest) chunk, which is kept for reuse. */
void kw_arena_reset(struct kw_arena *a);
void kw_arena_release(struct kw_arena *a);

#endif
