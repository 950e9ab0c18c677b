/* The tuner: plans from facts and policy, applies through the executor, journals, reverts. */
#include "exec.h"
#include "grubcfg.h"
#include "journal.h"
#include "module.h"
#include "policy.h"
#include "tune.h"
#include "unitfile.h"

bool vt_tune_selected(const char *const *only, const char *module)
{
        if (!only)
                return true;
        for (const char *const *o = only; *o; o++)
                if (streq(*o, module))
                        return true;
        return false;
}

/*
 * Replaces each change's `from` with what the target holds now, marks command-line tokens that
 * are configured but not yet booted, and drops what is already as wanted.
 */
static int resolve(struct vt_ctx *ctx, struct vt_plan *plan)
{
        for (size_t i = 0; i < plan->n; i++) {
                struct vt_change *c = &plan->changes[i];
                if (vt_change_is_restart(c))
                        continue;
                char *cur = NULL;
                int r = vt_exec_current(ctx, c, &cur);
                /* Keep the facts' value; apply will say what it can do (a unit file gone: fails).
                 */
                if (r == -EOPNOTSUPP || r == -ENODATA || (r < 0 && c->kind == VT_TARGET_ATTR) ||
                    (r == -ENOENT && c->kind == VT_TARGET_UNIT))
                        continue;
                if (r < 0)
                        return r;
                if (c->kind == VT_TARGET_CMDLINE && streq_ptr(cur, c->to) &&
                    !streq_ptr(c->from, c->to)) {
                        free(cur);
                        c->when = VT_WHEN_REBOOT; /* in the boot config, not yet booted */
                        continue;
                }
                free(c->from);
                c->from = cur;
        }
        for (size_t i = plan->n; i > 0; i--)
                if (streq_ptr(plan->changes[i - 1].from, plan->changes[i - 1].to))
                        vt_plan_remove(plan, i - 1);
        /* A restart is only worth it when something of its module changed, or is stale. */
        for (size_t i = plan->n; i > 0; i--) {
                const struct vt_change *c = &plan->changes[i - 1];
                if (!vt_change_is_restart(c) || c->stale)
                        continue;
                bool other = false;
                for (size_t j = 0; j < plan->n; j++)
                        if (j != i - 1 && streq(plan->changes[j].module, c->module) &&
                            plan->changes[j].when != VT_WHEN_REBOOT)
                                other = true;
                if (!other)
                        vt_plan_remove(plan, i - 1);
        }
        return 0;
}

/* The plan halves' changes; with resolve, each compared with what its target holds now. */
static int build(struct vt_ctx *ctx, json_object *facts, const char *const *only,
                 struct vt_plan *plan, bool resolve_now)
{
        vt_plan_init(plan);
        if (!plan->warnings || !plan->notes)
                return -ENOMEM;
        for (size_t i = 0; i < vt_modules_len; i++) {
                const struct vt_module *m = vt_modules[i];
                if (!m->plan || !vt_tune_selected(only, m->name))
                        continue;
                int r = m->plan(ctx, facts, plan);
                if (r < 0)
                        return r;
        }
        int r = vt_kernel_plan_future(ctx, facts, plan);
        return r < 0 || !resolve_now ? r : resolve(ctx, plan);
}

static json_object *error_doc(const struct vt_plan *plan)
{
        json_object *o = json_object_new_object();
        vt_json_add_str(o, "error", plan->error ? plan->error : "policy refused");
        return o;
}

/* Runtime targets wait for a live system; the rest are written into any root. */
static bool skipped_offline(const struct vt_ctx *ctx, const struct vt_change *c)
{
        return !ctx->live && c->when == VT_WHEN_NOW;
}

struct split {
        json_object *changes, *skipped, *pending;
};

static void split_plan(struct vt_ctx *ctx, const struct vt_plan *plan, struct split *s)
{
        s->changes = json_object_new_array();
        s->skipped = json_object_new_array();
        s->pending = json_object_new_array();
        for (size_t i = 0; i < plan->n; i++) {
                const struct vt_change *c = &plan->changes[i];
                json_object *o = vt_change_to_json(c);
                if (c->when == VT_WHEN_REBOOT)
                        json_object_array_add(s->pending, o);
                else if (skipped_offline(ctx, c)) {
                        vt_json_add_str(o, "note", "skipped: runtime target on an offline root");
                        json_object_array_add(s->skipped, o);
                } else
                        json_object_array_add(s->changes, o);
        }
}

/* The caller's facts, else the system's, detected now into *detected (the caller frees it). */
static int facts_or_detect(struct vt_ctx *ctx, json_object **facts, json_object **detected)
{
        if (*facts)
                return 0;
        int r = vt_detect_for_plan(ctx, detected);
        if (r < 0)
                return r;
        *facts = *detected;
        return 0;
}

