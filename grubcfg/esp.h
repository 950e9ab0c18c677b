/* Where the running system mounted its EFI system partition (libblkid and mountinfo). */
#pragma once

#include "ctx.h"

/*
 * The mount point (inside the root) of the first EFI system partition found on the disks in
 * /sys/block, as /proc/self/mountinfo says; -ENOENT when there is none or it is not mounted,
 * -EOPNOTSUPP for a root that is not live (an image's disks are not this system's).
 */
int vt_esp_mountpoint(struct vt_ctx *ctx, char **ret);
/* The mount point of device major:minor in a mountinfo text (escapes undone); -ENOENT. */
int vt_esp_mountinfo_find(const char *mountinfo, unsigned major, unsigned minor, char **ret);
