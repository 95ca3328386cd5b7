/* The producer: configuration, and the life of messages against the mock cluster (shared loop,
 * virtual clock) when nothing goes wrong: batching, partitioning, compression, reports. */
#include <CUnit/CUnit.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/hash.h"
#include "lib/proto/apis.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"
#include "tests/unit_producer_env.h"
#include "tests/unit_producer_proxy.h"

/* --- configuration -------------------------------------------------------------------------- */

static void test_conf_defaults_are_librdkafkas(void)
{
    struct kp_conf *c = kp_conf_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static const char *const expect[][2] = {
        { "acks", "-1" },
        { "linger.ms", "5" },
        { "batch.size", "1000000" },
        { "batch.num.messages", "10000" },
        { "compression.type", "none" },
        { "compression.level", "-1" },
        { "enable.idempotence", "false" },
        { "retries", "2147483647" },
        { "retry.backoff.ms", "100" },
        { "retry.backoff.max.ms", "1000" },
        { "request.timeout.ms", "30000" },
        { "socket.timeout.ms", "60000" },
        { "delivery.timeout.ms", "300000" },
        { "message.timeout.ms", "300000" },
        { "max.in.flight.requests.per.connection", "1000000" },
        { "queue.buffering.max.messages", "100000" },
        { "queue.buffering.max.kbytes", "1048576" },
        { "message.max.bytes", "1000000" },
        { "partitioner", "consistent_random" },
        { "sticky.partitioning.linger.ms", "10" },
        { "metadata.max.age.ms", "900000" },
        { "topic.metadata.refresh.interval.ms", "300000" },
        { "socket.connection.setup.timeout.ms", "30000" },
        { "reconnect.backoff.ms", "100" },
        { "reconnect.backoff.max.ms", "10000" },
        { "client.id", "rdkafka" },
        { "debug", "" },
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        char v[64] = "?";
        CU_ASSERT_EQUAL(kp_conf_get(c, expect[i][0], v, sizeof(v)), KP_CONF_OK);
        if (strcmp(v, expect[i][1]) != 0)
            fprintf(stderr, "\n%s = %s, expected %s\n", expect[i][0], v, expect[i][1]);
        CU_ASSERT_STRING_EQUAL(v, expect[i][1]);
    }
    kp_conf_destroy(c);
}

static void test_conf_refuses_unknown_keys_and_bad_values_naming_them(void)
{
    struct kp_conf *c = kp_conf_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char err[512] = "";
    CU_ASSERT_EQUAL(kp_conf_set(c, "linger.msec", "5", err, sizeof(err)), KP_CONF_UNKNOWN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "\"linger.msec\""));
    CU_ASSERT_EQUAL(kp_conf_set(c, "compression.type", "brotli", err, sizeof(err)),
                    KP_CONF_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "compression.type"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "none, gzip, snappy, lz4, zstd"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "acks", "2", err, sizeof(err)), KP_CONF_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "all, -1, 0, 1"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "partitioner", "sticky", err, sizeof(err)), KP_CONF_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "murmur2_random"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "batch.size", "0", err, sizeof(err)), KP_CONF_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "from 1 to 2147483647"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "retries", "many", err, sizeof(err)), KP_CONF_INVALID);
    CU_ASSERT_EQUAL(kp_conf_set(c, "enable.idempotence", "yes", err, sizeof(err)),
                    KP_CONF_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "true or false"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "debug", "broker,nonsense", err, sizeof(err)),
                    KP_CONF_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "metadata"));
    CU_ASSERT_EQUAL(kp_conf_set(c, "kp.seed", "-3", err, sizeof(err)), KP_CONF_INVALID);
    /* A refused value leaves the old one. */
    char v[32];
    kp_conf_get(c, "batch.size", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "1000000");
    kp_conf_destroy(c);
}

