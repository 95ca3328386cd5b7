/* gzip (zlib), snappy (raw and xerial framing), lz4 (frame format) and zstd over kw_buf.
 * Decoders stream into the buffer in chunks so that max_out is enforced before memory is
 * spent: a few KiB of hostile input cannot make us allocate gigabytes. */
#define ZLIB_CONST
#include "lib/compress.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define CHUNK (64u * 1024)

/* snappy-java's stream header: magic, then int32 version and int32 compatible version. */
static const uint8_t xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };
#define XERIAL_HEADER 16
#define XERIAL_BLOCK (32u * 1024)   /* snappy-java's and kafka-python's default block size */

/* Bytes the next decode step may write: one more than the budget left, so that exceeding
 * max_out is seen as an overflow rather than as a stall. */
static size_t room(size_t produced, size_t max_out)
{
    size_t left = max_out - produced;
    return left >= CHUNK ? CHUNK : left + 1;
}

/* --- gzip ------------------------------------------------------------------------------------ */

static int gzip_enc(int level, const uint8_t *in, size_t n, struct kw_buf *out)
{
    if (level < -1 || level > 9)
        return KW_ERR_INVALID;
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* 15 + 16: a gzip wrapper rather than zlib's, which is what Kafka's GZIPInputStream reads */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return KW_ERR_NOMEM;
    size_t pos = 0;
    int rc = KW_OK, zr;
    do {
        if (z.avail_in == 0 && pos < n) {
            z.next_in = in + pos;
            z.avail_in = n - pos > UINT_MAX ? UINT_MAX : (uInt)(n - pos);
            pos += z.avail_in;
        }
        uLong want = deflateBound(&z, z.avail_in) + 64;
        uInt cap = want > UINT_MAX ? UINT_MAX : (uInt)want;
        uint8_t *dst = kw_buf_space(out, cap);
        if (dst == NULL) {
            rc = KW_ERR_NOMEM;
            break;
        }
        z.next_out = dst;
        z.avail_out = cap;
        zr = deflate(&z, pos == n ? Z_FINISH : Z_NO_FLUSH);
        kw_buf_commit(out, cap - z.avail_out);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            rc = KW_ERR_CODEC;
            break;
        }
    } while (zr != Z_STREAM_END);
    deflateEnd(&z);
    return rc;
}

