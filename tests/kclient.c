#include "tests/kclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/crc.h"
#include "lib/proto/apis.h"
#include "lib/proto/fetch.h"
#include "lib/proto/header.h"
#include "lib/proto/produce.h"
#include "lib/proto/schema.h"

/* Responses bigger than this are a broken size prefix, not data a test asked for. */
#define MAX_FRAME ((int32_t)256 << 20)

struct kc_frame {
    struct kc_frame *next;
    size_t len;
    uint8_t data[];
};

int64_t kc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kc_connect(struct kc_conn *k, int port)
{
    memset(k, 0, sizeof(*k));
    k->fd = -1;
    k->next_correlation_id = 1;
    k->client_id = "kwtest";
    kw_buf_init(&k->in);
    kw_arena_init(&k->arena);
    if (port <= 0 || port > 65535)
        return KC_IO;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return KC_IO;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port);
    /* A blocking connect: loopback completes it from the listen backlog, even while the
     * broker's loop is not running (caller-driven mode). */
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return KC_IO;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Non-blocking from here on: every wait is an explicit poll with a deadline. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    k->fd = fd;
    return 0;
}

void kc_close(struct kc_conn *k)
{
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    while (k->frames) {
        struct kc_frame *f = k->frames;
        k->frames = f->next;
        free(f);
    }
    kw_buf_release(&k->in);
    kw_arena_release(&k->arena);
}

struct pump_wait {
    bool fired;
    short what;
};

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct pump_wait *w = arg;
    w->fired = true;
    w->what = what;
}

/* Waits until fd is ready for events (POLLIN/POLLOUT) or the deadline passes: 1 ready,
 * 0 timeout, KC_IO. With a pump loop, that loop runs meanwhile so a caller-driven broker
 * can make progress. */
static int wait_fd(struct kc_conn *k, short events, int64_t deadline)
{
    struct pollfd pfd = { k->fd, events, 0 };
    for (;;) {
        int64_t left = deadline - kc_now_ms();
        if (left < 0)
            left = 0;
        if (k->pump) {
            int n = poll(&pfd, 1, 0);
            if (n > 0)
                return 1;
            if (n < 0 && errno != EINTR)
                return KC_IO;
            if (left == 0)
                return 0;
            struct pump_wait w = { false, 0 };
            struct timeval tv = { (time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000 };
            short what = (short)((events & POLLIN ? EV_READ : 0) |
                                 (events & POLLOUT ? EV_WRITE : 0));
            if (event_base_once(k->pump, k->fd, what, pump_cb, &w, &tv) != 0)
                return KC_IO;
            while (!w.fired)
                event_base_loop(k->pump, EVLOOP_ONCE);
            if (w.what & EV_TIMEOUT)
                return 0;
            return 1;
        }
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return KC_IO;
    }
}

int kc_encode(struct kw_buf *b, int key, int version, int32_t correlation_id,
              const char *client_id, const void *req)
{
    const struct kw_api *api = kw_api_find(key);
    if (api == NULL)
        return b->err ? b->err : (b->err = KW_ERR_API);
    struct kw_req_header h = {
        .api_key = (int16_t)key,
        .api_version = (int16_t)version,
        .correlation_id = correlation_id,
        .client_id = kw_str_c(client_id),
    };
    size_t at = kw_reserve_i32(b);
    kw_req_header_encode(b, kw_req_header_version(key, version), &h);
    kw_schema_encode(b, api->req, version, kw_api_flexible(key, version), req);
    kw_patch_i32(b, at, (int32_t)(b->len - at - 4));
    return b->err;
}

int64_t kc_send_raw(struct kc_conn *k, const void *p, size_t n, int timeout_ms)
{
    int64_t deadline = kc_now_ms() + timeout_ms;
    size_t done = 0;
    if (k->fd < 0)
        return KC_CLOSED;
    while (done < n) {
        ssize_t w = send(k->fd, (const uint8_t *)p + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(k, POLLOUT, deadline);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            continue;
        }
        return errno == EPIPE || errno == ECONNRESET ? KC_CLOSED : KC_IO;
    }
    return (int64_t)done;
}

int32_t kc_send(struct kc_conn *k, int key, int version, const void *req)
{
    struct kw_buf b;
    kw_buf_init(&b);
    int32_t id = k->next_correlation_id++;
    int rc = kc_encode(&b, key, version, id, k->client_id, req);
    if (rc == KW_OK) {
        int64_t n = kc_send_raw(k, b.data, b.len, KC_WAIT_MS);
        rc = n < 0 ? (int)n : (size_t)n < b.len ? KC_TIMEOUT : KW_OK;
    }
    kw_buf_release(&b);
    return rc == KW_OK ? id : rc;
}

/* Reads what is there (at least one byte unless the deadline passes): KW_OK, KC_TIMEOUT,
 * KC_CLOSED, KC_IO. */
static int fill(struct kc_conn *k, int64_t deadline)
{
    for (;;) {
        uint8_t *p = kw_buf_space(&k->in, 64 << 10);
        if (p == NULL)
            return KW_ERR_NOMEM;
        ssize_t n = recv(k->fd, p, 64 << 10, 0);
        if (n > 0) {
            kw_buf_commit(&k->in, (size_t)n);
            return KW_OK;
        }
        if (n == 0)
            return KC_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET)
            return KC_CLOSED;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return KC_IO;
        int rc = wait_fd(k, POLLIN, deadline);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return KC_TIMEOUT;
    }
}

