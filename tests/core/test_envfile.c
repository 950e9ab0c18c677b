/* KEY=VALUE shell files: setting a value writes one shell word that readers take back whole. */
#include "../lib/testlib.h"
#include "envfile.h"
#include "strv.h"
#include "shvars.h"

/* text holds KEY= set to want, read the way systemd (vt_env_parse) and a shell (shvars) do. */
static void assert_reads_back(const char *text, const char *key, const char *want)
{
        _cleanup_strv_ char **env = NULL;
        assert_int_equal(vt_env_parse(text, &env), 0);
        assert_string_equal(vt_env_get(env, key), want);
        _cleanup_shvars_ struct vt_shvars *sh = NULL;
        size_t line = 0;
        const char *why = NULL;
        assert_int_equal(vt_shvars_parse(text, strlen(text), NULL, &sh, &line, &why), 0);
        bool known;
        assert_string_equal(vt_shvars_value(sh, key, &known), want);
        assert_true(known);
}

static void test_set_var_quotes_spaces_quotes_and_dollars(void **state)
{
        static const char *const values[] = {
                "-r /dev/hwrng",     "say \"hi\"", "it's",    "$HOME and ${PATH}",
                "back\\slash `cmd`", "",           "a;b|c&d", "plain",
        };
        for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
                _cleanup_free_ char *text =
                        vt_text_set_var("# comment\nOTHER=1\nKEY=old\n", "KEY", values[i], 0);
                assert_non_null(text);
                assert_reads_back(text, "KEY", values[i]);
                assert_reads_back(text, "OTHER", "1");
                _cleanup_free_ char *single = vt_text_set_var(NULL, "KEY", values[i], '\'');
                assert_reads_back(single, "KEY", values[i]);
        }
}

static void test_set_var_exact_text(void **state)
{
        _cleanup_free_ char *a = vt_text_set_var("A=1\nKEY=old\nB=2", "KEY", "x \"y\" $z", 0);
        assert_string_equal(a, "A=1\nKEY=\"x \\\"y\\\" \\$z\"\nB=2");
        _cleanup_free_ char *b = vt_text_set_var("A=1", "KEY", "plain", 0);
        assert_string_equal(b, "A=1\nKEY=plain\n");
        _cleanup_free_ char *c = vt_text_set_var(NULL, "RNGD_ARGS", "-r /dev/hwrng", 0);
        assert_string_equal(c, "RNGD_ARGS=\"-r /dev/hwrng\"\n");
        _cleanup_free_ char *d = vt_text_set_var("", "F", "--block-rpcs=guest-exec", '"');
        assert_string_equal(d, "F=\"--block-rpcs=guest-exec\"\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_var_quotes_spaces_quotes_and_dollars),
                cmocka_unit_test(test_set_var_exact_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
