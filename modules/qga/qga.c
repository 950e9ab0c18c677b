/* Detects the QEMU guest agent: installed, its unit, config and the RPCs it blocks or allows. */
#include <sys/stat.h>
#include "dpkg.h"
#include "envfile.h"
#include "fsutil.h"
#include "inifile.h"
#include "log.h"
#include "module.h"
#include "run.h"
#include "qga.h"
#include "strv.h"
#include "unitfile.h"

#include "exec.h"

static const char *const qga_binaries[] = {"/usr/bin/qemu-ga", "/usr/sbin/qemu-ga"};

/* The options that carry RPC lists, as qemu-ga's getopt knows them. */
static const struct {
        const char *long_name;
        char short_name; /* 0: long only */
        bool allow;
} qga_list_opts[] = {
        {"block-rpcs", 'b', false},
        {"blacklist", 0, false},
        {"allow-rpcs", 'a', true},
};

void vt_qga_lists_free(struct vt_qga_lists *l)
{
        vt_strv_free(l->block);
        vt_strv_free(l->allow);
        free(l->config);
        *l = (struct vt_qga_lists){};
}

static int add_list(char ***l, const char *value, const char *seps)
{
        _cleanup_strv_ char **words = NULL;
        int r = vt_strv_split(value, seps, &words);
        for (size_t i = 0; r >= 0 && words && words[i]; i++)
                r = vt_strv_add_unique(l, words[i]);
        return r;
}

int vt_qga_parse_argv(char *const *argv, struct vt_qga_lists *out)
{
        int r;
        for (size_t i = 1; argv && argv[i]; i++) {
                const char *a = argv[i], *val = NULL;
                bool allow = false, matched = false;
                if (streq(a, "--"))
                        break;
                for (size_t k = 0; k < ARRAY_SIZE(qga_list_opts) && !matched; k++) {
                        size_t n = strlen(qga_list_opts[k].long_name);
                        char sh = qga_list_opts[k].short_name;
                        if (startswith(a, "--") &&
                            strncmp(a + 2, qga_list_opts[k].long_name, n) == 0 &&
                            (a[2 + n] == '=' || a[2 + n] == '\0')) {
                                val = a[2 + n] == '=' ? a + 3 + n : argv[i + 1];
                                if (a[2 + n] == '\0' && val)
                                        i++;
                                matched = true;
                        } else if (sh && a[0] == '-' && a[1] == sh) {
                                val = a[2] ? a + 2 : argv[i + 1];
                                if (!a[2] && val)
                                        i++;
                                matched = true;
                        }
                        allow = qga_list_opts[k].allow;
                }
                if (matched && val) {
                        if ((r = add_list(allow ? &out->allow : &out->block, val, ",")) < 0)
                                return r;
                        out->from_argv = true;
                        continue;
                }
                /* -c FILE / --config=FILE points qemu-ga at another config file. */
                const char *cfg = NULL;
                if (startswith(a, "--config="))
                        cfg = a + 9;
                else if ((streq(a, "--config") || streq(a, "-c")) && argv[i + 1])
                        cfg = argv[++i];
                else if (startswith(a, "-c") && a[2])
                        cfg = a + 2;
                if (cfg) {
                        free(out->config);
                        if (!(out->config = strdup(cfg)))
                                return -ENOMEM;
                }
        }
        return 0;
}

int vt_qga_parse_config(const char *text, struct vt_qga_lists *out)
{
        /* A GLib key file: lists are ';'-separated; commas are accepted too. */
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        struct vt_ini it = vt_ini_start(copy);
        char *key, *value;
        while (vt_ini_next(&it, "[general]", &key, &value)) {
                for (size_t k = 0; k < ARRAY_SIZE(qga_list_opts); k++) {
                        if (!streq(key, qga_list_opts[k].long_name))
                                continue;
                        int r = add_list(qga_list_opts[k].allow ? &out->allow : &out->block, value,
                                         ";,");
                        if (r < 0)
                                return r;
                        out->from_config = true;
                }
        }
        return 0;
}

