/* The group coordinator: consumer groups and their committed offsets, on the cluster's clock.
 * It follows Kafka's classic GroupCoordinator (Empty -> PreparingRebalance -> CompletingRebalance
 * -> Stable) closely enough for clients: JoinGroup answers are held until every known member has
 * rejoined or the rebalance timeout runs out, SyncGroup answers until the leader has sent the
 * assignment, and a member whose session times out is removed and the group rebalances.
 * Held requests sit in the group's lists through their wait_link, so a closing connection
 * unlinks them itself (mb__req_free) and no member keeps a pointer to a request.
 * Unlike Kafka: no initial rebalance delay (a new group completes its first join at once), no
 * static membership (group.instance.id is kept for DescribeGroups only), any rejoin of a
 * Stable group starts a rebalance, offsets never expire and live in memory, not in
 * __consumer_offsets. Transactional offsets (TxnOffsetCommit) wait per producer id until the
 * transaction coordinator ends the transaction (mb__group_txn_offsets_complete). */
#include "mockbroker/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/hash.h"
#include "lib/proto/describe_groups.h"
#include "lib/proto/heartbeat.h"
#include "lib/proto/join_group.h"
#include "lib/proto/leave_group.h"
#include "lib/proto/list_groups.h"
#include "lib/proto/offset_commit.h"
#include "lib/proto/offset_fetch.h"
#include "lib/proto/sync_group.h"
#include "lib/proto/txn_offset_commit.h"

/* Kafka's group.min.session.timeout.ms and group.max.session.timeout.ms defaults. */
#define MIN_SESSION_MS 6000
#define MAX_SESSION_MS 1800000
/* Kafka's offset.metadata.max.bytes default. */
#define MAX_METADATA 4096

enum state { EMPTY, PREPARING, COMPLETING, STABLE };
static const char *const state_names[] = {
    "Empty", "PreparingRebalance", "CompletingRebalance", "Stable",
};

struct proto {
    char *name;
    uint8_t *meta;
    int32_t len;
};

struct member {
    struct mb__group *g;
    char *id, *instance_id, *client_id, *client_host;
    int32_t session_ms, rebalance_ms;
    struct proto *protos;
    int n_protos;
    uint8_t *assignment;
    int32_t assignment_len;
    uint64_t session_timer;
};

struct offset {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
};

/* An offset committed inside a transaction (TxnOffsetCommit): applied when the transaction
 * commits, dropped when it aborts. */
struct txn_offset {
    int64_t producer_id;
    struct offset o;
};

struct mb__group {
    struct mb_cluster *c;
    char *id;
    enum state state;
    int32_t generation;
    char *protocol_type;            /* of the members; NULL while empty */
    char *protocol;                 /* chosen at the last completed join, or NULL */
    char *leader;                   /* a member id, or NULL */
    struct member **members;        /* in join order: the first is the leader by default */
    int n_members, cap_members;
    char **pending;                 /* ids handed out with MEMBER_ID_REQUIRED (KIP-394) */
    int n_pending, cap_pending;
    struct mb__wait_list joins;     /* held JoinGroup requests; req->wait is the member id */
    struct mb__wait_list syncs;     /* held SyncGroup requests, likewise */
    uint64_t rebalance_timer;
    struct offset *offsets;
    size_t n_offsets, cap_offsets;
    struct txn_offset *txn_offsets; /* pending, in the order committed */
    size_t n_txn_offsets, cap_txn_offsets;
    LIST_ENTRY(mb__group) link;
};

/* --- lookup ----------------------------------------------------------------------------------- */

static struct mb__group *group_find(struct mb_cluster *c, struct kw_str id)
{
    struct mb__group *g;
    LIST_FOREACH(g, &c->groups, link)
        if (kw_str_eq(id, g->id))
            return g;
    return NULL;
}

static struct mb__group *group_get(struct mb_cluster *c, struct kw_str id)
{
    struct mb__group *g = group_find(c, id);
    if (g)
        return g;
    if ((g = calloc(1, sizeof(*g))) == NULL || (g->id = mb__dup_str(id)) == NULL) {
        free(g);
        return NULL;
    }
    g->c = c;
    LIST_INIT(&g->joins);
    LIST_INIT(&g->syncs);
    LIST_INSERT_HEAD(&c->groups, g, link);
    return g;
}

static struct member *member_find(struct mb__group *g, struct kw_str id)
{
    if (g == NULL || id.len <= 0)
        return NULL;
    for (int i = 0; i < g->n_members; i++)
        if (kw_str_eq(id, g->members[i]->id))
            return g->members[i];
    return NULL;
}

static struct mb__req *held_find(struct mb__wait_list *list, const char *member_id)
{
    struct mb__req *req;
    LIST_FOREACH(req, list, wait_link)
        if (strcmp(req->wait, member_id) == 0)
            return req;
    return NULL;
}

static int pending_find(struct mb__group *g, struct kw_str id)
{
    for (int i = 0; i < g->n_pending; i++)
        if (kw_str_eq(id, g->pending[i]))
            return i;
    return -1;
}

int mb__group_coordinator(struct mb_cluster *c, struct kw_str group_id)
{
    int32_t pick = kw_partition_murmur2(group_id.ptr ? group_id.ptr : "",
                                        group_id.len > 0 ? (size_t)group_id.len : 0, c->n_brokers);
    for (int i = 0; i < c->n_brokers; i++) {
        const struct mb__broker *b = &c->brokers[(pick + i) % c->n_brokers];
        if (b->state != MB_BROKER_DOWN)
            return b->id;
    }
    return -1;
}

