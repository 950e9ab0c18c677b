/* What the grubcfg edit fuzzers share: the input "KEY[=VALUE]\n" + a file, and the value check. */
#pragma once

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"

/* The file's text: what follows the first newline (all of it when there is none). */
static inline const char *fuzz_edit_text(const uint8_t *data, size_t size, size_t *hl, size_t *len)
{
        const char *s = (const char *)data;
        const char *nl = memchr(s, '\n', size);
        *hl = nl ? (size_t)(nl - s) : 0;
        const char *text = nl ? nl + 1 : s;
        *len = size - (size_t)(text - s);
        return text;
}

/*
 * The set the header asks for. False when it is not one a user could give (then nothing is
 * left to free); else *key is allocated and e points into it.
 */
static inline bool fuzz_edit_set(const uint8_t *data, size_t hl, struct vt_cmdline_edit *e,
                                 char **key)
{
        char *k = strndup((const char *)data, hl), *value = NULL;
        char *eq = k ? strchr(k, '=') : NULL;
        if (eq) {
                *eq = 0;
                value = eq + 1;
        }
        if (!k || !vt_cmdline_key_valid(k) || !vt_cmdline_value_valid(value)) {
                free(k);
                return false;
        }
        *e = (struct vt_cmdline_edit){VT_CMDLINE_SET, k, value};
        *key = k;
        return true;
}

/* A rewritten command line parses and holds the value that was set. */
static inline void fuzz_assert_holds(const char *line, size_t n, const struct vt_cmdline_edit *e)
{
        struct vt_cmdline *cl = NULL;
        const char *got = NULL;
        assert(vt_cmdline_parse(line, n, &cl, NULL) == 0);
        assert(vt_cmdline_get(cl, e->key, &got) == 1);
        assert(e->value ? got && strcmp(got, e->value) == 0 : got == NULL);
        vt_cmdline_free(cl);
}
