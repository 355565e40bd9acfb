/*
 * threads_trace.c - fzt-trace: threaded traces, as text, to and from the
 * bytes fuzz_threads reads.
 *
 *   fzt-trace decode INPUT                 numbered text, one operation a line
 *   fzt-trace encode TEXT [-o OUT]         text -> bytes (stdout without -o)
 *   fzt-trace encode-dir TEXTDIR OUTDIR    every TEXTDIR/NAME.txt into OUTDIR/NAME
 *   fzt-trace check TEXT INPUT             INPUT is the encoding of TEXT, and
 *                                          decoding INPUT gives TEXT's operations
 *
 * The text: a header line "threads N mode=deterministic|free-running sync=K"
 * (missing: threads 2, deterministic, sync 16), then "tT <operation>" lines in
 * hl-trace's syntax (fuzz/README.md), `exit` ending thread T; "12:" numbering
 * and '#' comments are ignored.  Operations are encoded by hl-trace's encoder.
 */
#include "encode.h"
#include "threads_input.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: fzt-trace decode INPUT | encode TEXT [-o OUT] | encode-dir TEXTDIR OUTDIR | "
                    "check TEXT INPUT\n");
    return 2;
}

static int read_file(const char *path, hl_bytes *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (b->n + got > b->cap) {
            b->cap = (b->n + got) * 2;
            b->p = realloc(b->p, b->cap);
            if (!b->p) {
                fclose(f);
                return -1;
            }
        }
        memcpy(b->p + b->n, buf, got);
        b->n += got;
    }
    fclose(f);
    return 0;
}

static void append(hl_bytes *b, const uint8_t *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* --- text -> bytes ------------------------------------------------------------------------------ */
static int parse_header(char *line, fzt_header *h, char *err, size_t len)
{
    *h = (fzt_header){ FZT_DETERMINISTIC, 2, 0 };
    char *tok = strtok(line, " \t\r\n");   /* "threads" */
    tok = strtok(NULL, " \t\r\n");
    h->threads = tok ? (unsigned)atoi(tok) : 0;
    if (h->threads < FZT_MIN_THREADS || h->threads > FZT_MAX_THREADS) {
        snprintf(err, len, "threads must be %d..%d", FZT_MIN_THREADS, FZT_MAX_THREADS);
        return -1;
    }
    while ((tok = strtok(NULL, " \t\r\n")) != NULL) {
        if (!strcmp(tok, "mode=deterministic")) {
            h->mode = FZT_DETERMINISTIC;
        } else if (!strcmp(tok, "mode=free-running")) {
            h->mode = FZT_FREE_RUNNING;
        } else if (!strncmp(tok, "sync=", 5)) {
            unsigned k = (unsigned)atoi(tok + 5), i = 0;
            while (i < FZT_SYNC_CHOICES && fzt_sync_periods[i] != k)
                i++;
            if (i == FZT_SYNC_CHOICES) {
                snprintf(err, len, "sync=%u is not one of the periods (threads_input.c)", k);
                return -1;
            }
            h->sync = i;
        } else {
            snprintf(err, len, "bad header field %s", tok);
            return -1;
        }
    }
    return 0;
}

/* "t1 malloc s3 100": the thread byte, then hl-trace's bytes for the operation. */
static int encode_op(char *text, unsigned threads, hl_bytes *out, char *err, size_t len)
{
    unsigned t;
    int used = 0;
    if (sscanf(text, " t%u%n", &t, &used) != 1 || t >= threads) {
        snprintf(err, len, "expected t0..t%u before the operation", threads - 1);
        return -1;
    }
    char op[512];
    const char *rest = text + used;
    rest += strspn(rest, " \t");
    snprintf(op, sizeof op, "%s", strncmp(rest, "exit", 4) == 0 && strchr(" \t\r\n", rest[4]) ? "reset\n" : rest);
    FILE *in = fmemopen(op, strlen(op), "r");
    hl_bytes b = { 0 };
    int rc = in ? hl_trace_encode(in, &b, err, len) : -1;
    if (in)
        fclose(in);
    if (rc == 0 && b.n > FZ_HEADER_BYTES) {
        uint8_t tb = (uint8_t)t;
        append(out, &tb, 1);
        append(out, b.p + FZ_HEADER_BYTES, b.n - FZ_HEADER_BYTES);
    }
    hl_bytes_free(&b);
    return rc;
}

/* Drops a "12:" number and a comment; NULL for a line with nothing left. */
static char *strip(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    line += strspn(line, " \t\r\n");
    char *colon = strchr(line, ':');
    if (colon && colon > line && strspn(line, "0123456789") == (size_t)(colon - line))
        line = colon + 1 + strspn(colon + 1, " \t");
    return line[strspn(line, " \t\r\n")] ? line : NULL;
}

static int encode_file(const char *path, hl_bytes *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[1024], err[256] = "";
    fzt_header h = { FZT_DETERMINISTIC, 2, 0 };
    bool header = false;
    unsigned no = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        char *s = strip(line);
        if (!s)
            continue;
        if (!header) {
            header = true;
            if (!strncmp(s, "threads", 7) && (rc = parse_header(s, &h, err, sizeof err)) != 0)
                break;
            uint8_t hb[FZ_HEADER_BYTES];
            fzt_header_bytes(&h, hb);
            append(out, hb, sizeof hb);
            if (!strncmp(s, "threads", 7))
                continue;
        }
        rc = encode_op(s, h.threads, out, err, sizeof err);
    }
    fclose(f);
    if (rc == 0 && !header) {
        uint8_t hb[FZ_HEADER_BYTES];
        fzt_header_bytes(&h, hb);
        append(out, hb, sizeof hb);
    }
    if (rc)
        fprintf(stderr, "%s:%u: %s\n", path, no, err);
    return rc;
}

