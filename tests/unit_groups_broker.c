/* The group coordinator over sockets: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, offsets,
 * DescribeGroups and ListGroups sent by tests/kclient.c to a caller-driven cluster on a virtual
 * clock, so session and rebalance timeouts run out only when the test moves time. */
#include <CUnit/CUnit.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/errors.h"
#include "lib/proto/apis.h"
#include "lib/proto/describe_groups.h"
#include "lib/proto/find_coordinator.h"
#include "lib/proto/heartbeat.h"
#include "lib/proto/join_group.h"
#include "lib/proto/leave_group.h"
#include "lib/proto/list_groups.h"
#include "lib/proto/offset_commit.h"
#include "lib/proto/offset_fetch.h"
#include "lib/proto/sync_group.h"
#include "mockbroker/mockbroker.h"
#include "tests/kclient.h"

#define GROUP "g1"
#define SESSION_MS 6000

/* A one-or-more broker cluster driven from the test's loop, with a virtual clock. */
struct env {
    struct event_base *base;
    struct kw_vclock *v;
    struct mb_cluster *c;
    int coordinator;            /* broker id coordinating GROUP */
};

static int env_start(struct env *e, int brokers)
{
    memset(e, 0, sizeof(*e));
    e->base = event_base_new();
    e->v = kw_vclock_new(1000000);
    if (e->base == NULL || e->v == NULL)
        return -1;
    struct mb_config cfg;
    mb_config_init(&cfg);
    cfg.brokers = brokers;
    cfg.seed = 7;
    cfg.log_level = MB_LOG_ERROR;
    cfg.base = e->base;
    cfg.clock = kw_vclock_clock(e->v);
    char err[256] = "";
    if ((e->c = mb_cluster_new(&cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "mb_cluster_new: %s\n", err);
        return -1;
    }
    if (mb_topic_create(e->c, "t", 2, 1, NULL, 0) != 0)
        return -1;
    /* Ask FindCoordinator, as a client would. */
    struct kc_conn k;
    struct kw_find_coordinator_req req = { .key = kw_str_c(GROUP), .key_type = 0 };
    struct kw_find_coordinator_resp resp;
    int rc = kc_connect(&k, mb_broker_port(e->c, 1));
    k.pump = e->base;
    if (rc == 0 && kc_call(&k, KW_API_FIND_COORDINATOR, 2, &req, &resp) == KW_OK &&
        resp.error_code == 0)
        e->coordinator = resp.node_id;
    kc_close(&k);
    return e->coordinator > 0 ? 0 : -1;
}

static void env_stop(struct env *e)
{
    mb_cluster_destroy(e->c);
    if (e->v)
        kw_vclock_destroy(e->v);
    if (e->base)
        event_base_free(e->base);
}

static int conn(struct env *e, struct kc_conn *k, int broker)
{
    int rc = kc_connect(k, mb_broker_port(e->c, broker));
    k->pump = e->base;
    return rc;
}

/* Runs the cluster's loop until it has seen n requests of api_key in all. */
static bool seen(struct mb_cluster *c, void *arg)
{
    const uint64_t *want = arg;
    return mb_request_count(c, -1, (int)want[0]) >= want[1];
}

static int wait_requests(struct env *e, int api_key, uint64_t n)
{
    uint64_t want[2] = { (uint64_t)api_key, n };
    return mb_wait_until(e->c, seen, want, KC_WAIT_MS);
}

static struct kw_join_group_req_protocol protocols[] = {
    { .name = { "range", 5 }, .metadata = { (const uint8_t *)"\x00\x01", 2 } },
    { .name = { "roundrobin", 10 }, .metadata = { (const uint8_t *)"\x00\x02", 2 } },
};

static int32_t join_send(struct kc_conn *k, int version, const char *member)
{
    struct kw_join_group_req req = {
        .group_id = kw_str_c(GROUP), .session_timeout_ms = SESSION_MS,
        .rebalance_timeout_ms = 10000, .member_id = kw_str_c(member),
        .group_instance_id = KW_STR_NULL, .protocol_type = kw_str_c("consumer"),
        .protocols = protocols, .n_protocols = 2,
    };
    return kc_send(k, KW_API_JOIN_GROUP, version, &req);
}

static int join_recv(struct kc_conn *k, int version, int32_t id, struct kw_join_group_resp *resp)
{
    return kc_recv(k, KW_API_JOIN_GROUP, version, id, resp, KC_WAIT_MS);
}

/* Joins as a new member (v5: MEMBER_ID_REQUIRED, then the join with that id), sending the
 * second join only; the id goes to member (64 bytes). Returns the second join's correlation
 * id, or -1. */
static int32_t join_new_send(struct kc_conn *k, char *member)
{
    struct kw_join_group_resp r;
    if (join_recv(k, 5, join_send(k, 5, ""), &r) != KW_OK ||
        r.error_code != KW_EC_MEMBER_ID_REQUIRED || r.member_id.len <= 0)
        return -1;
    kw_str_copy(r.member_id, member, 64);
    return join_send(k, 5, member);
}

static int16_t sync_call(struct kc_conn *k, int32_t generation, const char *member,
                         const struct kw_sync_group_req_assignment *a, int n,
                         struct kw_sync_group_resp *resp)
{
    struct kw_sync_group_req req = {
        .group_id = kw_str_c(GROUP), .generation_id = generation, .member_id = kw_str_c(member),
        .group_instance_id = KW_STR_NULL, .protocol_type = kw_str_c("consumer"),
        .protocol_name = kw_str_c("range"),
        .assignments = (struct kw_sync_group_req_assignment *)a, .n_assignments = n,
    };
    if (kc_call(k, KW_API_SYNC_GROUP, 5, &req, resp) != KW_OK)
        return -1;
    return resp->error_code;
}

static int16_t heartbeat(struct kc_conn *k, int32_t generation, const char *member)
{
    struct kw_heartbeat_req req = {
        .group_id = kw_str_c(GROUP), .generation_id = generation, .member_id = kw_str_c(member),
        .group_instance_id = KW_STR_NULL,
    };
    struct kw_heartbeat_resp resp;
    if (kc_call(k, KW_API_HEARTBEAT, 4, &req, &resp) != KW_OK)
        return -1;
    return resp.error_code;
}

static int describe(struct kc_conn *k, struct kw_describe_groups_resp_group *out)
{
    struct kw_str groups[] = { kw_str_c(GROUP) };
    struct kw_describe_groups_req req = { .groups = groups, .n_groups = 1 };
    struct kw_describe_groups_resp resp;
    int rc = kc_call(k, KW_API_DESCRIBE_GROUPS, 5, &req, &resp);
    if (rc == KW_OK && resp.n_groups == 1)
        *out = resp.groups[0];
    return rc == KW_OK && resp.n_groups == 1 ? 0 : -1;
}

/* A alone: joined and synced, Stable at generation 1. */
static int one_stable(struct env *e, struct kc_conn *a, char *ma)
{
    struct kw_join_group_resp j;
    struct kw_sync_group_resp s;
    int32_t id = join_new_send(a, ma);
    if (id < 0 || join_recv(a, 5, id, &j) != KW_OK || j.error_code != 0)
        return -1;
    struct kw_sync_group_req_assignment as[] = {
        { .member_id = kw_str_c(ma), .assignment = { (const uint8_t *)"AA", 2 } },
    };
    (void)e;
    return sync_call(a, j.generation_id, ma, as, 1, &s) == 0 ? j.generation_id : -1;
}

/* A and B both in, Stable at generation 2 with A as leader. */
static int two_stable(struct env *e, struct kc_conn *a, char *ma, struct kc_conn *b, char *mb)
{
    if (one_stable(e, a, ma) != 1)
        return -1;
    int32_t idb = join_new_send(b, mb);
    if (idb < 0 || wait_requests(e, KW_API_JOIN_GROUP, 4) != 0)
        return -1;
    struct kw_join_group_resp ja, jb;
    if (join_recv(a, 5, join_send(a, 5, ma), &ja) != KW_OK ||
        join_recv(b, 5, idb, &jb) != KW_OK || ja.error_code || jb.error_code)
        return -1;
    struct kw_sync_group_req b_sync = {
        .group_id = kw_str_c(GROUP), .generation_id = jb.generation_id,
        .member_id = kw_str_c(mb), .group_instance_id = KW_STR_NULL,
        .protocol_type = KW_STR_NULL, .protocol_name = KW_STR_NULL,
    };
    int32_t sid = kc_send(b, KW_API_SYNC_GROUP, 5, &b_sync);
    struct kw_sync_group_req_assignment as[] = {
        { .member_id = kw_str_c(ma), .assignment = { (const uint8_t *)"A2", 2 } },
        { .member_id = kw_str_c(mb), .assignment = { (const uint8_t *)"B2", 2 } },
    };
    struct kw_sync_group_resp sa, sb;
    if (wait_requests(e, KW_API_SYNC_GROUP, 2) != 0 ||
        sync_call(a, ja.generation_id, ma, as, 2, &sa) != 0 ||
        kc_recv(b, KW_API_SYNC_GROUP, 5, sid, &sb, KC_WAIT_MS) != KW_OK || sb.error_code)
        return -1;
    return ja.generation_id;
}

/* --- tests ------------------------------------------------------------------------------------ */

static void test_two_members_join_sync_and_heartbeat_through_a_rebalance(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a, b;
    char ma[64] = "", mb[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    CU_ASSERT_EQUAL(conn(&e, &b, 1), 0);

    /* A alone: MEMBER_ID_REQUIRED, then generation 1 at once, A the leader of itself. */
    struct kw_join_group_resp ja, jb;
    int32_t id = join_new_send(&a, ma);
    CU_ASSERT(id > 0 && strncmp(ma, "kwtest-", 7) == 0);
    CU_ASSERT_EQUAL(join_recv(&a, 5, id, &ja), KW_OK);
    CU_ASSERT_EQUAL(ja.error_code, 0);
    CU_ASSERT_EQUAL(ja.generation_id, 1);
    CU_ASSERT(kw_str_eq(ja.protocol_name, "range") && kw_str_eq(ja.leader, ma));
    CU_ASSERT(kw_str_eq(ja.member_id, ma) && ja.n_members == 1);
    struct kw_sync_group_req_assignment as1[] = {
        { .member_id = kw_str_c(ma), .assignment = { (const uint8_t *)"AA", 2 } },
    };
    struct kw_sync_group_resp s;
    CU_ASSERT_EQUAL(sync_call(&a, 1, ma, as1, 1, &s), 0);
    CU_ASSERT(s.assignment.len == 2 && memcmp(s.assignment.ptr, "AA", 2) == 0);
    CU_ASSERT_EQUAL(heartbeat(&a, 1, ma), 0);

    /* B joins: held until A rejoins; meanwhile A is told to rejoin. */
    int32_t idb = join_new_send(&b, mb);
    CU_ASSERT(idb > 0 && strcmp(ma, mb) != 0);
    CU_ASSERT_EQUAL(wait_requests(&e, KW_API_JOIN_GROUP, 4), 0);
    event_base_loop(e.base, EVLOOP_NONBLOCK);
    CU_ASSERT(!kc_readable(&b));
    CU_ASSERT_EQUAL(heartbeat(&a, 1, ma), KW_EC_REBALANCE_IN_PROGRESS);
    CU_ASSERT_EQUAL(sync_call(&a, 1, ma, as1, 1, &s), KW_EC_REBALANCE_IN_PROGRESS);
    CU_ASSERT_EQUAL(join_recv(&a, 5, join_send(&a, 5, ma), &ja), KW_OK);
    CU_ASSERT_EQUAL(join_recv(&b, 5, idb, &jb), KW_OK);
    CU_ASSERT(ja.error_code == 0 && jb.error_code == 0);
    CU_ASSERT(ja.generation_id == 2 && jb.generation_id == 2);
    CU_ASSERT(kw_str_eq(ja.leader, ma) && kw_str_eq(jb.leader, ma));
    CU_ASSERT_EQUAL(ja.n_members, 2);       /* only the leader sees the members */
    CU_ASSERT_EQUAL(jb.n_members, 0);
    if (ja.n_members == 2)
        CU_ASSERT(ja.members[0].metadata.len == 2 && ja.members[0].metadata.ptr[1] == 1);

    /* B's SyncGroup waits for the leader's assignment. */
    struct kw_sync_group_req b_sync = {
        .group_id = kw_str_c(GROUP), .generation_id = 2, .member_id = kw_str_c(mb),
        .group_instance_id = KW_STR_NULL, .protocol_type = KW_STR_NULL,
        .protocol_name = KW_STR_NULL,
    };
    int32_t sid = kc_send(&b, KW_API_SYNC_GROUP, 5, &b_sync);
    CU_ASSERT_EQUAL(wait_requests(&e, KW_API_SYNC_GROUP, 3), 0);
    event_base_loop(e.base, EVLOOP_NONBLOCK);
    CU_ASSERT(!kc_readable(&b));
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), 0);   /* CompletingRebalance: heartbeats are fine */
    struct kw_sync_group_req_assignment as2[] = {
        { .member_id = kw_str_c(ma), .assignment = { (const uint8_t *)"A2", 2 } },
        { .member_id = kw_str_c(mb), .assignment = { (const uint8_t *)"B2!", 3 } },
    };
    CU_ASSERT_EQUAL(sync_call(&a, 2, ma, as2, 2, &s), 0);
    CU_ASSERT(s.assignment.len == 2 && memcmp(s.assignment.ptr, "A2", 2) == 0);
    struct kw_sync_group_resp sb;
    CU_ASSERT_EQUAL(kc_recv(&b, KW_API_SYNC_GROUP, 5, sid, &sb, KC_WAIT_MS), KW_OK);
    CU_ASSERT(sb.error_code == 0 && sb.assignment.len == 3);
    CU_ASSERT(kw_str_eq(sb.protocol_name, "range") && kw_str_eq(sb.protocol_type, "consumer"));
    CU_ASSERT_EQUAL(heartbeat(&b, 2, mb), 0);
    CU_ASSERT_EQUAL(heartbeat(&b, 1, mb), KW_EC_ILLEGAL_GENERATION);
    CU_ASSERT_EQUAL(sync_call(&a, 1, ma, as2, 2, &s), KW_EC_ILLEGAL_GENERATION);

    struct kw_describe_groups_resp_group d;
    CU_ASSERT_EQUAL(describe(&a, &d), 0);
    CU_ASSERT(d.error_code == 0 && kw_str_eq(d.group_state, "Stable"));
    CU_ASSERT(kw_str_eq(d.protocol_type, "consumer") && kw_str_eq(d.protocol_data, "range"));
    CU_ASSERT_EQUAL(d.n_members, 2);
    if (d.n_members == 2)
        CU_ASSERT(kw_str_eq(d.members[1].client_id, "kwtest") &&
                  d.members[1].member_assignment.len == 3);
    kc_close(&a);
    kc_close(&b);
    env_stop(&e);
}

