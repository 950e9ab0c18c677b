/*
 * A strict reader of shell variable files (/etc/default/grub and its grub.d drop-ins): the
 * subset that is assignments, comments and blank lines. Anything else (commands, `if`, line
 * continuations, unbalanced quotes) is refused with its line number: we never guess what a
 * shell would do.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct vt_shvars;

/* One assignment NAME=WORD as found in the text. */
struct vt_shassign {
        char *name;
        size_t line;                 /* 1-based */
        size_t word_start, word_end; /* byte offsets of WORD in the text */
        char *value;                 /* the word's value, variables expanded; NULL when opaque */
        bool plain;                  /* WORD is one literal with no variable reference */
};

/*
 * Parses text (len bytes). Variables referenced are looked up in `env` (earlier files, may be
 * NULL) and then in this file. Returns 0, or -EBADMSG with *errline and *why set.
 */
int vt_shvars_parse(const char *text, size_t len, const struct vt_shvars *env,
                    struct vt_shvars **ret, size_t *errline, const char **why);
void vt_shvars_free(struct vt_shvars *v);
static inline void vt_shvars_freep(struct vt_shvars **v)
{
        vt_shvars_free(*v);
}
#define _cleanup_shvars_ __attribute__((cleanup(vt_shvars_freep)))

/* The last assignment of name in this file, or NULL. */
const struct vt_shassign *vt_shvars_last(const struct vt_shvars *v, const char *name);
/* The value name has after this file (and env): NULL when unset or opaque; *known false then
 * tells opaque (set by something we do not model) from unset. */
const char *vt_shvars_value(const struct vt_shvars *v, const char *name, bool *known);
/* Writing a value back as a shell word is modules/lib's vt_shell_quote (shell.h). */
