/* daemon-reload and try-restart on systemd's private bus, spoken directly (no libsystemd). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "sdbus.h"
#include "util.h"

/*
 * The few messages a restart needs, marshalled by hand (the D-Bus specification, "Message
 * Protocol"): under TCG loading libsystemd and its libraries (gcrypt, lzma, zstd, lz4, cap) took
 * 40-80 ms of an apply, more than the rest of its user-space work.
 */

#define MANAGER_DEST    "org.freedesktop.systemd1"
#define MANAGER_PATH    "/org/freedesktop/systemd1"
#define MANAGER_IFACE   "org.freedesktop.systemd1.Manager"
#define CALL_TIMEOUT_MS (25 * 1000) /* sd-bus's default method call timeout */
/* systemctl's own bound for a reload (its DAEMON_RELOAD_TIMEOUT_SEC): seconds in a TCG guest. */
#define RELOAD_TIMEOUT_MS (6 * 60 * 1000)
/* systemd's messages here are a few hundred bytes; anything past this is not one of them. */
#define MSG_MAX (1u << 20)

enum { MSG_CALL = 1, MSG_RETURN = 2, MSG_ERROR = 3, MSG_SIGNAL = 4 };
enum {
        F_PATH = 1,
        F_INTERFACE = 2,
        F_MEMBER = 3,
        F_ERROR_NAME = 4,
        F_REPLY_SERIAL = 5,
        F_DESTINATION = 6,
        F_SIGNATURE = 8
};

struct bus {
        int fd;
        uint8_t *buf; /* bytes read and not yet taken as messages */
        size_t len, cap;
};

/* ---- writing: little or big endian as the host is, each value at its alignment ---- */

struct out {
        uint8_t b[1024];
        size_t n;
        bool full;
};

static void put(struct out *o, const void *p, size_t n)
{
        if (o->n + n > sizeof(o->b)) {
                o->full = true;
                return;
        }
        memcpy(o->b + o->n, p, n);
        o->n += n;
}

static void pad(struct out *o, size_t align)
{
        static const uint8_t zero[8];
        put(o, zero, (align - o->n % align) % align);
}

static void put_u32(struct out *o, uint32_t v)
{
        pad(o, 4);
        put(o, &v, 4);
}

static void put_str(struct out *o, const char *s)
{
        put_u32(o, (uint32_t)strlen(s));
        put(o, s, strlen(s) + 1);
}

static void put_sig(struct out *o, const char *s)
{
        uint8_t n = (uint8_t)strlen(s);
        put(o, &n, 1);
        put(o, s, (size_t)n + 1);
}

/* One header field (code, variant of type): a struct, so 8-aligned. */
static void put_field(struct out *o, uint8_t code, char type, const char *value)
{
        pad(o, 8);
        put(o, &code, 1);
        char sig[2] = {type, '\0'};
        put_sig(o, sig);
        if (type == 'g')
                put_sig(o, value);
        else
                put_str(o, value);
}

