/* try-restart and daemon-reload over a manager's bus (sdbus.c) against a stand-in manager. */
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <unistd.h>
#include "sdbus.h"
#include "../lib/testlib.h"

/* What the stand-in does with TryRestartUnit. */
enum mode {
        JOB_DONE,     /* reply, then JobRemoved "done" */
        JOB_FAILED,   /* reply, then JobRemoved "failed" */
        SIGNAL_FIRST, /* another job's JobRemoved, ours before the reply, then the reply */
        NO_SUCH_UNIT, /* the manager's error */
        DISCONNECT,   /* reply, then hang up before the job ends */
        START_LIMIT,  /* the job fails on the start limit; after ResetFailedUnit, RestartUnit works
                       */
        START_LIMIT_STALE, /* START_LIMIT, and the first call answered again before the Get's */
        START_LIMIT_AGAIN, /* START_LIMIT, and the RestartUnit's job fails on it too */
        NO_JOB_END,        /* reply, and the job never ends */
};

static enum mode mode;
static int reloads;
static const char *unit_result = "success"; /* the service's Result property */
static char calls_path[200];                /* each call's member and serial, a line each */
static sd_bus_message *first_call;          /* kept by START_LIMIT_STALE */

static void log_call(sd_bus_message *m)
{
        uint64_t serial = 0;
        assert_true(sd_bus_message_get_cookie(m, &serial) >= 0);
        FILE *f = fopen(calls_path, "a");
        assert_non_null(f);
        fprintf(f, "%s %llu\n", sd_bus_message_get_member(m), (unsigned long long)serial);
        fclose(f);
}

static int emit(sd_bus *b, uint32_t id, const char *unit, const char *result)
{
        char path[64];
        snprintf(path, sizeof(path), "/org/freedesktop/systemd1/job/%u", id);
        return sd_bus_emit_signal(b, "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", id,
                                  path, unit, result);
}

static int try_restart(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        sd_bus *b = sd_bus_message_get_bus(m);
        const char *unit, *how;
        (void)userdata;
        log_call(m);
        assert_true(sd_bus_message_read(m, "ss", &unit, &how) >= 0);
        assert_string_equal(how, "ignore-dependencies"); /* a restart must not wait on our unit */
        if (mode == NO_SUCH_UNIT)
                return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit",
                                         "Unit %s not found.", unit);
        if (mode == SIGNAL_FIRST) {
                emit(b, 6, "other.service", "failed");
                emit(b, 7, unit, "done");
        }
        int r = sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/7");
        if (mode == DISCONNECT) {
                sd_bus_flush(b);
                _exit(0);
        }
        if (mode == START_LIMIT || mode == START_LIMIT_STALE || mode == START_LIMIT_AGAIN)
                unit_result = "start-limit-hit";
        if (mode == START_LIMIT_STALE)
                first_call = sd_bus_message_ref(m);
        if (mode == JOB_FAILED)
                unit_result = "exit-code";
        if (mode != SIGNAL_FIRST && mode != NO_JOB_END)
                emit(b, 7, unit, mode == JOB_DONE ? "done" : "failed");
        return r;
}

/* After the reset, the start works (or, START_LIMIT_AGAIN, hits the limit once more). */
static int restart_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        sd_bus *b = sd_bus_message_get_bus(m);
        const char *unit, *how;
        (void)userdata;
        (void)error;
        log_call(m);
        assert_true(sd_bus_message_read(m, "ss", &unit, &how) >= 0);
        assert_string_equal(how, "ignore-dependencies");
        int r = sd_bus_reply_method_return(m, "o", "/org/freedesktop/systemd1/job/8");
        bool again = mode == START_LIMIT_AGAIN;
        unit_result = again ? "start-limit-hit" : "success";
        emit(b, 8, unit, again ? "failed" : "done");
        return r;
}

static int reset_failed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        (void)userdata;
        (void)error;
        log_call(m);
        unit_result = "success";
        return sd_bus_reply_method_return(m, NULL);
}

