/* Where the running system mounted its EFI system partition (libblkid and mountinfo). */
#include <fcntl.h>
#include "blockdev.h"
#include "ctx.h"
#include "esp.h"
#include "strv.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s, size_t n)
{
        char *out = malloc(n + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + s[i + 3] -
                                      '0');
                        i += 3;
                } else
                        *o++ = s[i];
        }
        *o = 0;
        return out;
}

int vt_esp_mountinfo_find(const char *mountinfo, unsigned major, unsigned minor, char **ret)
{
        char want[32];
        snprintf(want, sizeof(want), "%u:%u", major, minor);
        for (const char *line = mountinfo; line && *line;) {
                const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
                /* fields: id parent major:minor root mountpoint ... */
                const char *f[5];
                size_t len[5], k = 0;
                for (const char *p = line; k < 5 && p < end;) {
                        while (p < end && *p == ' ')
                                p++;
                        const char *e = p;
                        while (e < end && *e != ' ')
                                e++;
                        if (e == p)
                                break;
                        f[k] = p;
                        len[k++] = (size_t)(e - p);
                        p = e;
                }
                /* only a mount of the whole filesystem ("/" inside it) holds EFI/ at its top */
                if (k == 5 && len[2] == strlen(want) && memcmp(f[2], want, len[2]) == 0 &&
                    len[3] == 1 && f[3][0] == '/') {
                        *ret = unescape(f[4], len[4]);
                        return *ret ? 0 : -ENOMEM;
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

/* major:minor of /sys/block/<disk>/<part>/dev for the partition numbered n. */
static int part_devnum(struct vt_ctx *ctx, const char *disk, int n, unsigned *maj, unsigned *min)
{
        char dir[300];
        snprintf(dir, sizeof(dir), "/sys/block/%s", disk);
        _cleanup_closedir_ DIR *d = NULL;
        int r = vt_opendir(ctx, dir, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                char p[600];
                int64_t num;
                _cleanup_free_ char *dev = NULL;
                if (!startswith(de->d_name, disk) ||
                    vt_pathf(p, sizeof(p), "%s/%s/partition", dir, de->d_name) < 0 ||
                    vt_read_int64(ctx, p, &num) < 0 || num != n ||
                    vt_pathf(p, sizeof(p), "%s/%s/dev", dir, de->d_name) < 0 ||
                    vt_read_attr(ctx, p, &dev) < 0)
                        continue;
                return sscanf(dev, "%u:%u", maj, min) == 2 ? 0 : -EBADMSG;
        }
        return -ENOENT;
}

int vt_esp_mountpoint(struct vt_ctx *ctx, char **ret)
{
        if (!ctx->live)
                return -EOPNOTSUPP;
        _cleanup_free_ char *mountinfo = NULL;
        int r = vt_read_file_max(ctx, "/proc/self/mountinfo", VT_KERNEL_FILE_MAX, &mountinfo, NULL);
        if (r < 0)
                return r;
        _cleanup_closedir_ DIR *d = NULL;
        r = vt_opendir(ctx, "/sys/block", &d);
        if (r < 0)
                return r;
        _cleanup_strv_ char **disks = NULL;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.' && vt_strv_add(&disks, de->d_name) < 0)
                        return -ENOMEM;
        if (!disks)
                return -ENOENT;
        vt_strv_sort(disks);
        for (size_t i = 0; disks[i]; i++) {
                char node[300];
                snprintf(node, sizeof(node), "/dev/%s", disks[i]);
                _cleanup_close_ int fd = vt_open(ctx, node, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
                _cleanup_(vt_blk_table_free) struct vt_blk_table t = {};
                if (fd < 0 || vt_blk_probe_fd(fd, &t) < 0)
                        continue;
                for (size_t k = 0; k < t.n; k++) {
                        unsigned maj, min;
                        if (vt_blk_is_esp(t.parts[k].parttype) &&
                            part_devnum(ctx, disks[i], t.parts[k].number, &maj, &min) >= 0 &&
                            vt_esp_mountinfo_find(mountinfo, maj, min, ret) >= 0)
                                return 0;
                }
        }
        return -ENOENT;
}
