/* The helpers util.h declares: array growth, string trimming, small json-c additions. */
#include <stdint.h>
#include <sys/stat.h>
#include "util.h"

int vt_grow(void **p, size_t *cap, size_t need, size_t size)
{
        if (need <= *cap)
                return 0;
        if (need > SIZE_MAX / size)
                return -ENOMEM;
        size_t n = *cap ? *cap : 8;
        while (n < need)
                n = n > SIZE_MAX / 2 ? need : n * 2;
        if (n > SIZE_MAX / size)
                n = need;
        void *q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = n;
        return 0;
}

char *vt_strip(char *s)
{
        size_t n = strlen(s);
        while (n > 0 &&
               (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

void vt_json_add_str(json_object *o, const char *key, const char *s)
{
        json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

void vt_json_add_error(json_object *o, const char *path, int r)
{
        json_object *errs;
        if (!json_object_object_get_ex(o, "errors", &errs)) {
                errs = json_object_new_array();
                json_object_object_add(o, "errors", errs);
        }
        json_object *e = json_object_new_object();
        vt_json_add_str(e, "path", path);
        vt_json_add_str(e, "error", vt_strerror(r < 0 ? r : -r));
        json_object_array_add(errs, e);
}

int vt_notreg_error(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFDIR:
                return -EISDIR;
        case S_IFIFO:
                return VT_ENOTREG_FIFO;
        case S_IFCHR:
                return VT_ENOTREG_CHR;
        case S_IFBLK:
                return VT_ENOTREG_BLK;
        case S_IFSOCK:
                return VT_ENOTREG_SOCK;
        default:
                return VT_ENOTREG_OTHER;
        }
}

const char *vt_strerror(int r)
{
        switch (r) {
        case VT_ENOTREG_FIFO:
                return "is a FIFO, not a regular file: not read";
        case VT_ENOTREG_CHR:
                return "is a character device, not a regular file: not read";
        case VT_ENOTREG_BLK:
                return "is a block device, not a regular file: not read";
        case VT_ENOTREG_SOCK:
                return "is a socket, not a regular file: not read";
        case VT_ENOTREG_OTHER:
                return "is not a regular file: not read";
        }
        return strerror(r < 0 ? -r : r);
}

void vt_fputs_term(FILE *f, const char *s, size_t n)
{
        for (size_t i = 0; i < n && s[i]; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\x%02x", c);
                else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                         (unsigned char)s[i + 1] <= 0x9f)
                        fprintf(f, "\\u%04x", (unsigned char)s[++i]); /* C1: U+0080-U+009F */
                else
                        fputc(c, f);
        }
}

int vt_utf8_cut(const char *s, size_t max)
{
        size_t n = strnlen(s, max);
        /* s[n], the first byte left out, continuing a sequence: leave out its start too */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;
        return (int)(n < INT32_MAX ? n : INT32_MAX);
}

char *vt_escape_ctl(const char *s)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                return NULL;
        vt_fputs_term(f, s, SIZE_MAX);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}
