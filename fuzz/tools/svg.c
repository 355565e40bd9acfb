/*
 * svg.c - the block map as SVG (see svg.h).
 *
 * Layout: each band (a region, or all large mappings) is a strip of memory in
 * address order, laid out on one long virtual line and wrapped into rows of
 * ROW_W pixels, like text.  A block takes max(MIN_BLOCK_W, size * scale)
 * pixels, split into segments (metadata, header, payload, slack, footer) in
 * proportion to their bytes, with minimum widths for the thin strips.  Every
 * region shares one scale so their blocks compare; the large band has its own.
 * The same walk over the pieces computes the widths (to size the picture)
 * and then draws them, so the two passes cannot disagree.
 */
#include "svg.h"
#include "replay.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { HEADER_BYTES = 16, FOOTER_BYTES = 8 };   /* public block layout (heaplab.h) */

#define PIC_W 1200.0
#define MARGIN 20.0
#define ROW_W (PIC_W - 2 * MARGIN)
#define ROW_H 26.0
#define ROW_GAP 6.0
#define LINE_H 16.0
#define MIN_BLOCK_W 6.0
#define TARGET_ROWS 4.0        /* the largest region fills about this many rows */
#define MAX_ROWS 60u           /* per band; beyond, the band is cut short */
#define SUB_CHARS 160          /* characters per subtitle line */
#define SUB_LINES 3u

#define C_PAYLOAD "#4c8bd6"
#define C_SLACK "#f2b84b"
#define C_FREE "#cfe8c9"
#define C_META "#2b2b2b"
#define C_REGION_META "#8a8a8a"
#define C_UNWALKED "url(#unwalked)"
#define C_MARK "#d0021b"

typedef struct band {
    const hlt_svg_item *region;   /* NULL: the band of large mappings */
    size_t first, count;          /* its blocks or mappings in the item list */
    double scale;                 /* pixels per byte */
    double width;                 /* virtual width (all rows end to end) */
    double y;                     /* top of the first row */
    unsigned rows;
    bool stopped;                 /* the walk stopped in this band */
    bool marked;                  /* the highlighted block is in this band */
} band;

typedef struct svg {
    FILE *out;
    const hlt_svg_picture *pic;
    band *bands;
    size_t nbands;
    const hlt_svg_item *mark;     /* the item holding pic->highlight, or NULL */
    double height;
    unsigned sub_lines;           /* subtitle lines shown */
    bool draw;                    /* false: measuring only */
    const band *cur;
    double x;                     /* virtual position in the current band */
    double mark_x, mark_w;        /* where layout_band put the highlighted block */
    bool gap_mark;                /* the highlight lies between walked blocks ... */
    bool gap_unwalked;            /* ... in the part the walk did not reach */
} svg;

/* --- output helpers ------------------------------------------------------------------ */
static void text_escaped(FILE *out, const char *s, size_t max)
{
    for (size_t i = 0; s && s[i] && i < max; i++) {
        switch (s[i]) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            /* control bytes are not allowed in XML 1.0 text */
            fputc((unsigned char)s[i] < 0x20 ? ' ' : s[i], out);
        }
    }
    if (s && strlen(s) > max)
        fputs("...", out);
}

