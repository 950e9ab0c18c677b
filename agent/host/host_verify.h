/* Host-side verification of a guest's quote, PCRs and event log (virtune-host verify). */
#pragma once

#include <stdio.h>
#include "util.h"

/*
 * quote: the guest's virtune-quote reply ("return" value); nonce: what we sent; eventlog: the
 * virtune-eventlog reply or NULL; ak_pin: a file holding the trusted AK public key, or NULL.
 * *report: {"ok": bool, "checks": [{"name", "ok", "detail"}...]}. Returns 0 when it could run
 * the checks (whatever their outcome) or -errno.
 */
int vt_host_verify(json_object *quote, const uint8_t *nonce, size_t nonce_len,
                   json_object *eventlog, const char *ak_pin, json_object **report);
/*
 * The same, with the selection the host asked for ("sha256:0-9"); NULL checks the quoted
 * selection against the one the reply names. -EBADMSG when the reply is malformed.
 */
int vt_host_verify_sel(json_object *quote, const uint8_t *nonce, size_t nonce_len,
                       const char *selection, json_object *eventlog, const char *ak_pin,
                       json_object **report);
/*
 * What `virtune-host verify --from-files` reads: the quote saved with `virtune quote --json` and,
 * when log_path is not NULL, the event log, binary (`virtune-host eventlog -o`, securityfs) or as
 * `virtune eventlog --json` printed it. Files are bounded; -EBADMSG when one is not what it
 * should be, -errno when it cannot be read; *bad_path then names it. *eventlog may be NULL.
 */
int vt_host_verify_load(const char *quote_path, const char *log_path, json_object **quote,
                        json_object **eventlog, const char **bad_path);
/* The binary log of a virtune-eventlog reply ({"log": base64}), bounded; -EBADMSG. */
int vt_host_eventlog_decode(json_object *eventlog, uint8_t **ret, size_t *len);

/*
 * A virtune-pcr-read reply ({"banks": ...}) in tpm2_pcrread's layout, the one `virtune pcrs`
 * prints in the guest; -EOPNOTSUPP without TPM support (the caller falls back to the text).
 */
int vt_host_pcrs_text(FILE *out, json_object *value);
