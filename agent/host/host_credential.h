/* The host's half of binding an AK to a TPM: MakeCredential in software, the EK certificate. */
#pragma once

#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>
#include "util.h"

/* The TPM name of a public area: nameAlg (2 bytes, big endian) || H(marshalled TPMT_PUBLIC). */
int vt_cred_name(const TPMT_PUBLIC *pub, TPM2B_NAME *ret);

/*
 * TPM2_MakeCredential done by the host (TPM 2.0 Part 1, 24): the credential sealed for the
 * object called name under the RSA EK ek, as the marshalled TPM2B_ID_OBJECT (*blob) and
 * TPM2B_ENCRYPTED_SECRET (*secret) that the guest's TPM2_ActivateCredential takes. Only a TPM
 * holding that EK's private key, with that object loaded, gives the credential back.
 * -EOPNOTSUPP for an EK that is not RSA with AES-CFB (the TCG templates' symmetric).
 */
int vt_cred_make(const TPMT_PUBLIC *ek, const TPM2B_NAME *name, const uint8_t *cred,
                 size_t cred_len, uint8_t **blob, size_t *blob_len, uint8_t **secret,
                 size_t *secret_len);

/*
 * Whether the EK certificate (DER) chains to one of the trust anchors (PEM files, each may hold
 * several certificates; the host's own, never the guest's) and certifies the key ek. Returns 1
 * (trusted), 0 (not: *why says why), or -errno when a CA file cannot be read (*why names it).
 */
int vt_cred_ek_cert_check(const uint8_t *der, size_t len, const TPMT_PUBLIC *ek,
                          char *const *ca_files, size_t n_ca, char *why, size_t whylen);
