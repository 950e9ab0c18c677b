/* The tuner (placeholder until plan/apply/verify/revert are written). */
#include "tune.h"

int vt_tune_plan(struct vt_ctx *ctx, json_object *facts, json_object **ret)
{
        (void)ctx, (void)facts, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tune_apply(struct vt_ctx *ctx, const struct vt_apply_opts *opts, json_object **ret)
{
        (void)ctx, (void)opts, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tune_verify(struct vt_ctx *ctx, json_object *facts, json_object **ret)
{
        (void)ctx, (void)facts, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tune_revert(struct vt_ctx *ctx, bool dry_run, json_object **ret)
{
        (void)ctx, (void)dry_run, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tune_status(struct vt_ctx *ctx, json_object *facts, json_object **ret)
{
        (void)ctx, (void)facts, (void)ret;
        return -EOPNOTSUPP;
}
