/* Detects block devices: what bus each disk is on, its I/O scheduler, identity and partitions. */
#include <fcntl.h>
#include "blockdev.h"
#include "envfile.h"
#include "module.h"
#include "strv.h"
#include "udevdb.h"

/* The driver of the nearest ancestor that says what bus the disk is on. */
static const struct {
        const char *driver;
        const char *kind;
} disk_drivers[] = {
        {"virtio_blk", "virtio-blk"},
        {"virtio_scsi", "virtio-scsi"},
        {"nvme", "nvme"},
};

static bool is_scsi_host(const char *comp)
{
        return startswith(comp, "host") && comp[4] >= '0' && comp[4] <= '9';
}

/* Walks from the disk's sysfs directory up to /sys/devices looking at each driver link. */
static const char *disk_kind(struct vt_ctx *ctx, const char *devpath)
{
        char p[PATH_MAX];
        bool scsi = false;
        if (strlen(devpath) >= sizeof(p))
                return "other";
        strcpy(p, devpath);
        for (int depth = 0; depth < 32; depth++) {
                char *slash = strrchr(p, '/');
                if (!slash || slash == p)
                        break;
                scsi = scsi || is_scsi_host(slash + 1);
                *slash = '\0';
                if (streq(p, "/sys/devices"))
                        break;
                char link[PATH_MAX + 8];
                if (vt_pathf(link, sizeof(link), "%s/driver", p) < 0)
                        break;
                _cleanup_free_ char *drv = NULL;
                if (vt_readlink(ctx, link, &drv) < 0)
                        continue;
                const char *base = strrchr(drv, '/');
                base = base ? base + 1 : drv;
                for (size_t i = 0; i < ARRAY_SIZE(disk_drivers); i++)
                        if (streq(base, disk_drivers[i].driver))
                                return disk_drivers[i].kind;
        }
        return scsi ? "scsi" : "other";
}

static json_object *read_str(struct vt_ctx *ctx, json_object *o, const char *dir, const char *attr)
{
        char p[PATH_MAX];
        _cleanup_free_ char *s = NULL;
        if (vt_pathf(p, sizeof(p), "%s/%s", dir, attr) < 0)
                return NULL;
        int r = vt_read_attr(ctx, p, &s);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, p, r);
        return r < 0 || !*s ? NULL : json_object_new_string(s);
}

static int64_t read_sectors(struct vt_ctx *ctx, json_object *o, const char *dir)
{
        char p[PATH_MAX];
        int64_t v = 0;
        if (vt_pathf(p, sizeof(p), "%s/size", dir) < 0)
                return 0;
        int r = vt_read_int64(ctx, p, &v);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, p, r);
        return r < 0 ? 0 : v * 512; /* sysfs counts 512-byte sectors whatever the disk's */
}

/* "none [mq-deadline] kyber": the bracketed one is current. */
static void add_scheduler(struct vt_ctx *ctx, json_object *o, json_object *disk, const char *dir)
{
        char p[PATH_MAX];
        _cleanup_free_ char *s = NULL;
        _cleanup_strv_ char **words = NULL, **names = NULL;
        const char *current = NULL;
        if (vt_pathf(p, sizeof(p), "%s/queue/scheduler", dir) == 0) {
                int r = vt_read_attr(ctx, p, &s);
                if (r < 0 && r != -ENOENT)
                        vt_json_add_error(o, p, r);
        }
        if (s && vt_strv_split(s, " \t", &words) == 0)
                for (size_t i = 0; words && words[i]; i++) {
                        char *w = words[i];
                        size_t n = strlen(w);
                        if (w[0] == '[' && n > 2 && w[n - 1] == ']') {
                                w[n - 1] = '\0';
                                current = ++w;
                        }
                        if (vt_strv_add(&names, w) < 0)
                                break;
                }
        vt_json_add_str(disk, "scheduler", current);
        json_object_object_add(disk, "schedulers", vt_strv_to_json(names));
}

