/* Produce against the mock cluster over sockets: what is stored, what is refused and why
 * (with the other partitions of the same request unaffected), compression, legacy message sets,
 * idempotence and retention. Records are read back with mb_partition_records and Fetch. */
#include <CUnit/CUnit.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/msgset.h"
#include "lib/proto/apis.h"
#include "lib/proto/create_topics.h"
#include "lib/proto/list_offsets.h"
#include "lib/proto/produce.h"
#include "mockbroker/mockbroker.h"
#include "tests/kclient.h"

#define SEED 42

static struct mb_cluster *start(int brokers)
{
    struct mb_config cfg;
    char err[256] = "";
    mb_config_init(&cfg);
    cfg.brokers = brokers;
    cfg.seed = SEED;
    cfg.log_level = MB_LOG_ERROR;
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    if (c == NULL)
        fprintf(stderr, "mb_cluster_new: %s\n", err);
    return c;
}

/* A one-broker cluster with topic name (partitions), and a connection to it. */
static struct mb_cluster *start_topic(const char *name, int partitions, struct kc_conn *k)
{
    struct mb_cluster *c = start(1);
    if (c == NULL)
        return NULL;
    if (mb_topic_create(c, name, partitions, 1, NULL, 0) != 0 ||
        kc_connect(k, mb_broker_port(c, 1)) != 0) {
        kc_close(k);
        mb_cluster_destroy(c);
        return NULL;
    }
    return c;
}

static int64_t log_end(struct mb_cluster *c, const char *topic, int partition)
{
    struct mb_partition_info info;
    return mb_partition_info(c, topic, partition, &info) == 0 ? info.log_end_offset : -1;
}

static bool bytes_eq(const uint8_t *p, int32_t len, const char *s)
{
    if (s == NULL)
        return p == NULL && len == -1;
    return p != NULL && len == (int32_t)strlen(s) && memcmp(p, s, (size_t)len) == 0;
}

/* Checks that records[0..n) hold what kc_batch(first..) wrote, at offsets from `offset`. */
static void check_kc_records(const struct mb_records *r, size_t at, size_t n, int first,
                             int64_t offset, int64_t ts)
{
    CU_ASSERT_FATAL(r != NULL && r->count >= at + n);
    for (size_t i = 0; i < n; i++) {
        const struct mb_record *rec = &r->records[at + i];
        char key[32], value[32], hv[32];
        snprintf(key, sizeof(key), "k%d", first + (int)i);
        snprintf(value, sizeof(value), "v%d", first + (int)i);
        snprintf(hv, sizeof(hv), "%d", first + (int)i);
        CU_ASSERT_EQUAL(rec->offset, offset + (int64_t)i);
        CU_ASSERT_EQUAL(rec->timestamp, ts + (int64_t)i);
        CU_ASSERT(bytes_eq(rec->key, rec->key_len, key));
        CU_ASSERT(bytes_eq(rec->value, rec->value_len, value));
        CU_ASSERT_EQUAL_FATAL(rec->n_headers, 1);
        CU_ASSERT_STRING_EQUAL(rec->headers[0].key, "h");
        CU_ASSERT(bytes_eq(rec->headers[0].value, rec->headers[0].value_len, hv));
    }
}

struct part {
    int32_t index;
    const uint8_t *data;
    size_t len;
    int16_t error;              /* out */
    int64_t base_offset;        /* out */
    int64_t log_append_time;    /* out */
};

/* One Produce for several partitions of one topic; fills each part's outcome. */
static int produce_parts(struct kc_conn *k, int version, int acks, const char *topic,
                         struct part *parts, int n)
{
    struct kw_produce_req_partition rp[8];
    for (int i = 0; i < n && i < 8; i++)
        rp[i] = (struct kw_produce_req_partition){
            .index = parts[i].index, .records = { parts[i].data, (int32_t)parts[i].len } };
    struct kw_produce_req_topic t = { .name = kw_str_c(topic), .n_partition_data = n,
                                      .partition_data = rp };
    struct kw_produce_req req = { .transactional_id = KW_STR_NULL, .acks = (int16_t)acks,
                                  .timeout_ms = 5000, .n_topic_data = 1, .topic_data = &t };
    struct kw_produce_resp resp;
    int rc = kc_call(k, KW_API_PRODUCE, version, &req, &resp);
    if (rc != KW_OK)
        return rc;
    if (resp.n_responses != 1 || resp.responses[0].n_partition_responses != n)
        return KW_ERR_CORRUPT;
    for (int i = 0; i < n; i++) {
        const struct kw_produce_resp_partition *o = &resp.responses[0].partition_responses[i];
        if (o->index != parts[i].index)
            return KW_ERR_CORRUPT;
        parts[i].error = o->error_code;
        parts[i].base_offset = o->base_offset;
        parts[i].log_append_time = o->log_append_time_ms;
    }
    return KW_OK;
}

/* Produces bad records to partition 0 and a good two-record batch to partition 1 of topic "v"
 * in one request: partition 0 must fail with `want` and store nothing, partition 1 succeed. */
