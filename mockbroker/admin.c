/* The HTTP+JSON control API (evhttp on the cluster's loop, 127.0.0.1 only). Every handler runs
 * on the loop thread, so the public calls it makes run inline. Bodies are parsed by the scenario
 * parser (a POST /rules body is a scenario's "rules"), so the API and scenario files accept the
 * same JSON and refuse it with the same messages. */
#include "mockbroker/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/errors.h"

#define MAX_BODY (1 << 20)          /* a control request is small; refuse anything larger */
#define MAX_SEGMENTS 8
#define WAIT_TICK_MS 2
#define MAX_WAIT_MS 600000

struct wait;

struct mb_admin {
    struct mb_cluster *c;
    struct evhttp *http;
    int port;
    LIST_HEAD(, wait) waits;
    struct event *tick;             /* re-checks waits while there are some */
    uint64_t seen_version, seen_journal;
    int rc;                         /* start's outcome, from the loop thread */
    char *errstr;
    size_t errstr_size;
};

/* A POST /wait in progress: its condition, parsed once, and the request to answer. */
enum cond_kind { COND_PARTITION, COND_RULE, COND_REQUESTS, COND_BROKER, COND_JOURNAL };

#define UNSET INT64_MIN

struct cond {
    enum cond_kind kind;
    char name[256];                 /* topic, rule */
    int64_t partition, broker, api_key;
    int64_t log_end_offset, high_watermark, log_start_offset, leader, leader_epoch, isr_size;
    int n_isr, isr[MB_MAX_REPLICAS];
    int64_t matched, fired, held, spent, count;
    int state;                      /* broker: enum mb_broker_state */
    int jkind;                      /* journal: enum mb_journal_kind, -1 any */
    char what[32], rule[128], topic[256];
    uint64_t scanned, found;        /* journal: entries read so far, and those that matched */
};

struct wait {
    struct mb_admin *a;
    struct evhttp_request *req;
    struct event *timer;
    int64_t started_ms;
    int n;
    struct cond *conds;
    LIST_ENTRY(wait) link;
};

/* --- replies ---------------------------------------------------------------------------------- */

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static void reply_text(struct evhttp_request *req, int code, const char *type, const char *text,
                       size_t len)
{
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, text, len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, b ? code : 500, reason(b ? code : 500), b);
    if (b)
        evbuffer_free(b);
}

