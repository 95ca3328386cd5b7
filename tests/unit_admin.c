/* The HTTP control API, through a plain-socket HTTP/1.1 client against a cluster on its own
 * thread: every endpoint, its 400s, 404s and 405s, and waits that answer when their condition
 * comes true (or 408 at their timeout) while the loop keeps serving. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/proto/apis.h"
#include "mockbroker/mockbroker.h"
#include "tests/kclient.h"

#define WAIT_MS 5000

struct env {
    struct mb_cluster *c;
    struct mb_admin *a;
    int port;
};

static bool start(struct env *e, int brokers)
{
    struct mb_config cfg;
    char err[256];
    mb_config_init(&cfg);
    cfg.brokers = brokers;
    cfg.port = 0;
    cfg.seed = 5;
    cfg.log_level = MB_LOG_ERROR;
    e->c = mb_cluster_new(&cfg, err, sizeof(err));
    e->a = e->c ? mb_admin_start(e->c, 0, err, sizeof(err)) : NULL;
    if (e->a == NULL) {
        fprintf(stderr, "start: %s\n", err);
        mb_cluster_destroy(e->c);
        return false;
    }
    e->port = mb_admin_port(e->a);
    return e->port > 0;
}

static void stop(struct env *e)
{
    mb_admin_stop(e->a);
    mb_cluster_destroy(e->c);
}

struct resp {
    int status;                     /* 0: no answer (closed or timed out) */
    char head[4096];
    char *body;                     /* NUL-terminated */
    json_t *json;                   /* the body parsed, or NULL */
};

static void resp_free(struct resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

static int dial(const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, ip, &sa.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends one request (Connection: close); returns the socket or -1. */
static int send_req(int port, const char *method, const char *path, const char *body)
{
    int fd = dial("127.0.0.1", port);
    if (fd < 0)
        return -1;
    size_t blen = body ? strlen(body) : 0;
    size_t cap = 512 + strlen(path) + blen;
    char *msg = malloc(cap);
    int n = snprintf(msg, cap, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n%s", method, path, blen, body ? body : "");
    size_t off = 0;
    while (n > 0 && off < (size_t)n) {
        ssize_t w = send(fd, msg + off, (size_t)n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(msg);
    return fd;
}

/* Reads the answer to the end of the connection within timeout_ms; closes fd. */
static void recv_resp(int fd, int timeout_ms, struct resp *r)
{
    memset(r, 0, sizeof(*r));
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    int64_t deadline = kc_now_ms() + timeout_ms;
    while (buf && fd >= 0) {
        int left = (int)(deadline - kc_now_ms());
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        if (cap - len < 1024) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (fd >= 0)
        close(fd);
    if (buf == NULL)
        return;
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (end && sscanf(buf, "HTTP/1.1 %d", &r->status) == 1) {
        size_t hl = (size_t)(end - buf);
        snprintf(r->head, sizeof(r->head), "%.*s", (int)hl, buf);
        r->body = strdup(end + 4);
        r->json = json_loads(r->body, JSON_DISABLE_EOF_CHECK, NULL);
    }
    free(buf);
}

static int call(struct env *e, const char *method, const char *path, const char *body,
                struct resp *r)
{
    recv_resp(send_req(e->port, method, path, body), WAIT_MS, r);
    return r->status;
}

/* The "error" of a JSON answer, or "". */
static const char *error_of(const struct resp *r)
{
    const char *s = json_string_value(json_object_get(r->json, "error"));
    return s ? s : "";
}

/* json_path(v, "topics", 0, "partitions", ...): string keys and (int) indexes, ending NULL. */
static json_t *at(json_t *v, const char *key, int index)
{
    return key ? json_object_get(v, key) : json_array_get(v, (size_t)index);
}

static int64_t partition_field(json_t *state, const char *topic, int p, const char *field)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(state, "topics"), i, t)
        if (strcmp(json_string_value(json_object_get(t, "name")), topic) == 0) {
            json_t *part = at(json_object_get(t, "partitions"), NULL, p);
            json_t *v = json_object_get(part, field);
            return v ? json_integer_value(v) : -99;
        }
    return -99;
}

static void topic(struct env *e, const char *name, int partitions, int rf)
{
    char err[256];
    CU_ASSERT_EQUAL(mb_topic_create(e->c, name, partitions, rf, err, sizeof(err)), 0);
}

static void test_listens_on_127_0_0_1_only(void)
{
    struct env e;
    CU_ASSERT_FATAL(start(&e, 1));
    int fd = dial("127.0.0.2", e.port);
    CU_ASSERT_EQUAL(fd, -1);
    if (fd >= 0)
        close(fd);
    fd = dial("127.0.0.1", e.port);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
    stop(&e);
}

static void test_state_lists_brokers_topics_and_partitions(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 3));
    topic(&e, "t", 2, 3);
    CU_ASSERT_EQUAL(call(&e, "GET", "/state", NULL, &r), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Content-Type: application/json"));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r.json, "seed")), 5);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r.json, "brokers")), 3);
    CU_ASSERT_STRING_EQUAL(mb_cluster_bootstrap(e.c),
                           json_string_value(json_object_get(r.json, "bootstrap")));
    struct mb_partition_info pi;
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "t", 1, &pi), 0);
    CU_ASSERT_EQUAL(partition_field(r.json, "t", 1, "leader"), pi.leader);
    CU_ASSERT_EQUAL(partition_field(r.json, "t", 1, "log_end_offset"), 0);
    json_t *t0 = at(json_object_get(r.json, "topics"), NULL, 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(at(json_object_get(t0, "partitions"), NULL,
                                                       0), "isr")), 3);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(t0, "configs"),
                                                       "min.insync.replicas")), 1);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "GET", "/partitions/t/1", NULL, &r), 200);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r.json, "leader")), pi.leader);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "GET", "/topics", NULL, &r), 200);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r.json, "topics")), 1);
    resp_free(&r);
    stop(&e);
}

