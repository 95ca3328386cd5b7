/* ListGroups (key 16), v0-v4. Behaviour: the groups this broker coordinates, with their
 * protocol type, filtered by state from v4 (KIP-518), as each Kafka broker answers only for
 * its own groups. Groups created by a groupless commit list with an empty protocol type. */
#include "mockbroker/internal.h"

#include "lib/proto/list_groups.h"

int mb__handle_list_groups(struct mb__req *req)
{
    const struct kw_list_groups_req *m = req->body;
    struct kw_list_groups_resp resp = { 0 };
    int16_t ec = req->plan ? mb__fault_error(req, MB_BEFORE_APPLY, KW_STR_NULL, -1, NULL) : 0;
    if (ec == 0 && mb__group_list(req, m, &resp) < 0)
        return mb__conn_close(req->conn, "out of memory answering ListGroups"), -1;
    resp.error_code = ec;
    mb__respond(req, &resp);
    return 0;
}
