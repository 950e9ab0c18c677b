/* GRUB's 1024-byte environment block: strict read, exact rewrite. */
#include <assert.h>
#include "util.h"
#include "grubenv.h"

static const char header[] = "# GRUB Environment Block\n";

/* The length of the variable part (header excluded), or -EBADMSG. */
static int vars_end(const char *blk, size_t len, size_t *end, size_t *errline)
{
        size_t hl = strlen(header), line = 2;
        if (len != VT_GRUBENV_SIZE || memcmp(blk, header, hl) != 0) {
                if (errline)
                        *errline = 1;
                return -EBADMSG;
        }
        size_t i = hl;
        while (i < len && blk[i] != '#') {
                const char *nl = memchr(blk + i, '\n', len - i);
                const char *eq = memchr(blk + i, '=', len - i);
                /* a var line: name=value\n; GRUB escapes '\\' and newline, which we refuse */
                if (!nl || !eq || eq > nl || eq == blk + i ||
                    memchr(blk + i, '\\', nl - (blk + i)) ||
                    memchr(blk + i, '\0', nl - (blk + i))) {
                        if (errline)
                                *errline = line;
                        return -EBADMSG;
                }
                i = nl - blk + 1;
                line++;
        }
        for (size_t k = i; k < len; k++)
                if (blk[k] != '#') {
                        if (errline)
                                *errline = line;
                        return -EBADMSG;
                }
        *end = i;
        return 0;
}

int vt_grubenv_check(const char *blk, size_t len, size_t *errline)
{
        size_t end;
        return vars_end(blk, len, &end, errline);
}

/* Finds name's line: [*ls, *le) including its '\n'. */
static bool find(const char *blk, size_t end, const char *name, size_t *ls, size_t *le)
{
        size_t nl = strlen(name);
        for (size_t i = strlen(header); i < end;) {
                const char *e = memchr(blk + i, '\n', end - i);
                size_t next = e - blk + 1;
                if (next - i > nl && memcmp(blk + i, name, nl) == 0 && blk[i + nl] == '=') {
                        *ls = i;
                        *le = next;
                        return true;
                }
                i = next;
        }
        return false;
}

int vt_grubenv_get(const char *blk, size_t len, const char *name, char **ret)
{
        size_t end, ls, le;
        int r = vars_end(blk, len, &end, NULL);
        if (r < 0)
                return r;
        if (!find(blk, end, name, &ls, &le))
                return -ENOENT;
        size_t vs = ls + strlen(name) + 1;
        *ret = strndup(blk + vs, le - 1 - vs);
        return *ret ? 0 : -ENOMEM;
}

int vt_grubenv_set(const char *blk, size_t len, const char *name, const char *value, char **ret)
{
        size_t end, ls, le;
        int r = vars_end(blk, len, &end, NULL);
        if (r < 0)
                return r;
        if (strpbrk(value, "\\\n") || !*name || strpbrk(name, "=\n#\\"))
                return -EINVAL;
        if (!find(blk, end, name, &ls, &le))
                ls = le = end;
        size_t need = ls + strlen(name) + 1 + strlen(value) + 1 + (end - le);
        if (need > VT_GRUBENV_SIZE)
                return -ENOSPC;
        char *out = malloc(VT_GRUBENV_SIZE + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, blk, ls);
        char *p = out + ls;
        p += sprintf(p, "%s=%s\n", name, value);
        memcpy(p, blk + le, end - le);
        p += end - le;
        memset(p, '#', out + VT_GRUBENV_SIZE - p);
        out[VT_GRUBENV_SIZE] = 0;
        *ret = out;
        return 0;
}