int vt_tune_plan(struct vt_ctx *ctx, json_object *facts, json_object **ret)
{
        _cleanup_json_ json_object *detected = NULL;
        int r = facts_or_detect(ctx, &facts, &detected);
        if (r < 0)
                return r;
        struct vt_plan plan;
        r = build(ctx, facts, NULL, &plan, true);
        if (r < 0) {
                if (r == -EINVAL && plan.error)
                        *ret = error_doc(&plan);
                vt_plan_done(&plan);
                return r;
        }
        struct split s;
        split_plan(ctx, &plan, &s);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "live", json_object_new_boolean(ctx->live));
        json_object_object_add(o, "changes", s.changes);
        json_object_object_add(o, "skipped", s.skipped);
        json_object_object_add(o, "pending_reboot", s.pending);
        json_object_object_add(o, "warnings", json_object_get(plan.warnings));
        json_object_object_add(o, "notes", json_object_get(plan.notes));
        vt_plan_done(&plan);
        *ret = o;
        return 0;
}

static const char *skip_reason(struct vt_ctx *ctx, const struct vt_apply_opts *opts,
                               const struct vt_change *c)
{
        if (c->when == VT_WHEN_REBOOT)
                return "pending: configured, waits for a reboot";
        if (skipped_offline(ctx, c))
                return "skipped: runtime target on an offline root";
        if (opts->runtime_only && c->when != VT_WHEN_NOW)
                return "skipped: runtime targets only";
        if (c->kind == VT_TARGET_CMDLINE &&
            (opts->no_bootloader ||
             vt_policy_get_tristate(ctx->policy, "bootloader", "enable") == 0))
                return "skipped: bootloader changes disabled";
        return NULL;
}

/*
 * A command-line change was written now, or earlier and not booted yet: either way the running
 * kernel (/proc/cmdline) lacks it until a reboot. Dry runs and rollbacks write nothing.
 */
static bool cmdline_waits(json_object *recs)
{
        for (size_t i = 0; i < json_object_array_length(recs); i++) {
                json_object *rec = json_object_array_get_idx(recs, i);
                const char *kind = vt_json_str(rec, "kind"), *when = vt_json_str(rec, "when");
                const char *result = vt_json_str(rec, "result");
                if (streq_ptr(kind, "cmdline") &&
                    (streq_ptr(result, "applied") || streq_ptr(when, "reboot-needed")))
                        return true;
        }
        return false;
}

static json_object *new_entry(const char *action)
{
        char now[32];
        vt_journal_time(now, sizeof(now));
        json_object *e = json_object_new_object();
        json_object_object_add(e, "action", json_object_new_string(action));
        json_object_object_add(e, "time", json_object_new_string(now));
        return e;
}

static void set_str(json_object *o, const char *key, const char *value)
{
        json_object_object_add(o, key, json_object_new_string(value));
}

/*
 * Undoes the applied changes of recs (newest first); marks each with `result`. Restarts come
 * last: a service restarted on revert must read its files as they are put back. cut_short: also
 * those an interrupted apply was making ("applying": recorded, maybe not yet made).
 */
static int undo_all(struct vt_ctx *ctx, json_object *recs, const char *result, bool cut_short)
{
        int ret = 0;
        for (size_t k = 0; k < 2 * json_object_array_length(recs); k++) {
                size_t n = json_object_array_length(recs);
                bool restarts = k >= n;
                json_object *rec = json_object_array_get_idx(recs, n - 1 - k % n), *v, *undo = NULL;
                if (!json_object_object_get_ex(rec, "result", &v))
                        continue;
                const char *was = json_object_get_string(v);
                /* A restart that failed (its record says "start") is undone too: see below. */
                json_object_object_get_ex(rec, "record", &undo);
                bool start = restarts && streq_ptr(was, "failed") &&
                             json_object_object_get(undo, "start");
                if (!streq_ptr(was, "applied") && !(cut_short && streq_ptr(was, "applying")) &&
                    !start)
                        continue;
                struct vt_change c;
                int r = vt_change_from_json(rec, &c);
                if (r < 0)
                        return r;
                if (vt_change_is_restart(&c) != restarts) {
                        vt_change_done(&c);
                        continue;
                }
                r = vt_exec_undo(ctx, &c, undo ? undo : rec);
                if (r < 0) {
                        set_str(rec, "undo_error", vt_strerror(r));
                        ret = r;
                } else
                        set_str(rec, "result", result);
                vt_change_done(&c);
        }
        return ret;
}

static json_object *error_msg(const char *msg)
{
        json_object *o = json_object_new_object();
        vt_json_add_str(o, "error", msg);
        return o;
}

/* ---- the write-ahead intent: recorded before each target is touched ---- */

struct wal {
        struct vt_ctx *ctx;
        json_object *intent;
};

static int wal_save(void *userdata)
{
        const struct wal *w = userdata;
        return vt_intent_save(w->ctx, w->intent);
}

/* The hook of an apply's first pass: its record is filled; stop before the target. */
static int stop_before_target(void *userdata)
{
        (void)userdata;
        return -ECANCELED;
}

/*
 * {"action": "apply" | "revert", "pids": [...], "entry": the apply entry being made or undone};
 * pids: every process that worked on it (a recovery killed in turn adds its own), whose temp
 * files a later recovery removes.
 */
