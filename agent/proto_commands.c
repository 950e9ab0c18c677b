/* The channel's command table: each command's name, handler, argument schema and kind. */
#include <inttypes.h>
#include "proto.h"
#include "../modules/codec.h"
#include "../modules/module.h"
#include "../modules/tpm2.h"
#include "../modules/tune.h"
#include "version.h"

#define VT_NONCE_MIN 16
#define VT_NONCE_MAX 64
#define VT_ONLY_MAX  16 /* module names in one virtune-apply */

static int cmd_sync(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                    size_t desclen)
{
        json_object *id;
        json_object_object_get_ex(args, "id", &id);
        *ret = json_object_get(id);
        return 0;
}

static int cmd_ping(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                    size_t desclen)
{
        *ret = json_object_new_object();
        return *ret ? 0 : -ENOMEM;
}

static int cmd_info(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                    size_t desclen)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *cmds = json_object_new_array();
        if (!o || !cmds) {
                json_object_put(cmds);
                return -ENOMEM;
        }
        json_object_object_add(o, "version", json_object_new_string(VT_VERSION));
        json_object_object_add(o, "supported_commands", cmds);
        bool allow = vt_proto_allow_apply(ctx);
        for (size_t i = 0; i < vt_proto_commands_len; i++) {
                json_object *c = json_object_new_object();
                if (!c)
                        return -ENOMEM;
                json_object_object_add(c, "name",
                                       json_object_new_string(vt_proto_commands[i].name));
                json_object_object_add(
                        c, "enabled",
                        json_object_new_boolean(!vt_proto_commands[i].mutating || allow));
                json_object_object_add(c, "success-response", json_object_new_boolean(true));
                json_object_array_add(cmds, c);
        }
        *ret = TAKE_PTR(o);
        return 0;
}

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

static int cmd_apply(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                     size_t desclen)
{
        json_object *only = NULL;
        const char *names[VT_ONLY_MAX + 1] = {0};
        struct vt_apply_opts opts = {
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
                        names[i] = json_object_get_string(json_object_array_get_idx(only, i));
                        if (!vt_module_find(names[i])) {
                                snprintf(desc, desclen, "only: no module named '%.64s'", names[i]);
                                return -EINVAL;
                        }
                }
                opts.only = names;
        }
        return vt_tune_apply(ctx, &opts, ret);
}

static int cmd_revert(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                      size_t desclen)
{
        return vt_tune_revert(ctx, arg_bool(args, "dry-run"), ret);
}

/* Argument schemas: name, JSON type, required; arrays also name their element type. */
#define ARG(n, t, req)                                                                             \
        {                                                                                          \
                .name = (n), .type = (t), .required = (req)                                        \
        }
#define ARRAY_ARG(n, req, e)                                                                       \
        {                                                                                          \
                .name = (n), .type = json_type_array, .required = (req), .elem = (e)               \
        }
#define ARG_END                                                                                    \
        {                                                                                          \
                .name = NULL                                                                       \
        }

static const struct vt_proto_arg args_none[] = {ARG_END};
static const struct vt_proto_arg args_sync[] = {ARG("id", json_type_int, true), ARG_END};
static const struct vt_proto_arg args_pcr_read[] = {
        ARRAY_ARG("banks", false, json_type_string),
        ARRAY_ARG("pcrs", false, json_type_int),
        ARG_END,
};
static const struct vt_proto_arg args_quote[] = {
        ARG("nonce", json_type_string, true),
        ARG("pcrs", json_type_string, false), /* a selection, e.g. "sha256:0-9" */
        ARG_END,
};
static const struct vt_proto_arg args_eventlog[] = {
        ARG("ima", json_type_boolean, false),
        ARG("offset", json_type_int, false),
        ARG_END,
};
static const struct vt_proto_arg args_apply[] = {
        ARG("dry-run", json_type_boolean, false),
        ARG("no-bootloader", json_type_boolean, false),
        ARG("runtime-only", json_type_boolean, false),
        ARRAY_ARG("only", false, json_type_string),
        ARG_END,
};
static const struct vt_proto_arg args_revert[] = {ARG("dry-run", json_type_boolean, false),
                                                  ARG_END};

const struct vt_proto_command vt_proto_commands[] = {
        /* name, handler, arguments, mutating, delimited, worker */
        {"guest-sync", cmd_sync, args_sync, false, false, false},
        {"guest-sync-delimited", cmd_sync, args_sync, false, true, false},
        {"guest-ping", cmd_ping, args_none, false, false, false},
        {"guest-info", cmd_info, args_none, false, false, false},
        {"virtune-facts", cmd_facts, args_none, false, false, true},
        {"virtune-status", cmd_status, args_none, false, false, true},
        {"virtune-plan", cmd_plan, args_none, false, false, true},
        {"virtune-pcr-read", cmd_pcr_read, args_pcr_read, false, false, true},
        {"virtune-quote", cmd_quote, args_quote, false, false, true},
        {"virtune-eventlog", cmd_eventlog, args_eventlog, false, false, true},
        {"virtune-apply", cmd_apply, args_apply, true, false, true},
        {"virtune-revert", cmd_revert, args_revert, true, false, true},
};
const size_t vt_proto_commands_len = ARRAY_SIZE(vt_proto_commands);
