/* The backends on copies of real boot layouts: exact edits, idempotence, refusals, restore. */
#include <sys/stat.h>
#include "../lib/testlib.h"
#include "backend.h"
#include "grubcfg.h"

#define FORCE                                                                                      \
        {                                                                                          \
                VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"                                      \
        }

/* Edits with the generator left alone (offline root); returns r, err filled. */
static int edit(struct vt_ctx *ctx, const struct vt_cmdline_edit *e, size_t n, unsigned flags,
                char **diff, char *err, size_t errlen)
{
        struct vt_bootcfg_opts o = {.flags = flags, .err = err, .errlen = errlen};
        json_object *rec = NULL;
        int r = vt_bootcfg_edit_opts(ctx, e, n, &o, diff, &rec);
        json_object_put(rec);
        return r;
}

static void assert_file(const char *root, const char *rel, const char *want)
{
        char *got = vt_test_read(root, rel);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
}

static void test_debian_cloud_gets_dropin_after_cloud_settings(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-debian12-cloud");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        char *diff = NULL, err[600] = "";
        assert_int_equal(edit(ctx, e, 1, 0, &diff, err, sizeof(err)), 0);
        assert_file(root, "etc/default/grub.d/90-virtune.cfg",
                    "# Written by virtune (virtune cmdline, virtune apply): the kernel command "
                    "line\n# for this VM. Sorts after the cloud image's settings on purpose.\n"
                    "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty0 console=ttyS0,115200 "
                    "earlyprintk=ttyS0,115200 consoleblank=0 cpuidle_haltpoll.force=Y\"\n");
        assert_non_null(strstr(diff, "+++ b/etc/default/grub.d/90-virtune.cfg\n"));
        free(diff);
        /* the cloud image's own files are untouched */
        char *dir = vt_test_fixture("boot-debian12-cloud");
        char *orig = vt_test_read(dir, "root/etc/default/grub.d/10_cloud.cfg");
        assert_file(root, "etc/default/grub.d/10_cloud.cfg", orig);
        free(orig);
        free(dir);
        /* what bash reads is what was meant */
        char *path = NULL, *out = NULL;
        assert_true(asprintf(&path,
                             ". %s/etc/default/grub; for f in %s/etc/default/grub.d/*.cfg; do . "
                             "\"$f\"; done; printf %%s \"$GRUB_CMDLINE_LINUX_DEFAULT\"",
                             root, root) > 0);
        char *argv[] = {"env", "-i", "bash", "-c", path, NULL};
        assert_int_equal(vt_test_run(argv, &out), 0);
        assert_string_equal(out, "console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 "
                                 "consoleblank=0 cpuidle_haltpoll.force=Y");
        free(out);
        free(path);
}

static void test_second_apply_changes_no_byte(void **state)
{
        static const char *fixtures[] = {
                "boot-debian12-cloud",          "boot-ubuntu2204-cloudimg",   "boot-rhel9-bls",
                "boot-fedora33-bls-kernelopts", "boot-openeuler2203-aarch64", "boot-sles15-sp5",
        };
        struct vt_cmdline_edit e[] = {
                FORCE, {VT_CMDLINE_SET, "arm_pvspin", NULL}, {VT_CMDLINE_REMOVE, "quiet", NULL}};
        for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
                _cleanup_test_root_ char *root = vt_test_copy_fixture_root(fixtures[i]);
                _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
                char *diff = NULL, err[600] = "";
                assert_int_equal(edit(ctx, e, ARRAY_SIZE(e), 0, &diff, err, sizeof(err)), 0);
                assert_non_null(diff);
                free(diff);
                diff = NULL;
                json_object *doc = NULL;
                assert_int_equal(vt_bootcfg_read(ctx, &doc), 0);
                const char *line = json_object_get_string(json_object_object_get(doc, "cmdline"));
                assert_non_null(strstr(line, "cpuidle_haltpoll.force=Y"));
                assert_non_null(strstr(line, "arm_pvspin"));
                assert_null(strstr(line, "quiet"));
                /* configured but not running: waits for a reboot */
                assert_non_null(
                        strstr(json_object_to_json_string(json_object_object_get(doc, "pending")),
                               "cpuidle_haltpoll.force=Y"));
                json_object_put(doc);
                assert_int_equal(edit(ctx, e, ARRAY_SIZE(e), 0, &diff, err, sizeof(err)), 0);
                assert_null(diff);
        }
}

