/* The TPM through tpm2-tss ESAPI: PCR reads, AK quotes and the measured-boot logs, as JSON. */
#include <fcntl.h>
#include <sys/stat.h>
#include "codec.h"
#include "log.h"
#include "policy.h"
#include "tpm2.h"
#include "tpm2_esys.h"
#include "tpm2_pub.h"
#include "tpm2_sel.h"

#define QUOTE_ATTEMPTS 5
#define EVENTLOG_MAX   (64u << 20)

void vt_tpm_close(struct tpm *t)
{
        if (t->esys)
                sym_Esys_Finalize(&t->esys);
        if (t->tcti)
                sym_Tss2_TctiLdr_Finalize(&t->tcti);
}

static const char *tcti_conf(struct vt_ctx *ctx)
{
        const char *s = vt_policy_get(ctx->policy, "tpm", "tcti");
        return s ? s : "device:/dev/tpmrm0";
}

/* Why a device TCTI would fail, told apart before the TSS turns it all into one error code. */
static int probe_device(struct vt_ctx *ctx, const char *dev)
{
        struct stat st;
        if (stat(dev, &st) < 0) {
                _cleanup_free_ char *major = NULL;
                if (vt_read_attr(ctx, "/sys/class/tpm/tpm0/tpm_version_major", &major) >= 0 &&
                    streq(major, "1"))
                        return -EPROTONOSUPPORT;
                if (vt_exists(ctx, "/sys/class/misc/tpm0") && !vt_exists(ctx, "/sys/class/tpm"))
                        return -EPROTONOSUPPORT; /* old kernels: TPM 1.2 as a misc device */
                return -ENODEV;
        }
        _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno; /* EACCES: not root nor in group tss; EBUSY: /dev/tpm0 taken */
        return 0;
}

int vt_tpm_open(struct vt_ctx *ctx, struct tpm *t)
{
        int r;
        const char *conf = tcti_conf(ctx);
        if (startswith(conf, "device")) {
                const char *dev = conf[6] == ':' && conf[7] ? conf + 7 : "/dev/tpmrm0";
                r = probe_device(ctx, dev);
                if (r < 0)
                        return r;
        }
        /* After the device: with no TPM at all, "no TPM" is the answer, not a library. */
        r = vt_dl_tss2();
        if (r < 0)
                return r;
        /* The exact string, never NULL: the implicit search could reach a simulator. */
        TSS2_RC rc = sym_Tss2_TctiLdr_Initialize(conf, &t->tcti);
        if (rc != TSS2_RC_SUCCESS) {
                log_debug("Tss2_TctiLdr_Initialize(%s): 0x%x", conf, rc);
                return -ECOMM;
        }
        rc = sym_Esys_Initialize(&t->esys, t->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                log_debug("Esys_Initialize: 0x%x", rc);
                return -ECOMM;
        }
        return 0;
}

/* Active banks (TPM2_CAP_PCRS without the empty bitmaps); starts the TPM if it says it must. */
int vt_tpm_open_started(struct vt_ctx *ctx, struct tpm *t)
{
        TPML_PCR_SELECTION active;
        int r = vt_tpm_open(ctx, t);
        return r < 0 ? r : vt_tpm_banks(t, &active); /* banks: also starts the TPM if needed */
}

int vt_tpm_banks(struct tpm *t, TPML_PCR_SELECTION *ret)
{
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc;
        for (int tries = 0;; tries++) {
                rc = sym_Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                            TPM2_CAP_PCRS, 0, 1, &more, &cap);
                if (!vt_tpm_rc_is(rc, TPM2_RC_INITIALIZE) || tries > 0)
                        break;
                rc = sym_Esys_Startup(t->esys, TPM2_SU_CLEAR);
                if (rc != TSS2_RC_SUCCESS) {
                        log_debug("Esys_Startup: 0x%x", rc);
                        return -EIO;
                }
        }
        if (rc != TSS2_RC_SUCCESS) {
                log_debug("Esys_GetCapability(PCRS): 0x%x", rc);
                return -EIO;
        }
        TPML_PCR_SELECTION out = {0};
        const TPML_PCR_SELECTION *all = &cap->data.assignedPCR;
        for (uint32_t i = 0; i < all->count && i < TPM2_NUM_PCR_BANKS; i++) {
                const TPMS_PCR_SELECTION *s = &all->pcrSelections[i];
                bool any = false;
                for (unsigned b = 0; b < s->sizeofSelect && b < TPM2_PCR_SELECT_MAX; b++)
                        any |= s->pcrSelect[b] != 0;
                if (any && vt_pcr_bank_by_alg(s->hash))
                        out.pcrSelections[out.count++] = *s;
        }
        sym_Esys_Free(cap);
        *ret = out;
        return 0;
}