static json_object *new_intent(const char *action, json_object *entry)
{
        json_object *in = json_object_new_object();
        json_object_object_add(in, "version", json_object_new_int(1));
        set_str(in, "action", action);
        json_object *pids = json_object_new_array();
        json_object_array_add(pids, json_object_new_int((int)getpid()));
        json_object_object_add(in, "pids", pids);
        json_object_object_add(in, "entry", json_object_get(entry));
        return in;
}

static json_object *entry_changes(json_object *entry)
{
        json_object *recs;
        if (!json_object_object_get_ex(entry, "changes", &recs) ||
            !json_object_is_type(recs, json_type_array))
                return NULL;
        return recs;
}

/* Temp files the killed process left beside the targets of recs. */
static void clean_tmp(struct vt_ctx *ctx, json_object *recs, pid_t pid)
{
        for (size_t i = 0; i < json_object_array_length(recs); i++) {
                json_object *rec = json_object_array_get_idx(recs, i), *undo = NULL;
                struct vt_change c;
                if (vt_change_from_json(rec, &c) < 0)
                        continue;
                json_object_object_get_ex(rec, "record", &undo);
                vt_exec_clean_tmp(ctx, &c, undo ? undo : rec, pid);
                vt_change_done(&c);
        }
        vt_journal_clean_tmp(ctx);
}

/* The journal's entry ref names: its "id"; its "time" for entries older than ids. */
static json_object *journal_match(json_object *journal, json_object *ref)
{
        const char *id = vt_json_str(ref, "id"), *time = vt_json_str(ref, "time");
        if (id)
                return vt_journal_find(journal, id);
        json_object *e = vt_journal_entries(journal);
        for (size_t i = e ? json_object_array_length(e) : 0; i > 0 && time; i--) {
                json_object *entry = json_object_array_get_idx(e, i - 1);
                if (!vt_json_str(entry, "id") && streq_ptr(vt_json_str(entry, "time"), time))
                        return entry;
        }
        return NULL;
}

static json_object *entry_ref(json_object *entry)
{
        json_object *ref = json_object_new_object();
        vt_json_add_str(ref, "id", vt_json_str(entry, "id"));
        vt_json_add_str(ref, "time", vt_json_str(entry, "time"));
        return ref;
}

static void add_reverted(json_object *recs, json_object *summary);

/*
 * A previous apply or revert was killed (the intent is still there): undo the apply that was
 * not journaled, or finish the revert that was. *done gets what was done (NULL: nothing).
 */
static int recover(struct vt_ctx *ctx, json_object *journal, json_object **done, char *err,
                   size_t errlen)
{
        _cleanup_json_ json_object *in = NULL;
        *done = NULL;
        int r = vt_intent_load(ctx, &in);
        if (r == -ENOENT) {
                vt_journal_clean_tmp(ctx);
                return 0;
        }
        if (r < 0) {
                snprintf(err, errlen,
                         "%s: cannot read the record of an interrupted apply or revert (%s); "
                         "check the files it lists by hand, then remove it",
                         VT_INTENT_PATH, vt_strerror(r));
                return r;
        }
        const char *action = vt_json_str(in, "action");
        json_object *entry = json_object_object_get(in, "entry"), *pids;
        json_object *recs = entry_changes(entry);
        if (!recs || (!streq_ptr(action, "apply") && !streq_ptr(action, "revert")) ||
            !json_object_object_get_ex(in, "pids", &pids) ||
            !json_object_is_type(pids, json_type_array)) {
                snprintf(err, errlen, "%s: not a record of an apply or revert; remove it",
                         VT_INTENT_PATH);
                return -EBADMSG;
        }
        /* This process writes temp files too while it undoes: recorded first, like any. */
        json_object_array_add(pids, json_object_new_int((int)getpid()));
        r = vt_intent_save(ctx, in);
        if (r < 0) {
                snprintf(err, errlen, "%s: cannot update: %s", VT_INTENT_PATH, vt_strerror(r));
                return r;
        }
        for (size_t i = 0; i < json_object_array_length(pids); i++)
                clean_tmp(ctx, recs,
                          (pid_t)json_object_get_int(json_object_array_get_idx(pids, i)));
        _cleanup_json_ json_object *e = NULL;
        if (streq(action, "apply") && !journal_match(journal, entry)) {
                e = new_entry("recover");
                set_str(e, "interrupted", "apply");
                json_object_object_add(e, "changes", json_object_get(recs));
                r = undo_all(ctx, recs, "rolled-back", true);
        } else if (streq(action, "revert")) {
                /* the applies it was undoing that the journal still has in force */
                json_object *applies = json_object_object_get(in, "applies");
                json_object *summary = json_object_new_array();
                for (size_t i = 0; r >= 0 && i < json_object_array_length(applies); i++) {
                        json_object *j =
                                journal_match(journal, json_object_array_get_idx(applies, i));
                        if (!j || !vt_journal_in_force(j))
                                continue;
                        json_object *jr = entry_changes(j);
                        r = undo_all(ctx, jr, "reverted", false);
                        json_object_object_add(j, "reverted", json_object_new_boolean(r >= 0));
                        add_reverted(jr, summary);
                }
                if (json_object_array_length(summary) > 0 || r < 0) {
                        e = new_entry("revert");
                        set_str(e, "interrupted", "revert");
                        json_object_object_add(e, "changes", summary);
                } else
                        json_object_put(summary);
        }
        if (r < 0) {
                snprintf(err, errlen,
                         "an interrupted %s could not be undone (%s); %s lists what it changed",
                         action, vt_strerror(r), VT_INTENT_PATH);
                return r;
        }
        if (e) {
                set_str(e, "status", streq(action, "apply") ? "rolled-back" : "reverted");
                r = vt_journal_append(ctx, journal, e);
                if (r < 0) {
                        snprintf(err, errlen, "%s: cannot record the recovery: %s", VT_JOURNAL_PATH,
                                 vt_strerror(r));
                        return r;
                }
        }
        r = vt_intent_clear(ctx);
        if (r < 0) {
                snprintf(err, errlen, "%s: cannot remove: %s", VT_INTENT_PATH, vt_strerror(r));
                return r;
        }
        *done = TAKE_PTR(e);
        return 0;
}

