/* virtune detect: read the system into facts and print them. */
#include "../modules/log.h"
#include "../modules/module.h"
#include "cli.h"

int vt_cmd_detect(struct vt_cli *cli, int argc, char **argv)
{
        cli->no_policy = true; /* detect reads the system, not the policy */
        int i = vt_cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL,
                             "detect [--root DIR] [--json]\n\n"
                             "Prints the facts: hypervisor, virtio devices, cpuidle and haltpoll,\n"
                             "PV spinlocks, disks and I/O schedulers, hw RNG, qemu-ga, TPM.\n");
        if (i < 0)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        if (i < argc) {
                log_error("virtune detect: unexpected argument '%s'", argv[i]);
                return VT_EXIT_USAGE;
        }
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        if (vt_cli_ctx(cli, &ctx) < 0)
                return VT_EXIT_USAGE;
        _cleanup_json_ json_object *facts = NULL;
        int r = vt_detect_all(ctx, &facts);
        if (r < 0)
                return VT_EXIT_FAIL;
        vt_cli_print(cli, facts);
        return VT_EXIT_OK;
}
