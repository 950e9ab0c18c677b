/* Replays a TCG measured-boot event log into PCR values, per bank, for the host verifier. */
#include <openssl/evp.h>
#include "tpm_eventlog.h"
#include "host_credential.h"

#define EV_NO_ACTION 0x3u

/* A bounded little-endian reader over the log: every read checks what is left. */
struct rd {
        const uint8_t *p;
        size_t left;
};

static bool rd_bytes(struct rd *r, size_t n, const uint8_t **ret)
{
        if (n > r->left)
                return false;
        *ret = r->p;
        r->p += n;
        r->left -= n;
        return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
        const uint8_t *b;
        if (!rd_bytes(r, 4, &b))
                return false;
        *v = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
        return true;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
        const uint8_t *b;
        if (!rd_bytes(r, 2, &b))
                return false;
        *v = (uint16_t)(b[0] | b[1] << 8);
        return true;
}

/* The log's digests (vt_cred_md: fetched once for the process, an implicit fetch per event
 * cost more than the hash) and one context for every event of a replay. */
struct hashers {
        const EVP_MD *md[VT_EVLOG_BANKS_MAX];
        EVP_MD_CTX *c;
};

static void hashers_done(struct hashers *h)
{
        EVP_MD_CTX_free(h->c);
}

static int extend(struct hashers *h, size_t i, struct vt_evlog_bank *b, uint32_t pcr,
                  const uint8_t *digest)
{
        if (!h->md[i] && !(h->md[i] = vt_cred_md(b->bank->alg)))
                return -EOPNOTSUPP;
        if (!h->c && !(h->c = EVP_MD_CTX_new()))
                return -ENOMEM;
        unsigned n = 0;
        bool ok = EVP_DigestInit_ex(h->c, h->md[i], NULL) &&
                  EVP_DigestUpdate(h->c, b->pcr[pcr], b->bank->size) &&
                  EVP_DigestUpdate(h->c, digest, b->bank->size) &&
                  EVP_DigestFinal_ex(h->c, b->pcr[pcr], &n);
        if (!ok || n != b->bank->size)
                return -EIO;
        b->touched[pcr] = true;
        return 0;
}

static const uint8_t spec_id_sig[16] = "Spec ID Event03";
static const uint8_t startup_locality_sig[16] = "StartupLocality";

/* The Spec ID event names the banks and their digest sizes: the log's own table of contents. */
static bool wanted(uint64_t algs, const struct vt_pcr_bank *b)
{
        return b && b->alg < 64 && (algs >> b->alg & 1);
}

static int parse_spec_id(const uint8_t *ev, size_t len, uint64_t algs, struct vt_evlog *log)
{
        struct rd r = {ev, len};
        const uint8_t *sig, *skip;
        uint32_t n;
        if (!rd_bytes(&r, 16, &sig) || memcmp(sig, spec_id_sig, 16) != 0)
                return 0; /* not crypto-agile: a SHA-1 log */
        if (!rd_bytes(&r, 4 + 4, &skip) || !rd_u32(&r, &n) || n == 0 || n > VT_EVLOG_BANKS_MAX)
                return -EBADMSG;
        for (uint32_t i = 0; i < n; i++) {
                uint16_t alg, size;
                if (!rd_u16(&r, &alg) || !rd_u16(&r, &size))
                        return -EBADMSG;
                const struct vt_pcr_bank *b = vt_pcr_bank_by_alg(alg);
                /* a bank we do not know still has to be skipped by its declared size */
                if (b && b->size != size)
                        return -EBADMSG;
                for (size_t k = 0; k < log->nbanks; k++)
                        if (b && log->banks[k].seen == b)
                                return -EBADMSG; /* one bank named twice */
                /* a bank not asked for is skipped like one we do not know */
                log->banks[log->nbanks++] =
                        (struct vt_evlog_bank){.bank = wanted(algs, b) ? b : NULL, .seen = b};
        }
        log->crypto_agile = true;
        return 1;
}

/* Size of a digest of alg as the Spec ID event declared it; 0 when not declared. */
static uint16_t declared_size(const uint8_t *ev, size_t len, uint16_t alg)
{
        struct rd r = {ev + 24, len - 24};
        uint32_t n;
        if (!rd_u32(&r, &n))
                return 0;
        for (uint32_t i = 0; i < n; i++) {
                uint16_t a, size;
                if (!rd_u16(&r, &a) || !rd_u16(&r, &size))
                        return 0;
                if (a == alg)
                        return size;
        }
        return 0;
}

