/* A strict reader of shell assignment files: assignments, comments, blanks; refuses the rest. */
#include <assert.h>
#include <ctype.h>
#include "util.h"
#include "shell.h"
#include "shvars.h"

struct vt_shvars {
        const struct vt_shvars *env;
        struct vt_shassign *a;
        size_t n, cap;
};

void vt_shvars_free(struct vt_shvars *v)
{
        if (!v)
                return;
        for (size_t i = 0; i < v->n; i++) {
                free(v->a[i].name);
                free(v->a[i].value);
        }
        free(v->a);
        free(v);
}

const struct vt_shassign *vt_shvars_last(const struct vt_shvars *v, const char *name)
{
        for (size_t i = v->n; i > 0; i--)
                if (streq(v->a[i - 1].name, name))
                        return &v->a[i - 1];
        return NULL;
}

const char *vt_shvars_value(const struct vt_shvars *v, const char *name, bool *known)
{
        for (; v; v = v->env) {
                const struct vt_shassign *a = vt_shvars_last(v, name);
                if (a) {
                        if (known)
                                *known = a->value != NULL;
                        return a->value;
                }
        }
        if (known)
                *known = true;
        return NULL;
}

static bool name_start(char c)
{
        return isalpha((unsigned char)c) || c == '_';
}

