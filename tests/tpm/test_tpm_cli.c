/* virtune pcrs/quote against a real swtpm, checked with tpm2-tools. */
#include <ctype.h>
#include <stdarg.h>
#include "tpm2_sel.h"
#include "swtpm.h"

static json_object *virtune_json(int want_exit, const char *cmd, ...)
{
        char *argv[16] = {getenv("VIRTUNE"), (char *)cmd, "--root", vt_tpm.root, "--json"};
        int n = 5;
        va_list ap;
        va_start(ap, cmd);
        for (char *a; (a = va_arg(ap, char *)) && n < 15;)
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        char *out = NULL;
        assert_int_equal(vt_test_run(argv, &out), want_exit);
        json_object *doc = want_exit == 0 ? json_tokener_parse(out) : NULL;
        free(out);
        if (want_exit == 0)
                assert_non_null(doc);
        return doc;
}

/* tpm2_pcrread's YAML ("  sha1:" then "    0 : 0xHEX") into {"sha1": {"0": "hex"}}. */
static json_object *pcrread_json(void)
{
        char *argv[] = {"tpm2_pcrread", NULL};
        char *out = NULL;
        assert_int_equal(vt_swtpm_tool(&vt_tpm, argv, &out), 0);
        json_object *doc = json_object_new_object(), *bank = NULL;
        char *save = NULL;
        for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char name[32], hex[160];
                unsigned pcr;
                if (sscanf(l, " %u : 0x%159s", &pcr, hex) == 2 && bank) {
                        for (char *c = hex; *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                        char key[8];
                        snprintf(key, sizeof(key), "%u", pcr);
                        json_object_object_add(bank, key, json_object_new_string(hex));
                } else if (sscanf(l, " %31[a-z0-9_]:", name) == 1) {
                        bank = json_object_new_object();
                        json_object_object_add(doc, name, bank);
                }
        }
        free(out);
        return doc;
}

static void extend(const char *spec)
{
        char *argv[] = {"tpm2_pcrextend", (char *)spec, NULL};
        assert_int_equal(vt_swtpm_tool(&vt_tpm, argv, NULL), 0);
}

static const char ones20[] = "1111111111111111111111111111111111111111";
static const char twos32[] = "2222222222222222222222222222222222222222222222222222222222222222";

static void test_pcrs_match_tpm2_pcrread_for_every_bank(void **state)
{
        char spec[512];
        snprintf(spec, sizeof(spec), "16:sha1=%s,sha256=%s", ones20, twos32);
        extend(spec);
        snprintf(spec, sizeof(spec), "23:sha256=%s", twos32);
        extend(spec);
        extend(spec);
        json_object *ours = virtune_json(0, "pcrs", NULL);
        json_object *theirs = pcrread_json();
        json_object *banks = json_object_object_get(ours, "banks");
        assert_true(json_object_object_length(theirs) >= 2);
        assert_int_equal(json_object_object_length(banks), json_object_object_length(theirs));
        int compared = 0;
        json_object_object_foreach (theirs, bank, pcrs) {
                json_object *mine = json_object_object_get(banks, bank);
                assert_non_null(mine);
                assert_int_equal(json_object_object_length(pcrs), 24);
                assert_int_equal(json_object_object_length(mine), 24);
                json_object_object_foreach (pcrs, pcr, value) {
                        assert_string_equal(
                                json_object_get_string(json_object_object_get(mine, pcr)),
                                json_object_get_string(value));
                        compared++;
                }
        }
        assert_int_equal(compared, 24 * json_object_object_length(theirs));
        /* the extends really landed: sha256 PCR 16 and 23 moved, and differ from each other */
        json_object *sha256 = json_object_object_get(banks, "sha256");
        const char *p16 = json_object_get_string(json_object_object_get(sha256, "16"));
        const char *p23 = json_object_get_string(json_object_object_get(sha256, "23"));
        assert_string_not_equal(p16, p23);
        assert_string_not_equal(p16,
                                "0000000000000000000000000000000000000000000000000000000000000000");
        json_object_put(ours);
        json_object_put(theirs);
}

static void test_pcrs_bank_option_reads_only_that_bank(void **state)
{
        json_object *doc = virtune_json(0, "pcrs", "--bank", "sha256", NULL);
        json_object *banks = json_object_object_get(doc, "banks");
        assert_int_equal(json_object_object_length(banks), 1);
        assert_int_equal(json_object_object_length(json_object_object_get(banks, "sha256")), 24);
        json_object_put(doc);
}