static void test_a_v3_join_gets_a_member_id_at_once(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a;
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL(join_recv(&a, 3, join_send(&a, 3, ""), &j), KW_OK);
    CU_ASSERT(j.error_code == 0 && j.generation_id == 1 && j.member_id.len > 0);
    CU_ASSERT(kw_str_eq(j.leader, "") == false);
    kc_close(&a);
    env_stop(&e);
}

static void test_session_expiry_on_the_virtual_clock_removes_the_member(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a, b;
    char ma[64] = "", mb[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    CU_ASSERT_EQUAL(conn(&e, &b, 1), 0);
    CU_ASSERT_EQUAL_FATAL(two_stable(&e, &a, ma, &b, mb), 2);

    /* A keeps heartbeating, B goes quiet: only B's session runs out. */
    CU_ASSERT_EQUAL(kw_vclock_advance(e.v, (SESSION_MS - 1000) * 1000LL), 0);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), 0);
    CU_ASSERT_EQUAL(heartbeat(&b, 2, mb), 0);
    CU_ASSERT_EQUAL(kw_vclock_advance(e.v, (SESSION_MS - 1000) * 1000LL), 0);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), 0);
    CU_ASSERT(kw_vclock_advance(e.v, 1001000) >= 1);    /* B's session: 6 s since its beat */
    CU_ASSERT_EQUAL(heartbeat(&b, 2, mb), KW_EC_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), KW_EC_REBALANCE_IN_PROGRESS);
    struct kw_describe_groups_resp_group d;
    CU_ASSERT_EQUAL(describe(&a, &d), 0);
    CU_ASSERT(kw_str_eq(d.group_state, "PreparingRebalance") && d.n_members == 1);
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL(join_recv(&a, 5, join_send(&a, 5, ma), &j), KW_OK);
    CU_ASSERT(j.error_code == 0 && j.generation_id == 3 && j.n_members == 1);

    /* Then A goes quiet too: the group ends Empty. */
    CU_ASSERT(kw_vclock_advance(e.v, SESSION_MS * 1000LL) >= 1);
    CU_ASSERT_EQUAL(describe(&a, &d), 0);
    CU_ASSERT(kw_str_eq(d.group_state, "Empty") && d.n_members == 0);
    CU_ASSERT_EQUAL(heartbeat(&a, 3, ma), KW_EC_UNKNOWN_MEMBER_ID);
    kc_close(&a);
    kc_close(&b);
    env_stop(&e);
}