/* Lock the root, load the journal, recover from a killed run; *ret says why on failure. */
static int begin(struct vt_ctx *ctx, int *lock, json_object **journal, json_object **recovered,
                 json_object **ret)
{
        char err[768] = "";
        int r = vt_journal_lock(ctx, lock, err, sizeof(err));
        if (r < 0) {
                *ret = error_msg(err);
                return r;
        }
        r = vt_journal_load(ctx, journal);
        if (r < 0) {
                snprintf(err, sizeof(err), "%s under %s: %s", VT_JOURNAL_PATH, ctx->root,
                         vt_strerror(r));
                *ret = error_msg(err);
                return r;
        }
        r = recover(ctx, *journal, recovered, err, sizeof(err));
        if (r < 0)
                *ret = error_msg(err);
        return r;
}

/* Marks rec with what applying its change gave (r from vt_exec_apply), from its "record". */
static void record_result(json_object *rec, int r, size_t *applied, int *failed)
{
        json_object *undo = json_object_object_get(rec, "record"), *v;
        if (r < 0) {
                set_str(rec, "result", "failed");
                if (json_object_object_get_ex(undo, "error", &v))
                        json_object_object_add(rec, "error", json_object_get(v));
                else
                        set_str(rec, "error", vt_strerror(r));
                *failed = r;
        } else if (r > 0) {
                set_str(rec, "result", "skipped");
                if (json_object_object_get_ex(undo, "note", &v))
                        json_object_object_add(rec, "note", json_object_get(v));
                json_object_object_del(rec, "record"); /* nothing to undo */
        } else {
                set_str(rec, "result", "applied");
                (*applied)++;
        }
}

/* Applies the command-line changes from index first on that are still to do, together. */
static int apply_cmdline(struct vt_ctx *ctx, const struct vt_plan *plan, json_object *recs,
                         size_t first, size_t *applied, int *failed,
                         const struct vt_exec_hook *hook)
{
        size_t n = 0;
        _cleanup_free_ const struct vt_change **cs = calloc(plan->n, sizeof(*cs));
        _cleanup_free_ json_object **undos = calloc(plan->n, sizeof(*undos));
        _cleanup_free_ json_object **group = calloc(plan->n, sizeof(*group));
        if (!cs || !undos || !group)
                return -ENOMEM;
        for (size_t i = first; i < plan->n; i++) {
                json_object *rec = json_object_array_get_idx(recs, i);
                if (plan->changes[i].kind != VT_TARGET_CMDLINE ||
                    json_object_object_get(rec, "result"))
                        continue;
                cs[n] = &plan->changes[i];
                group[n] = rec;
                undos[n] = json_object_new_object();
                json_object_object_add(rec, "record", undos[n]);
                n++;
        }
        for (size_t i = 0; i < n; i++)
                set_str(group[i], "result", "applying"); /* in the intent as cut short */
        int r = vt_exec_apply_cmdline(ctx, cs, n, undos, hook);
        for (size_t i = 0; i < n; i++)
                record_result(group[i], r, applied, failed);
        return 0;
}

