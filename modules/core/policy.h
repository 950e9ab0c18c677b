/*
 * The policy: /etc/virtune/virtune.conf, then /etc/virtune/virtune.conf.d/ *.conf in name order
 * (INI, systemd style; later wins). Keys are checked against one schema table (policy.c):
 * unknown sections or keys and bad values are errors naming file:line.
 */
#pragma once

#include "ctx.h"

enum vt_policy_type {
        VT_POL_STRING,
        VT_POL_BOOL,     /* yes/no/true/false/1/0/on/off */
        VT_POL_TRISTATE, /* auto/yes/no */
        VT_POL_UINT,
        VT_POL_CHOICE, /* one of choices[] */
        VT_POL_LIST,   /* comma and/or space separated words */
};

struct vt_policy_key {
        const char *section;
        const char *key; /* a trailing '*' matches any suffix, e.g. "device.*" */
        enum vt_policy_type type;
        const char *def; /* default as text; NULL: unset */
        const char *const *choices;
        const char *help; /* one line, for virtune.conf(5) and `virtune status` */
};

struct vt_policy;

#define VT_POLICY_ERR_MAX 512

/* Loads the policy under ctx's root. On a bad file returns -EINVAL with err = "file:line: msg". */
int vt_policy_load(struct vt_ctx *ctx, struct vt_policy **ret, char *err, size_t errlen);
/* Parses one buffer as if it were file `name` (tests, the channel); merges into p. */
int vt_policy_parse(struct vt_policy *p, const char *name, const char *text, char *err,
                    size_t errlen);
struct vt_policy *vt_policy_new(void);
void vt_policy_free(struct vt_policy *p);

/* The value in force (last one set), else the schema default, else NULL. */
const char *vt_policy_get(const struct vt_policy *p, const char *section, const char *key);
/* For bool and tristate keys: 1 yes, 0 no, -1 auto (or unset with no default). */
int vt_policy_get_tristate(const struct vt_policy *p, const char *section, const char *key);
/* "file:line" of the value in force, or "default". */
const char *vt_policy_origin(const struct vt_policy *p, const char *section, const char *key);
/* Iterate set keys of one section in file order: calls fn for each (key, value). */
void vt_policy_foreach(const struct vt_policy *p, const char *section,
                       void (*fn)(const char *key, const char *value, void *userdata),
                       void *userdata);
/* Every key in force, with defaults: {"section": {"key": "value", ...}, ...}. */
json_object *vt_policy_to_json(const struct vt_policy *p);
/* The list of files read, in order. */
json_object *vt_policy_files(const struct vt_policy *p);

/*
 * The policy as one JSON text, every value with its origin, and back (checked against the
 * schema again): virtuned hands the policy in force to virtuned-worker this way, so a job never
 * runs with a file the daemon refused. serialize returns a malloc'd string or NULL (no memory).
 */
char *vt_policy_serialize(const struct vt_policy *p);
int vt_policy_deserialize(const char *text, struct vt_policy **ret, char *err, size_t errlen);

extern const struct vt_policy_key vt_policy_schema[];
extern const size_t vt_policy_schema_len;
