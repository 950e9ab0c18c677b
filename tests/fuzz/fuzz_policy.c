/* Fuzz target: the policy reader on hostile text; errors name file:line, and what it accepts
 * comes back unchanged through the hand-over to virtuned-worker (serialize, deserialize). */
#include <ctype.h>
#include <stdint.h>
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > (1u << 16))
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        struct vt_policy *p = vt_policy_new(), *q = NULL;
        char err[VT_POLICY_ERR_MAX] = "";
        if (!p)
                abort();
        int r = vt_policy_parse(p, "fuzz.conf", text, err, sizeof(err));
        if (r < 0) {
                /* A bad file says where: "fuzz.conf:LINE: ..." */
                if (r != -EINVAL || !startswith(err, "fuzz.conf:") ||
                    !isdigit((unsigned char)err[10]))
                        abort();
        } else {
                char *a = vt_policy_serialize(p);
                if (!a || vt_policy_deserialize(a, &q, err, sizeof(err)) < 0)
                        abort();
                char *b = vt_policy_serialize(q);
                if (!b || !streq(a, b))
                        abort();
                for (size_t i = 0; i < vt_policy_schema_len; i++) {
                        const struct vt_policy_key *k = &vt_policy_schema[i];
                        if (!strchr(k->key, '*'))
                                (void)vt_policy_get_tristate(p, k->section, k->key);
                }
                json_object_put(vt_policy_to_json(p));
                free(a);
                free(b);
        }
        vt_policy_free(p);
        vt_policy_free(q);
        free(text);
        return 0;
}
