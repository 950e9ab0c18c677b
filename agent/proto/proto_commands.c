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
static const struct vt_proto_arg args_activate[] = {
        ARG("credential", json_type_string, true), /* TPM2B_ID_OBJECT, hex */
        ARG("secret", json_type_string, true),     /* TPM2B_ENCRYPTED_SECRET, hex */
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
        /* name, handler (NULL: proto_workers.c), arguments, mutating, delimited, worker */
        {"guest-sync", cmd_sync, args_sync, false, false, false},
        {"guest-sync-delimited", cmd_sync, args_sync, false, true, false},
        {"guest-ping", cmd_ping, args_none, false, false, false},
        {"guest-info", cmd_info, args_none, false, false, false},
        {"virtune-facts", NULL, args_none, false, false, true},
        {"virtune-status", NULL, args_none, false, false, true},
        {"virtune-plan", NULL, args_none, false, false, true},
        {"virtune-pcr-read", NULL, args_pcr_read, false, false, true},
        {"virtune-quote", NULL, args_quote, false, false, true},
        {"virtune-eventlog", NULL, args_eventlog, false, false, true},
        {"virtune-ek", NULL, args_none, false, false, true},
        {"virtune-activate", NULL, args_activate, false, false, true},
        {"virtune-apply", NULL, args_apply, true, false, true},
        {"virtune-revert", NULL, args_revert, true, false, true},
};
const size_t vt_proto_commands_len = ARRAY_SIZE(vt_proto_commands);
