/*
 * bench/hostile: virtuned against a hostile host, on a socket: SIGTERM exit time under a flood
 * (against an idle daemon, the anchor), split into the daemon's CPU time and its wait for a CPU
 * (schedstat), the machine's load alongside; RSS before and after stray bytes and pipelined pings.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
        perror(what);
        exit(1);
}

struct daemon {
        pid_t pid;
        int fd;
};

/* virtuned --root ROOT --port-path ROOT/port.sock, and our end of its port. */
static struct daemon start(const char *exe, const char *root)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char *sock = sa.sun_path;
        snprintf(sock, sizeof(sa.sun_path), "%.60s/port.sock", root);
        unlink(sock);
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
                die("socket");
        struct daemon d;
        d.pid = fork();
        if (d.pid < 0)
                die("fork");
        if (d.pid == 0) {
                execl(exe, exe, "--root", root, "--port-path", sock, "--no-apply", "-q",
                      (char *)NULL);
                _exit(127);
        }
        d.fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (d.fd < 0)
                die("accept");
        close(l);
        return d;
}

static void send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w <= 0)
                        die("write");
                p += w;
                n -= (size_t)w;
        }
}

/* Reads until want newlines came (or more); -1 after 20 s. */
static long read_lines(int fd, long want)
{
        static char buf[1 << 16];
        long got = 0;
        double deadline = now_ms() + 20000;
        while (got < want) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int left = (int)(deadline - now_ms());
                if (left <= 0 || poll(&p, 1, left) != 1)
                        return -1;
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n <= 0)
                        return -1;
                for (ssize_t i = 0; i < n; i++)
                        got += buf[i] == '\n';
        }
        return got;
}

/* A child writing pings without a pause (count 0: until killed). */
static pid_t flood(int fd, long count)
{
        static const char ping[] = "{\"execute\":\"guest-ping\"}\n";
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        size_t n = sizeof(ping) - 1;
        char *buf = malloc(n * 1000);
        for (int i = 0; buf && i < 1000; i++)
                memcpy(buf + i * n, ping, n);
        for (long sent = 0; buf && (!count || sent < count); sent += 1000) {
                size_t k = count && count - sent < 1000 ? (size_t)(count - sent) : 1000;
                for (size_t off = 0; off < k * n;) {
                        ssize_t w = write(fd, buf + off, k * n - off);
                        if (w <= 0)
                                _exit(0);
                        off += (size_t)w;
                }
        }
        _exit(0);
}

/* /proc/PID/schedstat: ns on a CPU, ns runnable but waiting for one. */
static void schedstat(pid_t pid, double *run_ms, double *wait_ms)
{
        char path[64];
        unsigned long long run = 0, wait = 0;
        snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f || fscanf(f, "%llu %llu", &run, &wait) != 2)
                run = wait = 0;
        if (f)
                fclose(f);
        *run_ms = (double)run / 1e6;
        *wait_ms = (double)wait / 1e6;
}

/* Waits until the daemon has no child left (its start-up job), at most 10 s. */
static void settle(pid_t pid)
{
        char path[64], buf[64];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
        for (int i = 0; i < 1000; i++) {
                FILE *f = fopen(path, "re");
                bool none = !f || !fgets(buf, sizeof(buf), f);
                if (f)
                        fclose(f);
                if (none)
                        return;
                usleep(10000);
        }
}

struct stop_time {
        double wall; /* kill() to waitpid() in this process */
        double cpu;  /* of that, the daemon on a CPU (its exit path, the kernel's teardown) */
        double wait; /* the daemon runnable, waiting for a CPU (the scheduler, not its work) */
};

static struct stop_time stop(struct daemon *d)
{
        struct stop_time t;
        double run0, wait0, run1, wait1;
        schedstat(d->pid, &run0, &wait0);
        double t0 = now_ms();
        kill(d->pid, SIGTERM);
        siginfo_t si;
        /* A zombie still has its schedstat: read it before reaping. */
        waitid(P_PID, (id_t)d->pid, &si, WEXITED | WNOWAIT);
        schedstat(d->pid, &run1, &wait1);
        waitpid(d->pid, NULL, 0);
        t.wall = now_ms() - t0;
        t.cpu = run1 - run0;
        t.wait = wait1 - wait0;
        close(d->fd);
        return t;
}

static double load1(void)
{
        double l = -1;
        FILE *f = fopen("/proc/loadavg", "re");
        if (!f || fscanf(f, "%lf", &l) != 1)
                l = -1;
        if (f)
                fclose(f);
        return l;
}

