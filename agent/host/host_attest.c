/* One guest's attestation: the EK proven by its certificate, the AK bound to it, then the quote. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>
#include <time.h>
#include <tss2/tss2_mu.h>
#include "codec.h"
#include "ctx.h"
#include "fsutil.h"
#include "host_attest.h"
#include "host_checks.h"
#include "host_credential.h"
#include "host_verify.h"
#include "strv.h"
#include "host_eventlog.h"
#include "tpm_eventlog.h"

#define NONCE_LEN     VT_ATTEST_NONCE_LEN
#define CRED_LEN      32
#define EK_CERT_MAX   4096u
#define STATE_MAX     (64u << 10)
#define DEFAULT_PCRS  "sha256:0-9"
#define STATE_REFRESH 3600 /* seconds: a guest's unchanged counters are written again after it */

const char *const vt_attest_reasons[] = {
        "agent",         "ek-certificate",  "ek-pin",    "ek-duplicate",
        "ak-attributes", "activation",      "ak-match",  "ak",
        "signature",     "attest-type",     "nonce",     "pcr-selection",
        "pcr-digest",    "eventlog-replay", "tpm-reset", "tpm-restart",
        "clock",         "reference",       NULL,
};

_Static_assert(sizeof(((struct vt_attest_opts *)0)->ek_trust_fp) == VT_CRED_ANCHORS_FP_LEN,
               "the anchors' fingerprint");

/* What a whole chain proved about an EK, kept in STATE/ek/NAME.json (virtune-tpm(7)). */
struct binding {
        char certificate[2 * 32 + 1]; /* the EK certificate's SHA-256, hex; "" without one */
        char anchors[2 * VT_CRED_ANCHORS_FP_LEN + 1]; /* the trust anchors it chained to */
        char ak[2 * sizeof(TPMU_NAME) + 1];           /* the activated AK's name, hex */
        struct vt_cred_window window;                 /* when that chain is valid */
        int64_t verified;                             /* when it was verified in full */
        bool trusted;  /* this run: the certificate chained (or the record says it did) */
        bool recorded; /* this run: the record holds, the chain and the activation were skipped */
};

struct vt_attest {
        const struct vt_attest_opts *o;
        vt_attest_call_fn call;
        void *userdata;
        struct vt_checks v;
        json_object *doc;
        struct vt_ctx root; /* "/" of this host: the state directory is read through it */
        struct binding b;
        /* what the first half (vt_attest_start) leaves for the second (vt_attest_finish) */
        json_object *ekr, *state; /* virtune-ek's reply, the guest's state file */
        TPM2B_PUBLIC ek, ak;
        EVP_PKEY *ek_key; /* the EK's key, for its certificate and MakeCredential */
        char *ek_name;
        char state_file[PATH_MAX];
        uint8_t cred[CRED_LEN]; /* the credential sealed for the AK, to compare with */
        bool clone;             /* ek-duplicate failed: another guest has this EK */
        bool over;              /* the first half ended the attestation */
        int error;              /* ... with this error (no report) */
};

static const char *str_at(json_object *o, const char *a, const char *b)
{
        json_object *x;
        if (!json_object_object_get_ex(o, a, &x) || (b && !json_object_object_get_ex(x, b, &x)) ||
            !json_object_is_type(x, json_type_string))
                return NULL;
        return json_object_get_string(x);
}

/* A TPM2B_PUBLIC the guest sent as hex, bounded and whole. */
static int public_at(json_object *o, const char *key, TPM2B_PUBLIC *ret)
{
        const char *hex = str_at(o, key, "public");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len, off = 0;
        if (!hex || strlen(hex) > 2 * sizeof(TPM2B_PUBLIC) || vt_hex_decode(hex, &buf, &len) < 0)
                return -EBADMSG;
        *ret = (TPM2B_PUBLIC){0};
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, ret) != TSS2_RC_SUCCESS || off != len)
                return -EBADMSG;
        return 0;
}

static int call(struct vt_attest *a, const char *execute, json_object *args, json_object **value)
{
        int r = a->call(a->userdata, execute, args, value);
        if (r < 0 || !*value)
                vt_check(&a->v, "agent", false, "%s: no answer (%s)", execute,
                         r < 0 ? strerror(-r) : "empty reply");
        return r < 0 ? r : *value ? 0 : -EBADMSG;
}

