/* virtuned: the guest daemon; one thread, one epoll loop, answering the host on the port. */
#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include "daemon.h"
#include "proto.h"
#include "log.h"
#include "policy.h"
#include "version.h"

struct daemon {
        struct vt_ctx *ctx;
        const char *port_name; /* NULL: the policy's [channel] port */
        const char *port_path; /* --port-path: a socket or pty instead of the virtio node */
        struct vt_port port;
        struct vt_proto_reader reader;
        struct vt_obuf out;
        struct vt_udev_mon *udev;
        char in[VT_READ_CHUNK]; /* bytes read from the port; in[in_off..in_len) not taken yet */
        size_t in_off, in_len;
        bool port_more; /* the port may hold more: serve it again after a look at the others */
        char *job;      /* the request the worker has (NUL-terminated), until it is answered */
        size_t job_len, job_cap; /* job_cap: for vt_proto_buf_free (a large one is mapped) */
        struct vt_worker worker;
        bool worker_retire; /* end the worker after this job: the policy changed */
        char idle_ms[16];   /* the worker's idle time, as its argument */
        int epfd, sigfd;
        int policy_fd; /* the policy in force, as every worker gets it (vt_worker_policy_fd) */
        bool quit;
        bool apply; /* the runtime policy at start */
        const char *worker_path, *cpuid_path;
        char *argv[12];
        uint64_t requests;
        int port_error;  /* the last error opening the port, logged once */
        pid_t start_pid; /* the start-up detection and tuning, while it runs */
};

static const char *port_name(const struct daemon *d)
{
        if (d->port_name)
                return d->port_name;
        const char *n = d->ctx->policy ? vt_policy_get(d->ctx->policy, "channel", "port") : NULL;
        return n ? n : "org.virtune.agent.0";
}

/* argv for virtuned-worker JOB, with the daemon's root, CPUID file and start-up options. */
static char *const *worker_argv(struct daemon *d, const char *job)
{
        size_t n = 0;
        d->argv[n++] = (char *)d->worker_path;
        d->argv[n++] = "--root";
        d->argv[n++] = d->ctx->root;
        if (d->cpuid_path) {
                d->argv[n++] = "--cpuid";
                d->argv[n++] = (char *)d->cpuid_path;
        }
        if (!d->apply)
                d->argv[n++] = "--no-apply";
        /* The policy in force is the daemon's (a bad file on disk after SIGHUP is not). */
        d->argv[n++] = "--policy-fd";
        d->argv[n++] = VT_WORKER_POLICY_FD_ARG;
        if (streq(job, "serve")) {
                d->argv[n++] = "--idle-ms";
                d->argv[n++] = d->idle_ms;
        }
        d->argv[n++] = (char *)job;
        d->argv[n] = NULL;
        assert(n < ARRAY_SIZE(d->argv));
        return d->argv;
}

/* Hands the policy in force to the workers from now on. */
static int policy_share(struct daemon *d)
{
        int fd = vt_worker_policy_fd(d->ctx->policy);
        if (fd < 0)
                return fd;
        if (d->policy_fd >= 0)
                close(d->policy_fd);
        d->policy_fd = fd;
        return 0;
}

/* A reply in its turn. When the host has not read VT_OBUF_MAX, whole replies are dropped (never
 * the rest of one it has started) and an error in their place tells it to resynchronise. */
static void queue_reply(struct daemon *d, const char *reply, size_t n)
{
        if (d->port.fd < 0)
                return; /* the host is gone: nobody to answer */
        d->requests++;
        int r = vt_obuf_append(&d->out, reply, n);
        if (r != -ENOBUFS) {
                if (r < 0)
                        log_warning_errno(r, "Dropped a reply of %zu bytes", n);
                return;
        }
        size_t dropped = vt_obuf_drop(&d->out);
        bool fits = vt_obuf_pending(&d->out) + n <= VT_OBUF_MAX;
        dropped += !fits;
        char desc[200];
        snprintf(desc, sizeof(desc),
                 "virtuned dropped %zu replies: the host did not read them; resynchronise "
                 "(guest-sync-delimited)",
                 dropped);
        size_t en = 0;
        _cleanup_free_ char *err = vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, desc, NULL, &en);
        if (!err || vt_obuf_append_force(&d->out, err, en) < 0 ||
            (fits && vt_obuf_append(&d->out, reply, n) < 0))
                log_warning("Out of memory queueing replies");
        log_warning("The host is not reading: dropped %zu replies (%" PRIu64 " so far)", dropped,
                    d->out.dropped + !fits);
}

