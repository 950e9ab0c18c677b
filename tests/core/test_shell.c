/* The one shell-style lexer, per dialect: the same bytes read as sh, EnvironmentFile=, ExecStart=.
 */
#include "../lib/testlib.h"
#include "shell.h"

struct row {
        const char *text;
        const char *shell;   /* the word, or "!why" when refused */
        const char *envfile; /* the value to the line's end */
        const char *exec;    /* the first word */
};

static const struct row rows[] = {
        {"plain rest", "plain", "plain rest", "plain"},
        {"'a b'\"c d\" x", "a bc d", "a bc d x", "a bc d"},
        {"\"q\\\"\\$\\`\\\\\\n\" y", "q\"$`\\\\n", "q\"$`\\n y", "q\"$`\\\n"},
        {"a\\ b c", "a b", "a b c", "a b"},
        {"'\\n' x", "\\n", "\\n x", "\\n"},
        {"\\n\\t x", "nt", "nt x", "\n\t"},
        {"trail   \nnext", "trail", "trail", "trail"},
        {"a\\\nb", "!line continuation", "ab", "a\nb"},
        {"'open\nx'", "!unbalanced single quote", "open\nx", "open\nx"},
        {"\"open", "!unbalanced double quote", "open", "open"},
        {"a;b", "!a shell operator", "a;b", "a;b"},
        {"a\r\n", "!CRLF line end: the shell would read the \\r into the value", "a\r", "a\r"},
        {"$HOME x", "$HOME", "$HOME x", "$HOME"},
        {"", "", "", ""},
};

static char *read_word(const char *text, enum vt_shlex_dialect d, bool *quoted)
{
        struct vt_shlex lx = {.t = text, .len = strlen(text), .dialect = d};
        int r = vt_shlex_word(&lx);
        char *out;
        if (r == -EBADMSG)
                assert_true(asprintf(&out, "!%s", lx.why) > 0);
        else {
                assert_int_equal(r, 0);
                out = strdup(lx.word);
        }
        if (quoted)
                *quoted = lx.quoted;
        vt_shlex_done(&lx);
        return out;
}

static void test_shlex_reads_each_dialect(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
                const struct row *w = &rows[i];
                fprintf(stderr, "# %s\n", w->text);
                _cleanup_free_ char *sh = read_word(w->text, VT_SHLEX_SHELL, NULL);
                _cleanup_free_ char *env = read_word(w->text, VT_SHLEX_ENVFILE, NULL);
                _cleanup_free_ char *ex = read_word(w->text, VT_SHLEX_EXEC, NULL);
                assert_string_equal(sh, w->shell);
                assert_string_equal(env, w->envfile);
                assert_string_equal(ex, w->exec);
        }
}

static void test_shlex_says_when_a_word_was_quoted(void **state)
{
        bool quoted;
        free(read_word("plain", VT_SHLEX_EXEC, &quoted));
        assert_false(quoted);
        free(read_word("\"q\"", VT_SHLEX_EXEC, &quoted));
        assert_true(quoted);
        free(read_word("a\\tb", VT_SHLEX_EXEC, &quoted));
        assert_true(quoted);
}

/* Every value the quoter writes, the shell and EnvironmentFile= dialects read back whole. */
static void test_quote_reads_back_in_both_dialects(void **state)
{
        static const char *const values[] = {"",
                                             "x",
                                             "a b",
                                             "it's",
                                             "say \"hi\"",
                                             "$x `y` \\z",
                                             "a;b&c|d<e>f(g)",
                                             "tab\there",
                                             "#not a comment"};
        static const char styles[] = {0, '"', '\''};
        for (size_t i = 0; i < ARRAY_SIZE(values); i++)
                for (size_t k = 0; k < ARRAY_SIZE(styles); k++) {
                        _cleanup_free_ char *w = vt_shell_quote(values[i], styles[k]);
                        _cleanup_free_ char *sh = read_word(w, VT_SHLEX_SHELL, NULL);
                        _cleanup_free_ char *env = read_word(w, VT_SHLEX_ENVFILE, NULL);
                        assert_string_equal(sh, values[i]);
                        assert_string_equal(env, values[i]);
                }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shlex_reads_each_dialect),
                cmocka_unit_test(test_shlex_says_when_a_word_was_quoted),
                cmocka_unit_test(test_quote_reads_back_in_both_dialects),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
