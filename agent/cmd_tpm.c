/* virtune pcrs|quote (placeholder until the TPM code is written). */
#include "cli.h"

int vt_cmd_pcrs(struct vt_cli *cli, int argc, char **argv)
{
        int i = vt_cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL, "pcrs [--bank B] [--json]\n");
        if (i < 0)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        return vt_cli_errno_exit(cli, -EOPNOTSUPP, "pcrs");
}

int vt_cmd_quote(struct vt_cli *cli, int argc, char **argv)
{
        int i = vt_cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL, "quote --nonce HEX\n");
        if (i < 0)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        return vt_cli_errno_exit(cli, -EOPNOTSUPP, "quote");
}
