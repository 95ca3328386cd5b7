/* Request and response headers (WIRE.md §2). The header version follows the API's flexible
 * versions: request header v2 and response header v1 when the body is flexible. ApiVersions is
 * the exception: its response header is always v0, so a client whose version we reject can
 * still read the error (KIP-511). */
#ifndef KW_PROTO_HEADER_H
#define KW_PROTO_HEADER_H

#include "lib/kw.h"
#include "lib/proto/apis.h"
#include "lib/proto/schema.h"

struct kw_req_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    struct kw_str client_id;    /* int16-length NULLABLE_STRING in every header version */
    struct kw_tags tags;        /* v2: unknown tagged fields, kept raw */
};

struct kw_resp_header {
    int32_t correlation_id;
    struct kw_tags tags;        /* v1 */
};

/* Header versions for (key, version). Keys we do not know are treated as non-flexible. */
int kw_req_header_version(int key, int version);
int kw_resp_header_version(int key, int version);
/* True if the body of (key, version) uses the flexible encoding. */
bool kw_api_flexible(int key, int version);

/* Reads a request header whose version is chosen from its own key and version (bytes 0..3),
 * which is how a broker must read it. Returns the header version used, or a negative kw_err. */
int kw_req_header_read(struct kw_reader *r, struct kw_req_header *h);
int kw_req_header_decode(struct kw_reader *r, int hv, struct kw_req_header *h);
int kw_req_header_encode(struct kw_buf *b, int hv, const struct kw_req_header *h);
int kw_resp_header_decode(struct kw_reader *r, int hv, struct kw_resp_header *h);
int kw_resp_header_encode(struct kw_buf *b, int hv, const struct kw_resp_header *h);

#endif
