/* coverage.c - see coverage.h. */
#include "coverage.h"

#include <stdint.h>
#include <string.h>

/* Defined by the linker around the section when it exists; weak, so NULL when not. */
extern unsigned char __start___sancov_cntrs[] __attribute__((weak));
extern unsigned char __stop___sancov_cntrs[] __attribute__((weak));

size_t byoa_coverage_size(void)
{
    uintptr_t a = (uintptr_t)__start___sancov_cntrs, b = (uintptr_t)__stop___sancov_cntrs;
    return a && b > a ? b - a : 0;
}

void byoa_coverage_save(unsigned char *to)
{
    size_t n = byoa_coverage_size();
    if (n)
        memcpy(to, __start___sancov_cntrs, n);
}

void byoa_coverage_load(const unsigned char *from)
{
    size_t n = byoa_coverage_size();
    if (n)
        memcpy(__start___sancov_cntrs, from, n);
}
