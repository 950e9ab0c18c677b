/*
 * The safety list: each write step failing (ENOSPC, EIO, EROFS) or the power going between
 * steps leaves every file as it was or whole and new; the generator runs only on change and
 * its failure puts every file back.
 */
#include <sys/stat.h>
#include "../lib/testlib.h"
#include "atomic.h"
#include "grubcfg.h"

static const char *const files[] = {
        "etc/default/grub",
        "etc/kernel/cmdline",
        "boot/loader/entries/3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b-5.14.0-362.8.1.el9_3.x86_64.conf",
};

static const struct vt_cmdline_edit edits[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"},
                                               {VT_CMDLINE_SET, "nopvspin", NULL}};

struct fault {
        enum vt_step step;
        int nth; /* fail the nth time the step comes (0: first) */
        int err;
        int seen;
};

static int fault_fn(void *userdata, enum vt_step step, const char *path)
{
        struct fault *f = userdata;
        if (step != f->step)
                return 0;
        return f->seen++ == f->nth ? f->err : 0;
}

static char *fresh_root(void)
{
        char *dir = vt_test_fixture("boot-rhel9-bls"), *src = NULL;
        assert_true(asprintf(&src, "%s/root", dir) > 0);
        char *root = vt_test_copy_tree(src);
        free(src);
        free(dir);
        return root;
}

/* The files before and after a clean edit. */
static char *before[ARRAY_SIZE(files)], *after[ARRAY_SIZE(files)];

static int setup(void **state)
{
        char *root = fresh_root();
        for (size_t i = 0; i < ARRAY_SIZE(files); i++)
                before[i] = vt_test_read(root, files[i]);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        assert_int_equal(vt_bootcfg_edit(ctx, edits, ARRAY_SIZE(edits), 0, NULL, NULL), 0);
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                after[i] = vt_test_read(root, files[i]);
                assert_string_not_equal(before[i], after[i]);
        }
        vt_ctx_free(ctx);
        vt_test_root_free(root);
        return 0;
}

static int teardown(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                free(before[i]);
                free(after[i]);
        }
        return 0;
}

static int run_with_fault(const char *root, struct fault *f, char *err, size_t errlen)
{
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        struct vt_fault hook = {fault_fn, f};
        struct vt_bootcfg_opts o = {.fault = &hook, .err = err, .errlen = errlen};
        int r = vt_bootcfg_edit_opts(ctx, edits, ARRAY_SIZE(edits), &o, NULL, NULL);
        vt_ctx_free(ctx);
        return r;
}

static void test_failed_step_leaves_every_file_as_it_was(void **state)
{
        static const enum vt_step steps[] = {VT_STEP_WRITE, VT_STEP_FSYNC, VT_STEP_RENAME,
                                             VT_STEP_DIRSYNC};
        static const int errs[] = {-ENOSPC, -EIO, -EROFS};
        for (size_t s = 0; s < ARRAY_SIZE(steps); s++)
                for (size_t e = 0; e < ARRAY_SIZE(errs); e++)
                        for (int nth = 0; nth < (int)ARRAY_SIZE(files); nth++) {
                                char *root = fresh_root();
                                struct fault f = {steps[s], nth, errs[e], 0};
                                char err[600] = "";
                                assert_int_equal(run_with_fault(root, &f, err, sizeof(err)),
                                                 errs[e]);
                                assert_non_null(strstr(err, strerror(-errs[e])));
                                for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                                        char *now = vt_test_read(root, files[i]);
                                        assert_string_equal(now, before[i]);
                                        free(now);
                                }
                                vt_test_root_free(root);
                        }
}

