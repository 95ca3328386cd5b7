/* Load generation helpers: see loadgen.h. */
#include "producer/loadgen.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

/* --- histogram -------------------------------------------------------------------------------- */

#define SUB (1u << KP_HIST_SUB_BITS)

static int top_bit(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return 63 - __builtin_clzll(v);
#else
    int e = 0;
    while (v >> 1) {
        v >>= 1;
        e++;
    }
    return e;
#endif
}

size_t kp_hist_index(uint64_t v)
{
    if (v < SUB)
        return (size_t)v;
    int e = top_bit(v);
    if (e >= KP_HIST_MAX_BITS)
        return KP_HIST_BUCKETS - 1;
    int shift = e - KP_HIST_SUB_BITS;
    /* The top SUB_BITS+1 bits pick the bucket: 2^e .. 2^(e+1)-1 in SUB equal steps. */
    return ((size_t)(shift + 1) << KP_HIST_SUB_BITS) + (size_t)((v >> shift) - SUB);
}

uint64_t kp_hist_bucket_low(size_t i)
{
    if (i < SUB)
        return i;
    int shift = (int)(i >> KP_HIST_SUB_BITS) - 1;
    return (uint64_t)(SUB + (i & (SUB - 1))) << shift;
}

uint64_t kp_hist_bucket_high(size_t i)
{
    if (i < SUB)
        return i;
    if (i == KP_HIST_BUCKETS - 1)
        return UINT64_MAX;      /* the last bucket also takes everything above the range */
    int shift = (int)(i >> KP_HIST_SUB_BITS) - 1;
    return kp_hist_bucket_low(i) + (UINT64_C(1) << shift) - 1;
}

