/* A fault-injecting proxy for the producer tests, until the mock cluster has faults of its own.
 * It listens for each mock broker, forwards frames both ways on the tests' event_base, rewrites
 * Metadata responses so the producer keeps coming through it, and applies rules to the n-th
 * request of an API: swallow it, answer it with an error instead of the broker, lose the
 * broker's response, hold it until released, or close the connection. */
#ifndef KWT_UNIT_PRODUCER_PROXY_H
#define KWT_UNIT_PRODUCER_PROXY_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct mb_cluster;
struct px;

enum px_action {
    PX_PASS,
    PX_DROP_REQUEST,        /* never reaches the broker, never answered */
    PX_DROP_RESPONSE,       /* the broker applies it; its response is lost */
    PX_ERROR,               /* not forwarded; answered with `error` for every partition */
    PX_HOLD,                /* forwarded; the response waits for px_release */
    PX_CLOSE_BEFORE,        /* the connection closes before the broker sees it */
    PX_CLOSE_AFTER,         /* the broker applies it, then the connection closes */
};

/* A proxy in front of brokers 1..brokers of c; NULL on failure. */
struct px *px_new(struct event_base *base, struct mb_cluster *c, int brokers);
void px_destroy(struct px *x);
/* "127.0.0.1:P1,..." of the proxy's listeners. */
const char *px_bootstrap(struct px *x);
/* Applies action to requests number nth .. nth+count-1 of api_key (1-based, counted over all
 * connections; count 0 means every one from nth on). */
void px_rule(struct px *x, int api_key, int nth, int count, int action, int16_t error);
/* Sends every held response. */
void px_release(struct px *x);
/* Requests of api_key seen (-1: all). */
int px_seen(struct px *x, int api_key);
/* Requests on open connections that will not be answered until something changes: swallowed,
 * response lost, or held. A test driver may move time when the producer waits only for these. */
int px_stuck(struct px *x);
/* Advertises at most max_version of api_key in ApiVersions answers (negative: not at all), as
 * an older broker would. */
void px_cap(struct px *x, int api_key, int max_version);
/* The highest version of api_key requested so far, -1 if none. */
int px_version_seen(struct px *x, int api_key);
/* Takes broker `id` down (connections closed, new ones refused) or back up. */
void px_set_down(struct px *x, int id, bool down);

#endif
