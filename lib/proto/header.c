#include "lib/proto/header.h"

#include "lib/proto/apis.h"

bool kw_api_flexible(int key, int version)
{
    const struct kw_api *api = kw_api_find(key);
    if (api != NULL)
        return version >= api->flex_from;
    /* Keys outside our table: the flexible-from versions of Kafka's other APIs would be
     * needed to read their bodies, but their headers follow this rule for the ones a
     * producer or consumer sends; assume non-flexible (header v1). */
    return false;
}

int kw_req_header_version(int key, int version)
{
    if (key == 7 && version == 0)       /* ControlledShutdown v0, the one header-v0 request */
        return 0;
    return kw_api_flexible(key, version) ? 2 : 1;
}

int kw_resp_header_version(int key, int version)
{
    if (key == KW_API_API_VERSIONS)
        return 0;
    return kw_api_flexible(key, version) ? 1 : 0;
}

static void read_tags(struct kw_reader *r, struct kw_tags *t)
{
    r->field = "TaggedFields";
    uint32_t n = kw_get_uvarint(r);
    if (n > kw_reader_left(r) / 2) {
        kw_reader_fail(r, KW_ERR_SHORT);
        return;
    }
    const uint8_t *start = r->pos;
    for (uint32_t i = 0; i < n && !r->err; i++) {
        kw_get_uvarint(r);
        kw_get_raw(r, kw_get_uvarint(r));
    }
    if (r->err == KW_OK && n) {
        t->raw = start;
        t->len = (uint32_t)(r->pos - start);
        t->count = n;
    }
}

static void write_tags(struct kw_buf *b, const struct kw_tags *t)
{
    kw_put_uvarint(b, t->count);
    if (t->count)
        kw_put_raw(b, t->raw, t->len);
}

int kw_req_header_decode(struct kw_reader *r, int hv, struct kw_req_header *h)
{
    *h = (struct kw_req_header){ .client_id = KW_STR_NULL };
    r->field = "RequestApiKey";
    h->api_key = kw_get_i16(r);
    r->field = "RequestApiVersion";
    h->api_version = kw_get_i16(r);
    r->field = "CorrelationId";
    h->correlation_id = kw_get_i32(r);
    if (hv >= 1) {
        r->field = "ClientId";
        h->client_id = kw_get_str(r, true);
    }
    if (hv >= 2)
        read_tags(r, &h->tags);
    return r->err;
}

int kw_req_header_read(struct kw_reader *r, struct kw_req_header *h)
{
    if (kw_reader_left(r) < 4) {
        r->field = "RequestApiKey";
        kw_reader_fail(r, KW_ERR_SHORT);
        return r->err;
    }
    int hv = kw_req_header_version((int16_t)kw_be16(r->pos), (int16_t)kw_be16(r->pos + 2));
    int err = kw_req_header_decode(r, hv, h);
    return err ? err : hv;
}

int kw_req_header_encode(struct kw_buf *b, int hv, const struct kw_req_header *h)
{
    kw_put_i16(b, h->api_key);
    kw_put_i16(b, h->api_version);
    kw_put_i32(b, h->correlation_id);
    if (hv >= 1)
        kw_put_str(b, h->client_id);
    if (hv >= 2)
        write_tags(b, &h->tags);
    return b->err;
}

int kw_resp_header_decode(struct kw_reader *r, int hv, struct kw_resp_header *h)
{
    *h = (struct kw_resp_header){ 0 };
    r->field = "CorrelationId";
    h->correlation_id = kw_get_i32(r);
    if (hv >= 1)
        read_tags(r, &h->tags);
    return r->err;
}

int kw_resp_header_encode(struct kw_buf *b, int hv, const struct kw_resp_header *h)
{
    kw_put_i32(b, h->correlation_id);
    if (hv >= 1)
        write_tags(b, &h->tags);
    return b->err;
}
