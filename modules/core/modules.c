/* The module table and the detect pass over it. */
#include "module.h"
#include "version.h"

/* Order matters: later modules read earlier modules' facts (virt first). */
const struct vt_module vt_modules[] = {
        {"virt", vt_virt_detect, NULL},
        {"kernel", vt_kernel_detect, NULL}, /* reads virt's release and arch */
        {"virtio", vt_virtio_detect, NULL},
        {"cpuidle", vt_cpuidle_detect, vt_haltpoll_plan},
        {"pvspin", vt_pvspin_detect, vt_pvspin_plan},
        {"iosched", vt_iosched_detect, vt_iosched_plan},
        {"rng", vt_rng_detect, vt_rng_plan},
        {"qga", vt_qga_detect, vt_qga_plan},
        {"tpm", vt_tpm_detect, NULL},
};
const size_t vt_modules_len = ARRAY_SIZE(vt_modules);

const struct vt_module *vt_module_find(const char *name)
{
        for (size_t i = 0; i < vt_modules_len; i++)
                if (streq(vt_modules[i].name, name))
                        return &vt_modules[i];
        return NULL;
}

int vt_detect_all(struct vt_ctx *ctx, json_object **ret)
{
        _cleanup_json_ json_object *facts = json_object_new_object();
        json_object *self = json_object_new_object();
        if (!facts || !self)
                return -ENOMEM;
        json_object_object_add(self, "version", json_object_new_string(VT_VERSION));
        json_object_object_add(self, "root", json_object_new_string(ctx->root));
        json_object_object_add(self, "live", json_object_new_boolean(ctx->live));
        json_object_object_add(facts, "virtune", self);
        for (size_t i = 0; i < vt_modules_len; i++) {
                int r = vt_modules[i].detect(ctx, facts);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(facts);
        return 0;
}
