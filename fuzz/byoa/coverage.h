/*
 * coverage.h - carrying a forked child's coverage back to the engine.
 *
 * libFuzzer reads the inline 8-bit counters that -fsanitize=fuzzer(-no-link)
 * puts in the section __sancov_cntrs of the executable.  A child forked for an
 * input increments its own copy of them; before it ends it saves them into
 * shared memory, and the parent copies them over its own, so libFuzzer sees
 * the allocator's coverage as if the input had run in process.  (AFL++ writes
 * its map in shared memory already; an executable without the section - the
 * replay driver - has nothing to carry.)  The comparison operands libFuzzer
 * records for its mutations (trace-cmp) stay in the child.
 */
#ifndef BYOA_COVERAGE_H
#define BYOA_COVERAGE_H

#include <stddef.h>

/* Bytes of counters (0 when the executable has none). */
size_t byoa_coverage_size(void);
void byoa_coverage_save(unsigned char *to);
void byoa_coverage_load(const unsigned char *from);

#endif /* BYOA_COVERAGE_H */
