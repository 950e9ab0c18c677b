/*
 * The distribution's own writers of boot files (grub-editenv, grubby): found inside a live
 * root, run with fork/exec and no shell, in virtune's place for the files they own.
 */
#include <assert.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "strv.h"
#include "util.h"
#include "backend.h"

char *vt_bootcfg_tool_path(struct vt_ctx *ctx, const char *const *paths, size_t n)
{
        assert(ctx);
        /* an image's tools are not run: they may not even be for this architecture */
        if (!ctx->live)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = vt_open(ctx, paths[i], O_RDONLY | O_CLOEXEC, 0);
                struct stat st;
                if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
                        return vt_host_path(ctx, paths[i]);
        }
        return NULL;
}

int vt_bootcfg_set_tool(struct vt_bootcfg_set *set, const char *name, char **argv, bool exact)
{
        if (set->ntools == ARRAY_SIZE(set->tools)) {
                vt_strv_free(argv);
                return -E2BIG;
        }
        set->tools[set->ntools] =
                (struct vt_bootcfg_tool){.name = name, .argv = argv, .exact = exact};
        return (int)++set->ntools;
}

int vt_bootcfg_spawn(char *const *argv)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* its chatter goes to our stderr, never into the diff or the JSON on stdout */
                dup2(STDERR_FILENO, STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return -EIO;
}