void kp_hist_init(struct kp_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void kp_hist_record(struct kp_hist *h, uint64_t v)
{
    h->counts[kp_hist_index(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void kp_hist_merge(struct kp_hist *dst, const struct kp_hist *src)
{
    for (size_t i = 0; i < KP_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t kp_hist_percentile(const struct kp_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 100)
        return h->max;
    /* Nearest rank: the smallest value with at least q% of the values at or below it. */
    double r = q / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < KP_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = kp_hist_bucket_high(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

double kp_hist_mean(const struct kp_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}

/* --- randomness ------------------------------------------------------------------------------- */

uint64_t kp_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

double kp_rand_unit(uint64_t *state)
{
    return (double)((kp_rand(state) >> 11) + 1) * 0x1p-53;
}

void kp_rand_text(uint64_t *state, uint8_t *out, size_t n)
{
    static const char alphabet[65] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .";
    size_t i = 0;
    while (i < n) {
        uint64_t z = kp_rand(state);
        for (int k = 0; k < 10 && i < n; k++, z >>= 6)
            out[i++] = (uint8_t)alphabet[z & 63];
    }
}

#define LN2 0.693147180559945309417232121458176568
#define SQRT2 1.41421356237309504880168872420969808

double kp_ln(double x)
{
    if (!(x > 0) || x > DBL_MAX)
        return 0;
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then ln m = 2 atanh(s), s = (m-1)/(m+1):
     * |s| < 0.172, so the odd series s + s^3/3 + ... converges by 1.5 digits a term. */
    int e = 0;
    while (x >= 0x1p64) {
        x *= 0x1p-64;
        e += 64;
    }
    while (x < 0x1p-64) {
        x *= 0x1p64;
        e -= 64;
    }
    while (x >= 2) {
        x *= 0.5;
        e++;
    }
    while (x < 1) {
        x *= 2;
        e--;
    }
    if (x > SQRT2) {
        x *= 0.5;
        e++;
    }
    double s = (x - 1) / (x + 1), s2 = s * s, power = s, sum = 0;
    for (int k = 1; k < 64; k += 2) {
        double term = power / k;
        sum += term;
        if (term < 1e-20 && term > -1e-20)
            break;
        power *= s2;
    }
    return 2 * sum + e * LN2;
}

double kp_sqrt(double x)
{
    if (!(x > 0))
        return 0;
    if (x > DBL_MAX)
        return x;
    /* x = m * 4^k with m in [1, 4): sqrt x = sqrt(m) * 2^k, Newton's iteration on m. */
    double scale = 1;
    while (x >= 0x1p64) {
        x *= 0x1p-64;
        scale *= 0x1p32;
    }
    while (x < 0x1p-64) {
        x *= 0x1p64;
        scale *= 0x1p-32;
    }
    while (x >= 4) {
        x *= 0.25;
        scale *= 2;
    }
    while (x < 1) {
        x *= 4;
        scale *= 0.5;
    }
    double y = (x + 1) / 2;
    for (int i = 0; i < 12; i++) {
        double next = 0.5 * (y + x / y);
        if (next == y)
            break;
        y = next;
    }
    return y * scale;
}

/* --- arrivals --------------------------------------------------------------------------------- */

int kp_arrival_init(struct kp_arrival_gen *g, int kind, double rate_per_s, uint64_t seed)
{
    if (!(rate_per_s > 0) || rate_per_s > 1e12 ||
        (kind != KP_ARRIVALS_UNIFORM && kind != KP_ARRIVALS_POISSON))
        return -1;
    g->kind = kind;
    g->mean_ns = 1e9 / rate_per_s;
    g->state = seed;
    return 0;
}

double kp_arrival_next(struct kp_arrival_gen *g)
{
    if (g->kind == KP_ARRIVALS_UNIFORM)
        return g->mean_ns;
    /* Inversion: -ln U of a uniform U in (0, 1] is exponential with mean 1. */
    return -g->mean_ns * kp_ln(kp_rand_unit(&g->state));
}

const char *kp_arrivals_name(int kind)
{
    return kind == KP_ARRIVALS_POISSON ? "poisson" : kind == KP_ARRIVALS_UNIFORM ? "uniform" : "?";
}

int kp_arrivals_parse(const char *name)
{
    if (strcmp(name, "uniform") == 0)
        return KP_ARRIVALS_UNIFORM;
    if (strcmp(name, "poisson") == 0)
        return KP_ARRIVALS_POISSON;
    return -1;
}

/* --- moments ---------------------------------------------------------------------------------- */

void kp_moments_add(struct kp_moments *m, double x)
{
    m->n++;
    double d = x - m->mean;
    m->mean += d / (double)m->n;
    m->m2 += d * (x - m->mean);
}

double kp_moments_stddev(const struct kp_moments *m)
{
    return m->n < 2 ? 0 : kp_sqrt(m->m2 / (double)m->n);
}

double kp_moments_cv(const struct kp_moments *m)
{
    return m->mean == 0 ? 0 : kp_moments_stddev(m) / m->mean;
}

/* --- sizes ------------------------------------------------------------------------------------ */

/* A decimal number of at most max from s to end; -1 if it is not one. */
static int64_t number(const char *s, const char *end, int64_t max)
{
    if (s == end)
        return -1;
    int64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > max)
            return -1;
    }
    return v;
}

int kp_sizes_parse(struct kp_sizes *s, const char *spec, char *errstr, size_t errstr_size)
{
    memset(s, 0, sizeof(*s));
    const char *p = spec;
    uint64_t total = 0;
    for (;;) {
        size_t n = strcspn(p, ",");
        const char *end = p + n, *colon = memchr(p, ':', n);
        const char *size_end = colon ? colon : end;
        const char *dash = memchr(p, '-', (size_t)(size_end - p));
        int64_t lo, hi, w = 1;
        if (s->n == KP_SIZES_MAX) {
            snprintf(errstr, errstr_size, "size distribution \"%s\": more than %d terms", spec,
                     KP_SIZES_MAX);
            return -1;
        }
        if (dash) {
            lo = number(p, dash, KP_SIZE_LIMIT);
            hi = number(dash + 1, size_end, KP_SIZE_LIMIT);
        } else {
            lo = hi = number(p, size_end, KP_SIZE_LIMIT);
        }
        if (colon)
            w = number(colon + 1, end, 1000000);
        if (lo < 0 || hi < 0 || hi < lo || w <= 0) {
            snprintf(errstr, errstr_size, "size distribution \"%s\": bad term \"%.*s\": expected "
                     "BYTES or MIN-MAX (at most %d), optionally followed by :WEIGHT (1 to "
                     "1000000)", spec, (int)n, p, KP_SIZE_LIMIT);
            return -1;
        }
        s->lo[s->n] = (uint32_t)lo;
        s->hi[s->n] = (uint32_t)hi;
        total += (uint64_t)w;
        s->cum[s->n] = total;
        s->n++;
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

uint32_t kp_sizes_draw(const struct kp_sizes *s, uint64_t *state)
{
    if (s->n == 0)
        return 0;
    int i = 0;
    if (s->n > 1) {
        uint64_t w = kp_rand(state) % s->cum[s->n - 1];
        while (s->cum[i] <= w)
            i++;
    }
    if (s->hi[i] == s->lo[i])
        return s->lo[i];
    return s->lo[i] + (uint32_t)(kp_rand(state) % ((uint64_t)s->hi[i] - s->lo[i] + 1));
}

double kp_sizes_mean(const struct kp_sizes *s)
{
    if (s->n == 0)
        return 0;
    double sum = 0;
    uint64_t prev = 0;
    for (int i = 0; i < s->n; i++) {
        sum += (double)(s->cum[i] - prev) * ((double)s->lo[i] + (double)s->hi[i]) / 2;
        prev = s->cum[i];
    }
    return sum / (double)s->cum[s->n - 1];
}

uint32_t kp_sizes_max(const struct kp_sizes *s)
{
    uint32_t m = 0;
    for (int i = 0; i < s->n; i++)
        if (s->hi[i] > m)
            m = s->hi[i];
    return m;
}
