/*
 * pool_demo.c - the pool allocator's author's own program: the one source
 * file that includes pool.h, with a main() of its own.  heaplab_add_allocator
 * builds it with HAS_MAIN (main becomes pool_main), and the adapter reaches
 * the allocator through its non-static symbols.
 */
#include "pool.h"

#include <string.h>

int main(void)
{
    char *a = pool_alloc(100), *b = pool_alloc(200);
    strcpy(a, "hello");
    pool_release(a);
    char *c = pool_alloc(50);   /* reuses a's chunk */
    printf("pool: %s, %d bytes used, %d calls\n", c == a ? "reused" : "not reused", pool_used, pool_calls);
    pool_release(b);
    pool_release(c);
    return 0;
}
