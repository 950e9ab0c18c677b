/* Attestation end to end on swtpms provisioned as libvirt does: what passes, and each attack. */
#include <ctype.h>
#include <sys/stat.h>
#include <time.h>
#include <tss2/tss2_mu.h>
#include "codec.h"
#include "host_attest.h"
#include "host_credential.h"
#include "policy.h"
#include "proto.h"
#include "tpm_eventlog.h"
#include "swtpm.h"

/* One guest: a provisioned swtpm and the agent's dispatcher on a context rooted at its tree. */
struct guest {
        struct vt_swtpm tpm;
        struct vt_ctx *ctx;
        /* the attacks, applied to what the "guest" answers */
        json_object *(*tamper)(struct guest *g, const char *execute, json_object *value);
        struct guest *other; /* a second TPM the attacker holds */
        json_object *saved;  /* a reply kept for a replay */
};

static char *ca_dir, *other_ca_dir, *state_dir;
static bool reactivate; /* the next attest() runs the whole chain (--reactivate) */
/* the guests running: a failed assertion skips guest_stop(), the group teardown does it */
static struct guest *running[4];

static json_object *dispatch(struct vt_ctx *ctx, const char *execute, json_object *args)
{
        _cleanup_json_ json_object *req = json_object_new_object();
        vt_json_add_str(req, "execute", execute);
        if (args)
                json_object_object_add(req, "arguments", json_object_get(args));
        const char *text = json_object_to_json_string(req);
        size_t n = 0;
        _cleanup_free_ char *reply =
                vt_proto_dispatch(ctx, VT_PROTO_MESSAGE, text, strlen(text), &n);
        assert_non_null(reply);
        json_object *o = json_tokener_parse(reply), *v = NULL;
        assert_non_null(o);
        if (json_object_object_get_ex(o, "return", &v))
                v = json_object_get(v);
        json_object_put(o);
        return v;
}

static int guest_call(void *userdata, const char *execute, json_object *args, json_object **value)
{
        struct guest *g = userdata;
        json_object *v = dispatch(g->ctx, execute, args);
        json_object_put(args);
        if (g->tamper)
                v = g->tamper(g, execute, v);
        *value = v;
        return v ? 0 : -EREMOTEIO;
}

/* The real SeaBIOS measured-boot log of the tests/vm guest (tests/fixtures/tpm-seabios-vm). */
static uint8_t *read_log(size_t *len)
{
        char *fx = vt_test_fixture("tpm-seabios-vm");
        char path[512];
        snprintf(path, sizeof(path), "%s/sys/kernel/security/tpm0/binary_bios_measurements", fx);
        free(fx);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *log = malloc(1 << 20);
        *len = fread(log, 1, 1 << 20, f);
        fclose(f);
        return log;
}

static void guest_start(struct guest *g, const char *ca)
{
        *g = (struct guest){.tpm.ca_dir = ca};
        vt_swtpm_start(&g->tpm);
        for (size_t i = 0; i < ARRAY_SIZE(running); i++)
                if (!running[i]) {
                        running[i] = g;
                        break;
                }
        /* the guest's securityfs holds that log; guest_boot() extends its events */
        size_t len;
        uint8_t *log = read_log(&len);
        char dst[512];
        snprintf(dst, sizeof(dst), "%s/sys/kernel/security/tpm0", g->tpm.root);
        char *mk[] = {"mkdir", "-p", dst, NULL};
        assert_int_equal(vt_test_run(mk, NULL), 0);
        strcat(dst, "/binary_bios_measurements");
        FILE *f = fopen(dst, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(log, 1, len, f), len);
        fclose(f);
        free(log);
        assert_int_equal(vt_ctx_new(g->tpm.root, &g->ctx), 0);
        char err[256];
        assert_int_equal(vt_policy_load(g->ctx, &g->ctx->policy, err, sizeof(err)), 0);
}

/* The firmware's measurements, as the fixture's log says, into the TPM (tests/tpm/extend-eventlog).
 */
static void guest_boot(struct guest *g)
{
        char script[512], log[512];
        char *fx = vt_test_fixture("tpm-seabios-vm");
        snprintf(script, sizeof(script), "%s/tests/tpm/extend-eventlog", getenv("VT_SOURCE"));
        snprintf(log, sizeof(log), "%s/sys/kernel/security/tpm0/binary_bios_measurements", fx);
        free(fx);
        char *argv[] = {script, log, NULL};
        assert_int_equal(vt_swtpm_tool(&g->tpm, argv, NULL), 0);
}

