/*
 * Backend: a grub.cfg edited directly (what the openEuler guide does to
 * /boot/efi/EFI/openEuler/grub.cfg) when the root has no generator to rebuild it: the
 * linux/linuxefi lines of every menu entry but rescue/recovery ones, when they boot a Linux
 * kernel (grub-common's Memtest86+ entries use linux16 too).
 */
#include <ctype.h>
#include "util.h"
#include "backend.h"

static const char *const mkconfigs[] = {"/usr/sbin/grub2-mkconfig", "/usr/sbin/grub-mkconfig",
                                        "/usr/sbin/update-grub"};
static const char *const linux_cmds[] = {"linux", "linuxefi", "linux16"};

/* The grub.cfg to edit, in *ret (NULL when the backend does not apply). */
static int find_cfg(struct vt_ctx *ctx, char **ret)
{
        *ret = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(mkconfigs); i++)
                if (vt_exists(ctx, mkconfigs[i]))
                        return 0;
        if (vt_exists(ctx, "/boot/loader/entries"))
                return 0; /* BLS: grub.cfg only says blscfg */
        int r = vt_bootcfg_efi_grub_cfg(ctx, ret);
        if (r < 0 || *ret)
                return r;
        static const char *const others[] = {"/boot/grub2/grub.cfg", "/boot/grub/grub.cfg"};
        for (size_t i = 0; i < ARRAY_SIZE(others); i++)
                if (vt_exists(ctx, others[i])) {
                        *ret = strdup(others[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        return 0;
}

static bool grub_cfg_detect(struct vt_ctx *ctx)
{
        _cleanup_free_ char *p = NULL;
        return find_cfg(ctx, &p) >= 0 && p;
}

static bool is_rescue(const char *s, size_t n)
{
        for (size_t i = 0; i + 6 <= n; i++)
                if (strncasecmp(s + i, "rescue", 6) == 0 ||
                    (i + 8 <= n && strncasecmp(s + i, "recovery", 8) == 0))
                        return true;
        return false;
}

/* Kernel images as distributions name them (vmlinuz-6.1.0-13-amd64, Image, bzImage, ...). */
static const char *const kernel_images[] = {"vmlinuz", "vmlinux", "bzImage", "zImage",
                                            "Image",   "uImage",  "kernel",  "linux"};

/* Whether the image path [s, s+n) is a Linux kernel: its last component is named like one. */
static bool is_linux_image(const char *s, size_t n)
{
        const char *base = s;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '/' || s[i] == ')')
                        base = s + i + 1;
        size_t bl = (size_t)(s + n - base);
        for (size_t i = 0; i < ARRAY_SIZE(kernel_images); i++) {
                size_t kl = strlen(kernel_images[i]);
                if (bl >= kl && memcmp(base, kernel_images[i], kl) == 0 &&
                    (bl == kl || base[kl] == '-' || base[kl] == '.' || base[kl] == '_'))
                        return true;
        }
        return false;
}

/* What GRUB's script quoting would change in a kernel line (so we neither read nor write it). */
static bool grub_quoted(const char *s, size_t n)
{
        return memchr(s, '"', n) || memchr(s, '\'', n) || memchr(s, '\\', n) || memchr(s, ';', n);
}

int vt_grub_cfg_edit(const char *path, const char *text, size_t len,
                     const struct vt_cmdline_edit *edits, size_t n, char **ret, size_t *ret_len,
                     char **first, struct vt_bootcfg_set *set)
{
        char *out = NULL;
        size_t olen = 0;
        FILE *f = open_memstream(&out, &olen);
        if (!f)
                return -ENOMEM;
        bool rescue = false;
        int r = 0;
        size_t ln = 1;
        if (memchr(text, '\0', len))
                r = vt_bootcfg_refuse(set, path, 0, "a NUL byte");
        for (size_t i = 0; r >= 0 && i < len; ln++) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t end = nl ? (size_t)(nl - text) : len, k = i;
                while (k < end && isblank((unsigned char)text[k]))
                        k++;
                size_t w = k;
                while (w < end && !isblank((unsigned char)text[w]))
                        w++;
                bool kernel = false;
                if (w - k == 9 && memcmp(text + k, "menuentry", 9) == 0)
                        rescue = is_rescue(text + w, end - w);
                for (size_t c = 0; c < ARRAY_SIZE(linux_cmds); c++)
                        kernel |= w - k == strlen(linux_cmds[c]) &&
                                  memcmp(text + k, linux_cmds[c], w - k) == 0;
                size_t as = w;
                if (kernel && !rescue) {
                        /* skip the kernel image path */
                        while (as < end && isblank((unsigned char)text[as]))
                                as++;
                        size_t image = as;
                        while (as < end && !isblank((unsigned char)text[as]))
                                as++;
                        if (as == image) {
                                /* whatever we add would become the image */
                                r = vt_bootcfg_refuse(set, path, ln,
                                                      "a kernel line without an image");
                                break;
                        }
                        if (!is_linux_image(text + image, as - image)) {
                                /* Memtest86+, iPXE...: not a kernel, its words are its own */
                                fwrite(text + i, 1, end - i + (nl ? 1 : 0), f);
                                i = end + 1;
                                continue;
                        }
                        while (as < end && isblank((unsigned char)text[as]))
                                as++;
                        if (grub_quoted(text + k, end - k)) {
                                r = vt_bootcfg_refuse(set, path, ln,
                                                      "quoting or ';' in a kernel line");
                                break;
                        }
                        _cleanup_free_ char *line = NULL;
                        size_t pos;
                        if (first && !*first && !(*first = strndup(text + as, end - as))) {
                                r = -ENOMEM;
                                break;
                        }
                        r = vt_cmdline_apply(text + as, end - as, edits, n, &line, &pos);
                        if (r >= 0 && grub_quoted(line, strlen(line)))
                                r = vt_bootcfg_refuse(
                                        set, path, ln,
                                        "a parameter with spaces, quotes, '\\' or ';': GRUB "
                                        "would re-quote it");
                        if (r < 0)
                                break;
                        fwrite(text + i, 1, as - i, f);
                        /* "linux /vmlinuz" had no arguments: keep them apart from the image */
                        if (*line && !isblank((unsigned char)text[as - 1]))
                                fputc(' ', f);
                        fputs(line, f);
                        fwrite(text + end, 1, nl ? 1 : 0, f);
                } else
                        fwrite(text + i, 1, end - i + (nl ? 1 : 0), f);
                i = end + 1;
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(out);
                if (first) {
                        free(*first);
                        *first = NULL;
                }
                return r;
        }
        *ret = out;
        *ret_len = olen;
        return 0;
}

