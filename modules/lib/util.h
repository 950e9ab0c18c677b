/* Small helpers every virtune file may use: cleanup attributes, string tests, array sizes. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

static inline void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_json_     _cleanup_(json_putp)

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp = (p);                                                           \
                (p) = NULL;                                                                        \
                _tp;                                                                               \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tf = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _tf;                                                                               \
        })

/*
 * Room for `need` elements of `size` bytes in the array *p of capacity *cap, which doubles
 * (from 8) so that appending one at a time stays cheap. 0, or -ENOMEM with *p and *cap kept.
 */
int vt_grow(void **p, size_t *cap, size_t need, size_t size);
#define VT_GROW(array, cap, need) vt_grow((void **)&(array), &(cap), (need), sizeof(*(array)))

/* Strip trailing whitespace (newlines from sysfs) in place; returns s. */
char *vt_strip(char *s);

/* Add a string, or null when s is NULL. */
void vt_json_add_str(json_object *o, const char *key, const char *s);
/* s escaped as vt_fputs_term() writes it (below); malloc'd, NULL on ENOMEM. */
char *vt_escape_ctl(const char *s);

/* Appends {"path": path, "error": strerror(-r)} to o["errors"] (made when missing). */
void vt_json_add_error(json_object *o, const char *path, int r);

/*
 * Reads through a root take regular files only (an image is untrusted: a FIFO hangs, a device
 * reads the terminal or a disk). What was found instead, as negative project codes.
 */
enum {
        VT_ENOTREG_FIFO = -4097,
        VT_ENOTREG_CHR = -4098,
        VT_ENOTREG_BLK = -4099,
        VT_ENOTREG_SOCK = -4100,
        VT_ENOTREG_OTHER = -4101,
};
/* The code for a file of this st_mode that is not regular (-EISDIR for a directory). */
int vt_notreg_error(mode_t mode);
/* strerror(-r), knowing the project's codes above. */
const char *vt_strerror(int r);

/*
 * Writes s for a terminal: control characters (C0, DEL, and C1 as UTF-8) written as \xNN or
 * \u00NN, so a string from a guest or an image cannot move the cursor, retitle the window or
 * forge a line. n bytes (SIZE_MAX: up to the NUL).
 */
void vt_fputs_term(FILE *f, const char *s, size_t n);
/*
 * The length of s cut to at most max bytes without splitting a UTF-8 sequence, for "%.*s": a
 * quoted name cut in the middle of a character would make the message invalid UTF-8.
 */
int vt_utf8_cut(const char *s, size_t max);
