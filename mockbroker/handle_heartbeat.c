/* Heartbeat (key 12), v0-v4. Behaviour: restarts the member's session timer; answers
 * REBALANCE_IN_PROGRESS while the group is joining (the member must rejoin), ILLEGAL_GENERATION
 * for another generation and UNKNOWN_MEMBER_ID for a member the group does not hold (one whose
 * session expired, for instance). */
#include "mockbroker/internal.h"

#include "lib/proto/heartbeat.h"

int mb__handle_heartbeat(struct mb__req *req)
{
    const struct kw_heartbeat_req *m = req->body;
    struct kw_heartbeat_resp resp = {
        .error_code = mb__group_heartbeat(req, m->group_id, m->generation_id, m->member_id),
    };
    mb__respond(req, &resp);
    return 0;
}
