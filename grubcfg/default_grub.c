/*
 * Backend: /etc/default/grub edited in place (SUSE, openEuler, RHEL): the GRUB_CMDLINE_LINUX
 * word is rewritten in its own quoting, every other byte kept; then grub2-mkconfig.
 */
#include "util.h"
#include "backend.h"
#include "shell.h"
#include "shvars.h"

#define DEFAULT_GRUB "/etc/default/grub"

static const char *const vars[] = {"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"};

static bool default_grub_detect(struct vt_ctx *ctx)
{
        /* Debian-style systems take the drop-in instead (grubd.c) */
        return vt_exists(ctx, DEFAULT_GRUB) && !vt_exists(ctx, "/etc/default/grub.d");
}

static int load(struct vt_ctx *ctx, struct vt_bootcfg_set *set, char **text, size_t *len,
                struct vt_shvars **sv)
{
        int r = vt_bootcfg_read_file(ctx, DEFAULT_GRUB, text, len);
        if (r < 0)
                return r;
        size_t line = 0;
        const char *why = NULL;
        r = vt_shvars_parse(*text, *len, NULL, sv, &line, &why);
        if (r == -EBADMSG)
                return vt_bootcfg_refuse(set, DEFAULT_GRUB, line, why);
        return r;
}

/* The line's value of each variable; refuses one virtune cannot know (set by a command). */
int vt_default_grub_values(struct vt_shvars *sv, const char *path, char **vals,
                           struct vt_bootcfg_set *set)
{
        for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
                bool known;
                const char *v = vt_shvars_value(sv, vars[i], &known);
                if (!known) {
                        const struct vt_shassign *a = vt_shvars_last(sv, vars[i]);
                        return vt_bootcfg_refuse(set, path, a ? a->line : 0,
                                                 "the value comes from a command substitution");
                }
                vals[i] = strdup(v ? v : "");
                if (!vals[i])
                        return -ENOMEM;
        }
        return 0;
}

/* The configured line: GRUB_CMDLINE_LINUX then GRUB_CMDLINE_LINUX_DEFAULT, as grub joins them. */
char *vt_default_grub_join(char **vals)
{
        char *s = NULL;
        if (asprintf(&s, "%s%s%s", vals[0], *vals[0] && *vals[1] ? " " : "", vals[1]) < 0)
                return NULL;
        return s;
}

static void free_vals(char **vals)
{
        for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
                free(vals[i]);
}

static int default_grub_read(struct vt_ctx *ctx, json_object *entry, struct vt_bootcfg_set *set)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        _cleanup_shvars_ struct vt_shvars *sv = NULL;
        int r = load(ctx, set, &text, &len, &sv);
        if (r < 0)
                return r;
        char *vals[ARRAY_SIZE(vars)] = {0};
        r = vt_default_grub_values(sv, DEFAULT_GRUB, vals, set);
        _cleanup_free_ char *line = r < 0 ? NULL : vt_default_grub_join(vals);
        free_vals(vals);
        if (r < 0)
                return r;
        if (!line)
                return -ENOMEM;
        vt_bootcfg_entry_one(entry, DEFAULT_GRUB, line);
        return 0;
}

/* The text with var's last assignment given `value`, its quoting kept; appended when absent. */
static int replace_word(const char *path, const char *text, size_t len, struct vt_shvars *sv,
                        const char *var, const char *value, struct vt_bootcfg_set *set, char **ret,
                        size_t *ret_len)
{
        const struct vt_shassign *a = vt_shvars_last(sv, var);
        char *out = NULL;
        size_t olen = 0;
        FILE *f = open_memstream(&out, &olen);
        if (!f)
                return -ENOMEM;
        if (!a) {
                _cleanup_free_ char *w = vt_shell_quote(value, '"');
                fwrite(text, 1, len, f);
                fprintf(f, "%s%s=%s\n", len && text[len - 1] != '\n' ? "\n" : "", var, w ? w : "");
        } else {
                char style = text[a->word_start] == '"' || text[a->word_start] == '\''
                                     ? text[a->word_start]
                                     : 0;
                _cleanup_free_ char *again = a->plain ? vt_shell_quote(a->value, style) : NULL;
                size_t wlen = a->word_end - a->word_start;
                if (wlen == 0) {
                        /* VAR= : empty, nothing to keep */
                } else if (!again || strlen(again) != wlen ||
                           memcmp(again, text + a->word_start, wlen) != 0) {
                        fclose(f);
                        free(out);
                        return vt_bootcfg_refuse(
                                set, path, a->line,
                                a->plain ? "quoting that virtune cannot rewrite byte for byte"
                                         : "the value is built from other variables");
                }
                _cleanup_free_ char *w = vt_shell_quote(value, style);
                fwrite(text, 1, a->word_start, f);
                fputs(w ? w : "", f);
                fwrite(text + a->word_end, 1, len - a->word_end, f);
        }
        if (fclose(f) != 0) {
                free(out);
                return -ENOMEM;
        }
        *ret = out;
        *ret_len = olen;
        return 0;
}

