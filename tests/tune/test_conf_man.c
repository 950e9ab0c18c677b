/* virtune.conf(5) documents every key of the policy schema, each in its own section. */
#include "policy.h"
#include "../lib/testlib.h"

static void test_man_page_lists_every_schema_key(void **state)
{
        (void)state;
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/man/virtune.conf.5", getenv("VT_SOURCE")) > 0);
        _cleanup_free_ char *man = vt_test_read("", path);
        assert_non_null(man);
        const struct vt_policy_key *k;
        for (size_t i = 0; (k = vt_policy_schema_at(i)); i++) {
                _cleanup_free_ char *sh = NULL, *tp = NULL;
                size_t kl = strcspn(k->key, "*");
                assert_true(asprintf(&sh, "\n.SH [%s]\n", k->section) > 0);
                assert_true(asprintf(&tp, "\n.BR %.*s", (int)kl, k->key) > 0);
                const char *sec = strstr(man, sh);
                if (!sec) {
                        fail_msg("virtune.conf.5 has no section [%s]", k->section);
                        return;
                }
                const char *next = strstr(sec + strlen(sh), "\n.SH ");
                const char *hit = strstr(sec, tp);
                if (!hit || (next && hit > next))
                        fail_msg("virtune.conf.5 does not document %s.%s in [%s]", k->section,
                                 k->key, k->section);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_man_page_lists_every_schema_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
