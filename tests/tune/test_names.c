/*
 * One name per concern: the concern's folder name is its module's name, its facts' top-level
 * key, its plan changes' `module`, its policy section and what `--only` takes, everywhere.
 */
#include "module.h"
#include "policy.h"
#include "tune.h"
#include "../lib/testlib.h"

/* The folders under modules/ that hold a concern (besides lib, sys and core). */
static const char *const folders[] = {"virt", "iosched", "haltpoll", "pvspin", "rng",
                                      "qga",  "tpm",     "virtio",   "memory"};

static bool is_folder(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(folders); i++)
                if (streq(folders[i], name))
                        return true;
        return false;
}

static void test_every_module_is_named_after_its_folder(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(folders); i++)
                assert_non_null(vt_module_find(folders[i]));
        for (size_t i = 0; i < vt_modules_len; i++) {
                const char *name = vt_modules[i]->name;
                _cleanup_free_ char *dir = NULL;
                assert_true(asprintf(&dir, "%s/modules/%s", getenv("VT_SOURCE"), name) > 0);
                if (access(dir, F_OK) != 0)
                        fail_msg("module %s has no folder modules/%s", name, name);
        }
        assert_string_equal(vt_modules[0]->name, "virt"); /* the others read its facts */
        assert_null(vt_module_find("cpuidle"));
}

static void test_facts_keys_are_the_module_names(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_copy_fixture_root("kvm-buildhost");
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        _cleanup_json_ json_object *facts = NULL;
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        size_t keys = 0;
        json_object_object_foreach (facts, k, v) {
                (void)v;
                if (!streq(k, "virtune") && !vt_module_find(k))
                        fail_msg("facts key '%s' is not a module name", k);
                keys++;
        }
        assert_int_equal(keys, vt_modules_len + 1);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_policy_sections_are_module_names_or_the_agents(void **state)
{
        (void)state;
        const struct vt_policy_key *k;
        for (size_t i = 0; (k = vt_policy_schema_at(i)); i++)
                if (!vt_module_find(k->section) && !streq(k->section, "bootloader") &&
                    !streq(k->section, "channel"))
                        fail_msg("policy section [%s] is no module", k->section);
        for (size_t i = 0; i < vt_modules_len; i++)
                for (k = vt_modules[i]->policy; k && k->key; k++)
                        assert_string_equal(k->section, vt_modules[i]->name);
}

/* A plan with every module's changes (haltpoll forced, rngd to enable) names modules only. */
static void test_plan_changes_and_lines_name_their_module(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = NULL, *facts_text = NULL;
        assert_true(asprintf(&dir, "%s/tests/tune/cases/haltpoll-yes-module-rngd-debian",
                             getenv("VT_SOURCE")) > 0);
        facts_text = vt_test_read(dir, "facts.json");
        _cleanup_json_ json_object *facts = json_tokener_parse(facts_text), *plan = NULL;
        _cleanup_free_ char *rootsrc = NULL;
        assert_true(asprintf(&rootsrc, "%s/root", dir) > 0);
        _cleanup_free_ char *root = vt_test_copy_tree(rootsrc);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->policy = vt_policy_new();
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_policy_parse(ctx->policy, "t.conf", "[haltpoll]\nenable = yes\n", err,
                                         sizeof(err)),
                         0);
        assert_int_equal(vt_tune_plan(ctx, facts, &plan), 0);
        json_object *changes = vt_json_get(plan, "changes");
        assert_true(json_object_array_length(changes) > 0);
        bool haltpoll = false;
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                const char *m = vt_json_str(json_object_array_get_idx(changes, i), "module");
                assert_true(is_folder(m));
                haltpoll = haltpoll || streq(m, "haltpoll");
        }
        assert_true(haltpoll);
        json_object *warnings = vt_json_get(plan, "warnings");
        for (size_t i = 0; i < json_object_array_length(warnings); i++) {
                const char *w = json_object_get_string(json_object_array_get_idx(warnings, i));
                _cleanup_free_ char *m = strndup(w, strcspn(w, ":"));
                assert_true(is_folder(m));
        }
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_only_takes_module_names_with_a_plan_half(void **state)
{
        (void)state;
        assert_non_null(vt_module_find_tunable("haltpoll"));
        assert_non_null(vt_module_find_tunable("rng"));
        assert_null(vt_module_find_tunable("cpuidle"));
        assert_null(vt_module_find_tunable("tpm"));
        assert_null(vt_module_find_tunable("virt"));
        const char *only[] = {"haltpoll", NULL};
        assert_true(vt_tune_selected(only, "haltpoll"));
        assert_false(vt_tune_selected(only, "rng"));
        const char *old[] = {"cpuidle", NULL};
        assert_false(vt_tune_selected(old, "haltpoll"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_module_is_named_after_its_folder),
                cmocka_unit_test(test_facts_keys_are_the_module_names),
                cmocka_unit_test(test_policy_sections_are_module_names_or_the_agents),
                cmocka_unit_test(test_plan_changes_and_lines_name_their_module),
                cmocka_unit_test(test_only_takes_module_names_with_a_plan_half),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
