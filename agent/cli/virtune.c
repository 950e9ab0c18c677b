/* virtune: detect, plan, apply, verify and revert the guest's virtualization tuning. */
#include <locale.h>
#include "log.h"
#include "version.h"
#include "cli.h"

struct vt_command {
        const char *name;
        vt_cmd_fn fn;
        const char *summary;
};

/* One line per subcommand. */
static const struct vt_command commands[] = {
        {"detect", vt_cmd_detect, "show what this guest is (virtio, cpuidle, TPM, ...)"},
        {"plan", vt_cmd_plan, "show the changes the policy wants; writes nothing"},
        {"apply", vt_cmd_apply, "make the changes and record them for revert"},
        {"verify", vt_cmd_verify, "exit 0 when the system matches the policy, 1 with the drift"},
        {"revert", vt_cmd_revert, "undo every apply still in force (--last: the newest)"},
        {"status", vt_cmd_status, "policy in force, last apply, pending reboot, drift"},
        {"cmdline", vt_cmd_cmdline, "show or edit the kernel command line of the boot config"},
        {"pcrs", vt_cmd_pcrs, "read the TPM's PCRs"},
        {"quote", vt_cmd_quote, "have the TPM sign a quote over a nonce"},
        {"eventlog", vt_cmd_eventlog, "print the measured-boot (or IMA) event log"},
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: virtune [--version] [--help] COMMAND [OPTIONS]\n\n"
                   "Tunes a KVM/QEMU Linux guest after the openEuler and SUSE guides.\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
        fprintf(f,
                "\n'virtune COMMAND --help' for a command's options; virtune(8) for more.\n"
                "Exit status: 0 ok, 1 failure (or drift, for verify), 2 usage or config error.\n");
}

int main(int argc, char **argv)
{
        setlocale(LC_ALL, "C");
        vt_log_init_from_env();
        if (argc < 2) {
                usage(stderr);
                return VT_EXIT_USAGE;
        }
        const char *name = argv[1];
        if (streq(name, "--help") || streq(name, "-h") || streq(name, "help")) {
                usage(stdout);
                return VT_EXIT_OK;
        }
        if (streq(name, "--version") || streq(name, "-V")) {
                printf("virtune %s\n", VT_VERSION);
                return VT_EXIT_OK;
        }
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name)) {
                        struct vt_cli cli = {.prog = "virtune", .command = name};
                        return commands[i].fn(&cli, argc - 1, argv + 1);
                }
        log_error("virtune: unknown command '%s' (see virtune --help)", name);
        return VT_EXIT_USAGE;
}
