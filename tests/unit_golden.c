/* Golden frames: requests real clients sent (fixtures/frames, captured by
 * tests/capture/capture.sh). Every file in the directory must decode with its API's request
 * schema, leave nothing over, and re-encode to the same bytes; every record batch or message set
 * inside must pass its CRC with the record count it claims; no proper prefix may decode. Known
 * captures also get field-level checks of what each client is documented to send. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/describe.h"
#include "lib/msgset.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/init_producer_id.h"
#include "lib/proto/metadata.h"
#include "lib/proto/produce.h"
#include "tests/fx.h"

#define MAX_INFLATE (16u << 20)

/* CUnit records only the condition text; failures here also need the file's name. */
#define G_ASSERT(file, cond) g_assert((cond), (file), #cond, __LINE__)

static void g_assert(bool ok, const char *file, const char *cond, int line)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "%s: %s", file, cond);
    CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, (unsigned)line, msg, __FILE__, "", CU_FALSE);
}

/* --- the frames directory --------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.hex names in fixtures/frames, sorted; *n gets the count. Free with free_names. */
static char **list_frames(int *n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/frames", fx_dir());
    DIR *d = opendir(path);
    char **names = NULL;
    int cap = 0;
    *n = 0;
    if (d == NULL)
        return NULL;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".hex") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(names, (size_t)cap * sizeof(*names));
            if (p == NULL)
                break;
            names = p;
        }
        if ((names[*n] = strdup(e->d_name)) != NULL)
            (*n)++;
    }
    closedir(d);
    if (names)
        qsort(names, (size_t)*n, sizeof(*names), by_name);
    return names;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* --- one decoded frame ------------------------------------------------------------------------ */

struct golden {
    struct fx_frame f;
    struct kw_req_header h;
    int hv;                     /* header version, or the header's kw_err */
    int err;                    /* body decode result (KW_ERR_API for a key we do not speak) */
    size_t left;                /* bytes after the body */
    const struct kw_api *api;
    void *body;                 /* the API's request struct, in arena */
    struct kw_arena arena;
};

static void decode(struct golden *g, const uint8_t *data, size_t len)
{
    struct kw_reader r;
    kw_reader_init(&r, data, len);
    g->hv = kw_req_header_read(&r, &g->h);
    g->err = g->hv < 0 ? g->hv : KW_ERR_API;
    g->api = g->hv < 0 ? NULL : kw_api_find(g->h.api_key);
    if (g->api != NULL && !kw_api_supported(g->h.api_key, g->h.api_version))
        g->err = KW_ERR_VERSION;
    else if (g->api != NULL) {
        g->body = kw_arena_alloc(&g->arena, g->api->req->size);
        g->err = g->body == NULL ? KW_ERR_NOMEM
               : kw_schema_decode(&r, g->api->req, g->h.api_version,
                                  kw_api_flexible(g->h.api_key, g->h.api_version), g->body,
                                  &g->arena);
    }
    g->left = kw_reader_left(&r);
}

static void golden_open(struct golden *g, const char *file)
{
    memset(g, 0, sizeof(*g));
    kw_arena_init(&g->arena);
    g->f = fx_load(file);
    G_ASSERT(file, g->f.data != NULL && g->f.len > 0);
    if (g->f.data != NULL)
        decode(g, g->f.data, g->f.len);
    else
        g->err = g->hv = KW_ERR_SHORT;
}

static void golden_close(struct golden *g)
{
    kw_arena_release(&g->arena);
    fx_free(&g->f);
}

static bool decoded(const struct golden *g)
{
    return g->hv >= 0 && g->err == KW_OK && g->left == 0;
}

/* "InitProducerId" -> "init_producer_id": the API part of a fixture's name. */
static void snake(const char *camel, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = camel; *p && o + 2 < size; p++) {
        if (isupper((unsigned char)*p) && p != camel)
            out[o++] = '_';
        out[o++] = (char)tolower((unsigned char)*p);
    }
    out[o] = '\0';
}

/* --- records ---------------------------------------------------------------------------------- */

/* What a RECORDS blob held: the first batch's header (or the legacy magic), the records of the
 * whole blob, and the first record's key and value (copied: scratch is reused). */
