/* The four compression codecs of Kafka records, as one-shot append-to-buffer calls. */
#ifndef KW_COMPRESS_H
#define KW_COMPRESS_H

#include <stddef.h>

#include "lib/kw.h"

/* Codec ids as in batch and message attributes (bits 0-2). The variants above 0x10 carry the
 * wire id in their low 3 bits (KW_CODEC_WIRE) and choose a framing the plain id does not. */
enum kw_codec {
    KW_CODEC_NONE = 0,
    KW_CODEC_GZIP = 1,
    KW_CODEC_SNAPPY = 2,          /* writes raw snappy (as librdkafka); reads raw and xerial */
    KW_CODEC_LZ4 = 3,             /* the standard LZ4 frame, for magic 1 and 2 */
    KW_CODEC_ZSTD = 4,
    KW_CODEC_SNAPPY_XERIAL = 0x12,  /* writes snappy-java's framing (Java client, kafka-python) */
    KW_CODEC_LZ4_LEGACY = 0x13,     /* magic 0: Kafka's old, wrong LZ4 header checksum */
};
#define KW_CODEC_WIRE(codec) ((codec) & 7)

/* Appends the compressed form of n bytes at in to out. level -1 is the library's default;
 * otherwise gzip takes 0-9, lz4 0-12, zstd 1-22 and snappy ignores it (KW_ERR_INVALID outside).
 * KW_CODEC_NONE appends a copy. Returns KW_OK or a negative kw_err (KW_ERR_CODEC for an unknown
 * codec); on failure out->len is as before (out->err is set only for KW_ERR_NOMEM). */
int kw_compress(int codec, int level, const void *in, size_t n, struct kw_buf *out);

/* Appends the decompressed form of n bytes at in to out, at most max_out bytes of it. gzip
 * accepts gzip (also several members) and zlib streams; snappy raw and xerial-framed input;
 * lz4 one frame; zstd one or more frames, with or without a content size. KW_CODEC_LZ4_LEGACY
 * ignores the frame header checksum, as Kafka's magic-0 reader does. Returns KW_OK,
 * KW_ERR_CODEC for corrupt, truncated or trailing input or an unknown codec, KW_ERR_RANGE if the
 * output would exceed max_out; on failure out->len is as before. */
int kw_decompress(int codec, const void *in, size_t n, struct kw_buf *out, size_t max_out);

/* "none", "gzip", "snappy", "lz4", "zstd" (and the variants' names), or "unknown". */
const char *kw_codec_name(int codec);

/* The codec id for a compression.type value ("none", "gzip", "snappy", "lz4", "zstd"), or
 * KW_ERR_CODEC. */
int kw_codec_by_name(const char *name);

#endif
