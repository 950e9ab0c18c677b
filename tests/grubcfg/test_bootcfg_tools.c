/*
 * The distribution's own writers: our grubenv rewrite against GRUB's grub-editenv byte for byte,
 * and, on a live root, grub-editenv and grubby (a stand-in script: Debian has no grubby) doing
 * the writing, with what they wrote re-read, recorded and restored on failure.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include "../lib/testlib.h"
#include "grubcfg.h"
#include "grubenv.h"

#define EDITENV "/usr/bin/grub-editenv"

static bool have_editenv(void)
{
        return access(EDITENV, X_OK) == 0;
}

static char *slurp(const char *path, size_t *len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        char *buf = calloc(1, 4096);
        ssize_t n = read(fd, buf, 4095);
        close(fd);
        assert_true(n >= 0);
        *len = (size_t)n;
        return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

/* A block with the given lines after the header, padded with '#'. */
static char *block(const char *vars)
{
        char *b = malloc(VT_GRUBENV_SIZE + 1);
        int n = snprintf(b, VT_GRUBENV_SIZE + 1, "# GRUB Environment Block\n%s", vars);
        assert_true(n <= VT_GRUBENV_SIZE);
        memset(b + n, '#', VT_GRUBENV_SIZE - n);
        b[VT_GRUBENV_SIZE] = 0;
        return b;
}

/* grub-editenv FILE set kernelopts=value on a copy of blk; its exit status, the block in out. */
static int editenv_set(const char *dir, const char *blk, const char *value, char **out)
{
        char path[512], arg[2048];
        snprintf(path, sizeof(path), "%s/grubenv", dir);
        snprintf(arg, sizeof(arg), "kernelopts=%s", value);
        spit(path, blk, VT_GRUBENV_SIZE);
        char *argv[] = {EDITENV, path, "set", arg, NULL};
        int st = vt_test_run(argv, NULL);
        size_t len;
        *out = slurp(path, &len);
        if (st == 0)
                assert_int_equal(len, VT_GRUBENV_SIZE);
        return st;
}

