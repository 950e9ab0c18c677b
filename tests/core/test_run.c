/* Running programs: the text, the bound, a program that is not there, signals, stdin, status. */
#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include "../lib/testlib.h"
#include "run.h"

static void test_run_output_returns_what_the_program_printed(void **state)
{
        _cleanup_free_ char *out = NULL;
        assert_int_equal(vt_run_output("/bin/echo", "hello world", 100, &out), 0);
        assert_string_equal(out, "hello world\n");
}

static void test_run_output_keeps_at_most_max_bytes(void **state)
{
        _cleanup_free_ char *out = NULL;
        assert_int_equal(vt_run_output("/bin/echo", "hello world", 5, &out), 0);
        assert_string_equal(out, "hello");
}

static void test_run_output_ignores_stderr_and_exit_status(void **state)
{
        _cleanup_free_ char *out = NULL;
        assert_int_equal(vt_run_output("/bin/ls", "/nonexistent-virtune-test", 100, &out), 0);
        assert_string_equal(out, "");
}

static void test_run_output_missing_program_is_enoent(void **state)
{
        char *out = NULL;
        assert_int_equal(vt_run_output("/nonexistent/program", "x", 100, &out), -ENOENT);
        assert_null(out);
}

static void on_alarm(int sig)
{
        (void)sig;
}

static void test_run_waits_through_signals(void **state)
{
        /* No SA_RESTART: every alarm interrupts the wait, as SIGCHLD/SIGHUP do in a daemon. */
        struct sigaction sa = {.sa_handler = on_alarm}, old;
        assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
        struct itimerval t = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
        assert_int_equal(setitimer(ITIMER_REAL, &t, NULL), 0);
        char *argv[] = {"/bin/sleep", "0.3", NULL};
        int r = vt_run(argv, NULL, NULL);
        struct itimerval off = {0};
        setitimer(ITIMER_REAL, &off, NULL);
        sigaction(SIGALRM, &old, NULL);
        assert_int_equal(r, 0);
}

static void test_run_failure_is_eio_and_missing_program_enoent(void **state)
{
        char *fail[] = {"/bin/false", NULL}, *missing[] = {"/nonexistent/program", NULL};
        char *by_name[] = {"true", NULL};
        assert_int_equal(vt_run(fail, NULL, NULL), -EIO);
        assert_int_equal(vt_run(missing, NULL, NULL), -ENOENT);
        assert_int_equal(vt_run(by_name, NULL, NULL), -ENOENT);
        assert_int_equal(vt_run(by_name, &(struct vt_run_opts){.search_path = true}, NULL), 0);
}

static void test_run_capture_is_bounded_and_the_rest_unread(void **state)
{
        char *argv[] = {"/bin/sh", "-c", "yes | head -c 10000000", NULL};
        struct vt_run_opts o = {.out = VT_RUN_STDOUT_CAPTURE, .capture_max = 10};
        _cleanup_free_ char *out = NULL;
        (void)vt_run(argv, &o, &out);
        assert_string_equal(out, "y\ny\ny\ny\ny\n");
}

static void test_run_gives_stdin_and_an_empty_signal_mask(void **state)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(write(p[1], "from the pipe", 13), 13);
        close(p[1]);
        sigset_t block, saved;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigaddset(&block, SIGHUP);
        assert_int_equal(sigprocmask(SIG_BLOCK, &block, &saved), 0);
        char *argv[] = {"/bin/sh", "-c", "cat; grep SigBlk /proc/self/status", NULL};
        struct vt_run_opts o = {
                .out = VT_RUN_STDOUT_CAPTURE, .capture_max = 4096, .stdin_fd = p[0]};
        _cleanup_free_ char *out = NULL;
        int r = vt_run(argv, &o, &out);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        close(p[0]);
        assert_int_equal(r, 0);
        assert_string_equal(out, "from the pipeSigBlk:\t0000000000000000\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_run_output_returns_what_the_program_printed),
                cmocka_unit_test(test_run_output_keeps_at_most_max_bytes),
                cmocka_unit_test(test_run_output_ignores_stderr_and_exit_status),
                cmocka_unit_test(test_run_output_missing_program_is_enoent),
                cmocka_unit_test(test_run_waits_through_signals),
                cmocka_unit_test(test_run_failure_is_eio_and_missing_program_enoent),
                cmocka_unit_test(test_run_capture_is_bounded_and_the_rest_unread),
                cmocka_unit_test(test_run_gives_stdin_and_an_empty_signal_mask),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
