/* The one table of what we speak: API key, names, the version range we advertise and the first
 * flexible version (KW_VMAX if none). ApiVersions, the mock's dispatch, the producer's version
 * choice and kdump all read it, so they cannot disagree. Ranges start at 0 on purpose: librdkafka
 * enables features only when old versions are inside the range, and kafka-python guesses the
 * broker's release from them (e.g. Produce v8 present means "2.4 or later"). */
#ifndef KW_PROTO_APIS_H
#define KW_PROTO_APIS_H

#include <stdbool.h>
#include <stdint.h>

/*     key  CONST              name              min max flex */
#define KW_APIS(X)                                                  \
    X(0,  PRODUCE,          produce,          0, 11, 9)             \
    X(1,  FETCH,            fetch,            0, 12, 12)            \
    X(2,  LIST_OFFSETS,     list_offsets,     0, 7,  6)             \
    X(3,  METADATA,         metadata,         0, 12, 9)             \
    X(8,  OFFSET_COMMIT,    offset_commit,    0, 8,  8)             \
    X(9,  OFFSET_FETCH,     offset_fetch,     0, 7,  6)             \
    X(10, FIND_COORDINATOR, find_coordinator, 0, 4,  3)             \
    X(11, JOIN_GROUP,       join_group,       0, 7,  6)             \
    X(12, HEARTBEAT,        heartbeat,        0, 4,  4)             \
    X(13, LEAVE_GROUP,      leave_group,      0, 4,  4)             \
    X(14, SYNC_GROUP,       sync_group,       0, 5,  4)             \
    X(15, DESCRIBE_GROUPS,  describe_groups,  0, 5,  5)             \
    X(16, LIST_GROUPS,      list_groups,      0, 4,  3)             \
    X(18, API_VERSIONS,     api_versions,     0, 3,  3)             \
    X(19, CREATE_TOPICS,    create_topics,    0, 7,  5)             \
    X(20, DELETE_TOPICS,    delete_topics,    0, 6,  4)             \
    X(22, INIT_PRODUCER_ID, init_producer_id, 0, 4,  2)             \
    X(24, ADD_PARTITIONS_TO_TXN, add_partitions_to_txn, 0, 3, 3)    \
    X(25, ADD_OFFSETS_TO_TXN, add_offsets_to_txn, 0, 3, 3)          \
    X(26, END_TXN,          end_txn,          0, 3,  3)             \
    X(28, TXN_OFFSET_COMMIT, txn_offset_commit, 0, 3, 3)

/* APIs whose codecs exist but which the mock cluster does not serve yet.
 * They are kept out of KW_APIS because ApiVersions advertises every entry there, and a client
 * told that the broker speaks an API sends it and has its connection dropped. kw_api_find,
 * kw_api_supported and kw_api_name see both lists (so headers, codecs, describe and kdump work
 * for these); kw_api_all does not. An API moves to KW_APIS when the broker gets its handler. */
#define KW_APIS_PENDING(X)

enum kw_api_key {
#define X(key, CONST, name, min, max, flex) KW_API_##CONST = key,
    KW_APIS(X)
    KW_APIS_PENDING(X)
#undef X
};

struct kw_schema;

struct kw_api {
    int16_t key;
    const char *name;           /* "Produce", as in the protocol's message definitions */
    int16_t min, max;           /* what we advertise */
    int16_t flex_from;          /* first flexible version */
    const struct kw_schema *req, *resp;
};

/* The table entry for an API key (served or pending), or NULL if we do not speak it. */
const struct kw_api *kw_api_find(int key);
/* Every API the cluster serves (KW_APIS only, what ApiVersions advertises and the producer
 * negotiates), in key order; *n gets the count. */
const struct kw_api *kw_api_all(int *n);
/* A name for any key, including ones we do not speak ("ListGroups", ..., or "Unknown"). */
const char *kw_api_name(int key);
/* True if we have a codec for this key at this version (served or pending). */
bool kw_api_supported(int key, int version);

#endif