/* Sends body (taken) as JSON. */
static void reply_json(struct evhttp_request *req, int code, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (s == NULL) {
        reply_text(req, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
        return;
    }
    size_t n = strlen(s);
    s[n] = '\n';                    /* curl output ends its line; the NUL is not sent */
    reply_text(req, code, "application/json", s, n + 1);
    free(s);
}

static void reply_error(struct evhttp_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply_json(req, code, json_pack("{ss}", "error", msg));
}

/* --- state as JSON ---------------------------------------------------------------------------- */

static json_t *ints(const int *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static void put_int(json_t *o, const char *key, int64_t v)
{
    json_object_set_new(o, key, json_integer((json_int_t)v));
}

static json_t *partition_json(int p, const struct mb_partition_info *pi)
{
    json_t *o = json_object(), *ro = json_array();
    put_int(o, "partition", p);
    put_int(o, "leader", pi->leader);
    put_int(o, "leader_epoch", pi->leader_epoch);
    json_object_set_new(o, "replicas", ints(pi->replicas, pi->n_replicas));
    json_object_set_new(o, "isr", ints(pi->isr, pi->n_isr));
    put_int(o, "log_start_offset", pi->log_start_offset);
    put_int(o, "high_watermark", pi->high_watermark);
    put_int(o, "log_end_offset", pi->log_end_offset);
    for (int i = 0; i < pi->n_replicas; i++)
        json_array_append_new(ro, json_integer(pi->replica_offsets[i]));
    json_object_set_new(o, "replica_offsets", ro);
    put_int(o, "batches", pi->batches);
    put_int(o, "bytes", pi->bytes);
    put_int(o, "last_stable_offset", pi->last_stable_offset);
    put_int(o, "aborted_transactions", pi->aborted_transactions);
    return o;
}

static int by_name(const void *x, const void *y)
{
    const struct mb__topic *a = *(const struct mb__topic *const *)x;
    const struct mb__topic *b = *(const struct mb__topic *const *)y;
    return strcmp(a->name, b->name);
}

/* Topics come from the cluster's own list: the public API names no way to list them. */
static json_t *topics_json(struct mb_cluster *c)
{
    json_t *arr = json_array();
    struct mb__topic **ts = calloc((size_t)c->n_topics + 1, sizeof(*ts));
    struct mb__topic *t;
    size_t n = 0;
    if (ts == NULL)
        return arr;
    LIST_FOREACH(t, &c->topics, link)
        if (n < (size_t)c->n_topics)
            ts[n++] = t;
    qsort(ts, n, sizeof(*ts), by_name);
    for (size_t i = 0; i < n; i++) {
        t = ts[i];
        json_t *parts = json_array();
        for (int p = 0; p < t->n_partitions; p++) {
            struct mb_partition_info pi;
            if (mb_partition_info(c, t->name, p, &pi) == 0)
                json_array_append_new(parts, partition_json(p, &pi));
        }
        json_t *cfg = json_pack("{sIsIsssIsb}", "min.insync.replicas",
                                (json_int_t)t->min_insync_replicas, "max.message.bytes",
                                (json_int_t)t->max_message_bytes, "message.timestamp.type",
                                t->timestamp_type ? "LogAppendTime" : "CreateTime",
                                "retention.bytes", (json_int_t)t->retention_bytes,
                                "unclean.leader.election.enable", (int)t->unclean);
        json_array_append_new(arr, json_pack("{sssoso}", "name", t->name, "configs", cfg,
                                             "partitions", parts));
    }
    free(ts);
    return arr;
}

static json_t *state_json(struct mb_admin *a)
{
    struct mb_cluster *c = a->c;
    json_t *brokers = json_array();
    for (int id = 1; id <= c->n_brokers; id++)
        json_array_append_new(brokers, json_pack("{sisisssI}", "id", id, "port",
                                                 mb_broker_port(c, id), "state",
                                                 mb_broker_state_name(mb_broker_state(c, id)),
                                                 "requests",
                                                 (json_int_t)mb_request_count(c, id, MB_ANY)));
    struct mb_journal_stats js;
    mb_journal_stats(c, &js);
    int held = 0;
    struct mb__rule *r;
    TAILQ_FOREACH(r, &c->rules, link)
        held += r->held;
    return json_pack("{sssIsosososisis{sIsIsI}}", "bootstrap", mb_cluster_bootstrap(c), "seed",
                     (json_int_t)mb_cluster_seed(c), "brokers", brokers, "topics",
                     topics_json(c), "controller", json_integer(c->controller), "rules",
                     mb_rule_count(c), "held", held, "journal", "total", (json_int_t)js.total,
                     "held", (json_int_t)js.held, "dropped", (json_int_t)js.dropped);
}

/* --- requests: paths, queries, bodies --------------------------------------------------------- */

struct call {
    struct mb_admin *a;
    struct evhttp_request *req;
    enum evhttp_cmd_type method;
    int n;                          /* path segments */
    char seg[MAX_SEGMENTS][256];    /* percent-decoded */
    struct evkeyvalq query;
};

static bool is(const struct call *k, int n, ...)
{
    va_list ap;
    bool ok = k->n == n;
    va_start(ap, n);
    for (int i = 0; ok && i < n; i++) {
        const char *want = va_arg(ap, const char *);
        ok = want == NULL || strcmp(k->seg[i], want) == 0;   /* NULL: any segment */
    }
    va_end(ap);
    return ok;
}

/* Splits the path into decoded segments; false if there are too many or one is too long. */
static bool split_path(struct call *k, const char *path)
{
    k->n = 0;
    while (path && *path) {
        while (*path == '/')
            path++;
        size_t len = strcspn(path, "/");
        if (len == 0)
            break;
        if (k->n == MAX_SEGMENTS || len >= sizeof(k->seg[0]))
            return false;
        char raw[256];
        memcpy(raw, path, len);
        raw[len] = '\0';
        size_t dlen = 0;
        char *dec = evhttp_uridecode(raw, 0, &dlen);
        if (dec == NULL || dlen != strlen(dec) || dlen >= sizeof(k->seg[0])) {
            free(dec);
            return false;
        }
        memcpy(k->seg[k->n++], dec, dlen + 1);
        free(dec);
        path += len;
    }
    return true;
}

/* A query parameter as an integer: def if absent, false if malformed. */
static bool query_int(struct call *k, const char *name, int64_t min, int64_t def, int64_t *out)
{
    const char *v = evhttp_find_header(&k->query, name);
    *out = def;
    if (v == NULL)
        return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min) {
        reply_error(k->req, 400, "%s: expected an integer >= %" PRId64 ", got '%s'", name, min, v);
        return false;
    }
    *out = n;
    return true;
}

/* The body as JSON; NULL after answering 400 (bad JSON, or none when required). */
static json_t *body_json(struct call *k, bool required)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(k->req);
    size_t len = evbuffer_get_length(in);
    if (len == 0) {
        if (required)
            reply_error(k->req, 400, "a JSON body is required");
        return required ? NULL : json_object();
    }
    const char *text = (const char *)evbuffer_pullup(in, -1);
    json_error_t err;
    json_t *v = text ? json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err)
                     : NULL;
    if (v == NULL)
        reply_error(k->req, 400, "bad JSON at line %d column %d: %s", err.line, err.column,
                    err.text);
    return v;
}

/* Parses {key: items} (items an array, or one object made an array) with the scenario parser.
 * NULL after answering 400; for a single object the "key[0]" prefix leaves its messages. */
static struct mb_scenario *fragment(struct call *k, const char *key, json_t *items)
{
    bool single = !json_is_array(items);
    json_t *doc = json_object();
    json_t *arr = single ? json_array() : json_incref(items);
    if (single)
        json_array_append(arr, items);
    json_object_set_new(doc, key, arr);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    char why[512];
    struct mb_scenario *s = text ? mb_scenario_parse(text, strlen(text), "request", why,
                                                     sizeof(why))
                                 : NULL;
    free(text);
    if (s == NULL) {
        char prefix[64];
        size_t pl = (size_t)snprintf(prefix, sizeof(prefix), "%s[0]", key);
        const char *msg = why;
        if (single && strncmp(why, prefix, pl) == 0)
            msg = why + pl + (why[pl] == '.' ? 1 : why[pl] == ':' ? 2 : 0);
        reply_error(k->req, 400, "%s", text ? msg : "out of memory");
    }
    return s;
}

/* --- endpoints -------------------------------------------------------------------------------- */

static json_t *rule_at(struct mb_cluster *c, int i)
{
    struct mb_rule r;
    struct mb_rule_stats st;
    char strings[MB_RULE_STRINGS];
    if (mb_rule_get(c, i, &r, strings, &st) != 0)
        return NULL;
    char *text = mb_rule_json(&r, &st);
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return v;
}

/* The index of the rule named name, or -1. */
static int rule_index(struct mb_cluster *c, const char *name)
{
    struct mb_rule r;
    char strings[MB_RULE_STRINGS];
    for (int i = 0; mb_rule_get(c, i, &r, strings, NULL) == 0; i++)
        if (strcmp(r.name, name) == 0)
            return i;
    return -1;
}

static void get_rules(struct call *k)
{
    json_t *arr = json_array();
    int n = mb_rule_count(k->a->c);
    for (int i = 0; i < n; i++) {
        json_t *r = rule_at(k->a->c, i);
        if (r)
            json_array_append_new(arr, r);
    }
    reply_json(k->req, 200, json_pack("{so}", "rules", arr));
}

