/* Plans the hardware RNG: virtio-rng as rng_current, and rngd only when the kernel does not feed.
 */
#include "envfile.h"
#include "module.h"
#include "policy.h"
#include "rng.h"
#include "strv.h"

#define M           "rng"
#define RNG_CURRENT "/sys/class/misc/hw_random/rng_current"

static const char why_current[] =
        "SUSE guide: virtio-rng passes the host's entropy to the guest as its hw RNG";
static const char why_rngd[] =
        "SUSE guide: install rng-tools and enable it to feed the hw RNG into the pool";

static const char *virtio_name(json_object *available)
{
        for (size_t i = 0; available && i < json_object_array_length(available); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(available, i));
                if (s && startswith(s, "virtio_rng"))
                        return s;
        }
        return NULL;
}

/* True when rngd's options already name an input device. */
static bool names_device(const char *options)
{
        _cleanup_strv_ char **words = NULL;
        if (!options || vt_strv_split(options, " \t", &words) < 0)
                return false;
        for (size_t i = 0; words && words[i]; i++)
                if (startswith(words[i], "-r") || startswith(words[i], "--rng-device"))
                        return true; /* -r DEV, -rDEV, --rng-device[=DEV] */
        return false;
}

/* The flavour's config with the device named: HRNGDEVICE=, or "-r DEVICE" in rngd's options. */
static int plan_config(struct vt_plan *plan, const struct vt_rngd_flavour *f, json_object *rngd)
{
        const char *old = vt_json_str(rngd, "config_text");
        _cleanup_free_ char *value = NULL, *text = NULL;
        if (!f->var_is_options)
                value = strdup(VT_RNG_DEVICE);
        else {
                _cleanup_strv_ char **env = NULL;
                int r = vt_env_parse(old ? old : "", &env);
                if (r < 0)
                        return r;
                const char *cur = vt_env_get(env, f->var);
                if (names_device(cur))
                        return 0; /* the administrator chose a device */
                if (cur && strpbrk(cur, "\"$`\\")) {
                        vt_plan_warn(plan, M, "%s: %s has quotes or expansions; add -r %s yourself",
                                     f->config, f->var, VT_RNG_DEVICE);
                        return 0;
                }
                if (asprintf(&value, "%s%s-r %s", cur ? cur : "", cur && *cur ? " " : "",
                             VT_RNG_DEVICE) < 0)
                        value = NULL;
        }
        /* rngd's options as the package writes them, in double quotes; a device path bare. */
        if (!value || !(text = vt_text_set_var(old, f->var, value, f->var_is_options ? '"' : 0)))
                return -ENOMEM;
        int r = vt_plan_add(plan, M, VT_TARGET_FILE, f->config, NULL, text, VT_WHEN_BOOT, why_rngd);
        if (r >= 0)
                plan->changes[plan->n - 1].owned = false; /* the package's file: edited, kept */
        return r;
}

static int plan_rngd(json_object *rngd, struct vt_plan *plan)
{
        const char *flavour = vt_json_str(rngd, "flavour");
        const struct vt_rngd_flavour *f = vt_rngd_flavour_find(flavour);
        if (!vt_json_bool(rngd, "installed") || !flavour) {
                vt_plan_warn(plan, M,
                             "the kernel does not credit the hw RNG's entropy; install "
                             "rng-tools to feed it");
                return 0;
        }
        if (!f) {
                vt_plan_warn(plan, M, "unknown rng-tools flavour '%s'", flavour);
                return 0;
        }
        const char *unit = vt_json_str(rngd, "unit");
        if (!unit) {
                vt_plan_warn(plan, M, "%s is installed but %s is missing: reinstall it", flavour,
                             f->unit_file ? f->unit_file : f->init_script);
                return 0;
        }
        int r = f->config && f->var ? plan_config(plan, f, rngd) : 0;
        if (r < 0)
                return r;
        if (vt_json_bool(rngd, "sysv")) {
                /* systemd makes the unit from the init script: enabling is update-rc.d's. */
                if (!vt_json_bool(rngd, "enabled"))
                        vt_plan_warn(plan, M, "%s is not enabled: update-rc.d %s defaults", unit,
                                     strrchr(f->init_script, '/') + 1);
        } else if ((r = vt_plan_add(plan, M, VT_TARGET_UNIT, unit, NULL, "enabled", VT_WHEN_BOOT,
                                    why_rngd)) < 0)
                return r;
        return vt_plan_restart(plan, M, unit, false, why_rngd);
}

static int rng_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
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
        int64_t q = vt_rng_quality(rng);
        if (q > 0) {
                vt_plan_note(plan, M,
                             "rngd is not needed: the kernel's hwrng thread feeds the "
                             "pool at quality %lld",
                             (long long)q);
                return 0;
        }
        json_object_object_get_ex(rng, "rngd", &rngd);
        return plan_rngd(rngd, plan);
}

static const struct vt_policy_key policy[] = {
        VT_POLICY_KEY(
                M, "enable", VT_POL_TRISTATE, "auto", NULL,
                "use virtio-rng as the hw RNG; rng-tools only when the kernel does not credit it"),
        {},
};

const struct vt_module vt_module_rng = {
        .name = M, .detect = vt_rng_detect, .plan = rng_plan, .policy = policy};
