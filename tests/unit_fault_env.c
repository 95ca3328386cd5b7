#include "tests/unit_fault_env.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/compress.h"
#include "lib/proto/apis.h"

bool fenv_start(struct fenv *e, int brokers, void (*tweak)(struct mb_config *cfg))
{
    memset(e, 0, sizeof(*e));
    e->base = event_base_new();
    e->v = kw_vclock_new(FENV_START_US);
    if (e->base == NULL || e->v == NULL) {
        fenv_stop(e);
        return false;
    }
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = brokers;
    cfg.seed = FENV_SEED;
    cfg.log_level = MB_LOG_ERROR;
    cfg.base = e->base;
    cfg.clock = kw_vclock_clock(e->v);
    if (tweak)
        tweak(&cfg);
    char err[256] = "";
    e->c = mb_cluster_new(&cfg, err, sizeof(err));
    if (e->c == NULL) {
        fprintf(stderr, "mb_cluster_new: %s\n", err);
        fenv_stop(e);
        return false;
    }
    return true;
}

void fenv_stop(struct fenv *e)
{
    mb_cluster_destroy(e->c);
    kw_vclock_destroy(e->v);
    if (e->base)
        event_base_free(e->base);
    memset(e, 0, sizeof(*e));
}

int fenv_connect(struct fenv *e, struct kc_conn *k, int broker)
{
    int rc = kc_connect(k, mb_broker_port(e->c, broker));
    k->pump = e->base;
    fenv_spin(e);               /* accepted now, so connection numbers follow connect order */
    return rc;
}

void fenv_spin(struct fenv *e)
{
    for (int i = 0; i < 8; i++)
        event_base_loop(e->base, EVLOOP_NONBLOCK);
}

int fenv_advance(struct fenv *e, int64_t ms)
{
    fenv_spin(e);
    int n = kw_vclock_advance(e->v, ms * 1000);
    fenv_spin(e);
    return n;
}

int fenv_topic(struct fenv *e, const char *topic, int partitions, int replication)
{
    char err[256] = "";
    int rc = mb_topic_create(e->c, topic, partitions, replication, err, sizeof(err));
    if (rc)
        fprintf(stderr, "mb_topic_create %s: %s\n", topic, err);
    return rc;
}

int32_t fenv_produce_send(struct kc_conn *k, int version, int acks, int32_t timeout_ms,
                          const char *topic, int32_t partition, int first, int n, int64_t pid,
                          int32_t seq)
{
    struct kw_buf b;
    kw_buf_init(&b);
    kc_batch(&b, KW_CODEC_NONE, pid, (int16_t)(pid >= 0 ? 0 : -1), pid >= 0 ? seq : -1, first, n,
             1700000000000);
    struct kw_produce_req_partition p = { .index = partition,
                                          .records = { b.data, (int32_t)b.len } };
    struct kw_produce_req_topic t = { .name = kw_str_c(topic), .n_partition_data = 1,
                                      .partition_data = &p };
    struct kw_produce_req req = { .transactional_id = KW_STR_NULL, .acks = (int16_t)acks,
                                  .timeout_ms = timeout_ms, .n_topic_data = 1, .topic_data = &t };
    int32_t id = b.err ? b.err : kc_send(k, KW_API_PRODUCE, version, &req);
    kw_buf_release(&b);
    return id;
}

int fenv_produce_recv(struct kc_conn *k, int version, int32_t id, int timeout_ms,
                      struct kw_produce_resp *resp, const struct kw_produce_resp_partition **out)
{
    int rc = kc_recv(k, KW_API_PRODUCE, version, id, resp, timeout_ms);
    if (rc != KW_OK)
        return rc;
    if (resp->n_responses != 1 || resp->responses[0].n_partition_responses != 1)
        return KW_ERR_CORRUPT;
    *out = &resp->responses[0].partition_responses[0];
    return KW_OK;
}

int fenv_produce(struct kc_conn *k, int version, int acks, const char *topic, int32_t partition,
                 int first, int n, int64_t *base_offset)
{
    int32_t id = fenv_produce_send(k, version, acks, 30000, topic, partition, first, n, -1, -1);
    if (id < 0)
        return id;
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    int rc = fenv_produce_recv(k, version, id, KC_WAIT_MS, &resp, &p);
    if (rc != KW_OK)
        return rc;
    if (base_offset)
        *base_offset = p->base_offset;
    return p->error_code;
}

static bool info(struct fenv *e, const char *topic, int partition, struct mb_partition_info *i)
{
    return mb_partition_info(e->c, topic, partition, i) == 0;
}

int64_t fenv_log_end(struct fenv *e, const char *topic, int partition)
{
    struct mb_partition_info i;
    return info(e, topic, partition, &i) ? i.log_end_offset : -1;
}

int64_t fenv_hw(struct fenv *e, const char *topic, int partition)
{
    struct mb_partition_info i;
    return info(e, topic, partition, &i) ? i.high_watermark : -1;
}

int fenv_leader(struct fenv *e, const char *topic, int partition)
{
    struct mb_partition_info i;
    return info(e, topic, partition, &i) ? i.leader : -1;
}

int fenv_isr(struct fenv *e, const char *topic, int partition)
{
    struct mb_partition_info i;
    return info(e, topic, partition, &i) ? i.n_isr : -1;
}

void fenv_values(struct fenv *e, const char *topic, int partition, char *out, size_t size)
{
    struct mb_records *r = mb_partition_records(e->c, topic, partition, 0, 0);
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; r && i < r->count && at + 1 < size; i++) {
        int n = snprintf(out + at, size - at, "%s%.*s", i ? "," : "",
                         (int)r->records[i].value_len, (const char *)r->records[i].value);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    mb_records_destroy(r);
}

void fenv_rule(struct mb_rule *r, const char *name, int api_key, enum mb_action_type type)
{
    mb_rule_init(r);
    r->name = name;
    r->match.api_key = api_key;
    r->action.type = type;
}

int fenv_add(struct fenv *e, const struct mb_rule *r)
{
    char err[256] = "";
    int rc = mb_rule_add(e->c, r, err, sizeof(err));
    if (rc)
        fprintf(stderr, "mb_rule_add %s: %s\n", r->name ? r->name : "(auto)", err);
    return rc;
}

int fenv_journal_count(struct fenv *e, enum mb_journal_kind kind, const char *what)
{
    struct mb_journal_entry batch[64];
    uint64_t after = 0;
    int n = 0;
    size_t got;
    while ((got = mb_journal_read(e->c, after, batch, 64)) > 0) {
        for (size_t i = 0; i < got; i++)
            if (batch[i].kind == kind && (what == NULL || (batch[i].what &&
                                                           strcmp(batch[i].what, what) == 0)))
                n++;
        after = batch[got - 1].id;
    }
    return n;
}
