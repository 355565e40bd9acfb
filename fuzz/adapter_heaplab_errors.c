/* adapter_heaplab_errors.c - see adapter_heaplab_errors.h. */
#include "adapter_heaplab_errors.h"

#include <heaplab.h>
#include <stdio.h>

static fz_hooks current_hooks;

static fz_error_kind map_kind(hl_error_kind k)
{
    switch (k) {
    case HL_ERR_DOUBLE_FREE: return FZ_ERR_DOUBLE_FREE;
    case HL_ERR_INVALID_POINTER: return FZ_ERR_INVALID_POINTER;
    case HL_ERR_CORRUPTED_BLOCK: return FZ_ERR_CORRUPTED;
    case HL_ERR_INVARIANT: return FZ_ERR_INVARIANT;
    }
    return FZ_ERR_OTHER;
}

static void print_report(const void *report, FILE *out)
{
    hl_check_report_print(report, out);
}

static void on_hl_error(const hl_error *e, void *ctx)
{
    (void)ctx;
    fz_error err = {
        .kind = map_kind(e->kind), .ptr = e->ptr, .operation = e->operation,
        .message = e->message, .print_report = e->report ? print_report : NULL,
        .report = e->report,
    };
    if (current_hooks.on_error)
        current_hooks.on_error(current_hooks.ctx, &err);
}

void fz_heaplab_errors_forward(const fz_hooks *hooks)
{
    current_hooks = *hooks;
    hl_set_error_handler(on_hl_error, NULL);
}

void fz_heaplab_errors_stop(void)
{
    hl_set_error_handler(NULL, NULL);
    current_hooks = (fz_hooks){ 0 };
}
