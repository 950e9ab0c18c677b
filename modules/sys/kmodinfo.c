/* Module state from /sys/module and the modules.builtin / modules.dep lists under the root. */
#include <assert.h>
#include <elf.h>
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

/* The line of modules.builtin / modules.dep that names the module, into hit (may be NULL). */
static bool listed_at(struct vt_ctx *ctx, const char *release, const char *file, const char *name,
                      struct vt_kparam_hit *hit)
{
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        if (vt_pathf(path, sizeof(path), "/lib/modules/%s/%s", release, file) < 0 ||
            vt_read_file_memo(ctx, path, VT_READ_MAX_DEFAULT, &text, NULL) < 0)
                return false;
        unsigned n = 0;
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                n++;
                if (line_is_module(p, len, name)) {
                        if (hit) {
                                snprintf(hit->source, sizeof(hit->source), "%.*s",
                                         (int)sizeof(hit->source) - 1, path);
                                hit->line = n;
                                snprintf(hit->text, sizeof(hit->text), "%.*s", (int)len, p);
                        }
                        return true;
                }
                p += len + (nl ? 1 : 0);
        }
        return false;
}

static bool listed(struct vt_ctx *ctx, const char *release, const char *file, const char *name)
{
        return listed_at(ctx, release, file, name, NULL);
}

int vt_kmod_listing(struct vt_ctx *ctx, const char *release, const char *name,
                    struct vt_kparam_hit *hit)
{
        *hit = (struct vt_kparam_hit){0};
        if (release && (listed_at(ctx, release, "modules.builtin", name, hit) ||
                        listed_at(ctx, release, "modules.dep", name, hit)))
                return 1;
        *hit = (struct vt_kparam_hit){0};
        return 0;
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

/* modinfo records are "key=value" strings separated by NULs. prefix: "parmtype=force:" */
static bool scan_records(const char *buf, size_t len, const char *prefix, struct vt_kparam_hit *hit)
{
        unsigned n = 0;
        for (const char *p = buf; p < buf + len; p += strnlen(p, buf + len - p) + 1) {
                if (!*p)
                        continue;
                n++;
                if (strncmp(p, prefix, strlen(prefix)) == 0) {
                        hit->line = n;
                        snprintf(hit->text, sizeof(hit->text), "%.*s",
                                 (int)strnlen(p, buf + len - p), p);
                        return true;
                }
        }
        return false;
}

/* Section header i, copied out: a file's offsets need not be aligned. */
static Elf64_Shdr elf_shdr(const char *buf, const Elf64_Ehdr *h, unsigned i)
{
        Elf64_Shdr sh;
        memcpy(&sh, buf + h->e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
        return sh;
}

/* The .modinfo section of an ELF64 module in memory; NULL when it is not one. */
static const char *elf_modinfo(const char *buf, size_t len, size_t *sec_len)
{
        Elf64_Ehdr h;
        if (len < sizeof(h))
                return NULL;
        memcpy(&h, buf, sizeof(h));
        if (memcmp(h.e_ident, ELFMAG, SELFMAG) != 0 || h.e_ident[EI_CLASS] != ELFCLASS64 ||
            h.e_shentsize != sizeof(Elf64_Shdr) || h.e_shoff > len ||
            (len - h.e_shoff) / sizeof(Elf64_Shdr) < h.e_shnum || h.e_shstrndx >= h.e_shnum)
                return NULL;
        Elf64_Shdr str = elf_shdr(buf, &h, h.e_shstrndx);
        if (str.sh_offset > len || str.sh_size > len - str.sh_offset)
                return NULL;
        for (unsigned i = 0; i < h.e_shnum; i++) {
                Elf64_Shdr sh = elf_shdr(buf, &h, i);
                if (sh.sh_name >= str.sh_size || sh.sh_offset > len ||
                    sh.sh_size > len - sh.sh_offset)
                        continue;
                const char *nm = buf + str.sh_offset + sh.sh_name;
                if (strnlen(nm, str.sh_size - sh.sh_name) == 8 && memcmp(nm, ".modinfo", 8) == 0) {
                        *sec_len = sh.sh_size;
                        return buf + sh.sh_offset;
                }
        }
        return NULL;
}

/* The path modules.dep gives for module name ("kernel/drivers/x/a-b.ko"), under /lib/modules. */
static int dep_path(struct vt_ctx *ctx, const char *release, const char *name, char *out,
                    size_t size)
{
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        if (vt_pathf(path, sizeof(path), "/lib/modules/%s/modules.dep", release) < 0 ||
            vt_read_file_memo(ctx, path, VT_READ_MAX_DEFAULT, &text, NULL) < 0)
                return 0;
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                const char *colon = memchr(p, ':', len);
                if (colon && line_is_module(p, len, name))
                        return vt_pathf(out, size, "/lib/modules/%s/%.*s", release,
                                        (int)(colon - p), p) >= 0;
                p += len + (nl ? 1 : 0);
        }
        return 0;
}

/* Modules are a few MB at most; a larger file is not one. */
#define MODULE_MAX (64u << 20)

int vt_kparam_find(struct vt_ctx *ctx, const char *release, const char *name, const char *param,
                   struct vt_kparam_hit *hit)
{
        char prefix[192];
        _cleanup_free_ char *buf = NULL;
        size_t len;
        *hit = (struct vt_kparam_hit){0};
        if (release) {
                snprintf(prefix, sizeof(prefix), "%s.parmtype=%s:", name, param);
                if (vt_pathf(hit->source, sizeof(hit->source),
                             "/lib/modules/%s/modules.builtin.modinfo", release) >= 0 &&
                    vt_read_file_memo(ctx, hit->source, VT_READ_MAX_DEFAULT, &buf, &len) >= 0 &&
                    scan_records(buf, len, prefix, hit))
                        return 1;
                free(buf);
                buf = NULL;
                snprintf(prefix, sizeof(prefix), "parmtype=%s:", param);
                const char *sec;
                size_t sec_len;
                if (dep_path(ctx, release, name, hit->source, sizeof(hit->source)) > 0 &&
                    vt_read_file_max(ctx, hit->source, MODULE_MAX, &buf, &len) >= 0 &&
                    (sec = elf_modinfo(buf, len, &sec_len)) &&
                    scan_records(sec, sec_len, prefix, hit))
                        return 1;
        }
        *hit = (struct vt_kparam_hit){0};
        if (vt_pathf(hit->source, sizeof(hit->source), "/sys/module/%s/parameters/%s", name,
                     param) >= 0 &&
            vt_exists(ctx, hit->source))
                return 1;
        *hit = (struct vt_kparam_hit){0};
        return 0;
}
