/*
 * Fuzz the BLS entry reader (the options line) with the token model behind it. Input:
 * "KEY[=VALUE]\n" then an entry. The options value prints back byte-identical; set-then-get
 * returns the value in the rewritten entry; setting it again changes nothing.
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

        char *key = strndup(s, hl), *value = NULL;
        char *eq = key ? strchr(key, '=') : NULL;
        if (eq) {
                *eq = 0;
                value = eq + 1;
        }
        struct vt_cmdline_edit e = {VT_CMDLINE_SET, key, value};
        char *line = NULL;
        if (!key || !vt_cmdline_key_valid(key) || !vt_cmdline_value_valid(value) ||
            vt_cmdline_apply(text + vs, ve - vs, &e, 1, &line, &pos) < 0) {
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
        struct vt_cmdline *cl = NULL;
        const char *got = NULL;
        assert(vt_cmdline_parse(out + vs2, ve2 - vs2, &cl, NULL) == 0);
        assert(vt_cmdline_get(cl, key, &got) == 1);
        assert(value ? got && strcmp(got, value) == 0 : got == NULL);
        char *again = NULL;
        assert(vt_cmdline_apply(out + vs2, ve2 - vs2, &e, 1, &again, &pos) == 0);
        free(again);
        vt_cmdline_free(cl);
        free(out);
        free(line);
        free(key);
        return 0;
}
