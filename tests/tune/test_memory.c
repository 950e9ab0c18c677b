/*
 * The memory concern (the recipe's example, doc/adding-a-module.md): vm.swappiness and THP are
 * left alone by default, and when asked for are planned, applied, verified and reverted on
 * fixture copies (--root).
 */
#include "module.h"
#include "plan.h"
#include "policy.h"
#include "tune.h"
#include "../lib/testlib.h"
#include "tree_snapshot.h"

#define DROPIN "etc/sysctl.d/90-virtune-memory.conf"
#define THP    "sys/kernel/mm/transparent_hugepage/enabled"

static struct vt_ctx *ctx_on(const char *root, bool live, const char *conf)
{
        struct vt_ctx *ctx = NULL;
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        ctx->live = live;
        ctx->policy = vt_policy_new();
        assert_int_equal(vt_policy_parse(ctx->policy, "t.conf", conf, err, sizeof(err)), 0);
        return ctx;
}

/* The changes of module memory in a plan document's list `key`. */
static json_object *memory_changes(json_object *doc, const char *key)
{
        json_object *all = vt_json_get(doc, key), *out = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(all); i++) {
                json_object *c = json_object_array_get_idx(all, i);
                if (streq_ptr(vt_json_str(c, "module"), "memory"))
                        json_object_array_add(out, json_object_get(c));
        }
        return out;
}

static void assert_change(json_object *c, const char *kind, const char *target, const char *from,
                          const char *to, const char *when)
{
        assert_string_equal(vt_json_str(c, "kind"), kind);
        assert_string_equal(vt_json_str(c, "target"), target);
        if (from)
                assert_string_equal(vt_json_str(c, "from"), from);
        else
                assert_null(vt_json_str(c, "from"));
        assert_string_equal(vt_json_str(c, "to"), to);
        assert_string_equal(vt_json_str(c, "when"), when);
        assert_non_null(strstr(vt_json_str(c, "why"), "SUSE guide"));
}

static void test_memory_facts_read_swappiness_and_thp(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_copy_fixture_root("kvm-buildhost");
        struct vt_ctx *ctx = ctx_on(root, false, "");
        _cleanup_json_ json_object *facts = NULL;
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        json_object *m = vt_json_get(facts, "memory");
        assert_int_equal(vt_json_int(m, "swappiness", -1), 60);
        assert_string_equal(vt_json_str(m, "thp"), "madvise");
        assert_string_equal(json_object_to_json_string(vt_json_get(m, "thp_modes")),
                            "[ \"always\", \"madvise\", \"never\" ]");
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/* auto (the default, and said explicitly) plans nothing, live or not. */
static void test_memory_auto_plans_nothing(void **state)
{
        (void)state;
        static const char *const confs[] = {"", "[memory]\nswappiness = auto\nthp = auto\n"};
        _cleanup_free_ char *root = vt_test_copy_fixture_root("kvm-buildhost");
        for (size_t i = 0; i < ARRAY_SIZE(confs); i++)
                for (int live = 0; live < 2; live++) {
                        struct vt_ctx *ctx = ctx_on(root, live, confs[i]);
                        _cleanup_json_ json_object *facts = NULL, *doc = NULL;
                        assert_int_equal(vt_detect_all(ctx, &facts), 0);
                        assert_int_equal(vt_tune_plan(ctx, facts, &doc), 0);
                        const char *keys[] = {"changes", "skipped", "pending_reboot"};
                        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                                _cleanup_json_ json_object *mine = memory_changes(doc, keys[k]);
                                assert_int_equal(json_object_array_length(mine), 0);
                        }
                        assert_null(strstr(json_object_to_json_string(doc), "memory:"));
                        vt_ctx_free(ctx);
                }
        vt_test_rm_rf(root);
}

