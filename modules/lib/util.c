/* The helpers util.h declares: array growth, string trimming, small json-c additions. */
#include <stdint.h>
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
        vt_json_add_str(e, "error", strerror(r < 0 ? -r : r));
        json_object_array_add(errs, e);
}

char *vt_escape_ctl(const char *s)
{
        char *out = malloc(strlen(s) * 4 + 1), *o = out;
        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        o += sprintf(o, "\\x%02x", *p);
                else
                        *o++ = (char)*p;
        *o = '\0';
        return out;
}
