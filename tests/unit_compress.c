/* gzip, snappy (raw and xerial), lz4 (standard and Kafka's magic-0 frame) and zstd: round trips,
 * streams made by other tools, corrupt and truncated input, decompression bombs. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compress.h"
#include "tests/fx.h"

static const int codecs[] = { KW_CODEC_NONE, KW_CODEC_GZIP, KW_CODEC_SNAPPY,
                              KW_CODEC_SNAPPY_XERIAL, KW_CODEC_LZ4, KW_CODEC_LZ4_LEGACY,
                              KW_CODEC_ZSTD };
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

static const char text[] = "hello kafka hello kafka";

/* Streams of `text` from other implementations. */
static const char *const made_elsewhere[][2] = {
    /* Python 3: gzip.compress(text, mtime=0), zlib.compress(text) */
    { "gzip", "1f8b0800000000000203cb48cdc9c957c84e4ccb4e54c840b001174e1e9f17000000" },
    { "zlib", "789ccb48cdc9c957c84e4ccb4e54c840b00166b50885" },
    /* the lz4 and zstd command-line tools reading stdin: a content checksum, no content size */
    { "lz4", "04224d186440a7 17000080 68656c6c6f206b61666b612068656c6c6f206b61666b61"
             "00000000 595858d7" },
    { "zstd", "28b52ffd04589500006068656c6c6f206b61666b61200100374a127f2749ad" },
};

static uint64_t rng = 88172645463325252u;
static uint8_t rnd8(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static int codec_of(const char *name)
{
    return strcmp(name, "zlib") == 0 ? KW_CODEC_GZIP : kw_codec_by_name(name);
}

/* Compresses after a prefix already in the buffer (the calls append), decompresses, compares. */
static int round_trip(int codec, int level, const uint8_t *in, size_t n)
{
    struct kw_buf z, out;
    kw_buf_init(&z);
    kw_buf_init(&out);
    kw_put_raw(&z, "pre", 3);
    kw_put_raw(&out, "fix", 3);
    int ok = kw_compress(codec, level, in, n, &z) == KW_OK &&
             memcmp(z.data, "pre", 3) == 0 &&
             kw_decompress(codec, z.data + 3, z.len - 3, &out, n) == KW_OK &&
             out.len == n + 3 && memcmp(out.data, "fix", 3) == 0 &&
             (n == 0 || memcmp(out.data + 3, in, n) == 0);
    kw_buf_release(&z);
    kw_buf_release(&out);
    return ok;
}

static void test_every_codec_round_trips_empty_tiny_text_and_random_data(void)
{
    size_t big = 100 * 1024;
    uint8_t *txt = malloc(big), *bin = malloc(big);
    CU_ASSERT_FATAL(txt != NULL && bin != NULL);
    static const char *const words[] = { "broker ", "partition ", "offset ", "leader ",
                                         "replica ", "fetch\n" };
    for (size_t i = 0; i < big;) {
        const char *w = words[rnd8() % 6];
        for (; *w && i < big; w++)
            txt[i++] = (uint8_t)*w;
    }
    for (size_t i = 0; i < big; i++)
        bin[i] = rnd8();
    for (size_t c = 0; c < N_CODECS; c++) {
        CU_ASSERT(round_trip(codecs[c], -1, NULL, 0));
        CU_ASSERT(round_trip(codecs[c], -1, (const uint8_t *)"x", 1));
        CU_ASSERT(round_trip(codecs[c], -1, txt, big));
        CU_ASSERT(round_trip(codecs[c], -1, bin, big));
    }
    CU_ASSERT(round_trip(KW_CODEC_GZIP, 1, txt, big));
    CU_ASSERT(round_trip(KW_CODEC_GZIP, 9, txt, big));
    CU_ASSERT(round_trip(KW_CODEC_LZ4, 9, txt, big));
    CU_ASSERT(round_trip(KW_CODEC_ZSTD, 1, txt, big));
    CU_ASSERT(round_trip(KW_CODEC_ZSTD, 19, txt, big));
    free(txt);
    free(bin);
}

static void test_text_actually_gets_smaller(void)
{
    uint8_t in[8192];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)"kafka"[i % 5];
    for (size_t c = 1; c < N_CODECS; c++) {
        struct kw_buf z;
        kw_buf_init(&z);
        CU_ASSERT_EQUAL(kw_compress(codecs[c], -1, in, sizeof(in), &z), KW_OK);
        CU_ASSERT(z.len > 0 && z.len < sizeof(in) / 4);
        kw_buf_release(&z);
    }
}

