/* systemd unit files read through the root: where a unit lives, its drop-ins, ExecStart=. */
#include <ctype.h>
#include "envfile.h"
#include "strv.h"
#include "inifile.h"
#include "shell.h"
#include "unitfile.h"

/* Highest priority first, as systemd searches them. */
static const char *const unit_dirs[] = {
        "/etc/systemd/system",
        "/run/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system",
};

bool vt_unit_is_unit_path(const char *path)
{
        for (size_t i = 0; i < ARRAY_SIZE(unit_dirs); i++)
                if (startswith(path, unit_dirs[i]) && path[strlen(unit_dirs[i])] == '/')
                        return true;
        return false;
}

int vt_unit_find(struct vt_ctx *ctx, const char *name, char **path)
{
        *path = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(unit_dirs); i++) {
                char p[512];
                int r = vt_pathf(p, sizeof(p), "%s/%s", unit_dirs[i], name);
                if (r < 0)
                        return r;
                if (vt_exists(ctx, p)) {
                        *path = strdup(p);
                        return *path ? 1 : -ENOMEM;
                }
        }
        return 0;
}

int vt_unit_wanted_by(struct vt_ctx *ctx, const char *path, char **ret)
{
        *ret = NULL;
        _cleanup_free_ char *text = NULL;
        int r = vt_read_file_max(ctx, path, VT_CONFIG_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        struct vt_ini it = vt_ini_start(text);
        char *key, *value;
        while (vt_ini_next(&it, "[Install]", &key, &value)) {
                if (!streq(key, "WantedBy") || !*value)
                        continue;
                *ret = strndup(value, strcspn(value, " \t"));
                return *ret ? 0 : -ENOMEM;
        }
        return 0;
}

static int cmp_base(const void *a, const void *b)
{
        const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');
        return strcmp(x, y);
}

int vt_unit_dropins(struct vt_ctx *ctx, const char *name, char ***paths)
{
        _cleanup_strv_ char **l = NULL, **bases = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(unit_dirs); i++) {
                char dir[512];
                int r = vt_pathf(dir, sizeof(dir), "%s/%s.d", unit_dirs[i], name);
                if (r < 0)
                        return r;
                _cleanup_closedir_ DIR *d = NULL;
                if (vt_opendir(ctx, dir, &d) < 0)
                        continue;
                struct dirent *de;
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        if (de->d_name[0] == '.' || n < 6 || !streq(de->d_name + n - 5, ".conf"))
                                continue;
                        if (vt_strv_contains(bases, de->d_name))
                                continue; /* masked by a higher-priority directory */
                        char *p;
                        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
                                return -ENOMEM;
                        if ((r = vt_strv_push(&l, p)) < 0 ||
                            (r = vt_strv_add(&bases, de->d_name)) < 0)
                                return r;
                }
        }
        if (l)
                qsort(l, vt_strv_len(l), sizeof(char *), cmp_base);
        *paths = TAKE_PTR(l);
        return 0;
}

bool vt_unit_enabled(struct vt_ctx *ctx, const char *name)
{
        _cleanup_closedir_ DIR *d = NULL;
        if (vt_opendir(ctx, "/etc/systemd/system", &d) < 0)
                return false;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                bool wants = n > 6 && streq(de->d_name + n - 6, ".wants");
                bool requires = n > 9 && streq(de->d_name + n - 9, ".requires");
                if (!wants && !requires)
                        continue;
                char p[768];
                if (vt_pathf(p, sizeof(p), "/etc/systemd/system/%s/%s", de->d_name, name) < 0)
                        continue;
                _cleanup_free_ char *target = NULL;
                if (vt_readlink(ctx, p, &target) == 0 || vt_exists(ctx, p))
                        return true;
        }
        return false;
}

