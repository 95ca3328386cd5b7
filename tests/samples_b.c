/* Samples for Produce, Fetch, ListOffsets and InitProducerId (see tests/samples.h). The records
 * fields carry one real record batch v2 so that a dissector can walk it record by record. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/proto/apis.h"
#include "lib/proto/fetch.h"
#include "lib/proto/init_producer_id.h"
#include "lib/proto/list_offsets.h"
#include "lib/proto/produce.h"
#include "tests/samples.h"

/* Two records, key "k", values "v1" and "v2", uncompressed, not idempotent (WIRE.md §5).
 * The CRC (bytes 17-20) is filled in on first use. */
static uint8_t batch[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* baseOffset 0 */
    0x00, 0x00, 0x00, 0x45,                             /* batchLength 69 = 81 - 12 */
    0x00, 0x00, 0x00, 0x00,                             /* partitionLeaderEpoch 0 */
    0x02,                                               /* magic 2 */
    0x00, 0x00, 0x00, 0x00,                             /* crc, see batch_crc() */
    0x00, 0x00,                                         /* attributes: none, CreateTime */
    0x00, 0x00, 0x00, 0x01,                             /* lastOffsetDelta 1 */
    0x00, 0x00, 0x01, 0x92, 0xc0, 0x1d, 0x52, 0x00,     /* baseTimestamp 1729800000000 */
    0x00, 0x00, 0x01, 0x92, 0xc0, 0x1d, 0x52, 0x01,     /* maxTimestamp, 1 ms later */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* producerId -1 */
    0xff, 0xff,                                         /* producerEpoch -1 */
    0xff, 0xff, 0xff, 0xff,                             /* baseSequence -1 */
    0x00, 0x00, 0x00, 0x02,                             /* recordsCount 2 */
    /* length 9, attrs 0, timestampDelta 0, offsetDelta 0, key "k", value "v1", no headers */
    0x12, 0x00, 0x00, 0x00, 0x02, 'k', 0x04, 'v', '1', 0x00,
    /* length 9, attrs 0, timestampDelta 1, offsetDelta 1, key "k", value "v2", no headers */
    0x12, 0x00, 0x02, 0x02, 0x02, 'k', 0x04, 'v', '2', 0x00,
};

/* CRC-32C, bit by bit: slow and obviously right, independent of the library's own. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffff;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
    }
    return c ^ 0xffffffff;
}

/* Called by every sample that carries the batch, before handing it out. */
static void seal_batch(void)
{
    static bool done;
    if (done)
        return;
    uint32_t c = crc32c(batch + 21, sizeof(batch) - 21);
    batch[17] = (uint8_t)(c >> 24);
    batch[18] = (uint8_t)(c >> 16);
    batch[19] = (uint8_t)(c >> 8);
    batch[20] = (uint8_t)c;
    done = true;
}

#define RECORDS { batch, (int32_t)sizeof(batch) }
#define STR(s) { s, (int32_t)sizeof(s) - 1 }
#define COUNT(a) (int32_t)(sizeof(a) / sizeof((a)[0]))

/* --- Produce ------------------------------------------------------------------------------- */

static struct kw_produce_req_partition produce_parts_a[2] = {
    { .index = 0, .records = RECORDS }, { .index = 1, .records = RECORDS },
};
static struct kw_produce_req_partition produce_parts_b[2] = {
    { .index = 2, .records = RECORDS }, { .index = 5, .records = RECORDS },
};
static struct kw_produce_req_topic produce_topics[2] = {
    { .name = STR("orders"), .n_partition_data = 2, .partition_data = produce_parts_a },
    { .name = STR("audit.log-v2"), .n_partition_data = 2, .partition_data = produce_parts_b },
};
static const struct kw_produce_req produce_req = {
    .transactional_id = STR("txn-app_1"),
    .acks = -1,
    .timeout_ms = 30000,
    .n_topic_data = 2,
    .topic_data = produce_topics,
};

