/*
 * The executor: the few kinds of target a change can have, each with how to read its current
 * value, how to apply a change and how to undo it from the journal record apply left.
 */
#pragma once

#include "plan.h"

/* The current value as plans compare it (*ret NULL: absent); -EOPNOTSUPP: cannot be read. */
int vt_exec_current(struct vt_ctx *ctx, const struct vt_change *c, char **ret);
/*
 * Applies c and stores in rec what undo needs ("old", "raw", "created", "bootcfg", ...).
 * Returns 0 applied, 1 skipped (rec "note" says why), or -errno.
 */
int vt_exec_apply(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec);
/*
 * Applies n command-line changes with one edit of the boot configuration (each file rewritten
 * once, the generator run once); recs[i] is what vt_exec_apply would get for cs[i]: recs[0]
 * holds the record that undoes them all, the others name it ("bootcfg_with"). Same returns.
 */
int vt_exec_apply_cmdline(struct vt_ctx *ctx, const struct vt_change *const *cs, size_t n,
                          json_object *const *recs);
/* Undoes one applied change from its record. */
int vt_exec_undo(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec);
/* True when ctx is this machine's real "/" (not a --live fixture copy): kmod, systemctl. */
bool vt_exec_is_real_root(const struct vt_ctx *ctx);
/*
 * Whether path is a unit file or drop-in systemd reads (/etc/systemd/system/..., /run/...,
 * /usr/lib/..., /lib/...): a change to one needs a daemon-reload before a restart counts. A
 * restart change whose record says "daemon_reload": true reloads first (tune.c sets it when the
 * same apply changed such a file); without it, only the restart runs.
 */