int16_t mb__group_check(struct mb__req *req, struct kw_str group_id)
{
    int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, KW_STR_NULL, -1, NULL) : 0;
    if (ec)
        return ec;
    if (group_id.len <= 0)
        return KW_EC_INVALID_GROUP_ID;
    if (mb__group_coordinator(req->c, group_id) != req->broker->id)
        return KW_EC_NOT_COORDINATOR;
    return 0;
}

/* --- members ---------------------------------------------------------------------------------- */

/* Kafka names members clientId-UUID; ours come from the seed and a counter, so runs repeat. */
static char *member_id_new(struct mb_cluster *c, struct kw_str client_id)
{
    uint64_t x = c->seed ^ (0x9e3779b97f4a7c15ULL * ++c->member_seq);
    uint64_t h[2];
    for (int i = 0; i < 2; i++) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        h[i] = z ^ (z >> 31);
    }
    int n = client_id.len > 0 ? client_id.len : 0;
    size_t size = (size_t)n + 40;
    char *id = malloc(size);
    if (id)
        snprintf(id, size, "%.*s-%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-8%03" PRIx32
                 "-%012" PRIx64, n, n ? client_id.ptr : "", (uint32_t)(h[0] >> 32),
                 (uint32_t)(h[0] >> 16) & 0xffff, (uint32_t)h[0] & 0xfff,
                 (uint32_t)(h[1] >> 48) & 0xfff, (uint64_t)(h[1] & 0xffffffffffffULL));
    return id;
}

static void protos_free(struct member *m)
{
    for (int i = 0; i < m->n_protos; i++) {
        free(m->protos[i].name);
        free(m->protos[i].meta);
    }
    free(m->protos);
    m->protos = NULL;
    m->n_protos = 0;
}

static int protos_set(struct member *m, const struct kw_join_group_req *jr)
{
    protos_free(m);
    int n = jr->n_protocols > 0 ? jr->n_protocols : 0;
    if ((m->protos = calloc((size_t)n + 1, sizeof(*m->protos))) == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        const struct kw_join_group_req_protocol *p = &jr->protocols[i];
        int32_t len = p->metadata.len > 0 ? p->metadata.len : 0;
        m->protos[i].name = mb__dup_str(p->name);
        m->protos[i].meta = malloc((size_t)len + 1);
        m->protos[i].len = len;
        m->n_protos = i + 1;
        if (m->protos[i].name == NULL || m->protos[i].meta == NULL)
            return -1;
        if (len)
            memcpy(m->protos[i].meta, p->metadata.ptr, (size_t)len);
    }
    return 0;
}

static const struct proto *proto_find(const struct member *m, const char *name)
{
    for (int i = 0; i < m->n_protos; i++)
        if (strcmp(m->protos[i].name, name) == 0)
            return &m->protos[i];
    return NULL;
}

static void session_cb(void *arg);

static void session_stop(struct member *m)
{
    if (m->session_timer)
        kw_timer_cancel(m->g->c->clock, m->session_timer);
    m->session_timer = 0;
}

/* The member showed signs of life: its session starts again. */
static void session_touch(struct member *m)
{
    session_stop(m);
    m->session_timer = kw_timer_add(m->g->c->clock, (int64_t)m->session_ms * 1000, session_cb, m);
}

static void hold(struct mb__wait_list *list, struct mb__req *req, const char *member_id)
{
    size_t n = strlen(member_id) + 1;
    char *id = kw_arena_alloc(&req->arena, n);
    if (id == NULL) {
        mb__conn_close(req->conn, "out of memory holding a group request");
        return;
    }
    memcpy(id, member_id, n);
    req->wait = id;
    req->waiting = true;
    LIST_INSERT_HEAD(list, req, wait_link);
}

static void unhold(struct mb__req *req)
{
    if (req->waiting)
        LIST_REMOVE(req, wait_link);
    req->waiting = false;
}

static void join_error(struct mb__req *req, int16_t ec, const char *member_id)
{
    struct kw_join_group_resp resp = {
        .error_code = ec, .generation_id = -1, .protocol_type = KW_STR_NULL,
        .protocol_name = req->version >= 7 ? KW_STR_NULL : kw_str_c(""),
        .leader = kw_str_c(""), .member_id = kw_str_c(member_id ? member_id : ""),
    };
    unhold(req);
    mb__respond(req, &resp);
}

static void sync_answer(struct mb__req *req, int16_t ec, const struct member *m)
{
    const struct mb__group *g = m ? m->g : NULL;
    struct kw_sync_group_resp resp = {
        .error_code = ec, .protocol_type = KW_STR_NULL, .protocol_name = KW_STR_NULL,
        .assignment = { (const uint8_t *)"", 0 },
    };
    if (ec == 0 && m) {
        resp.protocol_type = kw_str_c(g->protocol_type);
        resp.protocol_name = kw_str_c(g->protocol);
        if (m->assignment)
            resp.assignment = (struct kw_bytes){ m->assignment, m->assignment_len };
    }
    unhold(req);
    mb__respond(req, &resp);
}

static void member_free(struct member *m)
{
    session_stop(m);
    protos_free(m);
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m->assignment);
    free(m);
}

