/*
 * check_memory.c - what the checker may read.
 *
 * Region and large-mapping headers are reached through links that a corrupted
 * heap may have pointed anywhere, so before the first read of such a header
 * the checker asks the kernel whether the pages are mapped.  mincore() fails
 * with ENOMEM exactly when part of the range is unmapped, and it reads
 * nothing at the address: msync(MS_ASYNC) answers the same question, but
 * Valgrind checks msync's range as memory the call reads and would report
 * every probe of an unmapped page as an error of ours.
 *
 * Mapped is not always readable: guard pages and ASan's shadow gap are
 * mapped PROT_NONE.  So the header at an unsealed link (the heads of the
 * region and large lists, which live in the heap header; every later link is
 * bound by its predecessor's seal) is first read through the kernel
 * (process_vm_readv on our own pid fails with EFAULT where a load would
 * fault, and Valgrind checks only the local buffer it writes); where that
 * call is not allowed (a seccomp filter), mincore's answer stands.
 *
 * Free-list links are cheaper to check: once the region pass has validated
 * the regions, a link is followed only if it lands inside one of them.
 */
#define _GNU_SOURCE  /* mincore, process_vm_readv */
#include "check_internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

bool hl__check_mapped(const hl_checker *c, const void *p, size_t len) {
    if (c->every_op)
        return true;   /* the allocator has just used these pointers itself: check.c */
    uintptr_t at = (uintptr_t)p & ~(uintptr_t)(c->page - 1);
    uintptr_t end = (uintptr_t)p + len;
    if (end < (uintptr_t)p)
        return false;
    unsigned char vec[256];                 /* one byte per page probed */
    size_t chunk = sizeof vec * c->page;    /* so one call never needs more */
    int saved = errno;
    bool mapped = true;
    while (at < end) {
        size_t span = end - at < chunk ? end - at : chunk;
        if (mincore((void *)at, span, vec) != 0 && errno == ENOMEM) {
            mapped = false;
            break;
        }
        at += span;
    }
    errno = saved;
    return mapped;
}

bool hl__check_readable(const hl_checker *c, const void *p, size_t len) {
    uintptr_t first = (uintptr_t)p, last = first + len - 1;
    if (len == 0 || last < first)
        return false;
    if (c->every_op)
        return true;   /* as in hl__check_mapped */
    unsigned char bytes[2];
    struct iovec local = { bytes, sizeof bytes };
    struct iovec remote[2] = { { (void *)first, 1 }, { (void *)last, 1 } };
    int saved = errno;
    ssize_t got = process_vm_readv(getpid(), &local, 1, remote, 2, 0);
    bool refused = got < 0 && (errno == ENOSYS || errno == EPERM || errno == EACCES);
    errno = saved;
    if (got != 2 && !refused)
        return false;
    /* the two ends say nothing about the pages between them */
    return hl__check_mapped(c, p, len);
}

const hl_region *hl__check_region_of(const hl_checker *c, const void *p, size_t len) {
    const hl_region *r = c->h->regions;
    for (size_t i = 0; i < c->nregions; i++, r = r->next) {
        uintptr_t lo = (uintptr_t)hl_region_first(r), hi = (uintptr_t)hl_region_epilogue(r);
        if (hl__check_within((uintptr_t)p, len, lo, hi))
            return r;
    }
    return NULL;
}

void hl__check_locate(hl_checker *c, const hl_region *r, const void *p) {
    hl__check_at(c, HL_AT_REGION, r, r, r->size);
    uintptr_t at = (uintptr_t)p, epi = (uintptr_t)hl_region_epilogue(r);
    const hl_block *prev = NULL;
    size_t steps = r->size / HL_MIN_BLOCK;
    for (const hl_block *b = hl_region_first(r); (uintptr_t)b < epi && steps--; b = hl_block_next(b)) {
        const hl_block *next = hl_block_next(b);
        if (at < (uintptr_t)next) {
            /* p starts b, or lies inside it (then b is the neighbour before) */
            c->prev = at == (uintptr_t)b ? prev : b;
            c->next = (uintptr_t)next < epi ? next : NULL;
            return;
        }
        prev = b;
    }
}
