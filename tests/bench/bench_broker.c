/* Broker benchmarks: bin/mockbroker beside librdkafka's own mock cluster. Each broker runs in a
 * process of its own, so the CPU time and memory read from /proc are the broker's alone, and
 * each run of ours sits next to a run of theirs: the machine's speed drifts by several times
 * from minute to minute, the ratio of neighbours much less.
 *   1. blaster: pre-encoded Produce v7 requests pipelined over several connections;
 *   2. a librdkafka producer sending 1,000,000 messages with acks=1 and linger.ms=5;
 *   3. the memory our broker holds per stored record, from the blaster runs.
 * Beside the blaster runs a null broker ("floor") that only reads and answers: what loopback
 * TCP costs a broker on this machine before it looks at a byte, the part no broker can save.
 * librdkafka's mock drops a partition's oldest batches past 5 MiB, so ours is measured twice:
 * with that retention (the like-for-like comparison) and keeping everything (measure 3).
 * `bench_broker [--runs N] [--seed S]`; BIN names the directory of mockbroker (default bin).
 * librdkafka's mock is served by this same program, run as
 * `bench_broker --serve-rdmock TOPIC PARTITIONS`. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "tests/bench/common/broker.h"
#include "tests/bench/common/proc.h"
#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/proto/apis.h"
#include "lib/proto/header.h"
#include "lib/proto/produce.h"

#define TOPIC "bench"
#define PARTITIONS 4
#define CONNS 4
#define WINDOW 16                   /* requests in flight per connection */
#define BATCH_RECORDS 500
#define RECORD_BYTES 100
#define BLAST_RECORDS 2000000       /* per blaster run */
#define PRODUCE_MSGS 1000000        /* per producer run */
#define PAYLOAD_POOL 4096           /* distinct 100-byte values the producer cycles through */
#define DEFAULT_RUNS 5
#define MAX_RUNS 20
#define START_MS 10000              /* a broker must print its bootstrap line within this */
#define STOP_MS 10000               /* and exit within this once its stdin closes */
#define BLAST_MS 60000
#define PRODUCE_MS 90000
#define MAX_RESPONSE (1 << 20)

/* --- the brokers' processes ----------------------------------------------------------------- */

/* librdkafka 2.x's mock keeps at most 5 MiB (and 100,000 batches) per partition; OURS runs with
 * the same retention so both recycle the same memory, OURS_KEEP keeps everything. */
#define THEIR_RETENTION "5242880"
enum side { OURS, THEIRS, OURS_KEEP, FLOOR };
static const char *const side_name[] = { "ours", "theirs", "keep", "floor" };
#define SIDES 4

static char mockbroker_path[4096];
static char *self_path = "/proc/self/exe";

/* Starts ours (bin/mockbroker) or theirs (this program serving librdkafka's mock) with topic
 * TOPIC of PARTITIONS partitions, and reads its bootstrap line. Returns 0 or -1 (said why). */
static int broker_start(struct bench_broker *b, enum side side)
{
    char parts[16];
    snprintf(parts, sizeof(parts), "%s:%d", TOPIC, PARTITIONS);
    char nparts[16];
    snprintf(nparts, sizeof(nparts), "%d", PARTITIONS);
    char *const ours[] = { mockbroker_path, "--port", "0", "--seed", "1",
                           "--exit-on-stdin-close", "--log-level", "error", "--auto-create",
                           "off", "--topic", parts, "--retention-bytes",
                           side == OURS ? THEIR_RETENTION : "-1", NULL };
    char *const theirs[] = { self_path, "--serve-rdmock", TOPIC, nparts, NULL };
    char *const floor_[] = { self_path, "--serve-null", NULL };
    char name[32];
    snprintf(name, sizeof(name), "%s broker", side_name[side]);
    char *const *argv = side == THEIRS ? theirs : side == FLOOR ? floor_ : ours;
    return bench_broker_start(b, "bench_broker", name, argv, START_MS, false);
}

