/* Detects which command-line tokens virtune may plan the target kernel understands, and the
 * evidence (file and line) for each: a plan adds a token only with its evidence. */
#include <limits.h>
#include "facts.h"
#include "kconfig.h"
#include "kmodinfo.h"
#include "module.h"
#include "owned.h"
#include "strv.h"

/*
 * One row per token key a plan half may add. Evidence is, in order: the module parameter
 * (module, param) in the kernel's modinfo or /sys/module; else, for a key that exists only in
 * one family of kernels, a release of that family on that architecture, with the config option
 * set. A mainline version floor (since) applies to a config-only key.
 */
static const struct token_rule {
        const char *key;
        const char *module, *param;
        const char *arch;
        const char *family, *family_name, *family_source;
        const char *config;
        /* the driver itself, whose parameter the key is, is evidence on its own: listed in
         * modules.builtin / modules.dep, or its CONFIG_ set (y or m) */
        bool driver;
        const char *driver_config;
        unsigned since_major, since_minor;
        const char *would;
} token_rules[] = {
        {
                .key = "cpuidle_haltpoll.force",
                .module = "cpuidle_haltpoll",
                .param = "force",
                .driver = true, /* force is the mainline driver's parameter since it exists */
                .driver_config = "CONFIG_HALTPOLL_CPUIDLE",
                .would =
                        "a kernel with the cpuidle-haltpoll driver: mainline builds it for x86 KVM "
                        "guests only (CONFIG_HALTPOLL_CPUIDLE: depends on X86 && KVM_GUEST), "
                        "openEuler's kernels on AArch64 too",
        },
        {
                .key = "haltpoll.enable",
                .module = "haltpoll",
                .param = "enable",
                .arch = "aarch64",
                .family = ".oe",
                .family_name = "openEuler",
                .family_source = "openEuler best practices, Guest-Idle-Haltpoll (AArch64: "
                                 "cpuidle_haltpoll.force=Y haltpoll.enable=Y)",
                .would = "openEuler's AArch64 kernel; mainline has no haltpoll.enable",
        },
        {
                .key = "arm_pvspin",
                .arch = "aarch64",
                .family = ".oe",
                .family_name = "openEuler",
                .family_source =
                        "openEuler best practices, PV-qspinlock (openEuler 20.09 or later, "
                        "CONFIG_PARAVIRT_SPINLOCKS=y)",
                .config = "CONFIG_PARAVIRT_SPINLOCKS",
                .would = "openEuler's AArch64 kernel built with CONFIG_PARAVIRT_SPINLOCKS=y; "
                         "mainline has no arm_pvspin",
        },
        {
                .key = "nopvspin",
                .arch = "x86_64",
                .config = "CONFIG_PARAVIRT_SPINLOCKS",
                .since_major = 5,
                .since_minor = 9,
                .would = "an x86 kernel 5.9 or later built with CONFIG_PARAVIRT_SPINLOCKS=y",
        },
        {
                .key = "transparent_hugepage", /* the memory concern's thp */
                .config = "CONFIG_TRANSPARENT_HUGEPAGE",
                .since_major = 2,
                .since_minor = 6,
                .would = "a kernel built with CONFIG_TRANSPARENT_HUGEPAGE=y",
        },
};

static bool release_at_least(const char *release, unsigned major, unsigned minor)
{
        unsigned a, b;
        if (!release || sscanf(release, "%u.%u", &a, &b) != 2)
                return false;
        return a > major || (a == major && b >= minor);
}

