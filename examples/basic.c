/*
 * basic.c - heaplab in one screen: a heap on a 64 KiB static array with the
 * first-fit policy; malloc, realloc, calloc and free; then the statistics, the
 * block map and the heap check.  Exits 0 when every step did what it should
 * (ctest runs it as the `example` test).
 */
#include "heaplab.h"

#include <stdio.h>
#include <string.h>

static _Alignas(16) unsigned char arena[64 * 1024]; /* all the heap's memory */

static int expect(int ok, const char *what)
{
    if (!ok)
        fprintf(stderr, "basic: %s\n", what);
    return ok;
}

int main(void)
{
    hl_config cfg = {
        .policy = HL_FIRST_FIT,
        .source = HL_SOURCE_BUFFER,
        .buffer = arena,
        .buffer_size = sizeof arena,
    };
    hl_heap *h = hl_heap_create(&cfg);
    if (!expect(h != NULL, "hl_heap_create failed"))
        return 1;

    char *msg = hl_heap_malloc(h, 32);
    if (!expect(msg != NULL, "malloc(32) failed"))
        return 1;
    strcpy(msg, "hello from a 64 KiB heap");

    char *grown = hl_heap_realloc(h, msg, 4096);   /* keeps the contents */
    if (!expect(grown != NULL && strcmp(grown, "hello from a 64 KiB heap") == 0,
                "realloc lost the contents"))
        return 1;
    msg = grown;

    int *zeros = hl_heap_calloc(h, 100, sizeof *zeros);
    if (!expect(zeros != NULL, "calloc(100, sizeof(int)) failed"))
        return 1;
    int sum = 0;
    for (int i = 0; i < 100; i++)
        sum |= zeros[i];
    if (!expect(sum == 0, "calloc returned memory that is not zero"))
        return 1;

    hl_stats st;
    hl_heap_stats(h, &st);
    printf("%zu blocks in use (%zu bytes), %zu free bytes, largest free %zu\n",
           st.blocks_in_use, st.bytes_in_use, st.bytes_free, st.largest_free);
    if (!expect(st.blocks_in_use == 2, "stats: expected 2 live blocks"))
        return 1;

    hl_heap_dump(h, stdout);

    hl_check_report report;
    if (hl_heap_check(h, &report) != 0) {
        hl_check_report_print(&report, stderr);
        return 1;
    }

    hl_heap_free(h, msg);
    hl_heap_free(h, zeros);
    hl_heap_stats(h, &st);
    if (!expect(st.blocks_in_use == 0 && st.blocks_free == 1,
                "after freeing everything the heap should be one free block"))
        return 1;
    if (!expect(hl_heap_check(h, NULL) == 0, "heap check failed after free"))
        return 1;

    hl_heap_destroy(h);
    puts("basic: ok");
    return 0;
}
