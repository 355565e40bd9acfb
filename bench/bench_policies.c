/*
 * bench_policies.c - throughput of each heaplab policy, with glibc's malloc as
 * the reference.
 *
 * Every workload keeps a working set of live blocks and, in its timed loop,
 * frees a randomly chosen one and allocates a block of a random size in its
 * place: one malloc+free pair per step, so the heap stays at a steady state.
 * The steps (which slot, which size) are drawn beforehand from a xorshift
 * generator with a fixed seed, so every allocator replays exactly the same
 * sequence and the timed loop holds nothing but the allocator and one store
 * into each new block.  Each heap is an mmap heap with the defaults; after the
 * loop (untimed) the heap must pass hl_heap_check.
 *
 * Prints a markdown table: ops/s (a malloc and a free are one op each), ns per
 * malloc+free pair and the ratio to glibc, each the median of the repeats.
 *
 * usage: bench_policies [-q] [-r repeats]   (-q: a tenth of the steps)
 */
#include "heaplab.h"

#include <gnu/libc-version.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { REPEATS_DEFAULT = 5, REPEATS_MAX = 21 };

/* A workload: sizes drawn from [min, max], `live` blocks at a time. */
typedef struct workload {
    const char *name;
    size_t min, max;
    int log_uniform;        /* sizes spread evenly over powers of two */
    uint32_t live;
    uint32_t steps;         /* malloc+free pairs in the timed loop */
} workload;

static const workload workloads[] = {
    { "small (16-128 B)", 16, 128, 0, 1000, 2000000 },
    { "mixed (16 B-4 KiB)", 16, 4096, 1, 1000, 500000 },
    { "large (8-64 KiB)", 8192, 65536, 0, 100, 200000 },
};
enum { WORKLOADS = sizeof workloads / sizeof workloads[0] };

/* What is measured: a heaplab policy, or glibc's malloc (policy < 0). */
typedef struct subject {
    const char *name;
    int policy;
} subject;

static const subject subjects[] = {
    { "first fit", HL_FIRST_FIT },
    { "best fit", HL_BEST_FIT },
    { "segregated fit", HL_SEGREGATED_FIT },
    { "glibc malloc (reference)", -1 },
};
enum { SUBJECTS = sizeof subjects / sizeof subjects[0] };

/* The pre-drawn steps of one workload. */
typedef struct trace {
    uint32_t *slot;         /* steps: which live block to replace */
    uint32_t *size;         /* live + steps: the initial sizes, then each step's */
} trace;

static void die(const char *what)
{
    fprintf(stderr, "bench_policies: %s\n", what);
    exit(1);
}

/* xorshift64 (Marsaglia): fast, deterministic, good enough to pick sizes. */
static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return xorshift64(s) % n;
}

static size_t draw_size(const workload *w, uint64_t *s)
{
    if (!w->log_uniform)
        return w->min + below(s, w->max - w->min + 1);
    /* an octave [2^k, 2^(k+1)) first, then a size inside it */
    unsigned lo = 0, hi = 0;
    while (((size_t)2 << lo) <= w->min)
        lo++;
    while (((size_t)1 << hi) < w->max)
        hi++;
    size_t base = (size_t)1 << (lo + below(s, hi - lo));
    size_t size = base + below(s, base);
    return size < w->min ? w->min : size > w->max ? w->max : size;
}