/* Drops a member; its held requests are answered UNKNOWN_MEMBER_ID. */
static void member_remove(struct member *m)
{
    struct mb__group *g = m->g;
    struct mb__req *req;
    while ((req = held_find(&g->joins, m->id)) != NULL)
        join_error(req, KW_EC_UNKNOWN_MEMBER_ID, m->id);
    while ((req = held_find(&g->syncs, m->id)) != NULL)
        sync_answer(req, KW_EC_UNKNOWN_MEMBER_ID, NULL);
    for (int i = 0; i < g->n_members; i++)
        if (g->members[i] == m) {
            memmove(&g->members[i], &g->members[i + 1],
                    sizeof(*g->members) * (size_t)(g->n_members - i - 1));
            g->n_members--;
            break;
        }
    if (g->leader && strcmp(g->leader, m->id) == 0) {
        free(g->leader);
        g->leader = NULL;
    }
    member_free(m);
}

/* --- rebalancing ------------------------------------------------------------------------------ */

static void rebalance_cb(void *arg);

/* Every member wants a protocol; the first of the leader's... precisely: the first protocol of
 * the first member that every other member also supports. */
static const char *choose_protocol(const struct mb__group *g)
{
    const struct member *first = g->members[0];
    for (int i = 0; i < first->n_protos; i++) {
        bool all = true;
        for (int j = 1; j < g->n_members && all; j++)
            all = proto_find(g->members[j], first->protos[i].name) != NULL;
        if (all)
            return first->protos[i].name;
    }
    return NULL;
}

static void join_answer(struct mb__group *g, struct mb__req *req, struct member *m)
{
    bool leader = strcmp(g->leader, m->id) == 0;
    struct kw_join_group_resp resp = {
        .generation_id = g->generation, .protocol_type = kw_str_c(g->protocol_type),
        .protocol_name = kw_str_c(g->protocol), .leader = kw_str_c(g->leader),
        .member_id = kw_str_c(m->id),
    };
    if (leader) {
        resp.members = kw_arena_alloc(&req->arena, sizeof(*resp.members) * (size_t)g->n_members);
        if (resp.members == NULL) {
            unhold(req);
            mb__conn_close(req->conn, "out of memory answering JoinGroup");
            return;
        }
        for (int i = 0; i < g->n_members; i++) {
            const struct member *o = g->members[i];
            const struct proto *p = proto_find(o, g->protocol);
            resp.members[i] = (struct kw_join_group_resp_member){
                .member_id = kw_str_c(o->id), .group_instance_id = kw_str_c(o->instance_id),
                .metadata = { p->meta, p->len },
            };
        }
        resp.n_members = g->n_members;
    }
    unhold(req);
    mb__respond(req, &resp);
}

/* Ends the join phase: members that did not rejoin are dropped, the generation moves on, and
 * every held JoinGroup is answered (the leader's with the members' metadata). */
static void complete_join(struct mb__group *g)
{
    struct mb_cluster *c = g->c;
    if (g->rebalance_timer)
        kw_timer_cancel(c->clock, g->rebalance_timer);
    g->rebalance_timer = 0;
    for (int i = 0; i < g->n_members;) {
        if (held_find(&g->joins, g->members[i]->id) == NULL) {
            mb__log(c, MB_LOG_INFO, "group %s: member %s did not rejoin in time", g->id,
                    g->members[i]->id);
            member_remove(g->members[i]);
        } else {
            i++;
        }
    }
    g->generation++;
    free(g->protocol);
    g->protocol = NULL;
    if (g->n_members == 0) {
        g->state = EMPTY;
        free(g->protocol_type);
        g->protocol_type = NULL;
        mb__log(c, MB_LOG_INFO, "group %s: generation %" PRId32 " is empty", g->id,
                g->generation);
        return;
    }
    const char *p = choose_protocol(g);
    if (g->leader == NULL)
        g->leader = strdup(g->members[0]->id);
    if ((g->protocol = strdup(p ? p : "")) == NULL || g->leader == NULL || p == NULL) {
        /* Joins check the protocols, so only memory can fail here: the members start over. */
        struct mb__req *req;
        while ((req = LIST_FIRST(&g->joins)) != NULL)
            join_error(req, p ? KW_EC_UNKNOWN_SERVER_ERROR : KW_EC_INCONSISTENT_GROUP_PROTOCOL,
                       req->wait);
        while (g->n_members)
            member_remove(g->members[0]);
        g->state = EMPTY;
        return;
    }
    g->state = COMPLETING;
    for (int i = 0; i < g->n_members; i++) {
        free(g->members[i]->assignment);
        g->members[i]->assignment = NULL;
        session_touch(g->members[i]);
    }
    mb__log(c, MB_LOG_INFO, "group %s: generation %" PRId32 ", %d members, protocol %s, "
            "leader %s", g->id, g->generation, g->n_members, g->protocol, g->leader);
    struct mb__req *req;
    while ((req = LIST_FIRST(&g->joins)) != NULL) {
        struct member *m = member_find(g, kw_str_c(req->wait));
        if (m)
            join_answer(g, req, m);
        else
            join_error(req, KW_EC_UNKNOWN_MEMBER_ID, req->wait);
    }
}

static void try_complete(struct mb__group *g)
{
    if (g->state != PREPARING)
        return;
    for (int i = 0; i < g->n_members; i++)
        if (held_find(&g->joins, g->members[i]->id) == NULL)
            return;
    complete_join(g);
}