static bool parse_devnum(struct vt_ctx *ctx, const char *dir, unsigned *maj, unsigned *min)
{
        char p[PATH_MAX];
        _cleanup_free_ char *s = NULL;
        return vt_pathf(p, sizeof(p), "%s/dev", dir) == 0 && vt_read_attr(ctx, p, &s) == 0 &&
               sscanf(s, "%u:%u", maj, min) == 2;
}

/* The device's udev properties (empty when udev never saw it or no database is there). */
static char **udev_props(struct vt_ctx *ctx, json_object *o, const char *dir)
{
        unsigned maj, min;
        char **props = NULL;
        if (!parse_devnum(ctx, dir, &maj, &min))
                return NULL;
        int r = vt_udevdb_load(ctx, 'b', maj, min, &props);
        if (r < 0) {
                char p[64];
                snprintf(p, sizeof(p), "/run/udev/data/b%u:%u", maj, min);
                vt_json_add_error(o, p, r);
        }
        return props;
}

/* First of the sysfs attributes, then the udev property. */
static void add_ident(struct vt_ctx *ctx, json_object *o, json_object *disk, const char *dir,
                      const char *key, const char *const *attrs, const char *prop,
                      char *const *props)
{
        json_object *v = NULL;
        for (size_t i = 0; attrs[i] && !v; i++)
                v = read_str(ctx, o, dir, attrs[i]);
        const char *u = prop ? vt_env_get(props, prop) : NULL;
        if (!v && u && *u)
                v = json_object_new_string(u);
        json_object_object_add(disk, key, v);
}

/* Partitions: sysfs children with a "partition" file; details from libblkid, else udev. */
static void add_partitions(struct vt_ctx *ctx, json_object *o, json_object *disk, const char *name,
                           const char *dir, bool is_virtual)
{
        json_object *parts = json_object_new_array();
        json_object_object_add(disk, "partitions", parts);
        _cleanup_closedir_ DIR *d = NULL;
        if (vt_opendir(ctx, dir, &d) < 0)
                return;
        _cleanup_strv_ char **children = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, name) && vt_strv_add(&children, de->d_name) < 0)
                        return;
        if (!children)
                return;
        vt_strv_sort(children);

        /* Reading the disk's bytes is for the running system only, and only when we may. */
        _cleanup_(vt_blk_table_free) struct vt_blk_table table = {};
        if (ctx->live && !is_virtual) {
                char node[300];
                snprintf(node, sizeof(node), "/dev/%s", name);
                _cleanup_close_ int fd = vt_open(ctx, node, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
                if (fd >= 0)
                        (void)vt_blk_probe_fd(fd, &table);
        }
        for (size_t i = 0; children[i]; i++) {
                char pdir[PATH_MAX], p[PATH_MAX + 16];
                int64_t number;
                if (vt_pathf(pdir, sizeof(pdir), "%s/%s", dir, children[i]) < 0 ||
                    vt_pathf(p, sizeof(p), "%s/partition", pdir) < 0 ||
                    vt_read_int64(ctx, p, &number) < 0)
                        continue;
                _cleanup_strv_ char **props = udev_props(ctx, o, pdir);
                const struct vt_blk_part *bp = vt_blk_table_find(&table, (int)number);
                const char *fstype = bp ? bp->fstype : vt_env_get(props, "ID_FS_TYPE");
                const char *uuid = bp ? bp->uuid : vt_env_get(props, "ID_FS_UUID");
                const char *ptype = bp ? bp->parttype : vt_env_get(props, "ID_PART_ENTRY_TYPE");
                json_object *part = json_object_new_object();
                json_object_object_add(part, "name", json_object_new_string(children[i]));
                json_object_object_add(part, "number", json_object_new_int64(number));
                json_object_object_add(part, "size_bytes",
                                       json_object_new_int64(read_sectors(ctx, o, pdir)));
                vt_json_add_str(part, "fstype", fstype && *fstype ? fstype : NULL);
                vt_json_add_str(part, "uuid", uuid && *uuid ? uuid : NULL);
                vt_json_add_str(part, "parttype", ptype && *ptype ? ptype : NULL);
                json_object_object_add(part, "esp", json_object_new_boolean(vt_blk_is_esp(ptype)));
                json_object_array_add(parts, part);
        }
}

