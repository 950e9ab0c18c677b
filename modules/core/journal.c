/* The journal: <root>/var/lib/virtune/journal.json, what each apply changed and the old values. */
#include <time.h>
#include "fsutil.h"
#include "journal.h"

#define JOURNAL_MAX (16u << 20)

json_object *vt_journal_entries(json_object *journal)
{
        json_object *e;
        if (!journal || !json_object_object_get_ex(journal, "entries", &e) ||
            !json_object_is_type(e, json_type_array))
                return NULL;
        return e;
}

int vt_journal_load(struct vt_ctx *ctx, json_object **ret)
{
        _cleanup_free_ char *text = NULL;
        int r = vt_read_file_max(ctx, VT_JOURNAL_PATH, JOURNAL_MAX, &text, NULL);
        if (r == -ENOENT) {
                json_object *j = json_object_new_object();
                json_object_object_add(j, "version", json_object_new_int(1));
                json_object_object_add(j, "entries", json_object_new_array());
                *ret = j;
                return 0;
        }
        if (r < 0)
                return r;
        json_object *j = json_tokener_parse(text);
        if (!j || !vt_journal_entries(j)) {
                json_object_put(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

int vt_journal_save(struct vt_ctx *ctx, json_object *journal)
{
        int r = vt_fs_mkdir_p(ctx, "/var/lib/virtune", NULL);
        if (r < 0)
                return r;
        const char *s = json_object_to_json_string_ext(
                journal,
                JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *text = NULL;
        if (asprintf(&text, "%s\n", s) < 0)
                return -ENOMEM;
        return vt_fs_write_atomic(ctx, VT_JOURNAL_PATH, text, strlen(text), 0600);
}

/* The apply a revert would undo must outlive any number of later entries (one per boot). */
static bool in_force(json_object *entry)
{
        json_object *v;
        return json_object_object_get_ex(entry, "action", &v) &&
               streq_ptr(json_object_get_string(v), "apply") &&
               json_object_object_get_ex(entry, "status", &v) &&
               streq_ptr(json_object_get_string(v), "applied") &&
               !(json_object_object_get_ex(entry, "reverted", &v) && json_object_get_boolean(v));
}

int vt_journal_append(struct vt_ctx *ctx, json_object *journal, json_object *entry)
{
        json_object *e = vt_journal_entries(journal);
        if (!e)
                return -EINVAL;
        json_object_array_add(e, json_object_get(entry));
        /* Drop the oldest entries first, but never one whose changes are still in force. */
        for (size_t i = 0;
             json_object_array_length(e) > VT_JOURNAL_KEEP && i < json_object_array_length(e);) {
                if (in_force(json_object_array_get_idx(e, i)))
                        i++;
                else
                        json_object_array_del_idx(e, i, 1);
        }
        return vt_journal_save(ctx, journal);
}

json_object *vt_journal_last_apply(json_object *journal)
{
        json_object *e = vt_journal_entries(journal);
        for (size_t i = e ? json_object_array_length(e) : 0; i > 0; i--)
                if (in_force(json_object_array_get_idx(e, i - 1)))
                        return json_object_array_get_idx(e, i - 1);
        return NULL;
}

json_object *vt_journal_last_reapply(json_object *journal)
{
        json_object *e = vt_journal_entries(journal), *v;
        for (size_t i = e ? json_object_array_length(e) : 0; i > 0; i--) {
                json_object *entry = json_object_array_get_idx(e, i - 1);
                if (json_object_object_get_ex(entry, "action", &v) &&
                    streq_ptr(json_object_get_string(v), "reapply"))
                        return entry;
        }
        return NULL;
}

void vt_journal_time(char *buf, size_t size)
{
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