static void prepare_rebalance(struct mb__group *g)
{
    if (g->state == PREPARING)
        return;
    struct mb__req *req;
    while ((req = LIST_FIRST(&g->syncs)) != NULL)
        sync_answer(req, KW_EC_REBALANCE_IN_PROGRESS, NULL);
    int32_t ms = 0;
    for (int i = 0; i < g->n_members; i++) {
        const struct member *m = g->members[i];
        int32_t r = m->rebalance_ms > 0 ? m->rebalance_ms : m->session_ms;
        ms = r > ms ? r : ms;
    }
    g->state = PREPARING;
    g->rebalance_timer = kw_timer_add(g->c->clock, (int64_t)ms * 1000, rebalance_cb, g);
    mb__log(g->c, MB_LOG_INFO, "group %s: rebalancing (timeout %" PRId32 " ms)", g->id, ms);
}

static void rebalance_cb(void *arg)
{
    struct mb__group *g = arg;
    g->rebalance_timer = 0;
    complete_join(g);
    mb__state_changed(g->c);
}

/* Members left or expired: the rest must rejoin. */
static void members_changed(struct mb__group *g)
{
    if (g->state == EMPTY)
        return;
    prepare_rebalance(g);
    try_complete(g);
}

static void session_cb(void *arg)
{
    struct member *m = arg;
    struct mb__group *g = m->g;
    m->session_timer = 0;
    mb__log(g->c, MB_LOG_INFO, "group %s: member %s session expired", g->id, m->id);
    member_remove(m);
    members_changed(g);
    mb__state_changed(g->c);
}

/* --- JoinGroup, SyncGroup, Heartbeat, LeaveGroup ---------------------------------------------- */

static bool protocols_fit(const struct mb__group *g, const struct member *self,
                          const struct kw_join_group_req *m)
{
    if (m->protocol_type.len <= 0 || m->n_protocols <= 0)
        return false;
    if (g->protocol_type && !kw_str_eq(m->protocol_type, g->protocol_type))
        return false;
    for (int32_t i = 0; i < m->n_protocols; i++) {
        char name[256];
        kw_str_copy(m->protocols[i].name, name, sizeof(name));
        bool all = true;
        for (int j = 0; j < g->n_members && all; j++)
            all = g->members[j] == self || proto_find(g->members[j], name) != NULL;
        if (all)
            return true;
    }
    return false;
}

static struct member *member_add(struct mb__group *g, char *id, struct mb__req *req)
{
    const struct kw_join_group_req *jr = req->body;
    struct member *m = calloc(1, sizeof(*m));
    if (m == NULL || !mb__grow((void **)&g->members, &g->cap_members, g->n_members,
                           sizeof(*g->members))) {
        free(m);
        free(id);
        return NULL;
    }
    m->g = g;
    m->id = id;
    m->instance_id = jr->group_instance_id.len >= 0 ? mb__dup_str(jr->group_instance_id) : NULL;
    m->client_id = mb__dup_str(req->hdr.client_id);
    m->client_host = strdup(req->conn ? req->conn->peer : "");
    g->members[g->n_members++] = m;
    if (g->protocol_type == NULL)
        g->protocol_type = mb__dup_str(jr->protocol_type);
    return m;
}

int mb__group_join(struct mb__req *req)
{
    struct mb_cluster *c = req->c;
    const struct kw_join_group_req *jr = req->body;
    int16_t ec = mb__group_check(req, jr->group_id);
    if (ec)
        return join_error(req, ec, ""), 0;
    if (jr->session_timeout_ms < MIN_SESSION_MS || jr->session_timeout_ms > MAX_SESSION_MS)
        return join_error(req, KW_EC_INVALID_SESSION_TIMEOUT, ""), 0;
    struct mb__group *g = jr->member_id.len > 0 ? group_find(c, jr->group_id)
                                                : group_get(c, jr->group_id);
    if (g == NULL)
        return join_error(req, jr->member_id.len > 0 ? KW_EC_UNKNOWN_MEMBER_ID
                                                     : KW_EC_UNKNOWN_SERVER_ERROR, ""), 0;
    struct member *m = member_find(g, jr->member_id);
    int pending = m ? -1 : pending_find(g, jr->member_id);
    if (jr->member_id.len > 0 && m == NULL && pending < 0)
        return join_error(req, KW_EC_UNKNOWN_MEMBER_ID, ""), 0;
    if (!protocols_fit(g, m, jr))
        return join_error(req, KW_EC_INCONSISTENT_GROUP_PROTOCOL, ""), 0;
    if (m == NULL) {
        char *id;
        if (pending >= 0) {
            id = g->pending[pending];
            g->pending[pending] = g->pending[--g->n_pending];
        } else if ((id = member_id_new(c, req->hdr.client_id)) == NULL) {
            return join_error(req, KW_EC_UNKNOWN_SERVER_ERROR, ""), 0;
        } else if (req->version >= 4) {
            /* KIP-394: the member learns its id first and joins with it, so a client that
             * times out on the join cannot leave a nameless member behind. */
            if (!mb__grow((void **)&g->pending, &g->cap_pending, g->n_pending, sizeof(char *))) {
                free(id);
                return join_error(req, KW_EC_UNKNOWN_SERVER_ERROR, ""), 0;
            }
            g->pending[g->n_pending++] = id;
            return join_error(req, KW_EC_MEMBER_ID_REQUIRED, id), 0;
        }
        if ((m = member_add(g, id, req)) == NULL)
            return join_error(req, KW_EC_UNKNOWN_SERVER_ERROR, ""), 0;
    }
    m->session_ms = jr->session_timeout_ms;
    m->rebalance_ms = jr->rebalance_timeout_ms;
    if (protos_set(m, jr) < 0) {
        member_remove(m);
        members_changed(g);
        return join_error(req, KW_EC_UNKNOWN_SERVER_ERROR, ""), 0;
    }
    struct mb__req *old = held_find(&g->joins, m->id);
    if (old)    /* the same member joining twice: only the newest join counts */
        join_error(old, KW_EC_UNKNOWN_MEMBER_ID, m->id);
    /* A member waiting in a join is alive: its session restarts when the join completes. */
    session_stop(m);
    hold(&g->joins, req, m->id);
    prepare_rebalance(g);
    try_complete(g);
    return 0;
}

