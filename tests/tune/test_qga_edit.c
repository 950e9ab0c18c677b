/* qemu-ga.conf edited in place: the one list line qemu-ga reads changes, every other byte stays. */
#include "qga.h"
#include "../lib/testlib.h"

static const char *const both[] = {"blacklist", "block-rpcs", NULL};
static const char *const current[] = {"block-rpcs", NULL};

static char *set(const char *text, const char *const *keys, unsigned *bad)
{
        char *out = NULL;
        unsigned line = 0;
        int r = vt_qga_config_set(text, keys, "block-rpcs", "guest-exec,guest-exec-status", &out,
                                  &line);
        if (bad)
                *bad = r == -EBADMSG ? line : 0;
        else
                assert_int_equal(r, 0);
        return out;
}

static void test_qga_edit_rewrites_last_duplicate_and_keeps_the_rest(void **state)
{
        (void)state;
        _cleanup_free_ char *got = set("# site\n[general]\nblock-rpcs=a\nverbose=1\n"
                                       "block-rpcs =  b;c   \n\n[other]\nblock-rpcs=z\n",
                                       current, NULL);
        assert_string_equal(got, "# site\n[general]\nblock-rpcs=a\nverbose=1\n"
                                 "block-rpcs =  guest-exec,guest-exec-status\n\n[other]\n"
                                 "block-rpcs=z\n");
}

static void test_qga_edit_prefers_the_old_key_qemu_ga_reads_first(void **state)
{
        (void)state;
        _cleanup_free_ char *got = set("[general]\nblock-rpcs=x\nblacklist=y\n", both, NULL);
        assert_string_equal(got,
                            "[general]\nblock-rpcs=x\nblacklist=guest-exec,guest-exec-status\n");
}

static void test_qga_edit_adds_general_when_missing(void **state)
{
        (void)state;
        _cleanup_free_ char *got = set("[other]\nblock-rpcs=z", current, NULL);
        assert_string_equal(got, "[other]\nblock-rpcs=z\n[general]\n"
                                 "block-rpcs=guest-exec,guest-exec-status\n");
        _cleanup_free_ char *empty = set("", current, NULL);
        assert_string_equal(empty, "[general]\nblock-rpcs=guest-exec,guest-exec-status\n");
        _cleanup_free_ char *last = set("[general]", current, NULL);
        assert_string_equal(last, "[general]\nblock-rpcs=guest-exec,guest-exec-status\n");
}

static void test_qga_edit_refuses_lines_it_cannot_parse(void **state)
{
        (void)state;
        unsigned bad = 0;
        assert_null(set("[general]\nverbose=1\n[broken\n", current, &bad));
        assert_int_equal(bad, 3);
        assert_null(set("# c\n = value\n", current, &bad));
        assert_int_equal(bad, 2);
        assert_null(set("[general]\njust words\n", current, &bad));
        assert_int_equal(bad, 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_qga_edit_rewrites_last_duplicate_and_keeps_the_rest),
                cmocka_unit_test(test_qga_edit_prefers_the_old_key_qemu_ga_reads_first),
                cmocka_unit_test(test_qga_edit_adds_general_when_missing),
                cmocka_unit_test(test_qga_edit_refuses_lines_it_cannot_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
