/* PV spinlock facts from a kernel log and config in a temp tree (offline: no klogctl). */
#include "../lib/testlib.h"
#include "ctx.h"
#include "module.h"

static json_object *detect(const char *root)
{
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        json_object *facts = json_object_new_object(), *p;
        assert_int_equal(vt_virt_detect(ctx, facts), 0);
        assert_int_equal(vt_pvspin_detect(ctx, facts), 0);
        assert_true(json_object_object_get_ex(facts, "pvspin", &p));
        json_object_get(p);
        json_object_put(facts);
        return p;
}

static const char *str(json_object *o, const char *key)
{
        json_object *v;
        assert_true(json_object_object_get_ex(o, key, &v));
        return json_object_get_string(v);
}

static void test_pvspin_disabled_by_nopvspin_with_config_unset(void **state)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "proc/sys/kernel/osrelease", "6.1.0-21-cloud-amd64\n");
        vt_test_write(root, "proc/cmdline", "root=/dev/vda1 nopvspin\n");
        vt_test_write(root, "var/log/kern.log",
                      "Nov 21 10:00:00 vm kernel: [    0.104000] kvm-guest: PV spinlocks enabled\n"
                      "Nov 21 10:05:00 vm kernel: [    0.105000] kvm-guest: PV spinlocks "
                      "disabled, forced by \"nopvspin\" parameter\n");
        vt_test_write(root, "boot/config-6.1.0-21-cloud-amd64",
                      "CONFIG_PARAVIRT=y\n# CONFIG_PARAVIRT_SPINLOCKS is not set\n");
        json_object *p = detect(root);
        assert_string_equal(str(p, "state"), "disabled");
        assert_string_equal(str(p, "source"), "/var/log/kern.log");
        assert_non_null(strstr(str(p, "evidence"), "forced by \"nopvspin\""));
        assert_string_equal(str(p, "config"), "n");
        assert_string_equal(str(p, "config_source"), "/boot/config-6.1.0-21-cloud-amd64");
        json_object *c, *b;
        assert_true(json_object_object_get_ex(p, "cmdline", &c));
        assert_true(json_object_object_get_ex(c, "nopvspin", &b));
        assert_true(json_object_get_boolean(b));
        json_object_put(p);
        vt_test_root_free(root);
}

static void test_pvspin_unknown_when_log_unreadable_and_error_listed(void **state)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "proc/cmdline", "quiet\n");
        /* a directory where the log should be: opens, cannot be read */
        vt_test_write(root, "var/log/dmesg/x", "x\n");
        json_object *facts = detect(root);
        assert_string_equal(str(facts, "state"), "unknown");
        assert_null(str(facts, "source"));
        assert_null(str(facts, "config"));
        json_object *errors;
        assert_true(json_object_object_get_ex(facts, "errors", &errors));
        assert_int_equal(json_object_array_length(errors), 1);
        assert_string_equal(str(json_object_array_get_idx(errors, 0), "path"), "/var/log/dmesg");
        json_object_put(facts);
        vt_test_root_free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pvspin_disabled_by_nopvspin_with_config_unset),
                cmocka_unit_test(test_pvspin_unknown_when_log_unreadable_and_error_listed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