static void post_rules(struct call *k)
{
    json_t *body = body_json(k, true);
    if (body == NULL)
        return;
    if (!json_is_object(body) && !json_is_array(body)) {
        json_decref(body);
        reply_error(k->req, 400, "expected a rule object or an array of them");
        return;
    }
    bool single = json_is_object(body);
    struct mb_scenario *s = fragment(k, "rules", body);
    json_decref(body);
    if (s == NULL)
        return;
    json_t *added = json_array();
    char why[256];
    for (int i = 0; i < s->n_rules; i++) {
        if (mb_rule_add(k->a->c, &s->rules[i], why, sizeof(why)) != 0) {
            /* The rules before it stay: the answer says which. */
            char msg[300];
            snprintf(msg, sizeof(msg), "rules[%d]: %s", i, why);
            reply_json(k->req, 400, json_pack("{ssso}", "error", single ? why : msg, "added",
                                              added));
            mb_scenario_destroy(s);
            return;
        }
        json_t *r = rule_at(k->a->c, mb_rule_count(k->a->c) - 1);
        json_array_append_new(added, json_incref(json_object_get(r, "name")));
        json_decref(r);
    }
    mb_scenario_destroy(s);
    reply_json(k->req, 200, json_pack("{so}", "added", added));
}

static void rule_by_name(struct call *k, const char *name)
{
    struct mb_cluster *c = k->a->c;
    int i = rule_index(c, name);
    if (i < 0) {
        reply_error(k->req, 404, "no rule named '%s'", name);
    } else if (k->method == EVHTTP_REQ_GET) {
        reply_json(k->req, 200, rule_at(c, i));
    } else {
        mb_rule_remove(c, name);
        reply_json(k->req, 200, json_pack("{ss}", "removed", name));
    }
}

static void release(struct call *k, const char *name)
{
    int n = mb_rule_release(k->a->c, name);
    if (n < 0)
        reply_error(k->req, 404, "no rule named '%s'", name);
    else
        reply_json(k->req, 200, json_pack("{si}", "released", n));
}

static bool parse_id(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static void broker_op(struct call *k)
{
    struct mb_cluster *c = k->a->c;
    int64_t id;
    char why[256] = "";
    if (!parse_id(k->seg[1], 1, INT32_MAX, &id) || mb_broker_state(c, (int)id) < 0) {
        reply_error(k->req, 404, "no broker %s", k->seg[1]);
        return;
    }
    const char *op = k->seg[2];
    int rc;
    if (strcmp(op, "down") == 0)
        rc = mb_broker_down(c, (int)id, why, sizeof(why));
    else if (strcmp(op, "up") == 0)
        rc = mb_broker_up(c, (int)id, why, sizeof(why));
    else
        rc = mb_broker_blackhole(c, (int)id, why, sizeof(why));
    if (rc != 0)
        reply_error(k->req, 409, "%s", why);
    else
        reply_json(k->req, 200, json_pack("{sIss}", "broker", (json_int_t)id, "state",
                                          mb_broker_state_name(mb_broker_state(c, (int)id))));
}

/* The partition the path names ("partitions", topic, index, ...); false after a 404. */
static bool path_partition(struct call *k, int64_t *p, struct mb_partition_info *pi)
{
    if (!parse_id(k->seg[2], 0, INT32_MAX, p) ||
        mb_partition_info(k->a->c, k->seg[1], (int)*p, pi) != 0) {
        reply_error(k->req, 404, "no partition %s of topic '%s'", k->seg[2], k->seg[1]);
        return false;
    }
    return true;
}

static const char *const partition_ops[][2] = {
    { "leader", "leader_move" }, { "isr", "isr_set" }, { "replicas", "replicas_set" },
    { "follower", "follower" },
};

/* POST /partitions/T/P/{leader,isr,replicas,follower}: the body is the action without its
 * type, topic and partition, which the path gives. */
static void partition_op(struct call *k)
{
    int64_t p;
    struct mb_partition_info pi;
    if (!path_partition(k, &p, &pi))
        return;
    const char *type = NULL;
    for (size_t i = 0; i < sizeof(partition_ops) / sizeof(partition_ops[0]); i++)
        if (strcmp(k->seg[3], partition_ops[i][0]) == 0)
            type = partition_ops[i][1];
    json_t *body = body_json(k, strcmp(type, "leader_move") != 0);
    if (body == NULL)
        return;
    if (!json_is_object(body)) {
        json_decref(body);
        reply_error(k->req, 400, "expected an object");
        return;
    }
    static const char *const fixed[] = { "type", "topic", "partition" };
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(body, fixed[i])) {
            json_decref(body);
            reply_error(k->req, 400, "%s: the path gives it", fixed[i]);
            return;
        }
    json_object_set_new(body, "type", json_string(type));
    json_object_set_new(body, "topic", json_string(k->seg[1]));
    json_object_set_new(body, "partition", json_integer(p));
    struct mb_scenario *s = fragment(k, "actions", body);
    json_decref(body);
    if (s == NULL)
        return;
    char why[256];
    int rc = mb_action_run(k->a->c, &s->actions[0], why, sizeof(why));
    mb_scenario_destroy(s);
    if (rc != 0) {
        reply_error(k->req, 409, "%s", why);
        return;
    }
    mb_partition_info(k->a->c, k->seg[1], (int)p, &pi);
    reply_json(k->req, 200, partition_json((int)p, &pi));
}

