/* What the ESAPI files of modules/tpm share: an open TPM, the AK, JSON of keys (internal). */
#pragma once

#include "dl_tss2.h"
#include "util.h"
#include "ctx.h"

struct tpm {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
};

static inline bool vt_tpm_rc_is(TSS2_RC rc, TSS2_RC want)
{
        return (rc & ~TSS2_RC_LAYER_MASK) == want;
}

/* Opens the TCTI the policy names ([tpm] tcti) and an ESAPI context on it; -errno. */
int vt_tpm_open(struct vt_ctx *ctx, struct tpm *t);
void vt_tpm_close(struct tpm *t);
/* vt_tpm_open(), then the TPM started (TPM2_Startup) when it says it must. */
int vt_tpm_open_started(struct vt_ctx *ctx, struct tpm *t);
/* Active banks; starts the TPM (TPM2_Startup) when it says it must. */
int vt_tpm_banks(struct tpm *t, TPML_PCR_SELECTION *ret);
/* A primary key from template tmpl under the endorsement hierarchy (what: "AK", "EK" for the
 * debug log); -EPERM when the hierarchy's auth is refused, else -EIO. */
int vt_tpm_endorsement_primary(struct tpm *t, const TPM2B_PUBLIC *tmpl, const char *what,
                               ESYS_TR *handle, TPM2B_PUBLIC **pub);
/* The AK, a primary key from a fixed template under the endorsement hierarchy. */
int vt_tpm_ak_create(struct tpm *t, bool rsa, ESYS_TR *handle, TPM2B_PUBLIC **pub);
/* {"type": "rsa"|"ecc", "public": hex TPM2B_PUBLIC, "pem": ...} of a public key. */
int vt_tpm_key_json(const TPM2B_PUBLIC *pub, bool rsa, json_object **ret);
void vt_tpm_add_hex(json_object *o, const char *key, const uint8_t *buf, size_t len);