/* The RSA 2048 EK certificate (the one our EK template matches), DER. */
static int ek_cert(json_object *ekr, uint8_t **der, size_t *len)
{
        json_object *certs = json_object_object_get(ekr, "certificates");
        if (!json_object_is_type(certs, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(certs) && i < 8; i++) {
                json_object *c = json_object_array_get_idx(certs, i);
                const char *key = str_at(c, "key", NULL), *b64 = str_at(c, "der", NULL);
                if (!key || !b64 || !streq(key, "rsa2048"))
                        continue;
                if (strlen(b64) > EK_CERT_MAX * 4 / 3 + 4 || vt_base64_decode(b64, der, len) < 0)
                        return -EBADMSG;
                return 0;
        }
        return -ENOENT;
}

static void add_hex(json_object *o, const char *key, const uint8_t *buf, size_t len)
{
        _cleanup_free_ char *hex = vt_hex_encode(buf, len);
        vt_json_add_str(o, key, hex);
}

/* The guest's file in the state directory: its id if that is a plain name, else a digest. */
static void state_path(const struct vt_attest_opts *o, char *buf, size_t size)
{
        const char *id = o->guest_id ? o->guest_id : "guest";
        bool plain = strlen(id) <= 64 && *id != '.';
        for (const char *p = id; *p && plain; p++)
                plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                        (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
        if (plain) {
                snprintf(buf, size, "%s/%s.json", o->state_dir, id);
                return;
        }
        uint8_t d[32];
        unsigned n = 0;
        EVP_Digest(id, strlen(id), d, &n, vt_cred_md(TPM2_ALG_SHA256), NULL);
        _cleanup_free_ char *hex = vt_hex_encode(d, 16);
        snprintf(buf, size, "%s/%s.json", o->state_dir, hex ? hex : "guest");
}

static json_object *state_load(struct vt_ctx *root, const char *path)
{
        _cleanup_free_ char *text = NULL;
        if (vt_read_file_max(root, path, STATE_MAX, &text, NULL) < 0)
                return NULL;
        json_object *s = json_tokener_parse(text);
        if (!json_object_is_type(s, json_type_object)) {
                json_object_put(s);
                return NULL;
        }
        return s;
}

/* Calls fn for each guest's file in the state directory that names an EK; stops at fn's 1. */
static int state_each(struct vt_ctx *root, const char *dir,
                      int (*fn)(const char *path, const char *file, json_object *state,
                                void *userdata),
                      void *userdata)
{
        _cleanup_closedir_ DIR *d = NULL;
        int r = vt_opendir(root, dir, &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                size_t l = strlen(de->d_name);
                if (l < 6 || !streq(de->d_name + l - 5, ".json") ||
                    vt_pathf(path, sizeof(path), "%s/%s", dir, de->d_name) < 0)
                        continue;
                _cleanup_json_ json_object *s = state_load(root, path);
                if (!str_at(s, "ek", NULL))
                        continue;
                if ((r = fn(path, de->d_name, s, userdata)) != 0)
                        return r;
        }
        return 0;
}

struct elsewhere {
        const char *self, *ek;
        char *who;
        size_t n;
};

static int same_ek(const char *path, const char *file, json_object *s, void *userdata)
{
        struct elsewhere *w = userdata;
        if (streq(path, w->self) || !streq(str_at(s, "ek", NULL), w->ek))
                return 0;
        const char *id = str_at(s, "guest", NULL);
        snprintf(w->who, w->n, "%s", id ? id : file);
        return 1;
}

/* Another guest in the state directory with this EK: a cloned vTPM state. */
static bool ek_elsewhere(struct vt_attest *a, const char *self, const char *ek, char *who, size_t n)
{
        struct elsewhere w = {self, ek, who, n};
        json_object *list;
        if (!a->o->ek_index)
                return state_each(&a->root, a->o->state_dir, same_ek, &w) > 0;
        if (!json_object_object_get_ex(a->o->ek_index, ek, &list))
                return false;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *e = json_object_array_get_idx(list, i);
                if (same_ek(str_at(e, "path", NULL), str_at(e, "file", NULL), e, &w))
                        return true;
        }
        return false;
}

static int index_add(const char *path, const char *file, json_object *s, void *userdata)
{
        json_object *index = userdata, *list, *e = json_object_new_object();
        const char *ek = str_at(s, "ek", NULL);
        if (!json_object_object_get_ex(index, ek, &list)) {
                list = json_object_new_array();
                json_object_object_add(index, ek, list);
        }
        vt_json_add_str(e, "path", path);
        vt_json_add_str(e, "file", file);
        vt_json_add_str(e, "ek", ek);
        vt_json_add_str(e, "guest", str_at(s, "guest", NULL));
        json_object_array_add(list, e);
        return 0;
}

int vt_attest_index_load(struct vt_attest_opts *o)
{
        struct vt_ctx root = {};
        json_object *index = json_object_new_object();
        int r = index ? vt_ctx_init_root(&root, NULL) : -ENOMEM;
        if (r < 0) {
                json_object_put(index);
                return r;
        }
        r = o->state_dir ? state_each(&root, o->state_dir, index_add, index) : 0;
        vt_ctx_fini_root(&root);
        if (r == -ENOENT)
                r = 0; /* made on first use */
        if (r < 0) {
                json_object_put(index);
                return r;
        }
        o->ek_index = index;
        return 0;
}

static int64_t int_at(json_object *o, const char *a, const char *b)
{
        json_object *x;
        if (!json_object_object_get_ex(o, a, &x) || (b && !json_object_object_get_ex(x, b, &x)))
                return -1;
        return json_object_get_int64(x);
}

static void hex_into(char *buf, size_t size, const uint8_t *d, size_t len)
{
        _cleanup_free_ char *hex = vt_hex_encode(d, len);
        snprintf(buf, size, "%s", hex && strlen(hex) < size ? hex : "");
}

static void utc(int64_t t, char *buf, size_t size)
{
        struct tm tm;
        time_t tt = (time_t)t;
        if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, size, "%" PRId64, t);
}

