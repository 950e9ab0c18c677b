/* Atomic replace of boot files (temp, fsync, rename, dir fsync) and their backups. */
#include <assert.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include "fsutil.h"
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

/* The file helper's steps, seen through the caller's fault hook (which also gets the path). */
struct hook_ctx {
        const struct vt_fault *fault;
        const char *path;
};

static int hook(void *userdata, enum vt_fs_step s)
{
        static const enum vt_step map[] = {
                [VT_FS_STEP_WRITE] = VT_STEP_WRITE,
                [VT_FS_STEP_FSYNC] = VT_STEP_FSYNC,
                [VT_FS_STEP_RENAME] = VT_STEP_RENAME,
                [VT_FS_STEP_DIRSYNC] = VT_STEP_DIRSYNC,
        };
        const struct hook_ctx *h = userdata;
        return vt_fault_check(h->fault, map[s], h->path);
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
        struct hook_ctx h = {fault, path};
        struct vt_fs_replace_opts o = {
                .keep_attrs = true, .hook = fault ? hook : NULL, .userdata = &h};
        return vt_fs_replace_at(dfd, base, data, len, &o);
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
