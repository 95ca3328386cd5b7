/* Fault rules: installing them, matching requests against them, and what the pipeline asks of
 * them (errors for a topic-partition, responses with errors stamped in, side effects, holds).
 * Matching reads topics, partitions and producer ids out of any request through its schema, so
 * every API we speak can be matched without per-API code; only APIs that change state on apply
 * (Produce, CreateTopics, DeleteTopics, InitProducerId) refuse natively before applying. */
#include "mockbroker/internal.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/errors.h"
#include "lib/proto/schema.h"

#define MAX_NAME 127
#define MAX_TOPIC 249
#define MAX_TEXT 255

/* --- names ------------------------------------------------------------------------------------ */

static const char *const action_names[MB_ACTION_TYPES] = {
    "none", "error", "delay", "throttle", "close", "lose_response", "hold",
    "unknown_producer_id", "truncate_response", "corrupt_response", "split_response",
    "pause_reading", "broker_down", "broker_up", "blackhole", "leader_move", "isr_set",
    "replicas_set", "follower",
};
static const char *const when_names[] = { "before_apply", "after_apply", "after_response" };
static const char *const mode_names[] = { "immediate", "delay", "batches", "stopped" };
static const char *const state_names[] = { "up", "down", "blackhole" };

static int parse(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

#define NAME_OF(names, i) ((unsigned)(i) < sizeof(names) / sizeof(names[0]) ? names[i] : "unknown")
#define PARSE(names, s) parse(names, (int)(sizeof(names) / sizeof(names[0])), s)

const char *mb_action_type_name(enum mb_action_type t) { return NAME_OF(action_names, t); }
int mb_action_type_parse(const char *name) { return PARSE(action_names, name); }
const char *mb_when_name(enum mb_when w) { return NAME_OF(when_names, w); }
int mb_when_parse(const char *name) { return PARSE(when_names, name); }
const char *mb_follower_mode_name(enum mb_follower_mode m) { return NAME_OF(mode_names, m); }
int mb_follower_mode_parse(const char *name) { return PARSE(mode_names, name); }
const char *mb_broker_state_name(enum mb_broker_state s) { return NAME_OF(state_names, s); }
int mb_broker_state_parse(const char *name) { return PARSE(state_names, name); }

static bool side_effect(enum mb_action_type t)
{
    return t >= MB_ACTION_BROKER_DOWN && t <= MB_ACTION_FOLLOWER;
}

static bool partition_action(enum mb_action_type t)
{
    return t >= MB_ACTION_LEADER_MOVE && t <= MB_ACTION_FOLLOWER;
}

/* KIP-219: from these versions a throttled answer goes out at once and the broker then mutes
 * the connection; before them the answer itself is held back. */
bool mb__throttle_first(int api_key, int version)
{
    switch (api_key) {
    case KW_API_PRODUCE: return version >= 6;
    case KW_API_FETCH: return version >= 8;
    case KW_API_LIST_OFFSETS: return version >= 3;
    case KW_API_METADATA: return version >= 6;
    case KW_API_API_VERSIONS: return version >= 2;
    case KW_API_CREATE_TOPICS: return version >= 3;
    case KW_API_DELETE_TOPICS: return version >= 2;
    case KW_API_FIND_COORDINATOR: return version >= 2;
    case KW_API_INIT_PRODUCER_ID: return version >= 1;
    case KW_API_OFFSET_COMMIT: return version >= 4;
    case KW_API_OFFSET_FETCH: return version >= 4;
    case KW_API_JOIN_GROUP: return version >= 3;
    case KW_API_HEARTBEAT: return version >= 2;
    case KW_API_LEAVE_GROUP: return version >= 2;
    case KW_API_SYNC_GROUP: return version >= 2;
    case KW_API_DESCRIBE_GROUPS: return version >= 2;
    case KW_API_LIST_GROUPS: return version >= 2;
    case KW_API_ADD_PARTITIONS_TO_TXN: return version >= 1;
    case KW_API_ADD_OFFSETS_TO_TXN: return version >= 1;
    case KW_API_END_TXN: return version >= 1;
    case KW_API_TXN_OFFSET_COMMIT: return version >= 1;
    default: return true;
    }
}

/* --- validation ------------------------------------------------------------------------------- */

static int fail(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *errstr, size_t size, const char *fmt, ...)
{
    if (errstr && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool broker_ok(const struct mb_cluster *c, int id, bool any)
{
    return (any && id == MB_ANY) || (id >= 1 && id <= c->n_brokers);
}

static int check_action(const struct mb_cluster *c, const struct mb_action *a, bool in_rule,
                        char *errstr, size_t size)
{
    if ((unsigned)a->type >= MB_ACTION_TYPES)
        return fail(errstr, size, "unknown action type %d", (int)a->type);
    const char *t = action_names[a->type];
    if (a->when != MB_BEFORE_APPLY && a->when != MB_AFTER_APPLY && a->when != MB_AFTER_RESPONSE)
        return fail(errstr, size, "%s: when must be before_apply, after_apply or after_response",
                    t);
    if (a->when == MB_AFTER_RESPONSE) {
        /* Once answered, the request is gone: what acts on its partitions cannot wait. */
        if (!side_effect(a->type))
            return fail(errstr, size, "%s: after_response is for side effects only", t);
        if (partition_action(a->type) && a->topic == NULL)
            return fail(errstr, size, "%s: after_response needs a topic", t);
    }
    switch (a->type) {
    case MB_ACTION_ERROR:
        if (a->error_code == 0 || a->error_code < KW_EC_MIN || a->error_code > KW_EC_MAX)
            return fail(errstr, size, "error: error_code must be a Kafka error code, not %d",
                        a->error_code);
        if (a->error_message && strlen(a->error_message) > MAX_TEXT)
            return fail(errstr, size, "error: error_message longer than %d bytes", MAX_TEXT);
        if (a->n_record_errors < 0 || a->n_record_errors > MB_MAX_RECORD_ERRORS)
            return fail(errstr, size, "error: at most %d record_errors", MB_MAX_RECORD_ERRORS);
        for (int i = 0; i < a->n_record_errors; i++)
            if (a->record_errors[i] < 0)
                return fail(errstr, size, "error: record_errors are batch indexes (>= 0)");
        break;
    case MB_ACTION_DELAY:
    case MB_ACTION_PAUSE_READING:
        if (a->duration_ms < 0 || a->duration_ms > INT32_MAX)
            return fail(errstr, size, "%s: duration_ms must be 0..%d", t, INT32_MAX);
        break;
    case MB_ACTION_THROTTLE:
        if (a->duration_ms <= 0 || a->duration_ms > INT32_MAX)
            return fail(errstr, size, "throttle: duration_ms must be 1..%d", INT32_MAX);
        break;
    case MB_ACTION_TRUNCATE_RESPONSE:
        if (a->bytes < 0)
            return fail(errstr, size, "truncate_response: bytes must be >= 0");
        break;
    case MB_ACTION_CORRUPT_RESPONSE:
        if (a->offset < -1)
            return fail(errstr, size, "corrupt_response: offset must be >= 0, or -1");
        break;
    case MB_ACTION_SPLIT_RESPONSE:
        if (a->bytes < 1 || a->interval_ms < 0 || a->interval_ms > INT32_MAX)
            return fail(errstr, size, "split_response: bytes must be >= 1, interval_ms >= 0");
        break;
    case MB_ACTION_BROKER_DOWN:
    case MB_ACTION_BROKER_UP:
    case MB_ACTION_BLACKHOLE:
        if (!broker_ok(c, a->broker, in_rule))
            return fail(errstr, size, "%s: broker must be 1..%d%s", t, c->n_brokers,
                        in_rule ? " or -1 (the request's)" : "");
        break;
    case MB_ACTION_LEADER_MOVE:
        if (!broker_ok(c, a->broker, true))
            return fail(errstr, size, "leader_move: broker must be 1..%d or -1", c->n_brokers);
        break;
    case MB_ACTION_ISR_SET:
    case MB_ACTION_REPLICAS_SET:
        if (a->n_brokers < 1 || a->n_brokers > MB_MAX_REPLICAS)
            return fail(errstr, size, "%s: brokers must list 1..%d brokers", t, MB_MAX_REPLICAS);
        for (int i = 0; i < a->n_brokers; i++)
            if (!broker_ok(c, a->brokers[i], false))
                return fail(errstr, size, "%s: no broker %d", t, a->brokers[i]);
        break;
    case MB_ACTION_FOLLOWER:
        if (!broker_ok(c, a->broker, false))
            return fail(errstr, size, "follower: broker must be 1..%d", c->n_brokers);
        if ((unsigned)a->mode > MB_FOLLOWER_STOPPED)
            return fail(errstr, size, "follower: unknown mode %d", (int)a->mode);
        if (a->lag_ms < 0 || a->lag_ms > INT32_MAX || a->lag_batches < 0)
            return fail(errstr, size, "follower: lag_ms and lag_batches must be >= 0");
        break;
    default:
        break;
    }
    if (partition_action(a->type)) {
        if (a->topic && (strlen(a->topic) > MAX_TOPIC || !*a->topic))
            return fail(errstr, size, "%s: bad topic name", t);
        if (!a->topic && !in_rule && a->type != MB_ACTION_FOLLOWER)
            return fail(errstr, size, "%s: topic is needed without a request", t);
        if (a->partition < MB_ANY)
            return fail(errstr, size, "%s: partition must be >= 0, or -1", t);
    }
    return 0;
}

static int check_rule(const struct mb_cluster *c, const struct mb_rule *r, char *errstr,
                      size_t size)
{
    const struct mb_match *m = &r->match;
    if (r->name && (strlen(r->name) > MAX_NAME || !*r->name))
        return fail(errstr, size, "a rule name is 1..%d bytes", MAX_NAME);
    if (!broker_ok(c, m->broker, true))
        return fail(errstr, size, "match: broker must be 1..%d or -1", c->n_brokers);
    if (m->api_key < MB_ANY || m->api_key >= MB__MAX_API_KEY)
        return fail(errstr, size, "match: api_key must be 0..%d or -1", MB__MAX_API_KEY - 1);
    if (m->min_version < MB_ANY || m->max_version < MB_ANY || m->min_version > INT16_MAX ||
        m->max_version > INT16_MAX)
        return fail(errstr, size, "match: versions must be 0..32767 or -1");
    if (m->topic && (strlen(m->topic) > MAX_TOPIC || !*m->topic))
        return fail(errstr, size, "match: bad topic name");
    if (m->client_id && strlen(m->client_id) > MAX_TEXT)
        return fail(errstr, size, "match: client_id longer than %d bytes", MAX_TEXT);
    if (m->partition < MB_ANY || m->producer_id < MB_ANY || m->nth < 0)
        return fail(errstr, size, "match: partition and producer_id must be >= -1, nth >= 0");
    if (r->count < 1 && r->count != MB_ALWAYS)
        return fail(errstr, size, "count must be >= 1, or -1 (always)");
    return check_action(c, &r->action, true, errstr, size);
}

/* --- installing ------------------------------------------------------------------------------- */

void mb_rule_init(struct mb_rule *r)
{
    memset(r, 0, sizeof(*r));
    r->match.broker = MB_ANY;
    r->match.api_key = MB_ANY;
    r->match.min_version = MB_ANY;
    r->match.max_version = MB_ANY;
    r->match.partition = MB_ANY;
    r->match.producer_id = MB_ANY;
    r->match.nth = 1;
    r->action.broker = MB_ANY;
    r->action.partition = MB_ANY;
    r->action.offset = -1;
    r->count = 1;
}

static struct mb__rule *rule_find(struct mb_cluster *c, const char *name)
{
    struct mb__rule *r;
    TAILQ_FOREACH(r, &c->rules, link)
        if (strcmp(r->r.name, name) == 0)
            return r;
    return NULL;
}

static void rule_unref(struct mb__rule *r)
{
    if (r && --r->refs == 0) {
        free(r->strings);
        free(r);
    }
}

/* Copies s into the block at *at; returns the copy (NULL stays NULL). */
static const char *stash(char **at, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*at, s, n);
    const char *copy = *at;
    *at += n;
    return copy;
}

static size_t strings_size(const struct mb_rule *r)
{
    const char *s[] = { r->name, r->match.topic, r->match.client_id, r->action.error_message,
                        r->action.topic };
    size_t n = 0;
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        n += s[i] ? strlen(s[i]) + 1 : 0;
    return n;
}

static void copy_strings(struct mb_rule *to, const struct mb_rule *from, char *block)
{
    char *at = block;
    to->name = stash(&at, from->name);
    to->match.topic = stash(&at, from->match.topic);
    to->match.client_id = stash(&at, from->match.client_id);
    to->action.error_message = stash(&at, from->action.error_message);
    to->action.topic = stash(&at, from->action.topic);
}

struct rule_call {
    const struct mb_rule *rule;
    const char *name;
    char *errstr;
    size_t errstr_size;
    int rc;
    int index;
    struct mb_rule *out;
    char *strings;
    struct mb_rule_stats *stats;
};

static void add_call(struct mb_cluster *c, void *arg)
{
    struct rule_call *a = arg;
    struct mb_rule r = *a->rule;
    char auto_name[32];
    if ((a->rc = check_rule(c, &r, a->errstr, a->errstr_size)) != 0)
        return;
    if (r.name == NULL) {
        snprintf(auto_name, sizeof(auto_name), "rule-%" PRIu64, c->rules_added + 1);
        r.name = auto_name;
    }
    if (rule_find(c, r.name)) {
        a->rc = fail(a->errstr, a->errstr_size, "a rule named '%s' exists", r.name);
        return;
    }
    struct mb__rule *nr = calloc(1, sizeof(*nr));
    char *block = malloc(strings_size(&r) + 1);
    if (nr == NULL || block == NULL) {
        free(nr);
        free(block);
        a->rc = fail(a->errstr, a->errstr_size, "out of memory");
        return;
    }
    nr->r = r;
    copy_strings(&nr->r, &r, block);
    nr->strings = block;
    nr->jname = mb__intern(c, nr->r.name, strlen(nr->r.name));
    nr->refs = 1;
    TAILQ_INSERT_TAIL(&c->rules, nr, link);
    c->n_rules++;
    c->rules_added++;
    mb__log(c, MB_LOG_INFO, "rule %s added: %s%s%s", nr->r.name, action_names[r.action.type],
            r.action.type == MB_ACTION_ERROR ? " " : "",
            r.action.type == MB_ACTION_ERROR ? kw_error_name(r.action.error_code) : "");
}

int mb_rule_add(struct mb_cluster *c, const struct mb_rule *r, char *errstr, size_t errstr_size)
{
    struct rule_call a = { .rule = r, .errstr = errstr, .errstr_size = errstr ? errstr_size : 0 };
    mb__call(c, add_call, &a);
    return a.rc;
}

static bool holds(const struct mb__req *req, const struct mb__rule *r)
{
    const struct mb__plan *pl = req->plan;
    return pl && ((req->stage == MB__STAGE_HOLD_BEFORE && pl->hold_before == r) ||
                  (req->stage == MB__STAGE_HOLD_AFTER && pl->hold_after == r));
}

/* Releases the held requests of rule r (NULL: all), oldest first. A released request may close
 * connections and free other held requests, so the list is searched again after each. */
static int release(struct mb_cluster *c, const struct mb__rule *r)
{
    int n = 0;
    for (;;) {
        struct mb__req *req;
        TAILQ_FOREACH(req, &c->held, hold_link)
            if (r == NULL || holds(req, r))
                break;
        if (req == NULL)
            return n;
        mb__fault_unhold(req);
        n++;
        if (req->stage == MB__STAGE_HOLD_BEFORE)
            mb__req_continue(req);
        else
            mb__req_ready(req);
    }
}

static void remove_rule(struct mb_cluster *c, struct mb__rule *r)
{
    release(c, r);
    TAILQ_REMOVE(&c->rules, r, link);
    c->n_rules--;
    r->removed = true;
    rule_unref(r);
}

static void remove_call(struct mb_cluster *c, void *arg)
{
    struct rule_call *a = arg;
    struct mb__rule *r = rule_find(c, a->name);
    a->rc = r ? 0 : -1;
    if (r)
        remove_rule(c, r);
}

int mb_rule_remove(struct mb_cluster *c, const char *name)
{
    struct rule_call a = { .name = name };
    mb__call(c, remove_call, &a);
    return a.rc;
}

static void clear_call(struct mb_cluster *c, void *arg)
{
    (void)arg;
    while (!TAILQ_EMPTY(&c->rules))
        remove_rule(c, TAILQ_FIRST(&c->rules));
}

void mb_rule_clear(struct mb_cluster *c)
{
    mb__call(c, clear_call, NULL);
}

struct mb__after_response {
    struct mb_cluster *c;
    struct mb__rule *rule;          /* a reference: the rule may be removed meanwhile */
    int broker;                     /* the request's, for the action's broker -1 */
    struct event *ev;               /* made active: it runs on the loop's next turn */
    LIST_ENTRY(mb__after_response) link;
};

static void after_response_free(struct mb__after_response *ar)
{
    LIST_REMOVE(ar, link);
    if (ar->ev)
        event_free(ar->ev);
    rule_unref(ar->rule);
    free(ar);
}

static void after_response_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mb__after_response *ar = arg;
    struct mb_cluster *c = ar->c;
    struct mb_action a = ar->rule->r.action;
    if (a.broker == MB_ANY)
        a.broker = ar->broker;
    char err[256];
    if (mb__action_do(c, &a, NULL, err, sizeof(err)) != 0)
        mb__log(c, MB_LOG_WARN, "rule %s: %s", ar->rule->r.name, err);
    after_response_free(ar);
    mb__state_changed(c);
}

void mb__fault_after_response(struct mb__req *req)
{
    struct mb__plan *pl = req->plan;
    for (int i = 0; pl && i < pl->n; i++) {
        struct mb__rule *r = pl->rules[i];
        if (!side_effect(r->r.action.type) || r->r.action.when != MB_AFTER_RESPONSE)
            continue;
        struct mb__after_response *ar = calloc(1, sizeof(*ar));
        if (ar == NULL) {
            mb__log(req->c, MB_LOG_ERROR, "rule %s: out of memory", r->r.name);
            continue;
        }
        *ar = (struct mb__after_response){ .c = req->c, .rule = r, .broker = req->broker->id };
        r->refs++;
        LIST_INSERT_HEAD(&req->c->after_response, ar, link);
        /* Not a clock timer: a virtual clock would hold it until time moved. */
        ar->ev = event_new(req->c->base, -1, 0, after_response_cb, ar);
        if (ar->ev == NULL) {
            mb__log(req->c, MB_LOG_ERROR, "rule %s: no event for its side effect", r->r.name);
            after_response_free(ar);
            continue;
        }
        event_active(ar->ev, EV_TIMEOUT, 0);
    }
}

void mb__rules_destroy(struct mb_cluster *c)
{
    struct mb__after_response *ar;
    while ((ar = LIST_FIRST(&c->after_response)) != NULL)
        after_response_free(ar);
    struct mb__rule *r;
    while ((r = TAILQ_FIRST(&c->rules)) != NULL) {
        TAILQ_REMOVE(&c->rules, r, link);
        c->n_rules--;
        rule_unref(r);
    }
}

static void release_call(struct mb_cluster *c, void *arg)
{
    struct rule_call *a = arg;
    struct mb__rule *r = a->name ? rule_find(c, a->name) : NULL;
    a->rc = a->name && r == NULL ? -1 : release(c, r);
    mb__state_changed(c);
}

int mb_rule_release(struct mb_cluster *c, const char *name)
{
    struct rule_call a = { .name = name };
    mb__call(c, release_call, &a);
    return a.rc;
}

static void fill_stats(const struct mb__rule *r, struct mb_rule_stats *s)
{
    s->matched = r->matched;
    s->fired = r->fired;
    s->held = r->held;
    s->spent = r->r.count != MB_ALWAYS && r->fired >= (uint64_t)r->r.count;
}

static void stats_call(struct mb_cluster *c, void *arg)
{
    struct rule_call *a = arg;
    struct mb__rule *r = rule_find(c, a->name);
    a->rc = r ? 0 : -1;
    if (r)
        fill_stats(r, a->stats);
}

int mb_rule_stats(struct mb_cluster *c, const char *name, struct mb_rule_stats *out)
{
    struct rule_call a = { .name = name, .stats = out };
    mb__call(c, stats_call, &a);
    return a.rc;
}

static void count_call(struct mb_cluster *c, void *arg)
{
    ((struct rule_call *)arg)->rc = c->n_rules;
}

int mb_rule_count(struct mb_cluster *c)
{
    struct rule_call a = { 0 };
    mb__call(c, count_call, &a);
    return a.rc;
}

static void get_call(struct mb_cluster *c, void *arg)
{
    struct rule_call *a = arg;
    struct mb__rule *r;
    int i = 0;
    a->rc = -1;
    TAILQ_FOREACH(r, &c->rules, link)
        if (i++ == a->index) {
            *a->out = r->r;
            copy_strings(a->out, &r->r, a->strings);
            if (a->stats)
                fill_stats(r, a->stats);
            a->rc = 0;
            return;
        }
}

int mb_rule_get(struct mb_cluster *c, int index, struct mb_rule *out, char *strings,
                struct mb_rule_stats *stats)
{
    struct rule_call a = { .index = index, .out = out, .strings = strings, .stats = stats };
    mb__call(c, get_call, &a);
    return a.rc;
}

/* --- what a request names: (topic, partition, producer id) targets, read through the schema --- */

struct target {
    struct kw_str topic;            /* len -1: none */
    int32_t partition;              /* -1: none */
    int64_t producer_id;            /* -1: none */
};

struct targets {
    struct target *v;
    int n, cap;
};

static void add_target(struct targets *t, struct kw_str topic, int32_t partition, int64_t pid)
{
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        struct target *v = realloc(t->v, (size_t)cap * sizeof(*v));
        if (v == NULL)
            return;             /* out of memory: a rule may then not match; nothing breaks */
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct target){ topic, partition, pid };
}

