/* Scenario files: JSON (jansson) to the structs of mockbroker.h and back, applying a scenario to
 * a cluster, and the workload's messages and their tally. The JSON keys are the struct members'
 * names (mockbroker.h); every object is checked for keys we do not know, so a typo is an error
 * naming its path rather than a default silently used. */
#include "mockbroker/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "lib/errors.h"

/* The document stays loaded: the structs' strings point into it. */
struct priv {
    json_t *root;
    void **allocs;
    size_t n_allocs;
    char origin[256];
    struct mb_config cfg;           /* the "cluster" settings given ... */
    uint32_t cfg_set;               /* ... one bit per member below */
};

enum {
    SET_AUTO_CREATE = 1 << 0, SET_PARTITIONS = 1 << 1, SET_REPLICATION = 1 << 2,
    SET_MAX_PARTITIONS = 1 << 3, SET_MESSAGE_MAX = 1 << 4, SET_RETENTION = 1 << 5,
    SET_PID_BASE = 1 << 6, SET_LAG = 1 << 7, SET_UNCLEAN = 1 << 8, SET_JOURNAL = 1 << 9,
    SET_CLUSTER_ID = 1 << 10, SET_MAX_REQUEST = 1 << 11,
};

struct ctx {
    struct priv *pv;
    char path[256];
    size_t len;
    char *errstr;
    size_t size;
};

/* --- paths and errors ------------------------------------------------------------------------- */

static int fail(struct ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ctx *cx, const char *fmt, ...)
{
    if (cx->errstr == NULL || cx->size == 0)
        return -1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cx->len)
        snprintf(cx->errstr, cx->size, "%s: %s", cx->path, msg);
    else
        snprintf(cx->errstr, cx->size, "%s", msg);
    return -1;
}

/* Each push returns the mark to pop back to. A path too deep for the buffer is cut, never
 * overrun: it only serves messages. */
static size_t push_key(struct ctx *cx, const char *key)
{
    size_t mark = cx->len;
    int n = snprintf(cx->path + cx->len, sizeof(cx->path) - cx->len, "%s%s", cx->len ? "." : "",
                     key);
    cx->len = n < 0 ? cx->len : cx->len + (size_t)n;
    if (cx->len >= sizeof(cx->path))
        cx->len = sizeof(cx->path) - 1;
    return mark;
}

static size_t push_index(struct ctx *cx, size_t i)
{
    size_t mark = cx->len;
    int n = snprintf(cx->path + cx->len, sizeof(cx->path) - cx->len, "[%zu]", i);
    cx->len = n < 0 ? cx->len : cx->len + (size_t)n;
    if (cx->len >= sizeof(cx->path))
        cx->len = sizeof(cx->path) - 1;
    return mark;
}

static void pop(struct ctx *cx, size_t mark)
{
    cx->len = mark;
    cx->path[mark] = '\0';
}

static const char *type_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a fractional number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void *track(struct ctx *cx, void *p)
{
    if (p == NULL)
        return NULL;
    void **a = realloc(cx->pv->allocs, (cx->pv->n_allocs + 1) * sizeof(*a));
    if (a == NULL) {
        free(p);
        return NULL;
    }
    cx->pv->allocs = a;
    a[cx->pv->n_allocs++] = p;
    return p;
}

static void *alloc(struct ctx *cx, size_t n, size_t size)
{
    void *p = track(cx, calloc(n ? n : 1, size));
    if (p == NULL)
        fail(cx, "out of memory");
    return p;
}

/* --- typed members ------------------------------------------------------------------------------
 * Each getter returns 1 when the key is there and well-formed (out set), 0 when absent (out
 * untouched), -1 after failing with the member's path. */

static int only_keys(struct ctx *cx, json_t *obj, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k) != 0)
            i++;
        if (keys[i] == NULL) {
            size_t m = push_key(cx, k);
            fail(cx, "unknown key");
            pop(cx, m);
            return -1;
        }
    }
    return 0;
}

static int want_object(struct ctx *cx, json_t *v)
{
    return json_is_object(v) ? 0 : fail(cx, "expected an object, got %s", type_of(v));
}

static int get_int(struct ctx *cx, json_t *obj, const char *key, int64_t min, int64_t max,
                   int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    size_t m = push_key(cx, key);
    int rc = 1;
    if (!json_is_integer(v))
        rc = fail(cx, "expected an integer, got %s", type_of(v));
    else if (json_integer_value(v) < min || json_integer_value(v) > max)
        rc = fail(cx, "%" PRId64 " is out of range %" PRId64 "..%" PRId64,
                  (int64_t)json_integer_value(v), min, max);
    else
        *out = json_integer_value(v);
    pop(cx, m);
    return rc;
}

static int get_i32(struct ctx *cx, json_t *obj, const char *key, int64_t min, int64_t max,
                   int32_t *out)
{
    int64_t v;
    int rc = get_int(cx, obj, key, min, max, &v);
    if (rc == 1)
        *out = (int32_t)v;
    return rc;
}

static int get_int_any(struct ctx *cx, json_t *obj, const char *key, int64_t max, int *out)
{
    /* "any" reads better in a file than -1, and is what MB_ANY means. */
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v) && strcmp(json_string_value(v), "any") == 0) {
        *out = MB_ANY;
        return 1;
    }
    if (json_is_string(v)) {
        size_t m = push_key(cx, key);
        fail(cx, "expected an integer or \"any\", got '%s'", json_string_value(v));
        pop(cx, m);
        return -1;
    }
    int64_t i;
    int rc = get_int(cx, obj, key, -1, max, &i);
    if (rc == 1)
        *out = (int)i;
    return rc;
}

