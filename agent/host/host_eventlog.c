/* The guest's event log in pieces (virtune-eventlog with offset), checked and put together. */
#include "host_eventlog.h"
#include <inttypes.h>
#include "codec.h"

/* A guest sends VT_PROTO_EVENTLOG_CHUNK bytes a piece; one that drips bytes is cut off. */
#define PIECES_MAX (VT_HOST_EVENTLOG_MAX / (16u << 10))

/* One piece's fields; false when one is missing or of another type. */
struct piece {
        const char *source, *format, *log;
        int64_t size, offset, next;
        bool complete;
};

static bool get_int(json_object *o, const char *key, int64_t *v)
{
        json_object *x;
        if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
                return false;
        *v = json_object_get_int64(x);
        return *v >= 0;
}

static bool get_str(json_object *o, const char *key, const char **v)
{
        json_object *x;
        if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
                return false;
        *v = json_object_get_string(x);
        return true;
}

static bool piece_get(json_object *v, struct piece *p)
{
        json_object *c;
        if (!json_object_object_get_ex(v, "complete", &c) ||
            !json_object_is_type(c, json_type_boolean))
                return false;
        p->complete = json_object_get_boolean(c);
        return get_str(v, "source", &p->source) && get_str(v, "format", &p->format) &&
               get_str(v, "log", &p->log) && get_int(v, "size", &p->size) &&
               get_int(v, "offset", &p->offset) && get_int(v, "next_offset", &p->next);
}

/* The arguments for the piece from offset (NULL: none, the whole firmware log's first piece). */
static json_object *ask(bool ima, uint64_t offset)
{
        if (!ima && !offset)
                return NULL;
        json_object *args = json_object_new_object();
        if (ima)
                json_object_object_add(args, "ima", json_object_new_boolean(true));
        if (offset)
                json_object_object_add(args, "offset", json_object_new_int64((int64_t)offset));
        return args;
}

#define BAD(...) (snprintf(err, errlen, __VA_ARGS__), -EBADMSG)

int vt_host_eventlog_fetch(vt_attest_call_fn call, void *userdata, bool ima, json_object **ret,
                           char *err, size_t errlen)
{
        _cleanup_json_ json_object *first = NULL;
        _cleanup_free_ uint8_t *all = NULL;
        _cleanup_free_ char *source = NULL, *format = NULL;
        size_t len = 0, cap = 0;
        int64_t size = 0;
        unsigned pieces = 0;
        err[0] = '\0';
        for (;;) {
                if (++pieces > PIECES_MAX)
                        return BAD("the guest's event log came in more than %u pieces", PIECES_MAX);
                _cleanup_json_ json_object *v = NULL;
                int r = call(userdata, "virtune-eventlog", ask(ima, len), &v);
                if (r < 0)
                        return r;
                struct piece p;
                if (!piece_get(v, &p))
                        return BAD("the guest's event log from byte %zu lacks its log, size, "
                                   "offset, next_offset, complete, source or format",
                                   len);
                _cleanup_free_ uint8_t *buf = NULL;
                size_t n = 0;
                if (vt_base64_decode(p.log, &buf, &n) < 0)
                        return BAD("the guest's event log from byte %zu is not base64", len);
                if (p.size > VT_HOST_EVENTLOG_MAX)
                        return snprintf(err, errlen,
                                        "the guest's event log is %" PRId64
                                        " bytes, more than virtune-host takes (%u)",
                                        p.size, VT_HOST_EVENTLOG_MAX),
                               -EFBIG;
                if ((uint64_t)p.offset != len || (uint64_t)p.next != len + n || p.next > p.size ||
                    p.complete != (p.next == p.size))
                        return BAD("the guest's event log piece asked from byte %zu says offset "
                                   "%" PRId64 ", next_offset %" PRId64 ", size %" PRId64
                                   ", complete %s with %zu bytes: it does not fit",
                                   len, p.offset, p.next, p.size, p.complete ? "true" : "false", n);
                if (first && (!streq(p.source, source) || !streq(p.format, format)))
                        return BAD("the guest's event log changed source between pieces (%s, "
                                   "then %s)",
                                   source, p.source);
                /* The firmware's log is fixed; the IMA log only grows. */
                if (first && (ima ? p.size < size : p.size != size))
                        return BAD("the guest's event log changed size between pieces (%" PRId64
                                   ", then %" PRId64 ")",
                                   size, p.size);
                if (!p.complete && n == 0)
                        return BAD("the guest's event log piece from byte %zu is empty but not "
                                   "the last",
                                   len);
                size = p.size;
                if (!first) {
                        source = strdup(p.source);
                        format = strdup(p.format);
                        if (!source || !format)
                                return -ENOMEM;
                }
                if (len + n > cap) {
                        size_t want = (size_t)p.size > len + n ? (size_t)p.size : len + n;
                        uint8_t *b = realloc(all, want ? want : 1);
                        if (!b)
                                return -ENOMEM;
                        all = b;
                        cap = want;
                }
                if (n)
                        memcpy(all + len, buf, n);
                len += n;
                if (!first)
                        first = TAKE_PTR(v);
                if (p.complete)
                        break;
        }
        const char *log = json_object_get_string(json_object_object_get(first, "log"));
        if (pieces == 1 && strlen(log) % 4 == 0) {
                *ret = TAKE_PTR(first); /* the whole log already, padded as the verifier takes it */
                return 0;
        }
        /* The first reply, now for the whole log. */
        _cleanup_free_ char *b64 = vt_base64_encode(all ? all : (const uint8_t *)"", len);
        if (!b64)
                return -ENOMEM;
        free(TAKE_PTR(
                all)); /* not kept beside its text: a large log costs twice, not three times */
        json_object_object_add(first, "log", json_object_new_string(b64));
        json_object_object_add(first, "size", json_object_new_int64((int64_t)len));
        json_object_object_add(first, "offset", json_object_new_int64(0));
        json_object_object_add(first, "next_offset", json_object_new_int64((int64_t)len));
        json_object_object_add(first, "complete", json_object_new_boolean(true));
        *ret = TAKE_PTR(first);
        return 0;
}
