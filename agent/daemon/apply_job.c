/* apply and revert handed from virtuned's sandbox to virtune-apply@.service, and run there. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include "apply_job.h"
#include "policy.h"
#include "module.h"
#include "proto.h"
#include "tune.h"

int vt_frame_read_full(int fd, void *buf, size_t len)
{
        size_t got = 0;
        while (got < len) {
                ssize_t n = read(fd, (char *)buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return got == 0 ? 0 : -EPIPE;
                got += (size_t)n;
        }
        return 1;
}

int vt_frame_write(int fd, const char *data, size_t len)
{
        uint32_t n = (uint32_t)len;
        struct iovec iov[2] = {{&n, sizeof(n)}, {(void *)data, len}};
        size_t left = sizeof(n) + len;
        int i = 0;
        while (left > 0) {
                ssize_t k = writev(fd, iov + i, 2 - i);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                left -= (size_t)k;
                for (; i < 2 && (size_t)k >= iov[i].iov_len; i++)
                        k -= (ssize_t)iov[i].iov_len;
                if (i < 2) {
                        iov[i].iov_base = (char *)iov[i].iov_base + k;
                        iov[i].iov_len -= (size_t)k;
                }
        }
        return 0;
}

/* One frame of at most max bytes, NUL-terminated, in *ret. */
static int frame_read(int fd, size_t max, char **ret, size_t *len)
{
        uint32_t n;
        int r = vt_frame_read_full(fd, &n, sizeof(n));
        if (r <= 0)
                return r < 0 ? r : -EPIPE;
        if (n > max)
                return -EMSGSIZE;
        _cleanup_free_ char *buf = malloc((size_t)n + 1);
        if (!buf)
                return -ENOMEM;
        r = n ? vt_frame_read_full(fd, buf, n) : 1;
        if (r <= 0)
                return r < 0 ? r : -EPIPE;
        buf[n] = '\0';
        *len = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

static const struct {
        const char *name;
        size_t offset;
} job_flags[] = {
        {"dry-run", offsetof(struct vt_apply_job, dry_run)},
        {"no-bootloader", offsetof(struct vt_apply_job, no_bootloader)},
        {"runtime-only", offsetof(struct vt_apply_job, runtime_only)},
        {"last", offsetof(struct vt_apply_job, last)},
};

static json_object *job_to_json(const struct vt_apply_job *job)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "job", json_object_new_string(job->revert ? "revert" : "apply"));
        for (size_t i = 0; i < ARRAY_SIZE(job_flags); i++)
                json_object_object_add(
                        o, job_flags[i].name,
                        json_object_new_boolean(
                                *(const bool *)((const char *)job + job_flags[i].offset)));
        if (job->only[0]) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; job->only[i]; i++)
                        json_object_array_add(a, json_object_new_string(job->only[i]));
                json_object_object_add(o, "only", a);
        }
        if (job->policy)
                json_object_object_add(o, "policy", json_object_new_string(job->policy));
        return o;
}

/* The job in o, every field checked: a known key of its type, module names that exist. */
static int job_from_json(json_object *o, struct vt_apply_job *job)
{
        *job = (struct vt_apply_job){0};
        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        bool named = false;
        json_object_object_foreach (o, k, v) {
                bool known = false;
                if (streq(k, "job")) {
                        const char *s = json_object_get_string(v);
                        if (!json_object_is_type(v, json_type_string) ||
                            !(streq(s, "apply") || streq(s, "revert")))
                                return -EINVAL;
                        job->revert = streq(s, "revert");
                        named = known = true;
                }
                for (size_t i = 0; i < ARRAY_SIZE(job_flags); i++)
                        if (streq(k, job_flags[i].name)) {
                                if (!json_object_is_type(v, json_type_boolean))
                                        return -EINVAL;
                                *(bool *)((char *)job + job_flags[i].offset) =
                                        json_object_get_boolean(v);
                                known = true;
                        }
                if (streq(k, "policy")) {
                        if (!json_object_is_type(v, json_type_string))
                                return -EINVAL;
                        job->policy = json_object_get_string(v); /* checked when parsed */
                        known = true;
                }
                if (streq(k, "only")) {
                        size_t n = json_object_array_length(v);
                        if (!json_object_is_type(v, json_type_array) || n == 0 || n > VT_APPLY_ONLY)
                                return -EINVAL;
                        for (size_t i = 0; i < n; i++) {
                                json_object *e = json_object_array_get_idx(v, i);
                                const struct vt_module *m =
                                        json_object_is_type(e, json_type_string)
                                                ? vt_module_find(json_object_get_string(e))
                                                : NULL;
                                if (!m)
                                        return -EINVAL;
                                job->only[i] = m->name; /* the table's string, not the peer's */
                        }
                        known = true;
                }
                if (!known)
                        return -EINVAL;
        }
        return named ? 0 : -EINVAL;
}

