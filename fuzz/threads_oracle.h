/*
 * threads_oracle.h - the shadow model of a thread-safe global allocator for
 * fuzz_threads, and its rules.  The allocator is driven through an adapter
 * (adapter.h): heaplab's global API (adapter_heaplab_global.c) for
 * fuzz_threads itself, a user's allocator for fuzz_threads_<name>
 * (fuzz/byoa/, docs/byoa.md).  The adapter must claim FZ_CLAIM_THREAD_SAFE,
 * and its create() gives one process-wide heap that every thread calls.
 *
 * A model is a table of FZ_SLOTS slots, each a live block with the pattern
 * its slot and generation write (pattern.h).  In the deterministic mode one
 * model is shared by every thread (the turnstile runs one operation at a
 * time, and a slot filled by one thread may be freed or realloc'd by
 * another); in the free-running mode each thread has a model of its own and
 * hands blocks over through queues.  A lane is one thread index of the input:
 * its pthread, restarted after an `exit`, is a new incarnation.
 *
 * Rules (a broken one is recorded once, in the shared sink, and ends the input):
 * Each rule below that rests on a claim or an optional function of the adapter
 * applies only when the adapter has it, as in fuzz_heap's oracle (oracle.h).
 *
 *   aligned          claims.min_align, or the alignment asked
 *   overlap          no two live blocks share a byte of their usable sizes
 *   contents         every live block keeps its pattern (on free, realloc, fill,
 *                    hand-over, misuse, and in the sweeps)
 *   realloc-prefix   realloc keeps min(old, new) bytes, from any thread
 *   calloc-zero      calloc returns zeros
 *   calloc-overflow  count * size overflowing returns NULL
 *   huge             a request above PTRDIFF_MAX returned a block
 *   null             NULL for a request within the harness budget from an
 *                    allocator that claims NULL only on exhaustion and can grow
 *                    with no cap (heaplab's global API: it must serve it)
 *   errno            ENOMEM on NULL, EINVAL for a bad alignment (FZ_CLAIM_ERRNO)
 *   einval           a bad alignment returned a block
 *   usable-size      usable_size >= request (== request with FZ_CLAIM_USABLE_EXACT,
 *                    heaplab's checked builds), stable
 *   stats            the adapter's stats: blocks in use == the blocks the model
 *                    holds (heaplab's adapter leaves out blocks still waiting on
 *                    remote-free stacks)
 *   misuse-missed / misuse-kind / misuse-changed   as fuzz_heap's oracle (misuse is
 *                    issued only to an allocator that claims to detect it)
 *   unexpected-error the allocator reported an error nobody provoked
 *   checker          the adapter's check (heaplab: hl_check_all, or the every-op
 *                    check) found a violation
 */
#ifndef FZT_ORACLE_H
#define FZT_ORACLE_H

#include "adapter.h"
#include "ops.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
    FZT_REQUEST_BUDGET = 8 << 20,   /* larger requests (up to PTRDIFF_MAX) are skipped */
    FZT_LIVE_BUDGET = 32 << 20,     /* live bytes per model */
    FZT_MAX_MODELS = 8,             /* one per thread at most */
};

typedef struct fzt_slot {
    unsigned char *p;        /* the live block, or NULL */
    size_t n;                /* size requested */
    size_t usable;           /* usable_size() at allocation: bytes holding the pattern */
    uint32_t gen;
    unsigned inc;            /* incarnation of the thread whose heap served it */
    unsigned from;           /* thread index that allocated it (for messages) */
    bool maybe_large;        /* big or aligned enough to have a mapping of its own */
    /* The last block freed from this slot, and whether passing it again is
     * certainly a double free: freed by the incarnation that allocated it
     * (no remote stack in between), not large, and no allocation or thread
     * exit since (model epoch unchanged), so its memory is still a free block. */
    const unsigned char *stale;
    bool stale_sure;
    uint64_t stale_epoch;
} fzt_slot;

typedef struct fzt_model {
    fzt_slot slots[FZ_SLOTS];
    size_t live_blocks, live_bytes;
    uint64_t epoch;          /* allocations and exits seen */
    uint64_t seed_salt;      /* per-lane models: patterns differ between lanes */
    size_t live_budget;
} fzt_model;