static bool in_version(const struct kw_field *f, int v)
{
    return v >= f->vmin && v <= f->vmax;
}

static bool is_topic(const struct kw_field *f)
{
    return f->type == KW_T_STR && (strcmp(f->name, "Name") == 0 || strcmp(f->name, "Topic") == 0);
}

static bool is_partition(const struct kw_field *f)
{
    return f->type == KW_T_I32 && (strcmp(f->name, "PartitionIndex") == 0 ||
                                   strcmp(f->name, "Partition") == 0 ||
                                   strcmp(f->name, "Index") == 0);
}

static int64_t batch_pid(struct kw_bytes records)
{
    struct kw_batch_hdr h;
    memset(&h, 0, sizeof(h));
    h.producer_id = -1;
    if (records.len <= 0)
        return -1;
    int rc = kw_batch_peek(records.ptr, (size_t)records.len, &h);
    return (rc >= 0 || rc == KW_ERR_SHORT) && h.magic == 2 ? h.producer_id : -1;
}

static void collect(struct targets *t, const struct kw_schema *s, int v, const uint8_t *st,
                    struct kw_str topic)
{
    int32_t partition = -1;
    int64_t pid = -1;
    bool named = false;
    for (uint32_t i = 0; i < s->nfields; i++) {
        const struct kw_field *f = &s->fields[i];
        if (!in_version(f, v))
            continue;
        if (is_topic(f) && ((const struct kw_str *)(st + f->off))->len >= 0) {
            topic = *(const struct kw_str *)(st + f->off);
            named = true;
        } else if (is_partition(f)) {
            partition = *(const int32_t *)(st + f->off);
        } else if (f->type == KW_T_I64 && strcmp(f->name, "ProducerId") == 0) {
            pid = *(const int64_t *)(st + f->off);
        } else if (f->type == KW_T_RECORDS) {
            pid = batch_pid(*(const struct kw_bytes *)(st + f->off));
        }
    }
    if (named || partition >= 0 || pid >= 0)
        add_target(t, topic, partition, pid);
    for (uint32_t i = 0; i < s->nfields; i++) {
        const struct kw_field *f = &s->fields[i];
        if (!in_version(f, v))
            continue;
        if (f->type == KW_T_STRUCT) {
            collect(t, f->sub, v, st + f->off, topic);
        } else if (f->type == KW_T_ARRAY && strcmp(f->name, "ForgottenTopicsData") != 0) {
            int32_t n = *(const int32_t *)(st + f->cnt_off);
            const uint8_t *elems = *(const uint8_t *const *)(st + f->off);
            for (int32_t k = 0; k < n && elems; k++) {
                if (f->etype == KW_T_STRUCT)
                    collect(t, f->sub, v, elems + (size_t)k * f->sub->size, topic);
                else if (f->etype == KW_T_STR && strcmp(f->name, "TopicNames") == 0)
                    add_target(t, ((const struct kw_str *)elems)[k], -1, -1);
            }
        }
    }
}

