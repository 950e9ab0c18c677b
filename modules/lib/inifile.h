/*
 * The one reader of INI-style text (virtune.conf, systemd units, GLib key files): line by line,
 * in place, with the line number of every item so that errors say file:line.
 */
#pragma once

#include "util.h"

struct vt_ini {
        char *next;      /* the text not read yet */
        unsigned line;   /* 1-based number of the line vt_ini_step() returned last */
        bool in_section; /* vt_ini_next(): the last header seen was the one asked for */
};

enum vt_ini_item {
        VT_INI_END,         /* no more lines */
        VT_INI_SECTION,     /* "[name]": *key is the name, blanks inside the brackets dropped */
        VT_INI_KEY,         /* "key = value": *key and *value, blanks around each dropped */
        VT_INI_BAD_SECTION, /* a line starting with '[' that is not "[name]" */
        VT_INI_BAD_LINE,    /* neither a header, nor key = value, nor a comment or blank */
};

/* Starts reading text, which vt_ini_step() cuts into lines and keys as it goes. */
static inline struct vt_ini vt_ini_start(char *text)
{
        return (struct vt_ini){.next = text};
}

/*
 * The next item; blank lines and lines starting with '#' or ';' are passed over. it->line is
 * the item's line number. *key and *value point into the text (*value untouched unless KEY).
 */
enum vt_ini_item vt_ini_step(struct vt_ini *it, char **key, char **value);

/*
 * The next key=value line under header (as written: "[Service]"), lines that are not
 * key = value and other sections passed over, as systemd and GLib do for what we do not read.
 * Returns false at the end of the text.
 */
bool vt_ini_next(struct vt_ini *it, const char *header, char **key, char **value);
