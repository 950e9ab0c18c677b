/*
 * The boot configuration façade: runs every backend that applies, writes their files safely
 * (backup, atomic replace, re-read and re-parse, restore on any failure), runs the generator
 * only when something changed, and keeps what revert needs.
 */
#include <assert.h>
#include <fcntl.h>
#include <stdarg.h>
#include "run.h"
#include "strv.h"
#include "util.h"
#include "atomic.h"
#include "backend.h"
#include "diff.h"
#include "grubcfg.h"

/* In the order that says what the next boot gets: the first that applies gives "cmdline". */
static const struct vt_bootcfg_backend *const backends[] = {
        &vt_backend_bls,          &vt_backend_grub_cfg,       &vt_backend_grubd,
        &vt_backend_default_grub, &vt_backend_kernel_cmdline,
};

static const struct vt_bootcfg_backend *backend_by_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
                if (streq(backends[i]->name, name))
                        return backends[i];
        return NULL;
}

static void set_err(const struct vt_bootcfg_opts *o, const char *fmt, ...) _printf_(2, 3);
static void set_err(const struct vt_bootcfg_opts *o, const char *fmt, ...)
{
        if (!o || !o->err || !o->errlen)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->err, o->errlen, fmt, ap);
        va_end(ap);
}

/* What may happen to a backend's generator on this root. */
enum gen_mode {
        GEN_NONE,       /* asked not to run it */
        GEN_RUN,        /* it runs now (the running system, a chroot, a test's stand-in) */
        GEN_FIRST_BOOT, /* an image: it runs on the first boot */
};

static const char *injected_generator(const struct vt_bootcfg_opts *o)
{
        const char *inject = o && o->generator ? o->generator : getenv("VIRTUNE_BOOTCFG_GENERATOR");
        return inject && *inject ? inject : NULL;
}

static enum gen_mode gen_mode(const struct vt_ctx *ctx, const struct vt_bootcfg_opts *o)
{
        unsigned flags = o ? o->flags : 0;
        if (flags & VT_BOOTCFG_NO_GENERATOR)
                return GEN_NONE;
        if (injected_generator(o) || (ctx->live && streq(ctx->root, "/")) ||
            (flags & VT_BOOTCFG_CHROOT_GENERATOR))
                return GEN_RUN;
        return GEN_FIRST_BOOT;
}

/* The file a backend's generator writes (its -o, or update-grub's grub.cfg) when it is there. */
static int generated_cfg(struct vt_ctx *ctx, const struct vt_bootcfg_backend *b, char **ret)
{
        *ret = NULL;
        char **argv = NULL;
        int r = b->generator ? b->generator(ctx, &argv) : 0;
        if (r < 0 || !argv)
                return r < 0 ? r : 0;
        const char *out = NULL, *base = strrchr(argv[0], '/');
        for (size_t i = 1; argv[i]; i++)
                if (streq(argv[i - 1], "-o"))
                        out = argv[i];
        if (!out && streq(base ? base + 1 : argv[0], "update-grub"))
                out = "/boot/grub/grub.cfg";
        r = 0;
        if (out && vt_exists(ctx, out) && !(*ret = strdup(out)))
                r = -ENOMEM;
        vt_strv_free(argv);
        return r;
}

/*
 * The generated grub.cfg, edited as the edits want, in *ret (*ret_path its path); both NULL
 * when the backend has none or it cannot be read with certainty (a generator run covers it).
 */
