/* virtuned's workers: commands that read or change the system run in a child process. */
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include "daemon.h"
#include "proto.h"

/*
 * Why a child: detection, tuning and the TPM touch most of libkmod, libblkid, libcrypto and the
 * tss2 stack. Done in the daemon they would stay resident for its whole life; done in a child
 * they are gone with it, and the daemon that holds the port stays small.
 */
static void child_reply(int fd, struct vt_ctx *ctx, enum vt_proto_event ev, const char *buf,
                        size_t len)
{
        size_t n = 0;
        char *reply = vt_proto_dispatch(ctx, ev, buf, len, &n);
        for (size_t off = 0; reply && off < n;) {
                ssize_t w = write(fd, reply + off, n - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        _exit(1);
                off += (size_t)w;
        }
        _exit(reply ? 0 : 1);
}

int vt_worker_start(struct vt_worker *w, struct vt_ctx *ctx, enum vt_proto_event ev,
                    const char *buf, size_t len)
{
        assert(w && w->pid <= 0);
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
        if (pid == 0) {
                close(p[0]);
                child_reply(p[1], ctx, ev, buf, len);
        }
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
                        return errno == EAGAIN ? 0 : errno == EINTR ? 0 : -errno;
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

int vt_run_in_child(void (*fn)(void *userdata), void *userdata, bool wait)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                fn(userdata);
                _exit(0);
        }
        if (wait && waitpid(pid, NULL, 0) < 0)
                return -errno;
        return 0;
}
