/* Host-side verification of a guest's quote: signature, nonce, PCR digest, event log replay. */
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>
#include "codec.h"
#include "ctx.h"
#include "tpm2_pub.h"
#include "tpm2_sel.h"
#include "host_checks.h"
#include "host_credential.h"
#include "host_verify.h"
#include "tpm_eventlog.h"

/* What a guest may send us, bounded: a quote is a few KB, an event log a few MB. */
#define QUOTE_FIELD_MAX (16u << 10)
#define EVENTLOG_MAX    (64u << 20)
#define QUOTE_FILE_MAX  (1u << 20)
#define JSON_DEPTH_MAX  8

/* A hex field of the quote (a.b for nested), bounded. */
static int get_hex(json_object *o, const char *a, const char *b, uint8_t **ret, size_t *len)
{
        json_object *x;
        if (!json_object_object_get_ex(o, a, &x) || (b && !json_object_object_get_ex(x, b, &x)) ||
            !json_object_is_type(x, json_type_string) ||
            (size_t)json_object_get_string_len(x) > 2 * QUOTE_FIELD_MAX)
                return -EBADMSG;
        return vt_hex_decode(json_object_get_string(x), ret, len) < 0 ? -EBADMSG : 0;
}

static bool verify_sig(EVP_PKEY *key, const TPMT_SIGNATURE *sig, const uint8_t *msg, size_t msg_len,
                       const char **why)
{
        const EVP_MD *md = vt_cred_md(sig->signature.any.hashAlg);
        uint8_t *der = NULL;
        int der_len = -1;
        if (!md) {
                *why = "unsupported signature hash";
                return false;
        }
        if (sig->sigAlg == TPM2_ALG_ECDSA) {
                /* the TPM gives r and s; OpenSSL wants them as a DER ECDSA-Sig-Value */
                ECDSA_SIG *es = ECDSA_SIG_new();
                BIGNUM *r = BN_bin2bn(sig->signature.ecdsa.signatureR.buffer,
                                      sig->signature.ecdsa.signatureR.size, NULL);
                BIGNUM *s = BN_bin2bn(sig->signature.ecdsa.signatureS.buffer,
                                      sig->signature.ecdsa.signatureS.size, NULL);
                if (es && r && s && ECDSA_SIG_set0(es, r, s))
                        der_len = i2d_ECDSA_SIG(es, &der);
                else
                        BN_free(r), BN_free(s);
                ECDSA_SIG_free(es);
        } else if (sig->sigAlg == TPM2_ALG_RSASSA) {
                der_len = sig->signature.rsassa.sig.size;
        } else {
                *why = "unsupported signature algorithm";
                return false;
        }
        const uint8_t *s = sig->sigAlg == TPM2_ALG_ECDSA ? der : sig->signature.rsassa.sig.buffer;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        bool ok = der_len > 0 && c && EVP_DigestVerifyInit(c, NULL, md, NULL, key) == 1 &&
                  EVP_DigestVerify(c, s, (size_t)der_len, msg, msg_len) == 1;
        EVP_MD_CTX_free(c);
        OPENSSL_free(der);
        *why = ok ? "valid" : "does not verify with the AK";
        return ok;
}