static void test_rules_are_added_listed_and_removed(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 1));
    CU_ASSERT_EQUAL(call(&e, "POST", "/rules",
                         "{\"name\": \"nl\", \"match\": {\"api_key\": \"Metadata\"}, \"action\":"
                         " {\"type\": \"error\", \"error_code\": \"NOT_LEADER_OR_FOLLOWER\"},"
                         " \"count\": \"always\"}", &r), 200);
    CU_ASSERT_STRING_EQUAL(json_string_value(at(json_object_get(r.json, "added"), NULL, 0)),
                           "nl");
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "POST", "/rules",
                         "[{\"action\": {\"type\": \"delay\", \"duration_ms\": 5}},"
                         " {\"name\": \"h\", \"action\": {\"type\": \"hold\"}}]", &r), 200);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r.json, "added")), 2);
    resp_free(&r);
    CU_ASSERT_EQUAL(mb_rule_count(e.c), 3);

    CU_ASSERT_EQUAL(mb_rule_remove(e.c, "h"), 0);
    CU_ASSERT_EQUAL(call(&e, "GET", "/rules", NULL, &r), 200);
    json_t *rules = json_object_get(r.json, "rules");
    CU_ASSERT_EQUAL(json_array_size(rules), 2);
    json_t *nl = at(rules, NULL, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(nl, "count")), "always");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(nl, "action"),
                                                             "error_code")),
                           "NOT_LEADER_OR_FOLLOWER");
    CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(nl, "stats"), "fired"));
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "GET", "/rules/nl", NULL, &r), 200);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.json, "name")), "nl");
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "DELETE", "/rules/nl", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "DELETE", "/rules/nl", NULL, &r), 404);
    CU_ASSERT_STRING_EQUAL(error_of(&r), "no rule named 'nl'");
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "DELETE", "/rules", NULL, &r), 200);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r.json, "removed")), 1);
    resp_free(&r);
    CU_ASSERT_EQUAL(mb_rule_count(e.c), 0);
    stop(&e);
}

