/*
 * Test stand-ins for what QEMU gives the host: many guests' channel sockets served by one
 * process with the real protocol engine ("serve"), or one chardev socket relayed to a real
 * virtuned ("relay"), so virtune-host is tested without a VM.
 *
 *   fake_guests serve DIR COUNT [SLOW_COUNT SLOW_MS [STALE [ACTIVATE]]]
 *       DIR/guestNNNN/org.virtune.agent.0 for COUNT guests; the first SLOW_COUNT answer after
 *       SLOW_MS; with STALE=1 each connection first gets a stale reply left by "someone else".
 *       With ACTIVATE the first SLOW_COUNT answer everything at once but virtune-activate:
 *       "hang" never answers it, "garbage" answers bytes that are no JSON, "wrong" a secret
 *       that is not the one sealed, "huge" a 15 MiB reply of tiny objects.
 *       DIR/etc/virtune/virtune.conf, when there, is their policy (a TPM: [tpm] tcti).
 *   fake_guests relay PORT_SOCKET HOST_SOCKET
 *       virtuned connects to PORT_SOCKET (its --port-path); hosts connect to HOST_SOCKET one at
 *       a time and are relayed to it, the port staying open between hosts, as with QEMU.
 * Prints "ready" on stdout once listening; runs until killed.
 */
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include "policy.h"
#include "proto.h"
#include "stand_in.h"

static int listen_at(const char *path)
{
        return vt_stand_in_listen(path, 16);
}

enum kind { LISTENER, CONN, TIMER };

struct item {
        enum kind kind;
        int fd;
        bool slow;
        bool bad; /* CONN, LISTENER: answers virtune-activate as act_mode says */
        struct vt_proto_reader reader;
        char *out;
        size_t out_len;
        struct item *conn; /* TIMER: whose output to send */
        int timers;        /* CONN: timers still to fire for it (it outlives them) */
        bool gone;         /* CONN: the host left; freed when its last timer fires */
        bool want_out;     /* CONN: EPOLLOUT asked for (output the socket did not take yet) */
};

static struct vt_ctx *ctx;
static int epfd;
static int slow_ms;
static bool stale;
static const char *act_mode;

/* What a bad guest answers to virtune-activate instead of reply (taken); NULL: nothing. */
static char *bad_activation(char *reply, size_t *n)
{
        if (streq(act_mode, "hang")) {
                free(reply);
                return NULL;
        }
        if (streq(act_mode, "garbage")) {
                free(reply);
                static const char junk[] = "\x01\x02{{{ not json ]]]\n";
                *n = sizeof(junk) - 1;
                return strdup(junk);
        }
        if (streq(act_mode, "wrong")) {
                char *p = strstr(reply, "\"secret\"");
                for (p = p ? strchr(p + 8, '"') : NULL; p && *++p && *p != '"';)
                        *p = *p == '0' ? '1' : '0';
                return reply;
        }
        free(reply); /* "huge" */
        size_t len = 15u << 20, off = 11;
        char *big = malloc(len);
        if (!big)
                exit(1);
        memcpy(big, "{\"return\":[", off);
        for (; off + 3 <= len - 5; off += 3)
                memcpy(big + off, "{},", 3);
        memcpy(big + off, "{}]}\n", 5);
        *n = off + 5;
        return big;
}

static void add(struct item *it, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = it};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, it->fd, &ev) < 0) {
                perror("epoll_ctl");
                exit(1);
        }
}

static void drop(struct item *it)
{
        if (it->fd >= 0) {
                epoll_ctl(epfd, EPOLL_CTL_DEL, it->fd, NULL);
                close(it->fd);
                it->fd = -1;
        }
        if (it->timers > 0) {
                it->gone = true; /* a slow answer is still due: its timer frees it */
                return;
        }
        vt_proto_reader_done(&it->reader);
        free(it->out);
        free(it);
}

/* Sends what the socket takes; the rest waits for EPOLLOUT (a large reply, a slow host). */
static void flush_out(struct item *c)
{
        size_t off = 0;
        while (off < c->out_len) {
                ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        break;
                if (w < 0) {
                        /* A host that gave up (its timeout) has closed: drop what it missed. */
                        if (errno != EPIPE && errno != ECONNRESET)
                                perror("write");
                        off = c->out_len;
                        break;
                }
                off += (size_t)w;
        }
        if (off > 0 && off < c->out_len)
                memmove(c->out, c->out + off, c->out_len - off);
        c->out_len -= off;
        bool want_out = c->out_len > 0;
        if (want_out == c->want_out)
                return;
        c->want_out = want_out;
        struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_event(enum vt_proto_event ev, const char *buf, size_t len, void *userdata)
{
        struct item *c = userdata;
        size_t n;
        _cleanup_free_ char *reply = vt_proto_dispatch(ctx, ev, buf, len, &n);
        if (reply && c->bad && memmem(buf, len, "\"virtune-activate\"", 18))
                reply = bad_activation(TAKE_PTR(reply), &n);
        if (!reply)
                return;
        char *o = realloc(c->out, c->out_len + n);
        if (!o)
                exit(1);
        memcpy(o + c->out_len, reply, n);
        c->out = o;
        c->out_len += n;
}

static void conn_read(struct item *c)
{
        char buf[65536];
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n <= 0) {
                if (n < 0 && errno == EAGAIN)
                        return;
                drop(c);
                return;
        }
        vt_proto_reader_feed(&c->reader, buf, (size_t)n, on_event, c);
        if (!c->slow) {
                flush_out(c);
                return;
        }
        /* A slow guest: the answer leaves after slow_ms (one timer per burst). */
        struct item *t = calloc(1, sizeof(*t));
        struct itimerspec its = {.it_value = {slow_ms / 1000, (slow_ms % 1000) * 1000000L}};
        t->kind = TIMER;
        t->conn = c;
        c->timers++;
        t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        timerfd_settime(t->fd, 0, &its, NULL);
        add(t, EPOLLIN);
}

