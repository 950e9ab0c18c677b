/* The human-readable rendering of any JSON document (facts, plan, status): indented key: value. */
#pragma once

#include <stdio.h>
#include "util.h"

void vt_render_text(FILE *f, json_object *doc);