static void startup_locality(struct vt_evlog *log, uint32_t pcr, const uint8_t *ev, uint32_t len)
{
        if (pcr != 0 || len < 17 || memcmp(ev, startup_locality_sig, 16) != 0)
                return;
        log->locality = ev[16];
        /* PCR0 starts at 0...0L instead of zero when the platform started at locality L */
        for (size_t i = 0; i < log->nbanks; i++)
                if (log->banks[i].bank) {
                        log->banks[i].pcr[0][log->banks[i].bank->size - 1] = ev[16];
                        log->banks[i].touched[0] = true;
                }
}

int vt_evlog_replay(const uint8_t *buf, size_t len, struct vt_evlog *ret)
{
        return vt_evlog_replay_events(buf, len, ret, NULL, NULL);
}

static int replay(const uint8_t *buf, size_t len, uint64_t algs, struct vt_evlog *ret,
                  vt_evlog_event_fn fn, void *userdata, struct hashers *h)
{
        struct vt_evlog *log = ret;
        *log = (struct vt_evlog){.locality = -1};
        struct rd r = {buf, len};
        uint32_t pcr, type, size;
        const uint8_t *digest, *ev;
        /* The first event is always in the SHA-1 format. */
        if (!rd_u32(&r, &pcr) || !rd_u32(&r, &type) || !rd_bytes(&r, 20, &digest) ||
            !rd_u32(&r, &size) || !rd_bytes(&r, size, &ev))
                return -EBADMSG;
        int k = type == EV_NO_ACTION ? parse_spec_id(ev, size, algs, log) : 0;
        if (k < 0)
                return k;
        const uint8_t *spec = ev;
        size_t spec_len = size;
        if (!log->crypto_agile) {
                const struct vt_pcr_bank *sha1 = vt_pcr_bank_by_alg(TPM2_ALG_SHA1);
                log->nbanks = 1;
                log->banks[0] = (struct vt_evlog_bank){.bank = wanted(algs, sha1) ? sha1 : NULL,
                                                       .seen = sha1};
                r = (struct rd){buf, len}; /* the first event is a measurement like the rest */
        }
        while (r.left > 0) {
                if (!rd_u32(&r, &pcr) || !rd_u32(&r, &type) || pcr >= VT_EVLOG_PCRS)
                        return -EBADMSG;
                const uint8_t *digests[VT_EVLOG_BANKS_MAX] = {0};
                if (log->crypto_agile) {
                        uint32_t count;
                        if (!rd_u32(&r, &count) || count > log->nbanks)
                                return -EBADMSG;
                        for (uint32_t i = 0; i < count; i++) {
                                uint16_t alg;
                                if (!rd_u16(&r, &alg))
                                        return -EBADMSG;
                                uint16_t ds = declared_size(spec, spec_len, alg);
                                if (ds == 0 || !rd_bytes(&r, ds, &digest))
                                        return -EBADMSG;
                                for (size_t b = 0; b < log->nbanks; b++) {
                                        if (!log->banks[b].seen || log->banks[b].seen->alg != alg)
                                                continue;
                                        if (digests[b])
                                                return -EBADMSG; /* one bank twice in an event */
                                        digests[b] = digest;
                                }
                        }
                } else if (!rd_bytes(&r, 20, &digests[0]))
                        return -EBADMSG;
                if (!rd_u32(&r, &size) || !rd_bytes(&r, size, &ev))
                        return -EBADMSG;
                log->events++;
                if (type == EV_NO_ACTION) {
                        startup_locality(log, pcr, ev, size);
                        continue;
                }
                for (size_t b = 0; b < log->nbanks; b++) {
                        if (!log->banks[b].bank || !digests[b])
                                continue;
                        int e = extend(h, b, &log->banks[b], pcr, digests[b]);
                        if (e < 0)
                                return e;
                        if (fn && (e = fn(log->banks[b].bank, pcr, type, digests[b],
                                          log->events - 1, userdata)) < 0)
                                return e;
                }
        }
        return 0;
}

int vt_evlog_replay_events(const uint8_t *buf, size_t len, struct vt_evlog *ret,
                           vt_evlog_event_fn fn, void *userdata)
{
        struct hashers h = {0};
        int r = replay(buf, len, UINT64_MAX, ret, fn, userdata, &h);
        hashers_done(&h);
        return r;
}

int vt_evlog_replay_only(const uint8_t *buf, size_t len, uint64_t algs, struct vt_evlog *ret)
{
        struct hashers h = {0};
        int r = replay(buf, len, algs, ret, NULL, NULL, &h);
        hashers_done(&h);
        return r;
}

const struct vt_evlog_bank *vt_evlog_bank(const struct vt_evlog *log, TPM2_ALG_ID alg)
{
        for (size_t i = 0; i < log->nbanks; i++)
                if (log->banks[i].bank && log->banks[i].bank->alg == alg)
                        return &log->banks[i];
        return NULL;
}
