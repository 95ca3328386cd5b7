/* Every CUnit suite: X(name, "description"). A suite file tests/unit_<name>.c defines
 * `CU_TestInfo kwt_<name>_tests[]` (ending with CU_TEST_INFO_NULL). */
#define KWT_SUITES(X)                                               \
    X(buf, "buffers, primitives, varints, arena")                   \
    X(schema, "schema engine: tags, defaults, nulls")               \
    X(api_versions, "ApiVersions codec")                            \
    X(metadata, "Metadata codec")                                   \
    X(create_topics, "CreateTopics codec")                          \
    X(delete_topics, "DeleteTopics codec")                          \
    X(find_coordinator, "FindCoordinator codec")                    \
    X(produce, "Produce codec")                                     \
    X(fetch, "Fetch codec")                                         \
    X(list_offsets, "ListOffsets codec")                            \
    X(init_producer_id, "InitProducerId codec")                     \
    X(groups, "consumer-group codecs (pending: not served yet)")   \
    X(crc, "CRC-32C hardware and portable, CRC-32")                 \
    X(compress, "gzip, snappy, lz4, zstd")                          \
    X(batch, "record batch v2 builder and iterator")                \
    X(msgset, "legacy message sets v0/v1")                          \
    X(errors, "Kafka error table")                                  \
    X(hash, "murmur2 and partitioners")                             \
    X(clock, "virtual and libevent clocks")                         \
    X(describe, "describe and kdump")                               \
    X(golden, "golden frames from real clients")                    \
    X(broker, "mock cluster over sockets")                          \
    X(broker_produce, "mock cluster: Produce over sockets")        \
    X(groups_broker, "mock cluster: the group coordinator")        \
    X(txn_broker, "mock cluster: transactions")                    \
    X(hostile, "mock cluster: hostile clients")                     \
    X(fault, "mock cluster: fault rules")                           \
    X(replication, "mock cluster: followers, ISR, elections")       \
    X(journal, "mock cluster: the journal")                         \
    X(scenario, "mock cluster: scenario files")                     \
    X(admin, "mock cluster: the HTTP control API")                  \
    X(producer, "producer: configuration, batching, reports")       \
    X(producer_retry, "producer: retries, timeouts, lost answers")   \
    X(producer_idemp, "producer: idempotence and epoch bumps")      \
    X(producer_faults, "producer: under the mock's fault rules")    \
    X(producer_txn, "producer: transactions")                       \
    X(cli, "kproducer: histogram, arrivals, sizes, trace hook")      \
    X(replay, "every fixture scenario run twice: identical journals")     \
    X(grade, "mockbroker grade: good and broken producers judged")
