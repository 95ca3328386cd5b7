/* The journal: what it records for requests, appends, responses, faults and state changes, its
 * cap, its renderings (text and JSON lines, read back with jansson), and that a run under the
 * virtual clock journals byte for byte the same thing twice. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "lib/proto/metadata.h"
#include "tests/unit_fault_env.h"

/* All entries, oldest first; *n gets the count. Free with free(). */
static struct mb_journal_entry *all(struct fenv *e, size_t *n)
{
    struct mb_journal_stats st;
    mb_journal_stats(e->c, &st);
    struct mb_journal_entry *v = calloc(st.held + 1, sizeof(*v));
    *n = v ? mb_journal_read(e->c, 0, v, st.held) : 0;
    return v;
}

static const struct mb_journal_entry *find(const struct mb_journal_entry *v, size_t n,
                                           enum mb_journal_kind kind, size_t nth)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == kind && nth-- == 0)
            return &v[i];
    return NULL;
}

static void test_a_produce_is_journaled_as_request_append_and_response(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 1, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 1), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 2, NULL), 0);
    int32_t id = fenv_produce_send(&k, 9, -1, 1500, "t", 0, 2, 3, 1000, 0);
    CU_ASSERT_EQUAL_FATAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    size_t n;
    struct mb_journal_entry *v = all(&e, &n);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    const struct mb_journal_entry *rq = find(v, n, MB_JOURNAL_REQUEST, 1);
    const struct mb_journal_entry *ap = find(v, n, MB_JOURNAL_APPEND, 1);
    const struct mb_journal_entry *rs = find(v, n, MB_JOURNAL_RESPONSE, 1);
    CU_ASSERT_FATAL(rq && ap && rs && rq->id < ap->id && ap->id < rs->id);
    CU_ASSERT_EQUAL(v[0].id, 1);
    CU_ASSERT_EQUAL(rq->time_us, FENV_START_US);
    CU_ASSERT(rq->broker == 1 && rq->conn == 1 && rq->request == 2 && rq->correlation_id == id);
    CU_ASSERT(rq->api_key == KW_API_PRODUCE && rq->api_version == 9);
    CU_ASSERT(rq->client_id && strcmp(rq->client_id, "kwtest") == 0);
    CU_ASSERT(rq->acks == -1 && rq->timeout_ms == 1500 && rq->partitions == 1 && rq->bytes > 0);
    CU_ASSERT(ap->topic && strcmp(ap->topic, "t") == 0 && ap->partition == 0);
    CU_ASSERT(ap->records == 3 && ap->offset == 2 && ap->error_code == 0 && ap->bytes > 0);
    CU_ASSERT(ap->producer_id == 1000 && ap->producer_epoch == 0 && ap->base_sequence == 0);
    CU_ASSERT(ap->request == 2 && ap->correlation_id == id);
    CU_ASSERT(rs->what && strcmp(rs->what, "sent") == 0);
    CU_ASSERT(rs->error_code == 0 && rs->bytes > 0 && rs->request == 2);
    /* Strings are interned: the same pointer every time. */
    CU_ASSERT_PTR_EQUAL(find(v, n, MB_JOURNAL_REQUEST, 0)->client_id, rq->client_id);
    CU_ASSERT_PTR_EQUAL(find(v, n, MB_JOURNAL_APPEND, 0)->topic, ap->topic);
    free(v);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_faults_and_state_changes_are_journaled(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 3, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 3), 0);
    struct mb_partition_info i;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "t", 0, &i), 0);
    struct mb_rule r;
    fenv_rule(&r, "nope", KW_API_PRODUCE, MB_ACTION_ERROR);
    r.action.error_code = KW_EC_NOT_ENOUGH_REPLICAS;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    CU_ASSERT_EQUAL(mb_follower_set(e.c, "t", 0, i.replicas[1], MB_FOLLOWER_STOPPED, 0, 0, NULL,
                                    0), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, i.leader), 0);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 1, NULL), KW_EC_NOT_ENOUGH_REPLICAS);
    CU_ASSERT_EQUAL(fenv_produce(&k, 9, 1, "t", 0, 0, 4, NULL), 0);
    kc_close(&k);
    fenv_advance(&e, 250);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, i.leader, NULL, 0), 0);
    size_t n;
    struct mb_journal_entry *v = all(&e, &n);
    const struct mb_journal_entry *f = find(v, n, MB_JOURNAL_FAULT, 0);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(f->rule && strcmp(f->rule, "nope") == 0 && strcmp(f->what, "error") == 0);
    CU_ASSERT(f->error_code == KW_EC_NOT_ENOUGH_REPLICAS && f->request == 1);
    const struct mb_journal_entry *a = find(v, n, MB_JOURNAL_APPEND, 0);
    CU_ASSERT(a && a->error_code == KW_EC_NOT_ENOUGH_REPLICAS && a->offset == -1);
    const struct mb_journal_entry *b = find(v, n, MB_JOURNAL_BROKER, 0);
    CU_ASSERT(b && b->broker == i.leader && strcmp(b->what, "down") == 0);
    CU_ASSERT(b && b->time_us == FENV_START_US + 250000);
    const struct mb_journal_entry *t = find(v, n, MB_JOURNAL_TRUNCATE, 0);
    CU_ASSERT(t && t->offset_before == 4 && t->offset == 0 && strcmp(t->topic, "t") == 0);
    const struct mb_journal_entry *l = find(v, n, MB_JOURNAL_LEADER, 0);
    CU_ASSERT(l && l->from == i.leader && l->to == i.replicas[1] && l->leader_epoch == 1);
    CU_ASSERT(l && strcmp(l->what, "election") == 0);
    const struct mb_journal_entry *s = find(v, n, MB_JOURNAL_ISR, 0);
    uint64_t full = (1ULL << (i.replicas[0] - 1)) | (1ULL << (i.replicas[1] - 1)) |
                    (1ULL << (i.replicas[2] - 1));
    CU_ASSERT(s && s->isr_before == full && s->isr == (full & ~(1ULL << (i.leader - 1))));
    /* Causes come before their effects. */
    CU_ASSERT(b && t && l && b->id < t->id && t->id < l->id);
    free(v);
    fenv_stop(&e);
}

