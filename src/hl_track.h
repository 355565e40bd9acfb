/*
 * hl_track.h - telling Valgrind's memcheck and the sanitizers what the
 * allocator does, so that they report a user's bugs in heaplab's blocks as
 * they would in glibc's.
 *
 * Valgrind (HL_VALGRIND, on by default in debug and test builds; a few
 * instructions when not under Valgrind):
 *   - a region is NOACCESS when it is made: headers, footers, slack and free
 *     blocks stay NOACCESS, so an overrun into metadata or a read after free
 *     is reported;
 *   - what a caller may use is a MALLOCLIKE block (UNDEFINED, or DEFINED for
 *     calloc), released with FREELIKE and resized with RESIZEINPLACE, so
 *     memcheck's leak check and uninitialised-read reports cover it;
 *   - the allocator itself reads and writes metadata all the time, so every
 *     public operation runs with memcheck's error reporting disabled for its
 *     thread (hl_track_enter/leave) — the user's own accesses are checked,
 *     the allocator's are not.
 * ASan (HL_ASAN_POISON, set by CMake for clang ASan builds): the same
 * picture in ASan's shadow memory — region memory poisoned, each block's
 * visible bytes unpoisoned while it lives.  The allocator's and checker's own
 * sources are left uninstrumented (cmake/asan-ignorelist.txt), so their loads
 * and stores of metadata are not reported; their bulk writes and reads of
 * poisoned bytes (fills, canaries, dumps) go through hl_track_fill and
 * hl_track_copy, which unpoison around the access, since ASan's memset and
 * memcpy interceptors check shadow memory whoever calls them.  Memory is
 * unpoisoned before it goes back to the system, so a later mapping at the same
 * address starts clean.
 * MSan: new blocks are marked uninitialised (calloc'd ones are written, so
 * they are initialised).
 */
#ifndef HL_TRACK_H
#define HL_TRACK_H

#include <stddef.h>

#ifndef HL_VALGRIND
#define HL_VALGRIND 0
#endif

#if defined(__has_feature)
#if __has_feature(memory_sanitizer)
#define HL_MSAN 1
#endif
#endif

#if HL_VALGRIND
#include <valgrind/memcheck.h>
#endif
#ifndef HL_ASAN_POISON
#define HL_ASAN_POISON 0
#endif
#if HL_ASAN_POISON
#include <sanitizer/asan_interface.h>
#define HL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define HL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define HL_POISON(p, n) ((void)(p), (void)(n))
#define HL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif
#include <string.h>
#ifdef HL_MSAN
#include <sanitizer/msan_interface.h>
#endif

static inline void hl_track_enter(void) {
#if HL_VALGRIND
    VALGRIND_DISABLE_ERROR_REPORTING;
#endif
}

static inline void hl_track_leave(void) {
#if HL_VALGRIND
    VALGRIND_ENABLE_ERROR_REPORTING;
#endif
}

/* Memory the allocator owns and no caller may touch: a new region, a mapping. */
static inline void hl_track_noaccess(const void *p, size_t n) {
#if HL_VALGRIND
    VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
    HL_POISON(p, n);
}

/* Memory about to go back to the system (munmap, the sbrk pool). */
static inline void hl_track_release(const void *p, size_t n) { HL_UNPOISON(p, n); }

/* The allocator's own fills of metadata bytes (canaries, free fill). */
static inline void hl_track_fill(void *p, int byte, size_t n) {
    HL_UNPOISON(p, n);
    memset(p, byte, n);
    HL_POISON(p, n);
}

/* The checker's own reads of metadata bytes in bulk. */
static inline void hl_track_copy(void *dst, const void *src, size_t n) {
    HL_UNPOISON(src, n);
    memcpy(dst, src, n);
    HL_POISON(src, n);
}

/* Bytes the tools should take as they are: a caller's buffer handed back when
 * the heap on it is destroyed, or a value the allocator read from a caller's
 * bytes (the global API's remote-free tag and link) to compare, not to use. */
static inline void hl_track_defined(const void *p, size_t n) {
#if HL_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
#ifdef HL_MSAN
    __msan_unpoison(p, n);
#endif
    HL_UNPOISON(p, n);
}

/* Nonzero when running under Valgrind (bookkeeping only worth doing then). */
static inline int hl_track_active(void) {
#if HL_VALGRIND
    return RUNNING_ON_VALGRIND;
#else
    return 0;
#endif
}

/* p now holds n bytes for the caller. */
static inline void hl_track_alloc(const void *p, size_t n, int zeroed) {
#if HL_VALGRIND
    VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, zeroed);
#endif
#ifdef HL_MSAN
    if (!zeroed) __msan_allocated_memory(p, n);
#endif
    HL_UNPOISON(p, n);
    (void)p; (void)n; (void)zeroed;
}

/* p's n visible bytes are the allocator's again. */
static inline void hl_track_free(const void *p, size_t n) {
#if HL_VALGRIND
    VALGRIND_FREELIKE_BLOCK(p, 0);
#endif
    HL_POISON(p, n);
    (void)p; (void)n;
}

static inline void hl_track_resize(const void *p, size_t old_n, size_t new_n) {
#if HL_VALGRIND
    VALGRIND_RESIZEINPLACE_BLOCK(p, old_n, new_n, 0);
#endif
#ifdef HL_MSAN
    if (new_n > old_n) __msan_allocated_memory((const char *)p + old_n, new_n - old_n);
#endif
    if (new_n < old_n) HL_POISON((const char *)p + new_n, old_n - new_n);
    else HL_UNPOISON(p, new_n);
    (void)p; (void)old_n; (void)new_n;
}

/* A second free of p: let memcheck say "Invalid free()" with its own stack,
 * besides heaplab's report. */
static inline void hl_track_bad_free(const void *p) {
#if HL_VALGRIND
    if (RUNNING_ON_VALGRIND) {
        VALGRIND_ENABLE_ERROR_REPORTING;
        VALGRIND_FREELIKE_BLOCK(p, 0);
        VALGRIND_DISABLE_ERROR_REPORTING;
    }
#endif
    (void)p;
}

#endif /* HL_TRACK_H */