static void test_sles_default_grub_edited_in_place(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-sles15-sp5");
        char *before = vt_test_read(root, "etc/default/grub");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE, {VT_CMDLINE_REMOVE, "crashkernel", "72M,low"}};
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 2, 0, NULL, err, sizeof(err)), 0);
        char *after = vt_test_read(root, "etc/default/grub");
        /* GRUB_CMDLINE_LINUX gets the new key; the DEFAULT line loses the removed token */
        char *want = NULL;
        char *p = strstr(before, " crashkernel=72M,low\"");
        assert_non_null(p);
        char *q = strstr(before, "GRUB_CMDLINE_LINUX=\"\"");
        assert_non_null(q);
        assert_true(asprintf(&want, "%.*s\"%.*sGRUB_CMDLINE_LINUX=\"cpuidle_haltpoll.force=Y\"%s",
                             (int)(p - before), before,
                             (int)(q - (p + strlen(" crashkernel=72M,low\""))),
                             p + strlen(" crashkernel=72M,low\""),
                             q + strlen("GRUB_CMDLINE_LINUX=\"\"")) > 0);
        assert_string_equal(after, want);
        char *sh = NULL, *out = NULL;
        assert_true(asprintf(&sh,
                             "bash -n %s/etc/default/grub && . %s/etc/default/grub && "
                             "printf %%s \"$GRUB_CMDLINE_LINUX\"",
                             root, root) > 0);
        char *argv[] = {"env", "-i", "bash", "-c", sh, NULL};
        assert_int_equal(vt_test_run(argv, &out), 0);
        assert_string_equal(out, "cpuidle_haltpoll.force=Y");
        /* the backup holds the file as it was */
        assert_file(root, "var/lib/virtune/backup/etc/default/grub", before);
        free(out);
        free(sh);
        free(want);
        free(after);
        free(before);
}

static void test_bls_edits_options_but_not_rescue(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-rhel9-bls");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        char err[600] = "";
        const char *entry = "boot/loader/entries/"
                            "3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b-5.14.0-362.8.1.el9_3.x86_64.conf";
        const char *rescue = "boot/loader/entries/3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b-0-rescue.conf";
        char *rescue_before = vt_test_read(root, rescue);
        assert_int_equal(edit(ctx, e, 1, 0, NULL, err, sizeof(err)), 0);
        char *got = vt_test_read(root, entry);
        assert_non_null(strstr(got, "\noptions root=UUID=5e1f7b2a-9c3d-4e6f-8a1b-2c3d4e5f6a7b "
                                    "console=tty0 console=ttyS0,115200n8 no_timer_check "
                                    "net.ifnames=0 crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M "
                                    "$tuned_params cpuidle_haltpoll.force=Y\ngrub_users"));
        assert_file(root, rescue, rescue_before);
        assert_file(root, "etc/kernel/cmdline",
                    "root=UUID=5e1f7b2a-9c3d-4e6f-8a1b-2c3d4e5f6a7b console=tty0 "
                    "console=ttyS0,115200n8 no_timer_check net.ifnames=0 "
                    "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M cpuidle_haltpoll.force=Y\n");
        free(got);
        free(rescue_before);
}

static void test_grubenv_kernelopts_rewritten_to_exactly_1024_bytes(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-fedora33-bls-kernelopts");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE, {VT_CMDLINE_REMOVE, "rhgb", NULL}};
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 2, 0, NULL, err, sizeof(err)), 0);
        char *env = vt_test_read(root, "boot/grub2/grubenv");
        assert_int_equal(strlen(env), 1024);
        const char *want = "# GRUB Environment Block\nsaved_entry=8d2e4f6a1b3c5d7e9f0a2b4c6d8e0f1a-"
                           "5.8.15-301.fc33.x86_64\nkernelopts=root=UUID=0f1e2d3c-4b5a-6978-8796-"
                           "a5b4c3d2e1f0 ro resume=UUID=1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809 "
                           "quiet cpuidle_haltpoll.force=Y \nboot_success=0\n#";
        assert_memory_equal(env, want, strlen(want));
        for (size_t i = strlen(want); i < 1024; i++)
                assert_int_equal(env[i], '#');
        free(env);
}

