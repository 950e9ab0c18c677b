/* Helpers every boot configuration backend shares: file list, reading, edits on a line. */
#include <assert.h>
#include <strings.h>
#include "esp.h"
#include "strv.h"
#include "util.h"
#include "backend.h"

int vt_bootcfg_read_file(struct vt_ctx *ctx, const char *path, char **ret, size_t *len)
{
        return vt_read_file_max(ctx, path, VT_CONFIG_FILE_MAX, ret, len);
}

void vt_bootcfg_entry_one(json_object *entry, const char *path, const char *cmdline)
{
        json_object *files = json_object_new_array();
        json_object_array_add(files, json_object_new_string(path));
        json_object_object_add(entry, "files", files);
        vt_json_add_str(entry, "cmdline", cmdline);
}

int vt_bootcfg_refuse(struct vt_bootcfg_set *set, const char *path, size_t line, const char *why)
{
        if (line)
                snprintf(set->err, sizeof(set->err), "%s:%zu: %s", path, line, why);
        else
                snprintf(set->err, sizeof(set->err), "%s: %s", path, why);
        return -EBADMSG;
}

int vt_bootcfg_set_add(struct vt_bootcfg_set *set, const char *path, const char *old,
                       size_t old_len, char *new, size_t new_len)
{
        _cleanup_free_ char *owned = new;
        if (old && old_len == new_len && memcmp(old, new, new_len) == 0)
                return 0;
        if (VT_GROW(set->f, set->cap, set->n + 1) < 0)
                return -ENOMEM;
        struct vt_bootcfg_file f = {
                .path = strdup(path),
                .old = old ? strndup(old, old_len) : NULL,
                .old_len = old_len,
                .new = TAKE_PTR(owned),
                .new_len = new_len,
                .backend = set->backend,
        };
        if (!f.path || (old && !f.old)) {
                free(f.path);
                free(f.old);
                free(f.new);
                return -ENOMEM;
        }
        set->f[set->n++] = f;
        return 1;
}

/* dir/<vendor>/grub.cfg for the first vendor directory (sorted) that has one. */
static int efi_scan(struct vt_ctx *ctx, const char *dir, char **ret)
{
        _cleanup_closedir_ DIR *d = NULL;
        if (vt_opendir(ctx, dir, &d) < 0)
                return 0;
        _cleanup_strv_ char **vendors = NULL;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.' && vt_strv_add(&vendors, de->d_name) < 0)
                        return -ENOMEM;
        vt_strv_sort(vendors);
        /* a vendor's directory before EFI/BOOT, the removable-media fallback */
        for (int boot = 0; boot < 2; boot++)
                for (size_t i = 0; vendors && vendors[i]; i++) {
                        char p[PATH_MAX];
                        if ((strcasecmp(vendors[i], "BOOT") == 0) != boot ||
                            vt_pathf(p, sizeof(p), "%s/%s/grub.cfg", dir, vendors[i]) < 0 ||
                            !vt_exists(ctx, p))
                                continue;
                        *ret = strdup(p);
                        return *ret ? 1 : -ENOMEM;
                }
        return 0;
}

int vt_bootcfg_efi_grub_cfg(struct vt_ctx *ctx, char **ret)
{
        *ret = NULL;
        int r = efi_scan(ctx, "/boot/efi/EFI", ret);
        if (r != 0)
                return r < 0 ? r : 0;
        /* images keep the usual path; a running system says where its ESP really is */
        _cleanup_free_ char *mp = NULL, *dir = NULL;
        if (vt_esp_mountpoint(ctx, &mp) < 0)
                return 0;
        if (asprintf(&dir, "%s/EFI", streq(mp, "/") ? "" : mp) < 0)
                return -ENOMEM;
        r = efi_scan(ctx, dir, ret);
        return r < 0 ? r : 0;
}

void vt_bootcfg_set_clear(struct vt_bootcfg_set *set)
{
        for (size_t i = 0; i < set->n; i++) {
                free(set->f[i].path);
                free(set->f[i].old);
                free(set->f[i].new);
        }
        free(set->f);
        set->f = NULL;
        set->n = set->cap = 0;
        for (size_t i = 0; i < set->ntools; i++)
                vt_strv_free(set->tools[i].argv);
        set->ntools = 0;
}

static int apply_one(struct vt_cmdline **cls, size_t nvars, size_t home,
                     const struct vt_cmdline_edit *e)
{
        int changed = 0, r;
        if (e->op == VT_CMDLINE_REMOVE) {
                for (size_t i = 0; i < nvars; i++) {
                        r = vt_cmdline_remove(cls[i], e->key, e->value);
                        if (r < 0)
                                return r;
                        changed |= r > 0;
                }
                return changed;
        }
        size_t where = home;
        for (size_t i = 0; i < nvars; i++)
                if (vt_cmdline_get(cls[i], e->key, NULL) > 0) {
                        where = i;
                        break;
                }
        for (size_t i = 0; i < nvars; i++) {
                r = i == where ? vt_cmdline_set(cls[i], e->key, e->value)
                               : vt_cmdline_remove(cls[i], e->key, NULL);
                if (r < 0)
                        return r;
                changed |= r > 0;
        }
        return changed;
}

int vt_cmdline_apply_vars(char **vals, size_t nvars, size_t home,
                          const struct vt_cmdline_edit *edits, size_t n)
{
        assert(nvars <= 4 && home < nvars);
        struct vt_cmdline *cls[4] = {0};
        int r = 0, changed = 0;
        for (size_t i = 0; i < nvars && r >= 0; i++) {
                const char *v = vals[i] ? vals[i] : "";
                r = vt_cmdline_parse(v, strlen(v), &cls[i], NULL);
                if (r == -EINVAL)
                        r = -EBADMSG;
        }
        for (size_t k = 0; k < n && r >= 0; k++) {
                if (!vt_cmdline_key_valid(edits[k].key) ||
                    !vt_cmdline_value_valid(edits[k].value)) {
                        r = -EINVAL;
                        break;
                }
                r = apply_one(cls, nvars, home, &edits[k]);
                changed |= r > 0;
        }
        for (size_t i = 0; i < nvars && r >= 0; i++) {
                char *s = vt_cmdline_print(cls[i]);
                if (!s) {
                        r = -ENOMEM;
                        break;
                }
                free(vals[i]);
                vals[i] = s;
        }
        for (size_t i = 0; i < nvars; i++)
                vt_cmdline_free(cls[i]);
        return r < 0 ? r : changed;
}

int vt_cmdline_apply(const char *s, size_t len, const struct vt_cmdline_edit *edits, size_t n,
                     char **ret, size_t *errpos)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = NULL;
        int r = vt_cmdline_parse(s, len, &cl, errpos);
        if (r < 0)
                return r == -EINVAL ? -EBADMSG : r;
        int changed = 0;
        for (size_t k = 0; k < n; k++) {
                r = apply_one(&cl, 1, 0, &edits[k]);
                if (r < 0)
                        return r;
                changed |= r > 0;
        }
        *ret = vt_cmdline_print(cl);
        return *ret ? changed : -ENOMEM;
}
