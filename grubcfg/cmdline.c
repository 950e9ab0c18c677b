/* The kernel command line token model: parse, print byte-identical, set/remove/get. */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include "util.h"
#include "cmdline.h"

struct vt_cmdline_tok {
        char *raw;   /* the token as written (quotes kept) */
        char *ws;    /* the whitespace after it */
        char *key;   /* unquoted */
        char *value; /* unquoted; NULL for a flag */
};

struct vt_cmdline {
        char *lead; /* whitespace before the first token */
        struct vt_cmdline_tok *tok;
        size_t n, cap;
        char *tail;  /* "--" and everything after it, or NULL */
        size_t init; /* where init's arguments start in tail (after the "--" as written) */
};

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void tok_clear(struct vt_cmdline_tok *t)
{
        free(t->raw);
        free(t->ws);
        free(t->key);
        free(t->value);
}

void vt_cmdline_free(struct vt_cmdline *cl)
{
        if (!cl)
                return;
        for (size_t i = 0; i < cl->n; i++)
                tok_clear(&cl->tok[i]);
        free(cl->tok);
        free(cl->lead);
        free(cl->tail);
        free(cl);
}

/* Copy of s[0..n) without the '"' the kernel drops (see next_arg()). */
static char *unquote(const char *s, size_t n)
{
        if (n && s[0] == '"') {
                s++, n--;
                if (n && s[n - 1] == '"')
                        n--;
        }
        return strndup(s, n);
}

/*
 * Split one raw token into key and value the way the kernel's next_arg() does: a leading '"'
 * quotes the token; the first '=' after the first byte ends the key; a value's leading '"'
 * goes with one '"' at the token's end, and so does a quoted token's.
 */
static int tok_split(struct vt_cmdline_tok *t)
{
        const char *raw = t->raw;
        size_t n = strlen(raw);
        bool quoted = raw[0] == '"';
        const char *p = raw + quoted;
        size_t pn = n - quoted;
        const char *eq = pn > 1 ? memchr(p + 1, '=', pn - 1) : NULL;
        if (!eq) {
                if (quoted && pn && p[pn - 1] == '"')
                        pn--;
                t->key = strndup(p, pn);
                t->value = NULL;
                return t->key ? 0 : -ENOMEM;
        }
        t->key = strndup(p, eq - p);
        const char *v = eq + 1;
        size_t vn = pn - (v - p);
        if (vn && v[0] == '"')
                t->value = unquote(v, vn);
        else
                t->value = strndup(v, vn - (quoted && vn && v[vn - 1] == '"'));
        return t->key && t->value ? 0 : -ENOMEM;
}

static int push(struct vt_cmdline *cl, struct vt_cmdline_tok *t)
{
        if (VT_GROW(cl->tok, cl->cap, cl->n + 1) < 0)
                return -ENOMEM;
        cl->tok[cl->n++] = *t;
        return 0;
}

/*
 * strict: an unbalanced quote is -EINVAL (an editor must not guess); otherwise the token runs
 * to the end of the line, as in the kernel.
 */
