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
};

struct vt_host_conn {
        int fd;
        int64_t deadline_ms; /* CLOCK_MONOTONIC */
        struct vt_proto_reader reader;
        json_object *reply; /* the reply being waited for, once read */
        int64_t want_id;
        bool synced; /* our guest-sync-delimited answer came back */
        int error;   /* a reply refused while reading: -EMSGSIZE, -E2BIG (too costly to parse) */
};

int64_t vt_host_now_ms(void);
/* A fresh id nobody else used on this channel (random, positive, fits a JSON integer). */
int64_t vt_host_random_id(void);
int vt_host_random(uint8_t *buf, size_t len);

/* A non-blocking unix stream socket connecting to path; -errno. */
int vt_host_socket_connect(const char *path);

/*
 * Connects, sends 0xFF + guest-sync-delimited with a random id and waits for that id, skipping
 * whatever an earlier client left behind. Returns 0, -ETIMEDOUT, or -errno.
 */
int vt_host_conn_open(struct vt_host_conn *c, const char *path, int timeout_ms);
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

/* virtune-host scan: every channel socket under dirs, concurrently. */
struct vt_scan_opts {
        const char *name; /* the socket's file name, default VT_HOST_PORT_NAME */
        int timeout_ms;
        bool prometheus;
};
int vt_host_scan(char *const *dirs, size_t ndirs, const struct vt_scan_opts *opts, FILE *out);
