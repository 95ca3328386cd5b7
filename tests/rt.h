/* Round-trip checks shared by the codec suites. */
#ifndef KWT_RT_H
#define KWT_RT_H

#include <stdbool.h>

#include "lib/proto/schema.h"

/* Encodes *m with schema s at (key, version), decodes the bytes into a fresh struct,
 * re-encodes that and asserts (CUnit) that both encodings are identical and that the decoder
 * consumed everything. Then feeds every proper prefix of the encoding to the decoder and asserts
 * that each one fails with a kw_err (never crashes, never succeeds on fewer bytes).
 * Returns true if every check held. */
bool rt_check(const struct kw_schema *s, int key, int version, const void *m);

/* Same for every version of the API that we advertise: calls rt_check for each. */
void rt_check_all(const struct kw_schema *s, int key, const void *m);

#endif
