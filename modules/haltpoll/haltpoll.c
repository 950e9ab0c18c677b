/* Detects the cpuidle driver and governors, and whether the haltpoll driver is active or why not.
 */
#include <limits.h>
#include "facts.h"
#include "haltpoll.h"
#include "kmodinfo.h"
#include "module.h"

#define PARAM_ROW(n, b, m, h) {#n, b, m},
const struct vt_haltpoll_param vt_haltpoll_params[VT_HALTPOLL_NPARAMS] = {
        VT_HALTPOLL_PARAMS(PARAM_ROW)};
#undef PARAM_ROW

#define CPUIDLE_DIR     "/sys/devices/system/cpu/cpuidle"
#define HALTPOLL_PARAMS "/sys/module/haltpoll/parameters"
#define HALTPOLL_FORCE  "/sys/module/cpuidle_haltpoll/parameters/force"

/* A kernel bool parameter's text (Y/N/1/0, or empty on the command line meaning true). */
static int parse_kbool(const char *s)
{
        if (!s || !*s)
                return 1;
        if (strchr("yY1", s[0]) || !strcasecmp(s, "on"))
                return 1;
        if (strchr("nN0", s[0]) || !strcasecmp(s, "off"))
                return 0;
        return -EINVAL;
}

static void add_governors(struct vt_ctx *ctx, json_object *c)
{
        json_object *list = json_object_new_array();
        _cleanup_free_ char *avail = NULL;
        if (vt_facts_read_attr(ctx, c, CPUIDLE_DIR "/available_governors", &avail) >= 0)
                for (char *save = NULL, *t = strtok_r(avail, " \t\n", &save); t;
                     t = strtok_r(NULL, " \t\n", &save))
                        json_object_array_add(list, json_object_new_string(t));
        json_object_object_add(c, "governors", list);
}

static bool list_has(json_object *list, const char *s)
{
        for (size_t i = 0; i < json_object_array_length(list); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(list, i)), s))
                        return true;
        return false;
}

static json_object *params_new(struct vt_ctx *ctx, json_object *c)
{
        if (!vt_exists(ctx, HALTPOLL_PARAMS))
                return NULL;
        json_object *p = json_object_new_object();
        for (size_t i = 0; i < ARRAY_SIZE(vt_haltpoll_params); i++) {
                char path[PATH_MAX];
                _cleanup_free_ char *s = NULL;
                json_object *val = NULL;
                vt_pathf(path, sizeof(path), HALTPOLL_PARAMS "/%s", vt_haltpoll_params[i].name);
                if (vt_facts_read_attr(ctx, c, path, &s) >= 0) {
                        int b = vt_haltpoll_params[i].is_bool ? parse_kbool(s) : 0;
                        char *end;
                        long long n = vt_haltpoll_params[i].is_bool ? 0 : strtoll(s, &end, 10);
                        if (vt_haltpoll_params[i].is_bool && b >= 0)
                                val = json_object_new_boolean(b);
                        else if (!vt_haltpoll_params[i].is_bool && end != s && !*end)
                                val = json_object_new_int64(n);
                        else
                                vt_json_add_error(c, path, -EINVAL);
                }
                json_object_object_add(p, vt_haltpoll_params[i].name, val);
        }
        return p;
}

/* force: the module parameter when sysfs shows it, else the command line's cpuidle_haltpoll.force.
 */
static int read_force(struct vt_ctx *ctx, json_object *c, json_object *facts)
{
        _cleanup_free_ char *s = NULL;
        const char *v;
        if (vt_facts_read_attr(ctx, c, HALTPOLL_FORCE, &s) >= 0)
                return parse_kbool(s);
        if (vt_facts_cmdline_get(facts, "cpuidle_haltpoll.force", &v))
                return parse_kbool(v);
        return -ENOENT;
}

