/* Where a kernel module stands on a system (built in, loaded, installed, absent), read through the
 * root. */
#pragma once

#include "ctx.h"

#define PATH_MAX_EVIDENCE 256

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

/* Where a kernel shows that a module takes a parameter: the evidence for "module.param=...". */
struct vt_kparam_hit {
        char source[PATH_MAX_EVIDENCE]; /* the file (or /sys/module/... directory) */
        unsigned line;                  /* 1-based record in it (modinfo: NUL-separated); 0: none */
        char text[160];                 /* that record */
};

/*
 * Looks for parameter `param` of module `name` (underscores) on kernel `release`: its
 * modules.builtin.modinfo ("name.parmtype=param:..."), the module file modules.dep names
 * (its .modinfo section: "parmtype=param:..."; compressed modules are not read), then
 * /sys/module/<name>/parameters/<param> (the tree's running kernel). Returns 1 with hit
 * filled, 0 when none shows it.
 */
int vt_kparam_find(struct vt_ctx *ctx, const char *release, const char *name, const char *param,
                   struct vt_kparam_hit *hit);
/* The modules.builtin, else modules.dep, line that names module `name`: 1 with hit, or 0. */
int vt_kmod_listing(struct vt_ctx *ctx, const char *release, const char *name,
                    struct vt_kparam_hit *hit);