/* Key or value bytes: a string when they are UTF-8 (jansson checks), else hex under key_hex. */
static void put_bytes(json_t *o, const char *key, const uint8_t *b, int32_t len)
{
    if (b == NULL) {
        json_object_set_new(o, key, json_null());
        return;
    }
    json_t *s = json_stringn((const char *)b, (size_t)len);
    if (s) {
        json_object_set_new(o, key, s);
        return;
    }
    char name[32];
    char *hex = malloc((size_t)len * 2 + 1);
    snprintf(name, sizeof(name), "%s_hex", key);
    for (int32_t i = 0; hex && i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    if (hex) {
        hex[2 * len] = '\0';
        json_object_set_new(o, name, json_string(hex));
    }
    free(hex);
}

static void get_records(struct call *k)
{
    int64_t p, from, max;
    struct mb_partition_info pi;
    if (!path_partition(k, &p, &pi) || !query_int(k, "from", 0, 0, &from) ||
        !query_int(k, "max", 0, 0, &max))
        return;
    struct mb_records *rs = mb_partition_records(k->a->c, k->seg[1], (int)p, from, (size_t)max);
    json_t *arr = json_array();
    for (size_t i = 0; rs && i < rs->count; i++) {
        const struct mb_record *r = &rs->records[i];
        json_t *o = json_object(), *hs = json_array();
        put_int(o, "offset", r->offset);
        put_int(o, "timestamp", r->timestamp);
        put_bytes(o, "key", r->key, r->key_len);
        put_bytes(o, "value", r->value, r->value_len);
        for (int32_t h = 0; h < r->n_headers; h++) {
            json_t *ho = json_pack("{ss}", "key", r->headers[h].key);
            put_bytes(ho, "value", r->headers[h].value, r->headers[h].value_len);
            json_array_append_new(hs, ho);
        }
        json_object_set_new(o, "headers", hs);
        put_int(o, "producer_id", r->producer_id);
        put_int(o, "producer_epoch", r->producer_epoch);
        put_int(o, "sequence", r->sequence);
        json_object_set_new(o, "transactional", json_boolean(r->transactional));
        if (r->control >= 0)
            json_object_set_new(o, "control", json_string(r->control ? "commit" : "abort"));
        json_array_append_new(arr, o);
    }
    mb_records_destroy(rs);
    reply_json(k->req, 200, json_pack("{sssIso}", "topic", k->seg[1], "partition",
                                      (json_int_t)p, "records", arr));
}

static void post_topics(struct call *k)
{
    json_t *body = body_json(k, true);
    if (body == NULL)
        return;
    struct mb_scenario *s = fragment(k, "topics", body);
    json_decref(body);
    if (s == NULL)
        return;
    struct mb_cluster *c = k->a->c;
    json_t *created = json_array();
    char why[256];
    for (int i = 0; i < s->n_topics; i++) {
        const struct mb_scenario_topic *t = &s->topics[i];
        int ec = mb_topic_create(c, t->name, t->partitions, t->replication, why, sizeof(why));
        for (int j = 0; ec == 0 && j < t->n_configs; j++)
            if (mb_topic_config_set(c, t->name, t->configs[j].key, t->configs[j].value, why,
                                    sizeof(why)) != 0)
                ec = -1;
        if (ec != 0) {
            reply_json(k->req, ec == KW_EC_TOPIC_ALREADY_EXISTS ? 409 : 400,
                       json_pack("{ssso}", "error", why, "created", created));
            mb_scenario_destroy(s);
            return;
        }
        json_array_append_new(created, json_string(t->name));
    }
    mb_scenario_destroy(s);
    reply_json(k->req, 200, json_pack("{so}", "created", created));
}

static void post_actions(struct call *k)
{
    json_t *body = body_json(k, true);
    if (body == NULL)
        return;
    struct mb_scenario *s = fragment(k, "actions", body);
    json_decref(body);
    if (s == NULL)
        return;
    char why[256];
    for (int i = 0; i < s->n_actions; i++)
        if (mb_action_run(k->a->c, &s->actions[i], why, sizeof(why)) != 0) {
            reply_json(k->req, 409, json_pack("{sssi}", "error", why, "done", i));
            mb_scenario_destroy(s);
            return;
        }
    reply_json(k->req, 200, json_pack("{si}", "done", s->n_actions));
    mb_scenario_destroy(s);
}

/* A scenario's topics, actions and rules on the running cluster (its cluster settings, seed and
 * broker count are fixed at start, so they are refused). */
static void post_scenario(struct call *k)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(k->req);
    size_t len = evbuffer_get_length(in);
    char why[512];
    const char *text = len ? (const char *)evbuffer_pullup(in, -1) : "";
    struct mb_scenario *s = mb_scenario_parse(text, len, "request", why, sizeof(why));
    if (s == NULL) {
        reply_error(k->req, 400, "%s", why);
        return;
    }
    struct mb_config probe;
    mb_config_init(&probe);
    struct mb_config before = probe;
    mb_scenario_config(s, &probe);
    if (s->seed || memcmp(&probe, &before, sizeof(probe)) != 0) {
        reply_error(k->req, 400, "seed, brokers and cluster are fixed once the cluster runs");
    } else if (mb_scenario_apply(k->a->c, s, why, sizeof(why)) != 0) {
        reply_error(k->req, 409, "%s", why);
    } else {
        reply_json(k->req, 200, json_pack("{sisisi}", "topics", s->n_topics, "actions",
                                          s->n_actions, "rules", s->n_rules));
    }
    mb_scenario_destroy(s);
}