/* The host said "this vCPU has a CPU of its own" (KVM_HINTS_REALTIME). */
static bool kvm_realtime_hint(json_object *facts)
{
        json_object *kvm = vt_facts_get(facts, "virt", "kvm"), *hints, *rt;
        return kvm && json_object_object_get_ex(kvm, "hints", &hints) &&
               json_object_object_get_ex(hints, "realtime", &rt) && json_object_get_boolean(rt);
}

/*
 * kvm_para_available(): the KVM CPUID signature. Offline (no CPUID) the best evidence is a
 * hypervisor named kvm by sysfs or DMI.
 */
static bool kvm_para(json_object *facts)
{
        if (vt_facts_get(facts, "virt", "kvm"))
                return true;
        const char *hv = json_object_get_string(vt_facts_get(facts, "virt", "hypervisor"));
        return !vt_facts_get(facts, "virt", "cpuid_signature") && streq_ptr(hv, "kvm");
}

/*
 * The verdict, in the order drivers/cpuidle/cpuidle-haltpoll.c's init checks (driver there,
 * no idle= override, kvm_para_available(), the realtime hint or force; aarch64 also wants
 * haltpoll.enable=Y), then what stops a registered driver from being the current one.
 */
static const char *why_inactive(json_object *facts, json_object *c, enum vt_kmod_state state,
                                int force, bool governor)
{
        const char *arch = json_object_get_string(vt_facts_get(facts, "virt", "arch"));
        const char *enable = NULL;
        if (!json_object_get_boolean(vt_facts_get(facts, "virt", "sysfs")))
                return "no-sysfs";
        if (state == VT_KMOD_ABSENT)
                return "module-absent";
        if (vt_facts_cmdline_get(facts, "idle", NULL))
                return "idle-override";
        if (!kvm_para(facts))
                return "no-kvm-para";
        if (!kvm_realtime_hint(facts) && force != 1)
                return "no-hint-no-force";
        if (streq_ptr(arch, "aarch64") &&
            !(vt_facts_cmdline_get(facts, "haltpoll.enable", &enable) && parse_kbool(enable) == 1))
                return "haltpoll-not-enabled";
        if (state == VT_KMOD_AVAILABLE)
                return "module-not-loaded";
        if (!governor)
                return "governor-missing";
        return "other-driver";
}

static void add_haltpoll(struct vt_ctx *ctx, json_object *facts, json_object *c)
{
        json_object *h = json_object_new_object();
        const char *release = json_object_get_string(vt_facts_get(facts, "virt", "kernel_release"));
        enum vt_kmod_state state = vt_kmod_state(ctx, release, "cpuidle_haltpoll");
        json_object_object_add(h, "driver", json_object_new_string(vt_kmod_state_to_string(state)));
        json_object *govs;
        json_object_object_get_ex(c, "governors", &govs);
        bool governor = list_has(govs, "haltpoll");
        json_object_object_add(h, "governor_available", json_object_new_boolean(governor));
        int force = read_force(ctx, c, facts);
        json_object_object_add(h, "force", force >= 0 ? json_object_new_boolean(force) : NULL);
        json_object_object_add(h, "params", params_new(ctx, c));
        json_object *drv;
        json_object_object_get_ex(c, "driver", &drv);
        bool active = streq_ptr(json_object_get_string(drv), "haltpoll");
        json_object_object_add(h, "active", json_object_new_boolean(active));
        vt_json_add_str(h, "reason",
                        active ? NULL : why_inactive(facts, c, state, force, governor));
        json_object_object_add(c, "haltpoll", h);
}

int vt_haltpoll_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *c = vt_facts_module_new(facts, "haltpoll");
        vt_facts_add_attr(ctx, c, "driver", CPUIDLE_DIR "/current_driver");
        vt_facts_add_attr(ctx, c, "governor", CPUIDLE_DIR "/current_governor");
        vt_facts_add_attr(ctx, c, "governor_ro", CPUIDLE_DIR "/current_governor_ro");
        add_governors(ctx, c);
        add_haltpoll(ctx, facts, c);
        return 0;
}
