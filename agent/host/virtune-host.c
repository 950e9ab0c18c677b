/* virtune-host: the host-side client of a guest's virtune agent, over the channel's socket. */
#include <getopt.h>
#include <inttypes.h>
#include "render.h"
#include "host.h"
#include "host_verify.h"
#include "codec.h"
#include "log.h"
#include "version.h"

#define NONCE_LEN 32

struct host {
        const char *socket;
        int timeout_ms;
        bool json;
        /* command options */
        const char *nonce_hex, *output, *ak, *name, *pcrs;
        bool random, dry_run, prometheus, ima, from_files;
        char **files; /* verify --from-files: QUOTE [EVENTLOG] */
        size_t nfiles;
        unsigned used; /* which command options were given (bit per option) */
};

struct host_cmd {
        const char *name;
        const char *execute; /* the channel command, NULL for the special ones */
        int (*run)(struct host *h, const struct host_cmd *cmd);
        unsigned options; /* allowed command options */
        const char *summary;
};

enum {
        OPT_NONCE = 1u << 0,
        OPT_RANDOM = 1u << 1,
        OPT_OUTPUT = 1u << 2,
        OPT_AK = 1u << 3,
        OPT_DRY_RUN = 1u << 4,
        OPT_PROMETHEUS = 1u << 5,
        OPT_NAME = 1u << 6,
        OPT_IMA = 1u << 7,
        OPT_PCRS = 1u << 8,
        OPT_FROM_FILES = 1u << 9
};

static int exit_for(int r, const struct host *h)
{
        if (r == -ETIMEDOUT)
                log_error("No answer from the agent on %s within %d ms", h->socket, h->timeout_ms);
        else
                log_error_errno(r, "Cannot talk to the agent on %s", h->socket);
        return VT_HOST_EXIT_NO_AGENT;
}

