/* Running an installed program (no shell) to read what it prints, as qemu-ga's version and help. */
#pragma once

#include <stddef.h>

/*
 * Runs binary with one argument, stdin inherited and stderr to /dev/null, and returns at most
 * max bytes of its stdout (NUL-terminated, *ret malloc'd) once it has exited. The exit status
 * is not looked at: callers check the text. -errno when it cannot be started.
 */
int vt_run_output(const char *binary, const char *arg, size_t max, char **ret);
