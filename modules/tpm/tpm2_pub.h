/* A TPM public key (TPMT_PUBLIC) as DER SubjectPublicKeyInfo and PEM, for OpenSSL and humans. */
#pragma once

#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>
#include "util.h"

/* ECC NIST P-256/P-384 and RSA keys; -EOPNOTSUPP for other types or curves. Caller frees. */
int vt_tpm2_pub_to_der(const TPMT_PUBLIC *pub, uint8_t **ret, size_t *ret_len);
/* "-----BEGIN PUBLIC KEY-----\n...": caller frees. */
int vt_tpm2_pub_to_pem(const TPMT_PUBLIC *pub, char **ret);

/* The longest uncompressed point vt_tpm2_ecc_point() writes (P-384: 0x04 || x || y). */
#define VT_TPM2_ECC_POINT_MAX (1 + 2 * 48)
/*
 * An ECC key's public point uncompressed (0x04 || x || y, each padded to the curve's size) and
 * its curve's OpenSSL group name (may be NULL). -EOPNOTSUPP: not ECC P-256/P-384.
 */
int vt_tpm2_ecc_point(const TPMT_PUBLIC *pub, uint8_t point[VT_TPM2_ECC_POINT_MAX], size_t *len,
                      const char **curve);