static void text_at(FILE *out, double x, double y, const char *attrs, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void text_at(FILE *out, double x, double y, const char *attrs, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
    text_escaped(out, buf, 400);
    fputs("</text>\n", out);
}

/* "48 B", "4.0 KiB", "1.5 MiB" */
static const char *human(size_t n, char *buf, size_t len)
{
    if (n < 10240)
        snprintf(buf, len, "%zu B", n);
    else if (n < ((size_t)10 << 20))
        snprintf(buf, len, "%.1f KiB", (double)n / 1024);
    else
        snprintf(buf, len, "%.1f MiB", (double)n / (1024 * 1024));
    return buf;
}

/* --- spans: virtual line to wrapped rows ------------------------------------------------ */
static double row_y(const band *b, unsigned row) { return b->y + row * (ROW_H + ROW_GAP); }

/* Draws [vx, vx + w) of the current band's line, split at row ends.  fill
 * NULL with a stroke draws outlines (the highlight, block separators). */
static void span(svg *s, double vx, double w, const char *fill, const char *stroke, double stroke_w)
{
    while (w > 1e-6) {
        unsigned row = (unsigned)(vx / ROW_W);
        double x = vx - row * ROW_W;
        if (ROW_W - x < 1e-6) {   /* exactly at a row end */
            vx = (row + 1) * ROW_W;
            continue;
        }
        double piece = w < ROW_W - x ? w : ROW_W - x;
        if (row < MAX_ROWS) {
            fprintf(s->out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"",
                    MARGIN + x, row_y(s->cur, row), piece, ROW_H, fill ? fill : "none");
            if (stroke)
                fprintf(s->out, " stroke=\"%s\" stroke-width=\"%.1f\"", stroke, stroke_w);
            fputs("/>\n", s->out);
        }
        vx += piece;
        w -= piece;
    }
}

/* --- pieces of a band ----------------------------------------------------------------------- */
typedef struct segment {
    size_t bytes;
    const char *fill;
    double min_w;
} segment;

/* Widths for the segments of one block drawn `total` pixels wide: the thin
 * strips (with a minimum width) first, the rest in proportion to bytes. */
static void segment_widths(const segment *seg, size_t n, double total, double scale, double *w)
{
    double fixed = 0, flexible_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (seg[i].min_w > 0) {
            w[i] = seg[i].bytes ? (seg[i].bytes * scale > seg[i].min_w ? seg[i].bytes * scale : seg[i].min_w) : 0;
            fixed += w[i];
        } else {
            flexible_bytes += (double)seg[i].bytes;
        }
    }
    double shrink = fixed > total * 0.6 ? total * 0.6 / fixed : 1.0;
    double rest = total - fixed * shrink;
    for (size_t i = 0; i < n; i++)
        w[i] = seg[i].min_w > 0 ? w[i] * shrink : flexible_bytes > 0 ? rest * (double)seg[i].bytes / flexible_bytes : 0;
}

static double block_width(const band *b, size_t size)
{
    double w = (double)size * b->scale;
    return w > MIN_BLOCK_W ? w : MIN_BLOCK_W;
}

static void block_tooltip(svg *s, const hlt_svg_item *it)
{
    const hl_walk_info *w = &it->w;
    char buf[300];
    if (w->kind == HL_WALK_LARGE)
        snprintf(buf, sizeof buf, "large mapping %p: %zu bytes, payload %p, usable %zu, requested %zu",
                 w->start, w->size, w->payload, w->usable, w->requested);
    else if (w->used)
        snprintf(buf, sizeof buf, "used block %p: %zu bytes, payload %p, usable %zu, requested %zu",
                 w->start, w->size, w->payload, w->usable, w->requested);
    else
        snprintf(buf, sizeof buf, "free block %p: %zu bytes, payload %p, usable %zu", w->start, w->size,
                 w->payload, w->usable);
    fputs("<title>", s->out);
    text_escaped(s->out, buf, sizeof buf);
    if (it->slot >= 0)
        fprintf(s->out, ", slot s%d", it->slot);
    fputs("</title>", s->out);
}

/* A label inside the block's first row piece, when there is room for it. */
static void block_label(svg *s, const hlt_svg_item *it, double vx, double w)
{
    char label[32] = "", size[24];
    if (it->slot >= 0)
        snprintf(label, sizeof label, "s%d", it->slot);
    else if (!it->w.used)
        snprintf(label, sizeof label, "%s", human(it->w.size, size, sizeof size));
    unsigned row = (unsigned)(vx / ROW_W);
    double x = vx - row * ROW_W, room = ROW_W - x < w ? ROW_W - x : w;
    if (!label[0] || row >= MAX_ROWS || room < 7.0 * (double)strlen(label) + 6)
        return;
    text_at(s->out, MARGIN + x + room / 2, row_y(s->cur, row) + ROW_H / 2 + 4,
            it->w.used ? "font-size=\"10\" text-anchor=\"middle\" fill=\"#fff\"" :
                         "font-size=\"10\" text-anchor=\"middle\" fill=\"#3c6e34\"", "%s", label);
}

