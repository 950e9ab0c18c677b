/* The device/service detect modules (qga, rng, iosched, tpm) on small temp trees, and libblkid
 * probing on a real disk image. */
#include <sys/wait.h>
#include <fcntl.h>
#include "../lib/testlib.h"
#include "blockdev.h"
#include "ctx.h"
#include "facts.h"
#include "module.h"
#include "policy.h"

/* Runs one module's detect on root; returns its object (owned by *facts). */
static json_object *detect(const char *root, int (*fn)(struct vt_ctx *, json_object *),
                           const char *key, json_object **facts)
{
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        *facts = json_object_new_object();
        assert_int_equal(fn(ctx, *facts), 0);
        json_object *o = NULL;
        assert_true(json_object_object_get_ex(*facts, key, &o));
        return o;
}

static void assert_json(json_object *o, const char *key, const char *want)
{
        json_object *v = NULL;
        json_object_object_get_ex(o, key, &v);
        _cleanup_json_ json_object *w = json_tokener_parse(want);
        if (!json_object_equal(v, w))
                fail_msg("%s: got %s, want %s", key, json_object_to_json_string(v), want);
}

static const char debian_unit[] = "[Unit]\n"
                                  "Description=QEMU Guest Agent\n"
                                  "BindsTo=dev-virtio\\x2dports-org.qemu.guest_agent.0.device\n"
                                  "After=dev-virtio\\x2dports-org.qemu.guest_agent.0.device\n"
                                  "\n"
                                  "[Service]\n"
                                  "ExecStart=-/usr/sbin/qemu-ga\n"
                                  "Restart=always\n"
                                  "RestartSec=0\n"
                                  "\n"
                                  "[Install]\n";

static void test_qga_debian_unit_with_dropin_blocking_rpcs(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "usr/sbin/qemu-ga", "");
        vt_test_symlink(root, "lib", "usr/lib");
        vt_test_write(root, "usr/lib/systemd/system/qemu-guest-agent.service", debian_unit);
        vt_test_write(root, "etc/systemd/system/qemu-guest-agent.service.d/50-block.conf",
                      "[Service]\n"
                      "ExecStart=\n"
                      "ExecStart=-/usr/sbin/qemu-ga -b guest-exec,guest-exec-status \\\n"
                      "    --block-rpcs=guest-file-open\n");
        vt_test_write(root, "etc/qemu/qemu-ga.conf",
                      "[general]\nblock-rpcs=guest-set-user-password;guest-exec\n");
        json_object *facts;
        json_object *o = detect(root, vt_qga_detect, "qga", &facts);
        assert_json(o, "installed", "true");
        assert_json(o, "binary", "\"/usr/sbin/qemu-ga\"");
        assert_json(o, "version", "null");
        assert_json(o, "unit", "\"/usr/lib/systemd/system/qemu-guest-agent.service\"");
        assert_json(o, "unit_files",
                    "[\"/usr/lib/systemd/system/qemu-guest-agent.service\","
                    " \"/etc/systemd/system/qemu-guest-agent.service.d/50-block.conf\"]");
        assert_json(o, "config_files", "[\"/etc/qemu/qemu-ga.conf\"]");
        /* The config file's list first, then the command line's, without repeats. */
        assert_json(o, "block_rpcs",
                    "[\"guest-set-user-password\", \"guest-exec\", \"guest-exec-status\","
                    " \"guest-file-open\"]");
        assert_json(o, "allow_rpcs", "[]");
        assert_json(o, "block_source",
                    "\"/etc/systemd/system/qemu-guest-agent.service.d/50-block.conf\"");
        assert_json(o, "running", "null");
        assert_json(o, "argv", "null");
        assert_json(o, "errors", "[]");
        json_object_put(facts);
        vt_test_root_free(root);
}