static void worker_end(struct daemon *d)
{
        if (d->worker.fd >= 0)
                epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->worker.fd, NULL);
        vt_worker_done(&d->worker);
        d->worker_retire = false;
}

/* Hands d->job to the worker, starting one when there is none. A worker that has just left
 * (idle, or killed between jobs) gets the job's one retry with a fresh worker. */
static int worker_send_job(struct daemon *d)
{
        int r = 0;
        for (int attempt = 0; attempt < 2; attempt++) {
                if (d->worker.fd < 0) {
                        r = vt_worker_start(&d->worker, worker_argv(d, "serve"), d->policy_fd);
                        struct epoll_event ev = {.events = EPOLLIN, .data.fd = d->worker.fd};
                        if (r >= 0 && epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->worker.fd, &ev) < 0)
                                r = -errno;
                        if (r < 0)
                                break;
                }
                r = vt_worker_send(&d->worker, d->job, d->job_len);
                if (r >= 0)
                        return 0;
                worker_end(d);
        }
        worker_end(d);
        return r;
}

/* The in-flight job is over: its reply (or an error in its place) goes out in its turn. */
static void job_done(struct daemon *d, const char *reply, size_t n)
{
        if (reply)
                queue_reply(d, reply, n);
        vt_proto_buf_free(&d->job, &d->job_cap);
}

static void job_failed(struct daemon *d, const char *desc)
{
        size_t n = 0;
        /* The request passed the light dispatcher: it parses, and its id goes back. */
        _cleanup_json_ json_object *req = json_tokener_parse(d->job);
        json_object *id = NULL;
        if (req)
                json_object_object_get_ex(req, "id", &id);
        _cleanup_free_ char *reply = vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, desc, id, &n);
        job_done(d, reply, n);
}

/* One request off the port: answered now, or handed to the worker (answered when it replies). */
static void take_request(struct daemon *d, const struct vt_proto_reader_event *e)
{
        bool deferred;
        size_t n = 0;
        _cleanup_free_ char *reply =
                vt_proto_dispatch_light(d->ctx, e->ev, e->buf, e->len, &n, &deferred);
        if (!deferred) {
                if (reply)
                        queue_reply(d, reply, n);
                return;
        }
        if (vt_proto_buf_grow(&d->job, &d->job_cap, 0, e->len + 1) < 0) {
                log_error("Out of memory: dropped a request");
                return;
        }
        memcpy(d->job, e->buf, e->len);
        d->job[e->len] = '\0';
        d->job_len = e->len;
        int r = worker_send_job(d);
        if (r < 0) {
                log_error_errno(r, "Cannot start a worker");
                job_failed(d, "virtuned could not start a worker");
        }
}

/* Takes the requests read so far, in order. false: stop taking (a worker job is out, or the
 * host has VT_OBUF_PAUSE of replies to read first); true: all taken. */
static bool take_requests(struct daemon *d)
{
        while (!d->job && vt_obuf_pending(&d->out) < VT_OBUF_PAUSE) {
                if (d->in_off == d->in_len)
                        return true;
                struct vt_proto_reader_event e;
                size_t used = 0;
                int r = vt_proto_reader_next(&d->reader, d->in + d->in_off, d->in_len - d->in_off,
                                             &used, &e);
                d->in_off += used;
                if (r < 0) {
                        log_error("Out of memory reading a request; dropped it");
                        vt_proto_reader_reset(&d->reader);
                        d->in_off = d->in_len;
                } else if (r > 0)
                        take_request(d, &e);
        }
        return false;
}

static int port_open(struct daemon *d)
{
        if (d->port.fd >= 0)
                return 0;
        int r = vt_port_open(d->ctx, port_name(d), d->port_path, &d->port);
        if (r < 0)
                return r;
        /* Edge-triggered: a port with no host reports EPOLLHUP once, not forever. */
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.fd = d->port.fd};
        if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->port.fd, &ev) < 0) {
                r = -errno;
                vt_port_close(&d->port);
                return r;
        }
        vt_proto_reader_reset(&d->reader);
        log_info("Listening on %s", d->port.path);
        return 0;
}

