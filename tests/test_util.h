/*
 * test_util.h - what heaplab's cmocka tests share:
 *
 *   the matrix     every policy x every source (a 64 KiB and a 1 MiB static
 *                  buffer, mmap, sbrk), and a fixture that makes a fresh heap
 *                  for the case being run;
 *   the recorder   an error handler that records what the allocator reported
 *                  and returns, so a test can assert the kind, pointer, heap,
 *                  operation and message, and that the operation did nothing;
 *   the shadow     a table of live blocks, each filled with a pattern derived
 *                  from a seed, so "every live block keeps its contents" and
 *                  "no two live blocks overlap" are one call each;
 *   the walk       hl_heap_walk collected into an array;
 *   the child      fork a child with its stderr on a pipe, for tests that must
 *                  watch a process abort or print.
 *
 * Header-only, with static inline functions, because tests/CMakeLists.txt
 * builds every tests/test_*.c as an executable of its own.
 */
#ifndef HEAPLAB_TEST_UTIL_H
#define HEAPLAB_TEST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* fork, pipe, open_memstream, setenv, sbrk under -std=c11 */
#endif

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "heaplab.h"
#include "hl_internal.h"  /* block layout: the corruption tests write into headers */
#include "tu_gcov.h"      /* forked children keep their coverage counters */

/* --- deliberate misuse under Valgrind and ASan -------------------------------------- */

/* Tests that misuse the heap on purpose (write into a header, free twice)
 * would be reported by memcheck and ASan, which watch heaplab's metadata and
 * free blocks: the misuse is what the test is about, so it runs with
 * memcheck's reporting off and through accessors ASan does not instrument. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define TU_HAVE_VALGRIND 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TU_NO_ASAN __attribute__((no_sanitize_address))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_NO_ASAN __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef TU_NO_ASAN
#define TU_NO_ASAN
#endif

static inline void tu_misuse_begin(void)
{
#ifdef TU_HAVE_VALGRIND
    VALGRIND_DISABLE_ERROR_REPORTING;
#endif
}

static inline void tu_misuse_end(void)
{
#ifdef TU_HAVE_VALGRIND
    VALGRIND_ENABLE_ERROR_REPORTING;
#endif
}

/* Under memcheck everything runs some 50 times slower: long loops shorten. */
static inline int tu_under_valgrind(void)
{
#ifdef TU_HAVE_VALGRIND
    return RUNNING_ON_VALGRIND != 0;
#else
    return 0;
#endif
}

/* Byte copies in and out of memory the caller does not own (no memcpy: ASan
 * intercepts it). */
TU_NO_ASAN static inline void tu_poke(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = dst;
    const volatile unsigned char *s = src;
    tu_misuse_begin();
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    tu_misuse_end();
}
#define tu_peek(dst, src, n) tu_poke((dst), (src), (n))

static inline size_t tu_read_word(const void *at)
{
    size_t v;
    tu_peek(&v, at, sizeof v);
    return v;
}

static inline void tu_write_word(void *at, size_t v) { tu_poke(at, &v, sizeof v); }

static inline unsigned char tu_read_byte(const void *at)
{
    unsigned char v;
    tu_peek(&v, at, 1);
    return v;
}

static inline void tu_write_byte(void *at, unsigned char v) { tu_poke(at, &v, 1); }

/* XORs the check word of the header in front of payload p. */
static inline void tu_flip_check(void *p, uint32_t mask)
{
    hl_block *b = hl_payload_block(p);
    uint32_t check;
    tu_peek(&check, &b->check, sizeof check);
    check ^= mask;
    tu_poke(&b->check, &check, sizeof check);
}

/* The footer of the block whose payload is p, and its header word. */
static inline size_t *tu_footer_of(void *p)
{
    hl_block *b = hl_payload_block(p);
    size_t size_flags = tu_read_word(&b->size_flags);
    return (size_t *)((char *)b + (size_flags & ~HL_FLAGS) - HL_FOOTER);
}

