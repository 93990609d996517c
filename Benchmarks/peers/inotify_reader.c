/* The floor of scenario 1: a minimal inotify reader.
 *
 *   inotify_reader DIR OUTFILE
 *
 * Watches DIR for IN_CLOSE_WRITE and IN_MOVED_TO, writes "READY" to OUTFILE once the
 * watch is in place, then one line "<name> <CLOCK_REALTIME microseconds>" per event,
 * the clock read as soon as read() returns. Runs until SIGTERM. Build: cc -O2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s DIR OUTFILE\n", argv[0]); return 64; }
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) { perror("inotify_init1"); return 1; }
    if (inotify_add_watch(fd, argv[1], IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0) { perror(argv[1]); return 1; }
    FILE *out = fopen(argv[2], "a");
    if (!out) { perror(argv[2]); return 1; }
    fputs("READY\n", out);
    fflush(out);
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) { if (errno == EINTR) continue; perror("read"); return 1; }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long us = (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            if (e->len > 0) fprintf(out, "%s %lld\n", e->name, us);
            p += sizeof(struct inotify_event) + e->len;
        }
        fflush(out);
    }
}
