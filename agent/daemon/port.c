/* The daemon's port: finding the virtio-serial node by name and opening it (or a test stand-in). */
#include <assert.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include "daemon.h"

static bool port_name_ok(const char *name)
{
        return name[0] && name[0] != '.' && !strchr(name, '/') && strlen(name) < 128;
}

int vt_port_find(struct vt_ctx *ctx, const char *name, char **ret)
{
        assert(ctx && name && ret);
        char p[PATH_MAX];
        _cleanup_closedir_ DIR *d = NULL;

        if (!port_name_ok(name))
                return -EINVAL;
        if (vt_pathf(p, sizeof(p), "/dev/virtio-ports/%s", name) >= 0 && vt_exists(ctx, p)) {
                *ret = strdup(p);
                return *ret ? 0 : -ENOMEM;
        }
        /* No udev link (no udevd, or not yet): match the port's sysfs name. */
        if (vt_opendir(ctx, "/sys/class/virtio-ports", &d) < 0)
                return -ENOENT;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *pname = NULL;
                if (de->d_name[0] == '.')
                        continue;
                if (vt_pathf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", de->d_name) < 0 ||
                    vt_read_attr(ctx, p, &pname) < 0 || !streq(pname, name))
                        continue;
                if (vt_pathf(p, sizeof(p), "/dev/%s", de->d_name) < 0)
                        continue;
                *ret = strdup(p);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

static int open_socket(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        if (fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* A pty must pass every byte as is: 0xFF and newlines included, no echo. */
static int tty_raw(int fd)
{
        struct termios t;
        if (tcgetattr(fd, &t) < 0)
                return -errno;
        cfmakeraw(&t);
        return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}

int vt_port_open(struct vt_ctx *ctx, const char *name, const char *path, struct vt_port *ret)
{
        assert(ctx && ret);
        const int flags = O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
        _cleanup_free_ char *where = NULL;
        _cleanup_close_ int fd = -1;
        enum vt_port_kind kind = VT_PORT_CHAR;
        struct stat st;
        int r;

        if (path) {
                where = strdup(path);
                if (!where)
                        return -ENOMEM;
                if (stat(path, &st) < 0)
                        return -errno;
                if (S_ISSOCK(st.st_mode)) {
                        kind = VT_PORT_SOCKET;
                        fd = open_socket(path);
                } else {
                        fd = open(path, flags);
                        if (fd < 0)
                                fd = -errno;
                }
        } else {
                r = vt_port_find(ctx, name, &where);
                if (r < 0)
                        return r;
                fd = vt_open(ctx, where, flags, 0);
        }
        if (fd < 0)
                return fd;
        if (kind != VT_PORT_SOCKET && isatty(fd)) {
                kind = VT_PORT_TTY;
                r = tty_raw(fd);
                if (r < 0)
                        return r;
        }
        *ret = (struct vt_port){.fd = TAKE_FD(fd), .kind = kind, .path = TAKE_PTR(where)};
        return 0;
}

void vt_port_close(struct vt_port *port)
{
        if (port->fd >= 0)
                close(port->fd);
        free(port->path);
        *port = (struct vt_port){.fd = -1};
}

bool vt_port_gone(const struct vt_port *port)
{
        struct stat st;
        if (port->fd < 0 || port->kind != VT_PORT_CHAR)
                return false;
        return fstat(port->fd, &st) < 0 || st.st_nlink == 0;
}

const char *vt_port_open_hint(int r)
{
        if (r == -EPERM || r == -EACCES)
                return "; the device cgroup allows the port's major (DeviceAllow=char-virtio-"
                       "portsdev) only if virtio_console was loaded when virtuned started: "
                       "systemctl restart virtuned";
        return "";
}
