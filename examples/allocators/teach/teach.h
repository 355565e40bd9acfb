/*
 * teach.h - the teaching allocator's header: its block layout and its API,
 * which is the C library's own (it is meant to replace malloc with LD_PRELOAD,
 * the way such allocators are usually tried out).
 *
 * Memory is one contiguous heap grown with sbrk:
 *
 *   heap_start                                                       heap_end
 *   | block | payload ... | block | payload ...... | block | payload |
 *
 * Each block header is 32 bytes, so payloads stay 16-byte aligned.
 */
#ifndef TEACH_H
#define TEACH_H

#include <stddef.h>
#include <stdint.h>

#define TEACH_MAGIC_USED 0xA110CA7Eu
#define TEACH_MAGIC_FREE 0xF2EEB10Cu
#define TEACH_ALIGN 16
#define TEACH_CHUNK (64 * 1024)           /* the heap grows by multiples of this */
#define TEACH_MAX_HEAP ((size_t)64 << 20) /* and never beyond this */

struct block {
    size_t size;            /* payload bytes, a multiple of TEACH_ALIGN */
    struct block *prev;     /* the block before this one in memory; NULL for the first */
    uint32_t magic;         /* TEACH_MAGIC_USED or TEACH_MAGIC_FREE */
    uint32_t free;          /* 1 if free */
    uint64_t pad;           /* keeps the header 32 bytes */
};

/* The heap: [heap_start, heap_end), or both NULL before the first malloc. */
extern struct block *heap_start, *heap_end;
/* Print every call (on by default: a student's debugging output). */
extern int teach_verbose;

void *malloc(size_t size);
void free(void *ptr);
void *realloc(void *ptr, size_t size);
void *calloc(size_t count, size_t size);

#endif /* TEACH_H */
