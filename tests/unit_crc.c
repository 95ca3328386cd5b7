/* CRC-32C (hardware, portable, dispatched) against published vectors and each other; CRC-32. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* Every CRC-32C implementation this machine can run. */
static int impls(crc_fn fns[4])
{
    int n = 0;
    fns[n++] = kw_crc32c;
    fns[n++] = kw_crc32c_sw;
    if (kw_crc32c_hw_available())
        fns[n++] = kw_crc32c_hw;
    if (kw_crc32c_clmul_available())
        fns[n++] = kw_crc32c_clmul;
    return n;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint8_t rnd8(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static void test_crc32c_matches_the_published_vectors(void)
{
    /* RFC 3720 B.4 (iSCSI), plus the usual check value. */
    static const uint8_t pdu[48] = {
        0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0x04, 0,
        0, 0, 0, 0x14, 0, 0, 0, 0x18, 0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0,
    };
    uint8_t zeros[32], ones[32], up[32], down[32];
    memset(zeros, 0, sizeof(zeros));
    memset(ones, 0xff, sizeof(ones));
    for (int i = 0; i < 32; i++) {
        up[i] = (uint8_t)i;
        down[i] = (uint8_t)(31 - i);
    }
    crc_fn fns[4];
    int n = impls(fns);
    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(fns[i](0, "123456789", 9), 0xE3069283u);
        CU_ASSERT_EQUAL(fns[i](0, zeros, 32), 0x8A9136AAu);
        CU_ASSERT_EQUAL(fns[i](0, ones, 32), 0x62A8AB43u);
        CU_ASSERT_EQUAL(fns[i](0, up, 32), 0x46DD794Eu);
        CU_ASSERT_EQUAL(fns[i](0, down, 32), 0x113FDB5Cu);
        CU_ASSERT_EQUAL(fns[i](0, pdu, sizeof(pdu)), 0xD9963A56u);
        CU_ASSERT_EQUAL(fns[i](0, NULL, 0), 0u);
        CU_ASSERT_EQUAL(fns[i](0x12345678u, "", 0), 0x12345678u);
    }
}

static void test_crc32c_chains_across_every_split(void)
{
    static const char s[] = "123456789";
    crc_fn fns[4];
    int n = impls(fns);
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k <= 9; k++)
            CU_ASSERT_EQUAL(fns[i](fns[i](0, s, k), s + k, 9 - k), 0xE3069283u);
}

