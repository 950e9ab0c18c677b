/* The host's half of binding an AK to a TPM: MakeCredential in software, the EK certificate. */
#pragma once

#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>
#include "util.h"

struct evp_md_st;
struct evp_pkey_st;
struct x509_store_st;

/*
 * The digest of a TPM hash algorithm (a PCR bank's), fetched once for the process and shared
 * read-only: OpenSSL 3.0 fetches a legacy EVP_MD (EVP_sha256(), EVP_get_digestbyname) anew in
 * every EVP_DigestInit_ex. NULL for an algorithm that is not a bank's.
 */
const struct evp_md_st *vt_cred_md(TPMI_ALG_HASH alg);

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
/* The same under ek_key, ek's key as vt_cred_pkey built it (one key per guest, not one per use). */
int vt_cred_make_key(const TPMT_PUBLIC *ek, struct evp_pkey_st *ek_key, const TPM2B_NAME *name,
                     const uint8_t *cred, size_t cred_len, uint8_t **blob, size_t *blob_len,
                     uint8_t **secret, size_t *secret_len);

/* The key of a public area (RSA, ECC P-256/P-384) for OpenSSL, or NULL. Caller frees. */
struct evp_pkey_st *vt_cred_pkey(const TPMT_PUBLIC *pub);

#define VT_CRED_ANCHORS_FP_LEN 32

/*
 * The trust anchors for EK certificates (PEM files, each may hold several certificates; the
 * host's own, never the guest's) in one store, loaded once and then shared read-only by every
 * check (X509_STORE is safe for concurrent verification). fp: the SHA-256 over the anchors' DER
 * in the order read, which names this set of anchors (a recorded verification holds only for
 * the same set). -errno when a file cannot be read or holds no certificate (*why names it).
 */
int vt_cred_trust_load(char *const *ca_files, size_t n_ca, struct x509_store_st **ret,
                       uint8_t fp[VT_CRED_ANCHORS_FP_LEN], char *why, size_t whylen);
void vt_cred_trust_free(struct x509_store_st *trust);

/* When a verified chain holds: the latest notBefore and the earliest notAfter of its members. */
struct vt_cred_window {
        int64_t not_before, not_after; /* seconds since the epoch */
};

/*
 * Whether the EK certificate (DER) chains to an anchor of trust and certifies the key ek_key
 * (the EK's, vt_cred_pkey). Returns 1 (trusted; *window, if not NULL, when that chain is
 * valid), 0 (not: *why says why), or -ENOMEM.
 */
int vt_cred_ek_cert_check(const uint8_t *der, size_t len, struct evp_pkey_st *ek_key,
                          struct x509_store_st *trust, struct vt_cred_window *window, char *why,
                          size_t whylen);
