/* A kernel's build configuration (/boot/config-RELEASE, /proc/config.gz): one option's value and
 * the line that says so. */
#pragma once

#include "ctx.h"

struct vt_kconfig_hit {
        const char *value; /* "y", "m" or "n" (unset, or missing from a config that was read) */
        char source[128];  /* the file read */
        unsigned line;     /* 1-based line that set it; 0 when missing */
        char text[128];    /* that line, stripped */
};

/*
 * Looks key ("CONFIG_...") up in the config of kernel `release` (/boot/config-RELEASE, when
 * release is set), else the root's /proc/config.gz. Returns 0, -ENOENT when no config was
 * found, another -errno when one could not be read (hit->source names it).
 */
int vt_kconfig_get(struct vt_ctx *ctx, const char *release, const char *key,
                   struct vt_kconfig_hit *hit);
