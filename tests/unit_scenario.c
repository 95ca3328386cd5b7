/* Scenario files: every fixture loads and applies; hostile files are refused with the path of
 * what is wrong; rules come back as the JSON they were written in; workload messages are
 * reproducible and the tally of a log counts duplicates and gaps. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "mockbroker/mockbroker.h"
#include "tests/fx.h"
#include "tests/kclient.h"

static struct mb_scenario *parse(const char *json, char *err, size_t size)
{
    err[0] = '\0';
    return mb_scenario_parse(json, strlen(json), NULL, err, size);
}

/* A cluster on its own thread, set up as the scenario says. */
static struct mb_cluster *cluster_for(const struct mb_scenario *s)
{
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.port = 0;
    cfg.log_level = MB_LOG_ERROR;
    mb_scenario_config(s, &cfg);
    char err[256];
    struct mb_cluster *c = mb_cluster_new(&cfg, err, sizeof(err));
    if (c == NULL)
        fprintf(stderr, "mb_cluster_new: %s\n", err);
    return c;
}

static void check_fixture(const char *path)
{
    char err[512] = "";
    struct mb_scenario *s = mb_scenario_load(path, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    if (s == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    /* Each fixture says what it proves. */
    CU_ASSERT(s->description && strlen(s->description) > 20);
    CU_ASSERT(s->seed != 0);
    struct mb_cluster *c = cluster_for(s);
    CU_ASSERT_PTR_NOT_NULL(c);
    if (c) {
        CU_ASSERT_EQUAL(mb_cluster_seed(c), s->seed);
        int rc = mb_scenario_apply(c, s, err, sizeof(err));
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "%s: %s\n", path, err);
        for (int i = 0; i < s->n_topics; i++) {
            struct mb_partition_info pi;
            for (int p = 0; p < s->topics[i].partitions; p++)
                CU_ASSERT_EQUAL(mb_partition_info(c, s->topics[i].name, p, &pi), 0);
            CU_ASSERT_NOT_EQUAL(mb_partition_info(c, s->topics[i].name, s->topics[i].partitions,
                                                  &pi), 0);
        }
        CU_ASSERT_EQUAL(mb_rule_count(c), s->n_rules);
        for (int i = 0; i < s->n_rules; i++) {
            struct mb_rule_stats st;
            CU_ASSERT(s->rules[i].name && mb_rule_stats(c, s->rules[i].name, &st) == 0);
            CU_ASSERT_EQUAL(st.fired, 0);
        }
        if (s->workload) {
            struct mb_partition_info pi;
            CU_ASSERT_EQUAL(mb_partition_info(c, s->workload->topic, 0, &pi), 0);
            CU_ASSERT(s->workload->messages > 0 && s->workload->n_config > 0);
        }
        mb_cluster_destroy(c);
    }
    mb_scenario_destroy(s);
}

static void test_every_fixture_loads_applies_and_installs_its_topics_and_rules(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/scenarios", fx_dir());
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        check_fixture(path);
        n++;
    }
    closedir(d);
    CU_ASSERT(n >= 9);
}

