/* The executor: read, apply and undo each kind of target (attr, cmdline, file, kmod, unit). */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include "cmdline.h"
#include "grubcfg.h"
#include "dl_kmod.h"
#include "exec.h"
#include "fsutil.h"
#include "owned.h"
#include "run.h"
#include "sdbus.h"
#include "strv.h"
#include "unitfile.h"

bool vt_exec_is_real_root(const struct vt_ctx *ctx)
{
        return ctx->live && streq(ctx->root, "/");
}

static int before(const struct vt_exec_hook *h)
{
        return h && h->before ? h->before(h->userdata) : 0;
}

static void note(json_object *rec, const char *text)
{
        json_object_object_add(rec, "note", json_object_new_string(text));
}

/* ---- attr: "[mq-deadline] none" style lists read as the selected word ---- */

static int attr_current(struct vt_ctx *ctx, const struct vt_change *c, char **ret)
{
        char *v;
        int r = vt_read_attr(ctx, c->target, &v);
        if (r < 0)
                return r;
        char *open = strchr(v, '['), *close = open ? strchr(open, ']') : NULL;
        if (open && close) {
                *close = '\0';
                memmove(v, open + 1, strlen(open + 1) + 1);
        }
        *ret = v;
        return 0;
}

static int attr_apply(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec,
                      const struct vt_exec_hook *h)
{
        _cleanup_free_ char *raw = NULL;
        size_t len;
        int r = vt_read_file_max(ctx, c->target, 64 * 1024, &raw, &len);
        if (r < 0)
                return r;
        json_object_object_add(rec, "raw", json_object_new_string_len(raw, (int)len));
        r = before(h);
        if (r < 0)
                return r;
        return vt_write_attr(ctx, c->target, c->to ? c->to : "");
}

static int attr_undo(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec)
{
        json_object *raw;
        /* The kernel takes values; a plain file (an image, a fixture) gets its bytes back. */
        if (!vt_fs_is_kernel(ctx, c->target) && json_object_object_get_ex(rec, "raw", &raw) &&
            raw) {
                _cleanup_close_ int fd = vt_open(ctx, c->target, O_WRONLY | O_TRUNC, 0);
                if (fd < 0)
                        return fd;
                size_t n = (size_t)json_object_get_string_len(raw);
                return write(fd, json_object_get_string(raw), n) == (ssize_t)n ? 0 : -EIO;
        }
        return c->from ? vt_write_attr(ctx, c->target, c->from) : 0;
}

/* ---- cmdline: through grubcfg only ---- */

/* The last token of line for key ("key" or "key=..."), malloc'd in *ret, NULL when absent. */
/* The key's token of line as the kernel reads it (quotes, the last one wins, '-' and '_' alike
 * in keys), as "key" or "key=value"; NULL when absent. */
static int kernel_token(const char *line, const char *key, char **ret)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = NULL;
        int r = vt_cmdline_parse_kernel(line, &cl);
        if (r < 0)
                return r;
        const char *value;
        *ret = NULL;
        if (vt_cmdline_get(cl, key, &value) < 0)
                return 0;
        if (!value)
                *ret = strdup(key);
        else if (asprintf(ret, "%s=%s", key, value) < 0)
                *ret = NULL;
        return *ret ? 0 : -ENOMEM;
}

/*
 * Every backend of the system is read, and the generated grub.cfg (what boots: a drop-in whose
 * generator has not run yet does not): the token counts as there only when each carries it
 * (one BLS entry with it and /etc/default/grub without is a change still to make, not a
 * reboot away). Otherwise the value of the first that differs from c->to.
 */
static int cmdline_current(struct vt_ctx *ctx, const struct vt_change *c, char **ret)
{
        _cleanup_json_ json_object *cfg = NULL;
        int r = vt_bootcfg_read(ctx, &cfg);
        if (r < 0)
                return r;
        const char *lines[16];
        size_t n = 0;
        const char *gen = vt_json_str(vt_json_get(cfg, "generated"), "cmdline");
        if (gen)
                lines[n++] = gen;
        json_object *backends = json_object_object_get(cfg, "backends");
        for (size_t i = 0; i < json_object_array_length(backends) && n < ARRAY_SIZE(lines); i++) {
                /* a backend that failed to read has no line: apply will say why */
                const char *l = vt_json_str(json_object_array_get_idx(backends, i), "cmdline");
                if (l)
                        lines[n++] = l;
        }
        if (n == 0) {
                const char *l = vt_json_str(cfg, "cmdline");
                if (!l)
                        return -ENODATA;
                lines[n++] = l;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *tok = NULL;
                r = kernel_token(lines[i], c->target, &tok);
                if (r < 0)
                        return r;
                if (i == 0 || !streq_ptr(tok, c->to)) {
                        free(*ret);
                        *ret = TAKE_PTR(tok);
                }
                if (!streq_ptr(*ret, c->to))
                        break;
        }
        return 0;
}