static void expect_refused(struct mb_cluster *c, struct kc_conn *k, int version,
                           const void *bad, size_t bad_len, int16_t want, const char *what)
{
    struct kw_buf good;
    kw_buf_init(&good);
    if (version >= 3)
        kc_batch(&good, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    else {
        kc_message(&good, version == 2 ? 1 : 0, 1000, "k0", "v0");
        kc_message(&good, version == 2 ? 1 : 0, 1001, "k1", "v1");
    }
    int64_t end0 = log_end(c, "v", 0), end1 = log_end(c, "v", 1);
    struct part parts[2] = { { 0, bad, bad_len, -1, -1, 0 },
                             { 1, good.data, good.len, -1, -1, 0 } };
    int rc = produce_parts(k, version, 1, "v", parts, 2);
    CU_ASSERT_EQUAL(rc, KW_OK);
    if (rc == KW_OK && parts[0].error != want)
        fprintf(stderr, "%s: error %d, want %d\n", what, parts[0].error, want);
    CU_ASSERT_EQUAL(parts[0].error, want);
    CU_ASSERT_EQUAL(parts[0].base_offset, -1);
    CU_ASSERT_EQUAL(parts[1].error, 0);
    CU_ASSERT_EQUAL(parts[1].base_offset, end1);
    CU_ASSERT_EQUAL(log_end(c, "v", 0), end0);
    CU_ASSERT_EQUAL(log_end(c, "v", 1), end1 + 2);
    kw_buf_release(&good);
}

/* --- storing --------------------------------------------------------------------------------- */

static void test_acks_1_assigns_offsets_and_stores_records_as_sent(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("s", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 3, 1700000000000);
    int64_t base = -2, start = -2;
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "s", 0, b.data, b.len, &base, &start), 0);
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(start, 0);

    /* Null key, empty key, null value, a header with a null value. */
    kw_buf_reset(&b);
    struct kw_batch_builder bb;
    struct kw_header_kv hs[2] = { { { "a", 1 }, { (const uint8_t *)"1", 1 } },
                                  { { "b", 1 }, KW_BYTES_NULL } };
    kw_batch_builder_begin(&bb, &b, NULL, KW_CODEC_NONE, -1);
    kw_batch_builder_add(&bb, 5000, KW_BYTES_NULL, (struct kw_bytes){ (const uint8_t *)"plain", 5 },
                         NULL, 0);
    kw_batch_builder_add(&bb, 4000, (struct kw_bytes){ (const uint8_t *)"", 0 }, KW_BYTES_NULL,
                         hs, 2);
    CU_ASSERT_EQUAL_FATAL(kw_batch_builder_finish(&bb), KW_OK);
    CU_ASSERT_EQUAL(kc_produce(&k, 3, 1, "s", 0, b.data, b.len, &base, NULL), 0);
    CU_ASSERT_EQUAL(base, 3);

    struct mb_records *r = mb_partition_records(c, "s", 0, 0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(r->count, 5);
    check_kc_records(r, 0, 3, 0, 0, 1700000000000);
    const struct mb_record *x = &r->records[3], *y = &r->records[4];
    CU_ASSERT(x->offset == 3 && x->timestamp == 5000 && x->timestamp_type == 0);
    CU_ASSERT(x->key == NULL && x->key_len == -1);
    CU_ASSERT(bytes_eq(x->value, x->value_len, "plain"));
    CU_ASSERT_EQUAL(x->n_headers, 0);
    CU_ASSERT(y->offset == 4 && y->timestamp == 4000);
    CU_ASSERT_EQUAL(y->key_len, 0);
    CU_ASSERT(y->value == NULL && y->value_len == -1);
    CU_ASSERT_EQUAL_FATAL(y->n_headers, 2);
    CU_ASSERT_STRING_EQUAL(y->headers[0].key, "a");
    CU_ASSERT(bytes_eq(y->headers[0].value, y->headers[0].value_len, "1"));
    CU_ASSERT_STRING_EQUAL(y->headers[1].key, "b");
    CU_ASSERT(y->headers[1].value == NULL && y->headers[1].value_len == -1);
    CU_ASSERT(x->producer_id == -1 && x->sequence == -1);
    mb_records_destroy(r);

    r = mb_partition_records(c, "s", 0, 2, 2);       /* from the middle of a batch, at most 2 */
    CU_ASSERT_FATAL(r != NULL && r->count == 2);
    CU_ASSERT(r->records[0].offset == 2 && r->records[1].offset == 3);
    mb_records_destroy(r);
    CU_ASSERT_PTR_NULL(mb_partition_records(c, "s", 1, 0, 0));

    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "s", 0, &info), 0);
    CU_ASSERT(info.log_start_offset == 0 && info.high_watermark == 5 &&
              info.log_end_offset == 5 && info.batches == 2);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_every_compression_codec_is_stored_and_read_back(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("z", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static const int codecs[] = { KW_CODEC_GZIP, KW_CODEC_SNAPPY, KW_CODEC_LZ4, KW_CODEC_ZSTD,
                                  KW_CODEC_SNAPPY_XERIAL };
    enum { N = sizeof(codecs) / sizeof(codecs[0]) };
    for (int i = 0; i < N; i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        CU_ASSERT_EQUAL(kc_batch(&b, codecs[i], -1, -1, -1, i * 5, 5, 1000 * (i + 1)), KW_OK);
        struct kw_batch_hdr h;
        CU_ASSERT(kw_batch_peek(b.data, b.len, &h) > 0 &&
                  kw_batch_codec(h.attributes) == KW_CODEC_WIRE(codecs[i]));
        int64_t base = -1;
        int ec = kc_produce(&k, 9, 1, "z", 0, b.data, b.len, &base, NULL);
        if (ec != 0)
            fprintf(stderr, "%s: %d\n", kw_codec_name(codecs[i]), ec);
        CU_ASSERT_EQUAL(ec, 0);
        CU_ASSERT_EQUAL(base, i * 5);
        kw_buf_release(&b);
    }
    struct mb_records *r = mb_partition_records(c, "z", 0, 0, 0);
    CU_ASSERT_FATAL(r != NULL && r->count == 5 * N);
    for (int i = 0; i < N; i++)
        check_kc_records(r, (size_t)i * 5, 5, i * 5, i * 5, 1000 * (i + 1));
    mb_records_destroy(r);
    /* Fetched back as stored: compressed batches whose records decode. */
    struct kc_fetched f;
    int magic;
    int64_t first, last;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "z", 0, 0, 1 << 20, 0, 1, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 5 * N);
    CU_ASSERT(magic == 2 && first == 0 && last == 5 * N - 1);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_legacy_message_sets_are_stored_as_batches_and_fetched_by_version(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("old", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf m1, m0;
    kw_buf_init(&m1);
    kw_buf_init(&m0);
    kc_message(&m1, 1, 1111, "a", "x");
    kc_message(&m1, 1, 2222, "b", NULL);
    kc_message(&m0, 0, -1, NULL, "y");
    kc_message(&m0, 0, -1, "d", "z");
    int64_t base = -1;
    CU_ASSERT_EQUAL(kc_produce(&k, 2, 1, "old", 0, m1.data, m1.len, &base, NULL), 0);
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(kc_produce(&k, 1, 1, "old", 0, m0.data, m0.len, &base, NULL), 0);
    CU_ASSERT_EQUAL(base, 2);
    CU_ASSERT_EQUAL(kc_produce(&k, 0, 1, "old", 0, m0.data, m0.len, &base, NULL), 0);
    CU_ASSERT_EQUAL(base, 4);

    struct mb_records *r = mb_partition_records(c, "old", 0, 0, 0);
    CU_ASSERT_FATAL(r != NULL && r->count == 6);
    static const char *const keys[] = { "a", "b", NULL, "d" };
    static const char *const values[] = { "x", NULL, "y", "z" };
    static const int64_t ts[] = { 1111, 2222, -1, -1 };
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(r->records[i].offset, i);
        CU_ASSERT(bytes_eq(r->records[i].key, r->records[i].key_len, keys[i]));
        CU_ASSERT(bytes_eq(r->records[i].value, r->records[i].value_len, values[i]));
        CU_ASSERT_EQUAL(r->records[i].timestamp, ts[i]);
    }
    mb_records_destroy(r);

    /* Each reader gets the format of its version, with absolute offsets. */
    static const struct { int version, magic; } readers[] = {
        { 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 1 }, { 4, 2 }, { 11, 2 },
    };
    for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
        struct kc_fetched f;
        int magic;
        int64_t first, last;
        CU_ASSERT_EQUAL_FATAL(kc_fetch(&k, readers[i].version, "old", 0, 0, 1 << 20, 0, 1, -1,
                                       &f), KW_OK);
        CU_ASSERT_EQUAL(f.error_code, 0);
        CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 6);
        if (magic != readers[i].magic)
            fprintf(stderr, "Fetch v%d: magic %d\n", readers[i].version, magic);
        CU_ASSERT_EQUAL(magic, readers[i].magic);
        CU_ASSERT(first == 0 && last == 5);
        if (readers[i].magic == 2)
            continue;
        /* And through the library's reader: keys, values, timestamps. */
        struct kw_msgset_iter it;
        struct kw_record rec;
        int n = 0;
        kw_msgset_iter_init(&it, f.records, f.len, NULL, KW_MSGSET_MAX_UNCOMPRESSED);
        while (kw_msgset_iter_next(&it, &rec) == 1 && n < 4) {
            CU_ASSERT_EQUAL(rec.offset, n);
            CU_ASSERT(bytes_eq(rec.key.ptr, rec.key.len, keys[n]));
            CU_ASSERT(bytes_eq(rec.value.ptr, rec.value.len, values[n]));
            CU_ASSERT_EQUAL(rec.timestamp, readers[i].magic == 1 ? ts[n] : -1);
            n++;
        }
        CU_ASSERT_EQUAL(n, 4);
    }
    kw_buf_release(&m1);
    kw_buf_release(&m0);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_kafkajs_producer_id_minus_1_with_epoch_0_and_sequence_0_is_accepted(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("js", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, 0, 0, 0, 3, 1000);
    struct kw_batch_hdr h;
    CU_ASSERT(kw_batch_peek(b.data, b.len, &h) > 0 && h.producer_id == -1 &&
              h.producer_epoch == 0 && h.base_sequence == 0);
    int64_t base = -1;
    CU_ASSERT_EQUAL(kc_produce(&k, 7, 1, "js", 0, b.data, b.len, &base, NULL), 0);
    CU_ASSERT_EQUAL(base, 0);
    /* Not idempotent, so the same batch again is stored again. */
    CU_ASSERT_EQUAL(kc_produce(&k, 7, 1, "js", 0, b.data, b.len, &base, NULL), 0);
    CU_ASSERT_EQUAL(base, 3);
    CU_ASSERT_EQUAL(log_end(c, "js", 0), 6);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_log_append_time_stamps_the_batch_with_the_clusters_clock(void)
{
    /* Caller-driven with a virtual clock: the stamp is exactly the clock's time. */
    struct event_base *base = event_base_new();
    struct kw_vclock *v = kw_vclock_new(1700000000000000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct mb_config cfg;
    char err[256] = "";
    mb_config_init(&cfg);
    cfg.seed = SEED;
    cfg.log_level = MB_LOG_ERROR;
    cfg.base = base;
    cfg.clock = kw_vclock_clock(v);
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "lat", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "lat", "message.timestamp.type", "LogAppendTime",
                                        NULL, 0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(c, 1)), 0);
    k.pump = base;
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_GZIP, 1000, 0, 0, 0, 3, 1000);
    struct part parts[1] = { { 0, b.data, b.len, -1, -1, 0 } };
    CU_ASSERT_EQUAL(produce_parts(&k, 9, 1, "lat", parts, 1), KW_OK);
    CU_ASSERT_EQUAL(parts[0].error, 0);
    CU_ASSERT_EQUAL(parts[0].log_append_time, 1700000000000);
    /* A retry later gets the original stamp, not a new one. */
    CU_ASSERT_EQUAL(kw_vclock_advance(v, 5000000), 0);
    parts[0].log_append_time = 0;
    CU_ASSERT_EQUAL(produce_parts(&k, 9, 1, "lat", parts, 1), KW_OK);
    CU_ASSERT(parts[0].error == 0 && parts[0].base_offset == 0);
    CU_ASSERT_EQUAL(parts[0].log_append_time, 1700000000000);

    struct mb_records *r = mb_partition_records(c, "lat", 0, 0, 0);
    CU_ASSERT_FATAL(r != NULL && r->count == 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT(r->records[i].timestamp == 1700000000000 && r->records[i].timestamp_type == 1);
    mb_records_destroy(r);
    /* The stored batch is still valid: the CRC was recomputed over the new attributes. */
    struct kc_fetched f;
    CU_ASSERT_EQUAL_FATAL(kc_fetch(&k, 11, "lat", 0, 0, 1 << 20, 0, 1, -1, &f), KW_OK);
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    struct kw_batch_hdr h;
    CU_ASSERT_EQUAL(kw_batch_validate(f.records, f.len, &h, &scratch, 1 << 20), KW_OK);
    CU_ASSERT(h.attributes & KW_BATCH_ATTR_LOG_APPEND_TIME);
    CU_ASSERT_EQUAL(h.max_timestamp, 1700000000000);
    kw_buf_release(&scratch);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
    kw_vclock_destroy(v);
    event_base_free(base);
}

