/*
 * The tuner's entry points, shared by `virtune` and `virtuned`'s channel. Results are json-c
 * documents so the CLI prints them and the channel sends them unchanged.
 * All return 0 (or positive, as said) or -errno. -EINVAL with *ret set means the policy was
 * refused: *ret is {"error": "file:line: message"} and nothing was changed.
 */
#pragma once

#include "ctx.h"

struct vt_apply_opts {
        bool dry_run;
        bool no_bootloader;
        const char *const *only; /* NULL-terminated module names, or NULL for all */
        bool runtime_only;       /* the daemon at boot: runtime targets only */
        json_object *facts; /* facts to plan from (tests, a caller that has them); NULL: detect */
};

/*
 * {"changes": [...], "skipped": [...], "pending_reboot": [...], "warnings": [...], "notes"}; with
 * facts NULL, detects them first (as vt_tune_apply and vt_tune_verify do).
 */
int vt_tune_plan(struct vt_ctx *ctx, json_object *facts, json_object **ret);
/*
 * Detects, plans and applies; *ret is the journal entry of this apply ({"status": "applied" |
 * "no-op" | "dry-run" | "rolled-back", "changes": [...], "reboot_needed": bool}). Returns 1
 * when a change failed and the ones made before it were rolled back.
 */
int vt_tune_apply(struct vt_ctx *ctx, const struct vt_apply_opts *opts, json_object **ret);
/* {"ok": bool, "drift": [...], "pending_reboot": [...], "skipped": [...]} */
int vt_tune_verify(struct vt_ctx *ctx, json_object *facts, json_object **ret);
/*
 * Undoes every apply still in force (a golden image's bake, the first boot's apply, `virtune
 * cmdline` edits...), newest first, newest change first: the system as before virtune's first
 * apply. *ret is the revert's entry. vt_tune_revert_opts with last_only undoes only the newest.
 */
int vt_tune_revert(struct vt_ctx *ctx, bool dry_run, json_object **ret);
int vt_tune_revert_opts(struct vt_ctx *ctx, bool dry_run, bool last_only, json_object **ret);
/*
 * A `virtune cmdline` edit (vt_bootcfg_edit_opts with opts), made like an apply: under the
 * root's lock, after undoing a killed run, its record in the intent before any boot file is
 * touched, then journaled as an apply ("by": "virtune cmdline"; keys and tokens name it) so
 * revert undoes it; nothing is journaled when nothing changed. A failure undoes what was
 * written; opts->err then says what failed and what was left. Dry runs only compute the diff.
 */
struct vt_cmdline_edit;
struct vt_bootcfg_opts;
int vt_tune_cmdline_edit(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                         const char *keys, const char *tokens, const struct vt_bootcfg_opts *opts,
                         char **diff, json_object **record);
/*
 * {"policy": {...}, "last_apply": {...}|null, "pending_reboot": [...], "reboot_needed": bool,
 *  "drift": n}
 */
int vt_tune_status(struct vt_ctx *ctx, json_object *facts, json_object **ret);
/* True when the module is in only (NULL: all). */
bool vt_tune_selected(const char *const *only, const char *module);
