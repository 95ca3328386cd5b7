/* libFuzzer target: the input is one frame without its size prefix, read both as a request
 * (header, then the body of its API and version) and as the body of a few of the responses we
 * speak, chosen by its last byte. Hostile bytes may fail to decode but must never crash or over-read (ASan and
 * UBSan watch). Whatever does decode must re-encode, and the re-encoding must decode again and
 * encode to the same bytes: a frame we accept is one we can repeat. A break in that chain is a
 * codec bug, so it aborts. Seeded with fixtures/frames by `make fuzz`. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/describe.h"
#include "lib/kw.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes m (schema s at version v), decodes that and encodes it again: both encodings must
 * succeed, the decode must use every byte, and the two encodings must be identical. */
static void check_repeatable(const struct kw_schema *s, int v, bool flex, const void *m,
                             struct kw_arena *a)
{
    struct kw_buf b1, b2;
    kw_buf_init(&b1);
    kw_buf_init(&b2);
    if (kw_schema_encode(&b1, s, v, flex, m) != KW_OK)
        abort();
    void *again = kw_arena_alloc(a, s->size);
    if (again == NULL)
        abort();
    struct kw_reader r;
    kw_reader_init(&r, b1.data, b1.len);
    if (kw_schema_decode(&r, s, v, flex, again, a) != KW_OK || kw_reader_left(&r) != 0)
        abort();
    if (kw_schema_encode(&b2, s, v, flex, again) != KW_OK || b1.len != b2.len ||
        (b1.len && memcmp(b1.data, b2.data, b1.len) != 0))
        abort();
    kw_buf_release(&b1);
    kw_buf_release(&b2);
}

static void as_request(const uint8_t *data, size_t size, struct kw_arena *a)
{
    struct kw_reader r;
    struct kw_req_header h;
    kw_reader_init(&r, data, size);
    int hv = kw_req_header_read(&r, &h);
    if (hv < 0 || !kw_api_supported(h.api_key, h.api_version))
        return;
    const struct kw_api *api = kw_api_find(h.api_key);
    bool flex = kw_api_flexible(h.api_key, h.api_version);
    void *m = kw_arena_alloc(a, api->req->size);
    if (m == NULL || kw_schema_decode(&r, api->req, h.api_version, flex, m, a) != KW_OK)
        return;

    /* The header too: what kw_req_header_read accepted must come back the same way. */
    struct kw_buf b;
    kw_buf_init(&b);
    kw_req_header_encode(&b, hv, &h);
    struct kw_reader hr;
    struct kw_req_header h2;
    kw_reader_init(&hr, b.data, b.len);
    if (b.err != KW_OK || kw_req_header_read(&hr, &h2) != hv || kw_reader_left(&hr) != 0 ||
        h2.correlation_id != h.correlation_id || h2.client_id.len != h.client_id.len)
        abort();
    kw_buf_release(&b);
    check_repeatable(api->req, h.api_version, flex, m, a);
}

/* Decoding every input as all ~70 (API, version) responses made the fuzzer too slow to reach its
 * million runs in CI's budget: the input's last byte picks a window of a few pairs instead, and
 * the fuzzer's mutations of that byte cover the rest. Each pair in the window is described. */
#define WINDOW 3
static void as_responses(const uint8_t *data, size_t size, struct kw_arena *a,
                         struct kw_buf *text)
{
    int n, pairs = 0, pair = 0;
    const struct kw_api *apis = kw_api_all(&n);
    for (int i = 0; i < n; i++)
        pairs += apis[i].max - apis[i].min + 1;
    int pick = size ? data[size - 1] % pairs : 0;
    for (int i = 0; i < n; i++) {
        for (int v = apis[i].min; v <= apis[i].max; v++, pair++) {
            if ((pair - pick + pairs) % pairs >= WINDOW)
                continue;
            bool flex = kw_api_flexible(apis[i].key, v);
            struct kw_reader r;
            kw_reader_init(&r, data, size);
            void *m = kw_arena_alloc(a, apis[i].resp->size);
            bool ok = m != NULL && kw_schema_decode(&r, apis[i].resp, v, flex, m, a) == KW_OK;
            if (ok)
                check_repeatable(apis[i].resp, v, flex, m, a);
            kw_buf_reset(text);
            kw_describe_response(text, apis[i].key, v, data, size);
            kw_arena_reset(a);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kw_arena a;
    struct kw_buf text;
    kw_arena_init(&a);
    kw_buf_init(&text);

    as_request(data, size, &a);
    kw_arena_reset(&a);
    kw_describe_request(&text, data, size);
    as_responses(data, size, &a, &text);

    kw_buf_release(&text);
    kw_arena_release(&a);
    return 0;
}
