/* MakeCredential in software (OpenSSL) and the EK certificate check against the host's CAs. */
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <time.h>
#include <tss2/tss2_mu.h>
#include "host_credential.h"
#include "tpm2_pub.h"
#include "tpm2_sel.h"

const EVP_MD *vt_cred_md(TPMI_ALG_HASH alg)
{
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static struct {
                TPMI_ALG_HASH alg;
                EVP_MD *md;
        } fetched[8];
        const struct vt_pcr_bank *b = vt_pcr_bank_by_alg(alg);
        EVP_MD *md = NULL;
        if (!b)
                return NULL;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < ARRAY_SIZE(fetched); i++) {
                if (fetched[i].md && fetched[i].alg == alg) {
                        md = fetched[i].md;
                        break;
                }
                if (!fetched[i].md) {
                        if ((md = EVP_MD_fetch(NULL, b->evp, NULL))) {
                                fetched[i].alg = alg;
                                fetched[i].md = md;
                        }
                        break;
                }
        }
        pthread_mutex_unlock(&lock);
        return md;
}

int vt_cred_name(const TPMT_PUBLIC *pub, TPM2B_NAME *ret)
{
        uint8_t buf[sizeof(TPMT_PUBLIC)];
        size_t off = 0;
        const EVP_MD *md = vt_cred_md(pub->nameAlg);
        unsigned n = 0;
        if (!md)
                return -EOPNOTSUPP;
        if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return -EINVAL;
        ret->name[0] = (uint8_t)(pub->nameAlg >> 8);
        ret->name[1] = (uint8_t)pub->nameAlg;
        if (!EVP_Digest(buf, off, ret->name + 2, &n, md, NULL))
                return -EIO;
        ret->size = (UINT16)(2 + n);
        return 0;
}

/* KDFa (Part 1, 11.4.10.2): HMAC counter mode; label includes its terminating NUL. */
static int kdfa(const EVP_MD *md, const uint8_t *key, size_t key_len, const char *label,
                const uint8_t *u, size_t u_len, uint8_t *out, size_t bits)
{
        size_t need = (bits + 7) / 8, done = 0;
        for (uint32_t i = 1; done < need; i++) {
                uint8_t msg[4 + 32 + sizeof(TPMU_NAME) + 4], h[EVP_MAX_MD_SIZE];
                size_t ll = strlen(label) + 1, m = 0;
                unsigned hl = 0;
                if (ll > 32 || u_len > sizeof(TPMU_NAME))
                        return -EINVAL;
                const uint8_t ctr[4] = {i >> 24, i >> 16, i >> 8, i};
                const uint8_t nb[4] = {bits >> 24, bits >> 16, bits >> 8, bits};
                memcpy(msg + m, ctr, 4), m += 4;
                memcpy(msg + m, label, ll), m += ll;
                if (u_len)
                        memcpy(msg + m, u, u_len), m += u_len;
                memcpy(msg + m, nb, 4), m += 4;
                if (!HMAC(md, key, (int)key_len, msg, m, h, &hl))
                        return -EIO;
                size_t k = need - done < hl ? need - done : hl;
                memcpy(out + done, h, k);
                done += k;
        }
        return 0;
}

/*
 * A key holding only the curve's parameters, made once per curve (curve: tpm2_pub.c's static
 * names) and kept for the process: an ECC key is a copy of it given its point
 * (EVP_PKEY_set1_encoded_public_key refuses a point off the curve, as EVP_PKEY_fromdata does),
 * a quarter of the CPU of making the group anew for each key (P-256: 7 against 28 us here).
 */
static EVP_PKEY *ec_params(const char *curve)
{
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static struct {
                const char *curve;
                EVP_PKEY *key;
        } made[4];
        EVP_PKEY *key = NULL;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < ARRAY_SIZE(made) && !key; i++) {
                if (made[i].curve) {
                        if (streq(made[i].curve, curve))
                                key = made[i].key;
                        continue;
                }
                OSSL_PARAM p[] = {
                        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve, 0),
                        OSSL_PARAM_END};
                EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
                if (c && EVP_PKEY_fromdata_init(c) == 1 &&
                    EVP_PKEY_fromdata(c, &key, EVP_PKEY_KEY_PARAMETERS, p) == 1) {
                        made[i].curve = curve;
                        made[i].key = key;
                }
                EVP_PKEY_CTX_free(c);
                break;
        }
        pthread_mutex_unlock(&lock);
        return key;
}

