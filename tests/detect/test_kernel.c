/* facts.kernel on temp trees: each token's evidence (modinfo record, module section, config
 * line, family) or what is missing, and the tokens virtune owns. */
#include <elf.h>
#include <sys/inotify.h>
#include "../lib/testlib.h"
#include "ctx.h"
#include "module.h"
#include "owned.h"
#include "strv.h"

#define REL "6.1.0-57-cloud-amd64"

static json_object *detect(const char *root)
{
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        json_object *facts = json_object_new_object(), *k;
        assert_int_equal(vt_virt_detect(ctx, facts), 0);
        assert_int_equal(vt_kernel_detect(ctx, facts), 0);
        assert_true(json_object_object_get_ex(facts, "kernel", &k));
        json_object_get(k);
        json_object_put(facts);
        return k;
}

static const char *token(json_object *k, const char *key, const char *field)
{
        json_object *t = json_object_object_get(json_object_object_get(k, "tokens"), key);
        assert_non_null(t);
        return json_object_get_string(json_object_object_get(t, field));
}

/* Writes root/rel with len bytes (NULs included). */
static void write_bytes(const char *root, const char *rel, const void *data, size_t len)
{
        vt_test_write(root, rel, "");
        _cleanup_free_ char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
}

static char *x86_root(void)
{
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "proc/sys/kernel/osrelease", REL "\n");
        vt_test_write(root, "proc/sys/kernel/arch", "x86_64\n");
        return root;
}

static void test_kernel_builtin_modinfo_record_is_the_evidence(void **state)
{
        _cleanup_test_root_ char *root = x86_root();
        static const char info[] = "kvm.parm=halt_poll_ns:x\0cpuidle_haltpoll.file=drivers/cpuidle/"
                                   "cpuidle-haltpoll\0cpuidle_haltpoll.parm=force:Load "
                                   "unconditionally\0cpuidle_haltpoll.parmtype=force:bool\0";
        write_bytes(root, "lib/modules/" REL "/modules.builtin.modinfo", info, sizeof(info) - 1);
        json_object *k = detect(root);
        assert_string_equal(token(k, "cpuidle_haltpoll.force", "evidence"),
                            "/lib/modules/" REL "/modules.builtin.modinfo:4: "
                            "cpuidle_haltpoll.parmtype=force:bool");
        assert_null(token(k, "cpuidle_haltpoll.force", "missing"));
        json_object_put(k);
}

/* A minimal ELF64 relocatable with a .modinfo section, as a module file is. */
static void write_module(const char *root, const char *rel, const char *modinfo, size_t len)
{
        static const char shstr[] = "\0.modinfo\0.shstrtab\0";
        size_t off_info = sizeof(Elf64_Ehdr), off_str = off_info + len,
               off_sh = (off_str + sizeof(shstr) + 7) & ~(size_t)7; /* aligned, as linkers do */
        size_t total = off_sh + 3 * sizeof(Elf64_Shdr);
        _cleanup_free_ char *buf = calloc(1, total);
        assert_non_null(buf);
        Elf64_Ehdr *h = (Elf64_Ehdr *)buf;
        memcpy(h->e_ident, ELFMAG, SELFMAG);
        h->e_ident[EI_CLASS] = ELFCLASS64;
        h->e_ident[EI_DATA] = ELFDATA2LSB;
        h->e_type = ET_REL;
        h->e_shoff = off_sh;
        h->e_shentsize = sizeof(Elf64_Shdr);
        h->e_shnum = 3;
        h->e_shstrndx = 2;
        memcpy(buf + off_info, modinfo, len);
        memcpy(buf + off_str, shstr, sizeof(shstr));
        Elf64_Shdr *sh = (Elf64_Shdr *)(buf + off_sh);
        sh[1] = (Elf64_Shdr){
                .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_offset = off_info, .sh_size = len};
        sh[2] = (Elf64_Shdr){.sh_name = 10,
                             .sh_type = SHT_STRTAB,
                             .sh_offset = off_str,
                             .sh_size = sizeof(shstr)};
        write_bytes(root, rel, buf, total);
}

static void test_kernel_module_file_parameter_is_the_evidence(void **state)
{
        _cleanup_test_root_ char *root = x86_root();
        static const char info[] = "license=GPL\0parm=force:Load unconditionally\0"
                                   "parmtype=force:bool\0name=cpuidle_haltpoll\0";
        write_module(root, "lib/modules/" REL "/kernel/drivers/cpuidle/cpuidle-haltpoll.ko", info,
                     sizeof(info) - 1);
        vt_test_write(root, "lib/modules/" REL "/modules.dep",
                      "kernel/drivers/block/virtio_blk.ko:\n"
                      "kernel/drivers/cpuidle/cpuidle-haltpoll.ko:\n");
        json_object *k = detect(root);
        assert_string_equal(token(k, "cpuidle_haltpoll.force", "evidence"),
                            "/lib/modules/" REL "/kernel/drivers/cpuidle/cpuidle-haltpoll.ko:3: "
                            "parmtype=force:bool");
        json_object_put(k);
}