/* librdkafka's mock cluster, served until stdin reaches end of file. */
static int serve_rdmock(const char *topic, int partitions)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only hosts the cluster: it has no brokers of its own to complain about. */
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "bench_broker: rd_kafka_new: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    rd_kafka_resp_err_t err = mc ? rd_kafka_mock_topic_create(mc, topic, partitions, 1)
                                 : RD_KAFKA_RESP_ERR__FAIL;
    if (err) {
        fprintf(stderr, "bench_broker: librdkafka mock cluster: %s\n", rd_kafka_err2str(err));
    } else {
        printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        char buf[256];
        ssize_t r;
        while ((r = read(STDIN_FILENO, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
            ;
    }
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return err ? 1 : 0;
}


/* The floor under any broker here: it reads each request's size and correlation id, skips the
 * rest unread by anything but the kernel's copy, and answers with one pre-encoded Produce v7
 * response (partition 0, no error). Nothing is parsed, checked or kept. Its CPU per record is
 * what loopback TCP and the system calls cost before a broker does any work of its own. */
#define NULL_CONNS 16
static int serve_null(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(ls, 16) != 0 ||
        getsockname(ls, (struct sockaddr *)&sin, &sl) != 0) {
        perror("bench_broker: null broker");
        return 1;
    }
    struct kw_produce_resp_partition part = { .index = 0, .log_start_offset = 0 };
    struct kw_produce_resp_topic topic = {
        .name = kw_str_c(TOPIC), .partition_responses = &part, .n_partition_responses = 1,
    };
    struct kw_produce_resp resp = { .responses = &topic, .n_responses = 1 };
    struct kw_buf out;
    kw_buf_init(&out);
    size_t at = kw_reserve_i32(&out);
    kw_put_i32(&out, 0);                /* correlation id, patched per answer */
    kw_produce_resp_encode(&out, 7, &resp);
    kw_patch_i32(&out, at, (int32_t)(out.len - 4));
    if (out.err) {
        fprintf(stderr, "bench_broker: null broker: %s\n", kw_strerror(out.err));
        return 1;
    }
    printf("bootstrap=127.0.0.1:%d\n", ntohs(sin.sin_port));
    fflush(stdout);

    struct nconn {
        int fd;
        uint32_t left;              /* bytes of the current frame still to skip */
        uint8_t head[12];           /* size, key, version, correlation id */
        uint32_t head_got;
    } conns[NULL_CONNS];
    int n = 0;
    static uint8_t buf[64 << 10];
    for (;;) {
        struct pollfd p[NULL_CONNS + 2] = {
            { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = ls, .events = POLLIN },
        };
        for (int i = 0; i < n; i++)
            p[i + 2] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
        if (poll(p, (nfds_t)n + 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents && read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
            break;
        if ((p[1].revents & POLLIN) && n < NULL_CONNS) {
            int fd = accept(ls, NULL, NULL);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (fd >= 0)
                conns[n++] = (struct nconn){ .fd = fd };
        }
        for (int i = 0; i < n; i++) {
            if (!(p[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct nconn *k = &conns[i];
            ssize_t r = recv(k->fd, buf, sizeof(buf), 0);
            if (r <= 0) {
                close(k->fd);
                k->fd = -1;
                continue;
            }
            for (size_t pos = 0; pos < (size_t)r;) {
                if (k->head_got < sizeof(k->head)) {
                    k->head[k->head_got++] = buf[pos++];
                    if (k->head_got == sizeof(k->head))
                        k->left = kw_be32(k->head) - 8;
                } else {
                    size_t take = (size_t)r - pos < k->left ? (size_t)r - pos : k->left;
                    pos += take;
                    k->left -= (uint32_t)take;
                }
                if (k->head_got == sizeof(k->head) && k->left == 0) {
                    memcpy(out.data + 4, k->head + 8, 4);
                    if (write(k->fd, out.data, out.len) != (ssize_t)out.len)
                        return 1;
                    k->head_got = 0;
                }
            }
        }
        int m = 0;
        for (int i = 0; i < n; i++)
            if (conns[i].fd >= 0)
                conns[m++] = conns[i];
        n = m;
    }
    kw_buf_release(&out);
    return 0;
}

/* --- 1. blaster ----------------------------------------------------------------------------- */

/* One pre-encoded request frame per (connection, window slot): slot s of connection c carries
 * its own batch for partition (c + s) % PARTITIONS, so the partitions take turns. The
 * correlation id is patched in just before each send. */
struct frames {
    struct kw_buf f[CONNS][WINDOW];
    size_t batch_bytes;             /* of one batch (all are the same size) */
};

#define CORRELATION_AT 8            /* size, api key, api version, then the correlation id */

static int frames_build(struct frames *fr, uint64_t seed)
{
    uint64_t x = seed;
    uint8_t *values = malloc((size_t)BATCH_RECORDS * RECORD_BYTES);
    struct kw_buf batch;
    kw_buf_init(&batch);
    int rc = values ? KW_OK : KW_ERR_NOMEM;
    for (int c = 0; c < CONNS; c++) {
        for (int s = 0; s < WINDOW; s++) {
            struct kw_buf *b = &fr->f[c][s];
            kw_buf_init(b);
            if (rc != KW_OK)
                continue;
            bench_fill_text(values, (size_t)BATCH_RECORDS * RECORD_BYTES, &x);
            struct kw_batch_builder bb;
            kw_buf_reset(&batch);
            rc = kw_batch_builder_begin(&bb, &batch, NULL, KW_CODEC_NONE, 0);
            for (int i = 0; i < BATCH_RECORDS && rc == KW_OK; i++)
                rc = kw_batch_builder_add(&bb, 1700000000000 + i, KW_BYTES_NULL,
                                          (struct kw_bytes){ values + i * RECORD_BYTES,
                                                             RECORD_BYTES }, NULL, 0);
            int frc = kw_batch_builder_finish(&bb);
            rc = rc ? rc : frc;
            fr->batch_bytes = batch.len;

            struct kw_produce_req_partition part = {
                .index = (c + s) % PARTITIONS,
                .records = { batch.data, (int32_t)batch.len },
            };
            struct kw_produce_req_topic topic = {
                .name = kw_str_c(TOPIC), .n_partition_data = 1, .partition_data = &part,
            };
            struct kw_produce_req req = {
                .transactional_id = KW_STR_NULL, .acks = 1, .timeout_ms = 30000,
                .n_topic_data = 1, .topic_data = &topic,
            };
            struct kw_req_header h = {
                .api_key = KW_API_PRODUCE, .api_version = 7, .correlation_id = 0,
                .client_id = kw_str_c("bench_broker"),
            };
            size_t at = kw_reserve_i32(b);
            kw_req_header_encode(b, kw_req_header_version(KW_API_PRODUCE, 7), &h);
            kw_produce_req_encode(b, 7, &req);
            kw_patch_i32(b, at, (int32_t)(b->len - 4));
            rc = rc ? rc : b->err;
        }
    }
    kw_buf_release(&batch);
    free(values);
    return rc;
}

static void frames_release(struct frames *fr)
{
    for (int c = 0; c < CONNS; c++)
        for (int s = 0; s < WINDOW; s++)
            kw_buf_release(&fr->f[c][s]);
}

struct bconn {
    int fd;
    int64_t quota;                  /* requests this connection sends in all */
    int64_t sent, answered;
    size_t wpos;                    /* bytes of the current frame written; 0: none started */
    struct kw_buf in;
};

struct result {
    double secs, cpu_s;
    double client_cpu_s;            /* this process's, all threads (librdkafka's too) */
    int64_t records;                /* acknowledged without error */
    double batch_bytes;             /* of those records' batches */
    double rss_before, rss_after;
    bool ok;
};

static int connect_local(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Reads what the connection has and checks every whole response in it: in order, v7, one
 * partition each, error code 0. Returns 0, or -1 having said why. */
static int blast_read(struct bconn *k, struct kw_arena *arena, struct result *res,
                      int64_t *errors)
{
    uint8_t *space = kw_buf_space(&k->in, 256 * 1024);
    if (space == NULL)
        return fprintf(stderr, "bench_broker: out of memory\n"), -1;
    ssize_t n = recv(k->fd, space, 256 * 1024, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        fprintf(stderr, "bench_broker: blaster: broker closed the connection (%s)\n",
                n == 0 ? "end of file" : strerror(errno));
        return -1;
    }
    if (n > 0)
        kw_buf_commit(&k->in, (size_t)n);
    size_t used = 0;
    while (k->in.len - used >= 4) {
        const uint8_t *p = k->in.data + used;
        uint32_t size = kw_be32(p);
        if (size < 4 || size > MAX_RESPONSE) {
            fprintf(stderr, "bench_broker: blaster: response size %" PRIu32 "\n", size);
            return -1;
        }
        if (k->in.len - used - 4 < size)
            break;
        struct kw_reader r;
        struct kw_resp_header h = { .correlation_id = -1 };
        struct kw_produce_resp resp;
        kw_reader_init(&r, p + 4, size);
        kw_resp_header_decode(&r, kw_resp_header_version(KW_API_PRODUCE, 7), &h);
        kw_produce_resp_decode(&r, 7, &resp, arena);
        if (r.err || kw_reader_left(&r) || h.correlation_id != (int32_t)k->answered ||
            resp.n_responses != 1 || resp.responses[0].n_partition_responses != 1) {
            fprintf(stderr, "bench_broker: blaster: bad response (correlation id %" PRId32
                    ", expected %" PRId64 "): %s\n", h.correlation_id, k->answered,
                    r.err ? kw_strerror(r.err) : "unexpected shape");
            return -1;
        }
        int16_t ec = resp.responses[0].partition_responses[0].error_code;
        if (ec != 0) {
            if ((*errors)++ == 0)
                fprintf(stderr, "bench_broker: blaster: error code %d\n", ec);
        } else {
            res->records += BATCH_RECORDS;
        }
        kw_arena_reset(arena);
        k->answered++;
        used += 4 + size;
    }
    memmove(k->in.data, k->in.data + used, k->in.len - used);
    k->in.len -= used;
    return 0;
}

/* Writes frames while the window allows and the socket takes them. */
static int blast_write(struct bconn *k, struct frames *fr, int c)
{
    while (k->wpos > 0 || (k->sent < k->quota && k->sent - k->answered < WINDOW)) {
        struct kw_buf *f = &fr->f[c][k->sent % WINDOW];
        /* The slot's previous request is answered, so no unsent byte of it is left. */
        if (k->wpos == 0)
            kw_wbe32(f->data + CORRELATION_AT, (uint32_t)k->sent);
        ssize_t n = send(k->fd, f->data + k->wpos, f->len - k->wpos, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            fprintf(stderr, "bench_broker: blaster: send: %s\n", strerror(errno));
            return -1;
        }
        k->wpos += (size_t)n;
        if (k->wpos == f->len) {
            k->wpos = 0;
            k->sent++;
        }
    }
    return 0;
}

static struct result blast(const struct bench_broker *b, struct frames *fr, int64_t records)
{
    struct result res = { .ok = false };
    struct bconn k[CONNS];
    struct kw_arena arena;
    kw_arena_init(&arena);
    int64_t requests = records / BATCH_RECORDS, errors = 0;
    bool failed = false;
    for (int c = 0; c < CONNS; c++) {
        k[c] = (struct bconn){ .quota = requests / CONNS + (c < requests % CONNS) };
        kw_buf_init(&k[c].in);
        k[c].fd = connect_local(b->port);
        if (k[c].fd < 0) {
            fprintf(stderr, "bench_broker: connect to port %d: %s\n", b->port, strerror(errno));
            failed = true;
        }
    }
    res.rss_before = bench_proc_rss(b->pid);
    double cpu0 = bench_proc_cpu_s(b->pid), self0 = bench_self_cpu_s();
    double t0 = bench_now_s();
    int64_t deadline = bench_now_ns() + (int64_t)BLAST_MS * 1000000;
    int64_t answered = 0;
    while (!failed && answered < requests) {
        struct pollfd p[CONNS];
        for (int c = 0; c < CONNS; c++) {
            bool can_write = k[c].wpos > 0 ||
                             (k[c].sent < k[c].quota && k[c].sent - k[c].answered < WINDOW);
            p[c] = (struct pollfd){ .fd = k[c].fd, .events = POLLIN | (can_write ? POLLOUT : 0) };
        }
        int n = poll(p, CONNS, bench_ms_left(deadline));
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "bench_broker: blaster: poll: %s\n", strerror(errno));
            failed = true;
        } else if (n == 0) {
            fprintf(stderr, "bench_broker: blaster: %" PRId64 " of %" PRId64 " requests "
                    "answered in %d ms\n", answered, requests, BLAST_MS);
            failed = true;
        }
        for (int c = 0; c < CONNS && n > 0 && !failed; c++) {
            int64_t before = k[c].answered;
            if (p[c].revents & (POLLIN | POLLHUP | POLLERR))
                failed = blast_read(&k[c], &arena, &res, &errors) != 0;
            answered += k[c].answered - before;
            if (!failed && ((p[c].revents & POLLOUT) || k[c].answered > before))
                failed = blast_write(&k[c], fr, c) != 0;
        }
    }
    res.secs = bench_now_s() - t0;
    res.cpu_s = bench_proc_cpu_s(b->pid) - cpu0;
    res.client_cpu_s = bench_self_cpu_s() - self0;
    res.rss_after = bench_proc_rss(b->pid);
    res.batch_bytes = (double)res.records / BATCH_RECORDS * (double)fr->batch_bytes;
    if (errors)
        fprintf(stderr, "bench_broker: blaster: %" PRId64 " requests failed\n", errors);
    res.ok = !failed && errors == 0 && res.records == requests * BATCH_RECORDS && cpu0 >= 0;
    for (int c = 0; c < CONNS; c++) {
        if (k[c].fd >= 0)
            close(k[c].fd);
        kw_buf_release(&k[c].in);
    }
    kw_arena_release(&arena);
    return res;
}

/* --- 2. a librdkafka producer --------------------------------------------------------------- */

struct dr_count {
    int64_t delivered, failed;
    rd_kafka_resp_err_t first_err;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct dr_count *d = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        d->delivered++;
    } else if (d->failed++ == 0) {
        d->first_err = m->err;
    }
}

static bool conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
        return true;
    fprintf(stderr, "bench_broker: %s=%s: %s\n", k, v, errstr);
    return false;
}

/* Sends PRODUCE_MSGS messages; the clock starts once the topic's metadata is known. */
static struct result produce(const struct bench_broker *b, const uint8_t *pool)
{
    struct result res = { .ok = false };
    struct dr_count d = { 0 };
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf_set(conf, "bootstrap.servers", b->bootstrap) || !conf_set(conf, "acks", "1") ||
        !conf_set(conf, "linger.ms", "5") || !conf_set(conf, "log_level", "3")) {
        rd_kafka_conf_destroy(conf);
        return res;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, &d);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "bench_broker: rd_kafka_new: %s\n", errstr);
        return res;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, TOPIC, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, START_MS);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt != PARTITIONS))
        err = md->topic_cnt == 1 && md->topics[0].err ? md->topics[0].err
                                                      : RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (err) {
        fprintf(stderr, "bench_broker: producer: metadata: %s\n", rd_kafka_err2str(err));
        goto done;
    }

    double cpu0 = bench_proc_cpu_s(b->pid), self0 = bench_self_cpu_s();
    double t0 = bench_now_s();
    int64_t deadline = bench_now_ns() + (int64_t)PRODUCE_MS * 1000000;
    for (int64_t i = 0; i < PRODUCE_MSGS;) {
        const uint8_t *v = pool + (size_t)(i % PAYLOAD_POOL) * RECORD_BYTES;
        if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)v,
                             RECORD_BYTES, NULL, 0, NULL) == 0) {
            if (++i % 10000 == 0)
                rd_kafka_poll(rk, 0);
            continue;
        }
        err = rd_kafka_last_error();
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || bench_ms_left(deadline) == 0) {
            fprintf(stderr, "bench_broker: producer: produce: %s\n",
                    err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "timed out" : rd_kafka_err2str(err));
            goto done;
        }
        rd_kafka_poll(rk, 5);
    }
    err = rd_kafka_flush(rk, bench_ms_left(deadline));
    res.secs = bench_now_s() - t0;
    res.cpu_s = bench_proc_cpu_s(b->pid) - cpu0;
    res.client_cpu_s = bench_self_cpu_s() - self0;
    res.records = d.delivered;
    res.batch_bytes = (double)d.delivered * RECORD_BYTES;
    if (err)
        fprintf(stderr, "bench_broker: producer: flush: %s (%" PRId64 " of %d delivered)\n",
                rd_kafka_err2str(err), d.delivered, PRODUCE_MSGS);
    if (d.failed)
        fprintf(stderr, "bench_broker: producer: %" PRId64 " deliveries failed, first: %s\n",
                d.failed, rd_kafka_err2str(d.first_err));
    res.ok = err == RD_KAFKA_RESP_ERR_NO_ERROR && d.failed == 0 &&
             d.delivered == PRODUCE_MSGS && cpu0 >= 0;