static void test_pcrs_unknown_bank_is_a_usage_error(void **state)
{
        virtune_json(2, "pcrs", "--bank", "md5", NULL);
}

/* `virtune pcrs [SEL]` prints what `tpm2_pcrread [SEL]` prints, byte for byte. */
static void pcrs_text_equals_pcrread(const char *sel)
{
        char *ours = NULL, *theirs = NULL;
        char *argv[] = {getenv("VIRTUNE"), "pcrs", "--root", vt_tpm.root, (char *)sel, NULL};
        char *tool[] = {"tpm2_pcrread", (char *)sel, NULL};
        assert_int_equal(vt_test_run(argv, &ours), 0);
        assert_int_equal(vt_swtpm_tool(&vt_tpm, tool, &theirs), 0);
        assert_non_null(ours);
        assert_non_null(theirs);
        assert_true(strlen(theirs) > 40);
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
}

static void test_pcrs_text_is_tpm2_pcrreads_byte_for_byte(void **state)
{
        char spec[512];
        snprintf(spec, sizeof(spec), "16:sha1=%s,sha256=%s", ones20, twos32);
        extend(spec);
        pcrs_text_equals_pcrread(NULL);
        pcrs_text_equals_pcrread("sha256:16,0,2+sha1:3,16");
        pcrs_text_equals_pcrread("sha1:all");
        pcrs_text_equals_pcrread("sha256");
}

/* A root whose policy names no TCTI: the default device, which this machine has not. */
static char *root_without_tcti(void)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "etc/virtune/virtune.conf", "[tpm]\nak = ecc\n");
        return root;
}

static void test_tcti_option_and_tpm2tools_tcti_pick_the_tpm(void **state)
{
        char *root = root_without_tcti();
        char *opt[] = {getenv("VIRTUNE"), "pcrs",   "--root", root, "-T",
                       vt_tpm.tcti,       "sha1:0", NULL};
        char *env[] = {getenv("VIRTUNE"), "pcrs", "--root", root, "sha1:0", NULL};
        char *bad[] = {
                getenv("VIRTUNE"), "pcrs", "--root", root, "--tcti", "swtpm:host=127.0.0.1,port=1",
                "sha1:0",          NULL};
        char *quote[] = {getenv("VIRTUNE"), "quote",     "--root", root, "--random",
                         "--tcti",          vt_tpm.tcti, "--json", NULL};
        unsetenv("TPM2TOOLS_TCTI");
        assert_int_not_equal(vt_test_run(env, NULL), 0); /* no env, no option: the device */
        assert_int_equal(vt_test_run(opt, NULL), 0);
        assert_int_equal(vt_test_run(quote, NULL), 0);
        setenv("TPM2TOOLS_TCTI", vt_tpm.tcti, 1);
        assert_int_equal(vt_test_run(env, NULL), 0);
        assert_int_not_equal(vt_test_run(bad, NULL), 0); /* the option wins over the env */
        vt_test_root_free(root);
}

static void write_hex_file(const char *dir, const char *name, const char *hex)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
                unsigned b;
                assert_int_equal(sscanf(hex + i, "%2x", &b), 1);
                fputc((int)b, f);
        }
        fclose(f);
}

/* One bit of a lower-case hex digit, keeping it one. */
static void flip_digit(char *c)
{
        static const char digits[] = "0123456789abcdef";
        *c = digits[(strchr(digits, *c) - digits) ^ 1];
}

/*
 * The quote's PCR values as tpm2_quote -o writes them and tpm2_checkquote -f reads them without
 * -l: the TPML_PCR_SELECTION, a UINT32 count of lists, then that many TPML_DIGEST of up to 8
 * digests each, in selection order (banks as listed, PCRs ascending); flip changes one bit of
 * the first value. (tpm2-tools 5.4 loses the 8th value when given plain values with -l.)
 */
