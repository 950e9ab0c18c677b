/* NULL-terminated string vectors: the argv and word lists the detect helpers pass around. */
#include "strv.h"

void vt_strv_free(char **l)
{
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

size_t vt_strv_len(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

int vt_strv_push(char ***l, char *s)
{
        if (!s)
                return -ENOMEM;
        size_t n = vt_strv_len(*l);
        char **nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(s);
                return -ENOMEM;
        }
        nl[n] = s;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int vt_strv_add(char ***l, const char *s)
{
        return vt_strv_push(l, strdup(s));
}

bool vt_strv_contains(char *const *l, const char *s)
{
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

int vt_strv_add_unique(char ***l, const char *s)
{
        return vt_strv_contains(*l, s) ? 0 : vt_strv_add(l, s);
}

int vt_strv_split(const char *s, const char *seps, char ***ret)
{
        _cleanup_strv_ char **l = NULL;
        while (*s) {
                size_t n = strcspn(s, seps);
                const char *b = s, *e = s + n;
                while (b < e && (*b == ' ' || *b == '\t' || *b == '\n'))
                        b++;
                while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
                        e--;
                if (e > b) {
                        int r = vt_strv_push(&l, strndup(b, (size_t)(e - b)));
                        if (r < 0)
                                return r;
                }
                s += n;
                if (*s)
                        s++;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

json_object *vt_strv_to_json(char *const *l)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; l && l[i]; i++)
                json_object_array_add(a, json_object_new_string(l[i]));
        return a;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void vt_strv_sort(char **l)
{
        if (l)
                qsort(l, vt_strv_len(l), sizeof(char *), cmp_str);
}