static void binding_path(const struct vt_attest_opts *o, const char *ek, char *buf, size_t size)
{
        snprintf(buf, size, "%s/ek/%s.json", o->state_dir, ek);
}

/* An integer member of the record, or INT64_MIN when it is missing or not an integer. */
static int64_t int_member(json_object *o, const char *key)
{
        json_object *x;
        return json_object_object_get_ex(o, key, &x) && json_object_is_type(x, json_type_int)
                       ? json_object_get_int64(x)
                       : INT64_MIN;
}

/* Whether the record r names this EK, certificate, set of anchors and AK, with a window. */
static bool binding_is(json_object *r, const struct vt_attest *a, const char *ek, int64_t *nb,
                       int64_t *na)
{
        const char *rek = str_at(r, "ek", NULL), *cert = str_at(r, "certificate", NULL),
                   *anchors = str_at(r, "anchors", NULL), *ak = str_at(r, "ak", NULL);
        *nb = int_member(r, "not_before");
        *na = int_member(r, "not_after");
        return rek && cert && anchors && ak && streq(rek, ek) && streq(cert, a->b.certificate) &&
               streq(anchors, a->b.anchors) && streq(ak, a->b.ak) && *nb != INT64_MIN &&
               *na != INT64_MIN;
}

/*
 * Whether the binding recorded for this EK holds for what the guest presents now: the same EK
 * (the file is named after it), the same certificate bytes, verified against the same set of
 * anchors, still inside every chain member's validity, and the same AK. Anything else: the
 * whole chain runs again.
 */
static bool binding_holds(struct vt_attest *a, const char *ek, char *why, size_t n)
{
        char path[PATH_MAX];
        if (a->o->reactivate || !a->o->state_dir || !*a->b.certificate || !*a->b.ak)
                return false;
        binding_path(a->o, ek, path, sizeof(path));
        _cleanup_json_ json_object *r = state_load(&a->root, path);
        int64_t nb, na, at = int_member(r, "verified"), now = (int64_t)time(NULL);
        if (!binding_is(r, a, ek, &nb, &na) || at <= 0 || now < nb || now >= na)
                return false;
        a->b.window = (struct vt_cred_window){nb, na};
        a->b.verified = at;
        char when[32], until[32];
        utc(at, when, sizeof(when));
        utc(na, until, sizeof(until));
        snprintf(why, n,
                 "chains to a trusted CA and certifies the EK: recorded %s for this certificate "
                 "and these anchors, valid until %s (--reactivate checks it again)",
                 when, until);
        return true;
}

/* After a whole chain: what it proved, for the next attestations of this EK. */
static int binding_save(struct vt_attest *a, const char *ek)
{
        char dir[PATH_MAX], path[PATH_MAX];
        binding_path(a->o, ek, path, sizeof(path));
        _cleanup_json_ json_object *old = state_load(&a->root, path);
        int64_t nb, na;
        if (binding_is(old, a, ek, &nb, &na) && nb == a->b.window.not_before &&
            na == a->b.window.not_after && int_member(old, "verified") > 0)
                return 0; /* on record already (--reactivate): a file write is most of a scan */
        _cleanup_json_ json_object *r = json_object_new_object();
        vt_json_add_str(r, "ek", ek);
        vt_json_add_str(r, "certificate", a->b.certificate);
        vt_json_add_str(r, "anchors", a->b.anchors);
        vt_json_add_str(r, "ak", a->b.ak);
        json_object_object_add(r, "not_before", json_object_new_int64(a->b.window.not_before));
        json_object_object_add(r, "not_after", json_object_new_int64(a->b.window.not_after));
        json_object_object_add(r, "verified", json_object_new_int64((int64_t)time(NULL)));
        const char *text = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY);
        snprintf(dir, sizeof(dir), "%s/ek", a->o->state_dir);
        int r2 = vt_fs_mkdir_p(&a->root, dir, NULL);
        return r2 < 0 ? r2 : vt_fs_write_atomic(&a->root, path, text, strlen(text), 0600);
}