static bool name_char(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

/* The file being read: the lexer (its text, position and word) and what a word refers to. */
struct scan {
        struct vt_shlex lx; /* first: expand() gets &scan.lx */
        size_t line;
        const struct vt_shvars *self;
        bool opaque, plain;
};

static int fail(struct scan *s, const char *why)
{
        return vt_shlex_fail(&s->lx, why);
}

/* Skips a `...` or $(...) command substitution: its value is unknown (opaque). */
static int skip_subst(struct scan *s, char close)
{
        struct vt_shlex *lx = &s->lx;
        int depth = 1;
        s->opaque = true;
        while (lx->i < lx->len) {
                char c = lx->t[lx->i++];
                if (c == '\n')
                        return fail(s, "command substitution spans lines");
                if (c == '\\' && lx->i < lx->len) {
                        lx->i++;
                        continue;
                }
                if (close == ')' && c == '\'') {
                        const char *e = memchr(lx->t + lx->i, '\'', lx->len - lx->i);
                        const char *nl = memchr(lx->t + lx->i, '\n', lx->len - lx->i);
                        if (!e || (nl && nl < e))
                                return fail(s, "unbalanced single quote");
                        lx->i = (size_t)(e - lx->t) + 1;
                        continue;
                }
                if (close == ')' && c == '(')
                        depth++;
                if (c == close && --depth == 0)
                        return 0;
        }
        return fail(s, "unterminated command substitution");
}

/* $NAME, ${NAME}, $(...): appends the value or marks the word opaque. lx->i is after '$'. */
static int dollar(struct scan *s)
{
        struct vt_shlex *lx = &s->lx;
        s->plain = false;
        if (lx->i >= lx->len)
                return fail(s, "'$' at end of file");
        if (lx->t[lx->i] == '(') {
                lx->i++;
                return skip_subst(s, ')');
        }
        bool brace = lx->t[lx->i] == '{';
        size_t start = lx->i + brace;
        size_t e = start;
        while (e < lx->len && name_char(lx->t[e]))
                e++;
        if (e == start || !name_start(lx->t[start]))
                return fail(s, "a '$' form other than $NAME or ${NAME}");
        if (brace) {
                if (e >= lx->len || lx->t[e] != '}')
                        return fail(s, "a ${...} form other than ${NAME}");
                lx->i = e + 1;
        } else
                lx->i = e;
        _cleanup_free_ char *name = strndup(lx->t + start, e - start);
        if (!name)
                return -ENOMEM;
        bool known;
        const char *v = vt_shvars_value(s->self, name, &known);
        if (!known)
                s->opaque = true;
        else if (v)
                return vt_shlex_add(lx, v, strlen(v));
        return 0;
}

/* The lexer's hook for '$' and '`' outside single quotes. */
static int expand(struct vt_shlex *lx, char c)
{
        struct scan *s = (struct scan *)lx;
        if (c == '$')
                return dollar(s);
        s->plain = false;
        return skip_subst(s, '`');
}

static int push(struct vt_shvars *v, struct vt_shassign *a)
{
        if (VT_GROW(v->a, v->cap, v->n + 1) < 0)
                return -ENOMEM;
        v->a[v->n++] = *a;
        return 0;
}

static void skip_blanks(struct vt_shlex *lx)
{
        while (lx->i < lx->len && (lx->t[lx->i] == ' ' || lx->t[lx->i] == '\t'))
                lx->i++;
}

/* One line from s->lx.i; leaves it after its '\n'. */
static int line(struct scan *s, struct vt_shvars *v)
{
        struct vt_shlex *lx = &s->lx;
        skip_blanks(lx);
        if (lx->i < lx->len && lx->t[lx->i] == '\r' && lx->i + 1 < lx->len &&
            lx->t[lx->i + 1] == '\n')
                return fail(s, "CRLF line end: the shell would read the \\r into the value");
        if (lx->i >= lx->len || lx->t[lx->i] == '\n' || lx->t[lx->i] == '#')
                goto eol;
        if (lx->len - lx->i > 7 && memcmp(lx->t + lx->i, "export", 6) == 0 &&
            (lx->t[lx->i + 6] == ' ' || lx->t[lx->i + 6] == '\t')) {
                lx->i += 6;
                skip_blanks(lx);
        }
        size_t ns = lx->i;
        if (lx->i >= lx->len || !name_start(lx->t[lx->i]))
                return fail(s, "not an assignment (a command or shell construct)");
        while (lx->i < lx->len && name_char(lx->t[lx->i]))
                lx->i++;
        if (lx->i >= lx->len || lx->t[lx->i] != '=')
                return fail(s, "not an assignment (a command or shell construct)");
        struct vt_shassign a = {.line = s->line};
        a.name = strndup(lx->t + ns, lx->i - ns);
        if (!a.name)
                return -ENOMEM;
        lx->i++;
        a.word_start = lx->i;
        s->opaque = false;
        s->plain = true;
        int r = vt_shlex_word(lx);
        if (r < 0) {
                free(a.name);
                return r;
        }
        a.word_end = lx->i;
        a.plain = s->plain && !s->opaque;
        a.value = s->opaque ? NULL : strdup(lx->word);
        if ((!s->opaque && !a.value) || push(v, &a) < 0) {
                free(a.name);
                free(a.value);
                return -ENOMEM;
        }
        skip_blanks(lx);
        if (lx->i < lx->len && lx->t[lx->i] != '\n' && lx->t[lx->i] != '#') {
                if (lx->t[lx->i] == '\r')
                        return fail(s,
                                    "CRLF line end: the shell would read the \\r into the value");
                return fail(s, "more than one word after '=' (a command with an environment)");
        }
eol:;
        const char *nl = memchr(lx->t + lx->i, '\n', lx->len - lx->i);
        lx->i = nl ? (size_t)(nl - lx->t) + 1 : lx->len;
        return 0;
}

int vt_shvars_parse(const char *text, size_t len, const struct vt_shvars *env,
                    struct vt_shvars **ret, size_t *errline, const char **why)
{
        assert(text || len == 0);
        struct vt_shvars *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->env = env;
        struct scan s = {.lx = {.t = text, .len = len, .dialect = VT_SHLEX_SHELL, .expand = expand},
                         .line = 1,
                         .self = v};
        int r = 0;
        if (memchr(text, '\0', len)) {
                r = fail(&s, "a NUL byte");
                s.line = 1;
        }
        while (r >= 0 && s.lx.i < s.lx.len) {
                r = line(&s, v);
                if (r >= 0)
                        s.line++;
        }
        vt_shlex_done(&s.lx);
        if (r < 0) {
                if (errline)
                        *errline = s.line;
                if (why)
                        *why = s.lx.why ? s.lx.why : "out of memory";
                vt_shvars_free(v);
                return r;
        }
        *ret = v;
        return 0;
}
