/* apply, verify, revert on temp roots: what changes, what stays byte-identical, rollback. */
#include <ftw.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include "ctx.h"
#include "grubcfg.h"
#include "exec.h"
#include "fsutil.h"
#include "journal.h"
#include "module.h"
#include "vt_cpuid.h"
#include "plan.h"
#include "policy.h"
#include "tune.h"
#include "../lib/testlib.h"
#include "tree_snapshot.h"

/* A root like a KVM guest with a virtio disk, a SCSI disk, virtio-rng and rng-tools-debian. */
#define RNG_DEFAULT "# Configuration for rng-tools-debian\n#HRNGDEVICE=/dev/hwrng\n"
static char *make_root(void)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "sys/block/vda/queue/scheduler", "none [mq-deadline] kyber bfq\n");
        vt_test_write(root, "sys/block/vdb/queue/scheduler", "none [mq-deadline] kyber bfq\n");
        vt_test_write(root, "sys/block/sda/queue/scheduler", "none [mq-deadline]\n");
        vt_test_write(root, "sys/devices/virtual/misc/hw_random/rng_current", "none\n");
        vt_test_symlink(root, "sys/class/misc/hw_random", "../../devices/virtual/misc/hw_random");
        vt_test_write(root, "etc/default/rng-tools-debian", RNG_DEFAULT);
        /* The package ships an init script only; update-rc.d made its links. */
        vt_test_write(root, "etc/init.d/rng-tools-debian", "#!/bin/sh\n");
        vt_test_symlink(root, "etc/rc2.d/S01rng-tools-debian", "../init.d/rng-tools-debian");
        return root;
}

static json_object *load_facts(const char *name)
{
        _cleanup_free_ char *dir = NULL;
        assert_true(asprintf(&dir, "%s/tests/tune/cases/%s", getenv("VT_SOURCE"), name) > 0);
        _cleanup_free_ char *text = vt_test_read(dir, "facts.json");
        assert_non_null(text);
        json_object *facts = json_tokener_parse(text);
        assert_non_null(facts);
        return facts;
}

/* rngd wanted (quality 0), a second virtio disk: every kind of persistent and runtime target. */
static json_object *facts_for_root(void)
{
        json_object *facts = load_facts("haltpoll-yes-module-rngd-debian"), *disks, *rng, *q;
        json_object_object_get_ex(json_object_object_get(facts, "iosched"), "disks", &disks);
        json_object *vdb = NULL;
        json_object_deep_copy(json_object_array_get_idx(disks, 0), &vdb, NULL);
        json_object_object_add(vdb, "name", json_object_new_string("vdb"));
        json_object_object_add(vdb, "serial", json_object_new_string("disk-data"));
        json_object_array_add(disks, vdb);
        rng = json_object_object_get(facts, "rng");
        assert_true(json_object_object_get_ex(rng, "quality", &q));
        json_object *rngd = json_object_object_get(rng, "rngd");
        json_object_object_add(rngd, "enabled", json_object_new_boolean(true));
        json_object_object_add(rngd, "config_text", json_object_new_string(RNG_DEFAULT));
        /* qemu-ga installed, stopped: the config file is written, the try-restart skipped. */
        json_object_object_add(json_object_object_get(facts, "qga"), "running",
                               json_object_new_boolean(false));
        return facts;
}

/* Haltpoll forced on, so the module load and its modprobe.d file are planned too. */
#define CONF "[haltpoll]\nenable = yes\n"

static struct vt_ctx *ctx_for(const char *root, bool live, const char *conf)
{
        if (conf)
                vt_test_write(root, "etc/virtune/virtune.conf", conf);
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = live;
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_policy_load(ctx, &ctx->policy, err, sizeof(err)), 0);
        return ctx;
}

/* Removes the policy ctx_for() wrote and its directory, so the tree compares with the fixture. */
static void remove_test_policy(const char *root)
{
        _cleanup_free_ char *p = NULL;
        assert_true(asprintf(&p, "%s/etc/virtune/virtune.conf", root) > 0);
        assert_int_equal(unlink(p), 0);
        *strrchr(p, '/') = '\0';
        assert_int_equal(rmdir(p), 0);
}

static const char *status_of(json_object *entry)
{
        return json_object_get_string(json_object_object_get(entry, "status"));
}

static int apply(struct vt_ctx *ctx, json_object *facts, json_object **entry)
{
        struct vt_apply_opts o = {.facts = facts};
        return vt_tune_apply(ctx, &o, entry);
}