static const char *const serial_attrs[] = {"serial", "device/serial", NULL};
static const char *const wwn_attrs[] = {"wwid", "device/wwid", NULL};
static const char *const model_attrs[] = {"device/model", NULL};

static void note_override(const char *key, const char *value, void *userdata)
{
        (void)value;
        *(bool *)userdata |= startswith(key, "device.");
}

/*
 * Whether the policy names disks (iosched.device.*): then a plan needs every disk and its serial
 * and WWN; else only the others' kind and schedulers (loop devices and partitions plan nothing).
 */
static bool names_disks(struct vt_ctx *ctx)
{
        bool any = false;
        if (ctx->policy)
                vt_policy_foreach(ctx->policy, "iosched", note_override, &any);
        return any;
}

static int detect_disk(struct vt_ctx *ctx, json_object *o, const char *name, bool lean,
                       json_object **ret)
{
        char dir[PATH_MAX];
        int r = vt_pathf(dir, sizeof(dir), "/sys/block/%s", name);
        if (r < 0)
                return r;
        _cleanup_free_ char *devpath = NULL;
        r = vt_realpath(ctx, dir, &devpath);
        if (r < 0) {
                vt_json_add_error(o, dir, r);
                return 0;
        }
        /* Use the canonical directory from here on: fixtures hold links only where sysfs has. */
        snprintf(dir, sizeof(dir), "%s", devpath);
        bool is_virtual = startswith(devpath, "/sys/devices/virtual/");
        if (lean && is_virtual)
                return 0; /* kind "other": no plan touches it unless the policy names it */
        json_object *disk = json_object_new_object();
        *ret = disk;
        json_object_object_add(disk, "name", json_object_new_string(name));
        json_object_object_add(
                disk, "kind",
                json_object_new_string(is_virtual ? "other" : disk_kind(ctx, devpath)));
        json_object_object_add(disk, "virtual", json_object_new_boolean(is_virtual));
        if (lean) {
                add_scheduler(ctx, o, disk, dir);
                return 0;
        }
        char p[PATH_MAX + 32];
        int64_t rot = 0;
        snprintf(p, sizeof(p), "%s/queue/rotational", dir);
        r = vt_read_int64(ctx, p, &rot);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(o, p, r);
        json_object_object_add(disk, "rotational", json_object_new_boolean(r == 0 && rot == 1));
        add_scheduler(ctx, o, disk, dir);
        json_object_object_add(disk, "size_bytes",
                               json_object_new_int64(read_sectors(ctx, o, dir)));
        _cleanup_strv_ char **props = udev_props(ctx, o, dir);
        add_ident(ctx, o, disk, dir, "serial", serial_attrs, "ID_SERIAL", props);
        add_ident(ctx, o, disk, dir, "wwn", wwn_attrs, "ID_WWN", props);
        add_ident(ctx, o, disk, dir, "model", model_attrs, "ID_MODEL", props);
        add_partitions(ctx, o, disk, name, dir, is_virtual);
        return 0;
}

int vt_iosched_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *o = json_object_new_object();
        json_object_object_add(facts, "iosched", o);
        json_object_object_add(o, "errors", json_object_new_array());
        json_object *disks = json_object_new_array();
        json_object_object_add(o, "disks", disks);

        _cleanup_closedir_ DIR *d = NULL;
        int r = vt_opendir(ctx, "/sys/block", &d);
        if (r == -ENOENT)
                return 0; /* a container without /sys: no disks is the answer */
        if (r < 0) {
                vt_json_add_error(o, "/sys/block", r);
                return 0;
        }
        _cleanup_strv_ char **names = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && (r = vt_strv_add(&names, de->d_name)) < 0)
                        return r;
        vt_strv_sort(names);
        bool lean = ctx->for_plan && !names_disks(ctx);
        for (size_t i = 0; names && names[i]; i++) {
                json_object *disk = NULL;
                if ((r = detect_disk(ctx, o, names[i], lean, &disk)) < 0)
                        return r;
                if (disk)
                        json_object_array_add(disks, disk);
        }
        return 0;
}
