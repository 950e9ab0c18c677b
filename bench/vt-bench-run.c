/* Runs a command N times and prints the median wall time and the peak RSS (for bench/run). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static int by_value(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* usage: vt-bench-run N COMMAND [ARG]...; prints "median_ms=... min_ms=... max_rss_kb=... runs=N"
 */
int main(int argc, char **argv)
{
        if (argc < 3 || atoi(argv[1]) < 1) {
                fprintf(stderr, "usage: vt-bench-run N COMMAND [ARG]...\n");
                return 2;
        }
        int n = atoi(argv[1]);
        double *ms = calloc((size_t)n, sizeof(*ms));
        long max_rss = 0;
        if (!ms)
                return 1;
        for (int i = 0; i < n; i++) {
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                pid_t pid = fork();
                if (pid < 0)
                        return 1;
                if (pid == 0) {
                        int null = open("/dev/null", O_WRONLY);
                        if (null >= 0)
                                dup2(null, 1);
                        execvp(argv[2], argv + 2);
                        _exit(127);
                }
                int st;
                struct rusage ru;
                if (wait4(pid, &st, 0, &ru) != pid)
                        return 1;
                clock_gettime(CLOCK_MONOTONIC, &b);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                        fprintf(stderr, "vt-bench-run: %s failed (status %d)\n", argv[2], st);
                        return 1;
                }
                ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
                if (ru.ru_maxrss > max_rss)
                        max_rss = ru.ru_maxrss;
        }
        qsort(ms, (size_t)n, sizeof(*ms), by_value);
        double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
        printf("median_ms=%.2f min_ms=%.2f max_rss_kb=%ld runs=%d\n", median, ms[0], max_rss, n);
        free(ms);
        return 0;
}
