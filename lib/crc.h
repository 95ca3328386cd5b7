/* Checksums of the two record formats: CRC-32C for magic 2 batches, CRC-32 for magic 0/1
 * messages. All take and return the finished CRC value (0 to start), so calls chain:
 * crc(crc(0, a), b) is the CRC of a followed by b. */
#ifndef KW_CRC_H
#define KW_CRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C (Castagnoli, reflected 0x82F63B78) of n bytes at p, continuing from crc. Uses
 * kw_crc32c_clmul or kw_crc32c_hw when the CPU can run them (chosen once, on the first call),
 * else tables. */
uint32_t kw_crc32c(uint32_t crc, const void *p, size_t n);

/* The portable slicing-by-8 implementation, always available. */
uint32_t kw_crc32c_sw(uint32_t crc, const void *p, size_t n);

/* True if this CPU and build can run kw_crc32c_hw. */
bool kw_crc32c_hw_available(void);

/* The SSE4.2 implementation (three interleaved streams on long inputs). Call it only when
 * kw_crc32c_hw_available() is true; on other builds it computes the same value in software. */
uint32_t kw_crc32c_hw(uint32_t crc, const void *p, size_t n);

/* True if this CPU and build can run kw_crc32c_clmul (SSE4.2 and PCLMULQDQ). */
bool kw_crc32c_clmul_available(void);

/* Folds inputs of 64 bytes or more with carry-less multiplication (PCLMULQDQ), 64 bytes a
 * step; shorter ones go through the crc32 instruction. Where kw_crc32c_clmul_available() is
 * false it computes the same value with kw_crc32c_hw. */
uint32_t kw_crc32c_clmul(uint32_t crc, const void *p, size_t n);

/* The CRC-32C of A||B from crc_a = CRC of A, crc_b = CRC of B and len_b = length of B. */
uint32_t kw_crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

/* IEEE 802.3 CRC-32, as zlib's crc32(): legacy messages and the consistent partitioners. */
uint32_t kw_crc32(uint32_t crc, const void *p, size_t n);

#endif