static void test_bad_requests_get_400_with_the_reason(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 2));
    topic(&e, "t", 1, 2);
    static const struct {
        const char *method, *path, *body, *error;
    } cases[] = {
        { "POST", "/rules", "{\"action\": ", "bad JSON at line 1" },
        { "POST", "/rules", "", "a JSON body is required" },
        { "POST", "/rules", "\"rule\"", "expected a rule object or an array of them" },
        { "POST", "/rules", "{\"action\": {\"type\": \"lose\"}}",
          "action.type: unknown action 'lose'" },
        { "POST", "/rules", "[{\"action\": {\"type\": \"none\"}}, {\"actoin\": {}}]",
          "rules[1].actoin: unknown key" },
        { "POST", "/rules", "{\"action\": {\"type\": \"error\", \"error_code\": \"NOPE\"}}",
          "action.error_code: unknown error name 'NOPE'" },
        { "POST", "/rules", "{\"match\": {\"broker\": 9}, \"action\": {\"type\": \"none\"}}",
          "match: broker must be 1..2" },
        { "POST", "/rules", "[1, 2]", "rules[0]: expected an object, got an integer" },
        { "POST", "/partitions/t/0/leader", "{\"topic\": \"u\"}", "topic: the path gives it" },
        { "POST", "/partitions/t/0/isr", "{\"brokers\": \"1\"}",
          "brokers: expected an array of at most 16 broker ids" },
        { "POST", "/partitions/t/0/follower", "{\"broker\": 2}", "follower: mode is required" },
        { "POST", "/topics", "{\"name\": \"bad name\"}", "name: 'bad name' is no legal topic" },
        { "POST", "/wait", "{}", "condition: expected an object" },
        { "POST", "/wait", "{\"condition\": {\"moon\": {}}}", "condition.moon: unknown condition" },
        { "POST", "/wait", "{\"condition\": {\"partition\": {\"topic\": \"t\"}}}",
          "condition.partition: topic and partition are required" },
        { "POST", "/wait", "{\"condition\": {\"rule\": {\"name\": \"x\", \"fired\": \"1\"}}}",
          "condition.rule.fired: expected an integer" },
        { "POST", "/wait", "{\"condition\": {\"broker\": {\"id\": 1}}, \"timeout_ms\": -5}",
          "timeout_ms: expected an integer" },
        { "POST", "/wait", "{\"condition\": {\"broker\": {\"id\": 1}}, \"extra\": 1}",
          "extra: unknown key" },
        { "GET", "/journal?since=x", NULL, "since: expected an integer" },
        { "GET", "/journal?format=xml", NULL, "format: jsonl (the default), json or text" },
        { "GET", "/partitions/t/0/records?max=-1", NULL, "max: expected an integer" },
        { "POST", "/scenario", "{\"seed\": 4}", "seed, brokers and cluster are fixed" },
        { "POST", "/actions", "{\"type\": \"delay\"}", "type: 'delay' is no side effect" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        call(&e, cases[i].method, cases[i].path, cases[i].body, &r);
        CU_ASSERT_EQUAL(r.status, 400);
        CU_ASSERT_PTR_NOT_NULL(strstr(error_of(&r), cases[i].error));
        if (r.status != 400 || !strstr(error_of(&r), cases[i].error))
            fprintf(stderr, "\n  %s %s %s: %d %s\n", cases[i].method, cases[i].path,
                    cases[i].body ? cases[i].body : "", r.status, r.body ? r.body : "");
        resp_free(&r);
    }
    CU_ASSERT_EQUAL(mb_rule_count(e.c), 0);     /* nothing half-added */
    stop(&e);
}

