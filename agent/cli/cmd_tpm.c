/* virtune pcrs|quote|eventlog: the TPM's PCRs, a signed quote and the measured-boot logs. */
#include <inttypes.h>
#include "codec.h"
#include "log.h"
#include "tpm2.h"
#include "cli.h"

static int tpm_fail(struct vt_cli *cli, int r, const char *what)
{
        if (r == -EOPNOTSUPP)
                return vt_cli_errno_exit(cli, r, what);
        log_error("%s %s: %s: %s", cli->prog, cli->command, what, vt_tpm2_strerror(r));
        return r == -EINVAL ? VT_EXIT_USAGE : VT_EXIT_FAIL;
}

struct pcrs_args {
        json_object *banks;
};

static int pcrs_opt(int opt, const char *arg, void *userdata)
{
        struct pcrs_args *a = userdata;
        if (opt != 'b')
                return -1;
        if (!a->banks)
                a->banks = json_object_new_array();
        json_object_array_add(a->banks, json_object_new_string(arg));
        return 0;
}

/* The same shape as tpm2_pcrread prints, so eyes used to it find their way. */
static void pcrs_print_text(json_object *banks)
{
        json_object_object_foreach (banks, bank, pcrs) {
                printf("%s:\n", bank);
                for (int p = 0; p < 64; p++) {
                        char key[8];
                        json_object *v;
                        snprintf(key, sizeof(key), "%d", p);
                        if (json_object_object_get_ex(pcrs, key, &v))
                                printf("  %-2d: 0x%s\n", p, json_object_get_string(v));
                }
        }
}

int vt_cmd_pcrs(struct vt_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"bank", required_argument, NULL, 'b'}, {}};
        _cleanup_json_ json_object *banks = NULL;
        struct pcrs_args a = {0};
        int i = vt_cli_parse(cli, argc, argv, opts, "b:", pcrs_opt, &a,
                             "pcrs [--bank B]... [--json]\n"
                             "Reads every PCR of every active bank (or of the banks named).\n"
                             "  -b, --bank B   only bank B (sha1, sha256, sha384, sha512, ...)\n");
        banks = a.banks;
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        int e;
        if (!vt_cli_setup(cli, i, argc, argv, &ctx, &e))
                return e;
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_tpm2_pcr_read(ctx, banks, NULL, &doc);
        if (r < 0)
                return tpm_fail(cli, r, "reading PCRs");
        if (cli->json)
                vt_cli_print(cli, doc);
        else
                pcrs_print_text(json_object_object_get(doc, "banks"));
        return VT_EXIT_OK;
}

struct quote_args {
        const char *nonce;
        const char *pcrs;
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
        else
                return -1;
        return 0;
}

int vt_cmd_quote(struct vt_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"nonce", required_argument, NULL, 'n'},
                                             {"pcrs", required_argument, NULL, 'p'},
                                             {"random", no_argument, NULL, 'r'},
                                             {}};
        struct quote_args a = {0};
        int i = vt_cli_parse(
                cli, argc, argv, opts, "n:p:", quote_opt, &a,
                "quote (--nonce HEX | --random) [--pcrs SEL] [--json]\n"
                "Has the TPM sign the selected PCRs and the nonce with the attestation key.\n"
                "  -n, --nonce HEX  the verifier's nonce, 16-64 bytes in hex\n"
                "      --random     a random 32-byte nonce (testing; a verifier sends its own)\n"
                "  -p, --pcrs SEL   PCR selection, e.g. sha256:0-9+sha1:0,7 (default: [tpm] "
                "pcrs)\n");
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
        if (vt_cli_ctx(cli, &ctx) < 0)
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
        int r = vt_tpm2_eventlog(ctx, a.ima, a.offset, &doc);
        if (r < 0)
                return tpm_fail(cli, r, a.ima ? "reading the IMA log" : "reading the event log");
        vt_cli_print(cli, doc);
        return VT_EXIT_OK;
}