static void write_pcr_values(const char *dir, json_object *q, bool flip)
{
        TPML_PCR_SELECTION sel;
        assert_int_equal(
                vt_pcrsel_parse(json_object_get_string(json_object_object_get(q, "selection")),
                                &sel),
                0);
        json_object *pcrs = json_object_object_get(q, "pcrs");
        TPML_DIGEST lists[8] = {0};
        uint32_t n = 0;
        for (uint32_t i = 0; i < sel.count; i++) {
                const struct vt_pcr_bank *b = vt_pcr_bank_by_alg(sel.pcrSelections[i].hash);
                json_object *bank = json_object_object_get(pcrs, b->name);
                for (unsigned p = 0; p < 24; p++) {
                        char key[8];
                        snprintf(key, sizeof(key), "%u", p);
                        if (!vt_pcrsel_test(&sel.pcrSelections[i], p))
                                continue;
                        const char *v = json_object_get_string(json_object_object_get(bank, key));
                        assert_non_null(v);
                        assert_int_equal(strlen(v), 2u * b->size);
                        TPML_DIGEST *l = &lists[n / 8];
                        TPM2B_DIGEST *d = &l->digests[l->count++];
                        d->size = b->size;
                        for (size_t k = 0; k < b->size; k++)
                                assert_int_equal(sscanf(v + 2 * k, "%2hhx", &d->buffer[k]), 1);
                        n++;
                }
        }
        if (flip)
                lists[0].digests[0].buffer[0] ^= 1;
        uint32_t count = (n + 7) / 8;
        char path[512];
        snprintf(path, sizeof(path), "%s/pcrs", dir);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(&sel, sizeof(sel), 1, f), 1);
        assert_int_equal(fwrite(&count, sizeof(count), 1, f), 1);
        assert_int_equal(fwrite(lists, sizeof(lists[0]), count, f), count);
        assert_int_equal(fclose(f), 0);
}

/* tpm2_checkquote on the files of dir; with_pcrs: it checks the PCR values' digest too. */
static int checkquote(const char *dir, const char *nonce, bool with_pcrs)
{
        char ak[512], msg[512], sig[512], pcrs[512];
        snprintf(ak, sizeof(ak), "%s/ak.pem", dir);
        snprintf(msg, sizeof(msg), "%s/attest", dir);
        snprintf(sig, sizeof(sig), "%s/sig", dir);
        snprintf(pcrs, sizeof(pcrs), "%s/pcrs", dir);
        char *argv[] = {"tpm2_checkquote", "-u", ak,   "-m", msg, "-s", sig, "-g", "sha256", "-q",
                        (char *)nonce,     "-f", pcrs, NULL};
        if (!with_pcrs)
                argv[11] = NULL;
        return vt_test_run(argv, NULL);
}

/* Our verifier on the same quote, from a file: virtune-host verify --from-files. */
static int our_verify(const char *dir, json_object *q, const char *nonce, const char *sel)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/q.json", dir);
        assert_int_equal(json_object_to_file(path, q), 0);
        char *argv[] = {getenv("VIRTUNE_HOST"), "-q",     "verify",    "--from-files", "--nonce",
                        (char *)nonce,          "--pcrs", (char *)sel, path,           NULL};
        return vt_test_run(argv, NULL);
}

static void quote_checked_by_tpm2_checkquote(const char *ak_type, const char *sel)
{
        static const char nonce[] = "00112233445566778899aabbccddeeff0123456789abcdef";
        if (ak_type) {
                char conf[160];
                snprintf(conf, sizeof(conf), "[tpm]\nak = %s\n", ak_type);
                vt_test_write(vt_tpm.root, "etc/virtune/virtune.conf.d/ak.conf", conf);
        }
        json_object *q = virtune_json(0, "quote", "--nonce", nonce, "--pcrs", sel, NULL);
        assert_string_equal(json_object_get_string(json_object_object_get(q, "selection")), sel);
        json_object *ak = json_object_object_get(q, "ak");
        assert_string_equal(json_object_get_string(json_object_object_get(ak, "type")),
                            ak_type ? ak_type : "ecc");
        char *dir = vt_test_mkdtemp();
        vt_test_write(dir, "ak.pem", json_object_get_string(json_object_object_get(ak, "pem")));
        write_hex_file(dir, "attest", json_object_get_string(json_object_object_get(q, "attest")));
        write_hex_file(dir, "sig",
                       json_object_get_string(json_object_object_get(
                               json_object_object_get(q, "signature"), "tpmt")));
        write_pcr_values(dir, q, false);
        assert_int_equal(checkquote(dir, nonce, false), 0);
        assert_int_equal(checkquote(dir, nonce, true), 0);
        assert_int_equal(our_verify(dir, q, nonce, sel), 0);
        assert_int_not_equal(
                checkquote(dir, "00112233445566778899aabbccddeeff0123456789abcdee", true), 0);
        assert_int_equal(
                our_verify(dir, q, "00112233445566778899aabbccddeeff0123456789abcdee", sel), 1);

        /* one bit of the first PCR value: both see the digest no longer matches */
        write_pcr_values(dir, q, true);
        assert_int_not_equal(checkquote(dir, nonce, true), 0);
        json_object *bank = json_object_object_get(json_object_object_get(q, "pcrs"),
                                                   strchr(sel, '+') ? "sha1" : "sha256");
        char *v = strdup(json_object_get_string(json_object_object_get(bank, "0")));
        flip_digit(&v[1]);
        json_object_object_add(bank, "0", json_object_new_string(v));
        free(v);
        assert_int_equal(our_verify(dir, q, nonce, sel), 1);
        vt_test_root_free(dir);
        json_object_put(q);
}

