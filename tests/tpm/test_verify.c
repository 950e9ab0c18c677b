/* The host verifier on real swtpm quotes: what passes, and each tampering it must reject. */
#include <ctype.h>
#include <openssl/evp.h>
#include "host_verify.h"
#include "tpm_eventlog.h"
#include <tss2/tss2_esys.h>
#include "codec.h"
#include "policy.h"
#include "tpm2.h"
#include "swtpm.h"

static const char nonce_hex[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
static const uint8_t nonce[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

static json_object *quote_from(struct vt_swtpm *t, const char *sel)
{
        /* --tcti: this TPM, whichever swtpm TPM2TOOLS_TCTI was last pointed at. */
        char *argv[] = {getenv("VIRTUNE"), "quote",  "--root",    t->root,  "--json", "--nonce",
                        (char *)nonce_hex, "--pcrs", (char *)sel, "--tcti", t->tcti,  NULL};
        char *out = NULL;
        assert_int_equal(vt_test_run(argv, &out), 0);
        json_object *q = json_tokener_parse(out);
        free(out);
        assert_non_null(q);
        return q;
}

/* Runs the verifier; returns the report and asserts it could run. */
static json_object *verify(json_object *q, const char *sel, json_object *log, const char *pin)
{
        json_object *report = NULL;
        assert_int_equal(vt_host_verify_sel(q, nonce, sizeof(nonce), sel, log, pin, &report), 0);
        return report;
}

static bool check_ok(json_object *report, const char *name)
{
        json_object *checks = json_object_object_get(report, "checks");
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                if (streq(json_object_get_string(json_object_object_get(c, "name")), name))
                        return json_object_get_boolean(json_object_object_get(c, "ok"));
        }
        fail_msg("no check named %s in %s", name, json_object_to_json_string(report));
        return false;
}

static bool report_ok(json_object *report)
{
        return json_object_get_boolean(json_object_object_get(report, "ok"));
}

/* Only `failed` failed: every other check of the report passed. */
static void assert_only_failed(json_object *report, const char *failed)
{
        json_object *checks = json_object_object_get(report, "checks");
        assert_false(report_ok(report));
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i);
                const char *name = json_object_get_string(json_object_object_get(c, "name"));
                assert_int_equal(json_object_get_boolean(json_object_object_get(c, "ok")),
                                 !streq(name, failed));
        }
}

/* Flips the lowest bit of the hex digit at index i of a string field. */
static void flip_hex(json_object *parent, const char *key, size_t i)
{
        char *s = strdup(json_object_get_string(json_object_object_get(parent, key)));
        assert_true(i < strlen(s));
        const char *digits = "0123456789abcdef";
        int v = (int)(strchr(digits, tolower((unsigned char)s[i])) - digits);
        s[i] = digits[v ^ 1];
        json_object_object_add(parent, key, json_object_new_string(s));
        free(s);
}

static void test_verify_accepts_an_ecc_quote(void **state)
{
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        json_object *r = verify(q, "sha256:0-9", NULL, NULL);
        assert_true(report_ok(r));
        assert_int_equal(json_object_array_length(json_object_object_get(r, "checks")), 6);
        json_object_put(r);
        json_object_put(q);
}

static void test_verify_accepts_an_rsa_quote_over_two_banks(void **state)
{
        vt_test_write(vt_tpm.root, "etc/virtune/virtune.conf.d/ak.conf", "[tpm]\nak = rsa\n");
        json_object *q = quote_from(&vt_tpm, "sha1:0-7+sha256:0-23");
        json_object *r = verify(q, "sha1:0-7+sha256:0-23", NULL, NULL);
        assert_true(report_ok(r));
        json_object_put(r);
        json_object_put(q);
}

