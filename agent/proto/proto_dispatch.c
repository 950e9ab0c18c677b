/* The dispatcher: checks a request against the command table's schema and runs its handler. */
#include <assert.h>
#include "proto.h"
#include "policy.h"

const struct vt_proto_command *vt_proto_command_find(const char *name)
{
        for (size_t i = 0; i < vt_proto_commands_len; i++)
                if (streq(vt_proto_commands[i].name, name))
                        return &vt_proto_commands[i];
        return NULL;
}

bool vt_proto_allow_apply(const struct vt_ctx *ctx)
{
        return ctx->policy && vt_policy_get_tristate(ctx->policy, "channel", "allow-apply") == 1;
}

static const char *type_name(json_type t)
{
        static const char *const names[] = {
                [json_type_null] = "null",     [json_type_boolean] = "boolean",
                [json_type_double] = "number", [json_type_int] = "integer",
                [json_type_object] = "object", [json_type_array] = "array",
                [json_type_string] = "string",
        };
        return (size_t)t < ARRAY_SIZE(names) && names[t] ? names[t] : "unknown";
}

static const struct vt_proto_arg *arg_find(const struct vt_proto_arg *args, const char *name)
{
        for (; args && args->name; args++)
                if (streq(args->name, name))
                        return args;
        return NULL;
}

/* Strict: no unknown names, no missing required ones, exact types (arrays element by element). */
static int args_check(const struct vt_proto_command *cmd, json_object *args, char *desc,
                      size_t desclen)
{
        json_object_object_foreach (args, key, val) {
                const struct vt_proto_arg *a = arg_find(cmd->args, key);
                if (!a) {
                        snprintf(desc, desclen, "Parameter '%.64s' is unexpected", key);
                        return -EINVAL;
                }
                if (json_object_get_type(val) != a->type) {
                        snprintf(desc, desclen, "Invalid parameter type for '%s', expected: %s",
                                 a->name, type_name(a->type));
                        return -EINVAL;
                }
                if (a->type != json_type_array)
                        continue;
                size_t n = json_object_array_length(val);
                for (size_t i = 0; i < n; i++)
                        if (json_object_get_type(json_object_array_get_idx(val, i)) != a->elem) {
                                snprintf(desc, desclen,
                                         "Invalid parameter type for '%s[%zu]', expected: %s",
                                         a->name, i, type_name(a->elem));
                                return -EINVAL;
                        }
        }
        for (const struct vt_proto_arg *a = cmd->args; a && a->name; a++)
                if (a->required && !json_object_object_get_ex(args, a->name, NULL)) {
                        snprintf(desc, desclen, "Parameter '%s' missing", a->name);
                        return -EINVAL;
                }
        return 0;
}

static enum vt_proto_class errno_class(int r)
{
        switch (r) {
        case -EOPNOTSUPP:
                return VT_PROTO_UNSUPPORTED;
        case -EPERM:
        case -EACCES:
                return VT_PROTO_PERMISSION_DENIED;
        default:
                return VT_PROTO_GENERIC_ERROR;
        }
}

static char *dispatch_request(struct vt_ctx *ctx, json_object *req, size_t *reply_len,
                              bool *deferred)
{
        char desc[512] = "";
        json_object *id = NULL, *execute = NULL, *args = NULL;

        if (!json_object_is_type(req, json_type_object))
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR,
                                            "Expected a JSON object with 'execute'", NULL,
                                            reply_len);
        json_object_object_get_ex(req, "id", &id);
        json_object_object_foreach (req, key, val) {
                (void)val;
                if (!streq(key, "execute") && !streq(key, "arguments") && !streq(key, "id")) {
                        snprintf(desc, sizeof(desc), "Unexpected member '%.64s' in request", key);
                        return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, desc, id, reply_len);
                }
        }
        if (!json_object_object_get_ex(req, "execute", &execute) ||
            !json_object_is_type(execute, json_type_string))
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR,
                                            "'execute' must be a string naming a command", id,
                                            reply_len);
        if (json_object_object_get_ex(req, "arguments", &args) &&
            !json_object_is_type(args, json_type_object))
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, "'arguments' must be an object",
                                            id, reply_len);

        const char *name = json_object_get_string(execute);
        const struct vt_proto_command *cmd = vt_proto_command_find(name);
        if (!cmd) {
                snprintf(desc, sizeof(desc), "The command %.128s has not been found", name);
                return vt_proto_reply_error(VT_PROTO_COMMAND_NOT_FOUND, desc, id, reply_len);
        }

        _cleanup_json_ json_object *empty = NULL;
        if (!args)
                args = empty = json_object_new_object();
        if (!args)
                return NULL;
        if (args_check(cmd, args, desc, sizeof(desc)) < 0)
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, desc, id, reply_len);

        if (cmd->mutating && !vt_proto_allow_apply(ctx)) {
                snprintf(desc, sizeof(desc),
                         "%s is refused: the guest's policy does not set [channel] "
                         "allow-apply = yes",
                         cmd->name);
                return vt_proto_reply_error(VT_PROTO_PERMISSION_DENIED, desc, id, reply_len);
        }

        if (deferred && cmd->worker) {
                *deferred = true;
                return NULL;
        }
        json_object *ret = NULL;
        int r = cmd->fn ? cmd->fn(ctx, args, &ret, desc, sizeof(desc))
                        : vt_proto_worker_call(cmd, ctx, args, &ret, desc, sizeof(desc));
        if (r < 0) {
                json_object_put(ret);
                if (!desc[0])
                        snprintf(desc, sizeof(desc), "%s failed: %s", cmd->name, strerror(-r));
                return vt_proto_reply_error(errno_class(r), desc, id, reply_len);
        }
        return vt_proto_reply_return(ret, id, cmd->delimited, reply_len);
}

static char *dispatch(struct vt_ctx *ctx, enum vt_proto_event ev, const char *buf, size_t len,
                      size_t *reply_len, bool *deferred)
{
        assert(ctx);
        char err[256];

        switch (ev) {
        case VT_PROTO_RESET:
                return NULL;
        case VT_PROTO_TOO_LARGE:
                snprintf(err, sizeof(err),
                         "Request exceeds %u bytes; skipped to the next newline or 0xFF",
                         VT_PROTO_MAX_REQUEST);
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, err, NULL, reply_len);
        case VT_PROTO_TOO_DEEP:
                snprintf(err, sizeof(err),
                         "Request nests deeper than %d; skipped to the next newline or 0xFF",
                         VT_PROTO_MAX_DEPTH);
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, err, NULL, reply_len);
        case VT_PROTO_MESSAGE:
                break;
        }

        _cleanup_json_ json_object *req = NULL;
        if (vt_proto_parse(buf, len, &req, err, sizeof(err)) < 0)
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, err, NULL, reply_len);
        return dispatch_request(ctx, req, reply_len, deferred);
}

char *vt_proto_dispatch(struct vt_ctx *ctx, enum vt_proto_event ev, const char *buf, size_t len,
                        size_t *reply_len)
{
        return dispatch(ctx, ev, buf, len, reply_len, NULL);
}

char *vt_proto_dispatch_light(struct vt_ctx *ctx, enum vt_proto_event ev, const char *buf,
                              size_t len, size_t *reply_len, bool *deferred)
{
        assert(deferred);
        *deferred = false;
        return dispatch(ctx, ev, buf, len, reply_len, deferred);
}
