/* Atomic replace of boot files (temp, fsync, rename, dir fsync) and their backups. */
#include <assert.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "util.h"
#include "atomic.h"

static const char *const step_names[_VT_STEP_MAX] = {
        [VT_STEP_WRITE] = "write",         [VT_STEP_FSYNC] = "fsync",
        [VT_STEP_RENAME] = "rename",       [VT_STEP_DIRSYNC] = "directory fsync",
        [VT_STEP_GENERATOR] = "generator",
};

const char *vt_step_name(enum vt_step step)
{
        return step < _VT_STEP_MAX ? step_names[step] : "?";
}

int vt_fault_check(const struct vt_fault *fault, enum vt_step step, const char *path)
{
        return fault && fault->fn ? fault->fn(fault->userdata, step, path) : 0;
}

int vt_mkdir_parents(struct vt_ctx *ctx, const char *path)
{
        char buf[4096];
        int r = vt_pathf(buf, sizeof(buf), "%s", path);
        if (r < 0)
                return r;
        for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                if (!vt_exists(ctx, buf)) {
                        _cleanup_free_ char *copy = strdup(buf);
                        if (!copy)
                                return -ENOMEM;
                        char *slash = strrchr(copy, '/');
                        *slash = 0;
                        _cleanup_close_ int dfd =
                                vt_open(ctx, *copy ? copy : "/", O_PATH | O_DIRECTORY, 0);
                        if (dfd < 0)
                                return dfd;
                        if (mkdirat(dfd, slash + 1, 0755) < 0 && errno != EEXIST)
                                return -errno;
                }
                *p = '/';
        }
        return 0;
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
                len -= k;
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
        if (n > 0 && fsetxattr(to, "security.selinux", label, n, 0) < 0 && errno != ENOTSUP &&
            errno != EPERM)
                return -errno;
        return 0;
}

int vt_atomic_replace(struct vt_ctx *ctx, const char *path, const char *data, size_t len,
                      const struct vt_fault *fault)
{
        assert(ctx);
        assert(path && path[0] == '/');
        _cleanup_free_ char *real = NULL;
        int r = vt_realpath(ctx, path, &real);
        if (r == -ENOENT)
                real = strdup(path);
        else if (r < 0)
                return r;
        if (!real)
                return -ENOMEM;
        _cleanup_free_ char *dcopy = strdup(real), *bcopy = strdup(real);
        if (!dcopy || !bcopy)
                return -ENOMEM;
        const char *dir = dirname(dcopy), *base = basename(bcopy);
        _cleanup_close_ int dfd = vt_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0);
        if (dfd < 0)
                return dfd;
        char tmp[NAME_MAX + 1];
        r = vt_pathf(tmp, sizeof(tmp), ".#%.200s.virtune-%d", base, (int)getpid());
        if (r < 0)
                return r;
        (void)unlinkat(dfd, tmp, 0);
        _cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        _cleanup_close_ int old = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (old >= 0)
                r = copy_attrs(old, fd);
        if (r >= 0)
                r = vt_fault_check(fault, VT_STEP_WRITE, path);
        if (r >= 0)
                r = write_all(fd, data, len);
        if (r >= 0)
                r = vt_fault_check(fault, VT_STEP_FSYNC, path);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0)
                r = vt_fault_check(fault, VT_STEP_RENAME, path);
        if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0)
                r = -errno;
        if (r == VT_FAULT_CRASH)
                return r; /* a power cut: the temp file stays, the target is untouched */
        if (r < 0) {
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        /* renamed: the new file is in place; the directory fsync makes that durable */
        r = vt_fault_check(fault, VT_STEP_DIRSYNC, path);
        if (r >= 0 && fsync(dfd) < 0)
                r = -errno;
        return r;
}

int vt_backup_write(struct vt_ctx *ctx, const char *path, const char *data, size_t len)
{
        char bpath[4096];
        int r = vt_pathf(bpath, sizeof(bpath), VT_BACKUP_DIR "%s", path);
        if (r < 0)
                return r;
        r = vt_mkdir_parents(ctx, bpath);
        if (r < 0)
                return r;
        return vt_atomic_replace(ctx, bpath, data, len, NULL);
}