int kc_read_frame(struct kc_conn *k, int timeout_ms, const uint8_t **frame, size_t *len)
{
    int64_t deadline = kc_now_ms() + timeout_ms;
    if (k->fd < 0)
        return KC_CLOSED;
    for (;;) {
        if (k->in.len >= 4) {
            int32_t size = (int32_t)kw_be32(k->in.data);
            if (size < 0 || size > MAX_FRAME)
                return KW_ERR_RANGE;
            if (k->in.len - 4 >= (size_t)size) {
                struct kc_frame *f = malloc(sizeof(*f) + (size_t)size + 1);
                if (f == NULL)
                    return KW_ERR_NOMEM;
                f->len = (size_t)size;
                memcpy(f->data, k->in.data + 4, (size_t)size);
                memmove(k->in.data, k->in.data + 4 + size, k->in.len - 4 - (size_t)size);
                k->in.len -= 4 + (size_t)size;
                f->next = k->frames;
                k->frames = f;
                *frame = f->data;
                *len = f->len;
                return KW_OK;
            }
        }
        int rc = fill(k, deadline);
        if (rc != KW_OK)
            return rc;
    }
}

int kc_recv(struct kc_conn *k, int key, int version, int32_t correlation_id, void *resp,
            int timeout_ms)
{
    const struct kw_api *api = kw_api_find(key);
    const uint8_t *frame;
    size_t len;
    if (api == NULL)
        return KW_ERR_API;
    int rc = kc_read_frame(k, timeout_ms, &frame, &len);
    if (rc != KW_OK)
        return rc;
    struct kw_reader r;
    struct kw_resp_header h;
    kw_reader_init(&r, frame, len);
    if (kw_resp_header_decode(&r, kw_resp_header_version(key, version), &h) != KW_OK)
        return r.err;
    if (h.correlation_id != correlation_id)
        return KC_CORRELATION;
    if (kw_schema_decode(&r, api->resp, version, kw_api_flexible(key, version), resp,
                         &k->arena) != KW_OK)
        return r.err;
    return kw_reader_left(&r) ? KW_ERR_TRAILING : KW_OK;
}

int kc_call(struct kc_conn *k, int key, int version, const void *req, void *resp)
{
    int32_t id = kc_send(k, key, version, req);
    if (id < 0)
        return id;
    return kc_recv(k, key, version, id, resp, KC_WAIT_MS);
}

int kc_expect_closed(struct kc_conn *k, int timeout_ms)
{
    int64_t deadline = kc_now_ms() + timeout_ms;
    size_t before = k->in.len;
    if (k->fd < 0)
        return KC_CLOSED;
    for (;;) {
        int rc = fill(k, deadline);
        if (rc == KW_OK)
            return 1;
        if (rc == KC_CLOSED)
            return k->in.len > before ? 1 : 0;
        if (rc == KC_TIMEOUT)
            return KC_TIMEOUT;
        return rc;
    }
}

bool kc_readable(struct kc_conn *k)
{
    struct pollfd pfd = { k->fd, POLLIN, 0 };
    return k->in.len > 0 || (k->fd >= 0 && poll(&pfd, 1, 0) > 0);
}

