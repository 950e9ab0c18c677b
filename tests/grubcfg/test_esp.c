/*
 * The ESP found on a running system: libblkid reads a real GPT (and MBR) image made with sfdisk
 * and mkfs.vfat, mountinfo in a temp root says where it is mounted, and the grub.cfg backend
 * edits <mount point>/EFI/<vendor>/grub.cfg there.
 */
#include "../lib/testlib.h"
#include "esp.h"
#include "grubcfg.h"

static const char grub_cfg[] = "menuentry 'Debian GNU/Linux' {\n"
                               "\tlinux /vmlinuz-6.1.0-28-amd64 root=UUID=1031dde5 ro quiet\n"
                               "}\n";

static bool have(const char *tool)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "PATH=$PATH:/sbin:/usr/sbin command -v %s >/dev/null", tool);
        char *argv[] = {"sh", "-c", cmd, NULL};
        return vt_test_run(argv, NULL) == 0;
}

/*
 * A root whose /dev/vda is a disk image (partition 1 the ESP, vfat), /sys/block/vda as the
 * kernel shows it, mountinfo with the ESP on mp, and a grub.cfg on it.
 */
static char *esp_root(const char *label, const char *esp_type, const char *mp)
{
        char *root = vt_test_mkdtemp(), cmd[4096];
        vt_test_write(root, "dev/.keep", "");
        snprintf(cmd, sizeof(cmd),
                 "PATH=$PATH:/sbin:/usr/sbin; set -e; img=%s/dev/vda; truncate -s 48M $img;"
                 "printf 'label: %s\\nstart=2048, size=65536, type=%s\\nstart=67584, type=%s\\n'"
                 " | sfdisk -q $img;"
                 "mkfs.vfat -i 0x7a3c19e2 --offset 2048 $img 32768 >/dev/null 2>&1",
                 root, label, esp_type,
                 streq(label, "gpt") ? "0FC63DAF-8483-4772-8E79-3D69D8477DE4" : "83");
        char *argv[] = {"sh", "-c", cmd, NULL};
        assert_int_equal(vt_test_run(argv, NULL), 0);
        vt_test_write(root, "sys/block/vda/dev", "254:0\n");
        vt_test_write(root, "sys/block/vda/vda1/partition", "1\n");
        vt_test_write(root, "sys/block/vda/vda1/dev", "254:1\n");
        vt_test_write(root, "sys/block/vda/vda2/partition", "2\n");
        vt_test_write(root, "sys/block/vda/vda2/dev", "254:2\n");
        char mi[1024], cfg[512];
        /* a bind mount of a directory of the ESP comes first: it is not the ESP's top */
        snprintf(mi, sizeof(mi),
                 "22 1 254:2 / / rw,relatime shared:1 - ext4 /dev/vda2 rw\n"
                 "40 22 254:1 /EFI /mnt/efi-bind rw,relatime shared:9 - vfat /dev/vda1 rw\n"
                 "41 22 254:1 / %s rw,relatime shared:10 - vfat /dev/vda1 rw,fmask=0077\n",
                 mp);
        vt_test_write(root, "proc/self/mountinfo", mi);
        snprintf(cfg, sizeof(cfg), "%s/EFI/debian/grub.cfg", mp + 1);
        vt_test_write(root, cfg, grub_cfg);
        return root;
}

static void test_mountinfo_find_undoes_escapes_and_skips_bind_mounts(void **state)
{
        (void)state;
        const char *mi = "40 22 8:1 /sub /elsewhere rw - vfat /dev/sda1 rw\n"
                         "41 22 8:1 / /boot/my\\040efi rw - vfat /dev/sda1 rw\n"
                         "42 22 8:10 / /other rw - ext4 /dev/sda10 rw";
        char *mp = NULL;
        assert_int_equal(vt_esp_mountinfo_find(mi, 8, 1, &mp), 0);
        assert_string_equal(mp, "/boot/my efi");
        free(mp);
        assert_int_equal(vt_esp_mountinfo_find(mi, 8, 10, &mp), 0);
        assert_string_equal(mp, "/other");
        free(mp);
        assert_int_equal(vt_esp_mountinfo_find(mi, 8, 2, &mp), -ENOENT);
        assert_int_equal(vt_esp_mountinfo_find("", 8, 1, &mp), -ENOENT);
}

static void test_live_esp_on_gpt_and_mbr_found_and_its_grub_cfg_edited(void **state)
{
        (void)state;
        if (!have("sfdisk") || !have("mkfs.vfat"))
                skip(); /* packaging/deps/detect.txt installs them */
        const char *tables[][2] = {{"gpt", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"}, {"dos", "ef"}};
        for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
                char *root = esp_root(tables[i][0], tables[i][1], "/efi");
                struct vt_ctx *ctx = NULL;
                assert_int_equal(vt_ctx_new(root, &ctx), 0);
                ctx->live = true;
                char *mp = NULL;
                assert_int_equal(vt_esp_mountpoint(ctx, &mp), 0);
                assert_string_equal(mp, "/efi");
                free(mp);
                struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"}};
                char *diff = NULL;
                json_object *rec = NULL;
                assert_int_equal(vt_bootcfg_edit(ctx, e, 1, VT_BOOTCFG_NO_GENERATOR, &diff, &rec),
                                 0);
                assert_non_null(strstr(diff, "--- a/efi/EFI/debian/grub.cfg\n"));
                char *got = vt_test_read(root, "efi/EFI/debian/grub.cfg");
                assert_string_equal(got, "menuentry 'Debian GNU/Linux' {\n"
                                         "\tlinux /vmlinuz-6.1.0-28-amd64 root=UUID=1031dde5 ro "
                                         "quiet cpuidle_haltpoll.force=Y\n"
                                         "}\n");
                free(got);
                free(diff);
                json_object_put(rec);
                vt_ctx_free(ctx);
                vt_test_root_free(root);
        }
}

static void test_image_esp_is_not_probed(void **state)
{
        (void)state;
        if (!have("sfdisk") || !have("mkfs.vfat"))
                skip();
        char *root = esp_root("gpt", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "/efi");
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        assert_false(ctx->live);
        char *mp = NULL;
        assert_int_equal(vt_esp_mountpoint(ctx, &mp), -EOPNOTSUPP);
        /* an image is read at its usual paths only: /boot/efi has nothing here */
        struct vt_cmdline_edit e[] = {{VT_CMDLINE_SET, "cpuidle_haltpoll.force", "Y"}};
        assert_int_equal(vt_bootcfg_edit(ctx, e, 1, VT_BOOTCFG_NO_GENERATOR, NULL, NULL),
                         -EOPNOTSUPP);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

static void test_unmounted_esp_gives_enoent(void **state)
{
        (void)state;
        if (!have("sfdisk") || !have("mkfs.vfat"))
                skip();
        char *root = esp_root("gpt", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "/efi");
        vt_test_write(root, "proc/self/mountinfo",
                      "22 1 254:2 / / rw,relatime shared:1 - ext4 /dev/vda2 rw\n");
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = true;
        char *mp = NULL;
        assert_int_equal(vt_esp_mountpoint(ctx, &mp), -ENOENT);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mountinfo_find_undoes_escapes_and_skips_bind_mounts),
                cmocka_unit_test(test_live_esp_on_gpt_and_mbr_found_and_its_grub_cfg_edited),
                cmocka_unit_test(test_image_esp_is_not_probed),
                cmocka_unit_test(test_unmounted_esp_gives_enoent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
