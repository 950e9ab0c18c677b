/* Plans PV spinlocks: arm_pvspin on aarch64 kernels built with them, nopvspin only when asked. */
#include "module.h"
#include "policy.h"

#define M "pvspin"

static const char why_arm[] =
        "openEuler guide: add arm_pvspin so vCPUs waiting on a lock yield instead of spinning";
static const char why_no[] = "policy: pvspin.enable = no (nopvspin: native qspinlocks)";
static const char why_x86[] = "policy: pvspin.enable = yes (the kernel's own PV choice)";

static int pvspin_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        json_object *pv = vt_json_get(facts, "pvspin");
        int en = vt_policy_get_tristate(ctx->policy, M, "enable");
        bool arm = streq_ptr(vt_json_str(vt_json_get(facts, "virt"), "arch"), "aarch64");
        const char *config = vt_json_str(pv, "config");

        if (arm) {
                if (en == 0)
                        return vt_plan_cmdline_remove(plan, facts, M, "arm_pvspin", why_no);
                if (!streq_ptr(config, "y")) {
                        if (en > 0)
                                vt_plan_warn(plan, M,
                                             "enable = yes, but the kernel is not "
                                             "built with CONFIG_PARAVIRT_SPINLOCKS=y");
                        return 0;
                }
                _cleanup_free_ char *running = vt_plan_running_token(facts, "arm_pvspin");
                /* The guide's check: dmesg names the PV qspinlock once arm_pvspin is in force. */
                if (running && !streq_ptr(vt_json_str(pv, "state"), "enabled"))
                        vt_plan_warn(plan, M,
                                     "arm_pvspin is on the running command line but the "
                                     "kernel log does not show PV qspinlock");
                return vt_plan_cmdline(plan, facts, M, "arm_pvspin", "arm_pvspin", why_arm);
        }
        if (en == 0)
                return vt_plan_cmdline(plan, facts, M, "nopvspin", "nopvspin", why_no);
        if (en > 0)
                return vt_plan_cmdline_remove(plan, facts, M, "nopvspin", why_x86);
        return 0; /* auto on x86: the kernel already picks PV spinlocks under KVM */
}

static const struct vt_policy_key policy[] = {
        VT_POLICY_KEY(M, "enable", VT_POL_TRISTATE, "auto", NULL,
                      "PV qspinlocks: auto adds arm_pvspin on aarch64; no adds nopvspin"),
        {},
};

const struct vt_module vt_module_pvspin = {
        .name = M, .detect = vt_pvspin_detect, .plan = pvspin_plan, .policy = policy};