static void test_grubenv_that_would_overflow_is_refused(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-fedora33-bls-kernelopts");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        char big[1100];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "k", big}};
        char *before = vt_test_read(root, "boot/grub2/grubenv");
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 1, 0, NULL, err, sizeof(err)), -EBADMSG);
        assert_string_equal(err, "/boot/grub2/grubenv: kernelopts no longer fits in 1024 bytes");
        assert_file(root, "boot/grub2/grubenv", before);
        free(before);
}

static void test_openeuler_grub_cfg_linux_lines_edited(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-openeuler2203-aarch64");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "arm_pvspin", NULL},
                                      FORCE,
                                      {VT_CMDLINE_SET, "haltpoll.enable", "Y"}};
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 3, 0, NULL, err, sizeof(err)), 0);
        char *cfg = vt_test_read(root, "boot/efi/EFI/openEuler/grub.cfg");
        assert_non_null(strstr(cfg, "\tlinux\t/vmlinuz-5.10.0-60.18.0.50.oe2203.aarch64 "
                                    "root=/dev/mapper/openeuler-root ro rd.lvm.lv=openeuler/root "
                                    "rd.lvm.lv=openeuler/swap video=VGA-1:640x480-32@60me rhgb "
                                    "quiet  smmu.bypassdev=0x1000:0x17 smmu.bypassdev=0x1000:0x15 "
                                    "crashkernel=1024M,high video=efifb:off "
                                    "video=VGA-1:640x480-32@60me arm_pvspin "
                                    "cpuidle_haltpoll.force=Y haltpoll.enable=Y\n\tinitrd"));
        /* the rescue entry keeps its line */
        assert_non_null(strstr(cfg,
                               "4b8f1e2d3c6a4f0e9d7c5b3a1e0f2d4c root=/dev/mapper/openeuler-root "
                               "ro rd.lvm.lv=openeuler/root rd.lvm.lv=openeuler/swap "
                               "video=VGA-1:640x480-32@60me rhgb quiet  "
                               "smmu.bypassdev=0x1000:0x17 smmu.bypassdev=0x1000:0x15 "
                               "crashkernel=1024M,high video=efifb:off "
                               "video=VGA-1:640x480-32@60me\n"));
        free(cfg);
}

/* /etc/default/grub variants: what GRUB_CMDLINE_LINUX must become, or the refusal. */
static const struct {
        const char *name, *text, *want, *err;
} variants[] = {
        {"double quotes", "GRUB_CMDLINE_LINUX=\"ro quiet\"\n",
         "GRUB_CMDLINE_LINUX=\"ro quiet cpuidle_haltpoll.force=Y\"\n", NULL},
        {"single quotes", "A=1\nGRUB_CMDLINE_LINUX='ro quiet'\nB=2\n",
         "A=1\nGRUB_CMDLINE_LINUX='ro quiet cpuidle_haltpoll.force=Y'\nB=2\n", NULL},
        {"escaped quotes", "GRUB_CMDLINE_LINUX=\"a=\\\"x y\\\" quiet\"\n",
         "GRUB_CMDLINE_LINUX=\"a=\\\"x y\\\" quiet cpuidle_haltpoll.force=Y\"\n", NULL},
        {"empty value", "GRUB_CMDLINE_LINUX=\n", "GRUB_CMDLINE_LINUX=cpuidle_haltpoll.force=Y\n",
         NULL},
        {"duplicated keys",
         "GRUB_CMDLINE_LINUX=\"cpuidle_haltpoll.force=N x cpuidle-haltpoll.force\"\n",
         "GRUB_CMDLINE_LINUX=\"cpuidle_haltpoll.force=Y x\"\n", NULL},
        {"tabs and a comment at line end", "\tGRUB_CMDLINE_LINUX=\"ro\tquiet\"\t# keep\n",
         "\tGRUB_CMDLINE_LINUX=\"ro\tquiet cpuidle_haltpoll.force=Y\"\t# keep\n", NULL},
        {"key=value inside a quoted value",
         "GRUB_CMDLINE_LINUX=\"x=\\\"cpuidle_haltpoll.force=N\\\"\"\n",
         "GRUB_CMDLINE_LINUX=\"x=\\\"cpuidle_haltpoll.force=N\\\" cpuidle_haltpoll.force=Y\"\n",
         NULL},
        {"no trailing newline", "GRUB_TIMEOUT=5",
         "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"cpuidle_haltpoll.force=Y\"\n", NULL},
        {"export", "export GRUB_CMDLINE_LINUX=\"ro\"\n",
         "export GRUB_CMDLINE_LINUX=\"ro cpuidle_haltpoll.force=Y\"\n", NULL},
        {"CRLF", "GRUB_TIMEOUT=5\r\nGRUB_CMDLINE_LINUX=\"ro\"\r\n", NULL,
         "/etc/default/grub:1: CRLF line end: the shell would read the \\r into the value"},
        {"unbalanced quote", "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"ro quiet\n", NULL,
         "/etc/default/grub:2: unbalanced double quote"},
        {"command substitution", "GRUB_CMDLINE_LINUX=\"$(cat /etc/x)\"\n", NULL,
         "/etc/default/grub:1: the value comes from a command substitution"},
        {"if", "if [ -e /x ]; then\nGRUB_CMDLINE_LINUX=\"ro\"\nfi\n", NULL,
         "/etc/default/grub:1: not an assignment (a command or shell construct)"},
        {"line continuation", "GRUB_CMDLINE_LINUX=\"ro \\\nquiet\"\n", NULL,
         "/etc/default/grub:1: line continuation"},
        {"built from a variable", "X=ro\nGRUB_CMDLINE_LINUX=\"$X quiet\"\n", NULL,
         "/etc/default/grub:2: the value is built from other variables"},
        {"needless escape", "GRUB_CMDLINE_LINUX=\"a\\b\"\n", NULL,
         "/etc/default/grub:1: quoting that virtune cannot rewrite byte for byte"},
};

