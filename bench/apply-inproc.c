/*
 * bench/apply-inproc: vt_tune_apply (detect + plan + apply + journal) timed inside one process,
 * on fresh copies of a fixture tree, so process start-up and dynamic linking are left out.
 * Usage: apply-inproc RUNS FIXTURE_ROOT [BOOT_ROOT] [CPUID]; prints one line per figure.
 */
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include "ctx.h"
#include "policy.h"
#include "tune.h"
#include "vt_cpuid.h"

extern char **environ;

static int run(char *const argv[])
{
        pid_t pid;
        int st;
        if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0 || waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: apply-inproc RUNS FIXTURE_ROOT [BOOT_ROOT] [CPUID]\n");
                return 2;
        }
        int runs = atoi(argv[1]);
        if (runs < 1 || runs > 10000)
                return 2;
        char tmpl[] = "/tmp/virtune-inproc.XXXXXX";
        if (!mkdtemp(tmpl))
                return 1;
        char root[600], boot[600];
        snprintf(root, sizeof(root), "%s/root", tmpl);
        double *ms = calloc((size_t)runs, sizeof(*ms)), *cpu = calloc((size_t)runs, sizeof(*cpu));
        if (!ms || !cpu)
                return 1;
        for (int i = 0; i < runs; i++) {
                char *rm[] = {"rm", "-rf", root, NULL};
                char *cp[] = {"cp", "-a", argv[2], root, NULL};
                if (run(rm) < 0 || run(cp) < 0)
                        return 1;
                if (argc > 3 && *argv[3]) {
                        snprintf(boot, sizeof(boot), "%s/.", argv[3]);
                        char *cpb[] = {"cp", "-a", boot, root, NULL};
                        if (run(cpb) < 0)
                                return 1;
                }
                sync(); /* the copy's dirty pages must not land on apply's fsyncs */
                struct timespec a, b, ca, cb;
                clock_gettime(CLOCK_MONOTONIC, &a);
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
                struct vt_ctx *ctx = NULL;
                char err[VT_POLICY_ERR_MAX];
                if (vt_ctx_new(root, &ctx) < 0 ||
                    vt_policy_load(ctx, &ctx->policy, err, sizeof(err)) < 0)
                        return 1;
                ctx->live = true;
                if (argc > 4 && vt_cpuid_new_file(argv[4], &ctx->cpuid) < 0)
                        return 1;
                struct vt_apply_opts o = {0};
                json_object *entry = NULL;
                int r = vt_tune_apply(ctx, &o, &entry);
                json_object_put(entry);
                vt_ctx_free(ctx);
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
                clock_gettime(CLOCK_MONOTONIC, &b);
                if (r != 0)
                        return 1;
                ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
                cpu[i] = (double)(cb.tv_sec - ca.tv_sec) * 1e3 +
                         (double)(cb.tv_nsec - ca.tv_nsec) / 1e6;
        }
        char *rm[] = {"rm", "-rf", tmpl, NULL};
        run(rm);
        qsort(ms, (size_t)runs, sizeof(*ms), cmp);
        qsort(cpu, (size_t)runs, sizeof(*cpu), cmp);
        printf("inproc_min_ms: %.2f\ninproc_median_ms: %.2f\ninproc_max_ms: %.2f\n"
               "inproc_cpu_median_ms: %.2f\n",
               ms[0], ms[runs / 2], ms[runs - 1], cpu[runs / 2]);
        free(ms);
        free(cpu);
        return 0;
}