static void port_close(struct daemon *d)
{
        if (d->port.fd < 0)
                return;
        epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->port.fd, NULL);
        vt_port_close(&d->port);
        vt_obuf_clear(&d->out);
        d->in_off = d->in_len = 0;
        d->port_more = false;
        vt_proto_reader_reset(&d->reader);
}

/*
 * Bounded work per wake-up: at most VT_READ_BUDGET bytes read and their requests taken, then
 * the replies written, then back to epoll (port_more asks to come back at once). A host that
 * never pauses still gets its answers, and a signal waits one budget at most. While a worker
 * job is out or the host has replies to read, requests wait in the kernel's buffer, not ours.
 */
static void port_service(struct daemon *d)
{
        size_t budget = VT_READ_BUDGET;
        bool drained = false;

        while (take_requests(d)) {
                if (budget == 0)
                        break;
                ssize_t n =
                        read(d->port.fd, d->in, budget < sizeof(d->in) ? budget : sizeof(d->in));
                if (n > 0) {
                        d->in_off = 0;
                        d->in_len = (size_t)n;
                        budget -= (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                drained = true;
                if (n < 0 && errno == EAGAIN)
                        break;
                /* 0 or EIO: no host now. A virtio port or pty stays open and sleeps until the
                 * next edge; a socket's end is final. The worker stays for its idle time:
                 * a host client that connects per request (virtune-host) finds it still there. */
                vt_proto_reader_reset(&d->reader);
                if (d->port.kind == VT_PORT_SOCKET) {
                        log_info("The host closed %s", d->port.path);
                        port_close(d);
                        return;
                }
                log_debug("No host on %s", d->port.path);
                break;
        }
        int r = vt_obuf_flush(&d->out, d->port.fd);
        if (r < 0) {
                log_debug_errno(r, "Dropped %zu bytes of replies to %s", vt_obuf_pending(&d->out),
                                d->port.path);
                vt_obuf_clear(&d->out);
        }
        /* More to take, and nothing that will wake us for it: a worker's reply or EPOLLOUT do. */
        d->port_more = !drained && !d->job && vt_obuf_pending(&d->out) < VT_OBUF_PAUSE;
}

static void reload(struct daemon *d)
{
        char err[VT_POLICY_ERR_MAX] = "";
        struct vt_policy *p = NULL;
        int r = vt_policy_load(d->ctx, &p, err, sizeof(err));
        if (r < 0) {
                log_error("Keeping the old policy: %s", err[0] ? err : strerror(-r));
                return;
        }
        struct vt_policy *old = d->ctx->policy;
        d->ctx->policy = p;
        r = policy_share(d);
        if (r < 0) {
                /* The workers would still get the old one: keep it everywhere. */
                d->ctx->policy = old;
                vt_policy_free(p);
                log_error_errno(r, "Keeping the old policy: cannot hand the new one over");
                return;
        }
        vt_policy_free(old);
        log_notice("Policy reloaded");
        /* The worker read the old policy when it started: the next job gets a new one. */
        if (d->job)
                d->worker_retire = true;
        else
                worker_end(d);
        if (d->port.fd < 0) {
                r = port_open(d);
                if (r < 0)
                        log_warning_errno(r, "Port %s still not available", port_name(d));
        }
}

/* Takes one reply frame, or the worker's end, off the worker's socket. false: nothing yet. */
static bool worker_take(struct daemon *d)
{
        struct vt_worker *w = &d->worker;
        int r = vt_worker_read(w);
        if (r == 0)
                return false;
        if (r > 0) {
                size_t n;
                const char *reply = vt_worker_reply(w, &n);
                if (n == 0) {
                        /* "bye": it went idle and read nothing more; a job sent meanwhile
                         * is resent to a new worker below. */
                        log_debug("The worker exited after its idle time");
                        w->busy = false;
                        worker_end(d);
                        return true;
                }
                if (d->job && reply[n - 1] == '\n')
                        job_done(d, reply, n);
                else if (d->job)
                        job_failed(d, "virtuned's worker for this request failed");
                vt_worker_reply_done(w);
                if (d->worker_retire)
                        worker_end(d);
                return true;
        }
        if (d->job) {
                log_error_errno(r, "The worker failed during a request");
                job_failed(d, "virtuned's worker for this request failed");
        } else if (r != -EPIPE)
                log_error_errno(r, "The worker failed");
        worker_end(d);
        return true;
}

static void on_worker(struct daemon *d)
{
        if (!worker_take(d))
                return;
        /* A reply and the worker's "bye" can come in one read. */
        while (d->worker.fd >= 0 && d->worker.len > 0 && worker_take(d))
                ;
        if (d->job && d->worker.fd < 0) {
                int r = worker_send_job(d);
                if (r < 0) {
                        log_error_errno(r, "Cannot start a worker");
                        job_failed(d, "virtuned could not start a worker");
                }
        }
        if (d->port.fd >= 0)
                port_service(d); /* answers what waited, reads what the host sent meanwhile */
}

/* Type=notify: ready once the port is served (or waited for); the start-up job is not waited
 * for (seconds under TCG in a booted image: bench/README.md). */
static void notify_ready(void)
{
        int r = vt_notify("READY=1\nSTATUS=Serving the host");
        if (r < 0)
                log_warning_errno(r, "Cannot notify $NOTIFY_SOCKET");
        log_info("virtuned %s ready", VT_VERSION);
}

/* The start-up job's end: it says what went wrong in the log; here only that it did, in the
 * log and in the unit's status ("systemctl status"). */
static void start_done(struct daemon *d, int status)
{
        d->start_pid = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                log_notice("Start-up detection and tuning done");
                vt_notify("STATUS=Serving the host; start-up tuning done");
                return;
        }
        log_warning("Start-up detection and tuning (%s) failed", d->worker_path);
        vt_notify("STATUS=Serving the host; start-up tuning failed (see the log)");
}

static void on_signal(struct daemon *d)
{
        struct signalfd_siginfo si;
        while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGHUP)
                        reload(d);
                else if (si.ssi_signo == SIGCHLD) {
                        /* The worker's end shows on its socket; here it is only reaped, and
                         * never signalled again (its pid may be reused). */
                        pid_t pid;
                        int status;
                        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                                if (pid == d->worker.pid)
                                        d->worker.pid = -1;
                                if (pid != d->start_pid)
                                        continue;
                                start_done(d, status);
                        }
                } else
                        d->quit = true;
        }
}

