/* Tables for people: columns sized to their cells, control characters never reach the terminal. */
#include "host_table.h"

#define CELL_MAX 60 /* wider cells are cut, with '~' */

int vt_table_init(struct vt_table *t, const char *const *header, size_t ncols)
{
        assert(ncols > 0 && ncols <= VT_TABLE_COLS_MAX);
        *t = (struct vt_table){.ncols = ncols};
        return vt_table_row(t, header);
}

/* Characters of UTF-8 text, what a terminal gives a column each (East Asian wide ones take two). */
static size_t columns(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

/* The bytes of s's first max characters. */
static size_t chars_prefix(const char *s, size_t max)
{
        size_t i = 0;
        for (size_t c = 0; s[i]; i++)
                if (((unsigned char)s[i] & 0xC0) != 0x80 && c++ == max)
                        break;
        return i;
}

/*
 * One cell as shown: control characters (C0, DEL, C1 as UTF-8) as '?', one line, at most
 * CELL_MAX characters (+ '~').
 */
static char *cell_text(const char *s, bool last)
{
        if (!s || !*s)
                s = "-";
        size_t n = chars_prefix(s, last ? 4 * CELL_MAX : CELL_MAX), k = 0;
        char *c = malloc(n + 2);
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char b = (unsigned char)s[i];
                if (b == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                    (unsigned char)s[i + 1] <= 0x9f)
                        i++, b = '?';
                c[k++] = b < 0x20 || b == 0x7f ? '?' : (char)b;
        }
        if (s[n])
                c[k++] = '~';
        c[k] = '\0';
        return c;
}

int vt_table_row(struct vt_table *t, const char *const *cells)
{
        char **row = calloc(t->ncols, sizeof(char *));
        char ***rows = row ? realloc(t->rows, (t->nrows + 1) * sizeof(*rows)) : NULL;
        if (!rows) {
                free(row);
                return -ENOMEM;
        }
        t->rows = rows;
        rows[t->nrows++] = row;
        for (size_t i = 0; i < t->ncols; i++) {
                row[i] = cell_text(cells[i], i + 1 == t->ncols);
                if (!row[i])
                        return -ENOMEM;
                size_t w = columns(row[i]);
                if (w > t->width[i])
                        t->width[i] = w;
        }
        return 0;
}

void vt_table_print(const struct vt_table *t, FILE *out)
{
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t i = 0; i < t->ncols; i++) {
                        const char *c = t->rows[r][i] ? t->rows[r][i] : "";
                        if (i + 1 == t->ncols)
                                fprintf(out, "%s\n", c);
                        else /* padded by characters: "%-*s" would count bytes */
                                fprintf(out, "%s%*s  ", c, (int)(t->width[i] - columns(c)), "");
                }
        }
}

void vt_table_done(struct vt_table *t)
{
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t i = 0; i < t->ncols; i++)
                        free(t->rows[r][i]);
                free(t->rows[r]);
        }
        free(t->rows);
        *t = (struct vt_table){};
}

