/* The channel's command table: each command's name, handler, argument schema and kind. */
#include "proto.h"
#include "version.h"

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

/* Argument schemas. Bounds are the protocol's: a handler never sees a value outside them. */
#define BOOL(n)                                                                                    \
        {                                                                                          \
                .name = (n), .kind = VT_PROTO_BOOL                                                 \
        }
#define INT(n, req, lo, hi)                                                                        \
        {                                                                                          \
                .name = (n), .kind = VT_PROTO_INT, .required = (req), .min = (lo), .max = (hi)     \
        }
#define STRING(n, req, lo, hi)                                                                     \
        {                                                                                          \
                .name = (n), .kind = VT_PROTO_STRING, .required = (req), .min = (lo), .max = (hi)  \
        }
#define HEX(n, req, lo, hi)                                                                        \
        {                                                                                          \
                .name = (n), .kind = VT_PROTO_HEX, .required = (req), .min = (lo), .max = (hi)     \
        }
/* An array of lo-hi elements, each checked as the last argument (an unnamed one) says. */
#define ARRAY(n, lo, hi, ...)                                                                      \
        {                                                                                          \
                .name = (n), .kind = VT_PROTO_ARRAY, .min = (lo), .max = (hi),                     \
                .elem = &(const struct vt_proto_arg)__VA_ARGS__                                    \
        }
#define ARG_END                                                                                    \
        {                                                                                          \
                .name = NULL                                                                       \
        }

static const struct vt_proto_arg args_none[] = {ARG_END};
static const struct vt_proto_arg args_sync[] = {INT("id", true, INT64_MIN, INT64_MAX), ARG_END};
static const struct vt_proto_arg args_pcr_read[] = {
        ARRAY("banks", 0, 8, STRING(NULL, true, 1, 16)), /* "sha256"; the TPM says which exist */
        ARRAY("pcrs", 0, 24, INT(NULL, true, 0, 23)),
        ARG_END,
};
static const struct vt_proto_arg args_quote[] = {
        HEX("nonce", true, 16, 64),
        STRING("pcrs", false, 1, 256), /* a selection, e.g. "sha256:0-9" */
        ARG_END,
};
/* The host's MakeCredential output (tests/tpm/test_attest.c: about 140 and 260 bytes). */
static const struct vt_proto_arg args_activate[] = {
        HEX("credential", true, 2, 512), /* TPM2B_ID_OBJECT */
        HEX("secret", true, 2, 1024),    /* TPM2B_ENCRYPTED_SECRET */
        ARG_END,
};
static const struct vt_proto_arg args_eventlog[] = {
        BOOL("ima"),
        INT("offset", false, 0, INT64_MAX),
        ARG_END,
};
static const struct vt_proto_arg args_apply[] = {
        BOOL("dry-run"),
        BOOL("no-bootloader"),
        BOOL("runtime-only"),
        ARRAY("only", 1, VT_PROTO_ONLY_MAX,
              {.kind = VT_PROTO_STRING,
               .min = 1,
               .max = 64,
               .known = vt_proto_module_known,
               .what = "tunable module"}),
        ARG_END,
};
static const struct vt_proto_arg args_revert[] = {BOOL("dry-run"), ARG_END};

/* virtune-* commands other than these are the worker's: the daemon links no engine. */
#define DAEMON  .where = VT_PROTO_IN_DAEMON
#define WORKER  .where = VT_PROTO_IN_WORKER
#define READS   .mutating = false
#define CHANGES .mutating = true

const struct vt_proto_command vt_proto_commands[] = {
        {"guest-sync", cmd_sync, args_sync, READS, DAEMON},
        {"guest-sync-delimited", cmd_sync, args_sync, READS, DAEMON, .delimited = true},
        {"guest-ping", cmd_ping, args_none, READS, DAEMON},
        {"guest-info", cmd_info, args_none, READS, DAEMON},
        {"virtune-facts", vt_proto_cmd_facts, args_none, READS, WORKER},
        {"virtune-status", vt_proto_cmd_status, args_none, READS, WORKER},
        {"virtune-plan", vt_proto_cmd_plan, args_none, READS, WORKER},
        {"virtune-pcr-read", vt_proto_cmd_pcr_read, args_pcr_read, READS, WORKER},
        {"virtune-quote", vt_proto_cmd_quote, args_quote, READS, WORKER},
        {"virtune-eventlog", vt_proto_cmd_eventlog, args_eventlog, READS, WORKER},
        {"virtune-ek", vt_proto_cmd_ek, args_none, READS, WORKER},
        {"virtune-activate", vt_proto_cmd_activate, args_activate, READS, WORKER},
        {"virtune-apply", vt_proto_cmd_apply, args_apply, CHANGES, WORKER},
        {"virtune-revert", vt_proto_cmd_revert, args_revert, CHANGES, WORKER},
};
const size_t vt_proto_commands_len = ARRAY_SIZE(vt_proto_commands);
