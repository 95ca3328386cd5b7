/* Hostile clients against a mock cluster over real sockets: bad size prefixes, frames cut short
 * or left hanging, clients that never read, unknown keys and versions, bad CRCs, broken varints,
 * counts of a billion, and ten thousand connections that come and go. After each, a well-behaved
 * client on its own connection must still get correct answers, and every record accepted so far
 * must still be in the log, unchanged (mb_partition_records, compared before and after).
 * Where Kafka closes the connection the broker must close it without a word; where Kafka answers
 * with an error code (a corrupt batch), the connection must live on. Nothing here sleeps: drops
 * are awaited with deadlines, and where a test needs an order across connections it follows
 * from the broker reading bytes in the order its sockets got them (see the 100 MiB test). */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/proto/api_versions.h"
#include "lib/proto/apis.h"
#include "lib/proto/fetch.h"
#include "lib/proto/header.h"
#include "lib/proto/metadata.h"
#include "lib/proto/produce.h"
#include "mockbroker/internal.h"
#include "mockbroker/mockbroker.h"
#include "tests/kclient.h"

#define TOPIC "h"
#define MAX_LABELS 1024
/* Record timestamps follow their labels, so a record's content is a function of its label. */
#define TS_BASE 1000

/* One cluster, a good client that stays connected throughout, and what the log must hold. */
struct scene {
    struct mb_cluster *c;
    struct kc_conn good;
    int n;                          /* records accepted into TOPIC-0 so far */
    int labels[MAX_LABELS];         /* labels[offset]: the k<label>/v<label> record there */
    int next_label;
    int errors;                     /* ERROR lines the broker logged: each one is our bug */
};

static void count_errors(void *opaque, int level, const char *line)
{
    struct scene *s = opaque;
    if (level == MB_LOG_ERROR) {
        s->errors++;
        fprintf(stderr, "broker error: %s\n", line);
    }
}

static bool scene_open(struct scene *s)
{
    memset(s, 0, sizeof(*s));
    s->good.fd = -1;
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.seed = 9;
    cfg.log_level = MB_LOG_ERROR;
    cfg.log_cb = count_errors;
    cfg.log_opaque = s;
    char err[256] = "";
    s->c = mb_cluster_new(&cfg, err, sizeof(err));
    if (s->c == NULL) {
        fprintf(stderr, "mb_cluster_new: %s\n", err);
        return false;
    }
    if (mb_topic_create(s->c, TOPIC, 1, 1, err, sizeof(err)) == 0 &&
        kc_connect(&s->good, mb_broker_port(s->c, 1)) == 0)
        return true;
    kc_close(&s->good);
    mb_cluster_destroy(s->c);
    return false;
}

static void scene_close(struct scene *s)
{
    kc_close(&s->good);
    mb_cluster_destroy(s->c);
    CU_ASSERT_EQUAL(s->errors, 0);
}

/* A batch of n records labelled from `first` (see TS_BASE). */
static void batch_of(struct kw_buf *b, int first, int n)
{
    kc_batch(b, KW_CODEC_NONE, -1, -1, -1, first, n, TS_BASE + first);
}

/* Notes that the n records labelled from first went in at base. */
static bool accepted(struct scene *s, int64_t base, int first, int n)
{
    if (base != s->n || s->n + n > MAX_LABELS)
        return false;
    for (int i = 0; i < n; i++)
        s->labels[s->n++] = first + i;
    return true;
}

static bool record_is(const struct mb_record *r, int64_t offset, int label)
{
    char k[16], v[16], h[16];
    int kl = snprintf(k, sizeof(k), "k%d", label);
    int vl = snprintf(v, sizeof(v), "v%d", label);
    int hl = snprintf(h, sizeof(h), "%d", label);
    return r->offset == offset && r->timestamp == TS_BASE + label && r->key_len == kl &&
           memcmp(r->key, k, (size_t)kl) == 0 && r->value_len == vl &&
           memcmp(r->value, v, (size_t)vl) == 0 && r->n_headers == 1 &&
           strcmp(r->headers[0].key, "h") == 0 && r->headers[0].value_len == hl &&
           memcmp(r->headers[0].value, h, (size_t)hl) == 0;
}

static bool same_record(const struct mb_record *a, const struct mb_record *b)
{
    return a->offset == b->offset && a->timestamp == b->timestamp && a->key_len == b->key_len &&
           a->value_len == b->value_len && a->n_headers == b->n_headers &&
           (a->key_len <= 0 || memcmp(a->key, b->key, (size_t)a->key_len) == 0) &&
           (a->value_len <= 0 || memcmp(a->value, b->value, (size_t)a->value_len) == 0);
}

static struct mb_records *snapshot(struct scene *s)
{
    return mb_partition_records(s->c, TOPIC, 0, 0, 0);
}

/* The broker serves the good client: ApiVersions, a Produce of two more records, a Fetch of
 * the whole log; and the log holds exactly the records accepted, each as it was sent, with the
 * records of `before` (a snapshot taken earlier, or NULL) unchanged. `what` names the hostile
 * act just before, for the failure message. */
static void scene_check(struct scene *s, struct mb_records *before, const char *what)
{
    bool ok = true;
    struct kw_api_versions_req avq = { kw_str_c("kwtest-good"), kw_str_c("1.0") };
    struct kw_api_versions_resp av;
    int n_apis;
    kw_api_all(&n_apis);
    ok &= kc_call(&s->good, KW_API_API_VERSIONS, 3, &avq, &av) == KW_OK && av.error_code == 0 &&
          av.n_api_keys == n_apis;

    struct kw_buf b;
    kw_buf_init(&b);
    int first = s->next_label;
    s->next_label += 2;
    batch_of(&b, first, 2);
    int64_t base = -1;
    ok &= kc_produce(&s->good, 9, 1, TOPIC, 0, b.data, b.len, &base, NULL) == 0 &&
          accepted(s, base, first, 2);
    kw_buf_release(&b);

    struct kc_fetched f;
    int magic;
    int64_t lo, hi;
    ok &= kc_fetch(&s->good, 11, TOPIC, 0, 0, 4 << 20, 0, 1, -1, &f) == KW_OK &&
          f.error_code == 0 && f.high_watermark == s->n &&
          kc_count_records(f.records, f.len, &magic, &lo, &hi) == s->n && lo == 0 &&
          hi == s->n - 1;

    struct mb_records *now = snapshot(s);
    ok &= now != NULL && now->count == (size_t)s->n;
    for (size_t i = 0; ok && i < now->count; i++)
        ok &= record_is(&now->records[i], (int64_t)i, s->labels[i]);
    if (before) {
        ok &= now != NULL && before->count <= now->count;
        for (size_t i = 0; ok && i < before->count; i++)
            ok &= same_record(&before->records[i], &now->records[i]);
    }
    mb_records_destroy(now);
    if (!ok)
        fprintf(stderr, "after %s: the good client was not served right, or the log changed\n",
                what);
    CU_ASSERT(ok);
}

/* Conditions for mb_wait_until, which runs them on the broker's loop. */
static bool conns_down_to(struct mb_cluster *c, void *arg)
{
    int n = 0;
    struct mb__conn *conn;
    LIST_FOREACH(conn, &c->brokers[0].conns, link)
        n++;
    return n <= *(int *)arg;
}

