/* virtune-host's parts: one connection to a guest's channel socket, and the fleet scan. */
#pragma once

#include "proto.h"

#define VT_HOST_REPLY_MAX (16u << 20) /* a guest's reply (facts, event logs) may be large */
/*
 * What a reply may cost once parsed, in units: a scalar or array slot 1, an array 2, an
 * object 8 (json-c gives each a hash table). Bytes alone do not bound it: 15 MiB of "1,"
 * parse to more than a gigabyte. An event log is one base64 string: 1 unit.
 */
#define VT_HOST_REPLY_UNITS_MAX (64u * 1024)
/* scan asks only guest-info and virtune-status, of a few KiB, from up to thousands at once */
#define VT_HOST_SCAN_REPLY_MAX       (32u * 1024)
#define VT_HOST_SCAN_REPLY_UNITS_MAX 4096u
#define VT_HOST_PORT_NAME            "org.virtune.agent.0"

/* Exit codes of virtune-host. */
enum {
        VT_HOST_EXIT_OK = 0,
        VT_HOST_EXIT_GUEST_ERROR = 1,
        VT_HOST_EXIT_USAGE = 2,
        VT_HOST_EXIT_NO_AGENT = 3, /* no socket, no answer in time, or the agent went away */
        VT_HOST_EXIT_HOST = 4,     /* the host's state cannot be read: libvirt, permissions */
};

#define VT_HOST_DEFAULT_URI "qemu:///system"

/* The guests to ask: a socket, and with libvirt the domain it belongs to. */
struct vt_host_target {
        char *socket; /* NULL: a domain without the channel (or not running) */
        char *domain; /* NULL without libvirt */
        char *uuid;
        bool running;
};
struct vt_host_targets {
        struct vt_host_target *v;
        size_t n;
};
int vt_host_targets_add(struct vt_host_targets *t, const char *socket, const char *domain,
                        const char *uuid, bool running);
void vt_host_targets_done(struct vt_host_targets *t);

/*
 * Every channel socket under dirs (DIR itself if a socket, DIR/NAME, DIR/ * /NAME), sorted.
 * On an error, *bad is the directory that could not be read.
 */
int vt_host_targets_from_dirs(char *const *dirs, size_t ndirs, const char *name,
                              struct vt_host_targets *t, const char **bad);

/* Whether path is a unix socket (stat: a symlink to one counts). */
bool vt_host_is_socket(const char *path);

/*
 * Where a scan's guests come from. resolve() fills the targets (strings malloc'd; it may block:
 * libvirt), or resolve is NULL and the caller filled them beforehand (scan DIR...). prestart:
 * sockets to ask before the targets are known (the last scan's), while resolve() runs in a
 * thread; a guest whose socket resolve() does not return is dropped unreported, the others get
 * their target's labels once it returns.
 */
struct vt_scan_source {
        int (*resolve)(void *userdata, struct vt_host_targets *t, char *err, size_t errlen);
        void *userdata;
        char *const *prestart;
        size_t n_prestart;
};

/*
 * libvirt (host_libvirt.c; host_libvirt_stub.c returns -EOPNOTSUPP): the running domain named by
 * domain (a name or a UUID) with its channel's socket from the live XML. On an error, err says
 * what failed in words. -ENOTCONN no connection, -ENOENT no such domain.
 */
int vt_host_libvirt_targets(const char *uri, const char *domain, const char *port,
                            struct vt_host_targets *t, char *err, size_t errlen);
/*
 * Every running domain at uri, sorted by name, as a scan source: resolve() connects, lists and
 * finds each domain's socket. Where libvirt's qemu driver named the socket itself
 * (DIR/domain-ID-NAME/PORT, NAME cut to 20 bytes) and DIR is known from a domain read before,
 * a socket at that path is the domain's and its XML is not read. Free with
 * vt_host_libvirt_close() (NULL is fine).
 */
struct vt_host_libvirt;
int vt_host_libvirt_source(const char *uri, const char *port, struct vt_host_libvirt **ret,
                           struct vt_scan_source *src);
void vt_host_libvirt_close(struct vt_host_libvirt *lv);
/*
 * What the source learnt, as text for a cache file (a one-shot scan's head start the next time):
 * libvirt's channel directory and each running domain's UUID, id and socket. restore() takes
 * such text back before the first resolve (a domain is taken from it only with the same UUID and
 * id and its socket there, as within one process) and gives the sockets to ask first; text of
 * another version (or NULL) is no cache.
 */
int vt_host_libvirt_save(const struct vt_host_libvirt *lv, char **text);
int vt_host_libvirt_restore(struct vt_host_libvirt *lv, const char *text, char ***sockets);
/*
 * Adds the port's channel (unix socket that libvirt names, virtio target) to the domain, live
 * and/or in its definition (neither: libvirt's "current"); what is there already is left as it
 * is. *added says which sides changed (VIR_DOMAIN_AFFECT_LIVE/CONFIG bits: 1, 2).
 */
enum { VT_HOST_SETUP_LIVE = 1u << 0, VT_HOST_SETUP_CONFIG = 1u << 1 };
int vt_host_libvirt_setup(const char *uri, const char *domain, const char *port, bool live,
                          bool config, unsigned *added, char *err, size_t errlen);

