/* heapwalk.c - see heapwalk.h. */
#include "heapwalk.h"

#include <stdint.h>
#include <string.h>

struct where_ctx {
    uintptr_t q, end;        /* [q, end) */
    fz_where *w;
};

static bool contains(const fz_walk_info *i, uintptr_t a)
{
    uintptr_t s = (uintptr_t)i->start;
    return a >= s && a - s < i->size;
}

static bool spans(const fz_walk_info *i, uintptr_t a, uintptr_t end)
{
    return contains(i, a) && end - (uintptr_t)i->start <= i->size;
}

static int where_one(const fz_walk_info *i, void *vctx)
{
    struct where_ctx *c = vctx;
    fz_where *w = c->w;
    if (i->kind == FZ_WALK_BLOCK && !i->used) {
        w->free_blocks++;
        if (i->usable > w->largest_free)
            w->largest_free = i->usable;
    }
    if (!c->q)
        return 0;
    if (i->kind == FZ_WALK_REGION && spans(i, c->q, c->end))
        w->in_region = true;
    if (i->kind == FZ_WALK_LARGE && spans(i, c->q, c->end))
        w->in_large = true;
    if (i->kind != FZ_WALK_REGION && contains(i, c->q)) {
        w->found = true;
        w->block = *i;
    }
    return 0;
}

void fz_where_is(const fz_adapter *ad, void *heap, const void *q, size_t len, fz_where *w)
{
    memset(w, 0, sizeof *w);
    if (!ad->walk) {
        w->status = -2;
        return;
    }
    struct where_ctx c = { (uintptr_t)q, (uintptr_t)q + (len ? len : 1), w };
    if (ad->walk(heap, where_one, &c) < 0)
        w->status = -1;
}
