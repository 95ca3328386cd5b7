/* SyncGroup (key 14), v0-v5. Behaviour: after a join completes, every member's SyncGroup is
 * held until the leader's arrives with the assignment; then each gets its own share and the
 * group is Stable. Stale generations get ILLEGAL_GENERATION, a group still joining
 * REBALANCE_IN_PROGRESS, and v5's protocol type and name must match the group's (group.c). */
#include "mockbroker/internal.h"

int mb__handle_sync_group(struct mb__req *req)
{
    return mb__group_sync(req);
}
