/* The haltpoll verdict: each reason the kernel's cpuidle-haltpoll init would give, on edited copies
 * of kvm-buildhost. */
#include "../lib/testlib.h"
#include "ctx.h"
#include "module.h"
#include "vt_cpuid.h"

struct tree {
        char *root, *cpuid;
};

static int setup(void **state)
{
        struct tree *t = calloc(1, sizeof(*t));
        char *fx = vt_test_fixture("kvm-buildhost");
        char *src;
        assert_true(asprintf(&src, "%s/root", fx) > 0);
        assert_true(asprintf(&t->cpuid, "%s/cpuid", fx) > 0);
        t->root = vt_test_copy_tree(src);
        /* as if the driver had not registered: the other driver is what remains */
        vt_test_write(t->root, "sys/devices/system/cpu/cpuidle/current_driver", "none\n");
        free(src);
        free(fx);
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct tree *t = *state;
        vt_test_root_free(t->root);
        free(t->cpuid);
        free(t);
        return 0;
}

/* Runs detect (virt first, for the command line and KVM facts) and returns haltpoll.reason. */
static char *reason(struct tree *t, bool with_cpuid)
{
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(t->root, &ctx), 0);
        if (with_cpuid)
                assert_int_equal(vt_cpuid_new_file(t->cpuid, &ctx->cpuid), 0);
        _cleanup_json_ json_object *facts = json_object_new_object();
        assert_int_equal(vt_virt_detect(ctx, facts), 0);
        assert_int_equal(vt_haltpoll_detect(ctx, facts), 0);
        json_object *c, *h, *active, *r;
        assert_true(json_object_object_get_ex(facts, "haltpoll", &c));
        assert_true(json_object_object_get_ex(c, "haltpoll", &h));
        assert_true(json_object_object_get_ex(h, "active", &active));
        assert_true(json_object_object_get_ex(h, "reason", &r));
        if (json_object_get_boolean(active))
                return strdup("active");
        return strdup(json_object_get_string(r));
}

static void expect(struct tree *t, bool with_cpuid, const char *want)
{
        char *got = reason(t, with_cpuid);
        assert_string_equal(got, want);
        free(got);
}

static const char *cmdline_noforce = "console=ttyS0 quiet\n";

static void test_haltpoll_active_when_current_driver_is_haltpoll(void **state)
{
        struct tree *t = *state;
        vt_test_write(t->root, "sys/devices/system/cpu/cpuidle/current_driver", "haltpoll\n");
        expect(t, true, "active");
}

static void test_haltpoll_idle_override_wins(void **state)
{
        struct tree *t = *state;
        vt_test_write(t->root, "proc/cmdline", "idle=poll cpuidle_haltpoll.force=1\n");
        expect(t, true, "idle-override");
}

static void test_haltpoll_needs_kvm_para(void **state)
{
        expect(*state, false, "no-kvm-para");
}

static void test_haltpoll_needs_hint_or_force(void **state)
{
        struct tree *t = *state;
        vt_test_write(t->root, "proc/cmdline", cmdline_noforce);
        vt_test_write(t->root, "sys/module/cpuidle_haltpoll/parameters/force", "N\n");
        expect(t, true, "no-hint-no-force");
}

static void test_haltpoll_force_from_cmdline_then_governor_missing(void **state)
{
        struct tree *t = *state;
        char *p;
        assert_true(asprintf(&p, "%s/sys/module/cpuidle_haltpoll/parameters/force", t->root) > 0);
        assert_int_equal(unlink(p), 0);
        free(p);
        vt_test_write(t->root, "sys/devices/system/cpu/cpuidle/available_governors", "menu\n");
        expect(t, true, "governor-missing");
}

static void test_haltpoll_module_states(void **state)
{
        struct tree *t = *state;
        vt_test_rm_rf(t->root); /* rebuild: no /sys/module/cpuidle_haltpoll at all */
        vt_test_write(t->root, "proc/cmdline", "cpuidle_haltpoll.force=1\n");
        vt_test_write(t->root, "proc/sys/kernel/osrelease", "6.1.0-test\n");
        vt_test_write(t->root, "sys/devices/system/cpu/cpuidle/current_driver", "none\n");
        expect(t, true, "module-absent");
        vt_test_write(t->root, "lib/modules/6.1.0-test/modules.dep",
                      "kernel/drivers/cpuidle/cpuidle-haltpoll.ko.xz:\n");
        expect(t, true, "module-not-loaded");
        vt_test_write(t->root, "sys/module/cpuidle_haltpoll/initstate", "live\n");
        expect(t, true, "governor-missing");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        test_haltpoll_active_when_current_driver_is_haltpoll, setup, teardown),
                cmocka_unit_test_setup_teardown(test_haltpoll_idle_override_wins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_haltpoll_needs_kvm_para, setup, teardown),
                cmocka_unit_test_setup_teardown(test_haltpoll_needs_hint_or_force, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_haltpoll_force_from_cmdline_then_governor_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_haltpoll_module_states, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
