/*
 * fuzz_heap.c - the single-threaded target: every configuration of an
 * explicit heaplab heap, every operation, the shadow-model oracle after each.
 *
 * Property: no input makes heaplab break a rule of fuzz/oracle.h, report an
 * error nobody provoked, or fail its own heap check.  A violation prints
 * "fuzz_heap: op #N <op>: rule <name>: <details>" and abort()s.
 * Each input gets a fresh heap, destroyed before returning.
 */
#include "adapter.h"
#include "oracle.h"
#include "ops.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_oracle o;   /* 20 KB: off the stack */
    fz_decoder d;
    fz_decode_begin(&d, data, size);
    const char *why;
    if (fz_oracle_open(&o, &fz_adapter_heaplab, &d.hdr, &why) != 0)
        return 0;   /* every header choice is accepted; ctest fuzz_configs proves it */
    fz_op op;
    while (fz_decode_next(&d, &op) && fz_oracle_step(&o, &op))
        continue;
    if (!fz_oracle_finish(&o)) {
        fz_oracle_print_violation(&o, stderr);
        fflush(stderr);
        abort();
    }
    fz_oracle_close(&o);
    return 0;
}
