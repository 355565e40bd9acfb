/*
 * hl_trace.c - hl-trace: read, write and replay fuzz inputs.
 *
 *   hl-trace decode INPUT              numbered text, one operation a line
 *   hl-trace encode TEXT [-o OUT]      text back into bytes (stdout if no -o)
 *   hl-trace encode-dir TEXTDIR OUTDIR every TEXTDIR/NAME.txt into OUTDIR/NAME
 *   hl-trace check TEXT INPUT          INPUT is the encoding of TEXT, and decoding
 *                                      INPUT encodes back to INPUT (exit 1 if not)
 *   hl-trace replay [-v] [-r N] INPUT  runs INPUT step by step, stops at the first
 *                                      violation: the op, the rule, the heap map
 *                                      (N entries either side) and the checker's report
 *   hl-trace configs                   every header choice is accepted by the adapter
 *   hl-trace svg INPUT, hl-trace c INPUT   (when built with svg.c / repro_c.c)
 *
 * Exit status: 0 fine, 1 a violation or a mismatch, 2 a usage or I/O error.
 */
#include "encode.h"
#include "replay.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const fz_adapter *adapter = &fz_adapter_heaplab;

static int usage(void)
{
    fprintf(stderr, "usage: hl-trace decode INPUT | encode TEXT [-o OUT] | encode-dir TEXTDIR OUTDIR |\n"
                    "       check TEXT INPUT | replay [-v] [-r N] INPUT | configs"
#ifdef HL_TRACE_HAVE_SVG
                    " | svg INPUT [-o OUT]"
#endif
#ifdef HL_TRACE_HAVE_REPRO_C
                    " | c INPUT [-o OUT]"
#endif
                    "\n");
    return 2;
}

/* --- decode --------------------------------------------------------------------------- */
static void print_text(const hl_replay *r, FILE *out)
{
    char line[FZ_OP_TEXT];
    fz_header_format(&r->hdr, line, sizeof line);
    fprintf(out, "%s\n", line);
    for (size_t i = 0; i < r->nops; i++) {
        fz_op_format(&r->ops[i], line, sizeof line);
        fprintf(out, "%zu: %s\n", i + 1, line);
    }
    if (r->dropped)
        fprintf(out, "# %zu trailing bytes: a truncated operation, ignored\n", r->dropped);
}

static int cmd_decode(const char *path)
{
    hl_replay r;
    if (hl_replay_load_file(&r, adapter, path) != 0) {
        perror(path);
        return 2;
    }
    print_text(&r, stdout);
    hl_replay_close(&r);
    return 0;
}

/* --- encode ------------------------------------------------------------------------------ */
static int encode_file(const char *path, hl_bytes *b)
{
    char err[300];
    FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!in) {
        perror(path);
        return 2;
    }
    *b = (hl_bytes){ 0 };
    int rc = hl_trace_encode(in, b, err, sizeof err);
    if (in != stdin)
        fclose(in);
    if (rc) {
        fprintf(stderr, "%s: %s\n", path, err);
        hl_bytes_free(b);
        return 2;
    }
    return 0;
}

static int write_bytes(const char *path, const hl_bytes *b)
{
    FILE *out = path ? fopen(path, "wb") : stdout;
    if (!out || fwrite(b->p, 1, b->n, out) != b->n) {
        perror(path ? path : "stdout");
        return 2;
    }
    if (out != stdout)
        fclose(out);
    return 0;
}

static int cmd_encode(const char *text, const char *out)
{
    hl_bytes b;
    int rc = encode_file(text, &b);
    if (rc == 0)
        rc = write_bytes(out, &b);
    hl_bytes_free(&b);
    return rc;
}

static int cmd_encode_dir(const char *dir, const char *outdir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 2;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt"))
            continue;
        char in[4096], out[4096];
        snprintf(in, sizeof in, "%s/%s", dir, e->d_name);
        snprintf(out, sizeof out, "%s/%.*s", outdir, (int)(len - 4), e->d_name);
        if (cmd_encode(in, out))
            rc = 2;
    }
    closedir(d);
    return rc;
}

/* The text in, decoded back out and encoded again, so the check covers both directions. */
static int reencode(const uint8_t *data, size_t size, hl_bytes *b)
{
    hl_replay r;
    char *text = NULL, err[300];
    size_t len = 0;
    if (hl_replay_load(&r, adapter, data, size) != 0)
        return -1;
    FILE *mem = open_memstream(&text, &len);
    print_text(&r, mem);
    fclose(mem);
    hl_replay_close(&r);
    FILE *in = fmemopen(text, len, "r");
    *b = (hl_bytes){ 0 };
    int rc = hl_trace_encode(in, b, err, sizeof err);
    fclose(in);
    free(text);
    return rc;
}

static int cmd_check(const char *text, const char *input)
{
    hl_bytes want, again = { 0 };
    size_t size;
    if (encode_file(text, &want))
        return 2;
    uint8_t *data = hl_read_file(input, &size);
    if (!data) {
        perror(input);
        hl_bytes_free(&want);
        return 2;
    }
    int rc = 0;
    if (size != want.n || memcmp(data, want.p, size)) {
        fprintf(stderr, "%s is not the encoding of %s (%zu bytes, encoding %zu): run hl-trace encode-dir\n",
                input, text, size, want.n);
        rc = 1;
    } else if (reencode(data, size, &again) || again.n != size || memcmp(again.p, data, size)) {
        fprintf(stderr, "%s: decoding and encoding again does not give the same bytes\n", input);
        rc = 1;
    }
    hl_bytes_free(&again);
    hl_bytes_free(&want);
    free(data);
    return rc;
}

