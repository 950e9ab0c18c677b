/* Plans qemu-ga's block list: names checked, spelled for the version, written where it counts. */
#include "exec.h"
#include "module.h"
#include "run.h"
#include "policy.h"

#define M             "qga"
#define QGA_CONF      "/etc/qemu/qemu-ga.conf"
#define QGA_SYSCONFIG "/etc/sysconfig/qemu-ga"

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

/* 7.2 renamed --blacklist to --block-rpcs; 9.1 dropped the old name. */
static const char *spelling(const char *version)
{
        unsigned major = 0, minor = 0;
        /* Package versions carry an epoch: "1:7.2+dfsg-7". */
        const char *colon = version ? strchr(version, ':') : NULL;
        const char *dot = version ? strchr(version, '.') : NULL;
        if (colon && (!dot || colon < dot))
                version = colon + 1;
        if (!version || sscanf(version, "%u.%u", &major, &minor) < 1)
                return "block-rpcs";
        return major < 7 || (major == 7 && minor < 2) ? "blacklist" : "block-rpcs";
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

static int plan_file(struct vt_ctx *ctx, struct vt_plan *plan, const char *key, const char *list)
{
        _cleanup_free_ char *old = NULL, *text = NULL, *value = NULL;
        if (vt_exists(ctx, QGA_SYSCONFIG)) {
                /* RHEL/openEuler: the unit passes $BLOCK_RPCS (or FILTER_RPC_ARGS) to qemu-ga. */
                int r = vt_read_file_max(ctx, QGA_SYSCONFIG, 1u << 20, &old, NULL);
                if (r < 0)
                        return r;
                if (strstr(old, "FILTER_RPC_ARGS=")) {
                        if (asprintf(&value, "\"--%s=%s\"", key, list) < 0)
                                return -ENOMEM;
                        text = vt_text_set_var(old, "FILTER_RPC_ARGS", value);
                } else
                        text = vt_text_set_var(old, "BLOCK_RPCS", list);
                if (!text)
                        return -ENOMEM;
                r = vt_plan_add(plan, M, VT_TARGET_FILE, QGA_SYSCONFIG, NULL, text, VT_WHEN_BOOT,
                                why_block);
                if (r >= 0)
                        plan->changes[plan->n - 1].owned = false;
                return r;
        }
        /* Elsewhere qemu-ga reads /etc/qemu/qemu-ga.conf itself; virtune owns that file. */
        int r = vt_read_file_max(ctx, QGA_CONF, 1u << 20, &old, NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        if (old && !startswith(old, VT_OWNED_HEADER)) {
                vt_plan_warn(plan, M,
                             "%s exists and is not virtune's: set %s=%s in its "
                             "[general] section yourself",
                             QGA_CONF, key, list);
                return 0;
        }
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
        r = plan_file(ctx, plan, key, list);
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