static void test_unknown_paths_get_404_and_wrong_methods_405(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 1));
    topic(&e, "t", 1, 1);
    static const struct {
        const char *method, *path;
        int status;
    } cases[] = {
        { "GET", "/", 404 }, { "GET", "/nothing", 404 }, { "GET", "/rules/a/b/c", 404 },
        { "POST", "/brokers/9/down", 404 }, { "POST", "/brokers/x/down", 404 },
        { "POST", "/brokers/1/sideways", 404 }, { "GET", "/partitions/t/1", 404 },
        { "GET", "/partitions/u/0/records", 404 }, { "POST", "/partitions/t/-1/leader", 404 },
        { "POST", "/holds/none/release", 404 }, { "DELETE", "/topics/nope", 404 },
        { "GET", "/rules/none", 404 }, { "GET", "/%ff%00/x", 404 },
        { "GET", "/brokers/1/down", 405 }, { "DELETE", "/state", 405 }, { "GET", "/wait", 405 },
        { "POST", "/journal", 405 }, { "PUT", "/rules", 405 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        call(&e, cases[i].method, cases[i].path, NULL, &r);
        CU_ASSERT_EQUAL(r.status, cases[i].status);
        if (r.status != cases[i].status)
            fprintf(stderr, "\n  %s %s: %d %s\n", cases[i].method, cases[i].path, r.status,
                    r.body ? r.body : "");
        resp_free(&r);
    }
    /* Too large a body is refused before it is read whole. */
    size_t big = (1 << 20) + 16;
    char *body = malloc(big + 1);
    memset(body, ' ', big);
    body[big] = '\0';
    call(&e, "POST", "/rules", body, &r);
    CU_ASSERT_EQUAL(r.status, 413);
    resp_free(&r);
    free(body);
    stop(&e);
}

static void test_brokers_go_down_come_up_and_blackhole(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 3));
    CU_ASSERT_EQUAL(call(&e, "POST", "/brokers/2/down", NULL, &r), 200);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.json, "state")), "down");
    resp_free(&r);
    CU_ASSERT_EQUAL(mb_broker_state(e.c, 2), MB_BROKER_DOWN);
    CU_ASSERT_EQUAL(call(&e, "POST", "/brokers/3/blackhole", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(mb_broker_state(e.c, 3), MB_BROKER_BLACKHOLE);
    CU_ASSERT_EQUAL(call(&e, "GET", "/state", NULL, &r), 200);
    json_t *b2 = at(json_object_get(r.json, "brokers"), NULL, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(b2, "state")), "down");
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "POST", "/brokers/2/up", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "POST", "/brokers/3/up", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT(mb_broker_state(e.c, 2) == MB_BROKER_UP && mb_broker_state(e.c, 3) == MB_BROKER_UP);
    stop(&e);
}

static void test_partition_leadership_isr_and_followers_change(void)
{
    struct env e;
    struct resp r;
    struct mb_partition_info pi;
    CU_ASSERT_FATAL(start(&e, 3));
    topic(&e, "t", 1, 3);
    CU_ASSERT_EQUAL(call(&e, "POST", "/partitions/t/0/leader", "{\"broker\": 2}", &r), 200);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r.json, "leader")), 2);
    resp_free(&r);
    CU_ASSERT(mb_partition_info(e.c, "t", 0, &pi) == 0 && pi.leader == 2);
    /* No body: the preferred replica. */
    CU_ASSERT_EQUAL(call(&e, "POST", "/partitions/t/0/leader", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT(mb_partition_info(e.c, "t", 0, &pi) == 0 && pi.leader == pi.replicas[0]);
    CU_ASSERT_EQUAL(call(&e, "POST", "/partitions/t/0/leader", "{\"broker\": 2}", &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "POST", "/partitions/t/0/follower",
                         "{\"broker\": 3, \"mode\": \"stopped\"}", &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "POST", "/partitions/t/0/isr", "{\"brokers\": [1, 2]}", &r), 200);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r.json, "isr")), 2);
    resp_free(&r);
    CU_ASSERT(mb_partition_info(e.c, "t", 0, &pi) == 0 && pi.n_isr == 2);
    /* Broker 3 is out of the ISR: the cluster refuses to make it the leader. */
    CU_ASSERT_EQUAL(call(&e, "POST", "/partitions/t/0/leader", "{\"broker\": 3}", &r), 409);
    CU_ASSERT(strlen(error_of(&r)) > 0);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "POST", "/partitions/t/0/replicas", "{\"brokers\": [1, 2]}", &r),
                    200);
    resp_free(&r);
    CU_ASSERT(mb_partition_info(e.c, "t", 0, &pi) == 0 && pi.n_replicas == 2);
    CU_ASSERT_EQUAL(call(&e, "POST", "/actions",
                         "[{\"type\": \"broker_down\", \"broker\": 1},"
                         " {\"type\": \"broker_up\", \"broker\": 1}]", &r), 200);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r.json, "done")), 2);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "POST", "/actions", "{\"type\": \"broker_down\", \"broker\": 7}",
                         &r), 409);
    resp_free(&r);
    stop(&e);
}

