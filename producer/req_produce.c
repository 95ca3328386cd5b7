/* ProduceRequests: each carries the ready head batch of every partition the broker leads (one
 * batch per partition, as Produce v3+ requires), up to message.max.bytes of batches, pipelined
 * up to max.in.flight.requests.per.connection. Responses end each batch: acknowledged, back to the
 * head of its partition for a retry after a backoff, or failed. */
#include "producer/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "lib/proto/produce.h"

int64_t kp__backoff_us(struct kp_producer *p, int attempt)
{
    int64_t ms = p->conf.v.retry_backoff_ms, max = p->conf.v.retry_backoff_max_ms;
    for (int i = 1; i < attempt && ms < max; i++)
        ms *= 2;
    if (ms > max)
        ms = max;
    /* 80% .. 120% of it, as librdkafka's jitter, but never past the maximum. */
    int64_t us = ms * 1000 * (80 + (int64_t)(kp__rand(&p->loop_rng) % 41)) / 100;
    return us > max * 1000 ? max * 1000 : us;
}

static bool retriable(int ec)
{
    switch (ec) {
    case KP_ERR__TRANSPORT:
    case KP_ERR__TIMED_OUT:
    case KP_ERR__BAD_MSG:
    case KP_ERR__INCONSISTENT:
        return true;
    default:
        return ec > 0 && kw_error_retriable(ec);
    }
}

/* Errors after which the partition's leader may have moved. */
static bool leader_error(int ec)
{
    switch (ec) {
    case KW_EC_NOT_LEADER_OR_FOLLOWER:
    case KW_EC_LEADER_NOT_AVAILABLE:
    case KW_EC_UNKNOWN_TOPIC_OR_PARTITION:
    case KW_EC_FENCED_LEADER_EPOCH:
    case KW_EC_UNKNOWN_LEADER_EPOCH:
    case KW_EC_KAFKA_STORAGE_ERROR:
    case KW_EC_NOT_ENOUGH_REPLICAS:
        return true;
    default:
        return false;
    }
}

static void success(struct kp_producer *p, struct kp__batch *bt, int64_t offset, int64_t lat,
                    int status)
{
    bt->offset = offset;
    bt->log_append_time = lat;
    if (p->idemp_state != KP__I_NONE && bt->base_seq >= 0)
        kp__idemp_acked(p, bt);
    kp__batch_done(p, bt, 0, status, NULL);
}

/* Decides what happens to one batch after an attempt (lock held). ec is 0, a Kafka code or a
 * local one; possibly says whether this attempt may have been written. *fatal gets a code when
 * the producer must stop. */