static bool sel_empty(const TPML_PCR_SELECTION *sel)
{
        for (uint32_t i = 0; i < sel->count; i++)
                for (unsigned b = 0; b < TPM2_PCR_SELECT_MAX; b++)
                        if (sel->pcrSelections[i].pcrSelect[b])
                                return false;
        return true;
}

static json_object *bank_object(json_object *banks, const char *name)
{
        json_object *o;
        if (!json_object_object_get_ex(banks, name, &o)) {
                o = json_object_new_object();
                json_object_object_add(banks, name, o);
        }
        return o;
}

/*
 * Reads every PCR in want into {"bank": {"N": "hex"}}. The TPM answers at most 8 digests a call
 * and says which in pcrSelectionOut: clear those and ask again until nothing is left.
 */
static int tpm_read(struct tpm *t, const TPML_PCR_SELECTION *want, json_object *banks)
{
        TPML_PCR_SELECTION left = *want;
        while (!sel_empty(&left)) {
                TPML_PCR_SELECTION *out = NULL;
                TPML_DIGEST *values = NULL;
                UINT32 counter;
                TSS2_RC rc = sym_Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                               &left, &counter, &out, &values);
                if (rc != TSS2_RC_SUCCESS) {
                        log_debug("Esys_PCR_Read: 0x%x", rc);
                        return -EIO;
                }
                uint32_t k = 0;
                for (uint32_t i = 0; i < out->count && i < TPM2_NUM_PCR_BANKS; i++) {
                        const TPMS_PCR_SELECTION *s = &out->pcrSelections[i];
                        const struct vt_pcr_bank *b = vt_pcr_bank_by_alg(s->hash);
                        for (unsigned p = 0; p < 8u * s->sizeofSelect; p++) {
                                if (!vt_pcrsel_test(s, p) || k >= values->count)
                                        continue;
                                for (uint32_t j = 0; j < left.count; j++)
                                        if (left.pcrSelections[j].hash == s->hash)
                                                left.pcrSelections[j].pcrSelect[p / 8] &=
                                                        (uint8_t) ~(1u << (p % 8));
                                char key[8];
                                snprintf(key, sizeof(key), "%u", p);
                                const TPM2B_DIGEST *d = &values->digests[k++];
                                char *hex = vt_hex_encode(d->buffer, d->size);
                                if (b && hex)
                                        json_object_object_add(bank_object(banks, b->name), key,
                                                               json_object_new_string(hex));
                                free(hex);
                        }
                }
                sym_Esys_Free(out);
                sym_Esys_Free(values);
                /* Nothing came back for what is left: a bank or PCR the TPM does not have. */
                if (k == 0)
                        return -ENOENT;
        }
        return 0;
}

/* Narrows all active banks to the names in `banks` and PCR numbers in `pcrs` (NULL: all). */
static int filter_selection(TPML_PCR_SELECTION *sel, json_object *banks, json_object *pcrs)
{
        if (banks) {
                if (!json_object_is_type(banks, json_type_array))
                        return -EINVAL;
                TPML_PCR_SELECTION out = {0};
                for (size_t i = 0; i < json_object_array_length(banks); i++) {
                        const char *name =
                                json_object_get_string(json_object_array_get_idx(banks, i));
                        const struct vt_pcr_bank *b = name ? vt_pcr_bank_by_name(name) : NULL;
                        if (!b)
                                return -EINVAL;
                        bool found = false;
                        for (uint32_t j = 0; j < sel->count; j++)
                                if (sel->pcrSelections[j].hash == b->alg &&
                                    out.count < TPM2_NUM_PCR_BANKS) {
                                        out.pcrSelections[out.count++] = sel->pcrSelections[j];
                                        found = true;
                                }
                        if (!found)
                                return -ENOENT;
                }
                *sel = out;
        }
        if (pcrs) {
                if (!json_object_is_type(pcrs, json_type_array))
                        return -EINVAL;
                uint8_t mask[TPM2_PCR_SELECT_MAX] = {0};
                for (size_t i = 0; i < json_object_array_length(pcrs); i++) {
                        json_object *v = json_object_array_get_idx(pcrs, i);
                        if (!json_object_is_type(v, json_type_int))
                                return -EINVAL;
                        int64_t p = json_object_get_int64(v);
                        if (p < 0 || p >= 8 * TPM2_PCR_SELECT_MAX)
                                return -EINVAL;
                        mask[p / 8] |= (uint8_t)(1u << (p % 8));
                }
                for (uint32_t j = 0; j < sel->count; j++)
                        for (unsigned b = 0; b < TPM2_PCR_SELECT_MAX; b++)
                                sel->pcrSelections[j].pcrSelect[b] &= mask[b];
        }
        return 0;
}