static void test_apply_sets_runtime_and_persistent_targets(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *entry = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        assert_int_equal(apply(ctx, facts, &entry), 0);
        assert_string_equal(status_of(entry), "applied");
        _cleanup_free_ char *vda = vt_test_read(root, "sys/block/vda/queue/scheduler");
        _cleanup_free_ char *sda = vt_test_read(root, "sys/block/sda/queue/scheduler");
        _cleanup_free_ char *rng = vt_test_read(root, "sys/class/misc/hw_random/rng_current");
        _cleanup_free_ char *rule = vt_test_read(root, "etc/udev/rules.d/60-virtune-iosched.rules");
        _cleanup_free_ char *deb = vt_test_read(root, "etc/default/rng-tools-debian");
        _cleanup_free_ char *qga = vt_test_read(root, "etc/qemu/qemu-ga.conf");
        _cleanup_free_ char *modprobe = vt_test_read(root, "etc/modprobe.d/virtune-haltpoll.conf");
        assert_string_equal(vda, "none");
        assert_string_equal(sda, "none [mq-deadline]\n"); /* not virtual, not configured */
        assert_string_equal(rng, "virtio_rng.0");
        assert_true(startswith(rule, VT_OWNED_HEADER));
        assert_string_equal(deb, RNG_DEFAULT "HRNGDEVICE=/dev/hwrng\n");
        assert_true(startswith(qga, VT_OWNED_HEADER "[general]\nblock-rpcs=guest-exec,"));
        assert_string_equal(modprobe, VT_OWNED_HEADER "options cpuidle_haltpoll force=1\n");
        /* A SysV service is enabled by its rc links, which it has: no systemd link is made. */
        _cleanup_free_ char *units = NULL;
        assert_true(asprintf(&units, "%s/etc/systemd/system", root) > 0);
        assert_int_not_equal(access(units, F_OK), 0);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/*
 * The write-ahead intent is written once, before the first target is touched, however many
 * changes there are (it was rewritten before each: two fsyncs apiece).
 */
static void test_apply_writes_its_intent_once_before_any_target(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *entry = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        vt_test_write(root, "var/lib/virtune/.keep", "");
        _cleanup_close_ int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        assert_true(in >= 0);
        const char *dirs[] = {"var/lib/virtune", "etc/default", "sys/block/vda/queue"};
        int wds[ARRAY_SIZE(dirs)];
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *p = NULL;
                assert_true(asprintf(&p, "%s/%s", root, dirs[i]) > 0);
                wds[i] = inotify_add_watch(in, p, IN_MOVED_TO | IN_CLOSE_WRITE);
                assert_true(wds[i] >= 0);
        }
        assert_int_equal(apply(ctx, facts, &entry), 0);
        assert_string_equal(status_of(entry), "applied");
        unsigned intents = 0, targets = 0, targets_before_intent = 0;
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        for (ssize_t k; (k = read(in, buf, sizeof(buf))) > 0;)
                for (char *p = buf; p < buf + k;) {
                        struct inotify_event *e = (struct inotify_event *)p;
                        p += sizeof(*e) + e->len;
                        if (e->wd == wds[0] && e->mask & IN_MOVED_TO &&
                            streq(e->name, "intent.json"))
                                intents++;
                        else if ((e->wd == wds[1] && e->mask & IN_MOVED_TO) ||
                                 (e->wd == wds[2] && e->mask & IN_CLOSE_WRITE &&
                                  streq(e->name, "scheduler"))) {
                                targets++;
                                targets_before_intent += intents == 0;
                        }
                }
        assert_int_equal(targets, 2); /* /etc/default/rng-tools-debian, vda's scheduler */
        assert_int_equal(targets_before_intent, 0);
        assert_int_equal(intents, 1);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_apply_then_verify_finds_no_drift(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *entry = NULL, *v = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        assert_int_equal(apply(ctx, facts, &entry), 0);
        assert_int_equal(vt_tune_verify(ctx, facts, &v), 0);
        json_object *drift = json_object_object_get(v, "drift");
        /* The command line waits for grubcfg and the module for the real root: no other drift. */
        for (size_t i = 0; i < json_object_array_length(drift); i++) {
                const char *kind = json_object_get_string(
                        json_object_object_get(json_object_array_get_idx(drift, i), "kind"));
                assert_true(streq(kind, "cmdline") || streq(kind, "kmod"));
        }
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_apply_twice_second_is_noop(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e1 = NULL, *e2 = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        assert_int_equal(apply(ctx, facts, &e1), 0);
        _cleanup_free_ char *after1 = snapshot(root);
        _cleanup_free_ char *journal1 = vt_test_read(root, "var/lib/virtune/journal.json");
        assert_int_equal(apply(ctx, facts, &e2), 0);
        _cleanup_free_ char *after2 = snapshot(root);
        assert_same_tree(after1, after2);
        assert_string_equal(status_of(e2), "no-op");
        /* Nothing changed, nothing to revert: the journal is not written either. */
        _cleanup_free_ char *journal2 = vt_test_read(root, "var/lib/virtune/journal.json");
        assert_non_null(journal1);
        assert_string_equal(journal1, journal2);
        /* Only targets that cannot be written here remain, each said to be skipped. */
        json_object *changes = json_object_object_get(e2, "changes");
        for (size_t i = 0; i < json_object_array_length(changes); i++)
                assert_string_equal(json_object_get_string(json_object_object_get(
                                            json_object_array_get_idx(changes, i), "result")),
                                    "skipped");
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_revert_restores_tree_byte_identical(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL, *r = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        _cleanup_free_ char *before = snapshot(root);
        assert_int_equal(apply(ctx, facts, &e), 0);
        _cleanup_free_ char *during = snapshot(root);
        assert_string_not_equal(before, during);
        assert_int_equal(vt_tune_revert(ctx, false, &r), 0);
        assert_string_equal(status_of(r), "reverted");
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        /* Nothing left to revert: the journal says the apply was undone. */
        json_object_put(r);
        r = NULL;
        assert_int_equal(vt_tune_revert(ctx, false, &r), 0);
        assert_string_equal(status_of(r), "nothing-to-revert");
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_offline_root_writes_only_persistent_targets(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL;
        struct vt_ctx *ctx = ctx_for(root, false, CONF);
        assert_int_equal(apply(ctx, facts, &e), 0);
        _cleanup_free_ char *vda = vt_test_read(root, "sys/block/vda/queue/scheduler");
        _cleanup_free_ char *rng = vt_test_read(root, "sys/class/misc/hw_random/rng_current");
        _cleanup_free_ char *rule = vt_test_read(root, "etc/udev/rules.d/60-virtune-iosched.rules");
        assert_string_equal(vda, "none [mq-deadline] kyber bfq\n");
        assert_string_equal(rng, "none\n");
        assert_non_null(rule);
        json_object *changes = json_object_object_get(e, "changes");
        size_t skipped = 0;
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                if (streq(json_object_get_string(json_object_object_get(c, "when")), "now")) {
                        assert_string_equal(
                                json_object_get_string(json_object_object_get(c, "note")),
                                "skipped: runtime target on an offline root");
                        skipped++;
                }
        }
        assert_true(skipped >= 4); /* vda, vdb, rng_current, kmod, restarts */
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_partial_failure_rolls_back_and_journals(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL, *j = NULL;
        /*
         * rngd's config cannot be replaced (a directory where its temp file goes): that write
         * fails after the schedulers and the modprobe.d file were made. (A target that cannot
         * even be read fails before the intent is written: nothing is touched at all.)
         */
        char tmp[NAME_MAX + 1], *planted = NULL;
        assert_int_equal(vt_fs_tmpname(tmp, sizeof(tmp), "rng-tools-debian", getpid()), 0);
        assert_true(asprintf(&planted, "%s/etc/default/%s", root, tmp) > 0);
        assert_int_equal(mkdir(planted, 0755), 0);
        free(planted);
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        _cleanup_free_ char *before = snapshot(root);
        assert_int_equal(apply(ctx, facts, &e), 1);
        assert_string_equal(status_of(e), "rolled-back");
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        assert_int_equal(vt_journal_load(ctx, &j), 0);
        json_object *entries = vt_journal_entries(j);
        assert_int_equal(json_object_array_length(entries), 1);
        json_object *last = json_object_array_get_idx(entries, 0);
        assert_string_equal(status_of(last), "rolled-back");
        bool saw_rolled = false, saw_failed = false;
        json_object *changes = json_object_object_get(last, "changes");
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                const char *res = json_object_get_string(
                        json_object_object_get(json_object_array_get_idx(changes, i), "result"));
                saw_rolled |= streq(res, "rolled-back");
                saw_failed |= streq(res, "failed");
        }
        assert_true(saw_rolled && saw_failed);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_dry_run_writes_nothing(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        _cleanup_free_ char *before = snapshot(root);
        struct vt_apply_opts o = {.facts = facts, .dry_run = true};
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        assert_string_equal(status_of(e), "dry-run");
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        assert_false(vt_exists(ctx, VT_JOURNAL_PATH));
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_only_limits_apply_to_one_module(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        const char *only[] = {"rng", NULL};
        struct vt_apply_opts o = {.facts = facts, .only = only};
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        _cleanup_free_ char *vda = vt_test_read(root, "sys/block/vda/queue/scheduler");
        _cleanup_free_ char *rng = vt_test_read(root, "sys/class/misc/hw_random/rng_current");
        assert_string_equal(vda, "none [mq-deadline] kyber bfq\n");
        assert_string_equal(rng, "virtio_rng.0");
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/*
 * Three command-line tokens (openEuler's haltpoll pair and arm_pvspin) on a Debian grub root:
 * /etc/default/grub is rewritten once and update-grub runs once for the apply, once for revert.
 */
static void test_cmdline_tokens_edit_boot_config_once_per_apply_and_revert(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_copy_fixture_root("boot-debian12-cloud");
        _cleanup_free_ char *tools = vt_test_mkdtemp();
        _cleanup_free_ char *gen = vt_test_write_generator(tools);
        _cleanup_free_ char *before = snapshot(root);
        _cleanup_json_ json_object *facts = load_facts("openeuler-aarch64-haltpoll-yes");
        _cleanup_json_ json_object *e = NULL, *r = NULL;
        setenv("VIRTUNE_BOOTCFG_GENERATOR", gen, 1);
        struct vt_ctx *ctx = ctx_for(root, false, CONF);
        const char *only[] = {"haltpoll", "pvspin", NULL};
        struct vt_apply_opts o = {.facts = facts, .only = only};
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        assert_string_equal(status_of(e), "applied");
        json_object *recs = json_object_object_get(e, "changes");
        size_t cmdline = 0, with_record = 0;
        for (size_t i = 0; i < json_object_array_length(recs); i++) {
                json_object *rec = json_object_array_get_idx(recs, i);
                if (!streq_ptr(vt_json_str(rec, "kind"), "cmdline"))
                        continue;
                cmdline++;
                assert_string_equal(vt_json_str(rec, "result"), "applied");
                with_record += json_object_object_get(json_object_object_get(rec, "record"),
                                                      "bootcfg") != NULL;
        }
        assert_int_equal(cmdline, 3);
        assert_int_equal(with_record, 1);
        assert_int_equal(vt_test_count_lines(tools, "gen.log"), 1);
        _cleanup_json_ json_object *boot = NULL;
        assert_int_equal(vt_bootcfg_read(ctx, &boot), 0);
        const char *next = vt_json_str(boot, "cmdline");
        assert_non_null(strstr(next, "cpuidle_haltpoll.force=Y haltpoll.enable=Y arm_pvspin"));
        assert_int_equal(vt_tune_revert(ctx, false, &r), 0);
        assert_string_equal(status_of(r), "reverted");
        assert_int_equal(vt_test_count_lines(tools, "gen.log"), 2);
        unsetenv("VIRTUNE_BOOTCFG_GENERATOR");
        vt_ctx_free(ctx);
        remove_test_policy(root);
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        vt_test_rm_rf(root);
        vt_test_rm_rf(tools);
}

/*
 * /etc/default/grub and grub.cfg already have cpuidle-haltpoll.force=Y, the kernel's other
 * spelling of the key: it is configured, waits for a reboot, and is neither rewritten nor added.
 */
static void test_cmdline_key_spelled_with_dash_counts_as_configured(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_copy_fixture_root("boot-debian12-cloud");
        _cleanup_free_ char *grub = vt_test_read(root, "etc/default/grub");
        char *at = strstr(grub, "GRUB_CMDLINE_LINUX=\"\"");
        assert_non_null(at);
        _cleanup_free_ char *edited = NULL;
        assert_true(asprintf(&edited, "%.*sGRUB_CMDLINE_LINUX=\"cpuidle-haltpoll.force=Y\"%s",
                             (int)(at - grub), grub, at + strlen("GRUB_CMDLINE_LINUX=\"\"")) > 0);
        vt_test_write(root, "etc/default/grub", edited);
        /* and generated: grub.cfg boots it too (else apply would run the generator) */
        _cleanup_free_ char *cfg = vt_test_read(root, "boot/grub/grub.cfg");
        const char *tail = "consoleblank=0\n";
        char *end = strstr(cfg, tail);
        assert_non_null(end);
        _cleanup_free_ char *cfg2 = NULL;
        assert_true(asprintf(&cfg2, "%.*sconsoleblank=0 cpuidle-haltpoll.force=Y\n%s",
                             (int)(end - cfg), cfg, end + strlen(tail)) > 0);
        vt_test_write(root, "boot/grub/grub.cfg", cfg2);
        _cleanup_json_ json_object *facts = load_facts("openeuler-aarch64-haltpoll-yes");
        _cleanup_json_ json_object *e = NULL;
        struct vt_ctx *ctx = ctx_for(root, false, CONF);
        const char *only[] = {"haltpoll", NULL};
        struct vt_apply_opts o = {.facts = facts, .only = only};
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        json_object *recs = json_object_object_get(e, "changes");
        bool seen_force = false;
        for (size_t i = 0; i < json_object_array_length(recs); i++) {
                json_object *rec = json_object_array_get_idx(recs, i);
                if (!streq_ptr(vt_json_str(rec, "target"), "cpuidle_haltpoll.force"))
                        continue;
                seen_force = true;
                assert_string_equal(vt_json_str(rec, "result"), "skipped");
                assert_string_equal(vt_json_str(rec, "when"), "reboot-needed");
        }
        assert_true(seen_force);
        _cleanup_json_ json_object *boot = NULL;
        assert_int_equal(vt_bootcfg_read(ctx, &boot), 0);
        const char *next = vt_json_str(boot, "cmdline");
        assert_non_null(strstr(next, "cpuidle-haltpoll.force=Y"));
        assert_non_null(strstr(next, "haltpoll.enable=Y"));
        assert_null(strstr(next, "cpuidle_haltpoll"));
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/*
 * Enabling a unit links it where its [Install] WantedBy= says, read as systemd reads unit
 * files ("WantedBy = graphical.target", the section that holds it), from the unit found first
 * in systemd's search path; undo removes the link and the directory it made.
 */
static void test_unit_enable_links_into_its_install_target(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_mkdtemp();
        vt_test_write(root, "usr/lib/systemd/system/x.service",
                      "[Unit]\nDescription=WantedBy=wrong.target\n[Service]\nExecStart=/bin/x\n"
                      "[Install]\nAlias=y.service\nWantedBy = graphical.target other.target\n");
        vt_test_write(root, "lib/systemd/system/x.service", "[Install]\nWantedBy=masked.target\n");
        struct vt_ctx *ctx = ctx_for(root, false, NULL);
        struct vt_plan plan;
        vt_plan_init(&plan);
        assert_int_equal(vt_plan_add(&plan, "rng", VT_TARGET_UNIT, "x.service", NULL, "enabled",
                                     VT_WHEN_BOOT, "test"),
                         0);
        const struct vt_change *c = &plan.changes[0];
        char *cur = NULL;
        assert_int_equal(vt_exec_current(ctx, c, &cur), 0);
        assert_string_equal(cur, "disabled");
        free(cur);
        _cleanup_json_ json_object *rec = json_object_new_object();
        assert_int_equal(vt_exec_apply(ctx, c, rec, NULL), 0);
        char link[512];
        snprintf(link, sizeof(link), "%s/etc/systemd/system/graphical.target.wants/x.service",
                 root);
        char target[512] = "";
        assert_true(readlink(link, target, sizeof(target) - 1) > 0);
        assert_string_equal(target, "/usr/lib/systemd/system/x.service");
        assert_int_equal(vt_exec_current(ctx, c, &cur), 0);
        assert_string_equal(cur, "enabled");
        free(cur);
        assert_int_equal(vt_exec_undo(ctx, c, rec), 0);
        snprintf(link, sizeof(link), "%s/etc/systemd", root);
        assert_int_equal(access(link, F_OK), -1);
        vt_plan_done(&plan);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

static void test_runtime_only_leaves_files_alone(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        struct vt_apply_opts o = {.facts = facts, .runtime_only = true};
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        _cleanup_free_ char *vda = vt_test_read(root, "sys/block/vda/queue/scheduler");
        _cleanup_free_ char *rule = vt_test_read(root, "etc/udev/rules.d/60-virtune-iosched.rules");
        assert_string_equal(vda, "none");
        assert_null(rule);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/* Each boot the daemon re-asserts runtime values; revert still undoes the real apply, however
 * many boots (journal entries) later. */
static void test_boot_reapplies_do_not_hide_the_apply_from_revert(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL, *r = NULL, *j = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        _cleanup_free_ char *before = snapshot(root);
        assert_int_equal(apply(ctx, facts, &e), 0);
        for (int boot = 0; boot < VT_JOURNAL_KEEP + 8; boot++) {
                /* A reboot: the kernel's default scheduler again. */
                vt_test_write(root, "sys/block/vda/queue/scheduler",
                              "none [mq-deadline] kyber bfq\n");
                _cleanup_json_ json_object *re = NULL;
                struct vt_apply_opts o = {.facts = facts, .runtime_only = true};
                assert_int_equal(vt_tune_apply(ctx, &o, &re), 0);
                assert_string_equal(json_object_get_string(json_object_object_get(re, "action")),
                                    "reapply");
                _cleanup_free_ char *vda = vt_test_read(root, "sys/block/vda/queue/scheduler");
                assert_string_equal(vda, "none");
        }
        assert_int_equal(vt_journal_load(ctx, &j), 0);
        assert_int_equal(json_object_array_length(vt_journal_entries(j)), VT_JOURNAL_KEEP);
        assert_int_equal(vt_tune_revert(ctx, false, &r), 0);
        assert_string_equal(status_of(r), "reverted");
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/* status shows the daemon's start-up re-apply apart from the apply that revert would undo. */
static void test_status_shows_the_last_reapply_beside_the_last_apply(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_root();
        _cleanup_json_ json_object *facts = facts_for_root(), *e = NULL, *re = NULL, *st = NULL;
        struct vt_ctx *ctx = ctx_for(root, true, CONF);
        assert_int_equal(vt_tune_status(ctx, facts, &st), 0);
        assert_null(json_object_object_get(st, "last_apply"));
        assert_null(json_object_object_get(st, "last_reapply"));
        json_object_put(st);
        assert_int_equal(apply(ctx, facts, &e), 0);
        vt_test_write(root, "sys/block/vda/queue/scheduler", "none [mq-deadline] kyber bfq\n");
        struct vt_apply_opts o = {.facts = facts, .runtime_only = true};
        assert_int_equal(vt_tune_apply(ctx, &o, &re), 0);
        assert_int_equal(vt_tune_status(ctx, facts, &st), 0);
        json_object *last = json_object_object_get(st, "last_apply");
        json_object *again = json_object_object_get(st, "last_reapply");
        assert_non_null(last);
        assert_non_null(again);
        assert_string_equal(json_object_get_string(json_object_object_get(again, "time")),
                            json_object_get_string(json_object_object_get(re, "time")));
        assert_int_equal(json_object_get_int(json_object_object_get(again, "changes")),
                         (int)json_object_array_length(json_object_object_get(re, "changes")));
        assert_int_equal(json_object_get_int(json_object_object_get(last, "changes")),
                         (int)json_object_array_length(json_object_object_get(e, "changes")));
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/* Only what this root cannot take may remain: the command line (no bootloader here yet). */
static void assert_drift_only_cmdline(json_object *verify)
{
        json_object *drift = json_object_object_get(verify, "drift");
        for (size_t i = 0; i < json_object_array_length(drift); i++) {
                json_object *c = json_object_array_get_idx(drift, i);
                const char *kind = json_object_get_string(json_object_object_get(c, "kind"));
                if (!streq(kind, "cmdline") && !streq(kind, "kmod"))
                        fail_msg("drift after apply: %s", json_object_to_json_string(c));
        }
}

/* Every fixture tree: apply, verify, apply again (no byte changes), revert (byte-identical). */
static void round_trip_conf(const char *name, bool live, const char *conf, const char *want_pending,
                            const char *kernel);

static void round_trip(const char *name, bool live)
{
        round_trip_conf(name, live, NULL, NULL, NULL);
}

/*
 * want_pending: a command-line key that apply must leave configured but waiting for a reboot.
 * kernel: the release of a kernel to add to the image first (vt_test_add_x86_kernel), or NULL.
 */
static void round_trip_conf(const char *name, bool live, const char *conf, const char *want_pending,
                            const char *kernel)
{
        _cleanup_free_ char *src = NULL, *cpuid = NULL;
        assert_true(asprintf(&src, "%s/%s/root", getenv("VT_FIXTURES"), name) > 0);
        assert_true(asprintf(&cpuid, "%s/%s/cpuid", getenv("VT_FIXTURES"), name) > 0);
        _cleanup_free_ char *root = vt_test_copy_tree(src);
        if (kernel)
                vt_test_add_x86_kernel(root, kernel);
        _cleanup_free_ char *before = snapshot(root);
        struct vt_ctx *ctx = ctx_for(root, live, conf);
        if (access(cpuid, F_OK) == 0)
                assert_int_equal(vt_cpuid_new_file(cpuid, &ctx->cpuid), 0);
        _cleanup_json_ json_object *e1 = NULL, *e2 = NULL, *facts = NULL, *v = NULL, *r = NULL;
        struct vt_apply_opts o = {0};
        assert_int_equal(vt_tune_apply(ctx, &o, &e1), 0);
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        assert_int_equal(vt_tune_verify(ctx, facts, &v), 0);
        if (want_pending) {
                json_object *pending = json_object_object_get(v, "pending_reboot");
                assert_int_equal(json_object_array_length(pending), 1);
                assert_string_equal(json_object_get_string(json_object_object_get(
                                            json_object_array_get_idx(pending, 0), "target")),
                                    want_pending);
                assert_int_equal(json_object_array_length(json_object_object_get(v, "drift")), 0);
                /* virtune added it: recorded as its own, for auto and revert to take back */
                _cleanup_free_ char *owned = vt_test_read(root, "var/lib/virtune/cmdline-owned");
                assert_non_null(owned);
                _cleanup_free_ char *line = NULL;
                assert_true(asprintf(&line, "\n%s\n", want_pending) > 0);
                assert_non_null(strstr(owned, line));
        } else
                assert_drift_only_cmdline(v);
        _cleanup_free_ char *after1 = snapshot(root);
        assert_int_equal(vt_tune_apply(ctx, &o, &e2), 0);
        assert_string_equal(status_of(e2), "no-op");
        _cleanup_free_ char *after2 = snapshot(root);
        assert_same_tree(after1, after2);
        assert_int_equal(vt_tune_revert(ctx, false, &r), 0);
        vt_ctx_free(ctx);
        if (conf)
                remove_test_policy(root);
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        _cleanup_free_ char *owned_after = vt_test_read(root, "var/lib/virtune/cmdline-owned");
        assert_null(owned_after); /* revert took the ownership record back too */
        vt_test_rm_rf(root);
}

static void test_fixture_kvm_buildhost_live_round_trip(void **state)
{
        (void)state;
        round_trip("kvm-buildhost", true);
}

static void test_fixture_kvm_buildhost_offline_round_trip(void **state)
{
        (void)state;
        round_trip("kvm-buildhost", false);
}

static void test_fixture_openeuler_aarch64_offline_round_trip(void **state)
{
        (void)state;
        round_trip("openeuler-aarch64", false);
}

/*
 * rngd on a root with one rng-tools flavour installed as its package ships (tests/fixtures/
 * rng-*): the rng module's apply writes exactly `file` = `want` (NULL: no file) and `link`
 * (NULL: none), verify finds no drift, revert gives the tree back (round_trip).
 */
static void rngd_flavour(const char *fixture, const char *file, const char *want, const char *link,
                         const char *link_to)
{
        _cleanup_free_ char *src = NULL;
        assert_true(asprintf(&src, "%s/%s/root", getenv("VT_FIXTURES"), fixture) > 0);
        _cleanup_free_ char *root = vt_test_copy_tree(src), *before = snapshot(root);
        struct vt_ctx *ctx = ctx_for(root, false, NULL);
        const char *only[] = {"rng", NULL};
        struct vt_apply_opts o = {.only = only};
        _cleanup_json_ json_object *e = NULL, *facts = NULL, *v = NULL;
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        assert_string_equal(status_of(e), want || link ? "applied" : "no-op");
        if (file) {
                _cleanup_free_ char *got = vt_test_read(root, file);
                if (want)
                        assert_string_equal(got, want);
                else
                        assert_null(got);
        }
        if (link) {
                char target[4096];
                _cleanup_free_ char *p = NULL;
                assert_true(asprintf(&p, "%s/%s", root, link) > 0);
                ssize_t k = readlink(p, target, sizeof(target) - 1);
                assert_true(k > 0);
                target[k] = '\0';
                assert_string_equal(target, link_to);
        }
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        assert_int_equal(vt_tune_verify(ctx, facts, &v), 0);
        json_object *drift = json_object_object_get(v, "drift");
        for (size_t i = 0; i < json_object_array_length(drift); i++)
                if (streq_ptr(vt_json_str(json_object_array_get_idx(drift, i), "module"), "rng"))
                        fail_msg("rng drift after apply: %s",
                                 json_object_to_json_string(json_object_array_get_idx(drift, i)));
        vt_ctx_free(ctx);
        _cleanup_free_ char *after = snapshot(root);
        if (!want && !link)
                assert_same_tree(before, after); /* nothing to do: nothing done */
        vt_test_rm_rf(root);
        round_trip(fixture, false);
}

/* Debian's rng-tools-debian: HRNGDEVICE in its /etc/default file; its rc links enable it. */
static void test_rngd_rng_tools_debian_sets_hrngdevice(void **state)
{
        (void)state;
        _cleanup_free_ char *orig =
                vt_test_read(getenv("VT_FIXTURES"),
                             "rng-debian12-rng-tools-debian/root/etc/default/rng-tools-debian");
        assert_non_null(orig);
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "%sHRNGDEVICE=/dev/hwrng\n", orig) > 0);
        rngd_flavour("rng-debian12-rng-tools-debian", "etc/default/rng-tools-debian", want, NULL,
                     NULL);
}

/* Debian's rng-tools5 reads no config (rngd -f, /dev/hwrng by default) and is enabled: no-op. */
static void test_rngd_rng_tools5_writes_no_config(void **state)
{
        (void)state;
        rngd_flavour("rng-debian12-rng-tools5", "etc/sysconfig/rngd", NULL, NULL, NULL);
        rngd_flavour("rng-debian12-rng-tools5", "etc/default/rng-tools", NULL, NULL, NULL);
}

/* Fedora's rng-tools: -r /dev/hwrng added to RNGD_ARGS (its options kept), rngd.service enabled. */
static void test_rngd_fedora_rng_tools_adds_device_to_rngd_args(void **state)
{
        (void)state;
        rngd_flavour("rng-fedora-rng-tools", "etc/sysconfig/rngd",
                     "# Optional arguments passed to rngd. See rngd(8) and\n"
                     "# https://bugzilla.redhat.com/show_bug.cgi?id=1252175#c21\n"
                     "RNGD_ARGS=\"-x pkcs11 -x nist -D daemon:daemon -r /dev/hwrng\"\n",
                     "etc/systemd/system/multi-user.target.wants/rngd.service",
                     "/usr/lib/systemd/system/rngd.service");
}

/* RNGD_ARGS that name a device already are the administrator's; an unparsable one is left too. */
static void test_rngd_fedora_rngd_args_left_alone_when_set_or_unclear(void **state)
{
        (void)state;
        static const struct {
                const char *args, *warning;
        } cases[] = {
                {"RNGD_ARGS=\"-x pkcs11 --rng-device=/dev/hwrng\"\n", NULL},
                {"RNGD_ARGS=\"-r/dev/hwrng\"\n", NULL},
                {"RNGD_ARGS=\"-x $EXTRA\"\n",
                 "rng: /etc/sysconfig/rngd: RNGD_ARGS has quotes or expansions; add -r /dev/hwrng "
                 "yourself"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *root = vt_test_copy_fixture_root("rng-fedora-rng-tools");
                vt_test_write(root, "etc/sysconfig/rngd", cases[i].args);
                struct vt_ctx *ctx = ctx_for(root, false, NULL);
                _cleanup_json_ json_object *facts = NULL, *doc = NULL;
                assert_int_equal(vt_detect_all(ctx, &facts), 0);
                assert_int_equal(vt_tune_plan(ctx, facts, &doc), 0);
                json_object *changes = vt_json_get(doc, "changes");
                for (size_t k = 0; k < json_object_array_length(changes); k++)
                        assert_string_not_equal(
                                vt_json_str(json_object_array_get_idx(changes, k), "target"),
                                "/etc/sysconfig/rngd");
                const char *w = json_object_get_string(
                        json_object_array_get_idx(vt_json_get(doc, "warnings"), 0));
                if (cases[i].warning)
                        assert_string_equal(w, cases[i].warning);
                else
                        assert_null(w);
                vt_ctx_free(ctx);
                vt_test_rm_rf(root);
        }
}

/* nopvspin through each boot configuration grubcfg knows; the image has not booted it yet. */
static void test_boot_fixtures_cmdline_round_trip(void **state)
{
        (void)state;
        static const char *const boots[] = {
                "boot-debian12-cloud", "boot-fedora33-bls-kernelopts", "boot-rhel9-bls",
                "boot-sles15-sp5",     "boot-ubuntu2204-cloudimg",
        };
        for (size_t i = 0; i < ARRAY_SIZE(boots); i++) {
                fprintf(stderr, "# %s\n", boots[i]);
                round_trip_conf(boots[i], false, "[pvspin]\nenable = no\n", "nopvspin",
                                "6.1.0-57-cloud-amd64");
        }
}

/* ---- qemu-ga's block list, written where each distribution's qemu-ga takes it ---- */

#define QGA_LIST                                                                                   \
        "guest-exec,guest-exec-status,guest-file-open,guest-file-close,guest-file-read,"           \
        "guest-file-write,guest-file-seek,guest-file-flush,guest-set-user-password,"               \
        "guest-ssh-add-authorized-keys,guest-ssh-remove-authorized-keys"
#define QGA_DROPIN "etc/systemd/system/qemu-guest-agent.service.d/99-virtune-block-rpcs.conf"

/* Debian 12: dpkg knows qemu-guest-agent 7.2, its unit runs plain qemu-ga. */
static char *make_debian_qga_root(const char *conf)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "var/lib/dpkg/status",
                      "Package: qemu-guest-agent\nStatus: install ok installed\n"
                      "Version: 1:7.2+dfsg-7+deb12u7\n\n");
        vt_test_write(root, "usr/sbin/qemu-ga", "");
        vt_test_write(root, "etc/qemu/fsfreeze-hook", "#!/bin/sh\n");
        vt_test_write(root, "lib/systemd/system/qemu-guest-agent.service",
                      "[Service]\nExecStart=/usr/sbin/qemu-ga\n");
        if (conf)
                vt_test_write(root, "etc/qemu/qemu-ga.conf", conf);
        return root;
}

/* RHEL-style: the unit passes a variable of /etc/sysconfig/qemu-ga on qemu-ga's command line. */
static char *make_rhel_qga_root(const char *exec_args, const char *sysconfig)
{
        char *root = vt_test_mkdtemp();
        _cleanup_free_ char *unit = NULL;
        assert_true(asprintf(&unit,
                             "[Service]\nEnvironmentFile=/etc/sysconfig/qemu-ga\n"
                             "ExecStart=/usr/bin/qemu-ga --method=virtio-serial "
                             "--path=/dev/virtio-ports/org.qemu.guest_agent.0 %s\n",
                             exec_args) > 0);
        vt_test_write(root, "usr/bin/qemu-ga", "");
        vt_test_write(root, "usr/lib/systemd/system/qemu-guest-agent.service", unit);
        vt_test_write(root, "etc/sysconfig/qemu-ga", sysconfig);
        return root;
}

/*
 * Applies the qga module to an image root: rel then holds want exactly, detection reads the
 * list back from where it was written, a second apply changes nothing, and revert gives the
 * tree back byte for byte. Takes root (removed and freed).
 */
static void qga_round_trip(char *root, const char *rel, const char *want)
{
        _cleanup_free_ char *before = snapshot(root);
        struct vt_ctx *ctx = ctx_for(root, false, NULL);
        const char *only[] = {"qga", NULL};
        struct vt_apply_opts o = {.only = only};
        _cleanup_json_ json_object *e1 = NULL, *e2 = NULL, *facts = NULL, *r = NULL;
        assert_int_equal(vt_tune_apply(ctx, &o, &e1), 0);
        assert_string_equal(status_of(e1), "applied");
        _cleanup_free_ char *got = vt_test_read(root, rel);
        assert_string_equal(got, want);
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        json_object *block = json_object_object_get(vt_json_get(facts, "qga"), "block_rpcs");
        assert_int_equal(json_object_array_length(block), 11);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(block, 0)),
                            "guest-exec");
        _cleanup_free_ char *after1 = snapshot(root);
        assert_int_equal(vt_tune_apply(ctx, &o, &e2), 0);
        assert_string_equal(status_of(e2), "no-op");
        _cleanup_free_ char *after2 = snapshot(root);
        assert_same_tree(after1, after2);
        assert_int_equal(vt_tune_revert(ctx, false, &r), 0);
        assert_string_equal(status_of(r), "reverted");
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

static void test_qga_debian_conf_edited_in_place(void **state)
{
        (void)state;
        /* 7.2 reads the old key when the file has it, so that line is the one to change. */
        qga_round_trip(make_debian_qga_root("# site settings\n[general]\nverbose = true\n"
                                            "blacklist = guest-shutdown\n\n[other]\nx=1"),
                       "etc/qemu/qemu-ga.conf",
                       "# site settings\n[general]\nverbose = true\nblacklist = " QGA_LIST
                       "\n\n[other]\nx=1");
}

static void test_qga_debian_conf_without_list_gets_key_under_general(void **state)
{
        (void)state;
        qga_round_trip(make_debian_qga_root("[general]\n  verbose=true\n"), "etc/qemu/qemu-ga.conf",
                       "[general]\nblock-rpcs=" QGA_LIST "\n  verbose=true\n");
}

static void test_qga_debian_conf_absent_is_written_and_owned(void **state)
{
        (void)state;
        qga_round_trip(make_debian_qga_root(NULL), "etc/qemu/qemu-ga.conf",
                       VT_OWNED_HEADER "[general]\nblock-rpcs=" QGA_LIST "\n");
}

static void test_qga_conf_unparsable_line_refused_with_file_line(void **state)
{
        (void)state;
        _cleanup_free_ char *root = make_debian_qga_root("[general]\nverbose=true\nno equals\n");
        _cleanup_free_ char *before = snapshot(root);
        struct vt_ctx *ctx = ctx_for(root, false, NULL);
        _cleanup_json_ json_object *e = NULL;
        struct vt_apply_opts o = {0};
        assert_int_equal(vt_tune_apply(ctx, &o, &e), -EINVAL);
        assert_string_equal(vt_json_str(e, "error"),
                            "/etc/qemu/qemu-ga.conf:3: not a qemu-ga.conf line (comment, [group] "
                            "or key=value); its block list is left alone");
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/* No Debian layout, no sysconfig (SUSE, Arch): a drop-in keeps the unit's own arguments. */
static void test_qga_dropin_keeps_unit_arguments(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "usr/bin/qemu-ga", "");
        vt_test_write(root, "usr/lib/systemd/system/qemu-guest-agent.service",
                      "[Unit]\nDescription=QEMU Guest Agent\n\n[Service]\n"
                      "ExecStart=-/usr/bin/qemu-ga -m virtio-serial "
                      "-p /dev/virtio-ports/org.qemu.guest_agent.0\nRestart=always\n");
        qga_round_trip(root, QGA_DROPIN,
                       VT_OWNED_HEADER "[Service]\nExecStart=\nExecStart=-/usr/bin/qemu-ga -m "
                                       "virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 "
                                       "--block-rpcs=" QGA_LIST "\n");
}

static void test_qga_rhel_sysconfig_filter_rpc_args(void **state)
{
        (void)state;
        qga_round_trip(make_rhel_qga_root("$FILTER_RPC_ARGS -F${FSFREEZE_HOOK_PATHNAME}",
                                          "# This is a systemd environment file.\n"
                                          "FILTER_RPC_ARGS=\"--block-rpcs=guest-file-open\"\n"
                                          "FSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n"),
                       "etc/sysconfig/qemu-ga",
                       "# This is a systemd environment file.\n"
                       "FILTER_RPC_ARGS=\"--block-rpcs=" QGA_LIST "\"\n"
                       "FSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n");
}

/* Older RHEL/Fedora: --blacklist=${BLACKLIST_RPC}; the commented example line stays. */
static void test_qga_rhel_sysconfig_old_blacklist_rpc(void **state)
{
        (void)state;
        qga_round_trip(make_rhel_qga_root("--blacklist=${BLACKLIST_RPC} "
                                          "-F${FSFREEZE_HOOK_PATHNAME}",
                                          "# Comma-separated blacklist of RPCs to disable.\n"
                                          "#BLACKLIST_RPC=guest-exec\n"
                                          "BLACKLIST_RPC=guest-file-open,guest-file-close\n"
                                          "FSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n"),
                       "etc/sysconfig/qemu-ga",
                       "# Comma-separated blacklist of RPCs to disable.\n"
                       "#BLACKLIST_RPC=guest-exec\n"
                       "BLACKLIST_RPC=" QGA_LIST "\n"
                       "FSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n");
}

/* The build host's capture with a second source in front (a TPM's RNG, as on a vTPM guest):
 * apply makes virtio-rng current, verify agrees, revert gives the other source back. */
static void test_rng_current_moves_to_virtio_and_back(void **state)
{
        (void)state;
        _cleanup_free_ char *src = NULL;
        assert_true(asprintf(&src, "%s/kvm-buildhost/root", getenv("VT_FIXTURES")) > 0);
        _cleanup_free_ char *root = vt_test_copy_tree(src);
        const char *hw = "sys/devices/virtual/misc/hw_random";
        _cleanup_free_ char *avail = NULL, *cur = NULL;
        assert_true(asprintf(&avail, "%s/rng_available", hw) > 0);
        assert_true(asprintf(&cur, "%s/rng_current", hw) > 0);
        vt_test_write(root, avail, "tpm-rng-0 virtio_rng.0 \n");
        vt_test_write(root, cur, "tpm-rng-0\n");
        struct vt_ctx *ctx = ctx_for(root, true, "[rng]\nenable = yes\n");
        const char *only[] = {"rng", NULL};
        _cleanup_json_ json_object *e = NULL, *facts = NULL, *v = NULL, *r = NULL;
        struct vt_apply_opts o = {.only = only};
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        assert_string_equal(status_of(e), "applied");
        json_object *c = json_object_array_get_idx(json_object_object_get(e, "changes"), 0);
        assert_string_equal(vt_json_str(c, "target"), "/sys/class/misc/hw_random/rng_current");
        assert_string_equal(vt_json_str(c, "from"), "tpm-rng-0");
        assert_string_equal(vt_json_str(c, "to"), "virtio_rng.0");
        _cleanup_free_ char *now = vt_test_read(root, cur);
        assert_string_equal(now, "virtio_rng.0");
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        assert_string_equal(vt_json_str(vt_json_get(facts, "rng"), "current"), "virtio_rng.0");
        assert_int_equal(vt_tune_verify(ctx, facts, &v), 0);
        json_object *drift = json_object_object_get(v, "drift");
        for (size_t i = 0; i < json_object_array_length(drift); i++)
                assert_string_not_equal(vt_json_str(json_object_array_get_idx(drift, i), "module"),
                                        "rng");
        assert_int_equal(vt_tune_revert(ctx, false, &r), 0);
        assert_string_equal(status_of(r), "reverted");
        _cleanup_free_ char *back = vt_test_read(root, cur);
        assert_string_equal(back, "tpm-rng-0\n");
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_apply_sets_runtime_and_persistent_targets),
                cmocka_unit_test(test_apply_writes_its_intent_once_before_any_target),
                cmocka_unit_test(test_apply_then_verify_finds_no_drift),
                cmocka_unit_test(test_apply_twice_second_is_noop),
                cmocka_unit_test(test_revert_restores_tree_byte_identical),
                cmocka_unit_test(test_offline_root_writes_only_persistent_targets),
                cmocka_unit_test(test_partial_failure_rolls_back_and_journals),
                cmocka_unit_test(test_dry_run_writes_nothing),
                cmocka_unit_test(test_only_limits_apply_to_one_module),
                cmocka_unit_test(test_runtime_only_leaves_files_alone),
                cmocka_unit_test(test_boot_reapplies_do_not_hide_the_apply_from_revert),
                cmocka_unit_test(test_status_shows_the_last_reapply_beside_the_last_apply),
                cmocka_unit_test(test_fixture_kvm_buildhost_live_round_trip),
                cmocka_unit_test(test_fixture_kvm_buildhost_offline_round_trip),
                cmocka_unit_test(test_fixture_openeuler_aarch64_offline_round_trip),
                cmocka_unit_test(test_boot_fixtures_cmdline_round_trip),
                cmocka_unit_test(test_cmdline_tokens_edit_boot_config_once_per_apply_and_revert),
                cmocka_unit_test(test_cmdline_key_spelled_with_dash_counts_as_configured),
                cmocka_unit_test(test_unit_enable_links_into_its_install_target),
                cmocka_unit_test(test_rng_current_moves_to_virtio_and_back),
                cmocka_unit_test(test_rngd_rng_tools_debian_sets_hrngdevice),
                cmocka_unit_test(test_rngd_rng_tools5_writes_no_config),
                cmocka_unit_test(test_rngd_fedora_rng_tools_adds_device_to_rngd_args),
                cmocka_unit_test(test_rngd_fedora_rngd_args_left_alone_when_set_or_unclear),
                cmocka_unit_test(test_qga_debian_conf_edited_in_place),
                cmocka_unit_test(test_qga_debian_conf_without_list_gets_key_under_general),
                cmocka_unit_test(test_qga_debian_conf_absent_is_written_and_owned),
                cmocka_unit_test(test_qga_conf_unparsable_line_refused_with_file_line),
                cmocka_unit_test(test_qga_dropin_keeps_unit_arguments),
                cmocka_unit_test(test_qga_rhel_sysconfig_filter_rpc_args),
                cmocka_unit_test(test_qga_rhel_sysconfig_old_blacklist_rpc),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
