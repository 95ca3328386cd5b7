/* libFuzzer target: whole byte streams into one connection of a mock cluster, through its real
 * read path, dispatch, handlers and partition state. The cluster runs in caller-driven mode on
 * one event_base per process with a virtual clock, so a run is deterministic: the stream goes
 * out over a loopback socket in chunks, the loop runs until the broker has read everything and
 * every timer it set (long polls) has fired, and the answers are drained.
 *
 * Input. Byte 0 selects the mode; 0 is what every real request starts with (API keys < 256),
 * so the seed frames of fixtures/frames are inputs as they are:
 *   0x00        the whole input is one frame body; its size prefix is added.
 *   otherwise   byte 0 is control, the rest payload:
 *     0x80      payload is the stream itself, size prefixes and all (bad sizes reachable);
 *               without it, payload is frames as [u16 length][body], each sent with a 4-byte
 *               prefix; a last body shorter than its length is sent cut short.
 *     0x40      the virtual clock moves 100 ms between chunks (held Fetches expire midway).
 *     0x20      the client never reads and leaves as soon as it has written: the broker meets
 *               the end of the stream with requests and answers in flight.
 *     0x10      the client half-closes before it closes, so the broker reads an orderly end of
 *               stream rather than a reset.
 *     0x0f      chunking: 0 writes at once, k > 0 cuts at random points 1..2^(k-1) apart
 *               (at most MAX_CHUNKS cuts), from a generator seeded by the input, so a split is
 *               part of the input.
 *
 * Crossing two inputs over (our own crossover) splices their frames into one stream of
 * framed mode: the seeds are single frames, and conversations (InitProducerId then an
 * idempotent Produce, Produce then Fetch) come from joining them.
 *
 * Oracles beyond the sanitizers: the broker never logs an error (its own encoder failing is
 * the only ERROR line peer input can cause, and that is our bug); every answer matches a request
 * we sent, in order, and decodes with that API's response schema using every byte; every stored
 * batch still validates (CRC included) with the offsets the partition believes; the broker drops
 * the connection once we close it; and it never stalls with bytes unread.
 *
 * Every run gets a new cluster (seeded, so the same one), built in a fraction of the run's
 * time: an input reproduces and minimizes alone, nothing outlives a run, and as each run frees
 * what it allocated, libFuzzer's leak check after every input stays on. FUZZ_BROKER_KEEP=N
 * keeps each cluster for N runs instead, so a run meets the topics, producer ids, journal and
 * records earlier ones left (retention caps the logs, the rebuild the rest): more reach, but
 * libFuzzer then runs each input twice and soon turns its leak check off, and a failure may
 * need the inputs before it, so these are written next to the crash file as
 * broker-history-NNNN, to replay in order before it. FUZZ_BROKER_VERBOSE=1 prints what
 * happened to each input. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sanitizer/asan_interface.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/compress.h"
#include "lib/kw.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/schema.h"
#include "mockbroker/internal.h"
#include "mockbroker/mockbroker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out, unsigned int seed);

/* Small enough that the fuzzer reaches both sides of the bound with a 4-byte prefix, large
 * enough for every seed. */
#define MAX_REQUEST (1u << 20)
#define RETENTION (64 << 10)
/* Loop turns: without progress before we call it quiet, and before we call it a stall. */
#define QUIET_TURNS 4
#define STALL_TURNS 64
#define MAX_REQS 4096
#define MAX_CHUNKS 64
#define MAX_RUNS_PER_CLUSTER 1024

#define MODE_RAW 0x80
#define MODE_TICK 0x40
#define MODE_LEAVE 0x20
#define MODE_HALF_CLOSE 0x10
#define MODE_CHUNKS 0x0f

static struct event_base *base;
static struct mb_cluster *cluster;
static struct kw_vclock *vclock;
static int broker;                  /* the one we connect to: golden-0's leader */
static int cluster_runs;
static int runs_per_cluster = 1;
/* The inputs the current cluster has run, written out if a run fails (history_dump). */
static struct {
    uint8_t *p;
    size_t n;
} history[MAX_RUNS_PER_CLUSTER];
static int n_history;
static char artifact_prefix[512] = "./";
static bool verbose;

struct sent_req {
    int16_t key, version;
    int32_t correlation_id;
};

struct run {
    int fd;
    struct kw_buf stream;           /* what goes on the wire */
    struct kw_buf in;               /* answers read, not yet checked */
    struct sent_req reqs[MAX_REQS];
    int n_reqs, next_req;           /* answers match reqs[next_req..] */
    struct kw_arena arena;
};