static void test_one_request_can_produce_to_several_topics(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("a", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "b", 2, 1, NULL, 0), 0);
    struct kw_buf x, y;
    kw_buf_init(&x);
    kw_buf_init(&y);
    kc_batch(&x, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    kc_batch(&y, KW_CODEC_LZ4, -1, -1, -1, 10, 3, 2000);
    struct kw_produce_req_partition pa[1] = {
        { .index = 0, .records = { x.data, (int32_t)x.len } },
    };
    struct kw_produce_req_partition pb[2] = {
        { .index = 1, .records = { y.data, (int32_t)y.len } },
        { .index = 0, .records = { x.data, (int32_t)x.len } },
    };
    struct kw_produce_req_topic ts[3] = {
        { .name = kw_str_c("a"), .n_partition_data = 1, .partition_data = pa },
        { .name = kw_str_c("b"), .n_partition_data = 2, .partition_data = pb },
        { .name = kw_str_c("c"), .n_partition_data = 1, .partition_data = pa },
    };
    struct kw_produce_req req = { .transactional_id = KW_STR_NULL, .acks = -1,
                                  .timeout_ms = 5000, .n_topic_data = 3, .topic_data = ts };
    struct kw_produce_resp resp;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_PRODUCE, 10, &req, &resp), KW_OK);
    CU_ASSERT_FATAL(resp.n_responses == 3);
    CU_ASSERT(kw_str_eq(resp.responses[0].name, "a"));
    CU_ASSERT(kw_str_eq(resp.responses[1].name, "b"));
    CU_ASSERT(kw_str_eq(resp.responses[2].name, "c"));
    CU_ASSERT_FATAL(resp.responses[1].n_partition_responses == 2);
    CU_ASSERT_EQUAL(resp.responses[0].partition_responses[0].error_code, 0);
    CU_ASSERT_EQUAL(resp.responses[1].partition_responses[0].index, 1);
    CU_ASSERT_EQUAL(resp.responses[1].partition_responses[0].error_code, 0);
    CU_ASSERT_EQUAL(resp.responses[1].partition_responses[1].error_code, 0);
    CU_ASSERT_EQUAL(resp.responses[2].partition_responses[0].error_code,
                    KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT(log_end(c, "a", 0) == 2 && log_end(c, "b", 0) == 2 && log_end(c, "b", 1) == 3);
    struct mb_records *r = mb_partition_records(c, "b", 1, 0, 0);
    check_kc_records(r, 0, 3, 10, 0, 2000);
    mb_records_destroy(r);
    kw_buf_release(&x);
    kw_buf_release(&y);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- validation ------------------------------------------------------------------------------ */

static void test_a_bad_crc_is_corrupt_message(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("v", 2, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 3, 1000);
    b.data[b.len - 1] ^= 0x01;
    expect_refused(c, &k, 9, b.data, b.len, KW_EC_CORRUPT_MESSAGE, "bad crc");
    /* Legacy messages carry their own CRC-32. */
    kw_buf_reset(&b);
    kc_message(&b, 1, 1000, "k", "v");
    b.data[b.len - 1] ^= 0x01;
    expect_refused(c, &k, 2, b.data, b.len, KW_EC_CORRUPT_MESSAGE, "bad message crc");
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_structurally_bad_batches_are_invalid_record(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("v", 2, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);

    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 2, 2, 1000);
    expect_refused(c, &k, 9, b.data, b.len, KW_EC_INVALID_RECORD, "two batches");

    kw_buf_reset(&b);
    struct kw_batch_hdr control = { .partition_leader_epoch = -1, .producer_id = 1000,
                                    .producer_epoch = 0, .base_sequence = 0,
                                    .attributes = KW_BATCH_ATTR_CONTROL |
                                                  KW_BATCH_ATTR_TRANSACTIONAL };
    struct kw_batch_builder bb;
    static const uint8_t marker_key[] = { 0, 0, 0, 0 };     /* version 0, type 0: abort */
    static const uint8_t marker_value[] = { 0, 0, 0, 0, 0, 0 };
    kw_batch_builder_begin(&bb, &b, &control, KW_CODEC_NONE, -1);
    kw_batch_builder_add(&bb, 1000, (struct kw_bytes){ marker_key, 4 },
                         (struct kw_bytes){ marker_value, 6 }, NULL, 0);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_OK);
    expect_refused(c, &k, 9, b.data, b.len, KW_EC_INVALID_RECORD, "control batch");

    kw_buf_reset(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 3, 1000);
    kw_wbe32(b.data + 23, 5);       /* lastOffsetDelta 5 for 3 records */
    kc_batch_fix_crc(b.data, b.len);
    expect_refused(c, &k, 9, b.data, b.len, KW_EC_INVALID_RECORD, "lastOffsetDelta");

    kw_buf_reset(&b);
    kc_batch(&b, KW_CODEC_NONE, 1000, 0, -1, 0, 2, 1000);
    expect_refused(c, &k, 9, b.data, b.len, KW_EC_INVALID_RECORD, "pid without sequence");

    kw_buf_reset(&b);
    kc_message(&b, 1, 1000, "k", "v");
    expect_refused(c, &k, 3, b.data, b.len, KW_EC_INVALID_RECORD, "magic 1 in v3");
    expect_refused(c, &k, 11, b.data, b.len, KW_EC_INVALID_RECORD, "magic 1 in v11");

    kw_buf_reset(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    expect_refused(c, &k, 2, b.data, b.len, KW_EC_INVALID_RECORD, "magic 2 in v2");

    /* Fewer bytes than any batch header: no batch at all, as Kafka reads it. */
    expect_refused(c, &k, 9, (const uint8_t *)"abcde", 5, KW_EC_INVALID_RECORD, "5 bytes");
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_a_batch_above_max_message_bytes_is_message_too_large(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("v", 2, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf big, small;
    kw_buf_init(&big);
    kw_buf_init(&small);
    kc_batch(&big, KW_CODEC_NONE, -1, -1, -1, 0, 20, 1000);
    kc_batch(&small, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    CU_ASSERT_FATAL(small.len < 200 && big.len > 200);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "v", "max.message.bytes", "200", NULL, 0), 0);
    expect_refused(c, &k, 9, big.data, big.len, KW_EC_MESSAGE_TOO_LARGE, "too large");
    char limit[32];
    snprintf(limit, sizeof(limit), "%zu", big.len);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "v", "max.message.bytes", limit, NULL, 0), 0);
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "v", 0, big.data, big.len, NULL, NULL), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "v", "max.message.bytes", "x", NULL, 0),
                    KW_EC_INVALID_CONFIG);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "v", "no.such.config", "1", NULL, 0),
                    KW_EC_INVALID_CONFIG);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "nosuch", "max.message.bytes", "1", NULL, 0),
                    KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    kw_buf_release(&big);
    kw_buf_release(&small);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_zstd_is_refused_in_produce_v6_and_accepted_in_v7(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("v", 2, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_ZSTD, -1, -1, -1, 0, 4, 1000);
    expect_refused(c, &k, 6, b.data, b.len, KW_EC_UNSUPPORTED_COMPRESSION_TYPE, "zstd v6");
    int64_t base = -1;
    CU_ASSERT_EQUAL(kc_produce(&k, 7, 1, "v", 0, b.data, b.len, &base, NULL), 0);
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(log_end(c, "v", 0), 4);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_acks_2_is_invalid_required_acks_for_every_partition(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("v", 2, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    struct part parts[2] = { { 0, b.data, b.len, -1, -1, 0 }, { 1, b.data, b.len, -1, -1, 0 } };
    CU_ASSERT_EQUAL(produce_parts(&k, 9, 2, "v", parts, 2), KW_OK);
    CU_ASSERT_EQUAL(parts[0].error, KW_EC_INVALID_REQUIRED_ACKS);
    CU_ASSERT_EQUAL(parts[1].error, KW_EC_INVALID_REQUIRED_ACKS);
    CU_ASSERT_EQUAL(log_end(c, "v", 0), 0);
    CU_ASSERT_EQUAL(log_end(c, "v", 1), 0);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_unknown_topics_and_partitions_are_unknown_topic_or_partition(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("v", 2, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "nosuch", 0, b.data, b.len, NULL, NULL),
                    KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(log_end(c, "nosuch", 0), -1);       /* Produce does not auto-create */
    struct part parts[2] = { { 7, b.data, b.len, -1, -1, 0 }, { 1, b.data, b.len, -1, -1, 0 } };
    CU_ASSERT_EQUAL(produce_parts(&k, 9, 1, "v", parts, 2), KW_OK);
    CU_ASSERT_EQUAL(parts[0].error, KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(parts[1].error, 0);
    CU_ASSERT_EQUAL(log_end(c, "v", 1), 2);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_produce_to_a_broker_that_does_not_lead_is_not_leader_or_follower(void)
{
    struct mb_cluster *c = start(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_create(c, "nl", 3, 1, NULL, 0), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    for (int p = 0; p < 3; p++) {
        struct mb_partition_info info;
        CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "nl", p, &info), 0);
        for (int broker = 1; broker <= 3; broker++) {
            struct kc_conn k;
            CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(c, broker)), 0);
            int ec = kc_produce(&k, 9, 1, "nl", p, b.data, b.len, NULL, NULL);
            CU_ASSERT_EQUAL(ec, broker == info.leader ? 0 : KW_EC_NOT_LEADER_OR_FOLLOWER);
            kc_close(&k);
        }
        CU_ASSERT_EQUAL(log_end(c, "nl", p), 2);
    }
    kw_buf_release(&b);
    mb_cluster_destroy(c);
}

static void test_acks_all_below_min_insync_replicas_is_not_enough_replicas(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("v", 2, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "v", "min.insync.replicas", "2", NULL, 0), 0);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    struct part parts[2] = { { 0, b.data, b.len, -1, -1, 0 }, { 1, b.data, b.len, -1, -1, 0 } };
    CU_ASSERT_EQUAL(produce_parts(&k, 9, -1, "v", parts, 2), KW_OK);
    CU_ASSERT(parts[0].error == KW_EC_NOT_ENOUGH_REPLICAS &&
              parts[1].error == KW_EC_NOT_ENOUGH_REPLICAS);
    CU_ASSERT(log_end(c, "v", 0) == 0 && log_end(c, "v", 1) == 0);
    /* acks=1 does not wait for the ISR. */
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "v", 0, b.data, b.len, NULL, NULL), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "v", "min.insync.replicas", "1", NULL, 0), 0);
    CU_ASSERT_EQUAL(kc_produce(&k, 9, -1, "v", 0, b.data, b.len, NULL, NULL), 0);
    CU_ASSERT_EQUAL(log_end(c, "v", 0), 4);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- idempotence ----------------------------------------------------------------------------- */