static void test_a_member_that_does_not_rejoin_is_dropped_at_the_rebalance_timeout(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a, b;
    char ma[64] = "", mb[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    CU_ASSERT_EQUAL(conn(&e, &b, 1), 0);
    CU_ASSERT_EQUAL_FATAL(two_stable(&e, &a, ma, &b, mb), 2);
    int32_t id = join_send(&b, 5, mb);
    CU_ASSERT_EQUAL(wait_requests(&e, KW_API_JOIN_GROUP, 5), 0);
    event_base_loop(e.base, EVLOOP_NONBLOCK);
    CU_ASSERT(!kc_readable(&b));
    /* The rebalance timeout (10 s) runs out before A's session (6 s... restarted at each
     * beat), so keep A alive without rejoining. */
    CU_ASSERT_EQUAL(kw_vclock_advance(e.v, 5000000), 0);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), KW_EC_REBALANCE_IN_PROGRESS);
    CU_ASSERT(kw_vclock_advance(e.v, 5000000) >= 1);
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL(join_recv(&b, 5, id, &j), KW_OK);
    CU_ASSERT(j.error_code == 0 && j.generation_id == 3);
    CU_ASSERT(kw_str_eq(j.leader, mb) && j.n_members == 1);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), KW_EC_UNKNOWN_MEMBER_ID);
    kc_close(&a);
    kc_close(&b);
    env_stop(&e);
}