/* Trust on first use: the first AK seen is written to the pin; later ones must match it. */
static void check_pin(struct vt_checks *v, const char *pin, const char *pem)
{
        _cleanup_close_ int fd = open(pin, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                fd = open(pin, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                bool ok = fd >= 0 && write(fd, pem, strlen(pem)) == (ssize_t)strlen(pem);
                vt_check(v, "ak-pin", ok, ok ? "first use: AK pinned in %s" : "cannot write %s: %m",
                         pin);
                return;
        }
        char buf[4096];
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (n < 0) {
                vt_check(v, "ak-pin", false, "cannot read %s: %m", pin);
                return;
        }
        buf[n] = 0;
        bool ok = streq(buf, pem);
        vt_check(v, "ak-pin", ok, ok ? "AK matches %s" : "AK differs from the one pinned in %s",
                 pin);
}

/* The reported PCR value for (bank, pcr), checked to have the bank's size. */
static int reported(json_object *pcrs, const struct vt_pcr_bank *b, unsigned pcr, uint8_t *out)
{
        json_object *bank, *v;
        char key[8];
        snprintf(key, sizeof(key), "%u", pcr);
        _cleanup_free_ uint8_t *d = NULL;
        size_t len;
        if (!b || !json_object_object_get_ex(pcrs, b->name, &bank) ||
            !json_object_object_get_ex(bank, key, &v) ||
            vt_hex_decode(json_object_get_string(v), &d, &len) < 0 || len != b->size)
                return -ENOENT;
        memcpy(out, d, len);
        return 0;
}

/* pcrDigest = H(the selected PCR values in selection order), H the signing scheme's hash. */
static void check_pcr_digest(struct vt_checks *v, const TPMS_QUOTE_INFO *q, TPMI_ALG_HASH hash,
                             json_object *pcrs)
{
        const EVP_MD *md = vt_cred_md(hash);
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        uint8_t out[EVP_MAX_MD_SIZE];
        unsigned n = 0, count = 0;
        bool ok = md && c && EVP_DigestInit_ex(c, md, NULL);
        for (uint32_t i = 0; ok && i < q->pcrSelect.count && i < TPM2_NUM_PCR_BANKS; i++) {
                const TPMS_PCR_SELECTION *s = &q->pcrSelect.pcrSelections[i];
                const struct vt_pcr_bank *b = vt_pcr_bank_by_alg(s->hash);
                for (unsigned p = 0; ok && p < 8u * s->sizeofSelect; p++) {
                        uint8_t val[64];
                        if (!vt_pcrsel_test(s, p))
                                continue;
                        if (reported(pcrs, b, p, val) < 0) {
                                EVP_MD_CTX_free(c);
                                vt_check(v, "pcr-digest", false,
                                         "PCR %s:%u is missing from the reply", b ? b->name : "?",
                                         p);
                                return;
                        }
                        ok = EVP_DigestUpdate(c, val, b->size);
                        count++;
                }
        }
        ok = ok && EVP_DigestFinal_ex(c, out, &n);
        EVP_MD_CTX_free(c);
        ok = ok && n == q->pcrDigest.size && memcmp(out, q->pcrDigest.buffer, n) == 0;
        vt_check(v, "pcr-digest", ok,
                 ok ? "the %u reported PCR values hash to the quoted digest"
                    : "the %u reported PCR values do not hash to the quoted digest",
                 count);
}

int vt_host_eventlog_decode(json_object *eventlog, uint8_t **ret, size_t *len)
{
        json_object *x;
        if (!json_object_object_get_ex(eventlog, "log", &x) ||
            !json_object_is_type(x, json_type_string))
                return -EBADMSG;
        size_t n = (size_t)json_object_get_string_len(x);
        if (n > EVENTLOG_MAX / 3 * 4 || n % 4 || strlen(json_object_get_string(x)) != n)
                return -EBADMSG;
        int r = vt_base64_decode(json_object_get_string(x), ret, len);
        return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
}

/* Replays the log; every reported PCR the firmware owns (0-9) or the log touches must match. */
static void check_eventlog(struct vt_checks *v, json_object *eventlog, json_object *pcrs)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        struct vt_evlog log;
        uint64_t algs = 0; /* only the banks the quote reports are compared: replay only those */
        json_object_object_foreach (pcrs, bank, unused) {
                const struct vt_pcr_bank *b = vt_pcr_bank_by_name(bank);
                if (b && b->alg < 64)
                        algs |= UINT64_C(1) << b->alg;
                (void)unused;
        }
        int r = vt_host_eventlog_decode(eventlog, &buf, &len);
        if (r < 0 || (r = vt_evlog_replay_only(buf, len, algs, &log)) < 0) {
                vt_check(v, "eventlog-replay", false, "cannot replay the event log: %s",
                         r == -EBADMSG ? "malformed" : strerror(-r));
                return;
        }
        unsigned compared = 0;
        char bad[256] = "";
        size_t nb = 0;
        json_object_object_foreach (pcrs, name, values) {
                const struct vt_pcr_bank *b = vt_pcr_bank_by_name(name);
                const struct vt_evlog_bank *lb = b ? vt_evlog_bank(&log, b->alg) : NULL;
                if (!lb)
                        continue;
                for (unsigned p = 0; p < VT_EVLOG_PCRS; p++) {
                        uint8_t val[64];
                        if ((p >= 10 && !lb->touched[p]) || reported(pcrs, b, p, val) < 0)
                                continue;
                        compared++;
                        if (memcmp(val, lb->pcr[p], b->size) != 0 && nb < sizeof(bad))
                                nb += snprintf(bad + nb, sizeof(bad) - nb, " %s:%u", name, p);
                }
                (void)values;
        }
        if (compared == 0)
                vt_check(v, "eventlog-replay", false,
                         "no reported PCR is in a bank the log covers (%zu events)", log.events);
        else if (*bad)
                vt_check(v, "eventlog-replay", false, "%zu events replayed; differ:%s", log.events,
                         bad);
        else
                vt_check(v, "eventlog-replay", true, "%zu events replayed; %u PCRs match",
                         log.events, compared);
}

