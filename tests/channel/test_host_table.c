/* virtune-host's tables for people: control characters never reach the terminal, cells are cut. */
#include <stdarg.h>
#include "../lib/testlib.h"
#include "host_table.h"

static char *render(int (*fn)(FILE *, json_object *), const char *json)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        json_object *doc = json_tokener_parse(json);
        assert_non_null(f);
        assert_non_null(doc);
        assert_int_equal(fn(f, doc), 0);
        fclose(f);
        json_object_put(doc);
        return buf;
}

static void test_table_escapes_control_characters_from_the_guest(void **state)
{
        char *out =
                render(vt_host_table_plan,
                       "{\"changes\":[{\"module\":\"x\\u001b[31m\",\"when\":\"now\","
                       "\"target\":\"/a\\nb\",\"from\":null,\"to\":\"1\",\"why\":\"\\u0007\"}]}");
        assert_null(strchr(out, '\x1b'));
        assert_null(strchr(out, '\a'));
        assert_non_null(strstr(out, "x?[31m  now   /a?b    -     1   ?\n"));
        free(out);
}

static void test_table_cuts_long_cells_and_counts_file_lines(void **state)
{
        char long_target[128];
        memset(long_target, 'a', 100);
        long_target[100] = '\0';
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"changes\":[{\"module\":\"m\",\"when\":\"next-boot\",\"target\":\"%s\","
                 "\"from\":\"one\\ntwo\\n\",\"to\":\"x\\n\",\"why\":\"w\"}],"
                 "\"warnings\":[\"careful\"]}",
                 long_target);
        char *out = render(vt_host_table_plan, json);
        char want[128];
        memset(want, 'a', 60);
        strcpy(want + 60, "~  (2 lines)  x?  w\n");
        assert_non_null(strstr(out, want));
        assert_non_null(strstr(out, "\nwarning: careful\n"));
        free(out);
}

static void test_table_columns_count_characters_not_bytes(void **state)
{
        char *out = render(vt_host_table_plan,
                           "{\"changes\":[{\"module\":\"m\\u00e9t\\u00e9os\",\"when\":\"now\","
                           "\"target\":\"/a\",\"from\":null,\"to\":\"1\",\"why\":\"w\"},"
                           "{\"module\":\"abcdef\",\"when\":\"now\",\"target\":\"/b\","
                           "\"from\":null,\"to\":\"2\",\"why\":\"w\"}]}");
        /* "m\u00e9t\u00e9os" is 6 characters in 8 bytes: both rows' next column starts alike */
        assert_non_null(strstr(out, "\nm\u00e9t\u00e9os  now   /a"));
        assert_non_null(strstr(out, "\nabcdef  now   /b"));
        free(out);
        char cell[1024] = "{\"changes\":[{\"module\":\"x\",\"when\":\"now\",\"target\":\"";
        for (int i = 0; i < 70; i++)
                strcat(cell, "\\u00e9");
        strcat(cell, "\",\"from\":null,\"to\":\"1\",\"why\":\"w\"}]}");
        out = render(vt_host_table_plan, cell);
        char want[200] = "";
        for (int i = 0; i < 60; i++)
                strcat(want, "\u00e9");
        strcat(want, "~  -");
        assert_non_null(strstr(out, want)); /* cut after 60 characters, not 60 bytes */
        free(out);
}

static void test_plan_without_changes_says_so(void **state)
{
        char *out = render(vt_host_table_plan, "{\"changes\":[],\"skipped\":[]}");
        assert_string_equal(out, "Nothing to change.\n");
        free(out);
}

static void test_status_table_summarises_then_lists_the_policy(void **state)
{
        char *out = render(vt_host_table_status,
                           "{\"drift\":2,\"pending_reboot\":[],\"reboot_needed\":false,"
                           "\"last_apply\":{\"time\":\"2026-12-01T10:00:00Z\",\"changes\":3},"
                           "\"last_reapply\":null,\"policy\":{\"tpm\":{\"pcrs\":\"sha256:0-9\"}},"
                           "\"policy_files\":[\"/etc/virtune/virtune.conf\"]}");
        assert_string_equal(out, "DRIFT  PENDING REBOOT  REBOOT NEEDED  LAST APPLY"
                                 "                        LAST REAPPLY\n"
                                 "2      0               no             2026-12-01T10:00:00Z (3 "
                                 "changes)  never\n"
                                 "\n"
                                 "SECTION  KEY   VALUE\n"
                                 "tpm      pcrs  sha256:0-9\n"
                                 "policy file: /etc/virtune/virtune.conf\n");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_escapes_control_characters_from_the_guest),
                cmocka_unit_test(test_table_cuts_long_cells_and_counts_file_lines),
                cmocka_unit_test(test_table_columns_count_characters_not_bytes),
                cmocka_unit_test(test_plan_without_changes_says_so),
                cmocka_unit_test(test_status_table_summarises_then_lists_the_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
