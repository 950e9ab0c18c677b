/* Plan data: building, naming and (de)serializing changes, and reading the facts they come from. */
#include <stdarg.h>
#include "plan.h"

static const char *const kind_names[] = {
        [VT_TARGET_ATTR] = "attr", [VT_TARGET_CMDLINE] = "cmdline", [VT_TARGET_FILE] = "file",
        [VT_TARGET_KMOD] = "kmod", [VT_TARGET_UNIT] = "unit",
};

static const char *const when_names[] = {
        [VT_WHEN_NOW] = "now",
        [VT_WHEN_BOOT] = "next-boot",
        [VT_WHEN_REBOOT] = "reboot-needed",
};

static int lookup(const char *const *names, size_t n, const char *s)
{
        for (size_t i = 0; s && i < n; i++)
                if (streq(names[i], s))
                        return (int)i;
        return -EINVAL;
}

const char *vt_target_kind_to_string(enum vt_target_kind k)
{
        return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "unknown";
}

int vt_target_kind_from_string(const char *s)
{
        return lookup(kind_names, ARRAY_SIZE(kind_names), s);
}

const char *vt_when_to_string(enum vt_when w)
{
        return (size_t)w < ARRAY_SIZE(when_names) ? when_names[w] : "unknown";
}

int vt_when_from_string(const char *s)
{
        return lookup(when_names, ARRAY_SIZE(when_names), s);
}

void vt_plan_init(struct vt_plan *plan)
{
        *plan = (struct vt_plan){.warnings = json_object_new_array(),
                                 .notes = json_object_new_array()};
}

void vt_change_done(struct vt_change *c)
{
        free(c->module);
        free(c->target);
        free(c->from);
        free(c->to);
        free(c->why);
        free(c->evidence);
        *c = (struct vt_change){0};
}

void vt_plan_done(struct vt_plan *plan)
{
        for (size_t i = 0; i < plan->n; i++)
                vt_change_done(&plan->changes[i]);
        free(plan->changes);
        json_object_put(plan->warnings);
        json_object_put(plan->notes);
        free(plan->error);
        *plan = (struct vt_plan){0};
}

static char *dup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

int vt_plan_add(struct vt_plan *plan, const char *module, enum vt_target_kind kind,
                const char *target, const char *from, const char *to, enum vt_when when,
                const char *why)
{
        assert(plan && module && target);
        struct vt_change *n = realloc(plan->changes, (plan->n + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        plan->changes = n;
        struct vt_change *c = &n[plan->n];
        *c = (struct vt_change){
                .module = strdup(module),
                .kind = kind,
                .target = strdup(target),
                .from = dup_or_null(from),
                .to = dup_or_null(to),
                .why = dup_or_null(why),
                .when = when,
                .owned = kind == VT_TARGET_FILE,
        };
        if (!c->module || !c->target || (from && !c->from) || (to && !c->to) || (why && !c->why)) {
                vt_change_done(c);
                return -ENOMEM;
        }
        plan->n++;
        return 0;
}

int vt_plan_restart(struct vt_plan *plan, const char *module, const char *unit, bool stale,
                    const char *why)
{
        int r = vt_plan_add(plan, module, VT_TARGET_UNIT, unit, NULL, "restarted", VT_WHEN_NOW,
                            why);
        if (r >= 0)
                plan->changes[plan->n - 1].stale = stale;
        return r;
}

bool vt_change_is_restart(const struct vt_change *c)
{
        return c->kind == VT_TARGET_UNIT && !streq_ptr(c->to, "enabled");
}

void vt_plan_remove(struct vt_plan *plan, size_t i)
{
        assert(i < plan->n);
        vt_change_done(&plan->changes[i]);
        memmove(&plan->changes[i], &plan->changes[i + 1],
                (plan->n - i - 1) * sizeof(plan->changes[0]));
        plan->n--;
}

static void add_line(json_object *a, const char *module, const char *fmt, va_list ap)
        _printf_(3, 0);
static void add_line(json_object *a, const char *module, const char *fmt, va_list ap)
{
        char msg[512], line[600];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        snprintf(line, sizeof(line), "%s: %s", module, msg);
        json_object_array_add(a, json_object_new_string(line));
}

void vt_plan_warn(struct vt_plan *plan, const char *module, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        add_line(plan->warnings, module, fmt, ap);
        va_end(ap);
}

void vt_plan_note(struct vt_plan *plan, const char *module, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        add_line(plan->notes, module, fmt, ap);
        va_end(ap);
}

int vt_plan_fail(struct vt_plan *plan, const char *origin, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        free(plan->error);
        if (asprintf(&plan->error, "%s: %s", origin, msg) < 0)
                plan->error = NULL;
        return -EINVAL;
}

json_object *vt_change_to_json(const struct vt_change *c)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "module", json_object_new_string(c->module));
        json_object_object_add(o, "kind",
                               json_object_new_string(vt_target_kind_to_string(c->kind)));
        json_object_object_add(o, "target", json_object_new_string(c->target));
        vt_json_add_str(o, "from", c->from);
        vt_json_add_str(o, "to", c->to);
        json_object_object_add(o, "when", json_object_new_string(vt_when_to_string(c->when)));
        vt_json_add_str(o, "why", c->why);
        if (c->evidence)
                json_object_object_add(o, "evidence", json_object_new_string(c->evidence));
        if (c->kind == VT_TARGET_FILE)
                json_object_object_add(o, "owned", json_object_new_boolean(c->owned));
        if (vt_change_is_restart(c))
                json_object_object_add(o, "stale", json_object_new_boolean(c->stale));
        return o;
}

