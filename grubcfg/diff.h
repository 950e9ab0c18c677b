/* A unified line diff of two texts (LCS on the lines that differ), as `diff -u` prints it. */
#pragma once

#include <stddef.h>

/*
 * Appends to *out (a malloc'd string, may start NULL) the diff of a -> b with `---`/`+++`
 * headers naming the file; nothing when they are equal. a or b NULL means the file is absent
 * (shown as /dev/null). Returns 0 or -ENOMEM.
 */
int vt_diff_unified(const char *path, const char *a, size_t alen, const char *b, size_t blen,
                    char **out);
