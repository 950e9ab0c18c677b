/* The daemon's udev monitor: disks and virtio ports that appear after start. */
#include <libudev.h>
#include "daemon.h"

struct vt_udev_mon {
        struct udev *udev;
        struct udev_monitor *mon;
};

void vt_udev_mon_free(struct vt_udev_mon *m)
{
        if (!m)
                return;
        if (m->mon)
                udev_monitor_unref(m->mon);
        if (m->udev)
                udev_unref(m->udev);
        free(m);
}

int vt_udev_mon_new(struct vt_udev_mon **ret)
{
        struct vt_udev_mon *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->udev = udev_new();
        if (!m->udev) {
                vt_udev_mon_free(m);
                return -ENOMEM;
        }
        /* Without udevd nobody re-broadcasts: listen to the kernel's uevents directly. */
        const char *source = access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel";
        m->mon = udev_monitor_new_from_netlink(m->udev, source);
        if (!m->mon ||
            udev_monitor_filter_add_match_subsystem_devtype(m->mon, "block", "disk") < 0 ||
            udev_monitor_filter_add_match_subsystem_devtype(m->mon, "virtio-ports", NULL) < 0 ||
            udev_monitor_enable_receiving(m->mon) < 0) {
                vt_udev_mon_free(m);
                return -EIO;
        }
        *ret = m;
        return 0;
}

int vt_udev_mon_fd(struct vt_udev_mon *m)
{
        return udev_monitor_get_fd(m->mon);
}

static void copy(char *dst, size_t size, const char *src)
{
        snprintf(dst, size, "%s", src ? src : "");
}

int vt_udev_mon_next(struct vt_udev_mon *m, char *subsystem, size_t sslen, char *action,
                     size_t alen, char *sysname, size_t snlen)
{
        struct udev_device *d = udev_monitor_receive_device(m->mon);
        if (!d)
                return -EAGAIN;
        copy(subsystem, sslen, udev_device_get_subsystem(d));
        copy(action, alen, udev_device_get_action(d));
        copy(sysname, snlen, udev_device_get_sysname(d));
        udev_device_unref(d);
        return 0;
}