static bool is_qga(struct vt_ctx *ctx, long pid)
{
        char path[64];
        _cleanup_free_ char *comm = NULL;
        snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
        return vt_read_attr(ctx, path, &comm) == 0 && streq(comm, "qemu-ga");
}

/* Where systemd keeps a system unit's processes: cgroup v2, then the v1 hybrid's own tree. */
static const char *const unit_cgroups[] = {"/sys/fs/cgroup/system.slice",
                                           "/sys/fs/cgroup/systemd/system.slice"};

/*
 * For a plan (ctx->for_plan): the qemu-ga of its unit, from the unit's cgroup.procs (one file
 * instead of every process's comm; the plan restarts that unit, so an agent run by hand is none
 * of its business). 1 when systemd's tree answered (*pid 0: the unit runs none), 0 when there is
 * no such tree: the caller scans /proc.
 */
static int find_in_unit(struct vt_ctx *ctx, int *pid)
{
        for (size_t i = 0; i < ARRAY_SIZE(unit_cgroups); i++) {
                if (!vt_exists(ctx, unit_cgroups[i]))
                        continue;
                char path[PATH_MAX];
                _cleanup_free_ char *procs = NULL;
                snprintf(path, sizeof(path), "%s/" QGA_UNIT "/cgroup.procs", unit_cgroups[i]);
                int r = vt_read_file_max(ctx, path, VT_KERNEL_FILE_MAX, &procs, NULL);
                if (r == -ENOENT)
                        return 1; /* the unit is not running */
                if (r < 0)
                        return r;
                for (char *p = procs, *end; *p; p = end) {
                        long n = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        if (n > 0 && is_qga(ctx, n)) {
                                *pid = (int)n;
                                return 1;
                        }
                }
                return 1;
        }
        return 0;
}

/* The pid of a running qemu-ga (comm "qemu-ga"), 0 when none. */
static int find_running(struct vt_ctx *ctx, int *pid)
{
        *pid = 0;
        int r = ctx->for_plan ? find_in_unit(ctx, pid) : 0;
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_closedir_ DIR *d = NULL;
        r = vt_opendir(ctx, "/proc", &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                char *end;
                long p = strtol(de->d_name, &end, 10);
                if (*end || p <= 0)
                        continue;
                if (is_qga(ctx, p)) {
                        *pid = (int)p;
                        return 0;
                }
        }
        return 0;
}

static int read_cmdline(struct vt_ctx *ctx, int pid, char ***argv)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = vt_read_file_max(ctx, path, 64u << 10, &buf, &len);
        if (r < 0)
                return r;
        for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
                if ((r = vt_strv_add(argv, buf + i)) < 0)
                        return r;
        return 0;
}

int vt_qga_version_code(const char *version)
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
const char *vt_qga_spelling(const char *version)
{
        int v = vt_qga_version_code(version);
        return v >= 0 && v < 702 ? "blacklist" : "block-rpcs";
}

