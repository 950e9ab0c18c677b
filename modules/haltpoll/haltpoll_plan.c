/* Plans cpuidle-haltpoll: the force switch (cmdline or module option) and its five parameters. */
#include <inttypes.h>
#include "haltpoll.h"
#include "module.h"
#include "policy.h"

#define M "haltpoll"

static const char why_auto[] =
        "guides: haltpoll costs host CPU unless vCPUs are dedicated; auto follows the host's "
        "dedicated-vCPU hint";
static const char why_force[] = "openEuler guide: cpuidle_haltpoll.force=Y enables guest idle "
                                "polling without the host hint";
static const char why_arm[] = "openEuler guide: on AArch64 haltpoll needs cpuidle_haltpoll.force=Y "
                              "haltpoll.enable=Y";
static const char why_off[] = "policy: haltpoll.enable = no (no forcing on the command line)";
static const char why_param[] =
        "openEuler guide: tune /sys/module/haltpoll/parameters to the workload";

/* Steal above this share of CPU time means the vCPUs share physical CPUs. */
#define STEAL_PERCENT_SHARED 5.0

static int plan_params(struct vt_ctx *ctx, json_object *hp, struct vt_plan *plan)
{
        json_object *cur = NULL;
        if (hp)
                json_object_object_get_ex(hp, "params", &cur);
        for (size_t i = 0; i < ARRAY_SIZE(vt_haltpoll_params); i++) {
                const struct vt_haltpoll_param *p = &vt_haltpoll_params[i];
                const char *v = vt_policy_get(ctx->policy, M, p->name);
                if (!v)
                        continue;
                const char *origin = vt_policy_origin(ctx->policy, M, p->name);
                char want[32], have[32], path[128];
                if (p->is_bool) {
                        int b = vt_policy_get_tristate(ctx->policy, M, p->name);
                        snprintf(want, sizeof(want), "%s", b > 0 ? "Y" : "N");
                } else {
                        uint64_t n = strtoull(v, NULL, 10);
                        if (n > p->max)
                                return vt_plan_fail(plan, origin,
                                                    "haltpoll.%s = %s: at most %" PRIu64, p->name,
                                                    v, p->max);
                        if (i == 0 && n == 0)
                                return vt_plan_fail(plan, origin,
                                                    "haltpoll.%s = 0 disables polling; use "
                                                    "enable = no instead",
                                                    p->name);
                        snprintf(want, sizeof(want), "%" PRIu64, n);
                }
                if (!cur) {
                        vt_plan_warn(plan, M,
                                     "%s is set but the haltpoll governor's parameters "
                                     "are not present (driver not loaded)",
                                     p->name);
                        continue;
                }
                json_object *c;
                const char *from = NULL;
                if (json_object_object_get_ex(cur, p->name, &c) && c) {
                        if (p->is_bool)
                                snprintf(have, sizeof(have), "%s",
                                         json_object_get_boolean(c) ? "Y" : "N");
                        else
                                snprintf(have, sizeof(have), "%s", json_object_get_string(c));
                        from = have;
                }
                snprintf(path, sizeof(path), "/sys/module/haltpoll/parameters/%s", p->name);
                int r = vt_plan_add(plan, M, VT_TARGET_ATTR, path, from, want, VT_WHEN_NOW,
                                    why_param);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The force token, keeping the running spelling when it already says yes (=1, =y). */
static int plan_force(struct vt_plan *plan, json_object *facts, const char *why)
{
        _cleanup_free_ char *running = vt_plan_running_token(facts, "cpuidle_haltpoll.force");
        static const char *const yes[] = {"cpuidle_haltpoll.force=Y", "cpuidle_haltpoll.force=y",
                                          "cpuidle_haltpoll.force=1"};
        const char *want = yes[0];
        for (size_t i = 0; running && i < ARRAY_SIZE(yes); i++)
                if (streq(running, yes[i]))
                        want = yes[i];
        return vt_plan_cmdline(plan, facts, M, "cpuidle_haltpoll.force", want, why);
}

static int plan_enable(struct vt_ctx *ctx, json_object *facts, json_object *hp,
                       struct vt_plan *plan)
{
        int en = vt_policy_get_tristate(ctx->policy, M, "enable");
        bool arm = streq_ptr(vt_json_str(vt_json_get(facts, "virt"), "arch"), "aarch64");
        json_object *kvm = vt_facts_get(facts, "virt", "kvm"), *hints = NULL;
        if (kvm)
                json_object_object_get_ex(kvm, "hints", &hints);
        bool hint = vt_json_bool(hints, "realtime");
        const char *driver = vt_json_str(hp, "driver");
        int r;

        if (en < 0 && hint)
                return 0; /* the kernel turns haltpoll on itself */
        if (en <= 0) {
                /* Off: no forcing left on the command line. */
                if (en == 0 && hint)
                        vt_plan_warn(plan, M,
                                     "the host's dedicated-vCPU hint makes the kernel "
                                     "use haltpoll; enable = no only drops forcing");
                if (en < 0) {
                        /* auto takes back only what virtune added */
                        r = vt_plan_cmdline(plan, facts, M, "cpuidle_haltpoll.force", NULL,
                                            why_auto);
                        if (r >= 0 && arm)
                                r = vt_plan_cmdline(plan, facts, M, "haltpoll.enable", NULL,
                                                    why_auto);
                        return r;
                }
                r = vt_plan_cmdline_remove(plan, facts, M, "cpuidle_haltpoll.force", why_off);
                if (r >= 0 && arm)
                        r = vt_plan_cmdline_remove(plan, facts, M, "haltpoll.enable", why_off);
                return r;
        }
        if (streq_ptr(vt_json_str(hp, "reason"), "no-kvm-para"))
                vt_plan_warn(plan, M,
                             "enable = yes, but this guest sees no KVM paravirt interface "
                             "(reason no-kvm-para: TCG or another hypervisor): "
                             "cpuidle-haltpoll does not register there, so %s cannot take effect",
                             arm ? "cpuidle_haltpoll.force=Y haltpoll.enable=Y"
                                 : "cpuidle_haltpoll.force=Y");
        if (arm) {
                r = plan_force(plan, facts, why_arm);
                return r < 0 ? r
                             : vt_plan_cmdline(plan, facts, M, "haltpoll.enable",
                                               "haltpoll.enable=Y", why_arm);
        }
        if (streq_ptr(driver, "builtin"))
                r = plan_force(plan, facts, why_force);
        else if (streq_ptr(driver, "module-available") || streq_ptr(driver, "module-loaded")) {
                r = vt_plan_add(plan, M, VT_TARGET_KMOD, "cpuidle_haltpoll", NULL, "force=1",
                                VT_WHEN_NOW, why_force);
                if (r >= 0)
                        r = vt_plan_add(plan, M, VT_TARGET_FILE,
                                        "/etc/modprobe.d/virtune-haltpoll.conf", NULL,
                                        VT_OWNED_HEADER "options cpuidle_haltpoll force=1\n",
                                        VT_WHEN_BOOT, why_force);
        } else {
                vt_plan_warn(plan, M,
                             "enable = yes, but this kernel has no cpuidle-haltpoll "
                             "driver");
                return 0;
        }
        if (r < 0)
                return r;
        /* offline (an image: sysfs false) the governors are not known: no news, no warning */
        json_object *sysfs = vt_facts_get(facts, "virt", "sysfs");
        if (hp && !vt_json_bool(hp, "governor_available") &&
            !(sysfs && !json_object_get_boolean(sysfs)))
                vt_plan_warn(plan, M,
                             "the haltpoll cpuidle governor is missing: the driver "
                             "loads but polling is not effective");
        json_object *steal = vt_facts_get(facts, "virt", "steal"), *pct;
        if (steal && json_object_object_get_ex(steal, "percent", &pct) && pct &&
            json_object_get_double(pct) > STEAL_PERCENT_SHARED)
                vt_plan_warn(plan, M,
                             "steal time is %.1f%%: the vCPUs are not dedicated, and "
                             "polling burns CPU the host could give others",
                             json_object_get_double(pct));
        return 0;
}

static int haltpoll_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        json_object *hp = vt_facts_get(facts, M, "haltpoll");
        int r = plan_enable(ctx, facts, hp, plan);
        return r < 0 ? r : plan_params(ctx, hp, plan);
}

/* The parameters' keys take numbers; their ranges are checked by the plan (plan_params). */
#define KEY(n, b, m, h) VT_POLICY_KEY(M, #n, (b) ? VT_POL_BOOL : VT_POL_UINT, NULL, NULL, h),
/* A row per parameter, from the one table (haltpoll.h). */
/* clang-format off */
static const struct vt_policy_key policy[] = {
        VT_POLICY_KEY(M, "enable", VT_POL_TRISTATE, "auto", NULL,
                      "cpuidle-haltpoll: auto follows the host's dedicated-vCPU hint"),
        VT_HALTPOLL_PARAMS(KEY)
        {},
};
/* clang-format on */
#undef KEY

const struct vt_module vt_module_haltpoll = {
        .name = M, .detect = vt_haltpoll_detect, .plan = haltpoll_plan, .policy = policy};
