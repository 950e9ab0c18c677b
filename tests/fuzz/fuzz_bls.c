/*
 * Fuzz the BLS entry reader (the options line) with the token model behind it. Input:
 * "KEY[=VALUE]\n" then an entry. The options value prints back byte-identical; set-then-get
 * returns the value in the rewritten entry; setting it again changes nothing.
 */
#include <errno.h>
#include "fuzz_edit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t hl, len;
        const char *text = fuzz_edit_text(data, size, &hl, &len);
        struct vt_bootcfg_set set = {0};
        size_t vs, ve, ln, pos;
        if (vt_bls_find_options("/e.conf", text, len, &vs, &ve, &ln, &set) < 0) {
                assert(set.err[0]);
                return 0;
        }
        assert(vs <= ve && ve <= len && ln >= 1);
        char *same = NULL;
        int r = vt_cmdline_apply(text + vs, ve - vs, NULL, 0, &same, &pos);
        if (r < 0) {
                assert(r == -EBADMSG);
                return 0;
        }
        assert(r == 0 && strlen(same) == ve - vs && memcmp(same, text + vs, ve - vs) == 0);
        free(same);

        struct vt_cmdline_edit e;
        char *key, *line = NULL;
        if (!fuzz_edit_set(data, hl, &e, &key))
                return 0;
        if (vt_cmdline_apply(text + vs, ve - vs, &e, 1, &line, &pos) < 0) {
                free(key);
                return 0;
        }
        /* the entry as bls.c rewrites it */
        size_t ll = strlen(line), olen = vs + ll + (len - ve);
        char *out = malloc(olen + 1);
        assert(out);
        memcpy(out, text, vs);
        memcpy(out + vs, line, ll);
        memcpy(out + vs + ll, text + ve, len - ve);
        out[olen] = 0;
        size_t vs2, ve2, ln2;
        assert(vt_bls_find_options("/e.conf", out, olen, &vs2, &ve2, &ln2, &set) == 0);
        assert(vs2 == vs && ve2 == vs + ll && ln2 == ln);
        fuzz_assert_holds(out + vs2, ve2 - vs2, &e);
        char *again = NULL;
        assert(vt_cmdline_apply(out + vs2, ve2 - vs2, &e, 1, &again, &pos) == 0);
        free(again);
        free(out);
        free(line);
        free(key);
        return 0;
}
