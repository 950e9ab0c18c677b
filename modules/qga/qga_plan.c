/* Plans qemu-ga's block list: names checked, spelled for the version, written where it counts. */
#include <ctype.h>
#include "envfile.h"
#include "exec.h"
#include "module.h"
#include "run.h"
#include "policy.h"
#include "qga.h"
#include "strv.h"

#define M             "qga"
#define QGA_CONF      "/etc/qemu/qemu-ga.conf"
#define QGA_SYSCONFIG "/etc/sysconfig/qemu-ga"
#define QGA_CONFDIR   "/etc/qemu"
#define QGA_DROPIN    "/etc/systemd/system/qemu-guest-agent.service.d/99-virtune-block-rpcs.conf"

static const char why_block[] =
        "qemu-ga: block commands that let the host run programs, read files or set passwords";

/* qemu-ga 7.2 and 8.x command names (qga/qapi-schema.json): a misspelling blocks nothing. */
static const char *const qga_commands[] = {
        "guest-sync-delimited",
        "guest-sync",
        "guest-ping",
        "guest-get-time",
        "guest-set-time",
        "guest-info",
        "guest-shutdown",
        "guest-file-open",
        "guest-file-close",
        "guest-file-read",
        "guest-file-write",
        "guest-file-seek",
        "guest-file-flush",
        "guest-fsfreeze-status",
        "guest-fsfreeze-freeze",
        "guest-fsfreeze-freeze-list",
        "guest-fsfreeze-thaw",
        "guest-fstrim",
        "guest-suspend-disk",
        "guest-suspend-ram",
        "guest-suspend-hybrid",
        "guest-network-get-interfaces",
        "guest-get-vcpus",
        "guest-set-vcpus",
        "guest-get-disks",
        "guest-get-fsinfo",
        "guest-set-user-password",
        "guest-get-memory-blocks",
        "guest-set-memory-blocks",
        "guest-get-memory-block-info",
        "guest-exec-status",
        "guest-exec",
        "guest-get-host-name",
        "guest-get-users",
        "guest-get-timezone",
        "guest-get-osinfo",
        "guest-get-devices",
        "guest-ssh-get-authorized-keys",
        "guest-ssh-add-authorized-keys",
        "guest-ssh-remove-authorized-keys",
        "guest-get-diskstats",
        "guest-get-cpustats",
};

/* "7.2.0", "1:7.2+dfsg-7" -> 702; -1 when unknown. */
static int version_code(const char *version)
{
        unsigned major = 0, minor = 0;
        /* Package versions carry an epoch: "1:7.2+dfsg-7". */
        const char *colon = version ? strchr(version, ':') : NULL;
        const char *dot = version ? strchr(version, '.') : NULL;
        if (colon && (!dot || colon < dot))
                version = colon + 1;
        if (!version || sscanf(version, "%u.%u", &major, &minor) < 1 || major > 1000 || minor > 99)
                return -1;
        return (int)(major * 100 + minor);
}

/* 7.2 renamed --blacklist to --block-rpcs; 9.1 dropped the old name. */
static const char *spelling(const char *version)
{
        int v = version_code(version);
        return v >= 0 && v < 702 ? "blacklist" : "block-rpcs";
}

/* The qemu-ga.conf keys this version reads its block list from, the one it prefers first. */
static const char *const *config_keys(const char *version)
{
        static const char *const old[] = {"blacklist", NULL};
        static const char *const both[] = {"blacklist", "block-rpcs", NULL};
        static const char *const current[] = {"block-rpcs", NULL};
        int v = version_code(version);
        return v >= 0 && v < 702 ? old : v >= 901 ? current : both;
}

/* Asks the installed qemu-ga for its command list ("-b ?" before 7.2); NULL when it cannot run. */
static char *ask_qemu_ga(const char *binary, const char *opt)
{
        char *buf = NULL;
        if (vt_run_output(binary, opt, 256u << 10, &buf) < 0 || !strstr(buf, "guest-ping")) {
                free(buf);
                return NULL;
        }
        return buf;
}

static bool known_command(const char *help, const char *name)
{
        if (help) {
                size_t n = strlen(name);
                for (const char *p = strstr(help, name); p; p = strstr(p + 1, name))
                        if ((p == help || p[-1] == '\n' || p[-1] == ' ') &&
                            (p[n] == '\n' || p[n] == ' ' || p[n] == '\0' || p[n] == ','))
                                return true;
                return false;
        }
        for (size_t i = 0; i < ARRAY_SIZE(qga_commands); i++)
                if (streq(qga_commands[i], name))
                        return true;
        return false;
}

