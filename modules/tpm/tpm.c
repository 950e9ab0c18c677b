/* Detects TPM devices: version, driver, device nodes, measured-boot event log, PCR banks. */
#include "module.h"
#include "strv.h"

/* Names in dir starting with prefix, sorted; a missing dir is an empty list. */
static int list_dir(struct vt_ctx *ctx, const char *dir, const char *prefix, char ***ret)
{
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_ char **l = NULL;
        int r = vt_opendir(ctx, dir, &d);
        if (r == -ENOENT || r == -ENOTDIR) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, prefix) && (r = vt_strv_add(&l, de->d_name)) < 0)
                        return r;
        vt_strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

/*
 * securityfs is mounted when /sys/kernel/security has entries (it always holds "lsm"); an
 * unmounted mount point is an empty directory. This reads the same in a captured tree.
 */
static bool securityfs_mounted(struct vt_ctx *ctx)
{
        _cleanup_strv_ char **l = NULL;
        return list_dir(ctx, "/sys/kernel/security", "", &l) == 0 && vt_strv_len(l) > 2;
}

/* "/dev/<kind><num>" when the node exists, else null. */
static json_object *device_node(struct vt_ctx *ctx, const char *kind, const char *num)
{
        char p[64];
        if (vt_pathf(p, sizeof(p), "/dev/%s%s", kind, num) < 0 || !vt_exists(ctx, p))
                return NULL;
        return json_object_new_string(p);
}

static int detect_device(struct vt_ctx *ctx, json_object *o, const char *name, json_object **ret)
{
        char p[256];
        json_object *dev = json_object_new_object();
        *ret = dev;
        const char *num = name + 3;
        json_object_object_add(dev, "name", json_object_new_string(name));

        int64_t major;
        snprintf(p, sizeof(p), "/sys/class/tpm/%s/tpm_version_major", name);
        int r = vt_read_int64(ctx, p, &major);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, p, r);
        json_object_object_add(dev, "version_major", r < 0 ? NULL : json_object_new_int64(major));

        _cleanup_free_ char *drv = NULL;
        snprintf(p, sizeof(p), "/sys/class/tpm/%s/device/driver", name);
        r = vt_readlink(ctx, p, &drv);
        const char *base = drv ? strrchr(drv, '/') : NULL;
        vt_json_add_str(dev, "driver", base ? base + 1 : drv);

        json_object_object_add(dev, "dev", device_node(ctx, "tpm", num));
        json_object_object_add(dev, "rm_dev", device_node(ctx, "tpmrm", num));
        snprintf(p, sizeof(p), "/sys/kernel/security/%s/binary_bios_measurements", name);
        json_object_object_add(dev, "eventlog", json_object_new_boolean(vt_exists(ctx, p)));

        /* pcr-<bank>/ directories appear with kernel 5.12; older kernels give []. */
        _cleanup_strv_ char **pcrs = NULL, **banks = NULL;
        snprintf(p, sizeof(p), "/sys/class/tpm/%s", name);
        if ((r = list_dir(ctx, p, "pcr-", &pcrs)) < 0)
                vt_json_add_error(o, p, r);
        for (size_t i = 0; pcrs && pcrs[i]; i++)
                if ((r = vt_strv_add(&banks, pcrs[i] + 4)) < 0)
                        return r;
        json_object_object_add(dev, "banks", vt_strv_to_json(banks));
        return 0;
}

int vt_tpm_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *o = json_object_new_object();
        json_object_object_add(facts, "tpm", o);
        json_object_object_add(o, "errors", json_object_new_array());
        json_object *devices = json_object_new_array();

        _cleanup_strv_ char **names = NULL;
        int r = list_dir(ctx, "/sys/class/tpm", "tpm", &names);
        if (r < 0)
                vt_json_add_error(o, "/sys/class/tpm", r);
        for (size_t i = 0; names && names[i]; i++) {
                json_object *dev;
                r = detect_device(ctx, o, names[i], &dev);
                json_object_array_add(devices, dev);
                if (r < 0)
                        return r;
        }
        json_object_object_add(o, "present",
                               json_object_new_boolean(json_object_array_length(devices) > 0));
        json_object_object_add(o, "devices", devices);
        json_object_object_add(o, "securityfs", json_object_new_boolean(securityfs_mounted(ctx)));
        return 0;
}

static const char *const ak_choices[] = {"ecc", "rsa", NULL};

static const struct vt_policy_key policy[] = {
        VT_POLICY_KEY("tpm", "tcti", VT_POL_STRING, "device:/dev/tpmrm0", NULL, "TPM transport"),
        VT_POLICY_KEY("tpm", "ak", VT_POL_CHOICE, "ecc", ak_choices, "attestation key type"),
        VT_POLICY_KEY("tpm", "pcrs", VT_POL_STRING, "sha256:0-9", NULL, "default quote selection"),
        {},
};

const struct vt_module vt_module_tpm = {.name = "tpm", .detect = vt_tpm_detect, .policy = policy};
