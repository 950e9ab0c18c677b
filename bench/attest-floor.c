/* bench/attest-floor: the library calls one guest's registration needs, timed alone: the floor. */
/*
 * attest-floor SOCKET ISSUER_PEM ROOT_PEM [ROUNDS]
 *
 * Asks the guest behind SOCKET (a fake guest with a real swtpm, bench/attest-floor) for its
 * virtune-ek and one virtune-quote once, then ROUNDS times does what `scan --attest` does for
 * one registering guest with OpenSSL and tpm2-tss, and nothing else: no JSON, no socket, no
 * thread. Every round starts from the bytes, as a distinct vTPM would (a new X509, new keys:
 * nothing parsed or computed is kept from one round to the next). Prints each call's median
 * CPU time (the thread's, so the machine's load does not count) and the median of the rounds'
 * totals: no scan design can go under that total on this OpenSSL. With VT_FLOOR_COLD=1 each
 * round first walks 64 MiB (untimed), so it starts with caches as cold as a scan's guest
 * finds them after the other guests' work.
 */
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <time.h>
#include <tss2/tss2_mu.h>
#include "codec.h"
#include "host.h"
#include "host_attest.h"
#include "host_credential.h"

enum {
        OP_D2I,
        OP_VERIFY,
        OP_EK_KEY,
        OP_EQ,
        OP_NAMES,
        OP_MAKE,
        OP_AK_KEY,
        OP_QUOTE,
        OP_HASH,
        _OP_MAX
};

static const char *const op_names[_OP_MAX] = {
        [OP_D2I] = "d2i_X509 of the EK certificate",
        [OP_VERIFY] = "X509_verify_cert against the swtpm-localca chain",
        [OP_EK_KEY] = "the EK's key from its TPM2B_PUBLIC (RSA 2048: EVP_PKEY_fromdata)",
        [OP_EQ] = "EVP_PKEY_eq: the certificate's key is the EK",
        [OP_NAMES] = "the EK's and AK's names (marshal, SHA-256)",
        [OP_MAKE] = "MakeCredential (RSA-OAEP under the EK, KDFa, AES-CFB, HMAC)",
        [OP_AK_KEY] = "the AK's key from its TPM2B_PUBLIC (P-256: EVP_PKEY_dup, the point)",
        [OP_QUOTE] = "the quote's ECDSA P-256 signature (EVP_DigestVerify, SHA-256)",
        [OP_HASH] = "the PCR digest (SHA-256 over 10 PCR values)",
};

static int64_t cpu_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static double median_us(int64_t *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_i64);
        return (n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1000.0;
}

static _Noreturn void die(const char *what)
{
        fprintf(stderr, "attest-floor: %s\n", what);
        exit(1);
}

static const char *str_at(json_object *o, const char *a, const char *b)
{
        json_object *x;
        if (!json_object_object_get_ex(o, a, &x) || (b && !json_object_object_get_ex(x, b, &x)))
                return NULL;
        return json_object_get_string(x);
}

static json_object *call(struct vt_host_conn *c, const char *execute, json_object *args)
{
        _cleanup_json_ json_object *reply = NULL;
        json_object *value = NULL;
        if (vt_host_conn_call(c, execute, args, &reply) < 0 ||
            vt_host_reply_return(reply, execute, &value) < 0 || !value)
                die(execute);
        return value;
}

static void public_at(json_object *o, const char *key, TPM2B_PUBLIC *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len, off = 0;
        const char *hex = str_at(o, key, "public");
        *ret = (TPM2B_PUBLIC){0};
        if (!hex || vt_hex_decode(hex, &buf, &len) < 0 ||
            Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, ret) != TSS2_RC_SUCCESS)
                die("a public area");
}