/* Runs one channel command; *value is the "return" value (a new reference). */
static int call(struct host *h, const char *execute, json_object *args, json_object **value)
{
        struct vt_host_conn c;
        _cleanup_json_ json_object *reply = NULL;
        json_object *v;
        const char *class, *desc;

        int r = vt_host_conn_open(&c, h->socket, h->timeout_ms);
        if (r >= 0)
                r = vt_host_conn_call(&c, execute, args, &reply);
        else
                json_object_put(args);
        vt_host_conn_close(&c);
        if (r < 0)
                return exit_for(r, h);
        if (vt_host_reply_value(reply, &v, &class, &desc) < 0) {
                if (h->json)
                        printf("%s\n", json_object_to_json_string_ext(
                                               reply, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
                log_error("%s: %s: %s", execute, class, desc);
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        *value = json_object_get(v);
        return 0;
}

static void print(const struct host *h, json_object *value)
{
        if (h->json)
                printf("%s\n",
                       json_object_to_json_string_ext(
                               value, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        else
                vt_render_text(stdout, value);
}

static int run_simple(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        json_object *args = NULL;
        if (h->dry_run) {
                args = json_object_new_object();
                json_object_object_add(args, "dry-run", json_object_new_boolean(true));
        }
        int r = call(h, cmd->execute, args, &value);
        if (r != 0)
                return r;
        print(h, value);
        return VT_HOST_EXIT_OK;
}

/* What the guest's apply or revert entry says when it did what was asked. */
static const char *const tune_done[] = {"applied", "no-op", "dry-run", "reverted",
                                        "nothing-to-revert"};

/*
 * apply and revert: the guest answers with its journal entry even when it changed nothing
 * (rolled back, refused by its apply unit): exit 1 then, saying why.
 */
static int run_tune(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        json_object *args = NULL, *v, *changes;
        if (h->dry_run) {
                args = json_object_new_object();
                json_object_object_add(args, "dry-run", json_object_new_boolean(true));
        }
        int r = call(h, cmd->execute, args, &value);
        if (r != 0)
                return r;
        print(h, value);
        const char *status =
                json_object_object_get_ex(value, "status", &v) ? json_object_get_string(v) : NULL;
        for (size_t i = 0; status && i < ARRAY_SIZE(tune_done); i++)
                if (streq(status, tune_done[i]))
                        return VT_HOST_EXIT_OK;
        /* the change that failed says more than the entry's errno text */
        const char *target = NULL, *why = NULL;
        if (json_object_object_get_ex(value, "changes", &changes))
                for (size_t i = 0; !why && i < json_object_array_length(changes); i++) {
                        json_object *c = json_object_array_get_idx(changes, i), *e, *t;
                        if (json_object_object_get_ex(c, "error", &e) &&
                            json_object_object_get_ex(c, "target", &t)) {
                                why = json_object_get_string(e);
                                target = json_object_get_string(t);
                        }
                }
        if (!why && json_object_object_get_ex(value, "error", &v))
                why = json_object_get_string(v);
        _cleanup_free_ char *esc_status = vt_escape_ctl(status ? status : "(none)");
        _cleanup_free_ char *esc_target = target ? vt_escape_ctl(target) : NULL;
        _cleanup_free_ char *esc_why = vt_escape_ctl(why ? why : "no reason given");
        log_error("%s: the guest did not %s (status %s): %s%s%s", cmd->name, cmd->name,
                  esc_status ? esc_status : "?", esc_target ? esc_target : "",
                  esc_target ? ": " : "", esc_why ? esc_why : "?");
        return VT_HOST_EXIT_GUEST_ERROR;
}

static int run_ping(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        int64_t t0 = vt_host_now_ms();
        int r = call(h, "guest-ping", NULL, &value);
        if (r != 0)
                return r;
        if (h->json)
                print(h, value);
        else
                printf("The agent on %s answered (%" PRId64 " ms with the sync)\n", h->socket,
                       vt_host_now_ms() - t0);
        return VT_HOST_EXIT_OK;
}

/* The nonce: --nonce HEX, else random (--random, or verify's default). */
static int nonce_get(const struct host *h, uint8_t **nonce, size_t *len)
{
        if (h->nonce_hex) {
                if (vt_hex_decode(h->nonce_hex, nonce, len) < 0 || *len < 16 || *len > 64) {
                        log_error("--nonce takes 16-64 bytes in hex");
                        return -EINVAL;
                }
                return 0;
        }
        *nonce = malloc(NONCE_LEN);
        if (!*nonce)
                return -ENOMEM;
        *len = NONCE_LEN;
        return vt_host_random(*nonce, NONCE_LEN);
}

static int quote(struct host *h, const uint8_t *nonce, size_t len, json_object **value)
{
        _cleanup_free_ char *hex = vt_hex_encode(nonce, len);
        json_object *args = json_object_new_object();
        if (!hex || !args) {
                json_object_put(args);
                return log_error_errno(-ENOMEM, "quote"), VT_HOST_EXIT_GUEST_ERROR;
        }
        json_object_object_add(args, "nonce", json_object_new_string(hex));
        if (h->pcrs)
                json_object_object_add(args, "pcrs", json_object_new_string(h->pcrs));
        return call(h, "virtune-quote", args, value);
}

static int run_quote(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_free_ uint8_t *nonce = NULL;
        _cleanup_json_ json_object *value = NULL;
        size_t len;
        if (!h->nonce_hex && !h->random) {
                log_error("quote: give --nonce HEX or --random");
                return VT_HOST_EXIT_USAGE;
        }
        if (nonce_get(h, &nonce, &len) < 0)
                return VT_HOST_EXIT_USAGE;
        int r = quote(h, nonce, len, &value);
        if (r != 0)
                return r;
        print(h, value);
        return VT_HOST_EXIT_OK;
}

static int run_eventlog(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_json_ json_object *value = NULL;
        _cleanup_free_ uint8_t *log = NULL;
        json_object *args = NULL, *b64;
        size_t len;

        if (h->ima) {
                args = json_object_new_object();
                json_object_object_add(args, "ima", json_object_new_boolean(true));
        }
        int r = call(h, "virtune-eventlog", args, &value);
        if (r != 0)
                return r;
        if (!h->output) {
                print(h, value);
                return VT_HOST_EXIT_OK;
        }
        if (!json_object_object_get_ex(value, "log", &b64) ||
            vt_base64_decode(json_object_get_string(b64), &log, &len) < 0) {
                log_error("eventlog: the guest's reply has no base64 'log'");
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        _cleanup_fclose_ FILE *f = fopen(h->output, "we");
        if (!f || fwrite(log, 1, len, f) != len || fflush(f) != 0) {
                log_error_errno(-errno, "Cannot write %s", h->output);
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        if (!h->json)
                printf("Wrote %zu bytes of event log to %s\n", len, h->output);
        return VT_HOST_EXIT_OK;
}

static int run_verify(struct host *h, const struct host_cmd *cmd)
{
        _cleanup_free_ uint8_t *nonce = NULL;
        _cleanup_json_ json_object *q = NULL, *ev = NULL, *report = NULL;
        json_object *ok;
        size_t len;
        int r;

        if (h->from_files && !h->nonce_hex) {
                log_error("verify --from-files: give the nonce the quote was made over (--nonce)");
                return VT_HOST_EXIT_USAGE;
        }
        if (nonce_get(h, &nonce, &len) < 0)
                return VT_HOST_EXIT_USAGE;
        if (h->from_files) {
                const char *bad;
                r = vt_host_verify_load(h->files[0], h->nfiles > 1 ? h->files[1] : NULL, &q, &ev,
                                        &bad);
                if (r < 0 && r != -EOPNOTSUPP) {
                        if (r == -EBADMSG)
                                log_error("verify: %s is not a saved quote or event log", bad);
                        else
                                log_error_errno(r, "verify: cannot read %s", bad);
                        return VT_HOST_EXIT_GUEST_ERROR;
                }
        } else {
                r = quote(h, nonce, len, &q);
                if (r != 0)
                        return r;
                /* No event log is a finding for the verifier, not a reason to stop here. */
                if (call(h, "virtune-eventlog", NULL, &ev) != 0)
                        ev = NULL;
        }
        if (r >= 0)
                r = vt_host_verify_sel(q, nonce, len, h->pcrs, ev, h->ak, &report);
        if (r == -EOPNOTSUPP) {
                log_error("verify: quote verification is not available in this build");
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        if (r < 0) {
                log_error_errno(r, "verify");
                return VT_HOST_EXIT_GUEST_ERROR;
        }
        print(h, report);
        return json_object_object_get_ex(report, "ok", &ok) && json_object_get_boolean(ok)
                       ? VT_HOST_EXIT_OK
                       : VT_HOST_EXIT_GUEST_ERROR;
}

static const struct host_cmd commands[] = {
        {"ping", "guest-ping", run_ping, 0, "is the agent there"},
        {"info", "guest-info", run_simple, 0, "the agent's version and commands"},
        {"facts", "virtune-facts", run_simple, 0, "what the guest detected"},
        {"status", "virtune-status", run_simple, 0, "policy, last apply, drift, pending reboot"},
        {"plan", "virtune-plan", run_simple, 0, "what apply would change"},
        {"pcrs", "virtune-pcr-read", run_simple, 0, "the guest's TPM PCRs"},
        {"quote", NULL, run_quote, OPT_NONCE | OPT_RANDOM | OPT_PCRS, "a TPM quote over a nonce"},
        {"eventlog", NULL, run_eventlog, OPT_OUTPUT | OPT_IMA, "the measured-boot event log"},
        {"verify", NULL, run_verify, OPT_NONCE | OPT_RANDOM | OPT_AK | OPT_PCRS | OPT_FROM_FILES,
         "quote + event log, checked here (or saved: --from-files)"},
        {"apply", "virtune-apply", run_tune, OPT_DRY_RUN,
         "apply the guest's policy (if it allows); 1 when it did not"},
        {"revert", "virtune-revert", run_tune, OPT_DRY_RUN,
         "undo the guest's applies (if it allows); 1 when it did not"},
        {"scan", NULL, NULL, OPT_NAME | OPT_PROMETHEUS, "every channel socket under DIR..."},
};

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: virtune-host [--socket PATH] [OPTIONS] COMMAND [ARGS]\n"
                "       virtune-host scan [--prometheus] [--name NAME] DIR...\n"
                "       virtune-host verify --from-files --nonce HEX [--pcrs SEL] [--ak-pin FILE]\n"
                "                           QUOTE.json [EVENTLOG]\n"
                "Talks to a guest's virtune agent over the virtio-serial channel's socket.\n\n"
                "Options:\n"
                "  -s, --socket PATH   the channel's unix socket (QEMU/libvirt chardev)\n"
                "  -t, --timeout SEC   give up after SEC seconds (default 5; apply, revert 300)\n"
                "  -j, --json          print the guest's reply as JSON\n"
                "  -v, --verbose       more log output\n"
                "  -q, --quiet         errors only\n"
                "  -h, --help          this text;  --version  the version\n"
                "Command options:\n"
                "  --nonce HEX | --random   quote/verify: the nonce (16-64 bytes)\n"
                "  --pcrs SEL               quote/verify: PCR selection, e.g. sha256:0-9\n"
                "  --ak-pin FILE            verify: the trusted AK (written on first use)\n"
                "  --from-files             verify: a quote and event log saved earlier\n"
                "  -o, --output FILE        eventlog: write the binary log to FILE\n"
                "  --ima                    eventlog: the IMA runtime log instead\n"
                "  --dry-run                apply, revert: only say what would change\n"
                "  --prometheus             scan: text exposition instead of JSON lines\n"
                "  --name NAME              scan: socket file name (default %s)\n\n"
                "Commands:\n",
                VT_HOST_PORT_NAME);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
        fputs("\nExit status: 0 ok, 1 the guest answered with an error (or verify failed),\n"
              "2 usage, 3 no agent or no answer in time.\n",
              f);
}

static const struct host_cmd *cmd_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

int main(int argc, char **argv)
{
        enum {
                O_VERSION = 256,
                O_NONCE,
                O_RANDOM,
                O_AK,
                O_DRY_RUN,
                O_PROM,
                O_NAME,
                O_IMA,
                O_PCRS,
                O_FROM_FILES
        };
        static const struct option opts[] = {
                {"socket", required_argument, NULL, 's'},
                {"timeout", required_argument, NULL, 't'},
                {"json", no_argument, NULL, 'j'},
                {"verbose", no_argument, NULL, 'v'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, O_VERSION},
                {"nonce", required_argument, NULL, O_NONCE},
                {"random", no_argument, NULL, O_RANDOM},
                {"ak", required_argument, NULL, O_AK},
                {"ak-pin", required_argument, NULL, O_AK},
                {"pcrs", required_argument, NULL, O_PCRS},
                {"from-files", no_argument, NULL, O_FROM_FILES},
                {"output", required_argument, NULL, 'o'},
                {"ima", no_argument, NULL, O_IMA},
                {"dry-run", no_argument, NULL, O_DRY_RUN},
                {"prometheus", no_argument, NULL, O_PROM},
                {"name", required_argument, NULL, O_NAME},
                {},
        };
        struct host h = {.timeout_ms = -1};
        int c;

        vt_log_init_from_env();
        while ((c = getopt_long(argc, argv, "s:t:jvqho:", opts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        h.socket = optarg;
                        break;
                case 't': {
                        char *end;
                        double s = strtod(optarg, &end);
                        if (*end || s <= 0 || s > 3600) {
                                log_error("--timeout takes seconds (0-3600), not '%s'", optarg);
                                return VT_HOST_EXIT_USAGE;
                        }
                        h.timeout_ms = (int)(s * 1000);
                        break;
                }
                case 'j':
                        h.json = true;
                        break;
                case 'v':
                        vt_log_more();
                        break;
                case 'q':
                        vt_log_set_level(LOG_ERR);
                        break;
                case 'h':
                        usage(stdout);
                        return VT_HOST_EXIT_OK;
                case O_VERSION:
                        printf("virtune-host %s\n", VT_VERSION);
                        return VT_HOST_EXIT_OK;
                case O_NONCE:
                        h.nonce_hex = optarg;
                        h.used |= OPT_NONCE;
                        break;
                case O_RANDOM:
                        h.random = true;
                        h.used |= OPT_RANDOM;
                        break;
                case O_AK:
                        h.ak = optarg;
                        h.used |= OPT_AK;
                        break;
                case O_PCRS:
                        h.pcrs = optarg;
                        h.used |= OPT_PCRS;
                        break;
                case O_FROM_FILES:
                        h.from_files = true;
                        h.used |= OPT_FROM_FILES;
                        break;
                case 'o':
                        h.output = optarg;
                        h.used |= OPT_OUTPUT;
                        break;
                case O_IMA:
                        h.ima = true;
                        h.used |= OPT_IMA;
                        break;
                case O_DRY_RUN:
                        h.dry_run = true;
                        h.used |= OPT_DRY_RUN;
                        break;
                case O_PROM:
                        h.prometheus = true;
                        h.used |= OPT_PROMETHEUS;
                        break;
                case O_NAME:
                        h.name = optarg;
                        h.used |= OPT_NAME;
                        break;
                default:
                        usage(stderr);
                        return VT_HOST_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return VT_HOST_EXIT_USAGE;
        }
        const struct host_cmd *cmd = cmd_find(argv[optind]);
        if (!cmd) {
                log_error("Unknown command '%s' (see --help)", argv[optind]);
                return VT_HOST_EXIT_USAGE;
        }
        if (h.used & ~cmd->options) {
                log_error("%s: an option given does not apply to this command (see --help)",
                          cmd->name);
                return VT_HOST_EXIT_USAGE;
        }
        /* an apply may run the boot loader's generator: seconds under emulation */
        if (h.timeout_ms < 0)
                h.timeout_ms = cmd->run == run_tune ? 300000 : 5000;
        if (h.nonce_hex && h.random) {
                log_error("%s: --nonce and --random exclude each other", cmd->name);
                return VT_HOST_EXIT_USAGE;
        }

        if (streq(cmd->name, "scan")) {
                if (optind + 1 >= argc) {
                        log_error("scan: give at least one directory");
                        return VT_HOST_EXIT_USAGE;
                }
                struct vt_scan_opts so = {
                        .name = h.name, .timeout_ms = h.timeout_ms, .prometheus = h.prometheus};
                int r = vt_host_scan(argv + optind + 1, (size_t)(argc - optind - 1), &so, stdout);
                if (r < 0) {
                        log_error_errno(r, "scan");
                        return VT_HOST_EXIT_NO_AGENT;
                }
                return VT_HOST_EXIT_OK;
        }
        if (h.from_files) {
                h.files = argv + optind + 1;
                h.nfiles = (size_t)(argc - optind - 1);
                if (h.nfiles < 1 || h.nfiles > 2 || h.socket || h.random) {
                        log_error("verify --from-files: give QUOTE.json [EVENTLOG] and --nonce, "
                                  "no --socket or --random");
                        return VT_HOST_EXIT_USAGE;
                }
                return cmd->run(&h, cmd);
        }
        if (optind + 1 < argc) {
                log_error("%s: unexpected argument '%s'", cmd->name, argv[optind + 1]);
                return VT_HOST_EXIT_USAGE;
        }
        if (!h.socket) {
                log_error("%s: --socket PATH is needed", cmd->name);
                return VT_HOST_EXIT_USAGE;
        }
        return cmd->run(&h, cmd);
}
