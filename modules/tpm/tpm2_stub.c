/* TPM entry points when virtune is built without tpm2-tss. */
#include "tpm2.h"

int vt_tpm2_pcr_read(struct vt_ctx *ctx, json_object *banks, json_object *pcrs, json_object **ret)
{
        (void)ctx, (void)banks, (void)pcrs, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tpm2_quote(struct vt_ctx *ctx, const uint8_t *nonce, size_t nonce_len, const char *selection,
                  json_object **ret)
{
        (void)ctx, (void)nonce, (void)nonce_len, (void)selection, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tpm2_eventlog(struct vt_ctx *ctx, bool ima, uint64_t offset, size_t max, json_object **ret)
{
        (void)ctx, (void)ima, (void)offset, (void)max, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tpm2_ek(struct vt_ctx *ctx, json_object **ret)
{
        (void)ctx, (void)ret;
        return -EOPNOTSUPP;
}

int vt_tpm2_activate(struct vt_ctx *ctx, const uint8_t *blob, size_t blob_len,
                     const uint8_t *secret, size_t secret_len, json_object **ret)
{
        (void)ctx, (void)blob, (void)blob_len, (void)secret, (void)secret_len, (void)ret;
        return -EOPNOTSUPP;
}

const char *vt_tpm2_strerror(int r)
{
        return r == -EOPNOTSUPP ? "virtune was built without TPM support" : strerror(-r);
}