static void test_verify_rejects_a_wrong_nonce(void **state)
{
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        json_object *report = NULL;
        uint8_t other[16];
        memcpy(other, nonce, sizeof(other));
        other[15] ^= 1;
        assert_int_equal(
                vt_host_verify_sel(q, other, sizeof(other), "sha256:0-9", NULL, NULL, &report), 0);
        assert_only_failed(report, "nonce");
        json_object_put(report);
        json_object_put(q);
}

static void test_verify_rejects_a_flipped_pcr_value(void **state)
{
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        flip_hex(json_object_object_get(json_object_object_get(q, "pcrs"), "sha256"), "7", 10);
        json_object *r = verify(q, "sha256:0-9", NULL, NULL);
        assert_only_failed(r, "pcr-digest");
        json_object_put(r);
        json_object_put(q);
}

static void test_verify_rejects_a_tampered_attest_byte(void **state)
{
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        /* a byte of the clock info: still parses, but is no longer what the TPM signed */
        flip_hex(q, "attest", 2 * (4 + 2 + 2 + 32 + 2 + 16 + 3) + 1);
        json_object *r = verify(q, "sha256:0-9", NULL, NULL);
        assert_only_failed(r, "signature");
        json_object_put(r);
        json_object_put(q);
}

static void test_verify_rejects_a_wrong_ak(void **state)
{
        struct vt_swtpm other = {0};
        vt_swtpm_start(&other);
        json_object *theirs = quote_from(&other, "sha256:0-9");
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        json_object_object_add(q, "ak", json_object_get(json_object_object_get(theirs, "ak")));
        json_object *r = verify(q, "sha256:0-9", NULL, NULL);
        assert_only_failed(r, "signature");
        json_object_put(r);
        json_object_put(q);
        json_object_put(theirs);
        vt_swtpm_stop(&other);
}

static void test_verify_rejects_another_selection_than_asked(void **state)
{
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        json_object *r = verify(q, "sha256:0-7", NULL, NULL);
        assert_only_failed(r, "pcr-selection");
        json_object_put(r);
        json_object_put(q);
}

static void test_ak_pin_is_written_on_first_use_then_enforced(void **state)
{
        char *dir = vt_test_mkdtemp();
        char pin[512];
        snprintf(pin, sizeof(pin), "%s/ak.pem", dir);
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        json_object *r = verify(q, NULL, NULL, pin);
        assert_true(report_ok(r) && check_ok(r, "ak-pin"));
        json_object_put(r);
        r = verify(q, NULL, NULL, pin);
        assert_true(report_ok(r) && check_ok(r, "ak-pin"));
        json_object_put(r);
        json_object_put(q);

        struct vt_swtpm other = {0};
        vt_swtpm_start(&other);
        q = quote_from(&other, "sha256:0-9");
        r = verify(q, NULL, NULL, pin);
        assert_only_failed(r, "ak-pin");
        json_object_put(r);
        json_object_put(q);
        vt_swtpm_stop(&other);
        vt_test_root_free(dir);
}

/* A crypto-agile log (sha1 + sha256), written the way firmware writes it. */
struct logbuf {
        uint8_t b[8192];
        size_t n;
};

static void put(struct logbuf *l, const void *p, size_t len)
{
        assert_true(l->n + len <= sizeof(l->b));
        memcpy(l->b + l->n, p, len);
        l->n += len;
}

static void put32(struct logbuf *l, uint32_t v)
{
        uint8_t b[4] = {v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff, v >> 24};
        put(l, b, 4);
}

static void put16(struct logbuf *l, uint16_t v)
{
        uint8_t b[2] = {v & 0xff, v >> 8};
        put(l, b, 2);
}

static void log_header(struct logbuf *l)
{
        static const uint8_t zero[20];
        put32(l, 0), put32(l, 3), put(l, zero, 20);
        put32(l, 16 + 4 + 4 + 4 + 2 * 4 + 1);
        put(l, "Spec ID Event03", 16);
        put32(l, 0); /* platform class */
        uint8_t ver[4] = {0, 2, 0, 2};
        put(l, ver, 4);
        put32(l, 2);
        put16(l, 0x0004), put16(l, 20);
        put16(l, 0x000b), put16(l, 32);
        uint8_t vendor = 0;
        put(l, &vendor, 1);
}

