/* Unified line diff: trim the common ends, LCS table on the middle, hunks with 3 lines context. */
#include <assert.h>
#include <stdint.h>
#include "util.h"
#include "diff.h"

#define CONTEXT 3
/* Above this many cells the middle is shown as one replaced block (still a correct diff). */
#define LCS_MAX_CELLS (4u << 20)

struct line {
        const char *s;
        size_t n; /* with its '\n' when it has one */
};

static size_t split(const char *t, size_t len, struct line **ret)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                if (t[i] == '\n')
                        n++;
        if (len && t[len - 1] != '\n')
                n++;
        struct line *l = calloc(n ? n : 1, sizeof(*l));
        if (!l) {
                *ret = NULL;
                return 0;
        }
        size_t k = 0, start = 0;
        for (size_t i = 0; i < len; i++)
                if (t[i] == '\n') {
                        l[k++] = (struct line){t + start, i + 1 - start};
                        start = i + 1;
                }
        if (start < len)
                l[k++] = (struct line){t + start, len - start};
        *ret = l;
        return n;
}

static bool line_eq(const struct line *a, const struct line *b)
{
        return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
}

/* One edit script entry: ' ' same, '-' only in a, '+' only in b. */
struct op {
        char kind;
        size_t ai, bi;
};

struct out {
        FILE *f;
};

static void emit_line(FILE *f, char kind, const struct line *l)
{
        fputc(kind, f);
        fwrite(l->s, 1, l->n, f);
        if (!l->n || l->s[l->n - 1] != '\n')
                fputs("\n\\ No newline at end of file\n", f);
}

static int script(const struct line *a, size_t na, const struct line *b, size_t nb, struct op **ret,
                  size_t *nret)
{
        size_t pre = 0, suf = 0;
        while (pre < na && pre < nb && line_eq(&a[pre], &b[pre]))
                pre++;
        while (suf < na - pre && suf < nb - pre && line_eq(&a[na - 1 - suf], &b[nb - 1 - suf]))
                suf++;
        size_t ma = na - pre - suf, mb = nb - pre - suf;
        struct op *ops = calloc(na + nb + 1, sizeof(*ops));
        if (!ops)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < pre; i++)
                ops[k++] = (struct op){' ', i, i};
        uint32_t *t = NULL;
        if ((ma + 1) * (mb + 1) <= LCS_MAX_CELLS)
                t = calloc((ma + 1) * (mb + 1), sizeof(*t));
        if (t) {
                /* t[i][j]: LCS length of a[pre+i..] and b[pre+j..] */
#define T(i, j) t[(i) * (mb + 1) + (j)]
                for (size_t i = ma; i-- > 0;)
                        for (size_t j = mb; j-- > 0;)
                                T(i, j) = line_eq(&a[pre + i], &b[pre + j])
                                                  ? T(i + 1, j + 1) + 1
                                                  : (T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j)
                                                                                : T(i, j + 1));
                size_t i = 0, j = 0;
                while (i < ma || j < mb) {
                        if (i < ma && j < mb && line_eq(&a[pre + i], &b[pre + j])) {
                                ops[k++] = (struct op){' ', pre + i++, pre + j++};
                        } else if (j < mb && (i == ma || T(i, j + 1) > T(i + 1, j))) {
                                ops[k++] = (struct op){'+', pre + i, pre + j++};
                        } else {
                                ops[k++] = (struct op){'-', pre + i++, pre + j};
                        }
                }
#undef T
                free(t);
        } else {
                for (size_t i = 0; i < ma; i++)
                        ops[k++] = (struct op){'-', pre + i, pre};
                for (size_t j = 0; j < mb; j++)
                        ops[k++] = (struct op){'+', pre + ma, pre + j};
        }
        for (size_t i = 0; i < suf; i++)
                ops[k++] = (struct op){' ', na - suf + i, nb - suf + i};
        *ret = ops;
        *nret = k;
        return 0;
}

int vt_diff_unified(const char *path, const char *a, size_t alen, const char *b, size_t blen,
                    char **out)
{
        assert(path);
        assert(out);
        if (a && b && alen == blen && memcmp(a, b, alen) == 0)
                return 0;
        _cleanup_free_ struct line *la = NULL, *lb = NULL;
        size_t na = split(a ? a : "", a ? alen : 0, &la);
        size_t nb = split(b ? b : "", b ? blen : 0, &lb);
        if (!la || !lb)
                return -ENOMEM;
        _cleanup_free_ struct op *ops = NULL;
        size_t nops;
        int r = script(la, na, lb, nb, &ops, &nops);
        if (r < 0)
                return r;

        char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        if (!f)
                return -ENOMEM;
        if (*out)
                fputs(*out, f);
        fprintf(f, "--- %s%s\n+++ %s%s\n", a ? "a" : "", a ? path : "/dev/null", b ? "b" : "",
                b ? path : "/dev/null");
        for (size_t i = 0; i < nops;) {
                if (ops[i].kind == ' ') {
                        i++;
                        continue;
                }
                /* a hunk: from CONTEXT before this change to CONTEXT after the last change that
                 * is within 2*CONTEXT of the next */
                size_t start = i >= CONTEXT ? i - CONTEXT : 0, end = i;
                for (size_t j = i; j < nops; j++) {
                        if (ops[j].kind != ' ')
                                end = j;
                        else if (j - end > 2 * CONTEXT)
                                break;
                }
                end = end + CONTEXT + 1 < nops ? end + CONTEXT + 1 : nops;
                size_t acount = 0, bcount = 0;
                for (size_t j = start; j < end; j++) {
                        acount += ops[j].kind != '+';
                        bcount += ops[j].kind != '-';
                }
                size_t astart = ops[start].ai + (acount ? 1 : 0);
                size_t bstart = ops[start].bi + (bcount ? 1 : 0);
                fprintf(f, "@@ -%zu", astart);
                if (acount != 1)
                        fprintf(f, ",%zu", acount);
                fprintf(f, " +%zu", bstart);
                if (bcount != 1)
                        fprintf(f, ",%zu", bcount);
                fputs(" @@\n", f);
                for (size_t j = start; j < end; j++)
                        emit_line(f, ops[j].kind,
                                  ops[j].kind == '+' ? &lb[ops[j].bi] : &la[ops[j].ai]);
                i = end;
        }
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        free(*out);
        *out = text;
        return 0;
}
