/* virtune-host scan: ask every guest's channel socket at once, from one event loop. */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "host.h"
#include "host_table.h"
#include "log.h"

enum { ID_SYNC, ID_INFO, ID_STATUS, _ID_MAX };
/* after the hello (vt_host_hello: the sync, id ids[ID_SYNC]) */
static const char *const scan_commands[_ID_MAX] = {
        [ID_INFO] = "guest-info", [ID_STATUS] = "virtune-status"};

struct guest {
        const struct vt_host_target *t;
        const char *path;
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
        const char *refused; /* a reply too large or too costly: give up on this guest now */
        /* where and how its result goes once done (settle): printed, or cut to what is shown */
        FILE *json_sink; /* its JSON line (NULL: none) */
        int format;
        bool libvirt, settled, up;
        bool claimed; /* asked before the targets were known: a target's socket is this one */
};

bool vt_host_is_socket(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int vt_host_targets_add(struct vt_host_targets *t, const char *socket, const char *domain,
                        const char *uuid, bool running)
{
        struct vt_host_target *v = realloc(t->v, (t->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        t->v = v;
        v += t->n;
        *v = (struct vt_host_target){.running = running};
        if ((socket && !(v->socket = strdup(socket))) ||
            (domain && !(v->domain = strdup(domain))) || (uuid && !(v->uuid = strdup(uuid)))) {
                free(v->socket), free(v->domain), free(v->uuid);
                return -ENOMEM;
        }
        t->n++;
        return 0;
}

void vt_host_targets_done(struct vt_host_targets *t)
{
        for (size_t i = 0; i < t->n; i++)
                free(t->v[i].socket), free(t->v[i].domain), free(t->v[i].uuid);
        free(t->v);
        *t = (struct vt_host_targets){};
}

/* DIR itself, DIR/NAME, or DIR/ * /NAME (libvirt's channel/target/DOMAIN/NAME). */
static int collect(const char *dir, const char *name, struct vt_host_targets *t)
{
        char p[PATH_MAX];
        if (vt_host_is_socket(dir))
                return vt_host_targets_add(t, dir, NULL, NULL, true);
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                if (streq(de->d_name, name))
                        snprintf(p, sizeof(p), "%s/%s", dir, name);
                else if (snprintf(p, sizeof(p), "%s/%s/%s", dir, de->d_name, name) >=
                         (int)sizeof(p))
                        continue;
                if (vt_host_is_socket(p)) {
                        int r = vt_host_targets_add(t, p, NULL, NULL, true);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int cmp_target(const void *a, const void *b)
{
        const struct vt_host_target *x = a, *y = b;
        return strcmp(x->socket, y->socket);
}

int vt_host_targets_from_dirs(char *const *dirs, size_t ndirs, const char *name,
                              struct vt_host_targets *t, const char **bad)
{
        for (size_t i = 0; i < ndirs; i++) {
                int r = collect(dirs[i], name, t);
                if (r < 0) {
                        *bad = dirs[i];
                        return r;
                }
        }
        if (t->n > 0)
                qsort(t->v, t->n, sizeof(*t->v), cmp_target);
        return 0;
}

/* One fd per guest: lift the soft limit to the hard one. */
void vt_host_raise_nofile(size_t want)
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
        size_t off;
        g->ids[ID_SYNC] = vt_host_random_id();
        int r = vt_host_hello(g->ids[ID_SYNC], &g->out, &off);
        if (r < 0)
                return r;
        /* All three pipelined: the agent answers in order, one round trip in all. */
        for (int i = ID_SYNC + 1; i < _ID_MAX; i++) {
                g->ids[i] = vt_host_random_id();
                r = vt_host_request_append(&g->out, &off, scan_commands[i], NULL,
                                           json_object_new_int64(g->ids[i]));
                if (r < 0)
                        return r;
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

/* The guest's "return" value for one of our requests, or NULL. */
static json_object *reply_value(const struct guest *g, int id)
{
        json_object *v;
        const char *class, *desc;
        return g->replies[id] && vt_host_reply_value(g->replies[id], &v, &class, &desc) == 0 ? v
                                                                                             : NULL;
}

static const char *info_version(const struct guest *g)
{
        json_object *v;
        json_object *info = reply_value(g, ID_INFO);
        return info && json_object_object_get_ex(info, "version", &v) &&
                               json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

/* Whether the agent offers quotes (its policy enables virtune-quote): -1 unknown. */
static int info_attestation(const struct guest *g)
{
        json_object *cmds, *v;
        json_object *info = reply_value(g, ID_INFO);
        if (!info || !json_object_object_get_ex(info, "supported_commands", &cmds) ||
            !json_object_is_type(cmds, json_type_array))
                return -1;
        for (size_t i = 0; i < json_object_array_length(cmds); i++) {
                json_object *c = json_object_array_get_idx(cmds, i);
                if (json_object_object_get_ex(c, "name", &v) &&
                    streq(json_object_get_string(v), "virtune-quote"))
                        return json_object_object_get_ex(c, "enabled", &v) &&
                               json_object_get_boolean(v);
        }
        return 0;
}

/*
 * A count from virtune-status (an integer, or the length of a list), as an integer: through a
 * double, INT64_MAX would come back out of range.
 */
static bool status_count(const struct guest *g, const char *key, int64_t *ret)
{
        json_object *k, *v = reply_value(g, ID_STATUS);
        if (!v || !json_object_object_get_ex(v, key, &k))
                return false;
        if (json_object_is_type(k, json_type_int))
                *ret = json_object_get_int64(k);
        else if (json_object_is_type(k, json_type_array))
                *ret = (int64_t)json_object_array_length(k);
        else
                return false;
        return true;
}

static const char *guest_error(const struct guest *g)
{
        if (g->replies[ID_INFO])
                return NULL;
        return g->error ? g->error : "no answer in time";
}

static void json_line(FILE *out, const struct guest *g, bool libvirt)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *v;
        const char *class, *desc;
        bool up = g->replies[ID_INFO] != NULL;

        if (libvirt) {
                vt_json_add_str(o, "domain", g->t->domain);
                vt_json_add_str(o, "uuid", g->t->uuid);
        }
        vt_json_add_str(o, "socket", g->path);
        json_object_object_add(o, "up", json_object_new_boolean(up));
        json_object_object_add(o, "rtt_ms",
                               g->rtt_ms >= 0 ? json_object_new_int64(g->rtt_ms) : NULL);
        vt_json_add_str(o, "version", info_version(g));
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
        vt_json_add_str(o, "error", guest_error(g));
        fprintf(out, "%s\n",
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Label values: backslash, double quote and newline escaped (text exposition format). */
void vt_host_prom_label(FILE *out, const char *s)
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

static void prom_sample(FILE *out, const char *metric, const struct guest *g, bool libvirt,
                        const char *extra, const char *extra_val, double value)
{
        fprintf(out, "%s{", metric);
        if (libvirt) {
                fputs("domain=\"", out);
                vt_host_prom_label(out, g->t->domain);
                fputs("\",uuid=\"", out);
                vt_host_prom_label(out, g->t->uuid);
        } else {
                fputs("socket=\"", out);
                vt_host_prom_label(out, g->path);
        }
        if (extra) {
                fprintf(out, "\",%s=\"", extra);
                vt_host_prom_label(out, extra_val);
        }
        fprintf(out, "\"} %.17g\n", value);
}

/* The fixed set of series, one row each (virtune-host(1) lists them). */
enum { M_UP, M_RTT, M_DRIFT, M_PENDING, M_QUOTE, M_INFO, _M_MAX };
static const struct {
        const char *name, *help;
} metrics[_M_MAX] = {
        [M_UP] = {"virtune_up", "Whether the guest's virtune agent answered (1) or not (0)."},
        [M_RTT] = {"virtune_rtt_seconds", "Round trip of the sync over the channel, in seconds."},
        [M_DRIFT] = {"virtune_drift_settings",
                     "Number of settings that differ from the guest's policy."},
        [M_PENDING] = {"virtune_pending_reboot_changes",
                       "Number of applied changes waiting for a reboot."},
        [M_QUOTE] = {"virtune_attestation_enabled",
                     "Whether the guest's policy lets the host ask for TPM quotes."},
        [M_INFO] = {"virtune_agent_info", "The agent's version, as a label; the value is 1."},
};

static bool metric_value(const struct guest *g, int m, double *v)
{
        int64_t n;
        int a;
        switch (m) {
        case M_UP:
                *v = g->replies[ID_INFO] ? 1 : 0;
                return true;
        case M_RTT:
                *v = (double)g->rtt_ms / 1000.0;
                return g->rtt_ms >= 0;
        case M_DRIFT:
        case M_PENDING:
                if (!status_count(g, m == M_DRIFT ? "drift" : "pending_reboot", &n))
                        return false;
                *v = (double)n;
                return true;
        case M_QUOTE:
                a = info_attestation(g);
                *v = a;
                return a >= 0;
        default:
                *v = 1;
                return info_version(g) != NULL;
        }
}

static void prometheus(FILE *out, struct guest *const *gs, size_t n, bool libvirt,
                       size_t no_channel, int64_t duration_ms)
{
        double v;
        for (int m = 0; m < _M_MAX; m++) {
                fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", metrics[m].name, metrics[m].help,
                        metrics[m].name);
                for (size_t i = 0; i < n; i++)
                        if (gs[i]->path && metric_value(gs[i], m, &v))
                                prom_sample(out, metrics[m].name, gs[i], libvirt,
                                            m == M_INFO ? "version" : NULL, info_version(gs[i]), v);
        }
        fputs("# HELP virtune_scan_duration_seconds How long the scan took, in seconds.\n"
              "# TYPE virtune_scan_duration_seconds gauge\n",
              out);
        fprintf(out, "virtune_scan_duration_seconds %.3f\n", (double)duration_ms / 1000.0);
        if (libvirt)
                fprintf(out,
                        "# HELP virtune_scan_domains_without_channel Running domains without the "
                        "%s channel.\n"
                        "# TYPE virtune_scan_domains_without_channel gauge\n"
                        "virtune_scan_domains_without_channel %zu\n",
                        VT_HOST_PORT_NAME, no_channel);
}

static int table(FILE *out, struct guest *const *gs, size_t n, bool libvirt)
{
        const char *header[] = {libvirt ? "DOMAIN" : "SOCKET",
                                "UP",
                                "RTT",
                                "VERSION",
                                "DRIFT",
                                "PENDING REBOOT",
                                "ATTESTATION",
                                "ERROR"};
        struct vt_table t;
        int r = vt_table_init(&t, header, ARRAY_SIZE(header));
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const struct guest *g = gs[i];
                char rtt[32] = "-", drift[32] = "-", pending[32] = "-";
                int64_t v;
                if (g->rtt_ms >= 0)
                        snprintf(rtt, sizeof(rtt), "%" PRId64 " ms", g->rtt_ms);
                if (status_count(g, "drift", &v))
                        snprintf(drift, sizeof(drift), "%" PRId64, v);
                if (status_count(g, "pending_reboot", &v))
                        snprintf(pending, sizeof(pending), "%" PRId64, v);
                int a = info_attestation(g);
                const char *cells[] = {libvirt ? g->t->domain : g->path,
                                       g->replies[ID_INFO] ? "yes" : "no",
                                       rtt,
                                       info_version(g),
                                       drift,
                                       pending,
                                       a < 0 ? "-"
                                       : a   ? "quote"
                                             : "off",
                                       guest_error(g)};
                r = vt_table_row(&t, cells);
        }
        if (r >= 0)
                vt_table_print(&t, out);
        vt_table_done(&t);
        return r;
}

/*
 * A guest is done: its JSON line goes out now and its replies are freed, or (table, Prometheus)
 * they are cut to the values those show. Memory stays that of the guests in flight.
 */
static void settle(struct guest *g)
{
        if (g->settled)
                return;
        g->settled = true;
        g->up = g->replies[ID_INFO] != NULL;
        if (g->json_sink) {
                json_line(g->json_sink, g, g->libvirt);
                fflush(g->json_sink);
        }
        if (g->format == VT_SCAN_JSON) {
                for (int j = 0; j < _ID_MAX; j++) {
                        json_object_put(g->replies[j]);
                        g->replies[j] = NULL;
                }
        } else {
                json_object *info = NULL, *status = NULL, *ret;
                if (g->replies[ID_INFO]) {
                        info = json_object_new_object();
                        json_object_object_add(info, "return", ret = json_object_new_object());
                        vt_json_add_str(ret, "version", info_version(g));
                        int a = info_attestation(g);
                        if (a >= 0) {
                                json_object *cmds = json_object_new_array(),
                                            *q = json_object_new_object();
                                vt_json_add_str(q, "name", "virtune-quote");
                                json_object_object_add(q, "enabled", json_object_new_boolean(a));
                                json_object_array_add(cmds, q);
                                json_object_object_add(ret, "supported_commands", cmds);
                        }
                }
                if (g->replies[ID_STATUS]) {
                        static const char *const keep[] = {"drift", "pending_reboot"};
                        status = json_object_new_object();
                        json_object_object_add(status, "return", ret = json_object_new_object());
                        for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
                                int64_t d;
                                if (status_count(g, keep[i], &d))
                                        json_object_object_add(ret, keep[i],
                                                               json_object_new_int64(d));
                        }
                }
                json_object_put(g->replies[ID_INFO]);
                json_object_put(g->replies[ID_STATUS]);
                g->replies[ID_INFO] = info;
                g->replies[ID_STATUS] = status;
        }
        free(g->out);
        g->out = NULL;
}

/* The epoll mark of opts->stop_fd (the resolver's eventfd is NULL, a guest itself). */
static const char stop_mark;

/*
 * Handles what is ready (wait_ms: how long to wait for it); false once the deadline passed or
 * the stop fd became readable (*stopped).
 */
static bool scan_poll(int epfd, size_t *pending, bool *resolved, bool *stopped, int64_t deadline,
                      int wait_ms)
{
        struct epoll_event evs[64];
        int64_t left = deadline - vt_host_now_ms();
        if (left <= 0 || *stopped)
                return false;
        int k = epoll_wait(epfd, evs, ARRAY_SIZE(evs), wait_ms < left ? wait_ms : (int)left);
        for (int i = 0; i < k; i++) {
                struct guest *g = evs[i].data.ptr;
                if (!g) { /* the resolver's eventfd */
                        *resolved = true;
                        continue;
                }
                if (evs[i].data.ptr == &stop_mark) {
                        *stopped = true;
                        continue;
                }
                guest_io(g, epfd, evs[i].events);
                if (g->done) {
                        (*pending)--;
                        if (g->t) /* a guest asked early waits for its target's labels */
                                settle(g);
                }
        }
        return !*stopped;
}

static void guest_init(struct guest *g, const struct vt_scan_opts *opts, FILE *out)
{
        g->fd = -1;
        g->rtt_ms = -1;
        vt_proto_reader_init_max(&g->reader, VT_HOST_SCAN_REPLY_MAX);
        g->json_sink = opts->format == VT_SCAN_JSON ? out : opts->json_out;
        g->format = opts->format;
        g->libvirt = opts->libvirt;
}

/* Connects and queues the requests: 1 in flight, 0 done already (no agent there). */
static int guest_launch(struct guest *g, int epfd)
{
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = g};
        if (guest_start(g) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, g->fd, &ev) < 0) {
                guest_finish(g, epfd, "no agent listening on the socket");
                return 0;
        }
        return 1;
}

/* src->resolve in a thread while the main one asks the prestart sockets. */
struct resolver {
        const struct vt_scan_source *src;
        struct vt_host_targets *t;
        char *err;
        size_t errlen;
        int r, efd;
};

static void *resolve_thread(void *userdata)
{
        struct resolver *rs = userdata;
        uint64_t one = 1;
        rs->r = rs->src->resolve(rs->src->userdata, rs->t, rs->err, rs->errlen);
        if (write(rs->efd, &one, sizeof(one)) < 0)
                rs->r = rs->r < 0 ? rs->r : -errno;
        return NULL;
}

static int cmp_guest_path(const void *a, const void *b)
{
        return strcmp((*(struct guest *const *)a)->path, (*(struct guest *const *)b)->path);
}

/* The early guest asked at path, not yet given to a target, or NULL. */
static struct guest *claim(struct guest **byp, size_t n, const char *path)
{
        struct guest key = {.path = path}, *k = &key;
        struct guest **f = n ? bsearch(&k, byp, n, sizeof(*byp), cmp_guest_path) : NULL;
        if (!f)
                return NULL;
        while (f > byp && streq(f[-1]->path, path)) /* the first of equals */
                f--;
        for (; f < byp + n && streq((*f)->path, path); f++)
                if (!(*f)->claimed) {
                        (*f)->claimed = true;
                        return *f;
                }
        return NULL;
}

static void guest_free(struct guest *g)
{
        for (int j = 0; j < _ID_MAX; j++)
                json_object_put(g->replies[j]);
        free(g->out);
}

int vt_host_scan(const struct vt_scan_source *src, const struct vt_scan_opts *opts,
                 struct vt_host_targets *t, FILE *out, char *err, size_t errlen)
{
        assert(src && opts && t && out);
        size_t no_channel = 0, pending = 0, npre = src->resolve ? src->n_prestart : 0, early = 0;
        struct resolver rs = {.src = src, .t = t, .err = err, .errlen = errlen, .efd = -1};
        struct guest *pre = NULL, *own = NULL, **gs = NULL, **byp = NULL;
        pthread_t thread;
        bool threaded = false, resolved = false, stopped = false;
        int up = 0, r = 0;

        int epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0)
                return -errno;
        if (opts->stop_fd > 0) {
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = (void *)&stop_mark};
                if (epoll_ctl(epfd, EPOLL_CTL_ADD, opts->stop_fd, &ev) < 0) {
                        r = -errno;
                        close(epfd);
                        return r;
                }
        }
        vt_host_raise_nofile(npre);
        int64_t t0 = vt_host_now_ms(), deadline = t0 + opts->timeout_ms;
        /* The sockets of the last scan are asked while libvirt loads, connects and lists. */
        if (npre > 0 && (pre = calloc(npre, sizeof(*pre))) && (byp = calloc(npre, sizeof(*byp))) &&
            (rs.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0) {
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
                threaded = epoll_ctl(epfd, EPOLL_CTL_ADD, rs.efd, &ev) == 0 &&
                           pthread_create(&thread, NULL, resolve_thread, &rs) == 0;
        }
        if (threaded) {
                for (size_t k = 0; k < npre; k++) {
                        guest_init(&pre[k], opts, out);
                        pre[k].path = src->prestart[k];
                        byp[k] = &pre[k];
                        pending += (size_t)guest_launch(&pre[k], epfd);
                }
                qsort(byp, npre, sizeof(*byp), cmp_guest_path);
                while (!resolved &&
                       scan_poll(epfd, &pending, &resolved, &stopped, deadline, INT32_MAX))
                        ;
                pthread_join(thread, NULL);
                epoll_ctl(epfd, EPOLL_CTL_DEL, rs.efd, NULL);
                r = rs.r;
        } else {
                npre = 0;
                if (src->resolve)
                        r = src->resolve(src->userdata, t, err, errlen);
        }
        size_t n = r >= 0 ? t->n : 0;
        if (r >= 0) {
                vt_host_raise_nofile(npre + n);
                gs = calloc(n ? n : 1, sizeof(*gs));
                own = calloc(n ? n : 1, sizeof(*own));
                if (!gs || !own)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && !stopped && i < n; i++) {
                struct vt_host_target *ti = &t->v[i];
                struct guest *g = ti->socket ? claim(byp, npre, ti->socket) : NULL;
                if (g) {
                        early++;
                } else {
                        g = &own[i];
                        guest_init(g, opts, out);
                }
                gs[i] = g;
                g->t = ti;
                g->path = ti->socket;
                if (g->claimed) {
                        if (g->done)
                                settle(g);
                } else if (!g->path) {
                        no_channel += ti->running;
                        guest_finish(g, epfd,
                                     ti->running ? "no " VT_HOST_PORT_NAME
                                                   " channel (virtune-host setup -d DOMAIN)"
                                                 : "not running");
                        settle(g);
                } else if (guest_launch(g, epfd))
                        pending++;
                else
                        settle(g);
                /* what answered meanwhile */
                scan_poll(epfd, &pending, &resolved, &stopped, deadline, 0);
        }
        /* Asked early, but no target has that socket (any more): dropped, never reported. */
        for (size_t k = 0; k < npre; k++)
                if (!pre[k].claimed && !pre[k].done) {
                        guest_finish(&pre[k], epfd, NULL);
                        pending--;
                }
        if (r >= 0)
                log_info("scan: %zu targets known after %" PRId64 " ms, %zu of them asked before",
                         n, vt_host_now_ms() - t0, early);
        while (r >= 0 && pending > 0 &&
               scan_poll(epfd, &pending, &resolved, &stopped, deadline, INT32_MAX))
                ;
        if (stopped && r >= 0)
                r = -ECANCELED; /* nothing reported: the caller stops */
        int64_t duration_ms = vt_host_now_ms() - t0;
        if (r >= 0) /* bench/libvirt-scan reads this line too */
                log_info("scan: done in %" PRId64 " ms", duration_ms);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                guest_finish(gs[i], epfd, "no answer in time");
                settle(gs[i]);
                if (gs[i]->up || gs[i]->replies[ID_INFO])
                        up++;
        }
        if (r < 0)
                up = r;
        else if (opts->format == VT_SCAN_PROMETHEUS)
                prometheus(out, gs, n, opts->libvirt, no_channel, duration_ms);
        else if (opts->format == VT_SCAN_TABLE && table(out, gs, n, opts->libvirt) < 0)
                up = -ENOMEM;
        for (size_t k = 0; k < npre; k++) {
                guest_finish(&pre[k], epfd, NULL);
                guest_free(&pre[k]);
        }
        for (size_t i = 0; gs && i < n; i++)
                if (gs[i] == &own[i]) { /* the others are the early ones, freed above */
                        guest_finish(&own[i], epfd, NULL);
                        guest_free(&own[i]);
                }
        free(pre), free(byp), free(own), free(gs);
        if (rs.efd >= 0)
                close(rs.efd);
        close(epfd);
        return up;
}