/* Valgrind writes its own lines ("==pid== ...") to a child's stderr: drop them. */
static inline void tu_strip_valgrind(char *text, size_t *len)
{
    char *out = text;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
        size_t digits = 0;
        while (line[0] == '=' && line[1] == '=' && line[2 + digits] >= '0' && line[2 + digits] <= '9')
            digits++;
        int valgrind = digits > 0 && line[2 + digits] == '=' && line[3 + digits] == '=';
        if (!valgrind) {
            memmove(out, line, n);
            out += n;
        }
        line += n;
    }
    *out = '\0';
    *len = (size_t)(out - text);
}

/* --- the matrix --------------------------------------------------------------- */

enum tu_source { TU_BUF64K, TU_BUF1M, TU_MMAP, TU_SBRK, TU_SOURCE_COUNT };
enum { TU_POLICY_COUNT = 3 };

static inline hl_policy tu_policy(int i)
{
    return i == 0 ? HL_SEGREGATED_FIT : i == 1 ? HL_FIRST_FIT : HL_BEST_FIT;
}

static inline const char *tu_policy_name(hl_policy p)
{
    switch (p) {
    case HL_SEGREGATED_FIT: return "segregated_fit";
    case HL_FIRST_FIT: return "first_fit";
    case HL_BEST_FIT: return "best_fit";
    }
    return "?";
}

static inline const char *tu_source_name(int s)
{
    static const char *const names[TU_SOURCE_COUNT] = {"buffer64k", "buffer1m", "mmap", "sbrk"};
    return s >= 0 && s < TU_SOURCE_COUNT ? names[s] : "?";
}

static inline int tu_is_buffer(int s) { return s == TU_BUF64K || s == TU_BUF1M; }

/* The static arrays buffer heaps live in: one per size, reused by every test
 * (a buffer heap is destroyed before the next one is made on the same array). */
static inline unsigned char *tu_buffer(int s, size_t *size)
{
    static _Alignas(16) unsigned char small[64 * 1024];
    static _Alignas(16) unsigned char big[1024 * 1024];
    if (s == TU_BUF64K) { *size = sizeof small; return small; }
    if (s == TU_BUF1M) { *size = sizeof big; return big; }
    *size = 0;
    return NULL;
}

static inline hl_config tu_config(hl_policy p, int s)
{
    hl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = p;
    cfg.source = s == TU_MMAP ? HL_SOURCE_MMAP : s == TU_SBRK ? HL_SOURCE_SBRK : HL_SOURCE_BUFFER;
    cfg.buffer = tu_buffer(s, &cfg.buffer_size);
    return cfg;
}

/* The case the current cmocka group runs: main() sets it before each group. */
typedef struct tu_case { hl_policy policy; int source; } tu_case;
static inline tu_case *tu_current(void)
{
    static tu_case current;
    return &current;
}

static inline const char *tu_group_name(const char *prefix, tu_case c, char *buf, size_t len)
{
    snprintf(buf, len, "%s[%s/%s]", prefix, tu_policy_name(c.policy), tu_source_name(c.source));
    return buf;
}

/* --- the error recorder --------------------------------------------------------- */

enum { TU_MAX_ERRORS = 8 };
typedef struct tu_error_entry {
    hl_error_kind kind;
    const void *ptr;
    const hl_heap *heap;
    char message[256];
    char operation[32];
    int has_report;
    int report_id;
} tu_error_entry;
typedef struct tu_error_log {
    int count;                       /* every report, even past TU_MAX_ERRORS */
    tu_error_entry e[TU_MAX_ERRORS];
} tu_error_log;

static inline tu_error_log *tu_errors(void)
{
    static tu_error_log log;
    return &log;
}

/* Records the report and returns: the allocator must then do nothing. */
static inline void tu_record_error(const hl_error *err, void *ctx)
{
    tu_error_log *log = ctx;
    if (log->count < TU_MAX_ERRORS) {
        tu_error_entry *e = &log->e[log->count];
        e->kind = err->kind;
        e->ptr = err->ptr;
        e->heap = err->heap;
        snprintf(e->message, sizeof e->message, "%s", err->message ? err->message : "");
        snprintf(e->operation, sizeof e->operation, "%s", err->operation ? err->operation : "");
        e->has_report = err->report != NULL;
        e->report_id = err->report ? err->report->id : 0;
    }
    log->count++;
}

static inline void tu_errors_install(void)
{
    memset(tu_errors(), 0, sizeof *tu_errors());
    hl_set_error_handler(tu_record_error, tu_errors());
}

