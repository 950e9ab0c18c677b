/* Writing under the root: directories, atomic file replacement, links; all paths inside ctx. */
#pragma once

#include <sys/types.h>
#include "ctx.h"

/* mkdir -p inside the root; each directory made is appended to created (may be NULL). */
int vt_fs_mkdir_p(struct vt_ctx *ctx, const char *dir, json_object *created);
/* Replace path atomically: temp file beside it, fsync, rename, fsync the directory. */
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
