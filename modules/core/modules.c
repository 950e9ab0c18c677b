/* The module table, made from the concerns modules/meson.build lists, and the detect pass. */
#include "concerns.h"
#include "module.h"
#include "version.h"

#define VT_CONCERN(n) extern const struct vt_module vt_module_##n;
VT_CONCERNS
#undef VT_CONCERN

#define VT_CONCERN(n) &vt_module_##n,
const struct vt_module *const vt_modules[] = {VT_CONCERNS};
#undef VT_CONCERN
const size_t vt_modules_len = ARRAY_SIZE(vt_modules);

const struct vt_module *vt_module_find(const char *name)
{
        for (size_t i = 0; name && i < vt_modules_len; i++)
                if (streq(vt_modules[i]->name, name))
                        return vt_modules[i];
        return NULL;
}

const struct vt_module *vt_module_find_tunable(const char *name)
{
        const struct vt_module *m = vt_module_find(name);
        return m && m->plan ? m : NULL;
}

void vt_module_names(char *buf, size_t len, bool tunable)
{
        size_t at = 0;
        assert(len > 0);
        buf[0] = '\0';
        for (size_t i = 0; i < vt_modules_len && at < len; i++)
                if (vt_modules[i]->plan || !tunable) {
                        int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "",
                                         vt_modules[i]->name);
                        if (n < 0)
                                return;
                        at += (size_t)n;
                }
}

static int detect(struct vt_ctx *ctx, json_object **ret)
{
        _cleanup_json_ json_object *facts = json_object_new_object();
        json_object *self = json_object_new_object();
        if (!facts || !self)
                return -ENOMEM;
        json_object_object_add(self, "version", json_object_new_string(VT_VERSION));
        json_object_object_add(self, "root", json_object_new_string(ctx->root));
        json_object_object_add(self, "live", json_object_new_boolean(ctx->live));
        json_object_object_add(facts, "virtune", self);
        for (size_t i = 0; i < vt_modules_len; i++) {
                const struct vt_module *m = vt_modules[i];
                if (ctx->for_plan && !m->plan && !m->plan_input)
                        continue;
                int r = m->detect(ctx, facts);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; ctx->for_plan && i < vt_modules_len; i++)
                if (vt_modules[i]->probe) {
                        int r = vt_modules[i]->probe(ctx, facts);
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(facts);
        return 0;
}

/* One detection: the files several concerns ask for (memo) are read once in it. */
static int detect_as(struct vt_ctx *ctx, bool for_plan, json_object **ret)
{
        bool was = ctx->for_plan;
        ctx->for_plan = for_plan;
        vt_ctx_memo_begin(ctx);
        int r = detect(ctx, ret);
        vt_ctx_memo_end(ctx);
        ctx->for_plan = was;
        return r;
}

int vt_detect_all(struct vt_ctx *ctx, json_object **ret)
{
        return detect_as(ctx, false, ret);
}

int vt_detect_for_plan(struct vt_ctx *ctx, json_object **ret)
{
        return detect_as(ctx, true, ret);
}
