/* The policy reader: values, defaults, later-wins, and file:line errors. */
#include "../lib/testlib.h"
#include "policy.h"

static void test_defaults_without_files(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        char err[VT_POLICY_ERR_MAX];
        struct vt_policy *p;
        assert_int_equal(vt_policy_load(ctx, &p, err, sizeof(err)), 0);
        assert_string_equal(vt_policy_get(p, "iosched", "virtio"), "none");
        assert_int_equal(vt_policy_get_tristate(p, "haltpoll", "enable"), -1);
        assert_int_equal(vt_policy_get_tristate(p, "channel", "allow-apply"), 0);
        assert_string_equal(vt_policy_origin(p, "iosched", "virtio"), "default");
        vt_policy_free(p);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

static void test_dropins_in_name_order_later_wins(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "etc/virtune/virtune.conf", "[haltpoll]\nenable = no\n");
        vt_test_write(root, "etc/virtune/virtune.conf.d/20-b.conf",
                      "# comment\n\n[haltpoll]\nenable = yes\n");
        vt_test_write(root, "etc/virtune/virtune.conf.d/10-a.conf", "[haltpoll]\nenable=auto\n");
        vt_test_write(root, "etc/virtune/virtune.conf.d/30-c.conf.disabled", "garbage\n");
        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        char err[VT_POLICY_ERR_MAX];
        struct vt_policy *p;
        assert_int_equal(vt_policy_load(ctx, &p, err, sizeof(err)), 0);
        assert_int_equal(vt_policy_get_tristate(p, "haltpoll", "enable"), 1);
        assert_string_equal(vt_policy_origin(p, "haltpoll", "enable"),
                            "/etc/virtune/virtune.conf.d/20-b.conf:4");
        vt_policy_free(p);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

static void expect_error(const char *text, const char *msg)
{
        struct vt_policy *p = vt_policy_new();
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_policy_parse(p, "t.conf", text, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, msg);
        vt_policy_free(p);
}

static void test_errors_name_file_and_line(void **state)
{
        (void)state;
        expect_error("[haltpoll]\nenabel = yes\n", "t.conf:2: unknown key 'enabel' in [haltpoll]");
        expect_error("\n\n[nope]\n", "t.conf:3: unknown section [nope]");
        expect_error("enable = yes\n", "t.conf:1: key 'enable' outside a section");
        expect_error("[haltpoll]\nenable = maybe\n",
                     "t.conf:2: haltpoll.enable = 'maybe': expected auto, yes or no");
        expect_error("[haltpoll]\nguest_halt_poll_ns = -5\n",
                     "t.conf:2: haltpoll.guest_halt_poll_ns = '-5': expected a non-negative "
                     "integer");
        expect_error("[haltpoll\n", "t.conf:1: bad section header");
        expect_error("[bootloader]\nreboot = always\n",
                     "t.conf:2: bootloader.reboot = 'always': not one of the allowed values");
        expect_error("[iosched]\njunk\n", "t.conf:2: expected key = value");
}

static void test_wildcard_keys(void **state)
{
        (void)state;
        struct vt_policy *p = vt_policy_new();
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_policy_parse(p, "t.conf", "[iosched]\ndevice.vda = mq-deadline\n", err,
                                         sizeof(err)),
                         0);
        assert_string_equal(vt_policy_get(p, "iosched", "device.vda"), "mq-deadline");
        assert_null(vt_policy_get(p, "iosched", "device.vdb"));
        vt_policy_free(p);
        expect_error("[iosched]\ndevice. = none\n", "t.conf:2: unknown key 'device.' in [iosched]");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_without_files),
                cmocka_unit_test(test_dropins_in_name_order_later_wins),
                cmocka_unit_test(test_errors_name_file_and_line),
                cmocka_unit_test(test_wildcard_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