struct walk {
    int batches;                /* magic-2 batches, or legacy message sets */
    int magic;
    struct kw_batch_hdr first;
    int records;
    bool counts_ok;             /* every batch held records_count records, lastOffsetDelta + 1 */
    char key[64], value[512];
    int32_t key_len, value_len;
    int err;
};

static void keep_first(struct walk *w, const struct kw_record *rec)
{
    if (w->records++ > 0)
        return;
    w->key_len = rec->key.len;
    w->value_len = rec->value.len;
    if (rec->key.len > 0)
        memcpy(w->key, rec->key.ptr, (size_t)rec->key.len < sizeof(w->key) - 1
               ? (size_t)rec->key.len : sizeof(w->key) - 1);
    if (rec->value.len > 0)
        memcpy(w->value, rec->value.ptr, (size_t)rec->value.len < sizeof(w->value) - 1
               ? (size_t)rec->value.len : sizeof(w->value) - 1);
}

static int walk_batch(struct walk *w, const uint8_t *p, size_t size, struct kw_buf *scratch)
{
    struct kw_batch_hdr h;
    int err = kw_batch_validate(p, size, &h, scratch, MAX_INFLATE);
    if (err != KW_OK)
        return err;
    if (w->batches++ == 0)
        w->first = h;
    struct kw_record_iter it;
    struct kw_record rec;
    int n = 0, rc = kw_record_iter_init_max(&it, p, size, scratch, MAX_INFLATE);
    while (rc == KW_OK && (rc = kw_record_iter_next(&it, &rec)) == 1) {
        keep_first(w, &rec);
        n++;
        rc = KW_OK;
    }
    if (rc < 0)
        return rc;
    if (n != h.records_count || h.last_offset_delta + 1 != n)
        w->counts_ok = false;
    return KW_OK;
}

static int walk_msgset(struct walk *w, const uint8_t *p, size_t len, struct kw_buf *scratch)
{
    int count = 0, magic = -1;
    int err = kw_msgset_validate(p, len, &count, &magic);
    if (err != KW_OK)
        return err;
    w->batches++;
    w->magic = magic;
    struct kw_msgset_iter it;
    struct kw_record rec;
    int n = 0, rc = kw_msgset_iter_init(&it, p, len, scratch, MAX_INFLATE);
    while (rc == KW_OK && (rc = kw_msgset_iter_next(&it, &rec)) == 1) {
        keep_first(w, &rec);
        n++;
        rc = KW_OK;
    }
    if (rc < 0)
        return rc;
    if (n != count)
        w->counts_ok = false;
    return KW_OK;
}

/* Walks a Produce partition's records batch by batch (a message set to its end). */
static struct walk walk_records(struct kw_bytes records)
{
    struct walk w = { .magic = -1, .counts_ok = true };
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    size_t len = records.len > 0 ? (size_t)records.len : 0, off = 0;
    while (w.err == KW_OK && off < len) {
        const uint8_t *p = records.ptr + off;
        if (len - off < 17) {
            w.err = KW_ERR_SHORT;
            break;
        }
        if (p[16] != 2) {       /* magic sits at byte 16 in every format */
            w.err = walk_msgset(&w, p, len - off, &scratch);
            break;
        }
        struct kw_batch_hdr h;
        int size = kw_batch_peek(p, len - off, &h);
        if (size <= 0) {
            w.err = size < 0 ? size : KW_ERR_CORRUPT;
            break;
        }
        w.magic = 2;
        w.err = walk_batch(&w, p, (size_t)size, &scratch);
        off += (size_t)size;
    }
    kw_buf_release(&scratch);
    return w;
}

/* --- the tests -------------------------------------------------------------------------------- */