/* Steps 1-2: the EK, by its certificate (or pinned on first use), and the per-guest pin. */
static int check_ek(struct vt_attest *a, json_object *ekr, const TPM2B_PUBLIC *ek, const char *name,
                    json_object *state, const char *state_file)
{
        _cleanup_free_ uint8_t *der = NULL;
        size_t len = 0;
        char why[256] = "the guest sent no RSA 2048 EK certificate";
        int r = ek_cert(ekr, &der, &len);
        bool trusted = false;
        if (r >= 0) {
                X509_STORE *own = NULL, *trust = a->o->ek_trust;
                uint8_t fp[VT_CRED_ANCHORS_FP_LEN], hash[32];
                if (!trust && (r = a->o->ek_trust_error) < 0)
                        snprintf(why, sizeof(why), "%s", a->o->ek_trust_why);
                else if (!trust)
                        r = vt_cred_trust_load(a->o->ek_ca, a->o->n_ek_ca, &own, fp, why,
                                               sizeof(why));
                else
                        memcpy(fp, a->o->ek_trust_fp, sizeof(fp));
                if (r >= 0) {
                        unsigned hl = 0;
                        if (EVP_Digest(der, len, hash, &hl, vt_cred_md(TPM2_ALG_SHA256), NULL) == 1)
                                hex_into(a->b.certificate, sizeof(a->b.certificate), hash, hl);
                        hex_into(a->b.anchors, sizeof(a->b.anchors), fp, sizeof(fp));
                }
                if (r >= 0 && binding_holds(a, name, why, sizeof(why)))
                        r = a->b.recorded = 1;
                else if (r >= 0)
                        r = vt_cred_ek_cert_check(der, len, a->ek_key, trust ? trust : own,
                                                  &a->b.window, why, sizeof(why));
                vt_cred_trust_free(own);
                if (r < 0) {
                        vt_check(&a->v, "ek-certificate", false, "%s", why);
                        return r;
                }
                trusted = a->b.trusted = r > 0;
        }
        const char *pinned = state ? str_at(state, "ek", NULL) : NULL;
        if (trusted)
                vt_check(&a->v, "ek-certificate", true, "%s", why);
        else if (a->o->tofu && a->o->state_dir)
                vt_check(&a->v, "ek-certificate", true,
                         "%s; trusting the EK %s (--tofu: pinned, not proven)", why,
                         pinned ? "pinned earlier" : "on first use");
        else
                vt_check(&a->v, "ek-certificate", false, "%s", why);
        vt_json_add_str(a->doc, "trust", trusted ? "ek-certificate" : a->o->tofu ? "tofu" : NULL);
        char who[128];
        if (a->o->ek_seen &&
            a->o->ek_seen(a->o->ek_seen_userdata, name, a->o->guest_id, who, sizeof(who))) {
                vt_check(&a->v, "ek-duplicate", false,
                         "guest %s of this scan presents the same EK: a cloned vTPM state", who);
                a->clone = true;
                return 0;
        }
        if (!a->o->state_dir)
                return 0;
        if (pinned)
                vt_check(&a->v, "ek-pin", streq(pinned, name),
                         streq(pinned, name) ? "the EK is the one seen before for this guest"
                                             : "the guest presents another EK than the one "
                                               "seen before (%s)",
                         state_file);
        bool dup = a->clone = ek_elsewhere(a, state_file, name, who, sizeof(who));
        vt_check(&a->v, "ek-duplicate", !dup,
                 dup ? "guest %s presents the same EK: a cloned vTPM state" : "no other guest%s",
                 dup ? who : " has this EK");
        return 0;
}

/* Step 3: the AK is a restricted signing key that never leaves the TPM. */
static void check_ak(struct vt_attest *a, const TPMT_PUBLIC *ak)
{
        TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED |
                           TPMA_OBJECT_SIGN_ENCRYPT;
        bool ok = (ak->objectAttributes & need) == need &&
                  !(ak->objectAttributes & TPMA_OBJECT_DECRYPT);
        vt_check(&a->v, "ak-attributes", ok,
                 ok ? "fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign, no decrypt"
                    : "attributes 0x%08x lack fixedTPM|fixedParent|sensitiveDataOrigin|"
                      "restricted|sign or allow decrypt",
                 ak->objectAttributes);
}

/*
 * Step 4, the host's half: MakeCredential for the AK's name under the EK. Returns 1 with the
 * arguments of the guest's half (virtune-activate) in *args, 0 when there is nothing to ask
 * (a recorded binding, or the credential could not be made: the check says which).
 */
static int activation_ask(struct vt_attest *a, json_object **args)
{
        TPM2B_NAME name;
        _cleanup_free_ uint8_t *blob = NULL, *secret = NULL;
        size_t blob_len, secret_len;
        if (a->b.recorded) {
                char when[32];
                utc(a->b.verified, when, sizeof(when));
                vt_check(&a->v, "activation", true,
                         "the TPM holding the EK released the credential made for this AK on %s "
                         "(recorded binding)",
                         when);
                return 0;
        }
        int r = vt_cred_name(&a->ak.publicArea, &name);
        if (r >= 0)
                r = RAND_bytes(a->cred, sizeof(a->cred)) == 1 ? 0 : -EIO;
        if (r >= 0)
                r = vt_cred_make_key(&a->ek.publicArea, a->ek_key, &name, a->cred, sizeof(a->cred),
                                     &blob, &blob_len, &secret, &secret_len);
        if (r < 0) {
                vt_check(&a->v, "activation", false, "cannot make the credential: %s",
                         strerror(-r));
                return 0;
        }
        json_object *o = json_object_new_object();
        _cleanup_free_ char *bh = vt_hex_encode(blob, blob_len),
                            *sh = vt_hex_encode(secret, secret_len);
        vt_json_add_str(o, "credential", bh);
        vt_json_add_str(o, "secret", sh);
        *args = o;
        return 1;
}

