/* The cluster: configuration, the loop thread and cross-thread calls, topics, inspection. */
#include "mockbroker/internal.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/batch.h"
#include "lib/errors.h"
#include "lib/ev/clock_ev.h"

void mb_config_init(struct mb_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->brokers = 1;
    cfg->auto_create = true;
    cfg->default_partitions = 1;
    cfg->default_replication = 0;   /* min(3, brokers) */
    cfg->max_partitions = 1000;
    cfg->max_request_size = 100u << 20;
    cfg->message_max_bytes = 1048588;
    cfg->retention_bytes = -1;
    cfg->producer_id_base = 1000;
    cfg->replica_lag_time_max_ms = 30000;
    cfg->journal_max = 100000;
    cfg->log_level = MB_LOG_INFO;
}

void mb__log(struct mb_cluster *c, int level, const char *fmt, ...)
{
    if (level > c->cfg.log_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (c->cfg.log_cb) {
        c->cfg.log_cb(c->cfg.log_opaque, level, line);
        return;
    }
    static const char *const names[] = { "error", "warn", "info", "debug" };
    fprintf(stderr, "mockbroker %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], line);
}

/* splitmix64: small, seedable, and the same sequence on every platform. */
uint64_t mb__rand(struct mb_cluster *c)
{
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* --- cross-thread calls ------------------------------------------------------------------- */

struct mb__pending_call {
    mb__call_fn fn;
    void *arg;
    bool done;
    struct mb__pending_call *next;
};

static bool on_loop_thread(struct mb_cluster *c)
{
    return !c->thread_started || pthread_equal(pthread_self(), c->thread);
}

static void calls_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mb_cluster *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        struct mb__pending_call *call = c->calls;
        if (call) {
            c->calls = call->next;
            if (c->calls == NULL)
                c->calls_tail = NULL;
        }
        pthread_mutex_unlock(&c->lock);
        if (call == NULL)
            return;
        call->fn(c, call->arg);
        pthread_mutex_lock(&c->lock);
        call->done = true;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
}

void mb__call(struct mb_cluster *c, mb__call_fn fn, void *arg)
{
    if (on_loop_thread(c)) {
        fn(c, arg);
        return;
    }
    struct mb__pending_call call = { fn, arg, false, NULL };
    pthread_mutex_lock(&c->lock);
    if (c->calls_tail)
        c->calls_tail->next = &call;
    else
        c->calls = &call;
    c->calls_tail = &call;
    event_active(c->call_ev, EV_READ, 0);
    while (!call.done)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

void mb__state_changed(struct mb_cluster *c)
{
    if (c->thread_started) {
        pthread_mutex_lock(&c->lock);
        c->state_version++;
        if (c->waiters)
            pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    } else {
        c->state_version++;
    }
}

static void use_pthreads(void)
{
    evthread_use_pthreads();
}

static void *loop_main(void *arg)
{
    struct mb_cluster *c = arg;
    /* Writing to a socket its peer has reset raises SIGPIPE in the writing thread, and by
     * default that ends the process embedding us. Blocked in this thread, the write just
     * fails (EPIPE) and the connection is closed like any other failed one. */
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    event_base_loop(c->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* --- life cycle ----------------------------------------------------------------------------- */

static void stop_loop(struct mb_cluster *c, void *arg)
{
    (void)arg;
    mb__brokers_stop(c);
    mb__groups_destroy(c);
    mb__txns_destroy(c);
    mb__rules_destroy(c);
    struct mb__topic *t;
    while ((t = LIST_FIRST(&c->topics)) != NULL)
        mb__topic_delete(c, t);
    event_base_loopbreak(c->base);
}

struct mb_cluster *mb_cluster_new(const struct mb_config *cfg, char *errstr, size_t errstr_size)
{
    static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
    struct mb_cluster *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    LIST_INIT(&c->topics);
    LIST_INIT(&c->fetch_waiters);
    LIST_INIT(&c->produce_waiters);
    LIST_INIT(&c->groups);
    LIST_INIT(&c->txns);
    TAILQ_INIT(&c->held);
    TAILQ_INIT(&c->rules);
    if (cfg)
        c->cfg = *cfg;
    else
        mb_config_init(&c->cfg);
    if (c->cfg.brokers < 1 || c->cfg.brokers > 64) {
        snprintf(errstr, errstr_size, "brokers must be 1..64, not %d", c->cfg.brokers);
        goto fail;
    }
    if (c->cfg.default_replication <= 0)
        c->cfg.default_replication = c->cfg.brokers < 3 ? c->cfg.brokers : 3;
    if (c->cfg.default_partitions <= 0)
        c->cfg.default_partitions = 1;
    if (c->cfg.max_request_size == 0)
        c->cfg.max_request_size = 100u << 20;
    if (c->cfg.message_max_bytes <= 0)
        c->cfg.message_max_bytes = 1048588;
    if (c->cfg.max_partitions <= 0)
        c->cfg.max_partitions = 1000;
    if (c->cfg.replica_lag_time_max_ms <= 0)
        c->cfg.replica_lag_time_max_ms = 30000;
    mb__journal_init(c);
    c->seed = c->cfg.seed;
    if (c->seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c->seed = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
        if (c->seed == 0)
            c->seed = 1;
    }
    c->rng = c->seed;
    c->fault_rng = c->seed ^ 0x5bd1e9955bd1e995ULL;
    c->next_producer_id = c->cfg.producer_id_base > 0 ? c->cfg.producer_id_base : 1000;
    snprintf(c->cluster_id, sizeof(c->cluster_id), "%s",
             c->cfg.cluster_id ? c->cfg.cluster_id : "mockbroker-cluster");

    c->own_base = c->cfg.base == NULL;
    if (c->own_base) {
        pthread_once(&threads_once, use_pthreads);
        c->base = kw_ev_base_new();
    } else {
        c->base = c->cfg.base;
    }
    if (c->base == NULL) {
        snprintf(errstr, errstr_size, "event_base_new failed");
        goto fail;
    }
    if (c->cfg.clock && !c->own_base) {
        c->clock = c->cfg.clock;
    } else {
        c->evclock = kw_evclock_new(c->base);
        if (c->evclock == NULL) {
            snprintf(errstr, errstr_size, "out of memory");
            goto fail;
        }
        c->clock = kw_evclock_clock(c->evclock);
    }
    c->call_ev = event_new(c->base, -1, 0, calls_cb, c);
    if (c->call_ev == NULL) {
        snprintf(errstr, errstr_size, "event_new failed");
        goto fail;
    }
    if (mb__brokers_start(c, errstr, errstr_size) != 0)
        goto fail;
    if (c->own_base) {
        if (pthread_create(&c->thread, NULL, loop_main, c) != 0) {
            snprintf(errstr, errstr_size, "pthread_create: %s", strerror(errno));
            goto fail;
        }
        c->thread_started = true;
    }
    mb__log(c, MB_LOG_INFO, "cluster of %d broker%s up, bootstrap %s, seed %" PRIu64,
            c->n_brokers, c->n_brokers == 1 ? "" : "s", c->bootstrap, c->seed);
    return c;
fail:
    mb_cluster_destroy(c);
    return NULL;
}

void mb_cluster_destroy(struct mb_cluster *c)
{
    if (c == NULL)
        return;
    if (c->thread_started) {
        mb__call(c, stop_loop, NULL);
        pthread_join(c->thread, NULL);
        c->thread_started = false;
    } else if (c->base) {
        stop_loop(c, NULL);
    }
    if (c->call_ev)
        event_free(c->call_ev);
    kw_evclock_destroy(c->evclock);
    if (c->own_base && c->base)
        event_base_free(c->base);
    kw_buf_release(&c->scratch);
    kw_buf_release(&c->scratch2);
    mb__journal_destroy(c);
    free(c->follow);
    free(c->brokers);
    free(c->bootstrap);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}

const char *mb_cluster_bootstrap(struct mb_cluster *c)
{
    return c->bootstrap;
}

int mb_broker_port(struct mb_cluster *c, int id)
{
    return id >= 1 && id <= c->n_brokers ? c->brokers[id - 1].port : -1;
}

uint64_t mb_cluster_seed(struct mb_cluster *c)
{
    return c->seed;
}

struct state_call {
    int id, state;
};

static void state_call(struct mb_cluster *c, void *arg)
{
    struct state_call *a = arg;
    a->state = a->id >= 1 && a->id <= c->n_brokers ? c->brokers[a->id - 1].state : -1;
}

int mb_broker_state(struct mb_cluster *c, int id)
{
    struct state_call a = { id, -1 };
    mb__call(c, state_call, &a);
    return a.state;
}

/* --- topics --------------------------------------------------------------------------------- */

bool mb__topic_name_valid(const char *name, int32_t len)
{
    if (len < 1 || len > 249)
        return false;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (int32_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

struct mb__topic *mb__topic_find(struct mb_cluster *c, const char *name, int32_t len)
{
    struct mb__topic *t;
    if (len < 0)
        return NULL;
    LIST_FOREACH(t, &c->topics, link)
        if (strlen(t->name) == (size_t)len && memcmp(t->name, name, (size_t)len) == 0)
            return t;
    return NULL;
}

struct mb__topic *mb__topic_find_id(struct mb_cluster *c, const uint8_t id[16])
{
    struct mb__topic *t;
    LIST_FOREACH(t, &c->topics, link)
        if (memcmp(t->id, id, 16) == 0)
            return t;
    return NULL;
}

struct mb__partition *mb__partition_find(struct mb__topic *t, int32_t index)
{
    return t && index >= 0 && index < t->n_partitions ? &t->partitions[index] : NULL;
}

int mb__topic_create(struct mb_cluster *c, const char *name, int32_t len, int partitions,
                     int replication, struct mb__topic **out, char *errstr, size_t errstr_size)
{
    if (out)
        *out = NULL;
    if (!mb__topic_name_valid(name, len)) {
        snprintf(errstr, errstr_size, "topic name must match [a-zA-Z0-9._-]{1,249}");
        return KW_EC_INVALID_TOPIC_EXCEPTION;
    }
    if (mb__topic_find(c, name, len)) {
        snprintf(errstr, errstr_size, "topic '%.*s' already exists", (int)len, name);
        return KW_EC_TOPIC_ALREADY_EXISTS;
    }
    if (partitions <= 0 || partitions > c->cfg.max_partitions) {
        snprintf(errstr, errstr_size, "partitions must be 1..%d", c->cfg.max_partitions);
        return KW_EC_INVALID_PARTITIONS;
    }
    /* Replicas go to live brokers only, as Kafka assigns them over registered brokers. */
    int live[64], n_live = 0;
    for (int i = 0; i < c->n_brokers; i++)
        if (c->brokers[i].state != MB_BROKER_DOWN)
            live[n_live++] = i + 1;
    if (replication <= 0 || replication > n_live || replication > MB_MAX_REPLICAS) {
        snprintf(errstr, errstr_size, "replication factor must be 1..%d (live brokers: %d)",
                 n_live < MB_MAX_REPLICAS ? n_live : MB_MAX_REPLICAS, n_live);
        return KW_EC_INVALID_REPLICATION_FACTOR;
    }
    struct mb__topic *t = calloc(1, sizeof(*t));
    char *copy = malloc((size_t)len + 1);
    struct mb__partition *parts = calloc((size_t)partitions, sizeof(*parts));
    if (t == NULL || copy == NULL || parts == NULL) {
        free(t);
        free(copy);
        free(parts);
        snprintf(errstr, errstr_size, "out of memory");
        return KW_EC_UNKNOWN_SERVER_ERROR;
    }
    memcpy(copy, name, (size_t)len);
    copy[len] = '\0';
    t->c = c;
    t->name = copy;
    t->jname = mb__intern(c, copy, (size_t)len);
    t->unclean = c->cfg.unclean_leader_election;
    /* A seeded, non-zero topic id (UUID v4 layout), so Metadata v10+ is reproducible. */
    uint64_t hi = mb__rand(c), lo = mb__rand(c);
    for (int i = 0; i < 8; i++) {
        t->id[i] = (uint8_t)(hi >> (56 - 8 * i));
        t->id[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
    t->id[6] = (uint8_t)((t->id[6] & 0x0f) | 0x40);
    t->id[8] = (uint8_t)((t->id[8] & 0x3f) | 0x80);
    t->n_partitions = partitions;
    t->partitions = parts;
    t->min_insync_replicas = 1;
    t->max_message_bytes = c->cfg.message_max_bytes;
    t->retention_bytes = c->cfg.retention_bytes;
    /* Round robin placement from a seeded start, as Kafka's rack-unaware assignment does:
     * partition p's replicas are brokers start+p, start+p+1, ...; the first is the leader. */
    int start = (int)(mb__rand(c) % (uint64_t)n_live);
    for (int p = 0; p < partitions; p++) {
        struct mb__partition *pp = &parts[p];
        pp->topic = t;
        pp->index = p;
        pp->n_replicas = pp->n_isr = replication;
        for (int r = 0; r < replication; r++)
            pp->replicas[r] = pp->isr[r] = live[(start + p + r) % n_live];
        pp->leader = pp->replicas[0];
        pp->leader_epoch = 0;
        mb__repl_init(c, pp);
    }
    LIST_INSERT_HEAD(&c->topics, t, link);
    c->n_topics++;
    mb__log(c, MB_LOG_INFO, "created topic %s: %d partition%s, replication %d", t->name,
            partitions, partitions == 1 ? "" : "s", replication);
    if (out)
        *out = t;
    mb__state_changed(c);
    return 0;
}

void mb__topic_delete(struct mb_cluster *c, struct mb__topic *t)
{
    LIST_REMOVE(t, link);
    c->n_topics--;
    for (int32_t i = 0; i < t->n_partitions; i++) {
        mb__repl_release(c, &t->partitions[i]);
        mb__partition_release(&t->partitions[i]);
    }
    free(t->partitions);
    free(t->name);
    free(t);
    mb__state_changed(c);
    /* Long polls and acks=-1 waits on the topic must learn now that it is gone. */
    mb__fetch_wake(c);
    mb__produce_wake(c);
}

/* --- public calls, marshalled to the loop ---------------------------------------------------- */

struct topic_call {
    const char *topic;
    int partitions, replication;
    const char *key, *value;
    char *errstr;
    size_t errstr_size;
    int rc;
};

static void topic_create_call(struct mb_cluster *c, void *arg)
{
    struct topic_call *a = arg;
    a->rc = mb__topic_create(c, a->topic, (int32_t)strlen(a->topic), a->partitions,
                             a->replication, NULL, a->errstr, a->errstr_size);
}

int mb_topic_create(struct mb_cluster *c, const char *topic, int partitions, int replication,
                    char *errstr, size_t errstr_size)
{
    char dummy[8];
    struct topic_call a = { topic, partitions, replication > 0 ? replication
                                                               : c->cfg.default_replication,
                            NULL, NULL, errstr ? errstr : dummy,
                            errstr ? errstr_size : sizeof(dummy), 0 };
    mb__call(c, topic_create_call, &a);
    return a.rc;
}

static void topic_delete_call(struct mb_cluster *c, void *arg)
{
    struct topic_call *a = arg;
    struct mb__topic *t = mb__topic_find(c, a->topic, (int32_t)strlen(a->topic));
    a->rc = t ? 0 : KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
    if (t)
        mb__topic_delete(c, t);
}

int mb_topic_delete(struct mb_cluster *c, const char *topic)
{
    struct topic_call a = { .topic = topic };
    mb__call(c, topic_delete_call, &a);
    return a.rc;
}

static bool parse_i64(const char *s, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min)
        return false;
    *out = v;
    return true;
}

static void topic_config_call(struct mb_cluster *c, void *arg)
{
    struct topic_call *a = arg;
    struct mb__topic *t = mb__topic_find(c, a->topic, (int32_t)strlen(a->topic));
    int64_t v;
    if (t == NULL) {
        snprintf(a->errstr, a->errstr_size, "unknown topic '%s'", a->topic);
        a->rc = KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
    } else if (strcmp(a->key, "min.insync.replicas") == 0) {
        if (parse_i64(a->value, 1, &v) && v <= MB_MAX_REPLICAS)
            t->min_insync_replicas = (int32_t)v;
        else
            a->rc = KW_EC_INVALID_CONFIG;
    } else if (strcmp(a->key, "max.message.bytes") == 0) {
        if (parse_i64(a->value, 0, &v) && v <= INT32_MAX)
            t->max_message_bytes = (int32_t)v;
        else
            a->rc = KW_EC_INVALID_CONFIG;
    } else if (strcmp(a->key, "retention.bytes") == 0) {
        if (parse_i64(a->value, -1, &v))
            t->retention_bytes = v;
        else
            a->rc = KW_EC_INVALID_CONFIG;
    } else if (strcmp(a->key, "unclean.leader.election.enable") == 0) {
        if (strcmp(a->value, "true") == 0 || strcmp(a->value, "false") == 0)
            t->unclean = strcmp(a->value, "true") == 0;
        else
            a->rc = KW_EC_INVALID_CONFIG;
    } else if (strcmp(a->key, "message.timestamp.type") == 0) {
        if (strcmp(a->value, "CreateTime") == 0)
            t->timestamp_type = 0;
        else if (strcmp(a->value, "LogAppendTime") == 0)
            t->timestamp_type = 1;
        else
            a->rc = KW_EC_INVALID_CONFIG;
    } else {
        snprintf(a->errstr, a->errstr_size,
                 "unknown topic config '%s' (min.insync.replicas, max.message.bytes, "
                 "message.timestamp.type, retention.bytes, unclean.leader.election.enable)",
                 a->key);
        a->rc = KW_EC_INVALID_CONFIG;
        return;
    }
    if (a->rc == KW_EC_INVALID_CONFIG)
        snprintf(a->errstr, a->errstr_size, "invalid value '%s' for %s", a->value, a->key);
    if (a->rc == 0 && t->retention_bytes >= 0)
        for (int32_t i = 0; i < t->n_partitions; i++)
            mb__partition_retain(&t->partitions[i], t->retention_bytes);
}

int mb_topic_config_set(struct mb_cluster *c, const char *topic, const char *key,
                        const char *value, char *errstr, size_t errstr_size)
{
    char dummy[8];
    struct topic_call a = { .topic = topic, .key = key, .value = value,
                            .errstr = errstr ? errstr : dummy,
                            .errstr_size = errstr ? errstr_size : sizeof(dummy) };
    mb__call(c, topic_config_call, &a);
    return a.rc;
}

struct info_call {
    const char *topic;
    int partition;
    struct mb_partition_info *out;
    int rc;
};

static void info_call(struct mb_cluster *c, void *arg)
{
    struct info_call *a = arg;
    struct mb__partition *p =
        mb__partition_find(mb__topic_find(c, a->topic, (int32_t)strlen(a->topic)), a->partition);
    if (p == NULL) {
        a->rc = KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    struct mb_partition_info *o = a->out;
    memset(o, 0, sizeof(*o));
    o->leader = p->leader;
    o->leader_epoch = p->leader_epoch;
    o->n_replicas = p->n_replicas;
    memcpy(o->replicas, p->replicas, sizeof(o->replicas));
    o->n_isr = p->n_isr;
    memcpy(o->isr, p->isr, sizeof(o->isr));
    o->log_start_offset = p->log_start;
    o->high_watermark = p->high_watermark;
    o->log_end_offset = p->log_end;
    o->batches = (int64_t)(p->n_batches - p->first_batch);
    o->bytes = p->bytes;
    for (int i = 0; i < p->n_replicas; i++)
        o->replica_offsets[i] = p->repl[i].pos;
    o->last_stable_offset = mb__partition_lso(p);
    o->aborted_transactions = (int64_t)p->n_aborted;
    a->rc = 0;
}

int mb_partition_info(struct mb_cluster *c, const char *topic, int partition,
                      struct mb_partition_info *out)
{
    struct info_call a = { topic, partition, out, 0 };
    mb__call(c, info_call, &a);
    return a.rc;
}

struct count_call {
    int broker, api_key;
    uint64_t n;
};

static void count_call(struct mb_cluster *c, void *arg)
{
    struct count_call *a = arg;
    a->n = 0;
    for (int i = 0; i < c->n_brokers; i++) {
        struct mb__broker *b = &c->brokers[i];
        if (a->broker >= 0 && b->id != a->broker)
            continue;
        if (a->api_key < 0)
            a->n += b->requests_total;
        else if (a->api_key < MB__MAX_API_KEY)
            a->n += b->requests[a->api_key];
    }
}

uint64_t mb_request_count(struct mb_cluster *c, int broker, int api_key)
{
    struct count_call a = { broker, api_key, 0 };
    mb__call(c, count_call, &a);
    return a.n;
}

/* --- records, decoded for tests -------------------------------------------------------------- */

struct records_call {
    const char *topic;
    int partition;
    int64_t from;
    size_t max;
    bool committed;
    struct mb_records *out;
};

/* Two passes over the stored batches: the first sizes one allocation, the second fills it.
 * committed: what a read_committed consumer gets (below the LSO, no markers, no aborted data). */
static struct mb_records *decode_records(struct mb__partition *p, int64_t from, size_t max,
                                         bool committed)
{
    int64_t lso = mb__partition_lso(p);
    struct kw_buf scratch;
    kw_buf_init(&scratch);
    struct mb_records *res = NULL;
    size_t count = 0, bytes = 0, nheaders = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = 0, hn = 0;
        uint8_t *data = NULL;
        struct mb_header *headers = NULL;
        if (pass == 1) {
            size_t size = sizeof(*res) + count * sizeof(struct mb_record) +
                          nheaders * sizeof(struct mb_header) + bytes;
            res = calloc(1, size);
            if (res == NULL)
                break;
            res->records = (struct mb_record *)(res + 1);
            headers = (struct mb_header *)(res->records + count);
            data = (uint8_t *)(headers + nheaders);
            res->count = count;
        }
        for (size_t i = mb__partition_seek(p, from); i < p->n_batches; i++) {
            const struct mb__batch *b = &p->batches[i];
            struct kw_record_iter it;
            struct kw_record rec;
            struct kw_batch_hdr h;
            if (committed && b->base_offset >= lso)
                break;
            if (kw_batch_peek(b->data, b->len, &h) < 0 ||
                kw_record_iter_init(&it, b->data, b->len, &scratch) != KW_OK)
                continue;
            bool control = (h.attributes & KW_BATCH_ATTR_CONTROL) != 0;
            bool txn = (h.attributes & KW_BATCH_ATTR_TRANSACTIONAL) != 0;
            if (committed && (control || (txn && mb__partition_aborted(p, h.producer_id,
                                                                       b->base_offset))))
                continue;
            while ((max == 0 || n < max) && kw_record_iter_next(&it, &rec) == 1) {
                if (rec.offset < from)
                    continue;
                if (pass == 0) {
                    bytes += (size_t)(rec.key.len > 0 ? rec.key.len : 0) +
                             (size_t)(rec.value.len > 0 ? rec.value.len : 0);
                    struct kw_reader hr;
                    struct kw_header_kv kv;
                    kw_reader_init(&hr, rec.headers, rec.headers_len);
                    while (kw_record_header_next(&hr, &kv) == 1) {
                        nheaders++;
                        bytes += (size_t)kv.key.len + 1 +
                                 (size_t)(kv.value.len > 0 ? kv.value.len : 0);
                    }
                    n++;
                    continue;
                }
                struct mb_record *o = &res->records[n++];
                o->offset = rec.offset;
                o->timestamp = rec.timestamp;
                o->timestamp_type = (h.attributes & KW_BATCH_ATTR_LOG_APPEND_TIME) ? 1 : 0;
                o->producer_id = h.producer_id;
                o->producer_epoch = h.producer_epoch;
                o->sequence = h.producer_id >= 0 && h.base_sequence >= 0
                                  ? h.base_sequence + (int32_t)(rec.offset - h.base_offset) : -1;
                o->transactional = txn;
                o->control = -1;
                if (control)    /* the key: version, then the type (0 abort, 1 commit) */
                    o->control = rec.key.len >= 4 ? (int)kw_be16(rec.key.ptr + 2) : 0;
                o->key_len = rec.key.len;
                if (rec.key.len >= 0) {
                    memcpy(data, rec.key.ptr, (size_t)rec.key.len);
                    o->key = data;
                    data += rec.key.len;
                }
                o->value_len = rec.value.len;
                if (rec.value.len >= 0) {
                    memcpy(data, rec.value.ptr, (size_t)rec.value.len);
                    o->value = data;
                    data += rec.value.len;
                }
                o->headers = headers + hn;
                struct kw_reader hr;
                struct kw_header_kv kv;
                kw_reader_init(&hr, rec.headers, rec.headers_len);
                while (kw_record_header_next(&hr, &kv) == 1) {
                    struct mb_header *mh = &headers[hn++];
                    memcpy(data, kv.key.ptr, (size_t)kv.key.len);
                    data[kv.key.len] = '\0';
                    mh->key = (const char *)data;
                    data += kv.key.len + 1;
                    mh->value_len = kv.value.len;
                    if (kv.value.len >= 0) {
                        memcpy(data, kv.value.ptr, (size_t)kv.value.len);
                        mh->value = data;
                        data += kv.value.len;
                    }
                    o->n_headers++;
                }
            }
        }
        count = n;
    }
    kw_buf_release(&scratch);
    return res;
}

static void records_call(struct mb_cluster *c, void *arg)
{
    struct records_call *a = arg;
    struct mb__partition *p =
        mb__partition_find(mb__topic_find(c, a->topic, (int32_t)strlen(a->topic)), a->partition);
    a->out = p ? decode_records(p, a->from, a->max, a->committed) : NULL;
}

struct mb_records *mb_partition_records(struct mb_cluster *c, const char *topic, int partition,
                                        int64_t from, size_t max)
{
    struct records_call a = { topic, partition, from, max, false, NULL };
    mb__call(c, records_call, &a);
    return a.out;
}

struct mb_records *mb_partition_records_committed(struct mb_cluster *c, const char *topic,
                                                  int partition, int64_t from, size_t max)
{
    struct records_call a = { topic, partition, from, max, true, NULL };
    mb__call(c, records_call, &a);
    return a.out;
}

void mb_records_destroy(struct mb_records *r)
{
    free(r);
}

/* --- waiting on conditions ------------------------------------------------------------------ */

struct cond_call {
    mb_cond_cb cond;
    void *arg;
    bool held;
};

static void cond_call(struct mb_cluster *c, void *arg)
{
    struct cond_call *a = arg;
    a->held = a->cond(c, a->arg);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

int mb_wait_until(struct mb_cluster *c, mb_cond_cb cond, void *arg, int timeout_ms)
{
    struct cond_call a = { cond, arg, false };
    int64_t deadline = mono_ms() + timeout_ms;
    if (!c->thread_started) {
        /* The caller's loop: run it until the condition holds, bounded by a real timer so an
         * idle loop cannot block past the deadline. */
        bool expired = false;
        struct event *t = evtimer_new(c->base, deadline_cb, &expired);
        struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        evtimer_add(t, &tv);
        while (!(a.held = cond(c, arg)) && !expired)
            event_base_loop(c->base, EVLOOP_ONCE);
        event_free(t);
        return a.held ? 0 : -1;
    }
    pthread_mutex_lock(&c->lock);
    c->waiters++;
    pthread_mutex_unlock(&c->lock);
    for (;;) {
        pthread_mutex_lock(&c->lock);
        uint64_t seen = c->state_version;
        pthread_mutex_unlock(&c->lock);
        mb__call(c, cond_call, &a);
        if (a.held)
            break;
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&c->lock);
        while (c->state_version == seen &&
               pthread_cond_timedwait(&c->cond, &c->lock, &ts) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_lock(&c->lock);
    c->waiters--;
    pthread_mutex_unlock(&c->lock);
    return a.held ? 0 : -1;
}

struct offset_cond {
    const char *topic;
    int partition;
    int64_t end;
};

static bool offset_reached(struct mb_cluster *c, void *arg)
{
    struct offset_cond *o = arg;
    struct mb__partition *p =
        mb__partition_find(mb__topic_find(c, o->topic, (int32_t)strlen(o->topic)), o->partition);
    return p && p->log_end >= o->end;
}

int mb_wait_offset(struct mb_cluster *c, const char *topic, int partition, int64_t end_offset,
                   int timeout_ms)
{
    struct offset_cond o = { topic, partition, end_offset };
    return mb_wait_until(c, offset_reached, &o, timeout_ms);
}

int64_t mb__wall_ms(struct mb_cluster *c)
{
    /* A caller-supplied clock (a virtual one in tests) is the only time: journals and
     * LogAppendTime stamps then repeat exactly from run to run. */
    if (c->cfg.clock && !c->own_base)
        return kw_now_us(c->clock) / 1000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *mb__dup_str(struct kw_str s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *p = malloc(n + 1);
    if (p)
        kw_str_copy(s, p, n + 1);
    return p;
}

bool mb__grow(void **arr, int *cap, int n, size_t size)
{
    if (n < *cap)
        return true;
    int ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, (size_t)ncap * size);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}