/* Produces n records from producer pid/epoch at seq; returns the error code, *base set. */
static int produce_seq(struct kc_conn *k, int64_t pid, int16_t epoch, int32_t seq, int n,
                       int64_t *base)
{
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, pid, epoch, seq, seq, n, 1000);
    *base = -2;
    int ec = kc_produce(k, 9, -1, "i", 0, b.data, b.len, base, NULL);
    kw_buf_release(&b);
    return ec;
}

static void test_a_duplicate_batch_gets_its_original_offset_and_is_not_stored_again(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("i", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t base;
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 3, &base), 0);
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 3, 2, &base), 0);
    CU_ASSERT_EQUAL(base, 3);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 3, &base), 0);     /* a retry */
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 3, 2, &base), 0);
    CU_ASSERT_EQUAL(base, 3);
    CU_ASSERT_EQUAL(log_end(c, "i", 0), 5);
    struct mb_records *r = mb_partition_records(c, "i", 0, 0, 0);
    CU_ASSERT_FATAL(r != NULL && r->count == 5);
    CU_ASSERT(r->records[4].producer_id == 1000 && r->records[4].producer_epoch == 0 &&
              r->records[4].sequence == 4);
    mb_records_destroy(r);
    /* The same sequence range with another length is no duplicate but a gap. */
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 2, &base), KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(log_end(c, "i", 0), 5);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_a_sequence_gap_is_out_of_order_sequence_number(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("i", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t base;
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 2, &base), 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 3, 2, &base), KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(base, -1);
    CU_ASSERT_EQUAL(log_end(c, "i", 0), 2);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 2, 2, &base), 0);
    CU_ASSERT_EQUAL(base, 2);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_epochs_older_is_refused_newer_must_start_at_sequence_0(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("i", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t base;
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 1, 0, 2, &base), 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 2, 2, &base), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 2, &base), KW_EC_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 2, 5, 2, &base), KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(log_end(c, "i", 0), 2);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 2, 0, 2, &base), 0);
    CU_ASSERT_EQUAL(base, 2);
    /* The bump reset the sequence: epoch 2 continues at 2. */
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 2, 2, 1, &base), 0);
    CU_ASSERT_EQUAL(base, 4);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_an_unknown_producer_id_is_accepted_at_any_sequence(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("i", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t base;
    CU_ASSERT_EQUAL(produce_seq(&k, 4242, 3, 77, 2, &base), 0);
    CU_ASSERT_EQUAL(base, 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 4243, 0, 12345, 1, &base), 0);
    CU_ASSERT_EQUAL(base, 2);
    CU_ASSERT_EQUAL(produce_seq(&k, 4242, 3, 79, 1, &base), 0);     /* continues from 78 */
    CU_ASSERT_EQUAL(produce_seq(&k, 4242, 3, 81, 1, &base), KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(log_end(c, "i", 0), 4);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_a_duplicate_of_a_batch_six_back_is_out_of_order(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("i", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t base;
    for (int32_t seq = 0; seq < 6; seq++) {
        CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, seq, 1, &base), 0);
        CU_ASSERT_EQUAL(base, seq);
    }
    /* Only the last five batches (sequences 1-5) are remembered. */
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 1, &base), KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 1, 1, &base), 0);
    CU_ASSERT_EQUAL(base, 1);
    CU_ASSERT_EQUAL(log_end(c, "i", 0), 6);
    kc_close(&k);
    mb_cluster_destroy(c);
}

