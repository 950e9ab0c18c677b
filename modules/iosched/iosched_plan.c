/* Plans disk I/O schedulers: virtio disks (and named overrides) now, and a udev rule for later. */
#include "module.h"
#include "policy.h"

#define M         "iosched"
#define RULE_PATH "/etc/udev/rules.d/60-virtune-iosched.rules"

static const char why_virtio[] =
        "SUSE guide: use noop (none) in the VM Guest; the host's scheduler already orders I/O";
static const char why_device[] = "policy: iosched.device override";
static const char why_rule[] = "udev rule: new and hot-plugged disks get the same scheduler";

/* Every scheduler a current kernel offers; anything else in the policy is a typo. */
static const char *const known[] = {"none", "mq-deadline", "kyber", "bfq"};

struct override {
        char *key, *value;
};

struct overrides {
        struct override *v;
        size_t n;
        int r;
};

static void collect(const char *key, const char *value, void *userdata)
{
        struct overrides *o = userdata;
        if (!startswith(key, "device.") || o->r < 0)
                return;
        struct override *n = realloc(o->v, (o->n + 1) * sizeof(*n));
        if (!n) {
                o->r = -ENOMEM;
                return;
        }
        o->v = n;
        n[o->n].key = strdup(key + strlen("device."));
        n[o->n].value = strdup(value);
        o->n++;
}

static void overrides_done(struct overrides *o)
{
        for (size_t i = 0; i < o->n; i++) {
                free(o->v[i].key);
                free(o->v[i].value);
        }
        free(o->v);
}

static bool in_array(json_object *a, const char *s)
{
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (streq_ptr(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

static int check_known(struct vt_ctx *ctx, struct vt_plan *plan, const char *key, const char *value)
{
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (streq(known[i], value))
                        return 0;
        return vt_plan_fail(plan, vt_policy_origin(ctx->policy, M, key),
                            "iosched.%s = %s: unknown I/O scheduler (none, mq-deadline, kyber, "
                            "bfq)",
                            key, value);
}

static const struct override *find_override(const struct overrides *o, json_object *disk)
{
        static const char *const ids[] = {"name", "wwn", "serial"};
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                const char *id = vt_json_str(disk, ids[i]);
                for (size_t j = 0; id && j < o->n; j++)
                        if (streq(o->v[j].key, id))
                                return &o->v[j];
        }
        return NULL;
}

static int plan_disk(struct vt_ctx *ctx, struct vt_plan *plan, json_object *disk,
                     const struct overrides *o, const char *virtio)
{
        const char *name = vt_json_str(disk, "name");
        const char *kind = vt_json_str(disk, "kind");
        if (!name || strchr(name, '/') || name[0] == '.')
                return 0;
        const struct override *ov = find_override(o, disk);
        const char *want = NULL, *why = why_virtio;
        char key[256];
        if (ov) {
                want = ov->value, why = why_device;
                snprintf(key, sizeof(key), "device.%s", ov->key);
        } else if (kind && startswith(kind, "virtio")) {
                /* By kind: detect's "virtual" means a /sys/devices/virtual disk (loop, zram). */
                want = virtio;
                snprintf(key, sizeof(key), "virtio");
        }
        if (!want || !*want)
                return 0; /* never touch other disks unless configured */
        json_object *offered = NULL;
        json_object_object_get_ex(disk, "schedulers", &offered);
        if (!in_array(offered, want)) {
                _cleanup_free_ char *list = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&list, &len);
                for (size_t i = 0; f && offered && i < json_object_array_length(offered); i++)
                        fprintf(f, "%s%s", i ? " " : "",
                                json_object_get_string(json_object_array_get_idx(offered, i)));
                if (f)
                        fclose(f);
                return vt_plan_fail(plan, vt_policy_origin(ctx->policy, M, key),
                                    "iosched.%s = %s: disk %s does not offer it (offers: %s)", key,
                                    want, name, list && *list ? list : "nothing");
        }
        char path[300];
        snprintf(path, sizeof(path), "/sys/block/%s/queue/scheduler", name);
        return vt_plan_add(plan, M, VT_TARGET_ATTR, path, vt_json_str(disk, "scheduler"), want,
                           VT_WHEN_NOW, why);
}

/* udev matches: a disk's kernel name, else its serial or WWN. */
static void rule_line(FILE *f, json_object *disks, const char *key, const char *value)
{
        const char *match = "ENV{ID_SERIAL_SHORT}";
        for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
                json_object *d = json_object_array_get_idx(disks, i);
                if (streq_ptr(vt_json_str(d, "name"), key))
                        match = "KERNEL";
                else if (streq_ptr(vt_json_str(d, "wwn"), key))
                        match = "ENV{ID_WWN}";
        }
        fprintf(f,
                "ACTION==\"add|change\", SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", "
                "%s==\"%s\", ATTR{queue/scheduler}=\"%s\"\n",
                match, key, value);
}

