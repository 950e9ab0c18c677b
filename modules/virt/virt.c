/* Detects the virtualisation facts: hypervisor, KVM features, kernel, command line, vCPUs, steal.
 */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <sys/utsname.h>
#include "cmdline.h"
#include "facts.h"
#include "grubenv.h"
#include "module.h"
#include "vt_cpuid.h"

#define CPUID_HV_BASE     0x40000000u
#define CPUID_KVM_FEAT    0x40000001u
#define CPUID1_ECX_HV_BIT (1u << 31)

/* CPUID 0x40000000 signatures (ebx ecx edx) to names. */
static const struct {
        const char *sig, *name;
} hv_signatures[] = {
        {"KVMKVMKVM", "kvm"},       {"XenVMMXenVMM", "xen"},        {"Microsoft Hv", "hyperv"},
        {"VMwareVMware", "vmware"}, {"TCGTCGTCGTCG", "tcg"},        {"bhyve bhyve ", "bhyve"},
        {"ACRNACRNACRN", "acrn"},   {"VBoxVBoxVBox", "virtualbox"},
};

/* DMI sys_vendor or product_name prefixes to names (what systemd-detect-virt also looks at). */
static const struct {
        const char *field, *prefix, *name;
} dmi_vendors[] = {
        {"product_name", "KVM", "kvm"},
        {"sys_vendor", "QEMU", "qemu"},
        {"sys_vendor", "Xen", "xen"},
        {"sys_vendor", "VMware", "vmware"},
        {"product_name", "VMware", "vmware"},
        {"sys_vendor", "innotek GmbH", "virtualbox"},
        {"product_name", "VirtualBox", "virtualbox"},
        {"sys_vendor", "Amazon EC2", "amazon"},
        {"sys_vendor", "Microsoft Corporation", "hyperv"},
        {"sys_vendor", "BHYVE", "bhyve"},
        {"sys_vendor", "Parallels", "parallels"},
        {"product_name", "OpenStack", "kvm"},
};

/*
 * Device-tree evidence (arm64, riscv, ppc), the rules systemd-detect-virt applies: the
 * /hypervisor node's compatible names the hypervisor; otherwise a node whose name holds
 * "fw-cfg" (QEMU's firmware config device), or a machine compatible that only QEMU gives.
 */
#define DT_BASE "/sys/firmware/devicetree/base"
static const struct {
        const char *compatible, *name;
} dt_hypervisors[] = {
        {"linux,kvm", "kvm"},
        {"xen", "xen"},
        {"vmware", "vmware"},
};
static const struct {
        const char *compatible, *name;
} dt_machines[] = {
        {"linux,dummy-virt", "qemu"}, /* QEMU -machine virt (arm, arm64, riscv) */
        {"qemu,pseries", "qemu"},
};

/* KVM_CPUID_FEATURES eax bits (linux/arch/x86/include/uapi/asm/kvm_para.h). */
static const struct {
        unsigned bit;
        const char *name;
} kvm_features[] = {
        {0, "clocksource"},
        {1, "nop_io_delay"},
        {2, "mmu_op"},
        {3, "clocksource2"},
        {4, "async_pf"},
        {5, "steal_time"},
        {6, "pv_eoi"},
        {7, "pv_unhalt"},
        {9, "pv_tlb_flush"},
        {10, "async_pf_vmexit"},
        {11, "pv_send_ipi"},
        {12, "poll_control"},
        {13, "pv_sched_yield"},
        {14, "async_pf_int"},
        {15, "msi_ext_dest_id"},
        {16, "hc_map_gpa_range"},
        {17, "migration_control"},
        {24, "clocksource_stable"},
};

/* KVM_CPUID_FEATURES edx bits: hints. */
static const struct {
        unsigned bit;
        const char *name;
} kvm_hints[] = {
        {0, "realtime"},
};

/* ELF e_machine of /bin/sh, for offline trees without /proc. */
static const struct {
        uint16_t machine;
        const char *arch;
} elf_machines[] = {
        {EM_X86_64, "x86_64"},         {EM_AARCH64, "aarch64"}, {EM_386, "i686"},
        {EM_PPC64, "ppc64le"},         {EM_S390, "s390x"},      {EM_RISCV, "riscv64"},
        {EM_LOONGARCH, "loongarch64"},
};

