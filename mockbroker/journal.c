/* The journal: fixed-size entries in a ring that grows to its cap and then overwrites the oldest,
 * so the Produce path pays one struct copy per entry and memory stays bounded. Strings in entries
 * are interned once (topics at creation, client ids per connection), never copied per entry.
 * Rendering (text and JSON lines, the latter with jansson) happens only when asked. */
#include "mockbroker/internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"

#define DEFAULT_MAX 100000
/* Interned strings are kept until destroy; a client inventing a new client id per request must
 * not grow them without bound. */
#define MAX_NAMES 65536

static const char *const kind_names[MB_JOURNAL_KINDS] = {
    "request", "fault", "append", "response", "broker", "leader", "isr", "truncate", "txn",
    "marker",
};

const char *mb_journal_kind_name(enum mb_journal_kind k)
{
    return (unsigned)k < MB_JOURNAL_KINDS ? kind_names[k] : "unknown";
}

int mb_journal_kind_parse(const char *name)
{
    for (int i = 0; name && i < MB_JOURNAL_KINDS; i++)
        if (strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

/* The "none" value of every member: what a kind does not set stays at this. */
static const struct mb_journal_entry blank = {
    .broker = -1, .correlation_id = -1, .api_key = -1, .api_version = -1, .partition = -1,
    .acks = -1, .timeout_ms = -1, .partitions = -1, .records = -1, .producer_id = -1,
    .producer_epoch = -1, .base_sequence = -1, .offset = -1, .offset_before = -1, .bytes = -1,
    .leader_epoch = -1, .from = -1, .to = -1,
};

void mb__journal_init(struct mb_cluster *c)
{
    struct mb__journal *j = &c->journal;
    j->max = c->cfg.journal_max ? c->cfg.journal_max : DEFAULT_MAX;
}

void mb__journal_destroy(struct mb_cluster *c)
{
    struct mb__journal *j = &c->journal;
    free(j->ring);
    for (size_t i = 0; i < j->cap_names; i++)
        free(j->names[i]);
    free(j->names);
    memset(j, 0, sizeof(*j));
}

static void drop_oldest(struct mb__journal *j)
{
    struct mb_journal_entry *e = &j->ring[j->head];
    j->dropped++;
    if ((unsigned)e->kind < MB_JOURNAL_KINDS)
        j->dropped_by_kind[e->kind]++;
    j->head = (j->head + 1) % j->cap;
    j->n--;
}

/* Doubles the ring up to the cap. Until the cap is reached nothing is dropped, so the entries
 * start at index 0 and realloc keeps them (in place, for large blocks); only after an
 * allocation failure do they need laying out again. */
static bool grow(struct mb__journal *j)
{
    size_t cap = j->cap ? j->cap * 2 : 1024;
    if (cap > j->max)
        cap = j->max;
    if (j->head != 0) {
        struct mb_journal_entry *ring = malloc(cap * sizeof(*ring));
        if (ring == NULL)
            return false;
        for (size_t i = 0; i < j->n; i++)
            ring[i] = j->ring[(j->head + i) % j->cap];
        free(j->ring);
        j->ring = ring;
        j->head = 0;
    } else {
        struct mb_journal_entry *ring = realloc(j->ring, cap * sizeof(*ring));
        if (ring == NULL)
            return false;
        j->ring = ring;
    }
    j->cap = cap;
    return true;
}

struct mb_journal_entry *mb__jadd(struct mb_cluster *c, enum mb_journal_kind kind)
{
    struct mb__journal *j = &c->journal;
    struct mb_journal_entry *e;
    if (j->n == j->cap && (j->cap >= j->max || !grow(j))) {
        if (j->cap == 0) {
            e = &j->sink;       /* nothing could be allocated: the entry is lost */
            j->dropped++;
            j->dropped_by_kind[kind]++;
            goto fill;
        }
        drop_oldest(j);
    }
    e = &j->ring[(j->head + j->n) % j->cap];
    j->n++;
fill:
    *e = blank;
    e->id = ++j->last_id;
    e->time_us = kw_now_us(c->clock);
    e->kind = kind;
    return e;
}

struct mb_journal_entry *mb__jreq(struct mb__req *req, enum mb_journal_kind kind)
{
    struct mb_journal_entry *e = mb__jadd(req->c, kind);
    e->broker = req->broker->id;
    e->conn = req->conn_id;
    e->request = req->seq;
    e->correlation_id = req->hdr.correlation_id;
    e->api_key = req->hdr.api_key;
    e->api_version = req->hdr.api_version;
    return e;
}

/* FNV-1a: enough to spread names over an open-addressed table. */
static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
    return h;
}

static char **slot(char **names, size_t cap, const char *s, size_t len)
{
    size_t i = (size_t)hash(s, len) & (cap - 1);
    while (names[i] && !(strncmp(names[i], s, len) == 0 && names[i][len] == '\0'))
        i = (i + 1) & (cap - 1);
    return &names[i];
}

const char *mb__intern(struct mb_cluster *c, const char *s, size_t len)
{
    struct mb__journal *j = &c->journal;
    if (s == NULL)
        return NULL;
    /* Names are C strings from here on: a client id with a NUL in it is journaled up to the
     * NUL, so equal prefixes share a slot and no comparison reads past a shorter name. */
    len = strnlen(s, len);
    if (j->n_names * 2 >= j->cap_names) {
        if (j->n_names >= MAX_NAMES)
            return "(too many names)";
        size_t cap = j->cap_names ? j->cap_names * 2 : 64;
        char **names = calloc(cap, sizeof(*names));
        if (names == NULL)
            return "(out of memory)";
        for (size_t i = 0; i < j->cap_names; i++)
            if (j->names[i])
                *slot(names, cap, j->names[i], strlen(j->names[i])) = j->names[i];
        free(j->names);
        j->names = names;
        j->cap_names = cap;
    }
    char **at = slot(j->names, j->cap_names, s, len);
    if (*at == NULL) {
        char *copy = malloc(len + 1);
        if (copy == NULL)
            return "(out of memory)";
        memcpy(copy, s, len);
        copy[len] = '\0';
        *at = copy;
        j->n_names++;
    }
    return *at;
}

/* --- public calls ----------------------------------------------------------------------------- */

struct read_call {
    uint64_t after;
    struct mb_journal_entry *out;
    size_t max, n;
    enum mb_journal_format format;
    char *text;
    struct mb_journal_stats *stats;
};

/* The ring index of the first entry with id > after. Ids are consecutive in the ring. */
static size_t first_after(const struct mb__journal *j, uint64_t after)
{
    if (j->n == 0)
        return 0;
    uint64_t oldest = j->ring[j->head].id;
    return after < oldest ? 0 : (size_t)(after - oldest + 1 < j->n ? after - oldest + 1 : j->n);
}

static void read_call(struct mb_cluster *c, void *arg)
{
    struct read_call *a = arg;
    const struct mb__journal *j = &c->journal;
    for (size_t i = first_after(j, a->after); i < j->n && a->n < a->max; i++)
        a->out[a->n++] = j->ring[(j->head + i) % j->cap];
}

size_t mb_journal_read(struct mb_cluster *c, uint64_t after_id, struct mb_journal_entry *out,
                       size_t max)
{
    struct read_call a = { .after = after_id, .out = out, .max = max };
    mb__call(c, read_call, &a);
    return a.n;
}

static void stats_call(struct mb_cluster *c, void *arg)
{
    struct read_call *a = arg;
    const struct mb__journal *j = &c->journal;
    struct mb_journal_stats *s = a->stats;
    memset(s, 0, sizeof(*s));
    s->total = j->last_id;
    s->held = j->n;
    s->max = j->max;
    s->dropped = j->dropped;
    memcpy(s->dropped_by_kind, j->dropped_by_kind, sizeof(s->dropped_by_kind));
}

void mb_journal_stats(struct mb_cluster *c, struct mb_journal_stats *out)
{
    struct read_call a = { .stats = out };
    mb__call(c, stats_call, &a);
}

static void clear_call(struct mb_cluster *c, void *arg)
{
    (void)arg;
    struct mb__journal *j = &c->journal;
    while (j->n)
        drop_oldest(j);
    j->head = 0;
}

void mb_journal_clear(struct mb_cluster *c)
{
    mb__call(c, clear_call, NULL);
}

/* --- rendering -------------------------------------------------------------------------------- */

static const char *api_name(int key)
{
    return key >= 0 ? kw_api_name(key) : "?";
}

/* Appends printf output to a growing buffer. */
static void addf(struct kw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void addf(struct kw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    uint8_t *p = kw_buf_space(b, (size_t)n + 1);
    if (p == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    kw_buf_commit(b, (size_t)n);
}

static void add_isr(struct kw_buf *b, uint64_t isr)
{
    const char *sep = "";
    kw_put_raw(b, "[", 1);
    for (int i = 0; i < 64; i++)
        if (isr & (1ULL << i)) {
            addf(b, "%s%d", sep, i + 1);
            sep = ",";
        }
    kw_put_raw(b, "]", 1);
}

static void text(struct kw_buf *b, const struct mb_journal_entry *e)
{
    addf(b, "%4" PRId64 ".%06" PRId64 " #%" PRIu64 " %-8s", e->time_us / 1000000,
         e->time_us % 1000000, e->id, mb_journal_kind_name(e->kind));
    if (e->broker >= 0)
        addf(b, " b%d", e->broker);
    if (e->conn)
        addf(b, " c%" PRIu64, e->conn);
    if (e->request)
        addf(b, " r%" PRIu64, e->request);
    switch (e->kind) {
    case MB_JOURNAL_REQUEST:
        addf(b, " %s v%d corr %" PRId32, api_name(e->api_key), e->api_version, e->correlation_id);
        if (e->client_id)
            addf(b, " client \"%s\"", e->client_id);
        if (e->acks >= -1 && e->api_key == KW_API_PRODUCE)
            addf(b, " acks %d timeout %" PRId32, e->acks, e->timeout_ms);
        if (e->partitions >= 0)
            addf(b, " partitions %" PRId32, e->partitions);
        addf(b, " bytes %" PRId32, e->bytes);
        break;
    case MB_JOURNAL_FAULT:
        addf(b, " rule \"%s\" %s", e->rule ? e->rule : "", e->what ? e->what : "");
        if (e->error_code)
            addf(b, " %s", kw_error_name(e->error_code));
        break;
    case MB_JOURNAL_APPEND:
        addf(b, " %s-%" PRId32 " records %" PRId32 " bytes %" PRId32, e->topic ? e->topic : "?",
             e->partition, e->records, e->bytes);
        if (e->producer_id >= 0)
            addf(b, " pid %" PRId64 " epoch %d seq %" PRId32, e->producer_id, e->producer_epoch,
                 e->base_sequence);
        if (e->error_code)
            addf(b, " -> %s", kw_error_name(e->error_code));
        else
            addf(b, " -> offset %" PRId64 "%s", e->offset, e->what ? e->what : "");
        break;
    case MB_JOURNAL_RESPONSE:
        addf(b, " %s v%d corr %" PRId32 " %s", api_name(e->api_key), e->api_version,
             e->correlation_id, e->what ? e->what : "");
        if (e->error_code)
            addf(b, " %s", kw_error_name(e->error_code));
        if (e->bytes >= 0)
            addf(b, " bytes %" PRId32, e->bytes);
        break;
    case MB_JOURNAL_BROKER:
        addf(b, " %s", e->what ? e->what : "");
        break;
    case MB_JOURNAL_LEADER:
        addf(b, " %s-%" PRId32 " %s %d -> %d epoch %" PRId32, e->topic ? e->topic : "?",
             e->partition, e->what ? e->what : "", e->from, e->to, e->leader_epoch);
        break;
    case MB_JOURNAL_ISR:
        addf(b, " %s-%" PRId32 " %s ", e->topic ? e->topic : "?", e->partition,
             e->what ? e->what : "");
        add_isr(b, e->isr_before);
        kw_put_raw(b, " -> ", 4);
        add_isr(b, e->isr);
        break;
    case MB_JOURNAL_TRUNCATE:
        addf(b, " %s-%" PRId32 " log end %" PRId64 " -> %" PRId64, e->topic ? e->topic : "?",
             e->partition, e->offset_before, e->offset);
        break;
    case MB_JOURNAL_TXN:
        addf(b, " \"%s\" %s pid %" PRId64 " epoch %d partitions %" PRId32 " timeout %" PRId32,
             e->transactional_id ? e->transactional_id : "", e->what ? e->what : "",
             e->producer_id, e->producer_epoch, e->partitions, e->timeout_ms);
        break;
    case MB_JOURNAL_MARKER:
        addf(b, " %s-%" PRId32 " %s pid %" PRId64 " epoch %d -> offset %" PRId64,
             e->topic ? e->topic : "?", e->partition, e->what ? e->what : "", e->producer_id,
             e->producer_epoch, e->offset);
        break;
    default:
        break;
    }
    kw_put_raw(b, "\n", 1);
}

static void jset(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

static json_t *jisr(uint64_t isr)
{
    json_t *a = json_array();
    for (int i = 0; i < 64; i++)
        if (isr & (1ULL << i))
            json_array_append_new(a, json_integer(i + 1));
    return a;
}

static json_t *to_json(const struct mb_journal_entry *e)
{
    json_t *o = json_object();
    jset(o, "id", json_integer((json_int_t)e->id));
    jset(o, "time_us", json_integer(e->time_us));
    jset(o, "kind", json_string(mb_journal_kind_name(e->kind)));
    if (e->what)
        jset(o, "what", json_string(e->what));
    if (e->broker >= 0)
        jset(o, "broker", json_integer(e->broker));
    if (e->conn)
        jset(o, "conn", json_integer((json_int_t)e->conn));
    if (e->request)
        jset(o, "request", json_integer((json_int_t)e->request));
    if (e->api_key >= 0) {
        jset(o, "api_key", json_integer(e->api_key));
        jset(o, "api", json_string(api_name(e->api_key)));
        jset(o, "api_version", json_integer(e->api_version));
        jset(o, "correlation_id", json_integer(e->correlation_id));
    }
    if (e->client_id)
        jset(o, "client_id", json_string(e->client_id));
    if (e->rule)
        jset(o, "rule", json_string(e->rule));
    if (e->topic)
        jset(o, "topic", json_string(e->topic));
    if (e->partition >= 0)
        jset(o, "partition", json_integer(e->partition));
    if (e->kind == MB_JOURNAL_APPEND || e->kind == MB_JOURNAL_RESPONSE || e->error_code) {
        jset(o, "error_code", json_integer(e->error_code));
        jset(o, "error", json_string(kw_error_name(e->error_code)));
    }
    if (e->kind == MB_JOURNAL_REQUEST && e->api_key == KW_API_PRODUCE) {
        jset(o, "acks", json_integer(e->acks));
        jset(o, "timeout_ms", json_integer(e->timeout_ms));
    }
    if (e->transactional_id)
        jset(o, "transactional_id", json_string(e->transactional_id));
    if (e->kind == MB_JOURNAL_TXN)
        jset(o, "timeout_ms", json_integer(e->timeout_ms));
    if (e->partitions >= 0)
        jset(o, "partitions", json_integer(e->partitions));
    if (e->records >= 0)
        jset(o, "records", json_integer(e->records));
    if (e->kind == MB_JOURNAL_APPEND && e->producer_id >= 0) {
        jset(o, "producer_id", json_integer(e->producer_id));
        jset(o, "producer_epoch", json_integer(e->producer_epoch));
        jset(o, "base_sequence", json_integer(e->base_sequence));
    }
    if (e->kind == MB_JOURNAL_TXN || e->kind == MB_JOURNAL_MARKER) {
        jset(o, "producer_id", json_integer(e->producer_id));
        jset(o, "producer_epoch", json_integer(e->producer_epoch));
    }
    if (e->kind == MB_JOURNAL_APPEND || e->kind == MB_JOURNAL_TRUNCATE ||
        e->kind == MB_JOURNAL_MARKER)
        jset(o, "offset", json_integer(e->offset));
    if (e->kind == MB_JOURNAL_TRUNCATE)
        jset(o, "offset_before", json_integer(e->offset_before));
    if (e->bytes >= 0)
        jset(o, "bytes", json_integer(e->bytes));
    if (e->leader_epoch >= 0)
        jset(o, "leader_epoch", json_integer(e->leader_epoch));
    if (e->kind == MB_JOURNAL_LEADER) {
        jset(o, "from", json_integer(e->from));
        jset(o, "to", json_integer(e->to));
    }
    if (e->kind == MB_JOURNAL_ISR) {
        jset(o, "isr", jisr(e->isr));
        jset(o, "isr_before", jisr(e->isr_before));
    }
    return o;
}

static void render(struct kw_buf *b, const struct mb_journal_entry *e,
                   enum mb_journal_format format)
{
    if (format != MB_JOURNAL_JSONL) {
        text(b, e);
        return;
    }
    json_t *o = to_json(e);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s) {
        kw_put_raw(b, s, strlen(s));
        kw_put_raw(b, "\n", 1);
    } else {
        b->err = KW_ERR_NOMEM;
    }
    free(s);
    json_decref(o);
}

static void render_call(struct mb_cluster *c, void *arg)
{
    struct read_call *a = arg;
    const struct mb__journal *j = &c->journal;
    struct kw_buf b;
    kw_buf_init(&b);
    for (size_t i = first_after(j, a->after); i < j->n; i++)
        render(&b, &j->ring[(j->head + i) % j->cap], a->format);
    kw_put_raw(&b, "", 1);      /* the NUL */
    if (b.err) {
        kw_buf_release(&b);
        return;
    }
    a->text = (char *)b.data;
}

char *mb_journal_render(struct mb_cluster *c, uint64_t after_id, enum mb_journal_format format)
{
    struct read_call a = { .after = after_id, .format = format };
    mb__call(c, render_call, &a);
    return a.text;
}

int mb_journal_entry_render(const struct mb_journal_entry *e, enum mb_journal_format format,
                            char *buf, size_t size)
{
    struct kw_buf b;
    kw_buf_init(&b);
    render(&b, e, format);
    int n = b.err ? -1 : (int)b.len;
    if (size) {
        size_t k = b.err ? 0 : b.len < size - 1 ? b.len : size - 1;
        if (k)
            memcpy(buf, b.data, k);
        buf[k] = '\0';
    }
    kw_buf_release(&b);
    return n;
}