static bool target_ok(const struct target *t, const struct mb_match *m)
{
    if (m->topic && (t->topic.len < 0 || !kw_str_eq(t->topic, m->topic)))
        return false;
    if (m->partition >= 0 && t->partition != m->partition)
        return false;
    return m->producer_id < 0 || t->producer_id == m->producer_id;
}

static void gather(struct mb__req *req, struct targets *t)
{
    if (req->body)
        collect(t, req->api->req, req->version, req->body, KW_STR_NULL);
}

/* --- matching --------------------------------------------------------------------------------- */

static void fire(struct mb__req *req, struct mb__rule *r)
{
    struct mb_cluster *c = req->c;
    struct mb__plan *pl = req->plan;
    const struct mb_action *a = &r->r.action;
    if (pl == NULL) {
        pl = kw_arena_alloc(&req->arena, sizeof(*pl));
        struct mb__rule **rules = kw_arena_alloc(&req->arena, sizeof(*rules) * (size_t)c->n_rules);
        if (pl == NULL || rules == NULL)
            return;             /* out of memory: the rule counts as fired but does nothing */
        memset(pl, 0, sizeof(*pl));
        pl->rules = rules;
        pl->truncate_at = -1;
        pl->corrupt_at = -1;
        req->plan = pl;
    }
    r->refs++;
    pl->rules[pl->n++] = r;
    struct mb_journal_entry *e = mb__jreq(req, MB_JOURNAL_FAULT);
    e->rule = r->jname;
    e->what = action_names[a->type];
    if (a->type == MB_ACTION_ERROR)
        e->error_code = a->error_code;
    mb__log(c, MB_LOG_INFO, "rule %s fired on %s v%d correlation id %" PRId32 " (broker %d): %s",
            r->r.name, req->api->name, req->version, req->hdr.correlation_id, req->broker->id,
            action_names[a->type]);
    bool after = a->when != MB_BEFORE_APPLY;
    int64_t us = a->duration_ms * 1000;
    switch (a->type) {
    case MB_ACTION_ERROR:
        *(after ? &pl->error_after : &pl->error_before) = true;
        break;
    case MB_ACTION_UNKNOWN_PRODUCER_ID:
        pl->error_before = true;
        break;
    case MB_ACTION_DELAY:
        *(after ? &pl->delay_after_us : &pl->delay_before_us) += us;
        break;
    case MB_ACTION_THROTTLE:
        if (us > pl->throttle_us)
            pl->throttle_us = us;
        break;
    case MB_ACTION_CLOSE:
        *(after ? &pl->close_after : &pl->close_before) = true;
        break;
    case MB_ACTION_LOSE_RESPONSE:
        pl->lose = true;
        break;
    case MB_ACTION_HOLD:
        if (after && pl->hold_after == NULL)
            pl->hold_after = r;
        else if (!after && pl->hold_before == NULL)
            pl->hold_before = r;
        break;
    case MB_ACTION_TRUNCATE_RESPONSE:
        if (pl->truncate_at < 0 || a->bytes < pl->truncate_at)
            pl->truncate_at = a->bytes;
        break;
    case MB_ACTION_CORRUPT_RESPONSE:
        pl->corrupt = true;
        pl->corrupt_at = a->offset;
        break;
    case MB_ACTION_SPLIT_RESPONSE:
        pl->split_bytes = a->bytes;
        pl->split_interval_us = a->interval_ms * 1000;
        break;
    case MB_ACTION_PAUSE_READING:
        if (us > pl->pause_us)
            pl->pause_us = us;
        break;
    default:
        if (side_effect(a->type) && a->when == MB_AFTER_RESPONSE)
            pl->side_response = true;
        else if (side_effect(a->type))
            *(after ? &pl->side_after : &pl->side_before) = true;
        break;
    }
}

