/*
 * Shell-style words, both ways: the one lexer for the three quoting dialects virtune reads
 * (shell assignment files, systemd's EnvironmentFile= and its ExecStart=/Environment=), and
 * the one quoter that writes a value so a shell, and systemd, read it back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum vt_shlex_dialect {
        /*
         * POSIX sh, strictly (/etc/default/grub): blanks end a word, '...' literal, "..." with
         * \$ \` \" \\ escapes, \c outside quotes. Line continuations, unbalanced quotes, CR and
         * operators (| & ; < > ( )) are refused with a reason; '$' and '`' outside single quotes
         * are handed to expand().
         */
        VT_SHLEX_SHELL,
        /*
         * systemd EnvironmentFile= values: the word runs to the end of the line (unquoted trailing
         * blanks dropped), quotes may span lines, backslash-newline continues the line, \c is c
         * outside single quotes; '$' is literal. Nothing is refused.
         */
        VT_SHLEX_ENVFILE,
        /*
         * systemd ExecStart=/Environment= words: blanks and newlines end a word, quotes group,
         * \n \t \r are C escapes and \c is c outside single quotes. Nothing is refused.
         */
        VT_SHLEX_EXEC,
};

struct vt_shlex {
        const char *t;
        size_t len, i; /* the text and where the next word starts (no blanks are skipped) */
        enum vt_shlex_dialect dialect;
        /* VT_SHLEX_SHELL: called with lx->i after the '$' or '`'; appends to the word with
         * vt_shlex_add() (or not: the caller knows the word is opaque); <0 (lx->why set) stops */
        int (*expand)(struct vt_shlex *lx, char c);
        const char *why; /* why vt_shlex_word() refused the word (-EBADMSG) */
        char *word;      /* the word read, unquoted, NUL-terminated; kept between words */
        size_t n, cap;
        bool quoted; /* the word had quotes or escapes in it */
};

/* Reads one word from lx->i (possibly empty); leaves lx->i at the byte that ended it. */
int vt_shlex_word(struct vt_shlex *lx);
/* Appends n bytes to the word being read (for expand()). */
int vt_shlex_add(struct vt_shlex *lx, const char *s, size_t n);
/* Refuses the word being read: sets lx->why and returns -EBADMSG. */
int vt_shlex_fail(struct vt_shlex *lx, const char *why);
/* Frees the word buffer. */
void vt_shlex_done(struct vt_shlex *lx);

/*
 * The shell word for value in the given quote style ('"', '\'' or 0 for bare when it needs no
 * quotes, else double quotes): what VT_SHLEX_SHELL and VT_SHLEX_ENVFILE read back as value.
 * Caller frees; NULL on ENOMEM.
 */
char *vt_shell_quote(const char *value, char style);
