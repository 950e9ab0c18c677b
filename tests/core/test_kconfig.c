/* Kernel config lookups: the line that names an option, set or "is not set", and its number. */
#include "../lib/testlib.h"
#include "kconfig.h"

static const char CONFIG[] = "#\n"
                             "# Automatically generated file; DO NOT EDIT.\n"
                             "CONFIG_HALTPOLL_CPUIDLE_EXTRA=y\n"
                             "# CONFIG_PARAVIRT_SPINLOCKS is not set\n"
                             "X_CONFIG_KVM_GUEST=y\n"
                             "CONFIG_VIRTIO_BLK=m\n"
                             "# see CONFIG_KVM_GUEST below\n"
                             "CONFIG_KVM_GUEST=n\n"
                             "CONFIG_KVM_GUEST=y\n"
                             "CONFIG_HALTPOLL_CPUIDLE";

static void lookup(const char *key, const char *value, unsigned line, const char *text)
{
        _cleanup_free_ char *root = vt_test_mkdtemp();
        vt_test_write(root, "boot/config-6.1.0-test", CONFIG);
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        struct vt_kconfig_hit hit;
        assert_int_equal(vt_kconfig_get(ctx, "6.1.0-test", key, &hit), 0);
        assert_string_equal(hit.value, value);
        assert_int_equal(hit.line, line);
        assert_string_equal(hit.text, text);
        assert_string_equal(hit.source, "/boot/config-6.1.0-test");
        vt_test_rm_rf(root);
}

static void test_set_option_and_its_line(void **state)
{
        (void)state;
        lookup("CONFIG_VIRTIO_BLK", "m", 6, "CONFIG_VIRTIO_BLK=m");
}

static void test_not_set_is_n(void **state)
{
        (void)state;
        lookup("CONFIG_PARAVIRT_SPINLOCKS", "n", 4, "# CONFIG_PARAVIRT_SPINLOCKS is not set");
}

static void test_last_line_wins_and_mentions_do_not_count(void **state)
{
        (void)state;
        lookup("CONFIG_KVM_GUEST", "y", 9, "CONFIG_KVM_GUEST=y");
}

static void test_longer_option_and_unterminated_last_line_are_not_the_key(void **state)
{
        (void)state;
        lookup("CONFIG_HALTPOLL_CPUIDLE", "n", 0, "");
}

/* A hostile image's config that names the key on every line: one pass, bounded lines. */
static void test_many_hits_are_counted_in_one_pass_and_bounded(void **state)
{
        (void)state;
        static const char line[] = "CONFIG_KVM_GUEST=y\n";
        for (unsigned lines = 150000; lines <= 250000; lines += 100000) {
                size_t len = lines * (sizeof(line) - 1);
                _cleanup_free_ char *text = malloc(len + 1);
                assert_non_null(text);
                for (unsigned i = 0; i < lines; i++)
                        memcpy(text + i * (sizeof(line) - 1), line, sizeof(line) - 1);
                text[len] = '\0';
                _cleanup_free_ char *root = vt_test_mkdtemp();
                vt_test_write(root, "boot/config-6.1.0-test", text);
                _cleanup_ctx_ struct vt_ctx *ctx = NULL;
                assert_int_equal(vt_ctx_new(root, &ctx), 0);
                struct vt_kconfig_hit hit;
                int r = vt_kconfig_get(ctx, "6.1.0-test", "CONFIG_KVM_GUEST", &hit);
                if (lines <= 200000) {
                        assert_int_equal(r, 0);
                        assert_int_equal(hit.line, lines);
                } else
                        assert_int_equal(r, -EFBIG);
                vt_test_rm_rf(root);
        }
}

static void test_no_config_is_enoent(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_mkdtemp();
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        struct vt_kconfig_hit hit;
        assert_int_equal(vt_kconfig_get(ctx, "6.1.0-test", "CONFIG_KVM_GUEST", &hit), -ENOENT);
        assert_null(hit.value);
        vt_test_rm_rf(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_option_and_its_line),
                cmocka_unit_test(test_not_set_is_n),
                cmocka_unit_test(test_last_line_wins_and_mentions_do_not_count),
                cmocka_unit_test(test_longer_option_and_unterminated_last_line_are_not_the_key),
                cmocka_unit_test(test_many_hits_are_counted_in_one_pass_and_bounded),
                cmocka_unit_test(test_no_config_is_enoent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