void mb__fault_match(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    struct targets t = { 0 };
    bool gathered = false;
    struct mb__rule *r, *next;
    /* A rule removed by an earlier one's effects cannot happen here: effects run later. */
    for (r = TAILQ_FIRST(&c->rules); r != NULL; r = next) {
        next = TAILQ_NEXT(r, link);
        const struct mb_match *m = &r->r.match;
        if (r->r.count != MB_ALWAYS && r->fired >= (uint64_t)r->r.count)
            continue;
        if ((m->broker >= 0 && m->broker != req->broker->id) ||
            (m->api_key >= 0 && m->api_key != req->hdr.api_key) ||
            (m->min_version >= 0 && req->hdr.api_version < m->min_version) ||
            (m->max_version >= 0 && req->hdr.api_version > m->max_version) ||
            (m->client_id && !kw_str_eq(req->hdr.client_id, m->client_id)))
            continue;
        if (m->topic || m->partition >= 0 || m->producer_id >= 0) {
            if (!gathered) {
                gather(req, &t);
                gathered = true;
            }
            int k = 0;
            while (k < t.n && !target_ok(&t.v[k], m))
                k++;
            if (k == t.n)
                continue;
        }
        r->matched++;
        if (r->matched < (uint64_t)(m->nth > 1 ? m->nth : 1))
            continue;
        r->fired++;
        fire(req, r);
    }
    free(t.v);
}

