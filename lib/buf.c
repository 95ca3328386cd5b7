/* Readers, writers, primitives and the arena. WIRE.md §4 in the Kafka protocol notes. */
#include "lib/kw.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

const char *kw_strerror(int err)
{
    switch (err) {
    case KW_OK: return "success";
    case KW_ERR_SHORT: return "input ends inside a field";
    case KW_ERR_RANGE: return "length, count or value out of range";
    case KW_ERR_VARINT: return "varint too long";
    case KW_ERR_NOMEM: return "out of memory";
    case KW_ERR_VERSION: return "unsupported API version";
    case KW_ERR_CRC: return "CRC mismatch";
    case KW_ERR_CORRUPT: return "inconsistent structure";
    case KW_ERR_CODEC: return "compression codec failed or unknown";
    case KW_ERR_TRAILING: return "trailing bytes after the frame";
    case KW_ERR_API: return "unknown API key";
    case KW_ERR_INVALID: return "value cannot be encoded";
    }
    return "unknown error";
}

struct kw_str kw_str_c(const char *s)
{
    if (s == NULL)
        return KW_STR_NULL;
    size_t n = strlen(s);
    return (struct kw_str){ s, n > INT32_MAX ? INT32_MAX : (int32_t)n };
}

bool kw_str_eq(struct kw_str s, const char *c)
{
    if (s.len < 0 || c == NULL)
        return s.len < 0 && c == NULL;
    return strlen(c) == (size_t)s.len && memcmp(s.ptr, c, (size_t)s.len) == 0;
}

char *kw_str_copy(struct kw_str s, char *dst, size_t size)
{
    if (size == 0)
        return dst;
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
    return dst;
}

/* --- reader ---------------------------------------------------------------------------------- */

void kw_reader_init(struct kw_reader *r, const void *data, size_t len)
{
    r->start = r->pos = data;
    r->end = len ? r->start + len : r->start;   /* callers pass (NULL, 0); NULL + 0 is UB */
    r->err = KW_OK;
    r->err_at = 0;
    r->field = NULL;
    r->err_field = NULL;
}

int kw_reader_fail(struct kw_reader *r, int err)
{
    if (r->err == KW_OK) {      /* the first failure is the one worth reporting */
        r->err = err;
        r->err_at = (size_t)(r->pos - r->start);
        r->err_field = r->field;
    }
    r->pos = r->end;            /* later reads fail fast */
    return 0;
}