static void test_kernel_without_the_driver_says_what_is_missing(void **state)
{
        _cleanup_test_root_ char *root = x86_root();
        vt_test_write(root, "lib/modules/" REL "/modules.dep",
                      "kernel/drivers/block/virtio_blk.ko:\n");
        vt_test_write(root, "boot/config-" REL,
                      "CONFIG_X86_64=y\n# CONFIG_PARAVIRT_SPINLOCKS is not set\n");
        json_object *k = detect(root);
        assert_null(token(k, "cpuidle_haltpoll.force", "evidence"));
        assert_string_equal(token(k, "cpuidle_haltpoll.force", "missing"),
                            "kernel " REL " has no cpuidle_haltpoll driver (modules.builtin, "
                            "modules.dep, CONFIG_HALTPOLL_CPUIDLE) nor a cpuidle_haltpoll.force "
                            "parameter (modinfo, /sys/module)");
        assert_null(token(k, "nopvspin", "evidence"));
        assert_string_equal(token(k, "nopvspin", "missing"),
                            "CONFIG_PARAVIRT_SPINLOCKS=y is not set in /boot/config-" REL);
        assert_string_equal(token(k, "arm_pvspin", "missing"),
                            "it exists on aarch64 kernels only, kernel " REL " is x86_64");
        json_object_put(k);
}

static void test_kernel_config_line_is_the_evidence_for_nopvspin(void **state)
{
        _cleanup_test_root_ char *root = x86_root();
        vt_test_write(root, "boot/config-" REL,
                      "CONFIG_X86_64=y\nCONFIG_SMP=y\nCONFIG_PARAVIRT_SPINLOCKS=y\n");
        json_object *k = detect(root);
        assert_string_equal(token(k, "nopvspin", "evidence"),
                            "/boot/config-" REL ":3: CONFIG_PARAVIRT_SPINLOCKS=y");
        json_object_put(k);
}

static void test_kernel_openeuler_family_knows_arm_pvspin_and_debian_does_not(void **state)
{
        static const struct {
                const char *release;
                bool known;
        } kernels[] = {{"5.10.0-60.18.0.50.oe2203.aarch64", true}, {"6.1.0-57-cloud-arm64", false}};
        for (size_t i = 0; i < ARRAY_SIZE(kernels); i++) {
                _cleanup_test_root_ char *root = vt_test_mkdtemp();
                char path[128];
                vt_test_write(root, "proc/sys/kernel/osrelease", kernels[i].release);
                vt_test_write(root, "proc/sys/kernel/arch", "aarch64\n");
                snprintf(path, sizeof(path), "boot/config-%s", kernels[i].release);
                vt_test_write(root, path, "CONFIG_PARAVIRT_SPINLOCKS=y\n");
                json_object *k = detect(root);
                const char *ev = token(k, "arm_pvspin", "evidence");
                if (kernels[i].known) {
                        assert_non_null(ev);
                        assert_non_null(strstr(ev, "openEuler"));
                        assert_non_null(strstr(ev, ":1: CONFIG_PARAVIRT_SPINLOCKS=y"));
                } else {
                        assert_null(ev);
                        assert_string_equal(token(k, "arm_pvspin", "missing"),
                                            "kernel 6.1.0-57-cloud-arm64 is not openEuler's");
                }
                json_object_put(k);
        }
}

/* An image whose kernel lists the driver (modules.builtin) or sets its option: the driver's
 * own parameter is known without modinfo. */
static void test_kernel_driver_listing_or_config_is_the_evidence(void **state)
{
        _cleanup_test_root_ char *root = x86_root();
        vt_test_write(root, "lib/modules/" REL "/modules.builtin",
                      "kernel/drivers/block/loop.ko\nkernel/drivers/cpuidle/cpuidle-haltpoll.ko\n");
        json_object *k = detect(root);
        assert_string_equal(token(k, "cpuidle_haltpoll.force", "evidence"),
                            "/lib/modules/" REL "/modules.builtin:2: "
                            "kernel/drivers/cpuidle/cpuidle-haltpoll.ko (the cpuidle_haltpoll "
                            "driver; force is its parameter)");
        json_object_put(k);
        vt_test_root_free(root);
        root = x86_root();
        vt_test_write(root, "boot/config-" REL, "CONFIG_CPU_IDLE=y\nCONFIG_HALTPOLL_CPUIDLE=m\n");
        k = detect(root);
        assert_string_equal(token(k, "cpuidle_haltpoll.force", "evidence"),
                            "/boot/config-" REL ":2: CONFIG_HALTPOLL_CPUIDLE=m");
        json_object_put(k);
}