static void batch_result(struct kp_producer *p, struct kp__batch *bt, int ec,
                         const struct kw_produce_resp_partition *rp, bool possibly, int *fatal)
{
    struct kp__part *pt = bt->part;
    struct kp__topic *t = bt->topic;
    int64_t now = kp__now(p);
    char why[320];

    if (ec == 0) {
        success(p, bt, rp->base_offset, rp->log_append_time_ms, KP_STATUS_PERSISTED);
        return;
    }
    bt->last_err = ec;
    /* The broker appended before it failed these: the data may be in the log (WIRE.md §10). */
    if (possibly || ec == KW_EC_REQUEST_TIMED_OUT || ec == KW_EC_NOT_ENOUGH_REPLICAS_AFTER_APPEND)
        bt->possibly = true;
    if (rp && rp->error_message.len > 0)
        snprintf(why, sizeof(why), "%s: %.*s", kp_err2name(ec), (int)rp->error_message.len,
                 rp->error_message.ptr);
    else
        snprintf(why, sizeof(why), "%s: %s", kp_err2name(ec), kp_err2str(ec));
    if (leader_error(ec)) {
        /* Produce v10+ names the new leader (KIP-951): use it before Metadata confirms. */
        if (rp && ec == KW_EC_NOT_LEADER_OR_FOLLOWER && rp->current_leader.leader_id >= 0) {
            struct kp__broker *nb = kp__broker_find(p, rp->current_leader.leader_id);
            if (nb) {
                pt->leader = nb;
                pt->leader_id = nb->id;
            }
        }
        kp__metadata_refresh(p, why);
    }

    enum kp__verdict v = retriable(ec) ? KP__V_RETRY : KP__V_FAIL;
    if (p->idemp_state != KP__I_NONE && ec != KP_ERR__DESTROY)
        v = kp__idemp_classify(p, bt, ec);
    if (v == KP__V_DONE) {
        /* A duplicate of a batch the broker has: it is in the log, offset unknown. */
        success(p, bt, -1, -1, KP_STATUS_PERSISTED);
        return;
    }
    if (v == KP__V_FATAL) {
        *fatal = ec;
        kp__batch_fail(p, bt, ec, why);
        return;
    }
    if (v == KP__V_RETRY) {
        int err = 0;
        const char *stop = NULL;
        if (p->stopping) {
            err = KP_ERR__PURGE_INFLIGHT;
            stop = "purged: the producer was destroyed";
        } else if (p->fatal_err) {
            err = KP_ERR__FATAL;
            stop = p->fatal_reason;
        } else if (t->state != KP__T_EXISTS) {
            err = t->state == KP__T_NOTEXISTS ? KW_EC_UNKNOWN_TOPIC_OR_PARTITION : t->err;
            stop = "the topic is gone";
        } else if (now >= bt->deadline_us) {
            err = KP_ERR__MSG_TIMED_OUT;
            stop = "delivery.timeout.ms passed";
        } else if (bt->attempts > p->conf.v.retries) {
            err = ec;
            stop = "retries exhausted";
        }
        if (err == 0) {
            int64_t backoff = kp__backoff_us(p, bt->attempts);
            kp__dbg(p, KP__DBG_MSG, "%s [%d]: %d message%s failed (%s), retry %d in %.0f ms",
                    t->name, pt->id, bt->count, bt->count == 1 ? "" : "s", why, bt->attempts,
                    (double)backoff / 1000.0);
            kp__part_requeue(pt, bt);
            if (pt->retry_at_us < now + backoff)
                pt->retry_at_us = now + backoff;
            return;
        }
        char msg[720];
        snprintf(msg, sizeof(msg), "%s after %d attempt%s; last error %s", stop, bt->attempts,
                 bt->attempts == 1 ? "" : "s", why);
        kp__batch_fail(p, bt, err, msg);
        return;
    }
    if (ec == KP_ERR__DESTROY)
        kp__batch_fail(p, bt, KP_ERR__PURGE_INFLIGHT, "purged: the producer was destroyed");
    else
        kp__batch_fail(p, bt, ec, why);
}