int vt_tune_apply(struct vt_ctx *ctx, const struct vt_apply_opts *opts, json_object **ret)
{
        _cleanup_json_ json_object *detected = NULL, *journal = NULL, *recovered = NULL;
        _cleanup_close_ int lock = -1;
        json_object *facts = opts->facts;
        int r = facts_or_detect(ctx, &facts, &detected);
        if (r < 0)
                return r;
        struct vt_plan plan;
        /* Resolved only where it is used: a real apply plans anew under the lock. */
        r = build(ctx, facts, opts->only, &plan, opts->dry_run);
        if (r >= 0 && !opts->dry_run) {
                /* A refused policy writes nothing, not even the lock; under the lock (another
                 * apply may have run meanwhile, a killed one is undone) the plan is made anew. */
                vt_plan_done(&plan);
                r = begin(ctx, &lock, &journal, &recovered, ret);
                if (r < 0)
                        return r;
                r = build(ctx, facts, opts->only, &plan, true);
        }
        if (r < 0) {
                if (r == -EINVAL && plan.error)
                        *ret = error_doc(&plan);
                vt_plan_done(&plan);
                return r;
        }
        /* The daemon's boot-time pass re-asserts runtime values; revert undoes the real apply. */
        _cleanup_json_ json_object *entry = new_entry(opts->runtime_only ? "reapply" : "apply");
        char id[17];
        vt_journal_new_id(id);
        set_str(entry, "id", id);
        if (recovered)
                set_str(entry, "recovered",
                        "an interrupted run was undone first (see the journal's recover entry)");
        _cleanup_json_ json_object *intent = new_intent("apply", entry);
        struct wal wal = {ctx, intent};
        const struct vt_exec_hook hook = {wal_save, &wal};
        const struct vt_exec_hook prepare_hook = {stop_before_target, NULL};
        bool wal_written = false;
        json_object *recs = json_object_new_array();
        json_object_object_add(entry, "changes", recs);
        json_object_object_add(entry, "warnings", json_object_get(plan.warnings));
        json_object_object_add(entry, "notes", json_object_get(plan.notes));
        size_t applied = 0;
        int failed = 0;
        bool unit_files = false; /* a unit file or drop-in changed: a restart reloads first */
        for (size_t i = 0; i < plan.n; i++) {
                const struct vt_change *c = &plan.changes[i];
                json_object *rec = vt_change_to_json(c);
                json_object_array_add(recs, rec);
                const char *skip = skip_reason(ctx, opts, c);
                if (skip) {
                        set_str(rec, "result", "skipped");
                        set_str(rec, "note", skip);
                } else if (opts->dry_run)
                        set_str(rec, "result", "would-apply");
        }
        /*
         * The write-ahead intent, once for every change but the command line's: each apply is
         * run up to its hook (its record filled, its target untouched) and stopped there; the
         * intent then names them all as cut short, so a kill anywhere after it undoes each
         * (undoing an untouched target leaves it as it is). The command line's edit records
         * itself (its hook) when it comes.
         */
        size_t prepared = 0;
        for (size_t i = 0; !opts->dry_run && !failed && i < plan.n; i++) {
                json_object *rec = json_object_array_get_idx(recs, i);
                const struct vt_change *c = &plan.changes[i];
                if (json_object_object_get(rec, "result") || c->kind == VT_TARGET_CMDLINE)
                        continue;
                json_object *undo = json_object_new_object();
                json_object_object_add(rec, "record", undo);
                if (vt_change_is_restart(c))
                        json_object_object_add(undo, "daemon_reload",
                                               json_object_new_boolean(unit_files));
                int k = vt_exec_apply(ctx, c, undo, &prepare_hook);
                if (k != -ECANCELED) {
                        record_result(rec, k, &applied, &failed); /* skipped, or cannot */
                        continue;
                }
                set_str(rec, "result", "applying"); /* in the intent as cut short */
                prepared++;
                unit_files |= c->kind == VT_TARGET_FILE && vt_unit_is_unit_path(c->target);
        }
        if (prepared > 0 && !failed) {
                r = wal_save(&wal);
                /* Not recorded: nothing may be touched; the first one says why. */
                for (size_t i = 0; r < 0 && i < plan.n; i++) {
                        json_object *rec = json_object_array_get_idx(recs, i);
                        if (!streq_ptr(vt_json_str(rec, "result"), "applying"))
                                continue;
                        json_object_object_del(rec, "record");
                        if (failed)
                                set_str(rec, "result", "not-attempted");
                        else
                                record_result(rec, r, &applied, &failed);
                }
                wal_written = r >= 0;
        }
        for (size_t i = 0; !opts->dry_run && i < plan.n; i++) {
                json_object *rec = json_object_array_get_idx(recs, i);
                const char *res = vt_json_str(rec, "result");
                bool ready = streq_ptr(res, "applying");
                if (res && !ready)
                        continue; /* skipped, or applied with the command line before it */
                if (failed) {
                        json_object_object_del(rec, "record"); /* prepared, never touched */
                        set_str(rec, "result", "not-attempted");
                        continue;
                }
                const struct vt_change *c = &plan.changes[i];
                if (ready) {
                        json_object *undo = json_object_object_get(rec, "record");
                        int k = vt_exec_apply(ctx, c, undo, NULL);
                        /* Failed past its record (a directory made, the file not): undone
                         * like the others, which it is not counted among (a restart that
                         * failed is not run again). */
                        int u = k < 0 && !vt_change_is_restart(c) ? vt_exec_undo(ctx, c, undo) : 0;
                        /*
                         * A try-restart whose job failed found the service running and left it
                         * down (a try-restart does nothing to a stopped unit): the rollback,
                         * once its config is restored, starts it (RestartUnit), or the guest
                         * would lose the service that ran before this apply.
                         */
                        if (k == -EIO && vt_change_is_restart(c))
                                json_object_object_add(undo, "start",
                                                       json_object_new_boolean(true));
                        record_result(rec, k, &applied, &failed);
                        if (u < 0)
                                set_str(rec, "undo_error", vt_strerror(u));
                        continue;
                }
                /* Every command-line token of the plan in one edit: one rewrite, one generator. */
                wal_written = true;
                r = apply_cmdline(ctx, &plan, recs, i, &applied, &failed, &hook);
                if (r < 0) {
                        vt_plan_done(&plan);
                        return r;
                }
        }
        vt_plan_done(&plan);
        const char *status = opts->dry_run ? "dry-run" : applied ? "applied" : "no-op";
        json_object_object_add(
                entry, "reboot_needed",
                json_object_new_boolean(!failed && !opts->dry_run && cmdline_waits(recs)));
        int u = 0;
        if (failed) {
                /* All or nothing: a half-tuned system is harder to reason about than either. */
                u = undo_all(ctx, recs, "rolled-back", true);
                status = u < 0 ? "rollback-failed" : "rolled-back";
                set_str(entry, "error", vt_strerror(failed));
        }
        set_str(entry, "status", status);
        /*
         * An apply that changed nothing leaves no trace (a boot's re-assertion, a second apply):
         * there is nothing to revert, and the journal would fill with no-ops. A recovery that
         * undid an interrupted run is still journaled with its entry.
         */
        bool journaled = false;
        if (!opts->dry_run && !(applied == 0 && !failed && !recovered)) {
                r = vt_journal_append(ctx, journal, entry);
                journaled = r >= 0;
                if (r < 0 && !failed) {
                        /* Changes with nothing to revert them are worse than none: undo. */
                        u = undo_all(ctx, recs, "rolled-back", true);
                        if (u >= 0)
                                (void)vt_intent_clear(ctx);
                        char err[512];
                        snprintf(err, sizeof(err), "Cannot write %s under %s (%s); %s",
                                 VT_JOURNAL_PATH, ctx->root, vt_strerror(r),
                                 u < 0 ? "the changes could not be undone either: "
                                         "the next apply or revert undoes them"
                                       : "every change was undone");
                        *ret = error_msg(err);
                        return r;
                }
        }
        /* Journaled (or rolled back): the intent has done its work. A failed rollback keeps it. */
        if (wal_written && u >= 0) {
                r = journaled ? vt_intent_clear_journaled(ctx) : vt_intent_clear(ctx);
                if (r < 0) {
                        char err[512];
                        snprintf(err, sizeof(err), "Cannot remove %s under %s: %s", VT_INTENT_PATH,
                                 ctx->root, vt_strerror(r));
                        *ret = error_msg(err);
                        return r;
                }
        }
        *ret = TAKE_PTR(entry);
        return failed ? 1 : 0;
}

