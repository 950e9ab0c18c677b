/* The endorsement key: its certificates from NV, its public key, and ActivateCredential for the AK.
 */
#include "codec.h"
#include "log.h"
#include "policy.h"
#include "tpm2.h"
#include "tpm2_esys.h"

#define EK_CERT_MAX   4096u /* an EK certificate is about 1 KB; NV indices are bounded anyway */
#define NV_READ_CHUNK 512u  /* below every TPM's TPM2_PT_NV_BUFFER_MAX */

/* Where the TCG EK Credential Profile puts the EK certificates (low and high range). */
static const struct {
        TPM2_HANDLE index;
        const char *key;
} ek_cert_indices[] = {
        {0x01c00002, "rsa2048"},
        {0x01c0000a, "ecc-nist-p256"},
        {0x01c0001c, "rsa3072"},
        {0x01c00016, "ecc-nist-p384"},
};

/*
 * The EK, TCG EK Credential Profile template L-1 (RSA 2048): what swtpm_setup certifies. Its
 * policy is PolicySecret(TPM_RH_ENDORSEMENT); it can only decrypt, and only for the TPM itself.
 */
static const TPM2B_PUBLIC ek_rsa_template = {
        .publicArea =
                {
                        .type = TPM2_ALG_RSA,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                            TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                            TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
                                            TPMA_OBJECT_DECRYPT,
                        .authPolicy = {.size = 32,
                                       .buffer = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8,
                                                  0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
                                                  0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64,
                                                  0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa}},
                        .parameters.rsaDetail =
                                {
                                        .symmetric = {.algorithm = TPM2_ALG_AES,
                                                      .keyBits.aes = 128,
                                                      .mode.aes = TPM2_ALG_CFB},
                                        .scheme = {.scheme = TPM2_ALG_NULL},
                                        .keyBits = 2048,
                                        .exponent = 0,
                                },
                        .unique.rsa = {.size = 256},
                },
};

/* Whether a handle (NV index, persistent object) is defined: asked, not tried and failed. */
static bool handle_defined(struct tpm *t, TPM2_HANDLE h)
{
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        if (sym_Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   TPM2_CAP_HANDLES, h, 1, &more, &cap) != TSS2_RC_SUCCESS)
                return false;
        bool found = cap->data.handles.count > 0 && cap->data.handles.handle[0] == h;
        sym_Esys_Free(cap);
        return found;
}

static void ek_release(struct tpm *t, ESYS_TR *ek, bool transient)
{
        if (transient)
                sym_Esys_FlushContext(t->esys, *ek);
        else
                sym_Esys_TR_Close(t->esys, ek);
        *ek = ESYS_TR_NONE;
}

/* Where swtpm_setup (and most provisioning) persists the RSA EK: TCG's first EK handle. */
#define EK_RSA_PERSISTENT 0x81010001u

/*
 * The EK: the persistent one when provisioning left it there (no key generation then), else
 * made from the template. Either way the host checks its public key against the certificate.
 * *flush tells whether the handle is transient (to flush) or persistent (to close only).
 */
static int ek_create(struct tpm *t, ESYS_TR *handle, TPM2B_PUBLIC **pub, bool *flush)
{
        if (handle_defined(t, EK_RSA_PERSISTENT) &&
            sym_Esys_TR_FromTPMPublic(t->esys, EK_RSA_PERSISTENT, ESYS_TR_NONE, ESYS_TR_NONE,
                                      ESYS_TR_NONE, handle) == TSS2_RC_SUCCESS) {
                if (sym_Esys_ReadPublic(t->esys, *handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        pub, NULL, NULL) == TSS2_RC_SUCCESS &&
                    (*pub)->publicArea.type == TPM2_ALG_RSA) {
                        *flush = false;
                        return 0;
                }
                sym_Esys_Free(*pub);
                *pub = NULL;
                sym_Esys_TR_Close(t->esys, handle);
        }
        *flush = true;
        return vt_tpm_endorsement_primary(t, &ek_rsa_template, "EK", handle, pub);
}

