/*
 * Plan output, exact, per case: tests/tune/cases/NAME/ holds facts.json (hand-written or
 * captured), an optional virtune.conf and root/ tree, and expected.json (the plan, or
 * {"error": "file:line: ..."}). VT_UPDATE_EXPECTED=1 rewrites expected.json for review.
 */
#include <dirent.h>
#include "../../modules/ctx.h"
#include "../../modules/policy.h"
#include "../../modules/tune.h"
#include "../lib/testlib.h"

static char *case_file(const char *dir, const char *name)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static void run_case(void **state)
{
        const char *dir = *state;
        _cleanup_free_ char *rootsrc = case_file(dir, "root");
        _cleanup_free_ char *root =
                access(rootsrc, F_OK) == 0 ? vt_test_copy_tree(rootsrc) : vt_test_mkdtemp();
        _cleanup_free_ char *conf = vt_test_read(dir, "virtune.conf");
        if (conf)
                vt_test_write(root, "etc/virtune/virtune.conf", conf);
        _cleanup_free_ char *facts_text = vt_test_read(dir, "facts.json");
        assert_non_null(facts_text);
        _cleanup_json_ json_object *facts = json_tokener_parse(facts_text);
        assert_non_null(facts);

        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        json_object *self, *live;
        ctx->live = json_object_object_get_ex(facts, "virtune", &self) &&
                    json_object_object_get_ex(self, "live", &live) && json_object_get_boolean(live);
        char err[VT_POLICY_ERR_MAX] = "";
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_policy_load(ctx, &ctx->policy, err, sizeof(err));
        if (r == -EINVAL) {
                doc = json_object_new_object();
                json_object_object_add(doc, "error", json_object_new_string(err));
        } else {
                assert_int_equal(r, 0);
                r = vt_tune_plan(ctx, facts, &doc);
                assert_true(r == 0 || (r == -EINVAL && doc));
        }
        vt_ctx_free(ctx);

        const char *got = json_object_to_json_string_ext(
                doc,
                JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *expected_path = case_file(dir, "expected.json");
        if (getenv("VT_UPDATE_EXPECTED")) {
                FILE *f = fopen(expected_path, "we");
                assert_non_null(f);
                fprintf(f, "%s\n", got);
                fclose(f);
        }
        _cleanup_free_ char *want_text = vt_test_read(dir, "expected.json");
        assert_non_null(want_text);
        _cleanup_json_ json_object *want = json_tokener_parse(want_text);
        assert_non_null(want);
        if (!json_object_equal(doc, want)) {
                fprintf(stderr, "plan of %s differs from expected.json; got:\n%s\n", dir, got);
                fail();
        }
        vt_test_rm_rf(root);
}

static int cmp(const void *a, const void *b)
{
        return strcmp(((const struct CMUnitTest *)a)->name, ((const struct CMUnitTest *)b)->name);
}

int main(void)
{
        const char *src = getenv("VT_SOURCE");
        assert_non_null(src);
        char *cases;
        assert_true(asprintf(&cases, "%s/tests/tune/cases", src) > 0);
        DIR *d = opendir(cases);
        assert_non_null(d);
        struct CMUnitTest tests[128];
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n < ARRAY_SIZE(tests)) {
                if (de->d_name[0] == '.')
                        continue;
                char *dir, *name;
                assert_true(asprintf(&dir, "%s/%s", cases, de->d_name) > 0);
                assert_true(asprintf(&name, "test_plan_%s", de->d_name) > 0);
                tests[n++] = (struct CMUnitTest){
                        .name = name, .test_func = run_case, .initial_state = dir};
        }
        closedir(d);
        qsort(tests, n, sizeof(tests[0]), cmp);
        return _cmocka_run_group_tests("plan", tests, n, NULL, NULL);
}
