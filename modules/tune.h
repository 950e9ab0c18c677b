/*
 * The tuner's entry points, shared by `virtune` and `virtuned`'s channel. Results are json-c
 * documents so the CLI prints them and the channel sends them unchanged.
 * All return 0 or -errno; -EOPNOTSUPP means "not built yet" (the channel says Unsupported).
 */
#pragma once

#include "ctx.h"

struct vt_apply_opts {
        bool dry_run;
        bool no_bootloader;
        const char *const *only; /* NULL-terminated module names, or NULL for all */
        bool runtime_only;       /* the daemon at boot: runtime targets only */
};

/* {"changes": [...], "warnings": [...]} */
int vt_tune_plan(struct vt_ctx *ctx, json_object *facts, json_object **ret);
/* The journal entry of this apply; *exit_code: 0 ok, 1 partial failure rolled back. */
int vt_tune_apply(struct vt_ctx *ctx, const struct vt_apply_opts *opts, json_object **ret);
/* {"drift": [...], "pending_reboot": [...], "ok": bool} */
int vt_tune_verify(struct vt_ctx *ctx, json_object *facts, json_object **ret);
int vt_tune_revert(struct vt_ctx *ctx, bool dry_run, json_object **ret);
/* {"policy": {...}, "last_apply": {...}|null, "pending_reboot": [...], "drift": n} */
int vt_tune_status(struct vt_ctx *ctx, json_object *facts, json_object **ret);