static char *arch_from_elf(struct vt_ctx *ctx)
{
        _cleanup_close_ int fd = vt_open(ctx, "/bin/sh", O_RDONLY, 0);
        Elf64_Ehdr h; /* e_machine sits at the same offset in 32- and 64-bit headers */
        if (fd < 0 || read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
            memcmp(h.e_ident, ELFMAG, SELFMAG) != 0)
                return NULL;
        for (size_t i = 0; i < ARRAY_SIZE(elf_machines); i++)
                if (elf_machines[i].machine == h.e_machine)
                        return strdup(elf_machines[i].arch);
        return NULL;
}

static void add_arch(struct vt_ctx *ctx, json_object *v)
{
        _cleanup_free_ char *arch = NULL;
        struct utsname u;
        if (ctx->live && uname(&u) == 0)
                arch = strdup(u.machine);
        else if (vt_facts_read_attr(ctx, v, "/proc/sys/kernel/arch", &arch) < 0)
                arch = arch_from_elf(ctx);
        vt_json_add_str(v, "arch", arch);
}

/* Hypervisor from CPUID when it can be asked and the CPU says a hypervisor is there. */
static const char *hv_from_cpuid(struct vt_ctx *ctx, char sig[13])
{
        uint32_t r[4];
        if (!ctx->cpuid || vt_cpuid_query(ctx->cpuid, 1, 0, r) < 0 || !(r[2] & CPUID1_ECX_HV_BIT))
                return NULL;
        if (vt_cpuid_query(ctx->cpuid, CPUID_HV_BASE, 0, r) < 0)
                return NULL;
        memcpy(sig, &r[1], 4);
        memcpy(sig + 4, &r[2], 4);
        memcpy(sig + 8, &r[3], 4);
        sig[12] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(hv_signatures); i++)
                if (memcmp(sig, hv_signatures[i].sig, strlen(hv_signatures[i].sig)) == 0)
                        return hv_signatures[i].name;
        return sig[0] ? "unknown" : NULL;
}

static const char *hv_from_dmi(json_object *dmi)
{
        for (size_t i = 0; i < ARRAY_SIZE(dmi_vendors); i++) {
                json_object *f;
                const char *s;
                if (json_object_object_get_ex(dmi, dmi_vendors[i].field, &f) &&
                    (s = json_object_get_string(f)) && startswith(s, dmi_vendors[i].prefix))
                        return dmi_vendors[i].name;
        }
        return NULL;
}

/* Whether a device tree "compatible" property (NUL-separated strings) holds s. */
static bool dt_compatible_has(const char *prop, size_t len, const char *s)
{
        for (const char *p = prop; p < prop + len; p += strlen(p) + 1)
                if (streq(p, s))
                        return true;
        return false;
}

static const char *hv_from_devicetree(struct vt_ctx *ctx)
{
        _cleanup_free_ char *prop = NULL;
        size_t len;
        if (vt_read_file_max(ctx, DT_BASE "/hypervisor/compatible", 4096, &prop, &len) >= 0) {
                for (size_t i = 0; i < ARRAY_SIZE(dt_hypervisors); i++)
                        for (const char *p = prop; p < prop + len; p += strlen(p) + 1)
                                if (strstr(p, dt_hypervisors[i].compatible))
                                        return dt_hypervisors[i].name;
                return "vm-other";
        }
        _cleanup_closedir_ DIR *d = NULL;
        if (vt_opendir(ctx, DT_BASE, &d) < 0)
                return NULL;
        for (struct dirent *e; (e = readdir(d));)
                if (strstr(e->d_name, "fw-cfg"))
                        return "qemu";
        if (vt_read_file_max(ctx, DT_BASE "/compatible", 4096, &prop, &len) < 0)
                return NULL;
        for (size_t i = 0; i < ARRAY_SIZE(dt_machines); i++)
                if (dt_compatible_has(prop, len, dt_machines[i].compatible))
                        return dt_machines[i].name;
        return NULL;
}

