/* Writing under the root: directories, atomic file replacement, links; all paths inside ctx. */
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "fsutil.h"

/* vt_open_parent, refusing paths that end in "/" (no name to create). */
static int open_parent(struct vt_ctx *ctx, const char *path, char *base, size_t baselen)
{
        const char *b;
        int fd = vt_open_parent(ctx, path, &b);
        if (fd < 0)
                return fd;
        if (!*b || strlen(b) >= baselen) {
                close(fd);
                return -EINVAL;
        }
        snprintf(base, baselen, "%s", b);
        return fd;
}

int vt_fs_mkdir_p(struct vt_ctx *ctx, const char *dir, json_object *created)
{
        char buf[PATH_MAX];
        if (vt_pathf(buf, sizeof(buf), "%s", dir) < 0)
                return -ENAMETOOLONG;
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p;
                *p = '\0';
                _cleanup_close_ int fd = vt_open(ctx, buf, O_PATH | O_DIRECTORY, 0);
                if (fd == -ENOENT) {
                        char base[NAME_MAX + 1];
                        _cleanup_close_ int pfd = open_parent(ctx, buf, base, sizeof(base));
                        if (pfd < 0)
                                return pfd;
                        if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        if (created)
                                json_object_array_add(created, json_object_new_string(buf));
                } else if (fd < 0)
                        return fd;
                *p = saved;
                if (!saved)
                        return 0;
        }
}

int vt_fs_write_atomic(struct vt_ctx *ctx, const char *path, const char *data, size_t len,
                       mode_t mode)
{
        char base[NAME_MAX + 1], tmp[NAME_MAX + 16];
        _cleanup_close_ int dfd = open_parent(ctx, path, base, sizeof(base));
        if (dfd < 0)
                return dfd;
        /* O_PATH fds cannot be used with openat(); reopen the directory for real. */
        _cleanup_close_ int d = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0)
                return -errno;
        snprintf(tmp, sizeof(tmp), ".#%.200s.%d", base, (int)getpid());
        _cleanup_close_ int fd =
                openat(d, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        int r = 0;
        for (size_t off = 0; off < len;) {
                ssize_t k = write(fd, data + off, len - off);
                if (k < 0) {
                        r = -errno;
                        break;
                }
                off += (size_t)k;
        }
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(d, tmp, d, base) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(d, tmp, 0);
                return r;
        }
        return fsync(d) < 0 ? -errno : 0;
}

int vt_fs_unlink(struct vt_ctx *ctx, const char *path)
{
        char base[NAME_MAX + 1];
        _cleanup_close_ int dfd = open_parent(ctx, path, base, sizeof(base));
        if (dfd < 0)
                return dfd;
        return unlinkat(dfd, base, 0) < 0 ? -errno : 0;
}

int vt_fs_symlink(struct vt_ctx *ctx, const char *target, const char *path)
{
        char base[NAME_MAX + 1];
        _cleanup_close_ int dfd = open_parent(ctx, path, base, sizeof(base));
        if (dfd < 0)
                return dfd;
        return symlinkat(target, dfd, base) < 0 ? -errno : 0;
}

void vt_fs_rmdirs(struct vt_ctx *ctx, json_object *created)
{
        if (!created || !json_object_is_type(created, json_type_array))
                return;
        for (size_t i = json_object_array_length(created); i > 0; i--) {
                const char *dir = json_object_get_string(json_object_array_get_idx(created, i - 1));
                char base[NAME_MAX + 1];
                _cleanup_close_ int dfd = dir ? open_parent(ctx, dir, base, sizeof(base)) : -1;
                if (dfd >= 0)
                        (void)unlinkat(dfd, base, AT_REMOVEDIR);
        }
}

int vt_fs_mode(struct vt_ctx *ctx, const char *path, mode_t *ret)
{
        _cleanup_close_ int fd = vt_open(ctx, path, O_PATH, 0);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        *ret = st.st_mode & 07777;
        return 0;
}

bool vt_fs_is_kernel(struct vt_ctx *ctx, const char *path)
{
        _cleanup_close_ int fd = vt_open(ctx, path, O_PATH, 0);
        struct statfs sf;
        if (fd < 0 || fstatfs(fd, &sf) < 0)
                return false;
        return sf.f_type == SYSFS_MAGIC || sf.f_type == PROC_SUPER_MAGIC;
}
