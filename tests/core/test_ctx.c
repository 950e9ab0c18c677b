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
        vt_test_root_free(root);
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
        vt_test_root_free(root);
}

/* What one read through the root gives: the file's first line, or "-errno". */
static char *read_through(struct vt_ctx *ctx, const char *path)
{
        char *s;
        int r = vt_read_attr(ctx, path, &s);
        if (r < 0)
                assert_true(asprintf(&s, "%d", r) > 0);
        return s;
}

#define assert_reads(ctx, path, want)                                                              \
        do {                                                                                       \
                char *_got = read_through(ctx, path);                                              \
                assert_string_equal(_got, want);                                                   \
                free(_got);                                                                        \
        } while (0)

/*
 * A root full of ways out: absolute links, ".." chains in links and in the path asked for, links
 * to directories outside, loops. Nothing may reach `outside`, with openat2 or without it.
 */
static void check_no_escape(bool openat2)
{
        vt_ctx_use_openat2(openat2);
        char *root = vt_test_mkdtemp(), *outside = vt_test_mkdtemp();
        char *p;
        vt_test_write(outside, "secret", "outside\n");
        vt_test_write(root, "etc/hostname", "inside\n");
        vt_test_write(root, "usr/lib/x", "libx\n");
        vt_test_symlink(root, "etc/abs", "/etc/hostname");
        vt_test_symlink(root, "etc/dotdot", "../../../../../../../etc/hostname");
        vt_test_symlink(root, "lib", "/usr/lib");
        vt_test_symlink(root, "up", "../../../../..");
        vt_test_symlink(root, "usr/up", "../../../../../etc/./hostname");
        vt_test_symlink(root, "mnt", outside);
        assert_true(asprintf(&p, "%s/secret", outside) > 0);
        vt_test_symlink(root, "etc/out", p);
        free(p);
        vt_test_symlink(root, "etc/rel-out", "../../../../../../../../../../../../..");
        vt_test_symlink(root, "loop1", "loop2");
        vt_test_symlink(root, "loop2", "/loop1");
        vt_test_symlink(root, "self", "self");
        /* A chain of 30 links resolves; one of 41 is more than any lookup follows. */
        char name[32], target[32];
        for (int i = 0; i < 41; i++) {
                snprintf(name, sizeof(name), "chain/%d", i);
                snprintf(target, sizeof(target), i == 40 ? "/etc/hostname" : "/chain/%d", i + 1);
                vt_test_symlink(root, name, target);
        }
        vt_test_symlink(root, "chain30", "/chain/10");

        struct vt_ctx *ctx;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        assert_reads(ctx, "/etc/abs", "inside");
        assert_reads(ctx, "/etc/dotdot", "inside");
        assert_reads(ctx, "/../../../etc/hostname", "inside");
        assert_reads(ctx, "/etc/../../../../etc/hostname", "inside");
        assert_reads(ctx, "/lib/x", "libx");
        assert_reads(ctx, "/lib/../../etc/hostname", "inside");
        assert_reads(ctx, "/up/etc/hostname", "inside");
        assert_reads(ctx, "/up/up/up/etc/abs", "inside");
        assert_reads(ctx, "/usr/up", "inside");
        assert_reads(ctx, "/etc/rel-out/etc/hostname", "inside");
        assert_reads(ctx, "/mnt/secret", "-2");
        assert_reads(ctx, "/etc/out", "-2");
        assert_reads(ctx, "/loop1", "-40");
        assert_reads(ctx, "/self", "-40");
        assert_reads(ctx, "/chain/0", "-40");
        assert_reads(ctx, "/chain30", "inside");
        assert_reads(ctx, "/etc/hostname/", "-20");
        assert_reads(ctx, "/etc/abs/", "-20");

        char *real;
        assert_int_equal(vt_realpath(ctx, "/up/lib/", &real), 0);
        assert_string_equal(real, "/usr/lib");
        free(real);
        DIR *d;
        assert_int_equal(vt_opendir(ctx, "/etc/rel-out", &d), 0);
        bool seen_lib = false;
        for (struct dirent *e; (e = readdir(d));)
                seen_lib |= streq(e->d_name, "lib");
        closedir(d);
        assert_true(seen_lib);

        /* Creating through a dangling absolute link makes the file inside the root. */
        assert_true(asprintf(&p, "%s/made", outside) > 0);
        vt_test_symlink(root, "etc/new", p);
        free(p);
        assert_true(asprintf(&p, "%s/keep", outside + 1) > 0);
        vt_test_write(root, p, "");
        free(p);
        int fd = vt_open(ctx, "/etc/new", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "x", 1), 1);
        close(fd);
        assert_null(vt_test_read(outside, "made"));
        assert_true(asprintf(&p, "%s/made", outside + 1) > 0);
        char *made = vt_test_read(root, p);
        free(p);
        assert_string_equal(made, "x");
        free(made);
        assert_int_equal(vt_open(ctx, "/etc/new", O_WRONLY | O_CREAT | O_EXCL, 0644), -EEXIST);

        char *secret = vt_test_read(outside, "secret");
        assert_string_equal(secret, "outside\n");
        free(secret);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
        vt_test_rm_rf(outside);
        free(root);
        free(outside);
        vt_ctx_use_openat2(true);
}

static void test_links_never_leave_root_with_openat2(void **state)
{
        (void)state;
        check_no_escape(true);
}

static void test_links_never_leave_root_without_openat2(void **state)
{
        (void)state;
        check_no_escape(false);
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
        vt_test_root_free(root);
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
        vt_test_root_free(root);
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
                cmocka_unit_test(test_links_never_leave_root_with_openat2),
                cmocka_unit_test(test_links_never_leave_root_without_openat2),
                cmocka_unit_test(test_missing_file_is_enoent),
                cmocka_unit_test(test_read_file_max_refuses_larger_files),
                cmocka_unit_test(test_root_slash_is_live),
                cmocka_unit_test(test_grow_doubles_capacity_and_keeps_contents),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