/* Fills evidence (or, in why, what is missing) for one rule. */
static void rule_evidence(struct vt_ctx *ctx, const struct token_rule *t, const char *release,
                          const char *arch, char *ev, size_t evlen, char *why, size_t whylen)
{
        const char *rel = release ? release : "(release unknown)";
        *ev = *why = '\0';
        if (t->arch && !streq_ptr(arch, t->arch)) {
                snprintf(why, whylen, "it exists on %s kernels only, kernel %s is %s", t->arch, rel,
                         arch ? arch : "of unknown architecture");
                return;
        }
        struct vt_kparam_hit p;
        if (t->module && vt_kparam_find(ctx, release, t->module, t->param, &p) > 0) {
                if (p.line)
                        snprintf(ev, evlen, "%s:%u: %s", p.source, p.line, p.text);
                else
                        snprintf(ev, evlen, "%s", p.source);
                return;
        }
        if (t->driver && vt_kmod_listing(ctx, release, t->module, &p) > 0) {
                snprintf(ev, evlen, "%s:%u: %s (the %s driver; %s is its parameter)", p.source,
                         p.line, p.text, t->module, t->param);
                return;
        }
        if (t->driver_config) {
                struct vt_kconfig_hit c;
                if (vt_kconfig_get(ctx, release, t->driver_config, &c) >= 0 && c.line &&
                    !streq(c.value, "n")) {
                        snprintf(ev, evlen, "%s:%u: %s", c.source, c.line, c.text);
                        return;
                }
        }
        char conf[320] = "";
        if (t->config) {
                struct vt_kconfig_hit c;
                int r = vt_kconfig_get(ctx, release, t->config, &c);
                if (r < 0) {
                        snprintf(why, whylen, "no config of kernel %s shows %s=y", rel, t->config);
                        return;
                }
                if (!streq(c.value, "y")) {
                        snprintf(why, whylen, "%s=y is not set in %s", t->config, c.source);
                        return;
                }
                snprintf(conf, sizeof(conf), "%s:%u: %s", c.source, c.line, c.text);
        }
        if (t->family) {
                if (!release || !strstr(release, t->family)) {
                        if (t->module)
                                snprintf(why, whylen,
                                         "kernel %s is not %s's and has no %s.%s parameter", rel,
                                         t->family_name, t->module, t->param);
                        else
                                snprintf(why, whylen, "kernel %s is not %s's", rel, t->family_name);
                        return;
                }
                snprintf(ev, evlen, "kernel release %s: %s (%s)%s%s", release, t->family_name,
                         t->family_source, *conf ? "; " : "", conf);
                return;
        }
        if (t->since_major && !release_at_least(release, t->since_major, t->since_minor)) {
                snprintf(why, whylen, "kernel %s is older than %u.%u", rel, t->since_major,
                         t->since_minor);
                return;
        }
        if (*conf) {
                snprintf(ev, evlen, "%s", conf);
                return;
        }
        if (t->driver)
                snprintf(
                        why, whylen,
                        "kernel %s has no %s driver (modules.builtin, modules.dep, %s) nor a %s.%s "
                        "parameter (modinfo, /sys/module)",
                        rel, t->module, t->driver_config ? t->driver_config : "config", t->module,
                        t->param);
        else
                snprintf(why, whylen, "kernel %s has no %s.%s parameter (modinfo, /sys/module)",
                         rel, t->module, t->param);
}

int vt_kernel_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *k = vt_facts_module_new(facts, "kernel");
        json_object *virt = vt_json_get(facts, "virt");
        const char *release = vt_json_str(virt, "kernel_release"),
                   *arch = vt_json_str(virt, "arch");
        vt_json_add_str(k, "release", release);
        json_object *tokens = json_object_new_object();
        for (size_t i = 0; i < ARRAY_SIZE(token_rules); i++) {
                const struct token_rule *t = &token_rules[i];
                char ev[1024], why[512];
                rule_evidence(ctx, t, release, arch, ev, sizeof(ev), why, sizeof(why));
                json_object *o = json_object_new_object();
                vt_json_add_str(o, "evidence", *ev ? ev : NULL);
                vt_json_add_str(o, "missing", *ev ? NULL : why);
                json_object_object_add(o, "would", json_object_new_string(t->would));
                json_object_object_add(tokens, t->key, o);
        }
        json_object_object_add(k, "tokens", tokens);
        _cleanup_strv_ char **owned = NULL;
        int r = vt_owned_tokens_load(ctx, &owned);
        if (r < 0)
                vt_json_add_error(k, VT_OWNED_TOKENS_PATH, r);
        json_object_object_add(k, "owned", vt_strv_to_json(owned));
        /* kernel-install writes the boot entries of kernels installed later (BLS systems) */
        json_object_object_add(k, "kernel_install",
                               json_object_new_boolean(vt_exists(ctx, "/boot/loader/entries") ||
                                                       vt_exists(ctx, "/etc/kernel/install.d")));
        return 0;
}

/* Detect only: the plan halves read facts.kernel; vt_kernel_plan_future runs after them all. */
const struct vt_module vt_module_kernel = {
        .name = "kernel", .detect = vt_kernel_detect, .plan_input = true};
