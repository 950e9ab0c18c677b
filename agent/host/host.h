/* virtune-host's parts: one connection to a guest's channel socket, and the fleet scan. */
#pragma once

#include "proto.h"

#define VT_HOST_REPLY_MAX (16u << 20) /* a guest's reply (facts, event logs) may be large */
#define VT_HOST_PORT_NAME "org.virtune.agent.0"

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
/* The channel sockets called name (default VT_HOST_PORT_NAME) under dirs, sorted; appended. */
int vt_host_scan_collect(char *const *dirs, size_t ndirs, const char *name, char ***paths,
                         size_t *n);
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
