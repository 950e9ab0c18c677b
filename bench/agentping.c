/* agentping: round-trip times of guest-ping through a guest agent's channel socket on the host. */
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "util.h"

#define AP_MAX_REPLY (64 * 1024)

/* One connection with a bounded receive buffer (the agent's replies are untrusted). */
struct ap_conn {
        int fd;
        int timeout_ms;
        char buf[AP_MAX_REPLY];
        size_t len;
};

static int ap_connect(const char *path, int *ret_fd)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int ap_send(struct ap_conn *c, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Reads more into the buffer, waiting at most the connection's timeout. */
static int ap_fill(struct ap_conn *c)
{
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        ssize_t n;
        int r;

        if (c->len >= sizeof(c->buf))
                return -EMSGSIZE;
        r = poll(&p, 1, c->timeout_ms);
        if (r < 0)
                return -errno;
        if (r == 0)
                return -ETIMEDOUT;
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        c->len += (size_t)n;
        return 0;
}

static void ap_consume(struct ap_conn *c, size_t n)
{
        memmove(c->buf, c->buf + n, c->len - n);
        c->len -= n;
}

/* Drops everything up to and including the next 0xFF (the sync delimiter). */
static int ap_skip_delimiter(struct ap_conn *c)
{
        for (;;) {
                char *ff = memchr(c->buf, 0xff, c->len);
                int r;

                if (ff) {
                        ap_consume(c, (size_t)(ff - c->buf) + 1);
                        return 0;
                }
                c->len = 0;
                r = ap_fill(c);
                if (r < 0)
                        return r;
        }
}

/* Reads one reply line and parses it; fails on an error reply. */
static int ap_read_reply(struct ap_conn *c, json_object **ret)
{
        for (;;) {
                char *nl = memchr(c->buf, '\n', c->len);
                int r;

                if (nl) {
                        _cleanup_json_ json_object *o = NULL;
                        json_object *v;

                        *nl = '\0';
                        o = json_tokener_parse(c->buf);
                        ap_consume(c, (size_t)(nl - c->buf) + 1);
                        if (!o || !json_object_object_get_ex(o, "return", &v))
                                return -EBADMSG;
                        *ret = TAKE_PTR(o);
                        return 0;
                }
                r = ap_fill(c);
                if (r < 0)
                        return r;
        }
}

static int ap_sync(struct ap_conn *c, int64_t id)
{
        _cleanup_json_ json_object *reply = NULL;
        char req[128];
        json_object *v;
        int n, r;

        n = snprintf(req, sizeof(req),
                     "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%" PRId64
                     "}}\n",
                     id);
        r = ap_send(c, req, (size_t)n);
        if (r < 0)
                return r;
        /* A reply left over from an earlier client carries another id: skip to ours. */
        for (int tries = 0; tries < 16; tries++) {
                r = ap_skip_delimiter(c);
                if (r < 0)
                        return r;
                r = ap_read_reply(c, &reply);
                if (r < 0)
                        return r;
                json_object_object_get_ex(reply, "return", &v);
                if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == id)
                        return 0;
                json_object_put(TAKE_PTR(reply));
        }
        return -EPROTO;
}

static int64_t ap_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int ap_cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

static int ap_ping(struct ap_conn *c, int64_t *ret_ns)
{
        static const char ping[] = "{\"execute\":\"guest-ping\"}\n";
        _cleanup_json_ json_object *reply = NULL;
        int64_t t0 = ap_now_ns();
        int r;

        r = ap_send(c, ping, sizeof(ping) - 1);
        if (r < 0)
                return r;
        r = ap_read_reply(c, &reply);
        if (r < 0)
                return r;
        *ret_ns = ap_now_ns() - t0;
        return 0;
}

/*
 * The first answer after connecting: connect, time guest-sync-delimited to its reply, close,
 * then leave the agent alone (no host) for idle_ms before the next connect.
 */
