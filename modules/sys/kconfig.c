/* Kernel build configuration lookups through the root, plain or gzip (/proc/config.gz). */
#include <fcntl.h>
#include <limits.h>
#include <zlib.h>
#include "kconfig.h"

/* Files of an image are hostile: a real config has ~10k lines, ~250 KB. */
#define CONFIG_MAX_LINES 200000
#define CONFIG_MAX_BYTES (64u << 20)

static void scan_line(const char *key, const char *line, unsigned n, struct vt_kconfig_hit *hit)
{
        size_t kl = strlen(key);
        const char *v = NULL;
        if (strncmp(line, key, kl) == 0 && line[kl] == '=')
                v = line[kl + 1] == 'y' ? "y" : line[kl + 1] == 'm' ? "m" : "n";
        else if (startswith(line, "# ") && strncmp(line + 2, key, kl) == 0 &&
                 startswith(line + 2 + kl, " is not set"))
                v = "n";
        if (!v)
                return;
        hit->value = v;
        hit->line = n;
        snprintf(hit->text, sizeof(hit->text), "%s", line);
        vt_strip(hit->text);
}

static int read_gz(struct vt_ctx *ctx, const char *key, struct vt_kconfig_hit *hit)
{
        int fd = vt_open_regular(ctx, hit->source); /* an image is untrusted: no FIFO, no device */
        if (fd < 0)
                return fd;
        gzFile gz = gzdopen(fd, "rb");
        if (!gz) {
                close(fd);
                return -ENOMEM;
        }
        char line[512];
        unsigned n = 0;
        while (gzgets(gz, line, sizeof(line)) && ++n <= CONFIG_MAX_LINES)
                scan_line(key, line, n, hit);
        int err;
        gzerror(gz, &err);
        gzclose(gz);
        if (err != Z_OK && err != Z_STREAM_END)
                return -EBADMSG;
        return n > CONFIG_MAX_LINES ? -EFBIG : 0;
}

static int read_plain(struct vt_ctx *ctx, const char *key, struct vt_kconfig_hit *hit)
{
        /* A detection asks several options of one config: the file is read once (memo). */
        _cleanup_free_ char *text = NULL;
        int r = vt_read_file_memo(ctx, hit->source, CONFIG_MAX_BYTES, &text, NULL);
        if (r < 0)
                return r;
        size_t size = strlen(text); /* scanned as text: a NUL ends it, as for the line reader */
        /*
         * Only lines that start with the key (or "# " and the key) can name it: they are found
         * with memmem, not by walking the ~10k lines of a real config (most of a plan's
         * detection under TCG). Every such line is scanned, the last one wins. Line numbers
         * are counted from the previous hit on, so a hostile file costs one pass.
         */
        size_t kl = strlen(key);
        const char *counted = text;
        unsigned n = 1;
        for (const char *at = text; (at = memmem(at, size - (size_t)(at - text), key, kl));
             at += kl) {
                const char *start = at;
                if (at >= text + 2 && at[-1] == ' ' && at[-2] == '#')
                        start = at - 2;
                if (start != text && start[-1] != '\n')
                        continue;
                for (const char *q = counted; (q = memchr(q, '\n', (size_t)(start - q))); q++)
                        n++;
                counted = start;
                if (n > CONFIG_MAX_LINES)
                        return -EFBIG;
                const char *nl = strchr(start, '\n');
                size_t len = nl ? (size_t)(nl - start) + 1 : strlen(start);
                char line[512];
                snprintf(line, sizeof(line), "%.*s", (int)len, start);
                scan_line(key, line, n, hit);
        }
        return 0;
}

int vt_kconfig_get(struct vt_ctx *ctx, const char *release, const char *key,
                   struct vt_kconfig_hit *hit)
{
        *hit = (struct vt_kconfig_hit){.value = "n"};
        int r = -ENOENT;
        if (release && vt_pathf(hit->source, sizeof(hit->source), "/boot/config-%s", release) >= 0)
                r = read_plain(ctx, key, hit);
        if (r == -ENOENT) {
                snprintf(hit->source, sizeof(hit->source), "/proc/config.gz");
                r = read_gz(ctx, key, hit);
        }
        if (r < 0) {
                hit->value = NULL;
                if (r == -ENOENT)
                        hit->source[0] = '\0';
        }
        return r;
}