static trace make_trace(const workload *w, uint64_t seed)
{
    trace t = {
        .slot = malloc(w->steps * sizeof *t.slot),
        .size = malloc((w->live + (size_t)w->steps) * sizeof *t.size),
    };
    if (!t.slot || !t.size)
        die("out of memory for the trace");
    for (uint32_t i = 0; i < w->live + w->steps; i++)
        t.size[i] = (uint32_t)draw_size(w, &seed);
    for (uint32_t i = 0; i < w->steps; i++)
        t.slot[i] = (uint32_t)below(&seed, w->live);
    return t;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *subject_malloc(hl_heap *h, size_t n)
{
    return h ? hl_heap_malloc(h, n) : malloc(n);
}

static void subject_free(hl_heap *h, void *p)
{
    if (h)
        hl_heap_free(h, p);
    else
        free(p);
}

/* One repeat: fill the working set, time the steps, check, tear down.
 * Returns ns per malloc+free pair. */
static double run_once(const subject *s, const workload *w, const trace *t)
{
    hl_heap *h = NULL;
    if (s->policy >= 0) {
        hl_config cfg = { .policy = (hl_policy)s->policy, .source = HL_SOURCE_MMAP };
        h = hl_heap_create(&cfg);
        if (!h)
            die("hl_heap_create failed");
    }
    unsigned char **live = calloc(w->live, sizeof *live);
    if (!live)
        die("out of memory for the working set");
    for (uint32_t i = 0; i < w->live; i++)
        if (!(live[i] = subject_malloc(h, t->size[i])))
            die("malloc failed while filling the working set");

    const uint32_t *size = t->size + w->live;
    double start = now_ns();
    for (uint32_t k = 0; k < w->steps; k++) {
        uint32_t i = t->slot[k];
        subject_free(h, live[i]);
        live[i] = subject_malloc(h, size[k]);
        if (!live[i])
            die("malloc failed in the timed loop");
        live[i][0] = (unsigned char)k;   /* the program uses its block */
    }
    double elapsed = now_ns() - start;

    if (h) {
        hl_check_report report;
        if (hl_heap_check(h, &report) != 0) {
            hl_check_report_print(&report, stderr);
            die("the heap failed its check after the benchmark");
        }
    }
    for (uint32_t i = 0; i < w->live; i++)
        subject_free(h, live[i]);
    free(live);
    if (h)
        hl_heap_destroy(h);
    return elapsed / w->steps;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_ns(const subject *s, const workload *w, const trace *t, int repeats)
{
    double ns[REPEATS_MAX];
    for (int r = 0; r < repeats; r++)
        ns[r] = run_once(s, w, t);
    qsort(ns, (size_t)repeats, sizeof ns[0], by_value);
    return ns[repeats / 2];
}

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += strspn(colon + 1, " \t") + 1;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(out, len, "%s", colon);
            break;
        }
    }
    fclose(f);
}

static const char *compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

static void print_header(int repeats, double scale)
{
    char cpu[200];
    cpu_model(cpu, sizeof cpu);
    printf("## heaplab policy throughput\n\n");
    printf("- machine: %ld cores (nproc), %s\n", sysconf(_SC_NPROCESSORS_ONLN), cpu);
    printf("- compiler: %s; glibc %s\n", compiler(), gnu_get_libc_version());
    printf("- heaplab: %s build; mmap heaps, default settings\n",
           hl_checked_build() ? "CHECKED (slow: every-op check)" : "release");
    printf("- median of %d repeats%s\n\n", repeats, scale < 1 ? "; quick run (-q)" : "");
    printf("| allocator | workload | live blocks | ops/s | ns per malloc+free | vs glibc |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
}

int main(int argc, char **argv)
{
    int repeats = REPEATS_DEFAULT;
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-q") == 0)
            scale = 0.1;
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else
            die("usage: bench_policies [-q] [-r repeats]");
    }
    if (repeats < 1 || repeats > REPEATS_MAX)
        die("repeats must be between 1 and 21");

    print_header(repeats, scale);
    for (int wi = 0; wi < WORKLOADS; wi++) {
        workload w = workloads[wi];
        w.steps = (uint32_t)(w.steps * scale);
        trace t = make_trace(&w, 0x9E3779B97F4A7C15u + (uint64_t)wi);
        double ns[SUBJECTS];
        for (int si = 0; si < SUBJECTS; si++)
            ns[si] = median_ns(&subjects[si], &w, &t, repeats);
        double glibc = ns[SUBJECTS - 1];
        for (int si = 0; si < SUBJECTS; si++)
            printf("| %s | %s | %u | %.2fM | %.1f | %.2f |\n", subjects[si].name, w.name,
                   w.live, 2e9 / ns[si] / 1e6, ns[si], ns[si] / glibc);
        fflush(stdout);
        free(t.slot);
        free(t.size);
    }
    return 0;
}
