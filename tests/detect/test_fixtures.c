/* Runs every detect module on every fixture tree and compares its facts with
 * expected/<module>.json. */
#include <assert.h>
#include <limits.h>
#include <sys/stat.h>
#include "../lib/testlib.h"
#include "ctx.h"
#include "module.h"
#include "vt_cpuid.h"

/* One fixture: tests/fixtures/<name>/{root/, cpuid, expected/}. */
struct fixture {
        char name[NAME_MAX + 1];
        char dir[PATH_MAX];
};

static bool update_mode(void)
{
        const char *u = getenv("VT_UPDATE_EXPECTED");
        return u && streq(u, "1");
}

static const int json_flags =
        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;

/* A placeholder detect half (not yet written) adds an empty object. */
static bool is_placeholder(json_object *o)
{
        return json_object_is_type(o, json_type_object) && json_object_object_length(o) == 0;
}

static int check_module(const struct fixture *fx, const char *module, json_object *got)
{
        char path[PATH_MAX];
        assert_true(snprintf(path, sizeof(path), "%s/expected/%s.json", fx->dir, module) <
                    (int)sizeof(path));
        if (update_mode()) {
                if (!got || is_placeholder(got)) {
                        unlink(path);
                        return 0;
                }
                assert_int_equal(json_object_to_file_ext(path, got, json_flags), 0);
                /* json-c writes no final newline; keep files diff-friendly. */
                FILE *f = fopen(path, "ae");
                assert_non_null(f);
                fputc('\n', f);
                fclose(f);
                print_message("[ updated  ] %s/%s\n", fx->name, module);
                return 0;
        }
        struct stat st;
        if (stat(path, &st) < 0) {
                if (got && is_placeholder(got)) {
                        print_message("[ note     ] %s: %s not written yet, no expected file\n",
                                      fx->name, module);
                        return 0;
                }
                print_message("[ MISSING  ] %s: no expected/%s.json (VT_UPDATE_EXPECTED=1 "
                              "writes it; review the diff)\n",
                              fx->name, module);
                return 1;
        }
        _cleanup_json_ json_object *want = json_object_from_file(path);
        if (!want) {
                print_message("[ BAD JSON ] %s: %s\n", path, json_util_get_last_err());
                return 1;
        }
        if (json_object_equal(want, got))
                return 0;
        print_message("[ MISMATCH ] %s: %s\n--- expected (%s)\n%s\n--- got\n%s\n", fx->name, module,
                      path, json_object_to_json_string_ext(want, json_flags),
                      got ? json_object_to_json_string_ext(got, json_flags) : "(missing key)");
        return 1;
}

static void test_fixture_facts_match_expected(void **state)
{
        const struct fixture *fx = *state;
        char root[PATH_MAX], cpuid[PATH_MAX];
        assert_true(snprintf(root, sizeof(root), "%s/root", fx->dir) < (int)sizeof(root));
        assert_true(snprintf(cpuid, sizeof(cpuid), "%s/cpuid", fx->dir) < (int)sizeof(cpuid));
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        assert_false(ctx->live);
        if (access(cpuid, F_OK) == 0)
                assert_int_equal(vt_cpuid_new_file(cpuid, &ctx->cpuid), 0);
        _cleanup_json_ json_object *facts = NULL;
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        int bad = 0;
        for (size_t i = 0; i < vt_modules_len; i++) {
                json_object *got = NULL;
                json_object_object_get_ex(facts, vt_modules[i]->name, &got);
                bad += check_module(fx, vt_modules[i]->name, got);
        }
        assert_int_equal(bad, 0);
}

static int by_name(const void *a, const void *b)
{
        return strcmp(((const struct fixture *)a)->name, ((const struct fixture *)b)->name);
}

int main(void)
{
        const char *base = getenv("VT_FIXTURES");
        if (!base) {
                fprintf(stderr, "VT_FIXTURES is not set (run through meson test)\n");
                return 1;
        }
        _cleanup_closedir_ DIR *d = opendir(base);
        if (!d) {
                fprintf(stderr, "Cannot open %s: %m\n", base);
                return 1;
        }
        struct fixture *fx = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                char exp[PATH_MAX];
                struct stat st;
                if (de->d_name[0] == '.' ||
                    snprintf(exp, sizeof(exp), "%s/%s/expected", base, de->d_name) >=
                            (int)sizeof(exp) ||
                    stat(exp, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                fx = realloc(fx, (n + 1) * sizeof(*fx));
                assert(fx);
                snprintf(fx[n].name, sizeof(fx[n].name), "%s", de->d_name);
                snprintf(fx[n].dir, sizeof(fx[n].dir), "%s/%s", base, de->d_name);
                n++;
        }
        if (n == 0) {
                fprintf(stderr, "No fixtures with expected/ under %s\n", base);
                return 1;
        }
        qsort(fx, n, sizeof(*fx), by_name);
        struct CMUnitTest *tests = calloc(n, sizeof(*tests));
        assert(tests);
        for (size_t i = 0; i < n; i++)
                tests[i] = (struct CMUnitTest){.name = fx[i].name,
                                               .test_func = test_fixture_facts_match_expected,
                                               .initial_state = &fx[i]};
        int r = _cmocka_run_group_tests("fixtures", tests, n, NULL, NULL);
        free(tests);
        free(fx);
        return r;
}