const void *kwt_sample_produce_req(void)
{
    seal_batch();
    return &produce_req;
}

static struct kw_produce_resp_record_error produce_rec_errors[2] = {
    { .batch_index = 0, .batch_index_error_message = STR("timestamp out of range") },
    { .batch_index = 1, .batch_index_error_message = STR("key required on compacted topic") },
};
static struct kw_produce_resp_partition produce_resp_parts_a[2] = {
    { .index = 0, .error_code = 87, .base_offset = 1000, .log_append_time_ms = 1729800000300,
      .log_start_offset = 17, .n_record_errors = 2, .record_errors = produce_rec_errors,
      .error_message = STR("invalid record"),
      .current_leader = { .leader_id = 2, .leader_epoch = 7 } },
    { .index = 1, .error_code = 6, .base_offset = 2000, .log_append_time_ms = 1729800000301,
      .log_start_offset = 18, .n_record_errors = 2, .record_errors = produce_rec_errors,
      .error_message = STR("not the leader"),
      .current_leader = { .leader_id = 1, .leader_epoch = 3 } },
};
static struct kw_produce_resp_partition produce_resp_parts_b[2] = {
    { .index = 2, .error_code = 6, .base_offset = 3000, .log_append_time_ms = 1729800000302,
      .log_start_offset = 19, .n_record_errors = 2, .record_errors = produce_rec_errors,
      .error_message = STR("moved"), .current_leader = { .leader_id = 0, .leader_epoch = 9 } },
    { .index = 5, .error_code = 19, .base_offset = 4000, .log_append_time_ms = 1729800000303,
      .log_start_offset = 20, .n_record_errors = 2, .record_errors = produce_rec_errors,
      .error_message = STR("not enough replicas"),
      .current_leader = { .leader_id = 3, .leader_epoch = 1 } },
};
static struct kw_produce_resp_topic produce_resp_topics[2] = {
    { .name = STR("orders"), .n_partition_responses = 2,
      .partition_responses = produce_resp_parts_a },
    { .name = STR("audit.log-v2"), .n_partition_responses = 2,
      .partition_responses = produce_resp_parts_b },
};
static struct kw_produce_resp_node_endpoint produce_nodes[2] = {
    { .node_id = 1, .host = STR("broker-1.example.com"), .port = 9092, .rack = STR("rack-a") },
    { .node_id = 2, .host = STR("127.0.0.1"), .port = 19092, .rack = STR("rack-b") },
};
static const struct kw_produce_resp produce_resp = {
    .n_responses = 2,
    .responses = produce_resp_topics,
    .throttle_time_ms = 250,
    .n_node_endpoints = 2,
    .node_endpoints = produce_nodes,
};

const void *kwt_sample_produce_resp(void)
{
    return &produce_resp;
}

/* --- Fetch --------------------------------------------------------------------------------- */

static struct kw_fetch_req_partition fetch_parts_a[2] = {
    { .partition = 0, .current_leader_epoch = 4, .fetch_offset = 100, .last_fetched_epoch = 3,
      .log_start_offset = 10, .partition_max_bytes = 1048576 },
    { .partition = 1, .current_leader_epoch = 5, .fetch_offset = 200, .last_fetched_epoch = 4,
      .log_start_offset = 20, .partition_max_bytes = 524288 },
};
static struct kw_fetch_req_partition fetch_parts_b[2] = {
    { .partition = 3, .current_leader_epoch = 6, .fetch_offset = 300, .last_fetched_epoch = 5,
      .log_start_offset = 30, .partition_max_bytes = 65536 },
    { .partition = 4, .current_leader_epoch = 7, .fetch_offset = 400, .last_fetched_epoch = 6,
      .log_start_offset = 40, .partition_max_bytes = 32768 },
};
static struct kw_fetch_req_topic fetch_topics[2] = {
    { .topic = STR("orders"), .n_partitions = 2, .partitions = fetch_parts_a },
    { .topic = STR("audit.log-v2"), .n_partitions = 2, .partitions = fetch_parts_b },
};
static int32_t forgotten_a[2] = { 7, 8 };
static int32_t forgotten_b[3] = { 0, 2, 9 };
static struct kw_fetch_req_forgotten_topic fetch_forgotten[2] = {
    { .topic = STR("old-topic"), .n_partitions = COUNT(forgotten_a), .partitions = forgotten_a },
    { .topic = STR("gone_too"), .n_partitions = COUNT(forgotten_b), .partitions = forgotten_b },
};
static const struct kw_fetch_req fetch_req = {
    .cluster_id = STR("MkU3OEVBNTcwNTJENDM2Qg"),
    .replica_id = 1,
    .max_wait_ms = 500,
    .min_bytes = 1,
    .max_bytes = 52428800,
    .isolation_level = 1,
    .session_id = 12345,
    .session_epoch = 6,
    .n_topics = 2,
    .topics = fetch_topics,
    .n_forgotten_topics_data = 2,
    .forgotten_topics_data = fetch_forgotten,
    .rack_id = STR("rack-a"),
};