/* The policy's names, checked, as one comma-separated list. */
static int block_list(struct vt_ctx *ctx, json_object *qga, struct vt_plan *plan, char **ret)
{
        const char *v = vt_policy_get(ctx->policy, M, "block-rpcs");
        const char *origin = vt_policy_origin(ctx->policy, M, "block-rpcs");
        const char *binary = vt_json_str(qga, "binary");
        _cleanup_free_ char *help = NULL;
        if (binary && vt_exec_is_real_root(ctx)) {
                const char *version = vt_json_str(qga, "version");
                help = ask_qemu_ga(binary, streq(spelling(version), "blacklist")
                                                   ? "--blacklist=?"
                                                   : "--block-rpcs=help");
        }
        _cleanup_free_ char *copy = strdup(v ? v : "");
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!copy || !f)
                return -ENOMEM;
        char *save = NULL;
        int r = 0;
        bool first = true;
        for (char *w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
                if (!known_command(help, w)) {
                        r = vt_plan_fail(plan, origin,
                                         "qga.block-rpcs: unknown qemu-ga command '%s' (%s)", w,
                                         help ? "not in this qemu-ga's list"
                                              : "not a qemu-ga 7.2/8.x command");
                        break;
                }
                fprintf(f, "%s%s", first ? "" : ",", w);
                first = false;
        }
        fclose(f);
        if (r < 0) {
                free(out);
                return r;
        }
        *ret = out;
        return 0;
}

/* The variables a RHEL-style unit takes from /etc/sysconfig/qemu-ga, and what each holds. */
static const struct {
        const char *var;
        const char *option; /* the option the unit puts before ${VAR}; NULL: VAR holds options */
} sysconfig_vars[] = {
        {"FILTER_RPC_ARGS", NULL},      /* RHEL 8/9: "--block-rpcs=LIST" */
        {"BLOCK_RPCS", "block-rpcs"},   /* --block-rpcs=${BLOCK_RPCS} */
        {"BLACKLIST_RPC", "blacklist"}, /* RHEL 7, older Fedora: --blacklist=${BLACKLIST_RPC} */
};

/* Whether a command line refers to $VAR or ${VAR}. */
static bool references(const char *cmd, const char *var)
{
        size_t n = strlen(var);
        for (const char *p = strchr(cmd, '$'); p; p = strchr(p + 1, '$')) {
                const char *v = p[1] == '{' ? p + 2 : p + 1;
                if (strncmp(v, var, n) != 0)
                        continue;
                if (p[1] == '{' ? v[n] == '}' : !(isalnum((unsigned char)v[n]) || v[n] == '_'))
                        return true;
        }
        return false;
}

/*
 * The unit's own ExecStart= value, as written (after resets by drop-ins; ours left out): a
 * drop-in must keep the unit's arguments. NULL when there is none; -EBADMSG with *where set
 * for a continued line, which this reader does not join.
 */
static int unit_command(struct vt_ctx *ctx, json_object *files, char **ret, char **where)
{
        *ret = NULL;
        for (size_t i = 0; files && i < json_object_array_length(files); i++) {
                const char *path = json_object_get_string(json_object_array_get_idx(files, i));
                _cleanup_free_ char *text = NULL;
                if (!path || streq(path, QGA_DROPIN))
                        continue;
                int r = vt_read_file_max(ctx, path, VT_CONFIG_FILE_MAX, &text, NULL);
                if (r == -ENOENT)
                        continue; /* facts from elsewhere (tests, a changed image) */
                if (r < 0)
                        return r;
                unsigned lineno = 0;
                for (char *l = text, *nl; l; l = nl) {
                        nl = strchr(l, '\n');
                        if (nl)
                                *nl++ = '\0';
                        lineno++;
                        l += strspn(l, " \t");
                        if (!startswith(l, "ExecStart="))
                                continue;
                        vt_strip(l);
                        if (l[strlen(l) - 1] == '\\') {
                                if (asprintf(where, "%s:%u", path, lineno) < 0)
                                        return -ENOMEM;
                                return -EBADMSG;
                        }
                        free(*ret);
                        *ret = NULL;
                        if (l[10] && !(*ret = strdup(l + 10)))
                                return -ENOMEM;
                }
        }
        return 0;
}

