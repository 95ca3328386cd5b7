/* The schema engine: encode, decode and describe any struct from its field table. */
#include "lib/proto/schema.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/describe.h"
#include "lib/errors.h"

#define MEMBER(base, off, T) ((T *)((char *)(base) + (off)))
#define CMEMBER(base, off, T) ((const T *)((const char *)(base) + (off)))

static size_t prim_size(int type)
{
    switch (type) {
    case KW_T_BOOL: case KW_T_I8: return 1;
    case KW_T_I16: case KW_T_U16: return 2;
    case KW_T_I32: case KW_T_U32: return 4;
    case KW_T_I64: case KW_T_F64: return 8;
    case KW_T_UUID: return 16;
    case KW_T_STR: return sizeof(struct kw_str);
    case KW_T_BYTES: case KW_T_RECORDS: return sizeof(struct kw_bytes);
    }
    return 0;
}

static bool present(const struct kw_field *f, int v)
{
    return v >= f->vmin && v <= f->vmax;
}

static bool tagged(const struct kw_field *f, int v, bool flexible)
{
    return flexible && f->tag1 && v >= f->tag_from && present(f, v);
}

static bool nullable(const struct kw_field *f, int v)
{
    return f->null1 && v >= f->null1 - 1;
}

/* --- defaults -------------------------------------------------------------------------------- */

static void set_int(void *p, int type, int64_t v)
{
    switch (type) {
    case KW_T_BOOL: *(bool *)p = v != 0; break;
    case KW_T_I8: *(int8_t *)p = (int8_t)v; break;
    case KW_T_I16: *(int16_t *)p = (int16_t)v; break;
    case KW_T_U16: *(uint16_t *)p = (uint16_t)v; break;
    case KW_T_I32: *(int32_t *)p = (int32_t)v; break;
    case KW_T_U32: *(uint32_t *)p = (uint32_t)v; break;
    case KW_T_I64: *(int64_t *)p = v; break;
    case KW_T_F64: *(double *)p = (double)v; break;
    }
}

static int64_t get_int(const void *p, int type)
{
    switch (type) {
    case KW_T_BOOL: return *(const bool *)p;
    case KW_T_I8: return *(const int8_t *)p;
    case KW_T_I16: return *(const int16_t *)p;
    case KW_T_U16: return *(const uint16_t *)p;
    case KW_T_I32: return *(const int32_t *)p;
    case KW_T_U32: return *(const uint32_t *)p;
    case KW_T_I64: return *(const int64_t *)p;
    case KW_T_F64: return (int64_t)*(const double *)p;
    }
    return 0;
}

static void field_default(const struct kw_field *f, void *base)
{
    void *p = MEMBER(base, f->off, void);
    switch (f->type) {
    case KW_T_STR:
        *(struct kw_str *)p = f->empty_default ? (struct kw_str){ "", 0 } : KW_STR_NULL;
        break;
    case KW_T_BYTES: case KW_T_RECORDS:
        *(struct kw_bytes *)p = KW_BYTES_NULL;
        break;
    case KW_T_UUID:
        memset(p, 0, 16);
        break;
    case KW_T_STRUCT:
        kw_schema_defaults(f->sub, p);
        break;
    case KW_T_ARRAY:
        *(void **)p = NULL;
        *MEMBER(base, f->cnt_off, int32_t) = 0;
        break;
    default:
        set_int(p, f->type, f->def);
    }
}

void kw_schema_defaults(const struct kw_schema *s, void *out)
{
    memset(out, 0, s->size);
    for (uint32_t i = 0; i < s->nfields; i++)
        field_default(&s->fields[i], out);
}

static bool is_default(const struct kw_schema *s, const void *in);