static void get_journal(struct call *k)
{
    int64_t since;
    if (!query_int(k, "since", 0, 0, &since))
        return;
    const char *fmt = evhttp_find_header(&k->query, "format");
    if (fmt && strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "json") != 0 &&
        strcmp(fmt, "text") != 0) {
        reply_error(k->req, 400, "format: jsonl (the default), json or text, not '%s'", fmt);
        return;
    }
    bool text = fmt && strcmp(fmt, "text") == 0, array = fmt && strcmp(fmt, "json") == 0;
    char *s = mb_journal_render(k->a->c, (uint64_t)since,
                                text ? MB_JOURNAL_TEXT : MB_JOURNAL_JSONL);
    if (s == NULL) {
        reply_error(k->req, 500, "out of memory");
        return;
    }
    struct mb_journal_stats js;
    mb_journal_stats(k->a->c, &js);
    char last[32];
    snprintf(last, sizeof(last), "%" PRIu64, js.total);
    /* The id to pass as since next time, so a poller never misses or repeats an entry. */
    evhttp_add_header(evhttp_request_get_output_headers(k->req), "X-Journal-Last", last);
    if (!array) {
        reply_text(k->req, 200, text ? "text/plain" : "application/x-ndjson", s, strlen(s));
        free(s);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        free(s);
        reply_error(k->req, 500, "out of memory");
        return;
    }
    evbuffer_add(b, "[", 1);
    bool first = true;
    char *save = NULL;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        evbuffer_add_printf(b, "%s%s", first ? "" : ",", line);
        first = false;
    }
    evbuffer_add(b, "]\n", 2);
    free(s);
    evhttp_add_header(evhttp_request_get_output_headers(k->req), "Content-Type",
                      "application/json");
    evhttp_send_reply(k->req, 200, "OK", b);
    evbuffer_free(b);
}

/* --- waits ------------------------------------------------------------------------------------ */

/* An integer member of a condition and its lowest value. */
struct ckey {
    const char *key;
    int64_t *dst;
    int64_t min;
};

/* Reads a condition's integer and string members; the others ("isr", "spent", "state", "kind")
 * are read by parse_cond. False after answering 400. */
static bool cond_fields(struct call *k, const char *what, json_t *o, const struct ckey *keys,
                        const char *const *strs, char (*const *sdst), const size_t *ssize)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t i = 0; keys[i].key && !known; i++)
            if (strcmp(keys[i].key, key) == 0) {
                known = true;
                if (!json_is_integer(v) || json_integer_value(v) < keys[i].min) {
                    reply_error(k->req, 400, "condition.%s.%s: expected an integer >= %" PRId64,
                                what, key, keys[i].min);
                    return false;
                }
                *keys[i].dst = json_integer_value(v);
            }
        for (size_t i = 0; strs && strs[i] && !known; i++)
            if (strcmp(strs[i], key) == 0) {
                known = true;
                if (!json_is_string(v) || json_string_length(v) >= ssize[i]) {
                    reply_error(k->req, 400, "condition.%s.%s: expected a string", what, key);
                    return false;
                }
                memcpy(sdst[i], json_string_value(v), json_string_length(v) + 1);
            }
        if (!known && strcmp(key, "isr") != 0 && strcmp(key, "spent") != 0 &&
            strcmp(key, "state") != 0 && strcmp(key, "kind") != 0) {
            reply_error(k->req, 400, "condition.%s.%s: unknown key", what, key);
            return false;
        }
    }
    return true;
}

static bool parse_cond(struct call *k, const char *what, json_t *o, struct cond *c)
{
    memset(c, 0, sizeof(*c));
    c->partition = c->log_end_offset = c->high_watermark = c->log_start_offset = UNSET;
    c->leader = c->leader_epoch = c->isr_size = c->matched = c->fired = c->held = UNSET;
    c->spent = c->count = UNSET;
    c->broker = c->api_key = MB_ANY;
    c->n_isr = -1;
    c->jkind = -1;
    c->state = -1;
    if (!json_is_object(o)) {
        reply_error(k->req, 400, "condition.%s: expected an object", what);
        return false;
    }
    if (strcmp(what, "partition") == 0) {
        const struct ckey keys[] = {
            { "partition", &c->partition, 0 }, { "log_end_offset", &c->log_end_offset, 0 },
            { "high_watermark", &c->high_watermark, 0 },
            { "log_start_offset", &c->log_start_offset, 0 }, { "leader", &c->leader, -1 },
            { "leader_epoch", &c->leader_epoch, 0 }, { "isr_size", &c->isr_size, 0 },
            { NULL, NULL, 0 },
        };
        const char *const strs[] = { "topic", NULL };
        char *const dst[] = { c->name };
        const size_t sz[] = { sizeof(c->name) };
        c->kind = COND_PARTITION;
        if (!cond_fields(k, what, o, keys, strs, dst, sz))
            return false;
        json_t *isr = json_object_get(o, "isr");
        if (isr) {
            if (!json_is_array(isr) || json_array_size(isr) > MB_MAX_REPLICAS) {
                reply_error(k->req, 400, "condition.partition.isr: expected broker ids");
                return false;
            }
            size_t i;
            json_t *e;
            c->n_isr = (int)json_array_size(isr);
            json_array_foreach(isr, i, e) {
                if (!json_is_integer(e)) {
                    reply_error(k->req, 400, "condition.partition.isr: expected broker ids");
                    return false;
                }
                c->isr[i] = (int)json_integer_value(e);
            }
        }
        if (!c->name[0] || c->partition == UNSET) {
            reply_error(k->req, 400, "condition.partition: topic and partition are required");
            return false;
        }
    } else if (strcmp(what, "rule") == 0) {
        const struct ckey keys[] = {
            { "matched", &c->matched, 0 }, { "fired", &c->fired, 0 }, { "held", &c->held, 0 },
            { NULL, NULL, 0 },
        };
        const char *const strs[] = { "name", NULL };
        char *const dst[] = { c->name };
        const size_t sz[] = { sizeof(c->name) };
        c->kind = COND_RULE;
        if (!cond_fields(k, what, o, keys, strs, dst, sz))
            return false;
        json_t *spent = json_object_get(o, "spent");
        if (spent && !json_is_boolean(spent)) {
            reply_error(k->req, 400, "condition.rule.spent: expected true or false");
            return false;
        }
        if (spent)
            c->spent = json_is_true(spent);
        if (!c->name[0]) {
            reply_error(k->req, 400, "condition.rule: name is required");
            return false;
        }
    } else if (strcmp(what, "requests") == 0) {
        const struct ckey keys[] = {
            { "broker", &c->broker, -1 }, { "api_key", &c->api_key, -1 },
            { "count", &c->count, 0 }, { NULL, NULL, 0 },
        };
        c->kind = COND_REQUESTS;
        if (!cond_fields(k, what, o, keys, NULL, NULL, NULL))
            return false;
        if (c->count == UNSET) {
            reply_error(k->req, 400, "condition.requests: count is required");
            return false;
        }
    } else if (strcmp(what, "broker") == 0) {
        const struct ckey keys[] = { { "id", &c->broker, 1 }, { NULL, NULL, 0 } };
        c->kind = COND_BROKER;
        c->broker = UNSET;
        if (!cond_fields(k, what, o, keys, NULL, NULL, NULL))
            return false;
        json_t *st = json_object_get(o, "state");
        c->state = json_is_string(st) ? mb_broker_state_parse(json_string_value(st)) : -1;
        if (c->broker == UNSET || c->state < 0) {
            reply_error(k->req, 400, "condition.broker: id and state (up, down, blackhole) "
                        "are required");
            return false;
        }
    } else if (strcmp(what, "journal") == 0) {
        int64_t since = 0;
        const struct ckey keys[] = {
            { "count", &c->count, 1 }, { "since", &since, 0 }, { NULL, NULL, 0 },
        };
        const char *const strs[] = { "what", "rule", "topic", NULL };
        char *const dst[] = { c->what, c->rule, c->topic };
        const size_t sz[] = { sizeof(c->what), sizeof(c->rule), sizeof(c->topic) };
        c->kind = COND_JOURNAL;
        if (!cond_fields(k, what, o, keys, strs, dst, sz))
            return false;
        json_t *kind = json_object_get(o, "kind");
        if (kind && (!json_is_string(kind) ||
                     (c->jkind = mb_journal_kind_parse(json_string_value(kind))) < 0)) {
            reply_error(k->req, 400, "condition.journal.kind: unknown journal kind");
            return false;
        }
        if (c->count == UNSET)
            c->count = 1;
        c->scanned = (uint64_t)since;
    } else {
        reply_error(k->req, 400, "condition.%s: unknown condition (partition, rule, requests, "
                    "broker, journal)", what);
        return false;
    }
    return true;
}