static void test_every_frame_decodes_and_re_encodes_byte_for_byte(void)
{
    int n;
    char **names = list_frames(&n);
    CU_ASSERT(n >= 20);         /* the directory was found, with what capture.sh writes */
    for (int i = 0; i < n; i++) {
        const char *file = names[i];
        struct golden g;
        golden_open(&g, file);
        G_ASSERT(file, g.hv >= 0);
        G_ASSERT(file, g.api != NULL);
        G_ASSERT(file, g.err == KW_OK);
        G_ASSERT(file, g.left == 0);
        if (decoded(&g)) {
            char api[64], prefix[96];
            snake(kw_api_name(g.h.api_key), api, sizeof(api));
            snprintf(prefix, sizeof(prefix), "%s_v%d_request_", api, g.h.api_version);
            G_ASSERT(file, strncmp(file, prefix, strlen(prefix)) == 0);   /* named as it is */

            struct kw_buf b;
            kw_buf_init(&b);
            kw_req_header_encode(&b, g.hv, &g.h);
            kw_schema_encode(&b, g.api->req, g.h.api_version,
                             kw_api_flexible(g.h.api_key, g.h.api_version), g.body);
            G_ASSERT(file, b.err == KW_OK);
            G_ASSERT(file, b.len == g.f.len && memcmp(b.data, g.f.data, g.f.len) == 0);
            kw_buf_release(&b);
        }
        golden_close(&g);
    }
    free_names(names, n);
}

static void test_every_batch_passes_its_crc_with_the_count_it_claims(void)
{
    int n, produces = 0;
    char **names = list_frames(&n);
    for (int i = 0; i < n; i++) {
        const char *file = names[i];
        struct golden g;
        golden_open(&g, file);
        if (decoded(&g) && g.h.api_key == KW_API_PRODUCE) {
            const struct kw_produce_req *req = g.body;
            int partitions = 0;
            for (int32_t t = 0; t < req->n_topic_data; t++) {
                const struct kw_produce_req_topic *topic = &req->topic_data[t];
                for (int32_t p = 0; p < topic->n_partition_data; p++, partitions++) {
                    struct walk w = walk_records(topic->partition_data[p].records);
                    G_ASSERT(file, w.err == KW_OK);
                    G_ASSERT(file, w.batches >= 1 && w.records >= 1);
                    G_ASSERT(file, w.counts_ok);
                    /* Produce v3+ carries record batches only (KIP-98). */
                    G_ASSERT(file, (g.h.api_version >= 3) == (w.magic == 2));
                }
            }
            G_ASSERT(file, partitions >= 1);
            produces++;
        }
        golden_close(&g);
    }
    CU_ASSERT(produces >= 10);
    free_names(names, n);
}

/* Flipping a bit in the last byte of each frame's records (inside the CRC's scope in both
 * formats) must turn a valid batch into KW_ERR_CRC: the checks above really check. */
static void test_a_flipped_bit_in_any_golden_batch_fails_its_crc(void)
{
    int n;
    char **names = list_frames(&n);
    for (int i = 0; i < n; i++) {
        const char *file = names[i];
        struct golden g;
        golden_open(&g, file);
        if (decoded(&g) && g.h.api_key == KW_API_PRODUCE) {
            const struct kw_produce_req *req = g.body;
            struct kw_bytes rec = req->topic_data[0].partition_data[0].records;
            G_ASSERT(file, rec.len > 0);
            uint8_t *copy = malloc(rec.len > 0 ? (size_t)rec.len : 1);
            if (copy != NULL && rec.len > 0) {
                memcpy(copy, rec.ptr, (size_t)rec.len);
                copy[rec.len - 1] ^= 0x01;
                struct walk w = walk_records((struct kw_bytes){ copy, rec.len });
                G_ASSERT(file, w.err == KW_ERR_CRC);
            }
            free(copy);
        }
        golden_close(&g);
    }
    free_names(names, n);
}

static void test_no_proper_prefix_of_a_golden_frame_decodes(void)
{
    int n;
    char **names = list_frames(&n);
    for (int i = 0; i < n; i++) {
        const char *file = names[i];
        struct fx_frame f = fx_load(file);
        size_t accepted = 0;
        for (size_t len = 0; len < f.len; len++) {
            /* An exact-size copy, so a sanitizer sees any read past the prefix. */
            uint8_t *p = malloc(len ? len : 1);
            if (p == NULL)
                break;
            memcpy(p, f.data, len);
            struct golden g;
            memset(&g, 0, sizeof(g));
            kw_arena_init(&g.arena);
            decode(&g, p, len);
            if (g.hv >= 0 && g.err == KW_OK)
                accepted++;
            kw_arena_release(&g.arena);
            free(p);
        }
        G_ASSERT(file, f.len > 0 && accepted == 0);
        fx_free(&f);
    }
    free_names(names, n);
}