static void test_qga_rhel_sysconfig_blacklist_through_environment_file(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "usr/bin/qemu-ga", "");
        vt_test_write(root, "usr/lib/systemd/system/qemu-guest-agent.service",
                      "[Unit]\n"
                      "Description=QEMU Guest Agent\n"
                      "[Service]\n"
                      "UMask=0077\n"
                      "EnvironmentFile=/etc/sysconfig/qemu-ga\n"
                      "ExecStart=/usr/bin/qemu-ga \\\n"
                      "  --method=virtio-serial \\\n"
                      "  --path=/dev/virtio-ports/org.qemu.guest_agent.0 \\\n"
                      "  --blacklist=${BLACKLIST_RPC} \\\n"
                      "  -F${FSFREEZE_HOOK_PATHNAME}\n"
                      "Restart=always\n");
        vt_test_write(root, "etc/sysconfig/qemu-ga",
                      "# This is a systemd environment file, not a shell script.\n"
                      "BLACKLIST_RPC=guest-file-open,guest-file-close,guest-exec\n"
                      "FSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n");
        json_object *facts;
        json_object *o = detect(root, vt_qga_detect, "qga", &facts);
        assert_json(o, "installed", "true");
        assert_json(o, "binary", "\"/usr/bin/qemu-ga\"");
        assert_json(o, "config_files", "[\"/etc/sysconfig/qemu-ga\"]");
        assert_json(o, "block_rpcs", "[\"guest-file-open\", \"guest-file-close\", \"guest-exec\"]");
        assert_json(o, "allow_rpcs", "[]");
        assert_json(o, "block_source", "\"/usr/lib/systemd/system/qemu-guest-agent.service\"");
        json_object_put(facts);
        vt_test_root_free(root);
}

static void test_qga_absent_is_a_fact(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        json_object *facts;
        json_object *o = detect(root, vt_qga_detect, "qga", &facts);
        assert_json(o, "installed", "false");
        assert_json(o, "unit", "null");
        assert_json(o, "unit_files", "[]");
        assert_json(o, "block_source", "null");
        assert_json(o, "errors", "[]");
        json_object_put(facts);
        vt_test_root_free(root);
}

/* rng-tools-debian ships an init script, no unit: systemd makes the unit, rc links enable it. */
static void test_rngd_debian_flavour_enabled_with_config(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "var/lib/dpkg/status",
                      "Package: rng-tools-debian\nStatus: install ok installed\nVersion: 2.3\n\n");
        vt_test_write(root, "etc/init.d/rng-tools-debian", "#!/bin/sh\n");
        vt_test_symlink(root, "etc/rc3.d/S01rng-tools-debian", "../init.d/rng-tools-debian");
        vt_test_write(root, "etc/default/rng-tools-debian", "#HRNGDEVICE=/dev/hwrng\n");
        vt_test_write(root, "sys/class/misc/hw_random/rng_available", "virtio_rng.0 \n");
        vt_test_write(root, "sys/class/misc/hw_random/rng_current", "virtio_rng.0\n");
        json_object *facts;
        json_object *o = detect(root, vt_rng_detect, "rng", &facts);
        assert_json(o, "available", "[\"virtio_rng.0\"]");
        assert_json(o, "current", "\"virtio_rng.0\"");
        assert_json(o, "quality", "null");
        assert_json(o, "virtio", "true");
        assert_json(o, "rngd",
                    "{\"installed\": true, \"flavour\": \"rng-tools-debian\","
                    " \"unit\": \"rng-tools-debian.service\", \"sysv\": true, \"enabled\": true,"
                    " \"config\": \"/etc/default/rng-tools-debian\","
                    " \"config_text\": \"#HRNGDEVICE=/dev/hwrng\\n\"}");
        json_object_put(facts);
        vt_test_root_free(root);
}

static void test_rngd_upstream_unit_without_dpkg_is_not_enabled(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "usr/lib/systemd/system/rngd.service", "[Service]\n");
        vt_test_write(root, "etc/systemd/system/.keep", "");
        json_object *facts;
        json_object *o = detect(root, vt_rng_detect, "rng", &facts);
        assert_json(o, "available", "[]");
        assert_json(o, "current", "null");
        assert_json(o, "rngd",
                    "{\"installed\": true, \"flavour\": \"rng-tools\", \"unit\": \"rngd.service\","
                    " \"sysv\": false, \"enabled\": false, \"config\": null,"
                    " \"config_text\": null}");
        json_object_put(facts);
        vt_test_root_free(root);
}