/* A method call on the manager with zero or two string arguments. */
static int send_call(struct bus *b, uint32_t serial, const char *member, const char *a1,
                     const char *a2)
{
        struct out body = {.n = 0}, m = {.n = 0};
        bool args = a1 && a2;
        if (args) {
                put_str(&body, a1);
                put_str(&body, a2);
        }
        uint8_t head[4] = {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                'l',
#else
                'B',
#endif
                MSG_CALL,
                0,
                1
        };
        put(&m, head, 4);
        put_u32(&m, (uint32_t)body.n);
        put_u32(&m, serial);
        size_t at = m.n;
        put_u32(&m, 0); /* the fields' length, filled below */
        size_t start = m.n;
        put_field(&m, F_PATH, 'o', MANAGER_PATH);
        put_field(&m, F_INTERFACE, 's', MANAGER_IFACE);
        put_field(&m, F_MEMBER, 's', member);
        put_field(&m, F_DESTINATION, 's', MANAGER_DEST);
        if (args)
                put_field(&m, F_SIGNATURE, 'g', "ss");
        uint32_t flen = (uint32_t)(m.n - start);
        memcpy(m.b + at, &flen, 4);
        pad(&m, 8);
        put(&m, body.b, body.n);
        if (m.full || body.full)
                return -ENAMETOOLONG;
        for (size_t off = 0; off < m.n;) {
                ssize_t k = send(b->fd, m.b + off, m.n - off, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                off += (size_t)k;
        }
        return 0;
}

/* ---- reading ---- */

struct msg {
        const uint8_t *p; /* the whole message */
        size_t len, body; /* body: offset of the body */
        bool swap;        /* the sender's byte order is not ours */
        uint8_t type;
        uint32_t reply_serial;
        const char *member, *error_name, *signature;
};

static uint32_t get_u32(const struct msg *m, size_t at)
{
        uint32_t v;
        memcpy(&v, m->p + at, 4);
        return m->swap ? __builtin_bswap32(v) : v;
}

/* A string (or object path) at *at (aligned there first); NULL when it runs out or is not one. */
static const char *get_str(const struct msg *m, size_t *at, size_t end)
{
        *at = (*at + 3) & ~(size_t)3;
        if (*at + 4 > end)
                return NULL;
        uint32_t n = get_u32(m, *at);
        if (n >= end - *at - 4 || m->p[*at + 4 + n] != '\0')
                return NULL;
        const char *s = (const char *)m->p + *at + 4;
        *at += 4 + (size_t)n + 1;
        return s;
}

static const char *get_sig(const struct msg *m, size_t *at, size_t end)
{
        if (*at >= end)
                return NULL;
        size_t n = m->p[*at];
        if (n + 2 > end - *at || m->p[*at + 1 + n] != '\0')
                return NULL;
        const char *s = (const char *)m->p + *at + 1;
        *at += n + 2;
        return s;
}

/* The fields a reply or signal is matched on; -EBADMSG for anything malformed. */
static int parse(struct msg *m)
{
        size_t end = 16 + get_u32(m, 12);
        for (size_t at = 16; at < end;) {
                at = (at + 7) & ~(size_t)7;
                if (at >= end)
                        break;
                uint8_t code = m->p[at++];
                const char *sig = get_sig(m, &at, end);
                if (!sig || strlen(sig) != 1)
                        return -EBADMSG;
                const char *s = NULL;
                switch (sig[0]) {
                case 's':
                case 'o':
                        s = get_str(m, &at, end);
                        break;
                case 'g':
                        s = get_sig(m, &at, end);
                        break;
                case 'u':
                        at = (at + 3) & ~(size_t)3;
                        if (at + 4 > end)
                                return -EBADMSG;
                        if (code == F_REPLY_SERIAL)
                                m->reply_serial = get_u32(m, at);
                        at += 4;
                        continue;
                default:
                        return -EBADMSG; /* no other type is sent in the fields we get */
                }
                if (!s)
                        return -EBADMSG;
                if (code == F_MEMBER)
                        m->member = s;
                else if (code == F_ERROR_NAME)
                        m->error_name = s;
                else if (code == F_SIGNATURE)
                        m->signature = s;
        }
        return 0;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for bytes until deadline (-1: forever); -ETIMEDOUT, -ECONNRESET when systemd hung up. */
static int fill(struct bus *b, int64_t deadline)
{
        if (b->cap - b->len < 4096) {
                size_t cap = b->cap ? b->cap * 2 : 8192;
                if (cap > MSG_MAX + 8192)
                        return -EMSGSIZE;
                uint8_t *n = realloc(b->buf, cap);
                if (!n)
                        return -ENOMEM;
                b->buf = n;
                b->cap = cap;
        }
        for (;;) {
                int wait = -1;
                if (deadline >= 0) {
                        int64_t left = deadline - now_ms();
                        if (left <= 0)
                                return -ETIMEDOUT;
                        wait = (int)left;
                }
                struct pollfd p = {.fd = b->fd, .events = POLLIN};
                int r = poll(&p, 1, wait);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        continue;
                ssize_t k = recv(b->fd, b->buf + b->len, b->cap - b->len, 0);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ECONNRESET;
                b->len += (size_t)k;
                return 0;
        }
}

/* The next whole message into *m (valid until the next call), reading as needed. */
static int next_msg(struct bus *b, size_t *taken, struct msg *m, int64_t deadline)
{
        /* what the last message used is dropped first */
        if (*taken > 0) {
                memmove(b->buf, b->buf + *taken, b->len - *taken);
                b->len -= *taken;
                *taken = 0;
        }
        for (;;) {
                if (b->len >= 16) {
                        *m = (struct msg)
                        {
                                .p = b->buf, .type = b->buf[1],
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                                .swap = b->buf[0] == 'B'
                        };
#else
                                .swap = b->buf[0] == 'l'
                        };
#endif
                        if ((b->buf[0] != 'l' && b->buf[0] != 'B') || b->buf[3] != 1)
                                return -EBADMSG;
                        uint64_t fields = get_u32(m, 12), body = get_u32(m, 4);
                        if (fields > MSG_MAX || body > MSG_MAX)
                                return -EMSGSIZE;
                        size_t head = (size_t)((16 + fields + 7) & ~(uint64_t)7);
                        if (b->len >= head + body) {
                                m->len = head + (size_t)body;
                                m->body = head;
                                *taken = m->len;
                                return parse(m);
                        }
                }
                int r = fill(b, deadline);
                if (r < 0)
                        return r;
        }
}

/* ---- the connection ---- */

static void bus_close(struct bus *b)
{
        if (b->fd >= 0)
                close(b->fd);
        free(b->buf);
}

/* One line of the authentication exchange ("OK <guid>"), into line. */
static int auth_line(struct bus *b, char *line, size_t size)
{
        size_t n = 0;
        for (;;) {
                char c;
                ssize_t k = recv(b->fd, &c, 1, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -ECONNRESET;
                if (c == '\n')
                        break;
                if (n + 1 < size)
                        line[n++] = c;
        }
        line[n] = '\0';
        return 0;
}

static int send_text(struct bus *b, const char *s, size_t n)
{
        return send(b->fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -errno;
}

/*
 * The manager's private socket, as systemctl uses it as root: no dbus-daemon needed (early
 * boot). A direct connection: after EXTERNAL authentication (our uid) no Hello is said.
 */
static int connect_manager(struct bus *b)
{
        *b = (struct bus){.fd = -1};
        const char *address = getenv("VIRTUNE_SYSTEMD_BUS"); /* tests: a stand-in manager */
        if (!address)
                address = "unix:path=/run/systemd/private";
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (!startswith(address, "unix:path=") || strlen(address + 10) >= sizeof(sa.sun_path))
                return -ENOTCONN;
        strcpy(sa.sun_path, address + 10);
        b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (b->fd < 0 || connect(b->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -ENOTCONN;
        char uid[16], auth[64], line[256];
        snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
        int n = snprintf(auth, sizeof(auth), "%cAUTH EXTERNAL ", '\0');
        for (const char *p = uid; *p; p++)
                n += snprintf(auth + n, sizeof(auth) - (size_t)n, "%02x", (unsigned char)*p);
        n += snprintf(auth + n, sizeof(auth) - (size_t)n, "\r\n");
        if (send_text(b, auth, (size_t)n) < 0 || auth_line(b, line, sizeof(line)) < 0 ||
            !startswith(line, "OK ") || send_text(b, "BEGIN\r\n", 7) < 0)
                return -ENOTCONN;
        return 0;
}

/*
 * A Manager method with no arguments (unit NULL) or with (unit, "ignore-dependencies"), and its
 * answer; a refusal is logged. A restart ignores ordering: the apply may run inside a unit
 * ordered before the one it restarts (virtune-firstboot is Before=qemu-guest-agent.service, and
 * `systemctl restart virtune-firstboot` by hand runs it while qemu-ga runs): a "replace" job
 * would wait for the apply's own start job, which waits for the restart.
 * For a restart, job gets the job's path and result its JobRemoved result when that signal came
 * first (systemd may send it before the answer): both are then read from the bus here.
 */
struct job_wait {
        char path[256];        /* "" until TryRestartUnit answered */
        char early[4][2][256]; /* JobRemoved (path, result) read before the answer */
        size_t n_early;
        char result[32];
        bool done;
};

static void on_signal(const struct msg *m, struct job_wait *w)
{
        size_t at = m->body;
        if (!m->member || !streq(m->member, "JobRemoved") || !m->signature ||
            !streq(m->signature, "uoss"))
                return;
        at += 4; /* the job's id */
        const char *path = get_str(m, &at, m->len), *unit = path ? get_str(m, &at, m->len) : NULL;
        const char *result = unit ? get_str(m, &at, m->len) : NULL;
        if (!result)
                return;
        if (!*w->path) {
                if (w->n_early < ARRAY_SIZE(w->early)) {
                        snprintf(w->early[w->n_early][0], 256, "%s", path);
                        snprintf(w->early[w->n_early][1], 256, "%s", result);
                        w->n_early++;
                }
                return;
        }
        if (streq(path, w->path)) {
                snprintf(w->result, sizeof(w->result), "%s", result);
                w->done = true;
        }
}

static int call(struct bus *b, const char *method, const char *unit, int timeout_ms,
                struct job_wait *w)
{
        int r = send_call(b, 1, method, unit, unit ? "ignore-dependencies" : NULL);
        if (r < 0)
                return r;
        int64_t deadline = now_ms() + timeout_ms;
        size_t taken = 0;
        for (;;) {
                struct msg m;
                r = next_msg(b, &taken, &m, deadline);
                if (r < 0)
                        return r;
                if (m.type == MSG_SIGNAL && w) {
                        on_signal(&m, w);
                        continue;
                }
                if ((m.type != MSG_RETURN && m.type != MSG_ERROR) || m.reply_serial != 1)
                        continue;
                if (m.type == MSG_ERROR) {
                        size_t at = m.body;
                        const char *text = m.signature && m.signature[0] == 's'
                                                   ? get_str(&m, &at, m.len)
                                                   : NULL;
                        log_error("systemd refused %s%s%s: %s", method, unit ? " of " : "",
                                  unit ? unit : "",
                                  text           ? text
                                  : m.error_name ? m.error_name
                                                 : "an error");
                        return -EREMOTEIO;
                }
                if (!w)
                        return 0;
                size_t at = m.body;
                const char *job =
                        m.signature && streq(m.signature, "o") ? get_str(&m, &at, m.len) : NULL;
                if (!job)
                        return -EBADMSG;
                snprintf(w->path, sizeof(w->path), "%s", job);
                for (size_t i = 0; i < w->n_early; i++)
                        if (streq(w->early[i][0], w->path)) {
                                snprintf(w->result, sizeof(w->result), "%s", w->early[i][1]);
                                w->done = true;
                        }
                /* the job's end: no bound, as systemctl waits for it */
                while (!w->done) {
                        r = next_msg(b, &taken, &m, -1);
                        if (r < 0)
                                return r;
                        if (m.type == MSG_SIGNAL)
                                on_signal(&m, w);
                }
                return 0;
        }
}

int vt_sd_daemon_reload(void)
{
        struct bus b;
        int r = connect_manager(&b);
        if (r >= 0)
                r = call(&b, "Reload", NULL, RELOAD_TIMEOUT_MS, NULL);
        if (r < 0 && r != -ENOTCONN && r != -EREMOTEIO)
                log_error_errno(r, "Lost systemd while it reloaded");
        bus_close(&b);
        return r;
}

int vt_sd_try_restart(const char *unit)
{
        struct bus b;
        struct job_wait w = {0};
        int r = connect_manager(&b);
        if (r >= 0) {
                /* A direct connection's signals carry no sender; systemd sends them to every
                 * direct connection, Subscribe() or not. */
                r = call(&b, "TryRestartUnit", unit, CALL_TIMEOUT_MS, &w);
                if (r < 0 && r != -EREMOTEIO)
                        log_error_errno(r, "Lost systemd while waiting for the restart of %s",
                                        unit);
        }
        bus_close(&b);
        if (r < 0)
                return r;
        if (streq(w.result, "done") || streq(w.result, "skipped"))
                return 0;
        log_error("The restart of %s ended with result '%s' (see systemctl status %s)", unit,
                  w.result, unit);
        return -EIO;
}
