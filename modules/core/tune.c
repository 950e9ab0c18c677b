/* The tuner: plans from facts and policy, applies through the executor, journals, reverts. */
#include "exec.h"
#include "journal.h"
#include "module.h"
#include "policy.h"
#include "tune.h"
#include "unitfile.h"

/* Plan module names differ from detect names in one place: cpuidle's plan is "haltpoll". */
bool vt_tune_selected(const char *const *only, const char *module)
{
        if (!only)
                return true;
        for (const char *const *o = only; *o; o++)
                if (streq(*o, module) || (streq(*o, "cpuidle") && streq(module, "haltpoll")))
                        return true;
        return false;
}

static bool is_restart(const struct vt_change *c)
{
        return c->kind == VT_TARGET_UNIT && !streq_ptr(c->to, "enabled");
}

/*
 * Replaces each change's `from` with what the target holds now, marks command-line tokens that
 * are configured but not yet booted, and drops what is already as wanted.
 */
static int resolve(struct vt_ctx *ctx, struct vt_plan *plan)
{
        for (size_t i = 0; i < plan->n; i++) {
                struct vt_change *c = &plan->changes[i];
                if (is_restart(c))
                        continue;
                char *cur = NULL;
                int r = vt_exec_current(ctx, c, &cur);
                if (r == -EOPNOTSUPP || r == -ENODATA || (r < 0 && c->kind == VT_TARGET_ATTR))
                        continue; /* keep the facts' value; apply will say what it can do */
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
                if (!is_restart(c) || c->from)
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

static int build(struct vt_ctx *ctx, json_object *facts, const char *const *only,
                 struct vt_plan *plan)
{
        vt_plan_init(plan);
        if (!plan->warnings || !plan->notes)
                return -ENOMEM;
        for (size_t i = 0; i < vt_modules_len; i++) {
                const struct vt_module *m = &vt_modules[i];
                if (!m->plan)
                        continue;
                if (only && !vt_tune_selected(only, m->name) &&
                    !(streq(m->name, "cpuidle") && vt_tune_selected(only, "haltpoll")))
                        continue;
                int r = m->plan(ctx, facts, plan);
                if (r < 0)
                        return r;
        }
        int r = vt_kernel_plan_future(ctx, facts, plan);
        return r < 0 ? r : resolve(ctx, plan);
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

int vt_tune_plan(struct vt_ctx *ctx, json_object *facts, json_object **ret)
{
        struct vt_plan plan;
        int r = build(ctx, facts, NULL, &plan);
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
 * last: a service restarted on revert must read its files as they are put back.
 */
static int undo_all(struct vt_ctx *ctx, json_object *recs, const char *result)
{
        int ret = 0;
        for (size_t k = 0; k < 2 * json_object_array_length(recs); k++) {
                size_t n = json_object_array_length(recs);
                bool restarts = k >= n;
                json_object *rec = json_object_array_get_idx(recs, n - 1 - k % n), *v, *undo = NULL;
                if (!json_object_object_get_ex(rec, "result", &v) ||
                    !streq_ptr(json_object_get_string(v), "applied"))
                        continue;
                struct vt_change c;
                int r = vt_change_from_json(rec, &c);
                if (r < 0)
                        return r;
                if (is_restart(&c) != restarts) {
                        vt_change_done(&c);
                        continue;
                }
                json_object_object_get_ex(rec, "record", &undo);
                r = vt_exec_undo(ctx, &c, undo ? undo : rec);
                if (r < 0) {
                        set_str(rec, "undo_error", strerror(-r));
                        ret = r;
                } else
                        set_str(rec, "result", result);
                vt_change_done(&c);
        }
        return ret;
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
                        set_str(rec, "error", strerror(-r));
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
                         size_t first, size_t *applied, int *failed)
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
        int r = vt_exec_apply_cmdline(ctx, cs, n, undos);
        for (size_t i = 0; i < n; i++)
                record_result(group[i], r, applied, failed);
        return 0;
}

int vt_tune_apply(struct vt_ctx *ctx, const struct vt_apply_opts *opts, json_object **ret)
{
        _cleanup_json_ json_object *detected = NULL;
        json_object *facts = opts->facts;
        int r = 0;
        if (!facts) {
                r = vt_detect_all(ctx, &detected);
                if (r < 0)
                        return r;
                facts = detected;
        }
        struct vt_plan plan;
        r = build(ctx, facts, opts->only, &plan);
        if (r < 0) {
                if (r == -EINVAL && plan.error)
                        *ret = error_doc(&plan);
                vt_plan_done(&plan);
                return r;
        }
        _cleanup_json_ json_object *journal = NULL;
        if (!opts->dry_run) {
                r = vt_journal_load(ctx, &journal);
                if (r < 0) {
                        vt_plan_done(&plan);
                        return r;
                }
        }
        /* The daemon's boot-time pass re-asserts runtime values; revert undoes the real apply. */
        _cleanup_json_ json_object *entry = new_entry(opts->runtime_only ? "reapply" : "apply");
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
        for (size_t i = 0; !opts->dry_run && i < plan.n; i++) {
                json_object *rec = json_object_array_get_idx(recs, i);
                if (json_object_object_get(rec, "result"))
                        continue; /* skipped, or applied with the command line before it */
                if (failed) {
                        set_str(rec, "result", "not-attempted");
                        continue;
                }
                const struct vt_change *c = &plan.changes[i];
                if (c->kind != VT_TARGET_CMDLINE) {
                        json_object *undo = json_object_new_object();
                        json_object_object_add(rec, "record", undo);
                        if (is_restart(c))
                                json_object_object_add(undo, "daemon_reload",
                                                       json_object_new_boolean(unit_files));
                        int k = vt_exec_apply(ctx, c, undo);
                        record_result(rec, k, &applied, &failed);
                        if (k == 0)
                                unit_files |= c->kind == VT_TARGET_FILE &&
                                              vt_unit_is_unit_path(c->target);
                        continue;
                }
                /* Every command-line token of the plan in one edit: one rewrite, one generator. */
                r = apply_cmdline(ctx, &plan, recs, i, &applied, &failed);
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
        if (failed) {
                /* All or nothing: a half-tuned system is harder to reason about than either. */
                int u = undo_all(ctx, recs, "rolled-back");
                status = u < 0 ? "rollback-failed" : "rolled-back";
                set_str(entry, "error", strerror(-failed));
        }
        set_str(entry, "status", status);
        /* A boot with nothing to re-assert leaves no trace: the journal would fill with no-ops. */
        if (!opts->dry_run && !(opts->runtime_only && applied == 0 && !failed)) {
                r = vt_journal_append(ctx, journal, entry);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(entry);
        return failed ? 1 : 0;
}

int vt_tune_journal_cmdline(struct vt_ctx *ctx, const char *keys, const char *tokens,
                            json_object *record)
{
        json_object *files = vt_json_get(record, "files"),
                    *regen = vt_json_get(record, "regenerated");
        if (json_object_array_length(files) == 0 && json_object_array_length(regen) == 0)
                return 0; /* nothing changed: nothing to undo */
        _cleanup_json_ json_object *journal = NULL;
        int r = vt_journal_load(ctx, &journal);
        if (r < 0)
                return r;
        struct vt_change c = {.module = (char *)"cmdline",
                              .kind = VT_TARGET_CMDLINE,
                              .target = (char *)keys,
                              .to = (char *)tokens,
                              .why = (char *)"virtune cmdline",
                              .when = VT_WHEN_BOOT};
        json_object *rec = vt_change_to_json(&c), *undo = json_object_new_object();
        set_str(rec, "result", "applied");
        json_object_object_add(undo, "bootcfg", json_object_get(record));
        json_object_object_add(rec, "record", undo);
        _cleanup_json_ json_object *entry = new_entry("apply");
        json_object *recs = json_object_new_array();
        json_object_array_add(recs, rec);
        json_object_object_add(entry, "changes", recs);
        json_object_object_add(entry, "reboot_needed", json_object_new_boolean(true));
        set_str(entry, "status", "applied");
        set_str(entry, "by", "virtune cmdline");
        return vt_journal_append(ctx, journal, entry);
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
        _cleanup_json_ json_object *journal = NULL;
        int r = vt_journal_load(ctx, &journal);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *entry = new_entry("revert");
        if (!vt_journal_last_apply(journal)) {
                set_str(entry, "status", "nothing-to-revert");
                *ret = TAKE_PTR(entry);
                return 0;
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
                r = undo_all(ctx, recs, "reverted");
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
        if (w < 0)
                return w;
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