static int write_file(const char *path, const hl_bytes *b)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f || fwrite(b->p, 1, b->n, f) != b->n) {
        perror(path ? path : "stdout");
        return -1;
    }
    return path ? fclose(f) : 0;
}

/* --- bytes -> text -------------------------------------------------------------------------------- */
static void decode_to(const hl_bytes *b, FILE *out, bool numbered)
{
    fz_decoder d;
    fzt_header h;
    fzt_decode_begin(&d, b->p, b->n, &h);
    char text[FZ_OP_TEXT + 8];
    fzt_header_format(&h, text, sizeof text);
    fprintf(out, "%s\n", text);
    fz_op op;
    while (fz_decode_next(&d, &op)) {
        fzt_op_format(&op, text, sizeof text);
        if (numbered)
            fprintf(out, "%zu: %s\n", d.index, text);
        else
            fprintf(out, "%s\n", text);
    }
}

static int cmd_decode(const char *path)
{
    hl_bytes b = { 0 };
    if (read_file(path, &b))
        return 1;
    decode_to(&b, stdout, true);
    hl_bytes_free(&b);
    return 0;
}

/* The text encodes to the input, and the input decodes to text that encodes to it again. */
static int cmd_check(const char *text, const char *input)
{
    hl_bytes want = { 0 }, got = { 0 }, again = { 0 };
    int rc = 1;
    if (read_file(input, &want) || encode_file(text, &got))
        goto out;
    if (got.n != want.n || memcmp(got.p, want.p, got.n)) {
        fprintf(stderr, "%s is not the encoding of %s (%zu bytes, encoding %zu): run fzt-trace encode-dir\n",
                input, text, want.n, got.n);
        goto out;
    }
    char tmp[] = "/tmp/fzt-check-XXXXXX";
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        goto out;
    decode_to(&want, f, false);
    fclose(f);
    int e = encode_file(tmp, &again);
    remove(tmp);
    if (e || again.n != want.n || memcmp(again.p, want.p, want.n)) {
        fprintf(stderr, "%s does not survive decode + encode\n", input);
        goto out;
    }
    rc = 0;
out:
    hl_bytes_free(&want);
    hl_bytes_free(&got);
    hl_bytes_free(&again);
    return rc;
}

static int cmd_encode_dir(const char *textdir, const char *outdir)
{
    DIR *d = opendir(textdir);
    if (!d) {
        perror(textdir);
        return 1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".txt"))
            continue;
        char in[4096], out[4096];
        snprintf(in, sizeof in, "%s/%s", textdir, e->d_name);
        snprintf(out, sizeof out, "%s/%.*s", outdir, (int)(len - 4), e->d_name);
        hl_bytes b = { 0 };
        if (encode_file(in, &b) || write_file(out, &b))
            rc = 1;
        hl_bytes_free(&b);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "decode"))
        return cmd_decode(argv[2]);
    if ((argc == 3 || (argc == 5 && !strcmp(argv[3], "-o"))) && !strcmp(argv[1], "encode")) {
        hl_bytes b = { 0 };
        int rc = encode_file(argv[2], &b) || write_file(argc == 5 ? argv[4] : NULL, &b);
        hl_bytes_free(&b);
        return rc;
    }
    if (argc == 4 && !strcmp(argv[1], "encode-dir"))
        return cmd_encode_dir(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "check"))
        return cmd_check(argv[2], argv[3]);
    return usage();
}