static bool accepted_at_least(struct mb_cluster *c, void *arg)
{
    return c->next_conn_id >= *(uint64_t *)arg;
}

static bool read_accepted(struct mb_cluster *c, void *arg)
{
    *(uint64_t *)arg = c->next_conn_id;
    return true;
}

static bool fetches_seen(struct mb_cluster *c, void *arg)
{
    return mb_request_count(c, -1, KW_API_FETCH) >= *(uint64_t *)arg;
}

/* mb_wait_until wakes on request-driven state changes, and opening or closing a connection is
 * none: to see those, the good client pings between checks, each ping a change. Returns 0 once
 * cond holds, -1 at the deadline. */
static int wait_for(struct scene *s, mb_cond_cb cond, void *arg)
{
    int64_t deadline = kc_now_ms() + KC_WAIT_MS;
    struct kw_api_versions_req req = { kw_str_c("kwtest-good"), kw_str_c("1.0") };
    struct kw_api_versions_resp av;
    while (mb_wait_until(s->c, cond, arg, 0) != 0) {
        if (kc_now_ms() > deadline || kc_call(&s->good, KW_API_API_VERSIONS, 3, &req, &av) != 0)
            return -1;
    }
    return 0;
}

/* Sends bytes on a new connection and checks that the broker closes it without a byte in
 * answer, then that it serves the good client as before with the log unchanged. */
static void expect_dropped(struct scene *s, const void *bytes, size_t n, const char *what)
{
    struct mb_records *before = snapshot(s);
    struct kc_conn bad;
    CU_ASSERT_EQUAL(kc_connect(&bad, mb_broker_port(s->c, 1)), 0);
    CU_ASSERT_EQUAL(kc_send_raw(&bad, bytes, n, KC_WAIT_MS), (int64_t)n);
    int rc = kc_expect_closed(&bad, KC_WAIT_MS);
    if (rc != 0)
        fprintf(stderr, "%s: not dropped (%d)\n", what, rc);
    CU_ASSERT_EQUAL(rc, 0);
    kc_close(&bad);
    scene_check(s, before, what);
    mb_records_destroy(before);
}

/* A request frame by hand: size prefix, header (v2 with empty tags where the version is
 * flexible), then the body the caller appends; frame_end patches the size. */
static size_t frame_begin(struct kw_buf *b, int key, int version)
{
    size_t at = kw_reserve_i32(b);
    kw_put_i16(b, (int16_t)key);
    kw_put_i16(b, (int16_t)version);
    kw_put_i32(b, 77);
    kw_put_str(b, kw_str_c("hostile"));
    if (kw_req_header_version(key, version) >= 2)
        kw_put_uvarint(b, 0);
    return at;
}

static void frame_end(struct kw_buf *b, size_t at)
{
    kw_patch_i32(b, at, (int32_t)(b->len - at - 4));
}

/* A Produce frame of records for TOPIC-0. */
static void produce_frame(struct kw_buf *out, int version, int acks, const struct kw_buf *records)
{
    struct kw_produce_req_partition p = { .index = 0,
                                          .records = { records->data, (int32_t)records->len } };
    struct kw_produce_req_topic t = { .name = kw_str_c(TOPIC), .n_partition_data = 1,
                                      .partition_data = &p };
    struct kw_produce_req req = { .transactional_id = KW_STR_NULL, .acks = (int16_t)acks,
                                  .timeout_ms = 5000, .n_topic_data = 1, .topic_data = &t };
    kc_encode(out, KW_API_PRODUCE, version, 5, "hostile", &req);
}

/* --- sizes ----------------------------------------------------------------------------------- */

static void test_sizes_minus_one_zero_2gib_2gib_unsigned_and_100mib_plus_one_are_dropped(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    static const struct {
        uint8_t prefix[4];
        const char *what;
    } sizes[] = {
        { { 0xff, 0xff, 0xff, 0xff }, "size -1" },
        { { 0x00, 0x00, 0x00, 0x00 }, "size 0" },
        { { 0x00, 0x00, 0x00, 0x07 }, "size 7, below any header" },
        { { 0x7f, 0xff, 0xff, 0xff }, "size 0x7fffffff" },
        { { 0x80, 0x00, 0x00, 0x00 }, "size 0x80000000" },
        { { 0x06, 0x40, 0x00, 0x01 }, "size 104857601, one past socket.request.max.bytes" },
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        /* The prefix, then the start of a real request, as if it had been meant. */
        uint8_t frame[4 + 12] = { 0 };
        memcpy(frame, sizes[i].prefix, 4);
        frame[5] = KW_API_METADATA;
        frame[7] = 1;
        expect_dropped(&s, frame, sizeof(frame), sizes[i].what);
    }
    scene_close(&s);
}

static void test_a_size_of_exactly_100mib_is_waited_for_and_dropped_when_the_peer_leaves(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    struct mb_records *before = snapshot(&s);
    struct kc_conn big;
    CU_ASSERT_EQUAL(kc_connect(&big, mb_broker_port(s.c, 1)), 0);
    CU_ASSERT_EQUAL(kc_send_raw(&big, "\x06\x40\x00\x00\x00\x03\x00\x01", 8, KC_WAIT_MS), 8);
    scene_check(&s, before, "a 100 MiB size prefix");
    /* Those bytes were in the broker's socket before the good client sent its three requests,
     * each read a loop turn after the answer to the one before: the broker has read them, and
     * the connection is still open. The size is legal; the broker waits for the body. */
    CU_ASSERT_EQUAL(kc_expect_closed(&big, 0), KC_TIMEOUT);
    kc_close(&big);
    int one = 1;
    CU_ASSERT_EQUAL(wait_for(&s, conns_down_to, &one), 0);
    scene_check(&s, before, "leaving a 100 MiB frame unfinished");
    mb_records_destroy(before);
    scene_close(&s);
}

/* The process's virtual size in KiB (VmSize), or -1. */
static long vm_size_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmSize: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* A legal size prefix is a promise, not bytes: a frame gets memory as its bytes arrive, so
 * twenty peers that announce 90 MiB each and send 1 KiB reserve a little each, not 1.8 GiB. */
static void test_announced_90mib_frames_that_never_come_reserve_no_90mib(void)
{
    enum { PEERS = 20 };
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    struct mb_records *before = snapshot(&s);
    long vm0 = vm_size_kib();
    struct kc_conn peers[PEERS];
    static uint8_t frame[4 + 1024];
    uint32_t size = 90u << 20;
    frame[0] = (uint8_t)(size >> 24);
    frame[1] = (uint8_t)(size >> 16);
    frame[2] = (uint8_t)(size >> 8);
    frame[3] = (uint8_t)size;
    frame[5] = 3;                   /* Metadata v1, correlation id 7, then filler */
    frame[7] = 1;
    frame[11] = 7;
    for (int i = 0; i < PEERS; i++) {
        CU_ASSERT_EQUAL(kc_connect(&peers[i], mb_broker_port(s.c, 1)), 0);
        CU_ASSERT_EQUAL(kc_send_raw(&peers[i], frame, sizeof(frame), KC_WAIT_MS),
                        (int64_t)sizeof(frame));
    }
    /* The good client's requests are read after those bytes (see the 100 MiB test above). */
    scene_check(&s, before, "twenty 90 MiB frames announced");
    long vm1 = vm_size_kib();
    CU_ASSERT(vm0 > 0 && vm1 > 0);
    CU_ASSERT(vm1 - vm0 < 200 * 1024);
    if (vm1 - vm0 >= 200 * 1024)
        fprintf(stderr, "virtual size grew by %ld KiB\n", vm1 - vm0);
    for (int i = 0; i < PEERS; i++)
        kc_close(&peers[i]);
    int one = 1;
    CU_ASSERT_EQUAL(wait_for(&s, conns_down_to, &one), 0);
    scene_check(&s, before, "the peers gone");
    mb_records_destroy(before);
    scene_close(&s);
}

