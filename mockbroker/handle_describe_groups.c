/* DescribeGroups (key 15), v0-v5. Behaviour: each group's state, protocol type and members
 * (ids, client id and host); the protocol name and the members' metadata and assignments only
 * once the group is Stable, as Kafka. A group this broker does not coordinate gets
 * NOT_COORDINATOR; an unknown one is "Dead" with no members and no error. Authorized operations
 * are always "not provided" (no ACLs). */
#include "mockbroker/internal.h"

#include "lib/proto/describe_groups.h"

int mb__handle_describe_groups(struct mb__req *req)
{
    const struct kw_describe_groups_req *m = req->body;
    struct kw_describe_groups_resp resp = { 0 };
    int32_t n = m->n_groups > 0 ? m->n_groups : 0;
    resp.groups = kw_arena_alloc(&req->arena, sizeof(*resp.groups) * ((size_t)n + 1));
    if (resp.groups == NULL)
        return mb__conn_close(req->conn, "out of memory answering DescribeGroups"), -1;
    for (int32_t i = 0; i < n; i++)
        if (mb__group_describe(req, m->groups[i], &resp.groups[i]) < 0)
            return mb__conn_close(req->conn, "out of memory answering DescribeGroups"), -1;
    resp.n_groups = n;
    mb__respond(req, &resp);
    return 0;
}