/* The bootcfg record, in the records before any boot file is touched. */
struct cmdline_intent {
        const struct vt_change *const *cs;
        json_object *const *recs;
        size_t n;
        const struct vt_exec_hook *hook;
};

static void add_record(const struct vt_change *const *cs, json_object *const *recs, size_t n,
                       json_object *record)
{
        /* One record restores every token: the others have nothing of their own to undo. */
        json_object_object_add(recs[0], "bootcfg", record);
        for (size_t i = 1; i < n; i++)
                json_object_object_add(recs[i], "bootcfg_with",
                                       json_object_new_string(cs[0]->target));
}

static int cmdline_before(void *userdata, json_object *record)
{
        struct cmdline_intent *ci = userdata;
        add_record(ci->cs, ci->recs, ci->n, json_object_get(record));
        return before(ci->hook);
}

int vt_exec_apply_cmdline(struct vt_ctx *ctx, const struct vt_change *const *cs, size_t n,
                          json_object *const *recs, const struct vt_exec_hook *h)
{
        assert(n > 0);
        _cleanup_free_ struct vt_cmdline_edit *e = calloc(n, sizeof(*e));
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                assert(cs[i]->kind == VT_TARGET_CMDLINE);
                const char *to = cs[i]->to, *eq = to ? strchr(to, '=') : NULL;
                e[i] = (struct vt_cmdline_edit){.op = to ? VT_CMDLINE_SET : VT_CMDLINE_REMOVE,
                                                .key = cs[i]->target,
                                                .value = eq ? eq + 1 : NULL};
        }
        char err[512] = "", msg[600];
        struct cmdline_intent ci = {cs, recs, n, h};
        struct vt_bootcfg_opts o = {
                .err = err, .errlen = sizeof(err), .before_write = cmdline_before, .userdata = &ci};
        json_object *record = NULL;
        int r = vt_bootcfg_edit_opts(ctx, e, n, &o, NULL, &record);
        if (r == -EOPNOTSUPP || r == -ENOENT) {
                /* No bootloader support, or no boot configuration in this root: not an error. */
                snprintf(msg, sizeof(msg), "not applied: %s",
                         *err ? err : "bootloader support not available");
                for (size_t i = 0; i < n; i++)
                        note(recs[i], msg);
                json_object_put(record);
                return 1;
        }
        if (r < 0) {
                for (size_t i = 0; *err && i < n; i++)
                        json_object_object_add(recs[i], "error", json_object_new_string(err));
                json_object_put(record);
                return r;
        }
        add_record(cs, recs, n, record); /* the final one: with the generators' outcome */
        /* Ownership: a token virtune set is virtune's to take back; one it removed is gone. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_ char **owned = NULL;
                r = vt_owned_tokens_load(ctx, &owned);
                if (r >= 0) {
                        vt_json_add_str(recs[i], "owned_before",
                                        vt_owned_token_find(owned, cs[i]->target));
                        r = vt_owned_tokens_set(ctx, cs[i]->target, cs[i]->to);
                }
                if (r < 0)
                        note(recs[i],
                             "could not record the token's ownership in " VT_OWNED_TOKENS_PATH);
        }
        return 0;
}

static int cmdline_apply(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec,
                         const struct vt_exec_hook *h)
{
        return vt_exec_apply_cmdline(ctx, &c, 1, &rec, h);
}

static int cmdline_undo(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec)
{
        json_object *record, *before;
        int r = 0;
        /* "bootcfg_with": the files came back with another token's record */
        if (json_object_object_get_ex(rec, "bootcfg", &record) && record)
                r = vt_bootcfg_restore(ctx, record, 0, NULL);
        if (r >= 0 && json_object_object_get_ex(rec, "owned_before", &before))
                (void)vt_owned_tokens_set(ctx, c->target, json_object_get_string(before));
        return r;
}

