/* virtuned-worker: runs virtuned's system-touching jobs in a process of their own. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "apply_job.h"
#include "daemon.h"
#include "proto.h"
#include "log.h"
#include "module.h"
#include "policy.h"
#include "tune.h"
#include "vt_cpuid.h"

/*
 * Every form takes [--policy-fd N]: the policy virtuned holds (vt_policy_serialize), in a sealed
 * memfd; without it the worker reads the files itself.
 * virtuned-worker [--root DIR] [--cpuid FILE] [--idle-ms MS] serve
 *                         requests from virtuned on stdin (a socket), replies back on it, each
 *                         a frame (daemon.h); exits after MS ms without one, or when it closes
 * virtuned-worker [--root DIR] start [--no-apply]       the runtime policy at start
 * virtuned-worker [--root DIR] iosched                  a disk appeared: its scheduler
 * virtuned-worker [--root DIR] apply-job                one apply or revert job on stdin (a
 *                         connection of virtune-apply.socket), its result back on it
 * Not for people: virtuned starts it with exactly these arguments.
 */

/* Jobs until virtuned closes the socket or none comes for idle_ms after one; then "bye" and out. */
static int do_serve(struct vt_ctx *ctx, int idle_ms)
{
        /* Bounded like the reader that produced it: one request and its newline. */
        static char buf[VT_PROTO_MAX_REQUEST + 1];

        /* Off stdin, close-on-exec: what apply spawns must neither read our jobs nor hold
         * the socket open after we die (virtuned sees our end as its end). */
        int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot take the job socket");
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0)
                return log_error_errno(-errno, "Cannot open /dev/null");
        close(null);

        /* Started for a job: the idle time runs from the first job on (virtuned may be slow to
         * send it under load); before it only virtuned's end (EOF) ends the wait. */
        int wait_ms = -1;
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int r = poll(&p, 1, wait_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return log_error_errno(-errno, "poll");
                if (r == 0)
                        return vt_frame_write(fd, NULL, 0); /* idle: bye, nothing read since */
                uint32_t len;
                r = vt_frame_read_full(fd, &len, sizeof(len));
                if (r == 0)
                        return 0; /* virtuned closed: it wants no more */
                if (r < 0)
                        return log_error_errno(r, "Reading a job");
                if (len > sizeof(buf))
                        return log_error_errno(-EMSGSIZE, "A job of %" PRIu32 " bytes", len);
                r = vt_frame_read_full(fd, buf, len);
                if (r <= 0)
                        return log_error_errno(r < 0 ? r : -EPIPE, "Reading a job");
                size_t rl = 0;
                _cleanup_free_ char *reply =
                        vt_proto_dispatch(ctx, VT_PROTO_MESSAGE, buf, len, &rl);
                if (!reply)
                        return log_error_errno(-ENOMEM, "Answering");
                r = vt_frame_write(fd, reply, rl);
                if (r < 0)
                        return log_error_errno(r, "Writing the reply");
                wait_ms = idle_ms;
        }
}

/* virtune-apply@.service: one job on the connection systemd accepted (stdin and stdout). */
static int do_apply_job(struct vt_ctx *ctx)
{
        int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot take the job's connection");
        /* what apply runs (update-grub, systemctl) must not write into the connection */
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                return log_error_errno(-errno, "Cannot open /dev/null");
        close(null);
        int r = vt_apply_job_serve(ctx, fd);
        close(fd);
        if (r < 0)
                log_error_errno(r, "The apply job failed");
        return r;
}

/* The daemon's policy in force, from the memfd it handed over (read at offset 0: the workers
 * running at once share its file offset). */