static void test_iosched_serial_from_udev_db_and_unreadable_scheduler(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        const char *dev = "sys/devices/pci0000:00/0000:00:05.0/virtio4";
        char p[512];
        vt_test_symlink(root, "sys/block/vdb",
                        "../devices/pci0000:00/0000:00:05.0/virtio4/block/vdb");
        snprintf(p, sizeof(p), "%s/driver", dev);
        vt_test_symlink(root, p, "../../../../bus/virtio/drivers/virtio_blk");
        snprintf(p, sizeof(p), "%s/block/vdb/dev", dev);
        vt_test_write(root, p, "252:16\n");
        snprintf(p, sizeof(p), "%s/block/vdb/size", dev);
        vt_test_write(root, p, "2048\n");
        snprintf(p, sizeof(p), "%s/block/vdb/queue/rotational", dev);
        vt_test_write(root, p, "0\n");
        /* A directory where a file should be: read fails with EISDIR, an error, not a stop. */
        snprintf(p, sizeof(p), "%s/block/vdb/queue/scheduler/x", dev);
        vt_test_write(root, p, "");
        vt_test_write(
                root, "run/udev/data/b252:16",
                "S:disk/by-id/virtio-data1\nE:ID_SERIAL=data1\nE:ID_WWN=0x5000c500a1b2c3d4\n");
        json_object *facts;
        json_object *o = detect(root, vt_iosched_detect, "iosched", &facts);
        assert_json(o, "disks",
                    "[{\"name\": \"vdb\", \"kind\": \"virtio-blk\", \"virtual\": false,"
                    " \"rotational\": false, \"scheduler\": null, \"schedulers\": [],"
                    " \"size_bytes\": 1048576, \"serial\": \"data1\","
                    " \"wwn\": \"0x5000c500a1b2c3d4\", \"model\": null, \"partitions\": []}]");
        assert_json(o, "errors",
                    "[{\"path\": \"/sys/devices/pci0000:00/0000:00:05.0/virtio4/block/vdb/queue/"
                    "scheduler\", \"error\": \"Is a directory\"}]");
        json_object_put(facts);
        vt_test_root_free(root);
}

/* One disk whose sysfs path is devpath, the driver link of one ancestor, and its size. */
static void make_disk(const char *root, const char *name, const char *devpath,
                      const char *driver_dir, const char *driver)
{
        char p[512], t[512];
        snprintf(p, sizeof(p), "sys/block/%s", name);
        snprintf(t, sizeof(t), "../%s", devpath + 4); /* devpath starts with "sys/" */
        vt_test_symlink(root, p, t);
        snprintf(p, sizeof(p), "%s/driver", driver_dir);
        snprintf(t, sizeof(t), "/sys/bus/x/drivers/%s", driver);
        vt_test_symlink(root, p, t);
        snprintf(p, sizeof(p), "%s/size", devpath);
        vt_test_write(root, p, "8\n");
}

static void test_iosched_kind_follows_the_nearest_known_driver(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        /* NVMe: the PCI function is bound to nvme, two levels above the namespace. */
        make_disk(root, "nvme0n1", "sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1",
                  "sys/devices/pci0000:00/0000:00:04.0", "nvme");
        /* SATA through ahci: no known driver, but a SCSI host on the way. */
        make_disk(root, "sda",
                  "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda",
                  "sys/devices/pci0000:00/0000:00:1f.2", "ahci");
        /* Xen's blkfront: nothing known, no SCSI host. */
        make_disk(root, "xvda", "sys/devices/vbd-51712/block/xvda", "sys/devices/vbd-51712", "vbd");
        json_object *facts;
        json_object *o = detect(root, vt_iosched_detect, "iosched", &facts);
        json_object *disks = json_object_object_get(o, "disks");
        assert_int_equal(json_object_array_length(disks), 3);
        const char *want[][2] = {{"nvme0n1", "nvme"}, {"sda", "scsi"}, {"xvda", "other"}};
        for (size_t i = 0; i < 3; i++) {
                json_object *d = json_object_array_get_idx(disks, i);
                assert_string_equal(json_object_get_string(json_object_object_get(d, "name")),
                                    want[i][0]);
                assert_string_equal(json_object_get_string(json_object_object_get(d, "kind")),
                                    want[i][1]);
                assert_int_equal(json_object_get_int64(json_object_object_get(d, "size_bytes")),
                                 4096);
        }
        assert_json(o, "errors", "[]");
        json_object_put(facts);
        vt_test_root_free(root);
}

