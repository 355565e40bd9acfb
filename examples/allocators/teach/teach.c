/*
 * teach.c - a teaching allocator, written the way a student's first free-list
 * malloc is: one global heap taken from sbrk, an implicit list of blocks
 * walked in address order, first fit, splitting and coalescing, a magic
 * number in every header, exit(1) when free() meets something it did not
 * hand out, and a line printed for every call.  It defines malloc, free,
 * realloc and calloc themselves.
 *
 * It is here to be fuzzed (docs/byoa.md): examples/allocators/teach/ plugs it
 * into heaplab with one adapter file and one CMake line.
 *
 * THE PLANTED BUG (one, on purpose).  split() decides whether the rest of a
 * block is worth a block of its own by comparing it with the payload alone:
 *
 *     if (b->size < need + TEACH_ALIGN)                           (planted)
 *     if (b->size < need + sizeof(struct block) + TEACH_ALIGN)    (right)
 *
 * so when exactly 16 bytes are left over, the new 32-byte header is written
 * across the header of the next block, and its size wraps around.  Build with
 * -DTEACH_FIXED for the right comparison.
 */
#include "teach.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct block *heap_start, *heap_end;
int teach_verbose = 1;
static struct block *heap_last;   /* the last block in memory */

static size_t round_up(size_t n)
{
    return (n + TEACH_ALIGN - 1) & ~(size_t)(TEACH_ALIGN - 1);
}

static struct block *next_block(struct block *b)
{
    return (struct block *)((char *)(b + 1) + b->size);
}

static void *payload(struct block *b)
{
    return b + 1;
}

static void die(const char *what, void *p, struct block *b)
{
    printf("teach: %s(%p): not a block from this heap (magic %08x); giving up\n", what, p,
           b ? b->magic : 0u);
    exit(1);
}

/* The block a payload pointer belongs to; exits if it is not one of ours. */
static struct block *block_of(const char *what, void *p)
{
    if ((char *)p < (char *)(heap_start + 1) || (char *)p >= (char *)heap_end)
        die(what, p, NULL);
    struct block *b = (struct block *)p - 1;
    if (b->magic != TEACH_MAGIC_USED)
        die(what, p, b);
    return b;
}

/* --- growing the heap ----------------------------------------------------------------- */
static struct block *heap_init(void)
{
    char *brk0 = sbrk(0);
    size_t pad = (size_t)(-(uintptr_t)brk0 & (TEACH_ALIGN - 1));
    if (sbrk((intptr_t)(pad + TEACH_CHUNK)) == (void *)-1)
        return NULL;
    heap_start = heap_last = (struct block *)(brk0 + pad);
    heap_end = (struct block *)((char *)heap_start + TEACH_CHUNK);
    *heap_start = (struct block){ .size = TEACH_CHUNK - sizeof(struct block), .prev = NULL,
                                  .magic = TEACH_MAGIC_FREE, .free = 1 };
    return heap_start;
}

/* b swallows the block after it, when that one is free. */
static void merge_next(struct block *b)
{
    struct block *n = next_block(b);
    if (n >= heap_end || !n->free)
        return;
    b->size += sizeof(struct block) + n->size;
    n->magic = 0;
    if (heap_last == n)
        heap_last = b;
    else
        next_block(b)->prev = b;
}

static struct block *coalesce(struct block *b)
{
    merge_next(b);
    if (b->prev && b->prev->free) {
        b = b->prev;
        merge_next(b);
    }
    return b;
}

/* A new free block at the end of the heap, big enough for need bytes. */
static struct block *grow(size_t need)
{
    size_t bytes = (need + sizeof(struct block) + TEACH_CHUNK - 1) / TEACH_CHUNK * TEACH_CHUNK;
    size_t used = (size_t)((char *)heap_end - (char *)heap_start);
    if (bytes > TEACH_MAX_HEAP - used)
        return NULL;
    char *p = sbrk((intptr_t)bytes);
    if (p == (void *)-1)
        return NULL;
    if (p != (char *)heap_end) {   /* someone else moved the break */
        printf("teach: sbrk gave %p, but the heap ends at %p: the heap is not contiguous\n", (void *)p,
               (void *)heap_end);
        exit(1);
    }
    struct block *b = heap_end;
    *b = (struct block){ .size = bytes - sizeof(struct block), .prev = heap_last,
                         .magic = TEACH_MAGIC_FREE, .free = 1 };
    heap_end = (struct block *)(p + bytes);
    heap_last = b;
    return coalesce(b);
}

/* --- finding and splitting --------------------------------------------------------------- */
static struct block *first_fit(size_t need)
{
    for (struct block *b = heap_start; b < heap_end; b = next_block(b))
        if (b->free && b->size >= need)
            return b;
    return NULL;
}

/* Gives the bytes of b beyond need back as a free block of their own. */
static void split(struct block *b, size_t need)
{
#ifdef TEACH_FIXED
    if (b->size < need + sizeof(struct block) + TEACH_ALIGN)
        return;
#else
    if (b->size < need + TEACH_ALIGN)   /* THE PLANTED BUG: forgets the new header */
        return;
#endif
    struct block *rest = (struct block *)((char *)payload(b) + need);
    *rest = (struct block){ .size = b->size - need - sizeof(struct block), .prev = b,
                            .magic = TEACH_MAGIC_FREE, .free = 1 };
    b->size = need;
    if (heap_last == b)
        heap_last = rest;
    else
        next_block(rest)->prev = rest;
    merge_next(rest);
}

static int too_big(size_t size)
{
    if (size <= TEACH_MAX_HEAP)
        return 0;
    printf("teach: %zu bytes is more than the heap may ever hold\n", size);
    errno = ENOMEM;
    return 1;
}

/* --- the API ------------------------------------------------------------------------------- */
void *malloc(size_t size)
{
    if (too_big(size))
        return NULL;
    size_t need = round_up(size ? size : 1);
    if (!heap_start && !heap_init()) {
        errno = ENOMEM;
        return NULL;
    }
    struct block *b = first_fit(need);
    if (!b)
        b = grow(need);
    if (!b) {
        printf("teach: malloc(%zu): out of memory\n", size);
        errno = ENOMEM;
        return NULL;
    }
    split(b, need);
    b->free = 0;
    b->magic = TEACH_MAGIC_USED;
    if (teach_verbose)
        printf("teach: malloc(%zu) = %p\n", size, payload(b));
    return payload(b);
}

void free(void *ptr)
{
    if (!ptr)
        return;
    struct block *b = block_of("free", ptr);
    if (teach_verbose)
        printf("teach: free(%p) (%zu bytes)\n", ptr, b->size);
    b->free = 1;
    b->magic = TEACH_MAGIC_FREE;
    coalesce(b);
}

void *calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        printf("teach: calloc(%zu, %zu) overflows\n", count, size);
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *realloc(void *ptr, size_t size)
{
    if (!ptr)
        return malloc(size);
    struct block *b = block_of("realloc", ptr);
    if (too_big(size))
        return NULL;
    size_t need = round_up(size ? size : 1);
    if (teach_verbose)
        printf("teach: realloc(%p, %zu) (%zu bytes)\n", ptr, size, b->size);
    struct block *n = next_block(b);
    if (b->size < need && n < heap_end && n->free && b->size + sizeof(struct block) + n->size >= need)
        merge_next(b);   /* grow into the free block after it */
    if (b->size >= need) {
        split(b, need);
        return ptr;
    }
    void *q = malloc(size);
    if (!q)
        return NULL;
    memcpy(q, ptr, b->size);
    free(ptr);
    return q;
}
