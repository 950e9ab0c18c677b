/* Helpers the detect halves share: reads that turn "absent" into a fact and other failures into
 * errors[]. */
#pragma once

#include <stdint.h>
#include "ctx.h"

/* A new module object with an empty "errors" array, added as facts[name]; returns it (borrowed). */
json_object *vt_facts_module_new(json_object *facts, const char *name);
/*
 * vt_read_attr / vt_read_int64 that note failures in obj.errors, except ENOENT (absent is a fact,
 * not an error) and ENOTDIR. Return the read's result: *ret is set only on success.
 */
int vt_facts_read_attr(struct vt_ctx *ctx, json_object *obj, const char *path, char **ret);
int vt_facts_read_int64(struct vt_ctx *ctx, json_object *obj, const char *path, int64_t *ret);
/* obj[key] = the attribute as a string, or null when absent or unreadable. */
void vt_facts_add_attr(struct vt_ctx *ctx, json_object *obj, const char *key, const char *path);
/* A borrowed member of facts[module], or NULL (for modules reading an earlier module's facts). */
json_object *vt_facts_get(json_object *facts, const char *module, const char *key);
/*
 * Whether the running kernel's command line (virt.cmdline.tokens) has key, '-' and '_' alike;
 * the last one wins, as for module parameters. *value (may be NULL) gets it, NULL for a flag.
 */
bool vt_facts_cmdline_get(json_object *facts, const char *key, const char **value);