static const char *str_of(json_object *o, const char *key, char *buf, size_t size)
{
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return NULL;
        if (json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
        if (json_object_is_type(v, json_type_boolean))
                return json_object_get_boolean(v) ? "yes" : "no";
        snprintf(buf, size, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        return buf;
}

/* A value that spans lines (a whole file) is summed up, not printed. */
static const char *short_value(const char *s, char *buf, size_t size)
{
        if (!s)
                return NULL;
        size_t n = strlen(s), nl = 0;
        for (size_t i = 0; i < n; i++)
                nl += s[i] == '\n';
        if (nl == 0 || (nl == 1 && s[n - 1] == '\n'))
                return s;
        snprintf(buf, size, "(%zu lines)", nl + (s[n - 1] != '\n'));
        return buf;
}

static void lines(FILE *out, json_object *doc, const char *key, const char *prefix)
{
        json_object *a;
        if (!json_object_object_get_ex(doc, key, &a) || !json_object_is_type(a, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *v = json_object_array_get_idx(a, i);
                _cleanup_free_ char *c = cell_text(json_object_is_type(v, json_type_string)
                                                           ? json_object_get_string(v)
                                                           : json_object_to_json_string(v),
                                                   true);
                if (c)
                        fprintf(out, "%s%s\n", prefix, c);
        }
}

/* Rows of {module, when, target, from, to, why} (plan changes, skipped, pending reboot). */
static int change_table(FILE *out, json_object *list, const char *title)
{
        static const char *const header[] = {"MODULE", "WHEN", "TARGET", "FROM", "TO", "WHY"};
        struct vt_table t;
        if (!list || !json_object_is_type(list, json_type_array) ||
            json_object_array_length(list) == 0)
                return 0;
        int r = vt_table_init(&t, header, ARRAY_SIZE(header));
        for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i);
                char b[6][128];
                const char *cells[] = {
                        str_of(c, "module", b[0], sizeof(b[0])),
                        str_of(c, "when", b[1], sizeof(b[1])),
                        str_of(c, "target", b[2], sizeof(b[2])),
                        short_value(str_of(c, "from", b[3], sizeof(b[3])), b[3], sizeof(b[3])),
                        short_value(str_of(c, "to", b[4], sizeof(b[4])), b[4], sizeof(b[4])),
                        str_of(c, "why", b[5], sizeof(b[5])),
                };
                r = vt_table_row(&t, cells);
        }
        if (r >= 0) {
                if (title)
                        fprintf(out, "%s\n", title);
                vt_table_print(&t, out);
        }
        vt_table_done(&t);
        return r;
}

int vt_host_table_plan(FILE *out, json_object *plan)
{
        json_object *v;
        bool any = false;
        static const struct {
                const char *key, *title;
        } parts[] = {{"changes", NULL},
                     {"skipped", "Skipped:"},
                     {"pending_reboot", "Waiting for a reboot:"}};
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                if (!json_object_object_get_ex(plan, parts[i].key, &v) ||
                    !json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
                        continue;
                if (any)
                        fputc('\n', out);
                int r = change_table(out, v, parts[i].title);
                if (r < 0)
                        return r;
                any = true;
        }
        if (!any)
                fputs("Nothing to change.\n", out);
        lines(out, plan, "warnings", "warning: ");
        lines(out, plan, "notes", "note: ");
        return 0;
}

static const char *entry_text(json_object *status, const char *key, char *buf, size_t size)
{
        json_object *e, *v;
        if (!json_object_object_get_ex(status, key, &e) || !e)
                return "never";
        const char *time =
                json_object_object_get_ex(e, "time", &v) ? json_object_get_string(v) : "?";
        int n = json_object_object_get_ex(e, "changes", &v) ? json_object_get_int(v) : 0;
        snprintf(buf, size, "%s (%d change%s)", time, n, n == 1 ? "" : "s");
        return buf;
}

int vt_host_table_status(FILE *out, json_object *status)
{
        static const char *const h1[] = {"DRIFT", "PENDING REBOOT", "REBOOT NEEDED", "LAST APPLY",
                                         "LAST REAPPLY"};
        static const char *const h2[] = {"SECTION", "KEY", "VALUE"};
        struct vt_table t;
        char b[5][128];
        json_object *v, *policy;
        double pending = 0;

        if (json_object_object_get_ex(status, "pending_reboot", &v) &&
            json_object_is_type(v, json_type_array))
                pending = (double)json_object_array_length(v);
        snprintf(b[1], sizeof(b[1]), "%.0f", pending);
        const char *row[] = {str_of(status, "drift", b[0], sizeof(b[0])), b[1],
                             str_of(status, "reboot_needed", b[2], sizeof(b[2])),
                             entry_text(status, "last_apply", b[3], sizeof(b[3])),
                             entry_text(status, "last_reapply", b[4], sizeof(b[4]))};
        int r = vt_table_init(&t, h1, ARRAY_SIZE(h1));
        if (r >= 0)
                r = vt_table_row(&t, row);
        if (r >= 0)
                vt_table_print(&t, out);
        vt_table_done(&t);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(status, "pending_reboot", &v) && pending > 0) {
                fputc('\n', out);
                r = change_table(out, v, "Waiting for a reboot:");
                if (r < 0)
                        return r;
        }
        if (!json_object_object_get_ex(status, "policy", &policy) ||
            !json_object_is_type(policy, json_type_object))
                return 0;
        fputc('\n', out);
        r = vt_table_init(&t, h2, ARRAY_SIZE(h2));
        json_object_object_foreach (policy, section, keys) {
                if (!json_object_is_type(keys, json_type_object))
                        continue;
                json_object_object_foreach (keys, key, val) {
                        (void)val;
                        char vb[128];
                        const char *cells[] = {section, key, str_of(keys, key, vb, sizeof(vb))};
                        if (r >= 0)
                                r = vt_table_row(&t, cells);
                }
        }
        if (r >= 0)
                vt_table_print(&t, out);
        vt_table_done(&t);
        lines(out, status, "policy_files", "policy file: ");
        return r;
}