static int get_result(sd_bus *b, const char *path, const char *iface, const char *property,
                      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        (void)path, (void)iface, (void)property, (void)userdata, (void)error;
        log_call(sd_bus_get_current_message(b));
        if (first_call) /* an answer to an earlier call, sent again: not the Get's */
                assert_true(sd_bus_reply_method_return(first_call, "o", "/job/stale") >= 0);
        first_call = sd_bus_message_unref(first_call);
        return sd_bus_message_append(reply, "s", unit_result);
}

static int reload(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        (void)userdata;
        (void)error;
        log_call(m);
        reloads++;
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable manager[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("TryRestartUnit", "ss", "o", try_restart, 0),
        SD_BUS_METHOD("RestartUnit", "ss", "o", restart_unit, 0),
        SD_BUS_METHOD("ResetFailedUnit", "s", "", reset_failed, 0),
        SD_BUS_METHOD("Reload", "", "", reload, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

/* The unit's object, at the path systemd gives qemu-guest-agent.service. */
static const sd_bus_vtable service[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Result", "s", get_result, 0, 0),
        SD_BUS_VTABLE_END,
};

struct fx {
        char *dir, address[160];
        pid_t server;
};

/* A stand-in manager in a child: one connection, served until the client hangs up. */
static void serve(struct fx *f, enum mode m)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/private", f->dir);
        snprintf(f->address, sizeof(f->address), "unix:path=%s", sa.sun_path);
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(l, 1), 0);
        snprintf(calls_path, sizeof(calls_path), "%s/calls", f->dir);
        f->server = fork();
        assert_true(f->server >= 0);
        if (f->server == 0) {
                mode = m;
                int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                sd_bus *b = NULL;
                sd_id128_t id;
                if (fd < 0 || sd_bus_new(&b) < 0 || sd_bus_set_fd(b, fd, fd) < 0 ||
                    sd_id128_randomize(&id) < 0 || sd_bus_set_server(b, 1, id) < 0 ||
                    sd_bus_add_object_vtable(b, NULL, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", manager,
                                             NULL) < 0 ||
                    sd_bus_add_object_vtable(
                            b, NULL,
                            "/org/freedesktop/systemd1/unit/qemu_2dguest_2dagent_2eservice",
                            "org.freedesktop.systemd1.Service", service, NULL) < 0 ||
                    sd_bus_start(b) < 0)
                        _exit(2);
                for (;;) {
                        int r = sd_bus_process(b, NULL);
                        if (r < 0)
                                _exit(reloads > 0 ? 10 + reloads : 0);
                        if (r == 0 && sd_bus_wait(b, UINT64_MAX) < 0)
                                _exit(3);
                }
        }
        close(l);
        setenv("VIRTUNE_SYSTEMD_BUS", f->address, 1);
}

/* The stand-in's exit status: 0 after the client hung up, 10 + N after N reloads. */
static int server_end(struct fx *f)
{
        int st;
        assert_int_equal(waitpid(f->server, &st, 0), f->server);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What the stand-in was asked, in order ("" when nothing). */
static char *calls(struct fx *f)
{
        char *text = vt_test_read(f->dir, "calls");
        return text ? text : strdup("");
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        f->dir = vt_test_mkdtemp();
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        unsetenv("VIRTUNE_SYSTEMD_BUS");
        vt_test_rm_rf(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static void test_sdbus_restart_waits_for_the_job_done(void **state)
{
        struct fx *f = *state;
        serve(f, JOB_DONE);
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), 0);
        assert_int_equal(server_end(f), 0);
}

static void test_sdbus_restart_that_fails_is_an_error(void **state)
{
        struct fx *f = *state;
        serve(f, JOB_FAILED);
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), -EIO);
        assert_int_equal(server_end(f), 0);
}

static void test_sdbus_result_read_before_the_reply_is_kept(void **state)
{
        struct fx *f = *state;
        serve(f, SIGNAL_FIRST); /* another job failed first: not ours */
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), 0);
        assert_int_equal(server_end(f), 0);
}