int mb__group_sync(struct mb__req *req)
{
    const struct kw_sync_group_req *sr = req->body;
    int16_t ec = mb__group_check(req, sr->group_id);
    if (ec)
        return sync_answer(req, ec, NULL), 0;
    struct mb__group *g = group_find(req->c, sr->group_id);
    struct member *m = member_find(g, sr->member_id);
    if (m == NULL || g->state == EMPTY)
        return sync_answer(req, KW_EC_UNKNOWN_MEMBER_ID, NULL), 0;
    if (sr->generation_id != g->generation)
        return sync_answer(req, KW_EC_ILLEGAL_GENERATION, NULL), 0;
    if (g->state == PREPARING)
        return sync_answer(req, KW_EC_REBALANCE_IN_PROGRESS, NULL), 0;
    if ((sr->protocol_type.len >= 0 && !kw_str_eq(sr->protocol_type, g->protocol_type)) ||
        (sr->protocol_name.len >= 0 && !kw_str_eq(sr->protocol_name, g->protocol)))
        return sync_answer(req, KW_EC_INCONSISTENT_GROUP_PROTOCOL, NULL), 0;
    session_touch(m);
    if (g->state == STABLE)
        return sync_answer(req, 0, m), 0;
    hold(&g->syncs, req, m->id);
    if (strcmp(m->id, g->leader) != 0)
        return 0;
    for (int32_t i = 0; i < sr->n_assignments; i++) {
        const struct kw_sync_group_req_assignment *a = &sr->assignments[i];
        struct member *o = member_find(g, a->member_id);
        int32_t len = a->assignment.len > 0 ? a->assignment.len : 0;
        if (o == NULL)
            continue;
        free(o->assignment);
        if ((o->assignment = malloc((size_t)len + 1)) == NULL)
            continue;       /* answered as an empty assignment */
        if (len)
            memcpy(o->assignment, a->assignment.ptr, (size_t)len);
        o->assignment_len = len;
    }
    g->state = STABLE;
    mb__log(req->c, MB_LOG_INFO, "group %s: generation %" PRId32 " is stable", g->id,
            g->generation);
    struct mb__req *r;
    while ((r = LIST_FIRST(&g->syncs)) != NULL) {
        struct member *o = member_find(g, kw_str_c(r->wait));
        sync_answer(r, o ? 0 : KW_EC_UNKNOWN_MEMBER_ID, o);
    }
    return 0;
}

int16_t mb__group_heartbeat(struct mb__req *req, struct kw_str group_id, int32_t generation,
                            struct kw_str member_id)
{
    int16_t ec = mb__group_check(req, group_id);
    if (ec)
        return ec;
    struct mb__group *g = group_find(req->c, group_id);
    struct member *m = member_find(g, member_id);
    if (m == NULL || g->state == EMPTY)
        return KW_EC_UNKNOWN_MEMBER_ID;
    if (generation != g->generation)
        return KW_EC_ILLEGAL_GENERATION;
    session_touch(m);
    return g->state == PREPARING ? KW_EC_REBALANCE_IN_PROGRESS : 0;
}

int16_t mb__group_leave(struct mb__req *req, struct kw_str group_id, struct kw_str member_id)
{
    struct mb__group *g = group_find(req->c, group_id);
    struct member *m = member_find(g, member_id);
    if (m == NULL)
        return KW_EC_UNKNOWN_MEMBER_ID;
    mb__log(req->c, MB_LOG_INFO, "group %s: member %s left", g->id, m->id);
    member_remove(m);
    members_changed(g);
    return 0;
}

/* --- offsets ---------------------------------------------------------------------------------- */

int16_t mb__group_commit_check(struct mb__req *req, struct kw_str group_id, int32_t generation,
                               struct kw_str member_id)
{
    int16_t ec = mb__group_check(req, group_id);
    if (ec)
        return ec;
    struct mb__group *g = group_find(req->c, group_id);
    /* As Kafka: a groupless commit (generation -1) needs an empty group; a member's commit is
     * fine while the group prepares a rebalance (consumers commit as partitions are revoked)
     * but not while the assignment is being handed out. */
    if (generation < 0 && (g == NULL || g->state == EMPTY))
        return group_get(req->c, group_id) ? 0 : KW_EC_UNKNOWN_SERVER_ERROR;
    if (g && g->state == COMPLETING)
        return KW_EC_REBALANCE_IN_PROGRESS;
    struct member *m = member_find(g, member_id);
    if (m == NULL)
        return KW_EC_UNKNOWN_MEMBER_ID;
    if (generation != g->generation)
        return KW_EC_ILLEGAL_GENERATION;
    session_touch(m);
    return 0;
}

