/*
 * The kernel command line as tokens: parse, print back byte-identical, set/remove/get by key.
 * Quoting follows the kernel's next_arg(): '"' toggles quoting anywhere in a token; a value
 * that starts with '"' loses that quote and a matching one at its end. Everything from the
 * first "--" token (quoted or not) on belongs to init and is kept as it is.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct vt_cmdline;

/* -EINVAL for an unbalanced quote or a NUL byte; *errpos (may be NULL) gets the offset. */
int vt_cmdline_parse(const char *s, size_t len, struct vt_cmdline **ret, size_t *errpos);
/*
 * The line as the kernel reads it (/proc/cmdline): like vt_cmdline_parse(), but a token with
 * an unbalanced quote runs to the end of the line instead of being refused.
 */
int vt_cmdline_parse_kernel(const char *s, struct vt_cmdline **ret);
void vt_cmdline_free(struct vt_cmdline *cl);
static inline void vt_cmdline_freep(struct vt_cmdline **c)
{
        vt_cmdline_free(*c);
}
#define _cleanup_cmdline_ __attribute__((cleanup(vt_cmdline_freep)))

/* The line as text: the input byte for byte when nothing was changed. Caller frees. */
char *vt_cmdline_print(const struct vt_cmdline *cl);

/* Parameter names compare '-' and '_' as equal, as the kernel's parameq() does. */
bool vt_cmdline_key_eq(const char *a, const char *b);
/* A key/value the kernel can take: key non-empty, no space, '=' or '"'; value no '"'. */
bool vt_cmdline_key_valid(const char *key);
bool vt_cmdline_value_valid(const char *value);

/*
 * Replace every key / key=... with one token: `key` (value NULL, flag style) or key=value
 * (quoted when it holds spaces), at the place of the first one, or appended before "--".
 * Returns 1 when the text changed, 0 when it was already so, -EINVAL for a bad key/value.
 */
int vt_cmdline_set(struct vt_cmdline *cl, const char *key, const char *value);
/* Remove every key (value NULL) or every key=value. Returns how many tokens went. */
int vt_cmdline_remove(struct vt_cmdline *cl, const char *key, const char *value);
/*
 * The value of the last key (the kernel's last one wins): 1 with *value NULL for a flag,
 * 1 with *value set (unquoted, owned by cl), -ENOENT when absent.
 */
int vt_cmdline_get(const struct vt_cmdline *cl, const char *key, const char **value);
/* Whether a token key=value (value NULL: the flag `key`) is there. */
bool vt_cmdline_has(const struct vt_cmdline *cl, const char *key, const char *value);
/* Number of tokens before "--". */
size_t vt_cmdline_count(const struct vt_cmdline *cl);
/* The text after the "--" (init's arguments, not split), or NULL when there is no "--". */
const char *vt_cmdline_init(const struct vt_cmdline *cl);
/* Token i (< count): its key and value (NULL for a flag), owned by cl. */
void vt_cmdline_token(const struct vt_cmdline *cl, size_t i, const char **key, const char **value);