static int generated_edit(struct vt_ctx *ctx, const struct vt_bootcfg_backend *b,
                          const struct vt_cmdline_edit *edits, size_t n, char **ret_path,
                          char **text, size_t *len, char **ret, size_t *ret_len, char **first)
{
        _cleanup_free_ char *path = NULL;
        *ret_path = *text = *ret = NULL;
        int r = generated_cfg(ctx, b, &path);
        if (r < 0 || !path)
                return r;
        r = vt_bootcfg_read_file(ctx, path, text, len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        struct vt_bootcfg_set scratch = {0};
        r = vt_grub_cfg_edit(path, *text, *len, edits, n, ret, ret_len, first, &scratch);
        if (r < 0) {
                free(*text);
                *text = NULL;
                return r == -EBADMSG ? 0 : r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

int vt_cmdline_satisfies(const char *line, const struct vt_cmdline_edit *e)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = NULL;
        int r = vt_cmdline_parse(line, strlen(line), &cl, NULL);
        if (r < 0)
                return r;
        if (e->op == VT_CMDLINE_REMOVE) {
                for (size_t i = 0; i < vt_cmdline_count(cl); i++) {
                        const char *k, *v;
                        vt_cmdline_token(cl, i, &k, &v);
                        if (vt_cmdline_key_eq(k, e->key) && (!e->value || streq_ptr(v, e->value)))
                                return 0;
                }
                return 1;
        }
        const char *v;
        return vt_cmdline_get(cl, e->key, &v) > 0 && streq_ptr(v, e->value);
}

/* Configured tokens that /proc/cmdline does not have yet. */
static json_object *pending(const char *configured, const char *running)
{
        json_object *arr = json_object_new_array();
        _cleanup_cmdline_ struct vt_cmdline *cl = NULL, *run = NULL;
        if (!configured || !running ||
            vt_cmdline_parse(configured, strlen(configured), &cl, NULL) < 0 ||
            vt_cmdline_parse(running, strlen(running), &run, NULL) < 0)
                return arr;
        for (size_t i = 0; i < vt_cmdline_count(cl); i++) {
                const char *k, *v;
                vt_cmdline_token(cl, i, &k, &v);
                if (k[0] == '$' || vt_cmdline_has(run, k, v))
                        continue;
                _cleanup_free_ char *tok = NULL;
                if (asprintf(&tok, "%s%s%s", k, v ? "=" : "", v ? v : "") >= 0)
                        json_object_array_add(arr, json_object_new_string(tok));
        }
        return arr;
}

/*
 * "generated": {"backend", "path", "cmdline"}: what the generated grub.cfg of the backend that
 * says the command line boots now. It lags behind when a drop-in was written and the generator
 * left for later (an image, --no-generator, a hand edit).
 */
static int add_generated(struct vt_ctx *ctx, const struct vt_bootcfg_backend *b, json_object *doc)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *out = NULL, *first = NULL;
        size_t len, olen;
        int r = generated_edit(ctx, b, NULL, 0, &path, &text, &len, &out, &olen, &first);
        if (r < 0 || !path || !first)
                return r;
        json_object *g = json_object_new_object();
        vt_json_add_str(g, "backend", b->name);
        vt_json_add_str(g, "path", path);
        vt_json_add_str(g, "cmdline", first);
        json_object_object_add(doc, "generated", g);
        return 0;
}

int vt_bootcfg_read(struct vt_ctx *ctx, json_object **ret)
{
        assert(ctx && ret);
        _cleanup_json_ json_object *doc = json_object_new_object();
        json_object *list = json_object_new_array();
        json_object_object_add(doc, "backends", list);
        const char *first = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
                if (!backends[i]->detect(ctx))
                        continue;
                struct vt_bootcfg_set set = {.backend = backends[i]};
                json_object *entry = json_object_new_object();
                vt_json_add_str(entry, "name", backends[i]->name);
                json_object_array_add(list, entry);
                int r = backends[i]->read(ctx, entry, &set);
                if (r < 0) {
                        char buf[600];
                        snprintf(buf, sizeof(buf), "%s", set.err[0] ? set.err : strerror(-r));
                        vt_json_add_str(entry, "error", buf);
                } else if (!first) {
                        first = json_object_get_string(json_object_object_get(entry, "cmdline"));
                        r = add_generated(ctx, backends[i], doc);
                        if (r < 0)
                                return r;
                }
        }
        vt_json_add_str(doc, "cmdline", first);
        _cleanup_free_ char *running = NULL;
        if (vt_read_file_max(ctx, "/proc/cmdline", 65536, &running, NULL) >= 0)
                vt_strip(running);
        vt_json_add_str(doc, "running", running);
        json_object_object_add(doc, "pending", pending(first, running));
        *ret = TAKE_PTR(doc);
        return 0;
}

/* Puts content back (old NULL: removes the file). */
static int put_back(struct vt_ctx *ctx, const char *path, const char *old, size_t len)
{
        if (old)
                return vt_atomic_replace(ctx, path, old, len, NULL);
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        char *slash = strrchr(copy, '/');
        *slash = 0;
        dfd = vt_open(ctx, *copy ? copy : "/", O_RDONLY | O_DIRECTORY, 0);
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, slash + 1, 0) < 0 && errno != ENOENT)
                return -errno;
        return fsync(dfd) < 0 ? -errno : 0;
}

