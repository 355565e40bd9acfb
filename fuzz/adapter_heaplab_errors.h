/*
 * adapter_heaplab_errors.h - heaplab's error handler, forwarded to an adapter's hooks.
 *
 * heaplab has one error handler for the whole process; both heaplab adapters
 * (adapter_heaplab.c: explicit heaps; adapter_heaplab_global.c: the global
 * API) install this one at create() and remove it at destroy(), so every
 * report reaches the oracle as an fz_error of the matching kind.
 */
#ifndef FZ_ADAPTER_HEAPLAB_ERRORS_H
#define FZ_ADAPTER_HEAPLAB_ERRORS_H

#include "adapter.h"

/* From now on, heaplab's reports go to hooks->on_error (a copy of *hooks is kept). */
void fz_heaplab_errors_forward(const fz_hooks *hooks);
/* Back to heaplab's default handler; the hooks are forgotten. */
void fz_heaplab_errors_stop(void);

#endif
