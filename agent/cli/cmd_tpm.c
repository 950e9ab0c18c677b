/* virtune pcrs|quote|eventlog: the TPM's PCRs, a signed quote and the measured-boot logs. */
#include <inttypes.h>
#include "codec.h"
#include "log.h"
#include "policy.h"
#include "tpm2.h"
#include "tpm2_sel.h"
#include "cli.h"

static int tpm_fail(struct vt_cli *cli, int r, const char *what)
{
        if (r == -EOPNOTSUPP)
                return vt_cli_errno_exit(cli, r, what);
        log_error("%s %s: %s: %s", cli->prog, cli->command, what, vt_tpm2_strerror(r));
        return r == -EINVAL ? VT_EXIT_USAGE : VT_EXIT_FAIL;
}

/*
 * The TPM's transport, as tpm2-tools pick it: -T/--tcti, else $TPM2TOOLS_TCTI, else the
 * policy's [tpm] tcti. It goes into the policy as one more layer (named after its source), so
 * the TPM code and its messages see one setting.
 */
static int tcti_override(struct vt_cli *cli, struct vt_ctx *ctx, const char *opt)
{
        const char *tcti = opt ? opt : getenv("TPM2TOOLS_TCTI");
        const char *from = opt ? "--tcti" : "TPM2TOOLS_TCTI";
        char text[512], err[VT_POLICY_ERR_MAX];
        if (!tcti || !*tcti)
                return 0;
        if (strpbrk(tcti, "\n\r#;") || strlen(tcti) > 400) {
                log_error("%s %s: %s '%s' is not a TCTI (e.g. device:/dev/tpmrm0, "
                          "swtpm:host=127.0.0.1,port=2321)",
                          cli->prog, cli->command, from, tcti);
                return -EINVAL;
        }
        if (!ctx->policy && !(ctx->policy = vt_policy_new()))
                return -ENOMEM;
        snprintf(text, sizeof(text), "[tpm]\ntcti = %s\n", tcti);
        int r = vt_policy_parse(ctx->policy, from, text, err, sizeof(err));
        if (r < 0)
                log_error("%s %s: %s", cli->prog, cli->command, err);
        return r;
}

struct pcrs_args {
        json_object *banks;
        const char *tcti;
};

static int pcrs_opt(int opt, const char *arg, void *userdata)
{
        struct pcrs_args *a = userdata;
        if (opt == 'T') {
                a->tcti = arg;
                return 0;
        }
        if (opt != 'b')
                return -1;
        if (!a->banks)
                a->banks = json_object_new_array();
        json_object_array_add(a->banks, json_object_new_string(arg));
        return 0;
}

/* Keeps the selected PCRs of the selected banks, in the selection's bank order. */
static int pcrs_select(json_object *doc, const TPML_PCR_SELECTION *sel)
{
        json_object *banks, *pcrs;
        _cleanup_json_ json_object *out = json_object_new_object();
        if (!out || !json_object_object_get_ex(doc, "banks", &banks))
                return -ENOMEM;
        for (uint32_t i = 0; i < sel->count; i++) {
                const struct vt_pcr_bank *b = vt_pcr_bank_by_alg(sel->pcrSelections[i].hash);
                if (!b || !json_object_object_get_ex(banks, b->name, &pcrs))
                        continue;
                json_object *o = json_object_new_object();
                json_object_object_add(out, b->name, o);
                json_object_object_foreach (pcrs, k, v) {
                        char *end;
                        unsigned long p = strtoul(k, &end, 10);
                        if (!*end && vt_pcrsel_test(&sel->pcrSelections[i], (unsigned)p))
                                json_object_object_add(o, k, json_object_get(v));
                }
        }
        json_object_object_add(doc, "banks", TAKE_PTR(out));
        return 0;
}

int vt_cmd_pcrs(struct vt_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
                {"bank", required_argument, NULL, 'b'}, {"tcti", required_argument, NULL, 'T'}, {}};
        _cleanup_json_ json_object *banks = NULL;
        struct pcrs_args a = {0};
        TPML_PCR_SELECTION sel;
        int i = vt_cli_parse(
                cli, argc, argv, opts, "b:T:", pcrs_opt, &a,
                "pcrs [SEL] [--bank B]... [-T TCTI] [--json]\n"
                "Reads every PCR of every active bank, or those SEL names (tpm2_pcrread's\n"
                "spelling: sha256:0,1,2+sha1:all, or sha256 for all of a bank; ranges 0-9 too).\n"
                "The text is tpm2_pcrread's, byte for byte.\n"
                "  -b, --bank B      only bank B (sha1, sha256, sha384, sha512, ...)\n"
                "  -T, --tcti TCTI   the TPM's transport (else $TPM2TOOLS_TCTI, else [tpm] "
                "tcti)\n");
        banks = a.banks;
        if (i >= 0 && i < argc && (i + 1 < argc || banks || vt_pcrsel_parse(argv[i], &sel) < 0)) {
                log_error("%s %s: give one PCR selection like sha256:0,1+sha1:all (or --bank)",
                          cli->prog, cli->command);
                return VT_EXIT_USAGE;
        }
        bool selected = i >= 0 && i < argc;
        if (selected) {
                banks = json_object_new_array();
                for (uint32_t k = 0; k < sel.count; k++)
                        json_object_array_add(
                                banks,
                                json_object_new_string(
                                        vt_pcr_bank_by_alg(sel.pcrSelections[k].hash)->name));
        }
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        int e;
        if (!vt_cli_setup(cli, selected ? i + 1 : i, argc, argv, &ctx, &e))
                return e;
        if (tcti_override(cli, ctx, a.tcti) < 0)
                return VT_EXIT_USAGE;
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_tpm2_pcr_read(ctx, banks, NULL, &doc);
        if (r < 0)
                return tpm_fail(cli, r, "reading PCRs");
        if (selected && pcrs_select(doc, &sel) < 0)
                return tpm_fail(cli, -ENOMEM, "reading PCRs");
        if (cli->json)
                vt_cli_print(cli, doc);
        else
                vt_pcr_values_print(stdout, json_object_object_get(doc, "banks"),
                                    selected ? &sel : NULL);
        return VT_EXIT_OK;
}