static void restore_all(struct vt_ctx *ctx, struct vt_bootcfg_set *set, size_t upto)
{
        for (size_t i = upto; i > 0; i--) {
                const struct vt_bootcfg_file *f = &set->f[i - 1];
                (void)put_back(ctx, f->path, f->old, f->old_len);
        }
}

/*
 * Runs a backend's generator as the root allows. Returns 0 (status in *status: "ran",
 * "left for first boot", "no generator"), or <0 when it failed.
 */
static int run_generator(struct vt_ctx *ctx, const struct vt_bootcfg_backend *b,
                         const struct vt_bootcfg_opts *o, json_object *gens)
{
        if (!b->generator)
                return 0;
        char **argv = NULL;
        int r = b->generator(ctx, &argv);
        if (r < 0)
                return r;
        json_object *g = json_object_new_object();
        json_object_array_add(gens, g);
        vt_json_add_str(g, "backend", b->name);
        if (!argv) {
                vt_json_add_str(g, "status", "no generator found");
                return 0;
        }
        size_t n = 0;
        while (argv[n])
                n++;
        _cleanup_free_ char *cmd = NULL;
        for (size_t i = 0; i < n; i++) {
                char *c = NULL;
                if (asprintf(&c, "%s%s%s", cmd ? cmd : "", cmd ? " " : "", argv[i]) < 0)
                        break;
                free(cmd);
                cmd = c;
        }
        vt_json_add_str(g, "command", cmd);
        const char *inject = injected_generator(o);
        enum gen_mode mode = gen_mode(ctx, o);
        char *full[16] = {0};
        const char *status = "ran";
        if (n > 12) {
                vt_strv_free(argv);
                return -E2BIG;
        }
        if (mode == GEN_NONE) {
                status = "not run (asked not to)";
        } else if (mode == GEN_FIRST_BOOT) {
                status = "left for first boot";
        } else if (inject) {
                full[0] = (char *)inject;
                full[1] = ctx->root;
                memcpy(full + 2, argv, n * sizeof(char *));
        } else if (ctx->live && streq(ctx->root, "/")) {
                memcpy(full, argv, n * sizeof(char *));
        } else {
                full[0] = (char *)"/usr/sbin/chroot";
                full[1] = ctx->root;
                memcpy(full + 2, argv, n * sizeof(char *));
        }
        r = 0;
        if (full[0]) {
                r = vt_fault_check(o ? o->fault : NULL, VT_STEP_GENERATOR, cmd);
                if (r >= 0)
                        r = vt_run(full, &vt_bootcfg_run_opts, NULL);
                if (r < 0)
                        status = "failed";
        }
        vt_json_add_str(g, "status", status);
        if (r < 0)
                set_err(o, "%s failed (%s)", cmd ? cmd : b->name, strerror(-r));
        vt_strv_free(argv);
        return r;
}

/*
 * The generated grub.cfg must boot what the backend's files say, even when they already said
 * so (a command line left for first boot): when it lacks an edit, its generator runs now, or,
 * on an image whose generator waits for the first boot, it is edited in place so that boot
 * already has the line (the next generator run rewrites it from the drop-in, the same way).
 */
static int plan_generated(struct vt_ctx *ctx, const struct vt_bootcfg_backend *b, size_t idx,
                          const struct vt_cmdline_edit *edits, size_t n, struct vt_bootcfg_set *set,
                          const struct vt_bootcfg_opts *o)
{
        enum gen_mode mode = gen_mode(ctx, o);
        if (mode == GEN_NONE || !b->generator)
                return 0;
        _cleanup_free_ char *path = NULL, *text = NULL;
        char *out = NULL;
        size_t len = 0, olen = 0;
        int r = generated_edit(ctx, b, edits, n, &path, &text, &len, &out, &olen, NULL);
        if (r < 0 || !path)
                return r;
        if (olen == len && memcmp(out, text, len) == 0) {
                free(out);
                return 0;
        }
        if (mode == GEN_RUN) {
                free(out);
                set->regen |= 1u << idx;
                return 0;
        }
        r = vt_bootcfg_set_add(set, path, text, len, out, olen);
        if (r > 0)
                set->f[set->n - 1].generated = true;
        return r;
}

