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
/*
 * text (NULL: empty) with the assignment KEY=value set, value written as one shell word in the
 * given quote style (vt_shell_quote: '"', '\'' or 0 for bare when it can be): the last KEY= line
 * is replaced, else the line is appended. Both a shell and vt_env_parse() read value back.
 * Caller frees; NULL on ENOMEM.
 */
char *vt_text_set_var(const char *text, const char *key, const char *value, char quote);
/* Reads and parses a file through the root (at most 1 MiB). */
int vt_env_load(struct vt_ctx *ctx, const char *path, char ***env);
