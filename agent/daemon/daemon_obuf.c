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
        free(b->data);
        *b = (struct vt_obuf){0};
}

int vt_obuf_append(struct vt_obuf *b, const char *data, size_t len)
{
        assert(b && (data || !len));
        int r = 0;

        if (len > VT_OBUF_MAX)
                return -EMSGSIZE;
        if (vt_obuf_pending(b) + len > VT_OBUF_MAX) {
                b->dropped += vt_obuf_pending(b);
                vt_obuf_clear(b);
                r = -ENOBUFS;
        }
        if (b->off > 0 && b->len + len > b->cap) {
                memmove(b->data, b->data + b->off, vt_obuf_pending(b));
                b->len -= b->off;
                b->off = 0;
        }
        if (b->len + len > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + len)
                        cap *= 2;
                char *d = realloc(b->data, cap);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
        return r;
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
        if (b->cap > 64 * 1024) {
                free(b->data);
                b->data = NULL;
                b->cap = 0;
        }
        return 0;
}