static void guest_stop(struct guest *g)
{
        for (size_t i = 0; i < ARRAY_SIZE(running); i++)
                if (running[i] == g)
                        running[i] = NULL;
        vt_ctx_free(g->ctx);
        vt_swtpm_stop(&g->tpm);
        json_object_put(g->saved);
}

static json_object *attest(struct guest *g, const char *id, char *const *cas, size_t n_ca,
                           bool tofu, json_object *reference, bool record)
{
        struct vt_attest_opts o = {.ek_ca = cas,
                                   .n_ek_ca = n_ca,
                                   .tofu = tofu,
                                   .state_dir = state_dir,
                                   .guest_id = id,
                                   .pcrs = "sha256:0-9",
                                   .reference = reference,
                                   .record = record,
                                   .reactivate = reactivate};
        json_object *report = NULL;
        assert_int_equal(vt_attest_run(&o, guest_call, g, &report), 0);
        reactivate = false;
        return report;
}

static const char *reason(json_object *report)
{
        return json_object_get_string(json_object_object_get(report, "reason"));
}

static char issuer[512], root_ca[512], other_issuer[512], other_root[512];
static char *cas[3], *other_cas[3];

static void assert_reason(json_object *report, const char *want)
{
        if (!streq(reason(report), want))
                fail_msg("reason %s, want %s: %s", reason(report), want,
                         json_object_to_json_string_ext(report, JSON_C_TO_STRING_PRETTY));
}

/* "activated" (the whole chain ran), "recorded" (an earlier one's binding held), or "". */
static const char *binding(json_object *report)
{
        const char *b = json_object_get_string(json_object_object_get(report, "binding"));
        return b ? b : "";
}

