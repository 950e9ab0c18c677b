/* A private swtpm for one test: unix sockets in its own temp dir, stopped by its PID. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include "swtpm.h"

/* swtpm's control channel: CMD_GET_CAPABILITY, answered by a result (0) and the capabilities. */
#define CMD_GET_CAPABILITY 1u

static bool in_path(const char *prog)
{
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
        return system(cmd) == 0;
}

bool vt_swtpm_available(void)
{
        const char *progs[] = {"swtpm", "tpm2_pcrread", "tpm2_pcrextend", "tpm2_checkquote"};
        for (size_t i = 0; i < ARRAY_SIZE(progs); i++)
                if (!in_path(progs[i])) {
                        printf("SKIP: %s is not installed (packaging/deps/tpm.txt)\n", progs[i]);
                        return false;
                }
        return true;
}

void vt_swtpm_ca_files(const char *ca_dir, char *issuer, char *root, size_t size)
{
        snprintf(issuer, size, "%s/issuercert.pem", ca_dir);
        snprintf(root, size, "%s/swtpm-localca-rootca-cert.pem", ca_dir);
}

/* swtpm_setup as libvirt runs it for a vTPM (tests/tpm/provision-vtpm, also the VM tests'). */
static void provision(struct vt_swtpm *t)
{
        char script[512];
        const char *src = getenv("VT_SOURCE");
        snprintf(script, sizeof(script), "%s/tests/tpm/provision-vtpm", src ? src : ".");
        char *argv[] = {script, t->state, (char *)t->ca_dir, NULL};
        char *out = NULL;
        int r = vt_test_run(argv, &out);
        if (r != 0)
                fail_msg("provision-vtpm failed (%d): %s", r, out ? out : "");
        free(out);
}

static void sock_path(const struct vt_swtpm *t, const char *suffix, struct sockaddr_un *a)
{
        *a = (struct sockaddr_un){.sun_family = AF_UNIX};
        int n = snprintf(a->sun_path, sizeof(a->sun_path), "%s/swtpm.sock%s", t->state, suffix);
        if (n < 0 || (size_t)n >= sizeof(a->sun_path))
                fail_msg("%s/swtpm.sock%s is too long for a unix socket: set a shorter TMPDIR",
                         t->state, suffix);
}

/* Sends req to the socket at suffix, reads exactly len bytes into res; false when it cannot. */
static bool ask(const struct vt_swtpm *t, const char *suffix, const void *req, size_t req_len,
                void *res, size_t len)
{
        struct sockaddr_un a;
        sock_path(t, suffix, &a);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                return false; /* ENOENT, ECONNREFUSED: not listening yet */
        struct timeval tv = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
                return false;
        for (size_t got = 0; got < len;) {
                ssize_t n = recv(fd, (char *)res + got, len - got, 0);
                if (n <= 0)
                        return false;
                got += (size_t)n;
        }
        return true;
}

/*
 * Whether swtpm serves both channels the TCTI uses: the control channel answers
 * CMD_GET_CAPABILITY with success, the TPM a TPM2_GetCapability with a response header (any
 * response code: an unstarted TPM says TPM_RC_INITIALIZE).
 */
static bool serves(const struct vt_swtpm *t)
{
        uint32_t cmd = htonl(CMD_GET_CAPABILITY), res[2];
        if (!ask(t, ".ctrl", &cmd, sizeof(cmd), res, sizeof(res)) || res[0] != 0)
                return false;
        /* TPM_ST_NO_SESSIONS, 22 bytes, TPM_CC_GetCapability (TPM_CAP_TPM_PROPERTIES,
         * TPM_PT_FAMILY_INDICATOR, 1) */
        static const uint8_t getcap[] = {0x80, 0x01, 0, 0, 0, 22, 0, 0, 0x01, 0x7a, 0,
                                         0,    0,    6, 0, 0, 1,  0, 0, 0,    0,    1};
        uint8_t header[10];
        return ask(t, "", getcap, sizeof(getcap), header, sizeof(header)) && header[0] == 0x80;
}

static void spawn(struct vt_swtpm *t)
{
        struct sockaddr_un srv, ctrl;
        sock_path(t, "", &srv);
        sock_path(t, ".ctrl", &ctrl);
        char server[160], control[160], state[512], log[512], logopt[520];
        snprintf(server, sizeof(server), "type=unixio,path=%s", srv.sun_path);
        snprintf(control, sizeof(control), "type=unixio,path=%s", ctrl.sun_path);
        snprintf(state, sizeof(state), "dir=%s", t->state);
        snprintf(log, sizeof(log), "%s/swtpm.log", t->state);
        snprintf(logopt, sizeof(logopt), "file=%s", log);
        t->pid = fork();
        assert_true(t->pid >= 0);
        if (t->pid == 0) {
                /* A test that crashes or is killed takes its swtpm with it. */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", control,
                       "--tpmstate", state, "--log", logopt, "--flags",
                       t->no_startup ? "not-need-init" : "not-need-init,startup-clear", NULL);
                _exit(127);
        }
        for (int i = 0; i < 1000; i++) {
                int st;
                if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
                        t->pid = 0;
                        _cleanup_free_ char *out = vt_test_read(t->state, "swtpm.log");
                        fail_msg("swtpm exited early (%s %d), %s: %s",
                                 WIFEXITED(st) ? "exit" : "signal",
                                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log,
                                 out ? out : "(no log)");
                }
                if (serves(t))
                        return;
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        fail_msg("swtpm (pid %d) did not answer on %s within 10 s; its log is %s", (int)t->pid,
                 ctrl.sun_path, log);
}

void vt_swtpm_start(struct vt_swtpm *t)
{
        t->state = vt_test_mkdtemp();
        if (t->ca_dir)
                provision(t);
        struct sockaddr_un a;
        sock_path(t, "", &a);
        snprintf(t->tcti, sizeof(t->tcti), "swtpm:path=%s", a.sun_path);
        setenv("TPM2TOOLS_TCTI", t->tcti, 1);
        t->root = vt_test_mkdtemp();
        char conf[256];
        snprintf(conf, sizeof(conf), "[tpm]\ntcti = %s\n", t->tcti);
        vt_test_write(t->root, "etc/virtune/virtune.conf", conf);
        spawn(t);
}

static void reap(struct vt_swtpm *t)
{
        if (t->pid > 0) {
                kill(t->pid, SIGTERM);
                waitpid(t->pid, NULL, 0);
                t->pid = 0;
        }
}

void vt_swtpm_power_cycle(struct vt_swtpm *t)
{
        reap(t);
        spawn(t);
}

void vt_swtpm_stop(struct vt_swtpm *t)
{
        reap(t);
        if (t->state)
                vt_test_rm_rf(t->state);
        if (t->root)
                vt_test_rm_rf(t->root);
        free(t->state);
        free(t->root);
        t->state = t->root = NULL;
}

int vt_swtpm_tool(struct vt_swtpm *t, char *const argv[], char **out)
{
        setenv("TPM2TOOLS_TCTI", t->tcti, 1);
        return vt_test_run(argv, out);
}

struct vt_swtpm vt_tpm;

int vt_swtpm_setup(void **state)
{
        vt_swtpm_start(&vt_tpm);
        return 0;
}

int vt_swtpm_teardown(void **state)
{
        vt_swtpm_stop(&vt_tpm);
        return 0;
}
