/* Quote verification (placeholder until the TPM work lands). */
#include "host_verify.h"

int vt_host_verify(json_object *quote, const uint8_t *nonce, size_t nonce_len,
                   json_object *eventlog, const char *ak_pin, json_object **report)
{
        (void)quote, (void)nonce, (void)nonce_len, (void)eventlog, (void)ak_pin, (void)report;
        return -EOPNOTSUPP;
}