int vt_tpm2_pcr_read(struct vt_ctx *ctx, json_object *banks, json_object *pcrs, json_object **ret)
{
        _cleanup_(vt_tpm_close) struct tpm t = {0};
        int r = vt_tpm_open(ctx, &t);
        if (r < 0)
                return r;
        TPML_PCR_SELECTION sel;
        r = vt_tpm_banks(&t, &sel);
        if (r < 0)
                return r;
        r = filter_selection(&sel, banks, pcrs);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *doc = json_object_new_object();
        json_object *b = json_object_new_object();
        json_object_object_add(doc, "banks", b);
        /* every active bank appears, even when the filter left it no PCR */
        for (uint32_t i = 0; i < sel.count; i++)
                bank_object(b, vt_pcr_bank_by_alg(sel.pcrSelections[i].hash)->name);
        r = tpm_read(&t, &sel, b);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(doc);
        return 0;
}

/* The AK templates: restricted signing keys, so the TPM only signs what it made (quotes). */
static const TPMA_OBJECT ak_attrs = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;

static const TPM2B_PUBLIC ak_ecc = {
        .publicArea =
                {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = ak_attrs,
                        .parameters.eccDetail =
                                {
                                        .symmetric.algorithm = TPM2_ALG_NULL,
                                        .scheme = {.scheme = TPM2_ALG_ECDSA,
                                                   .details.ecdsa.hashAlg = TPM2_ALG_SHA256},
                                        .curveID = TPM2_ECC_NIST_P256,
                                        .kdf.scheme = TPM2_ALG_NULL,
                                },
                },
};

static const TPM2B_PUBLIC ak_rsa = {
        .publicArea =
                {
                        .type = TPM2_ALG_RSA,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = ak_attrs,
                        .parameters.rsaDetail =
                                {
                                        .symmetric.algorithm = TPM2_ALG_NULL,
                                        .scheme = {.scheme = TPM2_ALG_RSASSA,
                                                   .details.rsassa.hashAlg = TPM2_ALG_SHA256},
                                        .keyBits = 2048,
                                },
                },
};

int vt_tpm_endorsement_primary(struct tpm *t, const TPM2B_PUBLIC *tmpl, const char *what,
                               ESYS_TR *handle, TPM2B_PUBLIC **pub)
{
        TPM2B_SENSITIVE_CREATE sens = {0};
        TPM2B_DATA outside = {0};
        TPML_PCR_SELECTION none = {0};
        TSS2_RC rc = sym_Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
                                            ESYS_TR_NONE, ESYS_TR_NONE, &sens, tmpl, &outside,
                                            &none, handle, pub, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                log_debug("Esys_CreatePrimary(%s): 0x%x", what, rc);
                return vt_tpm_rc_is(rc, TPM2_RC_BAD_AUTH) || vt_tpm_rc_is(rc, TPM2_RC_AUTH_FAIL)
                               ? -EPERM
                               : -EIO;
        }
        return 0;
}

int vt_tpm_ak_create(struct tpm *t, bool rsa, ESYS_TR *handle, TPM2B_PUBLIC **pub)
{
        return vt_tpm_endorsement_primary(t, rsa ? &ak_rsa : &ak_ecc, "AK", handle, pub);
}

void vt_tpm_add_hex(json_object *o, const char *key, const uint8_t *buf, size_t len)
{
        _cleanup_free_ char *hex = vt_hex_encode(buf, len);
        vt_json_add_str(o, key, hex);
}

static json_object *signature_json(const TPMT_SIGNATURE *sig)
{
        json_object *o = json_object_new_object();
        const struct vt_pcr_bank *h = NULL;
        if (sig->sigAlg == TPM2_ALG_ECDSA) {
                vt_json_add_str(o, "alg", "ecdsa");
                h = vt_pcr_bank_by_alg(sig->signature.ecdsa.hash);
                vt_tpm_add_hex(o, "r", sig->signature.ecdsa.signatureR.buffer,
                               sig->signature.ecdsa.signatureR.size);
                vt_tpm_add_hex(o, "s", sig->signature.ecdsa.signatureS.buffer,
                               sig->signature.ecdsa.signatureS.size);
        } else if (sig->sigAlg == TPM2_ALG_RSASSA) {
                vt_json_add_str(o, "alg", "rsassa");
                h = vt_pcr_bank_by_alg(sig->signature.rsassa.hash);
                vt_tpm_add_hex(o, "sig", sig->signature.rsassa.sig.buffer,
                               sig->signature.rsassa.sig.size);
        }
        vt_json_add_str(o, "hash", h ? h->name : NULL);
        uint8_t buf[sizeof(TPMT_SIGNATURE)];
        size_t off = 0;
        if (sym_Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off) == TSS2_RC_SUCCESS)
                vt_tpm_add_hex(o, "tpmt", buf, off);
        return o;
}