/* An ECC public key: the curve's parameters with this point. */
static EVP_PKEY *ec_key(const char *curve, const uint8_t *point, size_t len)
{
        EVP_PKEY *params = ec_params(curve), *key = params ? EVP_PKEY_dup(params) : NULL;
        if (key && EVP_PKEY_set1_encoded_public_key(key, point, len) != 1) {
                EVP_PKEY_free(key);
                key = NULL;
        }
        return key;
}

/*
 * The key built from its parameters (EVP_PKEY_fromdata; an ECC key from its curve's, above):
 * OpenSSL 3.0's DER decoders (d2i_PUBKEY) set up a decoder context per call, most of a fleet
 * scan's CPU time once.
 */
EVP_PKEY *vt_cred_pkey(const TPMT_PUBLIC *pub)
{
        uint8_t point[VT_TPM2_ECC_POINT_MAX];
        size_t point_len;
        const char *curve;
        if (pub->type != TPM2_ALG_RSA) {
                EVP_PKEY *key = vt_tpm2_ecc_point(pub, point, &point_len, &curve) >= 0
                                        ? ec_key(curve, point, point_len)
                                        : NULL;
                ERR_clear_error();
                return key;
        }
        if (pub->unique.rsa.size == 0 || pub->unique.rsa.size > TPM2_MAX_RSA_KEY_BYTES)
                return NULL;
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *c = NULL;
        EVP_PKEY *key = NULL;
        uint32_t exp = pub->parameters.rsaDetail.exponent;
        BIGNUM *n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL), *e = BN_new();
        bool ok = bld && n && e && BN_set_word(e, exp ? exp : 65537) &&
                  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
                  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
                  (params = OSSL_PARAM_BLD_to_param(bld)) &&
                  (c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
                  EVP_PKEY_fromdata_init(c) == 1 &&
                  EVP_PKEY_fromdata(c, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
        if (!ok) {
                EVP_PKEY_free(key);
                key = NULL;
                ERR_clear_error();
        }
        EVP_PKEY_CTX_free(c);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        BN_free(n);
        BN_free(e);
        return key;
}

/* RSA-OAEP of the seed under the EK, label "IDENTITY" (Part 1, B.10.3). */
static int oaep_encrypt(EVP_PKEY *key, const EVP_MD *md, const uint8_t *seed, size_t seed_len,
                        uint8_t *out, size_t *out_len)
{
        static const char label[] = "IDENTITY";
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
        char *l = OPENSSL_memdup(label, sizeof(label)); /* the context takes it */
        bool ok = c && l && EVP_PKEY_encrypt_init(c) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_rsa_oaep_md(c, md) == 1 &&
                  EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) == 1 &&
                  EVP_PKEY_CTX_set0_rsa_oaep_label(c, l, (int)sizeof(label)) == 1;
        if (ok)
                l = NULL;
        ok = ok && EVP_PKEY_encrypt(c, out, out_len, seed, seed_len) == 1;
        OPENSSL_free(l);
        EVP_PKEY_CTX_free(c);
        return ok ? 0 : -EIO;
}

static int cfb_encrypt(const uint8_t *key, size_t key_bits, const uint8_t *in, size_t len,
                       uint8_t *out)
{
        static const uint8_t iv[16];
        const EVP_CIPHER *cipher = key_bits == 128   ? EVP_aes_128_cfb128()
                                   : key_bits == 192 ? EVP_aes_192_cfb128()
                                   : key_bits == 256 ? EVP_aes_256_cfb128()
                                                     : NULL;
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n = 0, f = 0;
        bool ok = cipher && c && EVP_EncryptInit_ex(c, cipher, NULL, key, iv) == 1 &&
                  EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
                  EVP_EncryptFinal_ex(c, out + n, &f) == 1 && (size_t)(n + f) == len;
        EVP_CIPHER_CTX_free(c);
        return ok ? 0 : -EIO;
}