static void on_accept(struct item *l)
{
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        struct item *c = calloc(1, sizeof(*c));
        c->kind = CONN;
        c->fd = fd;
        c->slow = l->slow;
        c->bad = l->bad;
        vt_proto_reader_init(&c->reader);
        if (stale && write(fd, "{\"return\":1}\n{\"return\":{},\"id\":2}\n", 34) < 0)
                perror("write");
        add(c, EPOLLIN);
}

static int serve(const char *dir, int count, int slow_count)
{
        char p[256];
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        for (int i = 0; i < count; i++) {
                snprintf(p, sizeof(p), "%s/guest%04d", dir, i);
                mkdir(p, 0755);
                snprintf(p, sizeof(p), "%s/guest%04d/org.virtune.agent.0", dir, i);
                struct item *l = calloc(1, sizeof(*l));
                l->kind = LISTENER;
                l->slow = i < slow_count && !act_mode;
                l->bad = i < slow_count && act_mode;
                l->fd = listen_at(p);
                if (l->fd < 0) {
                        perror(p);
                        return 1;
                }
                add(l, EPOLLIN);
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                struct epoll_event evs[64];
                int n = epoll_wait(epfd, evs, 64, -1);
                for (int i = 0; i < n; i++) {
                        struct item *it = evs[i].data.ptr;
                        if (it->kind == LISTENER)
                                on_accept(it);
                        else if (it->kind == CONN) {
                                if (evs[i].events & EPOLLOUT)
                                        flush_out(it);
                                if (evs[i].events & ~EPOLLOUT)
                                        conn_read(it); /* may free it */
                        } else {
                                struct item *c = it->conn;
                                c->timers--;
                                if (!c->gone)
                                        flush_out(c);
                                else if (c->timers == 0)
                                        drop(c);
                                drop(it);
                        }
                }
        }
}

/* Copies what is readable on from to to; false when from is closed. */
static bool pump(int from, int to)
{
        char buf[65536];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EAGAIN))
                return false;
        for (ssize_t off = 0; off < n;) {
                ssize_t w = to >= 0 ? send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL) : n;
                if (w < 0 && errno == EAGAIN)
                        continue;
                if (w < 0)
                        return true; /* the other side is gone: its bytes are lost, as in QEMU */
                off += w;
        }
        return true;
}

static int relay(const char *port_path, const char *host_path)
{
        int pl = listen_at(port_path), hl = listen_at(host_path);
        if (pl < 0 || hl < 0) {
                perror("listen");
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        fcntl(pl, F_SETFL, 0); /* wait for virtuned here */
        int port = accept4(pl, NULL, NULL, SOCK_CLOEXEC), host = -1;
        if (port < 0)
                return 1;
        struct item ip = {.fd = port}, ih = {.fd = -1}, il = {.fd = hl};
        add(&ip, EPOLLIN);
        add(&il, EPOLLIN);
        for (;;) {
                struct epoll_event evs[8];
                int n = epoll_wait(epfd, evs, 8, -1);
                for (int i = 0; i < n; i++) {
                        struct item *it = evs[i].data.ptr;
                        if (it == &il) {
                                int fd = accept4(hl, NULL, NULL, SOCK_CLOEXEC);
                                if (fd < 0)
                                        continue;
                                if (host >= 0) {
                                        /* QEMU's chardev takes one client at a time. */
                                        close(fd);
                                        continue;
                                }
                                host = ih.fd = fd;
                                add(&ih, EPOLLIN);
                        } else if (it == &ip) {
                                if (!pump(port, host))
                                        return 0; /* virtuned went away */
                        } else if (it == &ih && !pump(host, port)) {
                                epoll_ctl(epfd, EPOLL_CTL_DEL, host, NULL);
                                close(host);
                                host = ih.fd = -1;
                        }
                }
        }
}

int main(int argc, char **argv)
{
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (argc >= 4 && streq(argv[1], "serve")) {
                /*
                 * The guests' "system" is the socket directory: facts of nothing much. A policy
                 * there ([tpm] tcti = swtpm:...) gives them a real TPM: scan --attest's tests.
                 */
                char err[256];
                if (vt_ctx_new(argv[2], &ctx) < 0 ||
                    vt_policy_load(ctx, &ctx->policy, err, sizeof(err)) < 0)
                        return 1;
                if (argc >= 6)
                        slow_ms = atoi(argv[5]);
                stale = argc >= 7 && streq(argv[6], "1");
                act_mode = argc >= 8 ? argv[7] : NULL;
                return serve(argv[2], atoi(argv[3]), argc >= 6 ? atoi(argv[4]) : 0);
        }
        if (argc == 4 && streq(argv[1], "relay"))
                return relay(argv[2], argv[3]);
        fprintf(stderr,
                "usage: fake_guests serve DIR COUNT [SLOW_COUNT SLOW_MS [STALE [ACTIVATE]]] | "
                "relay PORT_SOCKET HOST_SOCKET\n");
        return 2;
}