int vt_tpm_key_json(const TPM2B_PUBLIC *pub, bool rsa, json_object **ret)
{
        uint8_t buf[sizeof(TPM2B_PUBLIC)];
        size_t off = 0;
        if (sym_Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return -EIO;
        _cleanup_free_ char *pem = NULL;
        int r = vt_tpm2_pub_to_pem(&pub->publicArea, &pem);
        if (r < 0)
                return r;
        json_object *o = json_object_new_object();
        vt_json_add_str(o, "type", rsa ? "rsa" : "ecc");
        vt_tpm_add_hex(o, "public", buf, off);
        vt_json_add_str(o, "pem", pem);
        *ret = o;
        return 0;
}

/* One quote while the PCRs hold still: read, quote, read again; a change means try again. */
static int quote_stable(struct tpm *t, ESYS_TR ak, const TPM2B_DATA *nonce,
                        const TPML_PCR_SELECTION *sel, const struct vt_tpm2_quote_hook *hook,
                        TPM2B_ATTEST **attest, TPMT_SIGNATURE **sig, json_object **pcrs,
                        int *attempts)
{
        TPMT_SIG_SCHEME key_scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own */
        for (int i = 1; i <= QUOTE_ATTEMPTS; i++) {
                _cleanup_json_ json_object *before = json_object_new_object();
                _cleanup_json_ json_object *after = json_object_new_object();
                int r = tpm_read(t, sel, before);
                if (r < 0)
                        return r;
                TSS2_RC rc = sym_Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                            ESYS_TR_NONE, nonce, &key_scheme, sel, attest, sig);
                if (rc != TSS2_RC_SUCCESS) {
                        log_debug("Esys_Quote: 0x%x", rc);
                        return -EIO;
                }
                if (hook && hook->after_quote &&
                    (r = hook->after_quote(t->esys, i, hook->userdata)) < 0) {
                        sym_Esys_Free(*attest);
                        sym_Esys_Free(*sig);
                        *attest = NULL;
                        *sig = NULL;
                        return r;
                }
                r = tpm_read(t, sel, after);
                if (r < 0)
                        return r;
                if (json_object_equal(before, after)) {
                        *pcrs = TAKE_PTR(after);
                        *attempts = i;
                        return 0;
                }
                sym_Esys_Free(*attest);
                sym_Esys_Free(*sig);
                *attest = NULL;
                *sig = NULL;
        }
        return -EAGAIN;
}

int vt_tpm2_quote(struct vt_ctx *ctx, const uint8_t *nonce, size_t nonce_len, const char *selection,
                  json_object **ret)
{
        return vt_tpm2_quote_hooked(ctx, nonce, nonce_len, selection, NULL, ret);
}

int vt_tpm2_quote_hooked(struct vt_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
                         const char *selection, const struct vt_tpm2_quote_hook *hook,
                         json_object **ret)
{
        if (nonce_len < 16 || nonce_len > 64)
                return -EINVAL;
        if (!selection)
                selection = vt_policy_get(ctx->policy, "tpm", "pcrs");
        TPML_PCR_SELECTION sel;
        if (!selection || vt_pcrsel_parse(selection, &sel) < 0)
                return -EINVAL;
        const char *akt = vt_policy_get(ctx->policy, "tpm", "ak");
        bool rsa = akt && streq(akt, "rsa");

        _cleanup_(vt_tpm_close) struct tpm t = {0};
        int r = vt_tpm_open_started(ctx, &t);
        if (r < 0)
                return r;
        ESYS_TR ak = ESYS_TR_NONE;
        TPM2B_PUBLIC *pub = NULL;
        r = vt_tpm_ak_create(&t, rsa, &ak, &pub);
        if (r < 0)
                return r;
        TPM2B_DATA qd = {.size = (UINT16)nonce_len};
        memcpy(qd.buffer, nonce, nonce_len);
        TPM2B_ATTEST *attest = NULL;
        TPMT_SIGNATURE *sig = NULL;
        json_object *pcrs = NULL;
        int attempts = 0;
        r = quote_stable(&t, ak, &qd, &sel, hook, &attest, &sig, &pcrs, &attempts);
        /* a transient handle outlives us without a resource manager: always flush */
        sym_Esys_FlushContext(t.esys, ak);
        json_object *akj = NULL;
        if (r >= 0)
                r = vt_tpm_key_json(pub, rsa, &akj);
        if (r < 0) {
                sym_Esys_Free(pub);
                sym_Esys_Free(attest);
                sym_Esys_Free(sig);
                json_object_put(pcrs);
                return r;
        }
        _cleanup_free_ char *canon = vt_pcrsel_format(&sel);
        json_object *doc = json_object_new_object();
        vt_tpm_add_hex(doc, "nonce", nonce, nonce_len);
        vt_json_add_str(doc, "selection", canon);
        vt_tpm_add_hex(doc, "attest", attest->attestationData, attest->size);
        json_object_object_add(doc, "signature", signature_json(sig));
        json_object_object_add(doc, "ak", akj);
        json_object_object_add(doc, "pcrs", pcrs);
        json_object_object_add(doc, "attempts", json_object_new_int(attempts));
        sym_Esys_Free(pub);
        sym_Esys_Free(attest);
        sym_Esys_Free(sig);
        *ret = doc;
        return 0;
}

