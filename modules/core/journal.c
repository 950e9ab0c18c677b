/* The journal: <root>/var/lib/virtune/journal.json, what each apply changed and the old values. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
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

static int save_json(struct vt_ctx *ctx, const char *path, json_object *doc)
{
        int r = vt_fs_mkdir_p(ctx, VT_STATE_DIR, NULL);
        if (r < 0)
                return r;
        const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                                    JSON_C_TO_STRING_SPACED |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *text = NULL;
        if (asprintf(&text, "%s\n", s) < 0)
                return -ENOMEM;
        return vt_fs_write_atomic(ctx, path, text, strlen(text), 0600);
}

int vt_journal_save(struct vt_ctx *ctx, json_object *journal)
{
        return save_json(ctx, VT_JOURNAL_PATH, journal);
}

int vt_intent_save(struct vt_ctx *ctx, json_object *intent)
{
        return save_json(ctx, VT_INTENT_PATH, intent);
}

int vt_intent_load(struct vt_ctx *ctx, json_object **ret)
{
        _cleanup_free_ char *text = NULL;
        int r = vt_read_file_max(ctx, VT_INTENT_PATH, JOURNAL_MAX, &text, NULL);
        if (r < 0)
                return r;
        json_object *j = json_tokener_parse(text);
        if (!j || !json_object_is_type(j, json_type_object)) {
                json_object_put(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

static int intent_unlink(struct vt_ctx *ctx, bool sync)
{
        const char *base;
        _cleanup_close_ int p = vt_open_parent(ctx, VT_INTENT_PATH, &base);
        if (p < 0)
                return p == -ENOENT ? 0 : p;
        _cleanup_close_ int d = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0)
                return -errno;
        if (unlinkat(d, base, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return sync && fsync(d) < 0 ? -errno : 0;
}

int vt_intent_clear(struct vt_ctx *ctx)
{
        return intent_unlink(ctx, true);
}

int vt_intent_clear_journaled(struct vt_ctx *ctx)
{
        return intent_unlink(ctx, false);
}

void vt_journal_clean_tmp(struct vt_ctx *ctx)
{
        DIR *dir = NULL;
        if (vt_opendir(ctx, VT_STATE_DIR, &dir) < 0)
                return;
        struct dirent *de;
        while ((de = readdir(dir)))
                if (startswith(de->d_name, ".#") && strstr(de->d_name, VT_FS_TMP_INFIX))
                        (void)unlinkat(dirfd(dir), de->d_name, 0);
        closedir(dir);
}

static unsigned lock_timeout_ms(void)
{
        const char *e = getenv("VIRTUNE_LOCK_TIMEOUT_MS");
        char *end;
        unsigned long v = e && *e ? strtoul(e, &end, 10) : 0;
        return e && *e && !*end && v <= 3600000 ? (unsigned)v : VT_LOCK_TIMEOUT_MS;
}

int vt_journal_lock(struct vt_ctx *ctx, int *ret, char *err, size_t errlen)
{
        const char *path = streq(ctx->root, "/") ? VT_LOCK_PATH_LIVE : VT_LOCK_PATH;
        int r = vt_fs_mkdir_p(ctx, streq(ctx->root, "/") ? "/run/lock" : VT_STATE_DIR, NULL);
        if (r < 0) {
                snprintf(err, errlen, "Cannot create the directory of %s under %s: %s", path,
                         ctx->root, vt_strerror(r));
                return r;
        }
        _cleanup_close_ int fd = vt_open(ctx, path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
        if (fd == -EROFS || fd == -EACCES)
                fd = vt_open(ctx, path, O_RDONLY | O_NOFOLLOW, 0); /* flock needs no write */
        if (fd < 0) {
                snprintf(err, errlen, "Cannot open the lock %s under %s: %s", path, ctx->root,
                         vt_strerror(fd));
                return fd;
        }
        unsigned timeout = lock_timeout_ms();
        for (unsigned waited = 0;; waited += 10) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        break;
                if (errno != EWOULDBLOCK && errno != EINTR) {
                        r = -errno;
                        snprintf(err, errlen, "Cannot lock %s under %s: %s", path, ctx->root,
                                 vt_strerror(r));
                        return r;
                }
                if (waited >= timeout) {
                        snprintf(err, errlen,
                                 "another virtune apply or revert is changing %s (it holds %s); "
                                 "waited %u ms: try again when it is done",
                                 ctx->root, path, timeout);
                        return -EWOULDBLOCK;
                }
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        *ret = TAKE_FD(fd);
        return 0;
}

void vt_journal_new_id(char buf[static 17])
{
        uint64_t v = 0;
        if (getrandom(&v, sizeof(v), 0) != sizeof(v))
                v = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        snprintf(buf, 17, "%016llx", (unsigned long long)v);
}

json_object *vt_journal_find(json_object *journal, const char *id)
{
        json_object *e = vt_journal_entries(journal), *v;
        for (size_t i = e && id ? json_object_array_length(e) : 0; i > 0; i--) {
                json_object *entry = json_object_array_get_idx(e, i - 1);
                if (json_object_object_get_ex(entry, "id", &v) &&
                    streq_ptr(json_object_get_string(v), id))
                        return entry;
        }
        return NULL;
}

/* The apply a revert would undo must outlive any number of later entries (one per boot). */
bool vt_journal_in_force(json_object *entry)
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
                if (vt_journal_in_force(json_object_array_get_idx(e, i)))
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
                if (vt_journal_in_force(json_object_array_get_idx(e, i - 1)))
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