int vt_cred_make(const TPMT_PUBLIC *ek, const TPM2B_NAME *name, const uint8_t *cred,
                 size_t cred_len, uint8_t **blob, size_t *blob_len, uint8_t **secret,
                 size_t *secret_len)
{
        EVP_PKEY *key = vt_cred_pkey(ek);
        int r = key ? vt_cred_make_key(ek, key, name, cred, cred_len, blob, blob_len, secret,
                                       secret_len)
                    : -EINVAL;
        EVP_PKEY_free(key);
        return r;
}

int vt_cred_make_key(const TPMT_PUBLIC *ek, EVP_PKEY *key, const TPM2B_NAME *name,
                     const uint8_t *cred, size_t cred_len, uint8_t **blob, size_t *blob_len,
                     uint8_t **secret, size_t *secret_len)
{
        const TPMT_SYM_DEF_OBJECT *sym = &ek->parameters.rsaDetail.symmetric;
        const EVP_MD *md = vt_cred_md(ek->nameAlg);
        if (!key)
                return -EINVAL;
        if (ek->type != TPM2_ALG_RSA || sym->algorithm != TPM2_ALG_AES ||
            sym->mode.aes != TPM2_ALG_CFB || !md)
                return -EOPNOTSUPP;
        size_t dlen = (size_t)EVP_MD_get_size(md);
        if (cred_len == 0 || cred_len > dlen)
                return -EINVAL;

        uint8_t seed[EVP_MAX_MD_SIZE], sym_key[32], hmac_key[EVP_MAX_MD_SIZE];
        if (RAND_bytes(seed, (int)dlen) != 1)
                return -EIO;
        int r = kdfa(md, seed, dlen, "STORAGE", name->name, name->size, sym_key, sym->keyBits.aes);
        if (r >= 0)
                r = kdfa(md, seed, dlen, "INTEGRITY", NULL, 0, hmac_key, 8 * dlen);
        if (r < 0)
                return r;

        /* encIdentity: CFB over the marshalled TPM2B_DIGEST of the credential */
        uint8_t plain[2 + EVP_MAX_MD_SIZE], id[sizeof(TPMU_ENCRYPTED_SECRET)];
        plain[0] = (uint8_t)(cred_len >> 8);
        plain[1] = (uint8_t)cred_len;
        memcpy(plain + 2, cred, cred_len);
        size_t enc_len = 2 + cred_len, hl = 2 + dlen;
        TPM2B_ID_OBJECT idobj = {.size = (UINT16)(hl + enc_len)};
        r = cfb_encrypt(sym_key, sym->keyBits.aes, plain, enc_len, idobj.credential + hl);
        if (r < 0)
                return r;
        /* integrity: HMAC(INTEGRITY key, encIdentity || name), as a TPM2B_DIGEST in front */
        uint8_t mac_in[sizeof(id) + sizeof(TPMU_NAME)];
        memcpy(mac_in, idobj.credential + hl, enc_len);
        memcpy(mac_in + enc_len, name->name, name->size);
        unsigned ml = 0;
        if (!HMAC(md, hmac_key, (int)dlen, mac_in, enc_len + name->size, idobj.credential + 2,
                  &ml) ||
            ml != dlen)
                return -EIO;
        idobj.credential[0] = (uint8_t)(dlen >> 8);
        idobj.credential[1] = (uint8_t)dlen;

        TPM2B_ENCRYPTED_SECRET enc = {0};
        size_t out_len = sizeof(enc.secret);
        r = oaep_encrypt(key, md, seed, dlen, enc.secret, &out_len);
        OPENSSL_cleanse(seed, sizeof(seed));
        OPENSSL_cleanse(sym_key, sizeof(sym_key));
        OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
        if (r < 0)
                return r;
        enc.size = (UINT16)out_len;

        _cleanup_free_ uint8_t *b = malloc(sizeof(TPM2B_ID_OBJECT));
        _cleanup_free_ uint8_t *s = malloc(sizeof(TPM2B_ENCRYPTED_SECRET));
        size_t bo = 0, so = 0;
        if (!b || !s)
                return -ENOMEM;
        if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(&idobj, b, sizeof(TPM2B_ID_OBJECT), &bo) ||
            Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&enc, s, sizeof(TPM2B_ENCRYPTED_SECRET), &so))
                return -EIO;
        *blob = TAKE_PTR(b);
        *blob_len = bo;
        *secret = TAKE_PTR(s);
        *secret_len = so;
        return 0;
}

