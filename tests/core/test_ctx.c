/* The root-relative file access every module relies on. */
#include <fcntl.h>
#include "../lib/testlib.h"
#include "ctx.h"

static void test_read_attr_strips_newline(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "sys/block/vda/queue/scheduler", "none [mq-deadline] kyber\n");
        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        assert_false(ctx->live);
        char *s;
        assert_int_equal(vt_read_attr(ctx, "/sys/block/vda/queue/scheduler", &s), 0);
        assert_string_equal(s, "none [mq-deadline] kyber");
        free(s);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
        free(root);
}

static void test_absolute_symlink_stays_inside_root(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "etc/hostname", "inside\n");
        vt_test_symlink(root, "etc/link", "/etc/hostname");
        vt_test_symlink(root, "etc/escape", "../../../../../../etc/hostname");
        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        char *s;
        assert_int_equal(vt_read_attr(ctx, "/etc/link", &s), 0);
        assert_string_equal(s, "inside");
        free(s);
        assert_int_equal(vt_read_attr(ctx, "/etc/escape", &s), 0);
        assert_string_equal(s, "inside");
        free(s);
        char *real;
        assert_int_equal(vt_realpath(ctx, "/etc/link", &real), 0);
        assert_string_equal(real, "/etc/hostname");
        free(real);
        char *target;
        assert_int_equal(vt_readlink(ctx, "/etc/link", &target), 0);
        assert_string_equal(target, "/etc/hostname");
        free(target);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
        free(root);
}

static void test_missing_file_is_enoent(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        char *s;
        assert_int_equal(vt_read_attr(ctx, "/sys/nothing", &s), -ENOENT);
        assert_false(vt_exists(ctx, "/sys/nothing"));
        int64_t v;
        vt_test_write(root, "proc/x", "notanumber\n");
        assert_int_equal(vt_read_int64(ctx, "/proc/x", &v), -EINVAL);
        vt_test_write(root, "proc/y", "42\n");
        assert_int_equal(vt_read_int64(ctx, "/proc/y", &v), 0);
        assert_int_equal(v, 42);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
        free(root);
}

static void test_read_file_max_refuses_larger_files(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        char big[10001];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        vt_test_write(root, "big", big);
        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        char *s;
        size_t len;
        assert_int_equal(vt_read_file_max(ctx, "/big", 5000, &s, &len), -EFBIG);
        assert_int_equal(vt_read_file_max(ctx, "/big", 10000, &s, &len), 0);
        assert_int_equal(len, 10000);
        free(s);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
        free(root);
}

static void test_root_slash_is_live(void **state)
{
        (void)state;
        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(NULL, &ctx), 0);
        assert_true(ctx->live);
        assert_string_equal(ctx->root, "/");
        vt_ctx_free(ctx);
}

static void test_grow_doubles_capacity_and_keeps_contents(void **state)
{
        int *a = NULL;
        size_t cap = 0;
        assert_int_equal(VT_GROW(a, cap, 1), 0);
        assert_int_equal(cap, 8);
        a[0] = 42;
        assert_int_equal(VT_GROW(a, cap, 8), 0);
        assert_int_equal(cap, 8);
        assert_int_equal(VT_GROW(a, cap, 9), 0);
        assert_int_equal(cap, 16);
        assert_int_equal(VT_GROW(a, cap, 100), 0);
        assert_int_equal(cap, 128);
        assert_int_equal(a[0], 42);
        assert_int_equal(VT_GROW(a, cap, SIZE_MAX / 2), -ENOMEM);
        assert_int_equal(VT_GROW(a, cap, SIZE_MAX), -ENOMEM);
        assert_int_equal(cap, 128);
        free(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_attr_strips_newline),
                cmocka_unit_test(test_absolute_symlink_stays_inside_root),
                cmocka_unit_test(test_missing_file_is_enoent),
                cmocka_unit_test(test_read_file_max_refuses_larger_files),
                cmocka_unit_test(test_root_slash_is_live),
                cmocka_unit_test(test_grow_doubles_capacity_and_keeps_contents),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
