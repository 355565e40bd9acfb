/*
 * byoa.h - bring your own allocator: what a user's adapter file includes.
 *
 * An adapter fills one `const fz_adapter` table (adapter.h) for the user's
 * allocator and declares what it promises (fz_claims); the CMake line
 *
 *     heaplab_add_allocator(NAME myalloc SOURCES myalloc.c my_adapter.c)
 *
 * builds fuzz_heap_myalloc (libFuzzer or AFL++), fuzz_heap_myalloc_replay and
 * hl-trace-myalloc around it (fuzz/byoa.cmake; docs/byoa.md is the guide).
 * The table must be named fz_adapter_<NAME> unless the CMake line says ADAPTER.
 *
 * What the table needs from an allocator with one global heap:
 *   create()   fills the claims and returns any non-NULL pointer
 *              (byoa_global_heap()); it may reset the allocator when the
 *              allocator has a way to, which is what in-process mode needs.
 *              The default fork mode gives every input a fresh process, so
 *              global state that cannot be reset is fine.
 *   destroy()  may do nothing: the child process ends after each input.
 *   malloc, free, realloc, calloc: the allocator's own, with sizes converted
 *              (an int API claims max_request = BYOA_INT_MAX_REQUEST and casts).
 *   the rest is optional: a walk makes the placement, misuse and coalescing
 *              rules precise; stats enable the stats rule; check runs the
 *              allocator's own checker.
 */
#ifndef BYOA_H
#define BYOA_H

#include "adapter.h"

#include <limits.h>
#include <stdint.h>

/* The largest request an API taking `int` sizes can be given. */
#define BYOA_INT_MAX_REQUEST ((size_t)INT_MAX)

/* Claims for an allocator with one heap of its own making (it ignores the
 * input header's configuration), that neither grows under a cap nor hands
 * large requests to mappings of their own: the flags, the alignment it
 * promises (8 or 16), everything else "none". */
static inline void byoa_claims(fz_claims *cl, unsigned flags, size_t min_align)
{
    *cl = (fz_claims){
        .flags = flags | FZ_CLAIM_OWN_CONFIG, .min_align = min_align,
        .large_threshold = SIZE_MAX,   /* no request gets a mapping of its own */
        .grow_size = 0, .max_bytes = 0, .max_request = 0,
    };
}

/* A heap handle for create() to return when the allocator has one global heap. */
static inline void *byoa_global_heap(void)
{
    static char token;
    return &token;
}

#endif /* BYOA_H */