static void test_grubenv_set_is_byte_identical_to_grub_editenv(void **state)
{
        (void)state;
        if (!have_editenv())
                skip(); /* packaging/deps: grub-common */
        char *dir = vt_test_mkdtemp();
        char filler[1100];
        /* 25 header + "saved_entry=" 12 + n + "\n" + "kernelopts=" 11 + value 5 + "\n" == 1024 */
        size_t exact = 1024 - 25 - 12 - 1 - 11 - 5 - 1;
        memset(filler, 'e', exact);
        filler[exact] = 0;
        char *near_full = NULL;
        assert_true(asprintf(&near_full, "saved_entry=%s\nkernelopts=a b\n", filler) > 0);
        const struct {
                const char *vars, *value;
        } cases[] = {
                /* Fedora 33's block: replaced in place, the lines after it kept */
                {"saved_entry=8d2e-5.8.15\nkernelopts=root=UUID=0f1e ro rhgb quiet \n"
                 "boot_success=0\n",
                 "root=UUID=0f1e ro quiet cpuidle_haltpoll.force=Y"},
                /* no kernelopts yet: appended */
                {"saved_entry=x\n", "root=/dev/vda1 ro"},
                /* an empty block */
                {"", "ro"},
                /* shorter than before: the freed bytes become '#' */
                {"kernelopts=root=/dev/vda1 ro quiet splash\nnext_entry=1\n", "ro"},
                /* the value grows to fill the block to the last byte */
                {near_full, "a b c"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char *in = block(cases[i].vars), *theirs = NULL, *ours = NULL;
                assert_int_equal(editenv_set(dir, in, cases[i].value, &theirs), 0);
                assert_int_equal(
                        vt_grubenv_set(in, VT_GRUBENV_SIZE, "kernelopts", cases[i].value, &ours),
                        0);
                assert_memory_equal(ours, theirs, VT_GRUBENV_SIZE);
                /* and GRUB's tool reads our block back */
                char path[512], *out = NULL, want[1100];
                snprintf(path, sizeof(path), "%s/ours", dir);
                spit(path, ours, VT_GRUBENV_SIZE);
                char *argv[] = {EDITENV, path, "list", NULL};
                assert_int_equal(vt_test_run(argv, &out), 0);
                snprintf(want, sizeof(want), "kernelopts=%s\n", cases[i].value);
                assert_non_null(strstr(out, want));
                free(out);
                free(in);
                free(theirs);
                free(ours);
        }
        free(near_full);
        vt_test_root_free(dir);
}

static void test_grubenv_one_byte_too_many_is_refused_by_both(void **state)
{
        (void)state;
        if (!have_editenv())
                skip();
        char *dir = vt_test_mkdtemp();
        char filler[1100], *vars = NULL;
        size_t exact = 1024 - 25 - 12 - 1 - 11 - 5 - 1;
        memset(filler, 'e', exact);
        filler[exact] = 0;
        assert_true(asprintf(&vars, "saved_entry=%s\nkernelopts=a b\n", filler) > 0);
        char *in = block(vars), *theirs = NULL, *ours = NULL;
        assert_int_not_equal(editenv_set(dir, in, "a b cd", &theirs), 0);
        assert_memory_equal(theirs, in, VT_GRUBENV_SIZE); /* GRUB left it alone too */
        assert_int_equal(vt_grubenv_set(in, VT_GRUBENV_SIZE, "kernelopts", "a b cd", &ours),
                         -ENOSPC);
        free(vars);
        free(in);
        free(theirs);
        vt_test_root_free(dir);
}

/* Installs a shell script as root/rel (mode 0755). */
static void install_script(const char *root, const char *rel, const char *text)
{
        vt_test_write(root, rel, text);
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(chmod(p, 0755), 0);
}

static json_object *file_of(json_object *rec, const char *path)
{
        json_object *files = json_object_object_get(rec, "files");
        for (size_t i = 0; i < json_object_array_length(files); i++) {
                json_object *f = json_object_array_get_idx(files, i);
                if (streq(json_object_get_string(json_object_object_get(f, "path")), path))
                        return f;
        }
        return NULL;
}

static const char *writer_of(json_object *rec, const char *path)
{
        json_object *f = file_of(rec, path);
        assert_non_null(f);
        return json_object_get_string(json_object_object_get(f, "writer"));
}

/* A wrapper that logs its argv, then runs the real grub-editenv. */
static void install_editenv(const char *root)
{
        char text[1024];
        snprintf(text, sizeof(text),
                 "#!/bin/sh\nprintf '%%s\\n' \"$@\" >\"%s/editenv.argv\"\nexec " EDITENV
                 " \"$@\"\n",
                 root);
        install_script(root, "usr/bin/grub2-editenv", text);
}

static void test_live_root_writes_grubenv_with_grub_editenv(void **state)
{
        (void)state;
        if (!have_editenv())
                skip();
        char *root = vt_test_copy_fixture_root("boot-fedora33-bls-kernelopts");
        install_editenv(root);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = true;
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"},
                                      {VT_CMDLINE_REMOVE, "rhgb", NULL}};
        char err[600] = "", *diff = NULL;
        struct vt_bootcfg_opts o = {
                .flags = VT_BOOTCFG_NO_GENERATOR, .err = err, .errlen = sizeof(err)};
        json_object *rec = NULL;
        assert_int_equal(vt_bootcfg_edit_opts(ctx, e, 2, &o, &diff, &rec), 0);
        assert_string_equal(writer_of(rec, "/boot/grub2/grubenv"), "grub-editenv");
        assert_non_null(strstr(diff, "# grub-editenv writes /boot/grub2/grubenv\n--- a/boot/"));
        char *argv = vt_test_read(root, "editenv.argv"), want[1024];
        snprintf(want, sizeof(want),
                 "%s/boot/grub2/grubenv\nset\nkernelopts=root=UUID=0f1e2d3c-4b5a-6978-8796-"
                 "a5b4c3d2e1f0 ro resume=UUID=1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809 quiet "
                 "cpuidle_haltpoll.force=Y \n",
                 root);
        assert_string_equal(argv, want);
        char *env = vt_test_read(root, "boot/grub2/grubenv");
        assert_int_equal(strlen(env), 1024);
        assert_non_null(strstr(env, "\nkernelopts=root=UUID=0f1e2d3c-4b5a-6978-8796-"
                                    "a5b4c3d2e1f0 ro resume=UUID=1a2b3c4d-5e6f-7081-92a3-"
                                    "b4c5d6e7f809 quiet cpuidle_haltpoll.force=Y \n"));
        free(env);
        free(argv);
        free(diff);
        json_object_put(rec);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

static void test_image_root_writes_grubenv_directly(void **state)
{
        (void)state;
        char *root = vt_test_copy_fixture_root("boot-fedora33-bls-kernelopts");
        install_editenv(root);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        assert_false(ctx->live);
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"}};
        char *diff = NULL;
        json_object *rec = NULL;
        assert_int_equal(vt_bootcfg_edit(ctx, e, 1, VT_BOOTCFG_NO_GENERATOR, &diff, &rec), 0);
        assert_string_equal(writer_of(rec, "/boot/grub2/grubenv"), "direct");
        assert_null(strstr(diff, "# grub-editenv"));
        char *argv = vt_test_read(root, "editenv.argv");
        assert_null(argv); /* never ran */
        free(diff);
        json_object_put(rec);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

#define RHEL9_ENTRY                                                                                \
        "boot/loader/entries/3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b-5.14.0-362.8.1.el9_3.x86_64.conf"
#define RHEL9_RESCUE "boot/loader/entries/3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b-0-rescue.conf"
#define RHEL9_OPTS                                                                                 \
        "options root=UUID=5e1f7b2a-9c3d-4e6f-8a1b-2c3d4e5f6a7b console=tty0 "                     \
        "console=ttyS0,115200n8 no_timer_check crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"

static char *grubby_root(void)
{
        char *root = vt_test_copy_fixture_root("boot-rhel9-bls");
        vt_test_write(root, "usr/sbin/.keep", "");
        char p[1024];
        snprintf(p, sizeof(p), "%s/usr/sbin/grubby", root);
        char *cp[] = {"cp", VT_GRUBBY_STANDIN, p, NULL};
        assert_int_equal(vt_test_run(cp, NULL), 0);
        return root;
}

static void test_live_root_with_grubby_edits_bls_through_it(void **state)
{
        (void)state;
        char *root = grubby_root();
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = true;
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"},
                                      {VT_CMDLINE_REMOVE, "net.ifnames", NULL}};
        char err[600] = "", *diff = NULL;
        struct vt_bootcfg_opts o = {
                .flags = VT_BOOTCFG_NO_GENERATOR, .err = err, .errlen = sizeof(err)};
        json_object *rec = NULL;
        int r = vt_bootcfg_edit_opts(ctx, e, 2, &o, &diff, &rec);
        if (r < 0)
                fail_msg("%s", err);
        char *argv = vt_test_read(root, "grubby.argv");
        assert_string_equal(argv, "--update-kernel=ALL\n--args=cpuidle_haltpoll.force=Y\n"
                                  "--remove-args=net.ifnames\n");
        free(argv);
        assert_string_equal(writer_of(rec, "/" RHEL9_ENTRY), "grubby");
        assert_string_equal(writer_of(rec, "/" RHEL9_RESCUE), "grubby");
        /* grubby put the new token after $tuned_params; the record holds what it wrote */
        char *entry = vt_test_read(root, RHEL9_ENTRY);
        assert_non_null(strstr(entry, "\n" RHEL9_OPTS " $tuned_params cpuidle_haltpoll.force=Y\n"));
        json_object *f = file_of(rec, "/" RHEL9_ENTRY);
        assert_string_equal(json_object_get_string(json_object_object_get(f, "new")), entry);
        free(entry);
        assert_non_null(strstr(diff, "# grubby writes /" RHEL9_ENTRY "\n"));
        /* revert puts the entries back byte for byte */
        char *before = NULL;
        {
                char *src = vt_test_fixture("boot-rhel9-bls");
                char *rel = NULL;
                assert_true(asprintf(&rel, "root/%s", RHEL9_RESCUE) > 0);
                before = vt_test_read(src, rel);
                free(rel);
                free(src);
        }
        assert_int_equal(vt_bootcfg_restore(ctx, rec, VT_BOOTCFG_NO_GENERATOR, NULL), 0);
        char *after = vt_test_read(root, RHEL9_RESCUE);
        assert_string_equal(after, before);
        free(after);
        free(before);
        free(diff);
        json_object_put(rec);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

static void test_grubby_failure_restores_every_entry(void **state)
{
        (void)state;
        char *root = grubby_root();
        /* grubby that edits, then fails */
        char p[1024];
        snprintf(p, sizeof(p), "%s/usr/sbin/grubby.real", root);
        char q[1024];
        snprintf(q, sizeof(q), "%s/usr/sbin/grubby", root);
        char *mv2[] = {"mv", q, p, NULL};
        assert_int_equal(vt_test_run(mv2, NULL), 0);
        install_script(root, "usr/sbin/grubby",
                       "#!/bin/sh\n\"$0.real\" \"$@\"\necho 'grubby: disk full' >&2\nexit 1\n");
        char *before = vt_test_read(root, RHEL9_ENTRY), *rescue = vt_test_read(root, RHEL9_RESCUE);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = true;
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"}};
        char err[600] = "";
        struct vt_bootcfg_opts o = {
                .flags = VT_BOOTCFG_NO_GENERATOR, .err = err, .errlen = sizeof(err)};
        assert_int_equal(vt_bootcfg_edit_opts(ctx, e, 1, &o, NULL, NULL), -EIO);
        char want[1024];
        snprintf(want, sizeof(want), "Cannot write /%s with grubby: %s", RHEL9_RESCUE,
                 strerror(EIO));
        assert_string_equal(err, want);
        char *now = vt_test_read(root, RHEL9_ENTRY), *rnow = vt_test_read(root, RHEL9_RESCUE);
        assert_string_equal(now, before);
        assert_string_equal(rnow, rescue);
        free(now);
        free(rnow);
        free(before);
        free(rescue);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

static void test_without_grubby_bls_is_edited_directly(void **state)
{
        (void)state;
        char *root = vt_test_copy_fixture_root("boot-rhel9-bls");
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = true;
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"}};
        json_object *rec = NULL;
        assert_int_equal(vt_bootcfg_edit(ctx, e, 1, VT_BOOTCFG_NO_GENERATOR, NULL, &rec), 0);
        assert_string_equal(writer_of(rec, "/" RHEL9_ENTRY), "direct");
        assert_null(file_of(rec, "/" RHEL9_RESCUE));
        json_object_put(rec);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_grubenv_set_is_byte_identical_to_grub_editenv),
                cmocka_unit_test(test_grubenv_one_byte_too_many_is_refused_by_both),
                cmocka_unit_test(test_live_root_writes_grubenv_with_grub_editenv),
                cmocka_unit_test(test_image_root_writes_grubenv_directly),
                cmocka_unit_test(test_live_root_with_grubby_edits_bls_through_it),
                cmocka_unit_test(test_grubby_failure_restores_every_entry),
                cmocka_unit_test(test_without_grubby_bls_is_edited_directly),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
