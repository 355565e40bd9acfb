/*
 * preload_stress.c - plain malloc/free under LD_PRELOAD=libheaplab.so, in the
 * situations that break a replacement malloc: many threads freeing each
 * other's blocks, fork() while those threads allocate, a dlopen()ed library
 * whose thread-local storage is allocated by malloc on first touch, and a
 * free() of a pointer that malloc never returned.
 *
 * Usage: preload_stress DSO
 * Exits 0 when every check passed, 1 with a message on the first failure.
 * Refuses to run (exit 2) unless malloc in this process is heaplab's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { THREADS = 16, ROUNDS = 20000, MAILBOX = 512, FORKS = 4 };

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "preload_stress: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* --- blocks that carry their own check pattern ------------------------------------ */
typedef struct msg {
    unsigned char *p;
    size_t size;
    int maker;   /* thread that allocated it */
} msg;

static unsigned char pattern_of(const msg *m) { return (unsigned char)(m->size * 31u + (size_t)m->maker); }

static void fill(msg *m) { memset(m->p, pattern_of(m), m->size); }

static void verify(const msg *m, size_t upto) {
    unsigned char want = pattern_of(m);
    for (size_t i = 0; i < upto; i++)
        if (m->p[i] != want) fail("block %p (%zu B, thread %d): byte %zu is %#x, expected %#x", (void *)m->p, m->size, m->maker, i, m->p[i], want);
}

static uint64_t next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mostly small blocks, now and then one above the mmap threshold. */
static size_t pick_size(uint64_t *rng) {
    uint64_t r = next_random(rng);
    return r % 64 == 0 ? 200000 + r % 100000 : 1 + r % 2048;
}

/* --- the mailbox through which threads hand blocks to each other ----------------- */
static pthread_mutex_t box_lock = PTHREAD_MUTEX_INITIALIZER;
static msg box[MAILBOX];
static size_t box_count;
static long cross_frees;

static int box_put(msg m) {
    pthread_mutex_lock(&box_lock);
    int ok = box_count < MAILBOX;
    if (ok) box[box_count++] = m;
    pthread_mutex_unlock(&box_lock);
    return ok;
}

static int box_take(msg *m, uint64_t *rng) {
    pthread_mutex_lock(&box_lock);
    int ok = box_count > 0;
    if (ok) {
        size_t i = next_random(rng) % box_count;
        *m = box[i];
        box[i] = box[--box_count];
    }
    pthread_mutex_unlock(&box_lock);
    return ok;
}

/* --- the threads ------------------------------------------------------------------ */
static int (*dso_work)(int);

typedef struct worker {
    pthread_t tid;
    int id;
    long cross;
} worker;

/* Takes a block from the mailbox, checks it, grows or shrinks some, frees it. */
static void consume(worker *w, uint64_t *rng) {
    msg m;
    if (!box_take(&m, rng)) return;
    verify(&m, m.size);
    if (next_random(rng) % 4 == 0) {
        size_t n = pick_size(rng);
        unsigned char *q = realloc(m.p, n);
        if (!q) fail("realloc(%p, %zu) failed", (void *)m.p, n);
        m.p = q;
        verify(&m, m.size < n ? m.size : n);
        m.size = n;
        m.maker = w->id;
    }
    if (m.maker != w->id) w->cross++;
    free(m.p);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
    int sum = dso_work(w->id);
    if (sum != 4096 * (w->id & 0xff)) fail("thread %d: dlopen()ed library computed %d", w->id, sum);
    for (int i = 0; i < ROUNDS; i++) {
        if (next_random(&rng) % 2) {
            msg m = { NULL, pick_size(&rng), w->id };
            m.p = malloc(m.size);
            if (!m.p) fail("malloc(%zu) failed", m.size);
            fill(&m);
            if (!box_put(m)) free(m.p);
        } else {
            consume(w, &rng);
        }
    }
    return NULL;
}

