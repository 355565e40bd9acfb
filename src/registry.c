/*
 * registry.c - which global heap owns a segment of the address space.
 *
 * Global heaps take regions and large mappings in whole HL_SEGMENT-aligned
 * segments and register each segment here, tagged region or large.  The
 * owner of any pointer is then two loads away, and a pointer heaplab never
 * returned is recognised without reading a byte of the memory it points to.
 *
 * A two-level table over 47-bit user addresses: 2^13 leaves of 2^12 entries,
 * each leaf mapped the first time a segment in its range is registered.
 * Entries are atomics: a thread may look a pointer up while another thread
 * registers a new segment of its own.
 */
#include "hl_core.h"
#include "hl_global.h"
#include "hl_registry.h"

#include <sys/mman.h>

enum { LEAF_BITS = HL_REG_LEAF_BITS };

typedef hl__reg_entry entry;
_Atomic(entry *) hl__registry_top[1u << HL_REG_TOP_BITS];

static bool index_of(uintptr_t addr, size_t *t, size_t *l) {
    if (addr >> 47) return false;
    uintptr_t seg = addr >> HL_SEGMENT_SHIFT;
    *t = seg >> LEAF_BITS;
    *l = seg & ((1u << LEAF_BITS) - 1);
    return true;
}

static entry *leaf(size_t t, bool create) {
    entry *lf = atomic_load_explicit(&hl__registry_top[t], memory_order_acquire);
    if (lf || !create) return lf;
    entry *fresh = hl__map(sizeof(entry) << LEAF_BITS);
    if (!fresh) return NULL;
    if (!atomic_compare_exchange_strong(&hl__registry_top[t], &lf, fresh)) {
        hl__unmap(fresh, sizeof(entry) << LEAF_BITS);   /* another thread won; use its leaf */
        return lf;
    }
    return fresh;
}

static bool set_range(const void *base, size_t size, uintptr_t value) {
    for (uintptr_t a = (uintptr_t)base; a < (uintptr_t)base + size; a += HL_SEGMENT) {
        size_t t, l;
        if (!index_of(a, &t, &l)) return false;
        entry *lf = leaf(t, value != 0);
        if (!lf) {
            if (value) return false;
            continue;   /* clearing: a leaf never made holds nothing */
        }
        atomic_store_explicit(&lf[l], value, memory_order_release);
    }
    return true;
}

bool hl__registry_add(const void *base, size_t size, hl_heap *h, bool large) {
    if (set_range(base, size, (uintptr_t)h | (large ? 1u : 0u))) return true;
    set_range(base, size, 0);
    return false;
}

void hl__registry_remove(const void *base, size_t size) { set_range(base, size, 0); }

hl_heap *hl__registry_owner(const void *p, bool *large) { return hl__registry_lookup(p, large); }