/* ---- file: whole content, old bytes and mode kept for undo ---- */

static int file_current(struct vt_ctx *ctx, const struct vt_change *c, char **ret)
{
        int r = vt_read_file_max(ctx, c->target, VT_CONFIG_FILE_MAX, ret, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

static int file_apply(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec,
                      const struct vt_exec_hook *h)
{
        _cleanup_free_ char *old = NULL;
        size_t len = 0;
        mode_t mode = 0644;
        int r = vt_read_file_max(ctx, c->target, VT_CONFIG_FILE_MAX, &old, &len);
        if (r < 0 && r != -ENOENT)
                return r;
        if (old) {
                r = vt_fs_mode(ctx, c->target, &mode);
                if (r < 0)
                        return r;
                json_object_object_add(rec, "old", json_object_new_string_len(old, (int)len));
                json_object_object_add(rec, "mode", json_object_new_int((int)mode));
        } else
                json_object_object_add(rec, "old", NULL);
        if (!c->to) {
                r = before(h);
                return r < 0 ? r : old ? vt_fs_unlink(ctx, c->target) : 0;
        }
        json_object *created = json_object_new_array();
        json_object_object_add(rec, "created", created);
        char dir[PATH_MAX];
        const char *slash = strrchr(c->target, '/');
        bool sub = slash && slash != c->target;
        if (sub) {
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - c->target), c->target);
                r = vt_fs_missing_dirs(ctx, dir, created);
                if (r < 0)
                        return r;
        }
        r = before(h);
        if (r < 0)
                return r;
        if (sub) {
                r = vt_fs_mkdir_p(ctx, dir, NULL);
                if (r < 0)
                        return r;
        }
        if (!old && startswith(c->to, "#!"))
                mode = 0755; /* a new script (a kernel-install plugin) is run by its caller */
        return vt_fs_write_atomic(ctx, c->target, c->to, strlen(c->to), mode);
}

static int file_undo(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec)
{
        json_object *old, *created = NULL, *mode = NULL;
        json_object_object_get_ex(rec, "created", &created);
        if (!json_object_object_get_ex(rec, "old", &old) || !old) {
                int r = vt_fs_unlink(ctx, c->target);
                if (r < 0 && r != -ENOENT)
                        return r;
                vt_fs_rmdirs(ctx, created);
                return 0;
        }
        json_object_object_get_ex(rec, "mode", &mode);
        return vt_fs_write_atomic(ctx, c->target, json_object_get_string(old),
                                  (size_t)json_object_get_string_len(old),
                                  mode ? (mode_t)json_object_get_int(mode) : 0644);
}

/* ---- kmod: loaded means /sys/module/NAME exists ---- */

static int kmod_current(struct vt_ctx *ctx, const struct vt_change *c, char **ret)
{
        char path[PATH_MAX];
        int r = vt_pathf(path, sizeof(path), "/sys/module/%s", c->target);
        if (r < 0)
                return r;
        /* Options of a loaded module cannot change: loaded is as good as it gets. */
        *ret = vt_exists(ctx, path) ? strdup(c->to ? c->to : "") : NULL;
        return 0;
}

/* Loads (options non-NULL) or unloads the module through libkmod. */
static int kmod_do(const char *name, const char *options)
{
        int r = vt_dl_kmod();
        if (r < 0)
                return r;
        struct kmod_ctx *k = sym_kmod_new(NULL, NULL);
        if (!k)
                return -ENOMEM;
        struct kmod_module *m = NULL;
        r = sym_kmod_module_new_from_name(k, name, &m);
        if (r == 0)
                r = options ? sym_kmod_module_probe_insert_module(m, 0, options, NULL, NULL, NULL)
                            : sym_kmod_module_remove_module(m, 0);
        if (r > 0)
                r = -ENOENT; /* blacklisted or not found */
        sym_kmod_module_unref(m);
        sym_kmod_unref(k);
        return r;
}

