/* Detects the hardware RNG the kernel feeds from, and whether rngd (rng-tools) runs beside it. */
#include "dpkg.h"
#include "module.h"
#include "rng.h"
#include "strv.h"
#include "unitfile.h"

#define HWRNG "/sys/class/misc/hw_random"

/*
 * From the packages' own files (the READMEs of tests/fixtures/rng-*): rng-tools-debian 2.3 ships
 * only /etc/init.d/rng-tools-debian, which sources /etc/default/rng-tools-debian and runs `rngd -r
 * $HRNGDEVICE $RNGDOPTIONS`; rng-tools5 5-4 ships rngd.service running `rngd -f` with no
 * EnvironmentFile (its init script, which the unit shadows, is not read); Fedora's rng-tools ships
 * rngd.service with EnvironmentFile=/etc/sysconfig/rngd and `rngd -f $RNGD_ARGS`. Every rngd reads
 * /dev/hwrng unless told otherwise (-r).
 */
const struct vt_rngd_flavour vt_rngd_flavours[] = {
        {"rng-tools-debian", "rng-tools-debian.service", NULL, "/etc/init.d/rng-tools-debian",
         "/etc/default/rng-tools-debian", "HRNGDEVICE", false},
        {"rng-tools5", "rngd.service", "/lib/systemd/system/rngd.service", "/etc/init.d/rngd", NULL,
         NULL, false},
        {"rng-tools", "rngd.service", "/usr/lib/systemd/system/rngd.service", NULL,
         "/etc/sysconfig/rngd", "RNGD_ARGS", true},
        {},
};

const struct vt_rngd_flavour *vt_rngd_flavour_find(const char *package)
{
        for (const struct vt_rngd_flavour *f = vt_rngd_flavours; package && f->package; f++)
                if (streq(f->package, package))
                        return f;
        return NULL;
}

/* An int attribute: value, null when absent, an error entry when unreadable. */
static json_object *int_attr(struct vt_ctx *ctx, json_object *o, const char *path)
{
        int64_t v;
        int r = vt_read_int64(ctx, path, &v);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, path, r);
        return r < 0 ? NULL : json_object_new_int64(v);
}

/* Whether the flavour's unit exists here: its unit file, or the init script systemd wraps. */
static int unit_present(struct vt_ctx *ctx, const struct vt_rngd_flavour *f)
{
        if (!f->unit_file)
                return f->init_script && vt_exists(ctx, f->init_script);
        _cleanup_free_ char *path = NULL;
        int r = vt_unit_find(ctx, f->unit, &path);
        return r < 0 ? r : path != NULL;
}

/* A SysV script is enabled by its start links: /etc/rc[2-5].d/SNNname. */
static bool sysv_enabled(struct vt_ctx *ctx, const char *script)
{
        const char *name = strrchr(script, '/') + 1;
        for (char level = '2'; level <= '5'; level++) {
                char dir[32];
                _cleanup_closedir_ DIR *d = NULL;
                snprintf(dir, sizeof(dir), "/etc/rc%c.d", level);
                if (vt_opendir(ctx, dir, &d) < 0)
                        continue;
                struct dirent *de;
                while ((de = readdir(d)))
                        if (de->d_name[0] == 'S' && strlen(de->d_name) > 3 &&
                            streq(de->d_name + 3, name))
                                return true;
        }
        return false;
}

/*
 * The flavour: dpkg's word when it knows one; without dpkg (an rpm system) the files tell:
 * rngd.service is Fedora's rng-tools, /etc/init.d/rng-tools-debian Debian's.
 */
static int find_flavour(struct vt_ctx *ctx, json_object *o, const struct vt_rngd_flavour **ret)
{
        _cleanup_free_ char *status = NULL;
        int r = vt_dpkg_load(ctx, &status);
        if (r < 0)
                vt_json_add_error(o, "/var/lib/dpkg/status", r);
        *ret = NULL;
        for (const struct vt_rngd_flavour *f = vt_rngd_flavours; f->package && status; f++)
                if (vt_dpkg_find(status, f->package, NULL) > 0) {
                        *ret = f;
                        return 0;
                }
        static const char *const by_files[] = {"rng-tools", "rng-tools-debian"};
        for (size_t i = 0; i < ARRAY_SIZE(by_files); i++) {
                const struct vt_rngd_flavour *f = vt_rngd_flavour_find(by_files[i]);
                r = unit_present(ctx, f);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = f;
                        return 0;
                }
        }
        return 0;
}

static int detect_rngd(struct vt_ctx *ctx, json_object *o)
{
        json_object *d = json_object_new_object();
        json_object_object_add(o, "rngd", d);
        const struct vt_rngd_flavour *f = NULL;
        int r = find_flavour(ctx, o, &f);
        if (r < 0)
                return r;
        int present = f ? unit_present(ctx, f) : 0;
        if (present < 0)
                return present;
        const char *unit = present ? f->unit : NULL;
        json_object_object_add(d, "installed", json_object_new_boolean(f != NULL));
        vt_json_add_str(d, "flavour", f ? f->package : NULL);
        vt_json_add_str(d, "unit", unit);
        json_object_object_add(d, "sysv", unit ? json_object_new_boolean(!f->unit_file) : NULL);
        bool on = unit &&
                  (f->unit_file ? vt_unit_enabled(ctx, unit)
                                : sysv_enabled(ctx, f->init_script) || vt_unit_enabled(ctx, unit));
        json_object_object_add(d, "enabled", unit ? json_object_new_boolean(on) : NULL);
        /* The config the plan edits, whole: plan reads facts only. */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (f && f->config) {
                r = vt_read_file_max(ctx, f->config, VT_CONFIG_FILE_MAX, &text, &len);
                if (r < 0 && r != -ENOENT && r != -ENOTDIR)
                        vt_json_add_error(o, f->config, r);
        }
        vt_json_add_str(d, "config", text ? f->config : NULL);
        json_object_object_add(d, "config_text",
                               text ? json_object_new_string_len(text, (int)len) : NULL);
        return 0;
}

int64_t vt_rng_quality(json_object *rng)
{
        int64_t q = vt_json_int(rng, "quality", -1);
        return q < 0 ? vt_json_int(rng, "default_quality", -1) : q;
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
        /* rng_plan() asks about rngd only with a virtio source the kernel does not credit. */
        if (ctx->for_plan && (!virtio || vt_rng_quality(o) > 0))
                return 0;
        return detect_rngd(ctx, o);
}
