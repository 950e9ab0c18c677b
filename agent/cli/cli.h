/* What every `virtune` subcommand shares: common options, the context, output. */
#pragma once

#include <getopt.h>
#include "ctx.h"
#include "render.h"

/* Exit codes of every virtune program. */
enum {
        VT_EXIT_OK = 0,
        VT_EXIT_FAIL = 1,  /* failed, or drift found (verify) */
        VT_EXIT_USAGE = 2, /* bad arguments or bad configuration; nothing changed */
};

struct vt_cli {
        const char *prog;    /* "virtune" */
        const char *command; /* the subcommand */
        const char *root;
        const char *cpuid_file;
        bool json;
        bool live;
        bool no_policy;
};

/*
 * Called for each subcommand-specific option; returns 0, or <0 to fail with usage after it has
 * logged what is wrong with the value (the parser adds nothing: one error, one message).
 */
typedef int (*vt_cli_opt_fn)(int opt, const char *arg, void *userdata);

/*
 * Parses the common options (--root, --json, --cpuid, --live, -v, -q, -h) together with the
 * subcommand's own `extra` options. Returns the index of the first positional argument, or
 * -1 after printing the reason (exit 2), or -2 when --help was shown (exit 0).
 */
int vt_cli_parse(struct vt_cli *cli, int argc, char **argv, const struct option *extra,
                 const char *extra_short, vt_cli_opt_fn fn, void *userdata, const char *usage);

/*
 * After vt_cli_parse returned i: refuses positional arguments, then makes the context (as
 * vt_cli_ctx). true: go on with *ctx; false: the command is over (help shown, or an error
 * logged), exit with *exit_code.
 */
bool vt_cli_setup(struct vt_cli *cli, int i, int argc, char **argv, struct vt_ctx **ctx,
                  int *exit_code);

/* The context for cli->root with policy loaded (unless no_policy); logs and returns <0. */
int vt_cli_ctx(const struct vt_cli *cli, struct vt_ctx **ret);

/* Prints a document: pretty JSON with --json, else the text rendering. */
void vt_cli_print(const struct vt_cli *cli, json_object *doc);

/* Logs "not available in this build" style messages for -EOPNOTSUPP; returns an exit code. */
int vt_cli_errno_exit(const struct vt_cli *cli, int r, const char *what);

typedef int (*vt_cmd_fn)(struct vt_cli *cli, int argc, char **argv);

/* subcommands, one file each (cmd_*.c) */
int vt_cmd_detect(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_plan(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_apply(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_verify(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_revert(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_status(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_cmdline(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_pcrs(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_quote(struct vt_cli *cli, int argc, char **argv);
int vt_cmd_eventlog(struct vt_cli *cli, int argc, char **argv);