/* A frame that grows while it arrives (3.5 MiB, past the first 1 MiB of memory) is stored
 * whole, and a request pipelined right behind it is read from where the frame ended. */
static void test_a_3mib_produce_grown_as_it_arrives_is_stored_whole(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    CU_ASSERT_EQUAL(mb_topic_create(s.c, "huge", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(mb_topic_config_set(s.c, "huge", "max.message.bytes", "8388608", NULL, 0),
                    0);
    static uint8_t value[3500000];
    for (size_t i = 0; i < sizeof(value); i++)
        value[i] = (uint8_t)('a' + i * 7 % 26);
    struct kw_buf b, out;
    struct kw_batch_builder bb;
    kw_buf_init(&b);
    kw_buf_init(&out);
    kw_batch_builder_begin(&bb, &b, NULL, KW_CODEC_NONE, -1);
    kw_batch_builder_add(&bb, 1, KW_BYTES_NULL, (struct kw_bytes){ value, sizeof(value) }, NULL,
                         0);
    CU_ASSERT_EQUAL_FATAL(kw_batch_builder_finish(&bb), KW_OK);
    struct kc_conn k;
    CU_ASSERT_EQUAL_FATAL(kc_connect(&k, mb_broker_port(s.c, 1)), 0);
    struct kw_produce_req_partition part = { .index = 0,
                                             .records = { b.data, (int32_t)b.len } };
    struct kw_produce_req_topic topic = { .name = kw_str_c("huge"), .n_partition_data = 1,
                                          .partition_data = &part };
    struct kw_produce_req req = { .transactional_id = KW_STR_NULL, .acks = 1,
                                  .timeout_ms = 30000, .n_topic_data = 1, .topic_data = &topic };
    struct kw_metadata_req md = { .n_topics = -1 };
    int32_t pid = k.next_correlation_id++;
    kc_encode(&out, KW_API_PRODUCE, 9, pid, k.client_id, &req);
    int32_t mid = k.next_correlation_id++;
    kc_encode(&out, KW_API_METADATA, 1, mid, k.client_id, &md);
    CU_ASSERT_EQUAL_FATAL(out.err, KW_OK);
    CU_ASSERT_EQUAL(kc_send_raw(&k, out.data, out.len, KC_WAIT_MS), (int64_t)out.len);
    struct kw_produce_resp pr;
    struct kw_metadata_resp mr;
    CU_ASSERT_EQUAL_FATAL(kc_recv(&k, KW_API_PRODUCE, 9, pid, &pr, KC_WAIT_MS), KW_OK);
    CU_ASSERT_EQUAL(pr.responses[0].partition_responses[0].error_code, 0);
    CU_ASSERT_EQUAL(kc_recv(&k, KW_API_METADATA, 1, mid, &mr, KC_WAIT_MS), KW_OK);
    struct mb_records *r = mb_partition_records(s.c, "huge", 0, 0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(r->count == 1 && r->records[0].value_len == (int32_t)sizeof(value) &&
              memcmp(r->records[0].value, value, sizeof(value)) == 0);
    mb_records_destroy(r);
    kc_close(&k);
    kw_buf_release(&b);
    kw_buf_release(&out);
    scene_close(&s);
}

/* --- frames cut short ------------------------------------------------------------------------ */

static void test_a_produce_cut_short_at_every_byte_then_dropped_is_never_applied(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct mb_records *before = snapshot(&s);
    struct kw_buf records, frame;
    kw_buf_init(&records);
    kw_buf_init(&frame);
    batch_of(&records, 900, 3);
    produce_frame(&frame, 9, 1, &records);
    CU_ASSERT_EQUAL_FATAL(frame.err, KW_OK);
    for (size_t cut = 1; cut < frame.len; cut++) {
        struct kc_conn bad;
        CU_ASSERT_EQUAL(kc_connect(&bad, mb_broker_port(s.c, 1)), 0);
        CU_ASSERT_EQUAL(kc_send_raw(&bad, frame.data, cut, KC_WAIT_MS), (int64_t)cut);
        kc_close(&bad);
    }
    int one = 1;
    CU_ASSERT_EQUAL(wait_for(&s, conns_down_to, &one), 0);
    CU_ASSERT_EQUAL(mb_request_count(s.c, -1, KW_API_PRODUCE), (uint64_t)s.n / 2);
    scene_check(&s, before, "produce frames cut at every byte");
    mb_records_destroy(before);
    kw_buf_release(&records);
    kw_buf_release(&frame);
    scene_close(&s);
}

static void test_a_frame_that_stops_midway_waits_while_others_are_served_then_completes(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct kw_buf records, frame;
    kw_buf_init(&records);
    kw_buf_init(&frame);
    int first = 500;
    batch_of(&records, first, 3);
    produce_frame(&frame, 9, 1, &records);
    struct kc_conn slow;
    CU_ASSERT_EQUAL(kc_connect(&slow, mb_broker_port(s.c, 1)), 0);
    size_t half = frame.len / 2;
    CU_ASSERT_EQUAL(kc_send_raw(&slow, frame.data, half, KC_WAIT_MS), (int64_t)half);
    struct mb_records *before = snapshot(&s);
    scene_check(&s, before, "half a frame");
    scene_check(&s, before, "half a frame, twice");
    /* The rest a byte at a time: each may arrive alone. */
    for (size_t i = half; i < frame.len; i++)
        CU_ASSERT_EQUAL(kc_send_raw(&slow, frame.data + i, 1, KC_WAIT_MS), 1);
    const uint8_t *answer;
    size_t len;
    CU_ASSERT_EQUAL(kc_read_frame(&slow, KC_WAIT_MS, &answer, &len), KW_OK);
    struct kw_produce_resp resp;
    struct kw_reader r;
    struct kw_resp_header h;
    struct kw_arena a;
    kw_arena_init(&a);
    kw_reader_init(&r, answer, len);
    kw_resp_header_decode(&r, kw_resp_header_version(KW_API_PRODUCE, 9), &h);
    kw_produce_resp_decode(&r, 9, &resp, &a);
    bool ok = r.err == KW_OK && h.correlation_id == 5 && resp.n_responses == 1 &&
              resp.responses[0].n_partition_responses == 1 &&
              resp.responses[0].partition_responses[0].error_code == 0;
    CU_ASSERT(ok);
    CU_ASSERT(ok && accepted(&s, resp.responses[0].partition_responses[0].base_offset, first, 3));
    kw_arena_release(&a);
    scene_check(&s, before, "a frame completed a byte at a time");
    mb_records_destroy(before);
    kc_close(&slow);
    kw_buf_release(&records);
    kw_buf_release(&frame);
    scene_close(&s);
}

static void test_a_good_produce_pipelined_before_garbage_is_applied_and_then_dropped(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct mb_records *before = snapshot(&s);
    struct kw_buf records, stream;
    kw_buf_init(&records);
    kw_buf_init(&stream);
    int first = 700;
    batch_of(&records, first, 3);
    produce_frame(&stream, 9, 1, &records);
    size_t at = frame_begin(&stream, 999, 0);
    frame_end(&stream, at);
    struct kc_conn bad;
    CU_ASSERT_EQUAL(kc_connect(&bad, mb_broker_port(s.c, 1)), 0);
    CU_ASSERT_EQUAL(kc_send_raw(&bad, stream.data, stream.len, KC_WAIT_MS), (int64_t)stream.len);
    /* The Produce is applied; whether its answer beats the close is Kafka's race too. */
    int64_t end = s.n + 3;
    CU_ASSERT_EQUAL(mb_wait_offset(s.c, TOPIC, 0, end, KC_WAIT_MS), 0);
    CU_ASSERT(accepted(&s, end - 3, first, 3));
    int rc;
    do
        rc = kc_expect_closed(&bad, KC_WAIT_MS);
    while (rc == 1);            /* the Produce answer, if it came */
    CU_ASSERT_EQUAL(rc, 0);
    kc_close(&bad);
    scene_check(&s, before, "a Produce followed by API key 999");
    mb_records_destroy(before);
    kw_buf_release(&records);
    kw_buf_release(&stream);
    scene_close(&s);
}

/* --- a client that never reads --------------------------------------------------------------- */

static void test_a_client_that_never_reads_its_answers_neither_stalls_others_nor_grows_the_broker(
    void)
{
    enum { N = 40 };
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    static uint8_t value[1000000];
    memset(value, 'x', sizeof(value));
    struct kw_buf b;
    struct kw_batch_builder bb;
    kw_buf_init(&b);
    kw_batch_builder_begin(&bb, &b, NULL, KW_CODEC_NONE, -1);
    kw_batch_builder_add(&bb, 1, KW_BYTES_NULL, (struct kw_bytes){ value, sizeof(value) }, NULL,
                         0);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_OK);
    CU_ASSERT_EQUAL(mb_topic_create(s.c, "big", 1, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(kc_produce(&s.good, 9, 1, "big", 0, b.data, b.len, NULL, NULL), 0);
    kw_buf_release(&b);

    struct kc_conn deaf;
    CU_ASSERT_EQUAL(kc_connect(&deaf, mb_broker_port(s.c, 1)), 0);
    int small = 64 << 10;
    setsockopt(deaf.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    uint64_t fetches = mb_request_count(s.c, -1, KW_API_FETCH);
    for (int i = 0; i < N; i++)
        CU_ASSERT(kc_fetch_send(&deaf, 11, "big", 0, 0, 2 << 20, 0, 1) > 0);
    uint64_t some = fetches + 8;
    CU_ASSERT_EQUAL(mb_wait_until(s.c, fetches_seen, &some, KC_WAIT_MS), 0);
    struct mb_records *before = snapshot(&s);
    for (int i = 0; i < 3; i++)
        scene_check(&s, before, "a client not reading 40 MB of answers");
    /* 40 MB of answers were asked for; the broker stopped reading the requests well short of
     * holding them all (it reads on only as the client drains). */
    CU_ASSERT(mb_request_count(s.c, -1, KW_API_FETCH) < fetches + 3 + N);
    /* It does answer, in order, once the client reads. */
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch_recv(&deaf, 11, 1, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len >= sizeof(value));
    CU_ASSERT_EQUAL(kc_fetch_recv(&deaf, 11, 2, KC_WAIT_MS, &f), KW_OK);
    /* Then it leaves with most answers unread. */
    kc_close(&deaf);
    int one = 1;
    CU_ASSERT_EQUAL(wait_for(&s, conns_down_to, &one), 0);
    scene_check(&s, before, "a client leaving with answers unread");
    mb_records_destroy(before);
    scene_close(&s);
}

/* --- keys and versions ----------------------------------------------------------------------- */

static void test_unknown_api_keys_and_versions_are_dropped(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    static const struct {
        int key, version;
        const char *what;
    } cases[] = {
        { 999, 0, "API key 999" },
        { -1, 0, "API key -1" },
        { 32767, 0, "API key 32767" },
        { 127, 0, "API key 127, the end of our table" },
        { 17, 0, "SaslHandshake, which Kafka has and we do not" },
        { KW_API_PRODUCE, 12, "Produce v12" },
        { KW_API_PRODUCE, -1, "Produce v-1" },
        { KW_API_FETCH, 13, "Fetch v13" },
        { KW_API_METADATA, 32767, "Metadata v32767" },
        { KW_API_LIST_OFFSETS, -32768, "ListOffsets v-32768" },
        { KW_API_INIT_PRODUCER_ID, 5, "InitProducerId v5" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        size_t at = frame_begin(&b, cases[i].key, cases[i].version);
        kw_put_i32(&b, 0);
        frame_end(&b, at);
        expect_dropped(&s, b.data, b.len, cases[i].what);
        kw_buf_release(&b);
    }
    scene_close(&s);
}

static void test_api_versions_beyond_ours_is_answered_at_v0_and_the_connection_lives(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(s.c, 1)), 0);
    static const int versions[] = { 4, 127, 32767 };
    for (size_t i = 0; i < 3; i++) {
        /* A future client's request: flexible header and body we cannot know. */
        struct kw_buf b;
        kw_buf_init(&b);
        size_t at = kw_reserve_i32(&b);
        kw_put_i16(&b, KW_API_API_VERSIONS);
        kw_put_i16(&b, (int16_t)versions[i]);
        kw_put_i32(&b, 40 + (int32_t)i);
        kw_put_str(&b, kw_str_c("future"));
        kw_put_uvarint(&b, 0);
        kw_put_raw(&b, "\x05" "abcd" "\x02" "1" "\x00", 8);
        frame_end(&b, at);
        CU_ASSERT_EQUAL(kc_send_raw(&k, b.data, b.len, KC_WAIT_MS), (int64_t)b.len);
        kw_buf_release(&b);
        struct kw_api_versions_resp av;
        CU_ASSERT_EQUAL(kc_recv(&k, KW_API_API_VERSIONS, 0, 40 + (int32_t)i, &av, KC_WAIT_MS),
                        KW_OK);
        CU_ASSERT_EQUAL(av.error_code, KW_EC_UNSUPPORTED_VERSION);
        bool found = false;
        for (int32_t j = 0; j < av.n_api_keys; j++)
            found |= av.api_keys[j].api_key == KW_API_API_VERSIONS &&
                     av.api_keys[j].max_version == 3;
        CU_ASSERT(found);
    }
    struct kw_api_versions_req req = { kw_str_c("kwtest"), kw_str_c("1") };
    struct kw_api_versions_resp av;
    k.next_correlation_id = 50;
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_API_VERSIONS, 3, &req, &av), KW_OK);
    CU_ASSERT_EQUAL(av.error_code, 0);
    kc_close(&k);
    scene_check(&s, NULL, "ApiVersions from the future");
    scene_close(&s);
}

/* --- corrupt records ------------------------------------------------------------------------- */

/* Produces on k and returns the partition's error code (or a negative kc_result). */
static int produce_on(struct kc_conn *k, int version, int acks, const struct kw_buf *records)
{
    int64_t base = -1;
    return kc_produce(k, version, acks, TOPIC, 0, records->data, records->len, &base, NULL);
}

static void test_batches_with_bad_crcs_are_refused_as_corrupt_and_the_connection_lives(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct mb_records *before = snapshot(&s);
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(s.c, 1)), 0);
    static const int versions[] = { 3, 7, 9, 11 };
    for (size_t i = 0; i < 4; i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        batch_of(&b, 800, 2);
        b.data[17] ^= 0x01;                     /* the stored CRC */
        CU_ASSERT_EQUAL(produce_on(&k, versions[i], 1, &b), KW_EC_CORRUPT_MESSAGE);
        b.data[17] ^= 0x01;
        b.data[b.len - 3] ^= 0x20;              /* a byte of the last record it covers */
        CU_ASSERT_EQUAL(produce_on(&k, versions[i], -1, &b), KW_EC_CORRUPT_MESSAGE);
        kw_buf_release(&b);
    }
    /* Legacy message sets carry a CRC-32 per message. */
    for (int magic = 0; magic <= 1; magic++) {
        struct kw_buf b;
        kw_buf_init(&b);
        kc_message(&b, magic, 1234, "key", "value");
        b.data[12] ^= 0x80;                     /* offset(8) size(4), then the CRC */
        CU_ASSERT_EQUAL(produce_on(&k, magic ? 2 : 0, 1, &b), KW_EC_CORRUPT_MESSAGE);
        kw_buf_release(&b);
    }
    scene_check(&s, before, "batches with bad CRCs");
    /* The same connection goes on producing. */
    struct kw_buf good;
    kw_buf_init(&good);
    int first = s.next_label++;
    batch_of(&good, first, 1);
    int64_t base = -1;
    CU_ASSERT_EQUAL(kc_produce(&k, 9, 1, TOPIC, 0, good.data, good.len, &base, NULL), 0);
    CU_ASSERT(accepted(&s, base, first, 1));
    kw_buf_release(&good);
    /* With acks=0 the only way to say so is to close (as Kafka does). */
    struct kw_buf b;
    kw_buf_init(&b);
    batch_of(&b, 850, 2);
    b.data[18] ^= 0x10;
    CU_ASSERT_EQUAL(produce_on(&k, 9, 0, &b), 0);
    CU_ASSERT_EQUAL(kc_expect_closed(&k, KC_WAIT_MS), 0);
    kw_buf_release(&b);
    kc_close(&k);
    scene_check(&s, before, "an acks=0 batch with a bad CRC");
    mb_records_destroy(before);
    scene_close(&s);
}

