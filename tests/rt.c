#include "tests/rt.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto/apis.h"
#include "lib/proto/header.h"

bool rt_check(const struct kw_schema *s, int key, int version, const void *m)
{
    bool flex = kw_api_flexible(key, version);
    struct kw_buf a, b;
    kw_buf_init(&a);
    kw_buf_init(&b);
    struct kw_arena arena;
    kw_arena_init(&arena);
    void *copy = calloc(1, s->size);
    bool ok = false;

    CU_ASSERT_EQUAL(kw_schema_encode(&a, s, version, flex, m), KW_OK);
    struct kw_reader r;
    kw_reader_init(&r, a.data, a.len);
    int err = kw_schema_decode(&r, s, version, flex, copy, &arena);
    CU_ASSERT_EQUAL(err, KW_OK);
    CU_ASSERT_EQUAL(kw_reader_left(&r), 0);
    if (err != KW_OK)
        fprintf(stderr, "\n%s v%d: decode failed: %s at %zu (%s)\n", s->name, version,
                kw_strerror(err), r.err_at, r.err_field ? r.err_field : "?");
    CU_ASSERT_EQUAL(kw_schema_encode(&b, s, version, flex, copy), KW_OK);
    CU_ASSERT_EQUAL(a.len, b.len);
    bool same = a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    CU_ASSERT(same);
    if (!same)
        fprintf(stderr, "\n%s v%d: re-encoding differs (%zu vs %zu bytes)\n", s->name, version,
                a.len, b.len);

    /* Every proper prefix must fail; the decoder may never read past its input, which
     * valgrind and ASan check because each prefix is copied into an allocation of its size. */
    for (size_t n = 0; n < a.len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, a.data, n);
        kw_arena_reset(&arena);
        kw_reader_init(&r, cut, n);
        int e = kw_schema_decode(&r, s, version, flex, copy, &arena);
        if (e == KW_OK)
            fprintf(stderr, "\n%s v%d: a %zu-byte prefix of %zu decoded\n", s->name, version, n,
                    a.len);
        CU_ASSERT(e < 0);
        free(cut);
    }
    ok = same && err == KW_OK;
    free(copy);
    kw_arena_release(&arena);
    kw_buf_release(&a);
    kw_buf_release(&b);
    return ok;
}

void rt_check_all(const struct kw_schema *s, int key, const void *m)
{
    const struct kw_api *api = kw_api_find(key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(api);
    for (int v = api->min; v <= api->max; v++)
        CU_ASSERT(rt_check(s, key, v, m));
}
