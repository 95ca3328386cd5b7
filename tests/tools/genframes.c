/* genframes: the sample request and response of every API (tests/samples.h), encoded by our
 * codecs at every version we advertise, as wire frames (size prefix, header, body) for tools
 * that check our bytes with another decoder (tests/scripts/tshark.sh).
 *
 * usage: genframes [KEY:MAXVERSION ...]
 * Each argument limits API KEY to versions <= MAXVERSION (what the other decoder knows); APIs
 * not named are left out. Without arguments every API at every version we advertise is written.
 * Output, one frame per line, each request followed by its response (same correlation id):
 *     req|resp KEY VERSION LABEL CORRELATION_ID HEX
 * LABEL is the API's name, or NAME/VARIANT for a variant of the sample (see below).
 * Exit status 0, or 1 if something did not encode, 2 for usage. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kw.h"
#include "lib/proto/apis.h"
#include "lib/proto/create_topics.h"
#include "lib/proto/header.h"
#include "lib/proto/schema.h"
#include "tests/samples.h"

static int frame(struct kw_buf *b, const struct kw_api *api, int v, bool req, const char *label,
                 const void *msg, int32_t cid)
{
    bool flex = kw_api_flexible(api->key, v);
    kw_buf_reset(b);
    size_t at = kw_reserve_i32(b);
    if (req) {
        struct kw_req_header h = { .api_key = api->key, .api_version = (int16_t)v,
                                   .correlation_id = cid, .client_id = kw_str_c("genframes") };
        kw_req_header_encode(b, kw_req_header_version(api->key, v), &h);
        kw_schema_encode(b, api->req, v, flex, msg);
    } else {
        struct kw_resp_header h = { .correlation_id = cid };
        kw_resp_header_encode(b, kw_resp_header_version(api->key, v), &h);
        kw_schema_encode(b, api->resp, v, flex, msg);
    }
    kw_patch_i32(b, at, (int32_t)(b->len - at - 4));
    if (b->err) {
        fprintf(stderr, "genframes: %s v%d %s: %s\n", label, v, req ? "request" : "response",
                kw_strerror(b->err));
        return b->err;
    }
    printf("%s %d %d %s %" PRId32 " ", req ? "req" : "resp", api->key, v, label, cid);
    for (size_t i = 0; i < b->len; i++)
        printf("%02x", b->data[i]);
    putchar('\n');
    return KW_OK;
}

/* tshark 4.0 misreads CreateTopics replica assignments (it does not step over PartitionIndex
 * before the BrokerIds array), so the full sample request cannot pass it. It is still written,
 * without a response, for the checker to tolerate by name; this variant, with the assignments
 * left empty, lets everything else in CreateTopics be checked strictly. */
static const struct kw_create_topics_req *create_topics_unassigned(void)
{
    static struct kw_create_topics_req req;
    static struct kw_create_topics_req_topic topics[16];
    const struct kw_create_topics_req *s = kwt_sample_create_topics_req();
    req = *s;
    if (s->n_topics > 16)
        return NULL;
    for (int32_t i = 0; i < s->n_topics; i++) {
        topics[i] = s->topics[i];
        topics[i].assignments = NULL;
        topics[i].n_assignments = 0;
    }
    req.topics = s->n_topics > 0 ? topics : s->topics;
    return &req;
}

static int pair(struct kw_buf *b, const struct kw_api *api, int v, int32_t *cid)
{
    const char *name = kw_api_name(api->key);
    const void *req = kwt_sample_req(api->key);
    const void *resp = kwt_sample_resp(api->key);
    int err = KW_OK;
    if (api->key == KW_API_CREATE_TOPICS) {
        err = frame(b, api, v, true, name, req, (*cid)++);
        req = create_topics_unassigned();
        name = "CreateTopics/unassigned";
        if (req == NULL)
            return KW_ERR_INVALID;
    }
    if (err == KW_OK)
        err = frame(b, api, v, true, name, req, *cid);
    if (err == KW_OK)
        err = frame(b, api, v, false, name, resp, *cid);
    (*cid)++;
    return err;
}

int main(int argc, char **argv)
{
    int n;
    const struct kw_api *apis = kw_api_all(&n);
    int limit[64];              /* per entry of apis: the highest version to write, -1 none */
    if (n > 64)
        return 2;
    for (int i = 0; i < n; i++)
        limit[i] = argc > 1 ? -1 : apis[i].max;
    for (int a = 1; a < argc; a++) {
        int key, max;
        char end;
        if (sscanf(argv[a], "%d:%d%c", &key, &max, &end) != 2) {
            fprintf(stderr, "usage: genframes [KEY:MAXVERSION ...]\n");
            return 2;
        }
        for (int i = 0; i < n; i++)
            if (apis[i].key == key)
                limit[i] = max < apis[i].max ? max : apis[i].max;
    }

    struct kw_buf b;
    kw_buf_init(&b);
    int32_t cid = 1;
    int status = 0;
    for (int i = 0; i < n; i++)
        for (int v = apis[i].min; v <= limit[i]; v++)
            if (pair(&b, &apis[i], v, &cid) != KW_OK)
                status = 1;
    kw_buf_release(&b);
    return status;
}
