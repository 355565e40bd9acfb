/*
 * ops.h - the operation language every fuzz target, engine and tool shares.
 *
 * An input is a header (the heap's configuration) followed by operations.
 * Every byte string is a valid input: missing header bytes read as 0 (the
 * defaults), every byte value means something, and an operation cut short by
 * the end of the input is dropped and ends the sequence.  fuzz/README.md
 * describes the byte format; fz_op_format() gives the text form hl-trace
 * reads and writes.
 *
 * Threaded targets (issue 4) will prefix each operation with a thread byte
 * (fz_decoder.threads > 0); the single-threaded target leaves it 0.
 */
#ifndef FZ_OPS_H
#define FZ_OPS_H

#include "reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    FZ_SLOTS = 256,          /* live-pointer table the operations name */
    FZ_HEADER_BYTES = 5,
    FZ_OP_TEXT = 160,        /* room for one operation's text */
};

/* --- the header --------------------------------------------------------------- */
enum fz_source { FZ_SOURCE_MMAP, FZ_SOURCE_BUFFER, FZ_SOURCE_SBRK, FZ_SOURCE_COUNT };
enum fz_policy { FZ_POLICY_SEGREGATED, FZ_POLICY_FIRST_FIT, FZ_POLICY_BEST_FIT, FZ_POLICY_COUNT };
#define FZ_THRESHOLD_NEVER SIZE_MAX

/* Each field is an index into the table below it, so the text form and the
 * byte form map one to one. */
typedef struct fz_header {
    unsigned policy, source, buffer, grow, cap, threshold;
} fz_header;

enum { FZ_BUFFER_CHOICES = 6, FZ_GROW_CHOICES = 8, FZ_CAP_CHOICES = 8, FZ_THRESHOLD_CHOICES = 8 };
extern const size_t fz_buffer_sizes[FZ_BUFFER_CHOICES];
extern const size_t fz_grow_sizes[FZ_GROW_CHOICES];        /* 0: the allocator's default */
extern const size_t fz_caps[FZ_CAP_CHOICES];               /* 0: no cap */
extern const size_t fz_thresholds[FZ_THRESHOLD_CHOICES];   /* 0: default; FZ_THRESHOLD_NEVER */
extern const char *const fz_policy_names[FZ_POLICY_COUNT];
extern const char *const fz_source_names[FZ_SOURCE_COUNT];

/* --- operations ------------------------------------------------------------------ */
typedef enum fz_opcode {
    FZ_OP_MALLOC,
    FZ_OP_CALLOC,
    FZ_OP_REALLOC,
    FZ_OP_ALIGNED_ALLOC,
    FZ_OP_FREE,
    FZ_OP_USABLE_SIZE,
    FZ_OP_FILL,              /* write a new pattern through a live block */
    FZ_OP_DOUBLE_FREE,       /* misuse: free the slot's block (if live), then free it again */
    FZ_OP_INTERIOR_FREE,     /* misuse: p + 16 or p + 1 */
    FZ_OP_MISALIGNED_FREE,   /* misuse: p + 8 */
    FZ_OP_FOREIGN_FREE,      /* misuse: a static, a stack or a libc pointer */
    FZ_OP_RESET,
    FZ_OP_CHECK,             /* explicit full heap check */
    FZ_OP_FAIL_SOURCE,       /* the next `count` source requests after `skip` fail */
    FZ_OP_SWEEP,             /* verify the contents of every live block */
    FZ_OP_COUNT
} fz_opcode;

/* How a misuse reaches the allocator. */
enum fz_via { FZ_VIA_FREE, FZ_VIA_REALLOC, FZ_VIA_USABLE_SIZE, FZ_VIA_COUNT };
enum fz_foreign { FZ_FOREIGN_STATIC, FZ_FOREIGN_STACK, FZ_FOREIGN_LIBC, FZ_FOREIGN_COUNT };

