/* KEY=VALUE files (systemd EnvironmentFile=, /etc/sysconfig, /etc/default, udev db "E:" lines). */
#include <ctype.h>
#include "envfile.h"
#include "shell.h"
#include "strv.h"

int vt_env_set(char ***env, const char *key, const char *value)
{
        char *kv;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return -ENOMEM;
        size_t kl = strlen(key);
        for (size_t i = 0; *env && (*env)[i]; i++)
                if (strncmp((*env)[i], key, kl) == 0 && (*env)[i][kl] == '=') {
                        free((*env)[i]);
                        (*env)[i] = kv;
                        return 0;
                }
        return vt_strv_push(env, kv);
}

const char *vt_env_get(char *const *env, const char *key)
{
        size_t kl = strlen(key);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
                        return env[i] + kl + 1;
        return NULL;
}

static bool key_char(char c, bool first)
{
        return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* Parses one value starting at *p (end: the text's end), up to the end of its logical line. */
static char *parse_value(const char **p, const char *end)
{
        struct vt_shlex lx = {.t = *p, .len = (size_t)(end - *p), .dialect = VT_SHLEX_ENVFILE};
        if (vt_shlex_word(&lx) < 0) {
                vt_shlex_done(&lx);
                return NULL;
        }
        *p += lx.i;
        return lx.word;
}

int vt_env_parse(const char *text, char ***env)
{
        const char *p = text, *end = text + strlen(text);
        while (*p) {
                p += strspn(p, " \t\r\n");
                if (!*p)
                        break;
                if (*p == '#' || *p == ';' || !key_char(*p, true)) {
                        p += strcspn(p, "\n");
                        continue;
                }
                if (startswith(p, "export ") || startswith(p, "export\t"))
                        p += 7 + strspn(p + 7, " \t");
                const char *k = p;
                while (key_char(*p, p == k))
                        p++;
                size_t kl = (size_t)(p - k);
                p += strspn(p, " \t");
                if (kl == 0 || *p != '=') {
                        p += strcspn(p, "\n");
                        continue;
                }
                p++;
                p += strspn(p, " \t");
                _cleanup_free_ char *key = strndup(k, kl);
                _cleanup_free_ char *val = parse_value(&p, end);
                if (!key || !val)
                        return -ENOMEM;
                int r = vt_env_set(env, key, val);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vt_env_load(struct vt_ctx *ctx, const char *path, char ***env)
{
        _cleanup_free_ char *text = NULL;
        int r = vt_read_file_max(ctx, path, VT_CONFIG_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        return vt_env_parse(text, env);
}

char *vt_text_set_var(const char *text, const char *key, const char *value, char quote)
{
        size_t kl = strlen(key);
        const char *line = text ? text : "";
        const char *hit = NULL, *end = NULL;
        for (const char *l = line; *l;) {
                const char *nl = strchr(l, '\n');
                const char *next = nl ? nl + 1 : l + strlen(l);
                const char *s = l;
                while (*s == ' ' || *s == '\t')
                        s++;
                if (strncmp(s, key, kl) == 0 && s[kl] == '=') {
                        hit = l;
                        end = next;
                }
                l = next;
        }
        _cleanup_free_ char *word = vt_shell_quote(value, quote);
        if (!word)
                return NULL;
        char *out;
        int r;
        if (hit)
                r = asprintf(&out, "%.*s%s=%s\n%s", (int)(hit - line), line, key, word, end);
        else {
                size_t n = strlen(line);
                r = asprintf(&out, "%s%s%s=%s\n", line, n && line[n - 1] != '\n' ? "\n" : "", key,
                             word);
        }
        return r < 0 ? NULL : out;
}
