/* Configuration: one table of properties with librdkafka's names, aliases, defaults and ranges.
 * Defaults are written as text and parsed like any value, so the table is the only place that
 * states them. */
#include "producer/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compress.h"

enum ptype { P_STR, P_INT, P_BOOL, P_ENUM, P_MS, P_DEBUG, P_U64, P_ACKS };

static const char *const codecs[] = { "none", "gzip", "snappy", "lz4", "zstd", NULL };
static const int codec_ids[] = { KW_CODEC_NONE, KW_CODEC_GZIP, KW_CODEC_SNAPPY, KW_CODEC_LZ4,
                                 KW_CODEC_ZSTD };
/* Order matches enum kp__partitioner. */
static const char *const partitioners[] = { "consistent_random", "consistent", "random",
                                            "murmur2", "murmur2_random", "fnv1a",
                                            "fnv1a_random", NULL };
/* librdkafka's debug contexts; the ones a consumer or admin client would use are accepted and
 * ignored, so a librdkafka debug string works unchanged. Order matches KP__DBG_* bits; the rest
 * map to KP__DBG_OTHER. */
static const char *const contexts[] = { "generic", "broker", "topic", "metadata", "feature",
                                        "queue", "msg", "protocol", "security", "eos", "conf",
                                        "cgrp", "fetch", "interceptor", "plugin", "consumer",
                                        "admin", "mock", "assignor", "all", NULL };

struct prop {
    const char *name;
    const char *alias;
    int type;
    size_t off;
    int64_t min, max;
    const char *def;
    const char *const *names;           /* P_ENUM */
};

#define V(m) offsetof(struct kp__conf, m)
static const struct prop props[] = {
    { "bootstrap.servers", "metadata.broker.list", P_STR, V(bootstrap), 0, 0, "", NULL },
    { "client.id", NULL, P_STR, V(client_id), 0, 0, "rdkafka", NULL },
    { "acks", "request.required.acks", P_ACKS, V(acks), -1, 1, "all", NULL },
    { "linger.ms", "queue.buffering.max.ms", P_MS, V(linger_us), 0, 900000, "5", NULL },
    { "batch.size", NULL, P_INT, V(batch_size), 1, INT32_MAX, "1000000", NULL },
    { "batch.num.messages", NULL, P_INT, V(batch_num), 1, 1000000, "10000", NULL },
    { "compression.type", "compression.codec", P_ENUM, V(codec), 0, 0, "none", codecs },
    { "compression.level", NULL, P_INT, V(level), -1, 22, "-1", NULL },
    { "enable.idempotence", NULL, P_BOOL, V(idempotence), 0, 1, "false", NULL },
    { "transactional.id", NULL, P_STR, V(transactional_id), 0, 0, "", NULL },
    { "transaction.timeout.ms", NULL, P_INT, V(txn_timeout_ms), 1000, INT32_MAX, "60000", NULL },
    { "retries", "message.send.max.retries", P_INT, V(retries), 0, INT32_MAX, "2147483647",
      NULL },
    { "retry.backoff.ms", NULL, P_INT, V(retry_backoff_ms), 1, 300000, "100", NULL },
    { "retry.backoff.max.ms", NULL, P_INT, V(retry_backoff_max_ms), 1, 300000, "1000", NULL },
    { "request.timeout.ms", NULL, P_INT, V(request_timeout_ms), 1, 900000, "30000", NULL },
    { "socket.timeout.ms", NULL, P_INT, V(socket_timeout_ms), 10, 300000, "60000", NULL },
    { "delivery.timeout.ms", "message.timeout.ms", P_INT, V(delivery_timeout_ms), 0, INT32_MAX,
      "300000", NULL },
    { "max.in.flight.requests.per.connection", "max.in.flight", P_INT, V(max_inflight), 1,
      1000000, "1000000", NULL },
    { "queue.buffering.max.messages", NULL, P_INT, V(queue_max_msgs), 0, INT32_MAX, "100000",
      NULL },
    { "queue.buffering.max.kbytes", NULL, P_INT, V(queue_max_kbytes), 1, INT32_MAX, "1048576",
      NULL },
    { "message.max.bytes", NULL, P_INT, V(message_max_bytes), 1000, 1000000000, "1000000",
      NULL },
    { "partitioner", NULL, P_ENUM, V(partitioner), 0, 0, "consistent_random", partitioners },
    { "sticky.partitioning.linger.ms", NULL, P_INT, V(sticky_linger_ms), 0, 900000, "10", NULL },
    { "debug", NULL, P_DEBUG, V(debug), 0, 0, "", contexts },
    { "metadata.max.age.ms", NULL, P_INT, V(metadata_max_age_ms), 1, 86400000, "900000", NULL },
    { "topic.metadata.refresh.interval.ms", NULL, P_INT, V(refresh_interval_ms), -1, 3600000,
      "300000", NULL },
    { "socket.connection.setup.timeout.ms", NULL, P_INT, V(setup_timeout_ms), 1000, INT32_MAX,
      "30000", NULL },
    { "reconnect.backoff.ms", NULL, P_INT, V(reconnect_backoff_ms), 0, 3600000, "100", NULL },
    { "reconnect.backoff.max.ms", NULL, P_INT, V(reconnect_backoff_max_ms), 0, 3600000, "10000",
      NULL },
    /* Ours: the seed of jitter and random partitioners (0: chosen at start, and logged). */
    { "kp.seed", NULL, P_U64, V(seed), 0, 0, "0", NULL },
};
#undef V
#define N_PROPS (sizeof(props) / sizeof(props[0]))

