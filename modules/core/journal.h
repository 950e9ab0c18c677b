/* The journal: <root>/var/lib/virtune/journal.json, what each apply changed and the old values. */
#pragma once

#include "ctx.h"

#define VT_JOURNAL_PATH "/var/lib/virtune/journal.json"
/* Entries kept; older ones are dropped, except applies still in force (revert needs them). */
#define VT_JOURNAL_KEEP 32

/* {"version": 1, "entries": [...]}; an empty journal when the file is absent. */
int vt_journal_load(struct vt_ctx *ctx, json_object **ret);
/* Appends entry (takes a reference) and writes the journal atomically. */
int vt_journal_append(struct vt_ctx *ctx, json_object *journal, json_object *entry);
int vt_journal_save(struct vt_ctx *ctx, json_object *journal);
json_object *vt_journal_entries(json_object *journal);
/*
 * The newest apply entry whose changes are still in force (action "apply", status "applied",
 * not reverted). The daemon's boot-time re-applies are action "reapply": revert skips them.
 */
json_object *vt_journal_last_apply(json_object *journal);
/* The newest "reapply" entry (the daemon's runtime apply at its start), or NULL. */
json_object *vt_journal_last_reapply(json_object *journal);
/* Now as "2026-01-31T12:00:00Z". */
void vt_journal_time(char *buf, size_t size);
