/* The shipped default policy: it parses, and its commented keys are exactly the schema defaults. */
#include <stdio.h>
#include <string.h>
#include "../lib/testlib.h"
#include "ctx.h"
#include "policy.h"

static char *shipped_conf(void)
{
        const char *build = getenv("VT_BUILD");
        assert_non_null(build);
        char *text = vt_test_read(build, "units/virtune.conf");
        assert_non_null(text);
        return text;
}

/* Loads the policy of a root holding /etc/virtune/virtune.conf = text, as `virtune --root` does. */
static json_object *load_policy(const char *text, char *err, size_t errlen, int *r)
{
        _cleanup_free_ char *root = vt_test_mkdtemp();
        vt_test_write(root, "etc/virtune/virtune.conf", text);
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        struct vt_policy *p = NULL;
        *r = vt_policy_load(ctx, &p, err, errlen);
        json_object *j = *r < 0 ? NULL : vt_policy_to_json(p);
        vt_policy_free(p);
        vt_test_rm_rf(root);
        return j;
}

/* "#key = value" lines become "key = value"; help lines ("# ...") stay comments. */
static char *uncomment_keys(const char *text)
{
        char *out = malloc(strlen(text) + 1), *o = out;
        assert_non_null(out);
        for (const char *s = text; *s;) {
                bool key = s[0] == '#' && s[1] != ' ' && s[1] != '\n' && s[1] != '\0';
                const char *eol = strchrnul(s, '\n');
                bool unset = key && eol[-1] == '=';
                if (key && !unset)
                        s++;
                size_t n = (size_t)(eol - s) + (*eol ? 1 : 0);
                memcpy(o, s, n);
                o += n;
                s += n;
        }
        *o = '\0';
        return out;
}

/* Loading `text` as virtune.conf gives exactly the schema defaults. */
static void assert_policy_is_defaults(const char *text)
{
        char err[VT_POLICY_ERR_MAX] = "";
        int r;
        _cleanup_json_ json_object *got = load_policy(text, err, sizeof(err), &r);
        assert_string_equal(err, "");
        assert_int_equal(r, 0);
        _cleanup_json_ json_object *want = vt_policy_to_json(NULL);
        assert_string_equal(json_object_to_json_string(got), json_object_to_json_string(want));
}

static void test_shipped_conf_parses_to_the_defaults(void **state)
{
        _cleanup_free_ char *text = shipped_conf();
        assert_policy_is_defaults(text);
}

static void test_shipped_conf_uncommented_sets_every_default(void **state)
{
        _cleanup_free_ char *text = shipped_conf();
        _cleanup_free_ char *live = uncomment_keys(text);
        assert_policy_is_defaults(live);
}

/* Keys without a default are not covered by the test above: each must still be listed. */
static void test_shipped_conf_lists_every_schema_key_in_its_section(void **state)
{
        _cleanup_free_ char *text = shipped_conf();
        const struct vt_policy_key *k;
        for (size_t i = 0; (k = vt_policy_schema_at(i)); i++) {
                char head[80], line[120];
                snprintf(head, sizeof(head), "\n[%s]\n", k->section);
                const char *sec = strstr(text, head);
                assert_non_null(sec);
                /* a pattern key ("device.*") is shown with a placeholder name */
                int n = (int)strcspn(k->key, "*");
                snprintf(line, sizeof(line), "\n#%.*s%s =", n, k->key, k->key[n] ? "NAME" : "");
                const char *at = strstr(sec, line), *next = strstr(sec + 1, "\n[");
                if (!at || (next && at > next))
                        fail_msg("virtune.conf lacks '%s' in [%s]", line + 1, k->section);
        }
}

static void test_shipped_conf_with_bad_drop_in_names_file_and_line(void **state)
{
        _cleanup_free_ char *text = shipped_conf();
        _cleanup_free_ char *root = vt_test_mkdtemp();
        vt_test_write(root, "etc/virtune/virtune.conf", text);
        vt_test_write(root, "etc/virtune/virtune.conf.d/50-x.conf",
                      "[bootloader]\nreboot = always\n");
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        struct vt_policy *p = NULL;
        char err[VT_POLICY_ERR_MAX] = "";
        assert_int_equal(vt_policy_load(ctx, &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "/etc/virtune/virtune.conf.d/50-x.conf:2: bootloader.reboot = "
                                 "'always': not one of the allowed values");
        vt_test_rm_rf(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped_conf_parses_to_the_defaults),
                cmocka_unit_test(test_shipped_conf_uncommented_sets_every_default),
                cmocka_unit_test(test_shipped_conf_lists_every_schema_key_in_its_section),
                cmocka_unit_test(test_shipped_conf_with_bad_drop_in_names_file_and_line),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
