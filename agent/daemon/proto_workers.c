/* The channel commands that read or change the system: facts, tuning, the TPM. virtuned runs
 * them in virtuned-worker, so the long-lived daemon never maps what they need. Their arguments
 * arrive checked against the command table's schema (proto_commands.c). */
#include "apply_job.h"
#include "proto.h"
#include "codec.h"
#include "module.h"
#include "tpm2.h"
#include "tune.h"

/* What --only names on the command line too: a module of the table with a plan half. */
bool vt_proto_module_known(const char *name)
{
        return vt_module_find_tunable(name) != NULL;
}

int vt_proto_cmd_facts(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                       size_t desclen)
{
        return vt_detect_all(ctx, ret);
}

/* status and plan are asked of fresh facts: the host wants now, not the daemon's start. */
static int with_facts(struct vt_ctx *ctx, int (*fn)(struct vt_ctx *, json_object *, json_object **),
                      json_object **ret)
{
        _cleanup_json_ json_object *facts = NULL;
        int r = vt_detect_for_plan(ctx, &facts);
        if (r < 0)
                return r;
        return fn(ctx, facts, ret);
}

int vt_proto_cmd_status(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                        size_t desclen)
{
        return with_facts(ctx, vt_tune_status, ret);
}

int vt_proto_cmd_plan(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                      size_t desclen)
{
        return with_facts(ctx, vt_tune_plan, ret);
}

static json_object *arg(json_object *args, const char *name)
{
        json_object *o = NULL;
        json_object_object_get_ex(args, name, &o);
        return o;
}

static bool arg_bool(json_object *args, const char *name)
{
        json_object *o = arg(args, name);
        return o && json_object_get_boolean(o);
}

int vt_proto_cmd_pcr_read(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                          size_t desclen)
{
        return vt_tpm2_pcr_read(ctx, arg(args, "banks"), arg(args, "pcrs"), ret);
}

int vt_proto_cmd_quote(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                       size_t desclen)
{
        _cleanup_free_ uint8_t *nonce = NULL;
        size_t len;
        json_object *pcrs = arg(args, "pcrs");
        int r = vt_hex_decode(json_object_get_string(arg(args, "nonce")), &nonce, &len);
        if (r < 0)
                return r;
        return vt_tpm2_quote(ctx, nonce, len, pcrs ? json_object_get_string(pcrs) : NULL, ret);
}

int vt_proto_cmd_eventlog(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                          size_t desclen)
{
        json_object *offset = arg(args, "offset");
        /* In pieces the channel carries: the host asks again from next_offset. */
        return vt_tpm2_eventlog(ctx, arg_bool(args, "ima"),
                                offset ? (uint64_t)json_object_get_int64(offset) : 0,
                                VT_PROTO_EVENTLOG_CHUNK, ret);
}

int vt_proto_cmd_ek(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                    size_t desclen)
{
        return vt_tpm2_ek(ctx, ret);
}

/* The host's MakeCredential output: a TPM2B_ID_OBJECT and a TPM2B_ENCRYPTED_SECRET, in hex. */
int vt_proto_cmd_activate(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                          size_t desclen)
{
        _cleanup_free_ uint8_t *blob = NULL, *secret = NULL;
        size_t blob_len, secret_len;
        int r = vt_hex_decode(json_object_get_string(arg(args, "credential")), &blob, &blob_len);
        if (r >= 0)
                r = vt_hex_decode(json_object_get_string(arg(args, "secret")), &secret,
                                  &secret_len);
        if (r < 0)
                return r;
        r = vt_tpm2_activate(ctx, blob, blob_len, secret, secret_len, ret);
        if (r == -EINVAL)
                snprintf(desc, desclen, "credential or secret is not a marshalled TPM2B");
        else if (r == -EBADMSG)
                snprintf(desc, desclen,
                         "the TPM refused to activate the credential (not made for this AK "
                         "under this EK, or altered)");
        return r;
}

_Static_assert(VT_PROTO_ONLY_MAX <= VT_APPLY_ONLY, "an apply job holds every --only name");

/* apply and revert run in virtune-apply@.service when it is there (apply_job.h). */
int vt_proto_cmd_apply(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                       size_t desclen)
{
        json_object *only = arg(args, "only");
        struct vt_apply_job job = {
                .dry_run = arg_bool(args, "dry-run"),
                .no_bootloader = arg_bool(args, "no-bootloader"),
                .runtime_only = arg_bool(args, "runtime-only"),
        };
        if (only) {
                size_t n = json_object_array_length(only);
                if (n > VT_PROTO_ONLY_MAX)
                        return -EINVAL; /* the schema says 1-16: cannot happen */
                for (size_t i = 0; i < n; i++)
                        job.only[i] = json_object_get_string(json_object_array_get_idx(only, i));
        }
        return vt_apply_job_run(ctx, &job, ret);
}

int vt_proto_cmd_revert(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                        size_t desclen)
{
        struct vt_apply_job job = {.revert = true, .dry_run = arg_bool(args, "dry-run")};
        return vt_apply_job_run(ctx, &job, ret);
}
