/* Detects cpuidle facts (placeholder until the detect half is written). */
#include "module.h"

int vt_cpuidle_detect(struct vt_ctx *ctx, json_object *facts)
{
        (void)ctx;
        json_object_object_add(facts, "cpuidle", json_object_new_object());
        return 0;
}
