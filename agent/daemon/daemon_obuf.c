/* The daemon's output buffer: non-blocking writes, bounded so a vanished host cannot grow us. */
#include <assert.h>
#include "daemon.h"

size_t vt_obuf_pending(const struct vt_obuf *b)
{
        return b->len - b->off;
}

void vt_obuf_clear(struct vt_obuf *b)
{
        b->off = b->len = 0;
}

void vt_obuf_done(struct vt_obuf *b)
{
        vt_proto_buf_free(&b->data, &b->cap);
        *b = (struct vt_obuf){0};
}

int vt_obuf_append(struct vt_obuf *b, const char *data, size_t len)
{
        assert(b && (data || !len));
        if (vt_obuf_pending(b) + len > VT_OBUF_MAX)
                return -ENOBUFS;
        return vt_obuf_append_force(b, data, len);
}

int vt_obuf_append_force(struct vt_obuf *b, const char *data, size_t len)
{
        if (b->off > 0 && b->len + len > b->cap) {
                memmove(b->data, b->data + b->off, vt_obuf_pending(b));
                b->len -= b->off;
                b->off = 0;
        }
        if (b->len + len > b->cap) {
                /* 4 KiB on the heap, then a buffer of its own that is given back when empty. */
                size_t cap = b->cap ? b->cap : 4096;
                if (cap < b->len + len && cap < 2 * VT_OBUF_PAUSE)
                        cap = 2 * VT_OBUF_PAUSE;
                while (cap < b->len + len)
                        cap *= 2;
                int r = vt_proto_buf_grow(&b->data, &b->cap, b->len, cap);
                if (r < 0)
                        return r;
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
        return 0;
}

size_t vt_obuf_drop(struct vt_obuf *b)
{
        size_t keep = b->off;
        /* Mid-reply: the host has its start, so its end goes out too, or the stream is torn. */
        if (b->off > 0 && b->data[b->off - 1] != '\n') {
                char *nl = memchr(b->data + b->off, '\n', vt_obuf_pending(b));
                assert(nl); /* every reply ends in a newline */
                keep = (size_t)(nl + 1 - b->data);
        }
        size_t replies = 0;
        for (size_t i = keep; i < b->len; i++)
                replies += b->data[i] == '\n';
        b->dropped += replies;
        b->len = keep;
        if (b->off == b->len)
                vt_obuf_clear(b);
        return replies;
}

int vt_obuf_flush(struct vt_obuf *b, int fd)
{
        while (vt_obuf_pending(b) > 0) {
                size_t n = vt_obuf_pending(b);
                ssize_t w = write(fd, b->data + b->off, n < VT_WRITE_MAX ? n : VT_WRITE_MAX);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                b->off += (size_t)w;
        }
        vt_obuf_clear(b);
        /* Give memory back after a burst: the steady state is a few hundred bytes. */
        if (b->cap > VT_PROTO_BUF_SMALL)
                vt_proto_buf_free(&b->data, &b->cap);
        return 0;
}
