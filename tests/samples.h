/* Fully populated sample messages, one request and one response per API, for round trips, the
 * tshark check and benchmarks. Every field has a non-default value where its type allows (so
 * each version we advertise exercises what it has), arrays have 2+ elements, and at least one
 * known tagged field is set where the message has any. Static storage: never freed. */
#ifndef KWT_SAMPLES_H
#define KWT_SAMPLES_H

#include "lib/proto/apis.h"

/* Per API (lib/proto/apis.h names, served and pending), defined in tests/samples_*.c. */
#define X(key, CONST, name, min, max, flex) \
    const void *kwt_sample_##name##_req(void); \
    const void *kwt_sample_##name##_resp(void);
KW_APIS(X)
KW_APIS_PENDING(X)
#undef X

/* The sample for any key we have a codec for (served or pending), or NULL. */
const void *kwt_sample_req(int api_key);
const void *kwt_sample_resp(int api_key);

#endif
