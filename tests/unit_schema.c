/* The schema engine on a message of its own, so each rule is tested apart from any API:
 * versions, nullability by version, defaults, tagged fields known and unknown, nesting. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/proto/schema.h"

struct t_leaf {
    int32_t id;
    struct kw_str label;
    struct kw_tags tags;
};

struct t_msg {
    int16_t code;                   /* all versions */
    struct kw_str name;             /* nullable from v1 */
    int32_t n_leaves;
    struct t_leaf *leaves;          /* nullable from v2 */
    int64_t since_v2;               /* v2+, default -1 when absent */
    bool flag;                      /* v0-1 only, default true */
    int32_t n_ids;
    int32_t *ids;                   /* primitive array */
    int32_t tagged_int;             /* tag 1 from v3, default -1 */
    struct t_leaf tagged_leaf;      /* tag 4 from v3 */
    struct kw_str tagged_str;       /* tag 2 from v3 */
    struct kw_tags tags;
};

#define S struct t_leaf
static const struct kw_field leaf_fields[] = {
    KW_FIELD(S, id, "Id", KW_T_I32, 0, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, label, "Label", KW_T_STR, 0, KW_VMAX, KW_EMPTY_DEFAULT),
};
#undef S
static const struct kw_schema leaf_schema = KW_SCHEMA(struct t_leaf, "Leaf", leaf_fields);

#define S struct t_msg
static const struct kw_field msg_fields[] = {
    KW_FIELD(S, code, "Code", KW_T_I16, 0, KW_VMAX),
    KW_FIELD(S, name, "Name", KW_T_STR, 0, KW_VMAX, KW_NULLABLE(1)),
    KW_ARRAY(S, leaves, "Leaves", leaf_schema, 0, KW_VMAX, KW_NULLABLE(2)),
    KW_FIELD(S, since_v2, "SinceV2", KW_T_I64, 2, KW_VMAX, KW_DEFAULT(-1)),
    KW_FIELD(S, flag, "Flag", KW_T_BOOL, 0, 1, KW_DEFAULT(1)),
    KW_PARRAY(S, ids, "Ids", KW_T_I32, 0, KW_VMAX),
    KW_FIELD(S, tagged_int, "TaggedInt", KW_T_I32, 3, KW_VMAX, KW_TAGGED(1, 3), KW_DEFAULT(-1)),
    KW_STRUCT(S, tagged_leaf, "TaggedLeaf", leaf_schema, 3, KW_VMAX, KW_TAGGED(4, 3)),
    KW_FIELD(S, tagged_str, "TaggedStr", KW_T_STR, 3, KW_VMAX, KW_TAGGED(2, 3), KW_NULLABLE(3)),
};
#undef S
static const struct kw_schema msg_schema = KW_SCHEMA(struct t_msg, "Msg", msg_fields);

static struct t_leaf leaves[2] = { { 1, { "a", 1 } }, { 2, { "bb", 2 } } };
static int32_t ids[3] = { 7, 8, 9 };

static struct t_msg sample(void)
{
    struct t_msg m = {
        .code = 5, .name = { "x", 1 }, .n_leaves = 2, .leaves = leaves, .since_v2 = 42,
        .flag = false, .n_ids = 3, .ids = ids, .tagged_int = 17,
        .tagged_leaf = { 3, { "c", 1 } }, .tagged_str = KW_STR_NULL,
    };
    return m;
}

static void encode(struct kw_buf *b, int v, const struct t_msg *m)
{
    kw_buf_init(b);
    CU_ASSERT_EQUAL(kw_schema_encode(b, &msg_schema, v, v >= 3, m), KW_OK);
}

static int decode(const struct kw_buf *b, int v, struct t_msg *m, struct kw_arena *a)
{
    struct kw_reader r;
    kw_reader_init(&r, b->data, b->len);
    int err = kw_schema_decode(&r, &msg_schema, v, v >= 3, m, a);
    if (err == KW_OK && kw_reader_left(&r) != 0)
        return KW_ERR_TRAILING;
    return err;
}