static int parse(const char *s, size_t len, bool strict, struct vt_cmdline **ret, size_t *errpos)
{
        assert(s || len == 0);
        assert(ret);
        struct vt_cmdline *cl = calloc(1, sizeof(*cl));
        if (!cl)
                return -ENOMEM;
        size_t i = 0;
        while (i < len && is_ws(s[i]))
                i++;
        cl->lead = strndup(s, i);
        if (!cl->lead)
                goto oom;
        while (i < len) {
                size_t start = i;
                bool inq = false;
                for (; i < len && (inq || !is_ws(s[i])); i++) {
                        if (s[i] == '\0') {
                                if (errpos)
                                        *errpos = i;
                                vt_cmdline_free(cl);
                                return -EINVAL;
                        }
                        if (s[i] == '"')
                                inq = !inq;
                }
                if (inq && strict) {
                        /* the kernel would run to the end; we refuse to guess */
                        if (errpos)
                                *errpos = start;
                        vt_cmdline_free(cl);
                        return -EINVAL;
                }
                size_t wstart = i;
                while (i < len && is_ws(s[i]))
                        i++;
                struct vt_cmdline_tok t = {
                        .raw = strndup(s + start, wstart - start),
                        .ws = strndup(s + wstart, i - wstart),
                };
                if (!t.raw || !t.ws || tok_split(&t) < 0) {
                        tok_clear(&t);
                        goto oom;
                }
                if (!t.value && streq(t.key, "--")) {
                        /* the kernel's own arguments end here; the rest is init's */
                        tok_clear(&t);
                        if (memchr(s + start, '\0', len - start)) {
                                if (errpos)
                                        *errpos = start;
                                vt_cmdline_free(cl);
                                return -EINVAL;
                        }
                        cl->tail = strndup(s + start, len - start);
                        cl->init = wstart - start;
                        if (!cl->tail)
                                goto oom;
                        break;
                }
                if (push(cl, &t) < 0) {
                        tok_clear(&t);
                        goto oom;
                }
        }
        *ret = cl;
        return 0;
oom:
        vt_cmdline_free(cl);
        return -ENOMEM;
}

int vt_cmdline_parse(const char *s, size_t len, struct vt_cmdline **ret, size_t *errpos)
{
        return parse(s, len, true, ret, errpos);
}

int vt_cmdline_parse_kernel(const char *s, struct vt_cmdline **ret)
{
        assert(s);
        return parse(s, strlen(s), false, ret, NULL);
}

char *vt_cmdline_print(const struct vt_cmdline *cl)
{
        assert(cl);
        size_t n = strlen(cl->lead) + (cl->tail ? strlen(cl->tail) : 0) + 1;
        for (size_t i = 0; i < cl->n; i++)
                n += strlen(cl->tok[i].raw) + strlen(cl->tok[i].ws);
        char *out = malloc(n), *p = out;
        if (!out)
                return NULL;
        p = stpcpy(p, cl->lead);
        for (size_t i = 0; i < cl->n; i++) {
                p = stpcpy(p, cl->tok[i].raw);
                p = stpcpy(p, cl->tok[i].ws);
        }
        if (cl->tail)
                p = stpcpy(p, cl->tail);
        return out;
}

bool vt_cmdline_key_eq(const char *a, const char *b)
{
        for (; *a && *b; a++, b++) {
                char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
                if (x != y)
                        return false;
        }
        return *a == *b;
}

bool vt_cmdline_key_valid(const char *key)
{
        if (!key || !*key || streq(key, "--"))
                return false;
        for (const char *p = key; *p; p++)
                if (is_ws(*p) || *p == '=' || *p == '"' || !isprint((unsigned char)*p))
                        return false;
        return true;
}

bool vt_cmdline_value_valid(const char *value)
{
        if (!value)
                return true;
        for (const char *p = value; *p; p++)
                if (*p == '"' || (!isprint((unsigned char)*p) && *p != '\t'))
                        return false;
        return true;
}

static bool tok_is(const struct vt_cmdline_tok *t, const char *key, const char *value)
{
        return vt_cmdline_key_eq(t->key, key) && streq_ptr(t->value, value);
}

/* Drop token i and the whitespace that separated it, keeping the line's end as it was. */
static void drop(struct vt_cmdline *cl, size_t i)
{
        struct vt_cmdline_tok *t = &cl->tok[i];
        if (i + 1 == cl->n && !cl->tail) {
                /* last token: its whitespace is the line's end; the one before gives up its own */
                char **prev_ws = i > 0 ? &cl->tok[i - 1].ws : &cl->lead;
                free(*prev_ws);
                *prev_ws = TAKE_PTR(t->ws);
        }
        tok_clear(t);
        memmove(t, t + 1, (cl->n - i - 1) * sizeof(*t));
        cl->n--;
}