const void *kwt_sample_fetch_req(void)
{
    return &fetch_req;
}

static struct kw_fetch_resp_aborted_transaction fetch_aborted[2] = {
    { .producer_id = 1000, .first_offset = 150 },
    { .producer_id = 1001, .first_offset = 160 },
};
static struct kw_fetch_resp_partition fetch_resp_parts_a[2] = {
    { .partition_index = 0, .error_code = 0, .high_watermark = 110, .last_stable_offset = 105,
      .log_start_offset = 10, .diverging_epoch = { .epoch = 2, .end_offset = 90 },
      .current_leader = { .leader_id = 1, .leader_epoch = 4 },
      .snapshot_id = { .end_offset = 80, .epoch = 1 },
      .n_aborted_transactions = 2, .aborted_transactions = fetch_aborted,
      .preferred_read_replica = 2, .records = RECORDS },
    { .partition_index = 1, .error_code = 1, .high_watermark = 210, .last_stable_offset = 205,
      .log_start_offset = 20, .diverging_epoch = { .epoch = 3, .end_offset = 190 },
      .current_leader = { .leader_id = 2, .leader_epoch = 5 },
      .snapshot_id = { .end_offset = 180, .epoch = 2 },
      .n_aborted_transactions = 2, .aborted_transactions = fetch_aborted,
      .preferred_read_replica = 0, .records = RECORDS },
};
static struct kw_fetch_resp_partition fetch_resp_parts_b[2] = {
    { .partition_index = 3, .error_code = 6, .high_watermark = 310, .last_stable_offset = 305,
      .log_start_offset = 30, .diverging_epoch = { .epoch = 4, .end_offset = 290 },
      .current_leader = { .leader_id = 0, .leader_epoch = 6 },
      .snapshot_id = { .end_offset = 280, .epoch = 3 },
      .n_aborted_transactions = 2, .aborted_transactions = fetch_aborted,
      .preferred_read_replica = 1, .records = RECORDS },
    { .partition_index = 4, .error_code = 74, .high_watermark = 410, .last_stable_offset = 405,
      .log_start_offset = 40, .diverging_epoch = { .epoch = 5, .end_offset = 390 },
      .current_leader = { .leader_id = 3, .leader_epoch = 7 },
      .snapshot_id = { .end_offset = 380, .epoch = 4 },
      .n_aborted_transactions = 2, .aborted_transactions = fetch_aborted,
      .preferred_read_replica = 3, .records = RECORDS },
};
static struct kw_fetch_resp_topic fetch_resp_topics[2] = {
    { .topic = STR("orders"), .n_partitions = 2, .partitions = fetch_resp_parts_a },
    { .topic = STR("audit.log-v2"), .n_partitions = 2, .partitions = fetch_resp_parts_b },
};
static const struct kw_fetch_resp fetch_resp = {
    .throttle_time_ms = 100,
    .error_code = 70,                   /* FETCH_SESSION_ID_NOT_FOUND */
    .session_id = 12345,
    .n_responses = 2,
    .responses = fetch_resp_topics,
};

