/*
 * Fuzz the /etc/default/grub reader (backends default-grub and grub.d). Whatever it accepts,
 * a plain value quoted back in its own style reads back the same, and the rewrite of the last
 * GRUB_CMDLINE_LINUX word parses again to the value that was written.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shell.h"
#include "shvars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char var[] = "GRUB_CMDLINE_LINUX";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *text = (const char *)data;
        struct vt_shvars *sv = NULL;
        size_t line = 0;
        const char *why = NULL;
        if (vt_shvars_parse(text, size, NULL, &sv, &line, &why) < 0) {
                assert(why && line >= 1);
                return 0;
        }
        const struct vt_shassign *a = vt_shvars_last(sv, var);
        if (a && a->plain && a->value) {
                static const char styles[] = {'"', '\'', 0};
                for (size_t i = 0; i < sizeof(styles); i++) {
                        char *w = vt_shell_quote(a->value, styles[i]);
                        assert(w);
                        /* splice the word back in place of the old one and read it again */
                        size_t wl = strlen(w), nl = a->word_start + wl + (size - a->word_end);
                        char *t = malloc(nl + 1);
                        assert(t);
                        memcpy(t, text, a->word_start);
                        memcpy(t + a->word_start, w, wl);
                        memcpy(t + a->word_start + wl, text + a->word_end, size - a->word_end);
                        struct vt_shvars *sv2 = NULL;
                        int r = vt_shvars_parse(t, nl, NULL, &sv2, NULL, NULL);
                        assert(r == 0);
                        bool known;
                        const char *v = vt_shvars_value(sv2, var, &known);
                        assert(known && v && strcmp(v, a->value) == 0);
                        vt_shvars_free(sv2);
                        free(t);
                        free(w);
                }
        }
        vt_shvars_free(sv);
        return 0;
}
