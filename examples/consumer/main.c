/*
 * main.c - the smallest program on an installed heaplab: a heap on mmap'd
 * regions, one block written and read back, the heap check.  Built by the
 * install check both through find_package(heaplab) and through pkg-config.
 */
#include <heaplab.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    hl_config cfg = { .policy = HL_SEGREGATED_FIT, .source = HL_SOURCE_MMAP };
    hl_heap *h = hl_heap_create(&cfg);
    if (h == NULL) {
        perror("consumer: hl_heap_create");
        return 1;
    }
    char *p = hl_heap_malloc(h, 64);
    if (p == NULL) {
        perror("consumer: hl_heap_malloc");
        return 1;
    }
    strcpy(p, "installed heaplab");
    int ok = strcmp(p, "installed heaplab") == 0 && hl_heap_check(h, NULL) == 0;
    hl_heap_free(h, p);
    hl_heap_destroy(h);
    puts(ok ? "consumer: ok" : "consumer: FAILED");
    return ok ? 0 : 1;
}