static void test_every_version_round_trips(void)
{
    struct t_msg m = sample();
    for (int v = 0; v <= 4; v++) {
        struct kw_buf b, b2;
        struct t_msg d;
        struct kw_arena a;
        kw_arena_init(&a);
        encode(&b, v, &m);
        CU_ASSERT_EQUAL(decode(&b, v, &d, &a), KW_OK);
        CU_ASSERT_EQUAL(d.code, 5);
        CU_ASSERT(d.n_leaves == 2 && d.leaves[1].id == 2 && kw_str_eq(d.leaves[1].label, "bb"));
        CU_ASSERT(d.n_ids == 3 && d.ids[2] == 9);
        CU_ASSERT_EQUAL(d.since_v2, v >= 2 ? 42 : -1);
        CU_ASSERT_EQUAL(d.flag, v <= 1 ? false : true);
        CU_ASSERT_EQUAL(d.tagged_int, v >= 3 ? 17 : -1);
        CU_ASSERT_EQUAL(d.tagged_leaf.id, v >= 3 ? 3 : -1);
        encode(&b2, v, &d);
        CU_ASSERT(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
        kw_buf_release(&b);
        kw_buf_release(&b2);
        kw_arena_release(&a);
    }
}

static void test_null_is_written_only_where_the_version_allows_it(void)
{
    struct t_msg m = sample();
    m.name = KW_STR_NULL;
    m.n_leaves = -1;
    struct kw_buf b;
    struct t_msg d;
    struct kw_arena a;
    kw_arena_init(&a);
    encode(&b, 0, &m);              /* v0: neither is nullable, so "" and [] */
    CU_ASSERT_EQUAL(decode(&b, 0, &d, &a), KW_OK);
    CU_ASSERT(d.name.len == 0 && d.n_leaves == 0);
    kw_buf_release(&b);
    encode(&b, 2, &m);
    CU_ASSERT_EQUAL(decode(&b, 2, &d, &a), KW_OK);
    CU_ASSERT(d.name.len == -1 && d.n_leaves == -1);
    kw_buf_release(&b);
    static const uint8_t null_name_v0[] = { 0, 5, 0xff, 0xff };
    struct kw_reader r;
    kw_reader_init(&r, null_name_v0, sizeof(null_name_v0));
    CU_ASSERT_EQUAL(kw_schema_decode(&r, &msg_schema, 0, false, &d, &a), KW_ERR_RANGE);
    CU_ASSERT_STRING_EQUAL(r.err_field, "Name");
    CU_ASSERT_EQUAL(r.err_at, 4);
    kw_arena_release(&a);
}

/* v3 body with the sample's fields and hand-written tags: unknown 0, known 1, unknown 9. */
static const uint8_t tagged_v3[] = {
    0x00, 0x05,                     /* Code */
    0x02, 'x',                      /* Name */
    0x03, 0x00, 0x00, 0x00, 0x01, 0x02, 'a', 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 'b', 'b', 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* SinceV2 */
    0x02, 0x00, 0x00, 0x00, 0x07,   /* Ids [7] */
    0x03,                           /* 3 tags */
    0x00, 0x02, 0xab, 0xcd,         /* tag 0: unknown */
    0x01, 0x04, 0x00, 0x00, 0x00, 0x11, /* tag 1: TaggedInt 17 */
    0x09, 0x01, 0xee,               /* tag 9: unknown */
};

static void test_unknown_tags_are_kept_and_re_encoded_in_order(void)
{
    struct kw_reader r;
    struct t_msg d;
    struct kw_arena a;
    kw_arena_init(&a);
    kw_reader_init(&r, tagged_v3, sizeof(tagged_v3));
    CU_ASSERT_EQUAL(kw_schema_decode(&r, &msg_schema, 3, true, &d, &a), KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    CU_ASSERT_EQUAL(d.tagged_int, 17);
    CU_ASSERT_EQUAL(d.tags.count, 1);   /* the run 0 ends at known tag 1; see decode_tags */
    /* A struct whose only unknown tags are contiguous re-encodes byte for byte. */
    static const uint8_t two_unknown[] = { 0x00, 0x05, 0x02, 'x', 0x01,
                                           0, 0, 0, 0, 0, 0, 0, 0x2a, 0x01,
                                           0x02, 0x03, 0x01, 0xaa, 0x07, 0x00 };
    kw_reader_init(&r, two_unknown, sizeof(two_unknown));
    CU_ASSERT_EQUAL(kw_schema_decode(&r, &msg_schema, 3, true, &d, &a), KW_OK);
    CU_ASSERT_EQUAL(d.tags.count, 2);
    d.tagged_int = 5;               /* a known tag to merge between 3 and 7 */
    struct kw_buf b;
    encode(&b, 3, &d);
    static const uint8_t want_tags[] = { 0x03, 0x01, 0x04, 0, 0, 0, 5, 0x03, 0x01, 0xaa, 0x07, 0x00 };
    CU_ASSERT(b.len >= sizeof(want_tags) &&
              memcmp(b.data + b.len - sizeof(want_tags), want_tags, sizeof(want_tags)) == 0);
    kw_buf_release(&b);
    kw_arena_release(&a);
}

static void test_hostile_tag_sections_fail_cleanly(void)
{
    static const uint8_t huge_count[] = { 0x00, 0x05, 0x02, 'x', 0x01, 0, 0, 0, 0, 0, 0, 0, 0x2a,
                                          0x01, 0xff, 0xff, 0xff, 0xff, 0x0f };
    static const uint8_t huge_size[] = { 0x00, 0x05, 0x02, 'x', 0x01, 0, 0, 0, 0, 0, 0, 0, 0x2a,
                                         0x01, 0x01, 0x05, 0xff, 0xff, 0xff, 0x7f };
    static const uint8_t bad_known[] = { 0x00, 0x05, 0x02, 'x', 0x01, 0, 0, 0, 0, 0, 0, 0, 0x2a,
                                         0x01, 0x01, 0x01, 0x02, 0x00, 0x01 };
    const uint8_t *cases[] = { huge_count, huge_size, bad_known };
    size_t lens[] = { sizeof(huge_count), sizeof(huge_size), sizeof(bad_known) };
    for (int i = 0; i < 3; i++) {
        struct kw_reader r;
        struct t_msg d;
        struct kw_arena a;
        kw_arena_init(&a);
        kw_reader_init(&r, cases[i], lens[i]);
        CU_ASSERT(kw_schema_decode(&r, &msg_schema, 3, true, &d, &a) < 0);
        kw_arena_release(&a);
    }
}

/* Found by fuzz_frame: an unknown tag read twice was re-encoded once under the old count. */
static void test_a_repeated_unknown_tag_re_encodes_to_a_valid_frame(void)
{
    static const uint8_t twice[] = { 0x00, 0x05, 0x02, 'x', 0x01, 0, 0, 0, 0, 0, 0, 0, 0x2a,
                                     0x01, 0x02, 0x05, 0x01, 0xaa, 0x05, 0x01, 0xbb };
    struct kw_reader r;
    struct t_msg d, d2;
    struct kw_arena a;
    kw_arena_init(&a);
    kw_reader_init(&r, twice, sizeof(twice));
    CU_ASSERT_EQUAL(kw_schema_decode(&r, &msg_schema, 3, true, &d, &a), KW_OK);
    struct kw_buf b;
    encode(&b, 3, &d);
    CU_ASSERT_EQUAL(decode(&b, 3, &d2, &a), KW_OK);
    CU_ASSERT_EQUAL(d2.tags.count, 1);
    kw_buf_release(&b);
    kw_arena_release(&a);
}

static void test_describe_names_fields_and_skips_default_tags(void)
{
    struct t_msg m = sample();
    m.tagged_int = -1;
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kw_schema_describe(&b, &msg_schema, 3, true, &m, 0), KW_OK);
    kw_put_i8(&b, 0);
    const char *s = (const char *)b.data;
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Code: 5\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Name: \"x\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Leaves: 2 items\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Ids: [7, 8, 9]\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "TaggedInt"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "TaggedLeaf:"));
    kw_buf_release(&b);
}

CU_TestInfo kwt_schema_tests[] = {
    { "every version round-trips", test_every_version_round_trips },
    { "null is written only where the version allows it",
      test_null_is_written_only_where_the_version_allows_it },
    { "unknown tags are kept and re-encoded in order",
      test_unknown_tags_are_kept_and_re_encoded_in_order },
    { "hostile tag sections fail cleanly", test_hostile_tag_sections_fail_cleanly },
    { "a repeated unknown tag re-encodes to a valid frame",
      test_a_repeated_unknown_tag_re_encodes_to_a_valid_frame },
    { "describe names fields and skips default tags",
      test_describe_names_fields_and_skips_default_tags },
    CU_TEST_INFO_NULL,
};