static bool at_least(int64_t want, int64_t have)
{
    return want == UNSET || have >= want;
}

static bool journal_holds(struct mb_cluster *c, struct cond *q)
{
    struct mb_journal_entry es[64];
    size_t n;
    while (q->found < (uint64_t)q->count && (n = mb_journal_read(c, q->scanned, es, 64)) > 0)
        for (size_t i = 0; i < n; i++) {
            const struct mb_journal_entry *e = &es[i];
            q->scanned = e->id;
            if ((q->jkind < 0 || (int)e->kind == q->jkind) &&
                (!q->what[0] || (e->what && strcmp(e->what, q->what) == 0)) &&
                (!q->rule[0] || (e->rule && strcmp(e->rule, q->rule) == 0)) &&
                (!q->topic[0] || (e->topic && strcmp(e->topic, q->topic) == 0)))
                q->found++;
        }
    return q->found >= (uint64_t)q->count;
}

static bool holds(struct mb_cluster *c, struct cond *q)
{
    switch (q->kind) {
    case COND_PARTITION: {
        struct mb_partition_info pi;
        if (mb_partition_info(c, q->name, (int)q->partition, &pi) != 0)
            return false;
        if (q->n_isr >= 0) {
            if (pi.n_isr != q->n_isr)
                return false;
            for (int i = 0; i < q->n_isr; i++) {
                bool in = false;
                for (int j = 0; j < pi.n_isr; j++)
                    in = in || pi.isr[j] == q->isr[i];
                if (!in)
                    return false;
            }
        }
        return at_least(q->log_end_offset, pi.log_end_offset) &&
               at_least(q->high_watermark, pi.high_watermark) &&
               at_least(q->log_start_offset, pi.log_start_offset) &&
               at_least(q->leader_epoch, pi.leader_epoch) &&
               (q->leader == UNSET || q->leader == pi.leader) &&
               (q->isr_size == UNSET || q->isr_size == pi.n_isr);
    }
    case COND_RULE: {
        struct mb_rule_stats st;
        if (mb_rule_stats(c, q->name, &st) != 0)
            return false;
        return at_least(q->matched, (int64_t)st.matched) &&
               at_least(q->fired, (int64_t)st.fired) && at_least(q->held, st.held) &&
               (q->spent == UNSET || q->spent == st.spent);
    }
    case COND_REQUESTS:
        return (int64_t)mb_request_count(c, (int)q->broker, (int)q->api_key) >= q->count;
    case COND_BROKER:
        return mb_broker_state(c, (int)q->broker) == q->state;
    case COND_JOURNAL:
        return journal_holds(c, q);
    }
    return false;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_free(struct wait *w)
{
    LIST_REMOVE(w, link);
    if (w->timer)
        event_free(w->timer);
    free(w->conds);
    if (LIST_EMPTY(&w->a->waits))
        event_del(w->a->tick);
    free(w);
}

/* Answers the wait (200 if its condition held, else 408) with the state, and frees it. */
static void wait_answer(struct wait *w, int code)
{
    struct evhttp_request *req = w->req;
    json_t *body = json_object();
    if (code != 200)
        json_object_set_new(body, "error", json_string(code == 408 ? "timed out"
                                                                   : "the control API stopped"));
    json_object_set_new(body, "waited_ms", json_integer(mono_ms() - w->started_ms));
    json_object_set_new(body, "state", state_json(w->a));
    wait_free(w);
    reply_json(req, code, body);
}

static bool wait_holds(struct wait *w)
{
    for (int i = 0; i < w->n; i++)
        if (!holds(w->a->c, &w->conds[i]))
            return false;
    return true;
}

static void wait_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct wait *w = arg;
    wait_answer(w, wait_holds(w) ? 200 : 408);
}

