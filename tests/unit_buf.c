/* Buffers and primitives: WIRE.md §4.1's worked values, stickiness, bounds. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/kw.h"

static int hex_eq(const struct kw_buf *b, const char *hex)
{
    char got[256] = "";
    for (size_t i = 0; i < b->len && i < 100; i++)
        sprintf(got + 2 * i, "%02x", b->data[i]);
    return strcmp(got, hex) == 0;
}

static void test_varints_match_the_worked_values(void)
{
    static const struct { int32_t v; const char *hex; } vs[] = {
        { 0, "00" }, { -1, "01" }, { 1, "02" }, { -2, "03" }, { 15, "1e" }, { 63, "7e" },
        { -64, "7f" }, { 64, "8001" }, { -65, "8101" }, { 300, "d804" },
        { INT32_MAX, "feffffff0f" }, { INT32_MIN, "ffffffff0f" },
    };
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        kw_put_varint(&b, vs[i].v);
        CU_ASSERT(hex_eq(&b, vs[i].hex));
        CU_ASSERT_EQUAL(b.len, kw_varint_size(vs[i].v));
        struct kw_reader r;
        kw_reader_init(&r, b.data, b.len);
        CU_ASSERT_EQUAL(kw_get_varint(&r), vs[i].v);
        CU_ASSERT(r.err == KW_OK && kw_reader_left(&r) == 0);
        kw_buf_release(&b);
    }
    static const struct { uint32_t v; const char *hex; } us[] = {
        { 0, "00" }, { 127, "7f" }, { 128, "8001" }, { 300, "ac02" }, { 16384, "808001" },
    };
    for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        kw_put_uvarint(&b, us[i].v);
        CU_ASSERT(hex_eq(&b, us[i].hex));
        kw_buf_release(&b);
    }
}

static void test_varlong_round_trips_extremes(void)
{
    static const int64_t vs[] = { 0, -1, 1, INT64_MAX, INT64_MIN, 1LL << 40, -(1LL << 40) };
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        kw_put_varlong(&b, vs[i]);
        CU_ASSERT_EQUAL(b.len, kw_varlong_size(vs[i]));
        struct kw_reader r;
        kw_reader_init(&r, b.data, b.len);
        CU_ASSERT_EQUAL(kw_get_varlong(&r), vs[i]);
        CU_ASSERT_EQUAL(r.err, KW_OK);
        kw_buf_release(&b);
    }
}

static void test_overlong_varint_fails_without_overread(void)
{
    static const uint8_t six[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    struct kw_reader r;
    kw_reader_init(&r, six, sizeof(six));
    kw_get_uvarint(&r);
    CU_ASSERT_EQUAL(r.err, KW_ERR_VARINT);
    static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };    /* 2^35-1 > UINT32_MAX */
    kw_reader_init(&r, big, sizeof(big));
    kw_get_uvarint(&r);
    CU_ASSERT_EQUAL(r.err, KW_ERR_VARINT);
    static const uint8_t cut[] = { 0x80, 0x80 };
    kw_reader_init(&r, cut, sizeof(cut));
    kw_get_varint(&r);
    CU_ASSERT_EQUAL(r.err, KW_ERR_SHORT);
}

static void test_reader_error_is_sticky_and_keeps_the_first_offset(void)
{
    static const uint8_t d[] = { 0, 1, 2 };
    struct kw_reader r;
    kw_reader_init(&r, d, sizeof(d));
    r.field = "A";
    CU_ASSERT_EQUAL(kw_get_i16(&r), 1);
    r.field = "B";
    CU_ASSERT_EQUAL(kw_get_i32(&r), 0);
    CU_ASSERT_EQUAL(r.err, KW_ERR_SHORT);
    CU_ASSERT_EQUAL(r.err_at, 2);
    CU_ASSERT_STRING_EQUAL(r.err_field, "B");
    r.field = "C";
    CU_ASSERT_EQUAL(kw_get_i8(&r), 0);          /* later reads fail fast, first error kept */
    CU_ASSERT_EQUAL(r.err_at, 2);
    CU_ASSERT_STRING_EQUAL(r.err_field, "B");
}

