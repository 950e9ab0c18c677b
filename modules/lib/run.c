/* Runs a program without a shell and keeps a bounded copy of its stdout. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run.h"

extern char **environ;

int vt_run_output(const char *binary, const char *arg, size_t max, char **ret)
{
        assert(binary && arg && ret);
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        char *argv[] = {(char *)binary, (char *)arg, NULL};
        pid_t pid;
        int r = posix_spawn(&pid, binary, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(pfd[1]);
        if (r != 0) {
                close(pfd[0]);
                return -r;
        }
        char *buf = malloc(max + 1);
        size_t n = 0;
        while (buf && n < max) {
                ssize_t k = read(pfd[0], buf + n, max - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        /* closing first: a child with more to say gets EPIPE instead of blocking our wait */
        close(pfd[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!buf)
                return -ENOMEM;
        buf[n] = '\0';
        *ret = buf;
        return 0;
}
