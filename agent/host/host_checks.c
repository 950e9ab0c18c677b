/* The host verifiers' named checks: one JSON object per check, the first failure is the reason. */
#include <stdarg.h>
#include "host_checks.h"

static void failed(struct vt_checks *v, const char *name)
{
        v->failed++;
        if (!v->reason[0])
                snprintf(v->reason, sizeof(v->reason), "%s", name);
}

void vt_check(struct vt_checks *v, const char *name, bool ok, const char *fmt, ...)
{
        char detail[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        json_object *c = json_object_new_object();
        vt_json_add_str(c, "name", name);
        json_object_object_add(c, "ok", json_object_new_boolean(ok));
        vt_json_add_str(c, "detail", detail);
        json_object_array_add(v->list, c);
        if (!ok)
                failed(v, name);
}

void vt_checks_take(struct vt_checks *v, json_object *report)
{
        json_object *list;
        if (!json_object_object_get_ex(report, "checks", &list) ||
            !json_object_is_type(list, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i);
                json_object_array_add(v->list, json_object_get(c));
                if (!json_object_get_boolean(json_object_object_get(c, "ok")))
                        failed(v, json_object_get_string(json_object_object_get(c, "name")));
        }
}
