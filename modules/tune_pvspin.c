/* Plans pvspin changes (placeholder until the plan half is written). */
#include "module.h"

int vt_pvspin_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        (void)ctx;
        (void)facts;
        (void)plan;
        return 0;
}