/* Re-checks every wait when the cluster changed since the last tick. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mb_admin *a = arg;
    struct mb_journal_stats js;
    mb_journal_stats(a->c, &js);
    if (a->c->state_version == a->seen_version && js.total == a->seen_journal)
        return;
    a->seen_version = a->c->state_version;
    a->seen_journal = js.total;
    struct wait *w = LIST_FIRST(&a->waits), *next;
    for (; w; w = next) {
        next = LIST_NEXT(w, link);
        if (wait_holds(w))
            wait_answer(w, 200);
    }
}

static void post_wait(struct call *k)
{
    static const char *const kinds[] = { "partition", "rule", "requests", "broker", "journal" };
    json_t *body = body_json(k, true);
    if (body == NULL)
        return;
    struct wait *w = calloc(1, sizeof(*w));
    json_t *cond = json_object_get(body, "condition"), *t = json_object_get(body, "timeout_ms");
    const char *key;
    json_t *v;
    bool ok = w != NULL;
    if (!ok)
        reply_error(k->req, 500, "out of memory");
    json_object_foreach(body, key, v)
        if (ok && strcmp(key, "condition") != 0 && strcmp(key, "timeout_ms") != 0) {
            reply_error(k->req, 400, "%s: unknown key (condition, timeout_ms)", key);
            ok = false;
        }
    if (ok && (!json_is_object(cond) || json_object_size(cond) == 0)) {
        reply_error(k->req, 400, "condition: expected an object naming at least one of "
                    "partition, rule, requests, broker, journal");
        ok = false;
    }
    if (ok && t && (!json_is_integer(t) || json_integer_value(t) < 0 ||
                    json_integer_value(t) > MAX_WAIT_MS)) {
        reply_error(k->req, 400, "timeout_ms: expected an integer 0..%d", MAX_WAIT_MS);
        ok = false;
    }
    /* Each kind takes one object or an array of them; all must hold. */
    size_t n = 0;
    json_object_foreach(cond, key, v)
        n += json_is_array(v) ? json_array_size(v) : 1;
    if (ok && (w->conds = calloc(n ? n : 1, sizeof(*w->conds))) == NULL) {
        reply_error(k->req, 500, "out of memory");
        ok = false;
    }
    json_object_foreach(cond, key, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            known = known || strcmp(kinds[i], key) == 0;
        if (ok && !known) {
            reply_error(k->req, 400, "condition.%s: unknown condition (partition, rule, "
                        "requests, broker, journal)", key);
            ok = false;
        }
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
                ok = ok && parse_cond(k, key, e, &w->conds[w->n++]);
        } else {
            ok = ok && parse_cond(k, key, v, &w->conds[w->n++]);
        }
    }
    int64_t timeout = t ? json_integer_value(t) : 5000;
    json_decref(body);
    if (!ok) {
        if (w)
            free(w->conds);
        free(w);
        return;
    }
    struct mb_admin *a = k->a;
    w->a = a;
    w->req = k->req;
    w->started_ms = mono_ms();
    LIST_INSERT_HEAD(&a->waits, w, link);
    if (wait_holds(w)) {
        wait_answer(w, 200);
        return;
    }
    w->timer = evtimer_new(a->c->base, wait_timeout_cb, w);
    struct timeval tv = { (time_t)(timeout / 1000), (suseconds_t)(timeout % 1000) * 1000 };
    struct timeval tick = { 0, WAIT_TICK_MS * 1000 };
    if (w->timer == NULL || evtimer_add(w->timer, &tv) != 0 ||
        (!event_pending(a->tick, EV_TIMEOUT, NULL) && event_add(a->tick, &tick) != 0)) {
        wait_free(w);
        reply_error(k->req, 500, "cannot start a timer");
    }
}

static void clear_rules(struct call *k)
{
    int n = mb_rule_count(k->a->c);
    mb_rule_clear(k->a->c);
    reply_json(k->req, 200, json_pack("{si}", "removed", n));
}

/* --- transactions ----------------------------------------------------------------------------- */

static json_t *txn_json(struct mb_cluster *c, const char *id)
{
    struct mb_txn_info ti;
    if (mb_txn_info(c, id, &ti) != 0)
        return NULL;
    return json_pack("{sssIsisssisisi}", "transactional_id", id, "producer_id",
                     (json_int_t)ti.producer_id, "producer_epoch", (int)ti.producer_epoch,
                     "state", mb_txn_state_name(ti.state), "timeout_ms", (int)ti.timeout_ms,
                     "partitions", ti.n_partitions, "coordinator", ti.coordinator);
}