void mb__plan_release(struct mb__plan *pl)
{
    for (int i = 0; pl && i < pl->n; i++)
        rule_unref(pl->rules[i]);
    if (pl)
        pl->n = 0;
}

int16_t mb__fault_error(const struct mb__req *req, int when, struct kw_str topic,
                        int32_t partition, const struct mb_action **action)
{
    const struct mb__plan *pl = req->plan;
    for (int i = 0; pl && i < pl->n; i++) {
        const struct mb_rule *r = &pl->rules[i]->r;
        const struct mb_action *a = &r->action;
        bool unknown_pid = a->type == MB_ACTION_UNKNOWN_PRODUCER_ID && when == MB_BEFORE_APPLY;
        if (!unknown_pid && !(a->type == MB_ACTION_ERROR && (int)a->when == when))
            continue;
        if (r->match.topic && (topic.len < 0 || !kw_str_eq(topic, r->match.topic)))
            continue;
        if (r->match.partition >= 0 && partition != r->match.partition)
            continue;
        if (action)
            *action = a;
        return unknown_pid ? KW_EC_UNKNOWN_PRODUCER_ID : a->error_code;
    }
    return 0;
}

/* --- responses: stamping errors and the throttle time ----------------------------------------- */

static bool applies_natively(int api_key)
{
    return api_key == KW_API_PRODUCE || api_key == KW_API_CREATE_TOPICS ||
           api_key == KW_API_DELETE_TOPICS || api_key == KW_API_INIT_PRODUCER_ID;
}