static int get_str(struct ctx *cx, json_t *obj, const char *key, size_t max, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    size_t m = push_key(cx, key);
    int rc = 1;
    if (!json_is_string(v))
        rc = fail(cx, "expected a string, got %s", type_of(v));
    else if (json_string_length(v) > max)
        rc = fail(cx, "longer than %zu bytes", max);
    else
        *out = json_string_value(v);
    pop(cx, m);
    return rc;
}

static int get_bool(struct ctx *cx, json_t *obj, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v)) {
        size_t m = push_key(cx, key);
        fail(cx, "expected true or false, got %s", type_of(v));
        pop(cx, m);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

/* A name from a _parse function, or -1 failing with the choices' kind in the message. */
static int get_enum(struct ctx *cx, json_t *obj, const char *key, int (*parse)(const char *),
                    const char *what, int *out)
{
    const char *s;
    int rc = get_str(cx, obj, key, 64, &s);
    if (rc != 1)
        return rc;
    int v = parse(s);
    if (v < 0) {
        size_t m = push_key(cx, key);
        fail(cx, "unknown %s '%s'", what, s);
        pop(cx, m);
        return -1;
    }
    *out = v;
    return 1;
}

static int get_error_code(struct ctx *cx, json_t *obj, const char *key, int16_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    size_t m = push_key(cx, key);
    int rc = 1;
    if (json_is_string(v)) {
        int code = kw_error_by_name(json_string_value(v));
        if (code == KW_ERROR_NOT_FOUND)
            rc = fail(cx, "unknown error name '%s'", json_string_value(v));
        else
            *out = (int16_t)code;
    } else if (json_is_integer(v)) {
        json_int_t code = json_integer_value(v);
        if (code < KW_EC_MIN || code > KW_EC_MAX)
            rc = fail(cx, "%" PRId64 " is no Kafka error code (%d..%d)", (int64_t)code,
                      KW_EC_MIN, KW_EC_MAX);
        else
            *out = (int16_t)code;
    } else {
        rc = fail(cx, "expected an error code or name, got %s", type_of(v));
    }
    pop(cx, m);
    return rc;
}

/* "Produce", "produce", "InitProducerId" or "init_producer_id". */
static bool same_name(const char *a, const char *b)
{
    for (;; a++, b++) {
        a += *a == '_';
        b += *b == '_';
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        if (*a == '\0')
            return true;
    }
}

static int api_by_name(const char *name)
{
    for (int k = 0; k < MB__MAX_API_KEY; k++)
        if (same_name(kw_api_name(k), name) && strcmp(kw_api_name(k), "Unknown") != 0)
            return k;
    return -1;
}

static int get_api_key(struct ctx *cx, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v) && strcmp(json_string_value(v), "any") != 0) {
        int k = api_by_name(json_string_value(v));
        if (k < 0) {
            size_t m = push_key(cx, key);
            fail(cx, "unknown API '%s'", json_string_value(v));
            pop(cx, m);
            return -1;
        }
        *out = k;
        return 1;
    }
    return get_int_any(cx, obj, key, MB__MAX_API_KEY - 1, out);
}

/* A list of broker ids (1..64) into out[MB_MAX_REPLICAS]. */
static int get_brokers(struct ctx *cx, json_t *obj, const char *key, int *out, int *n)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    size_t m = push_key(cx, key);
    int rc = 1;
    if (!json_is_array(v) || json_array_size(v) > MB_MAX_REPLICAS) {
        rc = fail(cx, "expected an array of at most %d broker ids", MB_MAX_REPLICAS);
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 1024) {
                size_t mi = push_index(cx, i);
                rc = fail(cx, "expected a broker id (1..1024), got %s", type_of(e));
                pop(cx, mi);
                break;
            }
            out[i] = (int)json_integer_value(e);
        }
        *n = (int)json_array_size(v);
    }
    pop(cx, m);
    return rc;
}

/* An expected count: a number, or {"min": a, "max": b}. */
static int get_range(struct ctx *cx, json_t *obj, const char *key, struct mb_range *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    size_t m = push_key(cx, key);
    int rc = 1;
    out->set = true;
    out->min = 0;
    out->max = INT64_MAX;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        out->min = out->max = json_integer_value(v);
    } else if (json_is_object(v)) {
        static const char *const keys[] = { "min", "max", NULL };
        if (only_keys(cx, v, keys) < 0 || get_int(cx, v, "min", 0, INT64_MAX, &out->min) < 0 ||
            get_int(cx, v, "max", 0, INT64_MAX, &out->max) < 0)
            rc = -1;
        else if (out->min > out->max)
            rc = fail(cx, "min is above max");
    } else {
        rc = fail(cx, "expected a count (>= 0) or {\"min\": N, \"max\": N}, got %s", type_of(v));
    }
    pop(cx, m);
    return rc;
}

/* A string, number or boolean, as text: configs are text in Kafka. */
static int config_value(struct ctx *cx, json_t *v, const char **out)
{
    char buf[32];
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    if (json_is_integer(v))
        snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
    else
        return fail(cx, "expected a string, integer or boolean, got %s", type_of(v));
    char *s = track(cx, strdup(buf));
    if (s == NULL)
        return fail(cx, "out of memory");
    *out = s;
    return 0;
}