static bool field_is_default(const struct kw_field *f, const void *base)
{
    const void *p = CMEMBER(base, f->off, void);
    switch (f->type) {
    case KW_T_STR: {
        const struct kw_str *v = p;
        return f->empty_default ? v->len == 0 : v->len < 0;
    }
    case KW_T_BYTES: case KW_T_RECORDS:
        return ((const struct kw_bytes *)p)->len < 0;
    case KW_T_UUID: {
        static const uint8_t zero[16];
        return memcmp(p, zero, 16) == 0;
    }
    case KW_T_STRUCT:
        return is_default(f->sub, p);
    case KW_T_ARRAY:
        return *CMEMBER(base, f->cnt_off, int32_t) <= 0;
    default:
        return get_int(p, f->type) == f->def;
    }
}

static bool is_default(const struct kw_schema *s, const void *in)
{
    for (uint32_t i = 0; i < s->nfields; i++)
        if (!field_is_default(&s->fields[i], in))
            return false;
    return CMEMBER(in, s->tags_off, struct kw_tags)->count == 0;
}

/* --- sizes ----------------------------------------------------------------------------------- */

static size_t field_min_size(const struct kw_field *f, int v, bool flexible)
{
    switch (f->type) {
    case KW_T_STR:
        return flexible ? 1 : 2;
    case KW_T_BYTES: case KW_T_RECORDS: case KW_T_ARRAY:
        return flexible ? 1 : 4;
    case KW_T_STRUCT:
        return kw_schema_min_size(f->sub, v, flexible);
    default:
        return prim_size(f->type);
    }
}

size_t kw_schema_min_size(const struct kw_schema *s, int version, bool flexible)
{
    size_t n = flexible ? 1 : 0;        /* the tag section's count */
    for (uint32_t i = 0; i < s->nfields; i++) {
        const struct kw_field *f = &s->fields[i];
        if (present(f, version) && !tagged(f, version, flexible))
            n += field_min_size(f, version, flexible);
    }
    return n;
}

/* --- decode ---------------------------------------------------------------------------------- */

static void decode_struct(struct kw_reader *r, const struct kw_schema *s, int v, bool flex,
                          void *out, struct kw_arena *a, int depth);

static void decode_value(struct kw_reader *r, const struct kw_field *f, int type, int v,
                         bool flex, void *p, struct kw_arena *a, int depth)
{
    bool null_ok = nullable(f, v);
    switch (type) {
    case KW_T_BOOL: *(bool *)p = kw_get_bool(r); break;
    case KW_T_I8: *(int8_t *)p = kw_get_i8(r); break;
    case KW_T_I16: *(int16_t *)p = kw_get_i16(r); break;
    case KW_T_U16: *(uint16_t *)p = kw_get_u16(r); break;
    case KW_T_I32: *(int32_t *)p = kw_get_i32(r); break;
    case KW_T_U32: *(uint32_t *)p = kw_get_u32(r); break;
    case KW_T_I64: *(int64_t *)p = kw_get_i64(r); break;
    case KW_T_F64: *(double *)p = kw_get_f64(r); break;
    case KW_T_UUID: kw_get_uuid(r, p); break;
    case KW_T_STR:
        *(struct kw_str *)p = flex ? kw_get_compact_str(r, null_ok) : kw_get_str(r, null_ok);
        break;
    case KW_T_BYTES:
        *(struct kw_bytes *)p = flex ? kw_get_compact_bytes(r, null_ok) : kw_get_bytes(r, null_ok);
        break;
    case KW_T_RECORDS:          /* always nullable on the wire (WIRE.md §4.1) */
        *(struct kw_bytes *)p = flex ? kw_get_compact_bytes(r, true) : kw_get_bytes(r, true);
        break;
    case KW_T_STRUCT:
        decode_struct(r, f->sub, v, flex, p, a, depth + 1);
        break;
    }
}

