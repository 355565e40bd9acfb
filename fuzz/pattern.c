/* pattern.c - see pattern.h.  Words of 8 bytes, each seed + k * odd constant. */
#include "pattern.h"

#include <string.h>

static uint64_t word_at(uint64_t seed, size_t k)
{
    return seed + (uint64_t)k * 0xD6E8FEB86659FD93ull;
}

uint64_t fz_pattern_seed(unsigned slot, uint32_t gen)
{
    uint64_t x = ((uint64_t)gen << 8 | slot) * 0x9E3779B97F4A7C15ull + 0x5851F42D4C957F2Dull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    return x;
}

void fz_pattern_fill(unsigned char *p, size_t n, uint64_t seed)
{
    size_t k = 0;
    for (; k < n / 8; k++) {
        uint64_t w = word_at(seed, k);
        memcpy(p + 8 * k, &w, 8);
    }
    if (n % 8) {
        uint64_t w = word_at(seed, k);
        memcpy(p + 8 * k, &w, n % 8);
    }
}

unsigned char fz_pattern_byte(uint64_t seed, size_t i)
{
    uint64_t w = word_at(seed, i / 8);
    unsigned char b[8];
    memcpy(b, &w, 8);
    return b[i % 8];
}

static size_t first_diff(const unsigned char *p, size_t from, size_t n, uint64_t seed)
{
    for (size_t i = from; i < n; i++)
        if (p[i] != fz_pattern_byte(seed, i))
            return i;
    return SIZE_MAX;
}

size_t fz_pattern_mismatch(const unsigned char *p, size_t n, uint64_t seed)
{
    size_t k = 0;
    for (; k < n / 8; k++) {
        uint64_t w = word_at(seed, k), got;
        memcpy(&got, p + 8 * k, 8);
        if (got != w)
            return first_diff(p, 8 * k, n, seed);
    }
    return first_diff(p, 8 * k, n, seed);
}

size_t fz_first_nonzero(const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w)
            break;
    }
    for (; i < n; i++)
        if (p[i])
            return i;
    return SIZE_MAX;
}
