/*
 * heapwalk.h - questions the oracle asks of an adapter's walk: which block
 * holds an address, which region, and how big the largest free block is.
 */
#ifndef FZ_HEAPWALK_H
#define FZ_HEAPWALK_H

#include "adapter.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct fz_where {
    int status;              /* 0, or -1: the walk could not go on (-2: no walk) */
    bool in_region;          /* [q, q + len) lies inside one region ... */
    bool in_large;           /* ... or inside one large mapping */
    bool found;              /* a block or mapping contains q: */
    fz_walk_info block;      /* that block (kind FZ_WALK_BLOCK or FZ_WALK_LARGE) */
    size_t largest_free;     /* usable bytes of the largest free block */
    size_t free_blocks;
} fz_where;

/* Walks the whole heap once and answers for [q, q + len) (q may be NULL). */
void fz_where_is(const fz_adapter *ad, void *heap, const void *q, size_t len, fz_where *w);

#endif /* FZ_HEAPWALK_H */