static int plan(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                struct vt_bootcfg_set *set, json_object *names, const struct vt_bootcfg_opts *o)
{
        for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
                if (!backends[i]->detect(ctx))
                        continue;
                set->backend = backends[i];
                int r = backends[i]->write(ctx, edits, n, set);
                if (r < 0) {
                        if (set->err[0])
                                set_err(o, "%s", set->err);
                        else
                                set_err(o, "%s: %s", backends[i]->name, strerror(-r));
                        return r;
                }
                r = plan_generated(ctx, backends[i], i, edits, n, set, o);
                if (r < 0)
                        return r;
                if (names)
                        json_object_array_add(names, json_object_new_string(backends[i]->name));
        }
        if (names && json_object_array_length(names) == 0) {
                set_err(o,
                        "no boot configuration found under %s (no /etc/default/grub, BLS "
                        "entries, grub.cfg or /etc/kernel/cmdline)",
                        ctx->root);
                return -EOPNOTSUPP;
        }
        return 0;
}

/* Re-reads every written file and re-plans: the bytes must be ours and nothing left to do. */
static int check_written(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                         struct vt_bootcfg_set *set, const struct vt_bootcfg_opts *o)
{
        for (size_t i = 0; i < set->n; i++) {
                struct vt_bootcfg_file *f = &set->f[i];
                _cleanup_free_ char *back = NULL;
                size_t len;
                int r = vt_bootcfg_read_file(ctx, f->path, &back, &len);
                if (r >= 0 && f->tool && !set->tools[f->tool - 1].exact) {
                        /* the tool words it its own way: keep what it wrote, re-plan below */
                        free(f->new);
                        f->new = TAKE_PTR(back);
                        f->new_len = len;
                        continue;
                }
                if (r < 0 || len != set->f[i].new_len || memcmp(back, set->f[i].new, len) != 0) {
                        set_err(o, "%s: what was read back is not what was written",
                                set->f[i].path);
                        return r < 0 ? r : -EIO;
                }
        }
        struct vt_bootcfg_set again = {0};
        int r = plan(ctx, edits, n, &again, NULL, o);
        if (r >= 0 && again.n > 0) {
                set_err(o, "%s: applying the same change again would change it again",
                        again.f[0].path);
                r = -EIO;
        }
        vt_bootcfg_set_clear(&again);
        return r;
}

/* Who writes a file: virtune itself ("direct") or the tool a backend chose. */
static const char *writer(const struct vt_bootcfg_set *set, const struct vt_bootcfg_file *f)
{
        return f->tool ? set->tools[f->tool - 1].name : "direct";
}

/* A line before a file's diff saying that a tool, not virtune, writes it. */
static int note_writer(char **d, const char *tool, const char *path)
{
        char *n = NULL;
        if (asprintf(&n, "%s# %s writes %s\n", *d ? *d : "", tool, path) < 0)
                return -ENOMEM;
        free(*d);
        *d = n;
        return 0;
}

static json_object *make_record(struct vt_bootcfg_set *set, json_object *names, json_object *gens)
{
        json_object *rec = json_object_new_object();
        json_object_object_add(rec, "backends", json_object_get(names));
        json_object *files = json_object_new_array();
        for (size_t i = 0; i < set->n; i++) {
                json_object *f = json_object_new_object();
                vt_json_add_str(f, "path", set->f[i].path);
                vt_json_add_str(f, "backend", set->f[i].backend->name);
                vt_json_add_str(f, "writer", writer(set, &set->f[i]));
                if (set->f[i].generated)
                        json_object_object_add(f, "generated", json_object_new_boolean(true));
                json_object_object_add(
                        f, "old",
                        set->f[i].old ? json_object_new_string_len(set->f[i].old, set->f[i].old_len)
                                      : NULL);
                json_object_object_add(
                        f, "new", json_object_new_string_len(set->f[i].new, set->f[i].new_len));
                json_object_array_add(files, f);
        }
        json_object_object_add(rec, "files", files);
        json_object *regen = json_object_new_array();
        for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
                if (set->regen & (1u << i))
                        json_object_array_add(regen, json_object_new_string(backends[i]->name));
        json_object_object_add(rec, "regenerated", regen);
        json_object_object_add(rec, "generators", json_object_get(gens));
        return rec;
}

