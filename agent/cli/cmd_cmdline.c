/* virtune cmdline show|set|remove: the kernel command line of the boot configuration. */
#include "grubcfg.h"
#include "log.h"
#include "tune.h"
#include "cli.h"

enum {
        OPT_DRY_RUN = 0x2000,
        OPT_NO_GENERATOR,
        OPT_CHROOT_GENERATOR,
};

static const struct option opts[] = {
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"no-generator", no_argument, NULL, OPT_NO_GENERATOR},
        {"chroot-generator", no_argument, NULL, OPT_CHROOT_GENERATOR},
        {},
};

static const char usage[] =
        "cmdline show|set KEY[=VAL]...|remove KEY[=VAL]... [--root DIR] [--dry-run]\n"
        "Show or edit the kernel command line in every boot configuration that applies\n"
        "(/etc/default/grub or its grub.d drop-in, BLS entries and grubenv, a grub.cfg without\n"
        "a generator, /etc/kernel/cmdline). set and remove print a unified diff of every file.\n"
        "  --dry-run           print the diff, change nothing\n"
        "  --no-generator      do not run update-grub / grub2-mkconfig afterwards\n"
        "  --chroot-generator  with --root: run the image's own generator in a chroot\n"
        "                      (otherwise it is left for the image's first boot)\n";

static int opt_fn(int opt, const char *arg, void *userdata)
{
        unsigned *flags = userdata;
        static const struct {
                int opt;
                unsigned flag;
        } map[] = {
                {OPT_DRY_RUN, VT_BOOTCFG_DRY_RUN},
                {OPT_NO_GENERATOR, VT_BOOTCFG_NO_GENERATOR},
                {OPT_CHROOT_GENERATOR, VT_BOOTCFG_CHROOT_GENERATOR},
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (map[i].opt == opt) {
                        *flags |= map[i].flag;
                        return 0;
                }
        return -1;
}

static int show(struct vt_cli *cli, struct vt_ctx *ctx)
{
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_bootcfg_read(ctx, &doc);
        if (r < 0)
                return vt_cli_errno_exit(cli, r, "reading the boot configuration");
        vt_cli_print(cli, doc);
        return VT_EXIT_OK;
}

/* "key1 key2" and "key1=v -key2" (a leading '-': removed) of the edits, for the journal. */
static int describe(const struct vt_cmdline_edit *edits, int n, char **keys, char **tokens)
{
        size_t kl = 0, tl = 0;
        FILE *k = open_memstream(keys, &kl), *t = open_memstream(tokens, &tl);
        for (int i = 0; k && t && i < n; i++) {
                fprintf(k, "%s%s", i ? " " : "", edits[i].key);
                fprintf(t, "%s%s%s%s%s", i ? " " : "", edits[i].op == VT_CMDLINE_REMOVE ? "-" : "",
                        edits[i].key, edits[i].value ? "=" : "",
                        edits[i].value ? edits[i].value : "");
        }
        bool ok = k && t;
        if (k && fclose(k) != 0)
                ok = false;
        if (t && fclose(t) != 0)
                ok = false;
        return ok ? 0 : -ENOMEM;
}

static int edit(struct vt_cli *cli, struct vt_ctx *ctx, enum vt_cmdline_op op, char **args, int n,
                unsigned flags)
{
        struct vt_cmdline_edit *edits = calloc(n, sizeof(*edits));
        if (!edits)
                return VT_EXIT_FAIL;
        for (int i = 0; i < n; i++) {
                char *eq = strchr(args[i], '=');
                edits[i].op = op;
                edits[i].key = args[i];
                if (eq) {
                        *eq = 0;
                        edits[i].value = eq + 1;
                }
        }
        char err[1200] = "";
        struct vt_bootcfg_opts o = {.flags = flags, .err = err, .errlen = sizeof(err)};
        _cleanup_free_ char *diff = NULL;
        _cleanup_json_ json_object *record = NULL;
        /* journaled like an apply (lock, intent, journal): `virtune revert` undoes it too */
        _cleanup_free_ char *keys = NULL, *tokens = NULL;
        int r = describe(edits, n, &keys, &tokens);
        if (r >= 0)
                r = vt_tune_cmdline_edit(ctx, edits, n, keys, tokens, &o, &diff, &record);
        free(edits);
        if (r == -EINVAL) {
                log_error("%s %s: %s", cli->prog, cli->command, err);
                return VT_EXIT_USAGE;
        }
        if (r < 0) {
                log_error("%s", err[0] ? err : vt_strerror(r));
                return VT_EXIT_FAIL;
        }
        if (cli->json) {
                vt_json_add_str(record, "diff", diff ? diff : "");
                json_object_object_add(record, "dry_run",
                                       json_object_new_boolean(flags & VT_BOOTCFG_DRY_RUN));
                vt_cli_print(cli, record);
                return VT_EXIT_OK;
        }
        fputs(diff ? diff : "", stdout);
        if (!diff)
                log_notice("The boot configuration already says so; nothing to change.");
        json_object *gens = json_object_object_get(record, "generators");
        for (size_t i = 0; i < json_object_array_length(gens); i++) {
                json_object *g = json_object_array_get_idx(gens, i);
                const char *cmd = json_object_get_string(json_object_object_get(g, "command"));
                log_notice("%s: %s%s%s",
                           json_object_get_string(json_object_object_get(g, "backend")),
                           cmd ? cmd : "", cmd ? ": " : "",
                           json_object_get_string(json_object_object_get(g, "status")));
        }
        return VT_EXIT_OK;
}

int vt_cmd_cmdline(struct vt_cli *cli, int argc, char **argv)
{
        unsigned flags = 0;
        int i = vt_cli_parse(cli, argc, argv, opts, NULL, opt_fn, &flags, usage);
        if (i < 0)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        const char *verb = i < argc ? argv[i] : "show";
        enum vt_cmdline_op op = VT_CMDLINE_SET;
        if (streq(verb, "show")) {
                if (i + 1 < argc) {
                        log_error("%s cmdline show takes no arguments (see --help)", cli->prog);
                        return VT_EXIT_USAGE;
                }
        } else if (streq(verb, "set"))
                op = VT_CMDLINE_SET;
        else if (streq(verb, "remove"))
                op = VT_CMDLINE_REMOVE;
        else {
                log_error("%s cmdline: unknown action '%s' (show, set, remove)", cli->prog, verb);
                return VT_EXIT_USAGE;
        }
        if (!streq(verb, "show") && i + 1 >= argc) {
                log_error("%s cmdline %s: which KEY[=VALUE]? (see --help)", cli->prog, verb);
                return VT_EXIT_USAGE;
        }
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        cli->no_policy = true; /* the boot configuration does not depend on the policy */
        if (vt_cli_ctx(cli, &ctx) < 0)
                return VT_EXIT_USAGE;
        if (streq(verb, "show"))
                return show(cli, ctx);
        return edit(cli, ctx, op, argv + i + 1, argc - i - 1, flags);
}