static int gzip_dec(const uint8_t *in, size_t n, struct kw_buf *out, size_t max_out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK)     /* +32: detect gzip or zlib from the header */
        return KW_ERR_NOMEM;
    size_t pos = 0, produced = 0;
    int rc;
    for (;;) {
        if (z.avail_in == 0 && pos < n) {
            z.next_in = in + pos;
            z.avail_in = n - pos > UINT_MAX ? UINT_MAX : (uInt)(n - pos);
            pos += z.avail_in;
        }
        size_t cap = room(produced, max_out);
        uint8_t *dst = kw_buf_space(out, cap);
        if (dst == NULL) {
            rc = KW_ERR_NOMEM;
            break;
        }
        z.next_out = dst;
        z.avail_out = (uInt)cap;
        int zr = inflate(&z, Z_NO_FLUSH);
        size_t got = cap - z.avail_out;
        kw_buf_commit(out, got);
        produced += got;
        if (produced > max_out) {
            rc = KW_ERR_RANGE;
            break;
        }
        size_t left = z.avail_in + (n - pos);
        if (zr == Z_STREAM_END) {
            if (left == 0) {
                rc = KW_OK;
                break;
            }
            /* gzip members may be concatenated (GZIPInputStream reads them all); other trailing
             * bytes are not a stream we can vouch for. */
            if (left < 2 || z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b ||
                inflateReset(&z) != Z_OK) {
                rc = KW_ERR_CODEC;
                break;
            }
        } else if (zr != Z_OK) {
            /* Z_BUF_ERROR: no progress was possible although there was room for output, so
             * the input ran out before the stream's end */
            rc = zr == Z_MEM_ERROR ? KW_ERR_NOMEM : KW_ERR_CODEC;
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

/* --- snappy ---------------------------------------------------------------------------------- */

static int snappy_raw_enc(const uint8_t *in, size_t n, struct kw_buf *out)
{
    size_t cap = snappy_max_compressed_length(n);
    char *dst = (char *)kw_buf_space(out, cap);
    if (dst == NULL)
        return KW_ERR_NOMEM;
    if (snappy_compress((const char *)in, n, dst, &cap) != SNAPPY_OK)
        return KW_ERR_CODEC;
    kw_buf_commit(out, cap);
    return KW_OK;
}

static int xerial_enc(const uint8_t *in, size_t n, struct kw_buf *out)
{
    kw_put_raw(out, xerial_magic, sizeof(xerial_magic));
    kw_put_i32(out, 1);         /* version */
    kw_put_i32(out, 1);         /* compatible version */
    for (size_t pos = 0; pos < n && out->err == KW_OK; pos += XERIAL_BLOCK) {
        size_t at = kw_reserve_i32(out);
        size_t len = n - pos < XERIAL_BLOCK ? n - pos : XERIAL_BLOCK;
        int rc = snappy_raw_enc(in + pos, len, out);
        if (rc)
            return rc;
        kw_patch_i32(out, at, (int32_t)(out->len - at - 4));
    }
    return out->err;
}

/* The uncompressed length is in the block's header, so the budget is checked before the
 * block is expanded. */
static int snappy_raw_dec(const uint8_t *in, size_t n, struct kw_buf *out, size_t max_out,
                          size_t *produced)
{
    size_t len;
    if (n == 0 || snappy_uncompressed_length((const char *)in, n, &len) != SNAPPY_OK)
        return KW_ERR_CODEC;
    if (len > max_out - *produced)
        return KW_ERR_RANGE;
    char *dst = (char *)kw_buf_space(out, len ? len : 1);
    if (dst == NULL)
        return KW_ERR_NOMEM;
    if (snappy_uncompress((const char *)in, n, dst, &len) != SNAPPY_OK)
        return KW_ERR_CODEC;
    kw_buf_commit(out, len);
    *produced += len;
    return KW_OK;
}

static int snappy_dec(const uint8_t *in, size_t n, struct kw_buf *out, size_t max_out)
{
    size_t produced = 0;
    if (n < sizeof(xerial_magic) || memcmp(in, xerial_magic, sizeof(xerial_magic)) != 0)
        return snappy_raw_dec(in, n, out, max_out, &produced);
    /* The version fields are not checked: the blocks that follow do not depend on them. */
    if (n < XERIAL_HEADER)
        return KW_ERR_CODEC;
    for (size_t pos = XERIAL_HEADER; pos < n;) {
        if (n - pos < 4)
            return KW_ERR_CODEC;
        uint32_t len = kw_be32(in + pos);
        pos += 4;
        if (len == 0 || len > n - pos)
            return KW_ERR_CODEC;
        int rc = snappy_raw_dec(in + pos, len, out, max_out, &produced);
        if (rc)
            return rc;
        pos += len;
    }
    return KW_OK;
}

/* --- lz4 ------------------------------------------------------------------------------------- */

#define XP1 2654435761u
#define XP2 2246822519u
#define XP3 3266489917u
#define XP4 668265263u
#define XP5 374761393u

static inline uint32_t rotl(uint32_t x, int r) { return x << r | x >> (32 - r); }
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* XXH32, the hash behind the LZ4 frame's header checksum. liblz4 does not export its copy. */
static uint32_t xxh32(const uint8_t *p, size_t n, uint32_t seed)
{
    const uint8_t *end = p + n;
    uint32_t h;
    if (n >= 16) {
        uint32_t v[4] = { seed + XP1 + XP2, seed + XP2, seed, seed - XP1 };
        for (; end - p >= 16; p += 16)
            for (int i = 0; i < 4; i++)
                v[i] = rotl(v[i] + le32(p + 4 * i) * XP2, 13) * XP1;
        h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
    } else {
        h = seed + XP5;
    }
    h += (uint32_t)n;
    for (; end - p >= 4; p += 4)
        h = rotl(h + le32(p) * XP3, 17) * XP4;
    for (; p < end; p++)
        h = rotl(h + *p * XP5, 11) * XP1;
    h ^= h >> 15;
    h *= XP2;
    h ^= h >> 13;
    h *= XP3;
    return h ^ (h >> 16);
}

/* Length of the LZ4 frame header at in (magic, FLG, BD, optional content size and dictionary
 * id, then the checksum byte), or 0 if in does not hold one. */
static size_t lz4_header_len(const uint8_t *in, size_t n)
{
    if (n < 7 || le32(in) != 0x184D2204u)
        return 0;
    size_t len = 7 + (in[4] & 0x08 ? 8 : 0) + (in[4] & 0x01 ? 4 : 0);
    return len <= n ? len : 0;
}

static int lz4_enc(int codec, int level, const uint8_t *in, size_t n, struct kw_buf *out)
{
    if (level < -1 || level > 12)
        return KW_ERR_INVALID;
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    /* What Kafka's Java writer produces (64 KiB independent blocks, no content size, no
     * content checksum): staying within what it writes keeps every Kafka reader able to read
     * ours. */
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.compressionLevel = level < 0 ? 0 : level;
    size_t cap = LZ4F_compressFrameBound(n, &prefs);
    uint8_t *dst = kw_buf_space(out, cap);
    if (dst == NULL)
        return KW_ERR_NOMEM;
    size_t r = LZ4F_compressFrame(dst, cap, in, n, &prefs);
    if (LZ4F_isError(r))
        return KW_ERR_CODEC;
    if (codec == KW_CODEC_LZ4_LEGACY) {
        /* Kafka before 0.10 hashed the magic number too (KIP-57). */
        size_t hl = lz4_header_len(dst, r);
        if (hl == 0)
            return KW_ERR_CODEC;
        dst[hl - 1] = (uint8_t)(xxh32(dst, hl - 1, 0) >> 8);
    }
    kw_buf_commit(out, r);
    return KW_OK;
}

static int lz4_dec(int codec, const uint8_t *in, size_t n, struct kw_buf *out, size_t max_out)
{
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return KW_ERR_NOMEM;
    size_t pos = 0, produced = 0;
    int rc = KW_OK;
    if (codec == KW_CODEC_LZ4_LEGACY) {
        /* lz4frame always verifies the header checksum; hand it a copy of the header with the
         * checksum it expects, which is as good as Kafka's reader ignoring it. */
        uint8_t hdr[LZ4F_HEADER_SIZE_MAX];
        size_t hl = lz4_header_len(in, n), used;
        if (hl == 0 || hl > sizeof(hdr)) {
            rc = KW_ERR_CODEC;
        } else {
            memcpy(hdr, in, hl);
            hdr[hl - 1] = (uint8_t)(xxh32(hdr + 4, hl - 5, 0) >> 8);
            LZ4F_frameInfo_t info;
            used = hl;
            if (LZ4F_isError(LZ4F_getFrameInfo(d, &info, hdr, &used)) || used != hl)
                rc = KW_ERR_CODEC;
            pos = hl;
        }
    }
    while (rc == KW_OK) {
        size_t cap = room(produced, max_out), src = n - pos;
        uint8_t *dst = kw_buf_space(out, cap);
        if (dst == NULL) {
            rc = KW_ERR_NOMEM;
            break;
        }
        size_t r = LZ4F_decompress(d, dst, &cap, in + pos, &src, NULL);
        if (LZ4F_isError(r)) {
            rc = KW_ERR_CODEC;
            break;
        }
        pos += src;
        produced += cap;
        kw_buf_commit(out, cap);
        if (produced > max_out)
            rc = KW_ERR_RANGE;
        else if (r == 0)            /* end of frame: a second one is more than Kafka writes */
            break;
        else if (src == 0 && cap == 0)
            rc = KW_ERR_CODEC;      /* truncated: the decoder wants input we do not have */
    }
    if (rc == KW_OK && pos != n)
        rc = KW_ERR_CODEC;
    LZ4F_freeDecompressionContext(d);
    return rc;
}

/* --- zstd ------------------------------------------------------------------------------------ */

static int zstd_enc(int level, const uint8_t *in, size_t n, struct kw_buf *out)
{
    if (level < -1 || level == 0 || level > ZSTD_maxCLevel())
        return KW_ERR_INVALID;
    size_t cap = ZSTD_compressBound(n);
    uint8_t *dst = kw_buf_space(out, cap);
    if (dst == NULL)
        return KW_ERR_NOMEM;
    size_t r = ZSTD_compress(dst, cap, in, n, level < 0 ? ZSTD_CLEVEL_DEFAULT : level);
    if (ZSTD_isError(r))
        return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? KW_ERR_NOMEM : KW_ERR_CODEC;
    kw_buf_commit(out, r);
    return KW_OK;
}

/* Streaming, so frames without a content size (librdkafka's, the zstd CLI's) decode too, and
 * the budget holds whatever the header claims. The window stays capped at zstd's default
 * (2^27 bytes), which bounds what one frame can make the decoder allocate. */
static int zstd_dec(const uint8_t *in, size_t n, struct kw_buf *out, size_t max_out)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (d == NULL)
        return KW_ERR_NOMEM;
    ZSTD_inBuffer ib = { in, n, 0 };
    size_t produced = 0;
    int rc = KW_OK;
    for (;;) {
        size_t cap = room(produced, max_out), before = ib.pos;
        uint8_t *dst = kw_buf_space(out, cap);
        if (dst == NULL) {
            rc = KW_ERR_NOMEM;
            break;
        }
        ZSTD_outBuffer ob = { dst, cap, 0 };
        size_t r = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(r)) {
            rc = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? KW_ERR_NOMEM
                                                                      : KW_ERR_CODEC;
            break;
        }
        kw_buf_commit(out, ob.pos);
        produced += ob.pos;
        if (produced > max_out) {
            rc = KW_ERR_RANGE;
            break;
        }
        if (r == 0 && ib.pos == ib.size)
            break;                  /* a frame ended, fully flushed, and no other follows */
        if (r != 0 && ib.pos == before && ob.pos == 0) {
            rc = KW_ERR_CODEC;      /* truncated */
            break;
        }
    }
    ZSTD_freeDCtx(d);
    return rc;
}

