/* systemd unit files read through the root: where a unit lives, its drop-ins, ExecStart=. */
#pragma once

#include "ctx.h"

/* The unit's file, first of /etc, /run, /usr/lib, /lib systemd/system; 0 and NULL when absent. */
int vt_unit_find(struct vt_ctx *ctx, const char *name, char **path);
/* Whether path is in one of systemd's unit directories (a unit file or a drop-in there). */
bool vt_unit_is_unit_path(const char *path);
/*
 * The first target the [Install] section's first WantedBy= names, as `systemctl enable` would
 * link the unit into (*ret NULL when there is none); caller frees.
 */
int vt_unit_wanted_by(struct vt_ctx *ctx, const char *path, char **ret);
/* Its drop-ins (<dir>/<name>.d/NAME.conf), ordered by file name; /etc masks /run masks /usr/lib. */
int vt_unit_dropins(struct vt_ctx *ctx, const char *name, char ***paths);
/* Whether a *.wants/ or *.requires/ directory under /etc/systemd/system holds the unit. */
bool vt_unit_enabled(struct vt_ctx *ctx, const char *name);
/*
 * The command ExecStart= runs, after the unit file and its drop-ins (in order; an empty
 * ExecStart= resets) and with Environment=/EnvironmentFile= expanded. *argv is NULL when there
 * is none; *source (may be NULL) is the file that set it (points into files).
 */
int vt_unit_exec_start(struct vt_ctx *ctx, char *const *files, char ***argv, const char **source);
/*
 * Splits one ExecStart= value into words the way systemd does: quotes, backslash escapes, the
 * "-@:+!" prefixes dropped, "$VAR" as a word split at blanks, "${VAR}" replaced in place.
 */
int vt_unit_split(const char *cmd, char *const *env, char ***argv);