static struct offset *offset_find(struct mb__group *g, struct kw_str topic, int32_t partition)
{
    for (size_t i = 0; g && i < g->n_offsets; i++)
        if (g->offsets[i].partition == partition && kw_str_eq(topic, g->offsets[i].topic))
            return &g->offsets[i];
    return NULL;
}

/* Stores an offset, taking meta (malloc'd); 0 or UNKNOWN_SERVER_ERROR. */
static int16_t offset_store(struct mb__group *g, struct kw_str topic, int32_t partition,
                            int64_t offset, int32_t leader_epoch, char *meta)
{
    struct offset *o = offset_find(g, topic, partition);
    if (o == NULL) {
        if (g->n_offsets == g->cap_offsets) {
            size_t cap = g->cap_offsets ? g->cap_offsets * 2 : 16;
            struct offset *n = realloc(g->offsets, cap * sizeof(*n));
            if (n == NULL)
                return free(meta), KW_EC_UNKNOWN_SERVER_ERROR;
            g->offsets = n;
            g->cap_offsets = cap;
        }
        o = &g->offsets[g->n_offsets];
        if ((o->topic = mb__dup_str(topic)) == NULL)
            return free(meta), KW_EC_UNKNOWN_SERVER_ERROR;
        o->partition = partition;
        g->n_offsets++;
    } else {
        free(o->metadata);
    }
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->metadata = meta;
    return 0;
}

/* What OffsetCommit and TxnOffsetCommit refuse per partition, or 0. */
static int16_t partition_check(struct mb__req *req, struct mb__group *g, struct kw_str topic,
                               int32_t partition, struct kw_str metadata)
{
    struct mb__topic *t = mb__topic_find(req->c, topic.ptr, topic.len);
    if (t == NULL || mb__partition_find(t, partition) == NULL)
        return KW_EC_UNKNOWN_TOPIC_OR_PARTITION;
    if (metadata.len > MAX_METADATA)
        return KW_EC_OFFSET_METADATA_TOO_LARGE;
    return g ? 0 : KW_EC_UNKNOWN_SERVER_ERROR;
}

int16_t mb__group_commit(struct mb__req *req, struct kw_str group_id, struct kw_str topic,
                         const struct kw_offset_commit_req_partition *p)
{
    struct mb__group *g = group_find(req->c, group_id);
    int16_t ec = partition_check(req, g, topic, p->partition_index, p->committed_metadata);
    if (ec)
        return ec;
    char *meta = mb__dup_str(p->committed_metadata);
    if (meta == NULL)
        return KW_EC_UNKNOWN_SERVER_ERROR;
    return offset_store(g, topic, p->partition_index, p->committed_offset,
                        p->committed_leader_epoch, meta);
}

/* --- transactional offsets -------------------------------------------------------------------- */

int16_t mb__group_txn_commit_check(struct mb__req *req, struct kw_str group_id,
                                   int32_t generation, struct kw_str member_id)
{
    int16_t ec = mb__group_check(req, group_id);
    if (ec)
        return ec;
    /* As Kafka: a transactional commit may come from outside the group (a producer alone
     * creates it, empty); one that names a member (v3+, KIP-447) must name a current one. */
    struct mb__group *g = group_get(req->c, group_id);
    if (g == NULL)
        return KW_EC_UNKNOWN_SERVER_ERROR;
    if (generation < 0 && member_id.len <= 0)
        return 0;
    struct member *m = member_find(g, member_id);
    if (m == NULL)
        return KW_EC_UNKNOWN_MEMBER_ID;
    if (generation != g->generation)
        return KW_EC_ILLEGAL_GENERATION;
    return 0;
}

static bool txn_pending(const struct mb__group *g, const char *topic, int32_t partition)
{
    for (size_t i = 0; g && i < g->n_txn_offsets; i++)
        if (g->txn_offsets[i].o.partition == partition &&
            strcmp(g->txn_offsets[i].o.topic, topic) == 0)
            return true;
    return false;
}

int16_t mb__group_txn_commit(struct mb__req *req, struct kw_str group_id, int64_t producer_id,
                             struct kw_str topic,
                             const struct kw_txn_offset_commit_req_partition *p)
{
    struct mb__group *g = group_find(req->c, group_id);
    int16_t ec = partition_check(req, g, topic, p->partition_index, p->committed_metadata);
    if (ec)
        return ec;
    struct txn_offset *to = NULL;
    for (size_t i = 0; i < g->n_txn_offsets && to == NULL; i++)
        if (g->txn_offsets[i].producer_id == producer_id &&
            g->txn_offsets[i].o.partition == p->partition_index &&
            kw_str_eq(topic, g->txn_offsets[i].o.topic))
            to = &g->txn_offsets[i];
    char *meta = mb__dup_str(p->committed_metadata);
    if (meta == NULL)
        return KW_EC_UNKNOWN_SERVER_ERROR;
    if (to == NULL) {
        if (g->n_txn_offsets == g->cap_txn_offsets) {
            size_t cap = g->cap_txn_offsets ? g->cap_txn_offsets * 2 : 8;
            struct txn_offset *n = realloc(g->txn_offsets, cap * sizeof(*n));
            if (n == NULL)
                return free(meta), KW_EC_UNKNOWN_SERVER_ERROR;
            g->txn_offsets = n;
            g->cap_txn_offsets = cap;
        }
        to = &g->txn_offsets[g->n_txn_offsets];
        if ((to->o.topic = mb__dup_str(topic)) == NULL)
            return free(meta), KW_EC_UNKNOWN_SERVER_ERROR;
        to->producer_id = producer_id;
        to->o.partition = p->partition_index;
        g->n_txn_offsets++;
    } else {
        free(to->o.metadata);
    }
    to->o.offset = p->committed_offset;
    to->o.leader_epoch = p->committed_leader_epoch;
    to->o.metadata = meta;
    return 0;
}

