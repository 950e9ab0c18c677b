/* The channel commands that read or change the system: facts, tuning, the TPM. virtuned runs
 * them in virtuned-worker, so the long-lived daemon never maps what they need. */
#include <inttypes.h>
#include "apply_job.h"
#include "proto.h"
#include "codec.h"
#include "module.h"
#include "tpm2.h"
#include "tune.h"

#define VT_NONCE_MIN 16
#define VT_NONCE_MAX 64
#define VT_ONLY_MAX  VT_APPLY_ONLY /* module names in one virtune-apply */

static int cmd_facts(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                     size_t desclen)
{
        return vt_detect_all(ctx, ret);
}

/* status and plan are asked of fresh facts: the host wants now, not the daemon's start. */
static int with_facts(struct vt_ctx *ctx, int (*fn)(struct vt_ctx *, json_object *, json_object **),
                      json_object **ret)
{
        _cleanup_json_ json_object *facts = NULL;
        int r = vt_detect_all(ctx, &facts);
        if (r < 0)
                return r;
        return fn(ctx, facts, ret);
}

static int cmd_status(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                      size_t desclen)
{
        return with_facts(ctx, vt_tune_status, ret);
}

static int cmd_plan(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                    size_t desclen)
{
        return with_facts(ctx, vt_tune_plan, ret);
}

static int cmd_pcr_read(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                        size_t desclen)
{
        json_object *banks = NULL, *pcrs = NULL;
        json_object_object_get_ex(args, "banks", &banks);
        json_object_object_get_ex(args, "pcrs", &pcrs);
        size_t n = pcrs ? json_object_array_length(pcrs) : 0;
        for (size_t i = 0; i < n; i++) {
                int64_t v = json_object_get_int64(json_object_array_get_idx(pcrs, i));
                if (v < 0 || v > 23) {
                        snprintf(desc, desclen, "pcrs[%zu] = %" PRId64 " is not 0-23", i, v);
                        return -EINVAL;
                }
        }
        return vt_tpm2_pcr_read(ctx, banks, pcrs, ret);
}

static int cmd_quote(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                     size_t desclen)
{
        json_object *nonce_o, *pcrs = NULL;
        _cleanup_free_ uint8_t *nonce = NULL;
        size_t len;

        json_object_object_get_ex(args, "nonce", &nonce_o);
        json_object_object_get_ex(args, "pcrs", &pcrs);
        if (vt_hex_decode(json_object_get_string(nonce_o), &nonce, &len) < 0 ||
            len < VT_NONCE_MIN || len > VT_NONCE_MAX) {
                snprintf(desc, desclen, "nonce must be %d-%d bytes in hex", VT_NONCE_MIN,
                         VT_NONCE_MAX);
                return -EINVAL;
        }
        return vt_tpm2_quote(ctx, nonce, len, pcrs ? json_object_get_string(pcrs) : NULL, ret);
}

static int cmd_eventlog(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                        size_t desclen)
{
        json_object *ima = NULL, *offset = NULL;
        json_object_object_get_ex(args, "ima", &ima);
        json_object_object_get_ex(args, "offset", &offset);
        int64_t off = offset ? json_object_get_int64(offset) : 0;
        if (off < 0) {
                snprintf(desc, desclen, "offset must not be negative");
                return -EINVAL;
        }
        return vt_tpm2_eventlog(ctx, ima && json_object_get_boolean(ima), (uint64_t)off, ret);
}

static bool arg_bool(json_object *args, const char *name)
{
        json_object *o;
        return json_object_object_get_ex(args, name, &o) && json_object_get_boolean(o);
}

/* apply and revert run in virtune-apply@.service when it is there (apply_job.h). */
static int cmd_apply(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                     size_t desclen)
{
        json_object *only = NULL;
        struct vt_apply_job job = {
                .dry_run = arg_bool(args, "dry-run"),
                .no_bootloader = arg_bool(args, "no-bootloader"),
                .runtime_only = arg_bool(args, "runtime-only"),
        };

        if (json_object_object_get_ex(args, "only", &only)) {
                size_t n = json_object_array_length(only);
                if (n == 0 || n > VT_ONLY_MAX) {
                        snprintf(desc, desclen, "only: 1-%d module names", VT_ONLY_MAX);
                        return -EINVAL;
                }
                for (size_t i = 0; i < n; i++) {
                        job.only[i] = json_object_get_string(json_object_array_get_idx(only, i));
                        if (!vt_module_find(job.only[i])) {
                                snprintf(desc, desclen, "only: no module named '%.64s'",
                                         job.only[i]);
                                return -EINVAL;
                        }
                }
        }
        return vt_apply_job_run(ctx, &job, ret);
}

static int cmd_revert(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                      size_t desclen)
{
        struct vt_apply_job job = {.revert = true, .dry_run = arg_bool(args, "dry-run")};
        return vt_apply_job_run(ctx, &job, ret);
}

static const struct {
        const char *name;
        vt_proto_handler_fn fn;
} workers[] = {
        {"virtune-facts", cmd_facts}, {"virtune-status", cmd_status},
        {"virtune-plan", cmd_plan},   {"virtune-pcr-read", cmd_pcr_read},
        {"virtune-quote", cmd_quote}, {"virtune-eventlog", cmd_eventlog},
        {"virtune-apply", cmd_apply}, {"virtune-revert", cmd_revert},
};

int vt_proto_worker_call(const struct vt_proto_command *cmd, struct vt_ctx *ctx, json_object *args,
                         json_object **ret, char *desc, size_t desclen)
{
        for (size_t i = 0; i < ARRAY_SIZE(workers); i++)
                if (streq(workers[i].name, cmd->name))
                        return workers[i].fn(ctx, args, ret, desc, desclen);
        return -EOPNOTSUPP;
}