int main(int argc, char **argv)
{
        if (argc < 4)
                die("usage: attest-floor SOCKET ISSUER_PEM ROOT_PEM [ROUNDS]");
        int rounds = argc > 4 ? atoi(argv[4]) : 1000;
        if (rounds < 1)
                die("ROUNDS must be positive");

        /* the inputs, once: what a registering guest sends */
        struct vt_host_conn c;
        if (vt_host_conn_open(&c, argv[1], 30000) < 0)
                die("cannot reach the guest");
        _cleanup_json_ json_object *ekr = call(&c, "virtune-ek", NULL);
        uint8_t nonce[VT_ATTEST_NONCE_LEN];
        RAND_bytes(nonce, sizeof(nonce));
        struct vt_attest_opts o = {0};
        _cleanup_json_ json_object *quote =
                call(&c, "virtune-quote", vt_attest_quote_args(&o, nonce));
        vt_host_conn_close(&c);
        _cleanup_free_ uint8_t *der = NULL, *attest = NULL, *sig_buf = NULL, *sig_der = NULL;
        size_t der_len = 0, attest_len, sig_len, off = 0;
        json_object *certs = json_object_object_get(ekr, "certificates");
        for (size_t i = 0; i < json_object_array_length(certs) && !der; i++) {
                json_object *x = json_object_array_get_idx(certs, i);
                const char *key = str_at(x, "key", NULL), *b64 = str_at(x, "der", NULL);
                if (key && b64 && streq(key, "rsa2048") &&
                    vt_base64_decode(b64, &der, &der_len) < 0)
                        die("the EK certificate's base64");
        }
        if (!der)
                die("no RSA 2048 EK certificate");
        TPM2B_PUBLIC ek, ak;
        public_at(ekr, "ek", &ek);
        public_at(ekr, "ak", &ak);
        TPMT_SIGNATURE sig = {0};
        const char *ahex = str_at(quote, "attest", NULL),
                   *shex = str_at(quote, "signature", "tpmt");
        if (!ahex || !shex || vt_hex_decode(ahex, &attest, &attest_len) < 0 ||
            vt_hex_decode(shex, &sig_buf, &sig_len) < 0 ||
            Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig_buf, sig_len, &off, &sig) != TSS2_RC_SUCCESS ||
            sig.sigAlg != TPM2_ALG_ECDSA)
                die("the quote (an ECDSA AK's)");
        /* the TPM's r and s as a DER ECDSA-Sig-Value (virtune does it per guest too: cheap) */
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es,
                       BN_bin2bn(sig.signature.ecdsa.signatureR.buffer,
                                 sig.signature.ecdsa.signatureR.size, NULL),
                       BN_bin2bn(sig.signature.ecdsa.signatureS.buffer,
                                 sig.signature.ecdsa.signatureS.size, NULL));
        int sig_der_len = i2d_ECDSA_SIG(es, &sig_der);
        ECDSA_SIG_free(es);
        /* the trust anchors: once per scan in virtune-host too */
        char *files[] = {argv[2], argv[3]};
        X509_STORE *trust = NULL;
        uint8_t fp[VT_CRED_ANCHORS_FP_LEN];
        char why[256];
        if (vt_cred_trust_load(files, 2, &trust, fp, why, sizeof(why)) < 0)
                die(why);
        uint8_t pcrs[10 * 32];
        RAND_bytes(pcrs, sizeof(pcrs));

        const char *cold_env = getenv("VT_FLOOR_COLD");
        bool cold = cold_env && streq(cold_env, "1");
        size_t cold_len = cold ? 64u << 20 : 0;
        volatile uint8_t *junk = cold ? calloc(cold_len, 1) : NULL;
        if (cold && !junk)
                die("out of memory");
        int64_t *t[_OP_MAX], *total = calloc((size_t)rounds, sizeof(*total));
        for (int k = 0; k < _OP_MAX; k++)
                if (!(t[k] = calloc((size_t)rounds, sizeof(**t))))
                        die("out of memory");
        for (int i = -rounds / 10; i < rounds; i++) { /* a tenth first, untimed: warm-up */
                int64_t s[_OP_MAX + 1];
                const uint8_t *p = der;
                for (size_t k = 0; k < cold_len; k += 64)
                        junk[k]++;
                s[OP_D2I] = cpu_ns();
                X509 *cert = d2i_X509(NULL, &p, (long)der_len);
                s[OP_VERIFY] = cpu_ns();
                X509_STORE_CTX *ctx = X509_STORE_CTX_new();
                bool ok = cert && ctx && X509_STORE_CTX_init(ctx, trust, cert, NULL) == 1 &&
                          X509_verify_cert(ctx) == 1;
                X509_STORE_CTX_free(ctx);
                s[OP_EK_KEY] = cpu_ns();
                EVP_PKEY *ek_key = vt_cred_pkey(&ek.publicArea);
                s[OP_EQ] = cpu_ns();
                ok = ok && EVP_PKEY_eq(X509_get0_pubkey(cert), ek_key) == 1;
                X509_free(cert);
                s[OP_NAMES] = cpu_ns();
                TPM2B_NAME ek_name, ak_name;
                ok = ok && vt_cred_name(&ek.publicArea, &ek_name) >= 0 &&
                     vt_cred_name(&ak.publicArea, &ak_name) >= 0;
                s[OP_MAKE] = cpu_ns();
                uint8_t cred[32], *blob = NULL, *secret = NULL;
                size_t blob_len, secret_len;
                ok = ok && RAND_bytes(cred, sizeof(cred)) == 1 &&
                     vt_cred_make_key(&ek.publicArea, ek_key, &ak_name, cred, sizeof(cred), &blob,
                                      &blob_len, &secret, &secret_len) >= 0;
                free(blob);
                free(secret);
                EVP_PKEY_free(ek_key);
                s[OP_AK_KEY] = cpu_ns();
                EVP_PKEY *ak_key = vt_cred_pkey(&ak.publicArea);
                s[OP_QUOTE] = cpu_ns();
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                ok = ok && ak_key && md &&
                     EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ak_key) == 1 &&
                     EVP_DigestVerify(md, sig_der, (size_t)sig_der_len, attest, attest_len) == 1;
                EVP_MD_CTX_free(md);
                EVP_PKEY_free(ak_key);
                s[OP_HASH] = cpu_ns();
                uint8_t digest[32];
                unsigned dl = 0;
                ok = ok && EVP_Digest(pcrs, sizeof(pcrs), digest, &dl, EVP_sha256(), NULL) == 1;
                s[_OP_MAX] = cpu_ns();
                if (!ok) {
                        ERR_print_errors_fp(stderr);
                        die("a check failed on the guest's own inputs");
                }
                if (i < 0)
                        continue;
                for (int k = 0; k < _OP_MAX; k++)
                        t[k][i] = s[k + 1] - s[k];
                total[i] = s[_OP_MAX] - s[0];
        }
        double sum = 0;
        printf("attest-floor: %d rounds%s, median CPU time per call (us):\n", rounds,
               cold ? " (cold caches)" : "");
        for (int k = 0; k < _OP_MAX; k++) {
                double m = median_us(t[k], rounds);
                sum += m;
                printf("  %8.1f  %s\n", m, op_names[k]);
                free(t[k]);
        }
        printf("  %8.1f  sum of the medians\nfloor: %.3f ms per registering guest (median of the "
               "rounds' totals)\n",
               sum, median_us(total, rounds) / 1000.0);
        free(total);
        free((void *)junk);
        vt_cred_trust_free(trust);
        return 0;
}