/*
 * A virtio port came, changed or went. Ours unplugged: close it (a replugged one is a new node).
 * Not open: try again, on every event (a hotplugged port is named after its "add": the host's
 * name message comes later, announced with "change"), saying once why it failed.
 */
static void on_port_event(struct daemon *d, const char *action, const char *sysname)
{
        if (d->port.fd >= 0 && vt_port_gone(&d->port)) {
                log_notice("The port %s went away (udev: %s %s); waiting for it again",
                           d->port.path, action, sysname);
                port_close(d);
        }
        if (d->port.fd >= 0 || streq(action, "remove"))
                return;
        int r = port_open(d);
        if (r == 0) {
                d->port_error = 0;
                port_service(d);
        } else if (r != -ENOENT && r != d->port_error) {
                d->port_error = r;
                log_error("Cannot open the port %s (udev: %s %s): %s%s", port_name(d), action,
                          sysname, strerror(-r), vt_port_open_hint(r));
        }
}

static void on_udev(struct daemon *d)
{
        char subsystem[32], action[16], sysname[64];

        while (vt_udev_mon_next(d->udev, subsystem, sizeof(subsystem), action, sizeof(action),
                                sysname, sizeof(sysname)) == 0) {
                log_debug("udev: %s %s %s", action, subsystem, sysname);
                if (streq(subsystem, "block") && streq(action, "add")) {
                        if (vt_worker_run(worker_argv(d, "iosched"), d->policy_fd, NULL) < 0)
                                log_warning("Cannot start the scheduler update for %s", sysname);
                        continue;
                }
                if (streq(subsystem, "virtio-ports"))
                        on_port_event(d, action, sysname);
        }
}