/* Step 4, the guest's answer (r and reply as the call gave them, reply taken): the AK lives
 * beside that EK when the TPM released the very credential sealed for it. */
static void activation_check(struct vt_attest *a, int r, json_object *reply)
{
        _cleanup_json_ json_object *owned = reply;
        _cleanup_free_ uint8_t *got = NULL;
        size_t got_len = 0;
        const char *hex = r >= 0 ? str_at(owned, "secret", NULL) : NULL;
        bool ok = hex && strlen(hex) == 2 * CRED_LEN && vt_hex_decode(hex, &got, &got_len) >= 0 &&
                  got_len == CRED_LEN && CRYPTO_memcmp(got, a->cred, CRED_LEN) == 0;
        vt_check(&a->v, "activation", ok,
                 ok      ? "the TPM holding the EK released the credential made for the AK"
                 : r < 0 ? "the guest's TPM did not activate the credential (%s): the AK is not "
                           "bound to that EK"
                         : "the secret returned is not the one sealed%s",
                 r < 0 ? strerror(-r) : "");
}

/* Events per PCR (bank -> pcr -> [{"type", "digest"}]), for the reference state. */
static int collect_event(const struct vt_pcr_bank *bank, uint32_t pcr, uint32_t type,
                         const uint8_t *digest, size_t index, void *userdata)
{
        json_object *banks = userdata, *b, *list;
        char key[8];
        if (!json_object_object_get_ex(banks, bank->name, &b)) {
                b = json_object_new_object();
                json_object_object_add(banks, bank->name, b);
        }
        snprintf(key, sizeof(key), "%u", pcr);
        if (!json_object_object_get_ex(b, key, &list)) {
                list = json_object_new_array();
                json_object_object_add(b, key, list);
        }
        json_object *e = json_object_new_object();
        json_object_object_add(e, "type", json_object_new_int64(type));
        add_hex(e, "digest", digest, bank->size);
        json_object_array_add(list, e);
        (void)index;
        return 0;
}

static json_object *log_events(json_object *eventlog)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        struct vt_evlog log;
        json_object *banks = json_object_new_object();
        if (!eventlog || vt_host_eventlog_decode(eventlog, &buf, &len) < 0 ||
            vt_evlog_replay_events(buf, len, &log, collect_event, banks) < 0) {
                json_object_put(banks);
                return NULL;
        }
        return banks;
}

/* What made a PCR differ: the first of its events whose digest is not the reference's. */
static void explain(json_object *events, json_object *ref_events, const char *bank, const char *pcr,
                    char *buf, size_t size)
{
        json_object *now = NULL, *then = NULL, *x;
        if (json_object_object_get_ex(events, bank, &x))
                json_object_object_get_ex(x, pcr, &now);
        if (json_object_object_get_ex(ref_events, bank, &x))
                json_object_object_get_ex(x, pcr, &then);
        size_t n = now ? json_object_array_length(now) : 0;
        size_t m = json_object_is_type(then, json_type_array) ? json_object_array_length(then) : 0;
        for (size_t i = 0; i < n || i < m; i++) {
                json_object *e = i < n ? json_object_array_get_idx(now, i) : NULL;
                json_object *f = i < m ? json_object_array_get_idx(then, i) : NULL;
                const char *d = e ? str_at(e, "digest", NULL) : NULL;
                const char *g = f ? str_at(f, "digest", NULL) : NULL;
                if (d && g && streq(d, g))
                        continue;
                snprintf(buf, size,
                         "event %zu of PCR %s (type 0x%08" PRIx64 ") is %.16s..., was %.16s...",
                         i + 1, pcr, (uint64_t)int_at(e ? e : f, "type", NULL), d ? d : "(none)",
                         g ? g : "(none)");
                return;
        }
        snprintf(buf, size, "no event of PCR %s differs from the reference's (%zu events)", pcr, n);
}

static void check_reference(struct vt_attest *a, json_object *quote, json_object *events)
{
        json_object *ref = a->o->reference, *rp, *rev = json_object_object_get(ref, "events");
        json_object *pcrs = json_object_object_get(quote, "pcrs");
        char detail[480] = "";
        size_t nd = 0;
        unsigned compared = 0;
        if (!json_object_object_get_ex(ref, "pcrs", &rp) ||
            !json_object_is_type(rp, json_type_object)) {
                vt_check(&a->v, "reference", false, "the reference has no \"pcrs\"");
                return;
        }
        json_object_object_foreach (rp, bank, values) {
                json_object *cur = json_object_object_get(pcrs, bank);
                if (!json_object_is_type(values, json_type_object))
                        continue;
                json_object_object_foreach (values, pcr, want) {
                        const char *got = str_at(cur, pcr, NULL);
                        if (!got)
                                continue; /* not in this quote's selection */
                        compared++;
                        if (streq(got, json_object_get_string(want)))
                                continue;
                        char why[200];
                        explain(events, rev, bank, pcr, why, sizeof(why));
                        if (nd < sizeof(detail))
                                nd += snprintf(detail + nd, sizeof(detail) - nd, "%s%s:%s: %s",
                                               nd ? "; " : "", bank, pcr, why);
                }
        }
        if (compared == 0)
                vt_check(&a->v, "reference", false,
                         "no PCR of the reference is in the quoted selection");
        else if (nd)
                vt_check(&a->v, "reference", false, "differs from the reference: %s", detail);
        else
                vt_check(&a->v, "reference", true, "%u PCRs equal the reference", compared);
}

