/* The channel protocol (qemu-ga framing): incremental reader, dispatcher, replies. */
#pragma once

#include <stdint.h>
#include "ctx.h"

#define VT_PROTO_MAX_REQUEST (64u * 1024) /* bytes of one request, the reader's bound */
#define VT_PROTO_MAX_DEPTH   32           /* nesting of objects and arrays */
#define VT_PROTO_DELIM       0xFF         /* resets the reader; prefixes guest-sync-delimited */
#define VT_PROTO_MAX_REPLY   (4u << 20)   /* bytes of one reply: past it, an error says so */
/* Bytes of an event log per virtune-eventlog reply (1.4 MB in base64): the rest on request. */
#define VT_PROTO_EVENTLOG_CHUNK (1u << 20)

/* What the reader hands out. */
enum vt_proto_event {
        VT_PROTO_MESSAGE,   /* one complete JSON text (not yet parsed) */
        VT_PROTO_TOO_LARGE, /* a request passed VT_PROTO_MAX_REQUEST; skipped to 0xFF or newline */
        VT_PROTO_TOO_DEEP,  /* nesting passed VT_PROTO_MAX_DEPTH; skipped to 0xFF or newline */
        VT_PROTO_RESET,     /* a 0xFF byte: any half-read request was dropped */
};

typedef void (*vt_proto_fn)(enum vt_proto_event ev, const char *buf, size_t len, void *userdata);

/* Bytes in, complete JSON texts out. Holds at most max bytes (0: VT_PROTO_MAX_REQUEST). */
struct vt_proto_reader {
        size_t max; /* the host client reads replies larger than any request */
        char *buf;
        size_t len, cap;
        unsigned depth;
        bool started, in_string, escape, skipping;
};

void vt_proto_reader_init(struct vt_proto_reader *r);
void vt_proto_reader_init_max(struct vt_proto_reader *r, size_t max);
void vt_proto_reader_done(struct vt_proto_reader *r);
void vt_proto_reader_reset(struct vt_proto_reader *r);
/* Calls fn for every event the bytes complete. Returns 0 or -ENOMEM. */
int vt_proto_reader_feed(struct vt_proto_reader *r, const void *data, size_t len, vt_proto_fn fn,
                         void *userdata);

/*
 * A buffer that grows: up to VT_PROTO_BUF_SMALL bytes on the heap, past it mapped on its own so
 * that freeing it gives the memory back (proto_buf.c). grow makes room for want bytes, keeping
 * the first len; -ENOMEM. free takes either kind.
 */
#define VT_PROTO_BUF_SMALL 4096
int vt_proto_buf_grow(char **buf, size_t *cap, size_t len, size_t want);
void vt_proto_buf_free(char **buf, size_t *cap);

struct vt_proto_reader_event {
        enum vt_proto_event ev;
        const char *buf; /* VT_PROTO_MESSAGE: the text, valid until the next call */
        size_t len;
};
/*
 * The same, one event at a time, so that the caller decides when to take the next (virtuned:
 * not while a worker job is out or its replies wait). 1 with *out and *used bytes consumed;
 * 0 when all len bytes went in without completing one; -ENOMEM.
 */
int vt_proto_reader_next(struct vt_proto_reader *r, const void *data, size_t len, size_t *used,
                         struct vt_proto_reader_event *out);

/* Error classes: qemu-ga's, plus ours. */
enum vt_proto_class {
        VT_PROTO_GENERIC_ERROR,
        VT_PROTO_COMMAND_NOT_FOUND,
        VT_PROTO_PERMISSION_DENIED,
        VT_PROTO_UNSUPPORTED,
        _VT_PROTO_CLASS_MAX,
};
const char *vt_proto_class_name(enum vt_proto_class c);

/*
 * A parsed JSON text: strict JSON, valid UTF-8, depth bounded, whole buffer consumed.
 * Returns 0 or -EINVAL with a message in err.
 */
int vt_proto_parse(const char *buf, size_t len, json_object **ret, char *err, size_t errlen);

/* A reply line: {"return": value, "id": id} + "\n" (0xFF first when delimited). Takes value. */
char *vt_proto_reply_return(json_object *value, json_object *id, bool delimited, size_t *len);
char *vt_proto_reply_error(enum vt_proto_class c, const char *desc, json_object *id, size_t *len);
/* A request line: {"execute": name, "arguments": args, "id": id} + "\n". Takes args and id. */
char *vt_proto_request(const char *name, json_object *args, json_object *id, size_t *len);

