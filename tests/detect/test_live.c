/* The live test: `virtune detect --json` on this machine agrees with plain reads of its sysfs (read
 * only). */
#include <limits.h>
#include <sys/utsname.h>
#include "../lib/testlib.h"
#include "module.h"
#include "plan.h"

static json_object *facts;

/* A sysfs attribute read the plain way, stripped; NULL when absent. */
static char *plain_read(const char *path)
{
        char *s = vt_test_read("/", path);
        if (s)
                vt_strip(s);
        return s;
}

static json_object *get(const char *module, const char *key)
{
        json_object *m, *v;
        assert_true(json_object_object_get_ex(facts, module, &m));
        assert_true(json_object_object_get_ex(m, key, &v));
        return v;
}

static void test_live_kernel_release_is_uname(void **state)
{
        struct utsname u;
        assert_int_equal(uname(&u), 0);
        assert_string_equal(json_object_get_string(get("virt", "kernel_release")), u.release);
}

static void test_live_cpuidle_driver_matches_sysfs(void **state)
{
        char *want = plain_read("sys/devices/system/cpu/cpuidle/current_driver");
        const char *got = json_object_get_string(get("haltpoll", "driver"));
        if (want)
                assert_string_equal(got, want);
        else
                assert_null(got);
        free(want);
}

static void test_live_virtio_drivers_match_sysfs(void **state)
{
        json_object *devs = get("virtio", "devices");
        size_t n = 0;
        DIR *d = opendir("/sys/bus/virtio/devices");
        struct dirent *de;
        while (d && (de = readdir(d)))
                n += startswith(de->d_name, "virtio");
        if (d)
                closedir(d);
        assert_int_equal(json_object_array_length(devs), n);
        for (size_t i = 0; i < n; i++) {
                json_object *dev = json_object_array_get_idx(devs, i), *name, *drv;
                assert_true(json_object_object_get_ex(dev, "name", &name));
                assert_true(json_object_object_get_ex(dev, "driver", &drv));
                char link[PATH_MAX], target[PATH_MAX];
                snprintf(link, sizeof(link), "/sys/bus/virtio/devices/%s/driver",
                         json_object_get_string(name));
                ssize_t k = readlink(link, target, sizeof(target) - 1);
                if (k < 0) {
                        assert_null(json_object_get_string(drv));
                        continue;
                }
                target[k] = '\0';
                assert_string_equal(json_object_get_string(drv), strrchr(target, '/') + 1);
        }
}

/* iosched is detect-dev's; compared once its facts carry disks. */
static void test_live_disk_schedulers_match_sysfs(void **state)
{
        json_object *io, *disks;
        if (!json_object_object_get_ex(facts, "iosched", &io) ||
            !json_object_object_get_ex(io, "disks", &disks)) {
                skip();
        }
        for (size_t i = 0; i < json_object_array_length(disks); i++) {
                json_object *disk = json_object_array_get_idx(disks, i), *name, *sched;
                assert_true(json_object_object_get_ex(disk, "name", &name));
                assert_true(json_object_object_get_ex(disk, "scheduler", &sched));
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "sys/block/%s/queue/scheduler",
                         json_object_get_string(name));
                char *all = plain_read(path), *open = all ? strchr(all, '[') : NULL;
                char *close = open ? strchr(open, ']') : NULL;
                if (close) {
                        *close = '\0';
                        assert_string_equal(json_object_get_string(sched), open + 1);
                } else {
                        assert_null(json_object_get_string(sched));
                }
                free(all);
        }
}

static void test_live_memory_matches_procfs(void **state)
{
        (void)state;
        _cleanup_free_ char *swp = plain_read("proc/sys/vm/swappiness");
        _cleanup_free_ char *thp = plain_read("sys/kernel/mm/transparent_hugepage/enabled");
        json_object *m = get("memory", "swappiness");
        if (swp)
                assert_int_equal(json_object_get_int64(m), strtoll(swp, NULL, 10));
        else
                assert_null(m);
        const char *sel = json_object_get_string(get("memory", "thp"));
        if (thp && strchr(thp, '[')) {
                char *open = strchr(thp, '['), *close = strchr(open, ']');
                assert_non_null(close);
                *close = '\0';
                assert_string_equal(sel, open + 1);
        } else
                assert_null(sel);
}

/* `virtune detect` runs no qemu-ga; the facts a plan is made from have its own command list. */
static void test_live_qga_commands_only_when_planning(void **state)
{
        (void)state;
        assert_null(get("qga", "commands"));
        if (!json_object_get_string(get("qga", "binary")))
                skip();
        struct vt_ctx *ctx = NULL;
        _cleanup_json_ json_object *plan_facts = NULL;
        assert_int_equal(vt_ctx_new(NULL, &ctx), 0);
        assert_true(ctx->live);
        assert_int_equal(vt_detect_for_plan(ctx, &plan_facts), 0);
        json_object *cmds = vt_json_get(vt_json_get(plan_facts, "qga"), "commands");
        assert_true(json_object_is_type(cmds, json_type_array));
        bool ping = false;
        for (size_t i = 0; i < json_object_array_length(cmds); i++)
                ping = ping || streq_ptr(json_object_get_string(json_object_array_get_idx(cmds, i)),
                                         "guest-ping");
        assert_true(ping);
        vt_ctx_free(ctx);
}

int main(void)
{
        const char *virtune = getenv("VIRTUNE");
        if (!virtune) {
                fprintf(stderr, "VIRTUNE is not set (run through meson test)\n");
                return 1;
        }
        char *out = NULL;
        char *argv[] = {(char *)virtune, "detect", "--json", NULL};
        if (vt_test_run(argv, &out) != 0 || !(facts = json_tokener_parse(out))) {
                fprintf(stderr, "virtune detect --json failed or printed no JSON:\n%s\n",
                        out ? out : "");
                return 1;
        }
        free(out);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_live_kernel_release_is_uname),
                cmocka_unit_test(test_live_cpuidle_driver_matches_sysfs),
                cmocka_unit_test(test_live_virtio_drivers_match_sysfs),
                cmocka_unit_test(test_live_disk_schedulers_match_sysfs),
                cmocka_unit_test(test_live_memory_matches_procfs),
                cmocka_unit_test(test_live_qga_commands_only_when_planning),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        json_object_put(facts);
        return r;
}