done:
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return res;
}

/* --- the runs ------------------------------------------------------------------------------- */

/* One run of each side on a fresh broker, in an order that keeps ours beside both others. */
struct round {
    struct result r[SIDES];
    bool ok;
};

static struct result run_one(enum side side, bool blaster, struct frames *fr,
                             const uint8_t *pool)
{
    struct bench_broker b;
    struct result res = { .ok = false };
    if (broker_start(&b, side) != 0)
        return res;
    res = blaster ? blast(&b, fr, BLAST_RECORDS) : produce(&b, pool);
    bench_broker_stop(&b, STOP_MS, !res.ok);
    return res;
}

static void run_round(struct round *rd, int i, bool blaster, struct frames *fr,
                      const uint8_t *pool)
{
    static const enum side even[] = { FLOOR, OURS_KEEP, OURS, THEIRS };
    static const enum side odd[] = { THEIRS, OURS, OURS_KEEP, FLOOR };
    const enum side *order = i % 2 ? odd : even;
    rd->ok = true;
    for (int j = 0; j < SIDES; j++) {
        enum side s = order[j];
        if ((s == OURS_KEEP || s == FLOOR) && !blaster)
            continue;
        rd->r[s] = run_one(s, blaster, fr, pool);
        rd->ok = rd->ok && rd->r[s].ok;
    }
}

