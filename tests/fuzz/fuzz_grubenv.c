/*
 * Fuzz the grubenv block (BLS backend's kernelopts): a block that passes the check takes a
 * kernelopts from the input's first line and comes back exactly 1024 bytes, still valid,
 * with that value.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "grubenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* the first line is the new value; the rest the block (or the whole input when short) */
        const char *s = (const char *)data;
        const char *nl = memchr(s, '\n', size);
        size_t vl = nl && size - (nl + 1 - s) == VT_GRUBENV_SIZE ? (size_t)(nl - s) : 0;
        const char *blk = vl || (nl && size - (nl + 1 - s) == VT_GRUBENV_SIZE) ? nl + 1 : s;
        size_t len = size - (blk - s);
        size_t errline = 0;
        if (vt_grubenv_check(blk, len, &errline) < 0) {
                assert(errline >= 1);
                return 0;
        }
        char *value = strndup(s, vl), *out = NULL, *got = NULL;
        assert(value);
        int r = vt_grubenv_set(blk, len, "kernelopts", value, &out);
        if (r == 0) {
                assert(vt_grubenv_check(out, VT_GRUBENV_SIZE, NULL) == 0);
                assert(vt_grubenv_get(out, VT_GRUBENV_SIZE, "kernelopts", &got) == 0);
                assert(strcmp(got, value) == 0);
        } else
                assert(r == -ENOSPC || r == -EINVAL);
        free(got);
        free(out);
        free(value);
        return 0;
}
