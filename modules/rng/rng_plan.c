/* Plans the hardware RNG: virtio-rng as rng_current, and rngd only when the kernel does not feed.
 */
#include "module.h"
#include "policy.h"

#define M           "rng"
#define RNG_CURRENT "/sys/class/misc/hw_random/rng_current"

static const char why_current[] =
        "SUSE guide: virtio-rng passes the host's entropy to the guest as its hw RNG";
static const char why_rngd[] =
        "SUSE guide: install rng-tools and enable it to feed the hw RNG into the pool";

/* Where each rng-tools flavour reads its device, and the assignment that names it. */
static const struct {
        const char *flavour, *path, *var, *value, *unit;
} flavours[] = {
        {"rng-tools-debian", "/etc/default/rng-tools-debian", "HRNGDEVICE", "/dev/hwrng",
         "rng-tools-debian.service"},
        {"rng-tools5", "/etc/sysconfig/rngd", "RNGD_ARGS", "-r /dev/hwrng", "rngd.service"},
        {"rng-tools", "/etc/sysconfig/rngd", "RNGD_ARGS", "-r /dev/hwrng", "rngd.service"},
};

static const char *virtio_name(json_object *available)
{
        for (size_t i = 0; available && i < json_object_array_length(available); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(available, i));
                if (s && startswith(s, "virtio_rng"))
                        return s;
        }
        return NULL;
}

static int plan_rngd(struct vt_ctx *ctx, json_object *rngd, struct vt_plan *plan)
{
        const char *flavour = vt_json_str(rngd, "flavour");
        if (!vt_json_bool(rngd, "installed") || !flavour) {
                vt_plan_warn(plan, M,
                             "the kernel does not credit the hw RNG's entropy; install "
                             "rng-tools to feed it");
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(flavours); i++) {
                if (!streq(flavours[i].flavour, flavour))
                        continue;
                _cleanup_free_ char *old = NULL;
                int r = vt_read_file_max(ctx, flavours[i].path, VT_CONFIG_FILE_MAX, &old, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
                _cleanup_free_ char *text =
                        vt_text_set_var(old, flavours[i].var, flavours[i].value, 0);
                if (!text)
                        return -ENOMEM;
                r = vt_plan_add(plan, M, VT_TARGET_FILE, flavours[i].path, NULL, text, VT_WHEN_BOOT,
                                why_rngd);
                if (r < 0)
                        return r;
                plan->changes[plan->n - 1].owned = false; /* the package's file: edited, kept */
                const char *unit = vt_json_str(rngd, "unit");
                if (!unit)
                        unit = flavours[i].unit;
                else if (strrchr(unit, '/'))
                        unit = strrchr(unit, '/') + 1; /* detect may give the unit file's path */
                r = vt_plan_add(plan, M, VT_TARGET_UNIT, unit, NULL, "enabled", VT_WHEN_BOOT,
                                why_rngd);
                return r < 0 ? r
                             : vt_plan_add(plan, M, VT_TARGET_UNIT, unit, NULL, "restarted",
                                           VT_WHEN_NOW, why_rngd);
        }
        vt_plan_warn(plan, M, "unknown rng-tools flavour '%s'", flavour);
        return 0;
}

int vt_rng_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        json_object *rng = vt_json_get(facts, M), *available = NULL, *rngd = NULL;
        int en = vt_policy_get_tristate(ctx->policy, M, "enable");
        if (en == 0 || !rng)
                return 0;
        json_object_object_get_ex(rng, "available", &available);
        const char *name = virtio_name(available);
        if (!vt_json_bool(rng, "virtio") || !name) {
                if (en > 0)
                        vt_plan_warn(plan, M,
                                     "enable = yes, but there is no virtio-rng device "
                                     "(host: <rng model='virtio'>)");
                return 0;
        }
        int r = vt_plan_add(plan, M, VT_TARGET_ATTR, RNG_CURRENT, vt_json_str(rng, "current"), name,
                            VT_WHEN_NOW, why_current);
        if (r < 0)
                return r;
        int64_t q = vt_json_int(rng, "quality", -1);
        if (q < 0)
                q = vt_json_int(rng, "default_quality", -1);
        if (q > 0) {
                vt_plan_note(plan, M,
                             "rngd is not needed: the kernel's hwrng thread feeds the "
                             "pool at quality %lld",
                             (long long)q);
                return 0;
        }
        json_object_object_get_ex(rng, "rngd", &rngd);
        return plan_rngd(ctx, rngd, plan);
}