static void test_leave_group_rebalances_the_others_and_v3_answers_per_member(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a, b;
    char ma[64] = "", mb[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    CU_ASSERT_EQUAL(conn(&e, &b, 1), 0);
    CU_ASSERT_EQUAL_FATAL(two_stable(&e, &a, ma, &b, mb), 2);
    struct kw_leave_group_req_member lm[] = {
        { .member_id = kw_str_c(mb), .group_instance_id = KW_STR_NULL },
        { .member_id = kw_str_c("nobody"), .group_instance_id = KW_STR_NULL },
    };
    struct kw_leave_group_req req = {
        .group_id = kw_str_c(GROUP), .members = lm, .n_members = 2,
    };
    struct kw_leave_group_resp resp;
    CU_ASSERT_EQUAL(kc_call(&b, KW_API_LEAVE_GROUP, 4, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.error_code, 0);
    CU_ASSERT_EQUAL_FATAL(resp.n_members, 2);
    CU_ASSERT(resp.members[0].error_code == 0 && kw_str_eq(resp.members[0].member_id, mb));
    CU_ASSERT_EQUAL(resp.members[1].error_code, KW_EC_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), KW_EC_REBALANCE_IN_PROGRESS);
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL(join_recv(&a, 5, join_send(&a, 5, ma), &j), KW_OK);
    CU_ASSERT(j.error_code == 0 && j.generation_id == 3 && j.n_members == 1);
    /* v1: one member, errors at the top. */
    struct kw_leave_group_req old = { .group_id = kw_str_c(GROUP), .member_id = kw_str_c(mb) };
    CU_ASSERT_EQUAL(kc_call(&b, KW_API_LEAVE_GROUP, 1, &old, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.error_code, KW_EC_UNKNOWN_MEMBER_ID);
    old.member_id = kw_str_c(ma);
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_LEAVE_GROUP, 1, &old, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.error_code, 0);
    struct kw_describe_groups_resp_group d;
    CU_ASSERT_EQUAL(describe(&a, &d), 0);
    CU_ASSERT(kw_str_eq(d.group_state, "Empty") && d.n_members == 0);
    kc_close(&a);
    kc_close(&b);
    env_stop(&e);
}

static int16_t commit(struct kc_conn *k, int version, int32_t generation, const char *member,
                      const char *topic, int32_t partition, int64_t offset, const char *meta)
{
    struct kw_offset_commit_req_partition p = {
        .partition_index = partition, .committed_offset = offset,
        .committed_leader_epoch = -1, .commit_timestamp = -1,
        .committed_metadata = kw_str_c(meta),
    };
    struct kw_offset_commit_req_topic t = {
        .name = kw_str_c(topic), .partitions = &p, .n_partitions = 1,
    };
    struct kw_offset_commit_req req = {
        .group_id = kw_str_c(GROUP), .generation_id_or_member_epoch = generation,
        .member_id = kw_str_c(member), .group_instance_id = KW_STR_NULL,
        .retention_time_ms = -1, .topics = &t, .n_topics = 1,
    };
    struct kw_offset_commit_resp resp;
    if (kc_call(k, KW_API_OFFSET_COMMIT, version, &req, &resp) != KW_OK || resp.n_topics != 1 ||
        resp.topics[0].n_partitions != 1)
        return -1;
    return resp.topics[0].partitions[0].error_code;
}

static void test_offsets_commit_and_fetch_by_partition_and_for_the_whole_group(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a;
    char ma[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    /* A groupless commit (generation -1) creates an empty group. */
    CU_ASSERT_EQUAL(commit(&a, 2, -1, "", "t", 0, 5, "m0"), 0);
    CU_ASSERT_EQUAL(commit(&a, 8, -1, "", "nope", 0, 5, NULL), KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(commit(&a, 8, -1, "", "t", 9, 5, NULL), KW_EC_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(one_stable(&e, &a, ma), 1);
    /* Now the group has a member: generation and member id count. */
    CU_ASSERT_EQUAL(commit(&a, 8, -1, "", "t", 1, 7, NULL), KW_EC_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(commit(&a, 8, 9, ma, "t", 1, 7, NULL), KW_EC_ILLEGAL_GENERATION);
    CU_ASSERT_EQUAL(commit(&a, 8, 1, ma, "t", 1, 42, "meta"), 0);
    CU_ASSERT_EQUAL(commit(&a, 1, 1, ma, "t", 0, 6, ""), 0);
    char big[4200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    CU_ASSERT_EQUAL(commit(&a, 8, 1, ma, "t", 0, 8, big), KW_EC_OFFSET_METADATA_TOO_LARGE);

    int32_t parts[] = { 0, 1, 5 };
    struct kw_offset_fetch_req_topic rt = {
        .name = kw_str_c("t"), .partition_indexes = parts, .n_partition_indexes = 3,
    };
    struct kw_offset_fetch_req req = { .group_id = kw_str_c(GROUP), .topics = &rt, .n_topics = 1 };
    struct kw_offset_fetch_resp resp;
    for (int v = 1; v <= 7; v += 3) {
        CU_ASSERT_EQUAL(kc_call(&a, KW_API_OFFSET_FETCH, v, &req, &resp), KW_OK);
        CU_ASSERT_EQUAL_FATAL(resp.n_topics, 1);
        CU_ASSERT_EQUAL_FATAL(resp.topics[0].n_partitions, 3);
        const struct kw_offset_fetch_resp_partition *p = resp.topics[0].partitions;
        CU_ASSERT(p[0].committed_offset == 6 && p[0].error_code == 0);
        CU_ASSERT(p[1].committed_offset == 42 && kw_str_eq(p[1].metadata, "meta"));
        CU_ASSERT(p[2].committed_offset == -1 && p[2].error_code == 0);
    }
    /* v2+: a null topic list asks for everything committed. */
    struct kw_offset_fetch_req all = { .group_id = kw_str_c(GROUP), .n_topics = -1 };
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_OFFSET_FETCH, 7, &all, &resp), KW_OK);
    CU_ASSERT_EQUAL_FATAL(resp.n_topics, 1);
    CU_ASSERT(kw_str_eq(resp.topics[0].name, "t") && resp.topics[0].n_partitions == 2);
    /* An unknown group has nothing committed, and no error. */
    struct kw_offset_fetch_req other = { .group_id = kw_str_c("other"), .topics = &rt,
                                         .n_topics = 1 };
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_OFFSET_FETCH, 7, &other, &resp), KW_OK);
    CU_ASSERT(resp.error_code == 0 && resp.n_topics == 1 &&
              resp.topics[0].partitions[1].committed_offset == -1);
    kc_close(&a);
    env_stop(&e);
}

static void test_group_requests_at_another_broker_get_not_coordinator(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 3), 0);
    int other = e.coordinator % 3 + 1;
    struct kc_conn k;
    CU_ASSERT_EQUAL(conn(&e, &k, other), 0);
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL(join_recv(&k, 5, join_send(&k, 5, ""), &j), KW_OK);
    CU_ASSERT_EQUAL(j.error_code, KW_EC_NOT_COORDINATOR);
    CU_ASSERT_EQUAL(heartbeat(&k, 1, "m"), KW_EC_NOT_COORDINATOR);
    CU_ASSERT_EQUAL(commit(&k, 8, -1, "", "t", 0, 1, NULL), KW_EC_NOT_COORDINATOR);
    struct kw_offset_fetch_req all = { .group_id = kw_str_c(GROUP), .n_topics = -1 };
    struct kw_offset_fetch_resp f;
    CU_ASSERT_EQUAL(kc_call(&k, KW_API_OFFSET_FETCH, 5, &all, &f), KW_OK);
    CU_ASSERT_EQUAL(f.error_code, KW_EC_NOT_COORDINATOR);
    struct kw_describe_groups_resp_group d;
    CU_ASSERT_EQUAL(describe(&k, &d), 0);
    CU_ASSERT_EQUAL(d.error_code, KW_EC_NOT_COORDINATOR);
    kc_close(&k);
    /* The coordinator itself answers. */
    CU_ASSERT_EQUAL(conn(&e, &k, e.coordinator), 0);
    CU_ASSERT_EQUAL(join_recv(&k, 5, join_send(&k, 5, ""), &j), KW_OK);
    CU_ASSERT_EQUAL(j.error_code, KW_EC_MEMBER_ID_REQUIRED);
    kc_close(&k);
    env_stop(&e);
}

