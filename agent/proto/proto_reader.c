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
        free(r->buf);
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

static int reader_append(struct vt_proto_reader *r, char c)
{
        if (r->len == r->cap) {
                /* Grow geometrically up to the bound; most requests are well under 1 KiB. */
                size_t cap = r->cap ? r->cap * 2 : 256;
                if (cap > r->max)
                        cap = r->max;
                char *b = realloc(r->buf, cap);
                if (!b)
                        return -ENOMEM;
                r->buf = b;
                r->cap = cap;
        }
        r->buf[r->len++] = c;
        return 0;
}

static void reader_emit(struct vt_proto_reader *r, enum vt_proto_event ev, bool skip,
                        vt_proto_fn fn, void *userdata)
{
        fn(ev, r->buf, ev == VT_PROTO_MESSAGE ? r->len : 0, userdata);
        reader_clear(r, skip);
}

int vt_proto_reader_feed(struct vt_proto_reader *r, const void *data, size_t len, vt_proto_fn fn,
                         void *userdata)
{
        assert(r && fn);
        const unsigned char *p = data;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = p[i];

                if (c == VT_PROTO_DELIM) {
                        reader_clear(r, false);
                        fn(VT_PROTO_RESET, NULL, 0, userdata);
                        continue;
                }
                if (r->skipping) {
                        if (c == '\n')
                                r->skipping = false;
                        continue;
                }
                if (!r->started) {
                        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                                continue;
                        r->started = true;
                }
                if (r->len >= r->max) {
                        reader_emit(r, VT_PROTO_TOO_LARGE, c != '\n', fn, userdata);
                        continue;
                }
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
                                /* Raw newlines are invalid in strings: end here, the parser
                                 * reports it, and the next line starts fresh. */
                                reader_emit(r, VT_PROTO_MESSAGE, false, fn, userdata);
                        continue;
                }
                switch (c) {
                case '"':
                        r->in_string = true;
                        break;
                case '{':
                case '[':
                        if (++r->depth > VT_PROTO_MAX_DEPTH)
                                reader_emit(r, VT_PROTO_TOO_DEEP, true, fn, userdata);
                        break;
                case '}':
                case ']':
                        /* A stray closer at depth 0 ends the text too: the parser rejects it. */
                        if (r->depth == 0 || --r->depth == 0)
                                reader_emit(r, VT_PROTO_MESSAGE, false, fn, userdata);
                        break;
                case '\n':
                        /* Scalars and garbage end at a newline; objects may span lines. */
                        if (r->depth == 0)
                                reader_emit(r, VT_PROTO_MESSAGE, false, fn, userdata);
                        break;
                default:
                        break;
                }
        }
        return 0;
}
