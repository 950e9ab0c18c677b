/* The kernel command-line splitter: the kernel's own quoting rules and the "--" split. */
#include "../lib/testlib.h"
#include "cmdline_tokens.h"

static void parse(const char *s, json_object **tokens, json_object **init)
{
        assert_int_equal(vt_cmdline_tokens_parse(s, tokens, init), 0);
}

static void assert_token(json_object *tokens, size_t i, const char *key, const char *value)
{
        json_object *t = json_object_array_get_idx(tokens, i), *k, *v;
        assert_non_null(t);
        assert_true(json_object_object_get_ex(t, "key", &k));
        assert_true(json_object_object_get_ex(t, "value", &v));
        assert_string_equal(json_object_get_string(k), key);
        if (value)
                assert_string_equal(json_object_get_string(v), value);
        else
                assert_null(v);
}

static void test_cmdline_splits_keys_values_and_flags(void **state)
{
        json_object *t, *in;
        parse("  root=/dev/vda1 ro  quiet console=ttyS0,115200n8\n", &t, &in);
        assert_int_equal(json_object_array_length(t), 4);
        assert_token(t, 0, "root", "/dev/vda1");
        assert_token(t, 1, "ro", NULL);
        assert_token(t, 2, "quiet", NULL);
        assert_token(t, 3, "console", "ttyS0,115200n8");
        assert_int_equal(json_object_array_length(in), 0);
        json_object_put(t);
        json_object_put(in);
}

static void test_cmdline_quoted_value_keeps_spaces_and_drops_quotes(void **state)
{
        json_object *t, *in;
        parse("dyndbg=\"file foo.c +p\" \"weird key=x y\" a==b", &t, &in);
        assert_int_equal(json_object_array_length(t), 3);
        assert_token(t, 0, "dyndbg", "file foo.c +p");
        assert_token(t, 1, "weird key", "x y");
        assert_token(t, 2, "a", "=b");
        json_object_put(t);
        json_object_put(in);
}

static void test_cmdline_args_after_dashes_go_to_init(void **state)
{
        json_object *t, *in;
        parse("quiet -- --firecracker-init single x=\"1 2\"", &t, &in);
        assert_int_equal(json_object_array_length(t), 1);
        assert_int_equal(json_object_array_length(in), 3);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(in, 0)),
                            "--firecracker-init");
        assert_string_equal(json_object_get_string(json_object_array_get_idx(in, 2)), "x=1 2");
        json_object_put(t);
        json_object_put(in);
}

static void test_cmdline_lookup_treats_dash_as_underscore_and_last_wins(void **state)
{
        json_object *t, *in;
        const char *v = NULL;
        parse("cpuidle-haltpoll.force=N cpuidle_haltpoll.force=Y nopvspin", &t, &in);
        assert_true(vt_cmdline_tokens_get(t, "cpuidle_haltpoll.force", &v));
        assert_string_equal(v, "Y");
        assert_true(vt_cmdline_tokens_get(t, "nopvspin", &v));
        assert_null(v);
        assert_false(vt_cmdline_tokens_get(t, "idle", NULL));
        json_object_put(t);
        json_object_put(in);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmdline_splits_keys_values_and_flags),
                cmocka_unit_test(test_cmdline_quoted_value_keeps_spaces_and_drops_quotes),
                cmocka_unit_test(test_cmdline_args_after_dashes_go_to_init),
                cmocka_unit_test(test_cmdline_lookup_treats_dash_as_underscore_and_last_wins),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
