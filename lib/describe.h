/* describe: any frame rendered as readable, indented text, with the field names of the protocol's
 * message definitions. Used by kdump, by traces and by failing tests. */
#ifndef KW_DESCRIBE_H
#define KW_DESCRIBE_H

#include "lib/kw.h"

/* Appends a description of a request frame (header and body, without the size prefix) to out:
 * a header line, then the body field by field. A frame that does not decode gets its header
 * line, the error with its offset and field, and a hex dump marking that byte; an unknown API
 * key or unsupported version gets a hex dump of the body. Returns KW_OK if the whole frame
 * decoded, else the decode error (KW_ERR_API, KW_ERR_VERSION, KW_ERR_TRAILING, ...). Faults
 * inside record batches are described but do not change the result: the frame decoded. */
int kw_describe_request(struct kw_buf *out, const uint8_t *frame, size_t len);

/* The same for a response, whose key and version the caller knows from the request. */
int kw_describe_response(struct kw_buf *out, int api_key, int api_version, const uint8_t *frame,
                         size_t len);

/* Appends the record batches (magic 2) or legacy messages (magic 0/1) in data, record by
 * record, `indent` spaces deep. A batch that fails validation is named with its error and
 * shown as far as its records can be read. A partial batch at the end (Fetch responses may
 * have one) is named but is not an error. Returns KW_OK or the first error. */
int kw_describe_records(struct kw_buf *out, const uint8_t *data, size_t len, int indent);

#endif
