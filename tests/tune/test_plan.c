/*
 * Plan output, exact, per case: tests/tune/cases/NAME/ holds facts.json (hand-written or
 * captured), an optional virtune.conf and root/ tree, and expected.json (the plan, or
 * {"error": "file:line: ..."}). And per fixture tree (tests/fixtures/NAME/root, detected as
 * `virtune plan --root` would): tests/tune/fixtures/NAME.{live,offline}.json with the default
 * policy. VT_UPDATE_EXPECTED=1 rewrites the expected files for review.
 */
#include <dirent.h>
#include <sys/utsname.h>
#include "ctx.h"
#include "module.h"
#include "plan.h"
#include "vt_cpuid.h"
#include "policy.h"
#include "tune.h"
#include "../lib/testlib.h"
#include "plan_halves.h"

static char *case_file(const char *dir, const char *name)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

/* The plan equals the expected file (rewritten first when VT_UPDATE_EXPECTED is set). */
static void compare(json_object *doc, const char *expected_path)
{
        const char *got = json_object_to_json_string_ext(
                doc,
                JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (getenv("VT_UPDATE_EXPECTED")) {
                FILE *f = fopen(expected_path, "we");
                assert_non_null(f);
                fprintf(f, "%s\n", got);
                fclose(f);
        }
        _cleanup_free_ char *want_text = vt_test_read("", expected_path);
        assert_non_null(want_text);
        _cleanup_json_ json_object *want = json_tokener_parse(want_text);
        assert_non_null(want);
        if (!json_object_equal(doc, want)) {
                fprintf(stderr, "plan differs from %s; got:\n%s\n", expected_path, got);
                fail();
        }
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
                /* Plan is a function of facts and policy: no file of the root is read. */
                json_object_put(assert_plan_needs_no_root(root, ctx->live, facts, conf));
        }
        vt_ctx_free(ctx);

        _cleanup_free_ char *expected_path = case_file(dir, "expected.json");
        compare(doc, expected_path);
        vt_test_rm_rf(root);
}

/*
 * Every case's facts.json planned on a root with no files at all (policy given in memory): plan,
 * resolve included, succeeds or refuses the policy exactly as on the case's root.
 */
static void test_plan_from_json_facts_on_an_empty_root(void **state)
{
        (void)state;
        _cleanup_free_ char *cases = NULL;
        assert_true(asprintf(&cases, "%s/tests/tune/cases", getenv("VT_SOURCE")) > 0);
        _cleanup_closedir_ DIR *d = opendir(cases);
        assert_non_null(d);
        struct dirent *de;
        size_t n = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *dir = case_file(cases, de->d_name);
                _cleanup_free_ char *conf = vt_test_read(dir, "virtune.conf");
                _cleanup_free_ char *text = vt_test_read(dir, "facts.json");
                _cleanup_json_ json_object *facts = json_tokener_parse(text), *doc = NULL;
                _cleanup_free_ char *empty = vt_test_mkdtemp();
                struct vt_ctx *ctx = NULL;
                char err[VT_POLICY_ERR_MAX];
                assert_int_equal(vt_ctx_new(empty, &ctx), 0);
                ctx->policy = vt_policy_new();
                if (vt_policy_parse(ctx->policy, "virtune.conf", conf ? conf : "", err,
                                    sizeof(err)) == 0) {
                        int r = vt_tune_plan(ctx, facts, &doc);
                        if (r != 0 && !(r == -EINVAL && doc))
                                fail_msg("%s: plan on an empty root: %s", de->d_name, strerror(-r));
                        n++;
                }
                vt_ctx_free(ctx);
                vt_test_rm_rf(empty);
        }
        assert_true(n >= 5);
}

struct fixture_case {
        char *name;
        bool live;
};