struct stamp {
    const struct mb__req *req;
    bool before, after;             /* which errors to stamp */
    int16_t first;
};

static int16_t stamp_code(const struct stamp *s, struct kw_str topic, int32_t partition,
                          const struct mb_action **a)
{
    int16_t ec = 0;
    if (s->before)
        ec = mb__fault_error(s->req, MB_BEFORE_APPLY, topic, partition, a);
    if (ec == 0 && s->after)
        ec = mb__fault_error(s->req, MB_AFTER_APPLY, topic, partition, a);
    return ec;
}

/* ErrorCode, and the names some answers give it (AddPartitionsToTxn's PartitionErrorCode). */
static bool is_error_code(const struct kw_field *f)
{
    size_t n = strlen(f->name);
    return n >= 9 && strcmp(f->name + n - 9, "ErrorCode") == 0;
}

static void walk(struct stamp *s, const struct kw_schema *sc, int v, uint8_t *st,
                 struct kw_str topic, int32_t partition)
{
    for (uint32_t i = 0; i < sc->nfields; i++) {
        const struct kw_field *f = &sc->fields[i];
        if (!in_version(f, v))
            continue;
        if (is_topic(f) && ((struct kw_str *)(st + f->off))->len >= 0)
            topic = *(struct kw_str *)(st + f->off);
        else if (is_partition(f))
            partition = *(int32_t *)(st + f->off);
    }
    const struct mb_action *a = NULL;
    int16_t ec = s->before || s->after ? stamp_code(s, topic, partition, &a) : 0;
    for (uint32_t i = 0; i < sc->nfields; i++) {
        const struct kw_field *f = &sc->fields[i];
        if (!in_version(f, v))
            continue;
        if (f->type == KW_T_I16 && is_error_code(f)) {
            int16_t *code = (int16_t *)(st + f->off);
            if (ec)
                *code = ec;
            if (s->first == 0)
                s->first = *code;
        } else if (ec && f->type == KW_T_RECORDS) {
            *(struct kw_bytes *)(st + f->off) = (struct kw_bytes){ (const uint8_t *)"", 0 };
        } else if (ec && a && a->error_message && f->type == KW_T_STR &&
                   strcmp(f->name, "ErrorMessage") == 0) {
            *(struct kw_str *)(st + f->off) = kw_str_c(a->error_message);
        } else if (f->type == KW_T_STRUCT) {
            walk(s, f->sub, v, st + f->off, topic, partition);
        } else if (f->type == KW_T_ARRAY && f->etype == KW_T_STRUCT) {
            int32_t n = *(int32_t *)(st + f->cnt_off);
            uint8_t *elems = *(uint8_t **)(st + f->off);
            for (int32_t k = 0; k < n && elems; k++)
                walk(s, f->sub, v, elems + (size_t)k * f->sub->size, topic, partition);
        }
    }
}

int16_t mb__first_error(const struct mb__req *req, const void *resp)
{
    struct stamp s = { .req = req };
    /* Nothing is stamped, so the walk only reads; the cast is for walk's signature. */
    walk(&s, req->api->resp, req->version, (uint8_t *)(uintptr_t)resp, KW_STR_NULL, -1);
    return s.first;
}