static void log_event(struct logbuf *l, uint32_t pcr, uint32_t type, const uint8_t *d1,
                      const uint8_t *d256, const char *data)
{
        put32(l, pcr), put32(l, type), put32(l, 2);
        put16(l, 0x0004), put(l, d1, 20);
        put16(l, 0x000b), put(l, d256, 32);
        put32(l, (uint32_t)strlen(data)), put(l, data, strlen(data));
}

static json_object *log_json(const struct logbuf *l)
{
        char *b64 = vt_base64_encode(l->b, l->n);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "log", json_object_new_string(b64));
        free(b64);
        return o;
}

/* Events on PCRs 0, 2, 4 and 7, extended into swtpm with tpm2_pcrextend as firmware would. */
static void build_and_extend(struct logbuf *l, bool extend)
{
        static const unsigned pcrs[] = {0, 2, 4, 7, 4};
        log_header(l);
        for (size_t i = 0; i < ARRAY_SIZE(pcrs); i++) {
                uint8_t d1[20], d256[32];
                memset(d1, 0x10 + (int)i, sizeof(d1));
                memset(d256, 0x20 + (int)i, sizeof(d256));
                log_event(l, pcrs[i], 0x80000008 /* EV_EFI_PLATFORM_FIRMWARE_BLOB */, d1, d256,
                          "blob");
                if (!extend)
                        continue;
                _cleanup_free_ char *h1 = vt_hex_encode(d1, 20), *h256 = vt_hex_encode(d256, 32);
                char spec[256];
                snprintf(spec, sizeof(spec), "%u:sha1=%s,sha256=%s", pcrs[i], h1, h256);
                char *argv[] = {"tpm2_pcrextend", spec, NULL};
                assert_int_equal(vt_swtpm_tool(&vt_tpm, argv, NULL), 0);
        }
        /* EV_NO_ACTION in PCR 4 with garbage digests: skipped, not extended */
        uint8_t junk[32];
        memset(junk, 0xee, sizeof(junk));
        log_event(l, 4, 3, junk, junk, "not measured");
}

static void test_eventlog_replay_matches_the_quoted_pcrs(void **state)
{
        struct logbuf l = {0};
        build_and_extend(&l, true);
        json_object *q = quote_from(&vt_tpm, "sha1:0-9+sha256:0-9");
        json_object *log = log_json(&l);
        json_object *r = verify(q, "sha1:0-9+sha256:0-9", log, NULL);
        assert_true(report_ok(r));
        assert_true(check_ok(r, "eventlog-replay"));
        json_object_put(r);

        /* a changed digest in the EV_NO_ACTION event (its last 40 bytes: 24 of the sha256
         * digest, size, data) changes nothing: such events are never extended */
        struct logbuf other = {0};
        build_and_extend(&other, false);
        other.b[other.n - 40] ^= 1;
        json_object_put(log);
        log = log_json(&other);
        r = verify(q, "sha1:0-9+sha256:0-9", log, NULL);
        assert_true(report_ok(r));
        json_object_put(r);
        json_object_put(log);
        json_object_put(q);
}

static void test_eventlog_replay_rejects_a_changed_event_digest(void **state)
{
        struct logbuf l = {0};
        build_and_extend(&l, true);
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        size_t header = 32 + 37; /* SHA-1 header + the Spec ID event (2 banks) */
        /* first measured event (PCR 0): pcr, type, count, sha1 alg+digest, sha256 alg, digest */
        l.b[header + 12 + 2 + 20 + 2 + 5] ^= 0x40;
        json_object *log = log_json(&l);
        json_object *r = verify(q, "sha256:0-9", log, NULL);
        assert_only_failed(r, "eventlog-replay");
        json_object_put(r);
        json_object_put(log);
        json_object_put(q);
}