typedef struct fz_op {
    fz_opcode code;
    uint8_t slot;
    uint8_t thread;          /* threaded targets; 0 here */
    uint8_t via;             /* misuse ops: enum fz_via */
    uint8_t variant;         /* interior: 0 for +16, 1 for +1; foreign: enum fz_foreign */
    size_t a, b;             /* malloc/realloc: a = size; calloc: a = count, b = size;
                                aligned_alloc: a = alignment, b = size;
                                fail_source: a = skip, b = count */
    uint8_t a_sel, b_sel;    /* the size selectors a and b came from (for their names) */
} fz_op;

extern const char *const fz_op_names[FZ_OP_COUNT];
extern const char *const fz_via_names[FZ_VIA_COUNT];
extern const char *const fz_foreign_names[FZ_FOREIGN_COUNT];

/* --- sizes ------------------------------------------------------------------------
 * A size is a selector byte, then maybe more bytes:
 *   0x00-0x3f  the selector itself (0..63)
 *   0x40-0x7f  fz_interesting_sizes[sel - 0x40]: granule and class boundaries +-1
 *   0x80-0x9f  thr-16 .. thr+15 (the large-block threshold in effect)
 *   0xa0-0xaf  near the room: cap, or the buffer size, or the growth step
 *   0xb0-0xbf  huge: SIZE_MAX, PTRDIFF_MAX + 1, ...
 *   0xc0-0xef  u16 + ((sel - 0xc0) << 16): anything below 3 MiB
 *   0xf0-0xfe  u32 << (2 * (sel - 0xf0))
 *   0xff       u64
 * Selectors 0x80-0xbf are printed by name ("thr-1", "cap/2", "SIZE_MAX") so a
 * text trace keeps its meaning for any header. */
enum {
    FZ_SEL_INTERESTING = 0x40, FZ_SEL_THRESHOLD = 0x80, FZ_SEL_ROOM = 0xa0,
    FZ_SEL_HUGE = 0xb0, FZ_SEL_U16 = 0xc0, FZ_SEL_U32 = 0xf0, FZ_SEL_U64 = 0xff,
};
extern const size_t fz_interesting_sizes[64];
/* The name of a symbolic selector (0x80-0xbf), or NULL. */
const char *fz_size_symbol(unsigned sel);

/* Alignments: a byte b < 0xe0 is 1 << (b % 24); 0xe0-0xfe index
 * fz_odd_alignments (mostly invalid); 0xff is a u64. */
enum { FZ_ALIGN_ODD = 0xe0, FZ_ALIGN_U64 = 0xff, FZ_ALIGN_POW2_MAX = 24 };
extern const size_t fz_odd_alignments[31];

/* --- decoding ------------------------------------------------------------------------ */
typedef struct fz_decoder {
    fz_reader in;
    fz_header hdr;
    size_t threshold;        /* the large-block threshold the sizes refer to */
    size_t room;             /* what the "cap" size names refer to */
    unsigned threads;        /* 0: single-threaded input (no thread bytes) */
    size_t index;            /* operations decoded so far */
} fz_decoder;

/* Reads the header; operations follow with fz_decode_next. */
void fz_decode_begin(fz_decoder *d, const uint8_t *data, size_t size);
/* The opcode byte the encoder writes for an operation. */
uint8_t fz_opcode_byte(fz_opcode code);
/* Decodes the next operation; false at the end (or at a truncated operation). */
bool fz_decode_next(fz_decoder *d, fz_op *op);
/* The size a selector stands for, given the decoder's header. */
size_t fz_symbol_value(const fz_decoder *d, unsigned sel);
/* What the "thr" and "cap" size names mean under a header. */
size_t fz_header_threshold(const fz_header *h);
size_t fz_header_room(const fz_header *h);

/* --- text ------------------------------------------------------------------------------ */
/* "malloc s3 100", "realloc s3 thr-1=131071", "foreign_free libc via=free" ... */
void fz_op_format(const fz_op *op, char *buf, size_t len);
/* "config policy=first source=buffer buffer=65536 grow=0 cap=0 threshold=0" */
void fz_header_format(const fz_header *h, char *buf, size_t len);

#endif /* FZ_OPS_H */