const void *mb__fault_stamp(struct mb__req *req, const void *resp)
{
    const struct mb__plan *pl = req->plan;
    const struct kw_schema *sc = req->api->resp;
    struct stamp s = {
        .req = req,
        .before = pl->error_before && !applies_natively(req->api->key),
        .after = pl->error_after && req->api->key != KW_API_PRODUCE,
    };
    if (!s.before && !s.after && pl->throttle_us == 0) {
        if (req->api->key != KW_API_PRODUCE)
            req->first_error = mb__first_error(req, resp);
        return resp;
    }
    /* A copy of the top-level struct; nested arrays come from the request's arena (the handlers
     * build them there), so they may be written in place. */
    uint8_t *copy = kw_arena_alloc(&req->arena, sc->size);
    if (copy == NULL)
        return resp;
    memcpy(copy, resp, sc->size);
    if (pl->throttle_us)
        for (uint32_t i = 0; i < sc->nfields; i++) {
            const struct kw_field *f = &sc->fields[i];
            if (in_version(f, req->version) && f->type == KW_T_I32 &&
                strcmp(f->name, "ThrottleTimeMs") == 0)
                *(int32_t *)(copy + f->off) = (int32_t)(pl->throttle_us / 1000);
        }
    walk(&s, sc, req->version, copy, KW_STR_NULL, -1);
    if (req->api->key != KW_API_PRODUCE)
        req->first_error = s.first;
    return copy;
}

/* --- side effects and holds ------------------------------------------------------------------- */

/* Runs a partition action on topic/partition (MB_ANY: every partition of the topic). */
static int on_partitions(struct mb_cluster *c, const struct mb_action *a, const char *topic,
                         int32_t tlen, int32_t partition, char *errstr, size_t size)
{
    struct mb__topic *t = mb__topic_find(c, topic, tlen);
    if (t == NULL)
        return fail(errstr, size, "%s: unknown topic '%.*s'", action_names[a->type], (int)tlen,
                    topic);
    if (partition >= t->n_partitions)
        return fail(errstr, size, "%s: %s has no partition %d", action_names[a->type], t->name,
                    partition);
    int rc = 0;
    for (int32_t i = partition >= 0 ? partition : 0;
         i < (partition >= 0 ? partition + 1 : t->n_partitions) && rc == 0; i++) {
        struct mb__partition *p = &t->partitions[i];
        switch (a->type) {
        case MB_ACTION_LEADER_MOVE:
            rc = mb__leader_move(c, p, a->broker, errstr, size);
            break;
        case MB_ACTION_ISR_SET:
            rc = mb__isr_set(c, p, a->brokers, a->n_brokers, errstr, size);
            break;
        case MB_ACTION_REPLICAS_SET:
            rc = mb__replicas_set(c, p, a->brokers, a->n_brokers, errstr, size);
            break;
        case MB_ACTION_FOLLOWER:
            rc = mb__follower_set(c, p, a->broker, a->mode, a->lag_ms * 1000, a->lag_batches,
                                  errstr, size);
            break;
        default:
            break;
        }
    }
    return rc;
}

/* A partition action fired by a request without a topic of its own: every partition the
 * request names that the rule's match accepts (a topic named without partitions: all of it). */
static int on_request(struct mb__req *req, const struct mb_rule *r, char *errstr, size_t size)
{
    struct targets t = { 0 };
    int rc = 0;
    gather(req, &t);
    for (int k = 0; k < t.n && rc == 0; k++) {
        if (t.v[k].topic.len < 0 || !target_ok(&t.v[k], &r->match))
            continue;
        /* A topic's own entry precedes its partitions' (Produce, Fetch): it stands for every
         * partition only when the request names none (Metadata). */
        if (t.v[k].partition < 0 && k + 1 < t.n && t.v[k + 1].partition >= 0 &&
            t.v[k + 1].topic.ptr == t.v[k].topic.ptr)
            continue;
        rc = on_partitions(req->c, &r->action, t.v[k].topic.ptr, t.v[k].topic.len,
                           t.v[k].partition, errstr, size);
    }
    free(t.v);
    return rc;
}

static int act(struct mb_cluster *c, const struct mb_action *a, const struct mb_rule *r,
               struct mb__req *req, char *errstr, size_t size)
{
    switch (a->type) {
    case MB_ACTION_BROKER_DOWN:
    case MB_ACTION_BROKER_UP:
    case MB_ACTION_BLACKHOLE: {
        int id = a->broker >= 0 ? a->broker : req ? req->broker->id : -1;
        int state = a->type == MB_ACTION_BROKER_DOWN ? MB_BROKER_DOWN
                    : a->type == MB_ACTION_BROKER_UP ? MB_BROKER_UP : MB_BROKER_BLACKHOLE;
        return mb__broker_set_state(c, id, state, errstr, size);
    }
    case MB_ACTION_LEADER_MOVE:
    case MB_ACTION_ISR_SET:
    case MB_ACTION_REPLICAS_SET:
    case MB_ACTION_FOLLOWER:
        if (a->topic)
            return on_partitions(c, a, a->topic, (int32_t)strlen(a->topic), a->partition,
                                 errstr, size);
        if (a->type == MB_ACTION_FOLLOWER && (req == NULL || r == NULL))
            return mb__follower_set(c, NULL, a->broker, a->mode, a->lag_ms * 1000,
                                    a->lag_batches, errstr, size);
        if (req && r)
            return on_request(req, r, errstr, size);
        return fail(errstr, size, "%s: topic is needed", action_names[a->type]);
    default:
        return fail(errstr, size, "%s is not a side effect: it needs a request to act on",
                    action_names[a->type]);
    }
}

int mb__action_do(struct mb_cluster *c, const struct mb_action *a, struct mb__req *req,
                  char *errstr, size_t size)
{
    return act(c, a, NULL, req, errstr, size);
}

