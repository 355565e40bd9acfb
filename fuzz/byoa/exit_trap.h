/*
 * exit_trap.h - an allocator's exit() in the middle of an input is a finding.
 *
 * Every byoa executable links with -Wl,--wrap=exit, so each call of exit()
 * in the link (the allocator's among them) reaches __wrap_exit first.  While
 * an oracle is running (fz_oracle_running, or the trap is armed: the threaded
 * target, whose oracle is not fz_oracle) the installed handler is called
 * with the status; it reports and ends the process its own way.  Outside an
 * input (the engine finishing, the driver returning) exit() goes on as usual.
 * An atexit() backstop catches the exits the wrap cannot see (a prebuilt
 * shared library's), with the status unknown (-1).
 */
#ifndef BYOA_EXIT_TRAP_H
#define BYOA_EXIT_TRAP_H

#include <stdbool.h>

typedef void (*byoa_exit_fn)(int status);   /* status -1: unknown */

/* Installs fn (and, once, the atexit backstop). */
void byoa_exit_trap_install(byoa_exit_fn fn);
/* An input is running (true) or not (false), whatever fz_oracle_running says. */
void byoa_exit_trap_arm(bool on);

#endif /* BYOA_EXIT_TRAP_H */