static void decode_array(struct kw_reader *r, const struct kw_field *f, int v, bool flex,
                         void *base, struct kw_arena *a, int depth)
{
    size_t esize = f->etype == KW_T_STRUCT ? f->sub->size : prim_size(f->etype);
    size_t emin = f->etype == KW_T_STRUCT ? kw_schema_min_size(f->sub, v, flex)
                : f->etype == KW_T_STR ? (flex ? 1 : 2)
                : f->etype == KW_T_BYTES ? (flex ? 1 : 4) : prim_size(f->etype);
    int32_t n = kw_get_array_len(r, flex, nullable(f, v), emin);
    *MEMBER(base, f->cnt_off, int32_t) = n;
    *MEMBER(base, f->off, void *) = NULL;
    if (n <= 0 || r->err)
        return;
    char *arr = kw_arena_alloc(a, esize * (size_t)n);
    if (arr == NULL) {
        kw_reader_fail(r, KW_ERR_NOMEM);
        return;
    }
    *MEMBER(base, f->off, void *) = arr;
    for (int32_t i = 0; i < n && !r->err; i++)
        decode_value(r, f, f->etype, v, flex, arr + esize * (size_t)i, a, depth);
}

static void decode_field(struct kw_reader *r, const struct kw_field *f, int v, bool flex,
                         void *base, struct kw_arena *a, int depth)
{
    r->field = f->name;
    if (f->type == KW_T_ARRAY)
        decode_array(r, f, v, flex, base, a, depth);
    else
        decode_value(r, f, f->type, v, flex, MEMBER(base, f->off, void), a, depth);
}

static const struct kw_field *find_tag(const struct kw_schema *s, uint32_t tag, int v)
{
    for (uint32_t i = 0; i < s->nfields; i++) {
        const struct kw_field *f = &s->fields[i];
        if (tagged(f, v, true) && (uint32_t)(f->tag1 - 1) == tag)
            return f;
    }
    return NULL;
}

static void decode_tags(struct kw_reader *r, const struct kw_schema *s, int v, void *out,
                        struct kw_arena *a, int depth)
{
    struct kw_tags *t = MEMBER(out, s->tags_off, struct kw_tags);
    r->field = "TaggedFields";
    uint32_t n = kw_get_uvarint(r);
    if (n > kw_reader_left(r) / 2) {        /* each entry takes at least 2 bytes */
        kw_reader_fail(r, KW_ERR_SHORT);
        return;
    }
    const uint8_t *unknown_start = NULL;
    for (uint32_t i = 0; i < n && !r->err; i++) {
        const uint8_t *entry = r->pos;
        uint32_t tag = kw_get_uvarint(r);
        uint32_t size = kw_get_uvarint(r);
        const uint8_t *data = kw_get_raw(r, size);
        if (data == NULL)
            return;
        const struct kw_field *f = find_tag(s, tag, v);
        if (f == NULL) {
            /* Kept raw for re-encoding. Unknown entries are stored as one run; a known tag
             * between two unknown ones ends the run, and the later unknowns are dropped from
             * it, which only matters for frames that interleave tags we partly know. */
            if (unknown_start == NULL || unknown_start + t->len == entry) {
                if (unknown_start == NULL)
                    unknown_start = entry;
                t->raw = unknown_start;
                t->len = (uint32_t)(r->pos - unknown_start);
                t->count++;
            }
            continue;
        }
        struct kw_reader sub;
        kw_reader_init(&sub, data, size);
        decode_field(&sub, f, v, true, out, a, depth);
        if (sub.err) {
            r->field = sub.err_field;
            kw_reader_fail(r, sub.err);
            return;
        }
        r->field = "TaggedFields";
    }
}

static void decode_struct(struct kw_reader *r, const struct kw_schema *s, int v, bool flex,
                          void *out, struct kw_arena *a, int depth)
{
    if (depth > 16) {           /* our schemas nest 4 deep at most; this is a table bug guard */
        kw_reader_fail(r, KW_ERR_CORRUPT);
        return;
    }
    for (uint32_t i = 0; i < s->nfields; i++) {
        const struct kw_field *f = &s->fields[i];
        if (!present(f, v) || tagged(f, v, flex)) {
            field_default(f, out);
            continue;
        }
        decode_field(r, f, v, flex, out, a, depth);
        if (r->err)
            return;
    }
    if (flex)
        decode_tags(r, s, v, out, a, depth);
}

