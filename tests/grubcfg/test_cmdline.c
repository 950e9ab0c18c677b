/* The kernel command line token model: round trip, set, remove, get, quotes, "--". */
#include "../lib/testlib.h"
#include "cmdline.h"

static struct vt_cmdline *parse(const char *s)
{
        struct vt_cmdline *cl = NULL;
        assert_int_equal(vt_cmdline_parse(s, strlen(s), &cl, NULL), 0);
        return cl;
}

static void assert_prints(struct vt_cmdline *cl, const char *want)
{
        char *s = vt_cmdline_print(cl);
        assert_string_equal(s, want);
        free(s);
}

static void test_cmdline_print_is_byte_identical_when_unchanged(void **state)
{
        static const char *lines[] = {
                "",
                "\n",
                ("BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-cloud-amd64 root=UUID=1 ro console=tty0 "
                 "console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0\n"),
                "  a\t\tb=\"x y\"   c=  \"d=e f\" -- init  args \"x\n",
                "quiet splash \r\n",
                "a=\"\" b=c\"d e\"f",
        };
        for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
                _cleanup_cmdline_ struct vt_cmdline *cl = parse(lines[i]);
                assert_prints(cl, lines[i]);
        }
}

static void test_cmdline_set_replaces_existing_value(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = parse("ro quiet cpuidle_haltpoll.force=N x\n");
        assert_int_equal(vt_cmdline_set(cl, "cpuidle_haltpoll.force", "Y"), 1);
        assert_prints(cl, "ro quiet cpuidle_haltpoll.force=Y x\n");
        assert_int_equal(vt_cmdline_set(cl, "cpuidle_haltpoll.force", "Y"), 0);
        assert_prints(cl, "ro quiet cpuidle_haltpoll.force=Y x\n");
}

static void test_cmdline_set_replaces_every_duplicate_and_dash_equals_underscore(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = parse(
                "a cpuidle-haltpoll.force=N b cpuidle_haltpoll.force c cpuidle_haltpoll.force=Y");
        assert_int_equal(vt_cmdline_set(cl, "cpuidle_haltpoll.force", "Y"), 1);
        assert_prints(cl, "a cpuidle_haltpoll.force=Y b c");
        const char *v;
        assert_int_equal(vt_cmdline_get(cl, "cpuidle-haltpoll.force", &v), 1);
        assert_string_equal(v, "Y");
}

static void test_cmdline_set_appends_before_init_separator(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = parse("root=/dev/vda1 ro -- single x=1");
        assert_int_equal(vt_cmdline_set(cl, "arm_pvspin", NULL), 1);
        assert_prints(cl, "root=/dev/vda1 ro arm_pvspin -- single x=1");
        /* tokens after "--" belong to init: not seen, not touched */
        assert_int_equal(vt_cmdline_get(cl, "x", NULL), -ENOENT);
        assert_int_equal(vt_cmdline_remove(cl, "single", NULL), 0);
}

static void test_cmdline_set_appends_keeping_line_end(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = parse("ro quiet\n");
        assert_int_equal(vt_cmdline_set(cl, "nopvspin", NULL), 1);
        assert_prints(cl, "ro quiet nopvspin\n");
        _cleanup_cmdline_ struct vt_cmdline *empty = parse("");
        assert_int_equal(vt_cmdline_set(empty, "a", "b c"), 1);
        assert_prints(empty, "a=\"b c\"");
        const char *v;
        assert_int_equal(vt_cmdline_get(empty, "a", &v), 1);
        assert_string_equal(v, "b c");
}

static void test_cmdline_set_flag_replaces_valued_and_back(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = parse("nopvspin=1 x");
        assert_int_equal(vt_cmdline_set(cl, "nopvspin", NULL), 1);
        assert_prints(cl, "nopvspin x");
        const char *v = "unset";
        assert_int_equal(vt_cmdline_get(cl, "nopvspin", &v), 1);
        assert_null(v);
        assert_int_equal(vt_cmdline_set(cl, "nopvspin", ""), 1);
        assert_prints(cl, "nopvspin= x");
}

