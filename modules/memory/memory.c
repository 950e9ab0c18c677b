/* The memory concern: vm.swappiness and transparent huge pages, left alone unless asked for. */
#include <inttypes.h>
#include "facts.h"
#include "module.h"
#include "policy.h"

#define M          "memory"
#define SWAPPINESS "/proc/sys/vm/swappiness"
#define THP        "/sys/kernel/mm/transparent_hugepage/enabled"
#define SYSCTL     "/etc/sysctl.d/90-virtune-memory.conf"

static const char why_swappiness[] =
        "SUSE guide: swappiness (0-100) sets how readily the guest swaps; set it in "
        "/proc/sys/vm/swappiness and permanently as vm.swappiness";
static const char why_thp[] =
        "SUSE guide: THP suits contiguous memory access; sparse access (databases) may do "
        "better with transparent_hugepage=never";

/* "always [madvise] never": thp_modes lists the words, thp is the bracketed one. */
static void add_thp(struct vt_ctx *ctx, json_object *o)
{
        _cleanup_free_ char *raw = NULL;
        json_object *modes = NULL;
        char *selected = NULL;
        if (vt_facts_read_attr(ctx, o, THP, &raw) >= 0) {
                modes = json_object_new_array();
                for (char *save = NULL, *w = strtok_r(raw, " \t\n", &save); w;
                     w = strtok_r(NULL, " \t\n", &save)) {
                        size_t n = strlen(w);
                        if (n > 2 && w[0] == '[' && w[n - 1] == ']') {
                                w[n - 1] = '\0';
                                selected = ++w;
                        }
                        json_object_array_add(modes, json_object_new_string(w));
                }
        }
        json_object_object_add(o, "thp_modes", modes);
        vt_json_add_str(o, "thp", selected);
}

static int memory_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *o = vt_facts_module_new(facts, M);
        int64_t v;
        json_object_object_add(
                o, "swappiness",
                vt_facts_read_int64(ctx, o, SWAPPINESS, &v) >= 0 ? json_object_new_int64(v) : NULL);
        add_thp(ctx, o);
        return 0;
}

/* The runtime value (when the facts show it) and virtune's sysctl.d file for the next boots. */
static int plan_swappiness(struct vt_ctx *ctx, json_object *o, struct vt_plan *plan)
{
        uint64_t n;
        char want[24], have[24], *text = NULL;
        if (vt_policy_get_uint(ctx->policy, M, "swappiness", &n) <= 0)
                return 0;
        snprintf(want, sizeof(want), "%" PRIu64, n);
        json_object *cur = vt_json_get(o, "swappiness");
        int r = 0;
        if (cur) {
                snprintf(have, sizeof(have), "%" PRId64, json_object_get_int64(cur));
                r = vt_plan_add(plan, M, VT_TARGET_ATTR, SWAPPINESS, have, want, VT_WHEN_NOW,
                                why_swappiness);
        } else if (ctx->live)
                vt_plan_warn(plan, M, "%s is missing: swappiness is set for the next boot only",
                             SWAPPINESS);
        if (r < 0 || asprintf(&text, VT_OWNED_HEADER "vm.swappiness = %s\n", want) < 0)
                return r < 0 ? r : -ENOMEM;
        r = vt_plan_add(plan, M, VT_TARGET_FILE, SYSCTL, NULL, text, VT_WHEN_BOOT, why_swappiness);
        free(text);
        return r;
}

static bool offered(json_object *modes, const char *mode)
{
        for (size_t i = 0; i < json_object_array_length(modes); i++)
                if (streq_ptr(json_object_get_string(json_object_array_get_idx(modes, i)), mode))
                        return true;
        return false;
}

/* transparent_hugepage= on the command line, and the runtime attribute when there is one. */
static int plan_thp(struct vt_ctx *ctx, json_object *facts, json_object *o, struct vt_plan *plan)
{
        const char *mode = vt_policy_get(ctx->policy, M, "thp");
        if (!mode || streq(mode, "auto"))
                return 0;
        json_object *modes = vt_json_get(o, "thp_modes");
        if (!modes && ctx->live) {
                vt_plan_warn(plan, M,
                             "thp = %s, but this kernel has no transparent huge pages (%s is "
                             "missing; THP is not available under Xen)",
                             mode, THP);
                return 0;
        }
        if (modes && !offered(modes, mode)) {
                vt_plan_warn(plan, M, "thp = %s, but %s does not offer it", mode, THP);
                return 0;
        }
        _cleanup_free_ char *token = NULL;
        if (asprintf(&token, "transparent_hugepage=%s", mode) < 0)
                return -ENOMEM;
        int r = vt_plan_cmdline(plan, facts, M, "transparent_hugepage", token, why_thp);
        if (r < 0 || !modes)
                return r;
        return vt_plan_add(plan, M, VT_TARGET_ATTR, THP, vt_json_str(o, "thp"), mode, VT_WHEN_NOW,
                           why_thp);
}

static int memory_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        json_object *o = vt_json_get(facts, M);
        int r = plan_swappiness(ctx, o, plan);
        return r < 0 ? r : plan_thp(ctx, facts, o, plan);
}

static const char *const thp_modes[] = {"auto", "always", "madvise", "never", NULL};

static const struct vt_policy_key policy[] = {
        {.section = M,
         .key = "swappiness",
         .type = VT_POL_AUTO_UINT,
         .def = "auto",
         .min = 0,
         .max = 100,
         .help = "vm.swappiness, at runtime and in /etc/sysctl.d; auto leaves it alone"},
        VT_POLICY_KEY(M, "thp", VT_POL_CHOICE, "auto", thp_modes,
                      "transparent huge pages, on the command line and at runtime; auto leaves "
                      "them alone"),
        {},
};

const struct vt_module vt_module_memory = {
        .name = M, .detect = memory_detect, .plan = memory_plan, .policy = policy};
