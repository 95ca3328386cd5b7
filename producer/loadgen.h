/* Tools for load generators such as bin/kproducer: a latency histogram, arrival schedules,
 * message size distributions, running moments and seeded printable text. Pure computation: no
 * I/O, no allocation, no libm (libkproducer's users link without -lm). */
#ifndef KP_LOADGEN_H
#define KP_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

/* --- a latency histogram ------------------------------------------------------------------------
 * Log-linear, as HdrHistogram lays it out: values below 128 are counted exactly, larger ones in
 * 128 linear sub-buckets per power of two, so a bucket is at most 1/128 (0.8%) of its values
 * wide. Nanoseconds from 1 µs to 100 s need 30 powers of two; values up to 2^40 are kept, larger
 * ones land in the last bucket (min, max and the mean stay exact). */
#define KP_HIST_SUB_BITS 7
#define KP_HIST_MAX_BITS 40
#define KP_HIST_BUCKETS ((KP_HIST_MAX_BITS - KP_HIST_SUB_BITS + 1) << KP_HIST_SUB_BITS)

struct kp_hist {
    uint64_t count;
    uint64_t min, max;          /* exact; min is UINT64_MAX while empty */
    double sum;                 /* for the mean */
    uint64_t counts[KP_HIST_BUCKETS];
};

void kp_hist_init(struct kp_hist *h);
void kp_hist_record(struct kp_hist *h, uint64_t v);
/* Adds every value of src to dst. */
void kp_hist_merge(struct kp_hist *dst, const struct kp_hist *src);
/* The value at or below which q percent of the recorded values lie (q from 0 to 100), given as
 * the highest value of its bucket but never above max nor below min: within 0.8% of the exact
 * percentile. 0 when empty. */
uint64_t kp_hist_percentile(const struct kp_hist *h, double q);
/* The mean, 0 when empty. */
double kp_hist_mean(const struct kp_hist *h);
/* The bucket index of v and the lowest and highest value of bucket i (for tests). */
size_t kp_hist_index(uint64_t v);
uint64_t kp_hist_bucket_low(size_t i);
uint64_t kp_hist_bucket_high(size_t i);

/* --- seeded randomness ------------------------------------------------------------------------ */

/* splitmix64: the next value of the stream whose state is *state. */
uint64_t kp_rand(uint64_t *state);
/* A double uniform in (0, 1]: never 0, so its logarithm is finite. */
double kp_rand_unit(uint64_t *state);
/* n bytes of printable ASCII text (letters, digits, space and a few signs), 6 random bits a
 * byte. */
void kp_rand_text(uint64_t *state, uint8_t *out, size_t n);

/* Natural logarithm and square root without libm: within a few ulp of libm's on positive
 * finite input; kp_ln(x) for x <= 0 and kp_sqrt(x) for x <= 0 return 0. */
double kp_ln(double x);
double kp_sqrt(double x);

/* --- arrival schedules ------------------------------------------------------------------------ */

enum kp_arrivals {
    KP_ARRIVALS_UNIFORM = 0,    /* evenly spaced: every gap is 1/rate */
    KP_ARRIVALS_POISSON,        /* a Poisson process: exponential gaps of mean 1/rate */
};

struct kp_arrival_gen {
    int kind;                   /* enum kp_arrivals */
    double mean_ns;             /* 1e9 / rate */
    uint64_t state;
};

/* 0, or -1 if rate is not a positive number of arrivals per second or kind is unknown. */
int kp_arrival_init(struct kp_arrival_gen *g, int kind, double rate_per_s, uint64_t seed);
/* The gap before the next arrival, in nanoseconds (fractional: callers add gaps as doubles so
 * rounding does not drift the rate). */
double kp_arrival_next(struct kp_arrival_gen *g);
/* "uniform" / "poisson", and back (-1 for an unknown name). */
const char *kp_arrivals_name(int kind);
int kp_arrivals_parse(const char *name);

/* --- running moments -------------------------------------------------------------------------- */

/* Count, mean and variance of a stream of values (Welford's method: stable over millions). */
struct kp_moments {
    uint64_t n;
    double mean, m2;
};

void kp_moments_add(struct kp_moments *m, double x);
/* The population standard deviation; 0 for fewer than two values. */
double kp_moments_stddev(const struct kp_moments *m);
/* Standard deviation over mean (1 for exponential gaps, 0 for even ones); 0 if the mean is 0. */
double kp_moments_cv(const struct kp_moments *m);

/* --- message sizes ---------------------------------------------------------------------------- */

#define KP_SIZES_MAX 16         /* terms in a distribution */
#define KP_SIZE_LIMIT 100000000 /* bytes: larger sizes are refused (message.max.bytes caps 1e9) */

/* A size distribution: a comma-separated list of terms SIZE[:WEIGHT], where SIZE is N bytes or
 * a range A-B drawn uniformly (both ends included) and WEIGHT (default 1) its relative share:
 * "100", "10-1000", "100:9,10000:1". */
struct kp_sizes {
    int n;
    uint32_t lo[KP_SIZES_MAX], hi[KP_SIZES_MAX];
    uint64_t cum[KP_SIZES_MAX];     /* running sum of weights */
};

/* 0, or -1 with what is wrong in errstr. */
int kp_sizes_parse(struct kp_sizes *s, const char *spec, char *errstr, size_t errstr_size);
/* One size drawn from the distribution. */
uint32_t kp_sizes_draw(const struct kp_sizes *s, uint64_t *state);
/* The distribution's mean and largest size. */
double kp_sizes_mean(const struct kp_sizes *s);
uint32_t kp_sizes_max(const struct kp_sizes *s);

#endif
