/* Message schemas: each API's request and response is a plain C struct plus a table saying, field
 * by field, where the member sits, its wire type and the versions it exists in. One engine walks
 * the table to encode, decode and describe every API, so flexible versions, nullability, tagged
 * fields and defaults are handled once (WIRE.md §4.2-4.4), not in every codec.
 *
 * Conventions for a struct described by a schema:
 *  - every struct has a `struct kw_tags tags;` member (unknown tagged fields, kept raw);
 *  - an array member `T *name` has its count in `int32_t n_name` right beside it (-1 = null);
 *  - strings are struct kw_str, bytes and records struct kw_bytes, UUIDs uint8_t[16]. */
#ifndef KW_PROTO_SCHEMA_H
#define KW_PROTO_SCHEMA_H

#include <stddef.h>

#include "lib/kw.h"

enum kw_type {
    KW_T_BOOL = 1, /* bool */
    KW_T_I8,       /* int8_t */
    KW_T_I16,      /* int16_t */
    KW_T_U16,      /* uint16_t */
    KW_T_I32,      /* int32_t */
    KW_T_U32,      /* uint32_t */
    KW_T_I64,      /* int64_t */
    KW_T_F64,      /* double */
    KW_T_UUID,     /* uint8_t[16] */
    KW_T_STR,      /* struct kw_str */
    KW_T_BYTES,    /* struct kw_bytes */
    KW_T_RECORDS,  /* struct kw_bytes holding record batches or a legacy message set */
    KW_T_STRUCT,   /* a nested struct, inline (sub) */
    KW_T_ARRAY,    /* T *member + int32_t n_member; T is sub's struct or the primitive etype */
};

#define KW_VMAX 127 /* "and every later version" */

/* Unknown tagged fields of one struct, exactly as read: `count` entries of (tag, size, data)
 * in `raw` (the bytes after the section's count). Re-encoded in tag order with known ones. */
struct kw_tags {
    const uint8_t *raw;
    uint32_t len;
    uint32_t count;
};

struct kw_schema;

struct kw_field {
    const char *name;           /* the spec's name, e.g. "TransactionalId" */
    uint8_t type;               /* enum kw_type */
    uint8_t etype;              /* element type of an array: KW_T_STRUCT or a primitive */
    int8_t vmin, vmax;          /* on the wire in these versions */
    int8_t null1;               /* nullable from version null1-1; 0 = never (KW_NULLABLE) */
    int8_t tag1;                /* tagged field number tag1-1; 0 = not tagged (KW_TAGGED) */
    int8_t tag_from;            /* tagged in versions >= tag_from */
    bool empty_default;         /* an absent string reads as "" rather than null */
    uint32_t off;               /* offsetof the member */
    uint32_t cnt_off;           /* arrays: offsetof the int32_t count */
    const struct kw_schema *sub;/* KW_T_STRUCT, and arrays of structs */
    int64_t def;                /* integers and bools: the value when absent */
};

struct kw_schema {
    const char *name;           /* "ProduceRequest", "TopicProduceData", ... */
    uint32_t size;              /* sizeof the struct */
    uint32_t tags_off;          /* offsetof its struct kw_tags */
    uint32_t nfields;
    const struct kw_field *fields;
};

/* Table-building helpers. Extra designated initializers go in the trailing arguments:
 * KW_NULLABLE(v), KW_TAGGED(tag, from_version), KW_DEFAULT(x), KW_EMPTY_DEFAULT. */
#define KW_NULLABLE(v) .null1 = (int8_t)((v) + 1)
#define KW_TAGGED(tag, from) .tag1 = (int8_t)((tag) + 1), .tag_from = (from)
#define KW_DEFAULT(x) .def = (x)
#define KW_EMPTY_DEFAULT .empty_default = true

#define KW_FIELD(S, member, NAME, TYPE, VMIN, VMAX, ...) \
    { .name = NAME, .type = TYPE, .vmin = VMIN, .vmax = VMAX, .off = offsetof(S, member), __VA_ARGS__ }
#define KW_STRUCT(S, member, NAME, SUB, VMIN, VMAX, ...) \
    { .name = NAME, .type = KW_T_STRUCT, .sub = &SUB, .vmin = VMIN, .vmax = VMAX, \
      .off = offsetof(S, member), __VA_ARGS__ }
#define KW_ARRAY(S, member, NAME, SUB, VMIN, VMAX, ...) \
    { .name = NAME, .type = KW_T_ARRAY, .etype = KW_T_STRUCT, .sub = &SUB, .vmin = VMIN, \
      .vmax = VMAX, .off = offsetof(S, member), .cnt_off = offsetof(S, n_##member), __VA_ARGS__ }
#define KW_PARRAY(S, member, NAME, ETYPE, VMIN, VMAX, ...) \
    { .name = NAME, .type = KW_T_ARRAY, .etype = ETYPE, .vmin = VMIN, .vmax = VMAX, \
      .off = offsetof(S, member), .cnt_off = offsetof(S, n_##member), __VA_ARGS__ }
#define KW_SCHEMA(S, NAME, FIELDS) \
    { NAME, sizeof(S), offsetof(S, tags), sizeof(FIELDS) / sizeof((FIELDS)[0]), FIELDS }

/* Decodes one struct at `version` (flexible: compact forms and tag sections) into out, which
 * is zeroed first. Arrays are allocated from `a`; strings and bytes point into the reader's
 * buffer. Returns r->err (KW_OK or a negative kw_err); r->err_field names the failing field. */
int kw_schema_decode(struct kw_reader *r, const struct kw_schema *s, int version, bool flexible,
                     void *out, struct kw_arena *a);

/* Appends the struct at `in` encoded at `version`. Returns b->err. */
int kw_schema_encode(struct kw_buf *b, const struct kw_schema *s, int version, bool flexible,
                     const void *in);

/* Writes the defaults of every field of s (absent-version values) into out. */
void kw_schema_defaults(const struct kw_schema *s, void *out);

/* Renders the struct as indented text, one "Name: value" per line, `indent` spaces deep.
 * RECORDS fields are shown through kw_describe_records (lib/describe.h). Returns b->err. */
int kw_schema_describe(struct kw_buf *b, const struct kw_schema *s, int version, bool flexible,
                       const void *in, int indent);

/* The minimum encoded size of s at `version`: what an array count is checked against. */
size_t kw_schema_min_size(const struct kw_schema *s, int version, bool flexible);

#endif