/* A running qemu-ga: /proc/4242 with its comm and argv, and its unit. */
static char *qga_running_root(void)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "usr/sbin/qemu-ga", "");
        vt_test_write(root, "lib/systemd/system/qemu-guest-agent.service", debian_unit);
        vt_test_write(root, "proc/17/comm", "bash\n");
        vt_test_write(root, "proc/4242/comm", "qemu-ga\n");
        vt_test_write(root, "proc/4242/cmdline", "/usr/sbin/qemu-ga");
        vt_test_write(root, "sys/fs/cgroup/system.slice/cron.service/cgroup.procs", "17\n");
        return root;
}

static json_object *detect_qga_as(const char *root, bool for_plan, json_object **facts)
{
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        ctx->live = true; /* the tree stands for a running system: its /proc is looked at */
        ctx->for_plan = for_plan;
        *facts = json_object_new_object();
        assert_int_equal(vt_qga_detect(ctx, *facts), 0);
        return json_object_object_get(*facts, "qga");
}

/*
 * For a plan, qemu-ga's process is its unit's (systemd's cgroup.procs: one file, no scan of
 * every /proc/N/comm); `virtune detect` still finds one run by hand.
 */
static void test_qga_plan_detect_asks_the_units_cgroup_not_every_process(void **state)
{
        (void)state;
        char *root = qga_running_root();
        json_object *facts;
        json_object *o = detect_qga_as(root, false, &facts);
        assert_json(o, "running", "true");
        assert_json(o, "pid", "4242");
        json_object_put(facts);
        /* The unit has no cgroup: it is not running, whatever else is called qemu-ga. */
        o = detect_qga_as(root, true, &facts);
        assert_json(o, "running", "false");
        assert_json(o, "pid", "null");
        json_object_put(facts);
        vt_test_write(root, "sys/fs/cgroup/system.slice/qemu-guest-agent.service/cgroup.procs",
                      "17\n4242\n");
        o = detect_qga_as(root, true, &facts);
        assert_json(o, "running", "true");
        assert_json(o, "pid", "4242");
        json_object_put(facts);
        /* No systemd cgroup tree at all (cgroup v1 without it, no systemd): /proc is scanned. */
        vt_test_rm_rf(root);
        free(root);
        root = qga_running_root();
        char *rm[] = {"rm", "-rf", NULL, NULL};
        char path[512];
        snprintf(path, sizeof(path), "%s/sys/fs/cgroup", root);
        rm[2] = path;
        assert_int_equal(vt_test_run(rm, NULL), 0);
        o = detect_qga_as(root, true, &facts);
        assert_json(o, "pid", "4242");
        json_object_put(facts);
        vt_test_root_free(root);
}

/* Two disks: vda (virtio, one partition) and loop0 (virtual). */
static char *two_disks_root(void)
{
        char *root = vt_test_mkdtemp();
        const char *vda = "sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda";
        make_disk(root, "vda", vda, "sys/devices/pci0000:00/0000:00:04.0/virtio2", "virtio_blk");
        char p[512];
        snprintf(p, sizeof(p), "%s/queue/scheduler", vda);
        vt_test_write(root, p, "[mq-deadline] none\n");
        snprintf(p, sizeof(p), "%s/vda1/partition", vda);
        vt_test_write(root, p, "1\n");
        vt_test_symlink(root, "sys/block/loop0", "../devices/virtual/block/loop0");
        vt_test_write(root, "sys/devices/virtual/block/loop0/queue/scheduler", "[none]\n");
        return root;
}