int vt_host_verify_sel(json_object *quote, const uint8_t *nonce, size_t nonce_len,
                       const char *selection, json_object *eventlog, const char *ak_pin,
                       json_object **report)
{
        struct vt_checks v = {.list = json_object_new_array()};
        _cleanup_json_ json_object *doc = json_object_new_object();
        json_object_object_add(doc, "checks", v.list);
        _cleanup_free_ uint8_t *attest_buf = NULL, *sig_buf = NULL, *pub_buf = NULL;
        size_t attest_len = 0, sig_len = 0, pub_len = 0, off;
        TPMS_ATTEST attest = {0};
        TPMT_SIGNATURE sig = {0};
        TPM2B_PUBLIC pub = {0};
        json_object *pcrs = NULL;
        if (!json_object_is_type(quote, json_type_object) ||
            get_hex(quote, "attest", NULL, &attest_buf, &attest_len) < 0 ||
            get_hex(quote, "signature", "tpmt", &sig_buf, &sig_len) < 0 ||
            get_hex(quote, "ak", "public", &pub_buf, &pub_len) < 0 ||
            !json_object_object_get_ex(quote, "pcrs", &pcrs) ||
            !json_object_is_type(pcrs, json_type_object))
                return -EBADMSG;
        if ((off = 0, Tss2_MU_TPMS_ATTEST_Unmarshal(attest_buf, attest_len, &off, &attest)) ||
            off != attest_len ||
            (off = 0, Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig_buf, sig_len, &off, &sig)) ||
            off != sig_len ||
            (off = 0, Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub_buf, pub_len, &off, &pub)) ||
            off != pub_len)
                return -EBADMSG;

        /* the AK: a restricted signing key (it signs only what the TPM itself made) */
        TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
                           TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_SENSITIVEDATAORIGIN;
        EVP_PKEY *key = vt_cred_pkey(&pub.publicArea);
        _cleanup_free_ char *pem = NULL;
        bool restricted = (pub.publicArea.objectAttributes & need) == need;
        vt_check(&v, "ak", key && restricted && vt_tpm2_pub_to_pem(&pub.publicArea, &pem) >= 0,
                 !key         ? "cannot use the AK public key"
                 : restricted ? "restricted signing key, %s"
                              : "not a restricted, fixed-TPM signing key (%s)",
                 pub.publicArea.type == TPM2_ALG_RSA ? "RSA" : "ECC");
        if (ak_pin && pem)
                check_pin(&v, ak_pin, pem);

        const char *why = "no AK";
        bool sig_ok = key && verify_sig(key, &sig, attest_buf, attest_len, &why);
        vt_check(&v, "signature", sig_ok, "signature over the attest bytes: %s", why);
        EVP_PKEY_free(key);

        bool magic = attest.magic == TPM2_GENERATED_VALUE && attest.type == TPM2_ST_ATTEST_QUOTE;
        vt_check(&v, "attest-type", magic, "magic 0x%08x, type 0x%04x (want TPM-generated quote)",
                 attest.magic, attest.type);
        bool nonce_ok = attest.extraData.size == nonce_len &&
                        memcmp(attest.extraData.buffer, nonce, nonce_len) == 0;
        vt_check(&v, "nonce", nonce_ok,
                 nonce_ok ? "extraData is our nonce" : "extraData is not our nonce");

        const TPMS_QUOTE_INFO *q = &attest.attested.quote;
        _cleanup_free_ char *got = vt_pcrsel_format(&q->pcrSelect);
        json_object *claimed = json_object_object_get(quote, "selection");
        if (!selection)
                selection = json_object_get_string(claimed);
        TPML_PCR_SELECTION asked;
        bool sel_ok = selection && vt_pcrsel_parse(selection, &asked) >= 0 &&
                      vt_pcrsel_equal(&asked, &q->pcrSelect);
        vt_check(&v, "pcr-selection", sel_ok, "quoted %s, asked %s", got ? got : "?",
                 selection ? selection : "?");
        check_pcr_digest(&v, q, sig.signature.any.hashAlg, pcrs);
        if (eventlog)
                check_eventlog(&v, eventlog, pcrs);
        json_object *clock = json_object_new_object();
        json_object_object_add(clock, "clock", json_object_new_uint64(attest.clockInfo.clock));
        json_object_object_add(clock, "reset_count",
                               json_object_new_int64(attest.clockInfo.resetCount));
        json_object_object_add(clock, "restart_count",
                               json_object_new_int64(attest.clockInfo.restartCount));
        json_object_object_add(clock, "safe", json_object_new_boolean(attest.clockInfo.safe));
        json_object_object_add(doc, "clock", clock);
        json_object_object_add(doc, "ok", json_object_new_boolean(vt_checks_ok(&v)));
        *report = TAKE_PTR(doc);
        return 0;
}