static void test_conf_accepts_librdkafka_aliases_and_values(void)
{
    struct kp_conf *c = kp_conf_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char err[256], v[64];
    CU_ASSERT_EQUAL(kp_conf_set(c, "request.required.acks", "1", err, sizeof(err)), KP_CONF_OK);
    kp_conf_get(c, "acks", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "1");
    CU_ASSERT_EQUAL(kp_conf_set(c, "acks", "all", err, sizeof(err)), KP_CONF_OK);
    kp_conf_get(c, "acks", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "-1");
    CU_ASSERT_EQUAL(kp_conf_set(c, "queue.buffering.max.ms", "0.5", err, sizeof(err)),
                    KP_CONF_OK);
    kp_conf_get(c, "linger.ms", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "0.5");
    CU_ASSERT_EQUAL(kp_conf_set(c, "compression.codec", "zstd", err, sizeof(err)), KP_CONF_OK);
    kp_conf_get(c, "compression.type", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "zstd");
    CU_ASSERT_EQUAL(kp_conf_set(c, "message.timeout.ms", "1234", err, sizeof(err)), KP_CONF_OK);
    kp_conf_get(c, "delivery.timeout.ms", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "1234");
    CU_ASSERT_EQUAL(kp_conf_set(c, "max.in.flight", "3", err, sizeof(err)), KP_CONF_OK);
    kp_conf_get(c, "max.in.flight.requests.per.connection", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "3");
    CU_ASSERT_EQUAL(kp_conf_set(c, "debug", "broker, metadata,eos", err, sizeof(err)),
                    KP_CONF_OK);
    kp_conf_get(c, "debug", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "broker,metadata,eos");
    CU_ASSERT_EQUAL(kp_conf_set(c, "partitioner", "murmur2_random", err, sizeof(err)),
                    KP_CONF_OK);
    struct kp_conf *d = kp_conf_dup(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    kp_conf_get(d, "partitioner", v, sizeof(v));
    CU_ASSERT_STRING_EQUAL(v, "murmur2_random");
    kp_conf_destroy(c);
    kp_conf_destroy(d);
}

static struct kp_producer *try_new(const char *const *kv, char *err, size_t size)
{
    struct kp_conf *c = kp_conf_new();
    struct event_base *base = event_base_new();
    kp_conf_set(c, "bootstrap.servers", "127.0.0.1:1", err, size);
    for (size_t i = 0; kv[i]; i += 2)
        CU_ASSERT_EQUAL(kp_conf_set(c, kv[i], kv[i + 1], err, size), KP_CONF_OK);
    /* Caller-driven, so nothing runs: these producers only show what new() accepts. */
    kp_conf_set_event_base(c, base, NULL);
    err[0] = '\0';
    struct kp_producer *p = kp_producer_new(c, err, size);
    kp_conf_destroy(c);
    kp_producer_destroy(p);
    event_base_free(base);
    return p;
}

static void test_idempotence_refuses_conflicting_explicit_settings(void)
{
    char err[512];
    CU_ASSERT_PTR_NULL(try_new((const char *[]){ "enable.idempotence", "true", "acks", "1",
                                                 NULL }, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "acks"));
    CU_ASSERT_PTR_NULL(try_new((const char *[]){ "enable.idempotence", "true", "retries", "0",
                                                 NULL }, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "retries"));
    CU_ASSERT_PTR_NULL(try_new((const char *[]){ "enable.idempotence", "true",
                                                 "max.in.flight.requests.per.connection", "6",
                                                 NULL }, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "max.in.flight"));
    /* Explicitly compatible values, and unset ones, are fine. */
    CU_ASSERT_PTR_NOT_NULL(try_new((const char *[]){ "enable.idempotence", "true", "acks", "all",
                                                     "max.in.flight", "5", NULL },
                                   err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(try_new((const char *[]){ "enable.idempotence", "true", NULL }, err,
                                   sizeof(err)));
}

/* librdkafka's cross-checks of timeouts: a message must outlive its linger, and the local wait
 * for answers (socket.timeout.ms) has librdkafka's bounds. */
static void test_timeouts_are_checked_against_each_other(void)
{
    char err[512];
    CU_ASSERT_PTR_NULL(try_new((const char *[]){ "linger.ms", "1000", "message.timeout.ms",
                                                 "1000", NULL }, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "greater than \"linger.ms\""));
    CU_ASSERT_PTR_NOT_NULL(try_new((const char *[]){ "linger.ms", "1000", "message.timeout.ms",
                                                     "1001", NULL }, err, sizeof(err)));
    /* 0 is "no timeout", whatever the linger. */
    CU_ASSERT_PTR_NOT_NULL(try_new((const char *[]){ "linger.ms", "1000", "message.timeout.ms",
                                                     "0", NULL }, err, sizeof(err)));
    struct kp_conf *c = kp_conf_new();
    CU_ASSERT_EQUAL(kp_conf_set(c, "socket.timeout.ms", "9", err, sizeof(err)),
                    KP_CONF_INVALID);
    CU_ASSERT_EQUAL(kp_conf_set(c, "socket.timeout.ms", "300001", err, sizeof(err)),
                    KP_CONF_INVALID);
    CU_ASSERT_EQUAL(kp_conf_set(c, "socket.timeout.ms", "10", err, sizeof(err)), KP_CONF_OK);
    kp_conf_destroy(c);
}

static void test_new_refuses_a_bad_bootstrap_list_and_codec_level(void)
{
    char err[512];
    struct kp_conf *c = kp_conf_new();
    CU_ASSERT_PTR_NULL(kp_producer_new(c, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bootstrap.servers"));
    kp_conf_set(c, "bootstrap.servers", "127.0.0.1:notaport", err, sizeof(err));
    CU_ASSERT_PTR_NULL(kp_producer_new(c, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "127.0.0.1:notaport"));
    kp_conf_destroy(c);
    CU_ASSERT_PTR_NULL(try_new((const char *[]){ "compression.type", "gzip",
                                                 "compression.level", "12", NULL },
                               err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "0 to 9"));
    CU_ASSERT_PTR_NOT_NULL(try_new((const char *[]){ "compression.type", "zstd",
                                                     "compression.level", "19", NULL },
                                   err, sizeof(err)));
}

static void test_error_names_and_texts_cover_local_and_kafka_codes(void)
{
    CU_ASSERT_STRING_EQUAL(kp_err2name(KP_ERR__MSG_TIMED_OUT), "_MSG_TIMED_OUT");
    CU_ASSERT_STRING_EQUAL(kp_err2str(KP_ERR__MSG_TIMED_OUT), "Local: Message timed out");
    CU_ASSERT_STRING_EQUAL(kp_err2name(KP_ERR__PURGE_QUEUE), "_PURGE_QUEUE");
    CU_ASSERT_STRING_EQUAL(kp_err2name(KP_ERR__POSSIBLY_PERSISTED), "_POSSIBLY_PERSISTED");
    CU_ASSERT_STRING_EQUAL(kp_err2name(KW_EC_NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER");
    CU_ASSERT_STRING_EQUAL(kp_err2name(0), "NO_ERROR");
    CU_ASSERT_STRING_EQUAL(kp_err2name(-77), "_UNKNOWN");
    CU_ASSERT_STRING_EQUAL(kp_err2name(5000), "UNKNOWN");
    CU_ASSERT(strlen(kp_err2str(KW_EC_MESSAGE_TOO_LARGE)) > 10);
}

/* --- producing against the mock cluster ------------------------------------------------------- */

static void test_keyed_messages_reach_their_partitions_in_order(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "t3", 3, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    char key[16], value[32];
    const char *expect[3][120];
    char store[120][32];
    size_t n_expect[3] = { 0 };
    for (int i = 0; i < 120; i++) {
        snprintf(key, sizeof(key), "k%d", i % 7);
        snprintf(store[i], sizeof(store[i]), "v%d", i);
        snprintf(value, sizeof(value), "v%d", i);
        CU_ASSERT_EQUAL(pt_produce(&e, "t3", KP_PARTITION_UA, key, value), 0);
        int32_t part = kw_partition_consistent(key, strlen(key), 3);
        expect[part][n_expect[part]++] = store[i];
    }
    CU_ASSERT(pt_until_drs(&e, 120, 1000));
    CU_ASSERT_EQUAL(e.n_drs, 120);
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 120);
    int64_t next_offset[3] = { 0 };
    for (size_t i = 0; i < e.n_drs; i++) {
        struct pt_dr *d = &e.drs[i];
        int32_t part = kw_partition_consistent(d->key, d->key_len, 3);
        CU_ASSERT_EQUAL(d->partition, part);
        CU_ASSERT_EQUAL(d->status, KP_STATUS_PERSISTED);
        CU_ASSERT_STRING_EQUAL(d->topic, "t3");
        if (d->partition >= 0 && d->partition < 3) {
            /* Reports come in partition order, offsets without gaps. */
            CU_ASSERT_EQUAL(d->offset, next_offset[d->partition]);
            next_offset[d->partition] = d->offset + 1;
        }
    }
    for (int part = 0; part < 3; part++)
        CU_ASSERT(pt_log_is(&e, "t3", part, expect[part], n_expect[part]));
    CU_ASSERT_EQUAL(kp_producer_outq_len(e.p), 0);
    pt_stop(&e);
}

static void test_linger_holds_a_batch_until_it_expires(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "lin", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "linger.ms", "100", NULL }));
    pt_settle(&e);              /* connected, metadata known */
    int64_t t0 = pt_now_ms(&e);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "lin", 0, NULL, "x"), 0);
    pt_settle(&e);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 0);
    pt_advance(&e, 99);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 0);
    pt_advance(&e, 1);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 1);
    CU_ASSERT_EQUAL(pt_now_ms(&e) - t0, 100);
    CU_ASSERT(pt_until_drs(&e, 3, 10));
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "lin", 0, &info), 0);
    CU_ASSERT_EQUAL(info.batches, 1);
    CU_ASSERT_EQUAL(info.log_end_offset, 3);
    pt_stop(&e);
}