/* --- replay ------------------------------------------------------------------------------- */
static void print_step(const hl_replay *r, size_t i, void *ctx)
{
    (void)ctx;
    char line[FZ_OP_TEXT];
    fz_op_format(&r->ops[i], line, sizeof line);
    printf("%5zu: %-40s %s\n", i + 1, line, r->oracle->note);
}

static void print_context(const hl_replay *r, size_t stop)
{
    char line[FZ_OP_TEXT];
    size_t from = stop > 5 ? stop - 5 : 0;
    printf("the operations before it:\n");
    for (size_t i = from; i < stop && i < r->nops; i++) {
        fz_op_format(&r->ops[i], line, sizeof line);
        printf("%5zu: %s\n", i + 1, line);
    }
}

static int cmd_replay(const char *path, bool verbose, unsigned radius)
{
    hl_replay r;
    if (hl_replay_load_file(&r, adapter, path) != 0) {
        perror(path);
        return 2;
    }
    char hdr[FZ_OP_TEXT];
    fz_header_format(&r.hdr, hdr, sizeof hdr);
    printf("%s: %zu operations\n%s\n", path, r.nops, hdr);
    int rc = hl_replay_run(&r, SIZE_MAX, verbose ? print_step : NULL, NULL);
    if (rc < 0) {
        printf("verdict: the adapter refused the configuration: %s\n", r.refused);
        hl_replay_close(&r);
        return 0;
    }
    if (rc == 0) {
        printf("verdict: no violation in %zu operations; the final sweep and check pass\n", r.nops);
        hl_replay_close(&r);
        return 0;
    }
    const fz_violation *v = &r.oracle->v;
    if (!verbose)
        print_context(&r, v->op_index ? v->op_index - 1 : r.nops);
    printf("verdict: op #%zu %s: rule %s\n", v->op_index, v->op_text, v->rule);
    fz_oracle_print_violation(r.oracle, stdout);
    hl_replay_print_map(&r, v->addr, radius, stdout);
    hl_replay_print_check(&r, stdout);
    hl_replay_close(&r);
    return 1;
}

/* --- configs -------------------------------------------------------------------------------- */
static int cmd_configs(void)
{
    static fz_oracle o;
    unsigned tried = 0, refused = 0;
    for (unsigned p = 0; p < FZ_POLICY_COUNT; p++)
        for (unsigned s = 0; s < FZ_SOURCE_COUNT; s++)
            for (unsigned b = 0; b < (s == FZ_SOURCE_BUFFER ? FZ_BUFFER_CHOICES : 1u); b++)
                for (unsigned g = 0; g < FZ_GROW_CHOICES; g++)
                    for (unsigned c = 0; c < FZ_CAP_CHOICES; c++)
                        for (unsigned t = 0; t < FZ_THRESHOLD_CHOICES; t++) {
                            fz_header h = { p, s, b, g, c, t };
                            const char *why;
                            char text[FZ_OP_TEXT];
                            tried++;
                            if (fz_oracle_open(&o, adapter, &h, &why) == 0) {
                                fz_oracle_close(&o);
                                continue;
                            }
                            fz_header_format(&h, text, sizeof text);
                            printf("refused: %s: %s\n", text, why ? why : "?");
                            refused++;
                        }
    printf("%u of %u header choices accepted\n", tried - refused, tried);
    return refused ? 1 : 0;
}

/* --- optional tools ----------------------------------------------------------------------------- */
#if defined(HL_TRACE_HAVE_SVG) || defined(HL_TRACE_HAVE_REPRO_C)
static int cmd_tool(int (*tool)(const hl_replay *, FILE *), const char *path, const char *outpath)
{
    hl_replay r;
    if (hl_replay_load_file(&r, adapter, path) != 0) {
        perror(path);
        return 2;
    }
    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (!out) {
        perror(outpath);
        hl_replay_close(&r);
        return 2;
    }
    hl_replay_run(&r, SIZE_MAX, NULL, NULL);
    int rc = tool(&r, out);
    if (out != stdout)
        fclose(out);
    hl_replay_close(&r);
    return rc;
}
#endif

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "decode") && argc == 3)
        return cmd_decode(argv[2]);
    if (!strcmp(cmd, "encode") && (argc == 3 || (argc == 5 && !strcmp(argv[3], "-o"))))
        return cmd_encode(argv[2], argc == 5 ? argv[4] : NULL);
    if (!strcmp(cmd, "encode-dir") && argc == 4)
        return cmd_encode_dir(argv[2], argv[3]);
    if (!strcmp(cmd, "check") && argc == 4)
        return cmd_check(argv[2], argv[3]);
    if (!strcmp(cmd, "configs") && argc == 2)
        return cmd_configs();
    if (!strcmp(cmd, "replay")) {
        bool verbose = false;
        unsigned radius = 4;
        int i = 2;
        for (; i < argc - 1; i++) {
            if (!strcmp(argv[i], "-v"))
                verbose = true;
            else if (!strcmp(argv[i], "-r") && i + 1 < argc - 1)
                radius = (unsigned)strtoul(argv[++i], NULL, 10);
            else
                return usage();
        }
        return i == argc - 1 ? cmd_replay(argv[i], verbose, radius) : usage();
    }
#ifdef HL_TRACE_HAVE_SVG
    if (!strcmp(cmd, "svg") && (argc == 3 || (argc == 5 && !strcmp(argv[3], "-o"))))
        return cmd_tool(hl_trace_svg, argv[2], argc == 5 ? argv[4] : NULL);
#endif
#ifdef HL_TRACE_HAVE_REPRO_C
    if (!strcmp(cmd, "c") && (argc == 3 || (argc == 5 && !strcmp(argv[3], "-o"))))
        return cmd_tool(hl_trace_repro_c, argv[2], argc == 5 ? argv[4] : NULL);
#endif
    return usage();
}