int vt_host_verify(json_object *quote, const uint8_t *nonce, size_t nonce_len,
                   json_object *eventlog, const char *ak_pin, json_object **report)
{
        return vt_host_verify_sel(quote, nonce, nonce_len, NULL, eventlog, ak_pin, report);
}

/* A file the verifier takes as given: bounded, whole; relative paths from the working directory. */
static int load_file(const char *path, size_t max, char **ret, size_t *len)
{
        struct vt_ctx root = {};
        char abs[PATH_MAX];
        if (!realpath(path, abs))
                return -errno;
        int r = vt_ctx_init_root(&root, NULL); /* the root half only: no policy on the host */
        if (r < 0)
                return r;
        r = vt_read_file_max(&root, abs, max, ret, len);
        vt_ctx_fini_root(&root);
        return r;
}

int vt_host_verify_load(const char *quote_path, const char *log_path, json_object **quote,
                        json_object **eventlog, const char **bad_path)
{
        _cleanup_free_ char *text = NULL, *log = NULL, *b64 = NULL;
        size_t len;
        assert(quote_path && quote && eventlog && bad_path);
        *bad_path = quote_path;
        int r = load_file(quote_path, QUOTE_FILE_MAX, &text, &len);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *q = NULL, *ev = NULL;
        json_tokener *tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        q = json_tokener_parse_ex(tok, text, (int)len);
        bool whole = json_tokener_get_error(tok) == json_tokener_success &&
                     strspn(text + json_tokener_get_parse_end(tok), " \t\r\n") ==
                             len - json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!whole || !json_object_is_type(q, json_type_object))
                return -EBADMSG;
        if (log_path) {
                *bad_path = log_path;
                r = load_file(log_path, EVENTLOG_MAX, &log, &len);
                if (r < 0)
                        return r;
                /* virtune eventlog --json saved its reply; anything else is the binary log (a
                 * '{' first would be PCR 123, never valid) */
                if (len > 0 && log[0] == '{') {
                        ev = json_tokener_parse(log);
                        if (!json_object_is_type(ev, json_type_object))
                                return -EBADMSG;
                } else {
                        b64 = vt_base64_encode((const uint8_t *)log, len);
                        ev = json_object_new_object();
                        if (!b64 || !ev)
                                return -ENOMEM;
                        vt_json_add_str(ev, "log", b64);
                }
        }
        *quote = TAKE_PTR(q);
        *eventlog = TAKE_PTR(ev);
        return 0;
}

int vt_host_pcrs_text(FILE *out, json_object *value)
{
        json_object *banks;
        if (!json_object_object_get_ex(value, "banks", &banks) ||
            !json_object_is_type(banks, json_type_object))
                return -EBADMSG;
        return vt_pcr_values_print(out, banks, NULL);
}