static const struct prop *find(const char *name)
{
    for (size_t i = 0; i < N_PROPS; i++)
        if (strcmp(props[i].name, name) == 0 ||
            (props[i].alias && strcmp(props[i].alias, name) == 0))
            return &props[i];
    return NULL;
}

static int invalid(const struct prop *pr, const char *value, char *errstr, size_t size,
                   const char *expected)
{
    if (size)
        snprintf(errstr, size,
                 "Invalid value \"%s\" for configuration property \"%s\": expected %s", value,
                 pr->name, expected);
    return KP_CONF_INVALID;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int list_names(const char *const *names, char *dst, size_t size)
{
    size_t n = 0;
    dst[0] = '\0';
    for (int i = 0; names[i]; i++) {
        int w = snprintf(dst + n, size - n, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= size - n)
            return -1;
        n += (size_t)w;
    }
    return 0;
}

/* Parses value for pr into the conf's field. */
static int apply(struct kp_conf *c, const struct prop *pr, const char *value, char *errstr,
                 size_t size)
{
    void *field = (char *)&c->v + pr->off;
    char expected[512];
    int64_t iv;

    switch (pr->type) {
    case P_STR: {
        char *s = strdup(value);
        if (s == NULL) {
            if (size)
                snprintf(errstr, size, "out of memory");
            return KP_CONF_INVALID;
        }
        free(*(char **)field);
        *(char **)field = s;
        return KP_CONF_OK;
    }
    case P_INT:
        if (parse_int(value, &iv) != 0 || iv < pr->min || iv > pr->max) {
            snprintf(expected, sizeof(expected), "an integer from %" PRId64 " to %" PRId64,
                     pr->min, pr->max);
            return invalid(pr, value, errstr, size, expected);
        }
        *(int32_t *)field = (int32_t)iv;
        return KP_CONF_OK;
    case P_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(value, &end, 0);
        if (errno || end == value || *end != '\0' || value[0] == '-')
            return invalid(pr, value, errstr, size, "an unsigned 64-bit integer (0: random)");
        *(uint64_t *)field = u;
        return KP_CONF_OK;
    }
    case P_MS: {
        /* librdkafka takes fractions of a millisecond here (linger.ms=0.5). */
        char *end;
        errno = 0;
        double d = strtod(value, &end);
        if (errno || end == value || *end != '\0' || !(d >= (double)pr->min) ||
            d > (double)pr->max) {
            snprintf(expected, sizeof(expected), "a number of milliseconds from %" PRId64
                     " to %" PRId64, pr->min, pr->max);
            return invalid(pr, value, errstr, size, expected);
        }
        *(int64_t *)field = (int64_t)(d * 1000.0 + 0.5);
        return KP_CONF_OK;
    }
    case P_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
            *(bool *)field = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
            *(bool *)field = false;
        else
            return invalid(pr, value, errstr, size, "true or false");
        return KP_CONF_OK;
    case P_ACKS:
        if (strcmp(value, "all") == 0)
            iv = -1;
        else if (parse_int(value, &iv) != 0 || iv < -1 || iv > 1)
            return invalid(pr, value, errstr, size, "one of all, -1, 0, 1");
        *(int *)field = (int)iv;
        return KP_CONF_OK;
    case P_ENUM:
        for (int i = 0; pr->names[i]; i++) {
            if (strcmp(pr->names[i], value) == 0) {
                *(int *)field = pr->names == codecs ? codec_ids[i] : i;
                return KP_CONF_OK;
            }
        }
        list_names(pr->names, expected + 7, sizeof(expected) - 7);
        memcpy(expected, "one of ", 7);
        return invalid(pr, value, errstr, size, expected);
    case P_DEBUG: {
        uint32_t mask = 0;
        const char *s = value;
        while (*s) {
            size_t n = strcspn(s, ",");
            while (n && s[0] == ' ')
                s++, n--;
            size_t m = n;
            while (m && s[m - 1] == ' ')
                m--;
            int found = -1;
            for (int i = 0; m && pr->names[i]; i++)
                if (strlen(pr->names[i]) == m && strncmp(pr->names[i], s, m) == 0)
                    found = i;
            if (m && found < 0) {
                memcpy(expected, "a comma-separated list of ", 26);
                list_names(pr->names, expected + 26, sizeof(expected) - 26);
                return invalid(pr, value, errstr, size, expected);
            }
            if (m) {
                if (strcmp(pr->names[found], "all") == 0)
                    mask = UINT32_MAX;
                else if (found <= 10)
                    mask |= 1u << found;
                else
                    mask |= KP__DBG_OTHER;
            }
            s += n;
            if (*s == ',')
                s++;
        }
        *(uint32_t *)field = mask;
        return KP_CONF_OK;
    }
    }
    return KP_CONF_INVALID;
}