/* Live on the build machine's tree: runtime values, the sysctl.d file, then back. */
static void test_memory_swappiness_and_thp_plan_apply_verify_revert(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_copy_fixture_root("kvm-buildhost");
        _cleanup_free_ char *before = snapshot(root);
        struct vt_ctx *ctx = ctx_on(root, true, "[memory]\nswappiness = 10\nthp = never\n");
        _cleanup_json_ json_object *facts = NULL, *doc = NULL, *entry = NULL, *v = NULL;
        _cleanup_json_ json_object *facts2 = NULL, *rev = NULL;
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        assert_int_equal(vt_tune_plan(ctx, facts, &doc), 0);
        _cleanup_json_ json_object *changes = memory_changes(doc, "changes");
        assert_int_equal(json_object_array_length(changes), 4);
        assert_change(json_object_array_get_idx(changes, 0), "attr", "/proc/sys/vm/swappiness",
                      "60", "10", "now");
        assert_change(json_object_array_get_idx(changes, 1), "file", "/" DROPIN, NULL,
                      VT_OWNED_HEADER "vm.swappiness = 10\n", "next-boot");
        assert_change(json_object_array_get_idx(changes, 2), "cmdline", "transparent_hugepage",
                      NULL, "transparent_hugepage=never", "next-boot");
        assert_change(json_object_array_get_idx(changes, 3), "attr", "/" THP, "madvise", "never",
                      "now");

        const char *only[] = {"memory", NULL};
        struct vt_apply_opts o = {.facts = facts, .only = only};
        assert_int_equal(vt_tune_apply(ctx, &o, &entry), 0);
        assert_string_equal(vt_json_str(entry, "status"), "applied");
        _cleanup_free_ char *swp = vt_test_read(root, "proc/sys/vm/swappiness");
        _cleanup_free_ char *thp = vt_test_read(root, THP);
        _cleanup_free_ char *dropin = vt_test_read(root, DROPIN);
        assert_string_equal(swp, "10");
        assert_string_equal(thp, "never");
        assert_string_equal(dropin, VT_OWNED_HEADER "vm.swappiness = 10\n");

        /* This tree has no boot configuration: only the command line may remain. */
        assert_int_equal(vt_detect_all(ctx, &facts2), 0);
        assert_int_equal(vt_tune_verify(ctx, facts2, &v), 0);
        _cleanup_json_ json_object *drift = memory_changes(v, "drift");
        assert_int_equal(json_object_array_length(drift), 1);
        assert_string_equal(vt_json_str(json_object_array_get_idx(drift, 0), "kind"), "cmdline");

        assert_int_equal(vt_tune_revert(ctx, false, &rev), 0);
        assert_string_equal(vt_json_str(rev, "status"), "reverted");
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/* An image: transparent_hugepage= goes into its boot configuration, waiting for the boot. */
static void test_memory_thp_on_an_image_command_line(void **state)
{
        (void)state;
        _cleanup_free_ char *root = vt_test_copy_fixture_root("boot-debian12-cloud");
        vt_test_add_x86_kernel(root, "6.1.0-13-cloud-amd64"); /* evidence for the THP token */
        _cleanup_free_ char *before = snapshot(root);
        struct vt_ctx *ctx = ctx_on(root, false, "[memory]\nswappiness = 0\nthp = never\n");
        const char *only[] = {"memory", NULL};
        struct vt_apply_opts o = {.only = only};
        _cleanup_json_ json_object *entry = NULL, *facts = NULL, *v = NULL, *rev = NULL;
        assert_int_equal(vt_tune_apply(ctx, &o, &entry), 0);
        assert_string_equal(vt_json_str(entry, "status"), "applied");
        /* grubcfg's own grub.d snippet, read after the cloud image's 10_cloud.cfg. */
        _cleanup_free_ char *grub = vt_test_read(root, "etc/default/grub.d/90-virtune.cfg");
        _cleanup_free_ char *dropin = vt_test_read(root, DROPIN);
        assert_non_null(strstr(grub, "transparent_hugepage=never"));
        assert_string_equal(dropin, VT_OWNED_HEADER "vm.swappiness = 0\n");
        assert_int_equal(vt_detect_all(ctx, &facts), 0);
        assert_int_equal(vt_tune_verify(ctx, facts, &v), 0);
        _cleanup_json_ json_object *drift = memory_changes(v, "drift");
        _cleanup_json_ json_object *pending = memory_changes(v, "pending_reboot");
        assert_int_equal(json_object_array_length(drift), 0);
        assert_int_equal(json_object_array_length(pending), 1);
        assert_string_equal(vt_json_str(json_object_array_get_idx(pending, 0), "target"),
                            "transparent_hugepage");
        assert_int_equal(vt_tune_revert(ctx, false, &rev), 0);
        _cleanup_free_ char *after = snapshot(root);
        assert_same_tree(before, after);
        vt_ctx_free(ctx);
        vt_test_rm_rf(root);
}

/* Values are checked where the file is read: file:line, the key, the allowed values. */
static void test_memory_policy_values_are_checked(void **state)
{
        (void)state;
        static const struct {
                const char *conf, *err;
        } bad[] = {
                {"[memory]\nswappiness = 101\n",
                 "t.conf:2: memory.swappiness = '101': expected auto or a number in 0-100"},
                {"[memory]\nswappiness = -1\n",
                 "t.conf:2: memory.swappiness = '-1': expected auto or a number in 0-100"},
                {"[memory]\nswappiness = lots\n",
                 "t.conf:2: memory.swappiness = 'lots': expected auto or a number in 0-100"},
                {"[memory]\nthp = sometimes\n",
                 "t.conf:2: memory.thp = 'sometimes': not one of the allowed values"},
                {"[memory]\nhugepages = 512\n", "t.conf:2: unknown key 'hugepages' in [memory]"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct vt_policy *p = vt_policy_new();
                char err[VT_POLICY_ERR_MAX] = "";
                assert_int_equal(vt_policy_parse(p, "t.conf", bad[i].conf, err, sizeof(err)),
                                 -EINVAL);
                assert_string_equal(err, bad[i].err);
                vt_policy_free(p);
        }
        struct vt_policy *p = vt_policy_new();
        char err[VT_POLICY_ERR_MAX] = "";
        uint64_t n = 7;
        assert_int_equal(vt_policy_parse(p, "t.conf", "[memory]\nswappiness = 0\nthp = madvise\n",
                                         err, sizeof(err)),
                         0);
        assert_int_equal(vt_policy_get_uint(p, "memory", "swappiness", &n), 1);
        assert_int_equal(n, 0);
        vt_policy_free(p);
}

/* Both sandboxed units that apply (the daemon's boot pass, the channel's job) may write them. */
static void test_memory_runtime_attributes_are_writable_in_the_units(void **state)
{
        (void)state;
        static const char *const units[] = {"units/virtuned.service",
                                            "units/virtune-apply@.service"};
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                _cleanup_free_ char *text = vt_test_read(getenv("VT_BUILD"), units[i]);
                assert_non_null(text);
                const char *line =
                        strstr(text, "\nReadWritePaths=-/sys/kernel/mm/transparent_hugepage"
                                     "/enabled -/proc/sys/vm/swappiness\n");
                if (!line)
                        fail_msg("%s does not make memory's attributes writable", units[i]);
                /* before the unit's own list: an empty one must reset nothing */
                assert_true(line < strstr(text, "\nReadWritePaths=/"));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_memory_facts_read_swappiness_and_thp),
                cmocka_unit_test(test_memory_auto_plans_nothing),
                cmocka_unit_test(test_memory_swappiness_and_thp_plan_apply_verify_revert),
                cmocka_unit_test(test_memory_thp_on_an_image_command_line),
                cmocka_unit_test(test_memory_policy_values_are_checked),
                cmocka_unit_test(test_memory_runtime_attributes_are_writable_in_the_units),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