static void test_unknown_members_and_bad_timeouts_are_refused(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a;
    char ma[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL(join_recv(&a, 5, join_send(&a, 5, "made-up"), &j), KW_OK);
    CU_ASSERT_EQUAL(j.error_code, KW_EC_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(j.generation_id, -1);
    CU_ASSERT_EQUAL(one_stable(&e, &a, ma), 1);
    CU_ASSERT_EQUAL(join_recv(&a, 7, join_send(&a, 7, "made-up"), &j), KW_OK);
    CU_ASSERT_EQUAL(j.error_code, KW_EC_UNKNOWN_MEMBER_ID);
    struct kw_sync_group_resp s;
    CU_ASSERT_EQUAL(sync_call(&a, 1, "made-up", NULL, 0, &s), KW_EC_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(heartbeat(&a, 1, "made-up"), KW_EC_UNKNOWN_MEMBER_ID);
    struct kw_join_group_req bad = {
        .group_id = kw_str_c(GROUP), .session_timeout_ms = 100, .rebalance_timeout_ms = 100,
        .member_id = kw_str_c(""), .group_instance_id = KW_STR_NULL,
        .protocol_type = kw_str_c("consumer"), .protocols = protocols, .n_protocols = 1,
    };
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_JOIN_GROUP, 5, &bad, &j), KW_OK);
    CU_ASSERT_EQUAL(j.error_code, KW_EC_INVALID_SESSION_TIMEOUT);
    bad.session_timeout_ms = SESSION_MS;
    bad.protocol_type = kw_str_c("connect");
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_JOIN_GROUP, 5, &bad, &j), KW_OK);
    CU_ASSERT_EQUAL(j.error_code, KW_EC_INCONSISTENT_GROUP_PROTOCOL);
    bad.group_id = kw_str_c("");
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_JOIN_GROUP, 5, &bad, &j), KW_OK);
    CU_ASSERT_EQUAL(j.error_code, KW_EC_INVALID_GROUP_ID);
    kc_close(&a);
    env_stop(&e);
}