static void test_full_batches_leave_without_waiting_for_linger(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "full", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "linger.ms", "10000",
                                                                   "batch.num.messages", "10",
                                                                   NULL }));
    pt_settle(&e);
    for (int i = 0; i < 25; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "full", 0, NULL, "payload"), 0);
    pt_settle(&e);
    /* Two full batches went at once; the third waits for its linger. */
    CU_ASSERT_EQUAL(e.n_drs, 20);
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "full", 0, &info), 0);
    CU_ASSERT_EQUAL(info.batches, 2);
    CU_ASSERT_EQUAL(kp_producer_flush(e.p, 5000), 0);
    CU_ASSERT_EQUAL(e.n_drs, 25);
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "full", 0, &info), 0);
    CU_ASSERT_EQUAL(info.batches, 3);
    CU_ASSERT(pt_now_ms(&e) < 10000);       /* flush did not wait for linger */
    pt_stop(&e);
}

static void test_batch_size_bounds_the_bytes_of_a_batch(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "bs", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "linger.ms", "50",
                                                                   "batch.size", "1000",
                                                                   NULL }));
    char v[101];
    memset(v, 'a', 100);
    v[100] = '\0';
    for (int i = 0; i < 30; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "bs", 0, NULL, v), 0);
    CU_ASSERT(pt_until_drs(&e, 30, 1000));
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "bs", 0, &info), 0);
    /* 100-byte values take 108 bytes as records: 8 per 1000-byte batch with the header. */
    CU_ASSERT_EQUAL(info.batches, 4);
    CU_ASSERT(info.bytes <= 4 * 1000);
    pt_stop(&e);
}