static double mb(double bytes) { return bytes / 1e6; }
static double rate(const struct result *r) { return (double)r->records / r->secs; }
static double cpu_per_m(const struct result *r) { return r->cpu_s / ((double)r->records / 1e6); }

static void print_run(int run, enum side side, const struct result *r, const char *extra)
{
    printf("  %3d  %-6s %11.0f %8.1f %6.2f %8.3f %4.0f%% %4.0f%%  %s\n", run, side_name[side],
           rate(r), mb(r->batch_bytes) / r->secs, r->secs, cpu_per_m(r),
           100 * r->cpu_s / r->secs, 100 * r->client_cpu_s / r->secs, extra);
}

static void print_ratio_run(int run, enum side side, const struct result *r,
                            const struct result *theirs, double *rate_ratio, double *cpu_ratio)
{
    char extra[64];
    *rate_ratio = rate(r) / rate(theirs);
    *cpu_ratio = cpu_per_m(r) / cpu_per_m(theirs);
    snprintf(extra, sizeof(extra), "%5.2fx  %5.2fx", *rate_ratio, *cpu_ratio);
    print_run(run, side, r, extra);
}

static const char *verdict(bool pass) { return pass ? "PASS" : "MISS"; }

static void print_header(const char *unit)
{
    printf("  %3s  %-6s %11s %8s %6s %8s %5s %5s  %s\n", "run", "broker", unit, "MB/s", "secs",
           "CPU s/M", "brkr", "clnt", "ours/theirs: rate, CPU/record");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--serve-rdmock") == 0)
        return serve_rdmock(argv[2], atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "--serve-null") == 0)
        return serve_null();
    /* The path we were started by, rather than /proc/self/exe, which under valgrind is the
     * tool's own binary. */
    if (strchr(argv[0], '/'))
        self_path = argv[0];

    uint64_t seed = 0x9E3779B97F4A7C15ull;
    int runs = DEFAULT_RUNS;
    int only = -1;                  /* --blast SIDE: that side's blaster runs alone, to profile */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--blast") == 0 && i + 1 < argc) {
            i++;
            for (int s = 0; s < SIDES; s++)
                if (strcmp(argv[i], side_name[s]) == 0)
                    only = s;
            if (only < 0) {
                fprintf(stderr, "bench_broker: --blast ours|theirs|keep|floor\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else {
            fprintf(stderr, "usage: bench_broker [--runs 1..%d] [--seed S] "
                    "[--blast ours|theirs|keep|floor]\n", MAX_RUNS);
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || seed == 0) {
        fprintf(stderr, "bench_broker: runs must be 1..%d and the seed not 0\n", MAX_RUNS);
        return 2;
    }
    if (bench_mockbroker_path(mockbroker_path, sizeof(mockbroker_path), "bench_broker") != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);

    struct frames fr;
    uint8_t *pool = malloc((size_t)PAYLOAD_POOL * RECORD_BYTES);
    uint64_t x = seed;
    if (pool == NULL || frames_build(&fr, seed) != KW_OK) {
        fprintf(stderr, "bench_broker: could not build the requests\n");
        return 1;
    }
    bench_fill_text(pool, (size_t)PAYLOAD_POOL * RECORD_BYTES, &x);

    if (only >= 0) {
        print_header("records/s");
        int failed = 0;
        for (int i = 0; i < runs; i++) {
            struct result r = run_one((enum side)only, true, &fr, NULL);
            if (r.ok)
                print_run(i + 1, (enum side)only, &r, "");
            failed += !r.ok;
        }
        frames_release(&fr);
        free(pool);
        return failed ? 1 : 0;
    }

    char ld[64];
    bench_loadavg(ld, sizeof(ld));
    double start = bench_now_s();
    printf("bench_broker: seed 0x%016" PRIx64 ", %d rounds, nproc %ld, load %s\n", seed, runs,
           sysconf(_SC_NPROCESSORS_ONLN), ld);
    printf("theirs: librdkafka %s's mock cluster, which keeps at most 5 MiB per partition;\n"
           "ours:   %s --retention-bytes %s (the same);\n"
           "keep:   %s keeping every record (retention -1, its default);\n"
           "floor:  a null broker in this program: reads each request, answers it, nothing else.\n"
           "Each: 1 broker, its own process, fresh for every run; topic \"%s\", %d partitions.\n"
           "Each round runs keep, ours, theirs or the reverse, so ours is beside both; ratios\n"
           "are taken within a round, then their median. MB/s: record batch bytes in 1,\n"
           "message values in 2. CPU s/M: the broker process's CPU seconds per million\n"
           "records; brkr and clnt: the broker's and this process's CPU time / wall time.\n\n",
           rd_kafka_version_str(), mockbroker_path, THEIR_RETENTION, mockbroker_path, TOPIC,
           PARTITIONS);

    int failures = 0;
    struct round rd;
    double brate[3][MAX_RUNS], bcpu[3][MAX_RUNS], mem[3][MAX_RUNS];
    double prate[MAX_RUNS], pcpu[MAX_RUNS];
    int n_blast = 0, n_prod = 0, n_mem[3] = { 0, 0, 0 };

    printf("1. blaster: Produce v7 acks=1, %d connections x %d requests in flight, each request\n"
           "   one %d-record batch of %d-byte values (%zu bytes) for one partition, partitions\n"
           "   in turn; %d records per run; every response decoded, error codes must be 0.\n",
           CONNS, WINDOW, BATCH_RECORDS, RECORD_BYTES, fr.batch_bytes, BLAST_RECORDS);
    print_header("records/s");
    for (int i = 0; i < runs; i++) {
        run_round(&rd, i, true, &fr, NULL);
        for (int s = 0; s < 3; s++) {
            const struct result *r = &rd.r[s];
            if (r->ok && r->rss_before > 0 && r->rss_after > 0)
                mem[s][n_mem[s]++] = (r->rss_after - r->rss_before) / r->batch_bytes;
        }
        if (!rd.ok) {
            printf("  %3d  failed (see the messages above)\n", i + 1);
            failures++;
            continue;
        }
        print_ratio_run(i + 1, OURS, &rd.r[OURS], &rd.r[THEIRS], &brate[0][n_blast],
                        &bcpu[0][n_blast]);
        print_ratio_run(i + 1, OURS_KEEP, &rd.r[OURS_KEEP], &rd.r[THEIRS], &brate[1][n_blast],
                        &bcpu[1][n_blast]);
        print_run(i + 1, THEIRS, &rd.r[THEIRS], "");
        print_ratio_run(i + 1, FLOOR, &rd.r[FLOOR], &rd.r[THEIRS], &brate[2][n_blast],
                        &bcpu[2][n_blast]);
        n_blast++;
    }
    if (n_blast)
        printf("  median ours/theirs: records/s %.2fx, CPU per record %.2fx; "
               "keep/theirs: %.2fx, %.2fx\n\n", bench_median(brate[0], n_blast),
               bench_median(bcpu[0], n_blast), bench_median(brate[1], n_blast),
               bench_median(bcpu[1], n_blast));

    printf("2. librdkafka %s producer: %d messages of %d bytes, null keys, acks=1,\n"
           "   linger.ms=5, other settings default; the clock starts once the topic's metadata\n"
           "   is known and stops when every delivery report is in.\n",
           rd_kafka_version_str(), PRODUCE_MSGS, RECORD_BYTES);
    print_header("msgs/s");
    for (int i = 0; i < runs; i++) {
        run_round(&rd, i, false, NULL, pool);
        if (!rd.ok) {
            printf("  %3d  failed (see the messages above)\n", i + 1);
            failures++;
            continue;
        }
        print_ratio_run(i + 1, OURS, &rd.r[OURS], &rd.r[THEIRS], &prate[n_prod], &pcpu[n_prod]);
        print_run(i + 1, THEIRS, &rd.r[THEIRS], "");
        n_prod++;
    }
    if (n_prod)
        printf("  median ours/theirs: msgs/s %.2fx, CPU per message %.2fx\n\n",
               bench_median(prate, n_prod), bench_median(pcpu, n_prod));

    printf("3. memory: a broker's RSS growth over a blaster run / the batch bytes it "
           "acknowledged\n");
    double per_m = (double)fr.batch_bytes / BATCH_RECORDS * 1e6;
    static const enum side mem_order[] = { OURS_KEEP, OURS, THEIRS };
    for (int j = 0; j < 3; j++) {
        enum side s = mem_order[j];
        if (n_mem[s] == 0)
            continue;
        double m = bench_median(mem[s], n_mem[s]);
        printf("  %-6s %.2fx: %4.0f MB per million records stored (their batches: %.0f MB)%s\n",
               side_name[s], m, mb(m * per_m), mb(per_m),
               s == OURS_KEEP ? "" : "; bounded by retention");
    }

    bench_loadavg(ld, sizeof(ld));
    printf("\nsummary: medians over %d rounds, %.0f s, load now %s\n", runs,
           bench_now_s() - start, ld);
    printf("  %-42s %8s  %-9s %s\n", "measure", "median", "goal", "result");
    if (n_blast) {
        double m = bench_median(brate[0], n_blast);
        printf("  %-42s %7.2fx  %-9s %s\n", "1. blaster records/s, ours/theirs", m, ">= 1.5x",
               verdict(m >= 1.5));
        printf("  %-42s %7.2fx  %-9s %s\n", "   the same, keep/theirs",
               bench_median(brate[1], n_blast),
               "", "(info)");
        printf("  %-42s %7.2fx  %-9s %s\n", "   broker CPU per record, ours/theirs",
               bench_median(bcpu[0], n_blast), "", "(info)");
        printf("  %-42s %7.2fx  %-9s %s\n", "   the same, floor/theirs",
               bench_median(bcpu[2], n_blast), "", "(info)");
    }
    if (n_prod) {
        double m = bench_median(prate, n_prod), c = bench_median(pcpu, n_prod);
        printf("  %-42s %7.2fx  %-9s %s\n", "2. producer msgs/s, ours/theirs", m, ">= 1.0x",
               verdict(m >= 1.0));
        printf("  %-42s %7.2fx  %-9s %s\n", "   broker CPU per message, ours/theirs", c,
               "<= 0.67x", verdict(c <= 0.67));
    }
    if (n_mem[OURS_KEEP]) {
        double m = bench_median(mem[OURS_KEEP], n_mem[OURS_KEEP]);
        printf("  %-42s %7.2fx  %-9s %s\n", "3. keep: RSS growth / batch bytes stored", m,
               "<= 1.3x", verdict(m <= 1.3));
    }
    if (failures)
        printf("  %d of %d rounds FAILED (see the messages above)\n", failures, 2 * runs);

    frames_release(&fr);
    free(pool);
    return failures ? 1 : 0;
}