static void test_a_held_join_whose_client_left_counts_until_its_session_ends(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a, b;
    char ma[64] = "", mb[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    CU_ASSERT_EQUAL(conn(&e, &b, 1), 0);
    CU_ASSERT_EQUAL_FATAL(one_stable(&e, &a, ma), 1);
    CU_ASSERT(join_new_send(&b, mb) > 0);
    CU_ASSERT_EQUAL(wait_requests(&e, KW_API_JOIN_GROUP, 4), 0);
    kc_close(&b);               /* B's join is held; its client goes */
    for (int i = 0; i < 10; i++)
        event_base_loop(e.base, EVLOOP_NONBLOCK);
    /* As on a muted Kafka channel, the held join still counts: A's rejoin completes it, and
     * B's answer goes nowhere. */
    struct kw_join_group_resp j;
    CU_ASSERT_EQUAL(join_recv(&a, 5, join_send(&a, 5, ma), &j), KW_OK);
    CU_ASSERT(j.error_code == 0 && j.generation_id == 2 && j.n_members == 2);
    struct kw_sync_group_resp s;
    CU_ASSERT_EQUAL(sync_call(&a, 2, ma, NULL, 0, &s), 0);
    for (int i = 0; i < 10; i++)
        event_base_loop(e.base, EVLOOP_NONBLOCK);
    /* B never beats: its session ends, and A is asked to rejoin alone. */
    CU_ASSERT_EQUAL(kw_vclock_advance(e.v, 5000000), 0);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), 0);
    CU_ASSERT(kw_vclock_advance(e.v, 2000000) >= 1);
    CU_ASSERT_EQUAL(heartbeat(&a, 2, ma), KW_EC_REBALANCE_IN_PROGRESS);
    CU_ASSERT_EQUAL(join_recv(&a, 5, join_send(&a, 5, ma), &j), KW_OK);
    CU_ASSERT(j.error_code == 0 && j.generation_id == 3 && j.n_members == 1);
    kc_close(&a);
    env_stop(&e);
}