static int ap_first_answers(struct ap_conn *c, const char *path, long count, int idle_ms,
                            int64_t *ns)
{
        for (long i = 0; i < count; i++) {
                struct timespec idle = {idle_ms / 1000, (long)(idle_ms % 1000) * 1000000};
                int r;

                nanosleep(&idle, NULL);
                c->len = 0;
                r = ap_connect(path, &c->fd);
                if (r < 0)
                        return r;
                int64_t t0 = ap_now_ns();
                r = ap_sync(c, (int64_t)getpid() * 100000 + i);
                ns[i] = ap_now_ns() - t0;
                close(c->fd);
                c->fd = -1;
                if (r < 0)
                        return r;
        }
        return 0;
}

static void ap_usage(FILE *f)
{
        fputs("usage: agentping [-n COUNT] [-t SECONDS] SOCKET\n"
              "       agentping -c CONNECTS [-i IDLE_MS] [-t SECONDS] SOCKET\n"
              "Connects to a guest agent's channel socket (qemu-ga protocol), syncs with\n"
              "guest-sync-delimited, sends COUNT guest-ping requests one at a time (default 1000)\n"
              "and prints: pings=N min_ms=X median_ms=X p99_ms=X\n"
              "With -c: connects CONNECTS times, each after IDLE_MS with no host connected\n"
              "(default 200), and times the first reply (guest-sync-delimited) after connecting;\n"
              "prints: connects=N first_min_ms=X first_median_ms=X first_max_ms=X\n",
              f);
}

int main(int argc, char **argv)
{
        static struct ap_conn conn = {.fd = -1, .timeout_ms = 10000};
        _cleanup_free_ int64_t *rtt = NULL;
        long count = 1000, connects = 0, idle_ms = 200;
        int opt, r;

        while ((opt = getopt(argc, argv, "n:c:i:t:h")) >= 0) {
                switch (opt) {
                case 'n':
                        count = strtol(optarg, NULL, 10);
                        break;
                case 'c':
                        connects = strtol(optarg, NULL, 10);
                        count = connects;
                        break;
                case 'i':
                        idle_ms = strtol(optarg, NULL, 10);
                        break;
                case 't':
                        conn.timeout_ms = (int)strtol(optarg, NULL, 10) * 1000;
                        break;
                case 'h':
                        ap_usage(stdout);
                        return 0;
                default:
                        ap_usage(stderr);
                        return 2;
                }
        }
        if (optind != argc - 1 || count < 1 || count > 10000000 || conn.timeout_ms <= 0 ||
            idle_ms < 0 || idle_ms > 60000) {
                ap_usage(stderr);
                return 2;
        }
        rtt = calloc((size_t)count, sizeof(*rtt));
        if (!rtt)
                return 1;
        if (connects > 0) {
                r = ap_first_answers(&conn, argv[optind], connects, (int)idle_ms, rtt);
                if (r < 0) {
                        fprintf(stderr, "agentping: first answer after connecting: %s\n",
                                strerror(-r));
                        return 1;
                }
                qsort(rtt, (size_t)count, sizeof(*rtt), ap_cmp_i64);
                printf("connects=%ld first_min_ms=%.3f first_median_ms=%.3f first_max_ms=%.3f\n",
                       count, rtt[0] / 1e6, rtt[count / 2] / 1e6, rtt[count - 1] / 1e6);
                return 0;
        }
        r = ap_connect(argv[optind], &conn.fd);
        if (r < 0) {
                fprintf(stderr, "agentping: connect %s: %s\n", argv[optind], strerror(-r));
                return 1;
        }
        r = ap_sync(&conn, (int64_t)getpid() * 1000 + 7);
        if (r < 0) {
                fprintf(stderr, "agentping: guest-sync-delimited: %s\n", strerror(-r));
                return 1;
        }
        for (long i = 0; i < count; i++) {
                r = ap_ping(&conn, &rtt[i]);
                if (r < 0) {
                        fprintf(stderr, "agentping: guest-ping %ld: %s\n", i + 1, strerror(-r));
                        return 1;
                }
        }
        close(conn.fd);
        qsort(rtt, (size_t)count, sizeof(*rtt), ap_cmp_i64);
        printf("pings=%ld min_ms=%.3f median_ms=%.3f p99_ms=%.3f\n", count, rtt[0] / 1e6,
               rtt[count / 2] / 1e6, rtt[(count * 99) / 100] / 1e6);
        return 0;
}