static int by_id(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void get_transactions(struct call *k)
{
    struct mb_cluster *c = k->a->c;
    int n = mb__txn_ids(c, NULL, 0);
    const char **ids = calloc((size_t)n + 1, sizeof(*ids));
    json_t *arr = json_array();
    if (ids) {
        n = mb__txn_ids(c, ids, n);
        qsort(ids, (size_t)n, sizeof(*ids), by_id);
        for (int i = 0; i < n; i++) {
            json_t *o = txn_json(c, ids[i]);
            if (o)
                json_array_append_new(arr, o);
        }
    }
    free(ids);
    reply_json(k->req, 200, json_pack("{so}", "transactions", arr));
}

static void clear_journal(struct call *k)
{
    mb_journal_clear(k->a->c);
    reply_json(k->req, 200, json_pack("{sb}", "cleared", 1));
}

/* --- routing ---------------------------------------------------------------------------------- */

static void route(struct call *k)
{
    enum evhttp_cmd_type m = k->method;
    bool get = m == EVHTTP_REQ_GET, post = m == EVHTTP_REQ_POST, del = m == EVHTTP_REQ_DELETE;
    bool bad_method = false;
    if (is(k, 1, "state")) {
        if (get)
            reply_json(k->req, 200, state_json(k->a));
        bad_method = !get;
    } else if (is(k, 1, "rules")) {
        if (get)
            get_rules(k);
        else if (post)
            post_rules(k);
        else if (del)
            clear_rules(k);
        bad_method = !get && !post && !del;
    } else if (is(k, 2, "rules", NULL)) {
        if (get || del)
            rule_by_name(k, k->seg[1]);
        bad_method = !get && !del;
    } else if (is(k, 3, "holds", NULL, "release") || is(k, 2, "holds", "release")) {
        if (post)
            release(k, k->n == 3 ? k->seg[1] : NULL);
        bad_method = !post;
    } else if (is(k, 3, "brokers", NULL, "down") || is(k, 3, "brokers", NULL, "up") ||
               is(k, 3, "brokers", NULL, "blackhole")) {
        if (post)
            broker_op(k);
        bad_method = !post;
    } else if (is(k, 3, "partitions", NULL, NULL)) {
        int64_t p;
        struct mb_partition_info pi;
        if (get && path_partition(k, &p, &pi))
            reply_json(k->req, 200, partition_json((int)p, &pi));
        bad_method = !get;
    } else if (is(k, 4, "partitions", NULL, NULL, "records")) {
        if (get)
            get_records(k);
        bad_method = !get;
    } else if (is(k, 4, "partitions", NULL, NULL, "leader") ||
               is(k, 4, "partitions", NULL, NULL, "isr") ||
               is(k, 4, "partitions", NULL, NULL, "replicas") ||
               is(k, 4, "partitions", NULL, NULL, "follower")) {
        if (post)
            partition_op(k);
        bad_method = !post;
    } else if (is(k, 1, "topics")) {
        if (post)
            post_topics(k);
        else if (get)
            reply_json(k->req, 200, json_pack("{so}", "topics", topics_json(k->a->c)));
        bad_method = !post && !get;
    } else if (is(k, 2, "topics", NULL)) {
        if (del && mb_topic_delete(k->a->c, k->seg[1]) != 0)
            reply_error(k->req, 404, "no topic '%s'", k->seg[1]);
        else if (del)
            reply_json(k->req, 200, json_pack("{ss}", "deleted", k->seg[1]));
        bad_method = !del;
    } else if (is(k, 1, "actions")) {
        if (post)
            post_actions(k);
        bad_method = !post;
    } else if (is(k, 1, "scenario")) {
        if (post)
            post_scenario(k);
        bad_method = !post;
    } else if (is(k, 1, "journal")) {
        if (get)
            get_journal(k);
        else if (del)
            clear_journal(k);
        bad_method = !get && !del;
    } else if (is(k, 1, "wait")) {
        if (post)
            post_wait(k);
        bad_method = !post;
    } else if (is(k, 1, "transactions")) {
        if (get)
            get_transactions(k);
        bad_method = !get;
    } else if (is(k, 2, "transactions", NULL)) {
        json_t *o = get ? txn_json(k->a->c, k->seg[1]) : NULL;
        if (o)
            reply_json(k->req, 200, o);
        else if (get)
            reply_error(k->req, 404, "no transactional id '%s'", k->seg[1]);
        bad_method = !get;
    } else {
        reply_error(k->req, 404, "no such endpoint (see docs/scenarios.md)");
    }
    if (bad_method)
        reply_error(k->req, 405, "method not allowed here");
}

static void request_cb(struct evhttp_request *req, void *arg)
{
    struct call k = { .a = arg, .req = req, .method = evhttp_request_get_command(req) };
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    TAILQ_INIT(&k.query);
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
    if (uri == NULL || !split_path(&k, evhttp_uri_get_path(uri)))
        reply_error(req, 404, "no such endpoint");
    else if (q && evhttp_parse_query_str(q, &k.query) != 0)
        reply_error(req, 400, "bad query string");
    else
        route(&k);
    evhttp_clear_headers(&k.query);
}

/* --- start and stop --------------------------------------------------------------------------- */

static void start_call(struct mb_cluster *c, void *arg)
{
    struct mb_admin *a = arg;
    a->http = evhttp_new(c->base);
    a->tick = event_new(c->base, -1, EV_PERSIST, tick_cb, a);
    if (a->http == NULL || a->tick == NULL) {
        snprintf(a->errstr, a->errstr_size, "out of memory");
        a->rc = -1;
        return;
    }
    /* PUT too, so that it gets our 405 rather than evhttp's 501 page. */
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_PUT);
    evhttp_set_max_body_size(a->http, MAX_BODY);
    evhttp_set_gencb(a->http, request_cb, a);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(a->http, "127.0.0.1",
                                                                    (uint16_t)a->port);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (bs == NULL ||
        getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len) != 0) {
        snprintf(a->errstr, a->errstr_size, "cannot listen on 127.0.0.1:%d: %s", a->port,
                 strerror(errno));
        a->rc = -1;
        return;
    }
    a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    mb__log(c, MB_LOG_INFO, "control API on http://127.0.0.1:%d", a->port);
}

static void stop_call(struct mb_cluster *c, void *arg)
{
    (void)c;
    struct mb_admin *a = arg;
    while (!LIST_EMPTY(&a->waits))
        wait_answer(LIST_FIRST(&a->waits), 503);
    if (a->tick)
        event_free(a->tick);
    if (a->http)
        evhttp_free(a->http);
}

struct mb_admin *mb_admin_start(struct mb_cluster *c, int port, char *errstr, size_t errstr_size)
{
    struct mb_admin *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (port < 0 || port > 65535) {
        snprintf(errstr, errstr_size, "port %d out of range", port);
        free(a);
        return NULL;
    }
    a->c = c;
    a->port = port;
    a->errstr = errstr;
    a->errstr_size = errstr_size;
    LIST_INIT(&a->waits);
    mb__call(c, start_call, a);
    a->errstr = NULL;
    if (a->rc != 0) {
        mb_admin_stop(a);
        return NULL;
    }
    return a;
}

int mb_admin_port(const struct mb_admin *a)
{
    return a->port;
}

void mb_admin_stop(struct mb_admin *a)
{
    if (a == NULL)
        return;
    mb__call(a->c, stop_call, a);
    free(a);
}
