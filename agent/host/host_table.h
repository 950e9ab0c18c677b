/* Tables for people (scan, plan, status on a terminal): cells escaped, columns sized to fit. */
#pragma once

#include <assert.h>
#include <stdio.h>
#include "util.h"

#define VT_TABLE_COLS_MAX 8

struct vt_table {
        size_t ncols, nrows;
        size_t width[VT_TABLE_COLS_MAX];
        char ***rows; /* rows[0] is the header */
};

int vt_table_init(struct vt_table *t, const char *const *header, size_t ncols);
/* cells: ncols strings, NULL or "" shown as "-". */
int vt_table_row(struct vt_table *t, const char *const *cells);
void vt_table_print(const struct vt_table *t, FILE *out);
void vt_table_done(struct vt_table *t);

/* virtune-plan's and virtune-status's replies as tables. */
int vt_host_table_plan(FILE *out, json_object *plan);
int vt_host_table_status(FILE *out, json_object *status);