static struct run run_state;

/* Writes the inputs run on the current cluster before the failing one, whose state it may
 * need, next to libFuzzer's artifacts. Called as the process dies: no FILE, no malloc. */
static void history_dump(void)
{
    char path[600];
    int k;
    for (k = 0; k < n_history; k++) {
        snprintf(path, sizeof(path), "%sbroker-history-%04d", artifact_prefix, k);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            break;
        (void)!write(fd, history[k].p, history[k].n);
        close(fd);
    }
    if (k > 0) {
        int n = snprintf(path, sizeof(path),
                         "fuzz_broker: %d earlier input(s) ran on this cluster; to replay: "
                         "FUZZ_BROKER_KEEP=%d fuzz_broker %sbroker-history-* CRASH-FILE\n",
                         k, runs_per_cluster, artifact_prefix);
        (void)!write(2, path, (size_t)n);
    }
}

static void history_report(const char *report)
{
    (void)report;
    history_dump();
}

static void history_forget(void)
{
    for (int k = 0; k < n_history; k++)
        free(history[k].p);
    n_history = 0;
}

static void history_add(const uint8_t *data, size_t size)
{
    if (runs_per_cluster > 1 && n_history < MAX_RUNS_PER_CLUSTER &&
        (history[n_history].p = malloc(size)) != NULL) {
        memcpy(history[n_history].p, data, size);
        history[n_history++].n = size;
    }
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_broker: %s: %s\n", what, detail ? detail : "");
    history_dump();
    abort();
}

static void on_log(void *opaque, int level, const char *line)
{
    (void)opaque;
    if (level == MB_LOG_ERROR)
        die("broker logged an error", line);
}

/* One batch of n small records into partition p, as a producer would have left it. */
static void seed_partition(struct mb__partition *p, int n)
{
    struct kw_buf b;
    struct kw_batch_builder bb;
    kw_buf_init(&b);
    kw_batch_builder_begin(&bb, &b, NULL, KW_CODEC_NONE, -1);
    for (int i = 0; i < n; i++) {
        char v[16];
        int vl = snprintf(v, sizeof(v), "seed%d", i);
        kw_batch_builder_add(&bb, 1000 + i, KW_BYTES_NULL,
                             (struct kw_bytes){ (const uint8_t *)v, vl }, NULL, 0);
    }
    int64_t off, lat;
    if (kw_batch_builder_finish(&bb) != KW_OK ||
        mb__partition_append(cluster, p, NULL, b.data, b.len, &off, &lat) != 0)
        die("seeding a partition failed", NULL);
    kw_buf_release(&b);
}

static void cluster_stop(void)
{
    mb_cluster_destroy(cluster);
    cluster = NULL;
    /* Bufferevents finish closing in the loop: run it so their memory goes now, in this run. */
    event_base_loop(base, EVLOOP_NONBLOCK);
    kw_vclock_destroy(vclock);
    vclock = NULL;
}

static void cluster_start(void)
{
    char err[256];
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = 3;
    cfg.base = base;
    vclock = kw_vclock_new(1700000000000000LL);
    if (vclock == NULL)
        die("kw_vclock_new", NULL);
    cfg.clock = kw_vclock_clock(vclock);
    cfg.seed = 7;
    cfg.default_partitions = 2;
    cfg.max_request_size = MAX_REQUEST;
    cfg.retention_bytes = RETENTION;
    cfg.log_level = MB_LOG_ERROR;
    cfg.log_cb = on_log;
    cluster = mb_cluster_new(&cfg, err, sizeof(err));
    if (cluster == NULL)
        die("mb_cluster_new", err);
    /* The seed frames produce to golden-0: with a connection to its leader, they append. */
    static const char *const topics[] = { "golden", "t" };
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
        if (mb_topic_create(cluster, topics[i], 3, 3, err, sizeof(err)) != 0)
            die("mb_topic_create", err);
        struct mb__topic *t = mb__topic_find(cluster, topics[i], (int32_t)strlen(topics[i]));
        for (int32_t j = 0; j < t->n_partitions; j++)
            seed_partition(&t->partitions[j], 3 + j);
    }
    broker = mb__topic_find(cluster, "golden", 6)->partitions[0].leader;
    cluster_runs = 0;
    history_forget();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    for (int i = 1; i < *argc; i++)
        if (strncmp((*argv)[i], "-artifact_prefix=", 17) == 0)
            snprintf(artifact_prefix, sizeof(artifact_prefix), "%s", (*argv)[i] + 17);
    /* We drive the loop, so the broker's writes to reset sockets happen on our thread. */
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    if (base == NULL)
        die("event_base_new", NULL);
    const char *keep = getenv("FUZZ_BROKER_KEEP");
    if (keep)
        runs_per_cluster = atoi(keep) < 1 ? 1 : atoi(keep);
    if (runs_per_cluster > MAX_RUNS_PER_CLUSTER)
        runs_per_cluster = MAX_RUNS_PER_CLUSTER;
    verbose = getenv("FUZZ_BROKER_VERBOSE") != NULL;
    /* libFuzzer owns the death callback; ASan's report callback is ours. */
    __asan_set_error_report_callback(history_report);
    return 0;
}