/* "VmRSS/RssAnon kB" of pid: all resident pages, then those input can grow (heap, maps). */
static char *rss(pid_t pid, char *buf, size_t size)
{
        char path[64], line[256];
        long vm = -1, anon = -1;
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &vm) != 1)
                        (void)sscanf(line, "RssAnon: %ld kB", &anon);
        if (f)
                fclose(f);
        snprintf(buf, size, "%ld/%ld", vm, anon);
        return buf;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void report1(const char *what, double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp);
        printf("%-44s runs=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", what, n, v[n / 2],
               v[(int)(n * 0.99) < n ? (int)(n * 0.99) : n - 1], v[n - 1]);
}

static void report(const char *what, const struct stop_time *t, int n)
{
        double *v = calloc((size_t)n, sizeof(double));
        char name[128];
        if (!v)
                die("calloc");
        for (int k = 0; k < 3; k++) {
                for (int i = 0; i < n; i++)
                        v[i] = k == 0 ? t[i].wall : k == 1 ? t[i].cpu : t[i].wait;
                snprintf(name, sizeof(name), "%s%s", what,
                         k == 0   ? ""
                         : k == 1 ? ", daemon on a CPU"
                                  : ", daemon waiting for a CPU");
                report1(name, v, n);
        }
        free(v);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: hostile VIRTUNED [RUNS]\n");
                return 2;
        }
        const char *exe = argv[1];
        int runs = argc > 2 ? atoi(argv[2]) : 1000;
        char root[] = "/tmp/vt-bench-hostile-XXXXXX";
        if (!mkdtemp(root))
                die("mkdtemp");
        signal(SIGPIPE, SIG_IGN);
        struct stop_time *flooded = calloc((size_t)runs, sizeof(*flooded));
        struct stop_time *idle = calloc((size_t)runs, sizeof(*idle));
        if (!flooded || !idle)
                die("calloc");
        int over = 0, idle_over = 0, over_cpu = 0;
        double load_start = load1(), load_max = load_start;
        for (int i = 0; i < runs; i++) {
                double l = load1();
                load_max = l > load_max ? l : load_max;
                /* The anchor: the same daemon, idle, after one answer. */
                struct daemon d = start(exe, root);
                send_all(d.fd, "{\"execute\":\"guest-ping\"}\n", 25);
                read_lines(d.fd, 1);
                settle(d.pid);
                idle[i] = stop(&d);
                idle_over += idle[i].wall > 100;

                /* A host that writes without a pause: answers, then it stops reading. */
                d = start(exe, root);
                settle(d.pid);
                pid_t w = flood(d.fd, 0);
                if (read_lines(d.fd, 2000) < 0)
                        fprintf(stderr, "run %d: no answers under the flood\n", i);
                if (i % 2)
                        usleep(20 * 1000); /* every other run: SIGTERM while it is paused */
                flooded[i] = stop(&d);
                over += flooded[i].wall > 100;
                over_cpu += flooded[i].cpu > 100;
                kill(w, SIGKILL);
                waitpid(w, NULL, 0);
        }
        report("SIGTERM, idle (anchor)", idle, runs);
        report("SIGTERM, under a flood", flooded, runs);
        printf("runs over 100 ms: under a flood %d of %d (%d of them on a CPU that long), idle "
               "(anchor) %d of %d\n",
               over, runs, over_cpu, idle_over, runs);
        printf("load (1 min): %.2f at the start, %.2f at most, %.2f at the end; %ld CPUs\n",
               load_start, load_max, load1(), sysconf(_SC_NPROCESSORS_ONLN));

        struct daemon d = start(exe, root);
        send_all(d.fd, "{\"execute\":\"guest-ping\"}\n", 25);
        read_lines(d.fd, 1);
        char before[32], after_junk[32], after_pings[32];
        rss(d.pid, before, sizeof(before));
        char *junk = malloc(64 * 1024 + 1);
        memset(junk, '}', 64 * 1024);
        junk[64 * 1024] = '\n';
        send_all(d.fd, junk, 64 * 1024 + 1);
        long replies = read_lines(d.fd, 1);
        rss(d.pid, after_junk, sizeof(after_junk));
        pid_t w = flood(d.fd, 10000);
        long pings = read_lines(d.fd, 10000);
        waitpid(w, NULL, 0);
        rss(d.pid, after_pings, sizeof(after_pings));
        printf("VmRSS/RssAnon kB: %s after one ping, %s after 64 KiB of '}' (%ld reply), %s after "
               "10k pipelined pings (%ld replies)\n",
               before, after_junk, replies, after_pings, pings);
        stop(&d);
        char sock[200];
        snprintf(sock, sizeof(sock), "%s/port.sock", root);
        unlink(sock);
        rmdir(root);
        return 0;
}
