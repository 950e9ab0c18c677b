/* A whole context: the root (modules/lib/ctx.c) plus the policy and the CPUID source it owns. */
#include "ctx.h"
#include "policy.h"
#include "vt_cpuid.h"

int vt_ctx_new(const char *root, struct vt_ctx **ret)
{
        struct vt_ctx *ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
                return -ENOMEM;
        int r = vt_ctx_init_root(ctx, root);
        if (r < 0) {
                free(ctx);
                return r;
        }
        if (ctx->live)
                ctx->cpuid = vt_cpuid_new_native();
        *ret = ctx;
        return 0;
}

void vt_ctx_free(struct vt_ctx *ctx)
{
        if (!ctx)
                return;
        vt_policy_free(ctx->policy);
        vt_cpuid_free(ctx->cpuid);
        vt_ctx_fini_root(ctx);
        free(ctx);
}