/* A `virtune cmdline` edit's record goes into the intent before any boot file is touched. */
struct cmdline_wal {
        struct wal wal;
        json_object *rec;
};

static int cmdline_wal_save(void *userdata, json_object *record)
{
        struct cmdline_wal *w = userdata;
        json_object *undo = json_object_new_object();
        json_object_object_add(undo, "bootcfg", json_object_get(record));
        json_object_object_add(w->rec, "record", undo);
        return wal_save(&w->wal);
}

int vt_tune_cmdline_edit(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                         const char *keys, const char *tokens, const struct vt_bootcfg_opts *opts,
                         char **diff, json_object **record)
{
        assert(opts && opts->err && opts->errlen);
        if (opts->flags & VT_BOOTCFG_DRY_RUN)
                return vt_bootcfg_edit_opts(ctx, edits, n, opts, diff, record);
        _cleanup_json_ json_object *journal = NULL, *recovered = NULL, *why = NULL;
        _cleanup_close_ int lock = -1;
        int r = begin(ctx, &lock, &journal, &recovered, &why);
        if (r < 0) {
                snprintf(opts->err, opts->errlen, "%s; nothing was changed",
                         vt_json_str(why, "error") ? vt_json_str(why, "error") : vt_strerror(r));
                return r;
        }
        struct vt_change c = {.module = (char *)"cmdline",
                              .kind = VT_TARGET_CMDLINE,
                              .target = (char *)keys,
                              .to = (char *)tokens,
                              .why = (char *)"virtune cmdline",
                              .when = VT_WHEN_BOOT};
        json_object *rec = vt_change_to_json(&c), *recs = json_object_new_array();
        set_str(rec, "result", "applying"); /* in the intent as cut short */
        json_object_array_add(recs, rec);
        _cleanup_json_ json_object *entry = new_entry("apply");
        char id[17];
        vt_journal_new_id(id);
        set_str(entry, "id", id);
        set_str(entry, "by", "virtune cmdline");
        if (recovered)
                set_str(entry, "recovered",
                        "an interrupted run was undone first (see the journal's recover entry)");
        json_object_object_add(entry, "changes", recs);
        _cleanup_json_ json_object *intent = new_intent("apply", entry);
        struct cmdline_wal w = {{ctx, intent}, rec};
        struct vt_bootcfg_opts o = *opts;
        o.before_write = cmdline_wal_save;
        o.userdata = &w;
        _cleanup_json_ json_object *out = NULL;
        r = vt_bootcfg_edit_opts(ctx, edits, n, &o, diff, &out);
        bool written = json_object_object_get(rec, "record") != NULL;
        if (r >= 0 && !written) {
                *record = TAKE_PTR(out); /* nothing to change: nothing to journal */
                return 0;
        }
        if (r >= 0) {
                json_object_object_add(json_object_object_get(rec, "record"), "bootcfg",
                                       json_object_get(out)); /* with the generators' outcome */
                set_str(rec, "result", "applied");
                json_object_object_add(entry, "reboot_needed", json_object_new_boolean(true));
                set_str(entry, "status", "applied");
                r = vt_journal_append(ctx, journal, entry);
                if (r >= 0) {
                        r = vt_intent_clear(ctx);
                        if (r < 0) {
                                snprintf(opts->err, opts->errlen,
                                         "Cannot remove %s under %s: %s (the edit is journaled)",
                                         VT_INTENT_PATH, ctx->root, vt_strerror(r));
                                return r;
                        }
                        *record = TAKE_PTR(out);
                        return 0;
                }
                snprintf(opts->err, opts->errlen, "Cannot write %s under %s (%s)", VT_JOURNAL_PATH,
                         ctx->root, vt_strerror(r));
        }
        if (!written) {
                if (r != -EINVAL)
                        strncat(opts->err, "; nothing was changed",
                                opts->errlen - strlen(opts->err) - 1);
                return r;
        }
        /* Changes with nothing to revert them are worse than none: undo what was written. */
        int u = undo_all(ctx, recs, "rolled-back", true);
        if (u >= 0)
                u = vt_intent_clear(ctx);
        size_t l = strlen(opts->err);
        snprintf(opts->err + l, opts->errlen - l, "%s",
                 u >= 0 ? "; every change was undone"
                        : "; the changes could not be undone either: the next apply or revert "
                          "undoes them (" VT_INTENT_PATH " lists them)");
        return r;
}

