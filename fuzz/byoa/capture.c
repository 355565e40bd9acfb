/* capture.c - see capture.h. */
#define _GNU_SOURCE
#include "capture.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

byoa_output byoa_output_mode(void)
{
    const char *e = getenv("HEAPLAB_BYOA_OUTPUT");
    if (e && !strcmp(e, "all"))
        return BYOA_OUTPUT_ALL;
    if (e && !strcmp(e, "none"))
        return BYOA_OUTPUT_NONE;
    return BYOA_OUTPUT_TAIL;
}

int byoa_capture_open(void)
{
    int fd = memfd_create("byoa-output", 0);
    if (fd >= 0)
        return fd;
    FILE *f = tmpfile();   /* kernels without memfd */
    return f ? dup(fileno(f)) : -1;
}

void byoa_capture_rewind(int fd)
{
    if (fd < 0)
        return;
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) < 0)
        return;   /* the tail then shows older output too: harmless */
}

void byoa_capture_redirect(int fd, int to)
{
    int target = fd >= 0 ? fd : open("/dev/null", O_WRONLY);
    if (target < 0)
        return;
    fflush(to == 1 ? stdout : stderr);
    dup2(target, to);
    if (target != fd)
        close(target);
    if (to == 1)
        setvbuf(stdout, NULL, _IOLBF, 0);
}

void byoa_capture_print_tail(int fd, size_t max, FILE *out)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0)
        return;
    size_t size = (size_t)st.st_size, from = size > max ? size - max : 0;
    char *buf = malloc(size - from);
    ssize_t got = buf ? pread(fd, buf, size - from, (off_t)from) : -1;
    if (got > 0) {
        fprintf(out, "---- the process's output%s (%zu bytes) ----\n", from ? ", its end" : "", size);
        fwrite(buf, 1, (size_t)got, out);
        fprintf(out, "%s---- end of the output ----\n", buf[got - 1] == '\n' ? "" : "\n");
    }
    free(buf);
}
