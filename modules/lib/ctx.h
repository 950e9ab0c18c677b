/* The context every module gets: the root the system lives under, the policy, live or offline. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include "util.h"

struct vt_policy;
struct vt_cpuid;

/* virtune's state under a root: the journal, the lock of a --root, caches; purge removes it. */
#define VT_STATE_DIR "/var/lib/virtune"

struct vt_ctx {
        char *root;  /* "/" or the --root directory, absolute, no trailing slash (but "/") */
        int root_fd; /* O_PATH|O_DIRECTORY of root; every path is resolved beneath it */
        bool live;   /* root is the running system: runtime (sysfs) targets apply */
        struct vt_policy *policy; /* owned; NULL until loaded */
        struct vt_cpuid *cpuid;   /* owned; NULL when CPUID cannot be asked (offline, !x86) */
        /*
         * Detection for a plan (vt_detect_for_plan): each concern reads only what some plan
         * consults. false: everything `virtune detect` reports.
         */
        bool for_plan;
        unsigned memo_depth;       /* inside vt_ctx_memo_begin()/end() pairs */
        struct vt_memo_file *memo; /* owned: the files read once in that span */
};

/*
 * The root half of a context: root NULL means "/"; live is decided here (root is the running
 * system's "/"). Creating and freeing a whole context (policy, CPUID source) is modules/core's
 * vt_ctx_new()/vt_ctx_free(): this layer knows nothing of what the layers above attach.
 */
int vt_ctx_init_root(struct vt_ctx *ctx, const char *root);
void vt_ctx_fini_root(struct vt_ctx *ctx);

/* modules/core/context.c */
int vt_ctx_new(const char *root, struct vt_ctx **ret);
void vt_ctx_free(struct vt_ctx *ctx);
static inline void vt_ctx_freep(struct vt_ctx **c)
{
        vt_ctx_free(*c);
}
#define _cleanup_ctx_ _cleanup_(vt_ctx_freep)

/*
 * Root-relative file access. `path` is absolute as seen from inside the root ("/sys/...").
 * Symlinks, absolute ones included, are resolved inside the root (openat2 RESOLVE_IN_ROOT,
 * or where openat2 is missing or filtered a user-space walk with the same rules: ".." stops at
 * the root, absolute links restart there, 40 links at most), so a --root tree can never make us
 * read or write the host's files.
 * All return 0/positive or -errno.
 */
/*
 * Tests: false makes every later vt_open take the user-space walk, as on a kernel without
 * openat2 (the environment variable VIRTUNE_NO_OPENAT2 does the same for a whole process).
 */
void vt_ctx_use_openat2(bool on);
int vt_open(struct vt_ctx *ctx, const char *path, int flags, mode_t mode);
int vt_opendir(struct vt_ctx *ctx, const char *path, DIR **ret);
/*
 * A regular file opened for reading (O_NONBLOCK: a FIFO planted there cannot hang the open);
 * anything else is refused with vt_notreg_error()'s code (util.h) and never read.
 */
int vt_open_regular(struct vt_ctx *ctx, const char *path);
/* A stdio stream for reading line by line (logs, configs too large to read whole). */
int vt_fopen_read(struct vt_ctx *ctx, const char *path, FILE **ret);
/* Whole regular file, NUL-terminated; larger than max gives -EFBIG. len may be NULL. */
int vt_read_file_max(struct vt_ctx *ctx, const char *path, size_t max, char **ret, size_t *len);
#define VT_READ_MAX_DEFAULT (4u << 20)
/* What one file of each kind may weigh when read whole; anything larger is not one. */
#define VT_KERNEL_FILE_MAX (1u << 20) /* a sysfs or procfs file: an attribute, mountinfo */
/* a configuration file: the policy, a unit, an env file, a boot file, a file virtune writes */
#define VT_CONFIG_FILE_MAX (1u << 20)
/*
 * After -EFBIG: the number of the first line of path longer than max bytes (streamed, nothing
 * kept), so an error can name it; 0 when no line is (the file is only long).
 */
unsigned vt_first_long_line(struct vt_ctx *ctx, const char *path, size_t max);
int vt_read_file(struct vt_ctx *ctx, const char *path, char **ret, size_t *len);
/*
 * Files one detection asks several times (a kernel's config and modinfo, dpkg's status): from
 * vt_ctx_memo_begin() to the matching vt_ctx_memo_end() vt_read_file_memo() reads each (path,
 * max) once and hands out copies; outside such a span it is vt_read_file_max(). Only for files
 * virtune never writes: a long-lived context (virtuned's) sees changes at its next detection.
 */
void vt_ctx_memo_begin(struct vt_ctx *ctx);
void vt_ctx_memo_end(struct vt_ctx *ctx);
int vt_read_file_memo(struct vt_ctx *ctx, const char *path, size_t max, char **ret, size_t *len);
/* Whole file with trailing whitespace stripped (sysfs attributes). */
int vt_read_attr(struct vt_ctx *ctx, const char *path, char **ret);
int vt_read_int64(struct vt_ctx *ctx, const char *path, int64_t *ret);
/* Write a sysfs/procfs attribute: open O_WRONLY (no create), one write. */
int vt_write_attr(struct vt_ctx *ctx, const char *path, const char *value);
/* The directory holding path (O_PATH) and, in *base, path's last component. */
int vt_open_parent(struct vt_ctx *ctx, const char *path, const char **base);
/* The target of one symlink, as stored. */
int vt_readlink(struct vt_ctx *ctx, const char *path, char **ret);
/* The canonical path inside the root, every link followed ("readlink -f" within the root). */
int vt_realpath(struct vt_ctx *ctx, const char *path, char **ret);
bool vt_exists(struct vt_ctx *ctx, const char *path);
/* root + path for messages and for external tools; caller frees. */
char *vt_host_path(const struct vt_ctx *ctx, const char *path);

/* printf-style path building into a caller buffer; -ENAMETOOLONG when it does not fit. */
int vt_pathf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
