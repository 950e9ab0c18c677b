/* The incremental reader: splits the channel's byte stream into JSON texts, bounded. */
#include <assert.h>
#include "proto.h"

void vt_proto_reader_init_max(struct vt_proto_reader *r, size_t max)
{
        assert(r);
        *r = (struct vt_proto_reader){.max = max ? max : VT_PROTO_MAX_REQUEST};
}

void vt_proto_reader_init(struct vt_proto_reader *r)
{
        vt_proto_reader_init_max(r, 0);
}

void vt_proto_reader_done(struct vt_proto_reader *r)
{
        vt_proto_buf_free(&r->buf, &r->cap);
        *r = (struct vt_proto_reader){.max = r->max};
}

/* Forget the request in progress; keeps the buffer for the next one. */
static void reader_clear(struct vt_proto_reader *r, bool skip)
{
        r->len = 0;
        r->depth = 0;
        r->started = r->in_string = r->escape = false;
        r->skipping = skip;
}

void vt_proto_reader_reset(struct vt_proto_reader *r)
{
        reader_clear(r, false);
}

/* Room for n more bytes (n <= max - len), in the buffer's steps. */
static int reader_room(struct vt_proto_reader *r, size_t n)
{
        while (r->cap - r->len < n) {
                /* Most requests are well under 1 KiB: small steps on the heap, then one large
                 * buffer of its own (64 KiB, doubling up to the bound). */
                size_t cap = r->cap ? r->cap * 2 : 256;
                if (cap > VT_PROTO_BUF_SMALL && cap < VT_PROTO_MAX_REQUEST)
                        cap = VT_PROTO_MAX_REQUEST;
                if (cap > r->max)
                        cap = r->max;
                int k = vt_proto_buf_grow(&r->buf, &r->cap, r->len, cap);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int reader_append(struct vt_proto_reader *r, char c)
{
        int k = reader_room(r, 1);
        if (k < 0)
                return k;
        r->buf[r->len++] = c;
        return 0;
}

/* Ends the text in progress with ev; its bytes stay in r->buf until the next byte is taken. */
static int reader_end(struct vt_proto_reader *r, enum vt_proto_event ev, bool skip,
                      struct vt_proto_reader_event *out)
{
        *out = (struct vt_proto_reader_event){
                .ev = ev, .buf = r->buf, .len = ev == VT_PROTO_MESSAGE ? r->len : 0};
        /* An event without bytes: a large buffer can go at once. */
        if (ev != VT_PROTO_MESSAGE && r->cap > VT_PROTO_BUF_SMALL) {
                vt_proto_buf_free(&r->buf, &r->cap);
                out->buf = NULL;
        }
        reader_clear(r, skip);
        return 1;
}

/* One byte in: 1 when it completes an event (*out), 0 when not, -ENOMEM. */
static int reader_byte(struct vt_proto_reader *r, unsigned char c,
                       struct vt_proto_reader_event *out)
{
        if (c == VT_PROTO_DELIM) {
                reader_clear(r, false);
                *out = (struct vt_proto_reader_event){.ev = VT_PROTO_RESET};
                return 1;
        }
        if (r->skipping) {
                if (c == '\n')
                        r->skipping = false;
                return 0;
        }
        if (!r->started) {
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        return 0;
                r->started = true;
                /* A large request's buffer is not kept for the daemon's life. */
                if (r->cap > VT_PROTO_BUF_SMALL)
                        vt_proto_buf_free(&r->buf, &r->cap);
        }
        if (r->len >= r->max)
                return reader_end(r, VT_PROTO_TOO_LARGE, c != '\n', out);
        if (reader_append(r, (char)c) < 0)
                return -ENOMEM;

        if (r->in_string) {
                if (r->escape)
                        r->escape = false;
                else if (c == '\\')
                        r->escape = true;
                else if (c == '"')
                        r->in_string = false;
                else if (c == '\n')
                        /* Raw newlines are invalid in strings: end here, the parser reports it,
                         * and the next line starts fresh. */
                        return reader_end(r, VT_PROTO_MESSAGE, false, out);
                return 0;
        }
        switch (c) {
        case '"':
                r->in_string = true;
                break;
        case '{':
        case '[':
                if (++r->depth > VT_PROTO_MAX_DEPTH)
                        return reader_end(r, VT_PROTO_TOO_DEEP, true, out);
                break;
        case '}':
        case ']':
                /* A stray closer at depth 0 is garbage up to the newline, like any other: one
                 * text and one error for the lot, not one per byte. */
                if (r->depth > 0 && --r->depth == 0)
                        return reader_end(r, VT_PROTO_MESSAGE, false, out);
                break;
        case '\n':
                /* Scalars and garbage end at a newline; objects may span lines. */
                if (r->depth == 0)
                        return reader_end(r, VT_PROTO_MESSAGE, false, out);
                break;
        default:
                break;
        }
        return 0;
}

/*
 * Inside a string, the bytes up to the next '"', '\\', newline or 0xFF change nothing but the
 * text's length: they go in at once (a reply's base64 event log, certificates and hex fields
 * are most of its bytes), as many as fit under r->max. Returns how many.
 */
static size_t string_run(struct vt_proto_reader *r, const unsigned char *p, size_t len)
{
        if (!r->in_string || r->escape || r->skipping)
                return 0;
        size_t n = 0, room = r->max - r->len;
        if (len > room)
                len = room;
        while (n < len && p[n] != '"' && p[n] != '\\' && p[n] != '\n' && p[n] != VT_PROTO_DELIM)
                n++;
        if (n == 0 || reader_room(r, n) < 0)
                return 0; /* reader_byte takes it (and reports -ENOMEM) */
        memcpy(r->buf + r->len, p, n);
        r->len += n;
        return n;
}

int vt_proto_reader_next(struct vt_proto_reader *r, const void *data, size_t len, size_t *used,
                         struct vt_proto_reader_event *out)
{
        assert(r && used && out);
        const unsigned char *p = data;
        for (size_t i = 0; i < len; i++) {
                size_t n = string_run(r, p + i, len - i);
                if (n > 0) {
                        i += n - 1;
                        continue;
                }
                int k = reader_byte(r, p[i], out);
                if (k != 0) {
                        *used = k < 0 ? i : i + 1;
                        return k;
                }
        }
        *used = len;
        return 0;
}

int vt_proto_reader_feed(struct vt_proto_reader *r, const void *data, size_t len, vt_proto_fn fn,
                         void *userdata)
{
        assert(r && fn);
        const char *p = data;
        while (len > 0) {
                struct vt_proto_reader_event e;
                size_t used;
                int k = vt_proto_reader_next(r, p, len, &used, &e);
                if (k < 0)
                        return k;
                if (k > 0)
                        fn(e.ev, e.buf, e.len, userdata);
                p += used;
                len -= used;
        }
        return 0;
}
