/* Topics and Metadata. One Metadata request at a time, for every topic produced to: at start,
 * when a new topic appears, periodically (topic.metadata.refresh.interval.ms, bounded by
 * metadata.max.age.ms), and after errors that suggest leadership moved, spaced by
 * retry.backoff.ms. A topic the cluster does not know fails its messages; one being created
 * (LEADER_NOT_AVAILABLE) is asked about again. */
#include "producer/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "lib/proto/metadata.h"

struct kp__topic *kp__topic_get(struct kp_producer *p, const char *name, bool create)
{
    /* Most producers write to one topic or a few: compare the last one found first. */
    if (p->last_topic && strcmp(p->last_topic->name, name) == 0)
        return p->last_topic;
    for (int i = 0; i < p->n_topics; i++) {
        if (strcmp(p->topics[i]->name, name) == 0)
            return p->last_topic = p->topics[i];
    }
    if (!create)
        return NULL;
    if (p->n_topics == p->cap_topics) {
        int cap = p->cap_topics ? p->cap_topics * 2 : 8;
        struct kp__topic **n = realloc(p->topics, (size_t)cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        p->topics = n;
        p->cap_topics = cap;
    }
    struct kp__topic *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->name = strdup(name)) == NULL) {
        free(t);
        return NULL;
    }
    t->name_len = strlen(name);
    t->state = KP__T_UNKNOWN;
    t->sticky_part = -1;
    p->topics[p->n_topics++] = t;
    p->topics_added = true;
    return p->last_topic = t;
}

void kp__topics_destroy(struct kp_producer *p)
{
    for (int i = 0; i < p->n_topics; i++) {
        struct kp__topic *t = p->topics[i];
        for (int32_t j = 0; j < t->n_parts; j++)
            free(t->parts[j]);
        free(t->parts);
        free(t->avail);
        kp__batch_free(t->ua);
        free(t->name);
        free(t);
    }
    free(p->topics);
    p->topics = NULL;
    p->n_topics = 0;
    p->last_topic = NULL;
}

void kp__metadata_refresh(struct kp_producer *p, const char *why)
{
    if (!p->md_wanted)
        kp__dbg(p, KP__DBG_METADATA, "metadata refresh wanted: %s", why);
    p->md_wanted = true;
}

/* Grows t to n partitions (lock held). Partitions never shrink: Kafka cannot remove them. */
static int grow_parts(struct kp__topic *t, int32_t n)
{
    if (n <= t->n_parts)
        return 0;
    struct kp__part **parts = realloc(t->parts, (size_t)n * sizeof(*parts));
    int32_t *avail = realloc(t->avail, (size_t)n * sizeof(*avail));
    if (parts)
        t->parts = parts;
    if (avail)
        t->avail = avail;
    if (parts == NULL || avail == NULL)
        return -1;
    for (int32_t i = t->n_parts; i < n; i++) {
        struct kp__part *pt = calloc(1, sizeof(*pt));
        if (pt == NULL)
            return -1;
        pt->topic = t;
        pt->id = i;
        pt->leader_id = -1;
        TAILQ_INIT(&pt->queue);
        t->parts[i] = pt;
        t->n_parts = i + 1;
    }
    return 0;
}

/* Fails what a topic holds (lock held): the cluster said it cannot take it. */
static void fail_topic(struct kp_producer *p, struct kp__topic *t, int err, const char *why)
{
    if (t->ua) {
        struct kp__batch *b = t->ua;
        t->ua = NULL;
        kp__batch_fail(p, b, err, why);
    }
    for (int32_t j = 0; j < t->n_parts; j++)
        kp__part_fail_queued(p, t->parts[j], err, why);
}

static bool update_topic(struct kp_producer *p, struct kp__topic *t,
                         const struct kw_metadata_resp_topic *mt)
{
    bool refresh = false;
    char why[200];
    int16_t ec = mt->error_code;
    if (ec == KW_EC_UNKNOWN_TOPIC_OR_PARTITION) {
        if (t->state != KP__T_NOTEXISTS)
            kp__log(p, KP_LOG_WARNING, KP__DBG_TOPIC, "topic \"%s\" does not exist", t->name);
        t->state = KP__T_NOTEXISTS;
        snprintf(why, sizeof(why), "topic \"%s\" does not exist in the cluster", t->name);
        fail_topic(p, t, KW_EC_UNKNOWN_TOPIC_OR_PARTITION, why);
        return false;
    }
    if (ec == KW_EC_LEADER_NOT_AVAILABLE || (ec && kw_error_retriable(ec))) {
        /* Being created, or a passing trouble: ask again soon. */
        kp__dbg(p, KP__DBG_METADATA, "topic \"%s\": %s, asking again", t->name,
                kw_error_name(ec));
        return true;
    }
    if (ec) {
        kp__log(p, KP_LOG_ERR, KP__DBG_TOPIC, "topic \"%s\": %s", t->name, kw_error_name(ec));
        t->state = KP__T_ERROR;
        t->err = ec;
        snprintf(why, sizeof(why), "topic \"%s\": %s", t->name, kw_error_text(ec));
        fail_topic(p, t, ec, why);
        return false;
    }
    if (mt->n_partitions <= 0)
        return true;            /* no partitions yet: not usable */
    if (grow_parts(t, mt->n_partitions) != 0)
        return true;
    for (int32_t i = 0; i < mt->n_partitions; i++) {
        const struct kw_metadata_resp_partition *mp = &mt->partitions[i];
        if (mp->partition_index < 0 || mp->partition_index >= t->n_parts)
            continue;
        struct kp__part *pt = t->parts[mp->partition_index];
        bool usable = mp->leader_id >= 0 &&
                      (mp->error_code == 0 || mp->error_code == KW_EC_REPLICA_NOT_AVAILABLE);
        int32_t leader = usable ? mp->leader_id : -1;
        struct kp__broker *b = leader >= 0 ? kp__broker_find(p, leader) : NULL;
        if (b == NULL)
            leader = -1;
        if (leader != pt->leader_id)
            kp__dbg(p, KP__DBG_METADATA, "%s [%d]: leader %d -> %d", t->name, pt->id,
                    pt->leader_id, leader);
        pt->leader_id = leader;
        pt->leader = b;
        if (leader < 0)
            refresh = true;
    }
    t->n_avail = 0;
    for (int32_t i = 0; i < t->n_parts; i++)
        if (t->parts[i]->leader)
            t->avail[t->n_avail++] = i;
    if (t->state != KP__T_EXISTS)
        kp__dbg(p, KP__DBG_TOPIC, "topic \"%s\": %d partitions", t->name, t->n_parts);
    t->state = KP__T_EXISTS;
    t->err = 0;
    kp__topic_assign_ua(p, t);
    return refresh;
}

