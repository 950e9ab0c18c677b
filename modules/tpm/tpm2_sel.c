/* PCR banks by name and PCR selections as text, shared by the guest (quote) and host (verify). */
#include <ctype.h>
#include "tpm2_sel.h"

static const struct vt_pcr_bank banks[] = {
        {TPM2_ALG_SHA1, "sha1", 20, "SHA1"},
        {TPM2_ALG_SHA256, "sha256", 32, "SHA256"},
        {TPM2_ALG_SHA384, "sha384", 48, "SHA384"},
        {TPM2_ALG_SHA512, "sha512", 64, "SHA512"},
        {TPM2_ALG_SM3_256, "sm3_256", 32, "SM3"},
        {TPM2_ALG_SHA3_256, "sha3_256", 32, "SHA3-256"},
        {TPM2_ALG_SHA3_384, "sha3_384", 48, "SHA3-384"},
        {TPM2_ALG_SHA3_512, "sha3_512", 64, "SHA3-512"},
};

const struct vt_pcr_bank *vt_pcr_bank_by_alg(TPM2_ALG_ID alg)
{
        for (size_t i = 0; i < ARRAY_SIZE(banks); i++)
                if (banks[i].alg == alg)
                        return &banks[i];
        return NULL;
}

const struct vt_pcr_bank *vt_pcr_bank_by_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(banks); i++)
                if (streq(banks[i].name, name))
                        return &banks[i];
        return NULL;
}

bool vt_pcrsel_test(const TPMS_PCR_SELECTION *s, unsigned pcr)
{
        return pcr / 8 < s->sizeofSelect && (s->pcrSelect[pcr / 8] & (1u << (pcr % 8)));
}

/* "0-9,16" or "all" into one bank's bitmap. */
static int parse_pcrs(const char *p, TPMS_PCR_SELECTION *s)
{
        s->sizeofSelect = 3;
        if (streq(p, "all")) {
                memset(s->pcrSelect, 0xff, 3);
                return 0;
        }
        while (*p) {
                char *end;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                unsigned long lo = strtoul(p, &end, 10), hi = lo;
                if (*end == '-') {
                        if (!isdigit((unsigned char)end[1]))
                                return -EINVAL;
                        hi = strtoul(end + 1, &end, 10);
                }
                if (lo > hi || hi >= 24)
                        return -EINVAL;
                for (unsigned long i = lo; i <= hi; i++)
                        s->pcrSelect[i / 8] |= 1u << (i % 8);
                if (*end == ',' && end[1])
                        end++;
                else if (*end)
                        return -EINVAL;
                p = end;
        }
        return 0;
}

int vt_pcrsel_parse(const char *text, TPML_PCR_SELECTION *ret)
{
        TPML_PCR_SELECTION sel = {0};
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *part = strtok_r(copy, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
                /* A bank alone is all of it, as tpm2-tools spell it ("sha256"). */
                char *colon = strchr(part, ':');
                if (sel.count >= TPM2_NUM_PCR_BANKS)
                        return -EINVAL;
                if (colon)
                        *colon = 0;
                const struct vt_pcr_bank *b = vt_pcr_bank_by_name(part);
                if (!b)
                        return -EINVAL;
                for (uint32_t i = 0; i < sel.count; i++)
                        if (sel.pcrSelections[i].hash == b->alg)
                                return -EINVAL;
                TPMS_PCR_SELECTION *s = &sel.pcrSelections[sel.count++];
                s->hash = b->alg;
                int r = parse_pcrs(colon ? colon + 1 : "all", s);
                if (r < 0)
                        return r;
        }
        if (sel.count == 0)
                return -EINVAL;
        *ret = sel;
        return 0;
}

char *vt_pcrsel_format(const TPML_PCR_SELECTION *sel)
{
        char buf[TPM2_NUM_PCR_BANKS * 96] = "";
        size_t n = 0;
        for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
                const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
                const struct vt_pcr_bank *b = vt_pcr_bank_by_alg(s->hash);
                n += snprintf(buf + n, sizeof(buf) - n, "%s%s:", i ? "+" : "",
                              b ? b->name : "unknown");
                const char *sep = "";
                for (unsigned p = 0; p < 8u * s->sizeofSelect && n < sizeof(buf); p++) {
                        if (!vt_pcrsel_test(s, p))
                                continue;
                        unsigned q = p;
                        while (q + 1 < 8u * s->sizeofSelect && vt_pcrsel_test(s, q + 1))
                                q++;
                        if (q == p)
                                n += snprintf(buf + n, sizeof(buf) - n, "%s%u", sep, p);
                        else
                                n += snprintf(buf + n, sizeof(buf) - n, "%s%u-%u", sep, p, q);
                        sep = ",";
                        p = q;
                }
                if (n >= sizeof(buf))
                        return NULL;
        }
        return strdup(buf);
}

bool vt_pcrsel_equal(const TPML_PCR_SELECTION *a, const TPML_PCR_SELECTION *b)
{
        if (a->count != b->count || a->count > TPM2_NUM_PCR_BANKS)
                return false;
        for (uint32_t i = 0; i < a->count; i++) {
                const TPMS_PCR_SELECTION *x = &a->pcrSelections[i], *y = &b->pcrSelections[i];
                if (x->hash != y->hash)
                        return false;
                for (unsigned p = 0; p < 8u * TPM2_PCR_SELECT_MAX; p++)
                        if (vt_pcrsel_test(x, p) != vt_pcrsel_test(y, p))
                                return false;
        }
        return true;
}

int vt_pcr_values_print(FILE *f, json_object *values, const TPML_PCR_SELECTION *sel)
{
        size_t n = sel ? sel->count : (size_t)json_object_object_length(values);
        struct json_object_iterator it = json_object_iter_begin(values);
        for (size_t i = 0; i < n; i++) {
                const char *name;
                if (sel) {
                        const struct vt_pcr_bank *b =
                                vt_pcr_bank_by_alg(sel->pcrSelections[i].hash);
                        if (!b)
                                return -EINVAL;
                        name = b->name;
                } else {
                        name = json_object_iter_peek_name(&it);
                        json_object_iter_next(&it);
                }
                json_object *pcrs, *v;
                if (!json_object_object_get_ex(values, name, &pcrs))
                        continue; /* a bank the TPM does not have: tpm2_pcrread leaves it out */
                fprintf(f, "  %s:\n", name);
                for (unsigned p = 0; p < 8u * TPM2_PCR_SELECT_MAX; p++) {
                        char key[8];
                        snprintf(key, sizeof(key), "%u", p);
                        if ((sel && !vt_pcrsel_test(&sel->pcrSelections[i], p)) ||
                            !json_object_object_get_ex(pcrs, key, &v) ||
                            !json_object_is_type(v, json_type_string))
                                continue;
                        fprintf(f, "    %-2u: 0x", p);
                        for (const char *c = json_object_get_string(v); *c; c++)
                                fputc(isxdigit((unsigned char)*c) ? toupper((unsigned char)*c)
                                                                  : '?',
                                      f);
                        fputc('\n', f);
                }
        }
        return 0;
}
