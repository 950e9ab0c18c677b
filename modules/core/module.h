/* A module is a value: a name, a detect half, a plan half and its policy keys (see DESIGN.md). */
#pragma once

#include "ctx.h"
#include "plan.h"
#include "policy.h"

/*
 * One concern's row. `name` is the concern's folder under modules/ and, everywhere, its one
 * name: its facts' top-level key, its changes' `module`, its policy section, what --only takes.
 * Each folder defines `const struct vt_module vt_module_<name>`; modules/meson.build lists them.
 */
struct vt_module {
        const char *name;
        /* Adds facts[name]. Missing things are facts; returns <0 only when it cannot go on. */
        int (*detect)(struct vt_ctx *ctx, json_object *facts);
        /*
         * Appends the changes the policy wants, from the facts and the policy only (no reads of
         * the root: facts loaded from JSON plan the same). NULL: nothing to tune.
         */
        int (*plan)(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
        /* The keys of section [name], ended by a row with key NULL; NULL: none. */
        const struct vt_policy_key *policy;
        /*
         * Adds to facts[name] what only a plan needs and a program run costs (qemu-ga's own
         * command list): run by vt_detect_for_plan(), not by `virtune detect`. NULL: none.
         */
        int (*probe)(struct vt_ctx *ctx, json_object *facts);
        /*
         * Other concerns' plans read its facts (virt, kernel): detected for a plan even without
         * a plan half. A module with neither is detected only for `virtune detect`.
         */
        bool plan_input;
};

/* Every concern's row, in detect order (virt first: the others read its facts). */
extern const struct vt_module *const vt_modules[];
extern const size_t vt_modules_len;

const struct vt_module *vt_module_find(const char *name);
/* The module of that name when it has a plan half (what --only takes), else NULL. */
const struct vt_module *vt_module_find_tunable(const char *name);
/* "virt, virtio, ...": every module's name, or (tunable) those vt_module_find_tunable() takes. */
void vt_module_names(char *buf, size_t len, bool tunable);

/* Runs every detect in order into one document; returns 0 or -errno. */
int vt_detect_all(struct vt_ctx *ctx, json_object **ret);
/*
 * The facts plan, apply, verify and status use: the detect of each module that plans or whose
 * facts a plan reads, with ctx->for_plan set (each gathers only what some plan consults: no
 * partitions, no process scan where systemd's cgroup names qemu-ga's), then every probe.
 */
int vt_detect_for_plan(struct vt_ctx *ctx, json_object **ret);

/* detect halves the tests call one by one */
int vt_virt_detect(struct vt_ctx *ctx, json_object *facts);
int vt_kernel_detect(struct vt_ctx *ctx, json_object *facts);
int vt_virtio_detect(struct vt_ctx *ctx, json_object *facts);
int vt_haltpoll_detect(struct vt_ctx *ctx, json_object *facts);
int vt_pvspin_detect(struct vt_ctx *ctx, json_object *facts);
int vt_iosched_detect(struct vt_ctx *ctx, json_object *facts);
int vt_rng_detect(struct vt_ctx *ctx, json_object *facts);
int vt_qga_detect(struct vt_ctx *ctx, json_object *facts);
int vt_tpm_detect(struct vt_ctx *ctx, json_object *facts);

/* After every plan half: what keeps kernels installed later in step with the tokens planned. */
int vt_kernel_plan_future(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan);
