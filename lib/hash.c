/* Partitioner hashes. Each must agree bit for bit with the client it imitates, or a keyed record
 * lands on a different partition than the same record sent by that client. */
#include <limits.h>
#include <zlib.h>

#include "lib/hash.h"
#include "lib/kw.h"

uint32_t kw_murmur2(const void *key, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    const uint8_t *d = key;
    if (d == NULL)
        len = 0;
    /* Java takes the length as an int: keys over 4 GiB are not a case worth matching. */
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t words = len / 4;
    for (size_t i = 0; i < words; i++, d += 4) {
        uint32_t k = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16
                     | (uint32_t)d[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len & 3) {
    case 3:
        h ^= (uint32_t)d[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[1] << 8;
        /* fall through */
    case 1:
        h ^= d[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

int32_t kw_partition_murmur2(const void *key, size_t len, int32_t n)
{
    if (n <= 0)
        return KW_ERR_INVALID;
    return (int32_t)((kw_murmur2(key, len) & 0x7fffffff) % (uint32_t)n);
}

uint32_t kw_fnv1a(const void *key, size_t len)
{
    const uint8_t *d = key;
    uint32_t h = 0x811c9dc5;
    for (size_t i = 0; d != NULL && i < len; i++) {
        h ^= d[i];
        h *= 0x01000193;
    }
    return h;
}

int32_t kw_partition_fnv1a(const void *key, size_t len, int32_t n)
{
    if (n <= 0)
        return KW_ERR_INVALID;
    uint32_t u = kw_fnv1a(key, len);
    /* The int32 reading of u, without relying on an implementation-defined conversion. */
    int64_t h = u > INT32_MAX ? (int64_t)u - 4294967296LL : (int64_t)u;
    /* Sarama negates the remainder; librdkafka negates the hash first. They agree except on
     * INT32_MIN, where librdkafka's negation overflows and we follow Sarama. */
    int32_t p = (int32_t)(h % n);
    return p < 0 ? -p : p;
}

int32_t kw_partition_consistent(const void *key, size_t len, int32_t n)
{
    if (n <= 0)
        return KW_ERR_INVALID;
    const uint8_t *d = key;
    uLong crc = crc32(0L, Z_NULL, 0);
    while (d != NULL && len > 0) {  /* zlib takes a uInt length: feed large keys in pieces */
        uInt chunk = len > UINT_MAX ? UINT_MAX : (uInt)len;
        crc = crc32(crc, d, chunk);
        d += chunk;
        len -= chunk;
    }
    return (int32_t)((uint32_t)crc % (uint32_t)n);
}
