/* virtune-host scan: ask every guest's channel socket at once, from one event loop. */
#include <assert.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "host.h"

enum { ID_SYNC, ID_INFO, ID_STATUS, _ID_MAX };
static const char *const scan_commands[_ID_MAX] = {"guest-sync-delimited", "guest-info",
                                                   "virtune-status"};

struct guest {
        char *path;
        int fd;
        struct vt_proto_reader reader;
        int64_t ids[_ID_MAX];
        json_object *replies[_ID_MAX];
        char *out;
        size_t out_len, out_off;
        int64_t t_start_ms;
        int64_t rtt_ms;    /* round trip of the sync, -1 until it came */
        const char *error; /* static text: why it is down */
        bool done;
        bool settled, up;    /* printed (or cut down for Prometheus); answered guest-info */
        const char *refused; /* a reply too large or too costly: give up on this guest now */
};

static bool is_socket(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int add_path(char ***paths, size_t *n, const char *path)
{
        char **p = realloc(*paths, (*n + 1) * sizeof(char *));
        if (!p)
                return -ENOMEM;
        *paths = p;
        p[*n] = strdup(path);
        if (!p[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* DIR itself, DIR/NAME, or DIR/ * /NAME (libvirt's channel/target/DOMAIN/NAME). */
static int collect(const char *dir, const char *name, char ***paths, size_t *n)
{
        char p[PATH_MAX];
        if (is_socket(dir))
                return add_path(paths, n, dir);
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                if (streq(de->d_name, name) && snprintf(p, sizeof(p), "%s/%s", dir, name) > 0 &&
                    is_socket(p)) {
                        int r = add_path(paths, n, p);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (snprintf(p, sizeof(p), "%s/%s/%s", dir, de->d_name, name) >= (int)sizeof(p))
                        continue;
                if (is_socket(p)) {
                        int r = add_path(paths, n, p);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One fd per guest: lift the soft limit to the hard one. */
static void raise_nofile(size_t want)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want + 16) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static void on_message(enum vt_proto_event ev, const char *buf, size_t len, void *userdata)
{
        struct guest *g = userdata;
        json_object *o = NULL, *v;

        if (ev == VT_PROTO_TOO_LARGE || ev == VT_PROTO_TOO_DEEP) {
                g->refused = "the agent sent a reply larger than a scan reads";
                return;
        }
        int r = ev == VT_PROTO_MESSAGE
                        ? vt_host_reply_parse(buf, len, VT_HOST_SCAN_REPLY_UNITS_MAX, &o)
                        : -EINVAL;
        if (r == -E2BIG)
                g->refused = "the agent sent a reply of more elements than a scan parses";
        if (r < 0)
                return;
        if (g->rtt_ms < 0) {
                if (json_object_object_get_ex(o, "return", &v) &&
                    json_object_is_type(v, json_type_int) &&
                    json_object_get_int64(v) == g->ids[ID_SYNC])
                        g->rtt_ms = vt_host_now_ms() - g->t_start_ms;
                json_object_put(o);
                return;
        }
        for (int i = ID_INFO; i < _ID_MAX; i++)
                if (!g->replies[i] && json_object_object_get_ex(o, "id", &v) &&
                    json_object_is_type(v, json_type_int) &&
                    json_object_get_int64(v) == g->ids[i]) {
                        g->replies[i] = o;
                        return;
                }
        json_object_put(o);
}

static int guest_start(struct guest *g)
{
        size_t off = 1, n;
        g->out = malloc(1);
        if (!g->out)
                return -ENOMEM;
        g->out[0] = (char)VT_PROTO_DELIM;
        /* All three pipelined: the agent answers in order, one round trip in all. */
        for (int i = 0; i < _ID_MAX; i++) {
                json_object *args = NULL, *id = NULL;
                g->ids[i] = vt_host_random_id();
                if (i == ID_SYNC) {
                        args = json_object_new_object();
                        json_object_object_add(args, "id", json_object_new_int64(g->ids[i]));
                } else
                        id = json_object_new_int64(g->ids[i]);
                _cleanup_free_ char *req = vt_proto_request(scan_commands[i], args, id, &n);
                char *o = req ? realloc(g->out, off + n) : NULL;
                if (!o)
                        return -ENOMEM;
                memcpy(o + off, req, n);
                g->out = o;
                off += n;
        }
        g->out_len = off;
        g->t_start_ms = vt_host_now_ms();
        g->fd = vt_host_socket_connect(g->path);
        return g->fd < 0 ? g->fd : 0;
}

static void guest_finish(struct guest *g, int epfd, const char *error)
{
        if (g->done)
                return;
        g->done = true;
        if (!g->error)
                g->error = error;
        if (g->fd >= 0) {
                epoll_ctl(epfd, EPOLL_CTL_DEL, g->fd, NULL);
                close(g->fd);
                g->fd = -1;
        }
        vt_proto_reader_done(&g->reader);
}

static void guest_io(struct guest *g, int epfd, uint32_t events)
{
        char buf[16 * 1024];
        if (g->out_off < g->out_len && (events & (EPOLLOUT | EPOLLERR))) {
                ssize_t w = send(g->fd, g->out + g->out_off, g->out_len - g->out_off, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN)
                        return guest_finish(g, epfd, "the agent's socket refused our request");
                if (w > 0)
                        g->out_off += (size_t)w;
                if (g->out_off == g->out_len) {
                        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = g};
                        epoll_ctl(epfd, EPOLL_CTL_MOD, g->fd, &ev);
                }
        }
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return;
        ssize_t n = read(g->fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return guest_finish(g, epfd, "the agent closed the connection");
        if (n > 0 && vt_proto_reader_feed(&g->reader, buf, (size_t)n, on_message, g) < 0)
                return guest_finish(g, epfd, "out of memory");
        if (g->refused)
                guest_finish(g, epfd, g->refused); /* waiting on would only cost more */
        else if (g->replies[ID_INFO] && g->replies[ID_STATUS])
                guest_finish(g, epfd, NULL);
}

static void json_line(FILE *out, const struct guest *g)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *v;
        const char *class, *desc;
        bool up = g->replies[ID_INFO] != NULL;

        vt_json_add_str(o, "socket", g->path);
        json_object_object_add(o, "up", json_object_new_boolean(up));
        json_object_object_add(o, "rtt_ms",
                               g->rtt_ms >= 0 ? json_object_new_int64(g->rtt_ms) : NULL);
        const char *version = NULL;
        if (up && vt_host_reply_value(g->replies[ID_INFO], &v, &class, &desc) == 0 &&
            json_object_object_get_ex(v, "version", &v))
                version = json_object_get_string(v);
        vt_json_add_str(o, "version", version);
        json_object *status = NULL, *status_error = NULL;
        if (g->replies[ID_STATUS]) {
                if (vt_host_reply_value(g->replies[ID_STATUS], &v, &class, &desc) == 0)
                        status = json_object_get(v);
                else {
                        status_error = json_object_new_object();
                        vt_json_add_str(status_error, "class", class);
                        vt_json_add_str(status_error, "desc", desc);
                }
        }
        json_object_object_add(o, "status", status);
        json_object_object_add(o, "status_error", status_error);
        vt_json_add_str(o, "error", up ? NULL : (g->error ? g->error : "no answer in time"));
        fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* Label values: backslash, double quote and newline escaped (text exposition format). */
static void prom_label(FILE *out, const char *s)
{
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '\\' || c == '"')
                        fputc('\\', out);
                if (c == '\n')
                        fputs("\\n", out);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(out, "\\\\x%02x", c); /* a guest's ESC stays out of the file */
                else
                        fputc(c, out);
        }
}

static void prom_sample(FILE *out, const char *metric, const struct guest *g, const char *extra,
                        const char *extra_val, double value)
{
        fprintf(out, "%s{socket=\"", metric);
        prom_label(out, g->path);
        if (extra) {
                fprintf(out, "\",%s=\"", extra);
                prom_label(out, extra_val);
        }
        fprintf(out, "\"} %g\n", value);
}

static bool status_int(const struct guest *g, const char *key, double *ret)
{
        json_object *v, *k;
        const char *class, *desc;
        if (!g->replies[ID_STATUS] ||
            vt_host_reply_value(g->replies[ID_STATUS], &v, &class, &desc) < 0 ||
            !json_object_object_get_ex(v, key, &k))
                return false;
        if (json_object_is_type(k, json_type_int))
                *ret = (double)json_object_get_int64(k);
        else if (json_object_is_type(k, json_type_array))
                *ret = (double)json_object_array_length(k);
        else
                return false;
        return true;
}

static void prometheus(FILE *out, struct guest *gs, size_t n)
{
        double v;
        fputs("# HELP virtune_up Whether the guest's virtune agent answered.\n"
              "# TYPE virtune_up gauge\n",
              out);
        for (size_t i = 0; i < n; i++)
                prom_sample(out, "virtune_up", &gs[i], NULL, NULL, gs[i].replies[ID_INFO] ? 1 : 0);
        fputs("# HELP virtune_rtt_seconds Round trip of the sync over the channel.\n"
              "# TYPE virtune_rtt_seconds gauge\n",
              out);
        for (size_t i = 0; i < n; i++)
                if (gs[i].rtt_ms >= 0)
                        prom_sample(out, "virtune_rtt_seconds", &gs[i], NULL, NULL,
                                    (double)gs[i].rtt_ms / 1000.0);
        fputs("# HELP virtune_drift Settings that differ from the guest's policy.\n"
              "# TYPE virtune_drift gauge\n",
              out);
        for (size_t i = 0; i < n; i++)
                if (status_int(&gs[i], "drift", &v))
                        prom_sample(out, "virtune_drift", &gs[i], NULL, NULL, v);
        fputs("# HELP virtune_pending_reboot Changes waiting for a reboot.\n"
              "# TYPE virtune_pending_reboot gauge\n",
              out);
        for (size_t i = 0; i < n; i++)
                if (status_int(&gs[i], "pending_reboot", &v))
                        prom_sample(out, "virtune_pending_reboot", &gs[i], NULL, NULL, v);
        fputs("# HELP virtune_agent_info The agent's version.\n"
              "# TYPE virtune_agent_info gauge\n",
              out);
        for (size_t i = 0; i < n; i++) {
                json_object *r, *ver;
                const char *class, *desc;
                if (gs[i].replies[ID_INFO] &&
                    vt_host_reply_value(gs[i].replies[ID_INFO], &r, &class, &desc) == 0 &&
                    json_object_object_get_ex(r, "version", &ver))
                        prom_sample(out, "virtune_agent_info", &gs[i], "version",
                                    json_object_get_string(ver), 1);
        }
}

/*
 * A guest is done: its line goes out now and its replies are freed (JSON lines), or they are
 * cut to the few values the Prometheus text needs. Memory stays that of the guests in flight.
 */
static void settle(struct guest *g, FILE *out, bool prometheus)
{
        if (g->settled)
                return;
        g->settled = true;
        g->up = g->replies[ID_INFO] != NULL;
        if (!prometheus) {
                json_line(out, g);
                fflush(out);
        } else {
                json_object *v, *small = json_object_new_object(), *ret = json_object_new_object();
                const char *class, *desc;
                json_object_object_add(small, "return", ret);
                if (g->replies[ID_STATUS] &&
                    vt_host_reply_value(g->replies[ID_STATUS], &v, &class, &desc) == 0) {
                        static const char *const keep[] = {"drift", "pending_reboot"};
                        for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
                                double d;
                                if (status_int(g, keep[i], &d))
                                        json_object_object_add(ret, keep[i],
                                                               json_object_new_int64((int64_t)d));
                        }
                }
                json_object_put(g->replies[ID_STATUS]);
                g->replies[ID_STATUS] =
                        g->replies[ID_STATUS] ? small : (json_object_put(small), NULL);
                json_object *info = NULL;
                if (g->replies[ID_INFO] &&
                    vt_host_reply_value(g->replies[ID_INFO], &v, &class, &desc) == 0 &&
                    json_object_object_get_ex(v, "version", &v)) {
                        info = json_object_new_object();
                        json_object *r = json_object_new_object();
                        json_object_object_add(r, "version", json_object_get(v));
                        json_object_object_add(info, "return", r);
                }
                if (g->replies[ID_INFO] && !info) {
                        info = json_object_new_object();
                        json_object_object_add(info, "return", json_object_new_object());
                }
                json_object_put(g->replies[ID_INFO]);
                g->replies[ID_INFO] = info;
                return;
        }
        for (int j = 0; j < _ID_MAX; j++) {
                json_object_put(g->replies[j]);
                g->replies[j] = NULL;
        }
        free(g->out);
        g->out = NULL;
}

int vt_host_scan(char *const *dirs, size_t ndirs, const struct vt_scan_opts *opts, FILE *out)
{
        assert(opts && out);
        char **paths = NULL;
        size_t n = 0;
        int r = 0, up = 0;

        for (size_t i = 0; i < ndirs; i++) {
                r = collect(dirs[i], opts->name ? opts->name : VT_HOST_PORT_NAME, &paths, &n);
                if (r == -ENOENT || r == -ENOTDIR)
                        r = 0; /* a host without libvirt channels has none: not an error */
                if (r < 0)
                        goto out;
        }
        if (n > 0)
                qsort(paths, n, sizeof(char *), cmp_str);
        raise_nofile(n);

        struct guest *gs = calloc(n ? n : 1, sizeof(*gs));
        int epfd = epoll_create1(EPOLL_CLOEXEC);
        if (!gs || epfd < 0) {
                free(gs);
                r = -ENOMEM;
                goto out;
        }
        int64_t t0 = vt_host_now_ms(), deadline = t0 + opts->timeout_ms;
        size_t pending = n;
        for (size_t i = 0; i < n; i++) {
                struct guest *g = &gs[i];
                g->path = paths[i];
                g->fd = -1;
                g->rtt_ms = -1;
                vt_proto_reader_init_max(&g->reader, VT_HOST_SCAN_REPLY_MAX);
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = g};
                if (guest_start(g) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, g->fd, &ev) < 0) {
                        guest_finish(g, epfd, "no agent listening on the socket");
                        pending--;
                }
        }
        struct epoll_event evs[64];
        while (pending > 0) {
                int64_t left = deadline - vt_host_now_ms();
                if (left <= 0)
                        break;
                int k = epoll_wait(epfd, evs, ARRAY_SIZE(evs), (int)left);
                for (int i = 0; i < k; i++) {
                        struct guest *g = evs[i].data.ptr;
                        guest_io(g, epfd, evs[i].events);
                        if (g->done) {
                                pending--;
                                settle(g, out, opts->prometheus);
                        }
                }
        }
        for (size_t i = 0; i < n; i++) {
                guest_finish(&gs[i], epfd, "no answer in time");
                settle(&gs[i], out, opts->prometheus);
                if (gs[i].up)
                        up++;
        }
        if (opts->prometheus)
                prometheus(out, gs, n);
        for (size_t i = 0; i < n; i++) {
                for (int j = 0; j < _ID_MAX; j++)
                        json_object_put(gs[i].replies[j]);
                free(gs[i].out);
        }
        free(gs);
        close(epfd);
        r = up;
out:
        for (size_t i = 0; i < n; i++)
                free(paths[i]);
        free(paths);
        return r;
}
