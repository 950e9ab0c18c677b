/* Plans qemu-ga's block list: names checked, spelled for the version, written where it counts. */
#include <ctype.h>
#include "envfile.h"
#include "module.h"
#include "policy.h"
#include "qga.h"
#include "strv.h"

#define M "qga"

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

/* The qemu-ga.conf keys this version reads its block list from, the one it prefers first. */
static const char *const *config_keys(const char *version)
{
        static const char *const old[] = {"blacklist", NULL};
        static const char *const both[] = {"blacklist", "block-rpcs", NULL};
        static const char *const current[] = {"block-rpcs", NULL};
        int v = vt_qga_version_code(version);
        return v >= 0 && v < 702 ? old : v >= 901 ? current : both;
}

/* In the installed qemu-ga's own list when detect could ask it, else in the 7.2/8.x list. */
static bool known_command(json_object *commands, const char *name)
{
        if (commands) {
                for (size_t i = 0; i < json_object_array_length(commands); i++)
                        if (streq_ptr(
                                    json_object_get_string(json_object_array_get_idx(commands, i)),
                                    name))
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
        json_object *commands = vt_json_get(qga, "commands");
        if (commands && !json_object_is_type(commands, json_type_array))
                commands = NULL;
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
                if (!known_command(commands, w)) {
                        r = vt_plan_fail(plan, origin,
                                         "qga.block-rpcs: unknown qemu-ga command '%s' (%s)", w,
                                         commands ? "not in this qemu-ga's list"
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

/* A systemd drop-in whose ExecStart= is the unit's own plus the block option. */
static int plan_dropin(struct vt_plan *plan, json_object *qga, const char *key, const char *list)
{
        _cleanup_free_ char *text = NULL;
        const char *cmd = vt_json_str(qga, "exec_start");
        const char *where = vt_json_str(qga, "exec_start_continued");
        if (where)
                return vt_plan_fail(plan, where,
                                    "a continued ExecStart= line: set %s=%s for qemu-ga yourself",
                                    key, list);
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

static int plan_sysconfig(struct vt_plan *plan, json_object *qga, const char *key, const char *list)
{
        _cleanup_free_ char *text = NULL, *value = NULL;
        _cleanup_strv_ char **env = NULL;
        const char *old = vt_json_str(qga, "sysconfig_text");
        const char *cmd = vt_json_str(qga, "exec_start");
        int r;
        assert(old);
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
                return plan_dropin(plan, qga, key, list); /* the unit reads none of them */
        if (i == ARRAY_SIZE(sysconfig_vars))
                i = 1;
        const char *var = sysconfig_vars[i].var, *option = sysconfig_vars[i].option;
        if (option && streq(option, "blacklist") &&
            vt_qga_version_code(vt_json_str(qga, "version")) >= 901) {
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

/*
 * Where the block list takes effect: RHEL's sysconfig the unit passes on; qemu-ga.conf where it
 * exists (edited) or on Debian (written); elsewhere a drop-in on the unit's ExecStart=.
 */
static int plan_file(struct vt_plan *plan, json_object *qga, const char *key, const char *list)
{
        _cleanup_free_ char *text = NULL;
        if (vt_json_str(qga, "sysconfig_text"))
                return plan_sysconfig(plan, qga, key, list);
        const char *old = vt_json_str(qga, "conf_text");
        if (old && !startswith(old, VT_OWNED_HEADER))
                return plan_conf_edit(plan, qga, old, key, list);
        if (!old && !vt_json_bool(qga, "debian_layout") && vt_json_str(qga, "unit"))
                return plan_dropin(plan, qga, key, list);
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

static int qga_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
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
        const char *key = vt_qga_spelling(vt_json_str(qga, "version"));
        r = plan_file(plan, qga, key, list);
        if (r < 0)
                return r;
        /*
         * On a live system the restart is planned whether or not qemu-ga runs now: it is a
         * try-restart (nothing when stopped), and its journal entry is what makes revert restart
         * the qemu-ga that started since (the first boot applies before qemu-ga starts). An
         * offline root has no running state to restart.
         */
        const char *unit = vt_json_str(qga, "unit");
        if (!unit || !json_object_is_type(vt_json_get(qga, "running"), json_type_boolean))
                return 0;
        if (strrchr(unit, '/'))
                unit = strrchr(unit, '/') + 1; /* detect may give the unit file's path */
        /* Stale: what runs blocks less than wanted, even when the files already match. */
        bool stale = running_stale(qga, list);
        if (stale)
                vt_plan_note(plan, M, "qemu-ga runs with an older block list: restart it");
        return vt_plan_restart(plan, M, unit, stale, why_block);
}

#define QGA_DEFAULT_BLOCK                                                                          \
        "guest-exec,guest-exec-status,guest-file-open,guest-file-close,guest-file-read,"           \
        "guest-file-write,guest-file-seek,guest-file-flush,guest-set-user-password,"               \
        "guest-ssh-add-authorized-keys,guest-ssh-remove-authorized-keys"

static const struct vt_policy_key policy[] = {
        VT_POLICY_KEY(M, "block-rpcs", VT_POL_LIST, QGA_DEFAULT_BLOCK, NULL,
                      "qemu-ga commands to block, checked against qemu-ga's own list"),
        VT_POLICY_KEY(M, "enable", VT_POL_TRISTATE, "auto", NULL, "manage qemu-ga's block list"),
        {},
};

const struct vt_module vt_module_qga = {.name = M,
                                        .detect = vt_qga_detect,
                                        .plan = qga_plan,
                                        .policy = policy,
                                        .probe = vt_qga_probe};