static void test_every_frame_describes_without_error(void)
{
    int n;
    char **names = list_frames(&n);
    for (int i = 0; i < n; i++) {
        const char *file = names[i];
        struct fx_frame f = fx_load(file);
        struct kw_buf out;
        kw_buf_init(&out);
        G_ASSERT(file, kw_describe_request(&out, f.data, f.len) == KW_OK);
        G_ASSERT(file, out.err == KW_OK && out.len > 0);
        kw_buf_release(&out);
        fx_free(&f);
    }
    free_names(names, n);
}

static void test_every_frame_is_listed_in_the_fixtures_readme(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/README.md", fx_dir());
    FILE *fp = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL(fp);
    static char text[64 * 1024];
    size_t len = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;
    text[len] = '\0';
    if (fp)
        fclose(fp);
    int n;
    char **names = list_frames(&n);
    for (int i = 0; i < n; i++) {
        char cell[300];
        snprintf(cell, sizeof(cell), "`%s`", names[i]);
        G_ASSERT(names[i], strstr(text, cell) != NULL);
    }
    free_names(names, n);
}

/* --- what each capture is known to hold ------------------------------------------------------- */

struct expect {
    const char *file;
    int32_t correlation_id;
    const char *client_id;
    void (*check)(const char *file, const struct golden *g, const struct expect *e);
    struct { const char *name, *version; } apiv;
    struct { int32_t n_topics; bool allow_auto; } meta;     /* n_topics -1: null (all) */
    struct { int32_t timeout_ms; } ipid;
    struct {
        int16_t acks;
        int magic, codec, records;
        int64_t producer_id;
        int16_t epoch;
        int32_t sequence;
        const char *key, *value;                            /* value NULL: value_len below */
        int32_t value_len;
    } prod;
};

static void check_api_versions(const char *file, const struct golden *g, const struct expect *e)
{
    const struct kw_api_versions_req *req = g->body;
    if (e->apiv.name == NULL) {
        /* v0-v2 bodies are empty: the frame is the header alone. */
        G_ASSERT(file, g->hv == 1 && g->f.len == 10 + (size_t)g->h.client_id.len);
        return;
    }
    G_ASSERT(file, g->hv == 2);                 /* flexible: request header v2 */
    G_ASSERT(file, kw_str_eq(req->client_software_name, e->apiv.name));
    G_ASSERT(file, kw_str_eq(req->client_software_version, e->apiv.version));
}

static void check_metadata(const char *file, const struct golden *g, const struct expect *e)
{
    const struct kw_metadata_req *req = g->body;
    G_ASSERT(file, req->n_topics == e->meta.n_topics);
    if (req->n_topics == 1)
        G_ASSERT(file, kw_str_eq(req->topics[0].name, "golden"));
    if (g->h.api_version >= 4)
        G_ASSERT(file, req->allow_auto_topic_creation == e->meta.allow_auto);
}

static void check_init_producer_id(const char *file, const struct golden *g,
                                   const struct expect *e)
{
    const struct kw_init_producer_id_req *req = g->body;
    G_ASSERT(file, req->transactional_id.len == -1);       /* idempotent, not transactional */
    G_ASSERT(file, req->transaction_timeout_ms == e->ipid.timeout_ms);
    G_ASSERT(file, req->producer_id == -1 && req->producer_epoch == -1);
}

