/* What the fault, replication and journal suites share: a mock cluster driven by the test's own
 * event_base and a virtual clock (so delays, lag and timeouts move only when a test says), and
 * requests sent and answered one at a time through tests/kclient. */
#ifndef KWT_UNIT_FAULT_ENV_H
#define KWT_UNIT_FAULT_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/proto/produce.h"
#include "mockbroker/mockbroker.h"
#include "tests/kclient.h"

#define FENV_SEED 7
#define FENV_START_US 1000000000    /* the virtual clock's start: 1000 s */
#define FENV_QUIET_MS 60            /* how long "no answer" is awaited, in real time */

struct fenv {
    struct event_base *base;
    struct kw_vclock *v;
    struct mb_cluster *c;
};

/* Starts `brokers` brokers on a fresh loop and virtual clock, after tweak(cfg) if given.
 * False (with everything freed) on failure. */
bool fenv_start(struct fenv *e, int brokers, void (*tweak)(struct mb_config *cfg));
void fenv_stop(struct fenv *e);
/* Connects to a broker; the client runs the cluster's loop while it waits. 0 or KC_IO. */
int fenv_connect(struct fenv *e, struct kc_conn *k, int broker);
/* Runs the loop until nothing is ready (a few non-blocking passes). */
void fenv_spin(struct fenv *e);
/* Moves virtual time by ms, firing what is due, then spins. Returns the timers fired. */
int fenv_advance(struct fenv *e, int64_t ms);
/* Creates a topic (a KW_EC_* code, 0 on success). */
int fenv_topic(struct fenv *e, const char *topic, int partitions, int replication);

/* A one-partition Produce of n records "k<first>..." (producer fields -1 unless pid >= 0, then
 * epoch 0 and base sequence seq). Returns the correlation id or a negative error. */
int32_t fenv_produce_send(struct kc_conn *k, int version, int acks, int32_t timeout_ms,
                          const char *topic, int32_t partition, int first, int n, int64_t pid,
                          int32_t seq);
/* Reads the answer to it within timeout_ms (real time): KW_OK with *out being its only
 * partition, or a kc_result / kw_err. */
int fenv_produce_recv(struct kc_conn *k, int version, int32_t id, int timeout_ms,
                      struct kw_produce_resp *resp, const struct kw_produce_resp_partition **out);
/* Sends and waits (KC_WAIT_MS): the partition's error code (>= 0, *base_offset set), or a
 * negative kc_result / kw_err. */
int fenv_produce(struct kc_conn *k, int version, int acks, const char *topic, int32_t partition,
                 int first, int n, int64_t *base_offset);

/* The partition's log end offset / high watermark / leader / ISR size, or -1. */
int64_t fenv_log_end(struct fenv *e, const char *topic, int partition);
int64_t fenv_hw(struct fenv *e, const char *topic, int partition);
int fenv_leader(struct fenv *e, const char *topic, int partition);
int fenv_isr(struct fenv *e, const char *topic, int partition);
/* The values ("v<first+i>") of the records stored, as one string "v0,v1,..." (at most size). */
void fenv_values(struct fenv *e, const char *topic, int partition, char *out, size_t size);

/* A rule in one line: error code before apply on every request of api_key (-1 any). */
void fenv_rule(struct mb_rule *r, const char *name, int api_key, enum mb_action_type type);
/* mb_rule_add, printing the reason when it fails; 0 or -1. */
int fenv_add(struct fenv *e, const struct mb_rule *r);

/* Counts journal entries of a kind (and, if what is not NULL, of that what). */
int fenv_journal_count(struct fenv *e, enum mb_journal_kind kind, const char *what);

#endif