static void test_every_path_agrees_with_software_on_every_length_and_alignment(void)
{
    crc_fn fns[4];
    int n = impls(fns);
    uint8_t *buf = malloc(1024 + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < 1024 + 16; i++)
        buf[i] = rnd8();
    unsigned bad = 0;
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 1024; len++) {
            uint32_t seed = (uint32_t)len * 2654435761u;
            uint32_t want = kw_crc32c_sw(seed, buf + off, len);
            for (int i = 0; i < n; i++)
                bad += fns[i](seed, buf + off, len) != want;
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

static void test_every_path_agrees_with_software_on_long_buffers(void)
{
    /* 1 MiB, and lengths around the block sizes: the three streams' 3 x 8192 and 3 x 256, the
     * folding's 64-byte steps and 16-byte blocks. */
    size_t max = (1u << 20) + 128;
    uint8_t *buf = malloc(max);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < max; i++)
        buf[i] = rnd8();
    static const size_t lens[] = { 1u << 20, (1u << 20) + 63, 24575, 24576, 24577,
                                   24576 + 768 + 7, 49152 + 5, 767, 768, 769, 1537, 100000,
                                   110933, 4095, 4096, 4097, 4111, 4112, 4127 };
    crc_fn fns[4];
    int n = impls(fns);
    unsigned bad = 0;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        for (size_t off = 0; off < 3; off++) {
            uint32_t want = kw_crc32c_sw(0xdeadbeefu, buf + off, lens[i]);
            for (int k = 0; k < n; k++)
                bad += fns[k](0xdeadbeefu, buf + off, lens[i]) != want;
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(buf);
}

static void test_every_path_sees_every_single_bit_error(void)
{
    /* A bit flipped anywhere in 320 bytes (the 64-byte steps, the 16-byte folds, the crc32
     * tail) must change every path's CRC exactly as it changes the tables'; a wrong folding
     * constant shows up as a wrong answer for the bits it covers. */
    uint8_t buf[320];
    memset(buf, 0, sizeof(buf));
    crc_fn fns[4];
    int n = impls(fns);
    uint32_t clean = kw_crc32c_sw(0, buf, sizeof(buf));
    unsigned bad = 0, missed = 0;
    for (size_t bit = 0; bit < 8 * sizeof(buf); bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint32_t want = kw_crc32c_sw(0, buf, sizeof(buf));
        missed += want == clean;
        for (int i = 0; i < n; i++)
            bad += fns[i](0, buf, sizeof(buf)) != want;
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CU_ASSERT_EQUAL(missed, 0);
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_every_entry_point_is_safe_on_any_cpu(void)
{
    /* PCLMULQDQ folding is only offered with SSE4.2, which the short inputs and the tail need */
    CU_ASSERT(!kw_crc32c_clmul_available() || kw_crc32c_hw_available());
    static const char s[] = "123456789";
    CU_ASSERT_EQUAL(kw_crc32c_clmul(0, s, 9), 0xE3069283u);     /* safe to call anywhere */
    CU_ASSERT_EQUAL(kw_crc32c_hw(0, s, 9), 0xE3069283u);
}

static void test_combine_equals_the_crc_of_the_concatenation(void)
{
    uint8_t buf[3000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = rnd8();
    static const size_t cuts[] = { 0, 1, 7, 100, 1500, 2999, 3000 };
    uint32_t whole = kw_crc32c(0, buf, sizeof(buf));
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        size_t k = cuts[i];
        uint32_t a = kw_crc32c(0, buf, k), b = kw_crc32c(0, buf + k, sizeof(buf) - k);
        CU_ASSERT_EQUAL(kw_crc32c_combine(a, b, sizeof(buf) - k), whole);
    }
}

struct job {
    const uint8_t *buf;
    size_t len;
    uint32_t crc;
};

static void *crc_job(void *arg)
{
    struct job *j = arg;
    j->crc = kw_crc32c(0, j->buf, j->len);
    return NULL;
}

static void test_concurrent_callers_get_the_same_answer(void)
{
    size_t len = 256 * 1024;
    uint8_t *buf = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = rnd8();
    struct job jobs[4];
    pthread_t t[4];
    int started = 0;
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){ buf, len, 0 };
        started += pthread_create(&t[i], NULL, crc_job, &jobs[i]) == 0;
    }
    CU_ASSERT_EQUAL(started, 4);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    uint32_t want = kw_crc32c_sw(0, buf, len);
    for (int i = 0; i < started; i++)
        CU_ASSERT_EQUAL(jobs[i].crc, want);
    free(buf);
}

static void test_crc32_is_zlibs_ieee_crc(void)
{
    CU_ASSERT_EQUAL(kw_crc32(0, "123456789", 9), 0xCBF43926u);
    CU_ASSERT_EQUAL(kw_crc32(kw_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    CU_ASSERT_EQUAL(kw_crc32(0xdeadbeefu, NULL, 0), 0xdeadbeefu);
    /* the kafka-python magic-1 message of WIRE.md §6, from magic to the end of the value */
    static const uint8_t msg[] = { 0x01, 0x00, 0x00, 0x00, 0x01, 0xa2, 0x15, 0x0f, 0x3b, 0x55,
                                   0, 0, 0, 4, 'k', 'e', 'y', '1', 0, 0, 0, 5,
                                   'h', 'e', 'l', 'l', 'o' };
    CU_ASSERT_EQUAL(kw_crc32(0, msg, sizeof(msg)), 0xb1dc7349u);
}

CU_TestInfo kwt_crc_tests[] = {
    { "crc32c matches the published vectors", test_crc32c_matches_the_published_vectors },
    { "crc32c chains across every split", test_crc32c_chains_across_every_split },
    { "every path agrees with software on every length and alignment",
      test_every_path_agrees_with_software_on_every_length_and_alignment },
    { "every path agrees with software on long buffers",
      test_every_path_agrees_with_software_on_long_buffers },
    { "every path sees every single-bit error", test_every_path_sees_every_single_bit_error },
    { "every entry point is safe on any cpu", test_every_entry_point_is_safe_on_any_cpu },
    { "combine equals the crc of the concatenation",
      test_combine_equals_the_crc_of_the_concatenation },
    { "concurrent callers get the same answer", test_concurrent_callers_get_the_same_answer },
    { "crc32 is zlib's IEEE crc", test_crc32_is_zlibs_ieee_crc },
    CU_TEST_INFO_NULL,
};
