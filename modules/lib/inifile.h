/* Reading one section of INI-style text (systemd units, GLib key files) line by line, in place. */
#pragma once

#include "util.h"

struct vt_ini {
        char *next;      /* the text not read yet */
        bool in_section; /* the last header seen was the one asked for */
};

/* Starts reading text, which vt_ini_next() cuts into lines and keys as it goes. */
static inline struct vt_ini vt_ini_start(char *text)
{
        return (struct vt_ini){.next = text};
}

/*
 * The next key=value line under header (as written: "[Service]"), with the blanks around the
 * key and at the ends of the value dropped. Lines starting with '#' or ';', lines without '=',
 * and other sections are passed over. Returns false at the end of the text.
 */
bool vt_ini_next(struct vt_ini *it, const char *header, char **key, char **value);