static void check_produce(const char *file, const struct golden *g, const struct expect *e)
{
    const struct kw_produce_req *req = g->body;
    G_ASSERT(file, req->acks == e->prod.acks && req->timeout_ms == 30000);
    G_ASSERT(file, req->transactional_id.len == -1);
    G_ASSERT(file, req->n_topic_data == 1 && kw_str_eq(req->topic_data[0].name, "golden"));
    if (req->n_topic_data != 1 || req->topic_data[0].n_partition_data != 1)
        return;
    G_ASSERT(file, req->topic_data[0].partition_data[0].index == 0);
    struct walk w = walk_records(req->topic_data[0].partition_data[0].records);
    G_ASSERT(file, w.err == KW_OK && w.batches == 1);
    G_ASSERT(file, w.magic == e->prod.magic);
    G_ASSERT(file, w.records == e->prod.records);
    if (w.magic == 2) {
        G_ASSERT(file, kw_batch_codec(w.first.attributes) == e->prod.codec);
        G_ASSERT(file, w.first.producer_id == e->prod.producer_id);
        G_ASSERT(file, w.first.producer_epoch == e->prod.epoch);
        G_ASSERT(file, w.first.base_sequence == e->prod.sequence);
        G_ASSERT(file, w.first.records_count == e->prod.records);
    }
    G_ASSERT(file, w.key_len == (int32_t)strlen(e->prod.key) &&
                   memcmp(w.key, e->prod.key, strlen(e->prod.key)) == 0);
    if (e->prod.value != NULL)
        G_ASSERT(file, w.value_len == (int32_t)strlen(e->prod.value) &&
                       memcmp(w.value, e->prod.value, strlen(e->prod.value)) == 0);
    else
        G_ASSERT(file, w.value_len == e->prod.value_len);
}

#define LATER (-1)     /* any correlation id after the connection's first request */
#define APIV(n, v) .check = check_api_versions, .apiv = { n, v }
#define META(n, auto_) .check = check_metadata, .meta = { n, auto_ }
#define IPID(t) .check = check_init_producer_id, .ipid = { t }
#define PROD(...) .check = check_produce, .prod = { __VA_ARGS__ }
/* An uncompressed magic-2 batch. */
#define PLAIN2(acks, pid, epoch, seq, n, key, value) \
    PROD(acks, 2, 0, n, pid, epoch, seq, key, value)

static const struct expect expected[] = {
    /* librdkafka 2.0.2: correlation ids from 1, client id "rdkafka" (CLIENTS.md §2.1). Whether
     * a brokers-only Metadata goes first depends on timing, so later ids are not fixed. */
    { "api_versions_v3_request_librdkafka.hex", 1, "rdkafka", APIV("librdkafka", "2.0.2") },
    { "metadata_v4_request_librdkafka.hex", 2, "rdkafka", META(0, false) },
    { "metadata_v4_request_librdkafka_all.hex", 3, "rdkafka", META(-1, true) },
    { "metadata_v4_request_librdkafka_topic.hex", LATER, "rdkafka", META(1, true) },
    { "produce_v7_request_librdkafka.hex", LATER, "rdkafka",
      PLAIN2(-1, -1, -1, -1, 1, "key1", "hello") },
    { "produce_v7_request_librdkafka_gzip.hex", LATER, "rdkafka",
      PROD(-1, 2, 1, 2, -1, -1, -1, "a", NULL, 300) },
    { "init_producer_id_v4_request_librdkafka.hex", LATER, "rdkafka", IPID(-1) },
    { "produce_v7_request_librdkafka_idempotent.hex", LATER, "rdkafka",
      PLAIN2(-1, 1000, 0, 0, 2, "key1", "hello") },
    { "api_versions_v3_request_confluent_kafka_python.hex", 1, "rdkafka",
      APIV("confluent-kafka-python", "1.7.0-rdkafka-2.0.2") },
    { "produce_v7_request_confluent_kafka_python_lz4.hex", LATER, "rdkafka",
      PROD(-1, 2, 3, 3, 1000, 0, 0, "key0", NULL, 300) },
    { "produce_v7_request_confluent_kafka_python_zstd.hex", LATER, "rdkafka",
      PROD(-1, 2, 4, 3, 1000, 0, 0, "key0", NULL, 300) },
    /* kafka-python 2.0.2: correlation ids from 1 on each connection (§3.1). */
    { "api_versions_v0_request_kafka_python.hex", 1, "kafka-python-producer-1", APIV(NULL, NULL) },
    { "metadata_v0_request_kafka_python.hex", 2, "kafka-python-producer-1", META(0, true) },
    { "metadata_v1_request_kafka_python.hex", 3, "kafka-python-producer-1", META(-1, true) },
    { "metadata_v1_request_kafka_python_topic.hex", 1, "kafka-python-producer-1", META(1, true) },
    { "produce_v7_request_kafka_python.hex", 2, "kafka-python-producer-1",
      PLAIN2(1, -1, -1, -1, 1, "key1", "hello") },
    { "produce_v2_request_kafka_python.hex", 1, "kafka-python-producer-1",
      PROD(1, 1, 0, 1, 0, 0, 0, "key1", "hello") },
    { "produce_v1_request_kafka_python.hex", 1, "kafka-python-producer-1",
      PROD(1, 0, 0, 1, 0, 0, 0, "key1", "hello") },
    /* kafkajs 2.2.4: correlation ids from 0 (§0.8); not idempotent it still writes epoch 0
     * and sequence 0 beside producer id -1 (§0.7). */
    { "api_versions_v2_request_kafkajs.hex", 0, "kafkajs", APIV(NULL, NULL) },
    { "metadata_v6_request_kafkajs.hex", 1, "kafkajs", META(1, true) },
    { "produce_v7_request_kafkajs.hex", 2, "kafkajs", PLAIN2(-1, -1, 0, 0, 1, "key1", "hello") },
    { "init_producer_id_v1_request_kafkajs.hex", 2, "kafkajs", IPID(60000) },
    { "produce_v7_request_kafkajs_idempotent.hex", 4, "kafkajs",
      PLAIN2(-1, 1000, 0, 0, 1, "key1", "hello") },
};