struct quote_args {
        const char *nonce;
        const char *pcrs;
        const char *tcti;
        bool random;
};

static int quote_opt(int opt, const char *arg, void *userdata)
{
        struct quote_args *a = userdata;
        if (opt == 'n')
                a->nonce = arg;
        else if (opt == 'p')
                a->pcrs = arg;
        else if (opt == 'r')
                a->random = true;
        else if (opt == 'T')
                a->tcti = arg;
        else
                return -1;
        return 0;
}

int vt_cmd_quote(struct vt_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"nonce", required_argument, NULL, 'n'},
                                             {"pcrs", required_argument, NULL, 'p'},
                                             {"random", no_argument, NULL, 'r'},
                                             {"tcti", required_argument, NULL, 'T'},
                                             {}};
        struct quote_args a = {0};
        int i = vt_cli_parse(
                cli, argc, argv, opts, "n:p:T:", quote_opt, &a,
                "quote (--nonce HEX | --random) [--pcrs SEL] [-T TCTI] [--json]\n"
                "Has the TPM sign the selected PCRs and the nonce with the attestation key.\n"
                "  -n, --nonce HEX  the verifier's nonce, 16-64 bytes in hex\n"
                "      --random     a random 32-byte nonce (testing; a verifier sends its own)\n"
                "  -p, --pcrs SEL   PCR selection, e.g. sha256:0-9+sha1:0,7 (default: [tpm] "
                "pcrs)\n"
                "  -T, --tcti TCTI  the TPM's transport (else $TPM2TOOLS_TCTI, else [tpm] tcti)\n");
        if (i < 0)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        if (i < argc || !!a.nonce == a.random) {
                log_error("%s %s: give either --nonce HEX or --random (see --help)", cli->prog,
                          cli->command);
                return VT_EXIT_USAGE;
        }
        _cleanup_free_ uint8_t *nonce = NULL;
        size_t len = 32;
        if (a.random) {
                nonce = malloc(len);
                if (!nonce || getentropy(nonce, len) < 0)
                        return tpm_fail(cli, -errno, "making a nonce");
        } else if (vt_hex_decode(a.nonce, &nonce, &len) < 0 || len < 16 || len > 64) {
                log_error("%s %s: the nonce must be 16-64 bytes in hex (32-128 hex digits)",
                          cli->prog, cli->command);
                return VT_EXIT_USAGE;
        }
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        if (vt_cli_ctx(cli, &ctx) < 0 || tcti_override(cli, ctx, a.tcti) < 0)
                return VT_EXIT_USAGE;
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_tpm2_quote(ctx, nonce, len, a.pcrs, &doc);
        if (r < 0)
                return tpm_fail(cli, r, "quoting");
        vt_cli_print(cli, doc);
        return VT_EXIT_OK;
}

struct eventlog_args {
        bool ima;
        uint64_t offset;
};

static int eventlog_opt(int opt, const char *arg, void *userdata)
{
        struct eventlog_args *a = userdata;
        char *end;
        if (opt == 'i')
                a->ima = true;
        else if (opt == 'o') {
                errno = 0;
                a->offset = strtoull(arg, &end, 10);
                if (errno || *end || end == arg) {
                        log_error("eventlog: --offset '%s' is not a byte count (decimal)", arg);
                        return -1;
                }
        } else
                return -1;
        return 0;
}

int vt_cmd_eventlog(struct vt_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
                {"ima", no_argument, NULL, 'i'}, {"offset", required_argument, NULL, 'o'}, {}};
        struct eventlog_args a = {0};
        int i = vt_cli_parse(cli, argc, argv, opts, "", eventlog_opt, &a,
                             "eventlog [--ima [--offset N]] [--json]\n"
                             "Prints the measured-boot event log (base64) from securityfs.\n"
                             "      --ima       the IMA runtime log instead\n"
                             "      --offset N  start at byte N (fetch only what is new)\n");
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        int e;
        if (!vt_cli_setup(cli, i, argc, argv, &ctx, &e))
                return e;
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_tpm2_eventlog(ctx, a.ima, a.offset, 0, &doc);
        if (r < 0)
                return tpm_fail(cli, r, a.ima ? "reading the IMA log" : "reading the event log");
        vt_cli_print(cli, doc);
        return VT_EXIT_OK;
}
