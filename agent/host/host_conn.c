/* One host-side connection to a guest agent: connect, sync past stale replies, call, time out. */
#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include "host.h"
#include "log.h"

int64_t vt_host_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t vt_host_now_ms(void)
{
        return vt_host_now_us() / 1000;
}

int vt_host_random(uint8_t *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = getrandom(buf, len, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

int64_t vt_host_random_id(void)
{
        uint64_t v = 0;
        if (vt_host_random((uint8_t *)&v, sizeof(v)) < 0)
                v = (uint64_t)vt_host_now_ms() ^ (uint64_t)getpid() << 32;
        /* Below 2^53: the id survives clients that keep JSON numbers as doubles. */
        return (int64_t)(v & ((1ull << 53) - 1)) | 1;
}

int vt_host_socket_connect(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
                return -errno;
        return TAKE_FD(fd);
}

int vt_host_reply_value(json_object *reply, json_object **value, const char **class,
                        const char **desc)
{
        json_object *e, *v;
        if (json_object_object_get_ex(reply, "return", value))
                return 0;
        *class = "GenericError";
        *desc = "malformed reply";
        if (json_object_object_get_ex(reply, "error", &e)) {
                if (json_object_object_get_ex(e, "class", &v))
                        *class = json_object_get_string(v);
                if (json_object_object_get_ex(e, "desc", &v))
                        *desc = json_object_get_string(v);
        }
        return -EREMOTEIO;
}

/* The parsed cost of the JSON text buf, counted outside strings; stops past max. */
static size_t reply_units(const char *buf, size_t len, size_t max)
{
        size_t units = 1;
        bool in_string = false;
        for (size_t i = 0; i < len && units <= max; i++) {
                char ch = buf[i];
                if (in_string) {
                        if (ch == '\\')
                                i++;
                        else if (ch == '"')
                                in_string = false;
                        continue;
                }
                switch (ch) {
                case '"':
                        in_string = true;
                        break;
                case '{':
                        units += 8;
                        break;
                case '[':
                        units += 2;
                        break;
                case ',':
                        units += 1;
                        break;
                }
        }
        return units;
}

int vt_host_reply_parse(const char *buf, size_t len, size_t max_units, json_object **ret)
{
        char err[128];
        if (reply_units(buf, len, max_units) > max_units)
                return -E2BIG;
        return vt_proto_parse(buf, len, ret, err, sizeof(err)) < 0 ? -EINVAL : 0;
}

static bool reply_has_id(json_object *o, int64_t id)
{
        json_object *v;
        return json_object_object_get_ex(o, "id", &v) && json_object_is_type(v, json_type_int) &&
               json_object_get_int64(v) == id;
}

static void on_reply(enum vt_proto_event ev, const char *buf, size_t len, void *userdata)
{
        struct vt_host_conn *c = userdata;
        json_object *o = NULL, *ret;

        if (ev != VT_PROTO_TOO_LARGE && ev != VT_PROTO_TOO_DEEP && ev != VT_PROTO_MESSAGE)
                return;
        if (ev != VT_PROTO_MESSAGE) {
                if (c->synced)
                        c->error = ev == VT_PROTO_TOO_LARGE ? -EMSGSIZE : -E2BIG;
                return;
        }
        if (c->reply)
                return;
        int r = vt_host_reply_parse(buf, len, VT_HOST_REPLY_UNITS_MAX, &o);
        if (r == -E2BIG && c->synced) {
                c->error = r; /* the answer we wait for, too costly to hold: give up now */
                return;
        }
        if (r < 0)
                return;
        if (!c->synced) {
                /* Anything before our sync answer belongs to someone else. */
                if (json_object_object_get_ex(o, "return", &ret) &&
                    json_object_is_type(ret, json_type_int) &&
                    json_object_get_int64(ret) == c->want_id)
                        c->synced = true;
                json_object_put(o);
                return;
        }
        json_object *id;
        if (c->take) {
                if (!json_object_object_get_ex(o, "id", &id) ||
                    !json_object_is_type(id, json_type_int) ||
                    !c->take(c->take_userdata, json_object_get_int64(id), o))
                        json_object_put(o);
                return;
        }
        if (reply_has_id(o, c->want_id))
                c->reply = o;
        else
                json_object_put(o);
}

static int send_all(struct vt_host_conn *c, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;
                        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
                        int64_t left = c->deadline_ms - vt_host_now_ms();
                        if (left <= 0 || poll(&p, 1, (int)left) == 0)
                                return -ETIMEDOUT;
                        continue;
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

int vt_host_conn_feed(struct vt_host_conn *c, const char *buf, size_t len)
{
        if (vt_proto_reader_feed(&c->reader, buf, len, on_reply, c) < 0)
                return -ENOMEM;
        return c->error < 0 ? c->error : 0;
}

/* Reads until done() holds, the deadline passes, or the guest side closes. */
static int wait_for(struct vt_host_conn *c, bool (*done)(const struct vt_host_conn *))
{
        char buf[64 * 1024];
        while (!done(c)) {
                int64_t left = c->deadline_ms - vt_host_now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                int r = poll(&p, 1, (int)left);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                ssize_t n = read(c->fd, buf, sizeof(buf));
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                r = vt_host_conn_feed(c, buf, (size_t)n);
                if (r < 0)
                        return r;
                /* Parsing counts against the deadline too: a reply past it is too late. */
                if (vt_host_now_ms() > c->deadline_ms)
                        return -ETIMEDOUT;
        }
        return 0;
}

static bool is_synced(const struct vt_host_conn *c)
{
        return c->synced;
}

static bool has_reply(const struct vt_host_conn *c)
{
        return c->reply != NULL;
}

int64_t vt_host_conn_next_id(struct vt_host_conn *c)
{
        /* what came before the request (a second answer to the sync's id) is no answer to it */
        json_object_put(c->reply);
        c->reply = NULL;
        return c->want_id = vt_host_random_id();
}

void vt_host_conn_init(struct vt_host_conn *c, int timeout_ms)
{
        *c = (struct vt_host_conn){.fd = -1};
        vt_proto_reader_init_max(&c->reader, VT_HOST_REPLY_MAX);
        c->deadline_ms = vt_host_now_ms() + timeout_ms;
}

int vt_host_request_append(char **buf, size_t *len, const char *execute, json_object *args,
                           json_object *id)
{
        size_t n;
        _cleanup_free_ char *req = vt_proto_request(execute, args, id, &n);
        char *b = req ? realloc(*buf, *len + n) : NULL;
        if (!b)
                return -ENOMEM;
        memcpy(b + *len, req, n);
        *buf = b;
        *len += n;
        return 0;
}

int vt_host_hello(int64_t sync_id, char **buf, size_t *len)
{
        json_object *args = json_object_new_object();
        _cleanup_free_ char *b = malloc(1);
        size_t n = 1;
        if (!args || !b) {
                json_object_put(args);
                return -ENOMEM;
        }
        json_object_object_add(args, "id", json_object_new_int64(sync_id));
        /* 0xFF first: the agent drops whatever half request an earlier client left. */
        b[0] = (char)VT_PROTO_DELIM;
        int r = vt_host_request_append(&b, &n, "guest-sync-delimited", args, NULL);
        if (r < 0)
                return r;
        *buf = TAKE_PTR(b);
        *len = n;
        return 0;
}

int vt_host_conn_hello(struct vt_host_conn *c, char **buf, size_t *len)
{
        return vt_host_hello(vt_host_conn_next_id(c), buf, len);
}

int vt_host_conn_open(struct vt_host_conn *c, const char *path, int timeout_ms)
{
        assert(c && path);
        vt_host_conn_init(c, timeout_ms);

        c->fd = vt_host_socket_connect(path);
        if (c->fd < 0)
                return c->fd;
        _cleanup_free_ char *hello = NULL;
        size_t n;
        int r = vt_host_conn_hello(c, &hello, &n);
        if (r >= 0)
                r = send_all(c, hello, n);
        if (r >= 0)
                r = wait_for(c, is_synced);
        return r;
}

int vt_host_conn_call(struct vt_host_conn *c, const char *name, json_object *args,
                      json_object **reply)
{
        assert(c && name && reply);
        size_t n;
        _cleanup_free_ char *req =
                vt_proto_request(name, args, json_object_new_int64(vt_host_conn_next_id(c)), &n);
        if (!req)
                return -ENOMEM;
        int r = send_all(c, req, n);
        if (r >= 0)
                r = wait_for(c, has_reply);
        if (r < 0)
                return r;
        *reply = TAKE_PTR(c->reply);
        return 0;
}

void vt_host_conn_close(struct vt_host_conn *c)
{
        if (c->fd >= 0)
                close(c->fd);
        json_object_put(c->reply);
        vt_proto_reader_done(&c->reader);
        c->fd = -1;
        c->reply = NULL;
}

int vt_host_reply_return(json_object *reply, const char *execute, json_object **value)
{
        json_object *v;
        const char *class, *desc;
        if (vt_host_reply_value(reply, &v, &class, &desc) < 0) {
                log_debug("%s: %s: %s", execute, class, desc);
                return -EREMOTEIO;
        }
        *value = json_object_get(v);
        return 0;
}

int vt_host_caller_call(void *caller, const char *execute, json_object *args, json_object **value)
{
        struct vt_host_caller *c = caller;
        _cleanup_json_ json_object *reply = NULL;
        int r = 0;
        if (!c->open && (r = vt_host_conn_open(&c->conn, c->socket, c->timeout_ms)) >= 0)
                c->open = true;
        if (r < 0) {
                json_object_put(args);
                return r;
        }
        r = vt_host_conn_call(&c->conn, execute, args, &reply);
        if (r < 0)
                return r;
        return vt_host_reply_return(reply, execute, value);
}

void vt_host_caller_close(struct vt_host_caller *c)
{
        if (c->open)
                vt_host_conn_close(&c->conn);
        c->open = false;
}