/* --- varints --------------------------------------------------------------------------------- */

static void test_invalid_varints_in_headers_and_bodies_are_dropped(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    static const struct {
        const char *bytes;
        size_t n;
        const char *what;
    } tails[] = {
        { "\xff\xff\xff\xff\xff\x01", 6, "header tag count: six bytes" },
        { "\xff\xff\xff\xff\x7f", 5, "header tag count: past 32 bits" },
        { "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 10, "header tag count: ten continuations" },
        { "\x80", 1, "header tag count: cut after a continuation" },
    };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        /* Metadata v9: header v2, whose tag count is the first varint read. */
        struct kw_buf b;
        kw_buf_init(&b);
        size_t at = kw_reserve_i32(&b);
        kw_put_i16(&b, KW_API_METADATA);
        kw_put_i16(&b, 9);
        kw_put_i32(&b, 1);
        kw_put_str(&b, kw_str_c("hostile"));
        kw_put_raw(&b, tails[i].bytes, tails[i].n);
        frame_end(&b, at);
        expect_dropped(&s, b.data, b.len, tails[i].what);
        kw_buf_release(&b);
    }
    static const struct {
        const char *bytes;
        size_t n;
        const char *what;
    } names[] = {
        { "\x80\x80\x80\x80\x80\x01", 6, "compact string length: six bytes" },
        { "\xff\xff\xff\xff\x1f", 5, "compact string length: past 32 bits" },
        { "\xff\xff\xff\xff\x0f", 5, "compact string length: 4 GiB" },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        size_t at = frame_begin(&b, KW_API_METADATA, 9);
        kw_put_uvarint(&b, 2);                  /* one topic */
        kw_put_raw(&b, names[i].bytes, names[i].n);
        kw_put_raw(&b, "abcdefgh", 8);
        frame_end(&b, at);
        expect_dropped(&s, b.data, b.len, names[i].what);
        kw_buf_release(&b);
    }
    scene_close(&s);
}

