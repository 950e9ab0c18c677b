/* Root-relative file access: every path is resolved beneath ctx->root, never on the host. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <time.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "ctx.h"

/*
 * Whether openat2 is worth trying: cleared on the first ENOSYS/EPERM (pre-5.6 kernel, seccomp
 * filter), or from the start when VIRTUNE_NO_OPENAT2 is set (tests of the user-space resolver).
 * -1: not decided yet.
 */
static int use_openat2 = -1;

void vt_ctx_use_openat2(bool on)
{
        use_openat2 = on;
}

static bool openat2_wanted(void)
{
        if (use_openat2 < 0)
                use_openat2 = !getenv("VIRTUNE_NO_OPENAT2");
        return use_openat2;
}

static const char *rel(const char *path)
{
        while (*path == '/')
                path++;
        return *path ? path : ".";
}

int vt_ctx_init_root(struct vt_ctx *ctx, const char *root)
{
        char buf[PATH_MAX];
        ctx->root_fd = -1;
        ctx->memo = NULL;
        ctx->memo_depth = 0;
        if (!root)
                root = "/";
        if (!realpath(root, buf))
                return -errno;
        ctx->root = strdup(buf);
        if (!ctx->root)
                return -ENOMEM;
        ctx->root_fd = open(ctx->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ctx->root_fd < 0) {
                int r = -errno;
                vt_ctx_fini_root(ctx);
                return r;
        }
        struct stat a, b;
        ctx->live = stat("/", &a) == 0 && fstat(ctx->root_fd, &b) == 0 && a.st_dev == b.st_dev &&
                    a.st_ino == b.st_ino;
        return 0;
}

void vt_ctx_fini_root(struct vt_ctx *ctx)
{
        ctx->memo_depth = 1;
        vt_ctx_memo_end(ctx);
        if (ctx->root_fd >= 0)
                close(ctx->root_fd);
        ctx->root_fd = -1;
        free(ctx->root);
        ctx->root = NULL;
}

/*
 * openat2 with RESOLVE_IN_ROOT fails with EAGAIN when a rename or mount anywhere on the system
 * races with the resolution of ".." (sysfs links are full of them). Under load (parallel tests
 * doing atomic replaces) a tight loop can lose every round, so back off: first spin, then yield,
 * then sleep briefly, for at most about two seconds in all.
 */
static long openat2_retry(int dfd, const char *path, struct open_how *how)
{
        for (unsigned i = 0;; i++) {
                long fd = syscall(SYS_openat2, dfd, path, how, sizeof(*how));
                if (fd >= 0 || errno != EAGAIN || i >= 2000)
                        return fd;
                if (i >= 64)
                        nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
                else if (i >= 16)
                        sched_yield();
        }
}

/* As many links as the kernel follows in one lookup (MAXSYMLINKS). */
#define VT_RESOLVE_LINKS_MAX 40

static bool same_inode(int fd, const struct stat *st)
{
        struct stat cur;
        return fstat(fd, &cur) == 0 && cur.st_dev == st->st_dev && cur.st_ino == st->st_ino;
}

/*
 * The user-space twin of RESOLVE_IN_ROOT (as systemd's chase() does it): walk the path one
 * component at a time with O_NOFOLLOW, so every step is a real directory inside the root; ".."
 * at the root stays at the root; a symlink's target is spliced in front of the rest of the path
 * and, when absolute, restarts at the root. More than VT_RESOLVE_LINKS_MAX links is ELOOP.
 * Like chase() it trusts that no one moves a directory out of the root while we stand in it:
 * the root is an image or a test tree, not a place an attacker renames things in as we read.
 */
