/* virtuned's parts: the port, the bounded output buffer, readiness notification, udev. */
#pragma once

#include "ctx.h"
#include "proto.h"
#include "policy.h"

/* The port: a virtio-serial character device in production; a unix socket or pty in tests. */
enum vt_port_kind {
        VT_PORT_CHAR,   /* virtio-serial: read 0 / EPOLLHUP while no host is connected */
        VT_PORT_TTY,    /* a pty slave (tests): EIO / EPOLLHUP once the master is gone */
        VT_PORT_SOCKET, /* a unix stream socket (tests): EOF is the end of this port */
};

struct vt_port {
        int fd;
        enum vt_port_kind kind;
        char *path; /* as opened, for messages */
};

/*
 * The device node of the virtio-serial port called name, inside ctx's root:
 * /dev/virtio-ports/NAME, else /dev/vportNpM whose /sys/class/virtio-ports/vportNpM/name is NAME.
 * Returns 0 with *ret (root-relative, caller frees), -ENOENT when there is none yet.
 */
int vt_port_find(struct vt_ctx *ctx, const char *name, char **ret);
/* Opens by name (through the root) or, when path is given, that socket or pty as it is. */
int vt_port_open(struct vt_ctx *ctx, const char *name, const char *path, struct vt_port *ret);
void vt_port_close(struct vt_port *port);
/*
 * Whether an open virtio port's node is gone (the host unplugged it: the fd holds a deleted
 * node, /proc/PID/fd says "(deleted)"); a replugged port is a new node to open again.
 */
bool vt_port_gone(const struct vt_port *port);
/* What to do about an error opening the port, for the log: "" or a hint with a leading "; ". */
const char *vt_port_open_hint(int r);

#define VT_OBUF_MAX (VT_PROTO_MAX_REPLY + (64u << 10)) /* one largest reply and the rest */
#define VT_OBUF_PAUSE                                                                              \
        (64u << 10)                /* replies waiting past this: no request is taken until they go \
                                    */
#define VT_WRITE_MAX   (32u << 10) /* the port takes at most this per write */
#define VT_READ_BUDGET (4u << 10)  /* bytes read per wake-up: then the replies, then epoll */
#define VT_READ_CHUNK  (4u << 10)  /* bytes per read (the buffer the daemon keeps for it) */

/* What the daemon still has to write, whole replies each ending in a newline. */
struct vt_obuf {
        char *data;
        size_t off, len, cap; /* data[off..len) is pending */
        uint64_t dropped;     /* replies dropped over the daemon's life */
};

/* Queues one reply; -ENOBUFS (nothing queued) when it would take the backlog past VT_OBUF_MAX. */
int vt_obuf_append(struct vt_obuf *b, const char *data, size_t len);
/* The same without the bound: the short error that resynchronises the host after a drop. */
int vt_obuf_append_force(struct vt_obuf *b, const char *data, size_t len);
/* Drops every whole reply queued; the one partly written stays to its end. Returns how many. */
size_t vt_obuf_drop(struct vt_obuf *b);
/* Writes until done or the fd would block. 0 done/blocked, or -errno from write. */
int vt_obuf_flush(struct vt_obuf *b, int fd);
size_t vt_obuf_pending(const struct vt_obuf *b);
void vt_obuf_clear(struct vt_obuf *b);
void vt_obuf_done(struct vt_obuf *b);

/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. 0 when unset; <0 on failure. */
int vt_notify(const char *state);

/* The udev monitor: block and virtio-ports "add" events (kernel source when no udevd runs). */
struct vt_udev_mon;
int vt_udev_mon_new(struct vt_udev_mon **ret);
int vt_udev_mon_fd(struct vt_udev_mon *m);
/* The next event: *subsystem "block"/"virtio-ports", *action; 0, or -EAGAIN when none is left. */
int vt_udev_mon_next(struct vt_udev_mon *m, char *subsystem, size_t sslen, char *action,
                     size_t alen, char *sysname, size_t snlen);
void vt_udev_mon_free(struct vt_udev_mon *m);

/*
 * virtuned-worker kept for the next jobs (started on the first one) on a socketpair.
 * Each job and each reply is a frame: a uint32_t length in host order, then that many bytes.
 * The worker exits by itself after an idle time; its last frame is then empty ("bye": it
 * read nothing after its last reply, so a job sent meanwhile is still ours to run again).
 */
#define VT_WORKER_JOB_MAX   (VT_PROTO_MAX_REQUEST + 1) /* the reader's bound, and its newline */
#define VT_WORKER_REPLY_MAX (16u << 20)
#define VT_WORKER_IDLE_MS   5000 /* default idle time before a worker exits */

struct vt_worker {
        pid_t pid; /* 0: none; -1: reaped, its fd not yet drained */
        int fd;    /* our end of the socketpair, non-blocking; -1: none */
        bool busy; /* a job is out */
        bool eof;  /* the worker closed its end */
        char *buf; /* the reply frame as read so far, header included */
        size_t len, cap;
};

/* The policy handed to every worker: virtuned's policy in force, serialized into a sealed memfd
 * that the child gets as VT_WORKER_POLICY_FD (virtuned-worker --policy-fd). */
#define VT_WORKER_POLICY_FD     3
#define VT_WORKER_POLICY_FD_ARG "3" /* the same, as the argument of --policy-fd */
#define VT_POLICY_HANDOVER_MAX  (8u << 20)
int vt_worker_policy_fd(const struct vt_policy *p);

/* Starts argv (virtuned-worker ... serve) with its stdin on the other end of the socketpair
 * and policy_fd (>= 0) as VT_WORKER_POLICY_FD. */
int vt_worker_start(struct vt_worker *w, char *const *argv, int policy_fd);
/* Sends one job frame (len <= VT_WORKER_JOB_MAX); -EPIPE when the worker is gone. */
int vt_worker_send(struct vt_worker *w, const char *job, size_t len);
/* Reads what the worker wrote: 1 with a whole frame (vt_worker_reply), 0 when more may come,
 * -EPIPE at its end before a whole frame, -EMSGSIZE/-EPROTO on a bad frame. */
int vt_worker_read(struct vt_worker *w);
/* The first whole frame's bytes after vt_worker_read() returned 1; empty means "bye".
 * vt_worker_reply_done() drops it (a frame read behind it stays for the next read). */
const char *vt_worker_reply(struct vt_worker *w, size_t *len);
void vt_worker_reply_done(struct vt_worker *w);
/* Kills a worker still running (the caller reaps children) and closes its end. */
void vt_worker_done(struct vt_worker *w);
/* Starts argv without input or output, policy_fd as in vt_worker_start(); *pid (may be NULL)
 * gets its pid. Never waits: the caller reaps it on SIGCHLD. */
int vt_worker_run(char *const *argv, int policy_fd, pid_t *pid);
