/* Test environment for the producer suites: a mock cluster and a producer sharing one
 * event_base and one virtual clock, delivery reports and error events captured, and a driver
 * that runs the loop and moves virtual time only when nothing is in flight. */
#ifndef KWT_UNIT_PRODUCER_ENV_H
#define KWT_UNIT_PRODUCER_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/clock.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"

#define PT_SEED 4242
#define PT_START_US 1000000

struct pt_dr {
    char topic[64];
    int32_t partition;
    int64_t offset;
    int64_t timestamp;
    int ts_type;
    int err, cause, status;
    bool key_null, value_null;
    char key[64];
    size_t key_len;
    char value[256];
    size_t value_len;
    uintptr_t opaque;
    char errstr[256];
};

struct pt_env {
    struct event_base *base;
    struct kw_vclock *vc;
    struct mb_cluster *c;
    struct kp_producer *p;
    struct px *px;              /* a fault proxy, if the test uses one */
    struct pt_dr *drs;
    size_t n_drs, cap_drs;
    int errs[32];
    char err_reasons[32][160];
    int n_errs;
    int n_warnings;             /* log lines at WARNING or worse */
    int n_connects;             /* "connecting" lines (with debug=broker) */
    int n_debug;                /* lines at debug level */
    char last_log[512];
    /* The mock may sit on requests on purpose (holds, lost responses, stopped followers): when
     * requests are in flight but nothing has moved for a few real-time waits, virtual time may
     * move anyway (pt_run) and settling stops (pt_settle). Off by default. */
    bool withheld_ok;
    uint64_t quiet_mark[8];     /* what "nothing moved" compares with */
    int quiet_rounds;
};

/* A cluster of `brokers` on a fresh event_base and virtual clock. 0, or -1 (logged). */
int pt_start(struct pt_env *e, int brokers, bool auto_create);
/* A producer on the env's loop and clock, bootstrap.servers set to the cluster, with
 * NULL-terminated key/value pairs applied after it. NULL on failure (the reason printed). */
struct kp_producer *pt_producer(struct pt_env *e, const char *const *kv);
/* The same for a given bootstrap list (a dead port, say). */
struct kp_producer *pt_producer_at(struct pt_env *e, const char *bootstrap, const char *const *kv);
/* Runs loop and virtual clock until cond holds: I/O first, and time moves to the next timer only
 * when no request is in flight and no connection is being set up (or, with withheld_ok, when
 * nothing has moved for a while). Gives up after max_virtual_ms of virtual time or 10 s of real
 * time. Returns whether cond held. */
typedef bool (*pt_cond)(struct pt_env *e, void *arg);
bool pt_run(struct pt_env *e, pt_cond cond, void *arg, int64_t max_virtual_ms);
/* pt_run until at least n delivery reports arrived. */
bool pt_until_drs(struct pt_env *e, size_t n, int64_t max_virtual_ms);
/* A fault proxy in front of the cluster (destroyed by pt_stop). NULL on failure. */
struct px *pt_proxy(struct pt_env *e, int brokers);
/* Runs the loop for real I/O only (no virtual time), until nothing is in flight. */
void pt_settle(struct pt_env *e);
/* Moves virtual time by ms, firing timers, then settles. */
void pt_advance(struct pt_env *e, int64_t ms);
/* Produces value (and key, NULL for none) with opaque = the running count; returns produce's
 * result. */
int pt_produce(struct pt_env *e, const char *topic, int32_t partition, const char *key,
               const char *value);
/* Destroys what exists: producer (its purge reports are captured), cluster, clock, base. */
void pt_stop(struct pt_env *e);
/* Virtual now, in ms since the start. */
int64_t pt_now_ms(struct pt_env *e);
/* Counts reports with this error. */
size_t pt_count_err(const struct pt_env *e, int err);
/* True if the partition log holds exactly these values, in order (keys too when keys != NULL). */
bool pt_log_is(struct pt_env *e, const char *topic, int partition, const char *const *values,
               size_t n);
uint64_t pt_produce_requests(struct pt_env *e);

#endif