static void test_a_full_scenario_fills_every_struct(void)
{
    char err[512];
    struct mb_scenario *s = parse(
        "{\"$schema\": \"../../docs/scenario.schema.json\", \"description\": \"d\", \"seed\": 9,"
        " \"brokers\": 3, \"cluster\": {\"auto_create\": false, \"default_partitions\": 4,"
        " \"replica_lag_time_max_ms\": 500, \"unclean_leader_election\": true,"
        " \"cluster_id\": \"abc\"},"
        " \"topics\": [{\"name\": \"t\", \"partitions\": 2, \"replication\": 3,"
        "   \"configs\": {\"min.insync.replicas\": 2, \"unclean.leader.election.enable\": true,"
        "   \"message.timestamp.type\": \"LogAppendTime\"}}],"
        " \"actions\": [{\"type\": \"follower\", \"broker\": 2, \"mode\": \"delay\","
        "   \"lag_ms\": 20}],"
        " \"rules\": [{\"name\": \"r\", \"match\": {\"broker\": \"any\", \"api_key\": \"Produce\","
        "   \"min_version\": 3, \"topic\": \"t\", \"partition\": 1, \"nth\": 2},"
        "   \"action\": {\"type\": \"error\", \"error_code\": \"NOT_LEADER_OR_FOLLOWER\","
        "   \"when\": \"after_apply\", \"record_errors\": [0, 2]}, \"count\": \"always\"},"
        "  {\"action\": {\"type\": \"error\", \"error_code\": 6}},"
        "  {\"match\": {\"api_key\": \"init_producer_id\"}, \"action\": {\"type\": \"none\"}}],"
        " \"workload\": {\"topic\": \"t\", \"messages\": 5, \"key_size\": 12, \"value_size\": 40,"
        "   \"config\": {\"acks\": \"all\", \"linger.ms\": 5, \"enable.idempotence\": true},"
        "   \"expect\": {\"duplicates\": 0, \"missing\": {\"max\": 2}, \"in_order\": true}}}",
        err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->description, "d");
    CU_ASSERT_STRING_EQUAL(s->origin, "<string>");
    CU_ASSERT(s->seed == 9 && s->brokers == 3);
    CU_ASSERT(s->n_topics == 1 && s->topics[0].partitions == 2 && s->topics[0].n_configs == 3);
    CU_ASSERT_STRING_EQUAL(s->topics[0].configs[0].value, "2");       /* numbers become text */
    CU_ASSERT_STRING_EQUAL(s->topics[0].configs[1].value, "true");
    CU_ASSERT(s->n_actions == 1 && s->actions[0].type == MB_ACTION_FOLLOWER &&
              s->actions[0].mode == MB_FOLLOWER_DELAY && s->actions[0].lag_ms == 20 &&
              s->actions[0].topic == NULL && s->actions[0].partition == MB_ANY);
    CU_ASSERT_EQUAL(s->n_rules, 3);
    const struct mb_rule *r = &s->rules[0];
    CU_ASSERT(r->match.api_key == KW_API_PRODUCE && r->match.broker == MB_ANY &&
              r->match.min_version == 3 && r->match.max_version == MB_ANY &&
              r->match.partition == 1 && r->match.nth == 2);
    CU_ASSERT(r->action.error_code == KW_EC_NOT_LEADER_OR_FOLLOWER &&
              r->action.when == MB_AFTER_APPLY && r->action.n_record_errors == 2 &&
              r->action.record_errors[1] == 2 && r->count == MB_ALWAYS);
    CU_ASSERT(s->rules[1].name == NULL && s->rules[1].action.error_code == 6 &&
              s->rules[1].count == 1 && s->rules[1].match.nth == 1);
    CU_ASSERT_EQUAL(s->rules[2].match.api_key, KW_API_INIT_PRODUCER_ID);
    const struct mb_workload *w = s->workload;
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT(w->messages == 5 && w->key_size == 12 && w->value_size == 40 && w->seed == 9 &&
              w->partition == MB_ANY && w->timeout_ms == 30000 && w->n_config == 3);
    CU_ASSERT(w->expect.duplicates.set && w->expect.duplicates.max == 0);
    CU_ASSERT(w->expect.missing.set && w->expect.missing.min == 0 && w->expect.missing.max == 2);
    CU_ASSERT(!w->expect.delivered.set && w->expect.in_order);

    struct mb_config cfg;
    mb_config_init(&cfg);
    int journal_max = (int)cfg.journal_max;
    mb_scenario_config(s, &cfg);
    CU_ASSERT(cfg.brokers == 3 && cfg.seed == 9 && !cfg.auto_create &&
              cfg.default_partitions == 4 && cfg.replica_lag_time_max_ms == 500 &&
              cfg.unclean_leader_election && strcmp(cfg.cluster_id, "abc") == 0);
    CU_ASSERT_EQUAL((int)cfg.journal_max, journal_max);     /* what it does not give stays */

    struct mb_cluster *c = cluster_for(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_scenario_apply(c, s, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(mb_rule_count(c), 3);
    struct mb_rule got;
    char strings[MB_RULE_STRINGS];
    CU_ASSERT_EQUAL(mb_rule_get(c, 1, &got, strings, NULL), 0);
    CU_ASSERT(got.name && strncmp(got.name, "rule-", 5) == 0);     /* named by the cluster */
    mb_cluster_destroy(c);
    mb_scenario_destroy(s);
}

static const struct {
    const char *json, *error;
} hostile[] = {
    { "", "bad JSON at line" },
    { "{\"rules\": [", "bad JSON at line 1" },
    { "[]", "expected an object, got an array" },
    { "{\"seed\": 1, \"seed\": 2}", "duplicate object key" },
    { "{\"brokres\": 3}", "brokres: unknown key" },
    { "{\"brokers\": \"3\"}", "brokers: expected an integer, got a string" },
    { "{\"brokers\": 0}", "brokers: 0 is out of range 1..64" },
    { "{\"seed\": 1.5}", "seed: expected an integer, got a fractional number" },
    { "{\"description\": 7}", "description: expected a string, got an integer" },
    { "{\"cluster\": {\"auto_create\": 1}}", "cluster.auto_create: expected true or false" },
    { "{\"cluster\": {\"brokers\": 1}}", "cluster.brokers: unknown key" },
    { "{\"topics\": {}}", "topics: expected an array, got an object" },
    { "{\"topics\": [{\"partitions\": 1}]}", "topics[0]: name is required" },
    { "{\"topics\": [{\"name\": \"a b\"}]}", "topics[0].name: 'a b' is no legal topic name" },
    { "{\"topics\": [{\"name\": \"t\", \"configs\": {\"x\": [1]}}]}",
      "topics[0].configs.x: expected a string, integer or boolean, got an array" },
    { "{\"topics\": [{\"name\": \"t\", \"partitions\": -1}]}",
      "topics[0].partitions: -1 is out of range" },
    { "{\"rules\": [{\"action\": {\"type\": \"none\"}}, {\"action\": {\"type\": \"none\"}},"
      " {\"action\": {\"type\": \"lose\"}}]}",
      "rules[2].action.type: unknown action 'lose'" },
    { "{\"rules\": [{\"match\": {}}]}", "rules[0]: action is required" },
    { "{\"rules\": [{\"action\": {}}]}", "rules[0].action: type is required" },
    { "{\"rules\": [{\"action\": {\"type\": 3}}]}",
      "rules[0].action.type: expected a string, got an integer" },
    { "{\"rules\": [{\"action\": {\"type\": \"error\", \"error_code\": \"NOT_AN_ERROR\"}}]}",
      "rules[0].action.error_code: unknown error name 'NOT_AN_ERROR'" },
    { "{\"rules\": [{\"action\": {\"type\": \"error\", \"error_code\": 999}}]}",
      "rules[0].action.error_code: 999 is no Kafka error code" },
    { "{\"rules\": [{\"action\": {\"type\": \"error\"}}]}",
      "rules[0].action: error: error_code is required" },
    { "{\"rules\": [{\"action\": {\"type\": \"none\", \"when\": \"later\"}}]}",
      "rules[0].action.when: unknown when 'later'" },
    { "{\"rules\": [{\"action\": {\"type\": \"follower\", \"broker\": 1, \"mode\": \"fast\"}}]}",
      "rules[0].action.mode: unknown follower mode 'fast'" },
    { "{\"rules\": [{\"action\": {\"type\": \"none\"}, \"count\": \"sometimes\"}]}",
      "rules[0].count: expected a number (>= 1) or \"always\", got 'sometimes'" },
    { "{\"rules\": [{\"action\": {\"type\": \"none\"}, \"count\": 0}]}",
      "rules[0].count: 0 is out of range" },
    { "{\"rules\": [{\"match\": {\"api_key\": \"Produse\"}, \"action\": {\"type\": \"none\"}}]}",
      "rules[0].match.api_key: unknown API 'Produse'" },
    { "{\"rules\": [{\"match\": {\"broker\": \"some\"}, \"action\": {\"type\": \"none\"}}]}",
      "rules[0].match.broker: expected an integer or \"any\", got 'some'" },
    { "{\"rules\": [{\"match\": {\"topik\": \"t\"}, \"action\": {\"type\": \"none\"}}]}",
      "rules[0].match.topik: unknown key" },
    { "{\"rules\": [{\"match\": {\"min_version\": 5, \"max_version\": 3},"
      " \"action\": {\"type\": \"none\"}}]}",
      "rules[0].match: min_version is above max_version" },
    { "{\"rules\": [{\"action\": {\"type\": \"isr_set\", \"brokers\": [1, \"2\"]}}]}",
      "rules[0].action.brokers[1]: expected a broker id" },
    { "{\"rules\": [{\"action\": {\"type\": \"error\", \"error_code\": 6,"
      " \"record_errors\": [-1]}}]}",
      "rules[0].action.record_errors[0]: expected a batch index" },
    { "{\"rules\": [{\"name\": \"x\", \"action\": {\"type\": \"none\"}},"
      " {\"name\": \"x\", \"action\": {\"type\": \"none\"}}]}",
      "rules[1].name: 'x' is also rules[0]'s name" },
    { "{\"rules\": [{\"name\": \"a\\u0000b\", \"action\": {\"type\": \"none\"}}]}",
      "is not allowed" },             /* jansson refuses NUL in strings */
    { "{\"actions\": [{\"type\": \"delay\", \"duration_ms\": 5}]}",
      "actions[0].type: 'delay' is no side effect" },
    { "{\"workload\": {\"messages\": 3}}", "workload: topic is required" },
    { "{\"workload\": {\"topic\": \"t\"}}", "workload: messages is required" },
    { "{\"workload\": {\"topic\": \"t\", \"messages\": 3, \"value_size\": 4}}",
      "workload.value_size: 4 is out of range 11.." },
    { "{\"workload\": {\"topic\": \"t\", \"messages\": 3, \"expect\": {\"dupes\": 0}}}",
      "workload.expect.dupes: unknown key" },
    { "{\"workload\": {\"topic\": \"t\", \"messages\": 3,"
      " \"expect\": {\"missing\": {\"min\": 3, \"max\": 1}}}}",
      "workload.expect.missing: min is above max" },
    { "{\"workload\": {\"topic\": \"t\", \"messages\": 3, \"config\": [\"acks\"]}}",
      "workload.config: expected an object, got an array" },
};

static void test_hostile_scenarios_are_refused_naming_the_path(void)
{
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        char err[512];
        struct mb_scenario *s = parse(hostile[i].json, err, sizeof(err));
        CU_ASSERT_PTR_NULL(s);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, hostile[i].error));
        if (s || !strstr(err, hostile[i].error))
            fprintf(stderr, "\n  %s\n  wanted '%s', got '%s'\n", hostile[i].json,
                    hostile[i].error, err);
        mb_scenario_destroy(s);
    }
}