/* One NV index's contents; -ENOENT when the index is not defined. */
static int nv_read(struct tpm *t, TPM2_HANDLE index, uint8_t **ret, size_t *len)
{
        ESYS_TR nv = ESYS_TR_NONE;
        if (!handle_defined(t, index))
                return -ENOENT;
        TSS2_RC rc = sym_Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
                                               ESYS_TR_NONE, &nv);
        if (rc != TSS2_RC_SUCCESS)
                return -ENOENT; /* TPM2_RC_HANDLE: no such index */
        TPM2B_NV_PUBLIC *pub = NULL;
        rc = sym_Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
                                    NULL);
        if (rc != TSS2_RC_SUCCESS) {
                sym_Esys_TR_Close(t->esys, &nv);
                return -EIO;
        }
        size_t size = pub->nvPublic.dataSize;
        sym_Esys_Free(pub);
        if (size == 0 || size > EK_CERT_MAX) {
                sym_Esys_TR_Close(t->esys, &nv);
                return -EBADMSG;
        }
        _cleanup_free_ uint8_t *buf = malloc(size);
        int r = buf ? 0 : -ENOMEM;
        for (size_t off = 0; r == 0 && off < size;) {
                UINT16 n = (UINT16)(size - off < NV_READ_CHUNK ? size - off : NV_READ_CHUNK);
                TPM2B_MAX_NV_BUFFER *data = NULL;
                /* EK certificate indices are TPMA_NV_AUTHREAD with an empty authValue */
                rc = sym_Esys_NV_Read(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                      n, (UINT16)off, &data);
                if (rc != TSS2_RC_SUCCESS || data->size == 0 || data->size > n) {
                        log_debug("Esys_NV_Read(0x%08x, %zu): 0x%x", index, off, rc);
                        r = -EIO;
                } else {
                        memcpy(buf + off, data->buffer, data->size);
                        off += data->size;
                }
                sym_Esys_Free(data);
        }
        sym_Esys_TR_Close(t->esys, &nv);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        *len = size;
        return 0;
}

static bool policy_ak_rsa(struct vt_ctx *ctx)
{
        const char *akt = vt_policy_get(ctx->policy, "tpm", "ak");
        return akt && streq(akt, "rsa");
}

int vt_tpm2_ek(struct vt_ctx *ctx, json_object **ret)
{
        _cleanup_(vt_tpm_close) struct tpm t = {0};
        int r = vt_tpm_open_started(ctx, &t);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *doc = json_object_new_object();
        json_object *certs = json_object_new_array();
        json_object_object_add(doc, "certificates", certs);
        for (size_t i = 0; i < ARRAY_SIZE(ek_cert_indices); i++) {
                _cleanup_free_ uint8_t *der = NULL;
                size_t len = 0;
                r = nv_read(&t, ek_cert_indices[i].index, &der, &len);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                _cleanup_free_ char *b64 = vt_base64_encode(der, len);
                if (!b64)
                        return -ENOMEM;
                char idx[16];
                snprintf(idx, sizeof(idx), "0x%08x", ek_cert_indices[i].index);
                json_object *c = json_object_new_object();
                vt_json_add_str(c, "index", idx);
                vt_json_add_str(c, "key", ek_cert_indices[i].key);
                vt_json_add_str(c, "der", b64);
                json_object_array_add(certs, c);
        }
        bool rsa = policy_ak_rsa(ctx);
        ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE;
        TPM2B_PUBLIC *ek_pub = NULL, *ak_pub = NULL;
        bool ek_transient;
        r = ek_create(&t, &ek, &ek_pub, &ek_transient);
        if (r >= 0) {
                ek_release(&t, &ek, ek_transient);
                r = vt_tpm_ak_create(&t, rsa, &ak, &ak_pub);
                if (r >= 0)
                        sym_Esys_FlushContext(t.esys, ak);
        }
        json_object *ekj = NULL, *akj = NULL;
        if (r >= 0)
                r = vt_tpm_key_json(ek_pub, true, &ekj);
        if (r >= 0) {
                json_object_object_add(doc, "ek", ekj);
                r = vt_tpm_key_json(ak_pub, rsa, &akj);
        }
        if (r >= 0)
                json_object_object_add(doc, "ak", akj);
        sym_Esys_Free(ek_pub);
        sym_Esys_Free(ak_pub);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(doc);
        return 0;
}

