/* Writing under the root: directories, atomic file replacement, links; all paths inside ctx. */
#pragma once

#include <sys/types.h>
#include "ctx.h"

/* Appends to missing each directory of dir (outermost first) that does not exist yet. */
int vt_fs_missing_dirs(struct vt_ctx *ctx, const char *dir, json_object *missing);
/* mkdir -p inside the root; each directory made is appended to created (may be NULL). */
int vt_fs_mkdir_p(struct vt_ctx *ctx, const char *dir, json_object *created);
/*
 * The one atomic replace: a temp file beside the target (".#NAME.virtune-PID", any old name
 * there unlinked first, then created O_EXCL|O_NOFOLLOW so a planted link is never written
 * through), write, fsync, rename over base, fsync the directory. dfd is an O_RDONLY directory.
 */
enum vt_fs_step { VT_FS_STEP_WRITE, VT_FS_STEP_FSYNC, VT_FS_STEP_RENAME, VT_FS_STEP_DIRSYNC };
/* A hook returning this stops right there, as a power cut would: nothing is cleaned up. */
#define VT_FS_CRASH     (-ECANCELED)
#define VT_FS_TMP_INFIX ".virtune-"
struct vt_fs_replace_opts {
        mode_t mode;     /* of a new file (0: 0644) */
        bool keep_attrs; /* an existing target's owner, mode and SELinux label are kept */
        /* tests: 0 goes on, -errno fails the step (temp removed), VT_FS_CRASH stops */
        int (*hook)(void *userdata, enum vt_fs_step step);
        void *userdata;
};
int vt_fs_replace_at(int dfd, const char *base, const char *data, size_t len,
                     const struct vt_fs_replace_opts *o);
/* The temp name vt_fs_replace_at uses for base in process pid. */
int vt_fs_tmpname(char *buf, size_t size, const char *base, pid_t pid);
/* Removes the temp file process pid may have left beside path (a killed run). */
void vt_fs_remove_tmp(struct vt_ctx *ctx, const char *path, pid_t pid);
/* vt_fs_replace_at on path inside the root, mode for a new file and for the replaced one. */
int vt_fs_write_atomic(struct vt_ctx *ctx, const char *path, const char *data, size_t len,
                       mode_t mode);
int vt_fs_unlink(struct vt_ctx *ctx, const char *path);
int vt_fs_symlink(struct vt_ctx *ctx, const char *target, const char *path);
/* Removes the directories in created (newest first) that are empty; errors are ignored. */
void vt_fs_rmdirs(struct vt_ctx *ctx, json_object *created);
/* The mode bits of path (not following a final symlink is not needed here). */
int vt_fs_mode(struct vt_ctx *ctx, const char *path, mode_t *ret);
/* True when path is on sysfs or procfs (writes there are values, not file contents). */
bool vt_fs_is_kernel(struct vt_ctx *ctx, const char *path);