static void md_cb(struct kp_producer *p, struct kp__req *req, int err, struct kw_reader *r)
{
    p->md_req = NULL;
    if (err) {
        if (err != KP_ERR__DESTROY)
            kp__metadata_refresh(p, "the Metadata request failed");
        return;
    }
    struct kw_metadata_resp m;
    if (kw_metadata_resp_decode(r, req->version, &m, &p->arena) != KW_OK) {
        kp__log(p, KP_LOG_ERR, KP__DBG_METADATA, "%s: Metadata v%d response does not parse: "
                "%s at %s", req->b->name, req->version, kw_strerror(r->err),
                r->err_field ? r->err_field : "?");
        kp__metadata_refresh(p, "a Metadata response did not parse");
        return;
    }
    for (int32_t i = 0; i < m.n_brokers; i++) {
        char host[256];
        kw_str_copy(m.brokers[i].host, host, sizeof(host));
        kp__broker_learn(p, m.brokers[i].node_id, host, m.brokers[i].port);
    }
    int64_t now = kp__now(p);
    bool refresh = false;
    pthread_mutex_lock(&p->lock);
    for (int32_t i = 0; i < m.n_topics; i++) {
        char name[256];
        if (m.topics[i].name.len < 0 || (size_t)m.topics[i].name.len >= sizeof(name))
            continue;
        kw_str_copy(m.topics[i].name, name, sizeof(name));
        struct kp__topic *t = kp__topic_get(p, name, false);
        if (t && update_topic(p, t, &m.topics[i]))
            refresh = true;
    }
    pthread_mutex_unlock(&p->lock);
    int64_t every = p->conf.v.refresh_interval_ms < 0 ? -1 : p->conf.v.refresh_interval_ms;
    if (every < 0 || every > p->conf.v.metadata_max_age_ms)
        every = every < 0 ? -1 : p->conf.v.metadata_max_age_ms;
    p->md_next_us = every < 0 ? INT64_MAX : now + every * 1000;
    if (refresh)
        kp__metadata_refresh(p, "a topic or partition has no leader yet");
}

void kp__metadata_serve(struct kp_producer *p, int64_t now_us, int64_t *next_us)
{
    if (p->md_req)
        return;
    pthread_mutex_lock(&p->lock);
    bool added = p->topics_added;
    pthread_mutex_unlock(&p->lock);
    if (!p->md_wanted && !added && now_us < p->md_next_us) {
        if (p->md_next_us < *next_us)
            *next_us = p->md_next_us;
        return;
    }
    /* Error-driven refreshes are spaced out; a topic nobody asked about yet goes at once. */
    if (!added && now_us < p->md_fast_us) {
        if (p->md_fast_us < *next_us)
            *next_us = p->md_fast_us;
        return;
    }
    struct kp__broker *b = kp__broker_any_up(p, now_us, next_us);
    if (b == NULL)
        return;
    int version = kp__broker_version(b, KW_API_METADATA, 0);
    if (version < 0) {
        kp__broker_fail(b, KP_ERR__UNSUPPORTED_FEATURE, "broker does not offer Metadata");
        return;
    }
    struct kp__req *req = kp__req_new(b, KW_API_METADATA, version);
    if (req == NULL)
        return;
    struct kw_metadata_req m = { .allow_auto_topic_creation = true };
    pthread_mutex_lock(&p->lock);
    p->topics_added = false;
    int n = p->n_topics;
    m.topics = calloc((size_t)(n ? n : 1), sizeof(*m.topics));
    for (int i = 0; m.topics && i < n; i++)
        m.topics[i].name = (struct kw_str){ p->topics[i]->name, (int32_t)p->topics[i]->name_len };
    pthread_mutex_unlock(&p->lock);
    if (m.topics == NULL) {
        kp__req_free(req);
        return;
    }
    /* Topic names stay put until destroy, so the request may point at them. v0 reads an empty
     * list as "all topics", which costs only a bigger answer. */
    m.n_topics = n;
    kw_metadata_req_encode(&req->frame, version, &m);
    free(m.topics);
    p->md_wanted = false;
    p->md_fast_us = now_us + (int64_t)p->conf.v.retry_backoff_ms * 1000;
    p->md_req = req;
    kp__dbg(p, KP__DBG_METADATA, "%s: Metadata v%d request for %d topic%s", b->name, version, n,
            n == 1 ? "" : "s");
    kp__req_send(req, md_cb, (int64_t)p->conf.v.socket_timeout_ms * 1000, false);
}