/* TPM counters against what this host saw last: a reset or restart means a new boot. */
static void check_clock(struct vt_attest *a, json_object *clock, json_object *state)
{
        int64_t reset = int_at(clock, "reset_count", NULL),
                restart = int_at(clock, "restart_count", NULL);
        int64_t c = int_at(clock, "clock", NULL);
        if (!state || !json_object_object_get_ex(state, "reset_count", NULL))
                return; /* first attestation of this guest */
        int64_t r0 = int_at(state, "reset_count", NULL), s0 = int_at(state, "restart_count", NULL);
        int64_t c0 = int_at(state, "clock", NULL);
        vt_check(&a->v, "tpm-reset", reset == r0,
                 reset == r0 ? "no TPM reset since the last attestation (resetCount %" PRId64 ")"
                             : "the TPM was reset (a reboot) since the last attestation: "
                               "resetCount %" PRId64 " -> %" PRId64,
                 r0, reset);
        if (reset != r0)
                return;
        vt_check(&a->v, "tpm-restart", restart == s0,
                 restart == s0 ? "no TPM restart since the last attestation"
                               : "the TPM was restarted (hibernation) since the last "
                                 "attestation: restartCount %" PRId64 " -> %" PRId64,
                 s0, restart);
        if (restart == s0)
                vt_check(&a->v, "clock", c >= c0,
                         c >= c0 ? "the TPM clock moved forward" : "the TPM clock went back");
}

/*
 * Whether the guest's state file says this already: the same EK and counters, written less than
 * STATE_REFRESH ago. Then it is not replaced (a fleet of distinct vTPMs would rewrite every
 * guest's file on every scan): the clock it holds is older, still a lower bound for the next.
 */
static bool state_current(json_object *state, const char *ek, json_object *clock)
{
        const char *had = str_at(state, "ek", NULL);
        int64_t when = int_at(state, "time", NULL), now = (int64_t)time(NULL);
        return had && streq(had, ek) && int_at(clock, "reset_count", NULL) >= 0 &&
               int_at(state, "reset_count", NULL) == int_at(clock, "reset_count", NULL) &&
               int_at(state, "restart_count", NULL) == int_at(clock, "restart_count", NULL) &&
               when >= 0 && when <= now && now - when < STATE_REFRESH;
}

static int state_save(struct vt_attest *a, const char *path, const char *ek, json_object *clock)
{
        _cleanup_json_ json_object *s = json_object_new_object();
        vt_json_add_str(s, "guest", a->o->guest_id);
        vt_json_add_str(s, "ek", ek);
        json_object_object_add(s, "reset_count",
                               json_object_new_int64(int_at(clock, "reset_count", NULL)));
        json_object_object_add(s, "restart_count",
                               json_object_new_int64(int_at(clock, "restart_count", NULL)));
        json_object_object_add(s, "clock", json_object_new_int64(int_at(clock, "clock", NULL)));
        json_object_object_add(s, "time", json_object_new_int64((int64_t)time(NULL)));
        const char *text = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PRETTY);
        int r = vt_fs_mkdir_p(&a->root, a->o->state_dir, NULL);
        return r < 0 ? r : vt_fs_write_atomic(&a->root, path, text, strlen(text), 0600);
}

/*
 * Whether to stop: a failed link of this guest's chain makes the rest meaningless; another
 * guest with the same EK is a finding about the fleet, and the chain is still checked. (Not
 * the first failure's name: a clone whose activation then failed went on to its quote.)
 */
static bool chain_broken(const struct vt_attest *a)
{
        return a->v.failed > (a->clone ? 1u : 0u);
}

json_object *vt_attest_quote_args(const struct vt_attest_opts *o, const uint8_t *nonce)
{
        json_object *args = json_object_new_object();
        add_hex(args, "nonce", nonce, NONCE_LEN);
        vt_json_add_str(args, "pcrs", o->pcrs ? o->pcrs : DEFAULT_PCRS);
        return args;
}

/* The attestation ends in its first half, with the report as it stands. */
static int over(struct vt_attest *a)
{
        a->over = true;
        return 0;
}

/*
 * The first half, up to the credential activation: the EK, its certificate or pin, the AK's
 * attributes, the credential made. Returns 1 with virtune-activate's arguments in *activate,
 * 0 when the attestation goes on without asking (a recorded binding) or is over (a->over), or
 * -errno (no report).
 */
