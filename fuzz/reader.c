/* reader.c - see reader.h: reads return 0 once the input is used up. */
#include "reader.h"

void fz_reader_init(fz_reader *r, const uint8_t *data, size_t size)
{
    r->p = data;
    r->left = data ? size : 0;
    r->out = false;
}

/* Little endian, byte by byte: inputs decode the same on every host. */
static uint64_t read_le(fz_reader *r, unsigned bytes)
{
    if (r->left < bytes) {
        r->left = 0;
        r->out = true;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    r->left -= bytes;
    return v;
}

uint8_t fz_read_u8(fz_reader *r) { return (uint8_t)read_le(r, 1); }
uint16_t fz_read_u16(fz_reader *r) { return (uint16_t)read_le(r, 2); }
uint32_t fz_read_u32(fz_reader *r) { return (uint32_t)read_le(r, 4); }
uint64_t fz_read_u64(fz_reader *r) { return read_le(r, 8); }