static void test_records_come_back_with_keys_values_and_headers(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 1));
    topic(&e, "t", 1, 1);
    struct kc_conn k;
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kc_batch(&b, 0, -1, -1, -1, 0, 3, 1000), KW_OK);
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(e.c, 1)), 0);
    CU_ASSERT_EQUAL(kc_produce(&k, 7, -1, "t", 0, b.data, b.len, NULL, NULL), 0);
    kc_close(&k);
    kw_buf_release(&b);
    CU_ASSERT_EQUAL(call(&e, "GET", "/partitions/t/0/records?from=1&max=5", NULL, &r), 200);
    json_t *recs = json_object_get(r.json, "records");
    CU_ASSERT_EQUAL(json_array_size(recs), 2);
    json_t *r1 = at(recs, NULL, 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r1, "offset")), 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r1, "key")), "k1");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r1, "value")), "v1");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r1, "timestamp")), 1001);
    json_t *h = at(json_object_get(r1, "headers"), NULL, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(h, "key")), "h");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r1, "producer_id")), -1);
    resp_free(&r);
    stop(&e);
}

static void test_holds_are_released_by_name(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 1));
    topic(&e, "t", 1, 1);
    CU_ASSERT_EQUAL(call(&e, "POST", "/rules",
                         "{\"name\": \"park\", \"match\": {\"api_key\": \"Produce\"},"
                         " \"action\": {\"type\": \"hold\"}}", &r), 200);
    resp_free(&r);
    struct kc_conn k;
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kc_batch(&b, 0, -1, -1, -1, 0, 1, 1000), KW_OK);
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(e.c, 1)), 0);
    /* The Produce is parked: the wait answers once the rule holds it. */
    int fd = send_req(e.port, "POST", "/wait",
                      "{\"condition\": {\"rule\": {\"name\": \"park\", \"held\": 1}},"
                      " \"timeout_ms\": 5000}");
    int64_t t0 = kc_now_ms();
    struct resp w;
    CU_ASSERT(fd >= 0);
    /* acks=0: written, nothing to wait for; the hold parks it before it is applied. */
    CU_ASSERT_EQUAL(kc_produce(&k, 7, 0, "t", 0, b.data, b.len, NULL, NULL), 0);
    recv_resp(fd, WAIT_MS, &w);
    CU_ASSERT_EQUAL(w.status, 200);
    CU_ASSERT(kc_now_ms() - t0 < WAIT_MS);
    resp_free(&w);
    struct mb_partition_info pi;
    CU_ASSERT(mb_partition_info(e.c, "t", 0, &pi) == 0 && pi.log_end_offset == 0);
    CU_ASSERT_EQUAL(call(&e, "POST", "/holds/park/release", NULL, &r), 200);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r.json, "released")), 1);
    resp_free(&r);
    /* Released: the write lands. */
    CU_ASSERT_EQUAL(mb_wait_offset(e.c, "t", 0, 1, WAIT_MS), 0);
    CU_ASSERT_EQUAL(call(&e, "POST", "/holds/release", NULL, &r), 200);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r.json, "released")), 0);
    resp_free(&r);
    kw_buf_release(&b);
    kc_close(&k);
    stop(&e);
}

