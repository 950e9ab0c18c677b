/* The policy: a strict INI reader with file:line errors and one schema table. */
#include <ctype.h>
#include <stdarg.h>
#include "inifile.h"
#include "policy.h"

#define QGA_DEFAULT_BLOCK                                                                          \
        "guest-exec,guest-exec-status,guest-file-open,guest-file-close,guest-file-read,"           \
        "guest-file-write,guest-file-seek,guest-file-flush,guest-set-user-password,"               \
        "guest-ssh-add-authorized-keys,guest-ssh-remove-authorized-keys"

static const char *const ak_choices[] = {"ecc", "rsa", NULL};
static const char *const reboot_choices[] = {"never", "if-needed", NULL};

/* One line per key; modules add theirs here. */
const struct vt_policy_key vt_policy_schema[] = {
        {"haltpoll", "enable", VT_POL_TRISTATE, "auto", NULL,
         "cpuidle-haltpoll: auto follows the host's dedicated-vCPU hint"},
        {"haltpoll", "guest_halt_poll_ns", VT_POL_UINT, NULL, NULL,
         "max poll time, ns (1-10000000); set at runtime"},
        {"haltpoll", "guest_halt_poll_grow", VT_POL_UINT, NULL, NULL,
         "poll time growth factor (0-64)"},
        {"haltpoll", "guest_halt_poll_grow_start", VT_POL_UINT, NULL, NULL,
         "first poll time when growing, ns (0-10000000)"},
        {"haltpoll", "guest_halt_poll_shrink", VT_POL_UINT, NULL, NULL,
         "poll time shrink divisor (0-64; 0 resets)"},
        {"haltpoll", "guest_halt_poll_allow_shrink", VT_POL_BOOL, NULL, NULL,
         "allow the poll time to shrink"},
        {"pvspin", "enable", VT_POL_TRISTATE, "auto", NULL,
         "PV qspinlocks: auto adds arm_pvspin on aarch64; no adds nopvspin"},
        {"iosched", "virtio", VT_POL_STRING, "none", NULL,
         "scheduler for virtio disks: none, mq-deadline, kyber, bfq; empty leaves them"},
        {"iosched", "device.*", VT_POL_STRING, NULL, NULL,
         "scheduler for one disk by name, WWN or serial"},
        {"rng", "enable", VT_POL_TRISTATE, "auto", NULL,
         "use virtio-rng as the hw RNG; rng-tools only when the kernel does not credit it"},
        {"qga", "block-rpcs", VT_POL_LIST, QGA_DEFAULT_BLOCK, NULL,
         "qemu-ga commands to block, checked against qemu-ga's own list"},
        {"qga", "enable", VT_POL_TRISTATE, "auto", NULL, "manage qemu-ga's block list"},
        {"bootloader", "enable", VT_POL_BOOL, "yes", NULL,
         "change the kernel command line in the boot configuration"},
        {"bootloader", "reboot", VT_POL_CHOICE, "never", reboot_choices,
         "reboot after first-boot apply when the command line changed"},
        {"channel", "allow-apply", VT_POL_BOOL, "no", NULL,
         "let the host run virtune-apply and virtune-revert"},
        {"channel", "port", VT_POL_STRING, "org.virtune.agent.0", NULL, "virtio-serial port name"},
        {"tpm", "tcti", VT_POL_STRING, "device:/dev/tpmrm0", NULL, "TPM transport"},
        {"tpm", "ak", VT_POL_CHOICE, "ecc", ak_choices, "attestation key type"},
        {"tpm", "pcrs", VT_POL_STRING, "sha256:0-9", NULL, "default quote selection"},
};
const size_t vt_policy_schema_len = ARRAY_SIZE(vt_policy_schema);

struct vt_policy_entry {
        char *section, *key, *value, *origin;
};

struct vt_policy {
        struct vt_policy_entry *e;
        size_t n;
        json_object *files;
};

struct vt_policy *vt_policy_new(void)
{
        struct vt_policy *p = calloc(1, sizeof(*p));
        if (p)
                p->files = json_object_new_array();
        return p;
}