static void small_journal(struct mb_config *cfg)
{
    cfg->journal_max = 10;
}

static void test_the_journal_keeps_its_cap_and_counts_what_it_dropped(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 1, small_journal));
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, 1), 0);
    struct kw_metadata_req md = { .n_topics = 0 };
    struct kw_metadata_resp m;
    for (int i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(kc_call(&k, KW_API_METADATA, 9, &md, &m), KW_OK);
    struct mb_journal_stats st;
    mb_journal_stats(e.c, &st);
    CU_ASSERT(st.total == 40 && st.held == 10 && st.max == 10 && st.dropped == 30);
    CU_ASSERT_EQUAL(st.dropped_by_kind[MB_JOURNAL_REQUEST], 15);
    CU_ASSERT_EQUAL(st.dropped_by_kind[MB_JOURNAL_RESPONSE], 15);
    struct mb_journal_entry v[16];
    CU_ASSERT_EQUAL(mb_journal_read(e.c, 0, v, 16), 10);
    CU_ASSERT(v[0].id == 31 && v[9].id == 40);
    CU_ASSERT_EQUAL(mb_journal_read(e.c, 35, v, 16), 5);
    CU_ASSERT_EQUAL(v[0].id, 36);
    CU_ASSERT_EQUAL(mb_journal_read(e.c, 40, v, 16), 0);
    CU_ASSERT_EQUAL(mb_journal_read(e.c, 0, v, 3), 3);
    mb_journal_clear(e.c);
    mb_journal_stats(e.c, &st);
    CU_ASSERT(st.held == 0 && st.dropped == 40 && st.total == 40);
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_METADATA, 9, &md, &m), KW_OK);
    CU_ASSERT(mb_journal_read(e.c, 0, v, 16) == 2 && v[0].id == 41);
    kc_close(&k);
    fenv_stop(&e);
}

static void test_json_lines_carry_the_documented_keys_and_text_reads_well(void)
{
    struct fenv e;
    CU_ASSERT_FATAL(fenv_start(&e, 2, NULL));
    CU_ASSERT_EQUAL(fenv_topic(&e, "t", 1, 2), 0);
    int leader = 0;
    struct mb_partition_info i;
    CU_ASSERT_EQUAL_FATAL(mb_partition_info(e.c, "t", 0, &i), 0);
    leader = i.leader;
    struct mb_rule r;
    fenv_rule(&r, "slow", KW_API_PRODUCE, MB_ACTION_DELAY);
    r.action.when = MB_AFTER_APPLY;
    r.action.duration_ms = 5;
    CU_ASSERT_EQUAL(fenv_add(&e, &r), 0);
    struct kc_conn k;
    CU_ASSERT_EQUAL(fenv_connect(&e, &k, leader), 0);
    int32_t id = fenv_produce_send(&k, 9, -1, 5000, "t", 0, 0, 2, -1, -1);
    fenv_advance(&e, 5);
    struct kw_produce_resp resp;
    const struct kw_produce_resp_partition *p;
    CU_ASSERT_EQUAL(fenv_produce_recv(&k, 9, id, KC_WAIT_MS, &resp, &p), KW_OK);
    kc_close(&k);
    CU_ASSERT_EQUAL(mb_broker_down(e.c, leader, NULL, 0), 0);

    char *jl = mb_journal_render(e.c, 0, MB_JOURNAL_JSONL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jl);
    int lines = 0, kinds = 0;
    for (char *line = strtok(jl, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        lines++;
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "id")), lines);
        const char *kind = json_string_value(json_object_get(o, "kind"));
        CU_ASSERT_FATAL(kind != NULL);
        CU_ASSERT(mb_journal_kind_parse(kind) >= 0);
        if (strcmp(kind, "request") == 0) {
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "api")), "Produce");
            CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "acks")), -1);
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "client_id")), "kwtest");
            kinds |= 1;
        } else if (strcmp(kind, "fault") == 0) {
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "rule")), "slow");
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "what")), "delay");
            kinds |= 2;
        } else if (strcmp(kind, "response") == 0) {
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "error")), "NONE");
            CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "time_us")),
                            FENV_START_US + 5000);
            kinds |= 4;
        } else if (strcmp(kind, "isr") == 0) {
            json_t *isr = json_object_get(o, "isr");
            CU_ASSERT(json_is_array(isr) && json_array_size(isr) == 1);
            CU_ASSERT_EQUAL(json_array_size(json_object_get(o, "isr_before")), 2);
            kinds |= 8;
        } else if (strcmp(kind, "leader") == 0) {
            CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "from")), leader);
            CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "leader_epoch")), 1);
            kinds |= 16;
        }
        json_decref(o);
    }
    CU_ASSERT_EQUAL(kinds, 31);
    free(jl);

    char *text = mb_journal_render(e.c, 0, MB_JOURNAL_TEXT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "request  b"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Produce v9 corr 1 client \"kwtest\" acks -1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "rule \"slow\" delay"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "t-0 records 2"));
    free(text);
    /* One entry into a small buffer: truncated, NUL-terminated, the full length returned. */
    struct mb_journal_entry one;
    CU_ASSERT_EQUAL(mb_journal_read(e.c, 0, &one, 1), 1);
    char small[16];
    int need = mb_journal_entry_render(&one, MB_JOURNAL_JSONL, small, sizeof(small));
    CU_ASSERT(need > 16 && strlen(small) == 15 && small[0] == '{');
    fenv_stop(&e);
}