/* Which build of qemu-ga this is: a binary replaced, rebuilt or touched changes one of these. */
static int binary_key(struct vt_ctx *ctx, const char *binary, char *key, size_t keylen)
{
        _cleanup_close_ int fd = vt_open_regular(ctx, binary);
        struct stat st;
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        snprintf(key, keylen, "%ju:%ju:%jd:%jd.%09ld:%jd.%09ld", (uintmax_t)st.st_dev,
                 (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
                 st.st_mtim.tv_nsec, (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        return 0;
}

/* The cached list when the cache names this binary, key and option; else NULL. */
static json_object *cache_read(struct vt_ctx *ctx, const char *binary, const char *key,
                               const char *opt)
{
        _cleanup_free_ char *text = NULL;
        if (vt_read_file_max(ctx, QGA_COMMANDS_CACHE, 1u << 20, &text, NULL) < 0)
                return NULL;
        _cleanup_json_ json_object *doc = json_tokener_parse(text);
        json_object *list;
        if (!doc || !streq_ptr(vt_json_str(doc, "binary"), binary) ||
            !streq_ptr(vt_json_str(doc, "key"), key) ||
            !streq_ptr(vt_json_str(doc, "option"), opt) ||
            !json_object_object_get_ex(doc, "commands", &list) ||
            !json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0)
                return NULL;
        for (size_t i = 0; i < json_object_array_length(list); i++)
                if (!json_object_is_type(json_object_array_get_idx(list, i), json_type_string))
                        return NULL;
        return json_object_get(list);
}

/* Best effort: where the state directory is missing or read-only, the next run asks again. */
static void cache_write(struct vt_ctx *ctx, const char *binary, const char *key, const char *opt,
                        json_object *list)
{
        if (!vt_exists(ctx, VT_STATE_DIR))
                return;
        _cleanup_json_ json_object *doc = json_object_new_object();
        vt_json_add_str(doc, "binary", binary);
        vt_json_add_str(doc, "key", key);
        vt_json_add_str(doc, "option", opt);
        json_object_object_add(doc, "commands", json_object_get(list));
        size_t len;
        const char *text = json_object_to_json_string_length(
                doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        int r = vt_fs_write_atomic(ctx, QGA_COMMANDS_CACHE, text, len, 0644);
        if (r < 0)
                log_debug_errno(r, "Cannot write %s (qemu-ga is asked again next time)",
                                QGA_COMMANDS_CACHE);
}

int vt_qga_commands(struct vt_ctx *ctx, const char *binary, const char *version, json_object **ret)
{
        _cleanup_free_ char *help = NULL, *host = NULL;
        _cleanup_strv_ char **words = NULL;
        char key[160];
        *ret = NULL;
        const char *opt = streq(vt_qga_spelling(version), "blacklist") ? "--blacklist=?"
                                                                       : "--block-rpcs=help";
        int r = binary_key(ctx, binary, key, sizeof(key));
        if (r < 0)
                return r;
        if ((*ret = cache_read(ctx, binary, key, opt)))
                return 0;
        if (!(host = vt_host_path(ctx, binary)))
                return -ENOMEM;
        if ((r = vt_run_output(host, opt, 256u << 10, &help)) < 0)
                return r;
        if (!strstr(help, "guest-ping"))
                return -EBADMSG;
        if ((r = vt_strv_split(help, " ,\t\n", &words)) < 0)
                return r;
        json_object *list = json_object_new_array();
        for (size_t i = 0; words && words[i]; i++)
                if (startswith(words[i], "guest-"))
                        json_object_array_add(list, json_object_new_string(words[i]));
        cache_write(ctx, binary, key, opt, list);
        *ret = list;
        return 0;
}

/*
 * The commands the installed qemu-ga knows ("-b ?" before 7.2), asked only on the running
 * system's own root; NULL (JSON null) when it cannot be asked.
 */
static json_object *ask_commands(struct vt_ctx *ctx, const char *binary, const char *version)
{
        json_object *list = NULL;
        if (!binary || !vt_exec_is_real_root(ctx) ||
            vt_qga_commands(ctx, binary, version, &list) < 0)
                return NULL;
        return list;
}

/*
 * The unit's own ExecStart= value, as written (after resets by drop-ins; ours left out): a
 * drop-in must keep the unit's arguments. NULL when there is none; -EBADMSG with *where set
 * for a continued line, which this reader does not join.
 */
static int unit_command(struct vt_ctx *ctx, char *const *files, char **ret, char **where)
{
        *ret = NULL;
        for (size_t i = 0; files && files[i]; i++) {
                _cleanup_free_ char *text = NULL;
                if (streq(files[i], QGA_DROPIN))
                        continue;
                int r = vt_read_file_max(ctx, files[i], VT_CONFIG_FILE_MAX, &text, NULL);
                if (r == -ENOENT)
                        continue;
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
                                if (asprintf(where, "%s:%u", files[i], lineno) < 0)
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

/* A file plan edits in place, whole (JSON null when absent), so plan needs no reads. */
static json_object *file_text(struct vt_ctx *ctx, json_object *o, const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = vt_read_file_max(ctx, path, VT_CONFIG_FILE_MAX, &text, &len);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR)
                vt_json_add_error(o, path, r);
        return r < 0 ? NULL : json_object_new_string_len(text, (int)len);
}

/* Debian builds qemu-ga to read /etc/qemu/qemu-ga.conf and ships /etc/qemu/fsfreeze-hook. */
static bool debian_layout(struct vt_ctx *ctx, const char *unit)
{
        return vt_exists(ctx, QGA_CONFDIR) || vt_exists(ctx, "/var/lib/dpkg/status") ||
               (unit && startswith(unit, "/lib/systemd/system/"));
}

/* What the plan half needs besides the lists: the files it edits, the unit's own command. */
static void add_plan_inputs(struct vt_ctx *ctx, json_object *o, char *const *files,
                            const char *unit)
{
        _cleanup_free_ char *cmd = NULL, *where = NULL;
        int r = unit_command(ctx, files, &cmd, &where);
        if (r < 0 && r != -EBADMSG)
                vt_json_add_error(o, unit, r);
        vt_json_add_str(o, "exec_start", cmd);
        vt_json_add_str(o, "exec_start_continued", r == -EBADMSG ? where : NULL);
        json_object_object_add(o, "conf_text", file_text(ctx, o, QGA_CONF));
        json_object_object_add(o, "sysconfig_text", file_text(ctx, o, QGA_SYSCONFIG));
        json_object_object_add(o, "debian_layout",
                               json_object_new_boolean(debian_layout(ctx, unit)));
        json_object_object_add(o, "commands", NULL); /* vt_qga_probe() asks qemu-ga */
}

int vt_qga_probe(struct vt_ctx *ctx, json_object *facts)
{
        json_object *o = vt_json_get(facts, "qga");
        if (o)
                json_object_object_add(
                        o, "commands",
                        ask_commands(ctx, vt_json_str(o, "binary"), vt_json_str(o, "version")));
        return 0;
}

/* "QEMU Guest Agent 7.2.22" from `qemu-ga --version`. */
static int run_version(const char *binary, char **ret)
{
        _cleanup_free_ char *out = NULL;
        int r = vt_run_output(binary, "--version", 511, &out);
        if (r < 0)
                return r;
        const char *v = strstr(out, "Agent ");
        if (!v)
                return -EBADMSG;
        v += 6;
        *ret = strndup(v, strcspn(v, " \n"));
        return *ret ? 0 : -ENOMEM;
}

int vt_qga_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *o = json_object_new_object();
        json_object_object_add(facts, "qga", o);
        json_object_object_add(o, "errors", json_object_new_array());

        const char *binary = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(qga_binaries) && !binary; i++)
                if (vt_exists(ctx, qga_binaries[i]))
                        binary = qga_binaries[i];
        _cleanup_free_ char *version = NULL;
        int r = vt_dpkg_installed(ctx, "qemu-guest-agent", &version);
        if (r < 0)
                vt_json_add_error(o, "/var/lib/dpkg/status", r);
        bool installed = binary || r > 0;
        if (!version && binary && ctx->live && run_version(binary, &version) < 0)
                version = NULL;
        json_object_object_add(o, "installed", json_object_new_boolean(installed));
        vt_json_add_str(o, "binary", binary);
        vt_json_add_str(o, "version", version);

        _cleanup_free_ char *unit = NULL;
        _cleanup_strv_ char **files = NULL, **dropins = NULL;
        if ((r = vt_unit_find(ctx, QGA_UNIT, &unit)) < 0)
                vt_json_add_error(o, "/etc/systemd/system/" QGA_UNIT, r);
        if (unit && (r = vt_strv_add(&files, unit)) < 0)
                return r;
        if ((r = vt_unit_dropins(ctx, QGA_UNIT, &dropins)) < 0)
                return r;
        for (size_t i = 0; dropins && dropins[i]; i++)
                if ((r = vt_strv_add(&files, dropins[i])) < 0)
                        return r;
        vt_json_add_str(o, "unit", unit);
        json_object_object_add(o, "unit_files", vt_strv_to_json(files));
        add_plan_inputs(ctx, o, files, unit);

        /* The command qemu-ga runs with: the live process's, else what the unit would start. */
        int pid = 0;
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *argv_source = NULL;
        /* Scanning /proc costs ~10 us a process: only when there is an agent to find. */
        if (ctx->live && installed && (r = find_running(ctx, &pid)) < 0)
                vt_json_add_error(o, "/proc", r);
        if (pid > 0) {
                if (asprintf(&argv_source, "/proc/%d/cmdline", pid) < 0)
                        return -ENOMEM;
                if ((r = read_cmdline(ctx, pid, &argv)) < 0)
                        vt_json_add_error(o, argv_source, r);
        } else if (files) {
                const char *src = NULL;
                if ((r = vt_unit_exec_start(ctx, files, &argv, &src)) < 0)
                        vt_json_add_error(o, unit, r);
                if (src && !(argv_source = strdup(src)))
                        return -ENOMEM;
        }

        _cleanup_(vt_qga_lists_free) struct vt_qga_lists args = {}, conf = {};
        if ((r = vt_qga_parse_argv(argv, &args)) < 0)
                return r;
        const char *conf_path = args.config ? args.config : QGA_CONF;
        _cleanup_free_ char *conf_text = NULL;
        _cleanup_strv_ char **config_files = NULL;
        r = vt_read_file_max(ctx, conf_path, VT_CONFIG_FILE_MAX, &conf_text, NULL);
        if (r == 0) {
                if ((r = vt_qga_parse_config(conf_text, &conf)) < 0 ||
                    (r = vt_strv_add(&config_files, conf_path)) < 0)
                        return r;
        } else if (r != -ENOENT && r != -ENOTDIR) {
                vt_json_add_error(o, conf_path, r);
        }
        if (vt_exists(ctx, QGA_SYSCONFIG) && (r = vt_strv_add(&config_files, QGA_SYSCONFIG)) < 0)
                return r;
        json_object_object_add(o, "config_files", vt_strv_to_json(config_files));

        /* The lists accumulate: the config file's first, then the command line's. */
        _cleanup_strv_ char **block = NULL, **allow = NULL;
        for (size_t i = 0; conf.block && conf.block[i]; i++)
                vt_strv_add_unique(&block, conf.block[i]);
        for (size_t i = 0; args.block && args.block[i]; i++)
                vt_strv_add_unique(&block, args.block[i]);
        for (size_t i = 0; conf.allow && conf.allow[i]; i++)
                vt_strv_add_unique(&allow, conf.allow[i]);
        for (size_t i = 0; args.allow && args.allow[i]; i++)
                vt_strv_add_unique(&allow, args.allow[i]);
        json_object_object_add(o, "block_rpcs", vt_strv_to_json(block));
        json_object_object_add(o, "allow_rpcs", vt_strv_to_json(allow));
        const char *block_source = args.from_argv     ? argv_source
                                   : conf.from_config ? conf_path
                                                      : NULL;
        vt_json_add_str(o, "block_source", block_source);

        if (ctx->live) {
                json_object_object_add(o, "running", json_object_new_boolean(pid > 0));
                json_object_object_add(o, "pid", pid > 0 ? json_object_new_int(pid) : NULL);
                json_object_object_add(o, "argv", pid > 0 ? vt_strv_to_json(argv) : NULL);
        } else {
                json_object_object_add(o, "running", NULL);
                json_object_object_add(o, "pid", NULL);
                json_object_object_add(o, "argv", NULL);
        }
        return 0;
}
