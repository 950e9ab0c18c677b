/* TPM benchmark: PCR reads and quote+verify round trips in-process, against whole-process tools. */
#include <getopt.h>
#include <sys/wait.h>
#include <time.h>
#include "host_verify.h"
#include "policy.h"
#include "tpm2.h"

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Whole process, stdout to /dev/null, as a shell script would run it. */
static int run_quiet(char *const argv[])
{
        fflush(NULL); /* or the child's freopen writes our buffered output again */
        pid_t pid = fork();
        if (pid == 0) {
                if (!freopen("/dev/null", "w", stdout))
                        _exit(126);
                execvp(argv[0], argv);
                _exit(127);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_pcrs(json_object *doc)
{
        int n = 0;
        json_object_object_foreach (json_object_object_get(doc, "banks"), bank, pcrs) {
                (void)bank;
                n += json_object_object_length(pcrs);
        }
        return n;
}

int main(int argc, char **argv)
{
        const char *tcti = NULL, *virtune = NULL;
        int n = 200;
        for (int c; (c = getopt(argc, argv, "t:n:V:")) != -1;) {
                if (c == 't')
                        tcti = optarg;
                else if (c == 'n')
                        n = atoi(optarg);
                else if (c == 'V')
                        virtune = optarg;
                else
                        return 2;
        }
        if (!tcti || n < 1 || n > 100000) {
                fprintf(stderr, "usage: tpm_bench -t TCTI [-n N] [-V path/to/virtune]\n");
                return 2;
        }
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        char conf[256], err[VT_POLICY_ERR_MAX];
        snprintf(conf, sizeof(conf), "[tpm]\ntcti = %s\n", tcti);
        if (vt_ctx_new(NULL, &ctx) < 0 || !(ctx->policy = vt_policy_new()) ||
            vt_policy_parse(ctx->policy, "bench", conf, err, sizeof(err)) < 0) {
                fprintf(stderr, "tpm_bench: cannot set up: %s\n", err);
                return 1;
        }
        double *t = calloc((size_t)n, sizeof(double));
        double *u = calloc((size_t)n, sizeof(double));
        double *w = calloc((size_t)n, sizeof(double));
        double *q = calloc((size_t)n, sizeof(double));
        if (!t || !u || !w || !q)
                return 1;
        int pcrs = 0;
        setenv("TPM2TOOLS_TCTI", tcti, 1);
        char *pcrread[] = {"tpm2_pcrread", NULL};
        for (int i = 0; i < n; i++) {
                json_object *doc = NULL;
                double t0 = now_ms();
                int r = vt_tpm2_pcr_read(ctx, NULL, NULL, &doc);
                t[i] = now_ms() - t0;
                if (r < 0) {
                        fprintf(stderr, "tpm_bench: PCR read: %s\n", vt_tpm2_strerror(r));
                        return 1;
                }
                pcrs = count_pcrs(doc);
                json_object_put(doc);
                t0 = now_ms();
                if (run_quiet(pcrread) != 0) {
                        fprintf(stderr, "tpm_bench: tpm2_pcrread failed\n");
                        return 1;
                }
                u[i] = now_ms() - t0;

                uint8_t nonce[32];
                if (getentropy(nonce, sizeof(nonce)) < 0)
                        return 1;
                json_object *quote = NULL, *report = NULL;
                t0 = now_ms();
                r = vt_tpm2_quote(ctx, nonce, sizeof(nonce), "sha256:0-9", &quote);
                if (r >= 0)
                        r = vt_host_verify_sel(quote, nonce, sizeof(nonce), "sha256:0-9", NULL,
                                               NULL, &report);
                q[i] = now_ms() - t0;
                if (r < 0 || !json_object_get_boolean(json_object_object_get(report, "ok"))) {
                        fprintf(stderr, "tpm_bench: quote+verify failed\n");
                        return 1;
                }
                json_object_put(quote);
                json_object_put(report);
        }
        printf("TPM benchmark, %d rounds, TCTI %s, %d PCRs (all banks)\n", n, tcti, pcrs);
        double mt = median(t, n), mu = median(u, n), mq = median(q, n);
        printf("  %-44s %8.3f ms\n", "virtune PCR read, in-process (median)", mt);
        printf("  %-44s %8.3f ms\n", "tpm2_pcrread, whole process (median)", mu);
        printf("  %-44s %8.3f   (goal <= 0.5)\n", "ratio", mt / mu);
        printf("  %-44s %8.3f ms\n", "quote sha256:0-9 + verify, in-process (median)", mq);
        if (virtune) {
                /* the CLI reads the TCTI from a policy: a throw-away root holding only that */
                char root[] = "/tmp/vt-bench-XXXXXX", path[128];
                if (!mkdtemp(root))
                        return 1;
                snprintf(path, sizeof(path), "mkdir -p %s/etc/virtune", root);
                if (system(path) != 0)
                        return 1;
                snprintf(path, sizeof(path), "%s/etc/virtune/virtune.conf", root);
                FILE *f = fopen(path, "w");
                if (!f || fputs(conf, f) < 0 || fclose(f) != 0)
                        return 1;
                char *cli[] = {(char *)virtune, "pcrs", "--json", "--root", root, NULL};
                for (int i = 0; i < n; i++) {
                        double t0 = now_ms();
                        if (run_quiet(cli) != 0) {
                                fprintf(stderr, "tpm_bench: %s pcrs failed\n", virtune);
                                return 1;
                        }
                        w[i] = now_ms() - t0;
                }
                printf("  %-44s %8.3f ms\n", "virtune pcrs, whole process (median)", median(w, n));
                snprintf(path, sizeof(path), "rm -rf %s", root);
                if (system(path) != 0)
                        return 1;
        }
        free(t), free(u), free(w), free(q);
        return 0;
}