const void *kwt_sample_fetch_resp(void)
{
    seal_batch();
    return &fetch_resp;
}

/* --- ListOffsets --------------------------------------------------------------------------- */

static struct kw_list_offsets_req_partition lo_parts_a[2] = {
    { .partition_index = 0, .current_leader_epoch = 4, .timestamp = -1, .max_num_offsets = 3 },
    { .partition_index = 1, .current_leader_epoch = 5, .timestamp = -2, .max_num_offsets = 2 },
};
static struct kw_list_offsets_req_partition lo_parts_b[2] = {
    { .partition_index = 2, .current_leader_epoch = 6, .timestamp = 1729800000000,
      .max_num_offsets = 5 },
    { .partition_index = 7, .current_leader_epoch = 7, .timestamp = -3, .max_num_offsets = 10 },
};
static struct kw_list_offsets_req_topic lo_topics[2] = {
    { .name = STR("orders"), .n_partitions = 2, .partitions = lo_parts_a },
    { .name = STR("audit.log-v2"), .n_partitions = 2, .partitions = lo_parts_b },
};
static const struct kw_list_offsets_req lo_req = {
    .replica_id = 1,
    .isolation_level = 1,
    .n_topics = 2,
    .topics = lo_topics,
};

const void *kwt_sample_list_offsets_req(void)
{
    return &lo_req;
}

static int64_t lo_old_a[2] = { 120, 0 };
static int64_t lo_old_b[3] = { 300, 200, 100 };
static struct kw_list_offsets_resp_partition lo_resp_parts_a[2] = {
    { .partition_index = 0, .error_code = 0, .n_old_style_offsets = COUNT(lo_old_a),
      .old_style_offsets = lo_old_a, .timestamp = 1729800000000, .offset = 120,
      .leader_epoch = 4 },
    { .partition_index = 1, .error_code = 6, .n_old_style_offsets = COUNT(lo_old_b),
      .old_style_offsets = lo_old_b, .timestamp = 1729800000001, .offset = 300,
      .leader_epoch = 5 },
};
static struct kw_list_offsets_resp_partition lo_resp_parts_b[2] = {
    { .partition_index = 2, .error_code = 3, .n_old_style_offsets = COUNT(lo_old_a),
      .old_style_offsets = lo_old_a, .timestamp = 1729800000002, .offset = 7,
      .leader_epoch = 6 },
    { .partition_index = 7, .error_code = 78, .n_old_style_offsets = COUNT(lo_old_b),
      .old_style_offsets = lo_old_b, .timestamp = 1729800000003, .offset = 8,
      .leader_epoch = 7 },
};
static struct kw_list_offsets_resp_topic lo_resp_topics[2] = {
    { .name = STR("orders"), .n_partitions = 2, .partitions = lo_resp_parts_a },
    { .name = STR("audit.log-v2"), .n_partitions = 2, .partitions = lo_resp_parts_b },
};
static const struct kw_list_offsets_resp lo_resp = {
    .throttle_time_ms = 50,
    .n_topics = 2,
    .topics = lo_resp_topics,
};

const void *kwt_sample_list_offsets_resp(void)
{
    return &lo_resp;
}

/* --- InitProducerId ------------------------------------------------------------------------ */

static const struct kw_init_producer_id_req ipi_req = {
    .transactional_id = STR("txn-app_1"),
    .transaction_timeout_ms = 60000,
    .producer_id = 1000,
    .producer_epoch = 4,
};

const void *kwt_sample_init_producer_id_req(void)
{
    return &ipi_req;
}

static const struct kw_init_producer_id_resp ipi_resp = {
    .throttle_time_ms = 10,
    .error_code = 0,
    .producer_id = 1000,
    .producer_epoch = 5,
};

const void *kwt_sample_init_producer_id_resp(void)
{
    return &ipi_resp;
}