static int run_here(struct vt_ctx *ctx, const struct vt_apply_job *job, json_object **ret)
{
        if (job->revert)
                return vt_tune_revert_opts(ctx, job->dry_run, job->last, ret);
        struct vt_apply_opts opts = {
                .dry_run = job->dry_run,
                .no_bootloader = job->no_bootloader,
                .runtime_only = job->runtime_only,
                .only = job->only[0] ? job->only : NULL,
        };
        return vt_tune_apply(ctx, &opts, ret);
}

/* The socket's path on this system (under the root: tests run the unit's side there too). */
static int socket_path(struct vt_ctx *ctx, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s%s",
                         streq(ctx->root, "/") ? "" : ctx->root, VT_APPLY_SOCKET);
        return n < 0 || (size_t)n >= sizeof(sa->sun_path) ? -ENAMETOOLONG : 0;
}

static int call(int fd, const struct vt_apply_job *job, json_object **ret)
{
        _cleanup_json_ json_object *o = job_to_json(job);
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        int r = vt_frame_write(fd, s, strlen(s));
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = frame_read(fd, VT_APPLY_REPLY_MAX, &buf, &len);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *reply = json_tokener_parse(buf);
        json_object *rc, *result;
        if (!json_object_object_get_ex(reply, "rc", &rc) ||
            !json_object_is_type(rc, json_type_int) ||
            !json_object_object_get_ex(reply, "result", &result))
                return -EBADMSG;
        int64_t v = json_object_get_int64(rc);
        if (v < -4095 || v > 1)
                return -EBADMSG;
        *ret = json_object_get(result);
        return (int)v;
}

int vt_apply_job_run(struct vt_ctx *ctx, const struct vt_apply_job *job, json_object **ret)
{
        struct sockaddr_un sa;
        struct stat st;
        if (socket_path(ctx, &sa) < 0 || stat(sa.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return run_here(ctx, job, ret); /* no apply unit: as before (tests, no systemd) */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                *ret = json_object_new_object();
                vt_json_add_str(*ret, "status", "not-run");
                char msg[sizeof(sa.sun_path) + 160];
                snprintf(msg, sizeof(msg),
                         "cannot reach %s (%s): is virtune-apply.socket enabled and started?",
                         sa.sun_path, strerror(-r));
                vt_json_add_str(*ret, "error", msg);
                return 1;
        }
        /* the job runs with the daemon's policy in force, not whatever the file says now */
        _cleanup_free_ char *policy = ctx->policy ? vt_policy_serialize(ctx->policy) : NULL;
        struct vt_apply_job j = *job;
        j.policy = policy;
        return call(fd, &j, ret);
}

int vt_apply_job_serve(struct vt_ctx *ctx, int fd)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = frame_read(fd, VT_APPLY_JOB_MAX, &buf, &len);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *o = json_tokener_parse(buf), *result = NULL;
        struct vt_apply_job job;
        r = job_from_json(o, &job);
        if (r >= 0 && !vt_proto_allow_apply(ctx))
                r = -EPERM; /* this side reads the policy too: virtuned's word is not enough */
        /* then runs with the daemon's policy in force, which must allow it as well */
        struct vt_policy *file_policy = ctx->policy, *handed = NULL;
        char err[VT_POLICY_ERR_MAX] = "";
        if (r >= 0 && job.policy &&
            (r = vt_policy_deserialize(job.policy, &handed, err, sizeof(err))) >= 0) {
                ctx->policy = handed;
                if (!vt_proto_allow_apply(ctx))
                        r = -EPERM;
        }
        if (r >= 0)
                r = run_here(ctx, &job, &result);
        ctx->policy = file_policy;
        vt_policy_free(handed);
        if (r < 0 && !result) {
                result = json_object_new_object();
                vt_json_add_str(result, "status", "not-run");
                vt_json_add_str(result, "error",
                                r == -EPERM ? "the policy does not set [channel] allow-apply = yes"
                                : r == -EINVAL ? "not a job virtune-apply runs"
                                               : strerror(-r));
        }
        _cleanup_json_ json_object *reply = json_object_new_object();
        json_object_object_add(reply, "rc", json_object_new_int(r));
        json_object_object_add(reply, "result", json_object_get(result));
        const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
        int w = vt_frame_write(fd, s, strlen(s));
        return w < 0 ? w : r;
}
