/* Wire benchmarks: CRC-32C and record batch encode/decode, each next to memcpy of the same
 * bytes measured in the same run (machines differ; the ratio travels better than GB/s).
 *
 * Method. memcpy copies the very buffer the CRC or the decoder reads, to a distinct
 * destination of the same size, through a pointer the compiler cannot see through. The rows
 * of a table are timed in rounds: each round runs every row for >= 20 ms, one after the
 * other, so that a change of clock speed or a noisy neighbour (this runs on shared VMs, where
 * the speed drifts by tens of percent within a minute) weighs on memcpy and on the row alike.
 * A row's ns/op is its median over 9 rounds, its "x memcpy" the median of the 9 per-round
 * ratios. Sizes: 64 KiB (source and destination fit in L2), 1 MiB (they do not: L3) and
 * 64 MiB (main memory). `bench_wire [seed]`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/crc.h"

#define ROUNDS 9
#define SAMPLE_NS 20e6
#define MAX_ROWS 8
#define RECORDS 1000
#define RECORD_BYTES 100

/* Called through a volatile pointer so the copy cannot be optimised away. */
static void *(*volatile copy)(void *, const void *, size_t) = memcpy;
static volatile uint64_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct job {
    const char *name;
    void (*run)(struct job *);
    const uint8_t *src;
    uint8_t *dst;
    size_t len;
    uint32_t (*crc)(uint32_t, const void *, size_t);
    int codec;
    struct kw_buf *out, *scratch;
    const uint8_t *payload;
    int err;
    long reps;                  /* runs per sample, >= SAMPLE_NS together */
    double ns[ROUNDS];          /* per run, each round */
    double ns_med, ratio_med;   /* the medians: ns per run, memcpy's ns / ours */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v)
{
    double s[ROUNDS];
    memcpy(s, v, sizeof(s));
    qsort(s, ROUNDS, sizeof(s[0]), cmp_double);
    return s[ROUNDS / 2];
}

/* Runs per sample: as many as fill SAMPLE_NS, judged from the runs that fill 2 ms. */
static long calibrate(struct job *j)
{
    j->run(j);                                  /* caches, pages, buffers */
    long n = 0;
    double t0 = now_ns(), t;
    do {
        j->run(j);
        n++;
    } while ((t = now_ns() - t0) < 2e6);
    return (long)(SAMPLE_NS / (t / (double)n)) + 1;
}

/* Times rows[0..n) in rounds; rows[0] is the memcpy the others are compared with. */
static void measure(struct job **rows, int n)
{
    for (int i = 0; i < n; i++)
        rows[i]->reps = calibrate(rows[i]);
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < n; i++) {
            struct job *j = rows[i];
            double t0 = now_ns();
            for (long k = 0; k < j->reps; k++)
                j->run(j);
            j->ns[r] = (now_ns() - t0) / (double)j->reps;
        }
    for (int i = 0; i < n; i++) {
        double ratio[ROUNDS];
        for (int r = 0; r < ROUNDS; r++)
            ratio[r] = rows[0]->ns[r] / rows[i]->ns[r];
        rows[i]->ns_med = median(rows[i]->ns);
        rows[i]->ratio_med = median(ratio);
    }
}

static void run_memcpy(struct job *j)
{
    copy(j->dst, j->src, j->len);
    sink += j->dst[j->len - 1];
}

static void run_crc(struct job *j) { sink += j->crc(0, j->src, j->len); }

static void run_encode(struct job *j)
{
    struct kw_batch_builder bb;
    kw_buf_reset(j->out);
    int rc = kw_batch_builder_begin(&bb, j->out, NULL, j->codec, -1);
    for (int i = 0; i < RECORDS && rc == KW_OK; i++)
        rc = kw_batch_builder_add(&bb, 1700000000000 + i, KW_BYTES_NULL,
                                  (struct kw_bytes){ j->payload + i * RECORD_BYTES, RECORD_BYTES },
                                  NULL, 0);
    int frc = kw_batch_builder_finish(&bb);
    if (rc || frc)
        j->err = rc ? rc : frc;
}

static void validate(struct job *j)
{
    struct kw_batch_hdr h;
    int rc = kw_batch_validate(j->src, j->len, &h, j->scratch, 64u << 20);
    if (rc)
        j->err = rc;
}