static int loop(struct daemon *d)
{
        struct epoll_event evs[8];
        while (!d->quit) {
                /* Work left on the port: look at the others without sleeping, then go on. */
                int n = epoll_wait(d->epfd, evs, ARRAY_SIZE(evs), d->port_more ? 0 : -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(-errno, "epoll_wait");
                }
                bool served = false;
                /* A signal first: SIGTERM never waits behind a port's budget of work. */
                for (int i = 0; i < n; i++)
                        if (evs[i].data.fd == d->sigfd)
                                on_signal(d);
                for (int i = 0; i < n && !d->quit; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == d->sigfd)
                                continue;
                        else if (d->udev && fd == vt_udev_mon_fd(d->udev))
                                on_udev(d);
                        else if (fd == d->port.fd) {
                                port_service(d);
                                served = true;
                        } else if (d->worker.fd >= 0 && fd == d->worker.fd)
                                on_worker(d);
                }
                if (d->port_more && !served && !d->quit && d->port.fd >= 0)
                        port_service(d);
        }
        return 0;
}

static int watch(struct daemon *d, int fd)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int setup(struct daemon *d)
{
        char err[VT_POLICY_ERR_MAX] = "";
        int r;

        r = vt_policy_load(d->ctx, &d->ctx->policy, err, sizeof(err));
        if (r < 0) {
                /* Still answer the host (read-only: allow-apply defaults to no). */
                log_error("Bad policy, running with defaults: %s", err[0] ? err : strerror(-r));
                d->ctx->policy = vt_policy_new();
                if (!d->ctx->policy)
                        return log_error_errno(-ENOMEM, "Policy");
        }
        r = policy_share(d);
        if (r < 0)
                return log_error_errno(r, "Cannot hand the policy over to the workers");

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "sigprocmask");
        signal(SIGPIPE, SIG_IGN);
        d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        d->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (d->sigfd < 0 || d->epfd < 0)
                return log_error_errno(-errno, "signalfd/epoll");
        r = watch(d, d->sigfd);
        if (r < 0)
                return log_error_errno(r, "epoll_ctl");

        if (d->ctx->live) {
                r = vt_udev_mon_new(&d->udev);
                if (r < 0)
                        log_warning_errno(r, "No udev monitor: new disks and ports go unnoticed");
                else if ((r = watch(d, vt_udev_mon_fd(d->udev))) < 0)
                        return log_error_errno(r, "epoll_ctl");
        }

        r = port_open(d);
        if (r == -ENOENT && !d->port_path)
                log_notice("Port %s not present yet; waiting for it", port_name(d));
        else if (r < 0)
                return log_error("Cannot open the port %s: %s%s",
                                 d->port_path ? d->port_path : port_name(d), strerror(-r),
                                 vt_port_open_hint(r)),
                       r;
        return 0;
}

/*
 * The start-up detection and tuning, not waited for: the port is served and SIGTERM heard while
 * it runs. Started after READY=1: its spawn (the exec of virtuned-worker) is no part of the
 * daemon's start-up.
 */
static void start_startup_job(struct daemon *d)
{
        int r = vt_worker_run(worker_argv(d, "start"), d->policy_fd, &d->start_pid);
        if (r < 0) {
                log_warning_errno(r, "Cannot start the start-up detection and tuning (%s)",
                                  d->worker_path);
                d->start_pid = 0;
        }
}

/* virtuned-worker beside our own executable (build tree, initramfs), else the installed one. */
static const char *worker_default(char *buf, size_t size)
{
        ssize_t n = readlink("/proc/self/exe", buf, size - 1);
        if (n > 0) {
                buf[n] = '\0';
                char *slash = strrchr(buf, '/');
                if (slash && (size_t)(slash - buf) + sizeof("/virtuned-worker") <= size) {
                        strcpy(slash, "/virtuned-worker");
                        if (access(buf, X_OK) == 0)
                                return buf;
                }
        }
        return VT_LIBEXECDIR "/virtuned-worker";
}

static const char usage[] =
        "Usage: virtuned [OPTIONS]\n"
        "The virtune guest daemon: answers the host over the virtio-serial port.\n\n"
        "  --root DIR         the system lives under DIR (tests, images)\n"
        "  --cpuid FILE       CPUID answers from FILE (fixtures)\n"
        "  --port NAME        the virtio-serial port's name (default: policy [channel] port)\n"
        "  --port-path PATH   use this unix socket or pty as the port (tests)\n"
        "  --no-apply         do not apply the runtime policy at start\n"
        "  --worker PATH      the virtuned-worker program (default: beside virtuned, else\n"
        "                     " VT_LIBEXECDIR "/virtuned-worker)\n"
        "  --worker-idle MS   the worker exits after MS ms without a job (default 5000)\n"
        "  -v, --verbose      more log output (repeat for debug)\n"
        "  -q, --quiet        errors only\n"
        "  -h, --help         this text\n"
        "      --version      the version\n";