/* Where the first broken rule of an input goes, shared by every thread; it
 * also holds the allocator under test, which everything that reports uses. */
typedef struct fzt_sink {
    pthread_mutex_t mu;
    const char *target;      /* "fuzz_threads": prefixes every message */
    const fz_adapter *ad;
    void *heap;              /* what ad->create() returned */
    fz_claims claims;
    fz_hooks hooks;          /* given to create(): errors come back to this sink */
    /* Optional: told the operation the deterministic mode is about to run
     * (fuzz/byoa/'s runner keeps it, to say where a crash happened). */
    void (*progress)(size_t op_index);
    bool failed;
    size_t op_index;         /* 1-based; 0: a sync point or the end */
    char op_text[FZ_OP_TEXT];
    const char *rule;
    char details[512];
    char report[4096];       /* the checker's report, when it made one */
    bool abort_on_error;     /* FZT_ABORT_ON_ERROR: any report is fatal at once */
} fzt_sink;

struct fzt_lane;
/* Free-running: hands slot s's block to another thread; false to free it here. */
typedef bool (*fzt_give_fn)(struct fzt_lane *l, fzt_slot *s, unsigned slot);

/* One thread of the input, while it runs an operation. */
typedef struct fzt_lane {
    unsigned index;          /* thread index in the input */
    unsigned inc;            /* incarnation (unique per pthread started) */
    fzt_model *m;
    fzt_sink *sink;
    fzt_give_fn give;        /* NULL: free here */
    void *give_ctx;
    /* the operation in flight */
    size_t op_index;
    const fz_op *op;
    fz_error_kind expect;
    unsigned expect_hits;
    char note[160];
} fzt_lane;

/* Opens the allocator for one input: ad->create() with the hooks that take
 * its error reports.  -1 when the adapter refuses, or does not claim
 * FZ_CLAIM_THREAD_SAFE (*why says which). */
int fzt_sink_open(fzt_sink *k, const char *target, const fz_adapter *ad, const char **why);
/* ad->destroy(); every thread of the input has been joined. */
void fzt_sink_close(fzt_sink *k);
bool fzt_failed(fzt_sink *k);
void fzt_violation(fzt_sink *k, size_t op_index, const fz_op *op, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* "<target>: op #N tT <op>: rule <name>: <details>", "verdict: op #N tT <op>: rule <name>", then
 * the report ("<target>: rule ..." and "verdict: during the input: ..." for a free-running one). */
void fzt_print_violation(fzt_sink *k, FILE *out);

void fzt_model_init(fzt_model *m, uint64_t salt, size_t live_budget);
/* Errors the allocator reports go to the lane running on the calling thread,
 * or are unexpected. */
void fzt_lane_enter(fzt_lane *l);   /* the calling thread runs operations of l */
/* The operation the calling thread is running, "op #N tT <op>" (for a finding
 * made outside the oracle: exit() called from the allocator); false if none. */
bool fzt_lane_describe(char *buf, size_t len);
/* The allocator's free, for a block the harness hands back outside an operation. */
void fzt_free(fzt_sink *k, void *p);
void *fzt_realloc(fzt_sink *k, void *p, size_t n);

/* Runs one operation (not `exit`) on the calling thread. */
void fzt_apply(fzt_lane *l, const fz_op *op);

/* Rules over whole models (after an operation, at a sync point): every live
 * block keeps its pattern, and no two overlap.  op: the operation just run, or NULL. */
bool fzt_sweep(fzt_sink *k, fzt_model *const *ms, unsigned nm, size_t op_index, const fz_op *op,
               const char *when);
uint64_t fzt_slot_seed(const fzt_model *m, unsigned slot, uint32_t gen);
/* The adapter's check, then its stats against `live` blocks held by the harness. */
bool fzt_check_world(fzt_sink *k, size_t op_index, const fz_op *op, size_t live, const char *when);
/* Verifies and frees every block of m from the calling thread; the model empties. */
void fzt_release_all(fzt_sink *k, fzt_model *m, const char *when);

#endif /* FZT_ORACLE_H */