static int get_kvs(struct ctx *cx, json_t *obj, const char *key, const struct mb_kv **out,
                   int *n)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    size_t m = push_key(cx, key);
    if (want_object(cx, v) < 0)
        return -1;
    struct mb_kv *kv = alloc(cx, json_object_size(v), sizeof(*kv));
    if (kv == NULL)
        return -1;
    const char *k;
    json_t *e;
    int i = 0;
    json_object_foreach(v, k, e) {
        size_t mk = push_key(cx, k);
        kv[i].key = k;
        if (config_value(cx, e, &kv[i].value) < 0)
            return -1;
        pop(cx, mk);
        i++;
    }
    pop(cx, m);
    *out = kv;
    *n = i;
    return 1;
}

/* --- rules and actions ------------------------------------------------------------------------ */

static int parse_action(struct ctx *cx, json_t *v, struct mb_action *a)
{
    static const char *const keys[] = {
        "type", "when", "error_code", "error_message", "record_errors", "duration_ms",
        "interval_ms", "bytes", "offset", "broker", "topic", "partition", "brokers", "mode",
        "lag_ms", "lag_batches", NULL,
    };
    int t = MB_ACTION_NONE, w = MB_BEFORE_APPLY, mode = a->mode;
    if (want_object(cx, v) < 0 || only_keys(cx, v, keys) < 0)
        return -1;
    int rc = get_enum(cx, v, "type", mb_action_type_parse, "action", &t);
    if (rc == 0)
        return fail(cx, "type is required");
    if (rc < 0 || get_enum(cx, v, "when", mb_when_parse, "when", &w) < 0 ||
        get_enum(cx, v, "mode", mb_follower_mode_parse, "follower mode", &mode) < 0 ||
        get_error_code(cx, v, "error_code", &a->error_code) < 0 ||
        get_str(cx, v, "error_message", 255, &a->error_message) < 0 ||
        get_int(cx, v, "duration_ms", 0, INT32_MAX, &a->duration_ms) < 0 ||
        get_int(cx, v, "interval_ms", 0, INT32_MAX, &a->interval_ms) < 0 ||
        get_i32(cx, v, "bytes", 0, INT32_MAX, &a->bytes) < 0 ||
        get_i32(cx, v, "offset", -1, INT32_MAX, &a->offset) < 0 ||
        get_int_any(cx, v, "broker", 1024, &a->broker) < 0 ||
        get_str(cx, v, "topic", 249, &a->topic) < 0 ||
        get_brokers(cx, v, "brokers", a->brokers, &a->n_brokers) < 0 ||
        get_int(cx, v, "lag_ms", 0, INT32_MAX, &a->lag_ms) < 0 ||
        get_i32(cx, v, "lag_batches", 0, INT32_MAX, &a->lag_batches) < 0)
        return -1;
    int part = MB_ANY;
    if (get_int_any(cx, v, "partition", INT32_MAX, &part) < 0)
        return -1;
    a->partition = part;
    a->type = (enum mb_action_type)t;
    a->when = (enum mb_when)w;
    a->mode = (enum mb_follower_mode)mode;

    json_t *re = json_object_get(v, "record_errors");
    if (re) {
        size_t m = push_key(cx, "record_errors");
        if (!json_is_array(re) || json_array_size(re) > MB_MAX_RECORD_ERRORS) {
            fail(cx, "expected an array of at most %d batch indexes", MB_MAX_RECORD_ERRORS);
            return -1;
        }
        size_t i;
        json_t *e;
        json_array_foreach(re, i, e) {
            if (!json_is_integer(e) || json_integer_value(e) < 0 ||
                json_integer_value(e) > INT32_MAX) {
                push_index(cx, i);
                return fail(cx, "expected a batch index (>= 0), got %s", type_of(e));
            }
            a->record_errors[i] = (int32_t)json_integer_value(e);
        }
        a->n_record_errors = (int)json_array_size(re);
        pop(cx, m);
    }
    /* What the action needs and no cluster is required to see; the cluster checks the rest. */
    if (a->type == MB_ACTION_ERROR && a->error_code == 0)
        return fail(cx, "error: error_code is required (a Kafka error code or name)");
    if (a->type == MB_ACTION_THROTTLE && a->duration_ms == 0)
        return fail(cx, "throttle: duration_ms is required");
    if ((a->type == MB_ACTION_SPLIT_RESPONSE) && a->bytes < 1)
        return fail(cx, "split_response: bytes (>= 1) is required");
    if ((a->type == MB_ACTION_ISR_SET || a->type == MB_ACTION_REPLICAS_SET) && a->n_brokers < 1)
        return fail(cx, "%s: brokers is required", mb_action_type_name(a->type));
    if (a->type == MB_ACTION_FOLLOWER && !json_object_get(v, "mode"))
        return fail(cx, "follower: mode is required");
    return 0;
}