static void test_list_groups_names_the_coordinators_groups_with_their_state(void)
{
    struct env e;
    CU_ASSERT_EQUAL_FATAL(env_start(&e, 1), 0);
    struct kc_conn a;
    char ma[64] = "";
    CU_ASSERT_EQUAL(conn(&e, &a, 1), 0);
    CU_ASSERT_EQUAL(one_stable(&e, &a, ma), 1);
    struct kw_list_groups_req req = { 0 };
    struct kw_list_groups_resp resp;
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_LIST_GROUPS, 4, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL_FATAL(resp.n_groups, 1);
    CU_ASSERT(kw_str_eq(resp.groups[0].group_id, GROUP));
    CU_ASSERT(kw_str_eq(resp.groups[0].protocol_type, "consumer"));
    CU_ASSERT(kw_str_eq(resp.groups[0].group_state, "Stable"));
    struct kw_str empty[] = { kw_str_c("Empty") };
    req.states_filter = empty;
    req.n_states_filter = 1;
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_LIST_GROUPS, 4, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.n_groups, 0);
    CU_ASSERT_EQUAL(kc_call(&a, KW_API_LIST_GROUPS, 0, &req, &resp), KW_OK);
    CU_ASSERT_EQUAL(resp.n_groups, 1);      /* no filter before v4 */
    kc_close(&a);
    env_stop(&e);
}

