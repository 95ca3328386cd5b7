/* JoinGroup (key 11), v0-v7. Behaviour: a member without an id gets one (v4+: first answered
 * MEMBER_ID_REQUIRED with it, KIP-394); every join starts or joins a rebalance, and the answers
 * are held until all known members have rejoined or the longest rebalance timeout runs out on
 * the cluster's clock. The leader (the previous one if it stayed, else the first member) gets
 * every member's metadata for the first protocol all of them support (group.c). */
#include "mockbroker/internal.h"

int mb__handle_join_group(struct mb__req *req)
{
    return mb__group_join(req);
}