/* --- records ------------------------------------------------------------------------------- */

int kc_batch(struct kw_buf *out, int codec, int64_t pid, int16_t epoch, int32_t seq, int first,
             int n, int64_t ts)
{
    struct kw_batch_hdr proto = {
        .partition_leader_epoch = -1,
        .producer_id = pid,
        .producer_epoch = epoch,
        .base_sequence = seq,
    };
    struct kw_batch_builder bb;
    kw_batch_builder_begin(&bb, out, &proto, codec, -1);
    for (int i = 0; i < n; i++) {
        char key[32], value[32], hv[32];
        long long label = (long long)first + i;
        int kl = snprintf(key, sizeof(key), "k%lld", label);
        int vl = snprintf(value, sizeof(value), "v%lld", label);
        int hl = snprintf(hv, sizeof(hv), "%lld", label);
        struct kw_header_kv h = { { "h", 1 }, { (const uint8_t *)hv, hl } };
        kw_batch_builder_add(&bb, ts + i, (struct kw_bytes){ (const uint8_t *)key, kl },
                             (struct kw_bytes){ (const uint8_t *)value, vl }, &h, 1);
    }
    return kw_batch_builder_finish(&bb);
}

void kc_batch_fix_crc(uint8_t *batch, size_t len)
{
    kw_wbe32(batch + 17, kw_crc32c(0, batch + KW_BATCH_CRC_FROM, len - KW_BATCH_CRC_FROM));
}

static void put_nullable(struct kw_buf *out, const char *s)
{
    if (s == NULL) {
        kw_put_i32(out, -1);
        return;
    }
    kw_put_i32(out, (int32_t)strlen(s));
    kw_put_raw(out, s, strlen(s));
}

void kc_message(struct kw_buf *out, int magic, int64_t ts, const char *key, const char *value)
{
    kw_put_i64(out, 0);
    size_t size_at = kw_reserve_i32(out);
    size_t crc_at = kw_reserve_i32(out);
    kw_put_i8(out, (int8_t)magic);
    kw_put_i8(out, 0);
    if (magic >= 1)
        kw_put_i64(out, ts);
    put_nullable(out, key);
    put_nullable(out, value);
    if (out->err)
        return;
    kw_patch_i32(out, size_at, (int32_t)(out->len - size_at - 4));
    kw_patch_u32(out, crc_at, kw_crc32(0, out->data + crc_at + 4, out->len - crc_at - 4));
}

/* --- one-partition requests ------------------------------------------------------------------ */

int kc_produce(struct kc_conn *k, int version, int acks, const char *topic, int32_t partition,
               const void *records, size_t len, int64_t *base_offset, int64_t *log_start)
{
    struct kw_produce_req_partition p = {
        .index = partition,
        .records = { records, (int32_t)len },
    };
    struct kw_produce_req_topic t = {
        .name = kw_str_c(topic), .n_partition_data = 1, .partition_data = &p,
    };
    struct kw_produce_req req = {
        .transactional_id = KW_STR_NULL,
        .acks = (int16_t)acks,
        .timeout_ms = 5000,
        .n_topic_data = 1,
        .topic_data = &t,
    };
    struct kw_produce_resp resp;
    int32_t id = kc_send(k, KW_API_PRODUCE, version, &req);
    if (id < 0 || acks == 0)
        return id < 0 ? id : 0;
    int rc = kc_recv(k, KW_API_PRODUCE, version, id, &resp, KC_WAIT_MS);
    if (rc != KW_OK)
        return rc;
    if (resp.n_responses != 1 || resp.responses[0].n_partition_responses != 1 ||
        !kw_str_eq(resp.responses[0].name, topic))
        return KW_ERR_CORRUPT;
    const struct kw_produce_resp_partition *o = &resp.responses[0].partition_responses[0];
    if (o->index != partition)
        return KW_ERR_CORRUPT;
    if (base_offset)
        *base_offset = o->base_offset;
    if (log_start)
        *log_start = o->log_start_offset;
    return o->error_code;
}

