/* kproducer's building blocks in libkproducer: the latency histogram, arrival schedules (the
 * Poisson statistics over 100,000 draws), size distributions, seeded text, libm-free ln and
 * sqrt, and the producer's protocol trace hook. The program itself is tested end to end by
 * tests/scripts/kproducer.sh. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/describe.h"
#include "lib/kw.h"
#include "lib/proto/apis.h"
#include "mockbroker/mockbroker.h"
#include "producer/kproducer.h"
#include "producer/loadgen.h"
#include "tests/unit_producer_env.h"

static double rel(double got, double want)
{
    double d = (got - want) / want;
    return d < 0 ? -d : d;
}

/* --- histogram -------------------------------------------------------------------------------- */

static void test_histogram_buckets_cover_every_value_within_one_128th(void)
{
    /* Exact below 256; above, each value lies in its bucket and the bucket is at most 1/128 of
     * its lowest value wide. Walk powers of two and their neighbours up to the range's end. */
    for (uint64_t v = 0; v < 256; v++) {
        size_t i = kp_hist_index(v);
        CU_ASSERT_EQUAL(kp_hist_bucket_low(i), v);
        CU_ASSERT_EQUAL(kp_hist_bucket_high(i), v);
    }
    size_t prev = kp_hist_index(255);
    for (int e = 8; e < KP_HIST_MAX_BITS; e++) {
        uint64_t base = UINT64_C(1) << e;
        const uint64_t probes[] = { base - 1, base, base + 1, base + base / 3, 2 * base - 1 };
        for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
            uint64_t v = probes[k];
            size_t i = kp_hist_index(v);
            uint64_t lo = kp_hist_bucket_low(i), hi = kp_hist_bucket_high(i);
            CU_ASSERT(i < KP_HIST_BUCKETS);
            CU_ASSERT(lo <= v && v <= hi);
            if (i < KP_HIST_BUCKETS - 1)    /* the last one takes everything above */
                CU_ASSERT((double)(hi - lo + 1) / (double)lo <= 1.0 / 128 + 1e-12);
        }
        CU_ASSERT(kp_hist_index(base) > prev);     /* indexes grow with values */
        prev = kp_hist_index(base);
    }
    /* Above the range everything lands in the last bucket. */
    CU_ASSERT_EQUAL(kp_hist_index(UINT64_C(1) << KP_HIST_MAX_BITS), KP_HIST_BUCKETS - 1);
    CU_ASSERT_EQUAL(kp_hist_index(UINT64_MAX), KP_HIST_BUCKETS - 1);
    CU_ASSERT_EQUAL(kp_hist_index((UINT64_C(1) << KP_HIST_MAX_BITS) - 1), KP_HIST_BUCKETS - 1);
}

static void test_histogram_percentiles_of_a_known_distribution_are_within_1_percent(void)
{
    /* 1 us .. 100 ms in 1 us steps: the exact p-th percentile is p% of 100 ms. */
    struct kp_hist *h = malloc(sizeof(*h));
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    kp_hist_init(h);
    for (uint64_t us = 1; us <= 100000; us++)
        kp_hist_record(h, us * 1000);
    CU_ASSERT_EQUAL(h->count, 100000);
    CU_ASSERT_EQUAL(h->min, 1000);
    CU_ASSERT_EQUAL(h->max, 100000000);
    CU_ASSERT(rel(kp_hist_mean(h), 50000500.0) < 1e-12);
    const double qs[] = { 1, 10, 50, 90, 99, 99.9, 99.99 };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        double exact = qs[i] / 100 * 100000000.0;
        double got = (double)kp_hist_percentile(h, qs[i]);
        CU_ASSERT(got >= exact);            /* the bucket's highest value, never below */
        CU_ASSERT(rel(got, exact) < 0.01);
    }
    CU_ASSERT_EQUAL(kp_hist_percentile(h, 100), 100000000);
    CU_ASSERT_EQUAL(kp_hist_percentile(h, 0), 1000);

    /* Spread over the whole 1 us .. 100 s range, log-uniformly. */
    kp_hist_init(h);
    double v = 1000;
    uint64_t n = 0;
    while (v <= 1e11) {
        kp_hist_record(h, (uint64_t)v);
        v *= 1.001;
        n++;
    }
    for (int q = 5; q < 100; q += 5) {
        double exact = 1000.0;
        for (uint64_t k = 1; k < (uint64_t)((double)q / 100 * (double)n + 0.999999); k++)
            exact *= 1.001;
        CU_ASSERT(rel((double)kp_hist_percentile(h, q), exact) < 0.01);
    }
    free(h);
}