/* The grub.cfg in use and its text; -ENOENT when there is none. */
static int load(struct vt_ctx *ctx, struct vt_bootcfg_set *set, char **path, char **text,
                size_t *len)
{
        int r = find_cfg(ctx, path);
        if (r < 0 || !*path)
                return r < 0 ? r : -ENOENT;
        return vt_bootcfg_read_file(ctx, *path, text, len, set);
}

static int grub_cfg_read(struct vt_ctx *ctx, json_object *entry, struct vt_bootcfg_set *set)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *out = NULL, *first = NULL;
        size_t len, olen;
        int r = load(ctx, set, &path, &text, &len);
        if (r >= 0)
                r = vt_grub_cfg_edit(path, text, len, NULL, 0, &out, &olen, &first, set);
        if (r < 0)
                return r;
        vt_bootcfg_entry_one(entry, path, first);
        return 0;
}

static int grub_cfg_write(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                          struct vt_bootcfg_set *set)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        char *out = NULL;
        size_t len, olen;
        int r = load(ctx, set, &path, &text, &len);
        if (r >= 0)
                r = vt_grub_cfg_edit(path, text, len, edits, n, &out, &olen, NULL, set);
        if (r < 0)
                return r;
        return vt_bootcfg_set_add(set, path, text, len, out, olen);
}

const struct vt_bootcfg_backend vt_backend_grub_cfg = {
        .name = "grub.cfg",
        .detect = grub_cfg_detect,
        .read = grub_cfg_read,
        .write = grub_cfg_write,
};