int vt_change_from_json(json_object *o, struct vt_change *c)
{
        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        const char *module = vt_json_str(o, "module"), *target = vt_json_str(o, "target");
        int kind = vt_target_kind_from_string(vt_json_str(o, "kind"));
        int when = vt_when_from_string(vt_json_str(o, "when"));
        if (!module || !target || kind < 0 || when < 0)
                return -EINVAL;
        struct vt_plan tmp = {0};
        int r = vt_plan_add(&tmp, module, kind, target, vt_json_str(o, "from"),
                            vt_json_str(o, "to"), when, vt_json_str(o, "why"));
        if (r < 0)
                return r;
        *c = tmp.changes[0];
        c->owned = vt_json_bool(o, "owned");
        c->stale = vt_json_bool(o, "stale");
        const char *ev = vt_json_str(o, "evidence");
        if (ev && !(c->evidence = strdup(ev))) {
                vt_change_done(c);
                free(tmp.changes);
                return -ENOMEM;
        }
        free(tmp.changes);
        return 0;
}

json_object *vt_json_get(json_object *o, const char *key)
{
        json_object *v;
        if (!o || !json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

const char *vt_json_str(json_object *o, const char *key)
{
        json_object *v = vt_json_get(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool vt_json_bool(json_object *o, const char *key)
{
        json_object *v = vt_json_get(o, key);
        return v && json_object_get_boolean(v);
}

int64_t vt_json_int(json_object *o, const char *key, int64_t def)
{
        json_object *v = vt_json_get(o, key);
        if (!v ||
            !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
                return def;
        return json_object_get_int64(v);
}

char *vt_plan_running_token(json_object *facts, const char *key)
{
        const char *v = NULL;
        if (!vt_facts_cmdline_get(facts, key, &v))
                return NULL;
        /* In the plan's spelling of the key: the kernel reads '-' and '_' in it alike. */
        char *token;
        if (!v)
                return strdup(key);
        return asprintf(&token, "%s=%s", key, v) < 0 ? NULL : token;
}

int vt_plan_cmdline_remove(struct vt_plan *plan, json_object *facts, const char *module,
                           const char *key, const char *why)
{
        _cleanup_free_ char *running = vt_plan_running_token(facts, key);
        return vt_plan_add(plan, module, VT_TARGET_CMDLINE, key, running, NULL, VT_WHEN_BOOT, why);
}

static bool owned_by_virtune(json_object *facts, const char *key)
{
        json_object *owned = vt_facts_get(facts, "kernel", "owned");
        size_t kl = strlen(key);
        for (size_t i = 0; owned && i < json_object_array_length(owned); i++) {
                const char *t = json_object_get_string(json_object_array_get_idx(owned, i));
                if (t && strncmp(t, key, kl) == 0 && (t[kl] == '\0' || t[kl] == '='))
                        return true;
        }
        return false;
}

int vt_plan_cmdline(struct vt_plan *plan, json_object *facts, const char *module, const char *key,
                    const char *token, const char *why)
{
        _cleanup_free_ char *running = vt_plan_running_token(facts, key);
        if (!token) {
                if (!owned_by_virtune(facts, key)) {
                        if (running)
                                vt_plan_note(plan, module,
                                             "%s stays: virtune did not add it (enable = no "
                                             "removes it)",
                                             running);
                        return 0;
                }
                return vt_plan_add(plan, module, VT_TARGET_CMDLINE, key, running, NULL,
                                   VT_WHEN_BOOT, why);
        }
        json_object *tokens = vt_facts_get(facts, "kernel", "tokens");
        json_object *t = vt_json_get(tokens, key);
        const char *evidence = vt_json_str(t, "evidence");
        if (!evidence) {
                const char *missing = vt_json_str(t, "missing"), *would = vt_json_str(t, "would");
                vt_plan_warn(plan, module, "%s not added: %s; it needs %s", token,
                             missing ? missing : "no evidence the target kernel understands it",
                             would ? would : "a kernel virtune knows it for");
                return 0;
        }
        int r = vt_plan_add(plan, module, VT_TARGET_CMDLINE, key, running, token, VT_WHEN_BOOT,
                            why);
        if (r < 0)
                return r;
        struct vt_change *c = &plan->changes[plan->n - 1];
        c->evidence = strdup(evidence);
        return c->evidence ? 0 : -ENOMEM;
}