static void test_each_capture_holds_what_its_client_is_known_to_send(void)
{
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const struct expect *e = &expected[i];
        struct golden g;
        golden_open(&g, e->file);
        G_ASSERT(e->file, decoded(&g));
        if (decoded(&g)) {
            if (e->correlation_id == LATER)
                G_ASSERT(e->file, g.h.correlation_id > 1);
            else
                G_ASSERT(e->file, g.h.correlation_id == e->correlation_id);
            G_ASSERT(e->file, kw_str_eq(g.h.client_id, e->client_id));
            e->check(e->file, &g, e);
        }
        golden_close(&g);
    }
}

/* kafka-python's magic-1 message set is checked with CRC-32 (not the batch's CRC-32C): its
 * stored CRC must match, and changing the timestamp, which v1 covers, must break it. */
static void test_kafka_python_magic_1_message_set_validates_with_crc_32(void)
{
    const char *file = "produce_v2_request_kafka_python.hex";
    struct golden g;
    golden_open(&g, file);
    G_ASSERT(file, decoded(&g));
    if (decoded(&g)) {
        const struct kw_produce_req *req = g.body;
        struct kw_bytes rec = req->topic_data[0].partition_data[0].records;
        int count = 0, magic = -1;
        G_ASSERT(file, kw_msgset_validate(rec.ptr, (size_t)rec.len, &count, &magic) == KW_OK);
        G_ASSERT(file, count == 1 && magic == 1);
        G_ASSERT(file, rec.len == 43 && rec.ptr[16] == 1);  /* offset, size, crc, then magic */
        uint8_t copy[43];
        memcpy(copy, rec.ptr, sizeof(copy));
        copy[25] ^= 0x80;                                   /* inside the timestamp */
        G_ASSERT(file, kw_msgset_validate(copy, sizeof(copy), &count, &magic) == KW_ERR_CRC);
    }
    golden_close(&g);
}

CU_TestInfo kwt_golden_tests[] = {
    { "every golden frame decodes and re-encodes byte for byte",
      test_every_frame_decodes_and_re_encodes_byte_for_byte },
    { "every batch in a golden Produce passes its CRC with the record count it claims",
      test_every_batch_passes_its_crc_with_the_count_it_claims },
    { "a flipped bit in any golden batch fails its CRC",
      test_a_flipped_bit_in_any_golden_batch_fails_its_crc },
    { "no proper prefix of a golden frame decodes",
      test_no_proper_prefix_of_a_golden_frame_decodes },
    { "every golden frame describes without error", test_every_frame_describes_without_error },
    { "every golden frame is listed in fixtures/README.md",
      test_every_frame_is_listed_in_the_fixtures_readme },
    { "each capture holds what its client is known to send",
      test_each_capture_holds_what_its_client_is_known_to_send },
    { "kafka-python's magic-1 message set validates with CRC-32",
      test_kafka_python_magic_1_message_set_validates_with_crc_32 },
    CU_TEST_INFO_NULL,
};