/* Attests once, cleanly: the binding of this guest's EK is then on record. */
static void attest_clean(struct guest *g, const char *id)
{
        void *tamper = g->tamper;
        g->tamper = NULL;
        json_object *r = attest(g, id, cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        g->tamper = tamper;
}

static void test_attest_trusts_a_libvirt_provisioned_vtpm(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        json_object *r = attest(&g, "vm-good", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        assert_true(json_object_get_boolean(json_object_object_get(r, "ok")));
        assert_string_equal(json_object_get_string(json_object_object_get(r, "trust")),
                            "ek-certificate");
        assert_string_equal(binding(r), "activated");
        json_object_put(r);
        /* the second attestation of the same boot: same EK, same counters, the binding kept */
        r = attest(&g, "vm-good", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        assert_string_equal(binding(r), "recorded");
        json_object_put(r);
        reactivate = true;
        r = attest(&g, "vm-good", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        assert_string_equal(binding(r), "activated");
        json_object_put(r);
        guest_stop(&g);
}

static void test_attest_rejects_an_ek_certificate_from_another_ca(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        json_object *r = attest(&g, "vm-ca", other_cas, 2, false, NULL, false);
        assert_reason(r, "ek-certificate");
        json_object_put(r);
        guest_stop(&g);
}

/* The host's anchors changed after the binding was recorded: the certificate is checked again. */
static void test_attest_checks_a_recorded_binding_again_under_other_anchors(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        attest_clean(&g, "vm-ca-changed");
        json_object *r = attest(&g, "vm-ca-changed", other_cas, 2, false, NULL, false);
        assert_reason(r, "ek-certificate");
        assert_non_null(strstr(json_object_to_json_string(r), "does not chain to a trusted CA"));
        json_object_put(r);
        guest_stop(&g);
}

/* The guest hands another TPM's certificate (from another CA) with its own EK. */
static json_object *swap_certificate(struct guest *g, const char *execute, json_object *v)
{
        if (!v || !streq(execute, "virtune-ek"))
                return v;
        json_object *theirs = dispatch(g->other->ctx, "virtune-ek", NULL);
        json_object_object_add(v, "certificates",
                               json_object_get(json_object_object_get(theirs, "certificates")));
        json_object_put(theirs);
        return v;
}

static void test_attest_rejects_another_certificate_despite_a_recorded_binding(void **state)
{
        struct guest g, other;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        guest_start(&other, other_ca_dir);
        g.tamper = swap_certificate;
        g.other = &other;
        attest_clean(&g, "vm-cert-swap");
        json_object *r = attest(&g, "vm-cert-swap", cas, 2, false, NULL, false);
        assert_reason(r, "ek-certificate");
        assert_non_null(strstr(json_object_to_json_string(r), "does not chain to a trusted CA"));
        json_object_put(r);
        /* the other CA trusted too: the chain holds, but not for this EK */
        char *both[] = {cas[0], cas[1], other_cas[0], other_cas[1]};
        r = attest(&g, "vm-cert-swap", both, 4, false, NULL, false);
        assert_reason(r, "ek-certificate");
        assert_non_null(strstr(json_object_to_json_string(r), "certifies another key"));
        json_object_put(r);
        guest_stop(&other);
        guest_stop(&g);
}

/* Edits the recorded binding of the EK this report names. */
static void edit_binding(json_object *report, const char *key, json_object *value)
{
        const char *ek = json_object_get_string(
                json_object_object_get(json_object_object_get(report, "ek"), "name"));
        char path[1024];
        snprintf(path, sizeof(path), "%s/ek/%s.json", state_dir, ek);
        json_object *b = json_object_from_file(path);
        assert_non_null(b);
        json_object_object_add(b, key, value);
        assert_int_equal(json_object_to_file(path, b), 0);
        json_object_put(b);
}

static void test_attest_uses_a_recorded_binding_only_when_all_of_it_matches(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        json_object *first = attest(&g, "vm-record", cas, 2, false, NULL, false);
        assert_string_equal(binding(first), "activated");
        struct {
                const char *key;
                json_object *value;
        } edits[] = {
                {"certificate", json_object_new_string("00")},
                {"anchors", json_object_new_string("00")},
                {"ak", json_object_new_string("000b00")},
                {"ek", json_object_new_string("000b00")},
                {"not_after", json_object_new_int64((int64_t)time(NULL) - 1)},
                {"not_before", json_object_new_int64((int64_t)time(NULL) + 3600)},
                {"not_after", json_object_new_string("4102444800")},
                {"verified", NULL},
        };
        json_object *r = attest(&g, "vm-record", cas, 2, false, NULL, false);
        assert_string_equal(binding(r), "recorded");
        json_object_put(r);
        /* each whole chain writes the record again, whole, for the next edit */
        for (size_t i = 0; i < ARRAY_SIZE(edits); i++) {
                edit_binding(first, edits[i].key, edits[i].value);
                r = attest(&g, "vm-record", cas, 2, false, NULL, false);
                assert_reason(r, "ok");
                if (!streq(binding(r), "activated"))
                        fail_msg("binding %s with %s edited", binding(r), edits[i].key);
                json_object_put(r);
        }
        json_object_put(first);
        guest_stop(&g);
}

static void test_attest_without_a_trusted_certificate_pins_only_with_tofu(void **state)
{
        struct guest g;
        guest_start(&g, NULL); /* not provisioned: no EK certificate at all */
        guest_boot(&g);
        json_object *r = attest(&g, "vm-tofu", cas, 2, false, NULL, false);
        assert_reason(r, "ek-certificate");
        json_object_put(r);
        r = attest(&g, "vm-tofu", cas, 2, true, NULL, false);
        assert_reason(r, "ok");
        assert_string_equal(json_object_get_string(json_object_object_get(r, "trust")), "tofu");
        json_object_put(r);
        /* nothing is recorded without a certificate: the activation runs every time */
        r = attest(&g, "vm-tofu", cas, 2, true, NULL, false);
        assert_reason(r, "ok");
        assert_string_equal(binding(r), "activated");
        json_object_put(r);
        guest_stop(&g);
}

/* The attacker's software AK: a second TPM's AK presented with the first TPM's EK. */
static json_object *swap_ak(struct guest *g, const char *execute, json_object *v)
{
        if (!v || !streq(execute, "virtune-ek"))
                return v;
        json_object *theirs = dispatch(g->other->ctx, "virtune-ek", NULL);
        json_object_object_add(v, "ak", json_object_get(json_object_object_get(theirs, "ak")));
        json_object_put(theirs);
        return v;
}

static void test_attest_rejects_an_ak_from_another_tpm(void **state)
{
        struct guest g, other;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        guest_start(&other, ca_dir);
        g.tamper = swap_ak;
        g.other = &other;
        json_object *r = attest(&g, "vm-ak", cas, 2, false, NULL, false);
        assert_reason(r, "activation");
        json_object_put(r);
        /* the same with this EK's binding on record: another AK, so the whole chain runs */
        attest_clean(&g, "vm-ak");
        r = attest(&g, "vm-ak", cas, 2, false, NULL, false);
        assert_reason(r, "activation");
        json_object_put(r);
        guest_stop(&other);
        guest_stop(&g);
}

static json_object *replay_quote(struct guest *g, const char *execute, json_object *v)
{
        if (!v || !streq(execute, "virtune-quote"))
                return v;
        if (!g->saved) {
                g->saved = json_object_get(v);
                return v;
        }
        json_object_put(v);
        return json_object_get(g->saved);
}

static void test_attest_rejects_a_replayed_quote(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        g.tamper = replay_quote;
        json_object *r = attest(&g, "vm-replay", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        r = attest(&g, "vm-replay", cas, 2, false, NULL, false);
        assert_reason(r, "nonce");
        assert_string_equal(binding(r), "recorded");
        json_object_put(r);
        guest_stop(&g);
}

/* The guest quotes fewer PCRs than asked (and reports just those). */
static json_object *narrow_selection(struct guest *g, const char *execute, json_object *v)
{
        if (!v || !streq(execute, "virtune-quote"))
                return v;
        json_object_put(v);
        _cleanup_json_ json_object *args = json_object_new_object();
        uint8_t nonce[32] = {1};
        _cleanup_free_ char *hex = vt_hex_encode(nonce, sizeof(nonce));
        vt_json_add_str(args, "nonce", hex);
        vt_json_add_str(args, "pcrs", "sha256:0-7");
        return dispatch(g->ctx, "virtune-quote", args);
}

static void test_attest_rejects_another_selection_than_asked(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        g.tamper = narrow_selection;
        attest_clean(&g, "vm-sel");
        json_object *r = attest(&g, "vm-sel", cas, 2, false, NULL, false);
        assert_string_equal(binding(r), "recorded");
        /* the nonce is wrong too; the selection is checked first in the verifier's list? */
        const char *why = reason(r);
        assert_true(streq(why, "nonce") || streq(why, "pcr-selection"));
        bool sel_failed = false;
        json_object *checks = json_object_object_get(r, "checks");
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                if (streq(json_object_get_string(json_object_object_get(c, "name")),
                          "pcr-selection"))
                        sel_failed = !json_object_get_boolean(json_object_object_get(c, "ok"));
        }
        assert_true(sel_failed);
        json_object_put(r);
        guest_stop(&g);
}

/* One event's digest changed in the log the guest sends. */
static json_object *alter_log(struct guest *g, const char *execute, json_object *v)
{
        if (!v || !streq(execute, "virtune-eventlog"))
                return v;
        const char *b64 = json_object_get_string(json_object_object_get(v, "log"));
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(vt_base64_decode(b64, &buf, &len), 0);
        /* the first measurement after the Spec ID event: flip a byte of its digests */
        assert_true(len > 200);
        uint32_t spec_size;
        memcpy(&spec_size, buf + 28, 4);
        size_t at = 32 + spec_size + 4 + 4; /* the first measurement: past pcr and type */
        uint32_t count;
        memcpy(&count, buf + at, 4);
        at += 4;
        bool flipped = false;
        for (uint32_t i = 0; i < count && !flipped; i++) {
                uint16_t alg = (uint16_t)(buf[at] | buf[at + 1] << 8);
                size_t size = alg == 0x4 ? 20 : alg == 0xb ? 32 : alg == 0xc ? 48 : 64;
                if (alg == 0xb) { /* the sha256 digest: the bank this TPM has */
                        buf[at + 2 + 5] ^= 0x01;
                        flipped = true;
                }
                at += 2 + size;
        }
        assert_true(flipped);
        _cleanup_free_ char *out = vt_base64_encode(buf, len);
        json_object_object_add(v, "log", json_object_new_string(out));
        free(buf);
        return v;
}

static void test_attest_rejects_an_event_log_with_one_digest_changed(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        g.tamper = alter_log;
        json_object *r = attest(&g, "vm-log", cas, 2, false, NULL, false);
        assert_reason(r, "eventlog-replay");
        json_object_put(r);
        attest_clean(&g, "vm-log");
        r = attest(&g, "vm-log", cas, 2, false, NULL, false);
        assert_reason(r, "eventlog-replay");
        assert_string_equal(binding(r), "recorded");
        json_object_put(r);
        guest_stop(&g);
}

static void test_attest_reports_a_tpm_reset_between_two_attestations(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        json_object *r = attest(&g, "vm-reset", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        vt_swtpm_power_cycle(&g.tpm); /* the guest rebooted */
        guest_boot(&g);
        r = attest(&g, "vm-reset", cas, 2, false, NULL, false);
        assert_reason(r, "tpm-reset");
        assert_string_equal(binding(r), "recorded"); /* the same seed: the same AK */
        json_object_put(r);
        /* reported once: this host now knows the new boot */
        r = attest(&g, "vm-reset", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        guest_stop(&g);
}

/* The state file's inode: an atomic replacement gives a new one. */
static ino_t state_inode(const char *id)
{
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s.json", state_dir, id);
        assert_int_equal(stat(path, &st), 0);
        return st.st_ino;
}

static void test_attest_writes_the_state_only_when_the_counters_moved(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        json_object *r = attest(&g, "vm-keep", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        ino_t first = state_inode("vm-keep");
        r = attest(&g, "vm-keep", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        assert_true(state_inode("vm-keep") == first); /* the same counters: left as it was */
        vt_swtpm_power_cycle(&g.tpm);
        guest_boot(&g);
        r = attest(&g, "vm-keep", cas, 2, false, NULL, false);
        assert_reason(r, "tpm-reset");
        json_object_put(r);
        assert_true(state_inode("vm-keep") != first); /* the new boot's counters */
        r = attest(&g, "vm-keep", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        guest_stop(&g);
}

static void test_attest_compares_with_a_recorded_reference(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        json_object *r = attest(&g, "vm-ref", cas, 2, false, NULL, true);
        assert_reason(r, "ok");
        json_object *ref = json_object_get(json_object_object_get(r, "reference"));
        assert_non_null(ref);
        json_object_put(r);
        r = attest(&g, "vm-ref", cas, 2, false, ref, false);
        assert_reason(r, "ok");
        json_object_put(r);
        /* the reference with one PCR changed, and one event of it: named in the detail */
        json_object *pcrs = json_object_object_get(json_object_object_get(ref, "pcrs"), "sha256");
        json_object_object_add(
                pcrs, "4",
                json_object_new_string("0000000000000000000000000000000000000000000000"
                                       "000000000000000000"));
        json_object *ev4 = json_object_object_get(
                json_object_object_get(json_object_object_get(ref, "events"), "sha256"), "4");
        assert_non_null(ev4);
        json_object_object_add(json_object_array_get_idx(ev4, 0), "digest",
                               json_object_new_string("00"));
        r = attest(&g, "vm-ref", cas, 2, false, ref, false);
        assert_reason(r, "reference");
        assert_string_equal(binding(r), "recorded");
        const char *s = json_object_to_json_string(r);
        assert_non_null(strstr(s, "sha256:4: event 1 of PCR 4"));
        json_object_put(r);
        json_object_put(ref);
        guest_stop(&g);
}

static void test_attest_flags_two_guests_with_one_ek(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        guest_boot(&g);
        json_object *r = attest(&g, "vm-clone-a", cas, 2, false, NULL, false);
        assert_reason(r, "ok");
        json_object_put(r);
        r = attest(&g, "vm-clone-b", cas, 2, false, NULL, false); /* the same vTPM state */
        assert_reason(r, "ek-duplicate");
        json_object_put(r);
        guest_stop(&g);
}

/* tpm2-tools' file format: BADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
static void test_credential_interoperates_with_tpm2_tools(void **state)
{
        struct guest g;
        guest_start(&g, ca_dir);
        char *dir = vt_test_mkdtemp();
        char ekctx[600], ekpub[600], akctx[600], akpub[600], akname[600], cred[600], out[600],
                sess[600], secret[600];
        snprintf(ekctx, sizeof(ekctx), "%s/ek.ctx", dir);
        snprintf(ekpub, sizeof(ekpub), "%s/ek.pub", dir);
        snprintf(akctx, sizeof(akctx), "%s/ak.ctx", dir);
        snprintf(akpub, sizeof(akpub), "%s/ak.pub", dir);
        snprintf(akname, sizeof(akname), "%s/ak.name", dir);
        snprintf(cred, sizeof(cred), "%s/cred", dir);
        snprintf(out, sizeof(out), "%s/out", dir);
        snprintf(sess, sizeof(sess), "%s/s.ctx", dir);
        snprintf(secret, sizeof(secret), "%s/secret", dir);
        /* no resource manager in front of swtpm: flush what each tool leaves loaded */
        char *flush_all[] = {"tpm2_flushcontext", "-t", NULL};
        char *ek[] = {"tpm2_createek", "-c", ekctx, "-G", "rsa", "-u", ekpub, NULL};
        assert_int_equal(vt_swtpm_tool(&g.tpm, ek, NULL), 0);
        vt_swtpm_tool(&g.tpm, flush_all, NULL);
        char *ak[] = {"tpm2_createak", "-C", ekctx, "-c", akctx, "-u", akpub, "-n", akname, NULL};
        assert_int_equal(vt_swtpm_tool(&g.tpm, ak, NULL), 0);
        vt_swtpm_tool(&g.tpm, flush_all, NULL);

        /* 1. our MakeCredential, tpm2_activatecredential's activation */
        uint8_t *buf;
        size_t len, off = 0;
        TPM2B_PUBLIC ekp = {0};
        FILE *f = fopen(ekpub, "rb");
        buf = malloc(4096);
        len = fread(buf, 1, 4096, f);
        fclose(f);
        assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &ekp), 0);
        free(buf);
        TPM2B_NAME name = {0};
        f = fopen(akname, "rb");
        name.size = (UINT16)fread(name.name, 1, sizeof(name.name), f);
        fclose(f);
        const uint8_t want[32] = "virtune credential interop 32 b";
        uint8_t *blob, *sec;
        size_t blob_len, sec_len;
        assert_int_equal(vt_cred_make(&ekp.publicArea, &name, want, sizeof(want), &blob, &blob_len,
                                      &sec, &sec_len),
                         0);
        f = fopen(cred, "wb");
        const uint8_t hdr[8] = {0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1};
        fwrite(hdr, 1, 8, f);
        fwrite(blob, 1, blob_len, f);
        fwrite(sec, 1, sec_len, f);
        fclose(f);
        free(blob);
        free(sec);
        char *s1[] = {"tpm2_startauthsession", "--policy-session", "-S", sess, NULL};
        assert_int_equal(vt_swtpm_tool(&g.tpm, s1, NULL), 0);
        char *s2[] = {"tpm2_policysecret", "-S", sess, "-c", "e", NULL};
        assert_int_equal(vt_swtpm_tool(&g.tpm, s2, NULL), 0);
        char auth[700];
        snprintf(auth, sizeof(auth), "session:%s", sess);
        char *act[] = {"tpm2_activatecredential",
                       "-c",
                       akctx,
                       "-C",
                       ekctx,
                       "-i",
                       cred,
                       "-o",
                       out,
                       "-P",
                       auth,
                       NULL};
        assert_int_equal(vt_swtpm_tool(&g.tpm, act, NULL), 0);
        char *flush[] = {"tpm2_flushcontext", sess, NULL};
        vt_swtpm_tool(&g.tpm, flush, NULL);
        vt_swtpm_tool(&g.tpm, flush_all, NULL); /* activatecredential leaves both keys loaded */
        f = fopen(out, "rb");
        uint8_t got[64];
        assert_int_equal(fread(got, 1, sizeof(got), f), sizeof(want));
        fclose(f);
        assert_memory_equal(got, want, sizeof(want));

        /* 2. tpm2_makecredential (in software, -T none), our activation in the agent */
        json_object *ekr = dispatch(g.ctx, "virtune-ek", NULL);
        assert_non_null(ekr);
        const char *ekhex = json_object_get_string(
                json_object_object_get(json_object_object_get(ekr, "ek"), "public"));
        const char *akhex = json_object_get_string(
                json_object_object_get(json_object_object_get(ekr, "ak"), "public"));
        assert_int_equal(vt_hex_decode(ekhex, &buf, &len), 0);
        f = fopen(ekpub, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
        free(buf);
        TPM2B_PUBLIC akp = {0};
        assert_int_equal(vt_hex_decode(akhex, &buf, &len), 0);
        off = 0;
        assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &akp), 0);
        free(buf);
        assert_int_equal(vt_cred_name(&akp.publicArea, &name), 0);
        _cleanup_free_ char *namehex = vt_hex_encode(name.name, name.size); /* -n takes hex */
        f = fopen(secret, "wb");
        fwrite(want, 1, sizeof(want), f);
        fclose(f);
        char *mk[] = {"tpm2_makecredential",
                      "-T",
                      "none",
                      "-u",
                      ekpub,
                      "-s",
                      secret,
                      "-n",
                      namehex,
                      "-o",
                      cred,
                      NULL};
        assert_int_equal(vt_test_run(mk, NULL), 0);
        f = fopen(cred, "rb");
        buf = malloc(4096);
        len = fread(buf, 1, 4096, f);
        fclose(f);
        assert_true(len > 12 && memcmp(buf, hdr, 8) == 0);
        size_t idlen = 2 + ((size_t)buf[8] << 8 | buf[9]);
        _cleanup_free_ char *ch = vt_hex_encode(buf + 8, idlen);
        _cleanup_free_ char *sh = vt_hex_encode(buf + 8 + idlen, len - 8 - idlen);
        free(buf);
        json_object *args = json_object_new_object();
        vt_json_add_str(args, "credential", ch);
        vt_json_add_str(args, "secret", sh);
        json_object *res = dispatch(g.ctx, "virtune-activate", args);
        json_object_put(args);
        assert_non_null(res);
        _cleanup_free_ char *wanthex = vt_hex_encode(want, sizeof(want));
        assert_string_equal(json_object_get_string(json_object_object_get(res, "secret")), wanthex);
        json_object_put(res);
        json_object_put(ekr);
        vt_test_root_free(dir);
        guest_stop(&g);
}

static int group_setup(void **state)
{
        ca_dir = vt_test_mkdtemp();
        other_ca_dir = vt_test_mkdtemp();
        state_dir = vt_test_mkdtemp();
        vt_swtpm_ca_files(ca_dir, issuer, root_ca, sizeof(issuer));
        vt_swtpm_ca_files(other_ca_dir, other_issuer, other_root, sizeof(other_issuer));
        cas[0] = issuer, cas[1] = root_ca;
        other_cas[0] = other_issuer, other_cas[1] = other_root;
        /* the second CA exists once a TPM was provisioned with it */
        struct vt_swtpm t = {.ca_dir = other_ca_dir};
        vt_swtpm_start(&t);
        vt_swtpm_stop(&t);
        return 0;
}

static int group_teardown(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(running); i++)
                if (running[i])
                        guest_stop(running[i]);
        vt_test_root_free(ca_dir);
        vt_test_root_free(other_ca_dir);
        vt_test_root_free(state_dir);
        return 0;
}

int main(void)
{
        if (!vt_swtpm_available())
                return 77;
        char *argv[] = {"sh", "-c", "command -v swtpm_setup && command -v swtpm_localca", NULL};
        if (vt_test_run(argv, NULL) != 0) {
                printf("SKIP: swtpm_setup / swtpm_localca not installed (swtpm-tools)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_attest_trusts_a_libvirt_provisioned_vtpm),
                cmocka_unit_test(test_attest_rejects_an_ek_certificate_from_another_ca),
                cmocka_unit_test(test_attest_checks_a_recorded_binding_again_under_other_anchors),
                cmocka_unit_test(
                        test_attest_rejects_another_certificate_despite_a_recorded_binding),
                cmocka_unit_test(test_attest_uses_a_recorded_binding_only_when_all_of_it_matches),
                cmocka_unit_test(test_attest_without_a_trusted_certificate_pins_only_with_tofu),
                cmocka_unit_test(test_attest_rejects_an_ak_from_another_tpm),
                cmocka_unit_test(test_attest_rejects_a_replayed_quote),
                cmocka_unit_test(test_attest_rejects_another_selection_than_asked),
                cmocka_unit_test(test_attest_rejects_an_event_log_with_one_digest_changed),
                cmocka_unit_test(test_attest_reports_a_tpm_reset_between_two_attestations),
                cmocka_unit_test(test_attest_writes_the_state_only_when_the_counters_moved),
                cmocka_unit_test(test_attest_compares_with_a_recorded_reference),
                cmocka_unit_test(test_attest_flags_two_guests_with_one_ek),
                cmocka_unit_test(test_credential_interoperates_with_tpm2_tools),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
