/*
 * apply and revert as a typed job that virtune-apply@.service runs: virtuned's sandbox cannot
 * write /etc or /boot, so its worker hands the job, fixed fields only, to that unit's socket
 * and relays what it answers.
 */
#pragma once

#include "ctx.h"

/* The socket virtune-apply.socket listens on (Accept=yes: one service per job), in the root. */
#define VT_APPLY_SOCKET    "/run/virtune/apply.sock"
#define VT_APPLY_ONLY      16         /* module names in one job */
#define VT_APPLY_JOB_MAX   4096       /* a job's frame: its fields and up to 16 short names */
#define VT_APPLY_REPLY_MAX (1u << 20) /* the journal entry of one apply */

struct vt_apply_job {
        bool revert;
        bool dry_run, no_bootloader, runtime_only, last;
        const char *only[VT_APPLY_ONLY + 1]; /* borrowed; NULL-terminated, or only[0] NULL: all */
        const char *policy; /* the daemon's policy in force (vt_policy_serialize), borrowed */
};

/*
 * Runs the job: through VT_APPLY_SOCKET when it is there under the root, else in this process.
 * Returns what vt_tune_apply / vt_tune_revert return, with *ret their document.
 */
int vt_apply_job_run(struct vt_ctx *ctx, const struct vt_apply_job *job, json_object **ret);
/* The unit's side: one job from fd (checked field by field, and against the policy), run here,
 * its {"rc", "result"} back on fd. */
int vt_apply_job_serve(struct vt_ctx *ctx, int fd);

/* Frames (a uint32_t length in host order, then the bytes), as virtuned and its worker use. */
int vt_frame_read_full(int fd, void *buf, size_t len); /* 1 done, 0 at EOF first, -errno */
int vt_frame_write(int fd, const char *data, size_t len);
