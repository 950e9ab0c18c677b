/* The fleet's attestation: one I/O thread over every guest's socket, a CPU's worth of workers. */
#include <limits.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include "host.h"
#include "host_fleet.h"
#include "log.h"

#define THREAD_STACK (256u << 10) /* json-c and OpenSSL need little */
#define FD_RESERVE   64           /* descriptors left for state and CA files, epoll, stdio */
/* connections at once: a guest's replies are held from when they come until its worker is done */
#define OPEN_MAX 1024
/*
 * What a guest's reply in progress may hold before it needs one of LARGE_MAX large slots (the
 * others wait, out of the epoll set): the ahead replies are a few KiB, an event log piece may be
 * VT_PROTO_EVENTLOG_CHUNK, a hostile guest's up to VT_HOST_REPLY_MAX. So the fleet holds at most
 * OPEN_MAX x SMALL_MAX + LARGE_MAX x VT_HOST_REPLY_MAX of replies in progress.
 */
#define SMALL_MAX (16u << 10)
#define LARGE_MAX 8

/* What vt_attest_run asks of every guest whatever the replies say: sent with the sync. */
enum { A_EK, A_QUOTE, A_EVENTLOG, _A_MAX };

struct call {
        const char *execute;
        json_object *args; /* as sent: a call of attest matches it by name and arguments */
        int64_t id;
        json_object *reply; /* once read */
        bool used;
};

struct fleet;

struct guest {
        struct fleet *f;
        size_t i;
        struct vt_host_conn conn; /* fd, reader, deadline, sync: host_conn.c's framing, bounds */
        char *out;                /* bytes not sent yet */
        size_t out_len, out_off;
        struct call ahead[_A_MAX];
        struct call now; /* a call that was not sent ahead, while the guest waits for it */
        bool now_asked;
        /* the attestation under way: its options, its first half's state (vt_attest_start)
         * while the guest's activation is asked without a worker */
        struct vt_attest_opts o;
        struct vt_attest *att;
        int error; /* why the connection ended: every call still without a reply gets it */
        /* I/O thread only: whether it polls the socket (replies outstanding), holds a large
         * slot, waits for one (out of the epoll set) */
        bool polled, large, paused;
        /* under f->lock: the I/O thread owns the guest (io), a worker waits on cond, or none
         * does (parked: the answer makes the guest ready again) */
        bool io, queued, parked, finished;
        pthread_cond_t cond;
};

struct result {
        bool ok;
        char reason[32];
        int64_t when;
};

struct fleet {
        const struct vt_fleet_target *t;
        size_t n;
        const struct vt_attest_opts *base;
        int timeout_ms;
        bool prometheus;
        FILE *out;
        pthread_mutex_t out_lock; /* the JSON lines, the EKs */
        json_object *eks;         /* EK name -> the first guest that presented it in this scan */
        struct result *results;
        uint8_t *nonces; /* VT_ATTEST_NONCE_LEN bytes per guest */
        struct guest *g;

        /* the I/O thread's */
        int epfd, evfd;
        size_t started, open, closed, max_open;
        unsigned n_large;
        struct guest **paused; /* a ring of n: the guests waiting for a large slot */
        size_t paused_head, paused_tail;
        int64_t next_deadline;
        char buf[64 * 1024];

        /* under lock: guests ready for a worker, guests handed to the I/O thread, the workers */
        pthread_mutex_t lock;
        pthread_cond_t job_cond, slot_cond, exit_cond;
        struct guest **ready, **inbox, **taken; /* taken: the inbox the I/O thread empties */
        size_t ready_head, ready_tail, n_inbox;
        unsigned cpus, threads, active, blocked, slot_waiters;
        bool stop;
        /* workers that left, to join (their thread-local state, OpenSSL's too, freed by then) */
        pthread_t *left;
        size_t n_left, cap_left;
};

static const char *guest_id(const struct vt_fleet_target *t)
{
        return t->uuid ? t->uuid : t->socket;
}

static bool ek_seen(void *userdata, const char *ek, const char *id, char *other, size_t size)
{
        struct fleet *f = userdata;
        json_object *first;
        pthread_mutex_lock(&f->out_lock);
        bool dup = json_object_object_get_ex(f->eks, ek, &first);
        if (dup)
                snprintf(other, size, "%s", json_object_get_string(first));
        else
                json_object_object_add(f->eks, ek, json_object_new_string(id));
        pthread_mutex_unlock(&f->out_lock);
        return dup;
}

