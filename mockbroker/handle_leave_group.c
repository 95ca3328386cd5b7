/* LeaveGroup (key 13), v0-v4. Behaviour: removes the member (v0-v2) or each member of the batch
 * (v3+, KIP-345; a member is found by its member id, the instance id is not used) and starts a
 * rebalance for those left. Unknown members get UNKNOWN_MEMBER_ID, top level before v3, per
 * member from v3. */
#include "mockbroker/internal.h"

#include "lib/proto/leave_group.h"

int mb__handle_leave_group(struct mb__req *req)
{
    const struct kw_leave_group_req *m = req->body;
    struct kw_leave_group_resp resp = { 0 };
    int16_t ec = mb__group_check(req, m->group_id);
    if (ec || req->version < 3) {
        resp.error_code = ec ? ec : mb__group_leave(req, m->group_id, m->member_id);
        mb__respond(req, &resp);
        return 0;
    }
    int32_t n = m->n_members > 0 ? m->n_members : 0;
    resp.members = kw_arena_alloc(&req->arena, sizeof(*resp.members) * ((size_t)n + 1));
    if (resp.members == NULL)
        return mb__conn_close(req->conn, "out of memory answering LeaveGroup"), -1;
    for (int32_t i = 0; i < n; i++) {
        const struct kw_leave_group_req_member *lm = &m->members[i];
        resp.members[i] = (struct kw_leave_group_resp_member){
            .member_id = lm->member_id, .group_instance_id = lm->group_instance_id,
            .error_code = mb__group_leave(req, m->group_id, lm->member_id),
        };
    }
    resp.n_members = n;
    mb__respond(req, &resp);
    return 0;
}
