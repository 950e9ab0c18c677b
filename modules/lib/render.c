/* The human-readable rendering of any facts/plan/status document: indented key: value, YAML. */
#include <ctype.h>
#include <strings.h>
#include "render.h"

/*
 * The text is YAML that reads back as the JSON document: a string is written plain only when
 * YAML would read it as that same string (not a number, boolean, null or date; no indicator
 * characters), else double-quoted with JSON's escapes, which YAML shares. Control characters
 * are therefore always escaped.
 */
static bool plain_ok(const char *s, bool flow)
{
        static const char *const words[] = {"y",     "n",  "yes", "no",   "true",
                                            "false", "on", "off", "null", "~"};
        size_t n = strlen(s);
        if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':' ||
            !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '/' || s[0] == '('))
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return false;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (isalnum(c) || strchr(" _-./+()%=@;^$~<>", c))
                        continue;
                if (!flow && c == ',')
                        continue;
                if (!flow && c == ':' && p[1] != ' ')
                        continue;
                return false;
        }
        return true;
}

static void string(FILE *f, const char *s, bool flow)
{
        if (plain_ok(s, flow)) {
                fputs(s, f);
                return;
        }
        json_object *o = json_object_new_string(s);
        const char *q = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE) : "";
        /* json-c leaves DEL and the C1 controls (U+0080-U+009F) as they are: \u escapes, which
         * JSON and YAML read back the same */
        for (const unsigned char *p = (const unsigned char *)q; *p; p++) {
                if (*p == 0x7f)
                        fputs("\\u007f", f);
                else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                        fprintf(f, "\\u%04x", *++p);
                else
                        fputc(*p, f);
        }
        if (!o)
                fputs("\"\"", f);
        json_object_put(o);
}

static bool is_scalar(json_object *o)
{
        return !json_object_is_type(o, json_type_object) &&
               !json_object_is_type(o, json_type_array);
}

static void scalar(FILE *f, json_object *o, bool flow)
{
        if (!o)
                fputs("~", f);
        else if (json_object_is_type(o, json_type_string))
                string(f, json_object_get_string(o), flow);
        else if (json_object_is_type(o, json_type_boolean))
                fputs(json_object_get_boolean(o) ? "yes" : "no", f);
        else
                fputs(json_object_to_json_string(o), f);
}

static bool scalar_array(json_object *a)
{
        size_t n = json_object_array_length(a);
        for (size_t i = 0; i < n; i++)
                if (!is_scalar(json_object_array_get_idx(a, i)))
                        return false;
        return true;
}

static void render(FILE *f, json_object *o, int depth, bool list_item);

static void render_value(FILE *f, json_object *v, int depth)
{
        if (is_scalar(v)) {
                fputc(' ', f);
                scalar(f, v, false);
                fputc('\n', f);
        } else if (json_object_is_type(v, json_type_array) && scalar_array(v)) {
                size_t n = json_object_array_length(v);
                fputs(" [", f);
                for (size_t i = 0; i < n; i++) {
                        fputs(i ? ", " : "", f);
                        scalar(f, json_object_array_get_idx(v, i), true);
                }
                fputs("]\n", f);
        } else if (json_object_is_type(v, json_type_object) && json_object_object_length(v) == 0) {
                fputs(" {}\n", f);
        } else {
                fputc('\n', f);
                render(f, v, depth + 1, false);
        }
}

static void render(FILE *f, json_object *o, int depth, bool list_item)
{
        if (json_object_is_type(o, json_type_array)) {
                size_t n = json_object_array_length(o);
                for (size_t i = 0; i < n; i++) {
                        json_object *v = json_object_array_get_idx(o, i);
                        fprintf(f, "%*s-", depth * 2, "");
                        if (json_object_is_type(v, json_type_object)) {
                                render(f, v, depth + 1, true);
                        } else {
                                render_value(f, v, depth);
                        }
                }
                return;
        }
        bool first = true;
        json_object_object_foreach (o, k, v) {
                if (list_item && first)
                        fputc(' ', f);
                else
                        fprintf(f, "%*s", depth * 2, "");
                string(f, k, false);
                fputc(':', f);
                first = false;
                render_value(f, v, depth);
        }
        if (list_item && first)
                fputs(" {}\n", f);
}

void vt_render_text(FILE *f, json_object *doc)
{
        if (is_scalar(doc)) {
                scalar(f, doc, false);
                fputc('\n', f);
                return;
        }
        render(f, doc, 0, false);
}
