/* The udev database (/run/udev/data/<b|c><major>:<minor>), read through the root. */
#pragma once

#include "ctx.h"

/*
 * The device's E: properties as a "KEY=VALUE" strv (read with vt_env_get). A device udev has
 * not seen (no file, or no /run/udev at all) gives 0 and an empty list, not an error.
 */
int vt_udevdb_load(struct vt_ctx *ctx, char type, unsigned major, unsigned minor, char ***props);
/* Parses the text of one database file. */
int vt_udevdb_parse(const char *text, char ***props);