static int kmod_apply(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec,
                      const struct vt_exec_hook *h)
{
        if (!vt_exec_is_real_root(ctx)) {
                note(rec, "skipped: modules load only on the running system's own root");
                return 1;
        }
        /* Recorded before: a crash right after the load still unloads it on recovery. */
        json_object_object_add(rec, "loaded", json_object_new_boolean(true));
        int r = before(h);
        if (r < 0)
                return r;
        r = kmod_do(c->target, c->to ? c->to : "");
        if (r < 0)
                json_object_object_del(rec, "loaded");
        if (r == -ELIBACC || r == -ELIBBAD) {
                char msg[128];
                json_object_object_add(rec, "error",
                                       json_object_new_string(vt_dl_kmod_error(msg, sizeof(msg))));
        }
        return r;
}

static int kmod_undo(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec)
{
        json_object *loaded;
        if (!vt_exec_is_real_root(ctx) || !json_object_object_get_ex(rec, "loaded", &loaded) ||
            !json_object_get_boolean(loaded))
                return 0;
        int r = kmod_do(c->target, NULL);
        return r == -ENOENT ? 0 : r; /* not loaded: the apply was cut short before the load */
}

/* ---- unit: enable is the wants symlink; restart is systemctl, live only ---- */

/* The unit file's path and its first WantedBy= target (multi-user.target when none). */
static int unit_find(struct vt_ctx *ctx, const char *unit, char *path, size_t pathlen, char *wanted,
                     size_t wantedlen)
{
        _cleanup_free_ char *found = NULL, *target = NULL;
        int r = vt_unit_find(ctx, unit, &found);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        r = vt_unit_wanted_by(ctx, found, &target);
        if (r < 0)
                return r;
        /* a target is a unit name: anything with a '/' in it is not one */
        snprintf(wanted, wantedlen, "%s",
                 target && !strchr(target, '/') ? target : "multi-user.target");
        return vt_pathf(path, pathlen, "%s", found);
}

static int unit_link(struct vt_ctx *ctx, const char *unit, char *link, size_t linklen, char *path,
                     size_t pathlen)
{
        char wanted[256];
        int r = unit_find(ctx, unit, path, pathlen, wanted, sizeof(wanted));
        if (r < 0)
                return r;
        return vt_pathf(link, linklen, "/etc/systemd/system/%s.wants/%s", wanted, unit);
}

static int unit_current(struct vt_ctx *ctx, const struct vt_change *c, char **ret)
{
        if (!streq_ptr(c->to, "enabled")) {
                *ret = NULL; /* a restart is an action, never a state */
                return 0;
        }
        char link[PATH_MAX], path[PATH_MAX];
        int r = unit_link(ctx, c->target, link, sizeof(link), path, sizeof(path));
        if (r < 0)
                return r;
        struct stat st;
        const char *base;
        /* Only the last component is looked at unresolved: the directories resolve in the root. */
        _cleanup_close_ int dfd = vt_open_parent(ctx, link, &base);
        bool on = dfd >= 0 && fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
        *ret = strdup(on ? "enabled" : "disabled");
        return *ret ? 0 : -ENOMEM;
}

/*
 * systemd's manager asked directly (sdbus.c): under TCG the exec of systemctl and its
 * libraries was most of an apply's time. systemctl only where the bus cannot be reached (no
 * systemd there): it then says for itself what it could not do.
 */
static int systemctl(const char *verb, const char *unit)
{
        int r = unit ? vt_sd_restart(unit, streq(verb, "try-restart")) : vt_sd_daemon_reload();
        /* -EREMOTEIO: refused, nothing was done; -EIO: the job failed (or was lost) */
        if (r != -ENOTCONN)
                return r == -EREMOTEIO ? r : r < 0 ? -EIO : 0;
        char *argv[] = {"systemctl", (char *)verb, (char *)unit, "--job-mode=ignore-dependencies",
                        NULL}; /* why: sdbus.c's restart(); daemon-reload: unit NULL ends argv */
        return vt_run(argv, &(const struct vt_run_opts){.search_path = true}, NULL);
}

static int unit_restart(struct vt_ctx *ctx, const char *unit, json_object *rec,
                        const struct vt_exec_hook *h)
{
        if (!vt_exec_is_real_root(ctx) || !vt_exists(ctx, "/run/systemd/system")) {
                note(rec, "skipped: systemd is not running this root; restart it yourself");
                return 1;
        }
        /*
         * A drop-in written by this apply (qemu-ga's ExecStart) counts only after a reload; a
         * config file the service reads at start (qemu-ga.conf) needs none. A reload re-reads
         * every unit (seconds in a booted guest), so it runs only when a unit file changed.
         */
        json_object *reload = NULL;
        int r = before(h);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(rec, "daemon_reload", &reload) &&
            json_object_get_boolean(reload))
                r = systemctl("daemon-reload", NULL);
        /* "start": the undo of a restart that failed, which left the unit down (tune.c) */
        json_object *start = NULL;
        bool down =
                json_object_object_get_ex(rec, "start", &start) && json_object_get_boolean(start);
        return r < 0 ? r : systemctl(down ? "restart" : "try-restart", unit);
}

