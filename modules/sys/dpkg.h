/* What dpkg says is installed (/var/lib/dpkg/status), read through the root. */
#pragma once

#include "ctx.h"

/*
 * 1 when pkg is installed (version in *version when not NULL, caller frees), 0 when it is not or
 * there is no dpkg database, <0 when the database cannot be read.
 */
int vt_dpkg_installed(struct vt_ctx *ctx, const char *pkg, char **version);
/* The status file's text (NULL when there is no dpkg database), to ask several packages. */
int vt_dpkg_load(struct vt_ctx *ctx, char **status);
/* The same on the text of a status file (NULL: nothing is installed). */
int vt_dpkg_find(const char *status, const char *pkg, char **version);