static void test_streams_made_by_other_tools_decode(void)
{
    for (size_t i = 0; i < sizeof(made_elsewhere) / sizeof(made_elsewhere[0]); i++) {
        struct fx_frame f = fx_hex(made_elsewhere[i][1]);
        struct kw_buf out;
        kw_buf_init(&out);
        CU_ASSERT_EQUAL(kw_decompress(codec_of(made_elsewhere[i][0]), f.data, f.len, &out, 1000),
                        KW_OK);
        CU_ASSERT(out.len == strlen(text) && memcmp(out.data, text, out.len) == 0);
        kw_buf_release(&out);
        fx_free(&f);
    }
}

static void test_snappy_reads_raw_blocks_and_xerial_framing(void)
{
    /* Hand-assembled: a raw block with a literal and a back-reference (length 9, offset 3),
     * and snappy-java's framing around two literal-only blocks. */
    static const char *const raw = "0c 08 616263 1503";
    static const char *const xerial = "82534e4150505900 00000001 00000001"
                                      "00000008 0614 68656c6c6f20  00000007 0510 6b61666b61";
    struct fx_frame r = fx_hex(raw), x = fx_hex(xerial);
    struct kw_buf out;
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_SNAPPY, r.data, r.len, &out, 100), KW_OK);
    CU_ASSERT(out.len == 12 && memcmp(out.data, "abcabcabcabc", 12) == 0);
    kw_buf_reset(&out);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_SNAPPY, x.data, x.len, &out, 100), KW_OK);
    CU_ASSERT(out.len == 11 && memcmp(out.data, "hello kafka", 11) == 0);
    kw_buf_reset(&out);
    /* the header alone is an empty stream, which is what snappy-java writes for no input */
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_SNAPPY, x.data, 16, &out, 100), KW_OK);
    CU_ASSERT_EQUAL(out.len, 0);
    /* a block length past the end, a zero-length block, a partial length */
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_SNAPPY, x.data, x.len - 1, &out, 100), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_SNAPPY, x.data, 18, &out, 100), KW_ERR_CODEC);
    x.data[19] = 0;
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_SNAPPY, x.data, x.len, &out, 100), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(out.len, 0);

    /* what we write in xerial framing: the header, then int32-length blocks of 32 KiB */
    size_t n = 80 * 1024;
    uint8_t *in = calloc(1, n);
    CU_ASSERT_FATAL(in != NULL);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_SNAPPY_XERIAL, -1, in, n, &out), KW_OK);
    CU_ASSERT(out.len > 16 && memcmp(out.data, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16) == 0);
    int blocks = 0;
    for (size_t pos = 16; pos + 4 <= out.len; blocks++)
        pos += 4 + kw_be32(out.data + pos);
    CU_ASSERT_EQUAL(blocks, 3);
    free(in);
    kw_buf_release(&out);
    fx_free(&r);
    fx_free(&x);
}