static void wake_io(struct fleet *f)
{
        uint64_t one = 1;
        if (write(f->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                log_debug_errno(-errno, "Waking the fleet's I/O thread");
}

/* Hands g to the I/O thread (a call to send, or the guest is over); under f->lock. */
static bool to_io(struct fleet *f, struct guest *g)
{
        f->inbox[f->n_inbox++] = g;
        return f->n_inbox == 1; /* the I/O thread takes the whole inbox at once */
}

static void *worker(void *userdata);

static void spawn(struct fleet *f)
{
        pthread_attr_t attr;
        pthread_t th;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, THREAD_STACK);
        if (pthread_create(&th, &attr, worker, f) == 0)
                f->threads++; /* else the running workers share the rest */
        pthread_attr_destroy(&attr);
}

/*
 * Under f->lock, after a CPU slot came free or a guest became ready: a worker that waits to go
 * on with its guest gets the slot, else an idle worker takes the next ready guest, else a new
 * worker is started (the others wait for guests, not for a CPU).
 */
static void kick(struct fleet *f)
{
        unsigned free_slots = f->active < f->cpus ? f->cpus - f->active : 0;
        if (free_slots > 0 && f->slot_waiters > 0) {
                pthread_cond_signal(&f->slot_cond);
                free_slots--;
        }
        if (free_slots == 0 || f->ready_head == f->ready_tail)
                return;
        if (f->threads > f->active + f->blocked + f->slot_waiters)
                pthread_cond_signal(&f->job_cond);
        else
                spawn(f);
}

/* A call that was not sent ahead, made ready for the I/O thread to send (args taken). */
static int ask(struct guest *g, const char *execute, json_object *args)
{
        if (g->error < 0) {
                json_object_put(args);
                return g->error;
        }
        g->now = (struct call){.execute = execute, .id = vt_host_random_id()};
        free(g->out);
        g->out = vt_proto_request(execute, args, json_object_new_int64(g->now.id), &g->out_len);
        g->out_off = 0;
        if (!g->out)
                return -ENOMEM;
        g->now_asked = true;
        return 0;
}

/* The reply to the call asked (taken), or why there is none. */
static int take_now(struct guest *g, json_object **reply)
{
        g->now_asked = false;
        if (!g->now.reply)
                return g->error < 0 ? g->error : -EIO;
        *reply = TAKE_PTR(g->now.reply);
        return 0;
}

/* The reply to the call asked, as that call's value (taken), or why there is none. */
static int answer(struct guest *g, json_object **value)
{
        _cleanup_json_ json_object *reply = NULL;
        int r = take_now(g, &reply);
        return r < 0 ? r : vt_host_reply_return(reply, g->now.execute, value);
}

/*
 * A call that was not sent ahead and comes in the middle of vt_attest_finish (a later event-log
 * piece, virtune-facts for --record) goes to the guest now; the worker waits without its slot.
 */
static int call_now(struct guest *g, const char *execute, json_object *args, json_object **reply)
{
        struct fleet *f = g->f;
        int r = ask(g, execute, args);
        if (r < 0)
                return r;
        pthread_mutex_lock(&f->lock);
        g->io = true;
        bool wake = to_io(f, g);
        f->blocked++;
        f->active--;
        kick(f);
        pthread_mutex_unlock(&f->lock);
        if (wake)
                wake_io(f);
        pthread_mutex_lock(&f->lock);
        while (g->io)
                pthread_cond_wait(&g->cond, &f->lock);
        f->blocked--;
        f->slot_waiters++;
        while (f->active >= f->cpus)
                pthread_cond_wait(&f->slot_cond, &f->lock);
        f->slot_waiters--;
        f->active++;
        pthread_mutex_unlock(&f->lock);
        return take_now(g, reply);
}

/* vt_attest_run's caller: the reply sent ahead for this very call, or the guest asked now. */
static int fleet_call(void *userdata, const char *execute, json_object *args, json_object **value)
{
        struct guest *g = userdata;
        _cleanup_json_ json_object *reply = NULL;
        struct call *c = NULL;
        for (size_t k = 0; k < _A_MAX && !c; k++)
                if (!g->ahead[k].used && streq(g->ahead[k].execute, execute) &&
                    json_object_equal(g->ahead[k].args, args))
                        c = &g->ahead[k];
        if (c) {
                json_object_put(args);
                c->used = true;
                if (!c->reply)
                        return g->error < 0 ? g->error : -EIO;
                reply = TAKE_PTR(c->reply);
        } else {
                int r = call_now(g, execute, args, &reply);
                if (r < 0)
                        return r;
        }
        return vt_host_reply_return(reply, execute, value);
}

/* A guest's report (taken; none when r < 0): its JSON line now, or its series at the end. */
static void publish(struct fleet *f, struct guest *g, int r, json_object *taken)
{
        const struct vt_fleet_target *t = &f->t[g->i];
        _cleanup_json_ json_object *report = r < 0 ? json_object_new_object() : taken;
        struct result *res = &f->results[g->i];
        res->when = (int64_t)time(NULL);
        if (r < 0) {
                json_object_put(taken);
                snprintf(res->reason, sizeof(res->reason), "agent");
                json_object_object_add(report, "ok", json_object_new_boolean(false));
                vt_json_add_str(report, "reason", "agent");
        } else {
                res->ok = json_object_get_boolean(json_object_object_get(report, "ok"));
                snprintf(res->reason, sizeof(res->reason), "%s",
                         json_object_get_string(json_object_object_get(report, "reason")));
        }
        vt_json_add_str(report, "socket", t->socket);
        vt_json_add_str(report, "domain", t->domain);
        vt_json_add_str(report, "uuid", t->uuid);
        if (f->prometheus)
                return;
        pthread_mutex_lock(&f->out_lock);
        fprintf(f->out, "%s\n",
                json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(f->out);
        pthread_mutex_unlock(&f->out_lock);
}

/*
 * A worker's turn with a guest: the first half of its attestation, or the second once the
 * answer to its activation is in. Returns true when the guest now waits for that answer (its
 * call is in g->out for the I/O thread), false when its attestation is over.
 */
static bool attest_step(struct fleet *f, struct guest *g)
{
        json_object *report = NULL, *activate = NULL, *value = NULL;
        int r = 0;
        if (!g->att) {
                g->o = *f->base;
                g->o.guest_id = guest_id(&f->t[g->i]);
                g->o.ek_seen = ek_seen;
                g->o.ek_seen_userdata = f;
                g->o.nonce = f->nonces + g->i * VT_ATTEST_NONCE_LEN;
                r = vt_attest_start(&g->o, fleet_call, g, &g->att, &activate);
                if (r < 0) {
                        publish(f, g, r, NULL);
                        return false;
                }
                if (activate && (r = ask(g, "virtune-activate", activate)) >= 0)
                        return true;
        } else
                r = answer(g, &value);
        r = vt_attest_finish(TAKE_PTR(g->att), r, value, &report);
        publish(f, g, r, report);
        return false;
}

/* Runs the ready guests' halves (attest_step), at most f->cpus workers at once holding a slot. */
static void *worker(void *userdata)
{
        struct fleet *f = userdata;
        pthread_mutex_lock(&f->lock);
        for (;;) {
                while (!f->stop && (f->ready_head == f->ready_tail || f->active >= f->cpus))
                        pthread_cond_wait(&f->job_cond, &f->lock);
                if (f->ready_head == f->ready_tail)
                        break; /* stopped: every guest is over */
                struct guest *g = f->ready[f->ready_head++];
                f->active++;
                pthread_mutex_unlock(&f->lock);
                bool parked = attest_step(f, g);
                pthread_mutex_lock(&f->lock);
                f->active--;
                /* its call to send (the worker goes on with another guest), or it is over */
                if (parked)
                        g->io = g->parked = true;
                else
                        g->finished = true;
                if (to_io(f, g))
                        wake_io(f);
                /* more workers than CPUs outside a wait for a guest: one came for a blocked one */
                if (f->threads - f->blocked - f->slot_waiters > f->cpus)
                        break;
                if (f->slot_waiters > 0)
                        pthread_cond_signal(&f->slot_cond);
        }
        if (f->n_left == f->cap_left) {
                size_t cap = f->cap_left ? 2 * f->cap_left : 16;
                pthread_t *v = realloc(f->left, cap * sizeof(*v));
                if (v)
                        f->left = v, f->cap_left = cap;
        }
        if (f->n_left < f->cap_left)
                f->left[f->n_left++] = pthread_self();
        else
                pthread_detach(pthread_self()); /* out of memory: nobody will join it */
        f->threads--;
        kick(f); /* what this one would have taken */
        pthread_cond_signal(&f->exit_cond);
        pthread_mutex_unlock(&f->lock);
        return NULL;
}

/* The I/O thread's side: replies matched by id to the calls sent (host_conn.c reads them). */
static bool take(void *userdata, int64_t id, json_object *reply)
{
        struct guest *g = userdata;
        struct call *c = g->now_asked ? &g->now : NULL;
        for (size_t k = 0; k < _A_MAX && !c; k++)
                if (!g->ahead[k].reply && g->ahead[k].id == id)
                        c = &g->ahead[k];
        if (!c || c->reply || c->id != id)
                return false;
        c->reply = reply;
        return true;
}

static bool answered(const struct guest *g)
{
        if (g->now_asked)
                return g->now.reply != NULL;
        for (size_t k = 0; k < _A_MAX; k++)
                if (!g->ahead[k].reply)
                        return false;
        return true;
}

static void deadline_note(struct fleet *f, int64_t when)
{
        if (when < f->next_deadline)
                f->next_deadline = when;
}

static int poll_add(struct fleet *f, struct guest *g)
{
        struct epoll_event ev = {.events = EPOLLIN | (g->out_off < g->out_len ? EPOLLOUT : 0),
                                 .data.ptr = g};
        return epoll_ctl(f->epfd, EPOLL_CTL_ADD, g->conn.fd, &ev) < 0 ? -errno : 0;
}

/* A large slot for g, or g waits for one out of the epoll set: false. */
static bool large_get(struct fleet *f, struct guest *g)
{
        if (f->n_large < LARGE_MAX) {
                f->n_large++;
                g->large = true;
                return true;
        }
        epoll_ctl(f->epfd, EPOLL_CTL_DEL, g->conn.fd, NULL);
        g->paused = true;
        f->paused[f->paused_tail++ % f->n] = g;
        return false;
}

static void io_over(struct fleet *f, struct guest *g, int r);

/* g's large reply is over: its slot goes to the first guest that waits for one. */
static void large_put(struct fleet *f, struct guest *g)
{
        if (!g->large)
                return;
        g->large = false;
        f->n_large--;
        while (f->paused_head != f->paused_tail) {
                struct guest *w = f->paused[f->paused_head++ % f->n];
                if (!w->paused)
                        continue; /* over meanwhile */
                w->paused = false;
                f->n_large++;
                w->large = true;
                int k = poll_add(f, w);
                if (k < 0)
                        io_over(f, w, k);
                return;
        }
}

/* What was asked is answered (r 0) or never will be (r < 0): the guest goes to a worker. */
static void io_over(struct fleet *f, struct guest *g, int r)
{
        if (r < 0 && !g->error)
                g->error = r;
        if (g->conn.fd >= 0) {
                if (r < 0) {
                        close(g->conn.fd); /* out of the epoll set with it */
                        g->conn.fd = -1;
                } else if (!g->paused)
                        epoll_ctl(f->epfd, EPOLL_CTL_DEL, g->conn.fd, NULL);
        }
        g->polled = false;
        g->paused = false; /* its place in the ring is skipped */
        large_put(f, g);
        if (g->conn.reader.cap > VT_PROTO_BUF_SMALL)
                vt_proto_reader_done(&g->conn.reader); /* nothing more is due before a call */
        free(g->out);
        g->out = NULL;
        g->out_len = g->out_off = 0;
        pthread_mutex_lock(&f->lock);
        g->io = false;
        if (!g->queued || g->parked) { /* a guest is ready twice at most: f->ready holds 2n */
                g->queued = true;
                g->parked = false;
                f->ready[f->ready_tail++] = g;
                kick(f);
        } else
                pthread_cond_signal(&g->cond);
        pthread_mutex_unlock(&f->lock);
}

/* Sends what the socket takes; then waits for replies only. */
static int flush_out(struct fleet *f, struct guest *g, bool added)
{
        while (g->out_off < g->out_len) {
                ssize_t w = send(g->conn.fd, g->out + g->out_off, g->out_len - g->out_off,
                                 MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        break;
                if (w < 0)
                        return -errno;
                g->out_off += (size_t)w;
        }
        bool more = g->out_off < g->out_len;
        struct epoll_event ev = {.events = EPOLLIN | (more ? EPOLLOUT : 0), .data.ptr = g};
        if ((!added || !more) &&
            epoll_ctl(f->epfd, added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, g->conn.fd, &ev) < 0)
                return -errno;
        return 0;
}

/* Connects and sends the sync and every request known up front in one write. */
static int guest_start(struct fleet *f, struct guest *g)
{
        vt_host_conn_init(&g->conn, f->timeout_ms);
        g->conn.take = take;
        g->conn.take_userdata = g;
        g->polled = true;
        f->open++;
        deadline_note(f, g->conn.deadline_ms);
        size_t len;
        int r = vt_host_conn_hello(&g->conn, &g->out, &len);
        if (r < 0)
                return r;
        const uint8_t *nonce = f->nonces + g->i * VT_ATTEST_NONCE_LEN;
        json_object *args[_A_MAX] = {[A_QUOTE] = vt_attest_quote_args(f->base, nonce)};
        static const char *const names[_A_MAX] = {"virtune-ek", "virtune-quote",
                                                  "virtune-eventlog"};
        for (size_t k = 0; k < _A_MAX; k++) {
                struct call *c = &g->ahead[k];
                *c = (struct call){.execute = names[k], .args = args[k], .id = vt_host_random_id()};
                r = vt_host_request_append(&g->out, &len, c->execute, json_object_get(c->args),
                                           json_object_new_int64(c->id));
                if (r < 0)
                        return r;
        }
        g->out_len = len;
        g->conn.fd = vt_host_socket_connect(f->t[g->i].socket);
        if (g->conn.fd < 0)
                return g->conn.fd;
        return flush_out(f, g, false);
}

static void guest_io(struct fleet *f, struct guest *g, uint32_t events)
{
        int r = 0;
        if (g->out_off < g->out_len && (events & (EPOLLOUT | EPOLLERR)) &&
            (r = flush_out(f, g, true)) < 0)
                return io_over(f, g, r);
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return;
        size_t want = sizeof(f->buf);
        if (!g->large) {
                size_t held = g->conn.reader.len;
                if (held >= SMALL_MAX && !large_get(f, g))
                        return;
                if (!g->large && want > SMALL_MAX - held)
                        want = SMALL_MAX - held;
        }
        ssize_t n = read(g->conn.fd, f->buf, want);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0)
                return io_over(f, g, n == 0 ? -ECONNRESET : -errno);
        r = vt_host_conn_feed(&g->conn, f->buf, (size_t)n);
        if (r < 0)
                return io_over(f, g, r);
        if (g->large && g->conn.reader.len < SMALL_MAX)
                large_put(f, g); /* the large reply is read */
        /* Parsing counts against the deadline too: a reply past it is too late. */
        if (vt_host_now_ms() > g->conn.deadline_ms)
                return io_over(f, g, -ETIMEDOUT);
        if (answered(g))
                io_over(f, g, 0);
}

/* Guests past their deadline fail; the next deadline of those still polled. */
static void expire(struct fleet *f)
{
        int64_t now = vt_host_now_ms();
        f->next_deadline = INT64_MAX;
        for (size_t i = 0; i < f->started; i++) {
                struct guest *g = &f->g[i];
                if (!g->polled)
                        continue;
                if (g->conn.deadline_ms <= now)
                        io_over(f, g, -ETIMEDOUT);
                else
                        deadline_note(f, g->conn.deadline_ms);
        }
}

static void guest_close(struct fleet *f, struct guest *g)
{
        if (g->conn.fd >= 0)
                close(g->conn.fd);
        g->conn.fd = -1;
        vt_host_conn_close(&g->conn);
        for (size_t k = 0; k < _A_MAX; k++) {
                json_object_put(g->ahead[k].args);
                json_object_put(g->ahead[k].reply);
        }
        json_object_put(g->now.reply);
        free(g->out);
        g->out = NULL;
        f->open--;
        f->closed++;
}

/* Joins the workers that left (each has let go of f->lock, or is about to return). */
static void reap(struct fleet *f)
{
        pthread_mutex_lock(&f->lock);
        pthread_t *v = f->left;
        size_t n = f->n_left;
        f->left = NULL;
        f->n_left = f->cap_left = 0;
        pthread_mutex_unlock(&f->lock);
        for (size_t i = 0; i < n; i++)
                pthread_join(v[i], NULL);
        free(v);
}

/* The inbox: calls to send (a worker waits), guests whose attestation is over. */
static void take_inbox(struct fleet *f)
{
        uint64_t v;
        if (read(f->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                log_debug_errno(-errno, "Reading the fleet's eventfd");
        pthread_mutex_lock(&f->lock);
        size_t n = f->n_inbox;
        struct guest **in = f->inbox;
        f->inbox = f->taken; /* the workers fill the other one meanwhile */
        f->taken = in;
        f->n_inbox = 0;
        bool joins = f->n_left > 0;
        pthread_mutex_unlock(&f->lock);
        if (joins)
                reap(f);
        /* g->finished is set before a guest is put in and stays: read without the lock */
        for (size_t k = 0; k < n; k++) {
                struct guest *g = in[k];
                if (g->finished) {
                        guest_close(f, g);
                        continue;
                }
                g->polled = true;
                deadline_note(f, g->conn.deadline_ms);
                int r = flush_out(f, g, false);
                if (r < 0)
                        io_over(f, g, r);
        }
}

static void io_loop(struct fleet *f)
{
        struct epoll_event evs[64];
        f->next_deadline = INT64_MAX;
        while (f->closed < f->n) {
                while (f->started < f->n && f->open < f->max_open) {
                        struct guest *g = &f->g[f->started++];
                        int r = guest_start(f, g);
                        if (r < 0)
                                io_over(f, g, r);
                }
                int timeout = -1;
                if (f->next_deadline != INT64_MAX) {
                        int64_t left = f->next_deadline - vt_host_now_ms();
                        timeout = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
                }
                int n = epoll_wait(f->epfd, evs, ARRAY_SIZE(evs), timeout);
                for (int k = 0; k < n; k++) {
                        if (!evs[k].data.ptr)
                                take_inbox(f);
                        else if (((struct guest *)evs[k].data.ptr)->polled)
                                guest_io(f, evs[k].data.ptr, evs[k].events);
                }
                if (vt_host_now_ms() >= f->next_deadline)
                        expire(f);
        }
}

/* A label value in quotes, escaped as scan's own series are. */
static void label_value(FILE *out, const char *s)
{
        fputc('"', out);
        vt_host_prom_label(out, s);
        fputc('"', out);
}

static void labels(FILE *out, const struct vt_fleet_target *t)
{
        if (t->domain) {
                fputs("domain=", out);
                label_value(out, t->domain);
                fputs(",uuid=", out);
                label_value(out, t->uuid ? t->uuid : "");
        } else {
                fputs("socket=", out);
                label_value(out, t->socket);
        }
}

static void prometheus(struct fleet *f)
{
        fputs("# HELP virtune_attestation_ok Whether the guest's last attestation passed every "
              "check (reason: the first that failed).\n"
              "# TYPE virtune_attestation_ok gauge\n",
              f->out);
        for (size_t i = 0; i < f->n; i++) {
                fputs("virtune_attestation_ok{", f->out);
                labels(f->out, &f->t[i]);
                fputs(",reason=", f->out);
                label_value(f->out, f->results[i].reason);
                fprintf(f->out, "} %d\n", f->results[i].ok);
        }
        fputs("# HELP virtune_attestation_timestamp_seconds When the guest was last attested.\n"
              "# TYPE virtune_attestation_timestamp_seconds gauge\n",
              f->out);
        for (size_t i = 0; i < f->n; i++) {
                fputs("virtune_attestation_timestamp_seconds{", f->out);
                labels(f->out, &f->t[i]);
                fprintf(f->out, "} %" PRId64 "\n", f->results[i].when);
        }
}

static unsigned cpu_count(void)
{
        cpu_set_t set;
        int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
        return n > 0 ? (unsigned)n : 1;
}

/* As many connections at once as descriptors allow, a few kept for files. */
static size_t open_max(size_t n)
{
        struct rlimit rl;
        vt_host_raise_nofile(n + FD_RESERVE);
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return n;
        return rl.rlim_cur > 2 * FD_RESERVE ? (size_t)rl.rlim_cur - FD_RESERVE : FD_RESERVE;
}

static void fleet_free(struct fleet *f)
{
        for (size_t i = 0; f->g && i < f->n; i++)
                pthread_cond_destroy(&f->g[i].cond);
        free(f->g);
        free(f->ready);
        free(f->inbox);
        free(f->taken);
        free(f->paused);
        free(f->results);
        free(f->nonces);
        json_object_put(f->eks);
        if (f->epfd >= 0)
                close(f->epfd);
        if (f->evfd >= 0)
                close(f->evfd);
        pthread_mutex_destroy(&f->lock);
        pthread_mutex_destroy(&f->out_lock);
        pthread_cond_destroy(&f->job_cond);
        pthread_cond_destroy(&f->slot_cond);
        pthread_cond_destroy(&f->exit_cond);
        free(f);
}

static int fleet_run(const struct vt_fleet_target *targets, size_t n,
                     const struct vt_attest_opts *base, int timeout_ms, bool prom, FILE *out)
{
        struct fleet *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        *f = (struct fleet){.t = targets,
                            .n = n,
                            .base = base,
                            .timeout_ms = timeout_ms,
                            .prometheus = prom,
                            .out = out,
                            .epfd = -1,
                            .evfd = -1,
                            .lock = PTHREAD_MUTEX_INITIALIZER,
                            .out_lock = PTHREAD_MUTEX_INITIALIZER,
                            .job_cond = PTHREAD_COND_INITIALIZER,
                            .slot_cond = PTHREAD_COND_INITIALIZER,
                            .exit_cond = PTHREAD_COND_INITIALIZER,
                            .cpus = cpu_count()};
        size_t m = n ? n : 1;
        f->results = calloc(m, sizeof(*f->results));
        f->nonces = malloc(m * VT_ATTEST_NONCE_LEN);
        f->g = calloc(m, sizeof(*f->g));
        f->ready = calloc(2 * m, sizeof(*f->ready));
        f->inbox = calloc(m, sizeof(*f->inbox));
        f->taken = calloc(m, sizeof(*f->taken));
        f->paused = calloc(m, sizeof(*f->paused));
        f->eks = json_object_new_object();
        if (!f->results || !f->nonces || !f->g || !f->ready || !f->inbox || !f->taken ||
            !f->paused || !f->eks) {
                free(f->g), f->g = NULL;
                fleet_free(f);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                f->g[i] = (struct guest){.f = f, .i = i, .conn.fd = -1};
                pthread_cond_init(&f->g[i].cond, NULL);
        }
        int r = 0;
        if (n > INT_MAX / VT_ATTEST_NONCE_LEN ||
            RAND_bytes(f->nonces, (int)(n * VT_ATTEST_NONCE_LEN)) != 1)
                r = -EIO;
        f->max_open = open_max(n);
        if (f->max_open > OPEN_MAX)
                f->max_open = OPEN_MAX;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (r >= 0 && ((f->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
                       (f->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
                       epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->evfd, &ev) < 0))
                r = -errno;
        pthread_mutex_lock(&f->lock);
        for (unsigned k = 0; r >= 0 && k < f->cpus && k < n; k++)
                spawn(f);
        if (r >= 0 && n > 0 && f->threads == 0)
                r = -EAGAIN;
        pthread_mutex_unlock(&f->lock);
        if (r >= 0)
                io_loop(f);
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_broadcast(&f->job_cond);
        while (f->threads > 0)
                pthread_cond_wait(&f->exit_cond, &f->lock);
        pthread_mutex_unlock(&f->lock);
        reap(f);
        if (r < 0) {
                fleet_free(f);
                return r;
        }
        if (prom)
                prometheus(f);
        int passed = 0;
        for (size_t i = 0; i < n; i++)
                passed += f->results[i].ok;
        fleet_free(f);
        return passed;
}

int vt_attest_fleet(const struct vt_fleet_target *targets, size_t n,
                    const struct vt_attest_opts *base, int timeout_ms, bool prom, FILE *out)
{
        /* what every guest's checks read, the trust anchors and the state directory's EKs,
         * loaded once for the scan and shared read-only by the workers */
        struct vt_attest_opts shared = *base;
        bool own_trust = !base->ek_trust && !base->ek_trust_error, own_index = !base->ek_index;
        if (own_trust)
                (void)vt_attest_trust_load(&shared); /* an error is each guest's finding */
        if (own_index && vt_attest_index_load(&shared) < 0)
                shared.ek_index = NULL; /* then each guest reads the directory itself */
        int r = fleet_run(targets, n, &shared, timeout_ms, prom, out);
        if (!own_trust)
                shared.ek_trust = NULL;
        if (!own_index)
                shared.ek_index = NULL;
        vt_attest_opts_done(&shared);
        return r;
}