static int parse_match(struct ctx *cx, json_t *v, struct mb_match *m)
{
    static const char *const keys[] = {
        "broker", "api_key", "min_version", "max_version", "topic", "partition", "producer_id",
        "client_id", "nth", NULL,
    };
    int part = MB_ANY;
    int64_t pid = MB_ANY;
    json_t *pv = json_object_get(v, "producer_id");
    if (want_object(cx, v) < 0 || only_keys(cx, v, keys) < 0 ||
        get_int_any(cx, v, "broker", 1024, &m->broker) < 0 ||
        get_api_key(cx, v, "api_key", &m->api_key) < 0 ||
        get_int_any(cx, v, "min_version", INT16_MAX, &m->min_version) < 0 ||
        get_int_any(cx, v, "max_version", INT16_MAX, &m->max_version) < 0 ||
        get_str(cx, v, "topic", 249, &m->topic) < 0 ||
        get_int_any(cx, v, "partition", INT32_MAX, &part) < 0 ||
        get_str(cx, v, "client_id", 255, &m->client_id) < 0)
        return -1;
    if (json_is_string(pv) && strcmp(json_string_value(pv), "any") == 0)
        pid = MB_ANY;
    else if (get_int(cx, v, "producer_id", -1, INT64_MAX, &pid) < 0)
        return -1;
    int64_t nth = m->nth;
    if (get_int(cx, v, "nth", 0, INT32_MAX, &nth) < 0)
        return -1;
    m->partition = part;
    m->producer_id = pid;
    m->nth = (int)nth;
    if (m->min_version != MB_ANY && m->max_version != MB_ANY && m->min_version > m->max_version)
        return fail(cx, "min_version is above max_version");
    return 0;
}

static int parse_rule(struct ctx *cx, json_t *v, struct mb_rule *r)
{
    static const char *const keys[] = { "name", "match", "action", "count", NULL };
    mb_rule_init(r);
    if (want_object(cx, v) < 0 || only_keys(cx, v, keys) < 0 ||
        get_str(cx, v, "name", 127, &r->name) < 0)
        return -1;
    if (r->name && *r->name == '\0')
        return fail(cx, "name: empty");
    json_t *count = json_object_get(v, "count");
    if (json_is_string(count) && strcmp(json_string_value(count), "always") == 0) {
        r->count = MB_ALWAYS;
    } else if (json_is_string(count)) {
        push_key(cx, "count");
        return fail(cx, "expected a number (>= 1) or \"always\", got '%s'",
                    json_string_value(count));
    } else {
        int64_t n = 1;
        if (get_int(cx, v, "count", 1, INT32_MAX, &n) < 0)
            return -1;
        r->count = (int)n;
    }
    json_t *m = json_object_get(v, "match");
    if (m) {
        size_t mark = push_key(cx, "match");
        if (parse_match(cx, m, &r->match) < 0)
            return -1;
        pop(cx, mark);
    }
    json_t *a = json_object_get(v, "action");
    if (a == NULL)
        return fail(cx, "action is required");
    size_t mark = push_key(cx, "action");
    if (parse_action(cx, a, &r->action) < 0)
        return -1;
    pop(cx, mark);
    return 0;
}

/* --- the document ----------------------------------------------------------------------------- */

static int parse_topic(struct ctx *cx, json_t *v, struct mb_scenario_topic *t)
{
    static const char *const keys[] = { "name", "partitions", "replication", "configs", NULL };
    int64_t parts = 1, rf = 0;
    if (want_object(cx, v) < 0 || only_keys(cx, v, keys) < 0)
        return -1;
    int rc = get_str(cx, v, "name", 249, &t->name);
    if (rc == 0)
        return fail(cx, "name is required");
    if (rc < 0 || get_int(cx, v, "partitions", 1, 100000, &parts) < 0 ||
        get_int(cx, v, "replication", 0, MB_MAX_REPLICAS, &rf) < 0 ||
        get_kvs(cx, v, "configs", &t->configs, &t->n_configs) < 0)
        return -1;
    if (!mb__topic_name_valid(t->name, (int32_t)strlen(t->name))) {
        push_key(cx, "name");
        return fail(cx, "'%s' is no legal topic name ([a-zA-Z0-9._-], 1..249)", t->name);
    }
    t->partitions = (int)parts;
    t->replication = (int)rf;
    return 0;
}

static int parse_expect(struct ctx *cx, json_t *v, struct mb_expect *e)
{
    static const char *const keys[] = {
        "delivered", "failed", "log_records", "duplicates", "missing", "in_order", NULL,
    };
    if (want_object(cx, v) < 0 || only_keys(cx, v, keys) < 0 ||
        get_range(cx, v, "delivered", &e->delivered) < 0 ||
        get_range(cx, v, "failed", &e->failed) < 0 ||
        get_range(cx, v, "log_records", &e->log_records) < 0 ||
        get_range(cx, v, "duplicates", &e->duplicates) < 0 ||
        get_range(cx, v, "missing", &e->missing) < 0 ||
        get_bool(cx, v, "in_order", &e->in_order) < 0)
        return -1;
    return 0;
}

static int parse_workload(struct ctx *cx, json_t *v, struct mb_workload *w, uint64_t seed)
{
    static const char *const keys[] = {
        "topic", "partition", "messages", "key_size", "value_size", "seed", "timeout_ms",
        "config", "expect", NULL,
    };
    int part = MB_ANY;
    int64_t s = (int64_t)(seed & INT64_MAX);
    w->partition = MB_ANY;
    w->value_size = 100;
    w->timeout_ms = 30000;
    if (want_object(cx, v) < 0 || only_keys(cx, v, keys) < 0)
        return -1;
    int rc = get_str(cx, v, "topic", 249, &w->topic);
    if (rc == 0)
        return fail(cx, "topic is required");
    rc = rc < 0 ? rc : get_int(cx, v, "messages", 1, INT32_MAX, &w->messages);
    if (rc == 0)
        return fail(cx, "messages is required");
    if (rc < 0 || get_int_any(cx, v, "partition", INT32_MAX, &part) < 0 ||
        get_i32(cx, v, "key_size", 0, 1 << 20, &w->key_size) < 0 ||
        get_i32(cx, v, "value_size", 11, 1 << 24, &w->value_size) < 0 ||
        get_int(cx, v, "seed", 1, INT64_MAX, &s) < 0 ||
        get_int(cx, v, "timeout_ms", 1, 3600000, &w->timeout_ms) < 0 ||
        get_kvs(cx, v, "config", &w->config, &w->n_config) < 0)
        return -1;
    if (w->key_size > 0 && w->key_size < 10) {
        push_key(cx, "key_size");
        return fail(cx, "0 (null keys) or at least 10 bytes: the message index is in the key");
    }
    w->partition = part;
    w->seed = (uint64_t)s;
    json_t *e = json_object_get(v, "expect");
    if (e) {
        size_t m = push_key(cx, "expect");
        if (parse_expect(cx, e, &w->expect) < 0)
            return -1;
        pop(cx, m);
    }
    return 0;
}