static void test_every_truncation_of_a_stream_fails(void)
{
    for (size_t i = 0; i < sizeof(made_elsewhere) / sizeof(made_elsewhere[0]); i++) {
        struct fx_frame f = fx_hex(made_elsewhere[i][1]);
        int codec = codec_of(made_elsewhere[i][0]);
        struct kw_buf out;
        kw_buf_init(&out);
        for (size_t k = 0; k < f.len; k++) {
            CU_ASSERT_EQUAL(kw_decompress(codec, f.data, k, &out, 1000), KW_ERR_CODEC);
            CU_ASSERT_EQUAL(out.len, 0);
        }
        kw_buf_release(&out);
        fx_free(&f);
    }
    /* ours too, raw snappy included (xerial has no end marker: a cut at a block boundary is a
     * shorter valid stream, as it is for snappy-java) */
    for (size_t c = 1; c < N_CODECS; c++) {
        if (codecs[c] == KW_CODEC_SNAPPY_XERIAL)
            continue;
        struct kw_buf z, out;
        kw_buf_init(&z);
        kw_buf_init(&out);
        kw_compress(codecs[c], -1, text, strlen(text), &z);
        unsigned ok = 0;
        for (size_t k = 0; k < z.len; k++)
            ok += kw_decompress(codecs[c], z.data, k, &out, 1000) == KW_OK;
        CU_ASSERT_EQUAL(ok, 0);
        kw_buf_release(&z);
        kw_buf_release(&out);
    }
}

static void test_corrupt_or_trailing_input_is_a_codec_error(void)
{
    for (size_t c = 1; c < N_CODECS; c++) {
        struct kw_buf z, out;
        kw_buf_init(&z);
        kw_buf_init(&out);
        uint8_t in[4000];
        for (size_t i = 0; i < sizeof(in); i++)
            in[i] = (uint8_t)(i % 251);
        CU_ASSERT_EQUAL_FATAL(kw_compress(codecs[c], -1, in, sizeof(in), &z), KW_OK);
        kw_put_raw(&z, "junk", 4);
        CU_ASSERT_EQUAL(kw_decompress(codecs[c], z.data, z.len, &out, 1 << 20), KW_ERR_CODEC);
        z.len -= 4;
        /* Garbage over the start of the stream: every library must refuse it. */
        memset(z.data, 0x5a, z.len < 24 ? z.len : 24);
        CU_ASSERT_EQUAL(kw_decompress(codecs[c], z.data, z.len, &out, 1 << 20), KW_ERR_CODEC);
        CU_ASSERT_EQUAL(out.len, 0);
        kw_buf_release(&z);
        kw_buf_release(&out);
    }
    /* A flipped bit in the gzip, lz4 and zstd data is caught by their checksums. */
    struct fx_frame f = fx_hex(made_elsewhere[0][1]);
    struct kw_buf out;
    kw_buf_init(&out);
    f.data[f.len - 6] ^= 1;         /* the gzip trailer's CRC-32 */
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_GZIP, f.data, f.len, &out, 1000), KW_ERR_CODEC);
    fx_free(&f);
    f = fx_hex(made_elsewhere[2][1]);
    f.data[11] ^= 0x20;             /* 'h' of the lz4 literal block: the content checksum */
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4, f.data, f.len, &out, 1000), KW_ERR_CODEC);
    fx_free(&f);
    f = fx_hex(made_elsewhere[3][1]);
    f.data[10] ^= 0x20;             /* inside the zstd raw literal: its checksum */
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_ZSTD, f.data, f.len, &out, 1000), KW_ERR_CODEC);
    fx_free(&f);
    CU_ASSERT_EQUAL(out.len, 0);
    CU_ASSERT_EQUAL(kw_decompress(7, "x", 1, &out, 10), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(kw_compress(5, -1, "x", 1, &out), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(out.err, KW_OK);
    kw_buf_release(&out);
}

static void test_gzip_reads_concatenated_members(void)
{
    struct kw_buf z, out;
    kw_buf_init(&z);
    kw_buf_init(&out);
    kw_compress(KW_CODEC_GZIP, -1, "hello ", 6, &z);
    kw_compress(KW_CODEC_GZIP, -1, "kafka", 5, &z);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_GZIP, z.data, z.len, &out, 100), KW_OK);
    CU_ASSERT(out.len == 11 && memcmp(out.data, "hello kafka", 11) == 0);
    kw_buf_release(&z);
    kw_buf_release(&out);
}