static void test_invalid_varints_and_counts_inside_a_batch_are_refused_per_partition(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct mb_records *before = snapshot(&s);
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(s.c, 1)), 0);
    /* The first record starts at 61: length, attributes, timestamp delta, offset delta, then
     * the key length. Each edit gets a good CRC, so only the structure is wrong. */
    static const struct {
        size_t at;
        const char *bytes;
        size_t n;
        const char *what;
    } edits[] = {
        { 61, "\xff\xff\xff\xff\xff\xff", 6, "record length: overlong varint" },
        { 61, "\x01", 1, "record length: too short for its fields" },
        { 61, "\x7f", 1, "record length: past the batch" },
        { 63, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10, "timestamp delta: overlong varlong" },
        { 65, "\x03", 1, "key length -2" },
        { 57, "\x3b\x9a\xca\x00", 4, "record count 1e9" },
        { 57, "\x80\x00\x00\x00", 4, "record count -2^31" },
        { 23, "\x7f\xff\xff\xff", 4, "last offset delta 2^31-1" },
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        struct kw_buf b;
        kw_buf_init(&b);
        batch_of(&b, 810, 2);
        CU_ASSERT_FATAL(b.len > edits[i].at + edits[i].n);
        memcpy(b.data + edits[i].at, edits[i].bytes, edits[i].n);
        kc_batch_fix_crc(b.data, b.len);
        int ec = produce_on(&k, 9, 1, &b);
        if (ec != KW_EC_CORRUPT_MESSAGE && ec != KW_EC_INVALID_RECORD)
            fprintf(stderr, "%s: error code %d\n", edits[i].what, ec);
        CU_ASSERT(ec == KW_EC_CORRUPT_MESSAGE || ec == KW_EC_INVALID_RECORD);
        kw_buf_release(&b);
    }
    kc_close(&k);
    scene_check(&s, before, "batches with broken records");
    mb_records_destroy(before);
    scene_close(&s);
}

/* --- counts ---------------------------------------------------------------------------------- */

