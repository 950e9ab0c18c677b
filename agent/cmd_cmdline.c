/* virtune cmdline show|set|remove (placeholder until grubcfg is written). */
#include "cli.h"

int vt_cmd_cmdline(struct vt_cli *cli, int argc, char **argv)
{
        int i = vt_cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL,
                             "cmdline show|set KEY[=VAL]|remove KEY [--root DIR] [--dry-run]\n");
        if (i < 0)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        return vt_cli_errno_exit(cli, -EOPNOTSUPP, "cmdline");
}
