/* The running kernel's command line split the way the kernel splits it (for facts; grubcfg edits).
 */
#pragma once

#include "util.h"

/*
 * Splits s like the kernel's next_arg(): whitespace separates, double quotes group, a value's
 * surrounding quotes are dropped. Tokens before "--" go to *tokens as {key, value|null}; the
 * ones after it to *init as strings ("key=value" or "key"), as init receives them.
 */
int vt_cmdline_tokens_parse(const char *s, json_object **tokens, json_object **init);
/*
 * Looks key up in a tokens array; the kernel treats '-' and '_' in names alike. The last
 * occurrence wins (as for module parameters). Returns true when present; *value may be NULL.
 */
bool vt_cmdline_tokens_get(json_object *tokens, const char *key, const char **value);
