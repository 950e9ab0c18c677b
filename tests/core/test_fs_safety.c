/* An image is untrusted: planted temp-file links and non-regular files never reach past it. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "../lib/testlib.h"
#include "ctx.h"
#include "fsutil.h"

/* A hard link at the temp name (old and new spelling) to a file outside the root. */
static void plant_links(const char *root, const char *dir, const char *base, const char *victim)
{
        char a[4096], b[4096];
        snprintf(a, sizeof(a), "%s/%s/.#%s.%d", root, dir, base, (int)getpid());
        snprintf(b, sizeof(b), "%s/%s/.#%s.virtune-%d", root, dir, base, (int)getpid());
        assert_int_equal(link(victim, a), 0);
        assert_int_equal(link(victim, b), 0);
}

static void test_write_atomic_never_writes_through_a_planted_link(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp(), *outside = vt_test_mkdtemp();
        vt_test_write(root, "var/lib/virtune/journal.json", "{}\n");
        vt_test_write(outside, "victim", "precious\n");
        char victim[4096];
        snprintf(victim, sizeof(victim), "%s/victim", outside);
        assert_int_equal(chmod(victim, 0644), 0);
        plant_links(root, "var/lib/virtune", "journal.json", victim);

        struct vt_ctx ctx;
        assert_int_equal(vt_ctx_init_root(&ctx, root), 0);
        assert_int_equal(
                vt_fs_write_atomic(&ctx, "/var/lib/virtune/journal.json", "new\n", 4, 0600), 0);
        vt_ctx_fini_root(&ctx);

        char *got = vt_test_read(outside, "victim"), *j = vt_test_read(root, "var/lib/virtune/"
                                                                             "journal.json");
        assert_string_equal(got, "precious\n");
        assert_string_equal(j, "new\n");
        struct stat st;
        assert_int_equal(stat(victim, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        free(got);
        free(j);
        vt_test_rm_rf(root);
        vt_test_rm_rf(outside);
        free(root);
        free(outside);
}

static void test_reads_refuse_what_is_not_a_regular_file(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp(), path[4096];
        vt_test_write(root, "etc/virtune/keep", "");
        snprintf(path, sizeof(path), "%s/etc/virtune/virtune.conf", root);
        assert_int_equal(mkfifo(path, 0644), 0);
        snprintf(path, sizeof(path), "%s/etc/virtune/zero", root);
        assert_int_equal(mknod(path, S_IFCHR | 0644, makedev(1, 5)), 0);
        struct vt_ctx ctx;
        assert_int_equal(vt_ctx_init_root(&ctx, root), 0);
        char *text = NULL;
        FILE *f = NULL;
        /* a FIFO with no writer: refused at once, never opened for a read that would hang */
        assert_int_equal(vt_read_file(&ctx, "/etc/virtune/virtune.conf", &text, NULL),
                         VT_ENOTREG_FIFO);
        assert_int_equal(vt_fopen_read(&ctx, "/etc/virtune/virtune.conf", &f), VT_ENOTREG_FIFO);
        assert_int_equal(vt_read_file(&ctx, "/etc/virtune/zero", &text, NULL), VT_ENOTREG_CHR);
        assert_int_equal(vt_read_file(&ctx, "/etc/virtune", &text, NULL), -EISDIR);
        assert_null(text);
        assert_null(f);
        assert_string_equal(vt_strerror(VT_ENOTREG_FIFO),
                            "is a FIFO, not a regular file: not read");
        assert_string_equal(vt_strerror(-ENOENT), strerror(ENOENT));
        vt_ctx_fini_root(&ctx);
        vt_test_root_free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_atomic_never_writes_through_a_planted_link),
                cmocka_unit_test(test_reads_refuse_what_is_not_a_regular_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