static json_object *kvm_new(struct vt_ctx *ctx)
{
        uint32_t r[4];
        if (vt_cpuid_query(ctx->cpuid, CPUID_KVM_FEAT, 0, r) < 0)
                return NULL;
        json_object *kvm = json_object_new_object(), *feat = json_object_new_object(),
                    *hints = json_object_new_object();
        for (size_t i = 0; i < ARRAY_SIZE(kvm_features); i++)
                json_object_object_add(feat, kvm_features[i].name,
                                       json_object_new_boolean(r[0] >> kvm_features[i].bit & 1));
        for (size_t i = 0; i < ARRAY_SIZE(kvm_hints); i++)
                json_object_object_add(hints, kvm_hints[i].name,
                                       json_object_new_boolean(r[3] >> kvm_hints[i].bit & 1));
        json_object_object_add(kvm, "features", feat);
        json_object_object_add(kvm, "hints", hints);
        return kvm;
}

static void add_hypervisor(struct vt_ctx *ctx, json_object *v)
{
        json_object *dmi = json_object_new_object();
        static const char *const dmi_fields[] = {"sys_vendor", "product_name"};
        for (size_t i = 0; i < ARRAY_SIZE(dmi_fields); i++) {
                char path[64];
                _cleanup_free_ char *s = NULL;
                snprintf(path, sizeof(path), "/sys/class/dmi/id/%s", dmi_fields[i]);
                if (vt_facts_read_attr(ctx, v, path, &s) < 0)
                        s = NULL;
                vt_json_add_str(dmi, dmi_fields[i], s);
        }

        char sig[13] = "";
        const char *hv = hv_from_cpuid(ctx, sig), *source = "cpuid";
        _cleanup_free_ char *sysfs = NULL;
        if (!hv) {
                source = "sysfs";
                if (vt_facts_read_attr(ctx, v, "/sys/hypervisor/type", &sysfs) >= 0 && *sysfs)
                        hv = sysfs;
        }
        if (!hv) {
                source = "dmi";
                hv = hv_from_dmi(dmi);
        }
        if (!hv) {
                source = "devicetree";
                hv = hv_from_devicetree(ctx);
        }
        if (!hv) {
                source = "none";
                hv = "none";
        }
        json_object_object_add(v, "hypervisor", json_object_new_string(hv));
        json_object_object_add(v, "hypervisor_source", json_object_new_string(source));
        vt_json_add_str(v, "cpuid_signature", sig[0] ? sig : NULL);
        json_object_object_add(v, "kvm",
                               streq(source, "cpuid") && streq(hv, "kvm") ? kvm_new(ctx) : NULL);
        json_object_object_add(v, "dmi", dmi);
}

/* Token i of cl as init receives it: "key=value" or "key". */
static json_object *init_arg_new(const struct vt_cmdline *cl, size_t i)
{
        const char *key, *value;
        _cleanup_free_ char *arg = NULL;
        vt_cmdline_token(cl, i, &key, &value);
        if (asprintf(&arg, "%s%s%s", key, value ? "=" : "", value ? value : "") < 0)
                return NULL;
        return json_object_new_string(arg);
}

/*
 * The kernel's tokens as {key, value|null}; everything after the first "--" (a later "--"
 * too) as init's arguments.
 */
static int add_tokens(const char *raw, json_object *tokens, json_object *init)
{
        _cleanup_cmdline_ struct vt_cmdline *cl = NULL;
        int r = vt_cmdline_parse_kernel(raw, &cl);
        if (r < 0)
                return r;
        for (size_t i = 0; i < vt_cmdline_count(cl); i++) {
                const char *key, *value;
                vt_cmdline_token(cl, i, &key, &value);
                json_object *tok = json_object_new_object();
                json_object_object_add(tok, "key", json_object_new_string(key));
                vt_json_add_str(tok, "value", value);
                json_object_array_add(tokens, tok);
        }
        for (const char *s = vt_cmdline_init(cl); s;) {
                _cleanup_cmdline_ struct vt_cmdline *args = NULL;
                r = vt_cmdline_parse_kernel(s, &args);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < vt_cmdline_count(args); i++)
                        json_object_array_add(init, init_arg_new(args, i));
                const char *more = vt_cmdline_init(args);
                if (more)
                        json_object_array_add(init, json_object_new_string("--"));
                /* more points into args: step s to the same place in the text it came from */
                s = more ? s + strlen(s) - strlen(more) : NULL;
        }
        return 0;
}

