/* Growable byte buffers that give their memory back: small ones on the heap, large ones mapped. */
#include <assert.h>
#include <sys/mman.h>
#include "proto.h"

/*
 * glibc carves a large block out of the heap when the heap has room, and after a burst the
 * heap keeps those pages for the process's life (a hole below a small live block is never
 * trimmed). A long-lived daemon that must stay flat after any input maps its large buffers
 * itself: unmapping one gives every page back. cap tells which kind a buffer is.
 */
static size_t page_round(size_t n)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        return (n + page - 1) / page * page;
}

int vt_proto_buf_grow(char **buf, size_t *cap, size_t len, size_t want)
{
        assert(buf && cap && len <= *cap);
        if (want <= *cap)
                return 0;
        if (want <= VT_PROTO_BUF_SMALL) {
                char *b = realloc(*buf, want);
                if (!b)
                        return -ENOMEM;
                *buf = b;
                *cap = want;
                return 0;
        }
        size_t n = page_round(want);
        void *b;
        if (*cap > VT_PROTO_BUF_SMALL)
                b = mremap(*buf, *cap, n, MREMAP_MAYMOVE);
        else {
                b = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (b != MAP_FAILED && len > 0)
                        memcpy(b, *buf, len);
                if (b != MAP_FAILED)
                        free(*buf);
        }
        if (b == MAP_FAILED)
                return -ENOMEM;
        *buf = b;
        *cap = n;
        return 0;
}

void vt_proto_buf_free(char **buf, size_t *cap)
{
        if (*cap > VT_PROTO_BUF_SMALL)
                munmap(*buf, *cap);
        else
                free(*buf);
        *buf = NULL;
        *cap = 0;
}