/* A summary of the reverted changes of recs (no undo records), newest first, into summary. */
static void add_reverted(json_object *recs, json_object *summary)
{
        for (size_t i = json_object_array_length(recs); i > 0; i--) {
                json_object *rec = json_object_array_get_idx(recs, i - 1), *v;
                if (json_object_object_get_ex(rec, "result", &v) &&
                    streq_ptr(json_object_get_string(v), "reverted")) {
                        json_object *s = json_object_new_object();
                        json_object_object_foreach (rec, k, val) {
                                if (!streq(k, "record") && !streq(k, "why"))
                                        json_object_object_add(s, k, json_object_get(val));
                        }
                        json_object_array_add(summary, s);
                }
        }
}

int vt_tune_revert(struct vt_ctx *ctx, bool dry_run, json_object **ret)
{
        return vt_tune_revert_opts(ctx, dry_run, false, ret);
}

int vt_tune_revert_opts(struct vt_ctx *ctx, bool dry_run, bool last_only, json_object **ret)
{
        _cleanup_json_ json_object *journal = NULL, *recovered = NULL;
        _cleanup_close_ int lock = -1;
        int r;
        if (dry_run)
                r = vt_journal_load(ctx, &journal);
        else
                r = begin(ctx, &lock, &journal, &recovered, ret);
        if (r < 0)
                return r;
        if (recovered) {
                /* The interrupted apply (or revert) was the newest: undoing it is this revert. */
                *ret = TAKE_PTR(recovered);
                return 0;
        }
        _cleanup_json_ json_object *entry = new_entry("revert");
        if (!vt_journal_last_apply(journal)) {
                set_str(entry, "status", "nothing-to-revert");
                *ret = TAKE_PTR(entry);
                return 0;
        }
        if (!dry_run) {
                /* What this revert undoes, named before any file is touched (the intent). */
                json_object *applies = json_object_new_array(), *all = json_object_new_array();
                json_object *entries = vt_journal_entries(journal);
                for (size_t i = json_object_array_length(entries); i > 0; i--) {
                        json_object *e = json_object_array_get_idx(entries, i - 1);
                        json_object *recs = entry_changes(e);
                        if (!vt_journal_in_force(e) || !recs)
                                continue;
                        json_object_array_add(applies, entry_ref(e));
                        for (size_t k = 0; k < json_object_array_length(recs); k++)
                                json_object_array_add(
                                        all, json_object_get(json_object_array_get_idx(recs, k)));
                        if (last_only)
                                break;
                }
                _cleanup_json_ json_object *all_entry = json_object_new_object();
                json_object_object_add(all_entry, "changes", all);
                _cleanup_json_ json_object *intent = new_intent("revert", all_entry);
                json_object_object_add(intent, "applies", applies);
                r = vt_intent_save(ctx, intent);
                if (r < 0) {
                        char err[512];
                        snprintf(err, sizeof(err), "Cannot write %s under %s: %s", VT_INTENT_PATH,
                                 ctx->root, vt_strerror(r));
                        *ret = error_msg(err);
                        return r;
                }
        }
        /* every apply still in force, newest first: back to before virtune's first apply */
        json_object *summary = json_object_new_array(), *times = json_object_new_array();
        json_object_object_add(entry, "changes", summary);
        json_object_object_add(entry, "apply_times", times);
        json_object *entries = vt_journal_entries(journal);
        r = 0;
        for (size_t i = json_object_array_length(entries); i > 0 && r >= 0; i--) {
                json_object *last = json_object_array_get_idx(entries, i - 1), *recs, *t;
                if (last != vt_journal_last_apply(journal) ||
                    !json_object_object_get_ex(last, "changes", &recs))
                        continue;
                if (json_object_object_get_ex(last, "time", &t)) {
                        json_object_array_add(times, json_object_get(t));
                        if (!json_object_object_get_ex(entry, "apply_time", NULL))
                                json_object_object_add(entry, "apply_time", json_object_get(t));
                }
                if (dry_run) {
                        for (size_t k = json_object_array_length(recs); k > 0; k--)
                                json_object_array_add(
                                        summary,
                                        json_object_get(json_object_array_get_idx(recs, k - 1)));
                        /* a dry run marks nothing: stop where a real one would start over */
                        if (last_only)
                                break;
                        json_object_object_add(last, "reverted", json_object_new_boolean(true));
                        continue;
                }
                r = undo_all(ctx, recs, "reverted", false);
                json_object_object_add(last, "reverted", json_object_new_boolean(r >= 0));
                add_reverted(recs, summary);
                if (last_only)
                        break;
        }
        if (dry_run) {
                set_str(entry, "status", "dry-run");
                *ret = TAKE_PTR(entry);
                return 0; /* the journal loaded here is dropped unwritten */
        }
        set_str(entry, "status", r < 0 ? "failed" : "reverted");
        int w = vt_journal_append(ctx, journal, entry);
        if (w < 0) {
                char err[512];
                snprintf(err, sizeof(err),
                         "Cannot write %s under %s (%s); run revert again to finish it",
                         VT_JOURNAL_PATH, ctx->root, vt_strerror(w));
                *ret = error_msg(err);
                return w;
        }
        if (r >= 0)
                (void)vt_intent_clear(ctx); /* a failed revert keeps it: the next one finishes */
        *ret = TAKE_PTR(entry);
        return r < 0 ? 1 : 0;
}

