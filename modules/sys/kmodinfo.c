/* Module state from /sys/module and the modules.builtin / modules.dep lists under the root. */
#include <assert.h>
#include <limits.h>
#include "kmodinfo.h"

static const char *const state_names[] = {
        [VT_KMOD_ABSENT] = "absent",
        [VT_KMOD_AVAILABLE] = "module-available",
        [VT_KMOD_LOADED] = "module-loaded",
        [VT_KMOD_BUILTIN] = "builtin",
};

const char *vt_kmod_state_to_string(enum vt_kmod_state s)
{
        assert((size_t)s < ARRAY_SIZE(state_names));
        return state_names[s];
}

/* Does this modules.builtin / modules.dep line name module `name`? ("kernel/x/a-b.ko.xz:" ~ a_b) */
static bool line_is_module(const char *line, size_t len, const char *name)
{
        const char *end = memchr(line, ':', len);
        if (!end)
                end = line + len;
        const char *start = end;
        while (start > line && start[-1] != '/')
                start--;
        const char *ko = NULL;
        for (const char *p = start; p + 3 <= end; p++)
                if (memcmp(p, ".ko", 3) == 0)
                        ko = p;
        if (!ko)
                return false;
        size_t n = strlen(name);
        if ((size_t)(ko - start) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((start[i] == '-' ? '_' : start[i]) != name[i])
                        return false;
        return true;
}

static bool listed(struct vt_ctx *ctx, const char *release, const char *file, const char *name)
{
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        if (vt_pathf(path, sizeof(path), "/lib/modules/%s/%s", release, file) < 0 ||
            vt_read_file(ctx, path, &text, NULL) < 0)
                return false;
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (line_is_module(p, len, name))
                        return true;
                p += len + (nl ? 1 : 0);
        }
        return false;
}

enum vt_kmod_state vt_kmod_state(struct vt_ctx *ctx, const char *release, const char *name)
{
        char path[PATH_MAX];
        if (vt_pathf(path, sizeof(path), "/sys/module/%s/initstate", name) >= 0 &&
            vt_exists(ctx, path))
                return VT_KMOD_LOADED;
        if (vt_pathf(path, sizeof(path), "/sys/module/%s", name) >= 0 && vt_exists(ctx, path))
                return VT_KMOD_BUILTIN;
        if (!release)
                return VT_KMOD_ABSENT;
        if (listed(ctx, release, "modules.builtin", name))
                return VT_KMOD_BUILTIN;
        if (listed(ctx, release, "modules.dep", name))
                return VT_KMOD_AVAILABLE;
        return VT_KMOD_ABSENT;
}
