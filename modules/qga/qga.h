/* The parts of qga detection worth testing alone: qemu-ga's argv and its config file. */
#pragma once

#include "ctx.h"

#define QGA_UNIT      "qemu-guest-agent.service"
#define QGA_CONF      "/etc/qemu/qemu-ga.conf"
#define QGA_SYSCONFIG "/etc/sysconfig/qemu-ga"
#define QGA_CONFDIR   "/etc/qemu"
#define QGA_DROPIN    "/etc/systemd/system/qemu-guest-agent.service.d/99-virtune-block-rpcs.conf"

/*
 * What qemu-ga said its commands are, with the binary's identity (device, inode, size, mtime,
 * ctime) and the option asked: one exec per qemu-ga build, not one per plan or apply.
 */
#define QGA_COMMANDS_CACHE VT_STATE_DIR "/qga-commands.json"

/* facts.qga.commands: the installed qemu-ga's own list (runs it; the running root only). */
int vt_qga_probe(struct vt_ctx *ctx, json_object *facts);
/*
 * The "guest-*" commands binary (a path in ctx's root) knows, from the cache when it names
 * this build, else by running it (and writing the cache where the state directory exists).
 * -EBADMSG when its answer lists no guest-ping; -errno when it cannot be stat'ed or run.
 */
int vt_qga_commands(struct vt_ctx *ctx, const char *binary, const char *version, json_object **ret);
/* "7.2.0", "1:7.2+dfsg-7" -> 702; -1 when unknown. */
int vt_qga_version_code(const char *version);
/* The option qemu-ga takes its block list by: "blacklist" before 7.2, else "block-rpcs". */
const char *vt_qga_spelling(const char *version);

struct vt_qga_lists {
        char **block;     /* RPCs blocked (-b/--block-rpcs/--blacklist, block-rpcs=/blacklist=) */
        char **allow;     /* RPCs allowed (-a/--allow-rpcs, allow-rpcs=) */
        char *config;     /* -c/--config FILE, when given */
        bool from_argv;   /* a list came from the command line */
        bool from_config; /* a list came from the config file */
};
void vt_qga_lists_free(struct vt_qga_lists *l);

/* Adds the lists an argv (argv[0] the program) gives: comma-separated, accumulating. */
int vt_qga_parse_argv(char *const *argv, struct vt_qga_lists *out);
/* Adds the lists of a qemu-ga.conf text ([general] block-rpcs=a;b, allow-rpcs=...). */
int vt_qga_parse_config(const char *text, struct vt_qga_lists *out);
/*
 * text (a qemu-ga.conf) with its [general] list set to value: the last line of the first of
 * read_keys present is rewritten, else new_key is added under [general] (made when missing).
 * -EBADMSG with *bad_line (1-based) when a line is none of comment, [group] or key=value.
 */
int vt_qga_config_set(const char *text, const char *const *read_keys, const char *new_key,
                      const char *value, char **ret, unsigned *bad_line);