/* A plan's detection leaves out what no plan reads: loop devices, partitions, identities. */
static void test_iosched_plan_detect_skips_virtual_disks_and_partitions(void **state)
{
        (void)state;
        char *root = two_disks_root();
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        json_object *facts = json_object_new_object();
        assert_int_equal(vt_iosched_detect(ctx, facts), 0);
        json_object *disks = vt_facts_get(facts, "iosched", "disks");
        assert_int_equal(json_object_array_length(disks), 2);
        assert_json(json_object_array_get_idx(disks, 1), "partitions",
                    "[{\"name\": \"vda1\", \"number\": 1, \"size_bytes\": 0, \"fstype\": null,"
                    " \"uuid\": null, \"parttype\": null, \"esp\": false}]");
        json_object_put(facts);

        ctx->for_plan = true;
        facts = json_object_new_object();
        assert_int_equal(vt_iosched_detect(ctx, facts), 0);
        assert_json(
                json_object_object_get(facts, "iosched"), "disks",
                "[{\"name\": \"vda\", \"kind\": \"virtio-blk\", \"virtual\": false,"
                " \"scheduler\": \"mq-deadline\", \"schedulers\": [\"mq-deadline\", \"none\"]}]");
        json_object_put(facts);

        /* A policy that names disks gets every disk, whole. */
        char err[256];
        ctx->policy = vt_policy_new();
        assert_int_equal(vt_policy_parse(ctx->policy, "t.conf",
                                         "[iosched]\ndevice.loop0 = mq-deadline\n", err,
                                         sizeof(err)),
                         0);
        facts = json_object_new_object();
        assert_int_equal(vt_iosched_detect(ctx, facts), 0);
        disks = vt_facts_get(facts, "iosched", "disks");
        assert_int_equal(json_object_array_length(disks), 2);
        assert_true(json_object_object_get_ex(json_object_array_get_idx(disks, 0), "serial", NULL));
        json_object_put(facts);
        vt_test_root_free(root);
}

/* rngd is looked for only where rng_plan() would ask: a virtio source the kernel does not feed. */
static void test_rng_plan_detect_skips_rngd_when_the_kernel_credits_the_source(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        /* dpkg's status as a directory: reading it is an error the facts would carry */
        vt_test_write(root, "var/lib/dpkg/status/x", "");
        vt_test_write(root, "sys/class/misc/hw_random/rng_available", "virtio_rng.0 \n");
        vt_test_write(root, "sys/class/misc/hw_random/rng_current", "virtio_rng.0\n");
        vt_test_write(root, "sys/class/misc/hw_random/rng_quality", "1000\n");
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        ctx->for_plan = true;
        json_object *facts = json_object_new_object();
        assert_int_equal(vt_rng_detect(ctx, facts), 0);
        json_object *o = json_object_object_get(facts, "rng");
        assert_json(o, "errors", "[]");
        assert_null(json_object_object_get(o, "rngd"));
        json_object_put(facts);
        /* quality 0: rngd matters, and so does dpkg */
        vt_test_write(root, "sys/class/misc/hw_random/rng_quality", "0\n");
        facts = json_object_new_object();
        assert_int_equal(vt_rng_detect(ctx, facts), 0);
        o = json_object_object_get(facts, "rng");
        assert_non_null(json_object_object_get(o, "rngd"));
        assert_int_equal(json_object_array_length(json_object_object_get(o, "errors")), 1);
        json_object_put(facts);
        vt_test_root_free(root);
}

