/* The udev database (/run/udev/data/<b|c><major>:<minor>), read through the root. */
#include "envfile.h"
#include "strv.h"
#include "udevdb.h"

int vt_udevdb_parse(const char *text, char ***props)
{
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                /* Only E: lines are properties; S: links, I: init time, G: tags are not. */
                if (n > 2 && startswith(p, "E:")) {
                        const char *eq = memchr(p + 2, '=', n - 2);
                        if (eq && eq > p + 2) {
                                _cleanup_free_ char *k = strndup(p + 2, (size_t)(eq - p - 2));
                                _cleanup_free_ char *v = strndup(eq + 1, (size_t)(p + n - eq - 1));
                                if (!k || !v)
                                        return -ENOMEM;
                                int r = vt_env_set(props, k, v);
                                if (r < 0)
                                        return r;
                        }
                }
                p += n;
                if (*p)
                        p++;
        }
        return 0;
}

int vt_udevdb_load(struct vt_ctx *ctx, char type, unsigned major, unsigned minor, char ***props)
{
        char path[64];
        int r = vt_pathf(path, sizeof(path), "/run/udev/data/%c%u:%u", type, major, minor);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        r = vt_read_file_max(ctx, path, 256u << 10, &text, NULL);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        return vt_udevdb_parse(text, props);
}