static void test_every_prefix_of_a_fixture_is_refused_without_harm(void)
{
    char path[512], err[512];
    snprintf(path, sizeof(path), "%s/scenarios/broker_bounce.json", fx_dir());
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    CU_ASSERT(len > 100 && len < sizeof(buf));
    size_t refused = 0;
    for (size_t n = 0; n < len; n++) {
        struct mb_scenario *s = mb_scenario_parse(buf, n, path, err, sizeof(err));
        refused += s == NULL && err[0] != '\0';
        mb_scenario_destroy(s);
    }
    /* Only the whole file (up to trailing whitespace) parses. */
    CU_ASSERT(refused >= len - 2);
}

static void test_load_names_the_file_it_cannot_read(void)
{
    char err[512];
    CU_ASSERT_PTR_NULL(mb_scenario_load("no/such/scenario.json", err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no/such/scenario.json: "));
    /* Where the shell scripts put theirs too: TMPDIR, else /tmp. */
    const char *dir = getenv("TMPDIR");
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/kw-scenario-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmp);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(write(fd, "{\"topics\": [{\"name\": 5}]}", 25) == 25);
    close(fd);
    CU_ASSERT_PTR_NULL(mb_scenario_load(tmp, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ": topics[0].name: expected a string"));
    CU_ASSERT(strncmp(err, tmp, strlen(tmp)) == 0);
    unlink(tmp);
}

static void test_apply_names_what_the_cluster_refuses(void)
{
    char err[512];
    struct mb_scenario *ok = parse("{\"brokers\": 1, \"topics\": [{\"name\": \"t\"}]}", err,
                                   sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
    struct mb_cluster *c = cluster_for(ok);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_scenario_apply(c, ok, err, sizeof(err)), 0);
    /* Applied twice: the topic exists. */
    CU_ASSERT_EQUAL(mb_scenario_apply(c, ok, err, sizeof(err)), -1);
    CU_ASSERT(strncmp(err, "topics[0]: ", 11) == 0);

    static const struct {
        const char *json, *error;
    } cases[] = {
        { "{\"brokers\": 2}", "brokers: the scenario wants 2, the cluster has 1" },
        { "{\"topics\": [{\"name\": \"u\", \"configs\": {\"min.insync.replicas\": \"x\"}}]}",
          "topics[0].configs.min.insync.replicas: " },
        { "{\"topics\": [{\"name\": \"v\", \"configs\": {\"no.such.config\": 1}}]}",
          "topics[0].configs.no.such.config: " },
        { "{\"actions\": [{\"type\": \"broker_down\", \"broker\": 7}]}", "actions[0]: " },
        { "{\"rules\": [{\"action\": {\"type\": \"none\"}},"
          " {\"match\": {\"broker\": 5}, \"action\": {\"type\": \"none\"}}]}",
          "rules[1]: match: broker must be 1..1" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mb_scenario *s = parse(cases[i].json, err, sizeof(err));
        CU_ASSERT_PTR_NOT_NULL(s);
        if (s == NULL)
            continue;
        CU_ASSERT_EQUAL(mb_scenario_apply(c, s, err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].error));
        if (!strstr(err, cases[i].error))
            fprintf(stderr, "\n  wanted '%s', got '%s'\n", cases[i].error, err);
        mb_scenario_destroy(s);
    }
    mb_cluster_destroy(c);
    mb_scenario_destroy(ok);
}

static void test_rules_come_back_as_the_json_they_were_written_in(void)
{
    static const char *const rules[] = {
        "{\"name\":\"a\",\"match\":{\"broker\":2,\"api_key\":\"Produce\",\"min_version\":3,"
        "\"max_version\":9,\"topic\":\"t\",\"partition\":1,\"producer_id\":1000,"
        "\"client_id\":\"c\",\"nth\":3},\"action\":{\"type\":\"error\",\"when\":\"after_apply\","
        "\"error_code\":\"NOT_ENOUGH_REPLICAS\",\"error_message\":\"m\",\"record_errors\":[1]},"
        "\"count\":\"always\"}",
        "{\"name\":\"b\",\"match\":{},\"action\":{\"type\":\"split_response\","
        "\"interval_ms\":5,\"bytes\":3},\"count\":2}",
        "{\"name\":\"c\",\"match\":{\"api_key\":\"Metadata\"},\"action\":{\"type\":\"follower\","
        "\"broker\":3,\"topic\":\"t\",\"mode\":\"batches\",\"lag_batches\":2},\"count\":1}",
        "{\"name\":\"d\",\"match\":{},\"action\":{\"type\":\"isr_set\",\"topic\":\"t\","
        "\"partition\":0,\"brokers\":[1,2]},\"count\":1}",
    };
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        char doc[2048], err[512];
        snprintf(doc, sizeof(doc), "{\"rules\": [%s]}", rules[i]);
        struct mb_scenario *s = parse(doc, err, sizeof(err));
        CU_ASSERT_PTR_NOT_NULL(s);
        if (s == NULL) {
            fprintf(stderr, "\n  %s\n", err);
            continue;
        }
        char *back = mb_rule_json(&s->rules[0], NULL);
        CU_ASSERT_PTR_NOT_NULL(back);
        CU_ASSERT(back && strcmp(back, rules[i]) == 0);
        if (back && strcmp(back, rules[i]) != 0)
            fprintf(stderr, "\n  in:  %s\n  out: %s\n", rules[i], back);
        free(back);
        mb_scenario_destroy(s);
    }
    struct mb_rule r;
    mb_rule_init(&r);
    struct mb_rule_stats st = { 4, 3, 1, true };
    char *j = mb_rule_json(&r, &st);
    CU_ASSERT(j && strstr(j, "\"stats\":{\"matched\":4,\"fired\":3,\"held\":1,\"spent\":true}"));
    free(j);
}

