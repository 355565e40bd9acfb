/*
 * reader.h - a small byte reader over a fuzz input.
 *
 * Every read succeeds: once the bytes run out a read returns the minimum (0)
 * and sets `out`, so a short input still decodes deterministically and the
 * decoder can tell that the operation it was reading was truncated.
 */
#ifndef FZ_READER_H
#define FZ_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fz_reader {
    const uint8_t *p;
    size_t left;
    bool out;          /* a read wanted more bytes than were left */
} fz_reader;

void fz_reader_init(fz_reader *r, const uint8_t *data, size_t size);
uint8_t fz_read_u8(fz_reader *r);
uint16_t fz_read_u16(fz_reader *r);   /* little endian */
uint32_t fz_read_u32(fz_reader *r);
uint64_t fz_read_u64(fz_reader *r);

#endif /* FZ_READER_H */
