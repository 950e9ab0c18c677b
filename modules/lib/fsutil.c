/* Writing under the root: directories, atomic file replacement, links; all paths inside ctx. */
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
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

/* Walks dir's prefixes from the top: each one that does not exist is made first when create
 * is set, and named in out (when given). */
static int walk_dirs(struct vt_ctx *ctx, const char *dir, bool create, json_object *out)
{
        char buf[PATH_MAX];
        if (vt_pathf(buf, sizeof(buf), "%s", dir) < 0)
                return -ENAMETOOLONG;
        /* The usual case first: dir is there, so every prefix is (one lookup, not one each). */
        _cleanup_close_ int whole = vt_open(ctx, buf, O_PATH | O_DIRECTORY, 0);
        if (whole >= 0)
                return 0;
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p;
                *p = '\0';
                _cleanup_close_ int fd = vt_open(ctx, buf, O_PATH | O_DIRECTORY, 0);
                if (fd == -ENOENT) {
                        if (create) {
                                char base[NAME_MAX + 1];
                                _cleanup_close_ int pfd = open_parent(ctx, buf, base, sizeof(base));
                                if (pfd < 0)
                                        return pfd;
                                if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
                                        return -errno;
                        }
                        if (out)
                                json_object_array_add(out, json_object_new_string(buf));
                } else if (fd < 0)
                        return fd;
                *p = saved;
                if (!saved)
                        return 0;
        }
}

int vt_fs_missing_dirs(struct vt_ctx *ctx, const char *dir, json_object *missing)
{
        return walk_dirs(ctx, dir, false, missing);
}

int vt_fs_mkdir_p(struct vt_ctx *ctx, const char *dir, json_object *created)
{
        return walk_dirs(ctx, dir, true, created);
}

static int write_all(int fd, const char *data, size_t len)
{
        while (len) {
                ssize_t k = write(fd, data, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += k;
                len -= (size_t)k;
        }
        return 0;
}

/* Gives the temp file the old file's owner, mode and SELinux label. */
static int copy_attrs(int from, int to)
{
        struct stat st;
        if (fstat(from, &st) < 0)
                return -errno;
        if (fchown(to, st.st_uid, st.st_gid) < 0 && errno != EPERM)
                return -errno;
        if (fchmod(to, st.st_mode & 07777) < 0)
                return -errno;
        char label[256];
        ssize_t n = fgetxattr(from, "security.selinux", label, sizeof(label));
        if (n > 0 && fsetxattr(to, "security.selinux", label, (size_t)n, 0) < 0 &&
            errno != ENOTSUP && errno != EPERM)
                return -errno;
        return 0;
}

static int step(const struct vt_fs_replace_opts *o, enum vt_fs_step s)
{
        return o && o->hook ? o->hook(o->userdata, s) : 0;
}

int vt_fs_tmpname(char *buf, size_t size, const char *base, pid_t pid)
{
        return vt_pathf(buf, size, ".#%.200s" VT_FS_TMP_INFIX "%d", base, (int)pid);
}

int vt_fs_replace_at(int dfd, const char *base, const char *data, size_t len,
                     const struct vt_fs_replace_opts *o)
{
        char tmp[NAME_MAX + 1];
        int r = vt_fs_tmpname(tmp, sizeof(tmp), base, getpid());
        if (r < 0)
                return r;
        /*
         * A name left by a crash, or planted (a hard link to a file elsewhere): unlinking drops
         * the name only, and O_EXCL then creates a new inode or fails, never opens another's.
         */
        (void)unlinkat(dfd, tmp, 0);
        mode_t mode = o && o->mode ? o->mode : 0644;
        _cleanup_close_ int fd =
                openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        _cleanup_close_ int old =
                o && o->keep_attrs
                        ? openat(dfd, base,
                                 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
                        : -1;
        if (old >= 0)
                r = copy_attrs(old, fd);
        else if (fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0)
                r = step(o, VT_FS_STEP_WRITE);
        if (r >= 0)
                r = write_all(fd, data, len);
        if (r >= 0)
                r = step(o, VT_FS_STEP_FSYNC);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0)
                r = step(o, VT_FS_STEP_RENAME);
        if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0)
                r = -errno;
        if (r == VT_FS_CRASH)
                return r; /* a power cut: the temp file stays, the target is untouched */
        if (r < 0) {
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        /* renamed: the new file is in place; the directory fsync makes that durable */
        r = step(o, VT_FS_STEP_DIRSYNC);
        if (r >= 0 && fsync(dfd) < 0)
                r = -errno;
        return r;
}

int vt_fs_write_atomic(struct vt_ctx *ctx, const char *path, const char *data, size_t len,
                       mode_t mode)
{
        char base[NAME_MAX + 1], dir[PATH_MAX] = "";
        const char *slash = strrchr(path, '/'), *b = slash ? slash + 1 : path;
        if (!*b || strlen(b) >= sizeof(base))
                return -EINVAL;
        if (slash && (size_t)(slash - path) >= sizeof(dir))
                return -ENAMETOOLONG;
        snprintf(base, sizeof(base), "%s", b);
        if (slash)
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        /* Opened for real at once (an O_PATH fd cannot create in it): one lookup, not two. */
        _cleanup_close_ int d = vt_open(ctx, *dir ? dir : "/", O_RDONLY | O_DIRECTORY, 0);
        if (d < 0)
                return d;
        struct vt_fs_replace_opts o = {.mode = mode};
        return vt_fs_replace_at(d, base, data, len, &o);
}

void vt_fs_remove_tmp(struct vt_ctx *ctx, const char *path, pid_t pid)
{
        char base[NAME_MAX + 1], tmp[NAME_MAX + 1];
        _cleanup_close_ int dfd = open_parent(ctx, path, base, sizeof(base));
        if (dfd >= 0 && vt_fs_tmpname(tmp, sizeof(tmp), base, pid) >= 0)
                (void)unlinkat(dfd, tmp, 0);
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