int kw_schema_decode(struct kw_reader *r, const struct kw_schema *s, int version, bool flexible,
                     void *out, struct kw_arena *a)
{
    memset(out, 0, s->size);
    decode_struct(r, s, version, flexible, out, a, 0);
    return r->err;
}

/* --- encode ---------------------------------------------------------------------------------- */

static void encode_struct(struct kw_buf *b, const struct kw_schema *s, int v, bool flex,
                          const void *in);

static void encode_value(struct kw_buf *b, const struct kw_field *f, int type, int v, bool flex,
                         const void *p)
{
    switch (type) {
    case KW_T_BOOL: kw_put_bool(b, *(const bool *)p); break;
    case KW_T_I8: kw_put_i8(b, *(const int8_t *)p); break;
    case KW_T_I16: kw_put_i16(b, *(const int16_t *)p); break;
    case KW_T_U16: kw_put_u16(b, *(const uint16_t *)p); break;
    case KW_T_I32: kw_put_i32(b, *(const int32_t *)p); break;
    case KW_T_U32: kw_put_u32(b, *(const uint32_t *)p); break;
    case KW_T_I64: kw_put_i64(b, *(const int64_t *)p); break;
    case KW_T_F64: kw_put_f64(b, *(const double *)p); break;
    case KW_T_UUID: kw_put_uuid(b, p); break;
    case KW_T_STR: {
        struct kw_str s = *(const struct kw_str *)p;
        if (s.len < 0 && !nullable(f, v))
            s = (struct kw_str){ "", 0 };   /* a null where the version has no null: "" */
        if (flex)
            kw_put_compact_str(b, s);
        else
            kw_put_str(b, s);
        break;
    }
    case KW_T_BYTES: case KW_T_RECORDS: {
        struct kw_bytes x = *(const struct kw_bytes *)p;
        if (x.len < 0 && type == KW_T_BYTES && !nullable(f, v))
            x = (struct kw_bytes){ (const uint8_t *)"", 0 };
        if (flex)
            kw_put_compact_bytes(b, x);
        else
            kw_put_bytes(b, x);
        break;
    }
    case KW_T_STRUCT:
        encode_struct(b, f->sub, v, flex, p);
        break;
    }
}

static void encode_field(struct kw_buf *b, const struct kw_field *f, int v, bool flex,
                         const void *base)
{
    if (f->type != KW_T_ARRAY) {
        encode_value(b, f, f->type, v, flex, CMEMBER(base, f->off, void));
        return;
    }
    int32_t n = *CMEMBER(base, f->cnt_off, int32_t);
    const char *arr = *CMEMBER(base, f->off, char *);
    if (n < 0 && !nullable(f, v))
        n = 0;
    if (n > 0 && arr == NULL) {
        if (b->err == KW_OK)
            b->err = KW_ERR_INVALID;
        return;
    }
    kw_put_array_len(b, flex, n);
    size_t esize = f->etype == KW_T_STRUCT ? f->sub->size : prim_size(f->etype);
    for (int32_t i = 0; i < n && !b->err; i++)
        encode_value(b, f, f->etype, v, flex, arr + esize * (size_t)i);
}

/* One unknown tag entry of a kw_tags run, by index order. */
struct raw_tag {
    uint32_t tag;
    const uint8_t *entry;
    size_t len;
};

static bool next_raw(struct kw_reader *r, struct raw_tag *t)
{
    if (kw_reader_left(r) == 0)
        return false;
    t->entry = r->pos;
    t->tag = kw_get_uvarint(r);
    uint32_t size = kw_get_uvarint(r);
    kw_get_raw(r, size);
    t->len = (size_t)(r->pos - t->entry);
    return r->err == KW_OK;
}