static int parse_cluster(struct ctx *cx, json_t *v)
{
    static const char *const keys[] = {
        "auto_create", "default_partitions", "default_replication", "max_partitions",
        "max_request_size", "message_max_bytes", "retention_bytes", "producer_id_base",
        "replica_lag_time_max_ms", "unclean_leader_election", "journal_max", "cluster_id", NULL,
    };
    struct priv *pv = cx->pv;
    struct mb_config *c = &pv->cfg;
    int64_t n;
    int rc;
    if (want_object(cx, v) < 0 || only_keys(cx, v, keys) < 0)
        return -1;
#define INT_MEMBER(key, min, max, member, bit)                         \
    if ((rc = get_int(cx, v, key, min, max, &n)) < 0)                  \
        return -1;                                                     \
    if (rc == 1) {                                                     \
        c->member = n;                                                 \
        pv->cfg_set |= bit;                                            \
    }
    INT_MEMBER("default_partitions", 1, 100000, default_partitions, SET_PARTITIONS)
    INT_MEMBER("default_replication", 1, MB_MAX_REPLICAS, default_replication, SET_REPLICATION)
    INT_MEMBER("max_partitions", 1, 1000000, max_partitions, SET_MAX_PARTITIONS)
    INT_MEMBER("max_request_size", 64, INT32_MAX, max_request_size, SET_MAX_REQUEST)
    INT_MEMBER("message_max_bytes", 1, INT32_MAX, message_max_bytes, SET_MESSAGE_MAX)
    INT_MEMBER("retention_bytes", -1, INT64_MAX, retention_bytes, SET_RETENTION)
    INT_MEMBER("producer_id_base", 0, INT64_MAX / 2, producer_id_base, SET_PID_BASE)
    INT_MEMBER("replica_lag_time_max_ms", 1, INT32_MAX, replica_lag_time_max_ms, SET_LAG)
    INT_MEMBER("journal_max", 1, 100000000, journal_max, SET_JOURNAL)
#undef INT_MEMBER
    if ((rc = get_bool(cx, v, "auto_create", &c->auto_create)) < 0)
        return -1;
    pv->cfg_set |= rc == 1 ? SET_AUTO_CREATE : 0;
    if ((rc = get_bool(cx, v, "unclean_leader_election", &c->unclean_leader_election)) < 0)
        return -1;
    pv->cfg_set |= rc == 1 ? SET_UNCLEAN : 0;
    if ((rc = get_str(cx, v, "cluster_id", 63, &c->cluster_id)) < 0)
        return -1;
    pv->cfg_set |= rc == 1 ? SET_CLUSTER_ID : 0;
    return 0;
}

/* Parses array `key` of the document, n items of `size` bytes, each by fn. */
static int parse_list(struct ctx *cx, json_t *root, const char *key, size_t size, void **out,
                      int *n, int (*fn)(struct ctx *, json_t *, void *))
{
    json_t *v = json_object_get(root, key);
    if (v == NULL)
        return 0;
    size_t m = push_key(cx, key);
    if (!json_is_array(v))
        return fail(cx, "expected an array, got %s", type_of(v));
    if (json_array_size(v) > 100000)
        return fail(cx, "more than 100000 items");
    char *items = alloc(cx, json_array_size(v), size);
    if (items == NULL)
        return -1;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        size_t mi = push_index(cx, i);
        if (fn(cx, e, items + i * size) < 0)
            return -1;
        pop(cx, mi);
    }
    pop(cx, m);
    *out = items;
    *n = (int)json_array_size(v);
    return 0;
}

static int topic_fn(struct ctx *cx, json_t *v, void *out) { return parse_topic(cx, v, out); }
static int rule_fn(struct ctx *cx, json_t *v, void *out) { return parse_rule(cx, v, out); }

static int action_fn(struct ctx *cx, json_t *v, void *out)
{
    struct mb_rule r;
    mb_rule_init(&r);               /* an action's defaults are a rule's */
    struct mb_action *a = out;
    *a = r.action;
    if (parse_action(cx, v, a) < 0)
        return -1;
    if (a->type < MB_ACTION_BROKER_DOWN) {
        push_key(cx, "type");
        return fail(cx, "'%s' is no side effect (broker_down, broker_up, blackhole, leader_move, "
                    "isr_set, replicas_set, follower)", mb_action_type_name(a->type));
    }
    return 0;
}

