/*
 * hl_registry.h - the registry's lookup (src/registry.c explains the table),
 * inline: hl_free and the thread cache look a pointer up on every call, and a
 * call costs as much as the two loads.
 */
#ifndef HL_REGISTRY_H
#define HL_REGISTRY_H

#include "hl_internal.h"

#include <stdatomic.h>

enum { HL_REG_LEAF_BITS = 12, HL_REG_TOP_BITS = 47 - HL_SEGMENT_SHIFT - HL_REG_LEAF_BITS };

typedef _Atomic uintptr_t hl__reg_entry;
/* The table's top level, owned by registry.c (written there only). */
extern _Atomic(hl__reg_entry *) hl__registry_top[1u << HL_REG_TOP_BITS];

/* The entry of p's segment: its heap's address, | 1 for a large block's
 * mapping; 0 when no heap registered the segment (or p is outside 47 bits). */
static inline __attribute__((always_inline)) uintptr_t hl__registry_entry(const void *p) {
    uintptr_t addr = (uintptr_t)p;
    if (addr >> 47) return 0;
    uintptr_t seg = addr >> HL_SEGMENT_SHIFT;
    hl__reg_entry *lf = atomic_load_explicit(&hl__registry_top[seg >> HL_REG_LEAF_BITS], memory_order_acquire);
    if (!lf) return 0;
    return atomic_load_explicit(&lf[seg & ((1u << HL_REG_LEAF_BITS) - 1)], memory_order_acquire);
}

/* The heap whose segment holds p, or NULL; *large says whether the segment is
 * a large block's mapping. */
static inline __attribute__((always_inline)) struct hl_heap *hl__registry_lookup(const void *p, bool *large) {
    uintptr_t e = hl__registry_entry(p);
    *large = e & 1u;
    return (struct hl_heap *)(e & ~(uintptr_t)1);
}

#endif /* HL_REGISTRY_H */
