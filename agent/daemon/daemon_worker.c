/* virtuned's workers: commands that read or change the system run in virtuned-worker. */
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "daemon.h"
#include "proto.h"
#include "run.h"

/*
 * Why another program: detection, tuning and the TPM need libkmod, libblkid, libcrypto and the
 * tss2 stack. Linked into the daemon they would stay mapped and partly resident for its whole
 * life; in a worker they come and go with the job, and the process that parses the host's
 * bytes holds none of them. One worker serves the jobs that come close together, so a burst
 * of requests pays one process start (under TCG most of a PCR read's time), and exits when
 * idle, so the daemon's own footprint and wake-ups stay as they were.
 */

int vt_worker_policy_fd(const struct vt_policy *p)
{
        _cleanup_free_ char *text = vt_policy_serialize(p);
        if (!text)
                return -ENOMEM;
        size_t len = strlen(text);
        if (len > VT_POLICY_HANDOVER_MAX)
                return -EMSGSIZE;
        _cleanup_close_ int fd = memfd_create("virtune-policy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                off += (size_t)n;
        }
        /* Sealed: a worker cannot change what the next one reads. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        int r = fd;
        fd = -1;
        return r;
}

int vt_worker_start(struct vt_worker *w, char *const *argv, int policy_fd)
{
        assert(w && w->pid == 0 && w->fd < 0 && argv && argv[0]);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        /* A whole job frame fits in the socket at once: sending it never waits. */
        int size = 2 * VT_WORKER_JOB_MAX;
        (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        /* The worker's stdin is its end of the socketpair. */
        pid_t pid;
        const struct vt_run_opts o = {
                .stdin_fd = sv[1], .pass_fd = policy_fd, .pass_as = VT_WORKER_POLICY_FD};
        int r = vt_run_start(argv, &o, &pid, NULL);
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                return r;
        }
        if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                close(sv[0]);
                kill(pid, SIGKILL);
                return r;
        }
        *w = (struct vt_worker){.pid = pid, .fd = sv[0]};
        return 0;
}

int vt_worker_send(struct vt_worker *w, const char *job, size_t len)
{
        assert(w && w->fd >= 0 && !w->busy && len <= VT_WORKER_JOB_MAX);
        uint32_t n = (uint32_t)len;
        struct iovec iov[2] = {{&n, sizeof(n)}, {(void *)job, len}};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t k = sendmsg(w->fd, &m, MSG_NOSIGNAL);
        if (k < 0)
                return errno == ECONNRESET ? -EPIPE : -errno;
        if ((size_t)k != sizeof(n) + len)
                return -EAGAIN; /* cannot happen with SO_SNDBUF above; never half a frame */
        w->busy = true;
        return 0;
}

static size_t frame_len(const struct vt_worker *w)
{
        uint32_t n;
        memcpy(&n, w->buf, sizeof(n));
        return n;
}

int vt_worker_read(struct vt_worker *w)
{
        for (;;) {
                /* A whole frame. What follows it can only be a "bye" (the worker went idle right
                 * after replying): it stays in the buffer for the next call. */
                if (w->len >= sizeof(uint32_t)) {
                        if (frame_len(w) > VT_WORKER_REPLY_MAX)
                                return -EMSGSIZE;
                        if (w->len >= sizeof(uint32_t) + frame_len(w))
                                return 1;
                }
                if (w->eof)
                        return -EPIPE;
                if (w->cap - w->len < 4096) {
                        size_t cap = w->cap ? w->cap * 2 : 16384;
                        if (cap > VT_WORKER_REPLY_MAX + 8192)
                                return -EMSGSIZE;
                        char *b = realloc(w->buf, cap);
                        if (!b)
                                return -ENOMEM;
                        w->buf = b;
                        w->cap = cap;
                }
                ssize_t n = read(w->fd, w->buf + w->len, w->cap - w->len);
                if (n == 0 || (n < 0 && errno == ECONNRESET))
                        w->eof = true;
                else if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                else
                        w->len += (size_t)n;
        }
}

const char *vt_worker_reply(struct vt_worker *w, size_t *len)
{
        assert(w->len >= sizeof(uint32_t));
        *len = frame_len(w);
        return w->buf + sizeof(uint32_t);
}

void vt_worker_reply_done(struct vt_worker *w)
{
        size_t used = sizeof(uint32_t) + frame_len(w);
        memmove(w->buf, w->buf + used, w->len - used);
        w->len -= used;
        w->busy = false;
        if (w->len > 0)
                return; /* the bye behind it: the buffer is still needed */
        /* The buffer of a large reply is not kept for the daemon's life. */
        if (w->cap > 65536) {
                free(w->buf);
                w->buf = NULL;
                w->cap = 0;
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

int vt_worker_run(char *const *argv, int policy_fd, pid_t *pid)
{
        const struct vt_run_opts o = {.pass_fd = policy_fd, .pass_as = VT_WORKER_POLICY_FD};
        pid_t p;
        return vt_run_start(argv, &o, pid ? pid : &p, NULL); /* reaped on SIGCHLD */
}
