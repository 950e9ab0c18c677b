/* Detects the virtio devices (bus, driver, transport) and virtio-serial ports, through the root. */
#include <limits.h>
#include "facts.h"
#include "module.h"

#define VIRTIO_DEVICES "/sys/bus/virtio/devices"
#define VIRTIO_PORTS   "/sys/class/virtio-ports"

/* Device IDs (linux/include/uapi/linux/virtio_ids.h, virtio spec 5). */
static const char *const virtio_types[] = {
        [1] = "net",
        [2] = "block",
        [3] = "console",
        [4] = "rng",
        [5] = "balloon",
        [6] = "iomem",
        [7] = "rpmsg",
        [8] = "scsi",
        [9] = "9p",
        [10] = "mac80211",
        [11] = "rproc-serial",
        [12] = "caif",
        [13] = "memory-balloon",
        [16] = "gpu",
        [17] = "clock",
        [18] = "input",
        [19] = "vsock",
        [20] = "crypto",
        [21] = "signal-dist",
        [22] = "pstore",
        [23] = "iommu",
        [24] = "mem",
        [25] = "sound",
        [26] = "fs",
        [27] = "pmem",
        [28] = "rpmb",
        [29] = "mac80211-hwsim",
        [30] = "video-encoder",
        [31] = "video-decoder",
        [32] = "scmi",
        [33] = "nitro-sec-mod",
        [34] = "i2c-adapter",
        [35] = "watchdog",
        [36] = "can",
        [38] = "param-serv",
        [39] = "audio-policy",
        [40] = "bluetooth",
        [41] = "gpio",
};

/* The parent's bus (its subsystem link) to the virtio transport. */
static const struct {
        const char *subsystem, *transport;
} transports[] = {
        {"pci", "pci"},
        {"platform", "mmio"},
        {"ccw", "ccw"},
        {"vdpa", "vdpa"},
};

static const char *basename_of(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

static void add_transport(struct vt_ctx *ctx, json_object *errs, json_object *dev, const char *name)
{
        char path[PATH_MAX];
        _cleanup_free_ char *real = NULL, *subsys = NULL;
        const char *transport = NULL, *parent = NULL;
        vt_pathf(path, sizeof(path), VIRTIO_DEVICES "/%s", name);
        int r = vt_realpath(ctx, path, &real);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(errs, path, r);
        if (real) {
                char *slash = strrchr(real, '/');
                if (slash && slash != real) {
                        *slash = '\0';
                        parent = basename_of(real);
                        if (vt_pathf(path, sizeof(path), "%s/subsystem", real) >= 0 &&
                            vt_readlink(ctx, path, &subsys) >= 0)
                                for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
                                        if (streq(basename_of(subsys), transports[i].subsystem))
                                                transport = transports[i].transport;
                }
        }
        vt_json_add_str(dev, "transport", transport);
        vt_json_add_str(dev, "parent", parent);
}

static json_object *device_new(struct vt_ctx *ctx, json_object *errs, const char *name,
                               unsigned index)
{
        char path[PATH_MAX];
        json_object *dev = json_object_new_object();
        json_object_object_add(dev, "name", json_object_new_string(name));
        json_object_object_add(dev, "index", json_object_new_int((int)index));
        int64_t id = -1;
        vt_pathf(path, sizeof(path), VIRTIO_DEVICES "/%s/device", name);
        if (vt_facts_read_int64(ctx, errs, path, &id) < 0)
                id = -1;
        json_object_object_add(dev, "device_id", id >= 0 ? json_object_new_int64(id) : NULL);
        const char *type = id > 0 && (size_t)id < ARRAY_SIZE(virtio_types) && virtio_types[id]
                                   ? virtio_types[id]
                                   : "unknown";
        json_object_object_add(dev, "type", json_object_new_string(type));
        _cleanup_free_ char *drv = NULL;
        vt_pathf(path, sizeof(path), VIRTIO_DEVICES "/%s/driver", name);
        int r = vt_readlink(ctx, path, &drv);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(errs, path, r);
        vt_json_add_str(dev, "driver", drv ? basename_of(drv) : NULL);
        add_transport(ctx, errs, dev, name);
        return dev;
}

static int by_index(const void *a, const void *b)
{
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b, *i, *j;
        json_object_object_get_ex(x, "index", &i);
        json_object_object_get_ex(y, "index", &j);
        return json_object_get_int(i) - json_object_get_int(j);
}

static int by_device(const void *a, const void *b)
{
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b, *i, *j;
        json_object_object_get_ex(x, "device", &i);
        json_object_object_get_ex(y, "device", &j);
        return strcmp(json_object_get_string(i), json_object_get_string(j));
}

/* Lists dir's entries through the root; absent is an empty list, other failures are errors. */
static DIR *open_list(struct vt_ctx *ctx, json_object *errs, const char *dir)
{
        DIR *d = NULL;
        int r = vt_opendir(ctx, dir, &d);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(errs, dir, r);
        return r < 0 ? NULL : d;
}

static void add_devices(struct vt_ctx *ctx, json_object *v)
{
        json_object *devs = json_object_new_array();
        json_object_object_add(v, "devices", devs);
        _cleanup_closedir_ DIR *d = open_list(ctx, v, VIRTIO_DEVICES);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                unsigned index;
                char tail;
                if (sscanf(de->d_name, "virtio%u%c", &index, &tail) == 1)
                        json_object_array_add(devs, device_new(ctx, v, de->d_name, index));
        }
        json_object_array_sort(devs, by_index);
}

static void add_ports(struct vt_ctx *ctx, json_object *v)
{
        json_object *ports = json_object_new_array();
        json_object_object_add(v, "ports", ports);
        _cleanup_closedir_ DIR *d = open_list(ctx, v, VIRTIO_PORTS);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (!startswith(de->d_name, "vport"))
                        continue;
                char path[PATH_MAX];
                json_object *p = json_object_new_object();
                json_object_object_add(p, "device", json_object_new_string(de->d_name));
                vt_pathf(path, sizeof(path), VIRTIO_PORTS "/%s/name", de->d_name);
                _cleanup_free_ char *name = NULL;
                if (vt_facts_read_attr(ctx, v, path, &name) < 0)
                        name = NULL;
                /* an unnamed port has an empty name attribute */
                vt_json_add_str(p, "name", name && *name ? name : NULL);
                vt_pathf(path, sizeof(path), "/dev/%s", de->d_name);
                json_object_object_add(p, "path", json_object_new_string(path));
                json_object_array_add(ports, p);
        }
        json_object_array_sort(ports, by_device);
}

int vt_virtio_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *v = vt_facts_module_new(facts, "virtio");
        add_devices(ctx, v);
        add_ports(ctx, v);
        return 0;
}

const struct vt_module vt_module_virtio = {.name = "virtio", .detect = vt_virtio_detect};