static inline void tu_errors_clear(void) { memset(tu_errors(), 0, sizeof *tu_errors()); }

static inline void tu_assert_no_errors(void)
{
    tu_error_log *log = tu_errors();
    if (log->count != 0)
        print_error("unexpected report: %s (%s)\n", log->e[0].message,
                    hl_error_kind_name(log->e[0].kind));
    assert_int_equal(log->count, 0);
}

static inline const char *tu_addr(const void *p, char *buf, size_t len)
{
    snprintf(buf, len, "%p", p);
    return buf;
}

/* One report entry is what the allocator must say about a misuse: its kind,
 * the caller's pointer, the heap, the operation, and one line that names the
 * operation and the address. */
static inline void tu_assert_error_entry(const tu_error_entry *e, hl_error_kind kind,
                                         const void *ptr, const hl_heap *h, const char *op)
{
    char addr[32];
    if (e->kind != kind)
        print_error("reported %s, expected %s: %s\n", hl_error_kind_name(e->kind),
                    hl_error_kind_name(kind), e->message);
    assert_int_equal(e->kind, kind);
    assert_ptr_equal(e->ptr, ptr);
    assert_ptr_equal(e->heap, h);
    assert_string_equal(e->operation, op);
    assert_true(strlen(e->message) > 0);
    assert_null(strchr(e->message, '\n'));
    assert_non_null(strstr(e->message, op));
    assert_non_null(strstr(e->message, tu_addr(ptr, addr, sizeof addr)));
}

/* Exactly one report, of this kind, for this pointer, heap and operation. */
static inline void tu_assert_one_error(hl_error_kind kind, const void *ptr, const hl_heap *h,
                                       const char *op)
{
    assert_int_equal(tu_errors()->count, 1);
    tu_assert_error_entry(&tu_errors()->e[0], kind, ptr, h, op);
}

/* For misuse that corrupted the heap itself: the first report is the misuse;
 * a checked build may add reports from its every-op check, which must then be
 * invariant reports carrying the checker's report. */
static inline void tu_assert_first_error(hl_error_kind kind, const void *ptr, const hl_heap *h,
                                         const char *op)
{
    tu_error_log *log = tu_errors();
    assert_true(log->count >= 1);
    tu_assert_error_entry(&log->e[0], kind, ptr, h, op);
    if (!hl_checked_build())
        assert_int_equal(log->count, 1);
    for (int i = 1; i < log->count && i < TU_MAX_ERRORS; i++) {
        assert_int_equal(log->e[i].kind, HL_ERR_INVARIANT);
        assert_true(log->e[i].has_report);
    }
}

/* A fresh heap for the current case, with the recording handler installed. */
typedef struct tu_fixture { hl_heap *h; tu_case c; hl_config cfg; } tu_fixture;

static inline int tu_setup(void **state)
{
    tu_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->c = *tu_current();
    f->cfg = tu_config(f->c.policy, f->c.source);
    tu_errors_install();
    f->h = hl_heap_create(&f->cfg);
    if (!f->h) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int tu_teardown(void **state)
{
    tu_fixture *f = *state;
    hl_heap_destroy(f->h);
    free(f);
    return 0;
}

/* --- the heap checker ------------------------------------------------------------- */

#define tu_assert_heap_ok(h) tu_assert_heap_ok_at((h), __FILE__, __LINE__)
static inline void tu_assert_heap_ok_at(const hl_heap *h, const char *file, int line)
{
    hl_check_report r;
    memset(&r, 0, sizeof r);
    int id = hl_heap_check(h, &r);
    if (id != 0) {
        print_error("%s:%d: hl_heap_check: %s\n", file, line, r.message);
        hl_check_report_print(&r, stderr);
    }
    assert_int_equal(id, 0);
}

static inline hl_stats tu_stats(const hl_heap *h)
{
    hl_stats st;
    memset(&st, 0xA5, sizeof st);  /* every field must be written */
    hl_heap_stats(h, &st);
    return st;
}

/* --- patterns and the shadow table ------------------------------------------------ */

static inline unsigned char tu_pattern(uint32_t seed, size_t i)
{
    return (unsigned char)(seed * 0x9Du + (uint32_t)i * 0x3Bu + (uint32_t)(i >> 7) + 1u);
}

static inline void tu_fill(void *p, size_t n, uint32_t seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = tu_pattern(seed, i);
}

/* Index of the first byte that lost its pattern, or n when all are intact. */
static inline size_t tu_first_bad(const void *p, size_t n, uint32_t seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != tu_pattern(seed, i))
            return i;
    return n;
}