/* Returns false when the fixture cannot run this way here (skip() longjmps: nothing held). */
static bool fixture_plan(const struct fixture_case *fc)
{
        const char *fixtures = getenv("VT_FIXTURES");
        _cleanup_free_ char *src = NULL, *cpuid = NULL, *expected = NULL;
        assert_true(asprintf(&src, "%s/%s/root", fixtures, fc->name) > 0);
        assert_true(asprintf(&cpuid, "%s/%s/cpuid", fixtures, fc->name) > 0);
        assert_true(asprintf(&expected, "%s/tests/tune/fixtures/%s.%s.json", getenv("VT_SOURCE"),
                             fc->name, fc->live ? "live" : "offline") > 0);
        _cleanup_free_ char *root = vt_test_copy_tree(src);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = fc->live;
        if (access(cpuid, F_OK) == 0)
                assert_int_equal(vt_cpuid_new_file(cpuid, &ctx->cpuid), 0);
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_policy_load(ctx, &ctx->policy, err, sizeof(err)), 0);
        _cleanup_json_ json_object *facts = NULL, *doc = NULL;
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        /* A live root's arch is uname's: a foreign fixture cannot pretend to be running here. */
        _cleanup_free_ char *virt_path = NULL, *virt_text = NULL;
        assert_true(asprintf(&virt_path, "%s/%s/expected/virt.json", fixtures, fc->name) > 0);
        virt_text = vt_test_read("", virt_path);
        _cleanup_json_ json_object *virt = virt_text ? json_tokener_parse(virt_text) : NULL;
        struct utsname u;
        assert_int_equal(uname(&u), 0);
        if (fc->live && virt && !streq_ptr(vt_json_str(virt, "arch"), u.machine)) {
                vt_ctx_free(ctx);
                vt_test_rm_rf(root);
                return false;
        }
        assert_int_equal(vt_tune_plan(ctx, facts, &doc), 0);
        vt_ctx_free(ctx);
        compare(doc, expected);
        json_object_put(assert_plan_needs_no_root(root, fc->live, facts, NULL));
        vt_test_rm_rf(root);
        return true;
}

static void run_fixture(void **state)
{
        if (!fixture_plan(*state))
                skip();
}

static size_t add_fixtures(struct CMUnitTest *tests, size_t n, size_t max)
{
        const char *fixtures = getenv("VT_FIXTURES");
        assert_non_null(fixtures);
        DIR *d = opendir(fixtures);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d)) && n + 2 <= max) {
                char *root;
                assert_true(asprintf(&root, "%s/%s/root", fixtures, de->d_name) > 0);
                bool has_root = de->d_name[0] != '.' && access(root, F_OK) == 0;
                free(root);
                if (!has_root)
                        continue;
                for (int live = 0; live < 2; live++) {
                        struct fixture_case *fc = calloc(1, sizeof(*fc));
                        assert_non_null(fc);
                        fc->name = strdup(de->d_name);
                        fc->live = live;
                        char *name;
                        assert_true(asprintf(&name, "test_plan_fixture_%s_%s", de->d_name,
                                             live ? "live" : "offline") > 0);
                        tests[n++] = (struct CMUnitTest){
                                .name = name, .test_func = run_fixture, .initial_state = fc};
                }
        }
        closedir(d);
        return n;
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
        n = add_fixtures(tests, n, ARRAY_SIZE(tests) - 1);
        tests[n++] =
                (struct CMUnitTest){.name = strdup("test_plan_from_json_facts_on_an_empty_root"),
                                    .test_func = test_plan_from_json_facts_on_an_empty_root};
        qsort(tests, n, sizeof(tests[0]), cmp);
        int r = _cmocka_run_group_tests("plan", tests, n, NULL, NULL);
        for (size_t i = 0; i < n; i++) {
                if (tests[i].test_func == run_fixture)
                        free(((struct fixture_case *)tests[i].initial_state)->name);
                free(tests[i].initial_state);
                free((char *)tests[i].name);
        }
        free(cases);
        return r;
}
