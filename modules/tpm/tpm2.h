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
/* {"log": base64, "size": n, "source": path}; ima: the runtime log from offset. */
int vt_tpm2_eventlog(struct vt_ctx *ctx, bool ima, uint64_t offset, json_object **ret);
/* A user-facing explanation of an error from the functions above. */
const char *vt_tpm2_strerror(int r);
