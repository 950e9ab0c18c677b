/* virtuned's workers: commands that read or change the system run in virtuned-worker. */
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "daemon.h"
#include "proto.h"

/*
 * Why another program: detection, tuning and the TPM need libkmod, libblkid, libcrypto and the
 * tss2 stack. Linked into the daemon they would stay mapped and partly resident for its whole
 * life; in a worker they come and go with the job, and the process that parses the host's
 * bytes holds none of them.
 */
int vt_proto_worker_call(const struct vt_proto_command *cmd, struct vt_ctx *ctx, json_object *args,
                         json_object **ret, char *desc, size_t desclen)
{
        /* Never reached: virtuned dispatches with vt_proto_dispatch_light() only. */
        return -EOPNOTSUPP;
}

/* In the child: stdin is the request (a memfd), stdout the pipe; then the worker program. */
static void child_exec(char *const *argv, const char *input, size_t len, int out_fd)
{
        if (input) {
                int fd = memfd_create("request", 0);
                if (fd < 0 || write(fd, input, len) != (ssize_t)len ||
                    lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, STDIN_FILENO) < 0)
                        _exit(127);
        }
        if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
                _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        _exit(127);
}

int vt_worker_start(struct vt_worker *w, char *const *argv, const char *input, size_t len)
{
        assert(w && w->pid <= 0 && argv && argv[0]);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0)
                child_exec(argv, input, len, p[1]);
        close(p[1]);
        if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
                int r = -errno;
                close(p[0]);
                kill(pid, SIGKILL);
                return r;
        }
        *w = (struct vt_worker){.pid = pid, .fd = p[0]};
        return 0;
}

int vt_worker_read(struct vt_worker *w)
{
        for (;;) {
                if (w->cap - w->len < 4096) {
                        size_t cap = w->cap ? w->cap * 2 : 16384;
                        if (cap > VT_WORKER_REPLY_MAX + 4096)
                                return -EMSGSIZE;
                        char *b = realloc(w->buf, cap);
                        if (!b)
                                return -ENOMEM;
                        w->buf = b;
                        w->cap = cap;
                }
                ssize_t n = read(w->fd, w->buf + w->len, w->cap - w->len);
                if (n == 0)
                        return 1;
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                w->len += (size_t)n;
                if (w->len > VT_WORKER_REPLY_MAX)
                        return -EMSGSIZE;
        }
}

void vt_worker_done(struct vt_worker *w)
{
        if (w->pid > 0)
                kill(w->pid, SIGKILL); /* reaped with the other children on SIGCHLD */
        if (w->fd >= 0)
                close(w->fd);
        free(w->buf);
        *w = (struct vt_worker){.fd = -1};
}

int vt_worker_run(char *const *argv, bool wait)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_exec(argv, NULL, 0, -1);
        int status;
        if (wait && waitpid(pid, &status, 0) < 0)
                return -errno;
        return wait && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) ? -EIO : 0;
}