static void test_eventlog_startup_locality_sets_pcr0_initial_value(void **state)
{
        struct logbuf l = {0};
        uint8_t zero[32] = {0}, d[32];
        memset(d, 0x5a, sizeof(d));
        log_header(&l);
        char data[17] = "StartupLocality";
        data[16] = 3;
        put32(&l, 0), put32(&l, 3), put32(&l, 2);
        put16(&l, 0x0004), put(&l, zero, 20), put16(&l, 0x000b), put(&l, zero, 32);
        put32(&l, 17), put(&l, data, 17);
        log_event(&l, 0, 0x80000008, d, d, "x");
        struct vt_evlog log;
        assert_int_equal(vt_evlog_replay(l.b, l.n, &log), 0);
        assert_int_equal(log.locality, 3);
        assert_int_equal(log.events, 2);
        uint8_t start[64] = {0}, want[32];
        start[31] = 3;
        memcpy(start + 32, d, 32);
        unsigned n;
        assert_true(EVP_Digest(start, 64, want, &n, EVP_sha256(), NULL));
        const struct vt_evlog_bank *b = vt_evlog_bank(&log, 0x000b);
        assert_non_null(b);
        assert_memory_equal(b->pcr[0], want, 32);
}

/* Replaying only the banks asked for: the same values for those, the others left out. */
static void test_eventlog_replay_of_one_bank_equals_that_bank_of_the_whole(void **state)
{
        struct logbuf l = {0};
        uint8_t zero[32] = {0}, d[32];
        memset(d, 0x3c, sizeof(d));
        log_header(&l);
        log_event(&l, 0, 0x80000008, d, d, "x");
        log_event(&l, 7, 0x80000008, d, d, "y");
        struct vt_evlog all, only;
        assert_int_equal(vt_evlog_replay(l.b, l.n, &all), 0);
        assert_int_equal(vt_evlog_replay_only(l.b, l.n, UINT64_C(1) << 0x000b, &only), 0);
        assert_int_equal(only.events, all.events);
        assert_null(vt_evlog_bank(&only, 0x0004));
        assert_non_null(vt_evlog_bank(&all, 0x0004));
        assert_memory_equal(vt_evlog_bank(&only, 0x000b), vt_evlog_bank(&all, 0x000b),
                            sizeof(struct vt_evlog_bank));
        /* a bank left out is still parsed as strictly: twice in one event is malformed */
        put32(&l, 0), put32(&l, 0x80000008), put32(&l, 2);
        put16(&l, 0x0004), put(&l, zero, 20), put16(&l, 0x0004), put(&l, zero, 20);
        put32(&l, 1), put(&l, "z", 1);
        assert_int_equal(vt_evlog_replay_only(l.b, l.n, UINT64_C(1) << 0x000b, &only), -EBADMSG);
}

static void test_eventlog_truncated_is_malformed(void **state)
{
        struct logbuf l = {0};
        build_and_extend(&l, false);
        struct vt_evlog log;
        for (size_t cut = 1; cut < l.n; cut += 7)
                if (vt_evlog_replay(l.b, l.n - cut, &log) != -EBADMSG)
                        fail_msg("a log cut by %zu bytes was accepted", cut);
}

static void *read_fixture(const char *name, size_t *len)
{
        char *dir = vt_test_fixture("tpm-seabios-vm");
        char *buf = vt_test_read(dir, name);
        assert_non_null(buf);
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        *len = (size_t)ftell(f);
        fclose(f);
        free(dir);
        return buf;
}