void vt_policy_free(struct vt_policy *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++) {
                free(p->e[i].section);
                free(p->e[i].key);
                free(p->e[i].value);
                free(p->e[i].origin);
        }
        free(p->e);
        json_object_put(p->files);
        free(p);
}

static bool key_matches(const char *pattern, const char *key)
{
        size_t n = strlen(pattern);
        if (n > 0 && pattern[n - 1] == '*')
                return strncmp(pattern, key, n - 1) == 0 && key[n - 1] != '\0';
        return streq(pattern, key);
}

static const struct vt_policy_key *schema_find(const char *section, const char *key)
{
        for (size_t i = 0; i < vt_policy_schema_len; i++)
                if (streq(vt_policy_schema[i].section, section) &&
                    key_matches(vt_policy_schema[i].key, key))
                        return &vt_policy_schema[i];
        return NULL;
}

static bool section_known(const char *section)
{
        for (size_t i = 0; i < vt_policy_schema_len; i++)
                if (streq(vt_policy_schema[i].section, section))
                        return true;
        return false;
}

static int parse_bool(const char *v)
{
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};
        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        }
        return -1;
}

static const char *check_value(const struct vt_policy_key *k, const char *v)
{
        switch (k->type) {
        case VT_POL_STRING:
        case VT_POL_LIST:
                return NULL;
        case VT_POL_BOOL:
                return parse_bool(v) < 0 ? "expected yes or no" : NULL;
        case VT_POL_TRISTATE:
                return strcasecmp(v, "auto") == 0 || parse_bool(v) >= 0
                               ? NULL
                               : "expected auto, yes or no";
        case VT_POL_UINT: {
                if (!*v)
                        return "expected a non-negative integer";
                for (const char *c = v; *c; c++)
                        if (!isdigit((unsigned char)*c))
                                return "expected a non-negative integer";
                return strlen(v) > 19 ? "number too large" : NULL;
        }
        case VT_POL_CHOICE:
                for (const char *const *c = k->choices; c && *c; c++)
                        if (streq(*c, v))
                                return NULL;
                return "not one of the allowed values";
        }
        return "bad schema";
}

static int add_entry(struct vt_policy *p, const char *section, const char *key, const char *value,
                     const char *origin)
{
        struct vt_policy_entry *ne = realloc(p->e, (p->n + 1) * sizeof(*ne));
        if (!ne)
                return -ENOMEM;
        p->e = ne;
        struct vt_policy_entry *e = &p->e[p->n];
        e->section = strdup(section);
        e->key = strdup(key);
        e->value = strdup(value);
        e->origin = strdup(origin);
        if (!e->section || !e->key || !e->value || !e->origin) {
                free(e->section);
                free(e->key);
                free(e->value);
                free(e->origin);
                return -ENOMEM;
        }
        p->n++;
        return 0;
}

