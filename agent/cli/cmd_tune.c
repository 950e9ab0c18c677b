/* virtune plan|apply|verify|revert|status: thin over modules/tune.h. */
#include <fcntl.h>
#include "exec.h"
#include "fsutil.h"
#include "log.h"
#include "module.h"
#include "policy.h"
#include "tune.h"
#include "cli.h"

#define ONLY_MAX 16

struct tune_opts {
        bool dry_run, no_bootloader, last, first_boot;
        const char *only[ONLY_MAX + 1];
        size_t n_only;
};

enum { OPT_DRY_RUN = 0x2000, OPT_ONLY, OPT_NO_BOOTLOADER, OPT_LAST, OPT_FIRST_BOOT };

static const struct option apply_opts[] = {
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"only", required_argument, NULL, OPT_ONLY},
        {"no-bootloader", no_argument, NULL, OPT_NO_BOOTLOADER},
        {"first-boot", no_argument, NULL, OPT_FIRST_BOOT},
        {},
};

static int on_opt(int opt, const char *arg, void *userdata)
{
        struct tune_opts *o = userdata;
        switch (opt) {
        case OPT_DRY_RUN:
                o->dry_run = true;
                return 0;
        case OPT_NO_BOOTLOADER:
                o->no_bootloader = true;
                return 0;
        case OPT_LAST:
                o->last = true;
                return 0;
        case OPT_FIRST_BOOT:
                o->first_boot = true;
                return 0;
        case OPT_ONLY: {
                const struct vt_module *m = vt_module_find_tunable(arg);
                if (m && o->n_only < ONLY_MAX) {
                        o->only[o->n_only++] = m->name;
                        return 0;
                }
                char names[256];
                vt_module_names(names, sizeof(names), true);
                log_error("unknown module '%s' for --only (%s)", arg, names);
                return -EINVAL;
        }
        }
        return -EINVAL;
}

/* Parses, refuses positional arguments, makes the context; false: done, exit with *exit_code. */
static bool setup(struct vt_cli *cli, int argc, char **argv, const struct option *extra,
                  struct tune_opts *o, const char *usage, struct vt_ctx **ctx, int *exit_code)
{
        int i = vt_cli_parse(cli, argc, argv, extra, NULL, on_opt, o, usage);
        return vt_cli_setup(cli, i, argc, argv, ctx, exit_code);
}

/* Changing the running system needs root; say so once instead of one EACCES per target. */
static bool need_root(const struct vt_cli *cli, struct vt_ctx *ctx, bool dry_run)
{
        if (dry_run || !vt_exec_is_real_root(ctx) || geteuid() == 0)
                return false;
        log_error("%s %s: changing this system needs root (try sudo, or --root DIR for an "
                  "image)",
                  cli->prog, cli->command);
        return true;
}

/* A refused policy is a configuration error: file:line, exit 2. Other errors may say why. */
static int fail(const struct vt_cli *cli, int r, json_object *doc, const char *what)
{
        json_object *e;
        if (r == -EINVAL && doc && json_object_object_get_ex(doc, "error", &e)) {
                log_error("%s", json_object_get_string(e));
                return VT_EXIT_USAGE;
        }
        if (doc && json_object_object_get_ex(doc, "error", &e)) {
                log_error("%s %s: %s", cli->prog, cli->command, json_object_get_string(e));
                return VT_EXIT_FAIL;
        }
        return vt_cli_errno_exit(cli, r, what);
}

/* Text output: file contents and undo records are for --json; a line count says enough. */
static void shorten_change(json_object *c)
{
        static const char *const keys[] = {"from", "to"};
        json_object_object_del(c, "record");
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                json_object *v;
                if (!json_object_object_get_ex(c, keys[i], &v) ||
                    !json_object_is_type(v, json_type_string) ||
                    !strchr(json_object_get_string(v), '\n'))
                        continue;
                size_t lines = 0;
                for (const char *p = json_object_get_string(v); *p; p++)
                        lines += *p == '\n';
                char buf[64];
                snprintf(buf, sizeof(buf), "(%zu lines)", lines);
                json_object_object_add(c, keys[i], json_object_new_string(buf));
        }
}

