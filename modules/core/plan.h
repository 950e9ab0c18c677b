/* A plan is data: the changes that would bring the system to the policy. Owned by tuning. */
#pragma once

#include <assert.h>
#include "ctx.h"
#include "envfile.h" /* vt_text_set_var, for the plan halves that edit such files */
#include "facts.h"

enum vt_target_kind {
        VT_TARGET_ATTR,    /* a sysfs/procfs attribute */
        VT_TARGET_CMDLINE, /* a kernel command-line token (through grubcfg) */
        VT_TARGET_FILE,    /* a file virtune owns (udev rule, modprobe.d, drop-in) */
        VT_TARGET_KMOD,    /* a module to load (with options) */
        VT_TARGET_UNIT,    /* a unit to enable/restart */
};

enum vt_when {
        VT_WHEN_NOW,    /* runtime: takes effect when applied */
        VT_WHEN_BOOT,   /* persistent: written now, in force from next boot */
        VT_WHEN_REBOOT, /* written already, waiting for a reboot */
};

/*
 * What `to` means per kind: ATTR the value; CMDLINE the whole token ("key=value" or "flag"),
 * NULL removes the key; FILE the whole content, NULL removes the file; KMOD the options
 * ("" for none), meaning "loaded"; UNIT "enabled" or "restarted".
 */
struct vt_change {
        char *module;
        enum vt_target_kind kind;
        char *target; /* path, token key, module name or unit */
        char *from;   /* current value; NULL: absent */
        char *to;     /* wanted value; NULL: remove */
        char *why;    /* one line citing the guide */
        enum vt_when when;
        bool owned; /* FILE: virtune owns it (header; revert removes it) */
        /*
         * UNIT "restarted": what runs now is stale (started with older settings), so the restart
         * is due even when none of its module's files change. Not stale: only with a change.
         */
        bool stale;
        /* CMDLINE adding a token: where the target kernel shows it understands the token
         * ("file:line: text", facts.kernel.tokens) */
        char *evidence;
};

struct vt_plan {
        struct vt_change *changes;
        size_t n;
        json_object *warnings; /* array of strings: what the user should look at */
        json_object *notes;    /* array of strings: decisions explained, nothing to do */
        char *error;           /* "file:line: message" when a plan half refused the policy */
};

void vt_plan_init(struct vt_plan *plan);
void vt_plan_done(struct vt_plan *plan);
/* Appends a change (strings copied). Returns 0 or -ENOMEM. */
int vt_plan_add(struct vt_plan *plan, const char *module, enum vt_target_kind kind,
                const char *target, const char *from, const char *to, enum vt_when when,
                const char *why);
/* Appends a restart of unit (an action, never a state: from and to say nothing of it). */
int vt_plan_restart(struct vt_plan *plan, const char *module, const char *unit, bool stale,
                    const char *why);
/* Whether c is a unit restart (vt_plan_restart). */
bool vt_change_is_restart(const struct vt_change *c);
/* Appends a warning "module: text". */
void vt_plan_warn(struct vt_plan *plan, const char *module, const char *fmt, ...) _printf_(3, 4);
/* Appends a note "module: text". */
void vt_plan_note(struct vt_plan *plan, const char *module, const char *fmt, ...) _printf_(3, 4);
/* Records a policy error naming where the value came from; returns -EINVAL. */
int vt_plan_fail(struct vt_plan *plan, const char *origin, const char *fmt, ...) _printf_(3, 4);
/* Drops change i (keeps order). */
void vt_plan_remove(struct vt_plan *plan, size_t i);

const char *vt_target_kind_to_string(enum vt_target_kind k);
int vt_target_kind_from_string(const char *s);
const char *vt_when_to_string(enum vt_when w);
int vt_when_from_string(const char *s);

json_object *vt_change_to_json(const struct vt_change *c);
/* Fills c from json (strings copied); -EINVAL on a malformed entry. */
int vt_change_from_json(json_object *o, struct vt_change *c);
void vt_change_done(struct vt_change *c);

/* Small readers over json (facts, journal records); NULL/default when absent or mistyped. */
json_object *vt_json_get(json_object *o, const char *key);
const char *vt_json_str(json_object *o, const char *key);
bool vt_json_bool(json_object *o, const char *key);
int64_t vt_json_int(json_object *o, const char *key, int64_t def);
/* The running command line's token for key from facts.virt.cmdline ("key=value"/"key"). */
char *vt_plan_running_token(json_object *facts, const char *key);

/*
 * Wants the command-line token `token` ("key=value", "flag") for key: added only with evidence
 * that the target kernel understands it (facts.kernel.tokens), else a warning naming the kernel
 * that would and no change. token NULL: the key is removed only when virtune added it
 * (facts.kernel.owned); the operator's own tokens stay.
 */
int vt_plan_cmdline(struct vt_plan *plan, json_object *facts, const char *module, const char *key,
                    const char *token, const char *why);
/* Removes key whoever put it there: the policy asked for it off (enable = no). */
int vt_plan_cmdline_remove(struct vt_plan *plan, json_object *facts, const char *module,
                           const char *key, const char *why);
/* The header of every file virtune owns; `comment` is the file's comment leader ("#"). */
#define VT_OWNED_HEADER "# Written by virtune; `virtune revert` removes it. Do not edit.\n"
