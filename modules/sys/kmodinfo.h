/* Where a kernel module stands on a system (built in, loaded, installed, absent), read through the
 * root. */
#pragma once

#include "ctx.h"

enum vt_kmod_state {
        VT_KMOD_ABSENT,
        VT_KMOD_AVAILABLE, /* listed in modules.dep, not loaded */
        VT_KMOD_LOADED,
        VT_KMOD_BUILTIN,
};

/* "absent", "module-available", "module-loaded", "builtin" (the facts' words). */
const char *vt_kmod_state_to_string(enum vt_kmod_state s);

/*
 * The state of module `name` (underscores, as in /sys/module) on the kernel `release` (NULL:
 * only /sys is asked). Reads /sys/module/<name>/initstate (loaded), /sys/module/<name> without
 * initstate (built in, the same sign kmod reads), then /lib/modules/<release>/modules.builtin
 * and modules.dep. Never fails: what cannot be read counts as not there.
 */
enum vt_kmod_state vt_kmod_state(struct vt_ctx *ctx, const char *release, const char *name);