static void test_strings_reject_bad_lengths(void)
{
    static const uint8_t neg[] = { 0xff, 0xfe, 'a' };       /* -2 */
    static const uint8_t null[] = { 0xff, 0xff };
    static const uint8_t long_[] = { 0x00, 0x05, 'a', 'b' };
    struct kw_reader r;
    kw_reader_init(&r, neg, sizeof(neg));
    kw_get_str(&r, true);
    CU_ASSERT_EQUAL(r.err, KW_ERR_RANGE);
    kw_reader_init(&r, null, sizeof(null));
    CU_ASSERT_EQUAL(kw_get_str(&r, true).len, -1);
    CU_ASSERT_EQUAL(r.err, KW_OK);
    kw_reader_init(&r, null, sizeof(null));
    kw_get_str(&r, false);
    CU_ASSERT_EQUAL(r.err, KW_ERR_RANGE);
    kw_reader_init(&r, long_, sizeof(long_));
    kw_get_str(&r, false);
    CU_ASSERT_EQUAL(r.err, KW_ERR_SHORT);
    static const uint8_t cnull[] = { 0x00 };
    kw_reader_init(&r, cnull, sizeof(cnull));
    CU_ASSERT_EQUAL(kw_get_compact_str(&r, true).len, -1);
    kw_reader_init(&r, cnull, sizeof(cnull));
    kw_get_compact_str(&r, false);
    CU_ASSERT_EQUAL(r.err, KW_ERR_RANGE);
}

static void test_array_count_is_judged_against_bytes_left(void)
{
    static const uint8_t billion[] = { 0x3b, 0x9a, 0xca, 0x00, 1, 2, 3, 4 };
    struct kw_reader r;
    kw_reader_init(&r, billion, sizeof(billion));
    kw_get_array_len(&r, false, false, 4);
    CU_ASSERT_EQUAL(r.err, KW_ERR_SHORT);
    static const uint8_t tags[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    kw_reader_init(&r, tags, sizeof(tags));
    kw_get_array_len(&r, true, true, 1);
    CU_ASSERT(r.err != KW_OK);
    static const uint8_t one[] = { 0, 0, 0, 1, 0, 0, 0, 7 };
    kw_reader_init(&r, one, sizeof(one));
    CU_ASSERT_EQUAL(kw_get_array_len(&r, false, false, 4), 1);
}

static void test_reserve_and_patch_fill_a_length_prefix(void)
{
    struct kw_buf b;
    kw_buf_init(&b);
    size_t at = kw_reserve_i32(&b);
    kw_put_str(&b, kw_str_c("hi"));
    kw_patch_i32(&b, at, (int32_t)(b.len - at - 4));
    CU_ASSERT(hex_eq(&b, "0000000400026869"));
    for (int i = 0; i < 10000; i++)             /* growth keeps earlier bytes */
        kw_put_i32(&b, i);
    CU_ASSERT_EQUAL(b.len, 8 + 40000);
    CU_ASSERT_EQUAL(kw_be32(b.data + 8 + 4 * 9999), 9999);
    kw_buf_release(&b);
}

static void test_arena_allocations_are_zeroed_and_aligned(void)
{
    struct kw_arena a;
    kw_arena_init(&a);
    for (int i = 1; i < 2000; i += 37) {
        unsigned char *p = kw_arena_alloc(&a, (size_t)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
        CU_ASSERT(p[0] == 0 && p[i - 1] == 0);
        memset(p, 0xab, (size_t)i);
    }
    kw_arena_reset(&a);
    unsigned char *p = kw_arena_alloc(&a, 100000);
    CU_ASSERT(p != NULL && p[99999] == 0);
    kw_arena_release(&a);
}

CU_TestInfo kwt_buf_tests[] = {
    { "varints match the worked values", test_varints_match_the_worked_values },
    { "varlong round-trips extremes", test_varlong_round_trips_extremes },
    { "overlong varint fails without over-read", test_overlong_varint_fails_without_overread },
    { "reader error is sticky and keeps the first offset",
      test_reader_error_is_sticky_and_keeps_the_first_offset },
    { "strings reject bad lengths", test_strings_reject_bad_lengths },
    { "array count is judged against bytes left", test_array_count_is_judged_against_bytes_left },
    { "reserve and patch fill a length prefix", test_reserve_and_patch_fill_a_length_prefix },
    { "arena allocations are zeroed and aligned", test_arena_allocations_are_zeroed_and_aligned },
    CU_TEST_INFO_NULL,
};