/* Writes every file of set; on failure puts back what was written. */
static int write_set(struct vt_ctx *ctx, struct vt_bootcfg_set *set,
                     const struct vt_bootcfg_opts *o)
{
        /* every backup first: a tool may write several files of the set at once */
        for (size_t i = 0; i < set->n; i++) {
                struct vt_bootcfg_file *f = &set->f[i];
                int r = f->old ? vt_backup_write(ctx, f->path, f->old, f->old_len) : 0;
                if (r < 0) {
                        set_err(o, "Cannot back up %s: %s", f->path, strerror(-r));
                        return r;
                }
        }
        for (size_t i = 0; i < set->n; i++) {
                struct vt_bootcfg_file *f = &set->f[i];
                struct vt_bootcfg_tool *t = f->tool ? &set->tools[f->tool - 1] : NULL;
                int r = 0;
                if (t && !t->ran) {
                        t->ran = true;
                        r = vt_fault_check(o ? o->fault : NULL, VT_STEP_WRITE, f->path);
                        if (r >= 0)
                                r = vt_run(t->argv, &vt_bootcfg_run_opts, NULL);
                } else if (!t)
                        r = vt_atomic_replace(ctx, f->path, f->new, f->new_len,
                                              o ? o->fault : NULL);
                if (r == VT_FAULT_CRASH)
                        return r;
                if (r < 0) {
                        set_err(o, "Cannot write %s%s%s: %s", f->path, t ? " with " : "",
                                t ? t->name : "", strerror(-r));
                        /* a tool may have touched any file of the set */
                        restore_all(ctx, set, t ? set->n : i + 1);
                        return r;
                }
        }
        return 0;
}

/* Runs the generator of every backend whose files changed; restores everything on failure. */
static int generate(struct vt_ctx *ctx, struct vt_bootcfg_set *set, const struct vt_bootcfg_opts *o,
                    json_object *gens)
{
        for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
                bool changed = set->regen & (1u << i);
                for (size_t k = 0; k < set->n; k++)
                        changed |= set->f[k].backend == backends[i];
                if (!changed)
                        continue;
                int r = run_generator(ctx, backends[i], o, gens);
                if (r == VT_FAULT_CRASH)
                        return r;
                if (r < 0) {
                        restore_all(ctx, set, set->n);
                        return r;
                }
        }
        return 0;
}

int vt_bootcfg_edit_opts(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                         const struct vt_bootcfg_opts *o, char **diff, json_object **record)
{
        assert(ctx);
        assert(edits || n == 0);
        struct vt_bootcfg_set set = {0};
        _cleanup_json_ json_object *names = json_object_new_array();
        _cleanup_json_ json_object *gens = json_object_new_array();
        _cleanup_free_ char *d = NULL;
        for (size_t i = 0; i < n; i++)
                if (!vt_cmdline_key_valid(edits[i].key) ||
                    !vt_cmdline_value_valid(edits[i].value)) {
                        set_err(o, "'%s%s%s' is not a parameter the kernel can take",
                                edits[i].key ? edits[i].key : "", edits[i].value ? "=" : "",
                                edits[i].value ? edits[i].value : "");
                        return -EINVAL;
                }
        int r = plan(ctx, edits, n, &set, names, o);
        for (size_t i = 0; r >= 0 && i < set.n; i++) {
                if (set.f[i].tool)
                        r = note_writer(&d, writer(&set, &set.f[i]), set.f[i].path);
                if (r >= 0)
                        r = vt_diff_unified(set.f[i].path, set.f[i].old, set.f[i].old_len,
                                            set.f[i].new, set.f[i].new_len, &d);
        }
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(backends); i++) {
                _cleanup_free_ char *path = NULL;
                if (!(set.regen & (1u << i)))
                        continue;
                r = generated_cfg(ctx, backends[i], &path);
                if (r >= 0)
                        r = note_writer(&d, "the generator (it lacks the configured line)",
                                        path ? path : backends[i]->name);
        }
        bool dry = o && (o->flags & VT_BOOTCFG_DRY_RUN);
        if (r >= 0 && !dry && (set.n > 0 || set.regen)) {
                r = write_set(ctx, &set, o);
                if (r >= 0) {
                        r = check_written(ctx, edits, n, &set, o);
                        if (r < 0)
                                restore_all(ctx, &set, set.n);
                }
                if (r >= 0)
                        r = generate(ctx, &set, o, gens);
        }
        if (r >= 0) {
                if (diff)
                        *diff = TAKE_PTR(d);
                if (record)
                        *record = make_record(&set, names, gens);
        }
        vt_bootcfg_set_clear(&set);
        return r;
}