static void test_one_request_carries_every_partition_of_a_broker(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "a", 4, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "b", 2, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "linger.ms", "20", NULL }));
    pt_settle(&e);
    for (int part = 0; part < 4; part++)
        CU_ASSERT_EQUAL(pt_produce(&e, "a", part, NULL, "x"), 0);
    for (int part = 0; part < 2; part++)
        CU_ASSERT_EQUAL(pt_produce(&e, "b", part, NULL, "y"), 0);
    CU_ASSERT(pt_until_drs(&e, 6, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 6);
    CU_ASSERT_EQUAL(pt_produce_requests(&e), 1);
    pt_stop(&e);
}

static void test_headers_null_keys_values_and_timestamps_reach_the_log(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "h", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    struct kp_header hdrs[2] = { { "trace", "abc", 3 }, { "empty", NULL, 0 } };
    CU_ASSERT_EQUAL(kp_producer_produce(e.p, "h", 0, 0, "k", 1, NULL, 0, hdrs, 2, 1234567,
                                        (void *)1), 0);
    CU_ASSERT_EQUAL(kp_producer_produce(e.p, "h", 0, 0, NULL, 0, "v", 1, NULL, 0, 0, (void *)2),
                    0);
    CU_ASSERT(pt_until_drs(&e, 2, 1000));
    CU_ASSERT_EQUAL_FATAL(e.n_drs, 2);
    CU_ASSERT(e.drs[0].value_null && !e.drs[0].key_null);
    CU_ASSERT_EQUAL(e.drs[0].timestamp, 1234567);
    CU_ASSERT_EQUAL(e.drs[0].opaque, 1);
    CU_ASSERT(e.drs[1].key_null && !e.drs[1].value_null);
    /* "now" on the test's virtual clock: a caller's clock is the producer's only time. */
    CU_ASSERT(e.drs[1].timestamp >= PT_START_US / 1000 &&
              e.drs[1].timestamp <= kw_now_us(kw_vclock_clock(e.vc)) / 1000);
    struct mb_records *r = mb_partition_records(e.c, "h", 0, 0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(r->count, 2);
    CU_ASSERT_EQUAL(r->records[0].timestamp, 1234567);
    CU_ASSERT_PTR_NULL(r->records[0].value);
    CU_ASSERT_EQUAL_FATAL(r->records[0].n_headers, 2);
    CU_ASSERT_STRING_EQUAL(r->records[0].headers[0].key, "trace");
    CU_ASSERT_EQUAL(r->records[0].headers[0].value_len, 3);
    CU_ASSERT_PTR_NULL(r->records[0].headers[1].value);
    CU_ASSERT_PTR_NULL(r->records[1].key);
    CU_ASSERT_EQUAL(r->records[1].producer_id, -1);
    mb_records_destroy(r);
    pt_stop(&e);
}

static void check_codec(const char *codec)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "z", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "compression.type", codec,
                                                                   "linger.ms", "50", NULL }));
    char values[50][200];
    const char *expect[50];
    for (int i = 0; i < 50; i++) {
        snprintf(values[i], sizeof(values[i]), "%03d: the same words again and again and "
                 "again and again and again and again and again, compressible", i);
        expect[i] = values[i];
        CU_ASSERT_EQUAL(pt_produce(&e, "z", 0, NULL, values[i]), 0);
    }
    CU_ASSERT(pt_until_drs(&e, 50, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 50);
    /* Reports give back the values sent, from the compressed batch. */
    for (size_t i = 0; i < e.n_drs && i < 50; i++)
        CU_ASSERT_STRING_EQUAL(e.drs[i].value, values[i]);
    CU_ASSERT(pt_log_is(&e, "z", 0, expect, 50));
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "z", 0, &info), 0);
    CU_ASSERT_EQUAL(info.batches, 1);
    if (strcmp(codec, "none") != 0)
        CU_ASSERT(info.bytes < 50 * 90);        /* plain, the records take over 4 KB */
    pt_stop(&e);
}