/* One block or mapping at the current position. */
static void piece_block(svg *s, const hlt_svg_item *it)
{
    const hl_walk_info *w = &it->w;
    double total = block_width(s->cur, w->size);
    if (it == s->mark) {
        s->mark_x = s->x;
        s->mark_w = total;
    }
    if (s->draw) {
        size_t meta = w->kind == HL_WALK_LARGE
            ? (size_t)((const char *)w->payload - (const char *)w->start) - HEADER_BYTES : 0;
        size_t req = w->used && w->requested <= w->usable ? w->requested : 0;
        segment seg[5] = {
            { meta, C_REGION_META, 1.5 },
            { HEADER_BYTES, C_META, 1.5 },
            { w->used ? req : w->usable, w->used ? C_PAYLOAD : C_FREE, 0 },
            { w->used ? w->usable - req : 0, C_SLACK, 0 },
            { FOOTER_BYTES, C_META, 1.0 },
        };
        double sw[5], x = s->x;
        segment_widths(seg, 5, total, s->cur->scale, sw);
        fputs("<g>", s->out);
        block_tooltip(s, it);
        fputc('\n', s->out);
        for (size_t i = 0; i < 5; i++) {
            if (sw[i] > 0)
                span(s, x, sw[i], seg[i].fill, NULL, 0);
            x += sw[i];
        }
        span(s, s->x, total, NULL, "#ffffff", 0.6);   /* separates neighbours */
        block_label(s, it, s->x, total);
        fputs("</g>\n", s->out);
    }
    s->x += total;
}

/* Bytes between walked blocks: region header, epilogue, or not walked.  A
 * highlighted address in them gets a thin marker at its place. */
static void piece_gap(svg *s, const char *start, size_t bytes, bool unwalked)
{
    if (!bytes)
        return;
    double w = (double)bytes * s->cur->scale;
    if (w < 2.0)
        w = 2.0;
    if (unwalked && w < 60.0)
        w = 60.0;   /* the part the walk could not reach stays visible */
    const char *hl = s->pic->highlight;
    if (!s->mark && hl && hl >= start && (size_t)(hl - start) < bytes) {
        s->gap_mark = true;
        s->gap_unwalked = unwalked;
        s->mark_x = s->x + w * (double)(size_t)(hl - start) / (double)bytes;
        s->mark_w = 3.0;
        if (s->mark_x + s->mark_w > s->x + w)
            s->mark_x = s->x + w - s->mark_w;
    }
    if (s->draw)
        span(s, s->x, w, unwalked ? C_UNWALKED : C_REGION_META, NULL, 0);
    s->x += w;
}

/* Lays out (and, when s->draw, draws) the pieces of band b. */
static void layout_band(svg *s, band *b)
{
    s->cur = b;
    s->x = 0;
    const hlt_svg_item *items = s->pic->items;
    const char *cursor = b->region ? (const char *)b->region->w.start : NULL;
    for (size_t i = b->first; i < b->first + b->count; i++) {
        const char *start = items[i].w.start;
        if (b->region && start > cursor)
            piece_gap(s, cursor, (size_t)(start - cursor), false);
        piece_block(s, &items[i]);
        cursor = start + items[i].w.size;
    }
    if (b->region) {
        const char *end = (const char *)b->region->w.start + b->region->w.size;
        if (end > cursor)
            piece_gap(s, cursor, (size_t)(end - cursor), b->stopped);
    }
    b->width = s->x;
    unsigned rows = (unsigned)((b->width - 1e-6) / ROW_W) + 1;
    b->rows = rows < MAX_ROWS ? rows : MAX_ROWS;
}