static int parse_doc(struct ctx *cx, json_t *root, struct mb_scenario *s)
{
    static const char *const keys[] = {
        "$schema", "description", "seed", "brokers", "cluster", "topics", "actions", "rules",
        "workload", NULL,
    };
    int64_t seed = 0, brokers = 0;
    void *topics = NULL, *actions = NULL, *rules = NULL;
    const char *schema;
    if (want_object(cx, root) < 0 || only_keys(cx, root, keys) < 0 ||
        get_str(cx, root, "$schema", 1024, &schema) < 0 ||
        get_str(cx, root, "description", 4096, &s->description) < 0 ||
        get_int(cx, root, "seed", 1, INT64_MAX, &seed) < 0 ||
        get_int(cx, root, "brokers", 1, 64, &brokers) < 0)
        return -1;
    s->seed = (uint64_t)seed;
    s->brokers = (int)brokers;
    json_t *cl = json_object_get(root, "cluster");
    if (cl) {
        size_t m = push_key(cx, "cluster");
        if (parse_cluster(cx, cl) < 0)
            return -1;
        pop(cx, m);
    }
    if (parse_list(cx, root, "topics", sizeof(struct mb_scenario_topic), &topics, &s->n_topics,
                   topic_fn) < 0 ||
        parse_list(cx, root, "actions", sizeof(struct mb_action), &actions, &s->n_actions,
                   action_fn) < 0 ||
        parse_list(cx, root, "rules", sizeof(struct mb_rule), &rules, &s->n_rules, rule_fn) < 0)
        return -1;
    s->topics = topics;
    s->actions = actions;
    s->rules = rules;
    for (int i = 0; i < s->n_rules; i++)
        for (int j = 0; j < i; j++)
            if (s->rules[i].name && s->rules[j].name &&
                strcmp(s->rules[i].name, s->rules[j].name) == 0) {
                size_t m = push_key(cx, "rules");
                push_index(cx, (size_t)i);
                push_key(cx, "name");
                fail(cx, "'%s' is also rules[%d]'s name", s->rules[i].name, j);
                pop(cx, m);
                return -1;
            }
    json_t *w = json_object_get(root, "workload");
    if (w) {
        struct mb_workload *wl = alloc(cx, 1, sizeof(*wl));
        size_t m = push_key(cx, "workload");
        if (wl == NULL || parse_workload(cx, w, wl, s->seed) < 0)
            return -1;
        pop(cx, m);
        s->workload = wl;
    }
    return 0;
}