static void test_histogram_edge_cases_keep_min_max_exact(void)
{
    struct kp_hist *h = malloc(sizeof(*h)), *g = malloc(sizeof(*g));
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    kp_hist_init(h);
    CU_ASSERT_EQUAL(kp_hist_percentile(h, 50), 0);
    CU_ASSERT_EQUAL(kp_hist_mean(h), 0);
    kp_hist_record(h, 123457);
    CU_ASSERT_EQUAL(kp_hist_percentile(h, 0.1), 123457);     /* capped to min and max */
    CU_ASSERT_EQUAL(kp_hist_percentile(h, 99.9), 123457);
    kp_hist_record(h, UINT64_C(1) << 50);   /* far above the range: last bucket, max exact */
    CU_ASSERT_EQUAL(h->max, UINT64_C(1) << 50);
    CU_ASSERT_EQUAL(kp_hist_percentile(h, 100), UINT64_C(1) << 50);
    CU_ASSERT_EQUAL(kp_hist_percentile(h, 99), UINT64_C(1) << 50);
    CU_ASSERT(kp_hist_percentile(h, 50) >= 123457);     /* its bucket's highest value */
    CU_ASSERT(rel((double)kp_hist_percentile(h, 50), 123457) < 1.0 / 128);
    kp_hist_init(g);
    kp_hist_record(g, 7);
    kp_hist_merge(g, h);
    CU_ASSERT_EQUAL(g->count, 3);
    CU_ASSERT_EQUAL(g->min, 7);
    CU_ASSERT_EQUAL(g->max, UINT64_C(1) << 50);
    CU_ASSERT_EQUAL(kp_hist_percentile(g, 1), 7);
    free(h);
    free(g);
}

/* --- ln, sqrt, moments ------------------------------------------------------------------------ */

static void test_ln_and_sqrt_match_known_values_without_libm(void)
{
    static const struct {
        double x, ln;
    } lns[] = {
        { 1, 0 },
        { 0.5, -0.69314718055994530942 },
        { 2.718281828459045, 1 },
        { 10, 2.30258509299404568402 },
        { 1e-10, -23.02585092994045684018 },
        { 0x1p-53, -36.73680056967710139911 },
        { 0.999999, -1.0000005000290891e-06 },     /* of the double nearest 0.999999 */
        { 1e300, 690.77552789821370520539 },
    };
    for (size_t i = 0; i < sizeof(lns) / sizeof(lns[0]); i++) {
        double got = kp_ln(lns[i].x);
        CU_ASSERT(lns[i].ln == 0 ? got == 0 : rel(got, lns[i].ln) < 1e-14);
    }
    CU_ASSERT_EQUAL(kp_ln(0), 0);
    CU_ASSERT_EQUAL(kp_ln(-1), 0);
    static const struct {
        double x, root;
    } roots[] = {
        { 4, 2 }, { 2, 1.41421356237309504880 }, { 1e-300, 1e-150 }, { 1e300, 1e150 },
        { 0.25, 0.5 }, { 12345.678, 111.11110655555547 },
    };
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
        CU_ASSERT(rel(kp_sqrt(roots[i].x), roots[i].root) < 1e-15);
    CU_ASSERT_EQUAL(kp_sqrt(0), 0);
    CU_ASSERT_EQUAL(kp_sqrt(-4), 0);
}

