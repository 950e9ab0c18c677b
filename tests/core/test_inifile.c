/* The one INI reader: the policy, unit files and qemu-ga's config all read through it. */
#include "../lib/testlib.h"
#include "inifile.h"

static void test_ini_next_returns_only_the_asked_section_trimmed(void **state)
{
        char text[] = "A=0\n"
                      "[Unit]\n"
                      "B=1\n"
                      "  [Service]  \n"
                      "  ExecStart =  /bin/x -a \t\r\n"
                      "# C=2\n"
                      "; D=3\n"
                      "no equals here\n"
                      "\n"
                      "Empty=\n"
                      "[Install]\n"
                      "E=4\n"
                      "[Service]\n"
                      "F=a=b";
        struct vt_ini it = vt_ini_start(text);
        char *k, *v;
        assert_true(vt_ini_next(&it, "[Service]", &k, &v));
        assert_string_equal(k, "ExecStart");
        assert_string_equal(v, "/bin/x -a");
        assert_true(vt_ini_next(&it, "[Service]", &k, &v));
        assert_string_equal(k, "Empty");
        assert_string_equal(v, "");
        assert_true(vt_ini_next(&it, "[Service]", &k, &v));
        assert_string_equal(k, "F");
        assert_string_equal(v, "a=b");
        assert_false(vt_ini_next(&it, "[Service]", &k, &v));
        assert_false(vt_ini_next(&it, "[Service]", &k, &v));
}

static void test_ini_step_gives_every_item_with_its_line(void **state)
{
        char text[] = "# virtune.conf\r\n"
                      "\n"
                      "[ haltpoll ]\n"
                      "enable = yes\r\n"
                      "  ; comment\n"
                      "[bad\n"
                      "[x] junk\n"
                      "word\n"
                      "k=\n"
                      " =v";
        struct vt_ini it = vt_ini_start(text);
        char *k = NULL, *v = NULL;
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_SECTION);
        assert_int_equal(it.line, 3);
        assert_string_equal(k, "haltpoll");
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_KEY);
        assert_int_equal(it.line, 4);
        assert_string_equal(k, "enable");
        assert_string_equal(v, "yes");
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_BAD_SECTION);
        assert_int_equal(it.line, 6);
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_BAD_SECTION);
        assert_int_equal(it.line, 7);
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_BAD_LINE);
        assert_int_equal(it.line, 8);
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_KEY);
        assert_string_equal(k, "k");
        assert_string_equal(v, "");
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_KEY);
        assert_int_equal(it.line, 10);
        assert_string_equal(k, "");
        assert_string_equal(v, "v");
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_END);
        assert_int_equal(vt_ini_step(&it, &k, &v), VT_INI_END);
}

static void test_ini_next_leaves_the_section_at_a_bad_header(void **state)
{
        char text[] = "[general]\na=1\n[general] trailing\nb=2\n[general]\nc=3\n";
        struct vt_ini it = vt_ini_start(text);
        char *k, *v;
        assert_true(vt_ini_next(&it, "[general]", &k, &v));
        assert_string_equal(k, "a");
        assert_true(vt_ini_next(&it, "[general]", &k, &v));
        assert_string_equal(k, "c");
        assert_int_equal(it.line, 6);
        assert_false(vt_ini_next(&it, "[general]", &k, &v));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ini_next_returns_only_the_asked_section_trimmed),
                cmocka_unit_test(test_ini_step_gives_every_item_with_its_line),
                cmocka_unit_test(test_ini_next_leaves_the_section_at_a_bad_header),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
