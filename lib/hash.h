/* Key hashes and the partitioners built on them, bit-compatible with the clients they copy.
 * A NULL key hashes as the empty key (len is then ignored), which is what librdkafka does for
 * its deterministic partitioners. */
#ifndef KW_HASH_H
#define KW_HASH_H

#include <stddef.h>
#include <stdint.h>

/* MurmurHash2 exactly as the Java client's Utils.murmur2 computes it (seed 0x9747b28c). */
uint32_t kw_murmur2(const void *key, size_t len);
/* The Java default partitioner for a keyed record: (murmur2 & 0x7fffffff) % n. The mask, not
 * abs(), is what Java, librdkafka's murmur2, kafka-python and kafkajs agree on. Returns a
 * partition in [0, n), or KW_ERR_INVALID if n <= 0. */
int32_t kw_partition_murmur2(const void *key, size_t len, int32_t n);

/* 32-bit FNV-1a (offset basis 0x811c9dc5, prime 0x01000193), with no sign fix-up. */
uint32_t kw_fnv1a(const void *key, size_t len);
/* Sarama's default hash partitioner, which librdkafka's fnv1a copies: the hash read as int32,
 * modulo n, negated if negative. Returns a partition in [0, n), or KW_ERR_INVALID if n <= 0. */
int32_t kw_partition_fnv1a(const void *key, size_t len, int32_t n);

/* librdkafka's "consistent" partitioner: CRC-32 (IEEE, as zlib computes it) of the key, read as
 * unsigned, modulo n. Returns a partition in [0, n), or KW_ERR_INVALID if n <= 0. */
int32_t kw_partition_consistent(const void *key, size_t len, int32_t n);

#endif