struct vt_host_conn {
        int fd;
        int64_t deadline_ms; /* CLOCK_MONOTONIC */
        struct vt_proto_reader reader;
        json_object *reply; /* the reply being waited for, once read */
        int64_t want_id;
        bool synced; /* our guest-sync-delimited answer came back */
        int error;   /* a reply refused while reading: -EMSGSIZE, -E2BIG (too costly to parse) */
        /*
         * Set: requests are pipelined, and every reply after the sync that carries an id goes
         * to take() (true: it took the reference) instead of c->reply (the fleet scan).
         */
        bool (*take)(void *userdata, int64_t id, json_object *reply);
        void *take_userdata;
};

/* CLOCK_MONOTONIC in milliseconds, microseconds */
int64_t vt_host_now_ms(void);
int64_t vt_host_now_us(void);
/* A fresh id nobody else used on this channel (random, positive, fits a JSON integer). */
int64_t vt_host_random_id(void);
int vt_host_random(uint8_t *buf, size_t len);

/* A non-blocking unix stream socket connecting to path; -errno. */
int vt_host_socket_connect(const char *path);

/* Appends one request (vt_proto_request: args and id taken) to the bytes *buf of *len. */
int vt_host_request_append(char **buf, size_t *len, const char *execute, json_object *args,
                           json_object *id);
/*
 * Connects, sends 0xFF + guest-sync-delimited with a random id and waits for that id, skipping
 * whatever an earlier client left behind. Returns 0, -ETIMEDOUT, or -errno.
 */
int vt_host_conn_open(struct vt_host_conn *c, const char *path, int timeout_ms);
/*
 * The reading half on its own (vt_host_conn_open uses it; fuzz_host_reply drives it with a fake
 * guest's bytes): init sets up the reader for timeout_ms from now, no socket; feed takes bytes
 * read from the guest: 0, or the error a reply raised (-EMSGSIZE, -E2BIG) or -ENOMEM. Whether
 * they synced (c->synced) or brought the reply to c->want_id (c->reply) is in c.
 */
void vt_host_conn_init(struct vt_host_conn *c, int timeout_ms);
/*
 * The bytes that open a connection: 0xFF and guest-sync-delimited with a fresh id
 * (c->want_id); once its answer is read, c->synced. Sent on its own by vt_host_conn_open, or
 * with requests after it in one write (the agent answers in order).
 */
int vt_host_conn_hello(struct vt_host_conn *c, char **buf, size_t *len);
/* Those bytes for a sync id the caller keeps (scan's pipelined guests): *buf is new. */
int vt_host_hello(int64_t sync_id, char **buf, size_t *len);
/* The id of the next request, fresh (c->want_id); a reply read before it is dropped. */
int64_t vt_host_conn_next_id(struct vt_host_conn *c);
int vt_host_conn_feed(struct vt_host_conn *c, const char *buf, size_t len);
/* Sends one command and waits for its reply object ({"return"...} or {"error"...}). */
int vt_host_conn_call(struct vt_host_conn *c, const char *name, json_object *args,
                      json_object **reply);
void vt_host_conn_close(struct vt_host_conn *c);

/*
 * Parses one reply after checking its shape against a budget of units (above) without
 * allocating: -E2BIG when it would cost more, -EINVAL when it is not JSON.
 */
int vt_host_reply_parse(const char *buf, size_t len, size_t max_units, json_object **ret);

/* Splits a reply: 0 with *value borrowed from reply, or -EREMOTEIO with *class and *desc. */
int vt_host_reply_value(json_object *reply, json_object **value, const char **class,
                        const char **desc);
/* A vt_attest_call_fn's answer from the reply to execute: 0 with *value a new reference to its
 * "return", or -EREMOTEIO for an error reply (logged at debug level). */
int vt_host_reply_return(json_object *reply, const char *execute, json_object **value);

/* virtune-host scan: every target at once, from one event loop. */
enum vt_scan_format { VT_SCAN_JSON, VT_SCAN_PROMETHEUS, VT_SCAN_TABLE };
struct vt_scan_opts {
        int timeout_ms;
        enum vt_scan_format format;
        bool libvirt;   /* label the series with domain and uuid instead of the socket */
        FILE *json_out; /* not NULL: JSON lines here too, as guests finish (beside Prometheus) */
        int stop_fd;    /* > 0: once readable (a signalfd), the scan stops: -ECANCELED */
};
/*
 * Returns the number of guests that answered, or -errno (err: what failed, from the source;
 * -ECANCELED: stopped by opts->stop_fd, nothing written to out).
 * t: the targets, filled by src->resolve (or beforehand); the caller frees them.
 */
int vt_host_scan(const struct vt_scan_source *src, const struct vt_scan_opts *opts,
                 struct vt_host_targets *t, FILE *out, char *err, size_t errlen);

/* A Prometheus label value's text (no quotes): \\, \", \n escaped, other control bytes as \\xNN. */
void vt_host_prom_label(FILE *out, const char *s);

/* Raises RLIMIT_NOFILE towards want descriptors (one per guest), as far as allowed. */
void vt_host_raise_nofile(size_t want);

/* Calls over one connection, opened on the first call (attest: the steps go to one guest). */
struct vt_host_caller {
        const char *socket;
        int timeout_ms;
        struct vt_host_conn conn;
        bool open;
};
/* A vt_attest_call_fn: *value is the reply's "return" (new reference); -EREMOTEIO for an error. */
int vt_host_caller_call(void *caller, const char *execute, json_object *args, json_object **value);
void vt_host_caller_close(struct vt_host_caller *c);
