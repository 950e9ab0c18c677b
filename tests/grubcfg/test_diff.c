/* The unified diff virtune prints: hunk for hunk what GNU diff -u prints for the same files. */
#include "../lib/testlib.h"
#include "diff.h"

/* GNU diff -u of a and b (written under dir), its two header lines dropped. */
static char *gnu_diff(const char *dir, const char *a, const char *b)
{
        vt_test_write(dir, "a", a);
        vt_test_write(dir, "b", b);
        char *pa = NULL, *pb = NULL, *out = NULL;
        assert_true(asprintf(&pa, "%s/a", dir) > 0 && asprintf(&pb, "%s/b", dir) > 0);
        char *argv[] = {"diff", "-u", pa, pb, NULL};
        assert_int_equal(vt_test_run(argv, &out), 1);
        free(pa);
        free(pb);
        char *body = strchr(strchr(out, '\n') + 1, '\n') + 1;
        char *r = strdup(body);
        free(out);
        return r;
}

static void test_diff_matches_gnu_diff(void **state)
{
        static const struct {
                const char *a, *b;
        } cases[] = {
                {"1\n2\n3\n", "1\nx\n3\n"},
                {"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n",
                 "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nM\nn\n"},
                {"a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\nd\ne\nf\ng\n"},
                {"one\ntwo\n", "one\ntwo"},
                {"x\n", "x\ny\nz\n"},
                {"q\nw\ne\nr\nt\ny\n", "w\ne\nr\nt\n"},
                {"GRUB_A=1\nGRUB_CMDLINE_LINUX=\"\"\n# c\n",
                 "GRUB_A=1\nGRUB_CMDLINE_LINUX=\"x\"\n# c\n"},
        };
        char *dir = vt_test_mkdtemp();
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char *want = gnu_diff(dir, cases[i].a, cases[i].b);
                char *got = NULL;
                assert_int_equal(vt_diff_unified("/f", cases[i].a, strlen(cases[i].a), cases[i].b,
                                                 strlen(cases[i].b), &got),
                                 0);
                assert_non_null(got);
                const char *hdr = "--- a/f\n+++ b/f\n";
                assert_memory_equal(got, hdr, strlen(hdr));
                assert_string_equal(got + strlen(hdr), want);
                free(got);
                free(want);
        }
        vt_test_root_free(dir);
}

static void test_diff_of_equal_texts_is_empty_and_new_file_is_from_dev_null(void **state)
{
        char *d = NULL;
        assert_int_equal(vt_diff_unified("/f", "a\n", 2, "a\n", 2, &d), 0);
        assert_null(d);
        assert_int_equal(vt_diff_unified("/etc/x", NULL, 0, "a\n", 2, &d), 0);
        assert_string_equal(d, "--- /dev/null\n+++ b/etc/x\n@@ -0,0 +1 @@\n+a\n");
        assert_int_equal(vt_diff_unified("/etc/y", "b\n", 2, NULL, 0, &d), 0);
        assert_string_equal(d, "--- /dev/null\n+++ b/etc/x\n@@ -0,0 +1 @@\n+a\n"
                               "--- a/etc/y\n+++ /dev/null\n@@ -1 +0,0 @@\n-b\n");
        free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_diff_matches_gnu_diff),
                cmocka_unit_test(test_diff_of_equal_texts_is_empty_and_new_file_is_from_dev_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