/* The real SeaBIOS log and quote of the VM guest: the log explains PCRs 0-7 of both banks. */
static void test_seabios_log_replays_to_the_quoted_pcrs(void **state)
{
        size_t len;
        char *log = read_fixture("sys/kernel/security/tpm0/binary_bios_measurements", &len);
        char *qtext = read_fixture("quote.json", &(size_t){0});
        json_object *q = json_tokener_parse(qtext);
        assert_non_null(q);
        const uint8_t n[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        char *b64 = vt_base64_encode((uint8_t *)log, len);
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "log", json_object_new_string(b64));
        json_object *r = NULL;
        assert_int_equal(vt_host_verify_sel(q, n, sizeof(n), "sha1:0-9+sha256:0-9", ev, NULL, &r),
                         0);
        if (!report_ok(r))
                fail_msg("%s", json_object_to_json_string(r));
        assert_true(check_ok(r, "eventlog-replay"));

        struct vt_evlog replay;
        assert_int_equal(vt_evlog_replay((uint8_t *)log, len, &replay), 0);
        assert_true(replay.crypto_agile);
        assert_int_equal(replay.nbanks, 4);
        assert_int_equal(replay.locality, -1);

        /* one byte of the first measured event's sha256 digest: PCR 0 no longer matches */
        size_t spec = 32 + 45; /* SHA-1 header + a Spec ID event naming 4 banks */
        ((uint8_t *)log)[spec + 12 + 2 + 20 + 2] ^= 1;
        free(b64);
        b64 = vt_base64_encode((uint8_t *)log, len);
        json_object_object_add(ev, "log", json_object_new_string(b64));
        json_object_put(r);
        assert_int_equal(vt_host_verify_sel(q, n, sizeof(n), NULL, ev, NULL, &r), 0);
        assert_only_failed(r, "eventlog-replay");
        json_object_put(r);
        json_object_put(ev);
        json_object_put(q);
        free(b64);
        free(qtext);
        free(log);
}