static int open_beneath(int root_fd, const char *path, int flags, mode_t mode)
{
        struct stat root_st;
        if (fstat(root_fd, &root_st) < 0)
                return -errno;
        _cleanup_free_ char *todo = strdup(path);
        if (!todo)
                return -ENOMEM;
        _cleanup_close_ int dir = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        const char *p = todo;
        unsigned links = 0;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p) {
                        /* The path names the directory reached ("/", "a/b/"): open it as asked. */
                        if (flags & O_CREAT && !(flags & O_TMPFILE))
                                return -EISDIR;
                        int fd = openat(dir, ".", flags | O_DIRECTORY, mode);
                        return fd < 0 ? -errno : fd;
                }
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                char name[NAME_MAX + 1];
                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, n);
                name[n] = '\0';
                const char *rest = end;
                while (*rest == '/')
                        rest++;
                bool last = !*rest;
                bool want_dir = last && *end == '/';
                p = rest;

                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        if (same_inode(dir, &root_st))
                                continue;
                        int up = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (up < 0)
                                return -errno;
                        close(dir);
                        dir = up;
                        continue;
                }

                _cleanup_close_ int cur = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (cur < 0) {
                        if (errno == ENOENT && last && flags & O_CREAT) {
                                int fd = openat(dir, name, flags | O_NOFOLLOW, mode);
                                return fd < 0 ? -errno : fd;
                        }
                        return -errno;
                }
                struct stat st;
                if (fstat(cur, &st) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode) && !(last && flags & O_NOFOLLOW)) {
                        if (last && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
                                return -EEXIST;
                        if (++links > VT_RESOLVE_LINKS_MAX)
                                return -ELOOP;
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(cur, "", target, sizeof(target) - 1);
                        if (k < 0)
                                return -errno;
                        if (k == 0)
                                return -ENOENT;
                        target[k] = '\0';
                        /* target + "/" + what is left (keeping a trailing slash's meaning). */
                        _cleanup_free_ char *next = NULL;
                        const char *tail = last ? (want_dir ? "/" : "") : rest - 1;
                        if (asprintf(&next, "%s%s", target, tail) < 0)
                                return -ENOMEM;
                        if (strlen(next) >= PATH_MAX)
                                return -ENAMETOOLONG;
                        if (target[0] == '/') {
                                int top = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (top < 0)
                                        return -errno;
                                close(dir);
                                dir = top;
                        }
                        free(todo);
                        todo = TAKE_PTR(next);
                        p = todo;
                        continue;
                }
                if (!last) {
                        if (!S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                        close(dir);
                        dir = TAKE_FD(cur);
                        continue;
                }
                if (want_dir && !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                if ((flags & O_PATH) && !(flags & O_DIRECTORY))
                        return TAKE_FD(cur);
                /* O_NOFOLLOW: a link swapped in since the check above fails rather than escapes. */
                int fd = openat(dir, name, flags | O_NOFOLLOW, mode);
                return fd < 0 ? -errno : fd;
        }
}

int vt_open(struct vt_ctx *ctx, const char *path, int flags, mode_t mode)
{
        flags |= O_CLOEXEC;
        /* The real root needs no confinement: every path already resolves inside it. */
        if (streq(ctx->root, "/")) {
                int fd = openat(ctx->root_fd, rel(path), flags, mode);
                return fd < 0 ? -errno : fd;
        }
        if (openat2_wanted()) {
                struct open_how how = {
                        .flags = (uint64_t)flags,
                        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                long fd = openat2_retry(ctx->root_fd, rel(path), &how);
                if (fd >= 0)
                        return (int)fd;
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                /* Pre-5.6 kernel, or a seccomp filter that does not know openat2. */
                use_openat2 = false;
        }
        return open_beneath(ctx->root_fd, path, flags, mode);
}

int vt_opendir(struct vt_ctx *ctx, const char *path, DIR **ret)
{
        int fd = vt_open(ctx, path, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret = d;
        return 0;
}

static int check_regular(int fd, struct stat *st)
{
        if (fstat(fd, st) < 0)
                return -errno;
        return S_ISREG(st->st_mode) ? 0 : vt_notreg_error(st->st_mode);
}

/*
 * The running system's sysfs and procfs hold no device node or FIFO an open could set off (an
 * image's "/sys" is only a directory of its own and takes the long way); a ".." could climb out
 * of them, so such a path takes the long way too.
 */
static bool kernel_fs_of_real_root(const struct vt_ctx *ctx, const char *path)
{
        return streq(ctx->root, "/") && (startswith(path, "/sys/") || startswith(path, "/proc/")) &&
               !strstr(path, "/..");
}

static int open_regular(struct vt_ctx *ctx, const char *path, struct stat *st)
{
        int r;
        /* Looked at first without opening it: opening a device node can have effects. */
        if (!kernel_fs_of_real_root(ctx, path)) {
                _cleanup_close_ int p = vt_open(ctx, path, O_PATH, 0);
                if (p < 0)
                        return p;
                r = check_regular(p, st);
                if (r < 0)
                        return r;
        }
        /* Opened for real; swapped for something else in between is refused just the same. */
        int fd = vt_open(ctx, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
        if (fd < 0)
                return fd;
        r = check_regular(fd, st);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int vt_open_regular(struct vt_ctx *ctx, const char *path)
{
        struct stat st;
        return open_regular(ctx, path, &st);
}

int vt_fopen_read(struct vt_ctx *ctx, const char *path, FILE **ret)
{
        int fd = vt_open_regular(ctx, path);
        if (fd < 0)
                return fd;
        FILE *f = fdopen(fd, "r");
        if (!f) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret = f;
        return 0;
}

int vt_read_file_max(struct vt_ctx *ctx, const char *path, size_t max, char **ret, size_t *len)
{
        struct stat st;
        _cleanup_close_ int fd = open_regular(ctx, path, &st);
        if (fd < 0)
                return fd;
        /*
         * sysfs and procfs report sizes that are not the content's: read until EOF. A file's own
         * size makes that one read and the EOF, not one per doubling.
         */
        size_t cap = 4096, n = 0;
        if (st.st_size > 0 && (uintmax_t)st.st_size >= cap)
                cap = (uintmax_t)st.st_size >= max ? max : (size_t)st.st_size + 1;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (n == cap) {
                        if (cap >= max) {
                                /* Full: only EOF right here keeps the file within max. */
                                char extra;
                                ssize_t e = read(fd, &extra, 1);
                                if (e < 0)
                                        return -errno;
                                if (e > 0)
                                        return -EFBIG;
                                break;
                        }
                        cap = cap * 2 > max ? max : cap * 2;
                        char *nb = realloc(buf, cap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                ssize_t k = read(fd, buf + n, cap - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        buf[n] = '\0';
        if (len)
                *len = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

unsigned vt_first_long_line(struct vt_ctx *ctx, const char *path, size_t max)
{
        _cleanup_fclose_ FILE *f = NULL;
        if (vt_fopen_read(ctx, path, &f) < 0)
                return 0;
        unsigned line = 1;
        size_t len = 0;
        for (int c; (c = getc_unlocked(f)) != EOF;) {
                if (c == '\n') {
                        line++;
                        len = 0;
                } else if (++len > max)
                        return line;
        }
        return 0;
}

int vt_read_file(struct vt_ctx *ctx, const char *path, char **ret, size_t *len)
{
        return vt_read_file_max(ctx, path, VT_READ_MAX_DEFAULT, ret, len);
}

struct vt_memo_file {
        struct vt_memo_file *next;
        char *path;
        size_t max, len;
        int r;      /* the read's result; text is set when it is 0 */
        char *text; /* NUL-terminated */
};

void vt_ctx_memo_begin(struct vt_ctx *ctx)
{
        ctx->memo_depth++;
}

void vt_ctx_memo_end(struct vt_ctx *ctx)
{
        if (ctx->memo_depth == 0 || --ctx->memo_depth > 0)
                return;
        while (ctx->memo) {
                struct vt_memo_file *m = ctx->memo;
                ctx->memo = m->next;
                free(m->path);
                free(m->text);
                free(m);
        }
}

int vt_read_file_memo(struct vt_ctx *ctx, const char *path, size_t max, char **ret, size_t *len)
{
        if (ctx->memo_depth == 0)
                return vt_read_file_max(ctx, path, max, ret, len);
        struct vt_memo_file *m = ctx->memo;
        while (m && !(m->max == max && streq(m->path, path)))
                m = m->next;
        if (!m) {
                m = calloc(1, sizeof(*m));
                if (!m || !(m->path = strdup(path))) {
                        free(m);
                        return -ENOMEM;
                }
                m->max = max;
                m->r = vt_read_file_max(ctx, path, max, &m->text, &m->len);
                if (m->r == -ENOMEM) {
                        free(m->path);
                        free(m);
                        return -ENOMEM; /* not a fact about the file: asked again next time */
                }
                m->next = ctx->memo;
                ctx->memo = m;
        }
        if (m->r < 0)
                return m->r;
        char *copy = malloc(m->len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, m->text, m->len + 1);
        if (len)
                *len = m->len;
        *ret = copy;
        return 0;
}

int vt_read_attr(struct vt_ctx *ctx, const char *path, char **ret)
{
        char *s;
        int r = vt_read_file_max(ctx, path, VT_KERNEL_FILE_MAX, &s, NULL);
        if (r < 0)
                return r;
        *ret = vt_strip(s);
        return 0;
}

int vt_read_int64(struct vt_ctx *ctx, const char *path, int64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = vt_read_attr(ctx, path, &s);
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 0);
        if (errno || end == s || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int vt_write_attr(struct vt_ctx *ctx, const char *path, const char *value)
{
        /* O_TRUNC: sysfs ignores it, and a plain file (an image, a fixture) stays exact. */
        _cleanup_close_ int fd = vt_open(ctx, path, O_WRONLY | O_TRUNC | O_NOCTTY, 0);
        if (fd < 0)
                return fd;
        size_t n = strlen(value);
        ssize_t k = write(fd, value, n);
        if (k < 0)
                return -errno;
        return (size_t)k == n ? 0 : -EIO;
}

int vt_open_parent(struct vt_ctx *ctx, const char *path, const char **base)
{
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash) {
                *base = path;
                return vt_open(ctx, "/", O_PATH | O_DIRECTORY, 0);
        }
        size_t n = (size_t)(slash - path);
        if (n >= sizeof(dir))
                return -ENAMETOOLONG;
        memcpy(dir, path, n);
        dir[n] = '\0';
        *base = slash + 1;
        return vt_open(ctx, n ? dir : "/", O_PATH | O_DIRECTORY, 0);
}

int vt_readlink(struct vt_ctx *ctx, const char *path, char **ret)
{
        const char *base;
        _cleanup_close_ int dfd = vt_open_parent(ctx, path, &base);
        if (dfd < 0)
                return dfd;
        char buf[PATH_MAX];
        ssize_t k = readlinkat(dfd, base, buf, sizeof(buf) - 1);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int vt_realpath(struct vt_ctx *ctx, const char *path, char **ret)
{
        _cleanup_close_ int fd = vt_open(ctx, path, O_PATH, 0);
        if (fd < 0)
                return fd;
        char proc[64], buf[PATH_MAX];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        ssize_t k = readlink(proc, buf, sizeof(buf) - 1);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        const char *p = buf;
        if (!streq(ctx->root, "/")) {
                size_t rl = strlen(ctx->root);
                if (strncmp(buf, ctx->root, rl) != 0 || (buf[rl] != '/' && buf[rl] != '\0'))
                        return -EXDEV;
                p = buf[rl] ? buf + rl : "/";
        }
        *ret = strdup(p);
        return *ret ? 0 : -ENOMEM;
}

bool vt_exists(struct vt_ctx *ctx, const char *path)
{
        _cleanup_close_ int fd = vt_open(ctx, path, O_PATH, 0);
        return fd >= 0;
}

char *vt_host_path(const struct vt_ctx *ctx, const char *path)
{
        char *s;
        if (streq(ctx->root, "/"))
                return strdup(path);
        if (asprintf(&s, "%s%s%s", ctx->root, *path == '/' ? "" : "/", path) < 0)
                return NULL;
        return s;
}

int vt_pathf(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        return (size_t)n >= size ? -ENAMETOOLONG : 0;
}