/* The broker's end of our connection: the only one it has. */
static struct mb__conn *server_conn(void)
{
    return LIST_FIRST(&cluster->brokers[broker - 1].conns);
}

static size_t unread_by_broker(struct mb__conn *conn)
{
    int n = 0;
    if (conn == NULL || ioctl(bufferevent_getfd(conn->bev), FIONREAD, &n) != 0 || n < 0)
        return 0;
    return (size_t)n;
}

static size_t queued_by_broker(struct mb__conn *conn)
{
    return conn ? evbuffer_get_length(bufferevent_get_output(conn->bev)) : 0;
}

/* Reads what is there; returns the bytes read, or -1 once the broker has closed. */
static ssize_t drain(struct run *r)
{
    ssize_t total = 0;
    if (r->fd < 0)
        return -1;
    for (;;) {
        uint8_t *p = kw_buf_space(&r->in, 64 << 10);
        if (p == NULL)
            die("out of memory", NULL);
        ssize_t n = recv(r->fd, p, 64 << 10, 0);
        if (n > 0) {
            kw_buf_commit(&r->in, (size_t)n);
            total += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return total;
        return total ? total : -1;
    }
}

/* The requests the broker will read from the stream, as it cuts frames: a bad size or a frame
 * cut short ends them. */
static void note_requests(struct run *r)
{
    size_t at = 0;
    const uint8_t *s = r->stream.data;
    while (r->stream.len - at >= 4 && r->n_reqs < MAX_REQS) {
        int32_t size = (int32_t)kw_be32(s + at);
        if (size < 8 || (uint32_t)size > MAX_REQUEST || r->stream.len - at - 4 < (size_t)size)
            return;
        struct sent_req *q = &r->reqs[r->n_reqs++];
        q->key = (int16_t)kw_be16(s + at + 4);
        q->version = (int16_t)kw_be16(s + at + 6);
        q->correlation_id = (int32_t)kw_be32(s + at + 8);
        at += 4 + (size_t)size;
    }
}

static bool decodes_as(struct run *r, const uint8_t *p, size_t len, const struct sent_req *q)
{
    const struct kw_api *api = kw_api_find(q->key);
    int version = q->version;
    if (api == NULL)
        return false;
    if (!kw_api_supported(q->key, version)) {
        if (q->key != KW_API_API_VERSIONS)
            return false;
        version = 0;            /* KIP-511: an ApiVersions we cannot speak is answered at v0 */
    }
    struct kw_reader rd;
    struct kw_resp_header h;
    kw_reader_init(&rd, p, len);
    kw_arena_reset(&r->arena);
    if (kw_resp_header_decode(&rd, kw_resp_header_version(q->key, version), &h) != KW_OK ||
        h.correlation_id != q->correlation_id)
        return false;
    void *resp = kw_arena_alloc(&r->arena, api->resp->size);
    return resp && kw_schema_decode(&rd, api->resp, version, kw_api_flexible(q->key, version),
                                    resp, &r->arena) == KW_OK &&
           kw_reader_left(&rd) == 0;
}

/* Every whole answer read so far must answer the next requests in order (acks=0 Produce may
 * be skipped: it gets none) and decode completely. */
static void check_answers(struct run *r)
{
    size_t at = 0;
    while (r->in.len - at >= 4) {
        int32_t size = (int32_t)kw_be32(r->in.data + at);
        if (size < 4)
            die("answer with an impossible size", NULL);
        if (r->in.len - at - 4 < (size_t)size)
            break;
        const uint8_t *p = r->in.data + at + 4;
        int32_t id = (int32_t)kw_be32(p);
        int j = r->next_req;
        while (j < r->n_reqs &&
               (r->reqs[j].correlation_id != id || !decodes_as(r, p, (size_t)size, &r->reqs[j])))
            j++;
        if (j == r->n_reqs) {
            char why[96];
            snprintf(why, sizeof(why), "correlation id %d, %d bytes, after request %d of %d", id,
                     size, r->next_req, r->n_reqs);
            die("an answer that answers no request we sent, or does not decode", why);
        }
        r->next_req = j + 1;
        at += 4 + (size_t)size;
    }
    memmove(r->in.data, r->in.data + at, r->in.len - at);
    r->in.len -= at;
}

/* Runs the loop until nothing moves. With all, it then fires the virtual timers one by one
 * (a held Fetch, or any request the broker parks, may be what keeps it from reading on) until
 * none is left, and insists that the broker has then read every byte and flushed every answer:
 * bytes left with nothing to wake the broker are a stall. */
static void settle(struct run *r, bool all)
{
    int quiet = 0;
    for (;;) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t got = drain(r);
        struct mb__conn *conn = server_conn();
        if (conn == NULL)
            return;
        if (got > 0) {
            quiet = 0;
            continue;
        }
        /* A write event comes a turn after the answer is queued: a few quiet turns first. */
        if (++quiet < QUIET_TURNS)
            continue;
        if (!all)
            return;
        if (kw_vclock_next_deadline(vclock) >= 0) {
            kw_vclock_run_next(vclock);
            quiet = 0;
            continue;
        }
        size_t unread = unread_by_broker(conn), queued = queued_by_broker(conn);
        if (unread == 0 && queued == 0)
            return;
        if (quiet > STALL_TURNS) {
            char why[96];
            snprintf(why, sizeof(why), "%zu bytes unread, %zu answer bytes queued", unread,
                     queued);
            die("broker stalled with no timer pending", why);
        }
    }
}