static void test_decompression_bombs_stop_at_max_out(void)
{
    size_t n = 1u << 20;
    uint8_t *zeros = calloc(1, n);
    CU_ASSERT_FATAL(zeros != NULL);
    for (size_t c = 0; c < N_CODECS; c++) {
        struct kw_buf z, out;
        kw_buf_init(&z);
        kw_buf_init(&out);
        CU_ASSERT_EQUAL(kw_compress(codecs[c], -1, zeros, n, &z), KW_OK);
        if (codecs[c] != KW_CODEC_NONE)     /* snappy's copies stop at 64 bytes */
            CU_ASSERT(z.len < n / (KW_CODEC_WIRE(codecs[c]) == KW_CODEC_SNAPPY ? 16 : 100));
        kw_put_raw(&out, "keep", 4);
        CU_ASSERT_EQUAL(kw_decompress(codecs[c], z.data, z.len, &out, 1000), KW_ERR_RANGE);
        CU_ASSERT_EQUAL(out.len, 4);
        CU_ASSERT(out.cap <= 128 * 1024);   /* it stopped, rather than inflating then judging */
        CU_ASSERT_EQUAL(kw_decompress(codecs[c], z.data, z.len, &out, n - 1), KW_ERR_RANGE);
        CU_ASSERT_EQUAL(out.len, 4);
        CU_ASSERT_EQUAL(kw_decompress(codecs[c], z.data, z.len, &out, 0), KW_ERR_RANGE);
        CU_ASSERT_EQUAL(kw_decompress(codecs[c], z.data, z.len, &out, n), KW_OK);
        CU_ASSERT_EQUAL(out.len, 4 + n);
        kw_buf_release(&z);
        kw_buf_release(&out);
    }
    free(zeros);
}

static void test_magic_zero_lz4_frames_carry_kafkas_old_header_checksum(void)
{
    struct kw_buf std, old, out;
    kw_buf_init(&std);
    kw_buf_init(&old);
    kw_buf_init(&out);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_LZ4, -1, text, strlen(text), &std), KW_OK);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_LZ4_LEGACY, -1, text, strlen(text), &old), KW_OK);
    /* FLG 0x60 (v1, independent blocks), BD 0x40 (64 KiB), then the checksum byte: bits 8-15
     * of XXH32 over FLG,BD (0x82) or, in Kafka before KIP-57, over magic,FLG,BD (0x1a). The
     * two values were computed independently, in Python. */
    CU_ASSERT(std.len == old.len && std.len > 7);
    CU_ASSERT(memcmp(std.data, "\x04\x22\x4d\x18\x60\x40\x82", 7) == 0);
    CU_ASSERT(memcmp(old.data, "\x04\x22\x4d\x18\x60\x40\x1a", 7) == 0);
    CU_ASSERT(memcmp(std.data + 7, old.data + 7, std.len - 7) == 0);
    /* the standard decoder refuses the old checksum; the legacy one reads both */
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4, old.data, old.len, &out, 100), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4_LEGACY, old.data, old.len, &out, 100), KW_OK);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4_LEGACY, std.data, std.len, &out, 100), KW_OK);
    CU_ASSERT(out.len == 2 * strlen(text) && memcmp(out.data, text, strlen(text)) == 0);
    /* the command-line tool's frame (content checksum, other header) through the legacy path */
    struct fx_frame f = fx_hex(made_elsewhere[2][1]);
    f.data[6] ^= 0xff;
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4, f.data, f.len, &out, 100), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4_LEGACY, f.data, f.len, &out, 100), KW_OK);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_LZ4_LEGACY, f.data, 6, &out, 100), KW_ERR_CODEC);
    fx_free(&f);
    kw_buf_release(&std);
    kw_buf_release(&old);
    kw_buf_release(&out);
}

