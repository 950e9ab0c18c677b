/*
 * A hostile guest agent for virtune-host's tests: answers the sync properly, then every other
 * request with a reply meant to hurt the host.
 *
 *   hostile_guest DIR COUNT KIND [BYTES]
 *       DIR/guestNNNN/org.virtune.agent.0 for COUNT guests. KIND:
 *         ints     {"return": [1,1,1,...]} of about BYTES bytes (millions of tiny elements)
 *         objects  {"return": [{},{},...]} of about BYTES bytes
 *         escape   strings full of terminal control sequences (ESC, BEL, CR) in every reply;
 *                  virtune-eventlog gets an error reply (no event log); BYTES, when given,
 *                  names a file whose JSON is the reply to virtune-quote (a captured quote)
 *         drip     a valid small reply sent one byte every 50 ms (a deadline that parsing or
 *                  reading must not outlive)
 * Prints "ready" once listening; runs until killed. No protocol engine: requests are only
 * scanned for their "id" numbers (the sync's first), so this stays what a hostile guest is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "stand_in.h"

enum kind { K_INTS, K_OBJECTS, K_ESCAPE, K_DRIP };

/* One piece of output: body is shared (not owned) or owned. */
struct seg {
        struct seg *next;
        const char *data;
        size_t len, off;
        char *owned;
};

struct conn {
        bool listener;
        int fd;
        int ids_seen;
        char scan[32]; /* the tail of the input, for an "id": split across reads */
        size_t scan_len;
        struct seg *head, *tail;
};

static enum kind kind;
static char *body; /* the shared hostile "return" value for ints/objects */
static size_t body_len;
static int epfd;

static const char escape_return[] =
        "{\"version\": \"1.0\\u001b]0;owned\\u0007\\r\\u001b[2J\", "
        "\"drift\": 1, \"pending_reboot\": [], \"policy\": {\"pvspin\": "
        "{\"enable\": \"no\\u001b[31m\\r\\u0007\"}}, \"last_apply\": null, "
        "\"ok\": false, \"changes\": [{\"module\": \"x\\u001b[1A\", \"target\": "
        "\"\\u001b]8;;http://evil\\u0007link\", \"from\": \"a\\rb\", \"to\": \"c\"}], "
        "\"commands\": [{\"name\": \"guest-ping\\u001b[K\", \"enabled\": true}]}";

static void push(struct conn *c, const char *data, size_t len, bool copy)
{
        struct seg *s = calloc(1, sizeof(*s));
        if (!s)
                exit(1);
        if (copy) {
                s->owned = malloc(len);
                if (!s->owned)
                        exit(1);
                memcpy(s->owned, data, len);
                data = s->owned;
        }
        s->data = data;
        s->len = len;
        if (c->tail)
                c->tail->next = s;
        else
                c->head = s;
        c->tail = s;
}

static char *quote_reply; /* escape: what virtune-quote returns (a captured quote), or NULL */

static void reply(struct conn *c, long long id, bool eventlog, bool quote)
{
        char buf[256];
        int n;
        if (c->ids_seen++ == 0) {
                n = snprintf(buf, sizeof(buf), "\xff{\"return\": %lld}\n", id);
                push(c, buf, (size_t)n, true);
                return;
        }
        if (eventlog && kind == K_ESCAPE) {
                /* no event log here: an error reply (verify goes on without one) */
                n = snprintf(buf, sizeof(buf),
                             "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                             "\"no event log\\u001b[2J\"}, \"id\": %lld}\n",
                             id);
                push(c, buf, (size_t)n, true);
                return;
        }
        const char *ret = kind == K_ESCAPE || kind == K_DRIP ? escape_return : NULL;
        if (quote && quote_reply)
                ret = quote_reply;
        push(c, "{\"return\": ", 11, false);
        if (ret)
                push(c, ret, strlen(ret), false);
        else
                push(c, body, body_len, false);
        n = snprintf(buf, sizeof(buf), ", \"id\": %lld}\n", id);
        push(c, buf, (size_t)n, true);
}

/* Every "id": NUMBER in the bytes, one reply each, in order. */
static void scan_ids(struct conn *c, const char *buf, size_t n)
{
        size_t total = c->scan_len + n;
        char *all = malloc(total + 1);
        if (!all)
                exit(1);
        memcpy(all, c->scan, c->scan_len);
        memcpy(all + c->scan_len, buf, n);
        all[total] = '\0';
        size_t done = 0;
        for (char *p = all; (p = memmem(p, total - (size_t)(p - all), "\"id\":", 5));) {
                char *q = p + 5, *end;
                while (*q == ' ')
                        q++;
                long long id = strtoll(q, &end, 10);
                if (end == q || !*end)
                        break; /* cut in the middle: wait for more */
                bool eventlog = memmem(all + done, (size_t)(p - all) - done, "virtune-eventlog",
                                       16) != NULL;
                bool quote =
                        memmem(all + done, (size_t)(p - all) - done, "virtune-quote", 13) != NULL;
                reply(c, id, eventlog, quote);
                p = end;
                done = (size_t)(end - all);
        }
        size_t keep = total - done < sizeof(c->scan) ? total - done : sizeof(c->scan);
        memcpy(c->scan, all + total - keep, keep);
        c->scan_len = keep;
        free(all);
}