static char *format_tok(const char *key, const char *value)
{
        char *s = NULL;
        int r;
        if (!value)
                r = asprintf(&s, "%s", key);
        else if (strpbrk(value, " \t"))
                r = asprintf(&s, "%s=\"%s\"", key, value);
        else
                r = asprintf(&s, "%s=%s", key, value);
        return r < 0 ? NULL : s;
}

int vt_cmdline_set(struct vt_cmdline *cl, const char *key, const char *value)
{
        assert(cl);
        if (!vt_cmdline_key_valid(key) || !vt_cmdline_value_valid(value))
                return -EINVAL;
        _cleanup_free_ char *raw = format_tok(key, value);
        if (!raw)
                return -ENOMEM;
        bool changed = false;
        size_t first = SIZE_MAX;
        for (size_t i = 0; i < cl->n;) {
                if (!vt_cmdline_key_eq(cl->tok[i].key, key)) {
                        i++;
                        continue;
                }
                if (first == SIZE_MAX) {
                        first = i++;
                        continue;
                }
                drop(cl, i);
                changed = true;
        }
        if (first != SIZE_MAX) {
                struct vt_cmdline_tok *t = &cl->tok[first];
                if (tok_is(t, key, value))
                        return changed;
                struct vt_cmdline_tok nt = {.raw = TAKE_PTR(raw), .ws = t->ws};
                if (tok_split(&nt) < 0) {
                        free(nt.raw);
                        free(nt.key);
                        free(nt.value);
                        return -ENOMEM;
                }
                t->ws = NULL;
                tok_clear(t);
                *t = nt;
                return 1;
        }
        struct vt_cmdline_tok nt = {.raw = TAKE_PTR(raw)};
        if (cl->tail)
                nt.ws = strdup(" ");
        else if (cl->n > 0) {
                /* the last token's whitespace is the line's end: move it after the new one */
                nt.ws = cl->tok[cl->n - 1].ws;
                cl->tok[cl->n - 1].ws = strdup(" ");
                if (!cl->tok[cl->n - 1].ws) {
                        cl->tok[cl->n - 1].ws = nt.ws;
                        nt.ws = NULL;
                }
        } else {
                /* a blank line: the blank stays after the new token */
                nt.ws = cl->lead;
                cl->lead = strdup("");
                if (!cl->lead) {
                        cl->lead = nt.ws;
                        nt.ws = NULL;
                }
        }
        if (!nt.ws || tok_split(&nt) < 0 || push(cl, &nt) < 0) {
                tok_clear(&nt);
                return -ENOMEM;
        }
        return 1;
}

int vt_cmdline_remove(struct vt_cmdline *cl, const char *key, const char *value)
{
        assert(cl);
        assert(key);
        int n = 0;
        for (size_t i = 0; i < cl->n;) {
                const struct vt_cmdline_tok *t = &cl->tok[i];
                if (vt_cmdline_key_eq(t->key, key) && (!value || streq_ptr(t->value, value))) {
                        drop(cl, i);
                        n++;
                } else
                        i++;
        }
        return n;
}

int vt_cmdline_get(const struct vt_cmdline *cl, const char *key, const char **value)
{
        assert(cl);
        assert(key);
        for (size_t i = cl->n; i > 0; i--)
                if (vt_cmdline_key_eq(cl->tok[i - 1].key, key)) {
                        if (value)
                                *value = cl->tok[i - 1].value;
                        return 1;
                }
        return -ENOENT;
}

bool vt_cmdline_has(const struct vt_cmdline *cl, const char *key, const char *value)
{
        assert(cl);
        for (size_t i = 0; i < cl->n; i++)
                if (tok_is(&cl->tok[i], key, value))
                        return true;
        return false;
}

size_t vt_cmdline_count(const struct vt_cmdline *cl)
{
        return cl->n;
}

const char *vt_cmdline_init(const struct vt_cmdline *cl)
{
        assert(cl);
        return cl->tail ? cl->tail + cl->init : NULL;
}

void vt_cmdline_token(const struct vt_cmdline *cl, size_t i, const char **key, const char **value)
{
        assert(i < cl->n);
        *key = cl->tok[i].key;
        *value = cl->tok[i].value;
}