static int policy_from_fd(int fd, struct vt_policy **ret)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(-errno, "The policy handed over (fd %d)", fd);
        if (st.st_size <= 0 || st.st_size > VT_POLICY_HANDOVER_MAX)
                return log_error_errno(-EMSGSIZE, "The policy handed over is %lld bytes",
                                       (long long)st.st_size);
        size_t len = (size_t)st.st_size;
        _cleanup_free_ char *text = malloc(len + 1);
        if (!text)
                return -ENOMEM;
        ssize_t n = pread(fd, text, len, 0);
        if (n != (ssize_t)len)
                return log_error_errno(n < 0 ? -errno : -EIO, "Reading the policy handed over");
        text[len] = '\0';
        char err[VT_POLICY_ERR_MAX] = "";
        int r = vt_policy_deserialize(text, ret, err, sizeof(err));
        if (r < 0)
                return log_error_errno(r, "The policy handed over: %s", err[0] ? err : "bad");
        return 0;
}

static int do_apply(struct vt_ctx *ctx, const char *const *only)
{
        _cleanup_json_ json_object *res = NULL;
        struct vt_apply_opts opts = {.runtime_only = true, .only = only};
        int r = vt_tune_apply(ctx, &opts, &res);
        if (r == -EOPNOTSUPP)
                log_debug("Runtime tuning is not available in this build");
        else if (r < 0)
                log_warning_errno(r, "Runtime tuning failed");
        return r == -EOPNOTSUPP ? 0 : r;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"root", required_argument, NULL, 'r'},
                {"cpuid", required_argument, NULL, 'c'},
                {"no-apply", no_argument, NULL, 'n'},
                {"policy-fd", required_argument, NULL, 'p'},
                {"idle-ms", required_argument, NULL, 'i'},
                {},
        };
        const char *root = NULL, *cpuid = NULL;
        bool apply = true;
        int idle_ms = 5000, policy_fd = -1;
        int c, r;

        vt_log_init_from_env();
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        root = optarg;
                        break;
                case 'c':
                        cpuid = optarg;
                        break;
                case 'n':
                        apply = false;
                        break;
                case 'p':
                        policy_fd = atoi(optarg);
                        if (policy_fd < 3)
                                return 2;
                        break;
                case 'i':
                        idle_ms = atoi(optarg);
                        if (idle_ms <= 0)
                                return 2;
                        break;
                default:
                        return 2;
                }
        }
        if (optind + 1 != argc) {
                fprintf(stderr, "virtuned-worker: run by virtuned, not by hand\n");
                return 2;
        }
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        r = vt_ctx_new(root, &ctx);
        if (r < 0)
                return log_error_errno(r, "Cannot use root %s", root ? root : "/"), 1;
        if (cpuid) {
                vt_cpuid_free(ctx->cpuid);
                ctx->cpuid = NULL;
                r = vt_cpuid_new_file(cpuid, &ctx->cpuid);
                if (r < 0)
                        return log_error_errno(r, "Cannot read %s", cpuid), 1;
        }
        char err[VT_POLICY_ERR_MAX] = "";
        if (policy_fd >= 0) {
                r = policy_from_fd(policy_fd, &ctx->policy);
                close(policy_fd);
                if (r < 0)
                        return 1; /* never guess: a job without the daemon's policy is refused */
        } else if (vt_policy_load(ctx, &ctx->policy, err, sizeof(err)) < 0) {
                /* As virtuned does: defaults, so nothing is allowed to change. */
                log_error("Bad policy, running with defaults: %s", err);
                ctx->policy = vt_policy_new();
                if (!ctx->policy)
                        return 1;
        }

        const char *job = argv[optind];
        if (streq(job, "serve"))
                r = do_serve(ctx, idle_ms);
        else if (streq(job, "start"))
                /* The runtime apply detects what its plan reads; a whole `virtune detect` here
                 * (TPM, virtio, disks' probes) was thrown away unread at every boot. */
                r = apply ? do_apply(ctx, NULL) : 0;
        else if (streq(job, "apply-job")) {
                r = do_apply_job(ctx);
                return r < 0 ? 1 : 0; /* 1: rolled back, said in the reply */
        } else if (streq(job, "iosched")) {
                static const char *const iosched[] = {"iosched", NULL};
                r = do_apply(ctx, iosched);
        } else {
                fprintf(stderr, "virtuned-worker: unknown job '%s'\n", job);
                return 2;
        }
        return r < 0 ? 1 : 0;
}