/* A policy session satisfied by PolicySecret(TPM_RH_ENDORSEMENT): the EK's authPolicy. */
static int ek_policy_session(struct tpm *t, ESYS_TR *session)
{
        TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
        TSS2_RC rc = sym_Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                               ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY,
                                               &sym, TPM2_ALG_SHA256, session);
        if (rc != TSS2_RC_SUCCESS) {
                log_debug("Esys_StartAuthSession: 0x%x", rc);
                return -EIO;
        }
        rc = sym_Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, *session, ESYS_TR_PASSWORD,
                                   ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                log_debug("Esys_PolicySecret: 0x%x", rc);
                sym_Esys_FlushContext(t->esys, *session);
                return vt_tpm_rc_is(rc, TPM2_RC_BAD_AUTH) || vt_tpm_rc_is(rc, TPM2_RC_AUTH_FAIL)
                               ? -EPERM
                               : -EIO;
        }
        return 0;
}

int vt_tpm2_activate(struct vt_ctx *ctx, const uint8_t *blob, size_t blob_len,
                     const uint8_t *secret, size_t secret_len, json_object **ret)
{
        TPM2B_ID_OBJECT cred = {0};
        TPM2B_ENCRYPTED_SECRET enc = {0};
        size_t off = 0;
        int r = vt_dl_tss2();
        if (r < 0)
                return r;
        if (sym_Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, &cred) != 0 ||
            off != blob_len)
                return -EINVAL;
        off = 0;
        if (sym_Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(secret, secret_len, &off, &enc) != 0 ||
            off != secret_len)
                return -EINVAL;

        _cleanup_(vt_tpm_close) struct tpm t = {0};
        r = vt_tpm_open_started(ctx, &t);
        if (r < 0)
                return r;
        ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE, session = ESYS_TR_NONE;
        TPM2B_PUBLIC *ek_pub = NULL, *ak_pub = NULL;
        TPM2B_DIGEST *out = NULL;
        bool ek_transient = true;
        r = ek_create(&t, &ek, &ek_pub, &ek_transient);
        if (r >= 0 && (r = vt_tpm_ak_create(&t, policy_ak_rsa(ctx), &ak, &ak_pub)) >= 0 &&
            (r = ek_policy_session(&t, &session)) >= 0) {
                TSS2_RC rc = sym_Esys_ActivateCredential(t.esys, ak, ek, ESYS_TR_PASSWORD, session,
                                                         ESYS_TR_NONE, &cred, &enc, &out);
                if (rc != TSS2_RC_SUCCESS) {
                        /* the blob was not made for this AK under this EK, or was altered */
                        log_debug("Esys_ActivateCredential: 0x%x", rc);
                        r = -EBADMSG;
                }
                sym_Esys_FlushContext(t.esys, session);
        }
        if (ak != ESYS_TR_NONE)
                sym_Esys_FlushContext(t.esys, ak);
        if (ek != ESYS_TR_NONE)
                ek_release(&t, &ek, ek_transient);
        sym_Esys_Free(ek_pub);
        sym_Esys_Free(ak_pub);
        if (r < 0)
                return r;
        json_object *doc = json_object_new_object();
        vt_tpm_add_hex(doc, "secret", out->buffer, out->size);
        sym_Esys_Free(out);
        *ret = doc;
        return 0;
}