/*
 * The command table (proto_commands.c): one row per command, with its handler, its argument
 * schema, whether it changes the system and where it runs. The dispatcher checks every argument
 * against the schema before any handler runs, so a handler gets typed, in-range values only.
 */
enum vt_proto_kind {
        VT_PROTO_BOOL,
        VT_PROTO_INT,    /* an integer in [min, max] */
        VT_PROTO_STRING, /* [min, max] bytes of UTF-8, no control characters; choices if given */
        VT_PROTO_HEX,    /* hex digits for [min, max] bytes */
        VT_PROTO_ARRAY,  /* [min, max] elements, each as elem says */
};

struct vt_proto_arg {
        const char *name; /* for array elements: NULL */
        enum vt_proto_kind kind;
        bool required;
        int64_t min, max;
        const char *const *choices;      /* STRING: the only values allowed, NULL-terminated */
        bool (*known)(const char *name); /* STRING: a name the engine knows (see below) */
        const char *what;                /* what known() looks up, for its error message */
        const struct vt_proto_arg *elem; /* ARRAY: every element */
};

/* 0 with *ret (NULL means {}), or -errno with desc filled when there is more to say. */
typedef int (*vt_proto_handler_fn)(struct vt_ctx *ctx, json_object *args, json_object **ret,
                                   char *desc, size_t desclen);

enum vt_proto_where {
        VT_PROTO_IN_DAEMON, /* answered from what the protocol knows */
        VT_PROTO_IN_WORKER, /* reads or changes the system: virtuned hands it to virtuned-worker */
};

struct vt_proto_command {
        const char *name;
        vt_proto_handler_fn fn;
        const struct vt_proto_arg *args; /* terminated by {NULL} */
        bool mutating;                   /* refused unless [channel] allow-apply = yes */
        enum vt_proto_where where;
        bool delimited; /* the reply starts with 0xFF */
};

/*
 * The worker's handlers and name checks (agent/daemon/proto_workers.c) need the engine. The
 * table names them as weak references: virtuned-worker, the tests and the fuzz targets link
 * them; virtuned does not, and there they are NULL. virtuned still has every row, so it checks
 * each request's shape and permission itself and hands only valid requests to the worker,
 * whose dispatcher (the same table, bound) checks again, names included, before it runs them.
 */
#ifndef _weak_
#define _weak_ __attribute__((weak))
#endif
#define VT_PROTO_ONLY_MAX 16 /* module names in one virtune-apply */
int vt_proto_cmd_facts(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                       size_t desclen) _weak_;
int vt_proto_cmd_status(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                        size_t desclen) _weak_;
int vt_proto_cmd_plan(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                      size_t desclen) _weak_;
int vt_proto_cmd_pcr_read(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                          size_t desclen) _weak_;
int vt_proto_cmd_quote(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                       size_t desclen) _weak_;
int vt_proto_cmd_eventlog(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                          size_t desclen) _weak_;
int vt_proto_cmd_ek(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                    size_t desclen) _weak_;
int vt_proto_cmd_activate(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                          size_t desclen) _weak_;
int vt_proto_cmd_apply(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                       size_t desclen) _weak_;
int vt_proto_cmd_revert(struct vt_ctx *ctx, json_object *args, json_object **ret, char *desc,
                        size_t desclen) _weak_;
/* A module of the engine's module table with a plan half (what --only takes on the CLI too). */
bool vt_proto_module_known(const char *name) _weak_;

extern const struct vt_proto_command vt_proto_commands[];
extern const size_t vt_proto_commands_len;
const struct vt_proto_command *vt_proto_command_find(const char *name);
bool vt_proto_allow_apply(const struct vt_ctx *ctx);

/*
 * One reader event in, one reply out (malloc'd, *len bytes, ends in "\n"); NULL for events that
 * need no reply (a reset) or when memory ran out.
 */
char *vt_proto_dispatch(struct vt_ctx *ctx, enum vt_proto_event ev, const char *buf, size_t len,
                        size_t *reply_len);
/*
 * The same, but a valid request for a worker command is not run: NULL with *deferred set, for
 * the caller to run vt_proto_dispatch() on it elsewhere (virtuned: in a child process).
 */
char *vt_proto_dispatch_light(struct vt_ctx *ctx, enum vt_proto_event ev, const char *buf,
                              size_t len, size_t *reply_len, bool *deferred);
