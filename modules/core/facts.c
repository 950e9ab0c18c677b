/* Helpers the detect halves share: absent things are facts, unreadable things are listed errors. */
#include "facts.h"
#include "cmdline.h"

json_object *vt_facts_module_new(json_object *facts, const char *name)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "errors", json_object_new_array());
        json_object_object_add(facts, name, o);
        return o;
}

static int note(json_object *obj, const char *path, int r)
{
        if (r < 0 && r != -ENOENT && r != -ENOTDIR)
                vt_json_add_error(obj, path, r);
        return r;
}

int vt_facts_read_attr(struct vt_ctx *ctx, json_object *obj, const char *path, char **ret)
{
        return note(obj, path, vt_read_attr(ctx, path, ret));
}

int vt_facts_read_int64(struct vt_ctx *ctx, json_object *obj, const char *path, int64_t *ret)
{
        return note(obj, path, vt_read_int64(ctx, path, ret));
}

void vt_facts_add_attr(struct vt_ctx *ctx, json_object *obj, const char *key, const char *path)
{
        _cleanup_free_ char *v = NULL;
        if (vt_facts_read_attr(ctx, obj, path, &v) < 0)
                v = NULL;
        vt_json_add_str(obj, key, v);
}

json_object *vt_facts_get(json_object *facts, const char *module, const char *key)
{
        json_object *m, *v;
        if (!json_object_object_get_ex(facts, module, &m) || !json_object_object_get_ex(m, key, &v))
                return NULL;
        return v;
}

bool vt_facts_cmdline_get(json_object *facts, const char *key, const char **value)
{
        json_object *tokens = vt_facts_get(facts, "virt", "cmdline");
        bool found = false;
        if (!json_object_object_get_ex(tokens, "tokens", &tokens))
                return false;
        size_t n = json_object_array_length(tokens);
        for (size_t i = 0; i < n; i++) {
                json_object *tok = json_object_array_get_idx(tokens, i), *k, *v;
                if (!json_object_object_get_ex(tok, "key", &k) ||
                    !vt_cmdline_key_eq(json_object_get_string(k), key))
                        continue;
                found = true;
                if (value)
                        *value = json_object_object_get_ex(tok, "value", &v)
                                         ? json_object_get_string(v)
                                         : NULL;
        }
        return found;
}
