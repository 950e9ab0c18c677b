/* A private swtpm for one test: free TCP ports, state in a temp dir, stopped by its PID. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include "swtpm.h"

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

static int try_port(int port, bool connect_only)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int r = connect_only ? connect(fd, (struct sockaddr *)&a, sizeof(a))
                             : bind(fd, (struct sockaddr *)&a, sizeof(a));
        close(fd);
        return r;
}

/* A port P with P and P+1 both free: ask the kernel for one, check its neighbour. */
static int free_port_pair(void)
{
        for (int i = 0; i < 100; i++) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in a = {.sin_family = AF_INET};
                socklen_t len = sizeof(a);
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
                assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
                close(fd);
                int p = ntohs(a.sin_port);
                if (p < 65535 && try_port(p, false) == 0 && try_port(p + 1, false) == 0)
                        return p;
        }
        fail_msg("no free port pair for swtpm");
        return -1;
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

static void spawn(struct vt_swtpm *t);

void vt_swtpm_start(struct vt_swtpm *t)
{
        t->state = vt_test_mkdtemp();
        if (t->ca_dir)
                provision(t);
        t->port = free_port_pair();
        snprintf(t->tcti, sizeof(t->tcti), "swtpm:host=127.0.0.1,port=%d", t->port);
        setenv("TPM2TOOLS_TCTI", t->tcti, 1);
        t->root = vt_test_mkdtemp();
        char conf[128];
        snprintf(conf, sizeof(conf), "[tpm]\ntcti = %s\n", t->tcti);
        vt_test_write(t->root, "etc/virtune/virtune.conf", conf);
        spawn(t);
}

static void spawn(struct vt_swtpm *t)
{
        char server[96], ctrl[96], state[512];
        snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port);
        snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port + 1);
        snprintf(state, sizeof(state), "dir=%s", t->state);
        t->pid = fork();
        assert_true(t->pid >= 0);
        if (t->pid == 0) {
                execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl,
                       "--tpmstate", state, "--flags",
                       t->no_startup ? "not-need-init" : "not-need-init,startup-clear", NULL);
                _exit(127);
        }
        for (int i = 0; i < 500; i++) {
                if (try_port(t->port, true) == 0)
                        return;
                int st;
                if (waitpid(t->pid, &st, WNOHANG) == t->pid)
                        fail_msg("swtpm exited early (status %d)", st);
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        fail_msg("swtpm did not listen on port %d", t->port);
}

void vt_swtpm_power_cycle(struct vt_swtpm *t)
{
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        spawn(t);
}

void vt_swtpm_stop(struct vt_swtpm *t)
{
        if (t->pid > 0) {
                kill(t->pid, SIGTERM);
                waitpid(t->pid, NULL, 0);
                t->pid = 0;
        }
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