int mb__fault_side_effects(struct mb__req *req, int when)
{
    struct mb_cluster *c = req->c;
    struct mb__plan *pl = req->plan;
    bool was_pinned = req->pinned;
    req->pinned = true;         /* a side effect may close this very connection */
    for (int i = 0; i < pl->n; i++) {
        const struct mb_rule *r = &pl->rules[i]->r;
        if (!side_effect(r->action.type) || (int)r->action.when != when)
            continue;
        char err[256];
        if (act(c, &r->action, r, req, err, sizeof(err)) != 0)
            mb__log(c, MB_LOG_WARN, "rule %s: %s", r->name, err);
    }
    req->pinned = was_pinned;
    if (req->conn == NULL && !was_pinned) {
        mb__req_free(req);
        return -1;
    }
    return req->conn ? 0 : -1;
}

void mb__fault_hold(struct mb__req *req, struct mb__rule *rule)
{
    req->held = true;
    rule->held++;
    TAILQ_INSERT_TAIL(&req->c->held, req, hold_link);
    mb__log(req->c, MB_LOG_INFO, "rule %s holds %s v%d correlation id %" PRId32 " %s apply",
            rule->r.name, req->api->name, req->version, req->hdr.correlation_id,
            req->stage == MB__STAGE_HOLD_BEFORE ? "before" : "after");
}

void mb__fault_unhold(struct mb__req *req)
{
    if (!req->held)
        return;
    struct mb__plan *pl = req->plan;
    struct mb__rule *r = req->stage == MB__STAGE_HOLD_BEFORE ? pl->hold_before : pl->hold_after;
    if (r)
        r->held--;
    TAILQ_REMOVE(&req->c->held, req, hold_link);
    req->held = false;
}

/* --- running an action without a request ------------------------------------------------------ */

struct action_call {
    const struct mb_action *a;
    char *errstr;
    size_t size;
    int rc;
};

static void action_call(struct mb_cluster *c, void *arg)
{
    struct action_call *a = arg;
    a->rc = check_action(c, a->a, false, a->errstr, a->size);
    if (a->rc == 0 && !side_effect(a->a->type))
        a->rc = fail(a->errstr, a->size, "%s is not a side effect: it needs a request to act on",
                     action_names[a->a->type]);
    if (a->rc == 0)
        a->rc = act(c, a->a, NULL, NULL, a->errstr, a->size);
    mb__state_changed(c);
}

int mb_action_run(struct mb_cluster *c, const struct mb_action *a, char *errstr,
                  size_t errstr_size)
{
    char dummy[8];
    struct action_call call = { a, errstr ? errstr : dummy, errstr ? errstr_size : sizeof(dummy),
                                0 };
    mb__call(c, action_call, &call);
    return call.rc;
}

static void blank_action(struct mb_action *a, enum mb_action_type type)
{
    memset(a, 0, sizeof(*a));
    a->type = type;
    a->broker = MB_ANY;
    a->partition = MB_ANY;
    a->offset = -1;
}

int mb_broker_down(struct mb_cluster *c, int broker, char *errstr, size_t errstr_size)
{
    struct mb_action a;
    blank_action(&a, MB_ACTION_BROKER_DOWN);
    a.broker = broker;
    return mb_action_run(c, &a, errstr, errstr_size);
}

int mb_broker_up(struct mb_cluster *c, int broker, char *errstr, size_t errstr_size)
{
    struct mb_action a;
    blank_action(&a, MB_ACTION_BROKER_UP);
    a.broker = broker;
    return mb_action_run(c, &a, errstr, errstr_size);
}

int mb_broker_blackhole(struct mb_cluster *c, int broker, char *errstr, size_t errstr_size)
{
    struct mb_action a;
    blank_action(&a, MB_ACTION_BLACKHOLE);
    a.broker = broker;
    return mb_action_run(c, &a, errstr, errstr_size);
}

int mb_leader_move(struct mb_cluster *c, const char *topic, int partition, int broker,
                   char *errstr, size_t errstr_size)
{
    struct mb_action a;
    blank_action(&a, MB_ACTION_LEADER_MOVE);
    a.topic = topic;
    a.partition = partition;
    a.broker = broker;
    return mb_action_run(c, &a, errstr, errstr_size);
}

static int set_list(struct mb_cluster *c, enum mb_action_type type, const char *topic,
                    int partition, const int *brokers, int n, char *errstr, size_t size)
{
    struct mb_action a;
    blank_action(&a, type);
    a.topic = topic;
    a.partition = partition;
    if (n < 1 || n > MB_MAX_REPLICAS || brokers == NULL)
        return fail(errstr, size, "%s: brokers must list 1..%d brokers", action_names[type],
                    MB_MAX_REPLICAS);
    a.n_brokers = n;
    memcpy(a.brokers, brokers, sizeof(int) * (size_t)n);
    return mb_action_run(c, &a, errstr, size);
}

int mb_isr_set(struct mb_cluster *c, const char *topic, int partition, const int *brokers, int n,
               char *errstr, size_t errstr_size)
{
    return set_list(c, MB_ACTION_ISR_SET, topic, partition, brokers, n, errstr, errstr_size);
}

int mb_replicas_set(struct mb_cluster *c, const char *topic, int partition, const int *brokers,
                    int n, char *errstr, size_t errstr_size)
{
    return set_list(c, MB_ACTION_REPLICAS_SET, topic, partition, brokers, n, errstr,
                    errstr_size);
}

int mb_follower_set(struct mb_cluster *c, const char *topic, int partition, int broker,
                    enum mb_follower_mode mode, int64_t lag_ms, int32_t lag_batches,
                    char *errstr, size_t errstr_size)
{
    struct mb_action a;
    blank_action(&a, MB_ACTION_FOLLOWER);
    a.topic = topic;
    a.partition = partition;
    a.broker = broker;
    a.mode = mode;
    a.lag_ms = lag_ms;
    a.lag_batches = lag_batches;
    return mb_action_run(c, &a, errstr, errstr_size);
}