static void test_bad_levels_and_failed_buffers_change_nothing(void)
{
    struct kw_buf out;
    kw_buf_init(&out);
    kw_put_raw(&out, "ab", 2);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_GZIP, 10, text, 5, &out), KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_LZ4, 13, text, 5, &out), KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_ZSTD, 23, text, 5, &out), KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_ZSTD, -2, text, 5, &out), KW_ERR_INVALID);
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_SNAPPY, 99, text, 5, &out), KW_OK);   /* no levels */
    CU_ASSERT_EQUAL(out.err, KW_OK);
    out.err = KW_ERR_NOMEM;         /* a buffer that already failed stays failed */
    CU_ASSERT_EQUAL(kw_compress(KW_CODEC_GZIP, -1, text, 5, &out), KW_ERR_NOMEM);
    CU_ASSERT_EQUAL(kw_decompress(KW_CODEC_NONE, text, 5, &out, 10), KW_ERR_NOMEM);
    kw_buf_release(&out);
}

static void test_codec_names_follow_compression_type(void)
{
    CU_ASSERT_EQUAL(kw_codec_by_name("none"), KW_CODEC_NONE);
    CU_ASSERT_EQUAL(kw_codec_by_name("gzip"), KW_CODEC_GZIP);
    CU_ASSERT_EQUAL(kw_codec_by_name("snappy"), KW_CODEC_SNAPPY);
    CU_ASSERT_EQUAL(kw_codec_by_name("LZ4"), KW_CODEC_LZ4);
    CU_ASSERT_EQUAL(kw_codec_by_name("zstd"), KW_CODEC_ZSTD);
    CU_ASSERT_EQUAL(kw_codec_by_name("brotli"), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(kw_codec_by_name("lz4-legacy"), KW_ERR_CODEC);
    CU_ASSERT_EQUAL(kw_codec_by_name(NULL), KW_ERR_CODEC);
    CU_ASSERT_STRING_EQUAL(kw_codec_name(KW_CODEC_ZSTD), "zstd");
    CU_ASSERT_STRING_EQUAL(kw_codec_name(KW_CODEC_SNAPPY_XERIAL), "snappy-xerial");
    CU_ASSERT_STRING_EQUAL(kw_codec_name(6), "unknown");
    CU_ASSERT_EQUAL(KW_CODEC_WIRE(KW_CODEC_SNAPPY_XERIAL), KW_CODEC_SNAPPY);
    CU_ASSERT_EQUAL(KW_CODEC_WIRE(KW_CODEC_LZ4_LEGACY), KW_CODEC_LZ4);
}

CU_TestInfo kwt_compress_tests[] = {
    { "every codec round trips empty, tiny, text and random data",
      test_every_codec_round_trips_empty_tiny_text_and_random_data },
    { "text actually gets smaller", test_text_actually_gets_smaller },
    { "streams made by other tools decode", test_streams_made_by_other_tools_decode },
    { "snappy reads raw blocks and xerial framing",
      test_snappy_reads_raw_blocks_and_xerial_framing },
    { "every truncation of a stream fails", test_every_truncation_of_a_stream_fails },
    { "corrupt or trailing input is a codec error",
      test_corrupt_or_trailing_input_is_a_codec_error },
    { "gzip reads concatenated members", test_gzip_reads_concatenated_members },
    { "decompression bombs stop at max_out", test_decompression_bombs_stop_at_max_out },
    { "magic-0 lz4 frames carry Kafka's old header checksum",
      test_magic_zero_lz4_frames_carry_kafkas_old_header_checksum },
    { "bad levels and failed buffers change nothing",
      test_bad_levels_and_failed_buffers_change_nothing },
    { "codec names follow compression.type", test_codec_names_follow_compression_type },
    CU_TEST_INFO_NULL,
};