static void test_arrays_claiming_a_billion_elements_are_dropped_without_allocating_them(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct kw_buf b;
    kw_buf_init(&b);
    int64_t t0 = kc_now_ms();

    size_t at = frame_begin(&b, KW_API_PRODUCE, 3);
    kw_put_i16(&b, -1);                         /* transactional id */
    kw_put_i16(&b, 1);
    kw_put_i32(&b, 5000);
    kw_put_i32(&b, 1000000000);                 /* topics */
    kw_put_str(&b, kw_str_c(TOPIC));
    frame_end(&b, at);
    expect_dropped(&s, b.data, b.len, "Produce v3 with a billion topics");

    kw_buf_reset(&b);
    at = frame_begin(&b, KW_API_PRODUCE, 3);
    kw_put_i16(&b, -1);
    kw_put_i16(&b, 1);
    kw_put_i32(&b, 5000);
    kw_put_i32(&b, 1);
    kw_put_str(&b, kw_str_c(TOPIC));
    kw_put_i32(&b, 1000000000);                 /* partitions */
    kw_put_i32(&b, 0);
    frame_end(&b, at);
    expect_dropped(&s, b.data, b.len, "Produce v3 with a billion partitions");

    kw_buf_reset(&b);
    at = frame_begin(&b, KW_API_PRODUCE, 9);
    kw_put_uvarint(&b, 0);                      /* transactional id: null */
    kw_put_i16(&b, 1);
    kw_put_i32(&b, 5000);
    kw_put_uvarint(&b, 1000000001);             /* topics, compact */
    kw_put_compact_str(&b, kw_str_c(TOPIC));
    frame_end(&b, at);
    expect_dropped(&s, b.data, b.len, "Produce v9 with a billion topics");

    static const int32_t counts[] = { INT32_MAX, -2, INT32_MIN };
    for (size_t i = 0; i < 3; i++) {
        kw_buf_reset(&b);
        at = frame_begin(&b, KW_API_METADATA, 1);
        kw_put_i32(&b, counts[i]);
        kw_put_str(&b, kw_str_c(TOPIC));
        frame_end(&b, at);
        expect_dropped(&s, b.data, b.len, "Metadata v1 with a count of 2^31-1, -2 or -2^31");
    }

    kw_buf_reset(&b);
    at = frame_begin(&b, KW_API_METADATA, 9);
    kw_put_raw(&b, "\xff\xff\xff\xff\x0f", 5);  /* topics: 2^32-2, compact */
    kw_put_compact_str(&b, kw_str_c(TOPIC));
    frame_end(&b, at);
    expect_dropped(&s, b.data, b.len, "Metadata v9 with 2^32-2 topics");

    kw_buf_reset(&b);
    at = kw_reserve_i32(&b);
    kw_put_i16(&b, KW_API_METADATA);
    kw_put_i16(&b, 9);
    kw_put_i32(&b, 1);
    kw_put_str(&b, kw_str_c("hostile"));
    kw_put_uvarint(&b, 1000000000);             /* header tagged fields */
    kw_put_uvarint(&b, 0);
    kw_put_uvarint(&b, 1);
    kw_put_i8(&b, 0);
    frame_end(&b, at);
    expect_dropped(&s, b.data, b.len, "a header with a billion tagged fields");

    kw_buf_reset(&b);
    at = frame_begin(&b, KW_API_API_VERSIONS, 3);
    kw_put_compact_str(&b, kw_str_c("x"));
    kw_put_compact_str(&b, kw_str_c("1"));
    kw_put_uvarint(&b, 1000000000);             /* body tagged fields */
    kw_put_uvarint(&b, 7);
    kw_put_uvarint(&b, 0);
    frame_end(&b, at);
    expect_dropped(&s, b.data, b.len, "ApiVersions v3 with a billion tagged fields");

    kw_buf_release(&b);
    /* Each refusal took no longer than reading a few bytes: nothing walked a billion. */
    CU_ASSERT(kc_now_ms() - t0 < KC_WAIT_MS);
    scene_close(&s);
}

/* --- many connections ------------------------------------------------------------------------ */

/* 10,000 by default; KWT_HOSTILE_CONNS scales it (e.g. down under a slow tool). The count that
 * ran is asserted against the broker's own count of accepted connections. */
static int hostile_conns(void)
{
    const char *e = getenv("KWT_HOSTILE_CONNS");
    int n = e ? atoi(e) : 10000;
    return n > 0 ? n : 10000;
}

/* Opens n connections to port at once, without blocking: returns how many connected; fds[i] is
 * -1 for one that did not. */
static int connect_many(int port, int *fds, int n)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port);
    struct pollfd pfd[256];
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
            errno != EINPROGRESS) {
            close(fds[i]);
            fds[i] = -1;
        }
        pfd[i] = (struct pollfd){ fds[i], POLLOUT, 0 };
    }
    int64_t deadline = kc_now_ms() + KC_WAIT_MS;
    for (int left = n; left > 0 && kc_now_ms() < deadline;) {
        left = 0;
        for (int i = 0; i < n; i++)
            left += pfd[i].fd >= 0 && !(pfd[i].revents & (POLLOUT | POLLERR | POLLHUP));
        if (left)
            poll(pfd, (nfds_t)n, (int)(deadline - kc_now_ms()));
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int err = -1;
        socklen_t len = sizeof(err);
        if (fds[i] >= 0 && (pfd[i].revents & POLLOUT) &&
            getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
            ok++;
        } else if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    return ok;
}

static void test_ten_thousand_connections_opened_and_dropped_leave_none_behind(void)
{
    enum { BATCH = 100 };           /* below the listen backlog of 128 */
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct mb_records *before = snapshot(&s);
    int total = hostile_conns(), opened = 0;
    uint64_t first_id = 0;      /* connections the broker has accepted before ours */
    mb_wait_until(s.c, read_accepted, &first_id, KC_WAIT_MS);
    struct kw_buf req;
    kw_buf_init(&req);
    struct kw_api_versions_req avq = { kw_str_c("drop"), kw_str_c("1") };
    kc_encode(&req, KW_API_API_VERSIONS, 3, 1, "drop", &avq);
    for (int done = 0; done < total; done += BATCH) {
        int fds[BATCH];
        int n = total - done < BATCH ? total - done : BATCH;
        opened += connect_many(mb_broker_port(s.c, 1), fds, n);
        for (int i = 0; i < n; i++) {
            if (fds[i] < 0)
                continue;
            switch ((done + i) % 4) {
            case 0:                 /* silent, then an orderly close */
                break;
            case 1: {               /* a reset */
                struct linger lg = { 1, 0 };
                setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
                break;
            }
            case 2:                 /* half a size prefix */
                (void)send(fds[i], "\0\0", 2, MSG_NOSIGNAL);
                break;
            case 3:                 /* a whole request, and gone before the answer */
                (void)send(fds[i], req.data, req.len, MSG_NOSIGNAL);
                break;
            }
            close(fds[i]);
        }
        /* Let the broker catch up before the next batch, so the backlog never overflows. */
        uint64_t want = first_id + (uint64_t)opened;
        if (wait_for(&s, accepted_at_least, &want) != 0)
            break;
    }
    kw_buf_release(&req);
    CU_ASSERT_EQUAL(opened, total);
    /* The broker's own count: every connection was accepted, and every one but the good
     * client's is gone. */
    uint64_t all = first_id + (uint64_t)total;
    CU_ASSERT_EQUAL(wait_for(&s, accepted_at_least, &all), 0);
    int one = 1;
    CU_ASSERT_EQUAL(wait_for(&s, conns_down_to, &one), 0);
    scene_check(&s, before, "10,000 connections");
    mb_records_destroy(before);
    scene_close(&s);
}

/* --- one stream, odd pieces ------------------------------------------------------------------ */