static void test_workload_messages_are_reproducible_and_carry_their_index(void)
{
    struct mb_workload w = { .topic = "t", .messages = 3, .key_size = 16, .value_size = 24,
                             .seed = 42 };
    uint8_t a[64], b[64], k[64];
    CU_ASSERT_EQUAL(mb_workload_value(&w, 7, a, sizeof(a)), 24);
    CU_ASSERT_EQUAL(mb_workload_value(&w, 7, b, sizeof(b)), 24);
    CU_ASSERT(memcmp(a, b, 24) == 0);
    CU_ASSERT(memcmp(a, "0000000007-", 11) == 0);
    for (int i = 11; i < 24; i++)
        CU_ASSERT(a[i] >= 'a' && a[i] <= 'z');
    /* The filler is the one tests/interop/faults_produce.py computes for the same seed. */
    CU_ASSERT(memcmp(a + 11, "ylhguuudyueeg", 13) == 0);
    CU_ASSERT_EQUAL(mb_workload_index(a, 24), 7);
    CU_ASSERT_EQUAL(mb_workload_value(&w, 8, b, sizeof(b)), 24);
    CU_ASSERT(memcmp(a + 11, b + 11, 13) != 0);
    w.seed = 43;
    CU_ASSERT_EQUAL(mb_workload_value(&w, 7, b, sizeof(b)), 24);
    CU_ASSERT(memcmp(a + 11, b + 11, 13) != 0);
    CU_ASSERT_EQUAL(mb_workload_key(&w, 7, k, sizeof(k)), 16);
    CU_ASSERT(memcmp(k, "k000000007", 10) == 0);
    CU_ASSERT_EQUAL(mb_workload_value(&w, 7, b, 5), 24);    /* the length it needs */
    w.key_size = 0;
    CU_ASSERT_EQUAL(mb_workload_key(&w, 7, k, sizeof(k)), 0);
    CU_ASSERT_EQUAL(mb_workload_index((const uint8_t *)"000000001x-", 11), -1);
    CU_ASSERT_EQUAL(mb_workload_index((const uint8_t *)"0000000001", 10), -1);
    CU_ASSERT_EQUAL(mb_workload_index(NULL, 0), -1);
}

