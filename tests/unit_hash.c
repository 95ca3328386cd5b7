/* Partitioner hashes against the vectors of the clients they copy: Java's murmur2 (computed with
 * kafka-python and checked against kafkajs and librdkafka), librdkafka's FNV-1a table (which is
 * Go's hash/fnv with Sarama's sign fix-up), and zlib's CRC-32 for librdkafka's "consistent". */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/kw.h"

static void test_murmur2_matches_the_java_client_vectors(void)
{
    static const struct {
        const char *key;
        size_t len;
        uint32_t hash;
        int32_t p3, p6, p10;
    } vs[] = {
        { "", 0, 0x106e08d9, 0, 3, 1 },
        { "kafka", 5, 0xd067cf64, 1, 4, 0 },
        { "a", 1, 0xa2d0b27c, 1, 4, 4 },
        { "hello", 5, 0x7f1ddbbd, 0, 3, 9 },
        { "key-1", 5, 0x0b8601b8, 0, 0, 0 },
        { "123456789", 9, 0x9362de66, 0, 0, 6 },
        { "\x00\xff\x80\x7f", 4, 0x227ee9ab, 0, 3, 9 },
    };
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        CU_ASSERT_EQUAL(kw_murmur2(vs[i].key, vs[i].len), vs[i].hash);
        CU_ASSERT_EQUAL(kw_partition_murmur2(vs[i].key, vs[i].len, 3), vs[i].p3);
        CU_ASSERT_EQUAL(kw_partition_murmur2(vs[i].key, vs[i].len, 6), vs[i].p6);
        CU_ASSERT_EQUAL(kw_partition_murmur2(vs[i].key, vs[i].len, 10), vs[i].p10);
    }
}

static void test_murmur2_matches_librdkafka_and_hashes_null_as_empty(void)
{
    CU_ASSERT_EQUAL(kw_murmur2("kafka", 5), 0xd067cf64);
    CU_ASSERT_EQUAL(kw_murmur2("", 0), 0x106e08d9);
    CU_ASSERT_EQUAL(kw_murmur2("giberish123456789", 17), 0x8f552b0c);
    CU_ASSERT_EQUAL(kw_murmur2(NULL, 0), 0x106e08d9);
    CU_ASSERT_EQUAL(kw_murmur2(NULL, 7), 0x106e08d9);
    /* The mask, not abs(): "kafka" hashes negative as int32, and abs() would give 798503068. */
    CU_ASSERT_EQUAL(kw_partition_murmur2("kafka", 5, 1000000000), 348980580);
}

static void test_murmur2_reads_words_little_endian_wherever_the_key_starts(void)
{
    /* The same bytes at every alignment must hash alike: no word loads that assume alignment. */
    uint8_t buf[40];
    const char *key = "giberish123456789";
    for (size_t off = 0; off < 8; off++) {
        memcpy(buf + off, key, 17);
        CU_ASSERT_EQUAL(kw_murmur2(buf + off, 17), 0x8f552b0c);
    }
}

static void test_fnv1a_matches_the_reference_and_sarama_vectors(void)
{
    CU_ASSERT_EQUAL(kw_fnv1a("", 0), 0x811c9dc5);
    CU_ASSERT_EQUAL(kw_fnv1a(NULL, 3), 0x811c9dc5);
    CU_ASSERT_EQUAL(kw_fnv1a("a", 1), 0xe40c292c);
    CU_ASSERT_EQUAL(kw_fnv1a("foobar", 6), 0xbf9cf968);

    /* librdkafka's table: |hash as int32|, which is what Sarama's partitioner reduces. */
    static const char *unaligned = "PreAmbleWillBeRemoved,ThePrePartThatIs";
    static const struct { const char *key; int32_t abs_hash; } vs[] = {
        { "kafka", 0x0d33c4e1 }, { "giberish123456789", 0x77a58295 }, { "1234", 0x023bdd03 },
        { "234", 0x2dea3cd2 }, { "34", 0x740fa83e }, { "4", 0x310ca263 }, { "", 0x7ee3623b },
    };
    static const int32_t unaligned_abs[] = { 0x65cbd69c, 0x6e49c79a, 0x69eed356, 0x6abcc023 };
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        int64_t h = (int32_t)kw_fnv1a(vs[i].key, strlen(vs[i].key));
        CU_ASSERT_EQUAL(llabs(h), vs[i].abs_hash);
        for (int32_t n = 1; n <= 12; n++)
            CU_ASSERT_EQUAL(kw_partition_fnv1a(vs[i].key, strlen(vs[i].key), n),
                            vs[i].abs_hash % n);
    }
    for (size_t i = 0; i < 4; i++) {
        int64_t h = (int32_t)kw_fnv1a(unaligned + i, strlen(unaligned + i));
        CU_ASSERT_EQUAL(llabs(h), unaligned_abs[i]);
    }
}

