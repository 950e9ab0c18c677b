/* A TPM public key (TPMT_PUBLIC) as DER SubjectPublicKeyInfo and PEM, for OpenSSL and humans. */
#pragma once

#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>
#include "util.h"

/* ECC NIST P-256/P-384 and RSA keys; -EOPNOTSUPP for other types or curves. Caller frees. */
int vt_tpm2_pub_to_der(const TPMT_PUBLIC *pub, uint8_t **ret, size_t *ret_len);
/* "-----BEGIN PUBLIC KEY-----\n...": caller frees. */
int vt_tpm2_pub_to_pem(const TPMT_PUBLIC *pub, char **ret);