/* A systemd drop-in whose ExecStart= is the unit's own plus the block option. */
static int plan_dropin(struct vt_ctx *ctx, struct vt_plan *plan, json_object *qga, const char *key,
                       const char *list)
{
        _cleanup_free_ char *cmd = NULL, *where = NULL, *text = NULL;
        json_object *files = NULL;
        json_object_object_get_ex(qga, "unit_files", &files);
        int r = unit_command(ctx, files, &cmd, &where);
        if (r == -EBADMSG)
                return vt_plan_fail(plan, where,
                                    "a continued ExecStart= line: set %s=%s for qemu-ga yourself",
                                    key, list);
        if (r < 0)
                return r;
        if (!cmd) {
                vt_plan_warn(plan, M,
                             "qemu-guest-agent.service has no ExecStart=: set %s=%s "
                             "for qemu-ga yourself",
                             key, list);
                return 0;
        }
        if (asprintf(&text, VT_OWNED_HEADER "[Service]\nExecStart=\nExecStart=%s --%s=%s\n", cmd,
                     key, list) < 0)
                return -ENOMEM;
        return vt_plan_add(plan, M, VT_TARGET_FILE, QGA_DROPIN, NULL, text, VT_WHEN_BOOT,
                           why_block);
}

static int plan_sysconfig(struct vt_ctx *ctx, struct vt_plan *plan, json_object *qga,
                          const char *key, const char *list)
{
        _cleanup_free_ char *old = NULL, *cmd = NULL, *where = NULL, *text = NULL, *value = NULL;
        _cleanup_strv_ char **env = NULL;
        json_object *files = NULL;
        int r = vt_read_file_max(ctx, QGA_SYSCONFIG, VT_CONFIG_FILE_MAX, &old, NULL);
        if (r < 0)
                return r;
        json_object_object_get_ex(qga, "unit_files", &files);
        if ((r = unit_command(ctx, files, &cmd, &where)) < 0 && r != -EBADMSG)
                return r;
        /* The variable the unit passes; without a unit to read, the one the file names. */
        size_t i = ARRAY_SIZE(sysconfig_vars);
        for (size_t k = 0; k < ARRAY_SIZE(sysconfig_vars) && i == ARRAY_SIZE(sysconfig_vars); k++) {
                _cleanup_free_ char *assign = NULL;
                if (asprintf(&assign, "%s=", sysconfig_vars[k].var) < 0)
                        return -ENOMEM;
                if (cmd ? references(cmd, sysconfig_vars[k].var) : !!strstr(old, assign))
                        i = k;
        }
        if (i == ARRAY_SIZE(sysconfig_vars) && cmd)
                return plan_dropin(ctx, plan, qga, key, list); /* the unit reads none of them */
        if (i == ARRAY_SIZE(sysconfig_vars))
                i = 1;
        const char *var = sysconfig_vars[i].var, *option = sysconfig_vars[i].option;
        if (option && streq(option, "blacklist") &&
            version_code(vt_json_str(qga, "version")) >= 901) {
                vt_plan_warn(plan, M,
                             "%s passes %s to --blacklist, which qemu-ga %s removed: "
                             "use --block-rpcs=%s",
                             QGA_SYSCONFIG, var, vt_json_str(qga, "version"), list);
                return 0;
        }
        if ((r = vt_env_parse(old, &env)) < 0)
                return r;
        if (!option && vt_env_get(env, var) && strstr(vt_env_get(env, var), "allow-rpcs")) {
                vt_plan_warn(plan, M,
                             "%s: %s holds an allow list; leave the blocked commands "
                             "out of it yourself",
                             QGA_SYSCONFIG, var);
                return 0;
        }
        if (option ? !(value = strdup(list)) : asprintf(&value, "--%s=%s", key, list) < 0)
                return -ENOMEM;
        if (!(text = vt_text_set_var(old, var, value, option ? 0 : '"')))
                return -ENOMEM;
        r = vt_plan_add(plan, M, VT_TARGET_FILE, QGA_SYSCONFIG, NULL, text, VT_WHEN_BOOT,
                        why_block);
        if (r >= 0)
                plan->changes[plan->n - 1].owned = false; /* the package's file: edited, kept */
        return r;
}