static void test_sequences_wrap_from_int32_max_to_0(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("i", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int64_t base;
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, INT32_MAX - 1, 2, &base), 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 2, &base), 0);
    CU_ASSERT_EQUAL(base, 2);
    CU_ASSERT_EQUAL(produce_seq(&k, 1000, 0, 0, 2, &base), 0);      /* duplicate */
    CU_ASSERT_EQUAL(base, 2);
    /* A batch that itself wraps: last sequence INT32_MAX + 2 - 1 wraps to 1. */
    CU_ASSERT_EQUAL(produce_seq(&k, 2000, 0, INT32_MAX, 3, &base), 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 2000, 0, 2, 1, &base), 0);
    CU_ASSERT_EQUAL(produce_seq(&k, 2000, 0, 4, 1, &base), KW_EC_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(log_end(c, "i", 0), 8);
    kc_close(&k);
    mb_cluster_destroy(c);
}

/* --- retention ------------------------------------------------------------------------------- */

static void test_retention_drops_old_batches_and_moves_the_log_start(void)
{
    struct kc_conn k;
    struct mb_cluster *c = start_topic("r", 1, &k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 0, 2, 1000);
    size_t one = b.len;
    char limit[32];
    snprintf(limit, sizeof(limit), "%zu", 2 * one + one / 2);   /* room for two batches */
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "r", "retention.bytes", limit, NULL, 0), 0);
    int64_t base = -1, start = -1;
    for (int i = 0; i < 5; i++) {
        kw_buf_reset(&b);
        kc_batch(&b, KW_CODEC_NONE, -1, -1, -1, 2 * i, 2, 1000);
        CU_ASSERT_EQUAL(b.len, one);
        CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, "r", 0, b.data, b.len, &base, &start), 0);
        CU_ASSERT_EQUAL(base, 2 * i);
    }
    struct mb_partition_info info;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "r", 0, &info), 0);
    CU_ASSERT_EQUAL(info.batches, 2);
    CU_ASSERT_EQUAL(info.log_start_offset, 6);
    CU_ASSERT_EQUAL(info.log_end_offset, 10);
    CU_ASSERT_EQUAL(start, 6);          /* the Produce answer's LogStartOffset */

    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "r", 0, 0, 1 << 20, 0, 1, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_OFFSET_OUT_OF_RANGE);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "r", 0, 5, 1 << 20, 0, 1, -1, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_OFFSET_OUT_OF_RANGE);
    CU_ASSERT_EQUAL(kc_fetch(&k, 11, "r", 0, 6, 1 << 20, 0, 1, -1, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.log_start_offset == 6);
    int magic;
    int64_t first, last;
    CU_ASSERT_EQUAL(kc_count_records(f.records, f.len, &magic, &first, &last), 4);
    CU_ASSERT(first == 6 && last == 9);
    struct mb_records *r = mb_partition_records(c, "r", 0, 0, 0);
    CU_ASSERT(r != NULL && r->count == 4 && r->records[0].offset == 6);
    mb_records_destroy(r);

    /* ListOffsets earliest follows the log start. */
    struct kw_list_offsets_req_partition lp = { .partition_index = 0, .timestamp = -2,
                                                .current_leader_epoch = -1 };
    struct kw_list_offsets_req_topic lt = { .name = kw_str_c("r"), .n_partitions = 1,
                                            .partitions = &lp };
    struct kw_list_offsets_req lo = { .replica_id = -1, .n_topics = 1, .topics = &lt };
    struct kw_list_offsets_resp resp;
    CU_ASSERT_EQUAL_FATAL(kc_call(&k, KW_API_LIST_OFFSETS, 5, &lo, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.topics[0].partitions[0].offset, 6);

    /* Shrinking retention applies at once, but the newest batch stays. */
    CU_ASSERT_EQUAL(mb_topic_config_set(c, "r", "retention.bytes", "0", NULL, 0), 0);
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(c, "r", 0, &info), 0);
    CU_ASSERT(info.batches == 1 && info.log_start_offset == 8 && info.log_end_offset == 10);
    kw_buf_release(&b);
    kc_close(&k);
    mb_cluster_destroy(c);
}

