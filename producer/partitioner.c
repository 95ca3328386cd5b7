/* Partitioners, as librdkafka 2.0.2 names and computes them. Keyed records hash to the same
 * partition as librdkafka (consistent, fnv1a) or the Java client (murmur2); key-less records of
 * the *_random partitioners, and random's, go to a partition chosen at random among those with a
 * leader and kept for sticky.partitioning.linger.ms, so they fill batches instead of scattering. */
#include "producer/internal.h"

#include "lib/hash.h"

/* A random partition with a leader (any partition if none has one). */
static int32_t random_part(struct kp_producer *p, const struct kp__topic *t)
{
    uint64_t r = kp__rand(&p->rng);
    if (t->n_avail > 0)
        return t->avail[r % (uint64_t)t->n_avail];
    return (int32_t)(r % (uint64_t)t->n_parts);
}

static int32_t sticky(struct kp_producer *p, struct kp__topic *t, int64_t now_us)
{
    if (p->conf.v.sticky_linger_ms == 0)
        return random_part(p, t);
    if (t->sticky_part < 0 || t->sticky_part >= t->n_parts || now_us >= t->sticky_until_us) {
        t->sticky_part = random_part(p, t);
        t->sticky_until_us = now_us + (int64_t)p->conf.v.sticky_linger_ms * 1000;
    }
    return t->sticky_part;
}

int32_t kp__partition(struct kp_producer *p, struct kp__topic *t, struct kw_bytes key,
                      int64_t now_us)
{
    int32_t n = t->n_parts;
    if (n <= 0)
        return -1;
    const void *k = key.len >= 0 ? key.ptr : NULL;
    size_t len = key.len > 0 ? (size_t)key.len : 0;
    bool null_key = key.len < 0;
    switch (p->conf.v.partitioner) {
    case KP__PART_CONSISTENT:
        return kw_partition_consistent(k, len, n);
    case KP__PART_MURMUR2:
        return kw_partition_murmur2(k, len, n);
    case KP__PART_FNV1A:
        return kw_partition_fnv1a(k, len, n);
    case KP__PART_MURMUR2_RANDOM:
        return null_key ? sticky(p, t, now_us) : kw_partition_murmur2(k, len, n);
    case KP__PART_FNV1A_RANDOM:
        return null_key ? sticky(p, t, now_us) : kw_partition_fnv1a(k, len, n);
    case KP__PART_RANDOM:
        return null_key ? sticky(p, t, now_us) : random_part(p, t);
    case KP__PART_CONSISTENT_RANDOM:
    default:
        /* librdkafka treats an empty key like a missing one here. */
        return len == 0 ? sticky(p, t, now_us) : kw_partition_consistent(k, len, n);
    }
}