static void test_cmdline_remove_key_and_key_value(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl =
                parse("console=tty0 quiet console=ttyS0,115200 splash console\n");
        assert_int_equal(vt_cmdline_remove(cl, "console", "tty0"), 1);
        assert_prints(cl, "quiet console=ttyS0,115200 splash console\n");
        assert_int_equal(vt_cmdline_remove(cl, "console", NULL), 2);
        assert_prints(cl, "quiet splash\n");
        assert_int_equal(vt_cmdline_remove(cl, "splash", NULL), 1);
        assert_prints(cl, "quiet\n");
        assert_int_equal(vt_cmdline_remove(cl, "quiet", NULL), 1);
        assert_prints(cl, "\n");
        assert_int_equal(vt_cmdline_remove(cl, "quiet", NULL), 0);
}

static void test_cmdline_quotes_follow_the_kernel(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl =
                parse("a=\"x y\" \"b=p q\" c=u\"v w\" d=\"\" e=\"k=v\"");
        const char *v;
        assert_int_equal(vt_cmdline_get(cl, "a", &v), 1);
        assert_string_equal(v, "x y");
        assert_int_equal(vt_cmdline_get(cl, "b", &v), 1);
        assert_string_equal(v, "p q");
        assert_int_equal(vt_cmdline_get(cl, "c", &v), 1);
        assert_string_equal(v, "u\"v w\"");
        assert_int_equal(vt_cmdline_get(cl, "d", &v), 1);
        assert_string_equal(v, "");
        assert_int_equal(vt_cmdline_get(cl, "e", &v), 1);
        assert_string_equal(v, "k=v");
        /* key=value inside a quoted value is not a key */
        assert_int_equal(vt_cmdline_get(cl, "k", &v), -ENOENT);
        assert_true(vt_cmdline_has(cl, "a", "x y"));
        assert_false(vt_cmdline_has(cl, "a", NULL));
        assert_int_equal(vt_cmdline_count(cl), 5);
}

static void assert_token(const struct vt_cmdline *cl, size_t i, const char *key, const char *value)
{
        const char *k, *v;
        vt_cmdline_token(cl, i, &k, &v);
        assert_string_equal(k, key);
        if (value)
                assert_string_equal(v, value);
        else
                assert_null(v);
}

static void test_cmdline_splits_keys_values_and_flags(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl =
                parse("  root=/dev/vda1 ro  quiet console=ttyS0,115200n8\n");
        assert_int_equal(vt_cmdline_count(cl), 4);
        assert_token(cl, 0, "root", "/dev/vda1");
        assert_token(cl, 1, "ro", NULL);
        assert_token(cl, 2, "quiet", NULL);
        assert_token(cl, 3, "console", "ttyS0,115200n8");
        assert_null(vt_cmdline_init(cl));
}

static void test_cmdline_quoted_token_and_key_split_like_the_kernel(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl =
                parse("dyndbg=\"file foo.c +p\" \"weird key=x y\" a==b =x \"p=\"q\"\"");
        assert_int_equal(vt_cmdline_count(cl), 5);
        assert_token(cl, 0, "dyndbg", "file foo.c +p");
        assert_token(cl, 1, "weird key", "x y");
        assert_token(cl, 2, "a", "=b");
        /* next_arg() does not see an '=' in the first byte */
        assert_token(cl, 3, "=x", NULL);
        /* a quoted token whose value is quoted loses one quote at each end, not two */
        assert_token(cl, 4, "p", "q\"");
}

static void test_cmdline_args_after_dashes_go_to_init(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl =
                parse("quiet -- --firecracker-init single x=\"1 2\"");
        assert_int_equal(vt_cmdline_count(cl), 1);
        assert_string_equal(vt_cmdline_init(cl), " --firecracker-init single x=\"1 2\"");
        _cleanup_cmdline_ struct vt_cmdline *init = parse(vt_cmdline_init(cl));
        assert_int_equal(vt_cmdline_count(init), 3);
        assert_token(init, 0, "--firecracker-init", NULL);
        assert_token(init, 2, "x", "1 2");
        /* a quoted "--" is the separator for the kernel too */
        _cleanup_cmdline_ struct vt_cmdline *q = parse("ro \"--\" x");
        assert_int_equal(vt_cmdline_count(q), 1);
        assert_string_equal(vt_cmdline_init(q), " x");
        assert_prints(q, "ro \"--\" x");
}