static void add_cmdline(struct vt_ctx *ctx, json_object *v)
{
        json_object *c = json_object_new_object(), *tokens = json_object_new_array(),
                    *init = json_object_new_array();
        _cleanup_free_ char *raw = NULL;
        if (vt_facts_read_attr(ctx, v, "/proc/cmdline", &raw) >= 0 &&
            add_tokens(raw, tokens, init) < 0) {
                json_object_array_del_idx(tokens, 0, json_object_array_length(tokens));
                json_object_array_del_idx(init, 0, json_object_array_length(init));
        }
        vt_json_add_str(c, "raw", raw);
        json_object_object_add(c, "tokens", tokens);
        json_object_object_add(c, "init", init);
        json_object_object_add(v, "cmdline", c);
}

/* Counts a cpulist ("0-3,5,7-8"); -EINVAL when it is not one. */
static int cpulist_count(const char *s)
{
        int n = 0;
        while (*s) {
                char *end;
                long a = strtol(s, &end, 10), b = a;
                if (end == s || a < 0)
                        return -EINVAL;
                s = end;
                if (*s == '-') {
                        b = strtol(s + 1, &end, 10);
                        if (end == s + 1 || b < a)
                                return -EINVAL;
                        s = end;
                }
                n += (int)(b - a + 1);
                if (*s == ',')
                        s++;
                else if (*s)
                        return -EINVAL;
        }
        return n;
}

static void add_vcpus(struct vt_ctx *ctx, json_object *v)
{
        _cleanup_free_ char *online = NULL, *cpuinfo = NULL;
        int n = -1;
        if (vt_facts_read_attr(ctx, v, "/sys/devices/system/cpu/online", &online) >= 0)
                n = cpulist_count(online);
        else if (vt_read_file(ctx, "/proc/cpuinfo", &cpuinfo, NULL) >= 0) {
                n = 0;
                for (const char *p = cpuinfo; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                        n += startswith(p, "processor") ? 1 : 0;
        }
        json_object_object_add(v, "vcpus", n >= 0 ? json_object_new_int(n) : NULL);
}

/* Steal share since boot from the aggregate "cpu" line of /proc/stat. */
static void add_steal(struct vt_ctx *ctx, json_object *v)
{
        _cleanup_free_ char *stat = NULL;
        unsigned long long f[8] = {0};
        if (vt_read_file(ctx, "/proc/stat", &stat, NULL) < 0 ||
            sscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3],
                   &f[4], &f[5], &f[6], &f[7]) < 4) {
                json_object_object_add(v, "steal", NULL);
                return;
        }
        unsigned long long total = 0;
        for (size_t i = 0; i < ARRAY_SIZE(f); i++)
                total += f[i];
        json_object *s = json_object_new_object();
        json_object_object_add(s, "ticks", json_object_new_int64((int64_t)f[7]));
        json_object_object_add(s, "total", json_object_new_int64((int64_t)total));
        /* two decimals, computed in integers so fixtures compare exactly */
        unsigned long long hundredths = total ? f[7] * 10000 / total : 0;
        char text[32];
        snprintf(text, sizeof(text), "%llu.%02llu", hundredths / 100, hundredths % 100);
        json_object_object_add(s, "percent",
                               json_object_new_double_s((double)hundredths / 100.0, text));
        json_object_object_add(v, "steal", s);
}

/* Boot files of an image are small; a larger one is not one. */
#define BOOT_FILE_MAX (1u << 20)

/* A release as a file name part: "6.1.0-13-cloud-amd64", never a path. */
static bool release_valid(const char *s, size_t n)
{
        if (n == 0 || n >= NAME_MAX - 16)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '/' || s[i] <= ' ' || s[i] == 0x7f)
                        return false;
        return !(n <= 2 && s[0] == '.');
}

/* The release of a kernel path ("/boot/vmlinuz-REL", "/vmlinuz-REL"), or NULL. */
static char *release_of_image(const char *path, size_t n)
{
        const char *v = memmem(path, n, "vmlinuz-", 8);
        if (!v)
                return NULL;
        v += 8;
        size_t len = n - (size_t)(v - path);
        return release_valid(v, len) ? strndup(v, len) : NULL;
}

