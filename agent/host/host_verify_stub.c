/* Quote verification when virtune is built without tpm2-tss (it needs tss2-mu to unmarshal). */
#include "host_attest.h"
#include "host_verify.h"

int vt_host_verify(json_object *quote, const uint8_t *nonce, size_t nonce_len,
                   json_object *eventlog, const char *ak_pin, json_object **report)
{
        (void)quote, (void)nonce, (void)nonce_len, (void)eventlog, (void)ak_pin, (void)report;
        return -EOPNOTSUPP;
}

int vt_host_verify_sel(json_object *quote, const uint8_t *nonce, size_t nonce_len,
                       const char *selection, json_object *eventlog, const char *ak_pin,
                       json_object **report)
{
        (void)selection;
        return vt_host_verify(quote, nonce, nonce_len, eventlog, ak_pin, report);
}

int vt_host_verify_load(const char *quote_path, const char *log_path, json_object **quote,
                        json_object **eventlog, const char **bad_path)
{
        (void)quote_path, (void)log_path, (void)quote, (void)eventlog, (void)bad_path;
        return -EOPNOTSUPP;
}

int vt_attest_run(const struct vt_attest_opts *o, vt_attest_call_fn call, void *userdata,
                  json_object **report)
{
        (void)o, (void)call, (void)userdata, (void)report;
        return -EOPNOTSUPP;
}

char **vt_attest_default_cas(void)
{
        return NULL;
}

int vt_host_pcrs_text(FILE *out, json_object *value)
{
        (void)out, (void)value;
        return -EOPNOTSUPP;
}