/* --- bands ---------------------------------------------------------------------------------- */
static bool holds(const hl_walk_info *w, const void *addr)
{
    uintptr_t a = (uintptr_t)addr, s = (uintptr_t)w->start;
    return addr && w->kind != HL_WALK_REGION && a >= s && a - s < w->size;
}

static bool holds_region(const hl_walk_info *w, const void *addr)
{
    uintptr_t a = (uintptr_t)addr, s = (uintptr_t)w->start;
    return addr && a >= s && a - s < w->size;
}

/* Splits the items into bands and picks the scales. */
static int make_bands(svg *s)
{
    const hlt_svg_picture *p = s->pic;
    s->bands = calloc(p->nitems + 1, sizeof *s->bands);
    if (!s->bands)
        return -1;
    band *large = NULL;
    size_t max_region = 1, large_bytes = 0;
    for (size_t i = 0; i < p->nitems; i++) {
        const hl_walk_info *w = &p->items[i].w;
        if (holds(w, p->highlight) && !s->mark)
            s->mark = &p->items[i];
        if (w->kind == HL_WALK_REGION) {
            s->bands[s->nbands++] = (band){ .region = &p->items[i], .first = i + 1 };
            if (w->size > max_region)
                max_region = w->size;
        } else if (w->kind == HL_WALK_BLOCK && s->nbands && s->bands[s->nbands - 1].region) {
            s->bands[s->nbands - 1].count++;
        } else if (w->kind == HL_WALK_LARGE) {
            if (!large) {
                large = &s->bands[s->nbands++];
                *large = (band){ .region = NULL, .first = i };
            }
            large->count++;
            large_bytes += w->size;
        }
    }
    double region_scale = TARGET_ROWS * ROW_W / (double)max_region;
    for (size_t i = 0; i < s->nbands; i++) {
        band *b = &s->bands[i];
        b->scale = b->region ? region_scale : TARGET_ROWS * ROW_W / (double)(large_bytes ? large_bytes : 1);
        if (b->scale > 1.0)
            b->scale = 1.0;
        b->marked = s->mark ? s->mark >= p->items + b->first && s->mark < p->items + b->first + b->count
                            : b->region && holds_region(&b->region->w, p->highlight);
    }
    /* a stopped walk: the last region band is where it stopped, unless
     * mappings were reached (then the mapping list is what stopped it) */
    if (p->walk_rc < 0 && s->nbands)
        s->bands[s->nbands - 1].stopped = true;
    return 0;
}

static double band_height(const band *b)
{
    return LINE_H + 4 + b->rows * (ROW_H + ROW_GAP) + (b->marked ? LINE_H : 0) + (b->stopped ? LINE_H : 0) + 12;
}

/* --- the frame: title, legend, captions -------------------------------------------------------- */
static void legend_item(FILE *out, double *x, double y, const char *fill, const char *stroke, const char *label)
{
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"12\" fill=\"%s\"%s%s%s/>\n", *x, y - 10, fill,
            stroke ? " stroke=\"" : "", stroke ? stroke : "", stroke ? "\" stroke-width=\"3\"" : "");
    text_at(out, *x + 24, y, "font-size=\"12\"", "%s", label);
    *x += 30 + 7.0 * (double)strlen(label);
}

/* Characters of s that fit a line of `max`: up to the last space if there is
 * one late enough, so words are not cut. */
static size_t wrap_at(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return len;
    for (size_t i = max; i > max * 3 / 5; i--)
        if (s[i] == ' ')
            return i;
    return max;
}

static double legend_y(const svg *s) { return 48 + 15.0 * s->sub_lines + 14; }