static int attest_chain(struct vt_attest *a, json_object **activate)
{
        const struct vt_attest_opts *o = a->o;
        TPM2B_NAME name, ak_name;

        if (call(a, "virtune-ek", NULL, &a->ekr) < 0)
                return over(a);
        if (public_at(a->ekr, "ek", &a->ek) < 0 || public_at(a->ekr, "ak", &a->ak) < 0 ||
            vt_cred_name(&a->ek.publicArea, &name) < 0) {
                vt_check(&a->v, "agent", false, "virtune-ek: the reply has no usable EK and AK");
                return over(a);
        }
        if (vt_cred_name(&a->ak.publicArea, &ak_name) >= 0)
                hex_into(a->b.ak, sizeof(a->b.ak), ak_name.name, ak_name.size);
        a->ek_name = vt_hex_encode(name.name, name.size);
        if (!a->ek_name)
                return -ENOMEM;
        a->ek_key = vt_cred_pkey(&a->ek.publicArea); /* NULL: the checks that need it fail */
        json_object *ekj = json_object_new_object();
        vt_json_add_str(ekj, "name", a->ek_name);
        json_object_object_add(a->doc, "ek", ekj);
        if (o->state_dir) {
                state_path(o, a->state_file, sizeof(a->state_file));
                a->state = state_load(&a->root, a->state_file);
        }
        int r = check_ek(a, a->ekr, &a->ek, a->ek_name, a->state, a->state_file);
        if (r < 0)
                return r;
        check_ak(a, &a->ak.publicArea);
        if (chain_broken(a))
                return over(a); /* an untrusted EK or a weak AK: the rest means nothing */
        r = activation_ask(a, activate);
        if (r == 0 && chain_broken(a))
                a->over = true;
        return r;
}

/* The second half, from the activation's answer (r, reply: taken) on: the quote and the rest. */
static int attest_quote(struct vt_attest *a, int ar, json_object *areply)
{
        const struct vt_attest_opts *o = a->o;
        const char *sel = o->pcrs ? o->pcrs : DEFAULT_PCRS;
        const char *ek_name = a->ek_name, *state_file = a->state_file;
        json_object *ekr = a->ekr, *state = a->state;
        _cleanup_json_ json_object *quote = NULL, *eventlog = NULL, *vr = NULL, *events = NULL;
        int r;

        if (!a->b.recorded)
                activation_check(a, ar, areply);
        else
                json_object_put(areply);
        if (chain_broken(a))
                return 0;
        vt_json_add_str(a->doc, "binding", a->b.recorded ? "recorded" : "activated");
        /* a clone (ek-duplicate, the one finding allowed here) leaves it to the EK's first guest */
        if (a->b.trusted && !a->b.recorded && !a->v.reason[0] && o->state_dir &&
            (r = binding_save(a, ek_name)) < 0)
                vt_json_add_str(a->doc, "binding_error", strerror(-r)); /* checked in full again */

        uint8_t nonce[NONCE_LEN];
        if (o->nonce)
                memcpy(nonce, o->nonce, sizeof(nonce));
        else if (RAND_bytes(nonce, sizeof(nonce)) != 1)
                return -EIO;
        add_hex(a->doc, "nonce", nonce, sizeof(nonce));
        if (call(a, "virtune-quote", vt_attest_quote_args(o, nonce), &quote) < 0)
                return 0;
        const char *qak = str_at(quote, "ak", "public"), *eak = str_at(ekr, "ak", "public");
        vt_check(&a->v, "ak-match", qak && eak && streq(qak, eak),
                 qak && eak && streq(qak, eak) ? "the quote is signed by the activated AK"
                                               : "the quote is signed by another key than the "
                                                 "activated AK");
        char why[256];
        if (vt_host_eventlog_fetch(a->call, a->userdata, false, &eventlog, why, sizeof(why)) < 0)
                eventlog = NULL; /* the verifier reports the missing log */
        r = vt_host_verify_sel(quote, nonce, sizeof(nonce), sel, eventlog, NULL, &vr);
        if (r < 0) {
                vt_check(&a->v, "attest-type", false, "the quote reply is malformed");
                return 0;
        }
        vt_checks_take(&a->v, vr);
        json_object *clock = json_object_object_get(vr, "clock");
        json_object_object_add(a->doc, "clock", json_object_get(clock));
        bool quote_ok = vt_checks_ok(&a->v);
        check_clock(a, clock, state);
        if (o->reference || o->record)
                events = log_events(eventlog); /* a second replay, only for the reference */
        if (o->reference)
                check_reference(a, quote, events);
        if (o->record && quote_ok) {
                json_object *ref = json_object_new_object();
                vt_json_add_str(ref, "selection", sel);
                json_object_object_add(ref, "recorded", json_object_new_int64((int64_t)time(NULL)));
                vt_json_add_str(ref, "ek", ek_name);
                json_object_object_add(ref, "pcrs",
                                       json_object_get(json_object_object_get(quote, "pcrs")));
                json_object_object_add(ref, "events", json_object_get(events));
                _cleanup_json_ json_object *facts = NULL;
                if (a->call(a->userdata, "virtune-facts", NULL, &facts) >= 0 && facts) {
                        json_object *virt = json_object_object_get(facts, "virt");
                        json_object_object_add(
                                ref, "kernel_release",
                                json_object_get(json_object_object_get(virt, "kernel_release")));
                        json_object_object_add(
                                ref, "dmi", json_object_get(json_object_object_get(virt, "dmi")));
                }
                json_object_object_add(a->doc, "reference", ref);
        }
        /* the counters are this host's memory of the guest: kept even when a check failed */
        if (o->state_dir && quote_ok && json_object_object_get_ex(a->doc, "trust", NULL) &&
            !state_current(state, ek_name, clock) &&
            (r = state_save(a, state_file, ek_name, clock)) < 0)
                vt_check(&a->v, "ek-pin", false, "cannot write %s: %s", state_file, strerror(-r));
        return 0;
}

