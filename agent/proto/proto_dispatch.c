/* The dispatcher: checks a request against the command table's schema and runs its handler. */
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
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

static const char *kind_name(enum vt_proto_kind k)
{
        static const char *const names[] = {
                [VT_PROTO_BOOL] = "boolean",  [VT_PROTO_INT] = "integer",
                [VT_PROTO_STRING] = "string", [VT_PROTO_HEX] = "string",
                [VT_PROTO_ARRAY] = "array",
        };
        assert((size_t)k < ARRAY_SIZE(names));
        return names[k];
}

static const json_type kind_json[] = {
        [VT_PROTO_BOOL] = json_type_boolean,  [VT_PROTO_INT] = json_type_int,
        [VT_PROTO_STRING] = json_type_string, [VT_PROTO_HEX] = json_type_string,
        [VT_PROTO_ARRAY] = json_type_array,
};

static const struct vt_proto_arg *arg_find(const struct vt_proto_arg *args, const char *name)
{
        for (; args && args->name; args++)
                if (streq(args->name, name))
                        return args;
        return NULL;
}

static bool all_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

static bool has_control(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
                        return true;
        return false;
}

static bool one_of(const char *const *choices, const char *s)
{
        for (; *choices; choices++)
                if (streq(*choices, s))
                        return true;
        return false;
}

/* One value against its schema; where names it in messages ("pcrs[3]"). */
static int value_check(const struct vt_proto_arg *a, const char *where, json_object *val,
                       char *desc, size_t desclen)
{
        if (json_object_get_type(val) != kind_json[a->kind]) {
                snprintf(desc, desclen, "Invalid parameter type for '%s', expected: %s", where,
                         kind_name(a->kind));
                return -EINVAL;
        }
        switch (a->kind) {
        case VT_PROTO_BOOL:
                return 0;
        case VT_PROTO_INT: {
                /* The parser refused integers past int64, so this one is exact. */
                int64_t v = json_object_get_int64(val);
                if (v < a->min || v > a->max) {
                        snprintf(desc, desclen, "'%s' = %" PRId64 " is not %" PRId64 "-%" PRId64,
                                 where, v, a->min, a->max);
                        return -EINVAL;
                }
                return 0;
        }
        case VT_PROTO_STRING:
        case VT_PROTO_HEX: {
                const char *s = json_object_get_string(val);
                size_t n = (size_t)json_object_get_string_len(val);
                /* No argument of ours holds one; NUL would cut the C string short. */
                if (has_control(s, n)) {
                        snprintf(desc, desclen, "'%s' contains a control character", where);
                        return -EINVAL;
                }
                if (a->kind == VT_PROTO_HEX) {
                        if (n % 2 || !all_hex(s, n) || (int64_t)n / 2 < a->min ||
                            (int64_t)n / 2 > a->max) {
                                snprintf(desc, desclen,
                                         "'%s' must be %" PRId64 "-%" PRId64 " bytes in hex", where,
                                         a->min, a->max);
                                return -EINVAL;
                        }
                        return 0;
                }
                if ((int64_t)n < a->min || (int64_t)n > a->max) {
                        snprintf(desc, desclen, "'%s' must be %" PRId64 "-%" PRId64 " bytes long",
                                 where, a->min, a->max);
                        return -EINVAL;
                }
                if (a->choices && !one_of(a->choices, s)) {
                        snprintf(desc, desclen, "'%s' = '%.*s' is not a value it takes", where,
                                 vt_utf8_cut(s, 64), s);
                        return -EINVAL;
                }
                if (a->known && !a->known(s)) {
                        snprintf(desc, desclen, "'%s': no %s named '%.*s'", where, a->what,
                                 vt_utf8_cut(s, 64), s);
                        return -EINVAL;
                }
                return 0;
        }
        case VT_PROTO_ARRAY: {
                size_t n = json_object_array_length(val);
                if ((int64_t)n < a->min || (int64_t)n > a->max) {
                        snprintf(desc, desclen, "'%s' must have %" PRId64 "-%" PRId64 " elements",
                                 where, a->min, a->max);
                        return -EINVAL;
                }
                for (size_t i = 0; i < n; i++) {
                        char elem[80];
                        snprintf(elem, sizeof(elem), "%s[%zu]", where, i);
                        int r = value_check(a->elem, elem, json_object_array_get_idx(val, i), desc,
                                            desclen);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        }
        return -EINVAL;
}

/* Strict: no unknown names, no missing required ones, every value as its schema says. */
static int args_check(const struct vt_proto_command *cmd, json_object *args, char *desc,
                      size_t desclen)
{
        json_object_object_foreach (args, key, val) {
                const struct vt_proto_arg *a = arg_find(cmd->args, key);
                if (!a) {
                        snprintf(desc, desclen, "Parameter '%.*s' is unexpected",
                                 vt_utf8_cut(key, 64), key);
                        return -EINVAL;
                }
                int r = value_check(a, a->name, val, desc, desclen);
                if (r < 0)
                        return r;
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
                        snprintf(desc, sizeof(desc), "Unexpected member '%.*s' in request",
                                 vt_utf8_cut(key, 64), key);
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
        if (strlen(name) != (size_t)json_object_get_string_len(execute))
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR,
                                            "'execute' contains a NUL character", id, reply_len);
        const struct vt_proto_command *cmd = vt_proto_command_find(name);
        if (!cmd) {
                snprintf(desc, sizeof(desc), "The command %.*s has not been found",
                         vt_utf8_cut(name, 128), name);
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

        if (deferred && cmd->where == VT_PROTO_IN_WORKER) {
                *deferred = true;
                return NULL;
        }
        json_object *ret = NULL;
        /* NULL: a worker's command in a program that does not link the worker's handlers. */
        int r = cmd->fn ? cmd->fn(ctx, args, &ret, desc, sizeof(desc)) : -EOPNOTSUPP;
        if (r < 0) {
                json_object_put(ret);
                if (!desc[0])
                        snprintf(desc, sizeof(desc), "%s failed: %s", cmd->name, strerror(-r));
                return vt_proto_reply_error(errno_class(r), desc, id, reply_len);
        }
        size_t n = 0;
        char *reply = vt_proto_reply_return(ret, id, cmd->delimited, &n);
        if (reply && n > VT_PROTO_MAX_REPLY) {
                /* Said, not dropped: the host gets an answer it can act on. */
                free(reply);
                snprintf(desc, sizeof(desc),
                         "The reply to %s is %zu bytes, more than the channel's limit of %u",
                         cmd->name, n, VT_PROTO_MAX_REPLY);
                return vt_proto_reply_error(VT_PROTO_GENERIC_ERROR, desc, id, reply_len);
        }
        if (reply_len)
                *reply_len = n;
        return reply;
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