static int unit_apply(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec,
                      const struct vt_exec_hook *h)
{
        if (!streq_ptr(c->to, "enabled"))
                return unit_restart(ctx, c->target, rec, h);
        char link[PATH_MAX], path[PATH_MAX], dir[PATH_MAX];
        int r = unit_link(ctx, c->target, link, sizeof(link), path, sizeof(path));
        if (r < 0)
                return r;
        json_object *created = json_object_new_array();
        json_object_object_add(rec, "created", created);
        snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(link, '/') - link), link);
        r = vt_fs_missing_dirs(ctx, dir, created);
        if (r >= 0)
                r = before(h);
        if (r >= 0)
                r = vt_fs_mkdir_p(ctx, dir, NULL);
        if (r < 0)
                return r;
        r = vt_fs_symlink(ctx, path, link);
        return r == -EEXIST ? 0 : r;
}

static int unit_undo(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec)
{
        if (!streq_ptr(c->to, "enabled")) {
                _cleanup_json_ json_object *tmp = json_object_new_object();
                json_object *reload = NULL, *start = NULL;
                if (json_object_object_get_ex(rec, "daemon_reload", &reload))
                        json_object_object_add(tmp, "daemon_reload", json_object_get(reload));
                if (json_object_object_get_ex(rec, "start", &start))
                        json_object_object_add(tmp, "start", json_object_get(start));
                int r = unit_restart(ctx, c->target, tmp, NULL);
                return r < 0 ? r : 0;
        }
        char link[PATH_MAX], path[PATH_MAX];
        int r = unit_link(ctx, c->target, link, sizeof(link), path, sizeof(path));
        if (r < 0)
                return r;
        r = vt_fs_unlink(ctx, link);
        if (r < 0 && r != -ENOENT)
                return r;
        json_object *created;
        if (json_object_object_get_ex(rec, "created", &created))
                vt_fs_rmdirs(ctx, created);
        return 0;
}

/* One row per kind. */
static const struct {
        int (*current)(struct vt_ctx *, const struct vt_change *, char **);
        int (*apply)(struct vt_ctx *, const struct vt_change *, json_object *,
                     const struct vt_exec_hook *);
        int (*undo)(struct vt_ctx *, const struct vt_change *, json_object *);
} kinds[] = {
        [VT_TARGET_ATTR] = {attr_current, attr_apply, attr_undo},
        [VT_TARGET_CMDLINE] = {cmdline_current, cmdline_apply, cmdline_undo},
        [VT_TARGET_FILE] = {file_current, file_apply, file_undo},
        [VT_TARGET_KMOD] = {kmod_current, kmod_apply, kmod_undo},
        [VT_TARGET_UNIT] = {unit_current, unit_apply, unit_undo},
};

int vt_exec_current(struct vt_ctx *ctx, const struct vt_change *c, char **ret)
{
        assert((size_t)c->kind < ARRAY_SIZE(kinds));
        *ret = NULL;
        return kinds[c->kind].current(ctx, c, ret);
}

int vt_exec_apply(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec,
                  const struct vt_exec_hook *hook)
{
        assert((size_t)c->kind < ARRAY_SIZE(kinds));
        return kinds[c->kind].apply(ctx, c, rec, hook);
}

int vt_exec_undo(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec)
{
        assert((size_t)c->kind < ARRAY_SIZE(kinds));
        return kinds[c->kind].undo(ctx, c, rec);
}

void vt_exec_clean_tmp(struct vt_ctx *ctx, const struct vt_change *c, json_object *rec, pid_t pid)
{
        json_object *record;
        if (c->kind == VT_TARGET_FILE)
                vt_fs_remove_tmp(ctx, c->target, pid);
        else if (c->kind == VT_TARGET_CMDLINE && json_object_object_get_ex(rec, "bootcfg", &record))
                vt_bootcfg_clean_tmp(ctx, record, pid);
}