static void test_quote_ecc_is_accepted_by_tpm2_checkquote(void **state)
{
        quote_checked_by_tpm2_checkquote(NULL, "sha256:0-9,16");
}

static void test_quote_rsa_is_accepted_by_tpm2_checkquote(void **state)
{
        quote_checked_by_tpm2_checkquote("rsa", "sha1:0-7+sha256:0-9,16");
}

static void test_ak_is_the_same_key_every_time(void **state)
{
        json_object *a = virtune_json(0, "quote", "--random", NULL);
        json_object *b = virtune_json(0, "quote", "--random", NULL);
        assert_string_equal(json_object_get_string(json_object_object_get(
                                    json_object_object_get(a, "ak"), "public")),
                            json_object_get_string(json_object_object_get(
                                    json_object_object_get(b, "ak"), "public")));
        json_object_put(a);
        json_object_put(b);
}

static void test_quote_short_nonce_is_a_usage_error(void **state)
{
        virtune_json(2, "quote", "--nonce", "0011", NULL);
}

static void test_no_tpm_device_is_a_clear_failure(void **state)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "etc/virtune/virtune.conf",
                      "[tpm]\ntcti = device:/nonexistent/tpmrm0\n");
        unsetenv("TPM2TOOLS_TCTI"); /* it would win over the policy's device */
        char *argv[] = {getenv("VIRTUNE"), "pcrs", "--root", root, NULL};
        assert_int_equal(vt_test_run(argv, NULL), 1);
        vt_test_root_free(root);
}

static void test_eventlog_returns_the_whole_bios_log_base64(void **state)
{
        char *root = vt_test_fixture("tpm-seabios-vm");
        char *argv[] = {getenv("VIRTUNE"), "eventlog", "--root", root, "--json", NULL};
        char *out = NULL;
        assert_int_equal(vt_test_run(argv, &out), 0);
        json_object *doc = json_tokener_parse(out);
        assert_non_null(doc);
        assert_int_equal(json_object_get_int(json_object_object_get(doc, "size")), 2681);
        assert_true(json_object_get_boolean(json_object_object_get(doc, "complete")));
        assert_string_equal(json_object_get_string(json_object_object_get(doc, "source")),
                            "/sys/kernel/security/tpm0/binary_bios_measurements");
        /* 2681 bytes: 894 groups of 4 base64 characters, the last one padded once */
        const char *b64 = json_object_get_string(json_object_object_get(doc, "log"));
        assert_int_equal(strlen(b64), 3576);
        assert_true(startswith(b64, "AAAAAAMAAAA"));
        json_object_put(doc);
        free(out);
        free(root);
}

static void test_eventlog_without_securityfs_says_so(void **state)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "sys/kernel/.keep", "");
        char *argv[] = {getenv("VIRTUNE"), "eventlog", "--root", root, NULL};
        assert_int_equal(vt_test_run(argv, NULL), 1);
        vt_test_root_free(root);
}