static void test_cmdline_get_treats_dash_as_underscore_and_last_wins(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl =
                parse("cpuidle-haltpoll.force=N cpuidle_haltpoll.force=Y nopvspin");
        const char *v = NULL;
        assert_int_equal(vt_cmdline_get(cl, "cpuidle_haltpoll.force", &v), 1);
        assert_string_equal(v, "Y");
        assert_int_equal(vt_cmdline_get(cl, "nopvspin", &v), 1);
        assert_null(v);
        assert_int_equal(vt_cmdline_get(cl, "idle", NULL), -ENOENT);
}

static void test_cmdline_kernel_reading_runs_unbalanced_quote_to_the_end(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = NULL;
        assert_int_equal(vt_cmdline_parse_kernel("ro a=\"x y -- z\n", &cl), 0);
        assert_int_equal(vt_cmdline_count(cl), 2);
        assert_token(cl, 1, "a", "x y -- z\n");
        assert_null(vt_cmdline_init(cl));
        assert_prints(cl, "ro a=\"x y -- z\n");
}

static void test_cmdline_unbalanced_quote_is_refused(void **state)
{
        struct vt_cmdline *cl = NULL;
        size_t pos = 0;
        assert_int_equal(vt_cmdline_parse("ro a=\"x y", 9, &cl, &pos), -EINVAL);
        assert_int_equal(pos, 3);
        assert_null(cl);
        assert_int_equal(vt_cmdline_parse("a\0b", 3, &cl, &pos), -EINVAL);
}

static void test_cmdline_set_refuses_bad_key_or_value(void **state)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = parse("ro");
        assert_int_equal(vt_cmdline_set(cl, "a b", NULL), -EINVAL);
        assert_int_equal(vt_cmdline_set(cl, "a=b", NULL), -EINVAL);
        assert_int_equal(vt_cmdline_set(cl, "--", NULL), -EINVAL);
        assert_int_equal(vt_cmdline_set(cl, "", NULL), -EINVAL);
        assert_int_equal(vt_cmdline_set(cl, "a", "x\"y"), -EINVAL);
        assert_prints(cl, "ro");
}

static void test_cmdline_long_line_round_trips(void **state)
{
        size_t n = 64 * 1024;
        char *s = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
                s[i] = i % 8 == 7 ? ' ' : 'a' + i % 7;
        s[n] = 0;
        _cleanup_cmdline_ struct vt_cmdline *cl = parse(s);
        assert_int_equal(vt_cmdline_count(cl), n / 8);
        assert_prints(cl, s);
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmdline_print_is_byte_identical_when_unchanged),
                cmocka_unit_test(test_cmdline_set_replaces_existing_value),
                cmocka_unit_test(
                        test_cmdline_set_replaces_every_duplicate_and_dash_equals_underscore),
                cmocka_unit_test(test_cmdline_set_appends_before_init_separator),
                cmocka_unit_test(test_cmdline_set_appends_keeping_line_end),
                cmocka_unit_test(test_cmdline_set_flag_replaces_valued_and_back),
                cmocka_unit_test(test_cmdline_remove_key_and_key_value),
                cmocka_unit_test(test_cmdline_quotes_follow_the_kernel),
                cmocka_unit_test(test_cmdline_splits_keys_values_and_flags),
                cmocka_unit_test(test_cmdline_quoted_token_and_key_split_like_the_kernel),
                cmocka_unit_test(test_cmdline_args_after_dashes_go_to_init),
                cmocka_unit_test(test_cmdline_get_treats_dash_as_underscore_and_last_wins),
                cmocka_unit_test(test_cmdline_kernel_reading_runs_unbalanced_quote_to_the_end),
                cmocka_unit_test(test_cmdline_unbalanced_quote_is_refused),
                cmocka_unit_test(test_cmdline_set_refuses_bad_key_or_value),
                cmocka_unit_test(test_cmdline_long_line_round_trips),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