static void encode_tags(struct kw_buf *b, const struct kw_schema *s, int v, const void *in)
{
    const struct kw_tags *t = CMEMBER(in, s->tags_off, struct kw_tags);
    bool any = t->count > 0;
    for (uint32_t i = 0; i < s->nfields && !any; i++)
        any = tagged(&s->fields[i], v, true) && !field_is_default(&s->fields[i], in);
    if (!any) {
        kw_put_uvarint(b, 0);
        return;
    }

    /* KIP-482: tags in increasing order, each once. Known fields and kept unknown entries are
     * merged by tag number; an unknown tag read twice is written once, so the count is known
     * only at the end: the entries go to a side buffer first. Few tags per struct, so a scan per
     * step is fine. */
    struct kw_buf body;
    kw_buf_init(&body);
    struct kw_reader rr;
    struct raw_tag rt;
    uint32_t count = 0;
    int64_t last = -1;
    for (;;) {
        int64_t best = INT64_MAX;
        const struct kw_field *bf = NULL;
        struct raw_tag br = { 0 };
        for (uint32_t i = 0; i < s->nfields; i++) {
            const struct kw_field *f = &s->fields[i];
            int64_t tag = f->tag1 - 1;
            if (tagged(f, v, true) && tag > last && tag < best && !field_is_default(f, in)) {
                best = tag;
                bf = f;
            }
        }
        kw_reader_init(&rr, t->raw, t->raw ? t->len : 0);
        while (next_raw(&rr, &rt))
            if (rt.tag > last && rt.tag < best && find_tag(s, rt.tag, v) == NULL) {
                best = rt.tag;
                br = rt;
                bf = NULL;
            }
        if (best == INT64_MAX)
            break;
        if (bf == NULL) {
            kw_put_raw(&body, br.entry, br.len);
        } else {
            struct kw_buf tmp;
            kw_buf_init(&tmp);
            encode_field(&tmp, bf, v, true, in);
            kw_put_uvarint(&body, (uint32_t)best);
            kw_put_uvarint(&body, (uint32_t)tmp.len);
            kw_put_raw(&body, tmp.data, tmp.len);
            if (tmp.err && body.err == KW_OK)
                body.err = tmp.err;
            kw_buf_release(&tmp);
        }
        count++;
        last = best;
    }
    kw_put_uvarint(b, count);
    kw_put_raw(b, body.data, body.len);
    if (body.err && b->err == KW_OK)
        b->err = body.err;
    kw_buf_release(&body);
}

static void encode_struct(struct kw_buf *b, const struct kw_schema *s, int v, bool flex,
                          const void *in)
{
    for (uint32_t i = 0; i < s->nfields && !b->err; i++) {
        const struct kw_field *f = &s->fields[i];
        if (present(f, v) && !tagged(f, v, flex))
            encode_field(b, f, v, flex, in);
    }
    if (flex)
        encode_tags(b, s, v, in);
}

int kw_schema_encode(struct kw_buf *b, const struct kw_schema *s, int version, bool flexible,
                     const void *in)
{
    encode_struct(b, s, version, flexible, in);
    return b->err;
}

/* --- describe -------------------------------------------------------------------------------- */

