/* A strict reader of shell assignment files: assignments, comments, blanks; refuses the rest. */
#include <assert.h>
#include <ctype.h>
#include "util.h"
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

/* A growing string. */
struct buf {
        char *s;
        size_t n, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
        if (b->n + n + 1 > b->cap) {
                size_t cap = (b->n + n + 1) * 2;
                char *ns = realloc(b->s, cap);
                if (!ns)
                        return -ENOMEM;
                b->s = ns;
                b->cap = cap;
        }
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = 0;
        return 0;
}

static bool name_start(char c)
{
        return isalpha((unsigned char)c) || c == '_';
}

static bool name_char(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

struct scan {
        const char *t;
        size_t len, i, line;
        const struct vt_shvars *self;
        const char *why;
        bool opaque, plain;
        struct buf val;
};

static int fail(struct scan *s, const char *why)
{
        s->why = why;
        return -EBADMSG;
}

/* Skips a `...` or $(...) command substitution: its value is unknown (opaque). */
static int skip_subst(struct scan *s, char close)
{
        int depth = 1;
        s->opaque = true;
        while (s->i < s->len) {
                char c = s->t[s->i++];
                if (c == '\n')
                        return fail(s, "command substitution spans lines");
                if (c == '\\' && s->i < s->len) {
                        s->i++;
                        continue;
                }
                if (close == ')' && c == '\'') {
                        const char *e = memchr(s->t + s->i, '\'', s->len - s->i);
                        const char *nl = memchr(s->t + s->i, '\n', s->len - s->i);
                        if (!e || (nl && nl < e))
                                return fail(s, "unbalanced single quote");
                        s->i = e - s->t + 1;
                        continue;
                }
                if (close == ')' && c == '(')
                        depth++;
                if (c == close && --depth == 0)
                        return 0;
        }
        return fail(s, "unterminated command substitution");
}

/* $NAME, ${NAME}, $(...): appends the value or marks the word opaque. s->i is after '$'. */
static int dollar(struct scan *s)
{
        s->plain = false;
        if (s->i >= s->len)
                return fail(s, "'$' at end of file");
        if (s->t[s->i] == '(') {
                s->i++;
                return skip_subst(s, ')');
        }
        bool brace = s->t[s->i] == '{';
        size_t start = s->i + brace;
        size_t e = start;
        while (e < s->len && name_char(s->t[e]))
                e++;
        if (e == start || !name_start(s->t[start]))
                return fail(s, "a '$' form other than $NAME or ${NAME}");
        if (brace) {
                if (e >= s->len || s->t[e] != '}')
                        return fail(s, "a ${...} form other than ${NAME}");
                s->i = e + 1;
        } else
                s->i = e;
        _cleanup_free_ char *name = strndup(s->t + start, e - start);
        if (!name)
                return -ENOMEM;
        bool known;
        const char *v = vt_shvars_value(s->self, name, &known);
        if (!known)
                s->opaque = true;
        else if (v)
                return buf_add(&s->val, v, strlen(v));
        return 0;
}

static int word(struct scan *s)
{
        while (s->i < s->len) {
                char c = s->t[s->i];
                int r = 0;
                if (c == ' ' || c == '\t' || c == '\n')
                        return 0;
                if (c == '\r')
                        return fail(s,
                                    "CRLF line end: the shell would read the \\r into the value");
                if (strchr("|&;<>()", c))
                        return fail(s, "a shell operator");
                s->i++;
                if (c == '\'') {
                        const char *e = memchr(s->t + s->i, '\'', s->len - s->i);
                        const char *nl = memchr(s->t + s->i, '\n', s->len - s->i);
                        if (!e || (nl && nl < e))
                                return fail(s, "unbalanced single quote");
                        r = buf_add(&s->val, s->t + s->i, e - (s->t + s->i));
                        s->i = e - s->t + 1;
                } else if (c == '"') {
                        for (;;) {
                                if (s->i >= s->len || s->t[s->i] == '\n')
                                        return fail(s, "unbalanced double quote");
                                char d = s->t[s->i++];
                                if (d == '"')
                                        break;
                                if (d == '\\') {
                                        if (s->i >= s->len || s->t[s->i] == '\n')
                                                return fail(s, "line continuation");
                                        char x = s->t[s->i];
                                        if (strchr("$`\"\\", x)) {
                                                s->i++;
                                                r = buf_add(&s->val, &x, 1);
                                        } else
                                                r = buf_add(&s->val, "\\", 1);
                                } else if (d == '$')
                                        r = dollar(s);
                                else if (d == '`') {
                                        s->plain = false;
                                        r = skip_subst(s, '`');
                                } else
                                        r = buf_add(&s->val, &d, 1);
                                if (r < 0)
                                        return r;
                        }
                } else if (c == '\\') {
                        if (s->i >= s->len || s->t[s->i] == '\n')
                                return fail(s, "line continuation");
                        r = buf_add(&s->val, s->t + s->i++, 1);
                } else if (c == '$')
                        r = dollar(s);
                else if (c == '`') {
                        s->plain = false;
                        r = skip_subst(s, '`');
                } else
                        r = buf_add(&s->val, &c, 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int push(struct vt_shvars *v, struct vt_shassign *a)
{
        if (VT_GROW(v->a, v->cap, v->n + 1) < 0)
                return -ENOMEM;
        v->a[v->n++] = *a;
        return 0;
}

static void skip_blanks(struct scan *s)
{
        while (s->i < s->len && (s->t[s->i] == ' ' || s->t[s->i] == '\t'))
                s->i++;
}

/* One line from s->i; leaves s->i after its '\n'. */
static int line(struct scan *s, struct vt_shvars *v)
{
        skip_blanks(s);
        if (s->i < s->len && s->t[s->i] == '\r' && s->i + 1 < s->len && s->t[s->i + 1] == '\n')
                return fail(s, "CRLF line end: the shell would read the \\r into the value");
        if (s->i >= s->len || s->t[s->i] == '\n' || s->t[s->i] == '#')
                goto eol;
        if (s->len - s->i > 7 && memcmp(s->t + s->i, "export", 6) == 0 &&
            (s->t[s->i + 6] == ' ' || s->t[s->i + 6] == '\t')) {
                s->i += 6;
                skip_blanks(s);
        }
        size_t ns = s->i;
        if (s->i >= s->len || !name_start(s->t[s->i]))
                return fail(s, "not an assignment (a command or shell construct)");
        while (s->i < s->len && name_char(s->t[s->i]))
                s->i++;
        if (s->i >= s->len || s->t[s->i] != '=')
                return fail(s, "not an assignment (a command or shell construct)");
        struct vt_shassign a = {.line = s->line};
        a.name = strndup(s->t + ns, s->i - ns);
        if (!a.name)
                return -ENOMEM;
        s->i++;
        a.word_start = s->i;
        s->opaque = false;
        s->plain = true;
        s->val.n = 0;
        int r = buf_add(&s->val, "", 0);
        if (r >= 0)
                r = word(s);
        if (r < 0) {
                free(a.name);
                return r;
        }
        a.word_end = s->i;
        a.plain = s->plain && !s->opaque;
        a.value = s->opaque ? NULL : strdup(s->val.s);
        if ((!s->opaque && !a.value) || push(v, &a) < 0) {
                free(a.name);
                free(a.value);
                return -ENOMEM;
        }
        skip_blanks(s);
        if (s->i < s->len && s->t[s->i] != '\n' && s->t[s->i] != '#') {
                if (s->t[s->i] == '\r')
                        return fail(s,
                                    "CRLF line end: the shell would read the \\r into the value");
                return fail(s, "more than one word after '=' (a command with an environment)");
        }
eol:;
        const char *nl = memchr(s->t + s->i, '\n', s->len - s->i);
        s->i = nl ? (size_t)(nl - s->t) + 1 : s->len;
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
        struct scan s = {.t = text, .len = len, .line = 1, .self = v};
        int r = 0;
        if (memchr(text, '\0', len)) {
                r = fail(&s, "a NUL byte");
                s.line = 1;
        }
        while (r >= 0 && s.i < s.len) {
                r = line(&s, v);
                if (r >= 0)
                        s.line++;
        }
        free(s.val.s);
        if (r < 0) {
                if (errline)
                        *errline = s.line;
                if (why)
                        *why = s.why ? s.why : "out of memory";
                vt_shvars_free(v);
                return r;
        }
        *ret = v;
        return 0;
}