static void test_every_codec_compresses_and_round_trips(void)
{
    check_codec("none");
    check_codec("gzip");
    check_codec("snappy");
    check_codec("lz4");
    check_codec("zstd");
}

static void test_acks_0_reports_on_write_with_offset_unknown(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "a0", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "acks", "0", NULL }));
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "a0", 0, NULL, "fire-and-forget"), 0);
    CU_ASSERT(pt_until_drs(&e, 5, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 5);
    for (size_t i = 0; i < e.n_drs; i++) {
        CU_ASSERT_EQUAL(e.drs[i].offset, -1);
        CU_ASSERT_EQUAL(e.drs[i].status, KP_STATUS_POSSIBLY_PERSISTED);
    }
    CU_ASSERT_EQUAL(mb_wait_offset(e.c, "a0", 0, 5, 2000), 0);
    pt_stop(&e);
}

static bool up(struct pt_env *e, void *arg)
{
    (void)arg;
    struct kp_stats st;
    kp_producer_stats(e->p, &st);
    return st.brokers_up > 0;
}

static void test_an_unknown_topic_fails_its_messages_and_later_produce_calls(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    CU_ASSERT_EQUAL(pt_produce(&e, "nope", KP_PARTITION_UA, NULL, "1"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "nope", 2, NULL, "2"), 0);
    CU_ASSERT(pt_until_drs(&e, 2, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, KW_EC_UNKNOWN_TOPIC_OR_PARTITION), 2);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(e.drs[0].partition, -1);
    CU_ASSERT_EQUAL(pt_produce(&e, "nope", KP_PARTITION_UA, NULL, "3"), KP_ERR__UNKNOWN_TOPIC);
    CU_ASSERT_EQUAL(kp_producer_outq_len(e.p), 0);
    pt_stop(&e);
}

static void test_an_auto_created_topic_takes_messages_once_it_has_leaders(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, true), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    CU_ASSERT(pt_run(&e, up, NULL, 1000));
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "fresh", KP_PARTITION_UA, NULL, "hello"), 0);
    CU_ASSERT(pt_until_drs(&e, 4, 5000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 4);
    const char *expect[] = { "hello", "hello", "hello", "hello" };
    CU_ASSERT(pt_log_is(&e, "fresh", 0, expect, 4));
    pt_stop(&e);
}

static void test_an_explicit_partition_outside_the_topic_is_refused(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "two", 2, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    /* Before metadata: accepted, then failed in a report. */
    CU_ASSERT_EQUAL(pt_produce(&e, "two", 5, NULL, "x"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "two", 1, NULL, "y"), 0);
    CU_ASSERT(pt_until_drs(&e, 2, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, KP_ERR__UNKNOWN_PARTITION), 1);
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 1);
    /* After: refused at once. */
    CU_ASSERT_EQUAL(pt_produce(&e, "two", 2, NULL, "z"), KP_ERR__UNKNOWN_PARTITION);
    pt_stop(&e);
}

static void test_a_message_over_message_max_bytes_is_refused_at_once(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "message.max.bytes", "1000",
                                                                   NULL }));
    char big[1001];
    memset(big, 'b', 1000);
    big[1000] = '\0';
    CU_ASSERT_EQUAL(pt_produce(&e, "t", 0, NULL, big), KW_EC_MESSAGE_TOO_LARGE);
    CU_ASSERT_EQUAL(kp_producer_outq_len(e.p), 0);
    pt_stop(&e);
}

static void test_the_queue_limit_refuses_messages_beyond_it(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "q", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "queue.buffering.max.messages",
                                                                   "5", NULL }));
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "q", 0, NULL, "m"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "q", 0, NULL, "m"), KP_ERR__QUEUE_FULL);
    CU_ASSERT(pt_until_drs(&e, 5, 1000));
    /* Room again once reports are served. */
    CU_ASSERT_EQUAL(pt_produce(&e, "q", 0, NULL, "m"), 0);
    CU_ASSERT(pt_until_drs(&e, 6, 1000));
    pt_stop(&e);
    /* The same in bytes. */
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "q", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "queue.buffering.max.kbytes",
                                                                   "1", NULL }));
    char v[601];
    memset(v, 'q', 600);
    v[600] = '\0';
    CU_ASSERT_EQUAL(pt_produce(&e, "q", 0, NULL, v), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "q", 0, NULL, v), KP_ERR__QUEUE_FULL);
    CU_ASSERT_EQUAL(pt_produce(&e, "q", 0, NULL, "small"), 0);
    CU_ASSERT(pt_until_drs(&e, 2, 1000));
    CU_ASSERT_EQUAL(pt_produce(&e, "q", 0, NULL, v), 0);
    struct kp_stats st;
    kp_producer_stats(e.p, &st);
    CU_ASSERT_EQUAL(st.msgs_queued, 1);
    CU_ASSERT(st.bytes_queued > 600 && st.bytes_queued < 700);
    pt_stop(&e);
}