/* The value of the first line of text that starts with one of words, as [*vs, *ve). */
static bool first_line_with(const char *text, const char *const *words, size_t nwords,
                            const char **vs, const char **ve)
{
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                p += strspn(p, " \t");
                for (size_t i = 0; i < nwords; i++) {
                        size_t wl = strlen(words[i]);
                        if (strncmp(p, words[i], wl) != 0 || (p[wl] != ' ' && p[wl] != '\t'))
                                continue;
                        *vs = p + wl + strspn(p + wl, " \t");
                        *ve = *vs + strcspn(*vs, " \t\n");
                        return *ve > *vs;
                }
        }
        return false;
}

/* The kernel a BLS entry boots: its "version" line, else its "linux" line's file name. */
static char *release_of_bls_entry(struct vt_ctx *ctx, const char *path)
{
        _cleanup_free_ char *text = NULL;
        const char *vs, *ve;
        if (vt_read_file_max(ctx, path, BOOT_FILE_MAX, &text, NULL) < 0)
                return NULL;
        if (first_line_with(text, (const char *const[]){"version"}, 1, &vs, &ve) &&
            release_valid(vs, (size_t)(ve - vs)))
                return strndup(vs, (size_t)(ve - vs));
        if (first_line_with(text, (const char *const[]){"linux"}, 1, &vs, &ve))
                return release_of_image(vs, (size_t)(ve - vs));
        return NULL;
}

/* The newest name matching pattern in dir (version order, as grub and kernel-install sort). */
static char *newest_in(struct vt_ctx *ctx, const char *dir, const char *pattern)
{
        _cleanup_closedir_ DIR *d = NULL;
        char *best = NULL;
        if (vt_opendir(ctx, dir, &d) < 0)
                return NULL;
        for (struct dirent *de; (de = readdir(d));) {
                if (fnmatch(pattern, de->d_name, 0) != 0 || strstr(de->d_name, "rescue"))
                        continue;
                if (!best || strverscmp(de->d_name, best) > 0) {
                        free(best);
                        best = strdup(de->d_name);
                }
        }
        return best;
}

/* BLS (Fedora, RHEL): grubenv's saved_entry, else the newest entry (blscfg's default 0). */
static char *kernel_of_bls(struct vt_ctx *ctx, char *why, size_t whylen)
{
        static const char *const envs[] = {"/boot/grub2/grubenv", "/boot/grub/grubenv"};
        char path[PATH_MAX];
        for (size_t i = 0; i < ARRAY_SIZE(envs); i++) {
                _cleanup_free_ char *blk = NULL, *saved = NULL;
                size_t len;
                if (vt_read_file_max(ctx, envs[i], VT_GRUBENV_SIZE, &blk, &len) < 0 ||
                    vt_grubenv_get(blk, len, "saved_entry", &saved) < 0 ||
                    !release_valid(saved, strlen(saved)) ||
                    vt_pathf(path, sizeof(path), "/boot/loader/entries/%s.conf", saved) < 0)
                        continue;
                char *rel = release_of_bls_entry(ctx, path);
                if (rel) {
                        snprintf(why, whylen, "saved_entry of %s names %s", envs[i], path);
                        return rel;
                }
        }
        _cleanup_free_ char *name = newest_in(ctx, "/boot/loader/entries", "*.conf");
        if (!name || vt_pathf(path, sizeof(path), "/boot/loader/entries/%s", name) < 0)
                return NULL;
        char *rel = release_of_bls_entry(ctx, path);
        if (rel)
                snprintf(why, whylen, "the newest boot entry, %s", path);
        return rel;
}

/* grub.cfg (Debian, SUSE, openEuler's ESP): the first menu entry's kernel, what GRUB_DEFAULT=0
 * boots. */