static void attest_free(struct vt_attest *a)
{
        if (!a)
                return;
        vt_ctx_fini_root(&a->root);
        json_object_put(a->doc);
        json_object_put(a->v.list);
        json_object_put(a->ekr);
        json_object_put(a->state);
        free(a->ek_name);
        EVP_PKEY_free(a->ek_key);
        OPENSSL_cleanse(a->cred, sizeof(a->cred));
        free(a);
}

int vt_attest_start(const struct vt_attest_opts *o, vt_attest_call_fn fn, void *userdata,
                    struct vt_attest **ret, json_object **activate)
{
        struct vt_attest *a = calloc(1, sizeof(*a));
        *activate = NULL;
        if (!a)
                return -ENOMEM;
        *a = (struct vt_attest){.o = o, .call = fn, .userdata = userdata, .root.root_fd = -1};
        a->doc = json_object_new_object();
        a->v.list = json_object_new_array();
        int r = a->doc && a->v.list ? vt_ctx_init_root(&a->root, NULL) : -ENOMEM;
        if (r < 0) {
                attest_free(a);
                return r;
        }
        vt_json_add_str(a->doc, "guest", o->guest_id);
        r = attest_chain(a, activate);
        if (r < 0) {
                a->over = true;
                a->error = r;
        }
        /* not held while the guest answers: a fleet has a thousand activations under way */
        vt_ctx_fini_root(&a->root);
        *ret = a;
        return 0;
}

int vt_attest_finish(struct vt_attest *a, int r, json_object *value, json_object **report)
{
        if (!a->over) {
                int k = vt_ctx_init_root(&a->root, NULL);
                a->error = k < 0 ? k : attest_quote(a, r, TAKE_PTR(value));
        }
        json_object_put(value);
        r = a->error;
        json_object_object_add(a->doc, "ok",
                               json_object_new_boolean(r >= 0 && vt_checks_ok(&a->v)));
        vt_json_add_str(a->doc, "reason", a->v.reason[0] ? a->v.reason : "ok");
        json_object_object_add(a->doc, "checks", TAKE_PTR(a->v.list));
        if (r >= 0)
                *report = TAKE_PTR(a->doc);
        attest_free(a);
        return r < 0 ? r : 0;
}

int vt_attest_run(const struct vt_attest_opts *o, vt_attest_call_fn fn, void *userdata,
                  json_object **report)
{
        struct vt_attest *a;
        json_object *args, *value = NULL;
        int r = vt_attest_start(o, fn, userdata, &a, &args);
        if (r < 0)
                return r;
        r = args ? fn(userdata, "virtune-activate", args, &value) : 0;
        return vt_attest_finish(a, r, value, report);
}

int vt_attest_trust_load(struct vt_attest_opts *o)
{
        o->ek_trust = NULL;
        o->ek_trust_error = vt_cred_trust_load(o->ek_ca, o->n_ek_ca, &o->ek_trust, o->ek_trust_fp,
                                               o->ek_trust_why, sizeof(o->ek_trust_why));
        return o->ek_trust_error;
}

void vt_attest_opts_done(struct vt_attest_opts *o)
{
        vt_cred_trust_free(o->ek_trust);
        o->ek_trust = NULL;
        o->ek_trust_error = 0;
        json_object_put(o->ek_index);
        o->ek_index = NULL;
}

char **vt_attest_default_cas(void)
{
        char statedir[PATH_MAX] = "/var/lib/swtpm-localca", issuer[PATH_MAX] = "";
        _cleanup_fclose_ FILE *f = fopen("/etc/swtpm-localca.conf", "re");
        char line[PATH_MAX + 32];
        while (f && fgets(line, sizeof(line), f)) {
                char key[32], val[PATH_MAX];
                if (sscanf(line, " %31[a-z_] = %4095s", key, val) != 2)
                        continue;
                if (streq(key, "statedir"))
                        snprintf(statedir, sizeof(statedir), "%s", val);
                else if (streq(key, "issuercert"))
                        snprintf(issuer, sizeof(issuer), "%s", val);
        }
        char **l = NULL;
        char root[PATH_MAX + 40];
        if (!*issuer)
                snprintf(issuer, sizeof(issuer), "%s/issuercert.pem", statedir);
        snprintf(root, sizeof(root), "%s/swtpm-localca-rootca-cert.pem", statedir);
        if (vt_strv_add(&l, issuer) < 0 || vt_strv_add(&l, root) < 0) {
                vt_strv_free(l);
                return NULL;
        }
        return l;
}
