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
        uint32_t serial; /* the last call's: each call its own, a reply names the one it answers */
        uint8_t *buf;    /* bytes read and not yet taken as messages */
        size_t len, cap;
        size_t taken; /* bytes of the message last read, dropped when the next is read */
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

/* A method call with up to two string arguments (args NULL-terminated); its serial, or -errno. */
static int send_call(struct bus *b, const char *path, const char *iface, const char *member,
                     const char *const *args)
{
        struct out body = {.n = 0}, m = {.n = 0};
        char sig[3] = "";
        for (size_t i = 0; args && args[i] && i < 2; i++) {
                put_str(&body, args[i]);
                sig[i] = 's';
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
        if (++b->serial == 0 || b->serial > INT32_MAX) /* 0 is not a serial; ours stay few */
                return -EOVERFLOW;
        put(&m, head, 4);
        put_u32(&m, (uint32_t)body.n);
        put_u32(&m, b->serial);
        size_t at = m.n;
        put_u32(&m, 0); /* the fields' length, filled below */
        size_t start = m.n;
        put_field(&m, F_PATH, 'o', path);
        put_field(&m, F_INTERFACE, 's', iface);
        put_field(&m, F_MEMBER, 's', member);
        put_field(&m, F_DESTINATION, 's', MANAGER_DEST);
        if (*sig)
                put_field(&m, F_SIGNATURE, 'g', sig);
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
        return (int)b->serial;
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
static int next_msg(struct bus *b, struct msg *m, int64_t deadline)
{
        /* what the last message used is dropped first */
        if (b->taken > 0) {
                memmove(b->buf, b->buf + b->taken, b->len - b->taken);
                b->len -= b->taken;
                b->taken = 0;
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
                                b->taken = m->len;
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
 * A job's end, JobRemoved(id, job, unit, result). Our connection gets it without Subscribe():
 * systemd (252, src/core/dbus-job.c bus_job_send_removed_signal -> src/core/dbus.c
 * bus_foreach_bus) sends job and unit signals "to all direct buses, unconditionally"; only the
 * API bus (through dbus-daemon) needs a subscriber. So no Subscribe/Unsubscribe round trips.
 * systemd may send it before the method's answer: such ones are kept until the answer names
 * the job.
 */
struct job_wait {
        char path[256];        /* "" until the restart call answered */
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

/*
 * Calls member on path and waits up to timeout_ms for the answer to this call's serial, into
 * *reply (valid until the next read); signals read meanwhile go to w (when not NULL).
 * -EREMOTEIO: the answer is an error (*reply holds it); -ETIMEDOUT (logged): no answer.
 */
static int call(struct bus *b, const char *path, const char *iface, const char *member,
                const char *const *args, int timeout_ms, struct job_wait *w, struct msg *reply)
{
        int serial = send_call(b, path, iface, member, args);
        if (serial < 0)
                return serial;
        int64_t deadline = now_ms() + timeout_ms;
        for (;;) {
                int r = next_msg(b, reply, deadline);
                if (r == -ETIMEDOUT)
                        log_error("systemd did not answer %s within %d s (see systemctl "
                                  "list-jobs)",
                                  member, timeout_ms / 1000);
                if (r < 0)
                        return r;
                if (reply->type == MSG_SIGNAL && w)
                        on_signal(reply, w);
                else if ((reply->type == MSG_RETURN || reply->type == MSG_ERROR) &&
                         reply->reply_serial == (uint32_t)serial)
                        return reply->type == MSG_ERROR ? -EREMOTEIO : 0;
        }
}

/* Logs the manager's error answer m to member (of unit); -EREMOTEIO. */
static int refused(const struct msg *m, const char *member, const char *unit)
{
        size_t at = m->body;
        const char *text = m->signature && m->signature[0] == 's' ? get_str(m, &at, m->len) : NULL;
        log_error("systemd refused %s%s%s: %s", member, unit ? " of " : "", unit ? unit : "",
                  text            ? text
                  : m->error_name ? m->error_name
                                  : "an error");
        return -EREMOTEIO;
}

/* A Manager method taking the unit's name alone (or nothing), its answer not read further. */
static int call_manager(struct bus *b, const char *member, const char *unit, int timeout_ms)
{
        struct msg m;
        int r = call(b, MANAGER_PATH, MANAGER_IFACE, member, (const char *const[]){unit, NULL},
                     timeout_ms, NULL, &m);
        return r == -EREMOTEIO ? refused(&m, member, unit) : r;
}

/*
 * How long a restart's job may run before we stop waiting: systemd ends a stuck stop or start
 * itself after the unit's TimeoutStopSec= (SIGTERM, then SIGKILL: twice) and TimeoutStartSec=,
 * 90 s each by default, so 5 minutes is past what systemd's defaults let a job take. A bound
 * from the unit's own timeouts would cost a property read on every restart.
 * $VIRTUNE_SYSTEMD_JOB_TIMEOUT_MS (a test hook) replaces it.
 */
#define JOB_TIMEOUT_MS (5 * 60 * 1000)

static int job_timeout_ms(void)
{
        const char *e = getenv("VIRTUNE_SYSTEMD_JOB_TIMEOUT_MS");
        char *end;
        long v = e ? strtol(e, &end, 10) : 0;
        return e && *e && !*end && v > 0 && v <= JOB_TIMEOUT_MS ? (int)v : JOB_TIMEOUT_MS;
}

/*
 * member (TryRestartUnit or RestartUnit) of unit with job mode "ignore-dependencies", as
 * `systemctl try-restart --job-mode=ignore-dependencies` does, and the wait for its job's end:
 * w->result. A restart ignores ordering: the apply may run inside a unit ordered before the
 * one it restarts (virtune-firstboot is Before=qemu-guest-agent.service, and `systemctl
 * restart virtune-firstboot` by hand runs it while qemu-ga runs): a "replace" job would wait
 * for the apply's own start job, which waits for the restart.
 */
static int restart(struct bus *b, const char *member, const char *unit, struct job_wait *w)
{
        struct msg m;
        *w = (struct job_wait){.n_early = 0};
        int r = call(b, MANAGER_PATH, MANAGER_IFACE, member,
                     (const char *const[]){unit, "ignore-dependencies", NULL}, CALL_TIMEOUT_MS, w,
                     &m);
        if (r == -EREMOTEIO)
                return refused(&m, member, unit);
        if (r < 0)
                return r;
        size_t at = m.body;
        const char *job = m.signature && streq(m.signature, "o") ? get_str(&m, &at, m.len) : NULL;
        if (!job)
                return -EBADMSG;
        snprintf(w->path, sizeof(w->path), "%s", job);
        for (size_t i = 0; i < w->n_early; i++)
                if (streq(w->early[i][0], w->path)) {
                        snprintf(w->result, sizeof(w->result), "%s", w->early[i][1]);
                        w->done = true;
                }
        int timeout = job_timeout_ms();
        int64_t deadline = now_ms() + timeout;
        while (!w->done) {
                r = next_msg(b, &m, deadline);
                if (r == -ETIMEDOUT) {
                        /* Not cancelled: a restart cut in its stop leaves the unit down. */
                        log_error("The restart of %s has not ended after %d s (systemd's job %s "
                                  "still runs); stopped waiting for it: see systemctl status %s "
                                  "and systemctl list-jobs",
                                  unit, timeout / 1000, w->path, unit);
                        return r;
                }
                if (r < 0)
                        return r;
                if (m.type == MSG_SIGNAL)
                        on_signal(&m, w);
        }
        return 0;
}

/* The unit's object path, as systemctl makes it (unit_dbus_path_from_name): every byte but
 * [A-Za-z] (and digits after the first) as _XX. */
static int unit_path(const char *unit, char *path, size_t size)
{
        size_t n = (size_t)snprintf(path, size, "%s/unit/", MANAGER_PATH);
        for (const char *p = unit; *p && n < size; p++) {
                unsigned char c = (unsigned char)*p;
                bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (p > unit && c >= '0' && c <= '9');
                n += (size_t)snprintf(path + n, size - n, keep ? "%c" : "_%02x", c);
        }
        return n < size ? 0 : -ENAMETOOLONG;
}

/* Whether the service's last start was refused by its start limit (its Result property). */
static bool start_limit_hit(struct bus *b, const char *unit)
{
        char path[512];
        struct msg m;
        if (unit_path(unit, path, sizeof(path)) < 0 ||
            call(b, path, "org.freedesktop.DBus.Properties", "Get",
                 (const char *const[]){"org.freedesktop.systemd1.Service", "Result", NULL},
                 CALL_TIMEOUT_MS, NULL, &m) < 0 ||
            !m.signature || !streq(m.signature, "v"))
                return false;
        size_t at = m.body;
        const char *sig = get_sig(&m, &at, m.len);
        const char *result = sig && streq(sig, "s") ? get_str(&m, &at, m.len) : NULL;
        return result && streq(result, "start-limit-hit");
}

int vt_sd_daemon_reload(void)
{
        struct bus b;
        int r = connect_manager(&b);
        if (r >= 0)
                r = call_manager(&b, "Reload", NULL, RELOAD_TIMEOUT_MS);
        if (r < 0 && r != -ENOTCONN && r != -EREMOTEIO && r != -ETIMEDOUT)
                log_error_errno(r, "Lost systemd while it reloaded");
        bus_close(&b);
        return r;
}

int vt_sd_restart(const char *unit, bool only_if_running)
{
        struct bus b;
        struct job_wait w;
        int r = connect_manager(&b);
        if (r >= 0)
                r = restart(&b, only_if_running ? "TryRestartUnit" : "RestartUnit", unit, &w);
        /*
         * A service's default start limit is 5 starts in 10 s: a few applies and reverts in a
         * row (a script, an image test, an admin trying things) reach it with our own restarts,
         * and the job fails with the unit down ("start-limit-hit"), as `systemctl restart` by
         * hand would. Our restarts must not take the agent away: its failed state and counter
         * are reset (ResetFailedUnit) and it is started once more. RestartUnit, since the
         * failed job left the unit inactive, where a try-restart does nothing; the job failed,
         * so the unit was running when it was asked. Only then: the fast path asks nothing more
         * (the counter is not on the bus, so resetting beforehand would cost a call per
         * restart). Any other failure (a service that cannot start) stays a failure.
         */
        if (r >= 0 && streq(w.result, "failed") && start_limit_hit(&b, unit)) {
                log_notice("%s hit systemd's start limit (StartLimitBurst=) with virtune's own "
                           "restarts: reset-failed and started again",
                           unit);
                r = call_manager(&b, "ResetFailedUnit", unit, CALL_TIMEOUT_MS);
                if (r >= 0)
                        r = restart(&b, "RestartUnit", unit, &w);
        }
        if (r < 0 && r != -ENOTCONN && r != -EREMOTEIO && r != -ETIMEDOUT)
                log_error_errno(r, "Lost systemd while waiting for the restart of %s", unit);
        bus_close(&b);
        if (r < 0)
                return r;
        if (streq(w.result, "done") || streq(w.result, "skipped"))
                return 0;
        log_error("The restart of %s ended with result '%s' (see systemctl status %s)", unit,
                  w.result, unit);
        return -EIO;
}