static void test_tpm12_without_version_or_banks(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_symlink(root, "sys/class/tpm/tpm0", "../../devices/pnp0/00:05/tpm/tpm0");
        vt_test_symlink(root, "sys/devices/pnp0/00:05/tpm/tpm0/device", "../../../00:05");
        vt_test_symlink(root, "sys/devices/pnp0/00:05/driver", "../../../bus/pnp/drivers/tpm_tis");
        vt_test_write(root, "dev/tpm0", "");
        json_object *facts;
        json_object *o = detect(root, vt_tpm_detect, "tpm", &facts);
        assert_json(o, "present", "true");
        assert_json(o, "devices",
                    "[{\"name\": \"tpm0\", \"version_major\": null, \"driver\": \"tpm_tis\","
                    " \"dev\": \"/dev/tpm0\", \"rm_dev\": null, \"eventlog\": false,"
                    " \"banks\": []}]");
        assert_json(o, "securityfs", "false");
        json_object_put(facts);
        vt_test_root_free(root);
}

static bool have(const char *tool)
{
        char *argv[] = {"sh", "-c", NULL, NULL};
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null || test -x /sbin/%s", tool, tool);
        argv[2] = cmd;
        return vt_test_run(argv, NULL) == 0;
}

static void test_blk_probe_reads_gpt_esp_and_filesystems(void **state)
{
        (void)state;
        if (!have("sfdisk") || !have("mkfs.ext4") || !have("mkfs.vfat"))
                skip(); /* packaging/deps/detect.txt installs them */
        char *dir = vt_test_mkdtemp();
        char img[400], cmd[4096];
        snprintf(img, sizeof(img), "%s/disk.img", dir);
        snprintf(cmd, sizeof(cmd),
                 "PATH=$PATH:/sbin:/usr/sbin; set -e; truncate -s 96M %s;"
                 "printf 'label: gpt\\nstart=2048, size=65536, "
                 "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\\nstart=67584, "
                 "type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\\n' | sfdisk -q %s;"
                 "mkfs.vfat -i 0x7a3c19e2 --offset 2048 %s 32768 >/dev/null 2>&1;"
                 "mkfs.ext4 -q -F -U 1031dde5-b9b3-4336-b592-f8f2676a6fef -E offset=%d %s 63000k",
                 img, img, img, 67584 * 512, img);
        char *argv[] = {"sh", "-c", cmd, NULL};
        assert_int_equal(vt_test_run(argv, NULL), 0);
        int fd = open(img, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        _cleanup_(vt_blk_table_free) struct vt_blk_table t = {};
        assert_int_equal(vt_blk_probe_fd(fd, &t), 0);
        close(fd);
        assert_int_equal(t.n, 2);
        const struct vt_blk_part *esp = vt_blk_table_find(&t, 1), *rootp = vt_blk_table_find(&t, 2);
        assert_non_null(esp);
        assert_non_null(rootp);
        assert_string_equal(esp->fstype, "vfat");
        assert_string_equal(esp->uuid, "7A3C-19E2");
        assert_string_equal(esp->parttype, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
        assert_true(vt_blk_is_esp(esp->parttype));
        assert_string_equal(rootp->fstype, "ext4");
        assert_string_equal(rootp->uuid, "1031dde5-b9b3-4336-b592-f8f2676a6fef");
        assert_false(vt_blk_is_esp(rootp->parttype));
        assert_true(vt_blk_is_esp("0xef"));
        vt_test_root_free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_qga_debian_unit_with_dropin_blocking_rpcs),
                cmocka_unit_test(test_qga_rhel_sysconfig_blacklist_through_environment_file),
                cmocka_unit_test(test_qga_absent_is_a_fact),
                cmocka_unit_test(test_rngd_debian_flavour_enabled_with_config),
                cmocka_unit_test(test_rngd_upstream_unit_without_dpkg_is_not_enabled),
                cmocka_unit_test(test_iosched_serial_from_udev_db_and_unreadable_scheduler),
                cmocka_unit_test(test_iosched_kind_follows_the_nearest_known_driver),
                cmocka_unit_test(test_qga_plan_detect_asks_the_units_cgroup_not_every_process),
                cmocka_unit_test(test_iosched_plan_detect_skips_virtual_disks_and_partitions),
                cmocka_unit_test(
                        test_rng_plan_detect_skips_rngd_when_the_kernel_credits_the_source),
                cmocka_unit_test(test_tpm12_without_version_or_banks),
                cmocka_unit_test(test_blk_probe_reads_gpt_esp_and_filesystems),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
