/* ApiVersions (key 18), v0-v3. Behaviour: lists every API in lib/proto/apis.h with the range we
 * advertise. A version above ours is answered at v0 with UNSUPPORTED_VERSION and our ApiVersions
 * range only, as Kafka does (KIP-511): librdkafka then retries v0, kafkajs steps down.
 * v3+ checks ClientSoftwareName/Version and answers INVALID_REQUEST to malformed ones. */
#include "mockbroker/internal.h"

#include "lib/errors.h"
#include "lib/proto/api_versions.h"

/* [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? — Kafka's rule for client software fields. */
static bool software_field_valid(struct kw_str s)
{
    if (s.len <= 0)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        bool inner = ch == '-' || ch == '.';
        if (!alnum && (!inner || i == 0 || i == s.len - 1))
            return false;
    }
    return true;
}

int mb__handle_api_versions(struct mb__req *req)
{
    struct kw_api_versions_resp resp = { 0 };
    resp.finalized_features_epoch = -1;
    const struct kw_api *self = req->api;

    if (req->body == NULL) {
        struct kw_api_versions_resp_key *k = kw_arena_alloc(&req->arena, sizeof(*k));
        if (k == NULL)
            return mb__conn_close(req->conn, "out of memory"), -1;
        *k = (struct kw_api_versions_resp_key){ self->key, self->min, self->max };
        resp.error_code = KW_EC_UNSUPPORTED_VERSION;
        resp.n_api_keys = 1;
        resp.api_keys = k;
        req->version = 0;
        mb__respond(req, &resp);
        return 0;
    }
    const struct kw_api_versions_req *m = req->body;
    if (req->version >= 3 && (!software_field_valid(m->client_software_name) ||
                              !software_field_valid(m->client_software_version))) {
        mb__log(req->c, MB_LOG_WARN, "ApiVersions v%d: invalid client software name/version",
                req->version);
        resp.error_code = KW_EC_INVALID_REQUEST;
        mb__respond(req, &resp);
        return 0;
    }
    int n;
    const struct kw_api *apis = kw_api_all(&n);
    struct kw_api_versions_resp_key *keys = kw_arena_alloc(&req->arena, sizeof(*keys) * (size_t)n);
    if (keys == NULL)
        return mb__conn_close(req->conn, "out of memory"), -1;
    for (int i = 0; i < n; i++)
        keys[i] = (struct kw_api_versions_resp_key){ apis[i].key, apis[i].min, apis[i].max };
    resp.n_api_keys = n;
    resp.api_keys = keys;
    mb__respond(req, &resp);
    return 0;
}
