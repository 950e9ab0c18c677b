/*
 * Replacing a boot file so that a crash at any moment leaves the old file or the new one whole:
 * temp file in the same directory, write, fsync, rename, fsync the directory; mode, owner and
 * SELinux label kept. Plus the backups under /var/lib/virtune/backup/ and a fault hook for tests.
 */
#pragma once

#include "ctx.h"
#include "fsutil.h"

enum vt_step {
        VT_STEP_WRITE,
        VT_STEP_FSYNC,
        VT_STEP_RENAME,
        VT_STEP_DIRSYNC,
        VT_STEP_GENERATOR,
        _VT_STEP_MAX,
};

/* A fault hook returning this stops right there, as a power cut would: nothing is cleaned up. */
#define VT_FAULT_CRASH VT_FS_CRASH

/* Tests make a step fail: fn returns 0 to go on, -errno to fail the step, VT_FAULT_CRASH. */
struct vt_fault {
        int (*fn)(void *userdata, enum vt_step step, const char *path);
        void *userdata;
};

const char *vt_step_name(enum vt_step step);
/* The hook's verdict for this step (0 without a hook). */
int vt_fault_check(const struct vt_fault *fault, enum vt_step step, const char *path);

/* path is inside ctx's root; symlinks are followed to the real file (inside the root). */
int vt_atomic_replace(struct vt_ctx *ctx, const char *path, const char *data, size_t len,
                      const struct vt_fault *fault);
/* Creates path's directories inside the root (mode 0755). */
int vt_mkdir_parents(struct vt_ctx *ctx, const char *path);
/* /var/lib/virtune/backup<path>: the file's content before virtune's last change to it. */
#define VT_BACKUP_DIR "/var/lib/virtune/backup"
int vt_backup_write(struct vt_ctx *ctx, const char *path, const char *data, size_t len);
