/*
 * capture.h - what an allocator prints, kept out of the engine's output and
 * shown with a finding.
 *
 * HEAPLAB_BYOA_OUTPUT chooses:
 *   tail   (default) the output goes to an in-memory file, emptied before each
 *          input; a finding prints its last BYOA_TAIL bytes
 *   all    the output goes where it would (the terminal, the engine's log)
 *   none   the output is discarded
 */
#ifndef BYOA_CAPTURE_H
#define BYOA_CAPTURE_H

#include <stddef.h>
#include <stdio.h>

enum { BYOA_TAIL = 8192 };
typedef enum byoa_output { BYOA_OUTPUT_TAIL, BYOA_OUTPUT_ALL, BYOA_OUTPUT_NONE } byoa_output;

/* The mode from the environment. */
byoa_output byoa_output_mode(void);
/* An empty in-memory file (memfd, or an unlinked temporary file); -1 on failure. */
int byoa_capture_open(void);
/* Empties it for the next input. */
void byoa_capture_rewind(int fd);
/* Points fd `to` (1: stdout, 2: stderr) at the capture file, or at /dev/null
 * when fd is -1; stdout becomes line-buffered, so no line is lost with the process. */
void byoa_capture_redirect(int fd, int to);
/* Prints the last `max` bytes written to fd, framed, to out. */
void byoa_capture_print_tail(int fd, size_t max, FILE *out);

#endif /* BYOA_CAPTURE_H */
