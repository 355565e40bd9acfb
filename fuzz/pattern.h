/*
 * pattern.h - the contents the oracle writes into live blocks.
 *
 * Byte i of a block depends on its slot, its generation and i, so a block
 * that overlaps another, a stale copy, a shifted copy and a metadata write
 * into user data all show up as a mismatch.
 */
#ifndef FZ_PATTERN_H
#define FZ_PATTERN_H

#include <stddef.h>
#include <stdint.h>

uint64_t fz_pattern_seed(unsigned slot, uint32_t gen);
void fz_pattern_fill(unsigned char *p, size_t n, uint64_t seed);
/* The offset of the first byte that differs from the pattern, or SIZE_MAX. */
size_t fz_pattern_mismatch(const unsigned char *p, size_t n, uint64_t seed);
/* The byte the pattern has at offset i. */
unsigned char fz_pattern_byte(uint64_t seed, size_t i);
/* The offset of the first nonzero byte, or SIZE_MAX. */
size_t fz_first_nonzero(const unsigned char *p, size_t n);

#endif /* FZ_PATTERN_H */
