/*
 * Backend: Boot Loader Specification entries (the *.conf files in /boot/loader/entries, Fedora/RHEL
 * 9): the `options` line of every entry but rescue ones; `kernelopts` in grubenv for entries that
 * say `$kernelopts`.
 */
#include <fnmatch.h>
#include "strv.h"
#include "util.h"
#include "backend.h"
#include "grubenv.h"

#define ENTRIES     "/boot/loader/entries"
#define GRUBENV     "/boot/grub2/grubenv"
#define MAX_ENTRIES 256

/* The distribution's writers, used instead of ours on a live root that has them. */
static const char *const editenvs[] = {"/usr/bin/grub2-editenv", "/usr/bin/grub-editenv",
                                       "/usr/sbin/grub2-editenv", "/usr/sbin/grub-editenv"};
static const char *const grubbys[] = {"/usr/sbin/grubby", "/usr/bin/grubby", "/sbin/grubby"};

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Entry paths, sorted; rescue entries (their kernel is not ours to tune) left out unless
 * rescue: grubby --update-kernel=ALL edits them too, so they are backed up and shown then.
 */
static int list(struct vt_ctx *ctx, bool rescue, char ***ret, size_t *n)
{
        _cleanup_closedir_ DIR *d = NULL;
        int r = vt_opendir(ctx, ENTRIES, &d);
        if (r < 0)
                return r;
        char **v = calloc(MAX_ENTRIES + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        *n = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (fnmatch("*.conf", de->d_name, 0) != 0 ||
                    (!rescue && strstr(de->d_name, "rescue")))
                        continue;
                if (*n == MAX_ENTRIES || asprintf(&v[*n], ENTRIES "/%s", de->d_name) < 0) {
                        for (size_t i = 0; i < *n; i++)
                                free(v[i]);
                        free(v);
                        return *n == MAX_ENTRIES ? -E2BIG : -ENOMEM;
                }
                (*n)++;
        }
        qsort(v, *n, sizeof(char *), cmp);
        *ret = v;
        return 0;
}

static void free_list(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static bool bls_detect(struct vt_ctx *ctx)
{
        char **v = NULL;
        size_t n = 0;
        if (list(ctx, false, &v, &n) < 0)
                return false;
        free_list(v, n);
        return n > 0;
}

int vt_bls_find_options(const char *path, const char *text, size_t len, size_t *vs, size_t *ve,
                        size_t *line, struct vt_bootcfg_set *set)
{
        bool found = false;
        size_t ln = 1;
        for (size_t i = 0; i < len; ln++) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t end = nl ? (size_t)(nl - text) : len;
                size_t k = i;
                while (k < end && (text[k] == ' ' || text[k] == '\t'))
                        k++;
                if (end - k > 7 && memcmp(text + k, "options", 7) == 0 &&
                    (text[k + 7] == ' ' || text[k + 7] == '\t')) {
                        if (found)
                                return vt_bootcfg_refuse(set, path, ln,
                                                         "a second options line (they add up)");
                        found = true;
                        k += 7;
                        while (k < end && (text[k] == ' ' || text[k] == '\t'))
                                k++;
                        *vs = k;
                        *ve = end;
                        *line = ln;
                }
                i = end + 1;
        }
        if (!found)
                return vt_bootcfg_refuse(set, path, 0, "no options line");
        if (memchr(text, '\0', len))
                return vt_bootcfg_refuse(set, path, 0, "a NUL byte");
        return 0;
}

static bool uses_kernelopts(const char *s, size_t n)
{
        for (const char *p = s; (p = memmem(p, n - (p - s), "$kernelopts", 11)); p += 11) {
                char after = p + 11 < s + n ? p[11] : ' ';
                if ((p == s || p[-1] == ' ' || p[-1] == '\t') &&
                    (after == ' ' || after == '\t' || after == '\r'))
                        return true;
        }
        return false;
}

/* Walks the entries: for each, calls fn with its options value (or notes $kernelopts). */
struct walk {
        const struct vt_cmdline_edit *edits;
        size_t n;
        json_object *files;
        char *first; /* the first entry's line, for read */
        bool kernelopts;
        struct vt_ctx *ctx;
        size_t tool; /* grubby writes every file (set's tool index), 0: we do */
};

static int walk(struct vt_ctx *ctx, struct walk *w, struct vt_bootcfg_set *set, bool write)
{
        char **v = NULL;
        size_t n = 0;
        int r = list(ctx, w->tool, &v, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *text = NULL, *line = NULL;
                size_t len, vs = 0, ve = 0, ln = 0;
                r = vt_bootcfg_read_file(ctx, v[i], &text, &len, set);
                if (r >= 0)
                        r = vt_bls_find_options(v[i], text, len, &vs, &ve, &ln, set);
                if (r < 0)
                        break;
                if (w->files)
                        json_object_array_add(w->files, json_object_new_string(v[i]));
                if (uses_kernelopts(text + vs, ve - vs)) {
                        w->kernelopts = true;
                        continue;
                }
                if (!w->first && !(w->first = strndup(text + vs, ve - vs))) {
                        r = -ENOMEM;
                        break;
                }
                if (!write)
                        continue;
                size_t pos;
                r = vt_cmdline_apply(text + vs, ve - vs, w->edits, w->n, &line, &pos);
                if (r == -EBADMSG)
                        r = vt_bootcfg_refuse(set, v[i], ln, "unbalanced quote in options");
                if (r <= 0)
                        continue;
                size_t ll = strlen(line), olen = vs + ll + (len - ve);
                char *out = malloc(olen + 1);
                if (!out) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(out, text, vs);
                memcpy(out + vs, line, ll);
                memcpy(out + vs + ll, text + ve, len - ve);
                out[olen] = 0;
                r = vt_bootcfg_set_add(set, v[i], text, len, out, olen);
        }
        free_list(v, n);
        return r < 0 ? r : 0;
}