/* What a reader does: no allocation per record, and every record's bytes are looked at. */
static void iterate(struct job *j)
{
    struct kw_record_iter it;
    struct kw_record rec;
    int rc = kw_record_iter_init(&it, j->src, j->len, j->scratch);
    uint64_t sum = 0;
    int n = 0;
    while (rc >= 0 && (rc = kw_record_iter_next(&it, &rec)) == 1) {
        sum += (uint64_t)rec.value.len + rec.value.ptr[0] + (uint64_t)rec.offset;
        n++;
    }
    if (rc || n != RECORDS)
        j->err = rc ? rc : KW_ERR_CORRUPT;
    sink += sum;
}

/* What a broker does with a produced batch, then what a reader does. */
static void run_decode(struct job *j)
{
    validate(j);
    iterate(j);
}

static void run_validate(struct job *j) { validate(j); }
static void run_iterate(struct job *j) { iterate(j); }

static const char *verdict(double ratio, double goal)
{
    return ratio >= goal ? "met" : "MISSED";
}

static void crc_table(uint8_t *src, uint8_t *dst, size_t n, const char *where)
{
    struct job mc = { "memcpy", run_memcpy, src, dst, n };
    struct job best = { "crc32c (kw_crc32c)", run_crc, src, .len = n, .crc = kw_crc32c };
    struct job fold = { "  pclmulqdq folding", run_crc, src, .len = n, .crc = kw_crc32c_clmul };
    struct job hw = { "  sse4.2, 3 streams", run_crc, src, .len = n, .crc = kw_crc32c_hw };
    struct job sw = { "  tables (portable)", run_crc, src, .len = n, .crc = kw_crc32c_sw };
    struct job *rows[MAX_ROWS] = { &mc, &best };
    int nrows = 2;
    if (kw_crc32c_clmul_available())
        rows[nrows++] = &fold;
    if (kw_crc32c_hw_available())
        rows[nrows++] = &hw;
    rows[nrows++] = &sw;
    measure(rows, nrows);
    printf("%s\n", where);
    for (int i = 0; i < nrows; i++) {
        struct job *j = rows[i];
        printf("%-24s %9zu %11.0f %8.2f %9.3f", j->name, n, j->ns_med, (double)n / j->ns_med,
               j->ratio_med);
        if (j == &best)
            printf("   >= 2x memcpy: %s", verdict(j->ratio_med, 2.0));
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x2545F4914F6CDD1Dull;
    uint64_t x = seed ? seed : 1;
    size_t big = 64u << 20;
    uint8_t *src = malloc(big), *dst = malloc(big);
    uint8_t *payload = malloc(RECORDS * RECORD_BYTES);
    if (src == NULL || dst == NULL || payload == NULL)
        return 2;
    /* Text rather than noise, so the codecs have something to do (as they would with JSON). */
    static const char *const words[] = { "order ", "id ", "customer ", "\"status\": ", "paid ",
                                         "shipped ", "2024-10-25 ", "eur ", "17.50 ", "{ ",
                                         "} ", "kafka ", "partition ", "3 ", "true ", "null " };
    for (size_t i = 0; i < big;) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (const char *w = words[x % 16]; *w && i < big; w++)
            src[i++] = (uint8_t)*w;
    }
    memset(dst, 0, big);                        /* every page mapped before timing */
    memcpy(payload, src + 4096, RECORDS * RECORD_BYTES);

    printf("bench_wire: seed 0x%016" PRIx64 "; %d rounds, each timing every row of a table for "
           ">= %.0f ms in turn;\nns/op is the median round, x memcpy the median of the rounds' "
           "ratios\n", seed, ROUNDS, SAMPLE_NS / 1e6);
    printf("crc32c: sse4.2 %s, pclmulqdq %s\n\n", kw_crc32c_hw_available() ? "yes" : "NO",
           kw_crc32c_clmul_available() ? "yes" : "NO");

    printf("%-24s %9s %11s %8s %9s   %s\n", "", "bytes", "ns/op", "GB/s", "x memcpy", "goal");
    crc_table(src, dst, 64u << 10, "64 KiB: source and destination in L2");
    crc_table(src, dst, 1u << 20, "1 MiB: in L3");
    crc_table(src, dst, big, "64 MiB: in main memory");

    /* Record batches: the uncompressed batch is the memcpy reference for every codec, and MB/s
     * count the records' bytes as the application sees them. */
    struct kw_buf out, scratch, plain;
    kw_buf_init(&out);
    kw_buf_init(&scratch);
    kw_buf_init(&plain);
    struct job pj = { .run = run_encode, .codec = KW_CODEC_NONE, .out = &plain,
                      .payload = payload };
    run_encode(&pj);
    double app = RECORDS * RECORD_BYTES;
    int failed = pj.err;

    struct job mc = { "memcpy", run_memcpy, plain.data, dst, plain.len };
    struct job crc = { "crc32c", run_crc, plain.data + KW_BATCH_CRC_FROM,
                       .len = plain.len - KW_BATCH_CRC_FROM, .crc = kw_crc32c };
    struct job val = { "validate", run_validate, plain.data, .len = plain.len,
                       .scratch = &scratch };
    struct job itr = { "iterate", run_iterate, plain.data, .len = plain.len,
                       .scratch = &scratch };
    struct job dec = { "validate + iterate", run_decode, plain.data, .len = plain.len,
                       .scratch = &scratch };
    struct job *parts[] = { &mc, &crc, &val, &itr, &dec };
    measure(parts, 5);
    printf("\nrecord batches: %d records, %d-byte values, null keys, no headers; the plain batch "
           "is %zu bytes\n\n", RECORDS, RECORD_BYTES, plain.len);
    printf("%-24s %9s %11s %8s %9s %12s   %s\n", "uncompressed batch", "bytes", "ns/op", "GB/s",
           "x memcpy", "records/s", "goal");
    for (size_t i = 0; i < 5; i++) {
        struct job *j = parts[i];
        printf("%-24s %9zu %11.0f %8.2f %9.3f", j->name, j->len, j->ns_med,
               (double)j->len / j->ns_med, j->ratio_med);
        if (j->run != run_memcpy && j->run != run_crc)
            printf(" %12.0f", RECORDS / j->ns_med * 1e9);
        if (j == &dec)
            printf("   >= 0.1x memcpy: %s", verdict(j->ratio_med, 0.1));
        printf("\n");
        if (failed == KW_OK)
            failed = j->err;
    }

    printf("\n%-8s %8s | %12s %8s %8s | %12s %8s %8s\n", "codec", "bytes", "encode rec/s",
           "MB/s", "x memcpy", "decode rec/s", "MB/s", "x memcpy");
    static const int codecs[] = { KW_CODEC_NONE, KW_CODEC_GZIP, KW_CODEC_SNAPPY, KW_CODEC_LZ4,
                                  KW_CODEC_ZSTD };
    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        struct job ej = { .run = run_encode, .codec = codecs[c], .out = &out,
                          .payload = payload };
        run_encode(&ej);
        /* The decoder reads a copy: the encoder rewrites out in every run. */
        struct kw_buf enc;
        kw_buf_init(&enc);
        kw_put_raw(&enc, out.data, out.len);
        struct job dj = { .run = run_decode, .src = enc.data, .len = enc.len,
                          .scratch = &scratch };
        struct job *rows[] = { &mc, &ej, &dj };
        measure(rows, 3);
        if (failed == KW_OK)
            failed = ej.err ? ej.err : dj.err ? dj.err : enc.err;
        printf("%-8s %8zu | %12.0f %8.0f %8.3f | %12.0f %8.0f %8.3f\n",
               kw_codec_name(codecs[c]), enc.len, RECORDS / ej.ns_med * 1e9,
               app / ej.ns_med * 1e3, ej.ratio_med, RECORDS / dj.ns_med * 1e9,
               app / dj.ns_med * 1e3, dj.ratio_med);
        kw_buf_release(&enc);
    }
    kw_buf_release(&out);
    kw_buf_release(&scratch);
    kw_buf_release(&plain);
    free(src);
    free(dst);
    free(payload);
    if (failed)
        fprintf(stderr, "bench_wire: a batch failed to encode or decode (%s)\n",
                kw_strerror(failed));
    return failed ? 1 : 0;
}