static void test_a_pipelined_stream_cut_into_odd_pieces_is_answered_in_order_and_stored_intact(
    void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct mb_records *before = snapshot(&s);
    CU_ASSERT_EQUAL(mb_topic_create(s.c, "wide", 1, 1, NULL, 0), 0);

    /* Small requests around a Produce bigger than the broker's 64 KiB read buffer. */
    static uint8_t wide[200000];
    for (size_t i = 0; i < sizeof(wide); i++)
        wide[i] = (uint8_t)(i * 7 + i / 251);
    struct kw_buf stream, rec, big;
    kw_buf_init(&stream);
    kw_buf_init(&rec);
    kw_buf_init(&big);
    struct kw_batch_builder bb;
    kw_batch_builder_begin(&bb, &big, NULL, KW_CODEC_NONE, -1);
    kw_batch_builder_add(&bb, 5, KW_BYTES_NULL, (struct kw_bytes){ wide, sizeof(wide) }, NULL, 0);
    CU_ASSERT_EQUAL(kw_batch_builder_finish(&bb), KW_OK);
    int first = 600;
    batch_of(&rec, first, 4);

    struct kw_api_versions_req avq = { kw_str_c("pieces"), kw_str_c("1") };
    struct kw_metadata_req_topic mt = { .name = kw_str_c(TOPIC) };
    struct kw_metadata_req mdq = { .topics = &mt, .n_topics = 1 };
    struct kw_produce_req_partition pp = { .index = 0, .records = { rec.data, (int32_t)rec.len } };
    struct kw_produce_req_topic pt = { .name = kw_str_c(TOPIC), .n_partition_data = 1,
                                       .partition_data = &pp };
    struct kw_produce_req pq = { .transactional_id = KW_STR_NULL, .acks = 1, .timeout_ms = 5000,
                                 .n_topic_data = 1, .topic_data = &pt };
    struct kw_produce_req_partition wp = { .index = 0, .records = { big.data, (int32_t)big.len } };
    struct kw_produce_req_topic wt = { .name = kw_str_c("wide"), .n_partition_data = 1,
                                       .partition_data = &wp };
    struct kw_produce_req wq = { .transactional_id = KW_STR_NULL, .acks = 1, .timeout_ms = 5000,
                                 .n_topic_data = 1, .topic_data = &wt };
    static const struct {
        int key, version;
    } order[] = {
        { KW_API_API_VERSIONS, 3 }, { KW_API_METADATA, 9 }, { KW_API_PRODUCE, 9 },
        { KW_API_PRODUCE, 7 },      { KW_API_METADATA, 1 }, { KW_API_API_VERSIONS, 0 },
    };
    const void *bodies[] = { &avq, &mdq, &pq, &wq, &mdq, &avq };
    for (int i = 0; i < 6; i++)
        kc_encode(&stream, order[i].key, order[i].version, 100 + i, "pieces", bodies[i]);
    CU_ASSERT_EQUAL_FATAL(stream.err, KW_OK);

    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(s.c, 1)), 0);
    static const size_t pieces[] = { 1, 2, 3, 5, 7, 11, 13, 4093, 1, 65537, 3, 17 };
    for (size_t at = 0, i = 0; at < stream.len; i++) {
        size_t n = pieces[i % (sizeof(pieces) / sizeof(pieces[0]))];
        n = n < stream.len - at ? n : stream.len - at;
        CU_ASSERT_EQUAL(kc_send_raw(&k, stream.data + at, n, KC_WAIT_MS), (int64_t)n);
        at += n;
    }
    for (int i = 0; i < 6; i++) {
        struct kw_produce_resp pr;
        struct kw_metadata_resp mr;
        struct kw_api_versions_resp ar;
        void *resp = order[i].key == KW_API_PRODUCE    ? (void *)&pr
                     : order[i].key == KW_API_METADATA ? (void *)&mr
                                                       : (void *)&ar;
        int rc = kc_recv(&k, order[i].key, order[i].version, 100 + i, resp, KC_WAIT_MS);
        CU_ASSERT_EQUAL(rc, KW_OK);
        if (rc != KW_OK)
            break;
        if (order[i].key == KW_API_PRODUCE) {
            CU_ASSERT(pr.n_responses == 1 && pr.responses[0].n_partition_responses == 1);
            const struct kw_produce_resp_partition *o = &pr.responses[0].partition_responses[0];
            CU_ASSERT_EQUAL(o->error_code, 0);
            bool ok = order[i].version == 9 ? accepted(&s, o->base_offset, first, 4)
                                            : o->base_offset == 0;
            CU_ASSERT(ok);
        } else if (order[i].key == KW_API_METADATA) {
            CU_ASSERT(mr.n_topics == 1 && mr.topics[0].error_code == 0);
        } else {
            CU_ASSERT_EQUAL(ar.error_code, 0);
        }
    }
    struct mb_records *w = mb_partition_records(s.c, "wide", 0, 0, 0);
    CU_ASSERT(w && w->count == 1 && w->records[0].value_len == (int32_t)sizeof(wide) &&
              memcmp(w->records[0].value, wide, sizeof(wide)) == 0);
    mb_records_destroy(w);
    kc_close(&k);
    scene_check(&s, before, "a stream in odd pieces");
    mb_records_destroy(before);
    kw_buf_release(&stream);
    kw_buf_release(&rec);
    kw_buf_release(&big);
    scene_close(&s);
}

static void test_requests_pipelined_behind_a_held_long_poll_beyond_the_read_buffer_all_answer(
    void)
{
    enum { N = 4000 };          /* about 100 KB of requests: more than one read buffer */
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct kw_buf stream;
    kw_buf_init(&stream);
    struct kw_fetch_req_partition fp = { .partition = 0, .current_leader_epoch = -1,
                                         .fetch_offset = s.n, .last_fetched_epoch = -1,
                                         .log_start_offset = -1, .partition_max_bytes = 1 << 20 };
    struct kw_fetch_req_topic ft = { .topic = kw_str_c(TOPIC), .n_partitions = 1,
                                     .partitions = &fp };
    struct kw_fetch_req fq = { .cluster_id = KW_STR_NULL, .replica_id = -1, .max_wait_ms = 60000,
                               .min_bytes = 1, .max_bytes = 1 << 20, .session_epoch = -1,
                               .n_topics = 1, .topics = &ft, .rack_id = kw_str_c("") };
    kc_encode(&stream, KW_API_FETCH, 11, 1, "pipe", &fq);
    struct kw_api_versions_req avq = { KW_STR_NULL, KW_STR_NULL };
    for (int i = 0; i < N; i++)
        kc_encode(&stream, KW_API_API_VERSIONS, 0, 2 + i, "pipe", &avq);
    CU_ASSERT_EQUAL_FATAL(stream.err, KW_OK);
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(s.c, 1)), 0);
    uint64_t fetches = mb_request_count(s.c, -1, KW_API_FETCH) + 1;
    CU_ASSERT_EQUAL(kc_send_raw(&k, stream.data, stream.len, KC_WAIT_MS), (int64_t)stream.len);
    CU_ASSERT_EQUAL(mb_wait_until(s.c, fetches_seen, &fetches, KC_WAIT_MS), 0);
    /* The good client's Produce ends the long poll; everything behind it then comes, in order. */
    struct mb_records *before = snapshot(&s);
    scene_check(&s, before, "requests behind a held long poll");
    struct kc_fetched f;
    CU_ASSERT_EQUAL(kc_fetch_recv(&k, 11, 1, KC_WAIT_MS, &f), KW_OK);
    CU_ASSERT(f.error_code == 0 && f.len > 0);
    int answered = 0;
    for (int i = 0; i < N; i++) {
        struct kw_api_versions_resp av;
        if (kc_recv(&k, KW_API_API_VERSIONS, 0, 2 + i, &av, KC_WAIT_MS) != KW_OK ||
            av.error_code != 0)
            break;
        answered++;
    }
    CU_ASSERT_EQUAL(answered, N);
    kc_close(&k);
    scene_check(&s, before, "requests behind a held long poll, answered");
    mb_records_destroy(before);
    kw_buf_release(&stream);
    scene_close(&s);
}

