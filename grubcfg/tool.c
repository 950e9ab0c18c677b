/*
 * The distribution's own writers of boot files (grub-editenv, grubby): found inside a live
 * root, run (vt_run, no shell) in virtune's place for the files they own.
 */
#include <assert.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "run.h"
#include "strv.h"
#include "util.h"
#include "backend.h"

const struct vt_run_opts vt_bootcfg_run_opts = {.out = VT_RUN_STDOUT_TO_STDERR};

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
