/* OffsetCommit (key 8), v0-v8. Behaviour: stores each partition's offset, leader epoch and
 * metadata for the group, in memory. As Kafka: a commit with generation -1 needs an empty (or
 * new) group; a member's commit needs its generation, and is refused while the assignment is
 * being handed out (REBALANCE_IN_PROGRESS). Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION,
 * metadata over 4096 bytes OFFSET_METADATA_TOO_LARGE.
 * Unlike Kafka: the v1 commit timestamp and the v2-v4 retention time are ignored (offsets are
 * kept for the cluster's life). */
#include "mockbroker/internal.h"

#include "lib/proto/offset_commit.h"

int mb__handle_offset_commit(struct mb__req *req)
{
    const struct kw_offset_commit_req *m = req->body;
    struct kw_offset_commit_resp resp = { 0 };
    int16_t ec = mb__group_commit_check(req, m->group_id, m->generation_id_or_member_epoch,
                                        m->member_id);
    int32_t nt = m->n_topics > 0 ? m->n_topics : 0;
    resp.topics = kw_arena_alloc(&req->arena, sizeof(*resp.topics) * ((size_t)nt + 1));
    if (resp.topics == NULL)
        return mb__conn_close(req->conn, "out of memory answering OffsetCommit"), -1;
    for (int32_t i = 0; i < nt; i++) {
        const struct kw_offset_commit_req_topic *t = &m->topics[i];
        struct kw_offset_commit_resp_topic *o = &resp.topics[i];
        int32_t np = t->n_partitions > 0 ? t->n_partitions : 0;
        *o = (struct kw_offset_commit_resp_topic){ .name = t->name, .n_partitions = np };
        o->partitions = kw_arena_alloc(&req->arena, sizeof(*o->partitions) * ((size_t)np + 1));
        if (o->partitions == NULL)
            return mb__conn_close(req->conn, "out of memory answering OffsetCommit"), -1;
        for (int32_t j = 0; j < np; j++)
            o->partitions[j] = (struct kw_offset_commit_resp_partition){
                .partition_index = t->partitions[j].partition_index,
                .error_code = ec ? ec : mb__group_commit(req, m->group_id, t->name,
                                                         &t->partitions[j]),
            };
    }
    resp.n_topics = nt;
    mb__respond(req, &resp);
    return 0;
}
