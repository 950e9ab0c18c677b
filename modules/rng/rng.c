/* Detects the hardware RNG the kernel feeds from, and whether rngd (rng-tools) runs beside it. */
#include "dpkg.h"
#include "module.h"
#include "strv.h"
#include "unitfile.h"

#define HWRNG "/sys/class/misc/hw_random"

/* The rngd flavours: Debian package, the unit it ships, the config file it reads. */
static const struct {
        const char *flavour;
        const char *unit;
        const char *config;
} rngd_flavours[] = {
        {"rng-tools-debian", "rng-tools-debian.service", "/etc/default/rng-tools-debian"},
        {"rng-tools5", "rngd.service", "/etc/default/rng-tools"},
        {"rng-tools", "rngd.service", "/etc/sysconfig/rngd"},
};

/* An int attribute: value, null when absent, an error entry when unreadable. */
static json_object *int_attr(struct vt_ctx *ctx, json_object *o, const char *path)
{
        int64_t v;
        int r = vt_read_int64(ctx, path, &v);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, path, r);
        return r < 0 ? NULL : json_object_new_int64(v);
}

static int detect_rngd(struct vt_ctx *ctx, json_object *o)
{
        json_object *d = json_object_new_object();
        json_object_object_add(o, "rngd", d);
        const char *flavour = NULL, *unit = NULL, *config = NULL;
        /* dpkg knows the flavour for sure; else the unit file tells (rngd.service: upstream). */
        _cleanup_free_ char *status = NULL;
        int r = vt_dpkg_load(ctx, &status);
        if (r < 0)
                vt_json_add_error(o, "/var/lib/dpkg/status", r);
        for (size_t i = 0; i < ARRAY_SIZE(rngd_flavours) && !flavour; i++)
                if (vt_dpkg_find(status, rngd_flavours[i].flavour, NULL) > 0)
                        flavour = rngd_flavours[i].flavour;
        /* Backwards: without dpkg, rngd.service is upstream rng-tools (an rpm system). */
        for (size_t j = ARRAY_SIZE(rngd_flavours); j > 0 && !unit; j--) {
                size_t i = j - 1;
                if (flavour && !streq(flavour, rngd_flavours[i].flavour))
                        continue;
                _cleanup_free_ char *path = NULL;
                r = vt_unit_find(ctx, rngd_flavours[i].unit, &path);
                if (r < 0)
                        return r;
                if (r > 0) {
                        unit = rngd_flavours[i].unit;
                        if (!flavour)
                                flavour = rngd_flavours[i].flavour;
                }
        }
        for (size_t i = 0; i < ARRAY_SIZE(rngd_flavours) && !config && flavour; i++)
                if (streq(flavour, rngd_flavours[i].flavour) &&
                    vt_exists(ctx, rngd_flavours[i].config))
                        config = rngd_flavours[i].config;
        json_object_object_add(d, "installed", json_object_new_boolean(flavour != NULL));
        vt_json_add_str(d, "flavour", flavour);
        json_object_object_add(d, "enabled",
                               unit ? json_object_new_boolean(vt_unit_enabled(ctx, unit)) : NULL);
        vt_json_add_str(d, "unit", unit);
        vt_json_add_str(d, "config", config);
        return 0;
}

int vt_rng_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *o = json_object_new_object();
        json_object_object_add(facts, "rng", o);
        json_object_object_add(o, "errors", json_object_new_array());

        _cleanup_free_ char *avail = NULL, *current = NULL;
        _cleanup_strv_ char **sources = NULL;
        int r = vt_read_attr(ctx, HWRNG "/rng_available", &avail);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, HWRNG "/rng_available", r);
        if (avail && (r = vt_strv_split(avail, " \t\n", &sources)) < 0)
                return r;
        r = vt_read_attr(ctx, HWRNG "/rng_current", &current);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, HWRNG "/rng_current", r);
        bool virtio = false;
        for (size_t i = 0; sources && sources[i]; i++)
                virtio = virtio || startswith(sources[i], "virtio_rng");
        json_object_object_add(o, "available", vt_strv_to_json(sources));
        vt_json_add_str(o, "current", current);
        json_object_object_add(o, "quality", int_attr(ctx, o, HWRNG "/rng_quality"));
        json_object_object_add(o, "virtio", json_object_new_boolean(virtio));
        json_object_object_add(o, "default_quality",
                               int_attr(ctx, o, "/sys/module/rng_core/parameters/default_quality"));
        return detect_rngd(ctx, o);
}
