/* The tests' private swtpms (swtpm.c for C, tests/lib/vtswtpm for shell): no port to race for. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include "swtpm.h"

/* Whether inode is one of the TCP sockets in /proc/net/FILE (tcp, tcp6). */
static bool tcp_inode(const char *file, unsigned long inode)
{
        char path[64], line[512];
        snprintf(path, sizeof(path), "/proc/net/%s", file);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return false; /* no IPv6 */
        while (fgets(line, sizeof(line), f)) {
                unsigned long ino;
                /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
                if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &ino) == 1 &&
                    ino == inode)
                        return true;
        }
        return false;
}

/* The number of sockets pid holds, after asserting that none of them is a TCP socket. */
static int assert_no_tcp_socket(pid_t pid)
{
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
        _cleanup_closedir_ DIR *d = opendir(dir);
        assert_non_null(d);
        int sockets = 0;
        for (struct dirent *e; (e = readdir(d));) {
                char target[128];
                ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                unsigned long ino;
                if (sscanf(target, "socket:[%lu]", &ino) != 1)
                        continue;
                sockets++;
                if (tcp_inode("tcp", ino) || tcp_inode("tcp6", ino))
                        fail_msg("swtpm (pid %d) holds a TCP socket (%s): a port another test or "
                                 "a TIME-WAIT storm can take",
                                 (int)pid, target);
        }
        return sockets;
}

/* Whether pid has ended: gone, or a zombie its new parent has not reaped yet. */
static bool ended(pid_t pid)
{
        char path[64], stat[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f || !fgets(stat, sizeof(stat), f))
                return true;
        const char *s = strrchr(stat, ')');
        return s && s[1] == ' ' && s[2] == 'Z';
}

static bool ends_within_5s(pid_t pid)
{
        for (int i = 0; i < 500; i++) {
                if (ended(pid))
                        return true;
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        return false;
}

static void test_swtpm_listens_on_unix_sockets_only(void **state)
{
        /* The TPM answers (setup waited for its control channel), on no TCP port. */
        char *argv[] = {"tpm2_pcrread", "sha256:0", NULL};
        assert_int_equal(vt_swtpm_tool(&vt_tpm, argv, NULL), 0);
        assert_true(strstr(vt_tpm.tcti, "swtpm:path=") == vt_tpm.tcti);
        assert_int_equal(assert_no_tcp_socket(vt_tpm.pid), 2); /* the TPM and its control */
}

struct started {
        pid_t pid;
        char state[256], root[256];
};

static void test_swtpm_ends_with_the_test_that_started_it(void **state)
{
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                /* A test that crashes: it started its swtpm and never stopped it. */
                struct vt_swtpm t = {0};
                vt_swtpm_start(&t);
                struct started msg = {.pid = t.pid};
                snprintf(msg.state, sizeof(msg.state), "%s", t.state);
                snprintf(msg.root, sizeof(msg.root), "%s", t.root);
                _exit(write(pfd[1], &msg, sizeof(msg)) == sizeof(msg) ? 0 : 2);
        }
        close(pfd[1]);
        struct started msg;
        assert_int_equal(read(pfd[0], &msg, sizeof(msg)), sizeof(msg));
        close(pfd[0]);
        assert_int_equal(waitpid(child, NULL, 0), child);
        bool gone = ends_within_5s(msg.pid);
        if (!gone)
                kill(msg.pid, SIGKILL);
        vt_test_rm_rf(msg.state);
        vt_test_rm_rf(msg.root);
        assert_true(gone);
}

static void test_vtswtpm_listens_on_unix_sockets_only_and_stop_waits(void **state)
{
        _cleanup_test_root_ char *dir = vt_test_mkdtemp();
        char script[512];
        const char *src = getenv("VT_SOURCE");
        snprintf(script, sizeof(script), "%s/tests/lib/vtswtpm", src ? src : ".");
        char *start[] = {script, "start", dir, NULL};
        _cleanup_free_ char *tcti = NULL;
        assert_int_equal(vt_test_run(start, &tcti), 0);
        _cleanup_free_ char *pidfile = vt_test_read(dir, "swtpm.pid");
        assert_non_null(pidfile);
        pid_t pid = atoi(pidfile);
        assert_true(pid > 0);
        char want[400];
        snprintf(want, sizeof(want), "swtpm:path=%s/swtpm.sock\n", dir);
        assert_string_equal(tcti, want);
        setenv("TPM2TOOLS_TCTI", vt_strip(tcti), 1);
        char *pcrread[] = {"tpm2_pcrread", "sha256:0", NULL};
        assert_int_equal(vt_test_run(pcrread, NULL), 0);
        assert_int_equal(assert_no_tcp_socket(pid), 2);
        char *stop[] = {script, "stop", dir, NULL};
        assert_int_equal(vt_test_run(stop, NULL), 0);
        assert_true(ended(pid)); /* already: stop waited for it */
}

/* vtswtpm ARGS... with its stderr in out; returns its exit status. */
static int vtswtpm(char **out, const char *cmd, const char *dir)
{
        char script[512];
        const char *src = getenv("VT_SOURCE");
        snprintf(script, sizeof(script), "%s/tests/lib/vtswtpm", src ? src : ".");
        char *argv[] = {"sh",        "-c", "exec \"$0\" \"$1\" \"$2\" 2>&1", script, (char *)cmd,
                        (char *)dir, NULL};
        return vt_test_run(argv, out);
}

static void test_vtswtpm_says_why_swtpm_exited_early(void **state)
{
        _cleanup_test_root_ char *dir = vt_test_mkdtemp();
        /* swtpm locks its state directory's .lock (fcntl): held here, its TPM cannot start. */
        char lock[512];
        snprintf(lock, sizeof(lock), "%s/.lock", dir);
        _cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        assert_true(fd >= 0);
        assert_int_equal(lockf(fd, F_TLOCK, 0), 0);
        _cleanup_free_ char *out = NULL;
        assert_int_equal(vtswtpm(&out, "start", dir), 1);
        assert_non_null(strstr(out, "vtswtpm: swtpm exited early (exit 1)"));
        assert_non_null(strstr(out, "Could not lock access to lockfile"));
}

static void test_vtswtpm_refuses_a_dir_a_swtpm_already_serves(void **state)
{
        _cleanup_test_root_ char *dir = vt_test_mkdtemp();
        _cleanup_free_ char *first = NULL, *second = NULL;
        assert_int_equal(vtswtpm(&first, "start", dir), 0);
        /* Its listener would answer for a second swtpm, which then exits on the lock. */
        assert_int_equal(vtswtpm(&second, "start", dir), 1);
        char want[600];
        snprintf(want, sizeof(want), "vtswtpm: a swtpm already serves %s (vtswtpm stop %s first)\n",
                 dir, dir);
        assert_string_equal(second, want);
        _cleanup_free_ char *stopped = NULL;
        assert_int_equal(vtswtpm(&stopped, "stop", dir), 0);
}

int main(void)
{
        if (!vt_swtpm_available())
                return 77;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_swtpm_listens_on_unix_sockets_only,
                                                vt_swtpm_setup, vt_swtpm_teardown),
                cmocka_unit_test(test_swtpm_ends_with_the_test_that_started_it),
                cmocka_unit_test(test_vtswtpm_listens_on_unix_sockets_only_and_stop_waits),
                cmocka_unit_test(test_vtswtpm_says_why_swtpm_exited_early),
                cmocka_unit_test(test_vtswtpm_refuses_a_dir_a_swtpm_already_serves),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