static void test_owned_tokens_round_trip_and_disappear_when_empty(void **state)
{
        _cleanup_test_root_ char *root = vt_test_mkdtemp();
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        assert_int_equal(vt_owned_tokens_set(ctx, "nopvspin", "nopvspin"), 0);
        assert_int_equal(
                vt_owned_tokens_set(ctx, "cpuidle_haltpoll.force", "cpuidle_haltpoll.force=Y"), 0);
        json_object *k = detect(root);
        assert_string_equal(json_object_to_json_string(json_object_object_get(k, "owned")),
                            "[ \"nopvspin\", \"cpuidle_haltpoll.force=Y\" ]");
        json_object_put(k);
        assert_int_equal(vt_owned_tokens_set(ctx, "nopvspin", NULL), 0);
        _cleanup_free_ char *text = vt_test_read(root, "var/lib/virtune/cmdline-owned");
        assert_non_null(strstr(text, "\ncpuidle_haltpoll.force=Y\n"));
        assert_null(strstr(text, "nopvspin\n"));
        assert_int_equal(vt_owned_tokens_set(ctx, "cpuidle_haltpoll.force", NULL), 0);
        assert_null(vt_test_read(root, "var/lib/virtune/cmdline-owned"));
}

/* IN_OPEN events on root/rel while a whole plan's detection runs. */
static unsigned opens_during_plan_detect(const char *root, const char *rel)
{
        _cleanup_free_ char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
        _cleanup_close_ int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        assert_true(in >= 0);
        /* closes too: inotify merges an event into an unread one just like it */
        assert_true(inotify_add_watch(in, p, IN_OPEN | IN_CLOSE_NOWRITE) >= 0);
        _cleanup_ctx_ struct vt_ctx *ctx = vt_test_ctx(root);
        _cleanup_json_ json_object *facts = NULL;
        assert_int_equal(vt_detect_for_plan(ctx, &facts), 0);
        unsigned n = 0;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        for (ssize_t k; (k = read(in, buf, sizeof(buf))) > 0;)
                for (char *e = buf; e < buf + k;
                     e += sizeof(struct inotify_event) + ((struct inotify_event *)e)->len)
                        n += (((struct inotify_event *)e)->mask & IN_OPEN) != 0;
        return n;
}

/* kernel, haltpoll and pvspin each ask the config and modinfo: one detection opens each once. */
static void test_one_detection_opens_the_kernel_config_and_modinfo_once(void **state)
{
        (void)state;
        char *root = vt_test_mkdtemp();
        vt_test_write(root, "proc/sys/kernel/osrelease", REL "\n");
        vt_test_write(root, "boot/config-" REL,
                      "CONFIG_PARAVIRT_SPINLOCKS=y\nCONFIG_HALTPOLL_CPUIDLE=y\n"
                      "# CONFIG_KVM_GUEST is not set\n");
        static const char modinfo[] = "cpuidle_haltpoll.parmtype=force:bool\0";
        write_bytes(root, "lib/modules/" REL "/modules.builtin.modinfo", modinfo,
                    sizeof(modinfo) - 1);
        vt_test_write(root, "var/lib/dpkg/status",
                      "Package: qemu-guest-agent\nStatus: install ok installed\n"
                      "Version: 1:7.2+dfsg-7\n\n");
        vt_test_write(root, "sys/class/misc/hw_random/rng_available", "virtio_rng.0 \n");
        vt_test_write(root, "sys/class/misc/hw_random/rng_quality", "0\n");
        assert_int_equal(opens_during_plan_detect(root, "boot/config-" REL), 1);
        assert_int_equal(
                opens_during_plan_detect(root, "lib/modules/" REL "/modules.builtin.modinfo"), 1);
        /* qga (its version) and rng (rngd's flavour) both ask dpkg */
        assert_int_equal(opens_during_plan_detect(root, "var/lib/dpkg/status"), 1);
        vt_test_root_free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kernel_builtin_modinfo_record_is_the_evidence),
                cmocka_unit_test(test_kernel_module_file_parameter_is_the_evidence),
                cmocka_unit_test(test_kernel_without_the_driver_says_what_is_missing),
                cmocka_unit_test(test_kernel_config_line_is_the_evidence_for_nopvspin),
                cmocka_unit_test(test_kernel_openeuler_family_knows_arm_pvspin_and_debian_does_not),
                cmocka_unit_test(test_kernel_driver_listing_or_config_is_the_evidence),
                cmocka_unit_test(test_owned_tokens_round_trip_and_disappear_when_empty),
                cmocka_unit_test(test_one_detection_opens_the_kernel_config_and_modinfo_once),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