static void shorten(json_object *doc)
{
        static const char *const lists[] = {"changes", "drift", "skipped", "pending_reboot"};
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                json_object *a;
                if (!json_object_object_get_ex(doc, lists[i], &a) ||
                    !json_object_is_type(a, json_type_array))
                        continue;
                for (size_t j = 0; j < json_object_array_length(a); j++)
                        shorten_change(json_object_array_get_idx(a, j));
        }
}

static void print(const struct vt_cli *cli, json_object *doc)
{
        if (!cli->json)
                shorten(doc);
        vt_cli_print(cli, doc);
}

static int with_facts(struct vt_cli *cli, int argc, char **argv, const char *usage,
                      int (*fn)(struct vt_ctx *, json_object *, json_object **), bool exit_on_drift)
{
        struct tune_opts o = {0};
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        int e;
        if (!setup(cli, argc, argv, NULL, &o, usage, &ctx, &e))
                return e;
        _cleanup_json_ json_object *facts = NULL, *doc = NULL;
        int r = vt_detect_for_plan(ctx, &facts);
        if (r < 0) {
                log_error_errno(r, "Failed to detect the system under %s", ctx->root);
                return VT_EXIT_FAIL;
        }
        r = fn(ctx, facts, &doc);
        if (r < 0)
                return fail(cli, r, doc, cli->command);
        print(cli, doc);
        json_object *ok;
        if (exit_on_drift && json_object_object_get_ex(doc, "ok", &ok) &&
            !json_object_get_boolean(ok))
                return VT_EXIT_FAIL;
        return VT_EXIT_OK;
}

int vt_cmd_plan(struct vt_cli *cli, int argc, char **argv)
{
        return with_facts(cli, argc, argv,
                          "plan [--root DIR] [--json]\n\n"
                          "Shows the changes the policy wants: target, current and new value,\n"
                          "why (the guide's advice) and when it takes effect. Writes nothing but\n"
                          "the cache of qemu-ga's commands (man virtune, FILES).\n",
                          vt_tune_plan, false);
}

int vt_cmd_verify(struct vt_cli *cli, int argc, char **argv)
{
        return with_facts(cli, argc, argv,
                          "verify [--root DIR] [--json]\n\n"
                          "Exit 0 when the system matches the policy, 1 with the drift listed.\n"
                          "Command-line changes waiting for a reboot are shown apart.\n",
                          vt_tune_verify, true);
}

int vt_cmd_status(struct vt_cli *cli, int argc, char **argv)
{
        return with_facts(cli, argc, argv,
                          "status [--root DIR] [--json]\n\n"
                          "Policy in force, last apply, pending reboot, drift count.\n",
                          vt_tune_status, false);
}

#define FIRSTBOOT_STAMP VT_STATE_DIR "/firstboot.done"

/*
 * virtune-firstboot.service's end of a first-boot apply that succeeded: the stamp that keeps
 * the unit from running again (first: a reboot stops the unit before anything after it), then
 * the reboot when the policy says [bootloader] reboot = if-needed and a command-line change
 * waits for one. Under --root only said, unless $VIRTUNE_REBOOT names a command to run instead
 * of `systemctl reboot` (tests). Done here, not by a shell around apply: each exec costs the
 * boot it holds up.
 */
static int first_boot_end(struct vt_ctx *ctx, json_object *doc)
{
        int r = vt_fs_mkdir_p(ctx, VT_STATE_DIR, NULL);
        _cleanup_close_ int fd = r < 0 ? r
                                       : vt_open(ctx, FIRSTBOOT_STAMP,
                                                 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                log_error_errno(fd, "Cannot write %s under %s", FIRSTBOOT_STAMP, ctx->root);
                return VT_EXIT_FAIL;
        }
        if (!streq_ptr(vt_json_str(doc, "reboot"), "if-needed") ||
            !vt_json_bool(doc, "reboot_needed"))
                return VT_EXIT_OK;
        const char *reboot = getenv("VIRTUNE_REBOOT");
        if (!vt_exec_is_real_root(ctx) && !reboot) {
                printf("virtune-firstboot: would reboot (a kernel command-line change is "
                       "pending)\n");
                return VT_EXIT_OK;
        }
        printf("virtune-firstboot: the kernel command line changed and [bootloader] reboot = "
               "if-needed: rebooting\n");
        fflush(stdout);
        if (reboot)
                execl(reboot, reboot, (char *)NULL);
        else
                execlp("systemctl", "systemctl", "reboot", (char *)NULL);
        log_error_errno(-errno, "Cannot run %s", reboot ? reboot : "systemctl reboot");
        return VT_EXIT_FAIL;
}

