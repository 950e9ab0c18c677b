/* qemu-ga's command list is asked once per qemu-ga build: cached with the binary's identity. */
#include <sys/stat.h>
#include "qga.h"
#include "../lib/testlib.h"

struct fx {
        char *root, *count;
        struct vt_ctx *ctx;
};

/* A qemu-ga that counts how often it was asked; size picks a different build. */
static void write_qga(struct fx *f, const char *extra)
{
        char script[512], path[1024];
        snprintf(script, sizeof(script),
                 "#!/bin/sh\necho \"$1\" >>%s\necho 'guest-sync guest-ping, guest-exec%s'\n",
                 f->count, extra);
        vt_test_write(f->root, "usr/sbin/qemu-ga", script);
        snprintf(path, sizeof(path), "%s/usr/sbin/qemu-ga", f->root);
        assert_int_equal(chmod(path, 0755), 0);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        f->root = vt_test_mkdtemp();
        assert_true(asprintf(&f->count, "%s/asked", f->root) > 0);
        vt_test_write(f->root, "var/lib/virtune/.keep", "");
        write_qga(f, "");
        assert_int_equal(vt_ctx_new(f->root, &f->ctx), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        vt_ctx_free(f->ctx);
        vt_test_root_free(f->root);
        free(f->count);
        free(f);
        return 0;
}

static size_t asked(struct fx *f)
{
        _cleanup_free_ char *t = vt_test_read(f->root, "asked");
        size_t n = 0;
        for (const char *p = t; p && *p; p++)
                n += *p == '\n';
        return n;
}

static char *commands(struct fx *f, const char *version)
{
        json_object *list = NULL;
        assert_int_equal(vt_qga_commands(f->ctx, "/usr/sbin/qemu-ga", version, &list), 0);
        char *s = strdup(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
        json_object_put(list);
        return s;
}

static void test_qga_commands_asked_once_per_build(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *a = commands(f, "7.2.0");
        assert_string_equal(a, "[\"guest-sync\",\"guest-ping\",\"guest-exec\"]");
        assert_int_equal(asked(f), 1);
        _cleanup_free_ char *b = commands(f, "7.2.0");
        assert_string_equal(b, a);
        assert_int_equal(asked(f), 1); /* the cache answered */
        _cleanup_free_ char *cache = vt_test_read(f->root, "var/lib/virtune/qga-commands.json");
        assert_non_null(strstr(cache, "\"binary\":\"/usr/sbin/qemu-ga\""));
        /* another build (an upgrade: another size, inode and mtime): asked again */
        write_qga(f, " guest-new");
        _cleanup_free_ char *c = commands(f, "7.2.0");
        assert_string_equal(c, "[\"guest-sync\",\"guest-ping\",\"guest-exec\",\"guest-new\"]");
        assert_int_equal(asked(f), 2);
        /* the old spelling is another question: asked with it */
        _cleanup_free_ char *d = commands(f, "7.1.0");
        assert_string_equal(d, c);
        assert_int_equal(asked(f), 3);
        _cleanup_free_ char *t = vt_test_read(f->root, "asked");
        assert_non_null(strstr(t, "--blacklist=?\n"));
}

static void test_qga_commands_bad_cache_is_asked_again(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *a = commands(f, "7.2.0");
        vt_test_write(f->root, "var/lib/virtune/qga-commands.json", "{\"binary\": tor");
        _cleanup_free_ char *b = commands(f, "7.2.0");
        assert_string_equal(b, a);
        assert_int_equal(asked(f), 2);
        /* a list that is not strings is not believed either */
        _cleanup_free_ char *cache = vt_test_read(f->root, "var/lib/virtune/qga-commands.json");
        char *p = strstr(cache, "\"guest-sync\"");
        assert_non_null(p);
        memcpy(p, "12345678901 ", 12);
        vt_test_write(f->root, "var/lib/virtune/qga-commands.json", cache);
        _cleanup_free_ char *c = commands(f, "7.2.0");
        assert_string_equal(c, a);
        assert_int_equal(asked(f), 3);
}

static void test_qga_commands_without_state_dir_asks_each_time(void **state)
{
        struct fx *f = *state;
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/var/lib/virtune", f->root);
        vt_test_rm_rf(dir);
        _cleanup_free_ char *a = commands(f, "7.2.0");
        _cleanup_free_ char *b = commands(f, "7.2.0");
        assert_string_equal(b, a);
        assert_int_equal(asked(f), 2);
        assert_null(vt_test_read(f->root, "var/lib/virtune/qga-commands.json"));
}

static void test_qga_commands_refuses_an_answer_without_guest_ping(void **state)
{
        struct fx *f = *state;
        vt_test_write(f->root, "usr/sbin/qemu-ga", "#!/bin/sh\necho 'unknown option'\n");
        char path[1024];
        snprintf(path, sizeof(path), "%s/usr/sbin/qemu-ga", f->root);
        assert_int_equal(chmod(path, 0755), 0);
        json_object *list = NULL;
        assert_int_equal(vt_qga_commands(f->ctx, "/usr/sbin/qemu-ga", "7.2.0", &list), -EBADMSG);
        assert_null(list);
        assert_null(vt_test_read(f->root, "var/lib/virtune/qga-commands.json"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_qga_commands_asked_once_per_build, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_qga_commands_bad_cache_is_asked_again, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_qga_commands_without_state_dir_asks_each_time,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_qga_commands_refuses_an_answer_without_guest_ping, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