#define tu_assert_intact(p, n, seed) tu_assert_intact_at((p), (n), (seed), __FILE__, __LINE__)
static inline void tu_assert_intact_at(const void *p, size_t n, uint32_t seed, const char *file, int line)
{
    size_t bad = tu_first_bad(p, n, seed);
    if (bad != n)
        print_error("%s:%d: block %p (%zu bytes) changed at byte %zu\n", file, line, p, n, bad);
    assert_int_equal(bad, n);
}

static inline int tu_all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

enum { TU_MAX_LIVE = 256 };
typedef struct tu_live { unsigned char *p; size_t n; uint32_t seed; } tu_live;
typedef struct tu_shadow {
    size_t count;
    size_t bytes;        /* sum of the requested sizes: stats.bytes_in_use */
    uint32_t next_seed;
    tu_live b[TU_MAX_LIVE];
} tu_shadow;

static inline void tu_shadow_init(tu_shadow *s, uint32_t first_seed)
{
    memset(s, 0, sizeof *s);
    s->next_seed = first_seed;
}

/* Records a new live block and fills it with its pattern. */
static inline void tu_shadow_add(tu_shadow *s, void *p, size_t n)
{
    assert_true(s->count < TU_MAX_LIVE);
    tu_live *l = &s->b[s->count++];
    l->p = p;
    l->n = n;
    l->seed = s->next_seed++;
    s->bytes += n;
    tu_fill(p, n, l->seed);
}

static inline void tu_shadow_remove(tu_shadow *s, size_t i)
{
    s->bytes -= s->b[i].n;
    s->b[i] = s->b[--s->count];
}

#define tu_shadow_verify(s) tu_shadow_verify_at((s), __FILE__, __LINE__)
static inline void tu_shadow_verify_at(const tu_shadow *s, const char *file, int line)
{
    for (size_t i = 0; i < s->count; i++)
        tu_assert_intact_at(s->b[i].p, s->b[i].n, s->b[i].seed, file, line);
}

/* A new block [p, p + usable) must not meet any live block's usable bytes. */
static inline void tu_shadow_assert_disjoint(const hl_heap *h, const tu_shadow *s, const void *p)
{
    const unsigned char *a = p;
    size_t an = hl_heap_usable_size(h, p);
    for (size_t i = 0; i < s->count; i++) {
        const unsigned char *b = s->b[i].p;
        if (b == a)
            continue;
        size_t bn = hl_heap_usable_size(h, b);
        if (a < b + (bn ? bn : 1) && b < a + (an ? an : 1))
            print_error("block %p+%zu overlaps live block %p+%zu\n", (void *)a, an, (void *)b, bn);
        assert_false(a < b + (bn ? bn : 1) && b < a + (an ? an : 1));
    }
}

static inline void tu_shadow_free_all(hl_heap *h, tu_shadow *s)
{
    while (s->count > 0) {
        hl_heap_free(h, s->b[s->count - 1].p);
        tu_shadow_remove(s, s->count - 1);
    }
}

/* --- random numbers (seeded, so a failure replays) ---------------------------------- */

static inline uint64_t tu_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline size_t tu_rand_range(uint64_t *state, size_t lo, size_t hi)
{
    return lo + (size_t)(tu_rand(state) % (hi - lo + 1));
}

/* --- the walk ------------------------------------------------------------------------ */

enum { TU_MAX_WALK = 8192 };
typedef struct tu_walk { size_t count; int overflow; hl_walk_info e[TU_MAX_WALK]; } tu_walk;

static inline int tu_walk_cb(const hl_walk_info *info, void *ctx)
{
    tu_walk *w = ctx;
    if (w->count == TU_MAX_WALK) {
        w->overflow = 1;
        return 0;
    }
    w->e[w->count++] = *info;
    return 0;
}

