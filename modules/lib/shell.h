/* Shell words: writing a value so that a shell, and systemd's EnvironmentFile=, read it back. */
#pragma once

/*
 * The shell word for value in the given quote style ('"', '\'' or 0 for bare when it needs no
 * quotes, else double quotes): the inverse of what /bin/sh and grubcfg's shvars reader take.
 * Caller frees; NULL on ENOMEM.
 */
char *vt_shell_quote(const char *value, char style);
