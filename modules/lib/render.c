/* The human-readable rendering of any facts/plan/status document: indented key: value. */
#include <stdint.h>
#include "render.h"

static bool is_scalar(json_object *o)
{
        return !json_object_is_type(o, json_type_object) &&
               !json_object_is_type(o, json_type_array);
}

static void scalar(FILE *f, json_object *o)
{
        if (!o)
                fputs("-", f);
        else if (json_object_is_type(o, json_type_string))
                vt_fputs_term(f, json_object_get_string(o), SIZE_MAX); /* guests, images */
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
                scalar(f, v);
                fputc('\n', f);
        } else if (json_object_is_type(v, json_type_array) && scalar_array(v)) {
                size_t n = json_object_array_length(v);
                for (size_t i = 0; i < n; i++) {
                        fputs(i ? ", " : " ", f);
                        scalar(f, json_object_array_get_idx(v, i));
                }
                fputs(n ? "\n" : " (none)\n", f);
        } else if (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0) {
                fputs(" (none)\n", f);
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
                vt_fputs_term(f, k, SIZE_MAX);
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
                scalar(f, doc);
                fputc('\n', f);
                return;
        }
        render(f, doc, 0, false);
}
