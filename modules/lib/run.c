/* Runs programs with posix_spawn (no shell), waits through EINTR, keeps bounded output. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run.h"

extern char **environ;

int vt_run_start(char *const *argv, const struct vt_run_opts *o, pid_t *pid, int *out_fd)
{
        assert(argv && argv[0] && pid);
        static const struct vt_run_opts none = {0};
        if (!o)
                o = &none;
        int pfd[2] = {-1, -1};
        if (o->out == VT_RUN_STDOUT_CAPTURE && pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t empty;
        sigemptyset(&empty);
        int r = posix_spawn_file_actions_init(&fa);
        if (r == 0 && (r = posix_spawnattr_init(&attr)) != 0)
                posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                if (pfd[0] >= 0) {
                        close(pfd[0]);
                        close(pfd[1]);
                }
                return -r;
        }
        if (o->stdin_fd > 0)
                r = posix_spawn_file_actions_adddup2(&fa, o->stdin_fd, STDIN_FILENO);
        /* onto itself, dup2 in posix_spawn clears FD_CLOEXEC (glibc >= 2.29, POSIX 2024) */
        if (r == 0 && o->pass_fd > 0)
                r = posix_spawn_file_actions_adddup2(&fa, o->pass_fd, o->pass_as);
        if (r == 0 && o->out == VT_RUN_STDOUT_CAPTURE)
                r = posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
        else if (r == 0 && o->out == VT_RUN_STDOUT_TO_STDERR)
                r = posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
        if (r == 0 && o->stderr_null)
                r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &empty);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
        if (r == 0)
                r = (o->search_path ? posix_spawnp : posix_spawn)(pid, argv[0], &fa, &attr, argv,
                                                                  environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        if (pfd[1] >= 0)
                close(pfd[1]);
        if (r != 0) {
                if (pfd[0] >= 0)
                        close(pfd[0]);
                return -r;
        }
        if (out_fd)
                *out_fd = pfd[0];
        else if (pfd[0] >= 0)
                close(pfd[0]);
        return 0;
}

int vt_run_wait(pid_t pid, int *status)
{
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (status)
                *status = st;
        return 0;
}

/* At most max bytes from fd, NUL-terminated. */
static char *read_bounded(int fd, size_t max)
{
        char *buf = malloc(max + 1);
        size_t n = 0;
        while (buf && n < max) {
                ssize_t k = read(fd, buf + n, max - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        if (buf)
                buf[n] = '\0';
        return buf;
}

int vt_run(char *const *argv, const struct vt_run_opts *o, char **output)
{
        bool capture = o && o->out == VT_RUN_STDOUT_CAPTURE;
        assert(!capture || output);
        pid_t pid;
        int fd = -1;
        int r = vt_run_start(argv, o, &pid, capture ? &fd : NULL);
        if (r < 0)
                return r;
        char *buf = NULL;
        if (capture) {
                buf = read_bounded(fd, o->capture_max);
                /* closing first: a child with more to say gets EPIPE instead of blocking our wait
                 */
                close(fd);
        }
        int status;
        r = vt_run_wait(pid, &status);
        if (capture) {
                if (!buf)
                        return -ENOMEM;
                *output = buf;
        }
        if (r < 0)
                return r;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int vt_run_output(const char *binary, const char *arg, size_t max, char **ret)
{
        assert(binary && arg && ret);
        char *argv[] = {(char *)binary, (char *)arg, NULL};
        const struct vt_run_opts o = {
                .out = VT_RUN_STDOUT_CAPTURE, .capture_max = max, .stderr_null = true};
        char *out = NULL;
        int r = vt_run(argv, &o, &out);
        if (r < 0 && r != -EIO) {
                free(out);
                return r;
        }
        *ret = out;
        return 0;
}
