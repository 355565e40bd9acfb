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
#else
    (void)p; (void)n;
#endif
}

/* Memory handed back to its owner (a caller's buffer after the heap on it is
 * destroyed): addressable again, with whatever it holds. */
static inline void hl_track_defined(const void *p, size_t n) {
#if HL_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
    (void)p; (void)n;
#endif
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
    (void)p; (void)n; (void)zeroed;
}

static inline void hl_track_free(const void *p) {
#if HL_VALGRIND
    VALGRIND_FREELIKE_BLOCK(p, 0);
#endif
    (void)p;
}

static inline void hl_track_resize(const void *p, size_t old_n, size_t new_n) {
#if HL_VALGRIND
    VALGRIND_RESIZEINPLACE_BLOCK(p, old_n, new_n, 0);
#endif
#ifdef HL_MSAN
    if (new_n > old_n) __msan_allocated_memory((const char *)p + old_n, new_n - old_n);
#endif
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