void mb__group_txn_offsets_complete(struct mb_cluster *c, const char *group_id,
                                    int64_t producer_id, bool commit)
{
    struct mb__group *g = group_find(c, kw_str_c(group_id));
    size_t kept = 0, applied = 0, dropped = 0;
    for (size_t i = 0; g && i < g->n_txn_offsets; i++) {
        struct txn_offset *to = &g->txn_offsets[i];
        if (to->producer_id != producer_id) {
            g->txn_offsets[kept++] = *to;
            continue;
        }
        if (commit && offset_store(g, kw_str_c(to->o.topic), to->o.partition, to->o.offset,
                                   to->o.leader_epoch, to->o.metadata) == 0)
            applied++;
        else if (!commit)
            free(to->o.metadata);
        dropped += !commit;
        free(to->o.topic);
    }
    if (g == NULL)
        return;
    g->n_txn_offsets = kept;
    if (applied || dropped)
        mb__log(c, MB_LOG_INFO, "group %s: %zu transactional offset%s of producer %" PRId64
                " %s", g->id, commit ? applied : dropped, (commit ? applied : dropped) == 1 ?
                "" : "s", producer_id, commit ? "committed" : "dropped");
}

/* RequireStable (v7+, KIP-447): a partition with a transactional commit pending is answered
 * UNSTABLE_OFFSET_COMMIT, for the consumer to retry once the transaction is over. Without it
 * the last committed offset is answered, as Kafka does. */
static bool unstable(const struct mb__req *req, const struct mb__group *g, const char *topic,
                     int32_t partition)
{
    const struct kw_offset_fetch_req *m = req->body;
    return req->version >= 7 && m->require_stable && txn_pending(g, topic, partition);
}

static struct kw_offset_fetch_resp_partition unstable_answer(int32_t partition)
{
    return (struct kw_offset_fetch_resp_partition){
        .partition_index = partition, .committed_offset = -1, .committed_leader_epoch = -1,
        .metadata = kw_str_c(""), .error_code = KW_EC_UNSTABLE_OFFSET_COMMIT,
    };
}

int mb__group_offset_fetch(struct mb__req *req, struct kw_offset_fetch_resp *resp)
{
    const struct kw_offset_fetch_req *m = req->body;
    struct mb__group *g = group_find(req->c, m->group_id);
    int16_t ec = mb__group_check(req, m->group_id);
    if (ec && req->version >= 2) {
        resp->error_code = ec;
        return 0;
    }
    /* A null topic list (v2+) asks for every committed offset of the group, topic by topic. */
    bool all = m->n_topics < 0;
    int32_t nt = all ? 0 : m->n_topics;
    if (all && g && !ec)
        for (size_t i = 0; i < g->n_offsets; i++)
            nt++;
    resp->topics = kw_arena_alloc(&req->arena, sizeof(*resp->topics) * ((size_t)nt + 1));
    if (resp->topics == NULL)
        return -1;
    resp->n_topics = 0;
    if (all) {
        for (size_t i = 0; g && !ec && i < g->n_offsets; i++) {
            const struct offset *o = &g->offsets[i];
            struct kw_offset_fetch_resp_topic *t = NULL;
            for (int32_t j = 0; j < resp->n_topics && t == NULL; j++)
                if (kw_str_eq(resp->topics[j].name, o->topic))
                    t = &resp->topics[j];
            if (t == NULL) {
                t = &resp->topics[resp->n_topics++];
                *t = (struct kw_offset_fetch_resp_topic){ .name = kw_str_c(o->topic) };
                t->partitions = kw_arena_alloc(&req->arena,
                                               sizeof(*t->partitions) * g->n_offsets);
                if (t->partitions == NULL)
                    return -1;
            }
            t->partitions[t->n_partitions++] = unstable(req, g, o->topic, o->partition)
                ? unstable_answer(o->partition)
                : (struct kw_offset_fetch_resp_partition){
                      .partition_index = o->partition, .committed_offset = o->offset,
                      .committed_leader_epoch = o->leader_epoch,
                      .metadata = kw_str_c(o->metadata),
                  };
        }
        return 0;
    }
    for (int32_t i = 0; i < m->n_topics; i++) {
        const struct kw_offset_fetch_req_topic *rt = &m->topics[i];
        struct kw_offset_fetch_resp_topic *t = &resp->topics[resp->n_topics++];
        int32_t np = rt->n_partition_indexes > 0 ? rt->n_partition_indexes : 0;
        *t = (struct kw_offset_fetch_resp_topic){ .name = rt->name, .n_partitions = np };
        t->partitions = kw_arena_alloc(&req->arena, sizeof(*t->partitions) * ((size_t)np + 1));
        if (t->partitions == NULL)
            return -1;
        for (int32_t j = 0; j < np; j++) {
            const struct offset *o = ec ? NULL : offset_find(g, rt->name,
                                                             rt->partition_indexes[j]);
            char topic[256];
            kw_str_copy(rt->name, topic, sizeof(topic));
            if (!ec && unstable(req, g, topic, rt->partition_indexes[j])) {
                t->partitions[j] = unstable_answer(rt->partition_indexes[j]);
                continue;
            }
            t->partitions[j] = (struct kw_offset_fetch_resp_partition){
                .partition_index = rt->partition_indexes[j],
                .committed_offset = o ? o->offset : -1,
                .committed_leader_epoch = o ? o->leader_epoch : -1,
                .metadata = kw_str_c(o ? o->metadata : ""),
                .error_code = ec,   /* before v2 the group's error goes on every partition */
            };
        }
    }
    return 0;
}