static void out(struct kw_buf *b, int indent, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (int i = 0; i < indent; i++)
        kw_put_i8(b, ' ');
    kw_put_raw(b, line, n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void describe_str(struct kw_buf *b, const char *p, int32_t len)
{
    kw_put_i8(b, '"');
    for (int32_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            out(b, 0, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            kw_put_i8(b, (int8_t)c);
        else
            out(b, 0, "\\x%02x", c);
    }
    kw_put_i8(b, '"');
}

static void describe_struct(struct kw_buf *b, const struct kw_schema *s, int v, bool flex,
                            const void *in, int indent);

static void describe_value(struct kw_buf *b, const struct kw_field *f, int type, int v, bool flex,
                           const void *p, int indent)
{
    switch (type) {
    case KW_T_BOOL: out(b, 0, "%s\n", *(const bool *)p ? "true" : "false"); break;
    case KW_T_F64: out(b, 0, "%g\n", *(const double *)p); break;
    case KW_T_UUID: {
        const uint8_t *u = p;
        for (int i = 0; i < 16; i++)
            out(b, 0, "%02x%s", u[i], i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
        out(b, 0, "\n");
        break;
    }
    case KW_T_STR: {
        const struct kw_str *s = p;
        if (s->len < 0)
            out(b, 0, "null\n");
        else {
            describe_str(b, s->ptr, s->len);
            out(b, 0, "\n");
        }
        break;
    }
    case KW_T_BYTES: {
        const struct kw_bytes *x = p;
        if (x->len < 0) {
            out(b, 0, "null\n");
            break;
        }
        out(b, 0, "%" PRId32 " bytes", x->len);
        for (int32_t i = 0; i < x->len && i < 32; i++)
            out(b, 0, "%s%02x", i ? "" : " ", x->ptr[i]);
        out(b, 0, "%s\n", x->len > 32 ? "..." : "");
        break;
    }
    case KW_T_RECORDS: {
        const struct kw_bytes *x = p;
        if (x->len < 0) {
            out(b, 0, "null\n");
            break;
        }
        out(b, 0, "%" PRId32 " bytes\n", x->len);
        kw_describe_records(b, x->ptr, (size_t)x->len, indent + 2);
        break;
    }
    case KW_T_STRUCT:
        out(b, 0, "\n");
        describe_struct(b, f->sub, v, flex, p, indent + 2);
        break;
    default:
        if (type == KW_T_I16 && f->name && strcmp(f->name, "ErrorCode") == 0 &&
            get_int(p, type) != 0)
            out(b, 0, "%" PRId64 " (%s)\n", get_int(p, type),
                kw_error_name((int)get_int(p, type)));
        else
            out(b, 0, "%" PRId64 "\n", get_int(p, type));
    }
}

static void describe_struct(struct kw_buf *b, const struct kw_schema *s, int v, bool flex,
                            const void *in, int indent)
{
    for (uint32_t i = 0; i < s->nfields; i++) {
        const struct kw_field *f = &s->fields[i];
        if (!present(f, v) || (tagged(f, v, flex) && field_is_default(f, in)))
            continue;
        out(b, indent, "%s: ", f->name);
        if (f->type != KW_T_ARRAY) {
            describe_value(b, f, f->type, v, flex, CMEMBER(in, f->off, void), indent);
            continue;
        }
        int32_t n = *CMEMBER(in, f->cnt_off, int32_t);
        const char *arr = *CMEMBER(in, f->off, char *);
        size_t esize = f->etype == KW_T_STRUCT ? f->sub->size : prim_size(f->etype);
        if (n < 0) {
            out(b, 0, "null\n");
            continue;
        }
        if (f->etype != KW_T_STRUCT) {
            out(b, 0, "[");
            for (int32_t j = 0; j < n && arr; j++) {
                const void *p = arr + esize * (size_t)j;
                if (j)
                    out(b, 0, ", ");
                if (f->etype == KW_T_STR)
                    describe_str(b, ((const struct kw_str *)p)->ptr, ((const struct kw_str *)p)->len);
                else
                    out(b, 0, "%" PRId64, get_int(p, f->etype));
            }
            out(b, 0, "]\n");
            continue;
        }
        out(b, 0, "%" PRId32 " item%s\n", n, n == 1 ? "" : "s");
        for (int32_t j = 0; j < n && arr; j++) {
            out(b, indent + 2, "[%" PRId32 "] %s\n", j, f->sub->name);
            describe_struct(b, f->sub, v, flex, arr + esize * (size_t)j, indent + 4);
        }
    }
    const struct kw_tags *t = CMEMBER(in, s->tags_off, struct kw_tags);
    if (flex && t->count)
        out(b, indent, "(%" PRIu32 " unknown tagged field%s, %" PRIu32 " bytes)\n", t->count,
            t->count == 1 ? "" : "s", t->len);
}

int kw_schema_describe(struct kw_buf *b, const struct kw_schema *s, int version, bool flexible,
                       const void *in, int indent)
{
    describe_struct(b, s, version, flexible, in, indent);
    return b->err;
}
