/*
 * heapmap.c - the text heap map hl-trace replay prints: the blocks around an
 * address, each with its offset in its region, state, size, payload, the
 * size requested and the oracle slot that holds it.
 */
#include "replay.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct map_entry {
    fz_walk_info info;
    const void *region;      /* the region a block lies in (NULL for mappings) */
} map_entry;

typedef struct map_list {
    map_entry *e;
    size_t n, cap;
    const void *region;
    bool oom;
} map_list;

static int collect(const fz_walk_info *w, void *ctx)
{
    map_list *l = ctx;
    if (w->kind == FZ_WALK_REGION)
        l->region = w->start;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        map_entry *grown = realloc(l->e, cap * sizeof *grown);
        if (!grown) {
            l->oom = true;
            return 1;
        }
        l->e = grown;
        l->cap = cap;
    }
    l->e[l->n++] = (map_entry){ *w, w->kind == FZ_WALK_BLOCK ? l->region : NULL };
    return 0;
}

static bool holds(const fz_walk_info *w, const void *addr)
{
    uintptr_t a = (uintptr_t)addr, s = (uintptr_t)w->start;
    return addr && w->kind != FZ_WALK_REGION && a >= s && a - s < w->size;
}

static void print_entry(const hl_replay *r, const map_entry *m, const void *addr, FILE *out)
{
    const fz_walk_info *w = &m->info;
    const char *mark = holds(w, addr) ? ">>" : "  ";
    if (w->kind == FZ_WALK_REGION) {
        fprintf(out, "   region %p: %zu bytes\n", w->start, w->size);
        return;
    }
    int slot = w->used ? fz_oracle_slot_of(r->oracle, w->payload) : -1;
    char who[24] = "";
    if (slot >= 0)
        snprintf(who, sizeof who, "  slot s%d", slot);
    if (w->kind == FZ_WALK_LARGE) {
        fprintf(out, "%s large mapping %p: %zu B, payload %p, usable %zu, requested %zu%s\n", mark,
                w->start, w->size, w->payload, w->usable, w->requested, who);
        return;
    }
    fprintf(out, "%s   +0x%06zx  %s %8zu B  payload %p  usable %zu", mark,
            (size_t)((const char *)w->start - (const char *)m->region), w->used ? "used" : "free",
            w->size, w->payload, w->usable);
    if (w->used)
        fprintf(out, "  requested %zu%s", w->requested, who);
    fputc('\n', out);
}

void hl_replay_print_map(const hl_replay *r, const void *addr, unsigned radius, FILE *out)
{
    if (!r->open || !r->ad->walk) {
        fprintf(out, "heap map: not available\n");
        return;
    }
    map_list l = { 0 };
    int rc = r->ad->walk(r->oracle->heap, collect, &l);
    size_t at = SIZE_MAX;
    for (size_t i = 0; i < l.n && at == SIZE_MAX; i++)
        if (holds(&l.e[i].info, addr))
            at = i;
    size_t lo = 0, hi = l.n;
    if (at != SIZE_MAX) {
        lo = at > radius ? at - radius : 0;
        hi = at + radius + 1 < l.n ? at + radius + 1 : l.n;
        fprintf(out, "heap map around %p (%zu of %zu entries):\n", addr, hi - lo, l.n);
    } else {
        fprintf(out, "heap map (%zu entries)%s:\n", l.n, addr ? ", no block holds the address" : "");
    }
    /* name the region of the first block shown */
    if (lo < l.n && l.e[lo].info.kind == FZ_WALK_BLOCK && l.e[lo].region)
        fprintf(out, "   region %p ...\n", l.e[lo].region);
    for (size_t i = lo; i < hi; i++)
        print_entry(r, &l.e[i], addr, out);
    if (rc < 0)
        fprintf(out, "   (the walk stopped at a corrupted block)\n");
    free(l.e);
}
