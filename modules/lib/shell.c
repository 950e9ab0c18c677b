/* Shell-style words: one lexer for the dialects virtune reads, one quoter for what it writes. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "shell.h"

int vt_shlex_add(struct vt_shlex *lx, const char *s, size_t n)
{
        if (VT_GROW(lx->word, lx->cap, lx->n + n + 1) < 0)
                return -ENOMEM;
        memcpy(lx->word + lx->n, s, n);
        lx->n += n;
        lx->word[lx->n] = '\0';
        return 0;
}

int vt_shlex_fail(struct vt_shlex *lx, const char *why)
{
        lx->why = why;
        return -EBADMSG;
}

void vt_shlex_done(struct vt_shlex *lx)
{
        free(lx->word);
        lx->word = NULL;
        lx->n = lx->cap = 0;
}

static bool at(const struct vt_shlex *lx, size_t i, char c)
{
        return i < lx->len && lx->t[i] == c;
}

/* VT_SHLEX_SHELL: "..." from after the opening quote to after the closing one. */
static int shell_double(struct vt_shlex *lx)
{
        for (;;) {
                if (lx->i >= lx->len || lx->t[lx->i] == '\n')
                        return vt_shlex_fail(lx, "unbalanced double quote");
                char d = lx->t[lx->i++];
                int r;
                if (d == '"')
                        return 0;
                if (d == '\\') {
                        if (lx->i >= lx->len || lx->t[lx->i] == '\n')
                                return vt_shlex_fail(lx, "line continuation");
                        char x = lx->t[lx->i];
                        if (strchr("$`\"\\", x)) {
                                lx->i++;
                                r = vt_shlex_add(lx, &x, 1);
                        } else
                                r = vt_shlex_add(lx, "\\", 1);
                } else if (d == '$' || d == '`')
                        r = lx->expand ? lx->expand(lx, d) : vt_shlex_add(lx, &d, 1);
                else
                        r = vt_shlex_add(lx, &d, 1);
                if (r < 0)
                        return r;
        }
}

static int shell_word(struct vt_shlex *lx)
{
        while (lx->i < lx->len) {
                char c = lx->t[lx->i];
                int r;
                if (c == ' ' || c == '\t' || c == '\n')
                        return 0;
                if (c == '\r')
                        return vt_shlex_fail(
                                lx, "CRLF line end: the shell would read the \\r into the value");
                if (strchr("|&;<>()", c))
                        return vt_shlex_fail(lx, "a shell operator");
                lx->i++;
                if (c == '\'') {
                        const char *s = lx->t + lx->i;
                        const char *e = memchr(s, '\'', lx->len - lx->i);
                        const char *nl = memchr(s, '\n', lx->len - lx->i);
                        if (!e || (nl && nl < e))
                                return vt_shlex_fail(lx, "unbalanced single quote");
                        lx->quoted = true;
                        r = vt_shlex_add(lx, s, (size_t)(e - s));
                        lx->i = (size_t)(e - lx->t) + 1;
                } else if (c == '"') {
                        lx->quoted = true;
                        r = shell_double(lx);
                } else if (c == '\\') {
                        if (lx->i >= lx->len || lx->t[lx->i] == '\n')
                                return vt_shlex_fail(lx, "line continuation");
                        lx->quoted = true;
                        r = vt_shlex_add(lx, lx->t + lx->i++, 1);
                } else if ((c == '$' || c == '`') && lx->expand)
                        r = lx->expand(lx, c);
                else
                        r = vt_shlex_add(lx, &c, 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int envfile_word(struct vt_shlex *lx)
{
        char quote = 0;
        size_t keep = 0; /* trailing blanks of an unquoted value are dropped */
        for (; lx->i < lx->len; lx->i++) {
                char c = lx->t[lx->i];
                int r = 0;
                if (!quote && c == '\n')
                        break;
                if (c == '\\' && quote != '\'') {
                        lx->quoted = true;
                        if (at(lx, lx->i + 1, '\n')) { /* continuation */
                                lx->i++;
                                continue;
                        }
                        if (lx->i + 1 < lx->len) {
                                r = vt_shlex_add(lx, lx->t + ++lx->i, 1);
                                keep = lx->n;
                        }
                } else if (!quote && (c == '"' || c == '\'')) {
                        quote = c;
                        lx->quoted = true;
                } else if (quote && c == quote) {
                        quote = 0;
                        keep = lx->n;
                } else {
                        r = vt_shlex_add(lx, &c, 1);
                        if (quote || (c != ' ' && c != '\t'))
                                keep = lx->n;
                }
                if (r < 0)
                        return r;
        }
        lx->n = keep;
        lx->word[keep] = '\0';
        return 0;
}

static int exec_word(struct vt_shlex *lx)
{
        char quote = 0;
        for (; lx->i < lx->len; lx->i++) {
                char c = lx->t[lx->i];
                int r;
                if (!quote && (c == ' ' || c == '\t' || c == '\n'))
                        break;
                if (c == '\\' && lx->i + 1 < lx->len && quote != '\'') {
                        static const char from[] = "ntr", to[] = "\n\t\r";
                        char x = lx->t[++lx->i];
                        const char *k = strchr(from, x);
                        lx->quoted = true;
                        r = vt_shlex_add(lx, k ? &to[k - from] : &x, 1);
                } else if (!quote && (c == '"' || c == '\'')) {
                        quote = c;
                        lx->quoted = true;
                        continue;
                } else if (quote && c == quote) {
                        quote = 0;
                        continue;
                } else
                        r = vt_shlex_add(lx, &c, 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vt_shlex_word(struct vt_shlex *lx)
{
        assert(lx && (lx->t || lx->len == 0));
        lx->n = 0;
        lx->quoted = false;
        lx->why = NULL;
        int r = vt_shlex_add(lx, "", 0);
        if (r < 0)
                return r;
        switch (lx->dialect) {
        case VT_SHLEX_SHELL:
                return shell_word(lx);
        case VT_SHLEX_ENVFILE:
                return envfile_word(lx);
        case VT_SHLEX_EXEC:
                return exec_word(lx);
        }
        return -EINVAL;
}

char *vt_shell_quote(const char *value, char style)
{
        if (style == 0 && (!*value || strpbrk(value, " \t\r\n'\"\\$`|&;<>()*?[]#~{}")))
                style = '"';
        if (style == '\'' && strchr(value, '\''))
                style = '"';
        /* worst case: every byte escaped, two quotes, the NUL */
        char *out = malloc(2 * strlen(value) + 3), *o = out;
        if (!out)
                return NULL;
        if (style)
                *o++ = style;
        for (const char *p = value; *p; p++) {
                if (style == '"' && strchr("$`\"\\", *p))
                        *o++ = '\\';
                *o++ = *p;
        }
        if (style)
                *o++ = style;
        *o = '\0';
        return out;
}
