/*
 * Fuzz the grub.cfg linux/linuxefi line editor. Input: "KEY[=VALUE]\n" then a grub.cfg. With no
 * edit the text comes back byte-identical; after a set the first kernel line's arguments hold
 * the value, and setting it again changes no byte.
 */
#include <errno.h>
#include "fuzz_edit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t hl, len;
        const char *text = fuzz_edit_text(data, size, &hl, &len);
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

        struct vt_cmdline_edit e;
        char *key;
        if (!fuzz_edit_set(data, hl, &e, &key))
                return 0;
        if (vt_grub_cfg_edit("/g.cfg", text, len, &e, 1, &out, &olen, NULL, &set) < 0) {
                free(key);
                return 0;
        }
        char *same = NULL, *again = NULL;
        size_t slen, alen;
        first = NULL;
        assert(vt_grub_cfg_edit("/g.cfg", out, olen, NULL, 0, &same, &slen, &first, &set) == 0);
        assert(slen == olen && memcmp(same, out, olen) == 0);
        if (first)
                fuzz_assert_holds(first, strlen(first), &e);
        assert(vt_grub_cfg_edit("/g.cfg", out, olen, &e, 1, &again, &alen, NULL, &set) == 0);
        assert(alen == olen && memcmp(again, out, olen) == 0);
        free(again);
        free(same);
        free(first);
        free(out);
        free(key);
        return 0;
}
