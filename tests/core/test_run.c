/* Running a program for its output: the text, the bound, a program that is not there. */
#include "../lib/testlib.h"
#include "run.h"

static void test_run_output_returns_what_the_program_printed(void **state)
{
        _cleanup_free_ char *out = NULL;
        assert_int_equal(vt_run_output("/bin/echo", "hello world", 100, &out), 0);
        assert_string_equal(out, "hello world\n");
}

static void test_run_output_keeps_at_most_max_bytes(void **state)
{
        _cleanup_free_ char *out = NULL;
        assert_int_equal(vt_run_output("/bin/echo", "hello world", 5, &out), 0);
        assert_string_equal(out, "hello");
}

static void test_run_output_ignores_stderr_and_exit_status(void **state)
{
        _cleanup_free_ char *out = NULL;
        assert_int_equal(vt_run_output("/bin/ls", "/nonexistent-virtune-test", 100, &out), 0);
        assert_string_equal(out, "");
}

static void test_run_output_missing_program_is_enoent(void **state)
{
        char *out = NULL;
        assert_int_equal(vt_run_output("/nonexistent/program", "x", 100, &out), -ENOENT);
        assert_null(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_run_output_returns_what_the_program_printed),
                cmocka_unit_test(test_run_output_keeps_at_most_max_bytes),
                cmocka_unit_test(test_run_output_ignores_stderr_and_exit_status),
                cmocka_unit_test(test_run_output_missing_program_is_enoent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