static void test_destroy_purges_queued_messages_with_one_report_each(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "p", 2, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "linger.ms", "1000", NULL }));
    pt_settle(&e);
    for (int i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(pt_produce(&e, "p", i % 2, NULL, "never sent"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "unknown-yet", 0, NULL, "unassigned"), 0);
    kp_producer_destroy(e.p);
    e.p = NULL;
    CU_ASSERT_EQUAL(e.n_drs, 8);
    CU_ASSERT_EQUAL(pt_count_err(&e, KP_ERR__PURGE_QUEUE), 8);
    for (size_t i = 0; i < e.n_drs; i++)
        CU_ASSERT_EQUAL(e.drs[i].status, KP_STATUS_NOT_PERSISTED);
    pt_stop(&e);
}

static void test_an_old_broker_gets_old_versions_and_zstd_uncompressed(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "old", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    /* Kafka 0.11's ranges: record batches, but no zstd (Produce v7) yet. */
    px_cap(x, KW_API_PRODUCE, 3);
    px_cap(x, KW_API_METADATA, 4);
    px_cap(x, KW_API_API_VERSIONS, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x),
                                                (const char *[]){ "compression.type", "zstd",
                                                                  "linger.ms", "20", NULL }));
    char values[20][64];
    const char *expect[20];
    for (int i = 0; i < 20; i++) {
        snprintf(values[i], sizeof(values[i]), "%02d compressible compressible compressible", i);
        expect[i] = values[i];
        CU_ASSERT_EQUAL(pt_produce(&e, "old", 0, NULL, values[i]), 0);
    }
    CU_ASSERT_FATAL(pt_until_drs(&e, 20, 1000));
    CU_ASSERT_EQUAL(pt_count_err(&e, 0), 20);
    CU_ASSERT_EQUAL(px_version_seen(x, KW_API_PRODUCE), 3);
    CU_ASSERT_EQUAL(px_version_seen(x, KW_API_METADATA), 4);
    CU_ASSERT(pt_log_is(&e, "old", 0, expect, 20));
    /* Sent uncompressed: the plain records take over 20 x 50 bytes. */
    struct mb_partition_info info;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "old", 0, &info), 0);
    CU_ASSERT(info.bytes > 20 * 50);
    pt_stop(&e);
}