static int32_t fetch_send(struct kc_conn *k, int version, const char *topic, int32_t partition,
                          int64_t offset, int32_t max_bytes, int32_t max_wait_ms,
                          int32_t min_bytes, int32_t current_leader_epoch)
{
    struct kw_fetch_req_partition p = {
        .partition = partition,
        .current_leader_epoch = current_leader_epoch,
        .fetch_offset = offset,
        .last_fetched_epoch = -1,
        .log_start_offset = -1,
        .partition_max_bytes = max_bytes,
    };
    struct kw_fetch_req_topic t = { .topic = kw_str_c(topic), .n_partitions = 1, .partitions = &p };
    struct kw_fetch_req req = {
        .cluster_id = KW_STR_NULL,
        .replica_id = -1,
        .max_wait_ms = max_wait_ms,
        .min_bytes = min_bytes,
        .max_bytes = max_bytes,
        .session_id = 0,
        .session_epoch = -1,
        .n_topics = 1,
        .topics = &t,
        .rack_id = kw_str_c(""),
    };
    return kc_send(k, KW_API_FETCH, version, &req);
}

int32_t kc_fetch_send(struct kc_conn *k, int version, const char *topic, int32_t partition,
                      int64_t offset, int32_t max_bytes, int32_t max_wait_ms, int32_t min_bytes)
{
    return fetch_send(k, version, topic, partition, offset, max_bytes, max_wait_ms, min_bytes, -1);
}

int kc_fetch_recv(struct kc_conn *k, int version, int32_t correlation_id, int timeout_ms,
                  struct kc_fetched *out)
{
    struct kw_fetch_resp resp;
    memset(out, 0, sizeof(*out));
    int rc = kc_recv(k, KW_API_FETCH, version, correlation_id, &resp, timeout_ms);
    if (rc != KW_OK)
        return rc;
    if (resp.n_responses != 1 || resp.responses[0].n_partitions != 1)
        return KW_ERR_CORRUPT;
    const struct kw_fetch_resp_partition *p = &resp.responses[0].partitions[0];
    out->error_code = p->error_code;
    out->high_watermark = p->high_watermark;
    out->log_start_offset = p->log_start_offset;
    out->records = p->records.ptr;
    out->len = p->records.len > 0 ? (size_t)p->records.len : 0;
    out->session_id = resp.session_id;
    return KW_OK;
}

int kc_fetch(struct kc_conn *k, int version, const char *topic, int32_t partition,
             int64_t offset, int32_t max_bytes, int32_t max_wait_ms, int32_t min_bytes,
             int32_t current_leader_epoch, struct kc_fetched *out)
{
    int32_t id = fetch_send(k, version, topic, partition, offset, max_bytes, max_wait_ms,
                            min_bytes, current_leader_epoch);
    if (id < 0) {
        memset(out, 0, sizeof(*out));
        return id;
    }
    return kc_fetch_recv(k, version, id, KC_WAIT_MS + (max_wait_ms > 0 ? max_wait_ms : 0), out);
}

int64_t kc_count_records(const uint8_t *p, size_t len, int *magic, int64_t *first,
                         int64_t *last)
{
    int64_t n = 0;
    size_t at = 0;
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    *magic = -1;
    *first = *last = -1;
    while (at < len) {
        struct kw_batch_hdr h;
        int size = kw_batch_peek(p + at, len - at, &h);
        if (size == KW_ERR_SHORT)
            break;
        if (size < 0) {
            n = size;
            break;
        }
        if (*magic < 0)
            *magic = h.magic;
        if (h.magic == 2) {
            struct kw_record_iter it;
            struct kw_record rec;
            int rc = kw_record_iter_init(&it, p + at, (size_t)size, &scratch);
            while (rc >= 0 && (rc = kw_record_iter_next(&it, &rec)) == 1) {
                if (*first < 0)
                    *first = rec.offset;
                *last = rec.offset;
                n++;
            }
            if (rc < 0) {
                n = rc;
                break;
            }
        } else {
            /* offset(8) size(4) crc(4): the CRC-32 covers magic to the end. */
            uint32_t crc = kw_be32(p + at + 12);
            if (kw_crc32(0, p + at + 16, (size_t)size - 16) != crc) {
                n = KW_ERR_CRC;
                break;
            }
            if (*first < 0)
                *first = h.base_offset;
            *last = h.base_offset;
            n++;
        }
        at += (size_t)size;
    }
    kw_buf_release(&scratch);
    return n;
}
