/* The agent the harness gives agent-watcher (scenarios 1, 2, 4, 7): it does what its plan
 * file says and nothing else, so the figures measure the watcher, not the agent.
 *
 *   bench_agent PLAN SRC OUT
 *
 * PLAN holds "<delay_us> <rename|inplace> <hold_us>". The agent sleeps delay_us, copies SRC
 * to OUT (in place: open OUT, write, close; rename: write OUT's folder's tmp/<name>.<pid>,
 * close, rename into OUT), prints "written <CLOCK_REALTIME microseconds>" read just before
 * the close() or rename() that completes the file, sleeps hold_us and exits 0.
 * A missing plan means "0 rename 0". Build: cc -O2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void sleep_us(long long us) {
    if (us <= 0) return;
    struct timespec req = { us / 1000000, (us % 1000000) * 1000 }, rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
}

static char *slurp(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len == cap) buf = realloc(buf, cap *= 2);
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    *size = len;
    return buf;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w; n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s PLAN SRC OUT\n", argv[0]); return 64; }
    long long delay = 0, hold = 0;
    char mode[16] = "rename";
    size_t plan_size = 0;
    char *plan = slurp(argv[1], &plan_size);
    if (plan) {
        plan = realloc(plan, plan_size + 1);
        plan[plan_size] = 0;
        sscanf(plan, "%lld %15s %lld", &delay, mode, &hold);
    }
    size_t size = 0;
    char *data = slurp(argv[2], &size);
    if (!data) { perror(argv[2]); return 1; }
    sleep_us(delay);
    long long ts;
    if (strcmp(mode, "inplace") == 0) {
        int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, data, size) != 0) { perror(argv[3]); return 1; }
        ts = now_us();
        close(fd);
    } else {
        char tmp[4096];
        const char *slash = strrchr(argv[3], '/');
        int dirlen = slash ? (int)(slash - argv[3]) : 1;
        snprintf(tmp, sizeof tmp, "%.*s/tmp/%s.%d", dirlen, slash ? argv[3] : ".", slash ? slash + 1 : argv[3], (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, data, size) != 0) { perror(tmp); return 1; }
        close(fd);
        ts = now_us();
        if (rename(tmp, argv[3]) != 0) { perror("rename"); return 1; }
    }
    printf("written %lld\n", ts);
    fflush(stdout);
    sleep_us(hold);
    return 0;
}