/* --- DescribeGroups, ListGroups --------------------------------------------------------------- */

int mb__group_describe(struct mb__req *req, struct kw_str group_id,
                       struct kw_describe_groups_resp_group *out)
{
    *out = (struct kw_describe_groups_resp_group){
        .group_id = group_id, .group_state = kw_str_c("Dead"), .protocol_type = kw_str_c(""),
        .protocol_data = kw_str_c(""), .authorized_operations = INT32_MIN,
    };
    if ((out->error_code = mb__group_check(req, group_id)) != 0)
        return 0;
    const struct mb__group *g = group_find(req->c, group_id);
    if (g == NULL)
        return 0;
    out->group_state = kw_str_c(state_names[g->state]);
    out->protocol_type = kw_str_c(g->protocol_type ? g->protocol_type : "");
    /* Kafka names the protocol and shows metadata and assignments only once Stable. */
    bool stable = g->state == STABLE;
    out->protocol_data = kw_str_c(stable ? g->protocol : "");
    out->members = kw_arena_alloc(&req->arena, sizeof(*out->members) * ((size_t)g->n_members + 1));
    if (out->members == NULL)
        return -1;
    for (int i = 0; i < g->n_members; i++) {
        const struct member *m = g->members[i];
        const struct proto *p = stable ? proto_find(m, g->protocol) : NULL;
        out->members[i] = (struct kw_describe_groups_resp_member){
            .member_id = kw_str_c(m->id), .group_instance_id = kw_str_c(m->instance_id),
            .client_id = kw_str_c(m->client_id), .client_host = kw_str_c(m->client_host),
            .member_metadata = p ? (struct kw_bytes){ p->meta, p->len }
                                 : (struct kw_bytes){ (const uint8_t *)"", 0 },
            .member_assignment = stable && m->assignment
                                     ? (struct kw_bytes){ m->assignment, m->assignment_len }
                                     : (struct kw_bytes){ (const uint8_t *)"", 0 },
        };
    }
    out->n_members = g->n_members;
    return 0;
}

int mb__group_list(struct mb__req *req, const struct kw_list_groups_req *m,
                   struct kw_list_groups_resp *resp)
{
    struct mb_cluster *c = req->c;
    const struct mb__group *g;
    int32_t n = 0;
    LIST_FOREACH(g, &c->groups, link)
        n++;
    resp->groups = kw_arena_alloc(&req->arena, sizeof(*resp->groups) * ((size_t)n + 1));
    if (resp->groups == NULL)
        return -1;
    resp->n_groups = 0;
    LIST_FOREACH(g, &c->groups, link) {
        if (mb__group_coordinator(c, kw_str_c(g->id)) != req->broker->id)
            continue;
        const char *state = state_names[g->state];
        bool match = m->n_states_filter <= 0;
        for (int32_t i = 0; i < m->n_states_filter && !match; i++)
            match = kw_str_eq(m->states_filter[i], state);
        if (!match)
            continue;
        resp->groups[resp->n_groups++] = (struct kw_list_groups_resp_group){
            .group_id = kw_str_c(g->id),
            .protocol_type = kw_str_c(g->protocol_type ? g->protocol_type : ""),
            .group_state = kw_str_c(state),
        };
    }
    return 0;
}

/* --- lifetime --------------------------------------------------------------------------------- */

void mb__groups_destroy(struct mb_cluster *c)
{
    struct mb__group *g;
    while ((g = LIST_FIRST(&c->groups)) != NULL) {
        struct mb__req *req;
        /* Connections are closed first, so these lists are normally empty already. */
        while ((req = LIST_FIRST(&g->joins)) != NULL)
            unhold(req);
        while ((req = LIST_FIRST(&g->syncs)) != NULL)
            unhold(req);
        if (g->rebalance_timer)
            kw_timer_cancel(c->clock, g->rebalance_timer);
        for (int i = 0; i < g->n_members; i++)
            member_free(g->members[i]);
        for (int i = 0; i < g->n_pending; i++)
            free(g->pending[i]);
        for (size_t i = 0; i < g->n_offsets; i++) {
            free(g->offsets[i].topic);
            free(g->offsets[i].metadata);
        }
        for (size_t i = 0; i < g->n_txn_offsets; i++) {
            free(g->txn_offsets[i].o.topic);
            free(g->txn_offsets[i].o.metadata);
        }
        free(g->txn_offsets);
        free(g->offsets);
        free(g->members);
        free(g->pending);
        free(g->protocol_type);
        free(g->protocol);
        free(g->leader);
        free(g->id);
        LIST_REMOVE(g, link);
        free(g);
    }
}
