/* Wire benchmarks: CRC-32C and record batch encode/decode, each next to memcpy of the same
 * bytes measured in the same run (machines differ; the ratio travels better than GB/s).
 * Every figure is the median of 9 samples of at least 20 ms. `bench_wire [seed]`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/batch.h"
#include "lib/compress.h"
#include "lib/crc.h"

#define SAMPLES 9
#define SAMPLE_NS 20000000.0
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
    void (*run)(struct job *);
    const uint8_t *src;
    uint8_t *dst;
    size_t len;
    uint32_t (*crc)(uint32_t, const void *, size_t);
    int codec;
    struct kw_buf *out, *scratch;
    const uint8_t *payload;
    int err;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median nanoseconds per run of j. */
static double measure(struct job *j)
{
    j->run(j);                                  /* warm caches and buffers */
    double t0 = now_ns();
    j->run(j);
    double once = now_ns() - t0;
    long reps = once > 0 ? (long)(SAMPLE_NS / once) + 1 : 1000000;
    double s[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        t0 = now_ns();
        for (long r = 0; r < reps; r++)
            j->run(j);
        s[i] = (now_ns() - t0) / (double)reps;
    }
    qsort(s, SAMPLES, sizeof(s[0]), cmp_double);
    return s[SAMPLES / 2];
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

/* What a broker does with a produced batch, then what a reader does: no allocation per
 * record, and every record's bytes are looked at. */
static void run_decode(struct job *j)
{
    struct kw_batch_hdr h;
    struct kw_record_iter it;
    struct kw_record rec;
    int rc = kw_batch_validate(j->src, j->len, &h, j->scratch, 64u << 20);
    if (rc == KW_OK)
        rc = kw_record_iter_init(&it, j->src, j->len, j->scratch);
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

static const char *verdict(double ratio, double goal)
{
    return ratio >= goal ? "met" : "MISSED";
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x2545F4914F6CDD1Dull;
    uint64_t x = seed ? seed : 1;
    size_t big = 1u << 20;
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
    memcpy(payload, src + 4096, RECORDS * RECORD_BYTES);

    printf("bench_wire: seed 0x%016" PRIx64 ", median of %d samples of >= %.0f ms each\n",
           seed, SAMPLES, SAMPLE_NS / 1e6);
    printf("crc32c: sse4.2 %s\n\n", kw_crc32c_hw_available() ? "available" : "NOT available");

    printf("%-24s %8s %10s %8s %9s   %s\n", "", "bytes", "ns/op", "GB/s", "x memcpy", "goal");
    static const size_t sizes[] = { 64 * 1024, 1u << 20 };
    for (size_t s = 0; s < 2; s++) {
        size_t n = sizes[s];
        struct job mj = { .run = run_memcpy, .src = src, .dst = dst, .len = n };
        double mc = measure(&mj);
        printf("%-24s %8zu %10.0f %8.2f %9.2f\n", "memcpy", n, mc, (double)n / mc, 1.0);
        struct job hw = { .run = run_crc, .src = src, .len = n, .crc = kw_crc32c_hw };
        struct job sw = { .run = run_crc, .src = src, .len = n, .crc = kw_crc32c_sw };
        if (kw_crc32c_hw_available()) {
            double t = measure(&hw);
            printf("%-24s %8zu %10.0f %8.2f %9.2f   >= 2x memcpy: %s\n", "crc32c hardware", n, t,
                   (double)n / t, mc / t, verdict(mc / t, 2.0));
        }
        double t = measure(&sw);
        printf("%-24s %8zu %10.0f %8.2f %9.2f\n", "crc32c software", n, t, (double)n / t,
               mc / t);
    }

    /* Record batches: the uncompressed batch is the memcpy reference for every codec, and MB/s
     * count the records' bytes as the application sees them. */
    struct kw_buf out, scratch, plain;
    kw_buf_init(&out);
    kw_buf_init(&scratch);
    kw_buf_init(&plain);
    struct job pj = { .run = run_encode, .codec = KW_CODEC_NONE, .out = &plain,
                      .payload = payload };
    run_encode(&pj);
    struct job mj = { .run = run_memcpy, .src = plain.data, .dst = dst, .len = plain.len };
    double mc = measure(&mj);
    double app = RECORDS * RECORD_BYTES;
    printf("\nrecord batches: %d records, %d-byte values, null keys, no headers; "
           "plain batch %zu bytes,\nmemcpy of it %.0f ns (%.2f GB/s)\n\n", RECORDS, RECORD_BYTES,
           plain.len, mc, (double)plain.len / mc);
    printf("%-8s %8s | %12s %8s %8s | %12s %8s %8s   %s\n", "codec", "bytes", "encode rec/s",
           "MB/s", "x memcpy", "decode rec/s", "MB/s", "x memcpy", "goal");
    static const int codecs[] = { KW_CODEC_NONE, KW_CODEC_GZIP, KW_CODEC_SNAPPY, KW_CODEC_LZ4,
                                  KW_CODEC_ZSTD };
    int failed = 0;
    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        struct job ej = { .run = run_encode, .codec = codecs[c], .out = &out,
                          .payload = payload };
        double te = measure(&ej);
        struct job dj = { .run = run_decode, .src = out.data, .len = out.len,
                          .scratch = &scratch };
        double td = measure(&dj);
        if (failed == KW_OK)
            failed = ej.err ? ej.err : dj.err;
        char goal[40] = "";
        if (codecs[c] == KW_CODEC_NONE)
            snprintf(goal, sizeof(goal), ">= 0.1x memcpy: %s", verdict(mc / td, 0.1));
        printf("%-8s %8zu | %12.0f %8.0f %8.3f | %12.0f %8.0f %8.3f   %s\n",
               kw_codec_name(codecs[c]), out.len, RECORDS / te * 1e9, app / te * 1e3, mc / te,
               RECORDS / td * 1e9, app / td * 1e3, mc / td, goal);
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
