/* OffsetFetch (key 9), v0-v7. Behaviour: answers the group's committed offsets for the
 * partitions asked, or for every committed partition when the topic list is null (v2+); a
 * partition with nothing committed gets offset -1 and empty metadata, an unknown group too.
 * Group-level errors (NOT_COORDINATOR...) go in the top-level ErrorCode from v2, on every
 * partition before. RequireStable (v7, KIP-447): a partition with a TxnOffsetCommit still
 * pending in an open transaction answers UNSTABLE_OFFSET_COMMIT; without it the last committed
 * offset is answered (group.c). */
#include "mockbroker/internal.h"

#include "lib/proto/offset_fetch.h"

int mb__handle_offset_fetch(struct mb__req *req)
{
    struct kw_offset_fetch_resp resp = { 0 };
    if (mb__group_offset_fetch(req, &resp) < 0)
        return mb__conn_close(req->conn, "out of memory answering OffsetFetch"), -1;
    mb__respond(req, &resp);
    return 0;
}