int main(int argc, char **argv)
{
        enum {
                OPT_ROOT = 256,
                OPT_CPUID,
                OPT_PORT,
                OPT_PORT_PATH,
                OPT_NO_APPLY,
                OPT_WORKER,
                OPT_WORKER_IDLE,
                OPT_VERSION
        };
        static const struct option opts[] = {
                {"root", required_argument, NULL, OPT_ROOT},
                {"cpuid", required_argument, NULL, OPT_CPUID},
                {"port", required_argument, NULL, OPT_PORT},
                {"port-path", required_argument, NULL, OPT_PORT_PATH},
                {"no-apply", no_argument, NULL, OPT_NO_APPLY},
                {"worker", required_argument, NULL, OPT_WORKER},
                {"worker-idle", required_argument, NULL, OPT_WORKER_IDLE},
                {"verbose", no_argument, NULL, 'v'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                {},
        };
        struct daemon d = {.port = {.fd = -1},
                           .epfd = -1,
                           .sigfd = -1,
                           .policy_fd = -1,
                           .apply = true,
                           .worker = {.fd = -1}};
        const char *root = NULL, *cpuid = NULL;
        char self_dir[PATH_MAX];
        int c, r;

        vt_log_init_from_env();
        while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_ROOT:
                        root = optarg;
                        break;
                case OPT_CPUID:
                        cpuid = optarg;
                        break;
                case OPT_PORT:
                        d.port_name = optarg;
                        break;
                case OPT_PORT_PATH:
                        d.port_path = optarg;
                        break;
                case OPT_WORKER:
                        d.worker_path = optarg;
                        break;
                case OPT_WORKER_IDLE: {
                        char *end;
                        unsigned long ms = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || ms < 1 || ms > 3600000) {
                                fprintf(stderr, "virtuned: --worker-idle takes 1-3600000 (ms)\n");
                                return 2;
                        }
                        snprintf(d.idle_ms, sizeof(d.idle_ms), "%lu", ms);
                        break;
                }
                case OPT_NO_APPLY:
                        d.apply = false;
                        break;
                case 'v':
                        vt_log_more();
                        break;
                case 'q':
                        vt_log_set_level(LOG_ERR);
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                case OPT_VERSION:
                        printf("virtuned %s\n", VT_VERSION);
                        return 0;
                default:
                        fputs(usage, stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "virtuned: unexpected argument '%s'\n%s", argv[optind], usage);
                return 2;
        }
        if (d.port_name && (!d.port_name[0] || strchr(d.port_name, '/'))) {
                fprintf(stderr, "virtuned: --port takes a port name, not a path\n");
                return 2;
        }

        /* We never gain privileges later (no setuid helpers, no shell). */
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

        r = vt_ctx_new(root, &d.ctx);
        if (r < 0)
                return log_error_errno(r, "Cannot use root %s", root ? root : "/"), 1;
        /* Only the worker asks CPUID: the file's path is all the daemon keeps. */
        d.cpuid_path = cpuid;
        if (!d.worker_path)
                d.worker_path = worker_default(self_dir, sizeof(self_dir));
        if (!d.idle_ms[0])
                snprintf(d.idle_ms, sizeof(d.idle_ms), "%u", VT_WORKER_IDLE_MS);
        vt_proto_reader_init(&d.reader);

        r = setup(&d);
        if (r < 0)
                goto out;
        notify_ready();
        start_startup_job(&d);

        r = loop(&d);
        vt_notify("STOPPING=1");
        log_info("Stopping after %" PRIu64 " replies", d.requests);
out:
        /* Stopped, not waited for: an apply it cut short is finished or undone by the next. */
        if (d.start_pid > 0)
                kill(d.start_pid, SIGTERM);
        port_close(&d);
        vt_proto_buf_free(&d.job, &d.job_cap);
        vt_worker_done(&d.worker);
        vt_obuf_done(&d.out);
        vt_proto_reader_done(&d.reader);
        vt_udev_mon_free(d.udev);
        if (d.sigfd >= 0)
                close(d.sigfd);
        if (d.epfd >= 0)
                close(d.epfd);
        if (d.policy_fd >= 0)
                close(d.policy_fd);
        vt_ctx_free(d.ctx);
        return r < 0 ? 1 : 0;
}