CU_TestInfo kwt_groups_broker_tests[] = {
    { "Two members join, sync and heartbeat through a rebalance",
      test_two_members_join_sync_and_heartbeat_through_a_rebalance },
    { "A v3 join gets a member id at once", test_a_v3_join_gets_a_member_id_at_once },
    { "Session expiry on the virtual clock removes the member",
      test_session_expiry_on_the_virtual_clock_removes_the_member },
    { "A member that does not rejoin is dropped at the rebalance timeout",
      test_a_member_that_does_not_rejoin_is_dropped_at_the_rebalance_timeout },
    { "LeaveGroup rebalances the others and v3 answers per member",
      test_leave_group_rebalances_the_others_and_v3_answers_per_member },
    { "Offsets commit and fetch by partition and for the whole group",
      test_offsets_commit_and_fetch_by_partition_and_for_the_whole_group },
    { "Group requests at another broker get NOT_COORDINATOR",
      test_group_requests_at_another_broker_get_not_coordinator },
    { "Unknown members and bad timeouts are refused",
      test_unknown_members_and_bad_timeouts_are_refused },
    { "A held join whose client left counts until its session ends",
      test_a_held_join_whose_client_left_counts_until_its_session_ends },
    { "ListGroups names the coordinator's groups with their state",
      test_list_groups_names_the_coordinators_groups_with_their_state },
    CU_TEST_INFO_NULL,
};
