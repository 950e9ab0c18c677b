/* A module is a value: a name, a detect half and a plan half (see DESIGN.md). */
#pragma once

#include "ctx.h"
#include "plan.h"

struct vt_module {
        const char *name;
        /* Adds facts[name]. Missing things are facts; returns <0 only when it cannot go on. */
        int (*detect)(struct vt_ctx *ctx, json_object *facts);
        /* Appends the changes the policy wants, given all facts. NULL: nothing to tune. */
        int (*plan)(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
};

extern const struct vt_module vt_modules[];
extern const size_t vt_modules_len;

const struct vt_module *vt_module_find(const char *name);

/* Runs every detect in order into one document; returns 0 or -errno. */
int vt_detect_all(struct vt_ctx *ctx, json_object **ret);

/* detect halves, one file each */
int vt_virt_detect(struct vt_ctx *ctx, json_object *facts);
int vt_kernel_detect(struct vt_ctx *ctx, json_object *facts);
int vt_virtio_detect(struct vt_ctx *ctx, json_object *facts);
int vt_cpuidle_detect(struct vt_ctx *ctx, json_object *facts);
int vt_pvspin_detect(struct vt_ctx *ctx, json_object *facts);
int vt_iosched_detect(struct vt_ctx *ctx, json_object *facts);
int vt_rng_detect(struct vt_ctx *ctx, json_object *facts);
int vt_qga_detect(struct vt_ctx *ctx, json_object *facts);
int vt_tpm_detect(struct vt_ctx *ctx, json_object *facts);

/* plan halves, one file each (tune_*.c) */
int vt_haltpoll_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
int vt_pvspin_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
int vt_iosched_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
int vt_rng_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
int vt_qga_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
/* After every plan half: what keeps kernels installed later in step with the tokens planned. */
int vt_kernel_plan_future(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