/* Hostile logs: random bytes changed in the real one never read outside the buffer (ASan). */
static void test_eventlog_mutations_are_rejected_or_replayed_safely(void **state)
{
        size_t len;
        uint8_t *orig = read_fixture("sys/kernel/security/tpm0/binary_bios_measurements", &len);
        uint8_t *buf = malloc(len);
        assert_non_null(buf);
        unsigned seed = 1;
        int rejected = 0;
        for (int i = 0; i < 3000; i++) {
                memcpy(buf, orig, len);
                for (int k = 0; k < 1 + i % 4; k++)
                        buf[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
                struct vt_evlog log;
                size_t cut = i % 3 == 0 ? (size_t)rand_r(&seed) % len : len;
                int r = vt_evlog_replay(buf, cut, &log);
                assert_true(r == 0 || r == -EBADMSG);
                rejected += r < 0;
        }
        assert_true(rejected > 0);
        free(buf);
        free(orig);
}

/* The quote retry: a PCR of the selection extended between the quote and the re-read. */
struct extender {
        int times; /* extend on this many attempts, then hold still */
        int calls;
};

static int extend_pcr8(void *esys, int attempt, void *userdata)
{
        struct extender *e = userdata;
        e->calls++;
        assert_int_equal(attempt, e->calls);
        if (attempt > e->times)
                return 0;
        TPML_DIGEST_VALUES d = {.count = 1, .digests[0].hashAlg = TPM2_ALG_SHA256};
        memset(d.digests[0].digest.sha256, attempt, 32);
        assert_int_equal(Esys_PCR_Extend(esys, ESYS_TR_PCR0 + 8, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                         ESYS_TR_NONE, &d),
                         TSS2_RC_SUCCESS);
        return 0;
}

static int quote_extending(int times, struct extender *e, json_object **q)
{
        struct vt_ctx *ctx = NULL;
        char err[256];
        assert_int_equal(vt_ctx_new(vt_tpm.root, &ctx), 0);
        assert_int_equal(vt_policy_load(ctx, &ctx->policy, err, sizeof(err)), 0);
        *e = (struct extender){.times = times};
        struct vt_tpm2_quote_hook hook = {extend_pcr8, e};
        int r = vt_tpm2_quote_hooked(ctx, nonce, sizeof(nonce), "sha256:0-9", &hook, q);
        vt_ctx_free(ctx);
        return r;
}

static void test_quote_retries_when_a_pcr_moves_and_the_final_quote_verifies(void **state)
{
        struct extender e;
        json_object *q = NULL;
        assert_int_equal(quote_extending(2, &e, &q), 0);
        assert_int_equal(e.calls, 3);
        assert_int_equal(json_object_get_int(json_object_object_get(q, "attempts")), 3);
        json_object *r = verify(q, "sha256:0-9", NULL, NULL);
        if (!report_ok(r))
                fail_msg("%s", json_object_to_json_string(r));
        json_object_put(r);

        /* the values quoted are those after both extends, as tpm2_pcrread sees them now */
        char *argv[] = {"tpm2_pcrread", "sha256:8", NULL}, *out = NULL;
        assert_int_equal(vt_swtpm_tool(&vt_tpm, argv, &out), 0);
        const char *v = json_object_get_string(json_object_object_get(
                json_object_object_get(json_object_object_get(q, "pcrs"), "sha256"), "8"));
        char want[80];
        snprintf(want, sizeof(want), "0x%s", v);
        for (char *c = want + 2; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        if (!strstr(out, want))
                fail_msg("tpm2_pcrread says %s, the quote %s", out, want);
        assert_string_not_equal(v,
                                "0000000000000000000000000000000000000000000000000000000000000000");
        free(out);
        json_object_put(q);
}

static void test_quote_gives_up_after_the_retry_budget(void **state)
{
        struct extender e;
        json_object *q = NULL;
        assert_int_equal(quote_extending(1000, &e, &q), -EAGAIN);
        assert_null(q);
        assert_int_equal(e.calls, 5);
        assert_non_null(
                strstr(vt_tpm2_strerror(-EAGAIN), "changed between the quote and the re-read"));
}

/* virtune-host verify --from-files: the quote (and log) saved to files, checked by the CLI. */
struct saved {
        char *dir;
        char quote[512], log[512], pin[512];
};

static void saved_init(struct saved *f)
{
        f->dir = vt_test_mkdtemp();
        snprintf(f->quote, sizeof(f->quote), "%s/q.json", f->dir);
        snprintf(f->log, sizeof(f->log), "%s/eventlog", f->dir);
        snprintf(f->pin, sizeof(f->pin), "%s/ak.pem", f->dir);
}

static void saved_free(struct saved *f)
{
        vt_test_root_free(f->dir);
}

static void save_json(const char *path, json_object *o)
{
        assert_int_equal(json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY), 0);
}

static void save_bytes(const char *path, const void *buf, size_t len)
{
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

/*
 * virtune-host --json verify --from-files --nonce HEX [--pcrs SEL] [--ak-pin PIN] QUOTE [LOG];
 * returns the exit status and, when it printed one, the report.
 */
static int verify_files(const struct saved *f, const char *nonce_arg, const char *sel, bool log,
                        bool pin, json_object **report)
{
        char *argv[16] = {getenv("VIRTUNE_HOST"), "--json",  "verify",
                          "--from-files",         "--nonce", (char *)nonce_arg};
        size_t n = 6;
        if (sel)
                argv[n++] = "--pcrs", argv[n++] = (char *)sel;
        if (pin)
                argv[n++] = "--ak-pin", argv[n++] = (char *)f->pin;
        argv[n++] = (char *)f->quote;
        if (log)
                argv[n++] = (char *)f->log;
        char *out = NULL;
        int st = vt_test_run(argv, &out);
        *report = json_tokener_parse(out);
        free(out);
        return st;
}

/* The exit status is 1 and only `failed` failed. */
static void assert_files_fail_only(const struct saved *f, const char *sel, bool log,
                                   const char *failed)
{
        json_object *r = NULL;
        assert_int_equal(verify_files(f, nonce_hex, sel, log, false, &r), 1);
        assert_non_null(r);
        assert_only_failed(r, failed);
        json_object_put(r);
}

static void test_verify_from_files_accepts_a_saved_swtpm_quote(void **state)
{
        struct saved f;
        saved_init(&f);
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        save_json(f.quote, q);
        json_object *r = NULL;
        assert_int_equal(verify_files(&f, nonce_hex, "sha256:0-9", false, true, &r), 0);
        assert_true(report_ok(r));
        assert_int_equal(json_object_array_length(json_object_object_get(r, "checks")), 7);
        assert_true(check_ok(r, "ak-pin"));
        json_object_put(r);
        /* the pin written on first use holds the next time */
        assert_int_equal(verify_files(&f, nonce_hex, "sha256:0-9", false, true, &r), 0);
        json_object_put(r);
        json_object_put(q);
        saved_free(&f);
}

static void test_verify_from_files_rejects_each_tampering(void **state)
{
        struct saved f;
        saved_init(&f);
        json_object *q = quote_from(&vt_tpm, "sha256:0-9");
        save_json(f.quote, q);
        json_object *r = NULL;

        /* a nonce other than the one the quote was made over */
        assert_int_equal(verify_files(&f, "a0a1a2a3a4a5a6a7a8a9aaabacadaeae", "sha256:0-9", false,
                                      false, &r),
                         1);
        assert_only_failed(r, "nonce");
        json_object_put(r);

        /* another selection than asked */
        assert_files_fail_only(&f, "sha256:0-7", false, "pcr-selection");

        /* a flipped PCR value */
        json_object *t = NULL;
        json_object_deep_copy(q, &t, NULL);
        flip_hex(json_object_object_get(json_object_object_get(t, "pcrs"), "sha256"), "7", 10);
        save_json(f.quote, t);
        assert_files_fail_only(&f, "sha256:0-9", false, "pcr-digest");
        json_object_put(t);

        /* a byte of the attest's clock info */
        t = NULL;
        json_object_deep_copy(q, &t, NULL);
        flip_hex(t, "attest", 2 * (4 + 2 + 2 + 32 + 2 + 16 + 3) + 1);
        save_json(f.quote, t);
        assert_files_fail_only(&f, "sha256:0-9", false, "signature");
        json_object_put(t);

        /* another TPM's AK */
        struct vt_swtpm other = {0};
        vt_swtpm_start(&other);
        json_object *theirs = quote_from(&other, "sha256:0-9");
        t = NULL;
        json_object_deep_copy(q, &t, NULL);
        json_object_object_add(t, "ak", json_object_get(json_object_object_get(theirs, "ak")));
        save_json(f.quote, t);
        assert_files_fail_only(&f, "sha256:0-9", false, "signature");
        json_object_put(t);

        /* a pinned AK, then another TPM's genuine quote */
        save_json(f.quote, q);
        assert_int_equal(verify_files(&f, nonce_hex, "sha256:0-9", false, true, &r), 0);
        json_object_put(r);
        save_json(f.quote, theirs);
        assert_int_equal(verify_files(&f, nonce_hex, "sha256:0-9", false, true, &r), 1);
        assert_only_failed(r, "ak-pin");
        json_object_put(r);
        json_object_put(theirs);
        vt_swtpm_stop(&other);
        json_object_put(q);
        saved_free(&f);
}

/* The VM guest's quote and SeaBIOS log, as `virtune quote --json` and the log file. */
static void test_verify_from_files_replays_the_seabios_vm_log(void **state)
{
        struct saved f;
        saved_init(&f);
        size_t len;
        uint8_t *log = read_fixture("sys/kernel/security/tpm0/binary_bios_measurements", &len);
        char *qtext = read_fixture("quote.json", &(size_t){0});
        save_bytes(f.quote, qtext, strlen(qtext));
        save_bytes(f.log, log, len);
        static const char n[] = "000102030405060708090a0b0c0d0e0f", sel[] = "sha1:0-9+sha256:0-9";
        json_object *r = NULL;
        assert_int_equal(verify_files(&f, n, sel, true, false, &r), 0);
        assert_true(report_ok(r) && check_ok(r, "eventlog-replay"));
        json_object_put(r);

        /* the log as `virtune eventlog --json` printed it */
        char *fixture = vt_test_fixture("tpm-seabios-vm"), *out = NULL;
        char *argv[] = {getenv("VIRTUNE"), "eventlog", "--root", fixture, "--json", NULL};
        assert_int_equal(vt_test_run(argv, &out), 0);
        save_bytes(f.log, out, strlen(out));
        assert_int_equal(verify_files(&f, n, sel, true, false, &r), 0);
        assert_true(report_ok(r));
        json_object_put(r);
        free(out);
        free(fixture);

        /* one byte of the first measured event's sha256 digest */
        log[32 + 45 + 12 + 2 + 20 + 2] ^= 1;
        save_bytes(f.log, log, len);
        assert_int_equal(verify_files(&f, n, sel, true, false, &r), 1);
        assert_only_failed(r, "eventlog-replay");
        json_object_put(r);

        /* a log cut short: malformed, a failed check, not a crash */
        save_bytes(f.log, log, len - 5);
        assert_int_equal(verify_files(&f, n, sel, true, false, &r), 1);
        assert_only_failed(r, "eventlog-replay");
        json_object_put(r);
        free(qtext);
        free(log);
        saved_free(&f);
}

static void test_verify_from_files_refuses_what_is_not_a_quote(void **state)
{
        struct saved f;
        saved_init(&f);
        json_object *r = NULL;
        save_bytes(f.quote, "{\"attest\": \"00\"", 15);
        assert_int_equal(verify_files(&f, nonce_hex, NULL, false, false, &r), 1);
        assert_null(r);
        save_bytes(f.quote, "{\"attest\": \"00\"}", 16);
        assert_int_equal(verify_files(&f, nonce_hex, NULL, false, false, &r), 1);
        assert_null(r);
        /* no nonce: a usage error */
        char *argv[] = {getenv("VIRTUNE_HOST"), "verify", "--from-files", f.quote, NULL};
        assert_int_equal(vt_test_run(argv, NULL), 2);
        saved_free(&f);
}

int main(void)
{
        if (!vt_swtpm_available())
                return 77;
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vt_swtpm_setup, vt_swtpm_teardown)
                T(test_verify_accepts_an_ecc_quote),
                T(test_verify_accepts_an_rsa_quote_over_two_banks),
                T(test_verify_rejects_a_wrong_nonce),
                T(test_verify_rejects_a_flipped_pcr_value),
                T(test_verify_rejects_a_tampered_attest_byte),
                T(test_verify_rejects_a_wrong_ak),
                T(test_verify_rejects_another_selection_than_asked),
                T(test_ak_pin_is_written_on_first_use_then_enforced),
                T(test_eventlog_replay_matches_the_quoted_pcrs),
                T(test_eventlog_replay_rejects_a_changed_event_digest),
                T(test_quote_retries_when_a_pcr_moves_and_the_final_quote_verifies),
                T(test_quote_gives_up_after_the_retry_budget),
                T(test_verify_from_files_accepts_a_saved_swtpm_quote),
                T(test_verify_from_files_rejects_each_tampering),
                cmocka_unit_test(test_verify_from_files_replays_the_seabios_vm_log),
                cmocka_unit_test(test_verify_from_files_refuses_what_is_not_a_quote),
                cmocka_unit_test(test_eventlog_startup_locality_sets_pcr0_initial_value),
                cmocka_unit_test(test_eventlog_replay_of_one_bank_equals_that_bank_of_the_whole),
                cmocka_unit_test(test_eventlog_truncated_is_malformed),
                cmocka_unit_test(test_seabios_log_replays_to_the_quoted_pcrs),
                cmocka_unit_test(test_eventlog_mutations_are_rejected_or_replayed_safely),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