static void test_crash_between_steps_leaves_old_or_whole_new(void **state)
{
        static const enum vt_step steps[] = {VT_STEP_WRITE, VT_STEP_FSYNC, VT_STEP_RENAME,
                                             VT_STEP_DIRSYNC, VT_STEP_GENERATOR};
        for (size_t s = 0; s < ARRAY_SIZE(steps); s++)
                for (int nth = 0; nth < (int)ARRAY_SIZE(files); nth++) {
                        char *root = fresh_root();
                        struct fault f = {steps[s], nth, VT_FAULT_CRASH, 0};
                        setenv("VIRTUNE_BOOTCFG_GENERATOR", "/bin/true", 1);
                        int r = run_with_fault(root, &f, NULL, 0);
                        unsetenv("VIRTUNE_BOOTCFG_GENERATOR");
                        if (f.seen <= nth) {
                                /* the step did not come that often: a clean run */
                                assert_int_equal(r, 0);
                        } else
                                assert_int_equal(r, VT_FAULT_CRASH);
                        size_t news = 0;
                        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                                char *now = vt_test_read(root, files[i]);
                                assert_non_null(now);
                                if (streq(now, after[i]))
                                        news++;
                                else
                                        assert_string_equal(now, before[i]);
                                free(now);
                        }
                        /* before the rename of file n, exactly n files are new */
                        if (steps[s] == VT_STEP_WRITE || steps[s] == VT_STEP_FSYNC ||
                            steps[s] == VT_STEP_RENAME)
                                assert_int_equal(news, nth);
                        vt_test_root_free(root);
                }
}

static void test_generator_runs_once_and_only_on_change(void **state)
{
        char *root = fresh_root();
        char *tools = vt_test_mkdtemp();
        char *gen = vt_test_write_generator(tools);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        struct vt_bootcfg_opts o = {.generator = gen};
        json_object *rec = NULL;
        assert_int_equal(vt_bootcfg_edit_opts(ctx, edits, 2, &o, NULL, &rec), 0);
        char *want = NULL;
        assert_true(asprintf(&want, "%s /usr/sbin/grub2-mkconfig -o /boot/grub2/grub.cfg\n", root) >
                    0);
        char *log = vt_test_read(tools, "gen.log");
        assert_string_equal(log, want);
        free(log);
        json_object *g = json_object_array_get_idx(json_object_object_get(rec, "generators"), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(g, "status")), "ran");
        json_object_put(rec);
        assert_int_equal(vt_bootcfg_edit_opts(ctx, edits, 2, &o, NULL, NULL), 0);
        log = vt_test_read(tools, "gen.log");
        assert_string_equal(log, want);
        free(log);
        free(want);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
        vt_test_rm_rf(tools);
        free(root);
        free(tools);
        free(gen);
}

static void test_generator_failure_restores_every_file(void **state)
{
        char *root = fresh_root();
        char *tools = vt_test_mkdtemp();
        char *gen = vt_test_write_generator(tools);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        char err[600] = "";
        struct vt_bootcfg_opts o = {.generator = gen, .err = err, .errlen = sizeof(err)};
        setenv("GEN_EXIT", "1", 1);
        assert_int_equal(vt_bootcfg_edit_opts(ctx, edits, 2, &o, NULL, NULL), -EIO);
        unsetenv("GEN_EXIT");
        assert_string_equal(err, "/usr/sbin/grub2-mkconfig -o /boot/grub2/grub.cfg failed "
                                 "(Input/output error)");
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                char *now = vt_test_read(root, files[i]);
                assert_string_equal(now, before[i]);
                free(now);
        }
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
        vt_test_rm_rf(tools);
        free(root);
        free(tools);
        free(gen);
}

static void test_offline_root_leaves_generator_for_first_boot(void **state)
{
        char *root = fresh_root();
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        unsetenv("VIRTUNE_BOOTCFG_GENERATOR");
        json_object *rec = NULL;
        assert_int_equal(vt_bootcfg_edit(ctx, edits, 2, 0, NULL, &rec), 0);
        json_object *g = json_object_array_get_idx(json_object_object_get(rec, "generators"), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(g, "status")),
                            "left for first boot");
        json_object_put(rec);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_failed_step_leaves_every_file_as_it_was),
                cmocka_unit_test(test_crash_between_steps_leaves_old_or_whole_new),
                cmocka_unit_test(test_generator_runs_once_and_only_on_change),
                cmocka_unit_test(test_generator_failure_restores_every_file),
                cmocka_unit_test(test_offline_root_leaves_generator_for_first_boot),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