/* --- fork while the workers allocate ------------------------------------------------ */
static void *child_thread(void *arg) {
    uint64_t rng = (uintptr_t)arg | 1;
    for (int i = 0; i < 2000; i++) {
        msg m = { NULL, pick_size(&rng), 99 };
        m.p = malloc(m.size);
        if (!m.p) fail("child thread: malloc failed");
        fill(&m);
        verify(&m, m.size);
        free(m.p);
    }
    return NULL;
}

/* The child of a multi-threaded parent: malloc and free must work, also in
 * new threads, whatever locks the parent's threads held at fork(). */
static void child_after_fork(void) {
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, child_thread, (void *)(i + 1))) _exit(3);
    child_thread((void *)7);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    _exit(0);
}

static void fork_during_work(int round) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) child_after_fork();
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("fork %d: the child failed (status %#x)", round, st);
}

/* --- free() of a pointer malloc never returned --------------------------------------- */
static char not_from_malloc[64];

/* Runs free(p) in a child with stderr captured; the child must die of
 * SIGABRT after saying "heaplab: free(): invalid pointer". */
static void expect_reported(const char *what, void *p) {
    int fds[2];
    if (pipe(fds)) fail("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        void *volatile launder = p;
        free(launder);
        _exit(0);   /* not reported: the parent fails the test */
    }
    close(fds[1]);
    char out[512] = "";
    size_t len = 0;
    ssize_t n;
    while (len < sizeof out - 1 && (n = read(fds[0], out + len, sizeof out - 1 - len)) > 0) len += (size_t)n;
    out[len] = '\0';
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
        fail("free(%s): the child was not aborted (status %#x, stderr \"%s\")", what, st, out);
    if (!strstr(out, "heaplab: free(): invalid pointer"))
        fail("free(%s): stderr \"%s\" lacks heaplab's report", what, out);
    printf("free(%s) reported: %s", what, out);
}

static void require_heaplab(void) {
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    if (!sym || !dladdr(sym, &info) || !info.dli_fname || !strstr(info.dli_fname, "libheaplab")) {
        fprintf(stderr, "preload_stress: malloc is not heaplab's: run with LD_PRELOAD=libheaplab.so\n");
        exit(2);
    }
    printf("malloc comes from %s\n", strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1 : info.dli_fname);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: preload_stress DSO\n");
        return 2;
    }
    require_heaplab();
    size_t in_use_before = mallinfo2().uordblks;

    void *dso = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!dso) fail("dlopen(%s): %s", argv[1], dlerror());
    dso_work = (int (*)(int))dlsym(dso, "preload_dso_work");
    if (!dso_work) fail("dlsym: %s", dlerror());

    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ .id = i };
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) fail("pthread_create failed");
    }
    for (int i = 0; i < FORKS; i++) fork_during_work(i);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].tid, NULL);
        cross_frees += w[i].cross;
    }
    msg m;
    uint64_t rng = 1;
    while (box_take(&m, &rng)) {
        verify(&m, m.size);
        free(m.p);
    }
    if (dlclose(dso)) fail("dlclose: %s", dlerror());
    printf("%d threads x %d rounds: %ld blocks freed by a thread that did not allocate them\n", THREADS, ROUNDS, cross_frees);
    printf("%d forks during the run: every child allocated and exited cleanly\n", FORKS);
    if (cross_frees < 1000) fail("too few cross-thread frees (%ld) to test anything", cross_frees);

    /* Thread stacks and their TLS stay cached by glibc: allow for them. */
    size_t in_use_after = mallinfo2().uordblks;
    printf("heaplab bytes in use: %zu before, %zu after\n", in_use_before, in_use_after);
    if (in_use_after > in_use_before + (1u << 20)) fail("%zu bytes still in use after every block was freed", in_use_after - in_use_before);

    expect_reported("static array", not_from_malloc + 16);
    void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gone == MAP_FAILED) fail("mmap: %s", strerror(errno));
    munmap(gone, 4096);
    expect_reported("unmapped page", (char *)gone + 64);
    printf("ok\n");
    return 0;
}