static void test_fnv1a_partitions_the_empty_key_as_librdkafka_does(void)
{
    /* fnv1a("") is 0x811c9dc5, negative as int32; negated it is 0x7ee3623b, the value
     * librdkafka's notes give for empty and NULL keys. */
    CU_ASSERT_EQUAL((uint32_t)-(int64_t)(int32_t)kw_fnv1a("", 0), 0x7ee3623b);
    for (int32_t n = 1; n <= 64; n++) {
        CU_ASSERT_EQUAL(kw_partition_fnv1a("", 0, n), 0x7ee3623b % n);
        CU_ASSERT_EQUAL(kw_partition_fnv1a(NULL, 0, n), 0x7ee3623b % n);
    }
    CU_ASSERT_EQUAL(kw_partition_fnv1a("", 0, 3), 0);
    CU_ASSERT_EQUAL(kw_partition_fnv1a("", 0, 6), 3);
    CU_ASSERT_EQUAL(kw_partition_fnv1a("", 0, 10), 5);
}

static void test_fnv1a_of_int32_min_still_gives_a_partition_in_range(void)
{
    /* A key found by search whose hash is 0x80000000, which cannot be negated as an int32. */
    static const uint8_t key[] = { 0x02, 0x57, 0x96, 0xdf, 0x4d };
    CU_ASSERT_EQUAL(kw_fnv1a(key, sizeof(key)), 0x80000000u);
    CU_ASSERT_EQUAL(kw_partition_fnv1a(key, sizeof(key), 3), 2);
    CU_ASSERT_EQUAL(kw_partition_fnv1a(key, sizeof(key), 6), 2);
    CU_ASSERT_EQUAL(kw_partition_fnv1a(key, sizeof(key), 10), 8);
    CU_ASSERT_EQUAL(kw_partition_fnv1a(key, sizeof(key), 1), 0);
    CU_ASSERT_EQUAL(kw_partition_fnv1a(key, sizeof(key), INT32_MAX), 1);
}

static void test_consistent_is_zlib_crc32_modulo_the_partition_count(void)
{
    /* 0xcbf43926 is CRC-32's standard check value for "123456789". */
    for (int32_t n = 1; n <= 64; n++)
        CU_ASSERT_EQUAL(kw_partition_consistent("123456789", 9, n), (int32_t)(0xcbf43926u % n));
    CU_ASSERT_EQUAL(kw_partition_consistent("123456789", 9, 10), 2);
    CU_ASSERT_EQUAL(kw_partition_consistent("kafka", 5, 10), 9);       /* crc 0x5bbc7517 */
    CU_ASSERT_EQUAL(kw_partition_consistent("hello", 5, 6), 4);        /* crc 0x3610a686 */
    /* Read as unsigned: as an int32 0xcbf43926 is negative, and so would its remainder be. */
    CU_ASSERT_EQUAL(kw_partition_consistent("123456789", 9, INT32_MAX), 0x4bf43927);
    CU_ASSERT_EQUAL(kw_partition_consistent("", 0, 7), 0);
    CU_ASSERT_EQUAL(kw_partition_consistent(NULL, 0, 7), 0);
}

static void test_partitions_are_always_in_range_and_a_bad_count_is_refused(void)
{
    static const int32_t counts[] = { 1, 2, 3, 7, 64, 1000, 65537, INT32_MAX };
    uint8_t key[32];
    srand(12345);
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)rand() % sizeof(key);
        for (size_t j = 0; j < len; j++)
            key[j] = (uint8_t)rand();
        for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            int32_t n = counts[c];
            int32_t a = kw_partition_murmur2(key, len, n);
            int32_t b = kw_partition_fnv1a(key, len, n);
            int32_t d = kw_partition_consistent(key, len, n);
            CU_ASSERT(a >= 0 && a < n);
            CU_ASSERT(b >= 0 && b < n);
            CU_ASSERT(d >= 0 && d < n);
        }
    }
    static const int32_t bad[] = { 0, -1, INT32_MIN };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(kw_partition_murmur2("k", 1, bad[i]), KW_ERR_INVALID);
        CU_ASSERT_EQUAL(kw_partition_fnv1a("k", 1, bad[i]), KW_ERR_INVALID);
        CU_ASSERT_EQUAL(kw_partition_consistent("k", 1, bad[i]), KW_ERR_INVALID);
    }
}

CU_TestInfo kwt_hash_tests[] = {
    { "murmur2 matches the Java client's vectors and partitions",
      test_murmur2_matches_the_java_client_vectors },
    { "murmur2 matches librdkafka's constants and hashes NULL as empty",
      test_murmur2_matches_librdkafka_and_hashes_null_as_empty },
    { "murmur2 reads words little-endian wherever the key starts",
      test_murmur2_reads_words_little_endian_wherever_the_key_starts },
    { "fnv1a matches the reference and Sarama vectors",
      test_fnv1a_matches_the_reference_and_sarama_vectors },
    { "fnv1a partitions the empty key as librdkafka does",
      test_fnv1a_partitions_the_empty_key_as_librdkafka_does },
    { "fnv1a of INT32_MIN still gives a partition in range",
      test_fnv1a_of_int32_min_still_gives_a_partition_in_range },
    { "consistent is zlib's CRC-32 modulo the partition count",
      test_consistent_is_zlib_crc32_modulo_the_partition_count },
    { "partitions are always in range and a bad count is refused",
      test_partitions_are_always_in_range_and_a_bad_count_is_refused },
    CU_TEST_INFO_NULL,
};