static void test_default_grub_variants(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
                print_message("variant: %s\n", variants[i].name);
                _cleanup_test_root_ char *root = vt_test_mkdtemp();
                vt_test_write(root, "etc/default/grub", variants[i].text);
                _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
                struct vt_cmdline_edit e[] = {FORCE};
                char err[600] = "";
                int r = edit(ctx, e, 1, 0, NULL, err, sizeof(err));
                if (variants[i].want) {
                        assert_int_equal(r, 0);
                        assert_file(root, "etc/default/grub", variants[i].want);
                        char *sh = NULL, *out = NULL;
                        assert_true(asprintf(&sh,
                                             "bash -n %s/etc/default/grub && . "
                                             "%s/etc/default/grub && printf %%s "
                                             "\"$GRUB_CMDLINE_LINUX\"",
                                             root, root) > 0);
                        char *argv[] = {"env", "-i", "bash", "-c", sh, NULL};
                        assert_int_equal(vt_test_run(argv, &out), 0);
                        assert_non_null(strstr(out, "cpuidle_haltpoll.force=Y"));
                        free(out);
                        free(sh);
                } else {
                        assert_int_equal(r, -EBADMSG);
                        assert_string_equal(err, variants[i].err);
                        assert_file(root, "etc/default/grub", variants[i].text);
                }
        }
}

static void test_64k_line_in_kernel_cmdline(void **state)
{
        _cleanup_test_root_ char *root = vt_test_mkdtemp();
        size_t n = 64 * 1024;
        char *line = malloc(n + 2);
        for (size_t i = 0; i < n; i++)
                line[i] = i % 16 == 15 && i + 1 < n ? ' ' : 'a' + i % 13;
        line[n] = '\n';
        line[n + 1] = 0;
        vt_test_write(root, "etc/kernel/cmdline", line);
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 1, 0, NULL, err, sizeof(err)), 0);
        char *got = vt_test_read(root, "etc/kernel/cmdline");
        assert_int_equal(strlen(got), n + 1 + strlen(" cpuidle_haltpoll.force=Y"));
        assert_memory_equal(got, line, n);
        assert_string_equal(got + n, " cpuidle_haltpoll.force=Y\n");
        free(got);
        free(line);
}

