/* A plan is data: the changes that would bring the system to the policy. Owned by tuning. */
#pragma once

#include "ctx.h"

enum vt_target_kind {
        VT_TARGET_ATTR,    /* a sysfs/procfs attribute */
        VT_TARGET_CMDLINE, /* a kernel command-line token (through grubcfg) */
        VT_TARGET_FILE,    /* a file virtune owns (udev rule, modprobe.d, drop-in) */
        VT_TARGET_KMOD,    /* a module to load (with options) */
        VT_TARGET_UNIT,    /* a unit to enable/restart */
};

enum vt_when {
        VT_WHEN_NOW,    /* runtime: takes effect when applied */
        VT_WHEN_BOOT,   /* persistent: written now, in force from next boot */
        VT_WHEN_REBOOT, /* written already, waiting for a reboot */
};

struct vt_change {
        char *module;
        enum vt_target_kind kind;
        char *target; /* path, token key, module name or unit */
        char *from;   /* current value; NULL: absent */
        char *to;     /* wanted value; NULL: remove */
        char *why;    /* one line citing the guide */
        enum vt_when when;
};

struct vt_plan {
        struct vt_change *changes;
        size_t n;
        json_object *warnings; /* array of strings */
};