static void draw_frame(svg *s)
{
    FILE *out = s->out;
    const hlt_svg_picture *p = s->pic;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
            PIC_W, s->height, PIC_W, s->height);
    fputs("<defs><pattern id=\"unwalked\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#f6d5d5\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#d0021b\" stroke-width=\"2\"/></pattern></defs>\n", out);
    fprintf(out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", PIC_W, s->height);
    text_at(out, MARGIN, 28, "font-size=\"17\" font-weight=\"bold\"", "%s", p->title ? p->title : "heap map");
    const char *rest = p->subtitle;
    for (unsigned i = 0; i < s->sub_lines && rest && *rest; i++) {
        size_t cut = wrap_at(rest, SUB_CHARS);
        bool more = rest[cut] && i + 1 == s->sub_lines;
        text_at(out, MARGIN, 48 + 15.0 * i, "font-size=\"12\" fill=\"#444\"", "%.*s%s", (int)cut, rest,
                more ? " ..." : "");
        rest += cut;
        while (*rest == ' ')
            rest++;
    }
    double x = MARGIN, y = legend_y(s);
    legend_item(out, &x, y, C_PAYLOAD, NULL, "payload (requested)");
    legend_item(out, &x, y, C_SLACK, NULL, "slack / canary");
    legend_item(out, &x, y, C_FREE, NULL, "free");
    legend_item(out, &x, y, C_META, NULL, "header / footer");
    legend_item(out, &x, y, C_REGION_META, NULL, "region / mapping metadata");
    if (p->walk_rc < 0)
        legend_item(out, &x, y, C_UNWALKED, NULL, "not walked");
    if (p->highlight)
        legend_item(out, &x, y, "none", C_MARK, "offending block");
}

static void band_caption(svg *s, const band *b, size_t index)
{
    char a[24], c[24];
    size_t used = 0, free_blocks = 0, bytes = 0;
    for (size_t i = b->first; i < b->first + b->count; i++) {
        const hl_walk_info *w = &s->pic->items[i].w;
        used += w->used ? 1 : 0;
        free_blocks += w->used ? 0 : 1;
        bytes += w->size;
    }
    double y = b->y - 8;
    if (b->region)
        text_at(s->out, MARGIN, y, "font-size=\"12\" font-weight=\"bold\"",
                "region %zu at %p: %s, %zu used and %zu free blocks   (1 px = %.0f bytes)", index,
                b->region->w.start, human(b->region->w.size, a, sizeof a), used, free_blocks, 1.0 / b->scale);
    else
        text_at(s->out, MARGIN, y, "font-size=\"12\" font-weight=\"bold\"",
                "large mappings: %zu, %s in all   (1 px = %.0f bytes)", b->count, human(bytes, c, sizeof c),
                1.0 / b->scale);
}

static void mark_caption(svg *s, const band *b, double y)
{
    const hlt_svg_item *m = s->mark;
    if (!m) {
        text_at(s->out, MARGIN, y, "font-size=\"12\" fill=\"" C_MARK "\" font-weight=\"bold\"",
                "offending address %p (region +0x%zx): %s", s->pic->highlight,
                (size_t)((const char *)s->pic->highlight - (const char *)b->region->w.start),
                s->gap_unwalked ? "in the part of the region the walk could not reach (a corrupted header)"
                                : "in region metadata, not in a block");
        return;
    }
    const hl_walk_info *w = &m->w;
    char slot[24] = "", off[40] = "";
    if (m->slot >= 0)
        snprintf(slot, sizeof slot, ", slot s%d", m->slot);
    if (b->region)
        snprintf(off, sizeof off, " at +0x%zx", (size_t)((const char *)w->start - (const char *)b->region->w.start));
    text_at(s->out, MARGIN, y, "font-size=\"12\" fill=\"" C_MARK "\" font-weight=\"bold\"",
            "offending %s%s (%p): %zu bytes, payload %p, usable %zu%s%zu%s (highlight %p)",
            w->kind == HL_WALK_LARGE ? "large mapping" : w->used ? "used block" : "free block", off, w->start,
            w->size, w->payload, w->usable, w->used ? ", requested " : "", w->used ? w->requested : 0, slot,
            s->pic->highlight);
}

