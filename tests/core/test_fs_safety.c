/* An image is untrusted: planted temp-file links and non-regular files never reach past it. */
#include <fcntl.h>
#include <sys/stat.h>
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_atomic_never_writes_through_a_planted_link),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
