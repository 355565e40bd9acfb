/*
 * svg.h - a heap's block map as an SVG picture, for a person to look at
 * (hl-trace svg).
 *
 * The picture: a title line (the operation and the broken rule), a legend,
 * then one band per region, wrapped into rows, its blocks drawn left to right
 * as rectangles proportional to their size (with a minimum width so that small
 * blocks stay visible): the 16-byte header and 8-byte footer as thin dark
 * strips, the payload in blue up to the size requested and amber for the slack
 * after it (the canary in checked builds), free blocks pale green, region
 * metadata grey.  Large mappings get a band of their own.  The offending block
 * has a thick red outline and a label.  A walk that stopped at a corrupted
 * block shows what it walked, the rest of that region hatched as "not
 * walked", and says so.
 *
 * How hl_trace.c uses it: `hl-trace svg INPUT [-o OUT.svg]` loads and runs the
 * input (hl_replay_load_file, hl_replay_run up to the first violation) and then
 * calls hl_trace_svg(&replay, out), declared in replay.h and defined in svg.c;
 * the title is the violation ("op #N <op>: rule <rule>"), the highlighted block
 * the one the violation names.  CMake adds svg.c to hl-trace and defines
 * HL_TRACE_HAVE_SVG when this file exists.
 *
 * Everything is computed from the public walk (hl_heap_walk, or an adapter's
 * walk): nothing here knows heaplab's private layout beyond the public sizes
 * of a block header (16) and footer (8).
 */
#ifndef HLT_SVG_H
#define HLT_SVG_H

#include <heaplab.h>
#include <stddef.h>
#include <stdio.h>

/* One thing the walk reported, and the fuzz slot holding it (-1: none). */
typedef struct hlt_svg_item {
    hl_walk_info w;
    int slot;
} hlt_svg_item;

/* What to draw: the walk's items in walk order (regions, each followed by its
 * blocks, then large mappings), what the walk returned (-1: it stopped at a
 * corrupted block), the address to highlight (a block's header or payload or
 * any byte in it; NULL for none), a title and an optional second line. */
typedef struct hlt_svg_picture {
    const hlt_svg_item *items;
    size_t nitems;
    int walk_rc;
    const void *highlight;
    const char *title;
    const char *subtitle;
} hlt_svg_picture;

/* Draws an explicit heap: walks h itself.  0, or -1 on an output error. */
int hlt_svg_write(FILE *out, const hl_heap *h, const void *highlight, const char *title);

/* Draws a picture collected by the caller (hl_trace_svg collects through the
 * fuzz adapter, with slots).  0, or -1 on an output error. */
int hlt_svg_write_picture(FILE *out, const hlt_svg_picture *pic);

#endif /* HLT_SVG_H */