int vt_tune_verify(struct vt_ctx *ctx, json_object *facts, json_object **ret)
{
        json_object *p = NULL;
        int r = vt_tune_plan(ctx, facts, &p);
        if (r < 0) {
                *ret = p;
                return r;
        }
        json_object *o = json_object_new_object(), *drift, *v;
        json_object_object_get_ex(p, "changes", &drift);
        json_object_object_add(o, "ok",
                               json_object_new_boolean(json_object_array_length(drift) == 0));
        json_object_object_foreach (p, k, val) {
                if (streq(k, "changes"))
                        json_object_object_add(o, "drift", json_object_get(val));
                else if (!streq(k, "notes"))
                        json_object_object_add(o, k, json_object_get(val));
        }
        (void)v;
        json_object_put(p);
        *ret = o;
        return 0;
}

/* {"time", "changes": N} of a journal entry, or NULL for none (status prints "-"). */
static json_object *entry_summary(json_object *entry)
{
        json_object *v;
        if (!entry)
                return NULL;
        json_object *summary = json_object_new_object();
        if (json_object_object_get_ex(entry, "time", &v))
                json_object_object_add(summary, "time", json_object_get(v));
        if (json_object_object_get_ex(entry, "changes", &v))
                json_object_object_add(summary, "changes",
                                       json_object_new_int((int)json_object_array_length(v)));
        return summary;
}

int vt_tune_status(struct vt_ctx *ctx, json_object *facts, json_object **ret)
{
        _cleanup_json_ json_object *journal = NULL, *verify = NULL;
        int r = vt_journal_load(ctx, &journal);
        if (r < 0)
                return r;
        r = vt_tune_verify(ctx, facts, &verify);
        if (r < 0) {
                *ret = TAKE_PTR(verify);
                return r;
        }
        json_object *o = json_object_new_object(), *v;
        json_object_object_add(o, "policy", vt_policy_to_json(ctx->policy));
        json_object_object_add(o, "policy_files",
                               ctx->policy ? vt_policy_files(ctx->policy)
                                           : json_object_new_array());
        json_object_object_add(o, "last_apply", entry_summary(vt_journal_last_apply(journal)));
        /* What the daemon re-applied at its start (boot): not undone by revert, shown apart. */
        json_object_object_add(o, "last_reapply", entry_summary(vt_journal_last_reapply(journal)));
        json_object_object_get_ex(verify, "pending_reboot", &v);
        json_object_object_add(o, "pending_reboot", json_object_get(v));
        /* Only command-line changes wait on a reboot (resolve); firstboot decides on this. */
        json_object_object_add(o, "reboot_needed",
                               json_object_new_boolean(json_object_array_length(v) > 0));
        json_object_object_get_ex(verify, "drift", &v);
        json_object_object_add(o, "drift", json_object_new_int((int)json_object_array_length(v)));
        *ret = o;
        return 0;
}