static void write_all(struct run *r, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(r->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Our send buffer is full: let the broker read (and answer) some of it. */
            event_base_loop(base, EVLOOP_NONBLOCK);
            drain(r);
            if (server_conn() == NULL)
                return;
            continue;
        }
        return;                 /* the broker closed on us: the rest goes nowhere */
    }
}

static int connect_broker(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket", strerror(errno));
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)mb_broker_port(cluster, broker));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        die("connect", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (int i = 0; server_conn() == NULL; i++) {
        if (i > STALL_TURNS)
            die("the broker did not accept", NULL);
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    /* Both ends close with a reset, so no TIME_WAIT is left behind: at thousands of runs a
     * second they would fill the loopback's ephemeral ports and slow every connect. Answers
     * already delivered stay readable. */
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    setsockopt(bufferevent_getfd(server_conn()->bev), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    return fd;
}

/* Turns the input into the bytes to send (see the top of this file). */
static int build_stream(struct kw_buf *s, const uint8_t *data, size_t size)
{
    int control = data[0];
    if (control == 0) {
        kw_put_i32(s, (int32_t)size);
        kw_put_raw(s, data, size);
        return 0;
    }
    data++, size--;
    if (control & MODE_RAW) {
        kw_put_raw(s, data, size);
        return control;
    }
    while (size >= 2) {
        size_t n = kw_be16(data);
        kw_put_i32(s, (int32_t)n);
        data += 2, size -= 2;
        n = n < size ? n : size;
        kw_put_raw(s, data, n);
        data += n, size -= n;
    }
    return control;
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The frame bodies an input holds, as build_stream would send them. */
#define MAX_SPLICE 32
struct bodies {
    const uint8_t *p[MAX_SPLICE];
    size_t len[MAX_SPLICE];
    int n;
};

static int split_input(const uint8_t *data, size_t size, struct bodies *b)
{
    b->n = 0;
    if (size == 0)
        return 0;
    int control = data[0];
    if (control == 0) {
        b->p[0] = data;
        b->len[b->n++] = size;
        return 0;
    }
    data++, size--;
    while (b->n < MAX_SPLICE) {
        size_t hdr = control & MODE_RAW ? 4 : 2, n;
        if (size < hdr)
            break;
        n = hdr == 4 ? kw_be32(data) : kw_be16(data);
        data += hdr, size -= hdr;
        n = n < size ? n : size;
        b->p[b->n] = data;
        b->len[b->n++] = n;
        data += n, size -= n;
    }
    return control;
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out, unsigned int seed)
{
    struct bodies a, b;
    uint64_t x = (uint64_t)seed * 0x9e3779b97f4a7c15ULL | 1;
    int control = split_input(data1, size1, &a) & ~MODE_RAW;
    split_input(data2, size2, &b);
    if (control == 0)
        control = 1 + (int)(xorshift(&x) % 0x7f);
    size_t at = 0;
    if (max_out < 1)
        return 0;
    out[at++] = (uint8_t)control;
    /* A prefix of the first input's frames, then a run of the second's. */
    int na = a.n ? 1 + (int)(xorshift(&x) % (uint64_t)a.n) : 0;
    int from = b.n ? (int)(xorshift(&x) % (uint64_t)b.n) : 0;
    int nb = b.n - from ? 1 + (int)(xorshift(&x) % (uint64_t)(b.n - from)) : 0;
    for (int i = 0; i < na + nb; i++) {
        const uint8_t *p = i < na ? a.p[i] : b.p[from + i - na];
        size_t n = i < na ? a.len[i] : b.len[from + i - na];
        n = n < 0xffff ? n : 0xffff;
        if (max_out - at < 2 + n)
            break;
        kw_wbe16(out + at, (uint16_t)n);
        memcpy(out + at + 2, p, n);
        at += 2 + n;
    }
    return at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run *r = &run_state;
    if (size == 0)
        return 0;
    if (cluster && cluster_runs >= runs_per_cluster)
        cluster_stop();
    if (cluster == NULL)
        cluster_start();
    cluster_runs++;

    kw_buf_init(&r->stream);
    kw_buf_init(&r->in);
    kw_arena_init(&r->arena);
    r->n_reqs = r->next_req = 0;
    int control = build_stream(&r->stream, data, size);
    note_requests(r);
    r->fd = connect_broker();

    uint64_t rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)size << 8) ^ (uint64_t)control;
    for (size_t i = 0; i < size; i++)
        rng = (rng ^ data[i]) * 0x100000001b3ULL;
    rng |= 1;
    int k = control & MODE_CHUNKS;
    for (size_t at = 0, chunks = 0; at < r->stream.len && server_conn(); chunks++) {
        size_t n = r->stream.len - at;
        if (k > 0 && chunks < MAX_CHUNKS) {
            size_t cut = 1 + (size_t)(xorshift(&rng) % (1u << (k - 1)));
            n = cut < n ? cut : n;
        }
        write_all(r, r->stream.data + at, n);
        at += n;
        if (control & MODE_LEAVE) {
            event_base_loop(base, EVLOOP_NONBLOCK);
            continue;
        }
        settle(r, false);
        if (control & MODE_TICK)
            kw_vclock_advance(vclock, 100000);
        check_answers(r);
    }
    if (!(control & MODE_LEAVE)) {
        settle(r, true);
        check_answers(r);
    }
    if (control & MODE_HALF_CLOSE) {
        shutdown(r->fd, SHUT_WR);
        for (int i = 0; server_conn() && i < STALL_TURNS; i++)
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    bool dropped = server_conn() == NULL;
    close(r->fd);
    r->fd = -1;
    /* The broker must notice and let go of the connection, with whatever it still held. */
    for (int i = 0; server_conn(); i++) {
        if (i > STALL_TURNS)
            die("the broker kept a closed connection", NULL);
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (kw_vclock_next_deadline(vclock) >= 0)
            kw_vclock_run_next(vclock);
    }

    /* What the partitions hold still validates, at the offsets they claim. */
    struct mb__topic *t;
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    LIST_FOREACH(t, &cluster->topics, link) {
        for (int32_t i = 0; i < t->n_partitions; i++) {
            struct mb__partition *p = &t->partitions[i];
            int64_t next = p->log_start;
            for (size_t j = p->first_batch; j < p->n_batches; j++) {
                const struct mb__batch *b = &p->batches[j];
                struct kw_batch_hdr h;
                if (kw_batch_validate(b->data, b->len, &h, &scratch, 64u << 20) != KW_OK ||
                    h.base_offset != b->base_offset || b->base_offset != next ||
                    b->last_offset != b->base_offset + h.last_offset_delta)
                    die("a stored batch is damaged or out of place", t->name);
                next = b->last_offset + 1;
            }
            if (next > p->log_end || p->high_watermark > p->log_end ||
                p->log_start > p->high_watermark)
                die("partition offsets disagree", t->name);
        }
    }
    kw_buf_release(&scratch);
    if (verbose)
        fprintf(stderr, "fuzz_broker: control 0x%02x, %zu bytes sent, %d requests, %d answered "
                "up to, %s\n", control, r->stream.len, r->n_reqs, r->next_req,
                dropped ? "dropped by the broker" : "closed by us");
    kw_arena_release(&r->arena);
    kw_buf_release(&r->in);
    kw_buf_release(&r->stream);
    history_add(data, size);
    return 0;
}