/* A scenario with rules, lag, a failover and timeouts; returns its journal as JSON lines. */
static char *scenario(void)
{
    struct fenv e;
    char *out = NULL;
    if (!fenv_start(&e, 3, NULL))
        return NULL;
    fenv_topic(&e, "s", 2, 3);
    struct mb_partition_info i;
    mb_partition_info(e.c, "s", 0, &i);
    struct mb_rule r;
    fenv_rule(&r, "slow", KW_API_PRODUCE, MB_ACTION_DELAY);
    r.action.when = MB_AFTER_APPLY;
    r.action.duration_ms = 30;
    r.match.nth = 2;
    fenv_add(&e, &r);
    fenv_rule(&r, "flip", KW_API_METADATA, MB_ACTION_CORRUPT_RESPONSE);
    fenv_add(&e, &r);
    mb_follower_set(e.c, "s", 0, i.replicas[1], MB_FOLLOWER_DELAY, 40, 0, NULL, 0);
    mb_follower_set(e.c, "s", 0, i.replicas[2], MB_FOLLOWER_STOPPED, 0, 0, NULL, 0);
    struct kc_conn k;
    fenv_connect(&e, &k, i.leader);
    for (int b = 0; b < 4; b++) {
        int32_t id = fenv_produce_send(&k, 9, b % 2 ? 1 : -1, 100, "s", 0, b, 1, 9000, b);
        struct kw_produce_resp resp;
        const struct kw_produce_resp_partition *p;
        while (fenv_produce_recv(&k, 9, id, 2, &resp, &p) == KC_TIMEOUT)
            fenv_advance(&e, 10);
    }
    struct kw_metadata_req md = { .n_topics = 0 };
    kc_send(&k, KW_API_METADATA, 9, &md);
    const uint8_t *frame;
    size_t len;
    kc_read_frame(&k, KC_WAIT_MS, &frame, &len);
    kc_close(&k);
    fenv_advance(&e, 1000);
    mb_broker_down(e.c, i.leader, NULL, 0);
    fenv_advance(&e, 31000);
    mb_broker_up(e.c, i.leader, NULL, 0);
    out = mb_journal_render(e.c, 0, MB_JOURNAL_JSONL);
    fenv_stop(&e);
    return out;
}

static void test_the_same_requests_twice_give_byte_identical_journals(void)
{
    char *a = scenario();
    char *b = scenario();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b);
    /* And it is a journal with substance: faults, lag-driven waits, elections, expiry. */
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"what\":\"corrupted\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"what\":\"delay\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"kind\":\"leader\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"what\":\"shrink\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"what\":\"up\""));
    size_t lines = 0;
    for (const char *p = a; *p; p++)
        lines += *p == '\n';
    CU_ASSERT(lines > 20);
    free(a);
    free(b);
}

CU_TestInfo kwt_journal_tests[] = {
    { "A Produce is journaled as request, append and response",
      test_a_produce_is_journaled_as_request_append_and_response },
    { "Faults and state changes are journaled", test_faults_and_state_changes_are_journaled },
    { "The journal keeps its cap and counts what it dropped",
      test_the_journal_keeps_its_cap_and_counts_what_it_dropped },
    { "JSON lines carry the documented keys, and text reads well",
      test_json_lines_carry_the_documented_keys_and_text_reads_well },
    { "The same requests twice give byte-identical journals",
      test_the_same_requests_twice_give_byte_identical_journals },
    CU_TEST_INFO_NULL,
};