static char *kernel_of_grub_cfg(struct vt_ctx *ctx, char *why, size_t whylen)
{
        static const char *const linux_cmds[] = {"linux", "linuxefi", "linux16"};
        char efi[PATH_MAX] = "";
        _cleanup_free_ char *vendor = newest_in(ctx, "/boot/efi/EFI", "[!.]*");
        if (vendor)
                snprintf(efi, sizeof(efi), "/boot/efi/EFI/%s/grub.cfg", vendor);
        const char *const cfgs[] = {"/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", efi};
        for (size_t i = 0; i < ARRAY_SIZE(cfgs) && cfgs[i][0]; i++) {
                _cleanup_free_ char *text = NULL;
                const char *vs, *ve;
                if (vt_read_file_max(ctx, cfgs[i], BOOT_FILE_MAX, &text, NULL) < 0 ||
                    !first_line_with(text, linux_cmds, ARRAY_SIZE(linux_cmds), &vs, &ve))
                        continue;
                char *rel = release_of_image(vs, (size_t)(ve - vs));
                if (rel) {
                        snprintf(why, whylen, "the first menu entry of %s boots %.*s", cfgs[i],
                                 (int)(ve - vs), vs);
                        return rel;
                }
        }
        return NULL;
}

static char *kernel_newest_vmlinuz(struct vt_ctx *ctx, char *why, size_t whylen)
{
        _cleanup_free_ char *name = newest_in(ctx, "/boot", "vmlinuz-*");
        char *rel = name ? release_of_image(name, strlen(name)) : NULL;
        if (rel)
                snprintf(why, whylen, "the newest kernel in /boot, /boot/%s", name);
        return rel;
}

/* How an image's kernel is found, in order: what its boot loader starts, else the newest. */
static const struct {
        const char *source;
        char *(*find)(struct vt_ctx *ctx, char *why, size_t whylen);
} image_kernels[] = {
        {"boot-entry", kernel_of_bls},
        {"boot-entry", kernel_of_grub_cfg},
        {"newest-vmlinuz", kernel_newest_vmlinuz},
};

/*
 * The kernel the facts are about: the running one (osrelease, or uname on the live system;
 * a captured tree keeps its osrelease), else the image's (its boot loader's default entry, else
 * the newest /boot/vmlinuz-*). Says which and why.
 */
static void add_kernel(struct vt_ctx *ctx, json_object *v)
{
        _cleanup_free_ char *release = NULL;
        const char *source = NULL;
        char why[PATH_MAX + 128] = "";
        struct utsname u;
        if (vt_facts_read_attr(ctx, v, "/proc/sys/kernel/osrelease", &release) >= 0) {
                source = "osrelease";
                snprintf(why, sizeof(why), "/proc/sys/kernel/osrelease: the running kernel's");
        } else if (ctx->live && uname(&u) == 0 && (release = strdup(u.release))) {
                source = "uname";
                snprintf(why, sizeof(why), "uname(2): the running kernel");
        }
        for (size_t i = 0; !release && !ctx->live && i < ARRAY_SIZE(image_kernels); i++)
                if ((release = image_kernels[i].find(ctx, why, sizeof(why))))
                        source = image_kernels[i].source;
        if (release && !streq(source, "osrelease") && !streq(source, "uname")) {
                /* what the other facts read for this kernel, present or not */
                char path[PATH_MAX];
                static const char *const files[] = {"/lib/modules/", "/boot/config-"};
                for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                        size_t n = strlen(why);
                        snprintf(path, sizeof(path), "%s%s", files[i], release);
                        snprintf(why + n, sizeof(why) - n, "; %s %s", path,
                                 vt_exists(ctx, path) ? "present" : "absent");
                }
        }
        vt_json_add_str(v, "kernel_release", release);
        vt_json_add_str(v, "kernel_release_source", source);
        vt_json_add_str(v, "kernel_release_why", release ? why : NULL);
}

int vt_virt_detect(struct vt_ctx *ctx, json_object *facts)
{
        json_object *v = vt_facts_module_new(facts, "virt");
        add_arch(ctx, v);
        add_kernel(ctx, v);
        /* containers and offline images: every sysfs fact below is then unknown, not absent */
        json_object_object_add(v, "sysfs", json_object_new_boolean(vt_exists(ctx, "/sys/devices")));
        add_hypervisor(ctx, v);
        add_cmdline(ctx, v);
        add_vcpus(ctx, v);
        add_steal(ctx, v);
        return 0;
}

const struct vt_module vt_module_virt = {
        .name = "virt", .detect = vt_virt_detect, .plan_input = true};
