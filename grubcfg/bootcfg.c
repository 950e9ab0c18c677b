/* The boot configuration façade (placeholder until the backends are written). */
#include "grubcfg.h"

int vt_bootcfg_read(struct vt_ctx *ctx, json_object **ret)
{
        (void)ctx, (void)ret;
        return -EOPNOTSUPP;
}

int vt_bootcfg_edit(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                    unsigned flags, char **diff, json_object **record)
{
        (void)ctx, (void)edits, (void)n, (void)flags, (void)diff, (void)record;
        return -EOPNOTSUPP;
}

int vt_bootcfg_restore(struct vt_ctx *ctx, json_object *record, unsigned flags, char **diff)
{
        (void)ctx, (void)record, (void)flags, (void)diff;
        return -EOPNOTSUPP;
}
