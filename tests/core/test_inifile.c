/* The INI-style section walker the unit-file and qemu-ga config readers share. */
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ini_next_returns_only_the_asked_section_trimmed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
