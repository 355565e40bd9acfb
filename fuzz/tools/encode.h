/*
 * encode.h - text traces back into input bytes (hl-trace encode).
 *
 * The text is what hl-trace decode prints: an optional "config ..." line,
 * then one operation a line, optionally numbered ("12: free s3"); '#' starts
 * a comment.  Numbers are decimal or 0x hex; sizes may also be the names
 * decode prints (thr-1, cap/2, SIZE_MAX, ...), with or without "=value".
 * The bytes are canonical: decoding them and encoding the text again gives
 * the same bytes.
 */
#ifndef HL_ENCODE_H
#define HL_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct hl_bytes {
    uint8_t *p;
    size_t n, cap;
} hl_bytes;

/* 0, or -1 with "line N: why" in err. */
int hl_trace_encode(FILE *in, hl_bytes *out, char *err, size_t errlen);
void hl_bytes_free(hl_bytes *b);

#endif /* HL_ENCODE_H */