static void test_sdbus_refused_call_is_an_error(void **state)
{
        struct fx *f = *state;
        serve(f, NO_SUCH_UNIT);
        int r = vt_sd_try_restart("nonesuch.service");
        assert_true(r < 0 && r != -ENOTCONN);
        assert_int_equal(server_end(f), 0);
}

static void test_sdbus_manager_gone_mid_job_is_an_error(void **state)
{
        struct fx *f = *state;
        serve(f, DISCONNECT);
        int r = vt_sd_try_restart("qemu-guest-agent.service");
        assert_true(r < 0 && r != -ENOTCONN);
        assert_int_equal(server_end(f), 0);
}

static void test_sdbus_start_limit_hit_is_reset_and_started_again(void **state)
{
        struct fx *f = *state;
        serve(f, START_LIMIT);
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), 0);
        assert_int_equal(server_end(f), 0);
        char *c = calls(f);
        assert_string_equal(c, "TryRestartUnit 1\nGet 2\nResetFailedUnit 3\nRestartUnit 4\n");
        free(c);
}

static void test_sdbus_each_call_has_its_own_serial(void **state)
{
        struct fx *f = *state;
        serve(f, START_LIMIT_STALE); /* the TryRestartUnit's answer again, before the Get's */
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), 0);
        assert_int_equal(server_end(f), 0);
        char *c = calls(f);
        assert_string_equal(c, "TryRestartUnit 1\nGet 2\nResetFailedUnit 3\nRestartUnit 4\n");
        free(c);
}

static void test_sdbus_start_limit_is_retried_once(void **state)
{
        struct fx *f = *state;
        serve(f, START_LIMIT_AGAIN);
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), -EIO);
        assert_int_equal(server_end(f), 0);
        char *c = calls(f);
        assert_string_equal(c, "TryRestartUnit 1\nGet 2\nResetFailedUnit 3\nRestartUnit 4\n");
        free(c);
}

static void test_sdbus_real_failure_is_not_reset(void **state)
{
        struct fx *f = *state;
        serve(f, JOB_FAILED); /* Result "exit-code": the service cannot start */
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), -EIO);
        assert_int_equal(server_end(f), 0);
        char *c = calls(f);
        assert_string_equal(c, "TryRestartUnit 1\nGet 2\n");
        free(c);
}

static void test_sdbus_job_that_never_ends_is_given_up(void **state)
{
        struct fx *f = *state;
        serve(f, NO_JOB_END);
        setenv("VIRTUNE_SYSTEMD_JOB_TIMEOUT_MS", "300", 1);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = vt_sd_try_restart("qemu-guest-agent.service");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        unsetenv("VIRTUNE_SYSTEMD_JOB_TIMEOUT_MS");
        assert_int_equal(r, -ETIMEDOUT);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        assert_true(s >= 0.3 && s < 20);
        assert_int_equal(server_end(f), 0);
}

static void test_sdbus_reload(void **state)
{
        struct fx *f = *state;
        serve(f, JOB_DONE);
        assert_int_equal(vt_sd_daemon_reload(), 0);
        assert_int_equal(server_end(f), 11);
}

static void test_sdbus_no_manager_says_not_connected(void **state)
{
        struct fx *f = *state;
        char address[200];
        snprintf(address, sizeof(address), "unix:path=%s/none", f->dir);
        setenv("VIRTUNE_SYSTEMD_BUS", address, 1);
        assert_int_equal(vt_sd_try_restart("qemu-guest-agent.service"), -ENOTCONN);
        assert_int_equal(vt_sd_daemon_reload(), -ENOTCONN);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_sdbus_restart_waits_for_the_job_done, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_restart_that_fails_is_an_error, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_result_read_before_the_reply_is_kept,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_refused_call_is_an_error, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_manager_gone_mid_job_is_an_error, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        test_sdbus_start_limit_hit_is_reset_and_started_again, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_each_call_has_its_own_serial, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_start_limit_is_retried_once, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_real_failure_is_not_reset, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_job_that_never_ends_is_given_up, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sdbus_no_manager_says_not_connected, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