struct mb_scenario *mb_scenario_parse(const char *json, size_t len, const char *origin,
                                      char *errstr, size_t errstr_size)
{
    struct mb_scenario *s = calloc(1, sizeof(*s));
    struct priv *pv = calloc(1, sizeof(*pv));
    struct ctx cx = { .pv = pv, .errstr = errstr, .size = errstr_size };
    if (s == NULL || pv == NULL) {
        free(s);
        free(pv);
        fail(&cx, "out of memory");
        return NULL;
    }
    s->_priv = pv;
    snprintf(pv->origin, sizeof(pv->origin), "%s", origin ? origin : "<string>");
    s->origin = pv->origin;
    json_error_t jerr;
    /* Duplicate keys are refused: with them, which value counts would be jansson's choice. */
    pv->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (pv->root == NULL) {
        fail(&cx, "bad JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        mb_scenario_destroy(s);
        return NULL;
    }
    if (parse_doc(&cx, pv->root, s) < 0) {
        mb_scenario_destroy(s);
        return NULL;
    }
    return s;
}

struct mb_scenario *mb_scenario_load(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (f == NULL) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4096) {
            /* Scenario files are small: a bound keeps a wrong path (a device, a huge log) from
             * eating memory. */
            char *nb = cap < (16u << 20) ? realloc(buf, cap + 65536) : NULL;
            if (nb == NULL) {
                snprintf(errstr, errstr_size, "%s: too large or out of memory", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap += 65536;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(errstr, errstr_size, "%s: read error", path);
        free(buf);
        return NULL;
    }
    char why[512];
    struct mb_scenario *s = mb_scenario_parse(buf, len, path, why, sizeof(why));
    free(buf);
    if (s == NULL)
        snprintf(errstr, errstr_size, "%s: %s", path, why);
    return s;
}

void mb_scenario_destroy(struct mb_scenario *s)
{
    if (s == NULL)
        return;
    struct priv *pv = s->_priv;
    if (pv) {
        for (size_t i = 0; i < pv->n_allocs; i++)
            free(pv->allocs[i]);
        free(pv->allocs);
        json_decref(pv->root);
        free(pv);
    }
    free(s);
}

void mb_scenario_config(const struct mb_scenario *s, struct mb_config *cfg)
{
    const struct priv *pv = s->_priv;
    const struct mb_config *g = &pv->cfg;
    uint32_t set = pv->cfg_set;
    if (s->brokers)
        cfg->brokers = s->brokers;
    if (s->seed)
        cfg->seed = s->seed;
    if (set & SET_AUTO_CREATE) cfg->auto_create = g->auto_create;
    if (set & SET_PARTITIONS) cfg->default_partitions = g->default_partitions;
    if (set & SET_REPLICATION) cfg->default_replication = g->default_replication;
    if (set & SET_MAX_PARTITIONS) cfg->max_partitions = g->max_partitions;
    if (set & SET_MAX_REQUEST) cfg->max_request_size = g->max_request_size;
    if (set & SET_MESSAGE_MAX) cfg->message_max_bytes = g->message_max_bytes;
    if (set & SET_RETENTION) cfg->retention_bytes = g->retention_bytes;
    if (set & SET_PID_BASE) cfg->producer_id_base = g->producer_id_base;
    if (set & SET_LAG) cfg->replica_lag_time_max_ms = g->replica_lag_time_max_ms;
    if (set & SET_UNCLEAN) cfg->unclean_leader_election = g->unclean_leader_election;
    if (set & SET_JOURNAL) cfg->journal_max = g->journal_max;
    if (set & SET_CLUSTER_ID) cfg->cluster_id = g->cluster_id;
}

static int brokers_of(struct mb_cluster *c)
{
    int n = 0;
    while (mb_broker_port(c, n + 1) >= 0)
        n++;
    return n;
}

int mb_scenario_apply(struct mb_cluster *c, const struct mb_scenario *s, char *errstr,
                      size_t errstr_size)
{
    char why[256];
    int n = brokers_of(c);
    if (s->brokers && s->brokers != n) {
        snprintf(errstr, errstr_size, "brokers: the scenario wants %d, the cluster has %d",
                 s->brokers, n);
        return -1;
    }
    for (int i = 0; i < s->n_topics; i++) {
        const struct mb_scenario_topic *t = &s->topics[i];
        if (mb_topic_create(c, t->name, t->partitions, t->replication, why, sizeof(why)) != 0) {
            snprintf(errstr, errstr_size, "topics[%d]: %s", i, why);
            return -1;
        }
        for (int j = 0; j < t->n_configs; j++)
            if (mb_topic_config_set(c, t->name, t->configs[j].key, t->configs[j].value, why,
                                    sizeof(why)) != 0) {
                snprintf(errstr, errstr_size, "topics[%d].configs.%s: %s", i, t->configs[j].key,
                         why);
                return -1;
            }
    }
    for (int i = 0; i < s->n_actions; i++)
        if (mb_action_run(c, &s->actions[i], why, sizeof(why)) != 0) {
            snprintf(errstr, errstr_size, "actions[%d]: %s", i, why);
            return -1;
        }
    for (int i = 0; i < s->n_rules; i++)
        if (mb_rule_add(c, &s->rules[i], why, sizeof(why)) != 0) {
            snprintf(errstr, errstr_size, "rules[%d]: %s", i, why);
            return -1;
        }
    return 0;
}

/* --- rules back to JSON ----------------------------------------------------------------------- */

static json_t *brokers_json(const int *b, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(b[i]));
    return a;
}

static json_t *action_json(const struct mb_action *a)
{
    json_t *o = json_object();
    enum mb_action_type t = a->type;
    json_object_set_new(o, "type", json_string(mb_action_type_name(t)));
    if (a->when != MB_BEFORE_APPLY)
        json_object_set_new(o, "when", json_string(mb_when_name(a->when)));
    if (t == MB_ACTION_ERROR) {
        json_object_set_new(o, "error_code", json_string(kw_error_name(a->error_code)));
        if (a->error_message)
            json_object_set_new(o, "error_message", json_string(a->error_message));
        if (a->n_record_errors) {
            json_t *re = json_array();
            for (int i = 0; i < a->n_record_errors; i++)
                json_array_append_new(re, json_integer(a->record_errors[i]));
            json_object_set_new(o, "record_errors", re);
        }
    }
    if (t == MB_ACTION_DELAY || t == MB_ACTION_THROTTLE || t == MB_ACTION_PAUSE_READING)
        json_object_set_new(o, "duration_ms", json_integer(a->duration_ms));
    if (t == MB_ACTION_SPLIT_RESPONSE)
        json_object_set_new(o, "interval_ms", json_integer(a->interval_ms));
    if (t == MB_ACTION_TRUNCATE_RESPONSE || t == MB_ACTION_SPLIT_RESPONSE)
        json_object_set_new(o, "bytes", json_integer(a->bytes));
    if (t == MB_ACTION_CORRUPT_RESPONSE && a->offset >= 0)
        json_object_set_new(o, "offset", json_integer(a->offset));
    if (t >= MB_ACTION_BROKER_DOWN && a->broker != MB_ANY)
        json_object_set_new(o, "broker", json_integer(a->broker));
    if (t >= MB_ACTION_LEADER_MOVE) {
        if (a->topic)
            json_object_set_new(o, "topic", json_string(a->topic));
        if (a->partition != MB_ANY)
            json_object_set_new(o, "partition", json_integer(a->partition));
    }
    if (t == MB_ACTION_ISR_SET || t == MB_ACTION_REPLICAS_SET)
        json_object_set_new(o, "brokers", brokers_json(a->brokers, a->n_brokers));
    if (t == MB_ACTION_FOLLOWER) {
        json_object_set_new(o, "mode", json_string(mb_follower_mode_name(a->mode)));
        if (a->mode == MB_FOLLOWER_DELAY)
            json_object_set_new(o, "lag_ms", json_integer(a->lag_ms));
        if (a->mode == MB_FOLLOWER_BATCHES)
            json_object_set_new(o, "lag_batches", json_integer(a->lag_batches));
    }
    return o;
}

char *mb_rule_json(const struct mb_rule *r, const struct mb_rule_stats *stats)
{
    json_t *o = json_object(), *m = json_object();
    const struct mb_match *mt = &r->match;
    if (r->name)
        json_object_set_new(o, "name", json_string(r->name));
    if (mt->broker != MB_ANY)
        json_object_set_new(m, "broker", json_integer(mt->broker));
    if (mt->api_key != MB_ANY)
        json_object_set_new(m, "api_key", json_string(kw_api_name(mt->api_key)));
    if (mt->min_version != MB_ANY)
        json_object_set_new(m, "min_version", json_integer(mt->min_version));
    if (mt->max_version != MB_ANY)
        json_object_set_new(m, "max_version", json_integer(mt->max_version));
    if (mt->topic)
        json_object_set_new(m, "topic", json_string(mt->topic));
    if (mt->partition != MB_ANY)
        json_object_set_new(m, "partition", json_integer(mt->partition));
    if (mt->producer_id != MB_ANY)
        json_object_set_new(m, "producer_id", json_integer(mt->producer_id));
    if (mt->client_id)
        json_object_set_new(m, "client_id", json_string(mt->client_id));
    if (mt->nth > 1)
        json_object_set_new(m, "nth", json_integer(mt->nth));
    json_object_set_new(o, "match", m);
    json_object_set_new(o, "action", action_json(&r->action));
    json_object_set_new(o, "count", r->count == MB_ALWAYS ? json_string("always")
                                                          : json_integer(r->count));
    if (stats) {
        json_t *st = json_object();
        json_object_set_new(st, "matched", json_integer((json_int_t)stats->matched));
        json_object_set_new(st, "fired", json_integer((json_int_t)stats->fired));
        json_object_set_new(st, "held", json_integer(stats->held));
        json_object_set_new(st, "spent", json_boolean(stats->spent));
        json_object_set_new(o, "stats", st);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* --- the workload ----------------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* head, then letters from a stream seeded by (seed, i, salt): the same bytes in every runner
 * that follows docs/scenarios.md. */
static size_t payload(uint64_t seed, int64_t i, uint64_t salt, const char *head, size_t len,
                      uint8_t *buf, size_t size)
{
    uint64_t x = seed ^ ((uint64_t)i * 0xd1342543de82ef95ULL) ^ salt;
    size_t hl = strlen(head);
    for (size_t k = 0; k < len && k < size; k++)
        buf[k] = k < hl ? (uint8_t)head[k] : (uint8_t)('a' + splitmix(&x) % 26);
    return len;
}

size_t mb_workload_value(const struct mb_workload *w, int64_t i, uint8_t *buf, size_t size)
{
    char head[24];
    snprintf(head, sizeof(head), "%010" PRId64 "-", i);
    return payload(w->seed, i, 0, head, (size_t)w->value_size, buf, size);
}

size_t mb_workload_key(const struct mb_workload *w, int64_t i, uint8_t *buf, size_t size)
{
    char head[24];
    if (w->key_size <= 0)
        return 0;
    snprintf(head, sizeof(head), "k%09" PRId64, i % 1000000000);
    return payload(w->seed, i, 1, head, (size_t)w->key_size, buf, size);
}

int64_t mb_workload_index(const uint8_t *value, size_t len)
{
    int64_t i = 0;
    if (value == NULL || len < 11 || value[10] != '-')
        return -1;
    for (int k = 0; k < 10; k++) {
        if (value[k] < '0' || value[k] > '9')
            return -1;
        i = i * 10 + (value[k] - '0');
    }
    return i;
}

static bool range_ok(const struct mb_range *r, int64_t v)
{
    return !r->set || (v >= r->min && v <= r->max);
}

static void range_text(const struct mb_range *r, char *buf, size_t size)
{
    if (r->min == r->max)
        snprintf(buf, size, "%" PRId64, r->min);
    else if (r->max == INT64_MAX)
        snprintf(buf, size, "at least %" PRId64, r->min);
    else
        snprintf(buf, size, "%" PRId64 "..%" PRId64, r->min, r->max);
}

int mb_workload_verify(struct mb_cluster *c, const struct mb_workload *w, int64_t delivered,
                       int64_t failed, struct mb_tally *out, char *errstr, size_t errstr_size)
{
    struct mb_tally t = { 0 };
    uint8_t *seen = calloc((size_t)w->messages, 1);
    if (seen == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    struct mb_partition_info info;
    for (int p = 0; mb_partition_info(c, w->topic, p, &info) == 0; p++) {
        struct mb_records *r = mb_partition_records(c, w->topic, p, 0, 0);
        int64_t last = -1;
        for (size_t k = 0; r && k < r->count; k++) {
            const struct mb_record *rec = &r->records[k];
            int64_t i = mb_workload_index(rec->value, rec->value_len > 0 ? rec->value_len : 0);
            t.log_records++;
            if (i < 0 || i >= w->messages) {
                t.foreign++;
            } else if (seen[i]) {
                t.duplicates++;
            } else {
                seen[i] = 1;
                t.distinct++;
                if (i < last)
                    t.out_of_order++;
                last = i;
            }
        }
        mb_records_destroy(r);
    }
    free(seen);
    t.missing = w->messages - t.distinct;
    if (out)
        *out = t;

    const struct mb_expect *e = &w->expect;
    const struct { const char *name; const struct mb_range *r; int64_t v; } checks[] = {
        { "delivered", &e->delivered, delivered }, { "failed", &e->failed, failed },
        { "log_records", &e->log_records, t.log_records },
        { "duplicates", &e->duplicates, t.duplicates }, { "missing", &e->missing, t.missing },
    };
    for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++)
        if (!range_ok(checks[k].r, checks[k].v)) {
            char want[64];
            range_text(checks[k].r, want, sizeof(want));
            snprintf(errstr, errstr_size, "%s: %" PRId64 ", expected %s", checks[k].name,
                     checks[k].v, want);
            return -1;
        }
    if (e->in_order && t.out_of_order) {
        snprintf(errstr, errstr_size, "in_order: %" PRId64 " messages stored out of order",
                 t.out_of_order);
        return -1;
    }
    return 0;
}
