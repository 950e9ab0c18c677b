/* The parsers under the device/service detect modules: env files, unit ExecStart=, udev db,
 * dpkg status, qemu-ga's argv and config. */
#include "../lib/testlib.h"
#include "dpkg.h"
#include "envfile.h"
#include "qga.h"
#include "strv.h"
#include "udevdb.h"
#include "unitfile.h"

static void assert_strv(char **got, const char *const *want)
{
        size_t n = 0;
        while (want[n])
                n++;
        assert_int_equal(vt_strv_len(got), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(got[i], want[i]);
}

static void test_env_parse_quotes_comments_export_and_continuation(void **state)
{
        (void)state;
        _cleanup_strv_ char **env = NULL;
        assert_int_equal(vt_env_parse("# comment\n"
                                      "; another\n"
                                      "A=plain value  \n"
                                      "export B=\"double \\\"q\\\" # kept\"\n"
                                      "C='single $x \\n'\n"
                                      "D=one\\\ntwo\n"
                                      "not a line\n"
                                      "A=again\n",
                                      &env),
                         0);
        assert_string_equal(vt_env_get(env, "A"), "again");
        assert_string_equal(vt_env_get(env, "B"), "double \"q\" # kept");
        assert_string_equal(vt_env_get(env, "C"), "single $x \\n");
        assert_string_equal(vt_env_get(env, "D"), "onetwo");
        assert_null(vt_env_get(env, "not"));
        assert_int_equal(vt_strv_len(env), 4);
}

static void test_unit_split_drops_prefixes_and_honours_quotes(void **state)
{
        (void)state;
        _cleanup_strv_ char **argv = NULL;
        assert_int_equal(vt_unit_split("-/usr/sbin/qemu-ga -b \"guest-exec,guest-file-open\" "
                                       "'--statedir=/run/a b' x\\ y",
                                       NULL, &argv),
                         0);
        assert_strv(argv,
                    (const char *const[]){"/usr/sbin/qemu-ga", "-b", "guest-exec,guest-file-open",
                                          "--statedir=/run/a b", "x y", NULL});
}

static void test_unit_split_expands_word_and_inline_variables(void **state)
{
        (void)state;
        _cleanup_strv_ char **env = NULL, **argv = NULL;
        assert_int_equal(vt_env_set(&env, "ARGS", "--allow-rpcs=guest-ping  -v"), 0);
        assert_int_equal(vt_env_set(&env, "LIST", "guest-exec"), 0);
        assert_int_equal(vt_unit_split("/usr/bin/qemu-ga $ARGS --blacklist=${LIST} $UNSET "
                                       "-F${UNSET}x $$HOME",
                                       env, &argv),
                         0);
        assert_strv(argv, (const char *const[]){"/usr/bin/qemu-ga", "--allow-rpcs=guest-ping", "-v",
                                                "--blacklist=guest-exec", "-Fx", "$HOME", NULL});
}

static void test_unit_split_at_prefix_makes_second_word_argv0(void **state)
{
        (void)state;
        _cleanup_strv_ char **argv = NULL;
        assert_int_equal(vt_unit_split("@/usr/sbin/qemu-ga qga -a guest-ping", NULL, &argv), 0);
        assert_strv(argv, (const char *const[]){"qga", "-a", "guest-ping", NULL});
}

static void test_udevdb_reads_only_properties(void **state)
{
        (void)state;
        _cleanup_strv_ char **props = NULL;
        assert_int_equal(vt_udevdb_parse("S:disk/by-id/virtio-abc\n"
                                         "I:1234567\n"
                                         "E:ID_SERIAL=abc=def\n"
                                         "E:ID_WWN=0x5000c500a1b2c3d4\n"
                                         "G:systemd\n"
                                         "E:=broken\n",
                                         &props),
                         0);
        assert_string_equal(vt_env_get(props, "ID_SERIAL"), "abc=def");
        assert_string_equal(vt_env_get(props, "ID_WWN"), "0x5000c500a1b2c3d4");
        assert_int_equal(vt_strv_len(props), 2);
}

static void test_dpkg_finds_installed_not_config_files(void **state)
{
        (void)state;
        const char *status = "Package: rng-tools5\n"
                             "Status: deinstall ok config-files\n"
                             "Version: 5-4\n"
                             "\n"
                             "Package: rng-tools-debian\n"
                             "Status: install ok installed\n"
                             "Priority: optional\n"
                             "Version: 2.4\n"
                             "Description: x\n"
                             " Package: qemu-guest-agent\n";
        _cleanup_free_ char *v = NULL;
        assert_int_equal(vt_dpkg_find(status, "rng-tools-debian", &v), 1);
        assert_string_equal(v, "2.4");
        assert_int_equal(vt_dpkg_find(status, "rng-tools5", NULL), 0);
        assert_int_equal(vt_dpkg_find(status, "rng-tools", NULL), 0);
        /* A name inside a description is not a stanza. */
        assert_int_equal(vt_dpkg_find(status, "qemu-guest-agent", NULL), 0);
}

static void test_qga_argv_lists_accumulate_in_every_spelling(void **state)
{
        (void)state;
        _cleanup_(vt_qga_lists_free) struct vt_qga_lists l = {};
        char *argv[] = {"qemu-ga",
                        "-b",
                        "guest-exec",
                        "-bguest-file-open,guest-exec",
                        "--block-rpcs=guest-shutdown",
                        "--blacklist",
                        "guest-set-time",
                        "-a",
                        "guest-ping",
                        "--allow-rpcs=guest-info",
                        "-c",
                        "/etc/qga.conf",
                        NULL};
        assert_int_equal(vt_qga_parse_argv(argv, &l), 0);
        assert_strv(l.block, (const char *const[]){"guest-exec", "guest-file-open",
                                                   "guest-shutdown", "guest-set-time", NULL});
        assert_strv(l.allow, (const char *const[]){"guest-ping", "guest-info", NULL});
        assert_string_equal(l.config, "/etc/qga.conf");
        assert_true(l.from_argv);
}

static void test_qga_config_reads_general_lists(void **state)
{
        (void)state;
        _cleanup_(vt_qga_lists_free) struct vt_qga_lists l = {};
        assert_int_equal(vt_qga_parse_config("[other]\n"
                                             "block-rpcs=nope\n"
                                             "[general]\n"
                                             "# comment\n"
                                             "daemon=false\n"
                                             "block-rpcs = guest-exec;guest-exec-status;\n"
                                             "allow-rpcs=guest-ping\n",
                                             &l),
                         0);
        assert_strv(l.block, (const char *const[]){"guest-exec", "guest-exec-status", NULL});
        assert_strv(l.allow, (const char *const[]){"guest-ping", NULL});
        assert_true(l.from_config);
        assert_false(l.from_argv);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_env_parse_quotes_comments_export_and_continuation),
                cmocka_unit_test(test_unit_split_drops_prefixes_and_honours_quotes),
                cmocka_unit_test(test_unit_split_expands_word_and_inline_variables),
                cmocka_unit_test(test_unit_split_at_prefix_makes_second_word_argv0),
                cmocka_unit_test(test_udevdb_reads_only_properties),
                cmocka_unit_test(test_dpkg_finds_installed_not_config_files),
                cmocka_unit_test(test_qga_argv_lists_accumulate_in_every_spelling),
                cmocka_unit_test(test_qga_config_reads_general_lists),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