static void drop(struct conn *c)
{
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        while (c->head) {
                struct seg *s = c->head;
                c->head = s->next;
                free(s->owned);
                free(s);
        }
        free(c);
}

/* Writes what the socket takes (one byte per wake-up for drip); false when the host left. */
static bool flush(struct conn *c)
{
        while (c->head) {
                struct seg *s = c->head;
                size_t want = kind == K_DRIP ? 1 : s->len - s->off;
                ssize_t w = send(c->fd, s->data + s->off, want, MSG_NOSIGNAL);
                if (w < 0)
                        return errno == EAGAIN;
                s->off += (size_t)w;
                if (s->off == s->len) {
                        c->head = s->next;
                        if (!c->head)
                                c->tail = NULL;
                        free(s->owned);
                        free(s);
                }
                if (kind == K_DRIP)
                        return true;
        }
        return true;
}

static void watch(struct conn *c)
{
        struct epoll_event ev = {.events = EPOLLIN | (c->head ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static int listen_at(const char *path)
{
        return vt_stand_in_listen(path, 64);
}

static void make_body(size_t bytes)
{
        const char *unit = kind == K_INTS ? "1," : "{},";
        size_t ul = strlen(unit), n = bytes / ul + 1;
        body = malloc(n * ul + 8);
        if (!body)
                exit(1);
        body[0] = '[';
        body_len = 1;
        for (size_t i = 0; i < n; i++, body_len += ul)
                memcpy(body + body_len, unit, ul);
        body[body_len - 1] = ']'; /* the last comma closes the array */
}

int main(int argc, char **argv)
{
        static const char *const kinds[] = {"ints", "objects", "escape", "drip"};
        if (argc < 4)
                goto usage;
        int k = -1;
        for (int i = 0; i < 4; i++)
                if (strcmp(argv[3], kinds[i]) == 0)
                        k = i;
        if (k < 0)
                goto usage;
        kind = (enum kind)k;
        if (kind == K_INTS || kind == K_OBJECTS)
                make_body(argc >= 5 ? strtoull(argv[4], NULL, 10) : 15u << 20);
        if (kind == K_ESCAPE && argc >= 5) {
                FILE *f = fopen(argv[4], "re");
                size_t cap = 0;
                if (!f || getdelim(&quote_reply, &cap, '\0', f) < 0) {
                        perror(argv[4]);
                        return 1;
                }
                fclose(f);
                for (char *q = quote_reply; *q; q++)
                        if (*q == '\n')
                                *q = ' '; /* one line on the wire */
        }
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        epfd = epoll_create1(EPOLL_CLOEXEC);
        int count = atoi(argv[2]);
        for (int i = 0; i < count; i++) {
                char p[4096];
                snprintf(p, sizeof(p), "%s/guest%04d", argv[1], i);
                mkdir(p, 0755);
                snprintf(p, sizeof(p), "%s/guest%04d/org.virtune.agent.0", argv[1], i);
                struct conn *l = calloc(1, sizeof(*l));
                l->listener = true;
                l->fd = listen_at(p);
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
                if (l->fd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
                        perror(p);
                        return 1;
                }
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                struct epoll_event evs[64];
                int n = epoll_wait(epfd, evs, 64, kind == K_DRIP ? 50 : -1);
                if (n == 0 && kind == K_DRIP)
                        continue; /* drip writes on EPOLLOUT wake-ups, paced below */
                for (int i = 0; i < n; i++) {
                        struct conn *c = evs[i].data.ptr;
                        if (c->listener) {
                                int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                                if (fd < 0)
                                        continue;
                                struct conn *nc = calloc(1, sizeof(*nc));
                                nc->fd = fd;
                                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                                epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                                continue;
                        }
                        if (evs[i].events & EPOLLIN) {
                                char buf[65536];
                                ssize_t r = read(c->fd, buf, sizeof(buf));
                                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                                        drop(c);
                                        continue;
                                }
                                if (r > 0)
                                        scan_ids(c, buf, (size_t)r);
                        }
                        if (!flush(c)) {
                                drop(c);
                                continue;
                        }
                        watch(c);
                }
                if (kind == K_DRIP)
                        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
        }
usage:
        fprintf(stderr, "usage: hostile_guest DIR COUNT ints|objects|escape|drip [BYTES]\n");
        return 2;
}
