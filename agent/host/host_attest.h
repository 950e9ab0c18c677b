/* One guest's attestation: EK certificate, AK activation, quote, replay, clock, reference. */
#pragma once

#include "util.h"

#define VT_ATTEST_NONCE_LEN 32

/* Runs one guest command; *value is the "return" value (a new reference); <0 when it failed. */
typedef int (*vt_attest_call_fn)(void *userdata, const char *execute, json_object *args,
                                 json_object **value);

struct vt_attest_opts {
        char *const *ek_ca; /* trust anchors for EK certificates (PEM files) */
        size_t n_ek_ca;
        bool tofu;              /* no trusted EK certificate: pin the EK on first use instead */
        const char *state_dir;  /* absolute; per-guest EK pin and TPM counters; NULL: none */
        const char *guest_id;   /* the guest's key in state_dir (domain UUID, or socket path) */
        const char *pcrs;       /* selection to quote; NULL: sha256:0-9 */
        json_object *reference; /* a recorded reference state to compare with, or NULL */
        bool record;            /* put this boot's reference state in the report */
        bool reactivate;        /* run the whole chain even where a recorded binding holds */
        /*
         * The quote's nonce (VT_ATTEST_NONCE_LEN random bytes) when the caller drew it (a fleet
         * scan draws every guest's at once: a thread's first RAND_bytes sets up its own DRBG,
         * more work than the draw), NULL: drawn here.
         */
        const uint8_t *nonce;
        /*
         * In a fleet scan: whether another guest of this scan presented the EK already (its id
         * in other); the first call for an EK records it. NULL outside a scan.
         */
        bool (*ek_seen)(void *userdata, const char *ek, const char *guest_id, char *other,
                        size_t size);
        void *ek_seen_userdata;
        /*
         * ek_ca loaded once by vt_attest_trust_load() and shared read-only by every guest, or
         * the error that loading gave (ek_trust_error < 0, ek_trust_why). Neither: each run
         * loads ek_ca itself.
         */
        struct x509_store_st *ek_trust;
        uint8_t ek_trust_fp[32]; /* the anchors' fingerprint (VT_CRED_ANCHORS_FP_LEN) */
        int ek_trust_error;
        char ek_trust_why[256];
        /*
         * In a fleet scan: the EK of every guest in state_dir when the scan started (EK name ->
         * guest), read once instead of once per guest; NULL: each run reads the directory.
         */
        json_object *ek_index;
};

/*
 * Attests one guest. *report: {"ok", "reason" (the first failed check's name, "ok" when all
 * pass), "trust": "ek-certificate"|"tofu", "nonce": hex (the quote's), "binding": "activated" (the
 * EK certificate chain and the credential activation ran) | "recorded" (an earlier attestation's,
 * which still holds, see virtune-tpm(7)), "ek": {"name"}, "clock": {...}, "checks": [...],
 * "reference": {...} with record}. Returns 0 when the checks ran, whatever they found.
 */
int vt_attest_run(const struct vt_attest_opts *o, vt_attest_call_fn call, void *userdata,
                  json_object **report);

/*
 * vt_attest_run in two halves, for a caller that does not wait for the guest's ActivateCredential
 * (a fleet scan: its worker takes another guest meanwhile). vt_attest_start runs up to the
 * activation (virtune-ek through call, the EK's certificate or pin, the AK's attributes,
 * MakeCredential) and gives *activate, the arguments of the guest's virtune-activate (taken by
 * the caller), or NULL when there is nothing to ask (a recorded binding, a broken chain). The
 * caller then hands vt_attest_finish what that call gave (r and its value, taken; r 0 and NULL
 * when nothing was asked), which runs the rest through call and frees *ret. o and userdata must
 * live until then. Returns as vt_attest_run; vt_attest_start fails only when out of memory.
 */
struct vt_attest;
int vt_attest_start(const struct vt_attest_opts *o, vt_attest_call_fn call, void *userdata,
                    struct vt_attest **ret, json_object **activate);
int vt_attest_finish(struct vt_attest *a, int r, json_object *value, json_object **report);

/*
 * What vt_attest_run asks whatever the replies say, in its order, so a fleet scan can send it
 * ahead: virtune-ek (no arguments), virtune-quote with these arguments (nonce:
 * VT_ATTEST_NONCE_LEN bytes, o's selection), then the event log's first piece
 * (vt_host_eventlog_fetch: virtune-eventlog, no arguments).
 */
json_object *vt_attest_quote_args(const struct vt_attest_opts *o, const uint8_t *nonce);

/*
 * Loads o->ek_ca into o->ek_trust once, for every run with these options; a file that cannot be
 * read is remembered (o->ek_trust_error) and reported by each run that needs the anchors, as it
 * would be without this. Returns that error.
 */
int vt_attest_trust_load(struct vt_attest_opts *o);
/* The EK of every guest in o->state_dir as o->ek_index (for a fleet scan); 0 or -errno. */
int vt_attest_index_load(struct vt_attest_opts *o);
/* Frees what the two above loaded. */
void vt_attest_opts_done(struct vt_attest_opts *o);

/* Check names, which are also the fixed set of reasons (virtune-tpm(7), virtune-host(1)). */
extern const char *const vt_attest_reasons[];

/* The trust anchors of this host's swtpm-localca (/etc/swtpm-localca.conf), NULL-terminated. */
char **vt_attest_default_cas(void);
