/*
 * The TPM through tpm2-tss ESAPI: PCR reads, quotes, the event log. json-c in and out so the
 * CLI and the channel share them. -EOPNOTSUPP: built without TPM support (or not yet written).
 */
#pragma once

#include "ctx.h"

/* banks: NULL for all active banks; pcrs: NULL for all. {"banks": {"sha256": {"0": "hex"...}}} */
int vt_tpm2_pcr_read(struct vt_ctx *ctx, json_object *banks, json_object *pcrs, json_object **ret);
/* nonce: 16-64 bytes. selection: e.g. "sha256:0-9" or NULL for the policy's. */
int vt_tpm2_quote(struct vt_ctx *ctx, const uint8_t *nonce, size_t nonce_len, const char *selection,
                  json_object **ret);
/*
 * For tests: the same quote, with after_quote called between each Esys_Quote and the re-read of
 * the PCRs (esys: that ESYS_CONTEXT *; attempt: 1, 2, ...); a negative return stops the quote.
 */
struct vt_tpm2_quote_hook {
        int (*after_quote)(void *esys, int attempt, void *userdata);
        void *userdata;
};
int vt_tpm2_quote_hooked(struct vt_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
                         const char *selection, const struct vt_tpm2_quote_hook *hook,
                         json_object **ret);
/*
 * {"log": base64, "size", "offset", "next_offset", "complete", "source", "format"}: the
 * measured-boot log (ima: the IMA runtime log) from byte offset, at most max bytes of it (0:
 * all); next_offset is where the next piece starts, complete whether this one reaches the end.
 */
int vt_tpm2_eventlog(struct vt_ctx *ctx, bool ima, uint64_t offset, size_t max, json_object **ret);
/*
 * The endorsement key: {"certificates": [{"index", "key", "der": base64}...], "ek": key, "ak": key}
 * (key: {"type", "public": hex TPM2B_PUBLIC, "pem"}); the EK is made from the TCG template L-1
 * (RSA 2048), the AK is the one quotes are signed with.
 */
int vt_tpm2_ek(struct vt_ctx *ctx, json_object **ret);
/*
 * ActivateCredential of the host's MakeCredential output (blob: a marshalled TPM2B_ID_OBJECT,
 * secret: a TPM2B_ENCRYPTED_SECRET) for the AK under the EK: {"secret": hex}. -EBADMSG when the
 * TPM refuses it (not made for this AK and this EK), -EINVAL when the bytes do not parse.
 */
int vt_tpm2_activate(struct vt_ctx *ctx, const uint8_t *blob, size_t blob_len,
                     const uint8_t *secret, size_t secret_len, json_object **ret);
/* A user-facing explanation of an error from the functions above. */
const char *vt_tpm2_strerror(int r);