static int fail(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
        _printf_(5, 6);
static int fail(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
{
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(err, errlen, "%s:%u: %s", name, line, msg);
        return -EINVAL;
}

int vt_policy_parse(struct vt_policy *p, const char *name, const char *text, char *err,
                    size_t errlen)
{
        _cleanup_free_ char *buf = strdup(text);
        if (!buf)
                return -ENOMEM;
        char section[64] = "";
        struct vt_ini it = vt_ini_start(buf);
        char *key, *value;
        for (enum vt_ini_item item; (item = vt_ini_step(&it, &key, &value)) != VT_INI_END;) {
                unsigned lineno = it.line;
                if (item == VT_INI_BAD_SECTION)
                        return fail(err, errlen, name, lineno, "bad section header");
                if (item == VT_INI_BAD_LINE)
                        return fail(err, errlen, name, lineno, "expected key = value");
                if (item == VT_INI_SECTION) {
                        if (!section_known(key))
                                return fail(err, errlen, name, lineno, "unknown section [%s]", key);
                        snprintf(section, sizeof(section), "%s", key);
                        continue;
                }
                if (!*section)
                        return fail(err, errlen, name, lineno, "key '%s' outside a section", key);
                const struct vt_policy_key *k = schema_find(section, key);
                if (!k)
                        return fail(err, errlen, name, lineno, "unknown key '%s' in [%s]", key,
                                    section);
                const char *why = check_value(k, value);
                if (why)
                        return fail(err, errlen, name, lineno, "%s.%s = '%s': %s", section, key,
                                    value, why);
                char origin[600];
                snprintf(origin, sizeof(origin), "%s:%u", name, lineno);
                int r = add_entry(p, section, key, value, origin);
                if (r < 0)
                        return r;
        }
        json_object_array_add(p->files, json_object_new_string(name));
        return 0;
}

static int load_one(struct vt_ctx *ctx, struct vt_policy *p, const char *path, char *err,
                    size_t errlen)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = vt_read_file_max(ctx, path, VT_CONFIG_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(-r));
                return r;
        }
        if (memchr(text, '\0', len))
                return fail(err, errlen, path, 1, "binary file");
        return vt_policy_parse(p, path, text, err, errlen);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int vt_policy_load(struct vt_ctx *ctx, struct vt_policy **ret, char *err, size_t errlen)
{
        struct vt_policy *p = vt_policy_new();
        if (!p)
                return -ENOMEM;
        int r = load_one(ctx, p, "/etc/virtune/virtune.conf", err, errlen);
        if (r < 0)
                goto out;
        DIR *d;
        r = vt_opendir(ctx, "/etc/virtune/virtune.conf.d", &d);
        if (r == -ENOENT) {
                r = 0;
                goto done;
        }
        if (r < 0) {
                snprintf(err, errlen, "/etc/virtune/virtune.conf.d: %s", strerror(-r));
                goto out;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".conf"))
                        continue;
                char **nn = realloc(names, (n + 1) * sizeof(*nn));
                if (!nn || !(nn[n] = strdup(de->d_name))) {
                        names = nn ? nn : names;
                        r = -ENOMEM;
                        break;
                }
                names = nn;
                n++;
        }
        closedir(d);
        /* an empty virtune.conf.d (packages install one) leaves names NULL: no qsort */
        if (r == 0 && n > 0)
                qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n; i++) {
                char path[512];
                if (r == 0) {
                        snprintf(path, sizeof(path), "/etc/virtune/virtune.conf.d/%s", names[i]);
                        r = load_one(ctx, p, path, err, errlen);
                }
                free(names[i]);
        }
        free(names);
        if (r < 0)
                goto out;
done:
        *ret = p;
        return 0;
out:
        vt_policy_free(p);
        return r;
}

static const struct vt_policy_entry *find(const struct vt_policy *p, const char *section,
                                          const char *key)
{
        if (!p)
                return NULL;
        for (size_t i = p->n; i > 0; i--)
                if (streq(p->e[i - 1].section, section) && streq(p->e[i - 1].key, key))
                        return &p->e[i - 1];
        return NULL;
}

const char *vt_policy_get(const struct vt_policy *p, const char *section, const char *key)
{
        const struct vt_policy_entry *e = find(p, section, key);
        if (e)
                return e->value;
        const struct vt_policy_key *k = schema_find(section, key);
        return k ? k->def : NULL;
}

int vt_policy_get_tristate(const struct vt_policy *p, const char *section, const char *key)
{
        const char *v = vt_policy_get(p, section, key);
        if (!v || strcasecmp(v, "auto") == 0)
                return -1;
        return parse_bool(v);
}

const char *vt_policy_origin(const struct vt_policy *p, const char *section, const char *key)
{
        const struct vt_policy_entry *e = find(p, section, key);
        return e ? e->origin : "default";
}

void vt_policy_foreach(const struct vt_policy *p, const char *section,
                       void (*fn)(const char *key, const char *value, void *userdata),
                       void *userdata)
{
        for (size_t i = 0; p && i < p->n; i++)
                if (streq(p->e[i].section, section) && find(p, section, p->e[i].key) == &p->e[i])
                        fn(p->e[i].key, p->e[i].value, userdata);
}