static int default_grub_write(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                              struct vt_bootcfg_set *set)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        _cleanup_shvars_ struct vt_shvars *sv = NULL;
        int r = load(ctx, set, &text, &len, &sv);
        if (r < 0)
                return r;
        char *vals[ARRAY_SIZE(vars)] = {0}, *old[ARRAY_SIZE(vars)] = {0};
        r = vt_default_grub_values(sv, DEFAULT_GRUB, vals, set);
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(vars); i++)
                if (!(old[i] = strdup(vals[i])))
                        r = -ENOMEM;
        if (r >= 0) {
                r = vt_cmdline_apply_vars(vals, ARRAY_SIZE(vars), 0, edits, n);
                if (r == -EBADMSG)
                        r = vt_bootcfg_refuse(set, DEFAULT_GRUB, 0,
                                              "unbalanced quote in the command line");
        }
        _cleanup_free_ char *cur = NULL;
        size_t cur_len = len;
        if (r >= 0 && !(cur = strndup(text, len)))
                r = -ENOMEM;
        /* one variable at a time, re-reading in between: offsets move */
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(vars); i++) {
                if (streq(old[i], vals[i]))
                        continue;
                _cleanup_shvars_ struct vt_shvars *sv2 = NULL;
                size_t line;
                const char *why;
                r = vt_shvars_parse(cur, cur_len, NULL, &sv2, &line, &why);
                if (r < 0)
                        break;
                char *next = NULL;
                size_t next_len = 0;
                r = replace_word(DEFAULT_GRUB, cur, cur_len, sv2, vars[i], vals[i], set, &next,
                                 &next_len);
                if (r < 0)
                        break;
                free(cur);
                cur = next;
                cur_len = next_len;
        }
        free_vals(vals);
        free_vals(old);
        if (r < 0)
                return r;
        return vt_bootcfg_set_add(set, DEFAULT_GRUB, text, len, TAKE_PTR(cur), cur_len);
}

/* The grub.cfg grub boots from: the first one present (links followed inside the root). */
static const char *const active_cfgs[] = {
        "/etc/grub2-efi.cfg",
        "/etc/grub2.cfg",
        "/boot/grub2/grub.cfg",
        "/boot/grub/grub.cfg",
};

static const char *const mkconfigs[] = {"/usr/sbin/grub2-mkconfig", "/usr/sbin/grub-mkconfig"};

int vt_grub_mkconfig_argv(struct vt_ctx *ctx, char ***argv)
{
        const char *tool = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(mkconfigs) && !tool; i++)
                if (vt_exists(ctx, mkconfigs[i]))
                        tool = mkconfigs[i];
        _cleanup_free_ char *cfg = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(active_cfgs) && !cfg; i++)
                if (vt_exists(ctx, active_cfgs[i]) && vt_realpath(ctx, active_cfgs[i], &cfg) < 0)
                        return -ENOMEM;
        /* an EFI system: <the ESP>/EFI/<vendor>/grub.cfg */
        if (!cfg && vt_bootcfg_efi_grub_cfg(ctx, &cfg) < 0)
                return -ENOMEM;
        if (!tool || !cfg) {
                *argv = NULL;
                return 0;
        }
        char **a = calloc(4, sizeof(char *));
        if (!a)
                return -ENOMEM;
        a[0] = strdup(tool);
        a[1] = strdup("-o");
        a[2] = TAKE_PTR(cfg);
        *argv = a;
        return 1;
}

const struct vt_bootcfg_backend vt_backend_default_grub = {
        .name = "default-grub",
        .detect = default_grub_detect,
        .read = default_grub_read,
        .write = default_grub_write,
        .generator = vt_grub_mkconfig_argv,
};