CU_TestInfo kwt_broker_produce_tests[] = {
    { "acks=1 assigns offsets and stores records as sent",
      test_acks_1_assigns_offsets_and_stores_records_as_sent },
    { "Every compression codec is stored and read back",
      test_every_compression_codec_is_stored_and_read_back },
    { "Legacy message sets are stored as batches and fetched by version",
      test_legacy_message_sets_are_stored_as_batches_and_fetched_by_version },
    { "kafkajs producer id -1 with epoch 0 and sequence 0 is accepted",
      test_kafkajs_producer_id_minus_1_with_epoch_0_and_sequence_0_is_accepted },
    { "LogAppendTime stamps the batch with the cluster's clock",
      test_log_append_time_stamps_the_batch_with_the_clusters_clock },
    { "One request can produce to several topics",
      test_one_request_can_produce_to_several_topics },
    { "A bad CRC is CORRUPT_MESSAGE", test_a_bad_crc_is_corrupt_message },
    { "Structurally bad batches are INVALID_RECORD",
      test_structurally_bad_batches_are_invalid_record },
    { "A batch above max.message.bytes is MESSAGE_TOO_LARGE",
      test_a_batch_above_max_message_bytes_is_message_too_large },
    { "zstd is refused in Produce v6 and accepted in v7",
      test_zstd_is_refused_in_produce_v6_and_accepted_in_v7 },
    { "acks=2 is INVALID_REQUIRED_ACKS for every partition",
      test_acks_2_is_invalid_required_acks_for_every_partition },
    { "Unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION",
      test_unknown_topics_and_partitions_are_unknown_topic_or_partition },
    { "Produce to a broker that does not lead is NOT_LEADER_OR_FOLLOWER",
      test_produce_to_a_broker_that_does_not_lead_is_not_leader_or_follower },
    { "acks=all below min.insync.replicas is NOT_ENOUGH_REPLICAS",
      test_acks_all_below_min_insync_replicas_is_not_enough_replicas },
    { "A duplicate batch gets its original offset and is not stored again",
      test_a_duplicate_batch_gets_its_original_offset_and_is_not_stored_again },
    { "A sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER",
      test_a_sequence_gap_is_out_of_order_sequence_number },
    { "An older epoch is refused, a newer one must start at sequence 0",
      test_epochs_older_is_refused_newer_must_start_at_sequence_0 },
    { "An unknown producer id is accepted at any sequence",
      test_an_unknown_producer_id_is_accepted_at_any_sequence },
    { "A duplicate of a batch six back is OUT_OF_ORDER_SEQUENCE_NUMBER",
      test_a_duplicate_of_a_batch_six_back_is_out_of_order },
    { "Sequences wrap from INT32_MAX to 0", test_sequences_wrap_from_int32_max_to_0 },
    { "Retention drops old batches and moves the log start",
      test_retention_drops_old_batches_and_moves_the_log_start },
    CU_TEST_INFO_NULL,
};
