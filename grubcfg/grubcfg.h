/*
 * The kernel command line in the boot configuration: the façade the tuner and `virtune cmdline`
 * use. Below it: cmdline.[ch] (the token model) and one file per backend.
 */
#pragma once

#include "../modules/ctx.h"

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
        VT_BOOTCFG_DRY_RUN = 1 << 0,     /* compute the diff, write nothing */
        VT_BOOTCFG_NO_GENERATOR = 1 << 1 /* do not run update-grub & co */
};

/*
 * The configured command line (what the next boot gets) as the backends see it:
 * {"backends": [{"name", "files": [...], "cmdline"}...], "cmdline": "..."}.
 */
int vt_bootcfg_read(struct vt_ctx *ctx, json_object **ret);
/*
 * Apply edits through every backend that applies to this root. *diff (may be NULL) gets a
 * unified diff of every file touched; *record (may be NULL) what revert needs.
 */
int vt_bootcfg_edit(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                    unsigned flags, char **diff, json_object **record);
/* Undo one record made by vt_bootcfg_edit (restores the backed-up files). */
int vt_bootcfg_restore(struct vt_ctx *ctx, json_object *record, unsigned flags, char **diff);