int vt_cmd_apply(struct vt_cli *cli, int argc, char **argv)
{
        struct tune_opts o = {0};
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        char names[256], usage[1024];
        vt_module_names(names, sizeof(names), true);
        snprintf(usage, sizeof(usage),
                 "apply [--root DIR] [--dry-run] [--only MODULE]... [--no-bootloader]\n"
                 "      [--first-boot]\n\n"
                 "Makes the planned changes and records each with its old value in\n"
                 "/var/lib/virtune/journal.json. When one fails, those already made are\n"
                 "rolled back (exit 1). Offline roots get persistent targets only.\n"
                 "  --dry-run        show what would be done, write nothing\n"
                 "  --only MODULE    one of %s (repeatable)\n"
                 "  --no-bootloader  leave the kernel command line alone\n"
                 "  --first-boot     virtune-firstboot.service's apply: then write\n"
                 "                   /var/lib/virtune/firstboot.done and reboot when\n"
                 "                   [bootloader] reboot = if-needed and the command line waits\n",
                 names);
        int e;
        if (!setup(cli, argc, argv, apply_opts, &o, usage, &ctx, &e))
                return e;
        if (need_root(cli, ctx, o.dry_run))
                return VT_EXIT_FAIL;
        struct vt_apply_opts ao = {
                .dry_run = o.dry_run,
                .no_bootloader = o.no_bootloader,
                .only = o.n_only ? o.only : NULL,
        };
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_tune_apply(ctx, &ao, &doc);
        if (r < 0)
                return fail(cli, r, doc, "apply");
        /* Beside reboot_needed: virtune-firstboot decides on both without asking again. */
        json_object_object_add(
                doc, "reboot",
                json_object_new_string(vt_policy_get(ctx->policy, "bootloader", "reboot")));
        print(cli, doc);
        if (r > 0)
                log_error("%s apply: a change failed; the changes made before it were rolled "
                          "back (see %s)",
                          cli->prog, "/var/lib/virtune/journal.json");
        if (r > 0)
                return VT_EXIT_FAIL;
        return o.first_boot && !o.dry_run ? first_boot_end(ctx, doc) : VT_EXIT_OK;
}

int vt_cmd_revert(struct vt_cli *cli, int argc, char **argv)
{
        static const struct option revert_opts[] = {
                {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                {"last", no_argument, NULL, OPT_LAST},
                {},
        };
        struct tune_opts o = {0};
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        int e;
        if (!setup(cli, argc, argv, revert_opts, &o,
                   "revert [--root DIR] [--dry-run] [--last]\n\n"
                   "Restores what every apply still in force changed (an image's bake, the\n"
                   "first boot's apply, virtune cmdline edits), newest first: the system as\n"
                   "before virtune's first apply. Values and files byte for byte; files\n"
                   "virtune wrote are removed.\n"
                   "  --dry-run  show what would be restored\n"
                   "  --last     undo only the newest apply\n",
                   &ctx, &e))
                return e;
        if (need_root(cli, ctx, o.dry_run))
                return VT_EXIT_FAIL;
        _cleanup_json_ json_object *doc = NULL;
        int r = vt_tune_revert_opts(ctx, o.dry_run, o.last, &doc);
        if (r < 0)
                return fail(cli, r, doc, "revert");
        print(cli, doc);
        return r > 0 ? VT_EXIT_FAIL : VT_EXIT_OK;
}
