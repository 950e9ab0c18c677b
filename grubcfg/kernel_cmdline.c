/* Backend: /etc/kernel/cmdline (systemd-boot, kernel-install): the whole file is the line. */
#include "util.h"
#include "backend.h"

#define KERNEL_CMDLINE "/etc/kernel/cmdline"

static bool kernel_cmdline_detect(struct vt_ctx *ctx)
{
        return vt_exists(ctx, KERNEL_CMDLINE);
}

static int kernel_cmdline_read(struct vt_ctx *ctx, json_object *entry, struct vt_bootcfg_set *set)
{
        _cleanup_free_ char *text = NULL;
        int r = vt_bootcfg_read_file(ctx, KERNEL_CMDLINE, &text, NULL, set);
        if (r < 0)
                return r;
        vt_bootcfg_entry_one(entry, KERNEL_CMDLINE, vt_strip(text));
        return 0;
}

static int kernel_cmdline_write(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                                struct vt_bootcfg_set *set)
{
        _cleanup_free_ char *text = NULL, *out = NULL;
        size_t len, pos = 0;
        int r = vt_bootcfg_read_file(ctx, KERNEL_CMDLINE, &text, &len, set);
        if (r < 0)
                return r;
        /* kernel-install reads the file's words: only one line is a command line */
        const char *nl = memchr(text, '\n', len);
        if (nl && (size_t)(nl - text) + 1 < len &&
            strspn(nl + 1, " \t\r\n") != len - (nl - text) - 1)
                return vt_bootcfg_refuse(set, KERNEL_CMDLINE, 2, "more than one line");
        r = vt_cmdline_apply(text, len, edits, n, &out, &pos);
        if (r == -EBADMSG)
                return vt_bootcfg_refuse(set, KERNEL_CMDLINE, 1, "unbalanced quote or NUL byte");
        if (r < 0)
                return r;
        size_t olen = strlen(out);
        return vt_bootcfg_set_add(set, KERNEL_CMDLINE, text, len, TAKE_PTR(out), olen);
}

const struct vt_bootcfg_backend vt_backend_kernel_cmdline = {
        .name = "kernel-cmdline",
        .detect = kernel_cmdline_detect,
        .read = kernel_cmdline_read,
        .write = kernel_cmdline_write,
};
