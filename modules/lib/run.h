/* The one way virtune runs another program: no shell, EINTR-safe waits, bounded output. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum vt_run_stdout {
        VT_RUN_STDOUT_INHERIT,   /* the child writes where we do */
        VT_RUN_STDOUT_TO_STDERR, /* its chatter goes to our stderr, never into our stdout */
        VT_RUN_STDOUT_CAPTURE,   /* into a pipe: vt_run() keeps at most capture_max bytes */
};

struct vt_run_opts {
        enum vt_run_stdout out;
        size_t capture_max;
        bool stderr_null; /* the child's stderr to /dev/null */
        bool search_path; /* argv[0] is a name looked up in $PATH (else a path) */
        int stdin_fd;     /* > 0: the child's stdin (0, the default, inherits ours) */
        int pass_fd;      /* > 0: given to the child as fd pass_as (e.g. a policy memfd) */
        int pass_as;
};

/*
 * Starts argv[0] with argv and our environment; the child gets an empty signal mask (whatever
 * we block, e.g. a daemon's signalfd set, is not passed on). With VT_RUN_STDOUT_CAPTURE *out_fd
 * is the read end of its stdout (O_CLOEXEC; caller closes), else -1. -errno when it cannot be
 * started (-ENOENT: no such program).
 */
int vt_run_start(char *const *argv, const struct vt_run_opts *o, pid_t *pid, int *out_fd);
/* Waits for pid, retrying on EINTR; *status (may be NULL) as waitpid() gives it. */
int vt_run_wait(pid_t pid, int *status);
/*
 * Runs argv to its end: 0 when it exited 0, -EIO when it failed or was killed, -errno when it
 * could not be started. With VT_RUN_STDOUT_CAPTURE, *output (NUL-terminated, caller frees)
 * gets at most capture_max bytes of its stdout (the rest is not read: the child gets EPIPE) and
 * is set even when it failed; output may be NULL otherwise.
 */
int vt_run(char *const *argv, const struct vt_run_opts *o, char **output);

/*
 * Runs binary with one argument, stdin inherited and stderr to /dev/null, and returns at most
 * max bytes of its stdout (NUL-terminated, *ret malloc'd) once it has exited. The exit status
 * is not looked at: callers check the text. -errno when it cannot be started.
 */
int vt_run_output(const char *binary, const char *arg, size_t max, char **ret);
