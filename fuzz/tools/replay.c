/* replay.c - see replay.h. */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint8_t *hl_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, got;
    uint8_t *buf = malloc(cap), *grown;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    *size = len;
    return buf;
}

int hl_replay_load(hl_replay *r, const fz_adapter *ad, const uint8_t *data, size_t size)
{
    memset(r, 0, sizeof *r);
    r->ad = ad;
    r->oracle = calloc(1, sizeof *r->oracle);
    if (!r->oracle)
        return -1;
    fz_decoder d;
    fz_decode_begin(&d, data, size);
    r->hdr = d.hdr;
    size_t cap = 0, consumed = size - d.in.left;
    fz_op op;
    while (fz_decode_next(&d, &op)) {
        if (r->nops == cap) {
            cap = cap ? 2 * cap : 64;
            fz_op *grown = realloc(r->ops, cap * sizeof *grown);
            if (!grown)
                return -1;
            r->ops = grown;
        }
        r->ops[r->nops++] = op;
        consumed = size - d.in.left;
    }
    r->dropped = size - consumed;   /* a truncated last operation */
    return 0;
}

int hl_replay_load_file(hl_replay *r, const fz_adapter *ad, const char *path)
{
    size_t size;
    uint8_t *data = hl_read_file(path, &size);
    if (!data)
        return -1;
    int rc = hl_replay_load(r, ad, data, size);
    free(data);
    return rc;
}

int hl_replay_run(hl_replay *r, size_t limit, hl_replay_step_fn each, void *ctx)
{
    if (!r->open && !r->refused) {
        if (fz_oracle_open(r->oracle, r->ad, &r->hdr, &r->refused) != 0) {
            if (!r->refused)
                r->refused = "the adapter refused the configuration";
            return -1;
        }
        r->open = true;
    }
    if (r->refused)
        return -1;
    size_t end = limit < r->nops ? limit : r->nops;
    while (r->done < end && !r->violated) {
        r->violated = !fz_oracle_step(r->oracle, &r->ops[r->done]);
        r->done++;
        if (each)
            each(r, r->done - 1, ctx);
    }
    if (limit == SIZE_MAX && !r->violated && r->done == r->nops)
        r->violated = !fz_oracle_finish(r->oracle);
    return r->violated ? 1 : 0;
}

void hl_replay_close(hl_replay *r)
{
    if (r->open)
        fz_oracle_close(r->oracle);
    r->open = false;
    free(r->oracle);
    free(r->ops);
    r->oracle = NULL;
    r->ops = NULL;
}

int hl_replay_print_check(const hl_replay *r, FILE *out)
{
    char msg[300];
    if (!r->open || !r->ad->check) {
        fprintf(out, "checker: not available\n");
        return 0;
    }
    int rc = r->ad->check(r->oracle->heap, msg, sizeof msg, out);
    if (rc == 0)
        fprintf(out, "checker: the heap passes its full check\n");
    return rc;
}