/* Runs virtune on a root whose policy points the device TCTI at a node that does not exist. */
static void run_without_device(const char *root, const char *cmd, int want, const char *msg)
{
        unsetenv("TPM2TOOLS_TCTI"); /* it would win over the policy's device */
        vt_test_write(root, "etc/virtune/virtune.conf",
                      "[tpm]\ntcti = device:/nonexistent/tpmrm0\n");
        char *sh;
        assert_true(asprintf(&sh, "\"%s\" %s --root \"%s\" 2>&1", getenv("VIRTUNE"), cmd, root) >
                    0);
        char *argv[] = {"sh", "-c", sh, NULL};
        char *out = NULL;
        assert_int_equal(vt_test_run(argv, &out), want);
        if (!strstr(out, msg))
                fail_msg("'%s' not in: %s", msg, out);
        free(out);
        free(sh);
}

static void test_tpm12_is_named_as_such(void **state)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "sys/class/tpm/tpm0/tpm_version_major", "1\n");
        run_without_device(root, "pcrs", 1, "TPM 1.2; virtune needs TPM 2.0");
        vt_test_root_free(root);
}

static void test_no_tpm_is_named_as_such(void **state)
{
        char *root = vt_test_mkdtemp();
        run_without_device(root, "quote --random", 1, "no TPM");
        vt_test_root_free(root);
}

static void test_ima_log_is_served_from_an_offset(void **state)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "sys/kernel/security/lsm", "capability,ima\n");
        vt_test_write(root, "sys/kernel/security/ima/binary_runtime_measurements", "0123456789");
        char *argv[] = {getenv("VIRTUNE"), "eventlog", "--ima",  "--offset", "4",
                        "--root",          root,       "--json", NULL};
        char *out = NULL;
        assert_int_equal(vt_test_run(argv, &out), 0);
        json_object *doc = json_tokener_parse(out);
        assert_non_null(doc);
        assert_string_equal(json_object_get_string(json_object_object_get(doc, "log")),
                            "NDU2Nzg5"); /* "456789" */
        assert_int_equal(json_object_get_int(json_object_object_get(doc, "size")), 10);
        assert_int_equal(json_object_get_int(json_object_object_get(doc, "next_offset")), 10);
        json_object_put(doc);
        free(out);
        char *past[] = {getenv("VIRTUNE"), "eventlog", "--ima", "--offset", "11",
                        "--root",          root,       NULL};
        assert_int_equal(vt_test_run(past, NULL), 1);
        vt_test_root_free(root);
}

static void test_pcrs_starts_a_tpm_that_was_not_started(void **state)
{
        struct vt_swtpm fresh = {.no_startup = true};
        vt_swtpm_start(&fresh);
        char *before[] = {"tpm2_pcrread", "sha256:0", NULL};
        /* tpm2-tools does not start a TPM: it fails until someone sends TPM2_Startup */
        assert_int_not_equal(vt_swtpm_tool(&fresh, before, NULL), 0);
        char *argv[] = {getenv("VIRTUNE"), "pcrs", "--root", fresh.root, "--bank", "sha256", NULL};
        assert_int_equal(vt_test_run(argv, NULL), 0);
        assert_int_equal(vt_swtpm_tool(&fresh, before, NULL), 0);
        vt_swtpm_stop(&fresh);
}

int main(void)
{
        if (!vt_swtpm_available())
                return 77;
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vt_swtpm_setup, vt_swtpm_teardown)
                T(test_pcrs_match_tpm2_pcrread_for_every_bank),
                T(test_pcrs_bank_option_reads_only_that_bank),
                T(test_pcrs_unknown_bank_is_a_usage_error),
                T(test_pcrs_text_is_tpm2_pcrreads_byte_for_byte),
                T(test_tcti_option_and_tpm2tools_tcti_pick_the_tpm),
                T(test_quote_ecc_is_accepted_by_tpm2_checkquote),
                T(test_quote_rsa_is_accepted_by_tpm2_checkquote),
                T(test_ak_is_the_same_key_every_time),
                T(test_quote_short_nonce_is_a_usage_error),
                cmocka_unit_test(test_no_tpm_device_is_a_clear_failure),
                cmocka_unit_test(test_pcrs_starts_a_tpm_that_was_not_started),
                cmocka_unit_test(test_eventlog_returns_the_whole_bios_log_base64),
                cmocka_unit_test(test_eventlog_without_securityfs_says_so),
                cmocka_unit_test(test_tpm12_is_named_as_such),
                cmocka_unit_test(test_no_tpm_is_named_as_such),
                cmocka_unit_test(test_ima_log_is_served_from_an_offset),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
