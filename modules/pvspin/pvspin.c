/* Detects whether PV spinlocks are in use (kernel log), the command-line switches and the kernel
 * config. */
#include <fcntl.h>
#include <limits.h>
#include <sys/klog.h>
#include "facts.h"
#include "kconfig.h"
#include "module.h"

#define SYSLOG_ACTION_READ_ALL    3
#define SYSLOG_ACTION_SIZE_BUFFER 10
#define CONFIG_KEY                "CONFIG_PARAVIRT_SPINLOCKS"
/* Files of an image are hostile: a kept log may be some 100 MB. */
#define LOG_MAX_BYTES (256ull << 20)

/* What the kernel prints (arch/x86/kernel/kvm.c, arch/x86/xen/spinlock.c, openEuler arm-pv). */
static const struct {
        const char *phrase, *state;
} log_phrases[] = {
        {"PV spinlocks enabled", "enabled"},
        {"PV spinlocks disabled", "disabled"},
        {"PV qspinlocks enabled", "enabled"},
        {"PV qspinlocks disabled", "disabled"},
};

/* Offline trees (and live systems whose ring buffer has wrapped): saved kernel logs. */
static const char *const log_files[] = {"/var/log/dmesg", "/var/log/kern.log"};

struct log_verdict {
        const char *state;
        char evidence[512];
};

/* The last matching line wins: a later message reflects a later decision. */
static void scan_line(struct log_verdict *v, const char *line)
{
        for (size_t i = 0; i < ARRAY_SIZE(log_phrases); i++)
                if (strstr(line, log_phrases[i].phrase)) {
                        v->state = log_phrases[i].state;
                        snprintf(v->evidence, sizeof(v->evidence), "%s", line);
                        vt_strip(v->evidence);
                }
}

static int scan_klog(struct log_verdict *v)
{
        int size = klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
        if (size < 0)
                return -errno;
        _cleanup_free_ char *buf = malloc((size_t)size + 1);
        if (!buf)
                return -ENOMEM;
        int n = klogctl(SYSLOG_ACTION_READ_ALL, buf, size);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                scan_line(v, l[0] == '<' && strchr(l, '>') ? strchr(l, '>') + 1 : l);
        return 0;
}

static int scan_file(struct vt_ctx *ctx, const char *path, struct log_verdict *v)
{
        _cleanup_fclose_ FILE *f = NULL;
        int r = vt_fopen_read(ctx, path, &f);
        if (r < 0)
                return r;
        char line[1024]; /* longer lines are scanned in pieces: the phrases are short */
        unsigned long long seen = 0;
        while (fgets(line, sizeof(line), f)) {
                scan_line(v, line);
                seen += strlen(line);
                if (seen > LOG_MAX_BYTES)
                        return -EFBIG;
        }
        return ferror(f) ? (errno > 0 ? -errno : -EIO) : 0;
}

static void add_log(struct vt_ctx *ctx, json_object *p)
{
        struct log_verdict v = {0};
        const char *source = NULL;
        if (ctx->live) {
                int r = scan_klog(&v);
                if (r < 0)
                        vt_json_add_error(p, "klogctl(SYSLOG_ACTION_READ_ALL)", r);
                else if (v.state)
                        source = "klogctl";
        }
        for (size_t i = 0; !source && i < ARRAY_SIZE(log_files); i++) {
                int r = scan_file(ctx, log_files[i], &v);
                if (r < 0 && r != -ENOENT)
                        vt_json_add_error(p, log_files[i], r);
                if (v.state)
                        source = log_files[i];
        }
        json_object_object_add(p, "state", json_object_new_string(v.state ? v.state : "unknown"));
        vt_json_add_str(p, "evidence", v.state ? v.evidence : NULL);
        vt_json_add_str(p, "source", source);
}

static void add_config(struct vt_ctx *ctx, json_object *facts, json_object *p)
{
        const char *release = json_object_get_string(vt_facts_get(facts, "virt", "kernel_release"));
        struct vt_kconfig_hit hit;
        int r = vt_kconfig_get(ctx, release, CONFIG_KEY, &hit);
        if (r < 0 && r != -ENOENT)
                vt_json_add_error(p, hit.source, r);
        /* y, or n for m too: spinlocks cannot be a module */
        vt_json_add_str(p, "config",
                        hit.value && streq(hit.value, "y") ? "y"
                        : hit.value                        ? "n"
                                                           : NULL);
        vt_json_add_str(p, "config_source", r >= 0 ? hit.source : NULL);
}

int vt_pvspin_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *p = vt_facts_module_new(facts, "pvspin");
        /* A plan reads the kernel log and config only on aarch64 (pvspin_plan.c): elsewhere the
         * policy alone decides, and reading the whole ring buffer is most of this detection. */
        bool lean =
                ctx->for_plan &&
                !streq_ptr(json_object_get_string(vt_facts_get(facts, "virt", "arch")), "aarch64");
        if (!lean)
                add_log(ctx, p);
        json_object *c = json_object_new_object();
        json_object_object_add(
                c, "nopvspin",
                json_object_new_boolean(vt_facts_cmdline_get(facts, "nopvspin", NULL)));
        json_object_object_add(
                c, "arm_pvspin",
                json_object_new_boolean(vt_facts_cmdline_get(facts, "arm_pvspin", NULL)));
        json_object_object_add(p, "cmdline", c);
        if (!lean)
                add_config(ctx, facts, p);
        return 0;
}