static void test_a_broker_without_produce_v3_fails_messages_as_unsupported(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "ancient", 1, 1, NULL, 0), 0);
    struct px *x = pt_proxy(&e, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    px_cap(x, KW_API_PRODUCE, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer_at(&e, px_bootstrap(x), NULL));
    CU_ASSERT_EQUAL(pt_produce(&e, "ancient", 0, NULL, "x"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(e.drs[0].err, KP_ERR__UNSUPPORTED_FEATURE);
    CU_ASSERT_EQUAL(e.drs[0].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(px_seen(x, KW_API_PRODUCE), 0);
    pt_stop(&e);
}

/* Produces keyed and key-less messages with a partitioner and returns the reports' partitions. */
static void partitions_of(const char *partitioner, const char *const *keys, size_t n,
                          int32_t *out)
{
    struct pt_env e;
    memset(out, 0xff, n * sizeof(*out));
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "parts", 6, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, (const char *[]){ "partitioner", partitioner,
                                                                   NULL }));
    pt_settle(&e);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(kp_producer_produce(e.p, "parts", KP_PARTITION_UA, 0, keys[i],
                                            keys[i] ? strlen(keys[i]) : 0, "v", 1, NULL, 0, 0,
                                            (void *)(uintptr_t)i), 0);
    CU_ASSERT(pt_until_drs(&e, n, 1000));
    for (size_t i = 0; i < e.n_drs; i++)
        if (e.drs[i].opaque < n)
            out[e.drs[i].opaque] = e.drs[i].partition;
    pt_stop(&e);
}

static void test_partitioners_hash_keys_as_librdkafka_and_java_do(void)
{
    const char *keys[] = { "kafka", "a", "hello", "key-1", "123456789", "" };
    size_t n = sizeof(keys) / sizeof(keys[0]);
    int32_t got[6];
    partitions_of("murmur2", keys, n, got);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(got[i], kw_partition_murmur2(keys[i], strlen(keys[i]), 6));
    /* WIRE.md's Java vectors: "kafka" % 6 = 4, "hello" % 6 = 3. */
    CU_ASSERT_EQUAL(got[0], 4);
    CU_ASSERT_EQUAL(got[2], 3);
    partitions_of("murmur2_random", keys, n, got);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(got[i], kw_partition_murmur2(keys[i], strlen(keys[i]), 6));
    partitions_of("consistent", keys, n, got);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(got[i], kw_partition_consistent(keys[i], strlen(keys[i]), 6));
    partitions_of("fnv1a", keys, n, got);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(got[i], kw_partition_fnv1a(keys[i], strlen(keys[i]), 6));
    partitions_of("consistent_random", keys, n - 1, got);
    for (size_t i = 0; i < n - 1; i++)
        CU_ASSERT_EQUAL(got[i], kw_partition_consistent(keys[i], strlen(keys[i]), 6));
}

static void test_key_less_messages_stick_to_one_partition_for_a_while(void)
{
    const char *nulls[40] = { NULL };
    int32_t got[40];
    partitions_of("consistent_random", nulls, 40, got);
    /* Produced within sticky.partitioning.linger.ms: one partition for all. */
    for (size_t i = 1; i < 40; i++)
        CU_ASSERT_EQUAL(got[i], got[0]);
    CU_ASSERT(got[0] >= 0 && got[0] < 6);
    /* The deterministic ones hash a null key as the empty key. */
    partitions_of("murmur2", nulls, 3, got);
    CU_ASSERT_EQUAL(got[0], kw_partition_murmur2(NULL, 0, 6));
    partitions_of("consistent", nulls, 3, got);
    CU_ASSERT_EQUAL(got[0], 0);
}

static void test_random_partitioning_spreads_keyed_messages(void)
{
    const char *same[60];
    for (int i = 0; i < 60; i++)
        same[i] = "one key";
    int32_t got[60];
    partitions_of("random", same, 60, got);
    int used[6] = { 0 }, n_used = 0;
    for (int i = 0; i < 60; i++)
        if (got[i] >= 0 && got[i] < 6 && used[got[i]]++ == 0)
            n_used++;
    CU_ASSERT(n_used >= 4);
}

static void test_msg_free_hands_the_value_to_the_producer(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "own", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    char *v = strdup("owned by the producer");
    CU_ASSERT_EQUAL(kp_producer_produce(e.p, "own", 0, KP_MSG_FREE, NULL, 0, v, strlen(v), NULL,
                                        0, 0, NULL), 0);
    /* valgrind would call v lost if the producer did not free it. */
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_STRING_EQUAL(e.drs[0].value, "owned by the producer");
    CU_ASSERT_EQUAL(kp_producer_produce(e.p, "own", 0, 0x80, NULL, 0, "x", 1, NULL, 0, 0, NULL),
                    KP_ERR__INVALID_ARG);
    pt_stop(&e);
}

static void test_log_append_time_comes_back_in_the_report(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "lat", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(e.c, "lat", "message.timestamp.type", "LogAppendTime",
                                        NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    CU_ASSERT_EQUAL(kp_producer_produce(e.p, "lat", 0, 0, NULL, 0, "x", 1, NULL, 0, 42, NULL), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(e.drs[0].ts_type, 1);
    /* The mock stamps its clock's time: the virtual one, in ms. */
    CU_ASSERT_EQUAL(e.drs[0].timestamp, (PT_START_US / 1000) + pt_now_ms(&e));
    pt_stop(&e);
}

static void test_a_topic_deleted_under_the_producer_fails_its_messages(void)
{
    struct pt_env e;
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, false), 0);
    CU_ASSERT_EQUAL(mb_topic_create(e.c, "del", 1, 1, NULL, 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pt_producer(&e, NULL));
    CU_ASSERT_EQUAL(pt_produce(&e, "del", 0, NULL, "kept"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 1, 1000));
    CU_ASSERT_EQUAL(mb_topic_delete(e.c, "del"), 0);
    CU_ASSERT_EQUAL(pt_produce(&e, "del", 0, NULL, "orphan"), 0);
    CU_ASSERT_FATAL(pt_until_drs(&e, 2, 10000));
    CU_ASSERT_EQUAL(e.drs[1].err, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(e.drs[1].status, KP_STATUS_NOT_PERSISTED);
    CU_ASSERT_EQUAL(pt_produce(&e, "del", 0, NULL, "refused"), KP_ERR__UNKNOWN_TOPIC);
    pt_stop(&e);
}

/* --- the producer on its own thread --------------------------------------------------------- */

struct counts {
    int ok, failed;
    int64_t last_offset[4];
    bool ordered;
};

static void count_dr(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    struct counts *c = opaque;
    if (r->err) {
        c->failed++;
        return;
    }
    c->ok++;
    if (r->partition >= 0 && r->partition < 4) {
        if (r->offset != c->last_offset[r->partition] + 1)
            c->ordered = false;
        c->last_offset[r->partition] = r->offset;
    }
}

static void test_on_its_own_thread_it_delivers_many_messages_in_order(void)
{
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = 2;
    cfg.seed = PT_SEED;
    cfg.log_level = MB_LOG_ERROR;
    char err[256];
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "own", 4, 2, NULL, 0), 0);
    struct kp_conf *conf = kp_conf_new();
    kp_conf_set(conf, "bootstrap.servers", mb_cluster_bootstrap(c), err, sizeof(err));
    kp_conf_set(conf, "linger.ms", "2", err, sizeof(err));
    struct counts counts = { .ordered = true, .last_offset = { -1, -1, -1, -1 } };
    kp_conf_set_dr_cb(conf, count_dr);
    kp_conf_set_opaque(conf, &counts);
    struct kp_producer *p = kp_producer_new(conf, err, sizeof(err));
    kp_conf_destroy(conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        char v[32];
        int len = snprintf(v, sizeof(v), "message %d", i);
        int rc;
        while ((rc = kp_producer_produce(p, "own", i % 4, 0, NULL, 0, v, (size_t)len, NULL, 0, 0,
                                         NULL)) == KP_ERR__QUEUE_FULL)
            kp_producer_poll(p, 10);
        CU_ASSERT_EQUAL(rc, 0);
    }
    CU_ASSERT_EQUAL(kp_producer_flush(p, 10000), 0);
    CU_ASSERT_EQUAL(counts.ok, n);
    CU_ASSERT_EQUAL(counts.failed, 0);
    CU_ASSERT(counts.ordered);
    struct kp_stats st;
    kp_producer_stats(p, &st);
    CU_ASSERT_EQUAL(st.msgs_queued, 0);
    CU_ASSERT(st.seed != 0);
    kp_producer_destroy(p);
    int64_t total = 0;
    for (int part = 0; part < 4; part++) {
        struct mb_partition_info info;
        CU_ASSERT_EQUAL(mb_partition_info(c, "own", part, &info), 0);
        total += info.log_end_offset;
    }
    CU_ASSERT_EQUAL(total, n);
    mb_cluster_destroy(c);
}

CU_TestInfo kwt_producer_tests[] = {
    { "conf defaults are librdkafka's", test_conf_defaults_are_librdkafkas },
    { "conf refuses unknown keys and bad values, naming them",
      test_conf_refuses_unknown_keys_and_bad_values_naming_them },
    { "conf accepts librdkafka's aliases and value forms",
      test_conf_accepts_librdkafka_aliases_and_values },
    { "idempotence refuses conflicting explicit settings",
      test_idempotence_refuses_conflicting_explicit_settings },
    { "timeouts are checked against each other", test_timeouts_are_checked_against_each_other },
    { "new refuses a bad bootstrap list and codec level",
      test_new_refuses_a_bad_bootstrap_list_and_codec_level },
    { "error names and texts cover local and Kafka codes",
      test_error_names_and_texts_cover_local_and_kafka_codes },
    { "keyed messages reach their partitions in order",
      test_keyed_messages_reach_their_partitions_in_order },
    { "linger holds a batch until it expires", test_linger_holds_a_batch_until_it_expires },
    { "full batches leave without waiting for linger",
      test_full_batches_leave_without_waiting_for_linger },
    { "batch.size bounds the bytes of a batch", test_batch_size_bounds_the_bytes_of_a_batch },
    { "one request carries every partition of a broker",
      test_one_request_carries_every_partition_of_a_broker },
    { "headers, null keys and values, timestamps reach the log",
      test_headers_null_keys_values_and_timestamps_reach_the_log },
    { "every codec compresses and round-trips", test_every_codec_compresses_and_round_trips },
    { "acks=0 reports on write with the offset unknown",
      test_acks_0_reports_on_write_with_offset_unknown },
    { "an unknown topic fails its messages and later produce calls",
      test_an_unknown_topic_fails_its_messages_and_later_produce_calls },
    { "an auto-created topic takes messages once it has leaders",
      test_an_auto_created_topic_takes_messages_once_it_has_leaders },
    { "an explicit partition outside the topic is refused",
      test_an_explicit_partition_outside_the_topic_is_refused },
    { "a message over message.max.bytes is refused at once",
      test_a_message_over_message_max_bytes_is_refused_at_once },
    { "the queue limit refuses messages beyond it",
      test_the_queue_limit_refuses_messages_beyond_it },
    { "an old broker gets old versions and zstd uncompressed",
      test_an_old_broker_gets_old_versions_and_zstd_uncompressed },
    { "a broker without Produce v3 fails messages as unsupported",
      test_a_broker_without_produce_v3_fails_messages_as_unsupported },
    { "partitioners hash keys as librdkafka and Java do",
      test_partitioners_hash_keys_as_librdkafka_and_java_do },
    { "key-less messages stick to one partition for a while",
      test_key_less_messages_stick_to_one_partition_for_a_while },
    { "random partitioning spreads keyed messages",
      test_random_partitioning_spreads_keyed_messages },
    { "KP_MSG_FREE hands the value to the producer",
      test_msg_free_hands_the_value_to_the_producer },
    { "LogAppendTime comes back in the report", test_log_append_time_comes_back_in_the_report },
    { "a topic deleted under the producer fails its messages",
      test_a_topic_deleted_under_the_producer_fails_its_messages },
    { "destroy purges queued messages with one report each",
      test_destroy_purges_queued_messages_with_one_report_each },
    { "on its own thread it delivers many messages in order",
      test_on_its_own_thread_it_delivers_many_messages_in_order },
    CU_TEST_INFO_NULL,
};