int vt_cred_trust_load(char *const *files, size_t n, X509_STORE **ret,
                       uint8_t fp[VT_CRED_ANCHORS_FP_LEN], char *why, size_t whylen)
{
        X509_STORE *store = X509_STORE_new();
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!store || !md || EVP_DigestInit_ex(md, vt_cred_md(TPM2_ALG_SHA256), NULL) != 1) {
                X509_STORE_free(store);
                EVP_MD_CTX_free(md);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_fclose_ FILE *f = fopen(files[i], "re");
                if (!f) {
                        int r = -errno;
                        snprintf(why, whylen, "cannot read the CA file %s: %s", files[i],
                                 strerror(-r));
                        X509_STORE_free(store);
                        EVP_MD_CTX_free(md);
                        return r;
                }
                unsigned count = 0;
                X509 *x;
                bool hashed = true;
                while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
                        uint8_t *der = NULL;
                        int dl = i2d_X509(x, &der);
                        hashed = hashed && dl > 0 && EVP_DigestUpdate(md, der, (size_t)dl) == 1;
                        OPENSSL_free(der);
                        X509_STORE_add_cert(store, x);
                        X509_free(x);
                        count++;
                }
                ERR_clear_error();
                if (count == 0 || !hashed) {
                        snprintf(why, whylen, "%s holds no PEM certificate", files[i]);
                        X509_STORE_free(store);
                        EVP_MD_CTX_free(md);
                        return -EBADMSG;
                }
        }
        unsigned fl = 0;
        bool ok = EVP_DigestFinal_ex(md, fp, &fl) == 1 && fl == VT_CRED_ANCHORS_FP_LEN;
        EVP_MD_CTX_free(md);
        if (!ok) {
                X509_STORE_free(store);
                return -EIO;
        }
        /* every anchor is the host's own: an intermediate (issuercert) is enough */
        X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
        *ret = store;
        return 0;
}

void vt_cred_trust_free(X509_STORE *store)
{
        X509_STORE_free(store);
}

static int64_t asn1_time(const ASN1_TIME *t, bool *ok)
{
        struct tm tm;
        if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
                *ok = false;
                return 0;
        }
        return (int64_t)timegm(&tm);
}

/* The window in which every certificate of the chain is valid. */
static bool chain_window(X509_STORE_CTX *ctx, struct vt_cred_window *w)
{
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        bool ok = chain && sk_X509_num(chain) > 0;
        *w = (struct vt_cred_window){INT64_MIN, INT64_MAX};
        for (int i = 0; ok && i < sk_X509_num(chain); i++) {
                X509 *x = sk_X509_value(chain, i);
                int64_t nb = asn1_time(X509_get0_notBefore(x), &ok),
                        na = asn1_time(X509_get0_notAfter(x), &ok);
                w->not_before = nb > w->not_before ? nb : w->not_before;
                w->not_after = na < w->not_after ? na : w->not_after;
        }
        return ok;
}

int vt_cred_ek_cert_check(const uint8_t *der, size_t len, EVP_PKEY *key, X509_STORE *trust,
                          struct vt_cred_window *window, char *why, size_t whylen)
{
        const uint8_t *p = der;
        X509 *cert = d2i_X509(NULL, &p, (long)len);
        if (!cert || p != der + len) {
                X509_free(cert);
                snprintf(why, whylen, "the EK certificate is not DER X.509");
                return 0;
        }
        if (!key) {
                X509_free(cert);
                snprintf(why, whylen, "the EK's public area is not a key OpenSSL takes");
                return 0;
        }
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        int r = ctx && X509_STORE_CTX_init(ctx, trust, cert, NULL) == 1 ? 0 : -ENOMEM;
        if (r >= 0) {
                if (X509_verify_cert(ctx) != 1) {
                        snprintf(why, whylen,
                                 "the EK certificate does not chain to a trusted CA: %s",
                                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
                        r = 0;
                } else if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
                        snprintf(why, whylen, "the EK certificate certifies another key");
                        r = 0;
                } else if (window && !chain_window(ctx, window)) {
                        snprintf(why, whylen, "the EK certificate chain's validity is unreadable");
                        r = 0;
                } else {
                        snprintf(why, whylen, "chains to a trusted CA and certifies the EK");
                        r = 1;
                }
        }
        X509_STORE_CTX_free(ctx);
        X509_free(cert);
        return r;
}
