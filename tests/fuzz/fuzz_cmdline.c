/*
 * Fuzz the kernel command line token model. Input: "KEY[=VALUE]\n" then a command line.
 * Parse-print is identity; set-then-get returns the value; remove-then-get finds nothing.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        const char *nl = memchr(s, '\n', size);
        size_t hl = nl ? (size_t)(nl - s) : 0;
        const char *line = nl ? nl + 1 : s;
        size_t len = size - (line - s);
        struct vt_cmdline *cl = NULL;
        if (vt_cmdline_parse(line, len, &cl, NULL) < 0)
                return 0;
        char *out = vt_cmdline_print(cl);
        assert(out && strlen(out) == len && memcmp(out, line, len) == 0);
        free(out);

        char *key = strndup(s, hl), *value = NULL;
        char *eq = key ? strchr(key, '=') : NULL;
        if (eq) {
                *eq = 0;
                value = eq + 1;
        }
        if (key && vt_cmdline_set(cl, key, value) >= 0) {
                const char *got = NULL;
                assert(vt_cmdline_get(cl, key, &got) == 1);
                assert(value ? got && strcmp(got, value) == 0 : got == NULL);
                assert(vt_cmdline_set(cl, key, value) == 0);
                /* what is printed parses back to the same value */
                char *again = vt_cmdline_print(cl);
                struct vt_cmdline *cl2 = NULL;
                assert(again && vt_cmdline_parse(again, strlen(again), &cl2, NULL) == 0);
                assert(vt_cmdline_get(cl2, key, &got) == 1);
                assert(value ? got && strcmp(got, value) == 0 : got == NULL);
                vt_cmdline_free(cl2);
                free(again);
                assert(vt_cmdline_remove(cl, key, NULL) == 1);
                assert(vt_cmdline_get(cl, key, NULL) == -ENOENT);
        }
        free(key);
        vt_cmdline_free(cl);
        return 0;
}
