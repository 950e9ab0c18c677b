/*
 * The kernel command line in the boot configuration: the façade the tuner and `virtune cmdline`
 * use. Below it: cmdline.[ch] (the token model) and one file per backend.
 */
#pragma once

#include "ctx.h"

enum vt_cmdline_op {
        VT_CMDLINE_SET,    /* key or key=value: replaces every key / key=... */
        VT_CMDLINE_REMOVE, /* key (all values) or key=value (that one) */
};

struct vt_cmdline_edit {
        enum vt_cmdline_op op;
        const char *key;
        const char *value; /* NULL: flag style (no '=') / remove every value */
};

enum {
        VT_BOOTCFG_DRY_RUN = 1 << 0,      /* compute the diff, write nothing */
        VT_BOOTCFG_NO_GENERATOR = 1 << 1, /* do not run update-grub & co */
        /* under a --root that is not the running system: run the root's own generator with
         * chroot (else it is "left for first boot"); the host's generator never runs there */
        VT_BOOTCFG_CHROOT_GENERATOR = 1 << 2,
};

/*
 * The configured command line (what the next boot gets) as the backends see it:
 * {"backends": [{"name", "files": [...], "cmdline"}...], "cmdline": "...", "running": the
 * root's /proc/cmdline, "pending": [tokens configured but not running (wait for a reboot)]}.
 */
int vt_bootcfg_read(struct vt_ctx *ctx, json_object **ret);
/*
 * Apply edits through every backend that applies to this root. *diff (may be NULL) gets a
 * unified diff of every file touched; *record (may be NULL) what revert needs, or on failure
 * {"error": "file:line: why"}. -EOPNOTSUPP when no backend applies to this root (no boot
 * configuration virtune knows), -EBADMSG when a file cannot be parsed with certainty.
 */
int vt_bootcfg_edit(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                    unsigned flags, char **diff, json_object **record);
/*
 * Undo one record made by vt_bootcfg_edit (restores the backed-up files). A file already back
 * at its old bytes is left alone (a restore or an edit cut short by a crash is finished, not
 * refused); one that is neither virtune's new bytes nor the old ones is refused (-ESTALE).
 */
int vt_bootcfg_restore(struct vt_ctx *ctx, json_object *record, unsigned flags, char **diff);

/* Removes the temp files process pid (killed) may have left beside the files of a record. */
void vt_bootcfg_clean_tmp(struct vt_ctx *ctx, json_object *record, pid_t pid);

struct vt_fault;
/* The same with everything a caller may want to say or hear. */
struct vt_bootcfg_opts {
        unsigned flags;
        const struct vt_fault *fault; /* tests: make steps fail (atomic.h) */
        /* tests: run "GENERATOR ROOT ARGV..." instead of the generator (default: the
         * environment's $VIRTUNE_BOOTCFG_GENERATOR, when set) */
        const char *generator;
        char *err; /* filled with "file:line: why" (or another reason) on failure */
        size_t errlen;
        /*
         * Called with the record (what restore needs: every file's old and new bytes) after the
         * plan and before any file is touched: the caller makes it durable (a write-ahead
         * intent). A negative return stops the edit with nothing written.
         */
        int (*before_write)(void *userdata, json_object *record);
        void *userdata;
};
int vt_bootcfg_edit_opts(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                         const struct vt_bootcfg_opts *opts, char **diff, json_object **record);
int vt_bootcfg_restore_opts(struct vt_ctx *ctx, json_object *record,
                            const struct vt_bootcfg_opts *opts, char **diff);
/* Whether the line (e.g. /proc/cmdline) already is as the edit wants: 1 yes, 0 no, <0 error. */
int vt_cmdline_satisfies(const char *line, const struct vt_cmdline_edit *edit);
