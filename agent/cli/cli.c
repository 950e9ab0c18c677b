/* Common option parsing, context set-up and output for the virtune subcommands. */
#include <assert.h>
#include <syslog.h>
#include "vt_cpuid.h"
#include "log.h"
#include "policy.h"
#include "cli.h"

enum {
        OPT_ROOT = 0x1000,
        OPT_CPUID,
        OPT_LIVE,
        OPT_NO_POLICY,
};

static const struct option common_opts[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"json", no_argument, NULL, 'j'},
        {"cpuid", required_argument, NULL, OPT_CPUID},
        {"live", no_argument, NULL, OPT_LIVE},
        {"no-policy", no_argument, NULL, OPT_NO_POLICY},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
};

static const char common_help[] =
        "Common options:\n"
        "  --root DIR     work on the system under DIR (an image) instead of /\n"
        "  -j, --json     print one JSON document\n"
        "  -v, --verbose  say more (repeat for debug)\n"
        "  -q, --quiet    errors only\n"
        "  -h, --help     this help\n"
        "Testing options:\n"
        "  --cpuid FILE   answer CPUID from FILE (lines: LEAF SUBLEAF EAX EBX ECX EDX, hex)\n"
        "  --live         treat --root DIR as a running system (runtime targets apply)\n"
        "  --no-policy    ignore /etc/virtune; use the built-in defaults\n";

int vt_cli_parse(struct vt_cli *cli, int argc, char **argv, const struct option *extra,
                 const char *extra_short, vt_cli_opt_fn fn, void *userdata, const char *usage)
{
        size_t ne = 0;
        while (extra && extra[ne].name)
                ne++;
        struct option opts[ARRAY_SIZE(common_opts) + 32];
        if (ne > 31)
                return -1;
        memcpy(opts, common_opts, sizeof(common_opts));
        if (ne)
                memcpy(opts + ARRAY_SIZE(common_opts), extra, ne * sizeof(*extra));
        memset(&opts[ARRAY_SIZE(common_opts) + ne], 0, sizeof(opts[0]));
        char shorts[64];
        snprintf(shorts, sizeof(shorts), "jvqh%s", extra_short ? extra_short : "");
        optind = 0; /* full reset: each subcommand parses its own argv */
        opterr = 0;
        int c, verbosity = 0;
        while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
                switch (c) {
                case OPT_ROOT:
                        cli->root = optarg;
                        break;
                case 'j':
                        cli->json = true;
                        break;
                case OPT_CPUID:
                        cli->cpuid_file = optarg;
                        break;
                case OPT_LIVE:
                        cli->live = true;
                        break;
                case OPT_NO_POLICY:
                        cli->no_policy = true;
                        break;
                case 'v':
                        verbosity++;
                        break;
                case 'q':
                        verbosity = -1;
                        break;
                case 'h':
                        printf("Usage: %s %s\n%s", cli->prog, usage, common_help);
                        return -2;
                case '?':
                case ':':
                        if (optopt && optopt < 0x1000)
                                log_error("%s %s: bad or incomplete option '-%c' (see --help)",
                                          cli->prog, cli->command, optopt);
                        else
                                log_error("%s %s: bad or incomplete option '%s' (see --help)",
                                          cli->prog, cli->command, argv[optind - 1]);
                        return -1;
                default:
                        /* The subcommand's handler knows what was wrong and has said so. */
                        assert(fn);
                        if (fn(c, optarg, userdata) < 0)
                                return -1;
                }
        }
        if (verbosity < 0)
                vt_log_set_level(LOG_ERR);
        else if (verbosity > 0)
                vt_log_set_level(verbosity > 1 ? LOG_DEBUG : LOG_INFO);
        return optind;
}

bool vt_cli_setup(struct vt_cli *cli, int i, int argc, char **argv, struct vt_ctx **ctx,
                  int *exit_code)
{
        if (i < 0) {
                *exit_code = i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
                return false;
        }
        if (i < argc) {
                log_error("%s %s: unexpected argument '%s'", cli->prog, cli->command, argv[i]);
                *exit_code = VT_EXIT_USAGE;
                return false;
        }
        if (vt_cli_ctx(cli, ctx) < 0) {
                *exit_code = VT_EXIT_USAGE;
                return false;
        }
        return true;
}

int vt_cli_ctx(const struct vt_cli *cli, struct vt_ctx **ret)
{
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        int r = vt_ctx_new(cli->root, &ctx);
        if (r < 0)
                return log_error_errno(r, "Cannot use root directory '%s'",
                                       cli->root ? cli->root : "/");
        if (cli->live)
                ctx->live = true;
        if (cli->cpuid_file) {
                vt_cpuid_free(ctx->cpuid);
                ctx->cpuid = NULL;
                r = vt_cpuid_new_file(cli->cpuid_file, &ctx->cpuid);
                if (r < 0)
                        return log_error_errno(r, "Cannot read CPUID file '%s'", cli->cpuid_file);
        }
        if (!cli->no_policy) {
                char err[VT_POLICY_ERR_MAX];
                r = vt_policy_load(ctx, &ctx->policy, err, sizeof(err));
                if (r < 0) {
                        log_error("%s", err);
                        return r;
                }
        }
        *ret = TAKE_PTR(ctx);
        return 0;
}

void vt_cli_print(const struct vt_cli *cli, json_object *doc)
{
        if (cli->json)
                puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                                 JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        else
                vt_render_text(stdout, doc);
}

int vt_cli_errno_exit(const struct vt_cli *cli, int r, const char *what)
{
        if (r == -EOPNOTSUPP)
                log_error("%s %s: %s is not available in this build of virtune", cli->prog,
                          cli->command, what);
        else
                log_error_errno(r, "%s %s: %s failed", cli->prog, cli->command, what);
        return VT_EXIT_FAIL;
}
