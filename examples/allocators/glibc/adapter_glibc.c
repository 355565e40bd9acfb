/*
 * adapter_glibc.c - glibc's own malloc through the byoa adapter.
 *
 * The functions are looked up with dlsym(RTLD_NEXT): in an ASan build the
 * executable's malloc is ASan's, and RTLD_NEXT skips the executable, so this
 * is glibc's allocator in every build.
 *
 * Claims: 16-byte alignment (x86-64), NULL with ENOMEM on exhaustion, thread
 * safety (glibc's arenas and per-thread caches: fuzz_threads_glibc).  Not
 * claimed: exact fit, coalescing (tcache and fastbins keep freed chunks
 * apart on purpose), misuse detection (glibc aborts on some double frees,
 * which is not the report this table describes), usable == requested.  No
 * walk, stats or check: glibc has no public walk, and mallinfo2 counts chunks
 * with their overhead, not the bytes asked for.
 *
 * create() calls malloc once, for glibc's lazy set-up (see there).
 *
 * Under ThreadSanitizer: glibc's arena locks are inside the uninstrumented
 * libc, so TSan cannot see that a block freed by one thread and handed to
 * another by malloc is passed under a lock, and reports the harness's pattern
 * writes as races with the first thread's reads (seen in fuzz_threads_glibc).
 * The adapter tells TSan what the locks do: every free is a release and every
 * allocation an acquire, of one sync object.  That orders more than glibc's
 * per-arena locks do, so it may hide a race in the harness itself; heaplab's
 * own fuzz_threads (no annotation) is the harness's TSan test.
 *
 * Two conversions: aligned_alloc goes through posix_memalign (glibc 2.36's
 * aligned_alloc accepts any alignment, which C17 does not); realloc(p, 0),
 * which glibc answers by freeing p and returning NULL - a table without stats
 * cannot tell that from a failure - asks for 1 byte instead (C lets
 * realloc(p, 0) return a minimal block).
 */
#define _GNU_SOURCE
#include "byoa.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

static struct {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*calloc)(size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    size_t (*usable)(void *);
} g;

#if defined(__SANITIZE_THREAD__)
#define GLIBC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GLIBC_TSAN 1
#endif
#endif
#ifdef GLIBC_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static void handing_back(void) { __tsan_release(&g); }
static void *taken(void *p) { __tsan_acquire(&g); return p; }
#else
static void handing_back(void) {}
static void *taken(void *p) { return p; }
#endif

static void *lookup(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    return f ? f : dlsym(RTLD_DEFAULT, name);
}

static void *glibc_create(const fz_config *cfg, const fz_hooks *hooks, fz_claims *cl, const char **why)
{
    (void)cfg;   /* glibc has one configuration */
    (void)hooks; /* and reports no misuse through a handler */
    g.malloc = (void *(*)(size_t))lookup("malloc");
    g.free = (void (*)(void *))lookup("free");
    g.realloc = (void *(*)(void *, size_t))lookup("realloc");
    g.calloc = (void *(*)(size_t, size_t))lookup("calloc");
    g.posix_memalign = (int (*)(void **, size_t, size_t))lookup("posix_memalign");
    g.usable = (size_t (*)(void *))lookup("malloc_usable_size");
    if (!g.malloc || !g.free || !g.realloc || !g.calloc || !g.posix_memalign || !g.usable) {
        *why = "dlsym found no glibc malloc";
        return NULL;
    }
    /* glibc's malloc sets itself up on its first call, and that set-up is not
     * thread-safe (glibc expects it before any thread starts).  Under ASan or
     * TSan nothing in the process calls glibc's malloc before the threaded
     * target's threads do, and two of them racing through it corrupt the
     * arena counts ("malloc assertion failure in __malloc_arena_thread_freeres:
     * a->attached_threads > 0" when the second exits).  create() runs on the
     * harness's thread before any of them starts. */
    g.free(g.malloc(1));
    byoa_claims(cl, FZ_CLAIM_NULL_ON_EXHAUSTION | FZ_CLAIM_ERRNO | FZ_CLAIM_THREAD_SAFE, 16);
    return byoa_global_heap();
}

static void glibc_destroy(void *h) { (void)h; }   /* the child process ends after each input */
static void *glibc_malloc(void *h, size_t n) { (void)h; return taken(g.malloc(n)); }
static void *glibc_calloc(void *h, size_t c, size_t s) { (void)h; return taken(g.calloc(c, s)); }

static void glibc_free(void *h, void *p)
{
    (void)h;
    handing_back();
    g.free(p);
}
static size_t glibc_usable(void *h, const void *p) { (void)h; return g.usable((void *)p); }

static void *glibc_realloc(void *h, void *p, size_t n)
{
    (void)h;
    handing_back();
    return taken(g.realloc(p, p && n == 0 ? 1 : n));
}

static void *glibc_aligned(void *h, size_t align, size_t n)
{
    (void)h;
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    void *p;
    int rc = g.posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, n);
    if (rc) {
        errno = rc;
        return NULL;
    }
    return taken(p);
}

const fz_adapter fz_adapter_glibc = {
    .version = FZ_ADAPTER_VERSION,
    .name = "glibc",
    .create = glibc_create, .destroy = glibc_destroy,
    .malloc = glibc_malloc, .free = glibc_free, .realloc = glibc_realloc, .calloc = glibc_calloc,
    .aligned_alloc = glibc_aligned, .usable_size = glibc_usable,
};
