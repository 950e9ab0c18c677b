/* The journal: <root>/var/lib/virtune/journal.json, what each apply changed and the old values. */
#pragma once

#include "ctx.h"

#define VT_JOURNAL_PATH VT_STATE_DIR "/journal.json"
/* The write-ahead intent: what an apply or revert in progress is about to change, made durable
 * before each target is touched; present only while one runs or after one was killed. */
#define VT_INTENT_PATH VT_STATE_DIR "/intent.json"
/* Per-root lock: under the root's /var/lib/virtune, or /run/lock for the real "/". */
#define VT_LOCK_PATH      VT_STATE_DIR "/lock"
#define VT_LOCK_PATH_LIVE "/run/lock/virtune.lock"
/* How long a second apply/revert waits for the first (VIRTUNE_LOCK_TIMEOUT_MS overrides). */
#define VT_LOCK_TIMEOUT_MS 30000

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
/* Whether entry is an apply still in force (what revert undoes). */
bool vt_journal_in_force(json_object *entry);
/* The newest "reapply" entry (the daemon's runtime apply at its start), or NULL. */
json_object *vt_journal_last_reapply(json_object *journal);
/*
 * Takes the root's lock (flock, exclusive), waiting up to VT_LOCK_TIMEOUT_MS; the fd in *fd
 * (closing it releases). -EWOULDBLOCK after the wait, with a message naming the lock in err.
 */
int vt_journal_lock(struct vt_ctx *ctx, int *fd, char *err, size_t errlen);
/* The intent (file and directory fsync'd), or -ENOENT from load when there is none. */
int vt_intent_save(struct vt_ctx *ctx, json_object *intent);
int vt_intent_load(struct vt_ctx *ctx, json_object **ret);
int vt_intent_clear(struct vt_ctx *ctx);
/*
 * The same once the run the intent guarded is in the durable journal, without the directory's
 * fsync: an unlink lost to a power cut brings back an intent whose entry the journal holds, and
 * recovery then undoes nothing (it only removes the intent again).
 */
int vt_intent_clear_journaled(struct vt_ctx *ctx);
/* Removes temp files a killed virtune left in the journal directory (lock held). */
void vt_journal_clean_tmp(struct vt_ctx *ctx);
/* A random id for a journal entry (16 hex digits). */
void vt_journal_new_id(char buf[static 17]);
/* The entry of entries with this "id", or NULL. */
json_object *vt_journal_find(json_object *journal, const char *id);
/* Now as "2026-01-31T12:00:00Z". */
void vt_journal_time(char *buf, size_t size);