static void test_moments_give_mean_deviation_and_cv(void)
{
    struct kp_moments m = { 0 };
    const double xs[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
    CU_ASSERT_EQUAL(kp_moments_stddev(&m), 0);
    CU_ASSERT_EQUAL(kp_moments_cv(&m), 0);
    for (size_t i = 0; i < 8; i++)
        kp_moments_add(&m, xs[i]);
    CU_ASSERT_EQUAL(m.n, 8);
    CU_ASSERT(rel(m.mean, 5) < 1e-15);
    CU_ASSERT(rel(kp_moments_stddev(&m), 2) < 1e-15);
    CU_ASSERT(rel(kp_moments_cv(&m), 0.4) < 1e-15);
}

/* --- arrivals --------------------------------------------------------------------------------- */

struct gap_stats {
    struct kp_moments m;
    uint64_t below_mean;        /* gaps shorter than the mean: 1 - 1/e of them, if exponential */
    double min;
};

static void draw(struct kp_arrival_gen *g, int n, struct gap_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->min = 1e300;
    for (int i = 0; i < n; i++) {
        double gap = kp_arrival_next(g);
        kp_moments_add(&s->m, gap);
        s->below_mean += gap < g->mean_ns;
        if (gap < s->min)
            s->min = gap;
    }
}

static void test_poisson_gaps_over_100000_draws_have_the_rate_and_cv_of_1(void)
{
    /* Several seeds and rates: each run's mean within 2% of 1/rate, CV within 3% of 1. */
    const uint64_t seeds[] = { 1, 42, 0xdeadbeef, UINT64_MAX };
    const double rates[] = { 1, 1000, 50000, 1e6 };
    for (size_t i = 0; i < 4; i++) {
        struct kp_arrival_gen g;
        struct gap_stats s;
        CU_ASSERT_EQUAL_FATAL(kp_arrival_init(&g, KP_ARRIVALS_POISSON, rates[i], seeds[i]), 0);
        draw(&g, 100000, &s);
        double mean = 1e9 / rates[i];
        CU_ASSERT(rel(s.m.mean, mean) < 0.02);
        CU_ASSERT(rel(kp_moments_cv(&s.m), 1) < 0.03);
        /* And the shape: P(gap < mean) = 1 - 1/e = 0.632 for an exponential. */
        CU_ASSERT(rel((double)s.below_mean / 100000, 0.63212055882855767) < 0.01);
        CU_ASSERT(s.min >= 0);
        if (rel(s.m.mean, mean) >= 0.02 || rel(kp_moments_cv(&s.m), 1) >= 0.03)
            fprintf(stderr, "\nrate %g seed %llu: mean %g (want %g), cv %g\n", rates[i],
                    (unsigned long long)seeds[i], s.m.mean, mean, kp_moments_cv(&s.m));
    }
}

static void test_poisson_gaps_repeat_for_a_seed_and_differ_across_seeds(void)
{
    struct kp_arrival_gen a, b, c;
    kp_arrival_init(&a, KP_ARRIVALS_POISSON, 100, 7);
    kp_arrival_init(&b, KP_ARRIVALS_POISSON, 100, 7);
    kp_arrival_init(&c, KP_ARRIVALS_POISSON, 100, 8);
    int same = 0, differ = 0;
    for (int i = 0; i < 1000; i++) {
        double x = kp_arrival_next(&a), y = kp_arrival_next(&b), z = kp_arrival_next(&c);
        same += x == y;
        differ += x != z;
    }
    CU_ASSERT_EQUAL(same, 1000);
    CU_ASSERT(differ > 990);
}

static void test_uniform_gaps_are_all_one_over_the_rate(void)
{
    struct kp_arrival_gen g;
    struct gap_stats s;
    CU_ASSERT_EQUAL_FATAL(kp_arrival_init(&g, KP_ARRIVALS_UNIFORM, 3, 99), 0);
    draw(&g, 1000, &s);
    CU_ASSERT(rel(s.m.mean, 1e9 / 3) < 1e-12);
    CU_ASSERT(kp_moments_cv(&s.m) < 1e-9);
    CU_ASSERT(rel(s.min, 1e9 / 3) < 1e-12);
}

static void test_arrivals_refuse_bad_rates_and_names(void)
{
    struct kp_arrival_gen g;
    CU_ASSERT_EQUAL(kp_arrival_init(&g, KP_ARRIVALS_POISSON, 0, 1), -1);
    CU_ASSERT_EQUAL(kp_arrival_init(&g, KP_ARRIVALS_POISSON, -5, 1), -1);
    CU_ASSERT_EQUAL(kp_arrival_init(&g, 7, 10, 1), -1);
    CU_ASSERT_EQUAL(kp_arrivals_parse("poisson"), KP_ARRIVALS_POISSON);
    CU_ASSERT_EQUAL(kp_arrivals_parse("uniform"), KP_ARRIVALS_UNIFORM);
    CU_ASSERT_EQUAL(kp_arrivals_parse("Poisson"), -1);
    CU_ASSERT_EQUAL(kp_arrivals_parse(""), -1);
    CU_ASSERT_STRING_EQUAL(kp_arrivals_name(KP_ARRIVALS_POISSON), "poisson");
    CU_ASSERT_STRING_EQUAL(kp_arrivals_name(KP_ARRIVALS_UNIFORM), "uniform");
}

/* --- sizes and text --------------------------------------------------------------------------- */

static void test_size_distributions_parse_and_draw_what_they_say(void)
{
    struct kp_sizes s;
    char err[256];
    uint64_t st = 5;
    CU_ASSERT_EQUAL_FATAL(kp_sizes_parse(&s, "100", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(kp_sizes_draw(&s, &st), 100);
    CU_ASSERT_EQUAL(kp_sizes_max(&s), 100);
    CU_ASSERT(rel(kp_sizes_mean(&s), 100) < 1e-12);

    CU_ASSERT_EQUAL_FATAL(kp_sizes_parse(&s, "10-20", err, sizeof(err)), 0);
    int seen[21] = { 0 }, outside = 0;
    for (int i = 0; i < 10000; i++) {
        uint32_t v = kp_sizes_draw(&s, &st);
        if (v < 10 || v > 20)
            outside++;
        else
            seen[v]++;
    }
    CU_ASSERT_EQUAL(outside, 0);
    for (int v = 10; v <= 20; v++)
        CU_ASSERT(seen[v] > 700 && seen[v] < 1120);  /* 909 expected each */
    CU_ASSERT(rel(kp_sizes_mean(&s), 15) < 1e-12);

    CU_ASSERT_EQUAL_FATAL(kp_sizes_parse(&s, "100:9,10000:1", err, sizeof(err)), 0);
    int big = 0;
    for (int i = 0; i < 100000; i++) {
        uint32_t v = kp_sizes_draw(&s, &st);
        CU_ASSERT(v == 100 || v == 10000);
        big += v == 10000;
    }
    CU_ASSERT(big > 9500 && big < 10500);
    CU_ASSERT(rel(kp_sizes_mean(&s), 1090) < 1e-12);
    CU_ASSERT_EQUAL(kp_sizes_max(&s), 10000);
    CU_ASSERT_EQUAL(kp_sizes_parse(&s, "0", err, sizeof(err)), 0);     /* empty values */
    CU_ASSERT_EQUAL(kp_sizes_draw(&s, &st), 0);
}

static void test_size_distributions_refuse_malformed_specs_saying_which_term(void)
{
    static const char *const bad[] = { "", "a", "-5", "5-", "20-10", "1:0", "1:", ":3",
                                       "1,,2", "1,", "100000001", "5 ", "1:1000001",
                                       "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kp_sizes s;
        char err[256] = "";
        CU_ASSERT_EQUAL(kp_sizes_parse(&s, bad[i], err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "size distribution"));
    }
    struct kp_sizes s;
    char err[256] = "";
    kp_sizes_parse(&s, "10,20-x", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad term \"20-x\""));
}

static void test_generated_text_is_printable_and_seeded(void)
{
    uint8_t a[1000], b[1000], c[1000];
    uint64_t sa = 11, sb = 11, sc = 12;
    kp_rand_text(&sa, a, sizeof(a));
    kp_rand_text(&sb, b, sizeof(b));
    kp_rand_text(&sc, c, sizeof(c));
    CU_ASSERT(memcmp(a, b, sizeof(a)) == 0);
    CU_ASSERT(memcmp(a, c, sizeof(a)) != 0);
    int distinct[256] = { 0 }, n = 0;
    for (size_t i = 0; i < sizeof(a); i++) {
        CU_ASSERT(a[i] >= 0x20 && a[i] < 0x7f);
        if (!distinct[a[i]]++)
            n++;
    }
    CU_ASSERT(n >= 60);         /* 64 symbols, 1000 draws */
    /* Lengths that are not a multiple of the 10 bytes a draw makes. */
    uint8_t d[13] = { 0 };
    memset(d, 0, sizeof(d));
    kp_rand_text(&sa, d, 7);
    CU_ASSERT(d[6] != 0 && d[7] == 0);
    CU_ASSERT(kp_rand_unit(&sa) > 0 && kp_rand_unit(&sa) <= 1);
}

/* --- the trace hook --------------------------------------------------------------------------- */

#define MAX_FRAMES 64

struct traced {
    int direction, broker, key, version;
    int32_t corrid;
    int describe_rc;
    bool header_matches;        /* requests: the frame's own key and version are the ones given */
};

struct trace_log {
    struct traced f[MAX_FRAMES];
    int n;
    int drs, dr_errors;
};

static void trace_cb(struct kp_producer *p, int direction, int broker_id, const uint8_t *frame,
                     size_t len, int api_key, int api_version, void *opaque)
{
    (void)p;
    struct trace_log *log = opaque;
    if (log->n == MAX_FRAMES)
        return;
    struct traced *t = &log->f[log->n++];
    struct kw_buf out;
    kw_buf_init(&out);
    t->direction = direction;
    t->broker = broker_id;
    t->key = api_key;
    t->version = api_version;
    if (direction == 0) {
        t->describe_rc = kw_describe_request(&out, frame, len);
        t->header_matches = len >= 8 && kw_be16(frame) == api_key &&
                            kw_be16(frame + 2) == api_version;
        t->corrid = len >= 8 ? (int32_t)kw_be32(frame + 4) : -1;
    } else {
        t->describe_rc = kw_describe_response(&out, api_key, api_version, frame, len);
        t->corrid = len >= 4 ? (int32_t)kw_be32(frame) : -1;
    }
    kw_buf_release(&out);
}

static void trace_dr_cb(struct kp_producer *p, const struct kp_report *r, void *opaque)
{
    (void)p;
    struct trace_log *log = opaque;
    log->drs++;
    log->dr_errors += r->err != 0;
}

static bool trace_drs_reached(struct pt_env *e, void *arg)
{
    (void)e;
    struct trace_log *log = arg;
    return log->drs >= 3;
}

static struct kp_producer *trace_producer(struct pt_env *e, struct trace_log *log,
                                          const char *acks, bool idempotence)
{
    struct kp_conf *conf = kp_conf_new();
    char err[256];
    if (conf == NULL)
        return NULL;
    kp_conf_set(conf, "bootstrap.servers", mb_cluster_bootstrap(e->c), err, sizeof(err));
    kp_conf_set(conf, "acks", acks, err, sizeof(err));
    kp_conf_set(conf, "enable.idempotence", idempotence ? "true" : "false", err, sizeof(err));
    kp_conf_set_dr_cb(conf, trace_dr_cb);
    kp_conf_set_trace_cb(conf, trace_cb);
    kp_conf_set_opaque(conf, log);
    kp_conf_set_event_base(conf, e->base, kw_vclock_clock(e->vc));
    e->p = kp_producer_new(conf, err, sizeof(err));
    kp_conf_destroy(conf);
    return e->p;
}

static int count_frames(const struct trace_log *log, int direction, int key)
{
    int n = 0;
    for (int i = 0; i < log->n; i++)
        n += log->f[i].direction == direction && log->f[i].key == key;
    return n;
}

static void test_trace_hook_sees_every_request_and_response_with_its_key_and_version(void)
{
    struct pt_env e;
    struct trace_log *log = calloc(1, sizeof(*log));
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, true), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(trace_producer(&e, log, "all", true));
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(kp_producer_produce(e.p, "traced", 0, KP_MSG_COPY, NULL, 0, "v", 1, NULL,
                                            0, 0, NULL), 0);
    CU_ASSERT(pt_run(&e, trace_drs_reached, log, 10000));
    CU_ASSERT_EQUAL(log->dr_errors, 0);

    /* The producer's conversation, both ways. */
    CU_ASSERT(count_frames(log, 0, KW_API_API_VERSIONS) >= 1);
    CU_ASSERT(count_frames(log, 1, KW_API_API_VERSIONS) >= 1);
    CU_ASSERT(count_frames(log, 0, KW_API_METADATA) >= 1);
    CU_ASSERT(count_frames(log, 1, KW_API_METADATA) >= 1);
    CU_ASSERT_EQUAL(count_frames(log, 0, KW_API_INIT_PRODUCER_ID), 1);
    CU_ASSERT_EQUAL(count_frames(log, 1, KW_API_INIT_PRODUCER_ID), 1);
    CU_ASSERT(count_frames(log, 0, KW_API_PRODUCE) >= 1);
    CU_ASSERT_EQUAL(count_frames(log, 1, KW_API_PRODUCE), count_frames(log, 0, KW_API_PRODUCE));
    CU_ASSERT(log->n < MAX_FRAMES);
    CU_ASSERT_EQUAL(log->f[0].direction, 0);
    CU_ASSERT_EQUAL(log->f[0].key, KW_API_API_VERSIONS);
    CU_ASSERT_EQUAL(log->f[0].broker, -1);      /* the bootstrap address, no node id yet */

    /* Every frame is whole (describe decodes it all, size prefix excluded), a request's header
     * carries the key and version given, and each response answers a request traced before it,
     * under that request's key and version (a request sent on the bootstrap connection may be
     * answered after the connection learnt its node id). */
    for (int i = 0; i < log->n; i++) {
        const struct traced *t = &log->f[i];
        CU_ASSERT_EQUAL(t->describe_rc, KW_OK);
        if (t->direction == 0) {
            CU_ASSERT(t->header_matches);
            continue;
        }
        int match = -1;
        for (int j = 0; j < i; j++)
            if (log->f[j].direction == 0 && log->f[j].corrid == t->corrid &&
                (log->f[j].broker == t->broker || log->f[j].broker == -1))
                match = j;
        CU_ASSERT(match >= 0);
        if (match >= 0) {
            CU_ASSERT_EQUAL(log->f[match].key, t->key);
            CU_ASSERT_EQUAL(log->f[match].version, t->version);
        }
    }
    /* Produce goes to the partition leader, known by its node id. */
    for (int i = 0; i < log->n; i++)
        if (log->f[i].key == KW_API_PRODUCE)
            CU_ASSERT_EQUAL(log->f[i].broker, 1);
    pt_stop(&e);
    free(log);
}

static void test_trace_hook_with_acks_0_sees_produce_requests_and_no_answers(void)
{
    struct pt_env e;
    struct trace_log *log = calloc(1, sizeof(*log));
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_EQUAL_FATAL(pt_start(&e, 1, true), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(trace_producer(&e, log, "0", false));
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(kp_producer_produce(e.p, "traced", 0, KP_MSG_COPY, NULL, 0, "v", 1, NULL,
                                            0, 0, NULL), 0);
    CU_ASSERT(pt_run(&e, trace_drs_reached, log, 10000));
    CU_ASSERT(count_frames(log, 0, KW_API_PRODUCE) >= 1);
    CU_ASSERT_EQUAL(count_frames(log, 1, KW_API_PRODUCE), 0);
    CU_ASSERT_EQUAL(count_frames(log, 0, KW_API_INIT_PRODUCER_ID), 0);
    pt_stop(&e);
    free(log);
}

CU_TestInfo kwt_cli_tests[] = {
    { "histogram buckets cover every value within one 128th",
      test_histogram_buckets_cover_every_value_within_one_128th },
    { "histogram percentiles of a known distribution are within 1 percent",
      test_histogram_percentiles_of_a_known_distribution_are_within_1_percent },
    { "histogram edge cases keep min and max exact", test_histogram_edge_cases_keep_min_max_exact },
    { "ln and sqrt match known values without libm",
      test_ln_and_sqrt_match_known_values_without_libm },
    { "moments give mean, deviation and CV", test_moments_give_mean_deviation_and_cv },
    { "Poisson gaps over 100,000 draws have the rate and a CV of 1",
      test_poisson_gaps_over_100000_draws_have_the_rate_and_cv_of_1 },
    { "Poisson gaps repeat for a seed and differ across seeds",
      test_poisson_gaps_repeat_for_a_seed_and_differ_across_seeds },
    { "uniform gaps are all one over the rate", test_uniform_gaps_are_all_one_over_the_rate },
    { "arrivals refuse bad rates and names", test_arrivals_refuse_bad_rates_and_names },
    { "size distributions parse and draw what they say",
      test_size_distributions_parse_and_draw_what_they_say },
    { "size distributions refuse malformed specs, saying which term",
      test_size_distributions_refuse_malformed_specs_saying_which_term },
    { "generated text is printable and seeded", test_generated_text_is_printable_and_seeded },
    { "trace hook sees every request and response with its key and version",
      test_trace_hook_sees_every_request_and_response_with_its_key_and_version },
    { "trace hook with acks=0 sees Produce requests and no answers",
      test_trace_hook_with_acks_0_sees_produce_requests_and_no_answers },
    CU_TEST_INFO_NULL,
};