static void test_a_wait_answers_when_its_condition_comes_true(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 1));
    topic(&e, "t", 1, 1);
    int fd = send_req(e.port, "POST", "/wait",
                      "{\"condition\": {\"partition\": {\"topic\": \"t\", \"partition\": 0,"
                      " \"log_end_offset\": 3}, \"journal\": {\"kind\": \"append\"}},"
                      " \"timeout_ms\": 5000}");
    CU_ASSERT(fd >= 0);
    /* Meanwhile the loop keeps serving: another request is answered at once. */
    CU_ASSERT_EQUAL(call(&e, "GET", "/state", NULL, &r), 200);
    resp_free(&r);
    struct kc_conn k;
    struct kw_buf b;
    kw_buf_init(&b);
    CU_ASSERT_EQUAL(kc_batch(&b, 0, -1, -1, -1, 0, 3, 1000), KW_OK);
    CU_ASSERT_EQUAL(kc_connect(&k, mb_broker_port(e.c, 1)), 0);
    CU_ASSERT_EQUAL(kc_produce(&k, 7, -1, "t", 0, b.data, b.len, NULL, NULL), 0);
    int64_t t0 = kc_now_ms();
    recv_resp(fd, WAIT_MS, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT(kc_now_ms() - t0 < 1000);
    CU_ASSERT_EQUAL(partition_field(json_object_get(r.json, "state"), "t", 0, "log_end_offset"),
                    3);
    resp_free(&r);
    /* Already true: answered at once. */
    CU_ASSERT_EQUAL(call(&e, "POST", "/wait",
                         "{\"condition\": {\"requests\": {\"api_key\": 0, \"count\": 1},"
                         " \"broker\": {\"id\": 1, \"state\": \"up\"}}}", &r), 200);
    resp_free(&r);
    /* Never true: 408 with the state at the timeout. */
    t0 = kc_now_ms();
    CU_ASSERT_EQUAL(call(&e, "POST", "/wait",
                         "{\"condition\": {\"partition\": [{\"topic\": \"t\", \"partition\": 0,"
                         " \"log_end_offset\": 1}, {\"topic\": \"t\", \"partition\": 0,"
                         " \"log_end_offset\": 4}]}, \"timeout_ms\": 50}", &r), 408);
    CU_ASSERT(kc_now_ms() - t0 >= 50);
    CU_ASSERT_STRING_EQUAL(error_of(&r), "timed out");
    CU_ASSERT_EQUAL(partition_field(json_object_get(r.json, "state"), "t", 0, "log_end_offset"),
                    3);
    resp_free(&r);
    kw_buf_release(&b);
    kc_close(&k);
    stop(&e);
}

static void test_a_client_that_leaves_a_wait_harms_nothing(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 1));
    int fd = send_req(e.port, "POST", "/wait",
                      "{\"condition\": {\"broker\": {\"id\": 1, \"state\": \"down\"}},"
                      " \"timeout_ms\": 20}");
    CU_ASSERT(fd >= 0);
    close(fd);
    /* This one times out after the first, which was then answered to a closed socket. */
    CU_ASSERT_EQUAL(call(&e, "POST", "/wait",
                         "{\"condition\": {\"broker\": {\"id\": 1, \"state\": \"down\"}},"
                         " \"timeout_ms\": 60}", &r), 408);
    resp_free(&r);
    /* A wait pending at stop is answered 503 (or its connection closed), never left hanging. */
    fd = send_req(e.port, "POST", "/wait",
                  "{\"condition\": {\"broker\": {\"id\": 1, \"state\": \"down\"}},"
                  " \"timeout_ms\": 60000}");
    CU_ASSERT_EQUAL(call(&e, "GET", "/state", NULL, &r), 200);  /* the wait is registered */
    resp_free(&r);
    int64_t t0 = kc_now_ms();
    mb_admin_stop(e.a);
    recv_resp(fd, WAIT_MS, &r);
    CU_ASSERT(r.status == 503 || r.status == 0);
    CU_ASSERT(kc_now_ms() - t0 < WAIT_MS);
    resp_free(&r);
    mb_cluster_destroy(e.c);
}

