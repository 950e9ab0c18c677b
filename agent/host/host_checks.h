/* A verifier's list of named checks, each passed or failed with a detail, as JSON. */
#pragma once

#include "util.h"

struct vt_checks {
        json_object *list; /* [{"name", "ok", "detail"}...], owned by whoever holds the report */
        char reason[32];   /* the first failed check's name; "" while all pass */
        unsigned failed;   /* how many failed */
};

void vt_check(struct vt_checks *v, const char *name, bool ok, const char *fmt, ...) _printf_(4, 5);
/* Appends every check of another report's "checks" array (the quote verifier's, in attest). */
void vt_checks_take(struct vt_checks *v, json_object *report);
static inline bool vt_checks_ok(const struct vt_checks *v)
{
        return !v->reason[0];
}