/* --- dispatch -------------------------------------------------------------------------------- */

/* Libraries get a real pointer even for no input: some reject NULL, and NULL + 0 is not C. */
static const uint8_t nothing[1];

int kw_compress(int codec, int level, const void *in, size_t n, struct kw_buf *out)
{
    if (out->err)
        return out->err;
    if (n == 0)
        in = nothing;
    size_t len0 = out->len;
    int rc;
    switch (codec) {
    case KW_CODEC_NONE:
        if (n)
            kw_put_raw(out, in, n);
        rc = out->err;
        break;
    case KW_CODEC_GZIP: rc = gzip_enc(level, in, n, out); break;
    case KW_CODEC_SNAPPY: rc = snappy_raw_enc(in, n, out); break;
    case KW_CODEC_SNAPPY_XERIAL: rc = xerial_enc(in, n, out); break;
    case KW_CODEC_LZ4:
    case KW_CODEC_LZ4_LEGACY: rc = lz4_enc(codec, level, in, n, out); break;
    case KW_CODEC_ZSTD: rc = zstd_enc(level, in, n, out); break;
    default: rc = KW_ERR_CODEC; break;
    }
    if (rc != KW_OK && out->err == KW_OK)
        out->len = len0;
    return rc;
}

int kw_decompress(int codec, const void *in, size_t n, struct kw_buf *out, size_t max_out)
{
    if (out->err)
        return out->err;
    if (n == 0)
        in = nothing;
    size_t len0 = out->len;
    int rc;
    switch (codec) {
    case KW_CODEC_NONE:
        if (n > max_out)
            return KW_ERR_RANGE;
        if (n)
            kw_put_raw(out, in, n);
        rc = out->err;
        break;
    case KW_CODEC_GZIP: rc = gzip_dec(in, n, out, max_out); break;
    case KW_CODEC_SNAPPY:
    case KW_CODEC_SNAPPY_XERIAL: rc = snappy_dec(in, n, out, max_out); break;
    case KW_CODEC_LZ4:
    case KW_CODEC_LZ4_LEGACY: rc = lz4_dec(codec, in, n, out, max_out); break;
    case KW_CODEC_ZSTD: rc = zstd_dec(in, n, out, max_out); break;
    default: rc = KW_ERR_CODEC; break;
    }
    if (rc != KW_OK && out->err == KW_OK)
        out->len = len0;
    return rc;
}

static const struct {
    int codec;
    const char *name;
} names[] = {
    { KW_CODEC_NONE, "none" }, { KW_CODEC_GZIP, "gzip" }, { KW_CODEC_SNAPPY, "snappy" },
    { KW_CODEC_LZ4, "lz4" }, { KW_CODEC_ZSTD, "zstd" },
    { KW_CODEC_SNAPPY_XERIAL, "snappy-xerial" }, { KW_CODEC_LZ4_LEGACY, "lz4-legacy" },
};

const char *kw_codec_name(int codec)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].codec == codec)
            return names[i].name;
    return "unknown";
}

int kw_codec_by_name(const char *name)
{
    for (size_t i = 0; name && i < 5; i++)      /* the five compression.type values */
        if (strcasecmp(names[i].name, name) == 0)
            return names[i].codec;
    return KW_ERR_CODEC;
}
