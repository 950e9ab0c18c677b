/*
 * Fuzz the grub.cfg linux/linuxefi line editor. Input: "KEY[=VALUE]\n" then a grub.cfg. With no
 * edit the text comes back byte-identical; after a set the first kernel line's arguments hold
 * the value, and setting it again changes no byte.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../grubcfg/backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        const char *nl = memchr(s, '\n', size);
        size_t hl = nl ? (size_t)(nl - s) : 0;
        const char *text = nl ? nl + 1 : s;
        size_t len = size - (text - s);
        struct vt_bootcfg_set set = {0};
        char *out = NULL, *first = NULL;
        size_t olen;
        int r = vt_grub_cfg_edit("/g.cfg", text, len, NULL, 0, &out, &olen, &first, &set);
        if (r < 0) {
                assert(r == -EBADMSG || r == -EINVAL);
                return 0;
        }
        assert(olen == len && memcmp(out, text, len) == 0);
        free(out);
        free(first);

        char *key = strndup(s, hl), *value = NULL;
        char *eq = key ? strchr(key, '=') : NULL;
        if (eq) {
                *eq = 0;
                value = eq + 1;
        }
        struct vt_cmdline_edit e = {VT_CMDLINE_SET, key, value};
        if (!key || !vt_cmdline_key_valid(key) || !vt_cmdline_value_valid(value) ||
            vt_grub_cfg_edit("/g.cfg", text, len, &e, 1, &out, &olen, NULL, &set) < 0) {
                free(key);
                return 0;
        }
        char *same = NULL, *again = NULL;
        size_t slen, alen;
        first = NULL;
        assert(vt_grub_cfg_edit("/g.cfg", out, olen, NULL, 0, &same, &slen, &first, &set) == 0);
        assert(slen == olen && memcmp(same, out, olen) == 0);
        if (first) {
                struct vt_cmdline *cl = NULL;
                const char *got = NULL;
                assert(vt_cmdline_parse(first, strlen(first), &cl, NULL) == 0);
                assert(vt_cmdline_get(cl, key, &got) == 1);
                assert(value ? got && strcmp(got, value) == 0 : got == NULL);
                vt_cmdline_free(cl);
        }
        assert(vt_grub_cfg_edit("/g.cfg", out, olen, &e, 1, &again, &alen, NULL, &set) == 0);
        assert(alen == olen && memcmp(again, out, olen) == 0);
        free(again);
        free(same);
        free(first);
        free(out);
        free(key);
        return 0;
}
