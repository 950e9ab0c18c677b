/* The channel protocol (qemu-ga framing): incremental reader, dispatcher, replies. */
#pragma once

#include <stdint.h>
#include "ctx.h"

#define VT_PROTO_MAX_REQUEST (64u * 1024) /* bytes of one request, the reader's bound */
#define VT_PROTO_MAX_DEPTH   32           /* nesting of objects and arrays */
#define VT_PROTO_DELIM       0xFF         /* resets the reader; prefixes guest-sync-delimited */

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

/* The command table (proto_commands.c). */
struct vt_proto_arg {
        const char *name;
        json_type type;
        bool required;
        json_type elem; /* for arrays: the type of every element */
};

/* 0 with *ret (NULL means {}), or -errno with desc filled when there is more to say. */
typedef int (*vt_proto_handler_fn)(struct vt_ctx *ctx, json_object *args, json_object **ret,
                                   char *desc, size_t desclen);

struct vt_proto_command {
        const char *name;
        vt_proto_handler_fn fn;
        const struct vt_proto_arg *args; /* terminated by {NULL} */
        bool mutating;                   /* refused unless [channel] allow-apply = yes */
        bool delimited;                  /* the reply starts with 0xFF */
        bool worker; /* reads or changes the system: virtuned runs it in a child process */
};

/*
 * Runs a command whose table entry has no handler (proto_workers.c). virtuned does not link
 * it: there, those commands go to virtuned-worker and this answers -EOPNOTSUPP.
 */
int vt_proto_worker_call(const struct vt_proto_command *cmd, struct vt_ctx *ctx, json_object *args,
                         json_object **ret, char *desc, size_t desclen);

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
