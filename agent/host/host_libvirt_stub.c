/* virtune-host built without libvirt: scan DIR... and --socket still work, -d and setup do not. */
#include "host.h"

static int none(char *err, size_t errlen)
{
        snprintf(err, errlen,
                 "this virtune-host was built without libvirt: use --socket PATH "
                 "or scan DIR");
        return -EOPNOTSUPP;
}

int vt_host_libvirt_targets(const char *uri, const char *domain, const char *port,
                            struct vt_host_targets *t, char *err, size_t errlen)
{
        (void)uri, (void)domain, (void)port, (void)t;
        return none(err, errlen);
}

int vt_host_libvirt_setup(const char *uri, const char *domain, const char *port, bool live,
                          bool config, unsigned *added, char *err, size_t errlen)
{
        (void)uri, (void)domain, (void)port, (void)live, (void)config;
        *added = 0;
        return none(err, errlen);
}

static int resolve(void *userdata, struct vt_host_targets *t, char *err, size_t errlen)
{
        (void)userdata, (void)t;
        return none(err, errlen);
}

int vt_host_libvirt_source(const char *uri, const char *port, struct vt_host_libvirt **ret,
                           struct vt_scan_source *src)
{
        (void)uri, (void)port;
        *ret = NULL;
        *src = (struct vt_scan_source){.resolve = resolve};
        return 0;
}

int vt_host_libvirt_save(const struct vt_host_libvirt *lv, char **text)
{
        (void)lv;
        *text = NULL;
        return -EOPNOTSUPP;
}

int vt_host_libvirt_restore(struct vt_host_libvirt *lv, const char *text, char ***sockets)
{
        (void)lv, (void)text;
        *sockets = NULL;
        return 0;
}

void vt_host_libvirt_close(struct vt_host_libvirt *lv)
{
        (void)lv;
}