static int plan_rule(struct vt_plan *plan, json_object *disks, const struct overrides *o,
                     const char *virtio)
{
        if ((!virtio || !*virtio) && o->n == 0)
                return 0; /* nothing to say to udev */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fputs(VT_OWNED_HEADER, f);
        if (virtio && *virtio)
                fprintf(f,
                        "ACTION==\"add|change\", SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", "
                        "KERNEL==\"vd*[!0-9]\", ATTR{queue/scheduler}=\"%s\"\n"
                        /* virtio-scsi disks: the driver of an ancestor (the virtio device) */
                        "ACTION==\"add|change\", SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", "
                        "KERNEL==\"sd*[!0-9]\", DRIVERS==\"virtio_scsi\", "
                        "ATTR{queue/scheduler}=\"%s\"\n",
                        virtio, virtio);
        /* Later lines win: a device's override comes after the virtio default. */
        for (size_t i = 0; i < o->n; i++)
                rule_line(f, disks, o->v[i].key, o->v[i].value);
        fclose(f);
        return vt_plan_add(plan, M, VT_TARGET_FILE, RULE_PATH, NULL, text, VT_WHEN_BOOT, why_rule);
}

static int iosched_plan(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        const char *virtio = vt_policy_get(ctx->policy, M, "virtio");
        struct overrides o = {0};
        vt_policy_foreach(ctx->policy, M, collect, &o);
        int r = o.r;
        if (r == 0 && virtio && *virtio)
                r = check_known(ctx, plan, "virtio", virtio);
        for (size_t i = 0; r == 0 && i < o.n; i++) {
                char key[300];
                snprintf(key, sizeof(key), "device.%s", o.v[i].key);
                if (!o.v[i].key || !o.v[i].value)
                        r = -ENOMEM;
                else if (strpbrk(o.v[i].key, "\"\\*?[") || strpbrk(o.v[i].value, "\"\\"))
                        r = vt_plan_fail(plan, vt_policy_origin(ctx->policy, M, key),
                                         "iosched.%s: quotes, backslashes and globs are not "
                                         "allowed",
                                         key);
                else
                        r = check_known(ctx, plan, key, o.v[i].value);
        }
        json_object *disks = vt_facts_get(facts, M, "disks");
        for (size_t i = 0; r == 0 && disks && i < json_object_array_length(disks); i++)
                r = plan_disk(ctx, plan, json_object_array_get_idx(disks, i), &o, virtio);
        if (r == 0)
                r = plan_rule(plan, disks, &o, virtio);
        overrides_done(&o);
        return r;
}

static const struct vt_policy_key policy[] = {
        VT_POLICY_KEY(
                M, "virtio", VT_POL_STRING, "none", NULL,
                "scheduler for virtio disks: none, mq-deadline, kyber, bfq; empty leaves them"),
        VT_POLICY_KEY(M, "device.*", VT_POL_STRING, NULL, NULL,
                      "scheduler for one disk by name, WWN or serial"),
        {},
};

const struct vt_module vt_module_iosched = {
        .name = M, .detect = vt_iosched_detect, .plan = iosched_plan, .policy = policy};
