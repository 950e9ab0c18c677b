/* KEY=VALUE files (systemd EnvironmentFile=, /etc/sysconfig, /etc/default, udev db "E:" lines). */
#pragma once

#include "ctx.h"

/* env is a strv of "KEY=VALUE"; set replaces an existing KEY. */
int vt_env_set(char ***env, const char *key, const char *value);
/* The value of key, or NULL. */
const char *vt_env_get(char *const *env, const char *key);
/*
 * Parses text the way systemd reads an EnvironmentFile=: '#'/';' comments, optional "export ",
 * single or double quotes, backslash escapes and continuation lines. Malformed lines are skipped.
 */
int vt_env_parse(const char *text, char ***env);
/* Reads and parses a file through the root (at most 1 MiB). */
int vt_env_load(struct vt_ctx *ctx, const char *path, char ***env);
