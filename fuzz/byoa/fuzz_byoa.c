/*
 * fuzz_byoa.c - the single-threaded target for a user's allocator: the
 * fuzz_heap property (no input breaks a rule of fuzz/oracle.h) through the
 * adapter the CMake function names, run by runner.h (a child per input by
 * default).  Compiled once per allocator by heaplab_add_allocator()
 * (fuzz/byoa.cmake), which defines:
 *   BYOA_NAME     "fuzz_heap_<NAME>"
 *   BYOA_ADAPTER  the adapter table's symbol (fz_adapter_<NAME>)
 *   BYOA_MODE     BYOA_FORK or BYOA_IN_PROCESS
 *   BYOA_TIMEOUT  seconds per input in fork mode
 *   BYOA_SBRK     1 if the allocator moves the program break
 */
#include "runner.h"

#include <stdint.h>

extern const fz_adapter BYOA_ADAPTER;

static const byoa_target target = {
    .name = BYOA_NAME, .adapter = &BYOA_ADAPTER, .mode = BYOA_MODE,
    .timeout = BYOA_TIMEOUT, .sbrk = BYOA_SBRK,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return byoa_run(&target, data, size);
}