static inline const uint8_t *take(struct kw_reader *r, size_t n)
{
    if ((size_t)(r->end - r->pos) < n) {
        kw_reader_fail(r, KW_ERR_SHORT);
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += n;
    return p;
}

int8_t kw_get_i8(struct kw_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t kw_get_i16(struct kw_reader *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (int16_t)kw_be16(p) : 0;
}

int32_t kw_get_i32(struct kw_reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (int32_t)kw_be32(p) : 0;
}

int64_t kw_get_i64(struct kw_reader *r)
{
    const uint8_t *p = take(r, 8);
    return p ? (int64_t)kw_be64(p) : 0;
}

uint16_t kw_get_u16(struct kw_reader *r)
{
    const uint8_t *p = take(r, 2);
    return p ? kw_be16(p) : 0;
}

uint32_t kw_get_u32(struct kw_reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? kw_be32(p) : 0;
}

double kw_get_f64(struct kw_reader *r)
{
    const uint8_t *p = take(r, 8);
    uint64_t u = p ? kw_be64(p) : 0;
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

bool kw_get_bool(struct kw_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p && p[0] != 0;
}

/* LEB128 of at most max_bytes; the last byte may use only the bits the type has left. */
static uint64_t get_leb(struct kw_reader *r, int max_bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (r->pos >= r->end)
            return kw_reader_fail(r, KW_ERR_SHORT);
        uint8_t byte = *r->pos++;
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0)
            return v;
    }
    return kw_reader_fail(r, KW_ERR_VARINT);
}

uint32_t kw_get_uvarint(struct kw_reader *r)
{
    uint64_t v = get_leb(r, 5);
    if (v > UINT32_MAX)
        return (uint32_t)kw_reader_fail(r, KW_ERR_VARINT);
    return (uint32_t)v;
}

int32_t kw_get_varint(struct kw_reader *r)
{
    uint32_t u = kw_get_uvarint(r);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

int64_t kw_get_varlong(struct kw_reader *r)
{
    uint64_t u = get_leb(r, 10);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

void kw_get_uuid(struct kw_reader *r, uint8_t out[16])
{
    const uint8_t *p = take(r, 16);
    if (p)
        memcpy(out, p, 16);
    else
        memset(out, 0, 16);
}

const uint8_t *kw_get_raw(struct kw_reader *r, size_t n)
{
    return take(r, n);
}

/* n is the length as read; -1 is null. Checks the range and the bytes left, then borrows. */
static const uint8_t *get_len_bytes(struct kw_reader *r, int64_t n, int64_t max, bool nullable,
                                    int32_t *len)
{
    *len = -1;
    if (r->err)
        return NULL;
    if (n == -1 && nullable)
        return NULL;
    if (n < 0 || n > max) {
        kw_reader_fail(r, KW_ERR_RANGE);
        return NULL;
    }
    const uint8_t *p = take(r, (size_t)n);
    if (p)
        *len = (int32_t)n;
    return p;
}

struct kw_str kw_get_str(struct kw_reader *r, bool nullable)
{
    struct kw_str s;
    s.ptr = (const char *)get_len_bytes(r, kw_get_i16(r), INT16_MAX, nullable, &s.len);
    return s;
}

struct kw_str kw_get_compact_str(struct kw_reader *r, bool nullable)
{
    struct kw_str s;
    s.ptr = (const char *)get_len_bytes(r, (int64_t)kw_get_uvarint(r) - 1, INT16_MAX, nullable,
                                        &s.len);
    return s;
}

struct kw_bytes kw_get_bytes(struct kw_reader *r, bool nullable)
{
    struct kw_bytes v;
    v.ptr = get_len_bytes(r, kw_get_i32(r), INT32_MAX, nullable, &v.len);
    return v;
}

struct kw_bytes kw_get_compact_bytes(struct kw_reader *r, bool nullable)
{
    struct kw_bytes v;
    v.ptr = get_len_bytes(r, (int64_t)kw_get_uvarint(r) - 1, INT32_MAX, nullable, &v.len);
    return v;
}

int32_t kw_get_array_len(struct kw_reader *r, bool compact, bool nullable, size_t min_elem_size)
{
    int64_t n = compact ? (int64_t)kw_get_uvarint(r) - 1 : kw_get_i32(r);
    if (r->err)
        return 0;
    if (n == -1 && nullable)
        return -1;
    /* A count is judged against the bytes that are left before anything loops over it:
     * a claim of a billion elements in a 20-byte frame fails here, not after a billion reads. */
    if (n < 0)
        return kw_reader_fail(r, KW_ERR_RANGE);
    if ((uint64_t)n * (min_elem_size ? min_elem_size : 1) > kw_reader_left(r))
        return kw_reader_fail(r, KW_ERR_SHORT);
    return (int32_t)n;
}

/* --- writer ---------------------------------------------------------------------------------- */

void kw_buf_init(struct kw_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = KW_OK;
}

void kw_buf_release(struct kw_buf *b)
{
    free(b->data);
    kw_buf_init(b);
}

void kw_buf_reset(struct kw_buf *b)
{
    b->len = 0;
    b->err = KW_OK;
}

uint8_t *kw_buf_take(struct kw_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    *len = b->len;
    kw_buf_init(b);
    return p;
}

uint8_t *kw_buf_space(struct kw_buf *b, size_t n)
{
    if (b->err)
        return NULL;
    if (b->cap - b->len >= n && b->data != NULL)
        return b->data + b->len;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->err = KW_ERR_NOMEM;
            return NULL;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {            /* the old data stays valid; kw_buf_release frees it */
        b->err = KW_ERR_NOMEM;
        return NULL;
    }
    b->data = p;
    b->cap = cap;
    return b->data + b->len;
}

void kw_put_raw(struct kw_buf *b, const void *src, size_t n)
{
    uint8_t *p = kw_buf_space(b, n);
    if (p == NULL)
        return;
    if (n)
        memcpy(p, src, n);
    b->len += n;
}

void kw_put_i8(struct kw_buf *b, int8_t v)
{
    uint8_t *p = kw_buf_space(b, 1);
    if (p) {
        p[0] = (uint8_t)v;
        b->len += 1;
    }
}

void kw_put_i16(struct kw_buf *b, int16_t v) { kw_put_u16(b, (uint16_t)v); }
void kw_put_i32(struct kw_buf *b, int32_t v) { kw_put_u32(b, (uint32_t)v); }
void kw_put_bool(struct kw_buf *b, bool v) { kw_put_i8(b, v ? 1 : 0); }

void kw_put_u16(struct kw_buf *b, uint16_t v)
{
    uint8_t *p = kw_buf_space(b, 2);
    if (p) {
        kw_wbe16(p, v);
        b->len += 2;
    }
}

void kw_put_u32(struct kw_buf *b, uint32_t v)
{
    uint8_t *p = kw_buf_space(b, 4);
    if (p) {
        kw_wbe32(p, v);
        b->len += 4;
    }
}

void kw_put_i64(struct kw_buf *b, int64_t v)
{
    uint8_t *p = kw_buf_space(b, 8);
    if (p) {
        kw_wbe64(p, (uint64_t)v);
        b->len += 8;
    }
}

void kw_put_f64(struct kw_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    kw_put_i64(b, (int64_t)u);
}

static void put_leb(struct kw_buf *b, uint64_t v)
{
    uint8_t *p = kw_buf_space(b, 10);
    if (p == NULL)
        return;
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    b->len += n;
}

void kw_put_uvarint(struct kw_buf *b, uint32_t v) { put_leb(b, v); }
void kw_put_varint(struct kw_buf *b, int32_t v)
{
    put_leb(b, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}
void kw_put_varlong(struct kw_buf *b, int64_t v)
{
    put_leb(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void kw_put_uuid(struct kw_buf *b, const uint8_t v[16]) { kw_put_raw(b, v, 16); }

static int bad_len(struct kw_buf *b)
{
    if (b->err == KW_OK)
        b->err = KW_ERR_INVALID;
    return -1;
}

void kw_put_str(struct kw_buf *b, struct kw_str s)
{
    if (s.len > INT16_MAX)
        return (void)bad_len(b);
    kw_put_i16(b, (int16_t)(s.len < 0 ? -1 : s.len));
    if (s.len > 0)
        kw_put_raw(b, s.ptr, (size_t)s.len);
}

void kw_put_compact_str(struct kw_buf *b, struct kw_str s)
{
    if (s.len > INT16_MAX)
        return (void)bad_len(b);
    kw_put_uvarint(b, s.len < 0 ? 0 : (uint32_t)s.len + 1);
    if (s.len > 0)
        kw_put_raw(b, s.ptr, (size_t)s.len);
}

void kw_put_bytes(struct kw_buf *b, struct kw_bytes v)
{
    kw_put_i32(b, v.len < 0 ? -1 : v.len);
    if (v.len > 0)
        kw_put_raw(b, v.ptr, (size_t)v.len);
}

void kw_put_compact_bytes(struct kw_buf *b, struct kw_bytes v)
{
    kw_put_uvarint(b, v.len < 0 ? 0 : (uint32_t)v.len + 1);
    if (v.len > 0)
        kw_put_raw(b, v.ptr, (size_t)v.len);
}

void kw_put_array_len(struct kw_buf *b, bool compact, int32_t n)
{
    if (compact)
        kw_put_uvarint(b, n < 0 ? 0 : (uint32_t)n + 1);
    else
        kw_put_i32(b, n < 0 ? -1 : n);
}

size_t kw_reserve_i32(struct kw_buf *b)
{
    size_t at = b->len;
    kw_put_i32(b, 0);
    return at;
}

void kw_patch_i32(struct kw_buf *b, size_t at, int32_t v) { kw_patch_u32(b, at, (uint32_t)v); }

void kw_patch_u32(struct kw_buf *b, size_t at, uint32_t v)
{
    assert(b->err || at + 4 <= b->len);     /* a bad offset is our bug, not the peer's */
    if (b->err == KW_OK)
        kw_wbe32(b->data + at, v);
}

void kw_patch_i64(struct kw_buf *b, size_t at, int64_t v)
{
    assert(b->err || at + 8 <= b->len);
    if (b->err == KW_OK)
        kw_wbe64(b->data + at, (uint64_t)v);
}

size_t kw_uvarint_size(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t kw_varint_size(int32_t v)
{
    return kw_uvarint_size(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

size_t kw_varlong_size(int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

/* --- arena ----------------------------------------------------------------------------------- */

struct kw_arena_chunk {
    struct kw_arena_chunk *next;
    size_t cap;
    _Alignas(16) unsigned char mem[];
};

void kw_arena_init(struct kw_arena *a)
{
    a->head = NULL;
    a->used = a->cap = 0;
    a->err = KW_OK;
}

void *kw_arena_alloc(struct kw_arena *a, size_t n)
{
    if (n > SIZE_MAX / 4) {     /* no count times size from a decoder gets here; a caller's may */
        a->err = KW_ERR_NOMEM;
        return NULL;
    }
    n = n ? (n + 15) & ~(size_t)15 : 16;
    if (a->head == NULL || a->cap - a->used < n) {
        size_t cap = a->head ? a->cap * 2 : 4096;
        while (cap < n)
            cap *= 2;
        struct kw_arena_chunk *c = malloc(sizeof(*c) + cap);
        if (c == NULL) {
            a->err = KW_ERR_NOMEM;
            return NULL;
        }
        c->next = a->head;
        c->cap = cap;
        a->head = c;
        a->cap = cap;
        a->used = 0;
    }
    void *p = a->head->mem + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void kw_arena_reset(struct kw_arena *a)
{
    if (a->head == NULL)
        return;
    /* Keep the newest (largest) chunk: a connection's next request usually fits in it. */
    struct kw_arena_chunk *c = a->head->next;
    while (c) {
        struct kw_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head->next = NULL;
    a->cap = a->head->cap;
    a->used = 0;
    a->err = KW_OK;
}

void kw_arena_release(struct kw_arena *a)
{
    struct kw_arena_chunk *c = a->head;
    while (c) {
        struct kw_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    kw_arena_init(a);
}