/* Where securityfs puts the logs, and what they are. */
static const struct {
        const char *path;
        const char *format;
} logs[] = {
        {"/sys/kernel/security/tpm0/binary_bios_measurements", "tcg"},
        {"/sys/kernel/security/ima/binary_runtime_measurements", "ima-binary"},
};

int vt_tpm2_eventlog(struct vt_ctx *ctx, bool ima, uint64_t offset, size_t max, json_object **ret)
{
        const char *path = logs[ima].path;
        if (!vt_exists(ctx, path)) {
                /* securityfs not mounted looks like an empty directory */
                if (!vt_exists(ctx, "/sys/kernel/security/lsm") &&
                    !vt_exists(ctx, ima ? "/sys/kernel/security/ima" : "/sys/kernel/security/tpm0"))
                        return -ENOMEDIUM;
                return -ENOENT;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = vt_read_file_max(ctx, path, EVENTLOG_MAX, &buf, &len);
        if (r < 0)
                return r;
        if (offset > len)
                return -ERANGE;
        size_t n = len - offset;
        if (max && n > max)
                n = max; /* the caller asks again from next_offset */
        _cleanup_free_ char *b64 = vt_base64_encode((uint8_t *)buf + offset, n);
        if (!b64)
                return -ENOMEM;
        json_object *doc = json_object_new_object();
        vt_json_add_str(doc, "source", path);
        vt_json_add_str(doc, "format", logs[ima].format);
        json_object_object_add(doc, "size", json_object_new_uint64(len));
        json_object_object_add(doc, "offset", json_object_new_uint64(offset));
        json_object_object_add(doc, "next_offset", json_object_new_uint64(offset + n));
        json_object_object_add(doc, "complete", json_object_new_boolean(offset + n == len));
        vt_json_add_str(doc, "log", b64);
        *ret = doc;
        return 0;
}

const char *vt_tpm2_strerror(int r)
{
        static const struct {
                int err;
                const char *msg;
        } msgs[] = {
                {-ENODEV, "no TPM (no TPM device; is a vTPM attached to this VM?)"},
                {-EPROTONOSUPPORT, "the TPM is a TPM 1.2; virtune needs TPM 2.0"},
                {-EACCES, "permission denied on the TPM device: run as root or join group tss"},
                {-EBUSY, "the TPM device is busy (another program holds it; use /dev/tpmrm0)"},
                {-ECOMM, "cannot reach the TPM through the configured TCTI ([tpm] tcti)"},
                {-EIO, "the TPM refused the command (run with -vv for its response code)"},
                {-EPERM, "the endorsement hierarchy needs a password virtune does not have"},
                {-ENOENT, "not present (bank, PCR or log)"},
                {-ENOMEDIUM, "securityfs is not mounted on /sys/kernel/security"},
                {-EAGAIN, "the selected PCRs changed between the quote and the re-read on every "
                          "attempt (something keeps extending them); try again later"},
                {-EINVAL, "bad argument (nonce 16-64 bytes, selection like sha256:0-9)"},
        };
        static char missing[128];
        for (size_t i = 0; i < ARRAY_SIZE(msgs); i++)
                if (msgs[i].err == r)
                        return msgs[i].msg;
        if (r == -ELIBACC || r == -ELIBBAD)
                return vt_dl_tss2_error(missing, sizeof(missing));
        return strerror(-r);
}