/* The highlighted block's outline, on top of everything in its band. */
static void draw_mark(svg *s, band *b)
{
    s->cur = b;
    if (s->gap_mark)
        span(s, s->mark_x, s->mark_w, C_MARK, NULL, 0);
    else
        span(s, s->mark_x, s->mark_w, NULL, C_MARK, 3.0);
}

static void draw_bands(svg *s)
{
    size_t region_index = 0;
    for (size_t i = 0; i < s->nbands; i++) {
        band *b = &s->bands[i];
        band_caption(s, b, region_index);
        region_index += b->region ? 1 : 0;
        s->draw = true;
        layout_band(s, b);
        double y = row_y(b, b->rows) + 12;
        if (b->marked) {
            draw_mark(s, b);
            mark_caption(s, b, y);
            y += LINE_H;
        }
        if (b->stopped)
            text_at(s->out, MARGIN, y, "font-size=\"12\" fill=\"" C_MARK "\" font-weight=\"bold\"",
                    "walk stopped: %s; what follows it is not drawn",
                    b->region ? "a block header in this region failed its check"
                              : "the list of large mappings is corrupted");
        if ((unsigned)((b->width - 1e-6) / ROW_W) + 1 > MAX_ROWS)
            text_at(s->out, PIC_W - MARGIN, b->y - 8, "font-size=\"12\" text-anchor=\"end\" fill=\"#a00\"",
                    "(cut short after %u rows)", MAX_ROWS);
    }
}

static void draw_footer(svg *s)
{
    const hlt_svg_picture *p = s->pic;
    size_t regions = 0, blocks = 0, free_blocks = 0, large = 0;
    for (size_t i = 0; i < p->nitems; i++) {
        const hl_walk_info *w = &p->items[i].w;
        regions += w->kind == HL_WALK_REGION;
        blocks += w->kind == HL_WALK_BLOCK;
        free_blocks += w->kind == HL_WALK_BLOCK && !w->used;
        large += w->kind == HL_WALK_LARGE;
    }
    double y = s->height - 14;
    char where[80] = "";
    if (p->highlight && !s->mark && !s->gap_mark)
        snprintf(where, sizeof where, "; the highlighted address %p lies in no walked block", p->highlight);
    text_at(s->out, MARGIN, y, "font-size=\"11\" fill=\"#555\"", "%zu regions, %zu blocks (%zu free), %zu large mappings; %s%s",
            regions, blocks, free_blocks, large,
            p->walk_rc < 0 ? (p->walk_rc == -2 ? "no walk available" : "the walk stopped at a corrupted block")
                           : "walk complete", where);
}

int hlt_svg_write_picture(FILE *out, const hlt_svg_picture *pic)
{
    svg s = { .out = out, .pic = pic };
    if (make_bands(&s) != 0)
        return -1;
    /* measure: band positions and the picture's height */
    s.sub_lines = 0;
    for (const char *rest = pic->subtitle; rest && *rest && s.sub_lines < SUB_LINES; s.sub_lines++) {
        rest += wrap_at(rest, SUB_CHARS);
        while (*rest == ' ')
            rest++;
    }
    double top = legend_y(&s) + 20, y = top + 20;
    s.draw = false;
    for (size_t i = 0; i < s.nbands; i++) {
        s.bands[i].y = y + LINE_H;
        layout_band(&s, &s.bands[i]);
        y += band_height(&s.bands[i]);
    }
    s.height = y + 30;
    if (!s.nbands)
        s.height += 20;
    draw_frame(&s);
    draw_bands(&s);
    if (!s.nbands)
        text_at(out, MARGIN, top + 30, "font-size=\"13\"", "%s",
                pic->walk_rc == -2 ? "(no heap to draw)" : "(the walk reported nothing)");
    draw_footer(&s);
    fputs("</svg>\n", out);
    free(s.bands);
    return ferror(out) ? -1 : 0;
}

