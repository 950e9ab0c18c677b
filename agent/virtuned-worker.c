/* virtuned-worker: runs one system-touching job for virtuned, in its own short-lived process. */
#include <getopt.h>
#include "proto.h"
#include "../modules/log.h"
#include "../modules/module.h"
#include "../modules/policy.h"
#include "../modules/tune.h"
#include "../modules/vt_cpuid.h"

/*
 * virtuned-worker [--root DIR] [--cpuid FILE] [--allow-apply] request
 *                                                      one request on stdin, its reply on stdout
 * virtuned-worker [--root DIR] start [--no-apply]       detection and the runtime policy at start
 * virtuned-worker [--root DIR] iosched                  a disk appeared: its scheduler
 * Not for people: virtuned starts it with exactly these arguments.
 */

static int do_request(struct vt_ctx *ctx)
{
        /* Bounded like the reader that produced it: one request and a byte to tell it is whole. */
        static char buf[VT_PROTO_MAX_REQUEST + 1];
        size_t len = 0;
        for (;;) {
                ssize_t n = read(STDIN_FILENO, buf + len, sizeof(buf) - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return log_error_errno(-errno, "Reading the request");
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len == sizeof(buf))
                        return log_error_errno(-EMSGSIZE, "Reading the request");
        }
        size_t rl = 0;
        _cleanup_free_ char *reply = vt_proto_dispatch(ctx, VT_PROTO_MESSAGE, buf, len, &rl);
        if (!reply)
                return log_error_errno(-ENOMEM, "Answering");
        if (fwrite(reply, 1, rl, stdout) != rl || fflush(stdout) != 0)
                return log_error_errno(-EIO, "Writing the reply");
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
                {"allow-apply", no_argument, NULL, 'a'},
                {},
        };
        const char *root = NULL, *cpuid = NULL;
        bool apply = true, allow_apply = false;
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
                case 'a':
                        allow_apply = true;
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
        if (vt_policy_load(ctx, &ctx->policy, err, sizeof(err)) < 0) {
                /* As virtuned does: defaults, so nothing is allowed to change. */
                log_error("Bad policy, running with defaults: %s", err);
                ctx->policy = vt_policy_new();
                if (!ctx->policy)
                        return 1;
        }
        /* virtuned decides allow-apply from the policy it holds (it may have kept an older one
         * than the file now on disk); without its word, the file's value stands. */
        if (allow_apply && vt_policy_parse(ctx->policy, "virtuned",
                                           "[channel]\nallow-apply = yes\n", err, sizeof(err)) < 0)
                return log_error("%s", err), 1;

        const char *job = argv[optind];
        if (streq(job, "request"))
                r = do_request(ctx);
        else if (streq(job, "start")) {
                _cleanup_json_ json_object *facts = NULL;
                r = vt_detect_all(ctx, &facts);
                if (r < 0)
                        log_warning_errno(r, "Detection failed");
                r = apply ? do_apply(ctx, NULL) : 0;
        } else if (streq(job, "iosched")) {
                static const char *const iosched[] = {"iosched", NULL};
                r = do_apply(ctx, iosched);
        } else {
                fprintf(stderr, "virtuned-worker: unknown job '%s'\n", job);
                return 2;
        }
        return r < 0 ? 1 : 0;
}