struct kp_conf *kp_conf_new(void)
{
    struct kp_conf *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < N_PROPS; i++) {
        if (apply(c, &props[i], props[i].def, NULL, 0) != KP_CONF_OK) {
            kp_conf_destroy(c);
            return NULL;
        }
    }
    return c;
}

void kp__conf_release(struct kp_conf *c)
{
    free(c->v.bootstrap);
    free(c->v.client_id);
    free(c->v.transactional_id);
    c->v.bootstrap = c->v.client_id = c->v.transactional_id = NULL;
}

void kp_conf_destroy(struct kp_conf *c)
{
    if (c == NULL)
        return;
    kp__conf_release(c);
    free(c);
}

int kp__conf_copy(struct kp_conf *dst, const struct kp_conf *src)
{
    *dst = *src;
    dst->v.bootstrap = strdup(src->v.bootstrap ? src->v.bootstrap : "");
    dst->v.client_id = strdup(src->v.client_id ? src->v.client_id : "");
    dst->v.transactional_id = strdup(src->v.transactional_id ? src->v.transactional_id : "");
    if (dst->v.bootstrap == NULL || dst->v.client_id == NULL || dst->v.transactional_id == NULL) {
        kp__conf_release(dst);
        return -1;
    }
    return 0;
}

struct kp_conf *kp_conf_dup(const struct kp_conf *conf)
{
    struct kp_conf *c = malloc(sizeof(*c));
    if (c == NULL)
        return NULL;
    if (kp__conf_copy(c, conf) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

int kp_conf_set(struct kp_conf *conf, const char *name, const char *value, char *errstr,
                size_t errstr_size)
{
    const struct prop *pr = name ? find(name) : NULL;
    if (pr == NULL) {
        if (errstr_size)
            snprintf(errstr, errstr_size, "No such configuration property: \"%s\"",
                     name ? name : "(null)");
        return KP_CONF_UNKNOWN;
    }
    if (value == NULL) {
        if (errstr_size)
            snprintf(errstr, errstr_size, "Configuration property \"%s\" needs a value",
                     pr->name);
        return KP_CONF_INVALID;
    }
    int rc = apply(conf, pr, value, errstr, errstr_size);
    if (rc == KP_CONF_OK)
        conf->set |= UINT64_C(1) << (pr - props);
    return rc;
}

int kp_conf_get(const struct kp_conf *conf, const char *name, char *dst, size_t size)
{
    const struct prop *pr = name ? find(name) : NULL;
    if (pr == NULL)
        return KP_CONF_UNKNOWN;
    const void *field = (const char *)&conf->v + pr->off;
    char tmp[512] = "";
    switch (pr->type) {
    case P_STR:
        snprintf(tmp, sizeof(tmp), "%s", *(char *const *)field ? *(char *const *)field : "");
        break;
    case P_INT:
        snprintf(tmp, sizeof(tmp), "%" PRId32, *(const int32_t *)field);
        break;
    case P_U64:
        snprintf(tmp, sizeof(tmp), "%" PRIu64, *(const uint64_t *)field);
        break;
    case P_MS:
        snprintf(tmp, sizeof(tmp), "%g", (double)*(const int64_t *)field / 1000.0);
        break;
    case P_BOOL:
        snprintf(tmp, sizeof(tmp), "%s", *(const bool *)field ? "true" : "false");
        break;
    case P_ACKS:
        snprintf(tmp, sizeof(tmp), "%d", *(const int *)field);
        break;
    case P_ENUM:
        for (int i = 0; pr->names[i]; i++)
            if ((pr->names == codecs ? codec_ids[i] : i) == *(const int *)field)
                snprintf(tmp, sizeof(tmp), "%s", pr->names[i]);
        break;
    case P_DEBUG: {
        uint32_t mask = *(const uint32_t *)field;
        size_t n = 0;
        for (int i = 0; i <= 10 && n < sizeof(tmp); i++)
            if (mask & (1u << i))
                n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%s%s", n ? "," : "",
                                      pr->names[i]);
        break;
    }
    }
    if (size)
        snprintf(dst, size, "%s", tmp);
    return KP_CONF_OK;
}

bool kp__conf_is_set(const struct kp_conf *c, const char *name)
{
    const struct prop *pr = find(name);
    return pr && (c->set & (UINT64_C(1) << (pr - props)));
}

void kp_conf_set_dr_cb(struct kp_conf *conf, kp_dr_cb cb) { conf->dr_cb = cb; }
void kp_conf_set_error_cb(struct kp_conf *conf, kp_error_cb cb) { conf->error_cb = cb; }
void kp_conf_set_log_cb(struct kp_conf *conf, kp_log_cb cb) { conf->log_cb = cb; }
void kp_conf_set_opaque(struct kp_conf *conf, void *opaque) { conf->opaque = opaque; }
void kp_conf_set_trace_cb(struct kp_conf *conf, kp_trace_cb cb) { conf->trace_cb = cb; }

void kp_conf_set_event_base(struct kp_conf *conf, struct event_base *base, struct kw_clock *clock)
{
    conf->base = base;
    conf->clock = clock;
}

int kp__conf_finalize(struct kp_conf *c, char *errstr, size_t size)
{
    struct kp__conf *v = &c->v;
    if (v->bootstrap == NULL || v->bootstrap[0] == '\0') {
        snprintf(errstr, size, "\"bootstrap.servers\" must be set (host:port[,host:port...])");
        return -1;
    }
    if (v->transactional_id[0]) {
        /* librdkafka's rules: transactions ride on idempotence, a request must be able to go
         * out and come back within a transaction, and so must a message. */
        if (!v->idempotence && kp__conf_is_set(c, "enable.idempotence")) {
            snprintf(errstr, size, "\"transactional.id\" requires \"enable.idempotence\" "
                                   "to be true");
            return -1;
        }
        v->idempotence = true;
        int32_t req_max = v->txn_timeout_ms - 100 > 900 ? v->txn_timeout_ms - 100 : 900;
        if (!kp__conf_is_set(c, "socket.timeout.ms")) {
            if (v->socket_timeout_ms > req_max)
                v->socket_timeout_ms = req_max;
        } else if ((int64_t)v->txn_timeout_ms + 100 < v->socket_timeout_ms) {
            snprintf(errstr, size, "\"socket.timeout.ms\" must be set <= "
                                   "\"transaction.timeout.ms\" + 100");
            return -1;
        }
        if (!kp__conf_is_set(c, "delivery.timeout.ms")) {
            v->delivery_timeout_ms = v->txn_timeout_ms;
        } else if (v->delivery_timeout_ms == 0 ||
                   v->delivery_timeout_ms > v->txn_timeout_ms) {
            snprintf(errstr, size, "\"delivery.timeout.ms\" must be set <= "
                                   "\"transaction.timeout.ms\"");
            return -1;
        }
    }
    if (v->idempotence) {
        /* librdkafka's rules: what idempotence needs is implied, and refused if set against. */
        if (kp__conf_is_set(c, "acks") && v->acks != -1) {
            snprintf(errstr, size, "\"acks\" must be set to \"all\" when "
                                   "\"enable.idempotence\" is true");
            return -1;
        }
        if (kp__conf_is_set(c, "retries") && v->retries == 0) {
            snprintf(errstr, size, "\"retries\" must not be zero when \"enable.idempotence\" "
                                   "is true");
            return -1;
        }
        if (kp__conf_is_set(c, "max.in.flight.requests.per.connection") && v->max_inflight > 5) {
            snprintf(errstr, size, "\"max.in.flight.requests.per.connection\" must be set <= 5 "
                                   "when \"enable.idempotence\" is true");
            return -1;
        }
        v->acks = -1;
        if (v->max_inflight > 5)
            v->max_inflight = 5;
    }
    /* A message must be able to outlive its batch's linger, or none could ever be sent. */
    if (v->delivery_timeout_ms != 0 && (int64_t)v->delivery_timeout_ms * 1000 <= v->linger_us) {
        snprintf(errstr, size, "\"message.timeout.ms\" must be greater than \"linger.ms\"");
        return -1;
    }
    if (v->retry_backoff_max_ms < v->retry_backoff_ms) {
        snprintf(errstr, size, "\"retry.backoff.max.ms\" (%d) must be >= \"retry.backoff.ms\" "
                               "(%d)", v->retry_backoff_max_ms, v->retry_backoff_ms);
        return -1;
    }
    if (v->reconnect_backoff_max_ms < v->reconnect_backoff_ms) {
        snprintf(errstr, size, "\"reconnect.backoff.max.ms\" (%d) must be >= "
                               "\"reconnect.backoff.ms\" (%d)", v->reconnect_backoff_max_ms,
                 v->reconnect_backoff_ms);
        return -1;
    }
    int lo = -1, hi = -1;
    switch (v->codec) {
    case KW_CODEC_GZIP: lo = 0; hi = 9; break;
    case KW_CODEC_LZ4: lo = 0; hi = 12; break;
    case KW_CODEC_ZSTD: lo = 1; hi = 22; break;
    default: break;
    }
    if (v->level != -1 && lo >= 0 && (v->level < lo || v->level > hi)) {
        snprintf(errstr, size, "\"compression.level\" %d is out of range for %s: expected -1 "
                               "(the codec's default) or %d to %d", v->level,
                 kw_codec_name(v->codec), lo, hi);
        return -1;
    }
    return 0;
}