/* Produces workload messages idx[0..n) in one batch to partition 0. */
static int produce(struct kc_conn *k, const char *topic, const struct mb_workload *w,
                   const int *idx, int n)
{
    struct kw_buf b;
    struct kw_batch_builder bb;
    kw_buf_init(&b);
    kw_batch_builder_begin(&bb, &b, NULL, KW_CODEC_NONE, 0);
    for (int i = 0; i < n; i++) {
        uint8_t v[64];
        size_t len = mb_workload_value(w, idx[i], v, sizeof(v));
        kw_batch_builder_add(&bb, 1000 + i, KW_BYTES_NULL, (struct kw_bytes){ v, (int32_t)len },
                             NULL, 0);
    }
    int rc = kw_batch_builder_finish(&bb);
    if (rc == KW_OK)
        rc = kc_produce(k, 7, -1, topic, 0, b.data, b.len, NULL, NULL);
    kw_buf_release(&b);
    return rc;
}

static void test_verify_counts_duplicates_gaps_and_order(void)
{
    char err[512];
    struct mb_scenario *s = parse(
        "{\"brokers\": 1, \"seed\": 3, \"topics\": [{\"name\": \"w\"}],"
        " \"workload\": {\"topic\": \"w\", \"messages\": 6, \"value_size\": 20,"
        "   \"expect\": {\"delivered\": 6, \"duplicates\": 0, \"missing\": 0}}}",
        err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    struct mb_cluster *c = cluster_for(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(mb_scenario_apply(c, s, err, sizeof(err)), 0);
    const struct mb_workload *w = s->workload;
    struct kc_conn k;
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(c, 1)), 0);

    struct mb_tally t;
    CU_ASSERT_EQUAL(mb_workload_verify(c, w, 6, 0, &t, err, sizeof(err)), -1);
    CU_ASSERT(t.log_records == 0 && t.missing == 6);
    CU_ASSERT_STRING_EQUAL(err, "missing: 6, expected 0");

    const int first[] = { 0, 1, 2 }, again[] = { 2, 3, 5, 4 };
    CU_ASSERT_EQUAL(produce(&k, "w", w, first, 3), 0);
    CU_ASSERT_EQUAL(produce(&k, "w", w, again, 4), 0);
    CU_ASSERT_EQUAL(mb_workload_verify(c, w, 6, 0, &t, err, sizeof(err)), -1);
    CU_ASSERT(t.log_records == 7 && t.distinct == 6 && t.duplicates == 1 && t.missing == 0 &&
              t.foreign == 0 && t.out_of_order == 1);
    CU_ASSERT_STRING_EQUAL(err, "duplicates: 1, expected 0");
    CU_ASSERT_EQUAL(mb_workload_verify(c, w, 5, 0, &t, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "delivered: 5, expected 6");

    struct mb_workload loose = *w;
    loose.expect.duplicates = (struct mb_range){ true, 1, INT64_MAX };
    CU_ASSERT_EQUAL(mb_workload_verify(c, &loose, 6, 0, NULL, err, sizeof(err)), 0);
    loose.expect.in_order = true;
    CU_ASSERT_EQUAL(mb_workload_verify(c, &loose, 6, 0, NULL, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "in_order: 1 messages stored out of order");
    loose.expect.in_order = false;
    loose.expect.log_records = (struct mb_range){ true, 0, 5 };
    CU_ASSERT_EQUAL(mb_workload_verify(c, &loose, 6, 0, NULL, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "log_records: 7, expected 0..5");

    kc_close(&k);
    mb_cluster_destroy(c);
    mb_scenario_destroy(s);
}

CU_TestInfo kwt_scenario_tests[] = {
    { "every fixture loads, applies and installs its topics and rules",
      test_every_fixture_loads_applies_and_installs_its_topics_and_rules },
    { "a full scenario fills every struct", test_a_full_scenario_fills_every_struct },
    { "hostile scenarios are refused naming the path",
      test_hostile_scenarios_are_refused_naming_the_path },
    { "every prefix of a fixture is refused without harm",
      test_every_prefix_of_a_fixture_is_refused_without_harm },
    { "load names the file it cannot read", test_load_names_the_file_it_cannot_read },
    { "apply names what the cluster refuses", test_apply_names_what_the_cluster_refuses },
    { "rules come back as the JSON they were written in",
      test_rules_come_back_as_the_json_they_were_written_in },
    { "workload messages are reproducible and carry their index",
      test_workload_messages_are_reproducible_and_carry_their_index },
    { "verify counts duplicates, gaps and order", test_verify_counts_duplicates_gaps_and_order },
    CU_TEST_INFO_NULL,
};