/* --- collecting a walk ------------------------------------------------------------------------- */
typedef struct collector {
    hlt_svg_item *items;
    size_t n, cap;
    bool oom;
} collector;

static int add_item(collector *c, const hl_walk_info *w, int slot)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        hlt_svg_item *grown = realloc(c->items, cap * sizeof *grown);
        if (!grown) {
            c->oom = true;
            return 1;
        }
        c->items = grown;
        c->cap = cap;
    }
    c->items[c->n++] = (hlt_svg_item){ *w, slot };
    return 0;
}

static int collect_hl(const hl_walk_info *w, void *ctx) { return add_item(ctx, w, -1); }

int hlt_svg_write(FILE *out, const hl_heap *h, const void *highlight, const char *title)
{
    collector c = { 0 };
    int rc = hl_heap_walk(h, collect_hl, &c);
    hlt_svg_picture pic = { c.items, c.n, rc < 0 ? -1 : 0, highlight, title, NULL };
    int status = c.oom ? -1 : hlt_svg_write_picture(out, &pic);
    free(c.items);
    return status;
}

/* --- hl-trace svg --------------------------------------------------------------------------------- */
typedef struct replay_collector {
    collector c;
    const fz_oracle *o;
} replay_collector;

static int collect_fz(const fz_walk_info *f, void *ctx)
{
    replay_collector *rc = ctx;
    static const hl_walk_kind kinds[] = { HL_WALK_REGION, HL_WALK_BLOCK, HL_WALK_LARGE };
    hl_walk_info w = {
        .kind = kinds[f->kind], .start = f->start, .size = f->size, .payload = f->payload,
        .usable = f->usable, .requested = f->requested, .used = f->used,
    };
    int slot = f->kind != FZ_WALK_REGION && f->used ? fz_oracle_slot_of(rc->o, f->payload) : -1;
    return add_item(&rc->c, &w, slot);
}

/* A checker violation names no address in the oracle's record, but its report
 * does: the line "  block     0x... at offset ..." (hl_check_report_print). */
static const void *reported_block(const char *report)
{
    const char *line = strstr(report, "\n  block ");
    void *p = NULL;
    if (!line && strncmp(report, "  block ", 8) == 0)
        line = report - 1;
    if (line && sscanf(line + 9, " %p", &p) == 1)
        return p;
    return NULL;
}

int hl_trace_svg(const hl_replay *r, FILE *out)
{
    replay_collector rc = { .o = r->oracle };
    int walk_rc = -2;
    if (r->open && r->ad->walk)
        walk_rc = r->ad->walk(r->oracle->heap, collect_fz, &rc) < 0 ? -1 : 0;
    char title[FZ_OP_TEXT + 120], subtitle[700], config[FZ_OP_TEXT];
    fz_header_format(&r->hdr, config, sizeof config);
    const void *highlight = NULL;
    if (r->refused) {
        snprintf(title, sizeof title, "the adapter refused the configuration: %s", r->refused);
        snprintf(subtitle, sizeof subtitle, "%s", config);
    } else if (r->violated) {
        const fz_violation *v = &r->oracle->v;
        snprintf(title, sizeof title, "op #%zu %s: rule %s", v->op_index, v->op_text, v->rule);
        snprintf(subtitle, sizeof subtitle, "%s   [%s]", v->details, config);
        highlight = v->addr ? v->addr : reported_block(v->report);
    } else {
        snprintf(title, sizeof title, "no violation in %zu operations: the heap after the last one", r->done);
        snprintf(subtitle, sizeof subtitle, "%s", config);
    }
    hlt_svg_picture pic = { rc.c.items, rc.c.n, walk_rc, highlight, title, subtitle };
    int status = rc.c.oom ? -1 : hlt_svg_write_picture(out, &pic);
    free(rc.c.items);
    return status == 0 ? 0 : 2;
}