static void test_dry_run_writes_nothing(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-sles15-sp5");
        char *before = vt_test_read(root, "etc/default/grub");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        char *diff = NULL, err[600] = "";
        assert_int_equal(edit(ctx, e, 1, VT_BOOTCFG_DRY_RUN, &diff, err, sizeof(err)), 0);
        /* an image: the generated grub.cfg is edited too, so its first boot has the line */
        char *cfg = strstr(diff, "--- a/boot/grub2/grub.cfg\n");
        assert_non_null(cfg);
        assert_non_null(strstr(cfg, " crashkernel=72M,low cpuidle_haltpoll.force=Y\n"));
        *cfg = '\0';
        assert_string_equal(diff, "--- a/etc/default/grub\n+++ b/etc/default/grub\n"
                                  "@@ -9,7 +9,7 @@\n"
                                  " GRUB_HIDDEN_TIMEOUT_QUIET=true\n"
                                  " GRUB_TIMEOUT=8\n"
                                  " GRUB_CMDLINE_LINUX_DEFAULT=\"splash=silent "
                                  "resume=/dev/disk/by-uuid/2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901 "
                                  "mitigations=auto quiet security=apparmor "
                                  "crashkernel=210M,high crashkernel=72M,low\"\n"
                                  "-GRUB_CMDLINE_LINUX=\"\"\n"
                                  "+GRUB_CMDLINE_LINUX=\"cpuidle_haltpoll.force=Y\"\n"
                                  " \n"
                                  " # Uncomment to automatically save last booted menu entry in "
                                  "GRUB2 environment\n"
                                  " \n");
        free(diff);
        assert_file(root, "etc/default/grub", before);
        assert_false(vt_exists(ctx, "/var/lib/virtune"));
        free(before);
}

static void test_restore_puts_every_file_back(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-rhel9-bls");
        char *src = NULL;
        char *dir = vt_test_fixture("boot-rhel9-bls");
        assert_true(asprintf(&src, "%s/root", dir) > 0);
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE, {VT_CMDLINE_REMOVE, "console", NULL}};
        json_object *rec = NULL;
        assert_int_equal(vt_bootcfg_edit(ctx, e, 2, 0, NULL, &rec), 0);
        json_object *files = json_object_object_get(rec, "files");
        assert_int_equal(json_object_array_length(files), 3);
        char *diff = NULL;
        assert_int_equal(vt_bootcfg_restore(ctx, rec, 0, &diff), 0);
        assert_non_null(diff);
        free(diff);
        char *argv[] = {"diff", "-r", "-x", "var", src, root, NULL};
        assert_int_equal(vt_test_run(argv, NULL), 0);
        /* a second restore (a revert run again after a crash) finds every file old: no-op */
        assert_int_equal(vt_bootcfg_restore(ctx, rec, 0, NULL), 0);
        assert_int_equal(vt_test_run(argv, NULL), 0);
        /* a file that is neither virtune's bytes nor the old ones is someone else's: refused */
        vt_test_write(root, "etc/kernel/cmdline", "root=/dev/vda1 edited-by-hand\n");
        assert_int_equal(vt_bootcfg_restore(ctx, rec, 0, NULL), -ESTALE);
        json_object_put(rec);
        free(src);
        free(dir);
}

static void test_dropin_restore_removes_the_file_it_created(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-ubuntu2204-cloudimg");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        json_object *rec = NULL;
        assert_int_equal(vt_bootcfg_edit(ctx, e, 1, 0, NULL, &rec), 0);
        assert_true(vt_exists(ctx, "/etc/default/grub.d/90-virtune.cfg"));
        assert_int_equal(vt_bootcfg_restore(ctx, rec, 0, NULL), 0);
        assert_false(vt_exists(ctx, "/etc/default/grub.d/90-virtune.cfg"));
        json_object_put(rec);
}

static void test_dropin_refuses_a_later_file_setting_the_line(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-ubuntu2204-cloudimg");
        vt_test_write(root, "etc/default/grub.d/99-local.cfg",
                      "# mine\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 1, 0, NULL, err, sizeof(err)), -EBADMSG);
        assert_string_equal(err, "/etc/default/grub.d/99-local.cfg:2: sets the command line "
                                 "after virtune's 90-virtune.cfg (rename it to sort before it)");
        assert_false(vt_exists(ctx, "/etc/default/grub.d/90-virtune.cfg"));
}

static void test_mode_and_owner_are_kept(void **state)
{
        _cleanup_test_root_ char *root = vt_test_copy_fixture_root("boot-sles15-sp5");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/etc/default/grub", root) > 0);
        assert_int_equal(chmod(p, 0600), 0);
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 1, 0, NULL, err, sizeof(err)), 0);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, getuid());
        free(p);
}

static void test_no_boot_configuration_is_an_error(void **state)
{
        _cleanup_test_root_ char *root = vt_test_mkdtemp();
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        struct vt_cmdline_edit e[] = {FORCE};
        char err[600] = "";
        assert_int_equal(edit(ctx, e, 1, 0, NULL, err, sizeof(err)), -EOPNOTSUPP);
        assert_non_null(strstr(err, "no boot configuration found"));
}