/* --- client ids with NUL bytes ---------------------------------------------------------------- */

/* Sends ApiVersions v0 with a client id of n bytes (any bytes) on a new connection and reads
 * the answer. */
static int api_versions_as(struct scene *s, const char *client_id, size_t n)
{
    struct kw_buf b;
    kw_buf_init(&b);
    size_t at = kw_reserve_i32(&b);
    kw_put_i16(&b, KW_API_API_VERSIONS);
    kw_put_i16(&b, 0);
    kw_put_i32(&b, 9);
    kw_put_str(&b, (struct kw_str){ client_id, (int32_t)n });
    frame_end(&b, at);
    struct kc_conn k;
    struct kw_api_versions_resp av;
    int rc = kc_connect(&k, mb_broker_port(s->c, 1));
    if (rc == 0 && kc_send_raw(&k, b.data, b.len, KC_WAIT_MS) == (int64_t)b.len)
        rc = kc_recv(&k, KW_API_API_VERSIONS, 0, 9, &av, KC_WAIT_MS);
    kc_close(&k);
    kw_buf_release(&b);
    return rc == KW_OK && av.error_code == 0 ? 0 : -1;
}

/* Found by fuzz_broker: mb__intern compared with strncmp, then read names[i][len], so a client id
 * "a\0" + more whose hash lands on the slot of an interned "a" read past the 2-byte copy of "a",
 * and on a rehash names equal up to a NUL took one slot and a copy was lost. Client ids are
 * NULLABLE_STRINGs, NUL bytes allowed; "a\0" "44" has an FNV-1a equal to "a"'s modulo 64, the
 * table's first size. */
static void test_client_ids_with_nul_bytes_are_journaled_without_over_reading(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    CU_ASSERT_EQUAL(api_versions_as(&s, "a", 1), 0);
    CU_ASSERT_EQUAL(api_versions_as(&s, "a\0" "44", 4), 0);
    /* Enough names ending in NUL, and their NUL-free twins, to grow the table twice. */
    for (int i = 0; i < 80; i++) {
        char id[16];
        int n = snprintf(id, sizeof(id), "n%d", i);
        CU_ASSERT_EQUAL(api_versions_as(&s, id, (size_t)n + 1), 0);
        CU_ASSERT_EQUAL(api_versions_as(&s, id, (size_t)n), 0);
    }
    scene_check(&s, NULL, "client ids with NUL bytes");
    scene_close(&s);
}

/* --- leaving while a request is held ------------------------------------------------------- */

/* While a request is unanswered the broker stops reading the connection (as Kafka mutes it), and
 * so would miss the FIN or RST of a client that leaves during a long poll: the connection, its
 * read buffer and its request would stay for MaxWaitMs, up to 24 days. The broker watches a muted
 * connection's end with EV_CLOSED (EPOLLRDHUP) and lets a long poll's client go at once. */
static void test_a_client_that_leaves_during_a_held_long_poll_is_let_go_at_once(void)
{
    struct scene s;
    CU_ASSERT_FATAL(scene_open(&s));
    scene_check(&s, NULL, "start");
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(s.c, 1)), 0);
    uint64_t fetches = mb_request_count(s.c, -1, KW_API_FETCH) + 1;
    CU_ASSERT(kc_fetch_send(&k, 11, TOPIC, 0, s.n, 1 << 20, 600000, 1) > 0);
    CU_ASSERT_EQUAL(mb_wait_until(s.c, fetches_seen, &fetches, KC_WAIT_MS), 0);
    kc_close(&k);
    int one = 1;
    CU_ASSERT_EQUAL(wait_for(&s, conns_down_to, &one), 0);
    scene_check(&s, NULL, "a client leaving during a long poll");
    scene_close(&s);
}

CU_TestInfo kwt_hostile_tests[] = {
    { "sizes -1, 0, 7, 0x7fffffff, 0x80000000 and 100 MiB + 1 are dropped",
      test_sizes_minus_one_zero_2gib_2gib_unsigned_and_100mib_plus_one_are_dropped },
    { "a size of exactly 100 MiB is waited for, and dropped when the peer leaves",
      test_a_size_of_exactly_100mib_is_waited_for_and_dropped_when_the_peer_leaves },
    { "announced 90 MiB frames that never come reserve no 90 MiB",
      test_announced_90mib_frames_that_never_come_reserve_no_90mib },
    { "a 3 MiB Produce grown as it arrives is stored whole",
      test_a_3mib_produce_grown_as_it_arrives_is_stored_whole },
    { "a Produce cut short at every byte, then dropped, is never applied",
      test_a_produce_cut_short_at_every_byte_then_dropped_is_never_applied },
    { "a frame that stops midway waits while others are served, then completes",
      test_a_frame_that_stops_midway_waits_while_others_are_served_then_completes },
    { "a good Produce pipelined before garbage is applied, then the connection dropped",
      test_a_good_produce_pipelined_before_garbage_is_applied_and_then_dropped },
    { "a client that never reads neither stalls others nor grows the broker",
      test_a_client_that_never_reads_its_answers_neither_stalls_others_nor_grows_the_broker },
    { "unknown API keys and versions are dropped",
      test_unknown_api_keys_and_versions_are_dropped },
    { "ApiVersions beyond ours is answered at v0 and the connection lives",
      test_api_versions_beyond_ours_is_answered_at_v0_and_the_connection_lives },
    { "batches with bad CRCs are refused as corrupt and the connection lives",
      test_batches_with_bad_crcs_are_refused_as_corrupt_and_the_connection_lives },
    { "invalid varints in headers and bodies are dropped",
      test_invalid_varints_in_headers_and_bodies_are_dropped },
    { "invalid varints and counts inside a batch are refused per partition",
      test_invalid_varints_and_counts_inside_a_batch_are_refused_per_partition },
    { "arrays claiming a billion elements are dropped without allocating them",
      test_arrays_claiming_a_billion_elements_are_dropped_without_allocating_them },
    { "ten thousand connections opened and dropped leave none behind",
      test_ten_thousand_connections_opened_and_dropped_leave_none_behind },
    { "a pipelined stream cut into odd pieces is answered in order and stored intact",
      test_a_pipelined_stream_cut_into_odd_pieces_is_answered_in_order_and_stored_intact },
    { "requests pipelined behind a held long poll, beyond the read buffer, all answer",
      test_requests_pipelined_behind_a_held_long_poll_beyond_the_read_buffer_all_answer },
    { "client ids with NUL bytes are journaled without over-reading",
      test_client_ids_with_nul_bytes_are_journaled_without_over_reading },
    { "a client that leaves during a held long poll is let go at once",
      test_a_client_that_leaves_during_a_held_long_poll_is_let_go_at_once },
    CU_TEST_INFO_NULL,
};