static void test_the_journal_pages_by_id(void)
{
    struct env e;
    struct resp r;
    CU_ASSERT_FATAL(start(&e, 2));
    topic(&e, "t", 1, 2);
    CU_ASSERT_EQUAL(call(&e, "POST", "/brokers/2/down", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "GET", "/journal", NULL, &r), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "application/x-ndjson"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"kind\":\"broker\""));
    const char *last = strstr(r.head, "X-Journal-Last: ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    long n = atol(last + 16);
    CU_ASSERT(n >= 1);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "GET", "/journal?format=json&since=0", NULL, &r), 200);
    CU_ASSERT(json_is_array(r.json) && (long)json_array_size(r.json) == n);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(at(r.json, NULL, 0), "id")), 1);
    resp_free(&r);
    char path[64];
    snprintf(path, sizeof(path), "/journal?format=json&since=%ld", n);
    CU_ASSERT_EQUAL(call(&e, "GET", path, NULL, &r), 200);
    CU_ASSERT(json_is_array(r.json) && json_array_size(r.json) == 0);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "GET", "/journal?format=text", NULL, &r), 200);
    CU_ASSERT(r.body && strlen(r.body) > 0);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "DELETE", "/journal", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "GET", "/journal?format=json", NULL, &r), 200);
    CU_ASSERT(json_is_array(r.json) && json_array_size(r.json) == 0);
    resp_free(&r);
    stop(&e);
}

static void test_topics_and_scenarios_are_added_at_run_time(void)
{
    struct env e;
    struct resp r;
    struct mb_partition_info pi;
    CU_ASSERT_FATAL(start(&e, 2));
    CU_ASSERT_EQUAL(call(&e, "POST", "/topics",
                         "{\"name\": \"a\", \"partitions\": 2, \"replication\": 2,"
                         " \"configs\": {\"min.insync.replicas\": 2}}", &r), 200);
    resp_free(&r);
    CU_ASSERT_EQUAL(mb_partition_info(e.c, "a", 1, &pi), 0);
    CU_ASSERT_EQUAL(call(&e, "POST", "/topics", "[{\"name\": \"b\"}, {\"name\": \"a\"}]", &r),
                    409);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r.json, "created")), 1);
    resp_free(&r);
    CU_ASSERT_EQUAL(call(&e, "DELETE", "/topics/b", NULL, &r), 200);
    resp_free(&r);
    CU_ASSERT_NOT_EQUAL(mb_partition_info(e.c, "b", 0, &pi), 0);
    CU_ASSERT_EQUAL(call(&e, "POST", "/scenario",
                         "{\"description\": \"more\", \"topics\": [{\"name\": \"c\"}],"
                         " \"rules\": [{\"name\": \"x\", \"action\": {\"type\": \"none\"}}]}",
                         &r), 200);
    resp_free(&r);
    CU_ASSERT(mb_partition_info(e.c, "c", 0, &pi) == 0 && mb_rule_count(e.c) == 1);
    CU_ASSERT_EQUAL(call(&e, "POST", "/scenario", "{\"topics\": [{\"name\": \"c\"}]}", &r), 409);
    CU_ASSERT_PTR_NOT_NULL(strstr(error_of(&r), "topics[0]: "));
    resp_free(&r);
    stop(&e);
}

CU_TestInfo kwt_admin_tests[] = {
    { "it listens on 127.0.0.1 only", test_listens_on_127_0_0_1_only },
    { "state lists brokers, topics and partitions",
      test_state_lists_brokers_topics_and_partitions },
    { "rules are added, listed and removed", test_rules_are_added_listed_and_removed },
    { "bad requests get 400 with the reason", test_bad_requests_get_400_with_the_reason },
    { "unknown paths get 404 and wrong methods 405",
      test_unknown_paths_get_404_and_wrong_methods_405 },
    { "brokers go down, come up and blackhole", test_brokers_go_down_come_up_and_blackhole },
    { "partition leadership, ISR and followers change",
      test_partition_leadership_isr_and_followers_change },
    { "records come back with keys, values and headers",
      test_records_come_back_with_keys_values_and_headers },
    { "holds are released by name", test_holds_are_released_by_name },
    { "a wait answers when its condition comes true",
      test_a_wait_answers_when_its_condition_comes_true },
    { "a client that leaves a wait harms nothing",
      test_a_client_that_leaves_a_wait_harms_nothing },
    { "the journal pages by id", test_the_journal_pages_by_id },
    { "topics and scenarios are added at run time",
      test_topics_and_scenarios_are_added_at_run_time },
    CU_TEST_INFO_NULL,
};