int vt_bootcfg_edit(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                    unsigned flags, char **diff, json_object **record)
{
        char err[600] = "";
        struct vt_bootcfg_opts o = {.flags = flags, .err = err, .errlen = sizeof(err)};
        int r = vt_bootcfg_edit_opts(ctx, edits, n, &o, diff, record);
        if (r < 0 && record) {
                *record = json_object_new_object();
                vt_json_add_str(*record, "error", err[0] ? err : strerror(-r));
        }
        return r;
}

/* One file of a record, checked: what is there now must be what virtune wrote. */
static int restore_entry(struct vt_ctx *ctx, json_object *f, struct vt_bootcfg_file *out,
                         const struct vt_bootcfg_opts *o)
{
        const char *path = json_object_get_string(json_object_object_get(f, "path"));
        json_object *jold = json_object_object_get(f, "old");
        json_object *jnew = json_object_object_get(f, "new");
        const char *bname = json_object_get_string(json_object_object_get(f, "backend"));
        out->backend = bname ? backend_by_name(bname) : NULL;
        out->generated = json_object_get_boolean(json_object_object_get(f, "generated"));
        if (!path || path[0] != '/' || !json_object_is_type(jnew, json_type_string) ||
            !out->backend) {
                set_err(o, "not a boot configuration record");
                return -EINVAL;
        }
        size_t len;
        int r = vt_bootcfg_read_file(ctx, path, &out->old, &len);
        out->old_len = len;
        if (r < 0 || len != (size_t)json_object_get_string_len(jnew) ||
            memcmp(out->old, json_object_get_string(jnew), len) != 0) {
                if (out->generated && r >= 0) {
                        /* regenerated since: the generator run after the restore redoes it */
                        free(out->old);
                        out->old = NULL;
                        return 1;
                }
                set_err(o, "%s changed since virtune wrote it; not restoring it", path);
                return -ESTALE;
        }
        out->path = strdup(path);
        /* new NULL: the file was absent before and goes away */
        if (jold) {
                out->new_len = json_object_get_string_len(jold);
                out->new = strndup(json_object_get_string(jold), out->new_len);
        }
        return out->path && (!jold || out->new) ? 0 : -ENOMEM;
}

int vt_bootcfg_restore_opts(struct vt_ctx *ctx, json_object *record,
                            const struct vt_bootcfg_opts *o, char **diff)
{
        assert(ctx && record);
        json_object *files = json_object_object_get(record, "files");
        if (!json_object_is_type(files, json_type_array)) {
                set_err(o, "not a boot configuration record");
                return -EINVAL;
        }
        size_t n = json_object_array_length(files);
        struct vt_bootcfg_set set = {.f = calloc(n + 1, sizeof(struct vt_bootcfg_file))};
        if (!set.f)
                return -ENOMEM;
        _cleanup_free_ char *d = NULL;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = restore_entry(ctx, json_object_array_get_idx(files, i), &set.f[set.n], o);
                if (r > 0)
                        r = 0;
                else
                        set.n++;
        }
        for (size_t i = 0; r >= 0 && i < set.n; i++)
                r = vt_diff_unified(set.f[i].path, set.f[i].old, set.f[i].old_len, set.f[i].new,
                                    set.f[i].new_len, &d);
        bool dry = o && (o->flags & VT_BOOTCFG_DRY_RUN);
        for (size_t i = 0; r >= 0 && !dry && i < set.n; i++) {
                struct vt_bootcfg_file *f = &set.f[i];
                if (f->new)
                        r = vt_backup_write(ctx, f->path, f->old, f->old_len);
                if (r >= 0)
                        r = put_back(ctx, f->path, f->new, f->new_len);
                if (r < 0)
                        set_err(o, "Cannot restore %s: %s", f->path, strerror(-r));
        }
        if (r >= 0 && !dry) {
                _cleanup_json_ json_object *gens = json_object_new_array();
                r = generate(ctx, &set, o, gens);
        }
        if (r >= 0 && diff)
                *diff = TAKE_PTR(d);
        vt_bootcfg_set_clear(&set);
        return r;
}

int vt_bootcfg_restore(struct vt_ctx *ctx, json_object *record, unsigned flags, char **diff)
{
        struct vt_bootcfg_opts o = {.flags = flags};
        return vt_bootcfg_restore_opts(ctx, record, &o, diff);
}