/* qemu-ga.conf as the package left it: its list set in place, every other byte kept. */
static int plan_conf_edit(struct vt_plan *plan, json_object *qga, const char *old, const char *key,
                          const char *list)
{
        _cleanup_(vt_qga_lists_free) struct vt_qga_lists conf = {};
        _cleanup_free_ char *text = NULL, *where = NULL;
        int r = vt_qga_parse_config(old, &conf);
        if (r < 0)
                return r;
        if (conf.allow) {
                /* qemu-ga 8.0 refuses block-rpcs and allow-rpcs in one file. */
                vt_plan_warn(plan, M,
                             "%s has an allow-rpcs list; leave the blocked commands out "
                             "of it yourself",
                             QGA_CONF);
                return 0;
        }
        unsigned line = 0;
        r = vt_qga_config_set(old, config_keys(vt_json_str(qga, "version")), key, list, &text,
                              &line);
        if (r == -EBADMSG) {
                if (asprintf(&where, "%s:%u", QGA_CONF, line) < 0)
                        return -ENOMEM;
                return vt_plan_fail(plan, where,
                                    "not a qemu-ga.conf line (comment, [group] or key=value); "
                                    "its block list is left alone");
        }
        if (r < 0)
                return r;
        r = vt_plan_add(plan, M, VT_TARGET_FILE, QGA_CONF, NULL, text, VT_WHEN_BOOT, why_block);
        if (r >= 0)
                plan->changes[plan->n - 1].owned = false;
        return r;
}

/* Debian builds qemu-ga to read /etc/qemu/qemu-ga.conf and ships /etc/qemu/fsfreeze-hook. */
static bool debian_layout(struct vt_ctx *ctx, json_object *qga)
{
        json_object *files = NULL;
        json_object_object_get_ex(qga, "unit_files", &files);
        const char *unit =
                files ? json_object_get_string(json_object_array_get_idx(files, 0)) : NULL;
        return vt_exists(ctx, QGA_CONFDIR) || vt_exists(ctx, "/var/lib/dpkg/status") ||
               (unit && startswith(unit, "/lib/systemd/system/"));
}

/*
 * Where the block list takes effect: RHEL's sysconfig the unit passes on; qemu-ga.conf where it
 * exists (edited) or on Debian (written); elsewhere a drop-in on the unit's ExecStart=.
 */
static int plan_file(struct vt_ctx *ctx, struct vt_plan *plan, json_object *qga, const char *key,
                     const char *list)
{
        if (vt_exists(ctx, QGA_SYSCONFIG))
                return plan_sysconfig(ctx, plan, qga, key, list);
        _cleanup_free_ char *old = NULL, *text = NULL;
        int r = vt_read_file_max(ctx, QGA_CONF, VT_CONFIG_FILE_MAX, &old, NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        if (old && !startswith(old, VT_OWNED_HEADER))
                return plan_conf_edit(plan, qga, old, key, list);
        if (!old && !debian_layout(ctx, qga) && vt_json_str(qga, "unit"))
                return plan_dropin(ctx, plan, qga, key, list);
        if (asprintf(&text, VT_OWNED_HEADER "[general]\n%s=%s\n", key, list) < 0)
                return -ENOMEM;
        return vt_plan_add(plan, M, VT_TARGET_FILE, QGA_CONF, NULL, text, VT_WHEN_BOOT, why_block);
}

/* Running with an older list: the process's argv/config does not block every wanted name. */
static bool running_stale(json_object *qga, const char *list)
{
        json_object *have = NULL;
        if (!vt_json_bool(qga, "running") || !json_object_object_get_ex(qga, "block_rpcs", &have))
                return false;
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;
        for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; w;
             w = strtok_r(NULL, ",", &save)) {
                bool found = false;
                for (size_t i = 0; have && i < json_object_array_length(have); i++)
                        if (streq_ptr(json_object_get_string(json_object_array_get_idx(have, i)),
                                      w))
                                found = true;
                if (!found)
                        return true;
        }
        return false;
}

int vt_qga_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        json_object *qga = vt_json_get(facts, M);
        int en = vt_policy_get_tristate(ctx->policy, M, "enable");
        _cleanup_free_ char *list = NULL;
        if (en == 0)
                return 0;
        /* Checked even without qemu-ga: a bad policy is an error wherever it is read. */
        int r = block_list(ctx, qga, plan, &list);
        if (r < 0)
                return r;
        if (!vt_json_bool(qga, "installed")) {
                if (en > 0)
                        vt_plan_warn(plan, M, "enable = yes, but qemu-ga is not installed");
                return 0;
        }
        if (!*list)
                return 0;
        const char *key = spelling(vt_json_str(qga, "version"));
        r = plan_file(ctx, plan, qga, key, list);
        if (r < 0)
                return r;
        const char *unit = vt_json_str(qga, "unit");
        if (!unit || !vt_json_bool(qga, "running"))
                return 0;
        if (strrchr(unit, '/'))
                unit = strrchr(unit, '/') + 1; /* detect may give the unit file's path */
        /* from says why a restart is due even when the files already match. */
        return vt_plan_add(plan, M, VT_TARGET_UNIT, unit,
                           running_stale(qga, list) ? "running with an older block list" : NULL,
                           "restarted", VT_WHEN_NOW, why_block);
}