static void test_grub_cfg_kernel_line_without_arguments_keeps_the_image_apart(void **state)
{
        (void)state;
        struct vt_cmdline_edit e[] = {FORCE};
        struct vt_bootcfg_set set = {0};
        const char in[] = "menuentry 'x' {\n\tlinux /vmlinuz\n}\n";
        char *out = NULL;
        size_t olen;
        assert_int_equal(vt_grub_cfg_edit("/g.cfg", in, strlen(in), e, 1, &out, &olen, NULL, &set),
                         0);
        assert_string_equal(out, "menuentry 'x' {\n\tlinux /vmlinuz cpuidle_haltpoll.force=Y\n}\n");
        free(out);
        const char bare[] = "menuentry 'x' {\n\tlinux\n}\n";
        assert_int_equal(
                vt_grub_cfg_edit("/g.cfg", bare, strlen(bare), e, 1, &out, &olen, NULL, &set),
                -EBADMSG);
        assert_string_equal(set.err, "/g.cfg:2: a kernel line without an image");
}

static void test_grub_cfg_memtest_entry_is_left_alone(void **state)
{
        (void)state;
        /* grub-common 2.06's 20_memtest86+ output beside a Linux entry */
        static const char cfg[] = "menuentry 'Debian GNU/Linux' {\n"
                                  "\tlinux\t/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro quiet\n"
                                  "}\n"
                                  "menuentry 'Memory test (memtest86+.bin)' {\n"
                                  "\tlinux16\t/boot/memtest86+.bin\n"
                                  "}\n"
                                  "menuentry 'Memory test (memtest86+.bin, serial console)' {\n"
                                  "\tlinux16\t/boot/memtest86+.bin console=ttyS0,115200n8\n"
                                  "}\n"
                                  "menuentry 'Memory test (memtest86+x64.efi)' {\n"
                                  "\tlinux\t(hd0,gpt2)/memtest86+x64.efi\n"
                                  "}\n";
        static const char want[] =
                "menuentry 'Debian GNU/Linux' {\n"
                "\tlinux\t/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro quiet nopvspin\n"
                "}\n"
                "menuentry 'Memory test (memtest86+.bin)' {\n"
                "\tlinux16\t/boot/memtest86+.bin\n"
                "}\n"
                "menuentry 'Memory test (memtest86+.bin, serial console)' {\n"
                "\tlinux16\t/boot/memtest86+.bin console=ttyS0,115200n8\n"
                "}\n"
                "menuentry 'Memory test (memtest86+x64.efi)' {\n"
                "\tlinux\t(hd0,gpt2)/memtest86+x64.efi\n"
                "}\n";
        struct vt_cmdline_edit e = {VT_CMDLINE_SET, "nopvspin", NULL};
        struct vt_bootcfg_set set = {0};
        char *out = NULL, *first = NULL;
        size_t olen = 0;
        assert_int_equal(vt_grub_cfg_edit("/boot/grub/grub.cfg", cfg, strlen(cfg), &e, 1, &out,
                                          &olen, &first, &set),
                         0);
        assert_string_equal(out, want);
        assert_string_equal(first, "root=/dev/vda1 ro quiet");
        free(out);
        free(first);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_debian_cloud_gets_dropin_after_cloud_settings),
                cmocka_unit_test(test_second_apply_changes_no_byte),
                cmocka_unit_test(test_sles_default_grub_edited_in_place),
                cmocka_unit_test(test_bls_edits_options_but_not_rescue),
                cmocka_unit_test(test_grubenv_kernelopts_rewritten_to_exactly_1024_bytes),
                cmocka_unit_test(test_grubenv_that_would_overflow_is_refused),
                cmocka_unit_test(test_openeuler_grub_cfg_linux_lines_edited),
                cmocka_unit_test(test_grub_cfg_memtest_entry_is_left_alone),
                cmocka_unit_test(test_default_grub_variants),
                cmocka_unit_test(test_64k_line_in_kernel_cmdline),
                cmocka_unit_test(test_dry_run_writes_nothing),
                cmocka_unit_test(test_restore_puts_every_file_back),
                cmocka_unit_test(test_dropin_restore_removes_the_file_it_created),
                cmocka_unit_test(test_dropin_refuses_a_later_file_setting_the_line),
                cmocka_unit_test(test_mode_and_owner_are_kept),
                cmocka_unit_test(test_no_boot_configuration_is_an_error),
                cmocka_unit_test(test_grub_cfg_kernel_line_without_arguments_keeps_the_image_apart),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