static bool var_char(char c, bool first)
{
        return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* Replaces ${VAR} in one word (unset: empty); "$$" is a literal '$'. */
static char *expand_inline(const char *w, char *const *env)
{
        size_t cap = strlen(w) + 1, n = 0;
        char *out = malloc(cap);
        if (!out)
                return NULL;
        for (const char *p = w; *p;) {
                const char *val = NULL;
                size_t vl = 0, skip = 1;
                if (p[0] == '$' && p[1] == '$') {
                        val = "$", vl = 1, skip = 2;
                } else if (p[0] == '$' && p[1] == '{') {
                        const char *e = strchr(p + 2, '}');
                        if (e) {
                                _cleanup_free_ char *k = strndup(p + 2, (size_t)(e - p - 2));
                                if (!k) {
                                        free(out);
                                        return NULL;
                                }
                                val = vt_env_get(env, k);
                                if (!val)
                                        val = "";
                                vl = strlen(val);
                                skip = (size_t)(e - p) + 1;
                        }
                }
                if (!val) {
                        val = p, vl = 1;
                }
                if (n + vl + 1 > cap) {
                        cap = (n + vl + 1) * 2;
                        char *no = realloc(out, cap);
                        if (!no) {
                                free(out);
                                return NULL;
                        }
                        out = no;
                }
                memcpy(out + n, val, vl);
                n += vl;
                p += skip;
        }
        out[n] = '\0';
        return out;
}

/* Cuts the next word off *p with systemd's ExecStart= rules (vt_shlex's EXEC dialect). */
static int next_word(const char **p, char **ret, bool *plain)
{
        const char *s = *p + strspn(*p, " \t\n");
        *p = s;
        *ret = NULL;
        if (!*s)
                return 0;
        struct vt_shlex lx = {.t = s, .len = strlen(s), .dialect = VT_SHLEX_EXEC};
        int r = vt_shlex_word(&lx);
        if (r < 0) {
                vt_shlex_done(&lx);
                return r;
        }
        *p = s + lx.i;
        *ret = lx.word;
        *plain = !lx.quoted;
        return 1;
}

int vt_unit_split(const char *cmd, char *const *env, char ***argv)
{
        _cleanup_strv_ char **l = NULL;
        const char *p = cmd + strspn(cmd, " \t");
        bool own_argv0 = false;
        while (*p && strchr("-@:+!", *p)) {
                if (*p == '@')
                        own_argv0 = true;
                p++;
        }
        for (bool first = true;; first = false) {
                _cleanup_free_ char *w = NULL;
                bool plain;
                int r = next_word(&p, &w, &plain);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (first && own_argv0)
                        continue; /* "@path argv0 ...": argv starts at argv0 */
                /* A bare "$VAR" word becomes the variable's words. */
                if (plain && w[0] == '$' && var_char(w[1], true)) {
                        const char *q = w + 2;
                        while (var_char(*q, false))
                                q++;
                        if (!*q) {
                                const char *v = vt_env_get(env, w + 1);
                                _cleanup_strv_ char **words = NULL;
                                if (v && (r = vt_strv_split(v, " \t\n", &words)) < 0)
                                        return r;
                                for (size_t i = 0; words && words[i]; i++)
                                        if ((r = vt_strv_add(&l, words[i])) < 0)
                                                return r;
                                continue;
                        }
                }
                if ((r = vt_strv_push(&l, expand_inline(w, env))) < 0)
                        return r;
        }
        *argv = TAKE_PTR(l);
        return 0;
}

/* The text with "\\\n" continuations joined (systemd turns them into one blank). */
static void join_continuations(char *s)
{
        char *w = s;
        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] == '\n') {
                        *w++ = ' ';
                        r++;
                        continue;
                }
                *w++ = *r;
        }
        *w = '\0';
}

struct unit_state {
        char *exec;         /* last ExecStart= value */
        const char *source; /* the file it came from */
        char **env_files;   /* EnvironmentFile= values, in order */
        char **env_lines;   /* Environment= values, in order */
};

static int unit_parse_one(struct vt_ctx *ctx, const char *file, struct unit_state *st)
{
        _cleanup_free_ char *text = NULL;
        int r = vt_read_file_max(ctx, file, VT_CONFIG_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        join_continuations(text);
        struct vt_ini it = vt_ini_start(text);
        char *key, *val;
        while (vt_ini_next(&it, "[Service]", &key, &val)) {
                if (streq(key, "ExecStart")) {
                        free(st->exec);
                        st->exec = *val ? strdup(val) : NULL;
                        st->source = *val ? file : NULL;
                        if (*val && !st->exec)
                                return -ENOMEM;
                } else if (streq(key, "EnvironmentFile") || streq(key, "Environment")) {
                        char ***l = key[11] ? &st->env_files : &st->env_lines;
                        if (!*val) {
                                vt_strv_free(*l);
                                *l = NULL;
                        } else if ((r = vt_strv_add(l, val)) < 0) {
                                return r;
                        }
                }
        }
        return 0;
}

static int unit_env(struct vt_ctx *ctx, const struct unit_state *st, char ***env)
{
        int r;
        for (size_t i = 0; st->env_lines && st->env_lines[i]; i++) {
                /* Environment= holds words "K=V" with the ExecStart= quoting rules. */
                _cleanup_strv_ char **words = NULL;
                if ((r = vt_unit_split(st->env_lines[i], NULL, &words)) < 0)
                        return r;
                for (size_t j = 0; words && words[j]; j++) {
                        char *eq = strchr(words[j], '=');
                        if (!eq)
                                continue;
                        *eq = '\0';
                        if ((r = vt_env_set(env, words[j], eq + 1)) < 0)
                                return r;
                }
        }
        /* Files come after Environment=, so they win, as in systemd. */
        for (size_t i = 0; st->env_files && st->env_files[i]; i++) {
                const char *f = st->env_files[i];
                if (*f == '-')
                        f++;
                r = vt_env_load(ctx, f, env);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

int vt_unit_exec_start(struct vt_ctx *ctx, char *const *files, char ***argv, const char **source)
{
        struct unit_state st = {};
        _cleanup_strv_ char **env = NULL;
        int r = 0;
        for (size_t i = 0; files && files[i] && r >= 0; i++)
                r = unit_parse_one(ctx, files[i], &st);
        if (r >= 0)
                r = unit_env(ctx, &st, &env);
        *argv = NULL;
        if (r >= 0 && st.exec)
                r = vt_unit_split(st.exec, env, argv);
        if (source)
                *source = r >= 0 ? st.source : NULL;
        free(st.exec);
        vt_strv_free(st.env_files);
        vt_strv_free(st.env_lines);
        return r;
}