static int kernelopts(struct vt_ctx *ctx, struct walk *w, struct vt_bootcfg_set *set, bool write,
                      char **value)
{
        _cleanup_free_ char *blk = NULL, *line = NULL, *out = NULL;
        size_t len, errline = 0, pos;
        int r = vt_bootcfg_read_file(ctx, GRUBENV, &blk, &len, set);
        if (r < 0)
                return r;
        if (vt_grubenv_check(blk, len, &errline) < 0)
                return vt_bootcfg_refuse(set, GRUBENV, errline,
                                         "not a 1024-byte GRUB environment block");
        r = vt_grubenv_get(blk, len, "kernelopts", value);
        if (r == -ENOENT)
                return vt_bootcfg_refuse(set, GRUBENV, 0, "entries use $kernelopts; it has none");
        if (r < 0 || !write)
                return r;
        r = vt_cmdline_apply(*value, strlen(*value), w->edits, w->n, &line, &pos);
        if (r == -EBADMSG)
                return vt_bootcfg_refuse(set, GRUBENV, 0, "unbalanced quote in kernelopts");
        if (r <= 0)
                return r;
        r = vt_grubenv_set(blk, len, "kernelopts", line, &out);
        if (r == -ENOSPC)
                return vt_bootcfg_refuse(set, GRUBENV, 0,
                                         "kernelopts no longer fits in 1024 bytes");
        if (r < 0)
                return r;
        r = vt_bootcfg_set_add(set, GRUBENV, blk, len, TAKE_PTR(out), VT_GRUBENV_SIZE);
        _cleanup_free_ char *tool = NULL;
        if (r <= 0 || w->tool ||
            !(tool = vt_bootcfg_tool_path(w->ctx, editenvs, ARRAY_SIZE(editenvs))))
                return r;
        /* GRUB's own writer; what it writes must be the block computed above, byte for byte */
        _cleanup_strv_ char **argv = NULL;
        char *file = vt_host_path(w->ctx, GRUBENV), *arg = NULL;
        if (!file || asprintf(&arg, "kernelopts=%s", line) < 0) {
                free(file);
                return -ENOMEM;
        }
        if (vt_strv_push(&argv, TAKE_PTR(tool)) < 0 || vt_strv_push(&argv, file) < 0 ||
            vt_strv_add(&argv, "set") < 0 || vt_strv_push(&argv, arg) < 0)
                return -ENOMEM;
        r = vt_bootcfg_set_tool(set, "grub-editenv", TAKE_PTR(argv), true);
        if (r < 0)
                return r;
        set->f[set->n - 1].tool = (size_t)r;
        return 0;
}

/* grubby --update-kernel=ALL with the edits as --args / --remove-args. */
static int grubby_argv(char *tool, const struct vt_cmdline_edit *edits, size_t n, char ***ret)
{
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *args = NULL, *rm = NULL;
        if (vt_strv_push(&argv, tool) < 0 || vt_strv_add(&argv, "--update-kernel=ALL") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char **to = edits[i].op == VT_CMDLINE_SET ? &args : &rm, *s = NULL;
                if (asprintf(&s, "%s%s%s%s%s", *to ? *to : "", *to ? " " : "", edits[i].key,
                             edits[i].value ? "=" : "", edits[i].value ? edits[i].value : "") < 0)
                        return -ENOMEM;
                free(*to);
                *to = s;
        }
        char *a = NULL;
        if (args && (asprintf(&a, "--args=%s", args) < 0 || vt_strv_push(&argv, a) < 0))
                return -ENOMEM;
        if (rm && (asprintf(&a, "--remove-args=%s", rm) < 0 || vt_strv_push(&argv, a) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(argv);
        return 0;
}

static int bls_read(struct vt_ctx *ctx, json_object *entry, struct vt_bootcfg_set *set)
{
        struct walk w = {.files = json_object_new_array()};
        json_object_object_add(entry, "files", w.files);
        int r = walk(ctx, &w, set, false);
        _cleanup_free_ char *ko = NULL;
        if (r >= 0 && w.kernelopts) {
                json_object_array_add(w.files, json_object_new_string(GRUBENV));
                r = kernelopts(ctx, &w, set, false, &ko);
        }
        if (r >= 0)
                vt_json_add_str(entry, "cmdline", w.first ? w.first : ko);
        free(w.first);
        return r;
}

static int bls_write(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                     struct vt_bootcfg_set *set)
{
        struct walk w = {.edits = edits, .n = n, .ctx = ctx};
        size_t first = set->n;
        char *grubby = vt_bootcfg_tool_path(ctx, grubbys, ARRAY_SIZE(grubbys));
        int r = 0;
        if (grubby) {
                /* grubby edits entries and kernelopts alike; our edit below is the expectation
                 * the diff shows, and what grubby leaves is re-read and re-planned */
                char **argv = NULL;
                r = grubby_argv(grubby, edits, n, &argv);
                if (r >= 0)
                        r = vt_bootcfg_set_tool(set, "grubby", argv, false);
                if (r > 0)
                        w.tool = (size_t)r;
        }
        if (r >= 0)
                r = walk(ctx, &w, set, true);
        _cleanup_free_ char *ko = NULL;
        if (r >= 0 && w.kernelopts)
                r = kernelopts(ctx, &w, set, true, &ko);
        for (size_t i = first; r >= 0 && w.tool && i < set->n; i++)
                set->f[i].tool = w.tool;
        free(w.first);
        return r < 0 ? r : 0;
}

const struct vt_bootcfg_backend vt_backend_bls = {
        .name = "bls",
        .detect = bls_detect,
        .read = bls_read,
        .write = bls_write,
};