/* The walk of h, collected (free it with free()). */
static inline tu_walk *tu_walk_new(const hl_heap *h)
{
    tu_walk *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(hl_heap_walk(h, tu_walk_cb, w), 0);
    assert_false(w->overflow);
    return w;
}

static inline const hl_walk_info *tu_walk_payload(const tu_walk *w, const void *payload)
{
    for (size_t i = 0; i < w->count; i++)
        if (w->e[i].kind != HL_WALK_REGION && w->e[i].payload == payload)
            return &w->e[i];
    return NULL;
}

static inline size_t tu_walk_count(const tu_walk *w, hl_walk_kind kind, int used)
{
    size_t n = 0;
    for (size_t i = 0; i < w->count; i++)
        if (w->e[i].kind == kind && (kind != HL_WALK_BLOCK || used < 0 || w->e[i].used == used))
            n++;
    return n;
}

static inline int tu_walk_in_region(const tu_walk *w, const void *p)
{
    const char *c = p;
    for (size_t i = 0; i < w->count; i++) {
        const char *r = w->e[i].start;
        if (w->e[i].kind == HL_WALK_REGION && c >= r && c < r + w->e[i].size)
            return 1;
    }
    return 0;
}

/* --- sizes the layout implies (hl_internal.h) --------------------------------------- */

/* The block a request of n bytes takes: header + payload + footer, rounded. */
static inline size_t tu_block_size(size_t n)
{
    size_t s = (n + HL_OVERHEAD + HL_ALIGN - 1) & ~(size_t)(HL_ALIGN - 1);
    return s < HL_MIN_BLOCK ? HL_MIN_BLOCK : s;
}

/* --- text ------------------------------------------------------------------------------ */

/* A FILE* that writes into memory; the text is in buf after fflush. */
typedef struct tu_text { FILE *f; char *buf; size_t len; } tu_text;

static inline void tu_text_open(tu_text *t)
{
    t->buf = NULL;
    t->len = 0;
    t->f = open_memstream(&t->buf, &t->len);
    assert_non_null(t->f);
}

static inline const char *tu_text_get(tu_text *t)
{
    fflush(t->f);
    return t->buf ? t->buf : "";
}

static inline void tu_text_close(tu_text *t)
{
    fclose(t->f);
    free(t->buf);
    t->f = NULL;
    t->buf = NULL;
}

static inline size_t tu_count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static inline size_t tu_count_substr(const char *s, const char *what)
{
    size_t n = 0, len = strlen(what);
    for (const char *p = strstr(s, what); p; p = strstr(p + len, what))
        n++;
    return n;
}

/* The line of text that contains `what`, copied into buf ("" if none). */
static inline const char *tu_line_with(const char *text, const char *what, char *buf, size_t len)
{
    const char *p = strstr(text, what);
    buf[0] = '\0';
    if (!p)
        return buf;
    const char *start = p, *end = p;
    while (start > text && start[-1] != '\n')
        start--;
    while (*end && *end != '\n')
        end++;
    size_t n = (size_t)(end - start);
    if (n >= len)
        n = len - 1;
    memcpy(buf, start, n);
    buf[n] = '\0';
    return buf;
}

/* --- the child process --------------------------------------------------------------- */

typedef struct tu_child {
    int status;            /* as waitpid reports it */
    size_t len;
    char err[16384];       /* what the child wrote to stderr */
} tu_child;

static inline void tu_read_all(int fd, tu_child *c)
{
    c->len = 0;
    for (;;) {
        ssize_t n = read(fd, c->err + c->len, sizeof c->err - 1 - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        c->len += (size_t)n;
        if (c->len == sizeof c->err - 1)
            break;
    }
    c->err[c->len] = '\0';
}

/* Runs fn(arg) in a child whose stderr goes to c->err; the child exits 0 if
 * fn returns.  SIGABRT is reset so the child dies of it as a user's would. */
static inline void tu_run_child(void (*fn)(void *), void *arg, tu_child *c)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = tu_fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        tu_child_begin();   /* SIGABRT as a user's would get it */
        fn(arg);
        fflush(stderr);
        tu_child_exit(0);
    }
    close(fds[1]);
    tu_read_all(fds[0], c);
    tu_strip_valgrind(c->err, &c->len);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &c->status, 0), pid);
}

#endif /* HEAPLAB_TEST_UTIL_H */
