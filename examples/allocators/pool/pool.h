/*
 * pool.h - a header-only pool allocator, the way small ones are shared: the
 * whole implementation in the header, its state in plain (non-static)
 * globals, sizes as int, errors handled with exit(1), and a message for
 * everything.  Include it in exactly one source file.
 *
 *   void *pool_alloc(int size);     8-byte aligned; exit(1) when the pool is full
 *   void  pool_release(void *p);    exit(1) on a pointer it did not hand out
 *
 * First fit over a free list in a static array; freed chunks are reused but
 * never merged.
 */
#ifndef POOL_H
#define POOL_H

#include <stdio.h>
#include <stdlib.h>

#define POOL_BYTES (1 << 20)
#define POOL_MAGIC 0x600D

struct pool_chunk {
    int size;                   /* payload bytes, a multiple of 8 */
    int magic;                  /* POOL_MAGIC while handed out */
    struct pool_chunk *next;    /* the free list, while free */
};

char pool_memory[POOL_BYTES] __attribute__((aligned(16)));
int pool_used;                  /* bytes of pool_memory carved so far */
struct pool_chunk *pool_free_list;
int pool_calls;

void *pool_alloc(int size)
{
    pool_calls++;
    if (size < 0) {
        printf("pool: negative size %d\n", size);
        exit(1);
    }
    int need = (size + 7) / 8 * 8;
    if (need == 0)
        need = 8;
    for (struct pool_chunk **pp = &pool_free_list; *pp; pp = &(*pp)->next) {
        struct pool_chunk *c = *pp;
        if (c->size >= need) {
            *pp = c->next;
            c->magic = POOL_MAGIC;
            printf("pool: alloc(%d) reuses %p\n", size, (void *)(c + 1));
            return c + 1;
        }
    }
    if (need > POOL_BYTES - pool_used - (int)sizeof(struct pool_chunk)) {
        printf("pool: alloc(%d): out of memory (%d of %d bytes used)\n", size, pool_used, POOL_BYTES);
        exit(1);
    }
    struct pool_chunk *c = (struct pool_chunk *)(pool_memory + pool_used);
    pool_used += (int)sizeof *c + need;
    c->size = need;
    c->magic = POOL_MAGIC;
    printf("pool: alloc(%d) = %p\n", size, (void *)(c + 1));
    return c + 1;
}

void pool_release(void *p)
{
    pool_calls++;
    if (!p)
        return;
    struct pool_chunk *c = (struct pool_chunk *)p - 1;
    if ((char *)c < pool_memory || (char *)c >= pool_memory + pool_used || c->magic != POOL_MAGIC) {
        printf("pool: release(%p): not a pool pointer\n", p);
        exit(1);
    }
    c->magic = 0;
    c->next = pool_free_list;
    pool_free_list = c;
    printf("pool: release(%p)\n", p);
}

#endif /* POOL_H */