static void produce_cb(struct kp_producer *p, struct kp__req *req, int err, struct kw_reader *r)
{
    struct kp__broker *b = req->b;
    b->n_produce_inflight--;
    p->n_produce_inflight--;
    for (int i = 0; i < req->n_batches; i++)
        req->batches[i]->part->n_inflight--;
    int fatal = 0;
    struct kw_produce_resp m = { 0 };
    int derr = 0;
    if (err == 0 && !req->no_response &&
        kw_produce_resp_decode(r, req->version, &m, &p->arena) != KW_OK) {
        kp__log(p, KP_LOG_ERR, KP__DBG_PROTOCOL, "%s: Produce v%d response does not parse: %s "
                "at %s", b->name, req->version, kw_strerror(r->err),
                r->err_field ? r->err_field : "?");
        derr = KP_ERR__BAD_MSG;
    }

    pthread_mutex_lock(&p->lock);
    if (err || derr) {
        /* Written means the broker may have appended it; an unwritten request cannot have. */
        bool written = err ? kp__req_written(req) : true;
        for (int i = 0; i < req->n_batches; i++)
            batch_result(p, req->batches[i], err ? err : derr, NULL, written, &fatal);
    } else if (req->no_response) {
        /* acks=0: written is all we will know. */
        for (int i = 0; i < req->n_batches; i++)
            success(p, req->batches[i], -1, -1, KP_STATUS_POSSIBLY_PERSISTED);
    } else {
        int left = req->n_batches;
        for (int32_t i = 0; i < m.n_responses && left; i++) {
            const struct kw_produce_resp_topic *rt = &m.responses[i];
            for (int32_t j = 0; j < rt->n_partition_responses && left; j++) {
                const struct kw_produce_resp_partition *rp = &rt->partition_responses[j];
                for (int k = 0; k < req->n_batches; k++) {
                    struct kp__batch *bt = req->batches[k];
                    if (bt == NULL || bt->part->id != rp->index ||
                        rt->name.len != (int32_t)bt->topic->name_len ||
                        memcmp(rt->name.ptr, bt->topic->name, bt->topic->name_len) != 0)
                        continue;
                    req->batches[k] = NULL;
                    left--;
                    batch_result(p, bt, rp->error_code, rp, false, &fatal);
                    break;
                }
            }
        }
        for (int k = 0; k < req->n_batches; k++) {
            if (req->batches[k] == NULL)
                continue;
            kp__log(p, KP_LOG_WARNING, KP__DBG_PROTOCOL, "%s: Produce response omits %s [%d]",
                    b->name, req->batches[k]->topic->name, req->batches[k]->part->id);
            batch_result(p, req->batches[k], KP_ERR__INCONSISTENT, NULL, true, &fatal);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (m.throttle_time_ms > 0 && err == 0 && !derr && !req->no_response) {
        kp__dbg(p, KP__DBG_BROKER, "%s: throttled for %d ms", b->name, m.throttle_time_ms);
        /* KIP-219: from Produce v6 the broker answers first and then stops reading from us;
         * a request sent meanwhile would only age on its socket, time out, and be sent again
         * elsewhere while the broker still holds it. Older brokers delayed this answer
         * instead. */
        int64_t until = kp__now(p) + (int64_t)m.throttle_time_ms * 1000;
        if (req->version >= 6 && until > b->throttle_until_us)
            b->throttle_until_us = until;
    }
    if (fatal)
        kp__fatal(p, fatal, "idempotence cannot be kept: %s [%s]", kp_err2name(fatal),
                  kp_err2str(fatal));
}

/* Sends the batches taken for b (topic-major order) as one ProduceRequest. */
static void send_batches(struct kp_producer *p, struct kp__broker *b, struct kp__batch **arr,
                         int n, int version, int64_t now)
{
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (kp__batch_finish(p, arr[i], version) != 0) {
            pthread_mutex_lock(&p->lock);
            kp__batch_fail(p, arr[i], KP_ERR__FAIL, "out of memory building the batch");
            pthread_mutex_unlock(&p->lock);
            continue;
        }
        arr[kept++] = arr[i];
    }
    n = kept;
    struct kp__req *req = n ? kp__req_new(b, KW_API_PRODUCE, version) : NULL;
    struct kw_produce_req_topic *topics = calloc((size_t)(n ? n : 1), sizeof(*topics));
    struct kw_produce_req_partition *parts = calloc((size_t)(n ? n : 1), sizeof(*parts));
    if (n == 0 || req == NULL || topics == NULL || parts == NULL) {
        pthread_mutex_lock(&p->lock);
        for (int i = 0; i < n; i++)
            kp__batch_fail(p, arr[i], KP_ERR__FAIL, "out of memory building the request");
        pthread_mutex_unlock(&p->lock);
        kp__req_free(req);
        free(arr);
        free(topics);
        free(parts);
        return;
    }
    struct kw_produce_req m = { .transactional_id = p->txn_on
                                                        ? kw_str_c(p->conf.v.transactional_id)
                                                        : KW_STR_NULL,
                                .acks = (int16_t)p->conf.v.acks,
                                .timeout_ms = p->conf.v.request_timeout_ms,
                                .topic_data = topics };
    /* As librdkafka: the broker waits request.timeout.ms for acks (TimeoutMs) and answers
     * REQUEST_TIMED_OUT after it; we wait socket.timeout.ms for any answer, so the broker's
     * normally comes first. */
    int64_t deadline = now + (int64_t)p->conf.v.socket_timeout_ms * 1000;
    for (int i = 0; i < n; i++) {
        struct kp__batch *bt = arr[i];
        if (i == 0 || bt->topic != arr[i - 1]->topic) {
            struct kw_produce_req_topic *t = &topics[m.n_topic_data++];
            t->name = (struct kw_str){ bt->topic->name, (int32_t)bt->topic->name_len };
            t->partition_data = &parts[i];
        }
        topics[m.n_topic_data - 1].n_partition_data++;
        parts[i].index = bt->part->id;
        parts[i].records = (struct kw_bytes){ bt->buf.data, (int32_t)bt->buf.len };
        /* delivery.timeout.ms bounds a message's whole life, in flight too. */
        if (bt->deadline_us < deadline)
            deadline = bt->deadline_us;
        bt->attempts++;
        if (bt->attempts > 1)
            p->stat_retries++;
        bt->in_retry = false;
        bt->part->n_inflight++;
        bt->part->inflight_to = b;
    }
    kw_produce_req_encode(&req->frame, version, &m);
    free(topics);
    free(parts);
    req->batches = arr;
    req->n_batches = n;
    b->n_produce_inflight++;
    p->n_produce_inflight++;
    p->stat_requests++;
    kp__dbg(p, KP__DBG_MSG, "%s: Produce v%d with %d batch%s (%d topic%s)", b->name, version, n,
            n == 1 ? "" : "es", m.n_topic_data, m.n_topic_data == 1 ? "" : "s");
    kp__req_send(req, produce_cb, deadline > now ? deadline - now : 1000, p->conf.v.acks == 0);
}

void kp__produce_serve(struct kp_producer *p, struct kp__broker *b, int64_t now_us,
                       int64_t *next_us)
{
    bool may = b->state == KP__B_UP && kp__idemp_may_send(p);
    int version = kp__broker_version(b, KW_API_PRODUCE, 3);
    size_t limit = (size_t)p->conf.v.message_max_bytes;
    if (b->state == KP__B_UP && b->throttle_until_us > now_us) {
        if (b->throttle_until_us < *next_us)
            *next_us = b->throttle_until_us;
        return;
    }
    for (;;) {
        if (b->state == KP__B_UP && b->n_produce_inflight >= p->conf.v.max_inflight)
            return;             /* a response will bring us back */
        struct kp__batch **arr = NULL;
        int n = 0, cap = 0;
        size_t bytes = 0;
        bool needed = false;
        pthread_mutex_lock(&p->lock);
        for (int i = 0; i < p->n_topics; i++) {
            struct kp__topic *t = p->topics[i];
            if (t->state != KP__T_EXISTS)
                continue;
            for (int32_t j = 0; j < t->n_parts; j++) {
                struct kp__part *pt = t->parts[j];
                if (pt->leader != b || TAILQ_EMPTY(&pt->queue))
                    continue;
                needed = true;
                if (!may || (p->txn_on && !kp__txn_may_send(p, pt)))
                    continue;
                struct kp__batch *head = TAILQ_FIRST(&pt->queue);
                size_t size = head->finished ? head->buf.len : kw_batch_builder_size(&head->bb);
                if (n > 0 && bytes + size > limit)
                    continue;   /* the next request takes it */
                struct kp__batch *bt = kp__part_take(p, pt, b, now_us, next_us);
                if (bt == NULL)
                    continue;
                if (n == cap) {
                    int ncap = cap ? cap * 2 : 8;
                    struct kp__batch **na = realloc(arr, (size_t)ncap * sizeof(*na));
                    if (na == NULL) {
                        kp__part_requeue(pt, bt);
                        bt->in_retry = bt->attempts > 0;
                        continue;
                    }
                    arr = na;
                    cap = ncap;
                }
                arr[n++] = bt;
                bytes += size;
            }
        }
        if (n && version < 0) {
            for (int i = 0; i < n; i++)
                kp__batch_fail(p, arr[i], KP_ERR__UNSUPPORTED_FEATURE,
                               "the partition's leader does not speak Produce v3+");
            n = 0;
        }
        pthread_mutex_unlock(&p->lock);
        if (b->state != KP__B_UP) {
            if (needed)
                kp__broker_want(b, now_us, next_us);
            free(arr);
            return;
        }
        if (n == 0) {
            free(arr);
            return;
        }
        send_batches(p, b, arr, n, version, now_us);
    }
}