json_object *vt_policy_to_json(const struct vt_policy *p)
{
        json_object *o = json_object_new_object();
        for (size_t i = 0; i < vt_policy_schema_len; i++) {
                const struct vt_policy_key *k = &vt_policy_schema[i];
                json_object *sec;
                if (!json_object_object_get_ex(o, k->section, &sec)) {
                        sec = json_object_new_object();
                        json_object_object_add(o, k->section, sec);
                }
                if (!strchr(k->key, '*'))
                        vt_json_add_str(sec, k->key, vt_policy_get(p, k->section, k->key));
        }
        for (size_t i = 0; p && i < p->n; i++) {
                json_object *sec;
                if (json_object_object_get_ex(o, p->e[i].section, &sec))
                        json_object_object_add(sec, p->e[i].key,
                                               json_object_new_string(vt_policy_get(
                                                       p, p->e[i].section, p->e[i].key)));
        }
        return o;
}

json_object *vt_policy_files(const struct vt_policy *p)
{
        return p ? json_object_get(p->files) : json_object_new_array();
}

char *vt_policy_serialize(const struct vt_policy *p)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *entries = json_object_new_array();
        if (!o || !entries) {
                json_object_put(entries);
                return NULL;
        }
        json_object_object_add(o, "files", vt_policy_files(p));
        json_object_object_add(o, "entries", entries);
        for (size_t i = 0; p && i < p->n; i++) {
                json_object *e = json_object_new_array();
                if (!e)
                        return NULL;
                json_object_array_add(e, json_object_new_string(p->e[i].section));
                json_object_array_add(e, json_object_new_string(p->e[i].key));
                json_object_array_add(e, json_object_new_string(p->e[i].value));
                json_object_array_add(e, json_object_new_string(p->e[i].origin));
                json_object_array_add(entries, e);
        }
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        return s ? strdup(s) : NULL;
}

static const char *entry_str(json_object *e, size_t i)
{
        json_object *v = json_object_array_get_idx(e, i);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int vt_policy_deserialize(const char *text, struct vt_policy **ret, char *err, size_t errlen)
{
        _cleanup_json_ json_object *o = json_tokener_parse(text);
        json_object *files, *entries;
        if (!o || !json_object_object_get_ex(o, "files", &files) ||
            !json_object_is_type(files, json_type_array) ||
            !json_object_object_get_ex(o, "entries", &entries) ||
            !json_object_is_type(entries, json_type_array)) {
                snprintf(err, errlen, "the policy handed over is not a serialized policy");
                return -EINVAL;
        }
        struct vt_policy *p = vt_policy_new();
        if (!p)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; r == 0 && i < json_object_array_length(files); i++) {
                const char *f = entry_str(files, i);
                if (!f) {
                        snprintf(err, errlen, "policy files[%zu] is not a string", i);
                        r = -EINVAL;
                } else
                        r = json_object_array_add(p->files, json_object_new_string(f)) < 0 ? -ENOMEM
                                                                                           : 0;
        }
        for (size_t i = 0; r == 0 && i < json_object_array_length(entries); i++) {
                json_object *e = json_object_array_get_idx(entries, i);
                const char *s = entry_str(e, 0), *k = entry_str(e, 1), *v = entry_str(e, 2),
                           *origin = entry_str(e, 3);
                /* A line ends at '\n' only: a value may hold '\r' or '\v' (the reader keeps them).
                 */
                if (!s || !k || !v || !origin || strpbrk(s, "]\n") || strpbrk(k, "=\n") ||
                    strchr(v, '\n')) {
                        snprintf(err, errlen,
                                 "policy entry %zu: not one line's section, key and value with "
                                 "an origin",
                                 i);
                        r = -EINVAL;
                        break;
                }
                /* Checked as a file's line is, by the reader itself. */
                _cleanup_free_ char *line = NULL;
                struct vt_policy *one = vt_policy_new();
                char why[VT_POLICY_ERR_MAX] = "";
                r = !one || asprintf(&line, "[%s]\n%s = %s\n", s, k, v) < 0
                            ? -ENOMEM
                            : vt_policy_parse(one, origin, line, why, sizeof(why));
                vt_policy_free(one);
                if (r == -EINVAL)
                        snprintf(err, errlen, "policy entry %zu: %s", i, why);
                if (r == 0)
                        r = add_entry(p, s, k, v, origin);
        }
        if (r < 0) {
                vt_policy_free(p);
                return r;
        }
        *ret = p;
        return 0;
}
