/* virtune plan|apply|verify|revert|status (placeholder until the tuner is written). */
#include "../modules/tune.h"
#include "cli.h"

static int todo(struct vt_cli *cli, int argc, char **argv)
{
        int i = vt_cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL, cli->command);
        if (i < 0)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        return vt_cli_errno_exit(cli, -EOPNOTSUPP, cli->command);
}

int vt_cmd_plan(struct vt_cli *cli, int argc, char **argv)
{
        return todo(cli, argc, argv);
}

int vt_cmd_apply(struct vt_cli *cli, int argc, char **argv)
{
        return todo(cli, argc, argv);
}

int vt_cmd_verify(struct vt_cli *cli, int argc, char **argv)
{
        return todo(cli, argc, argv);
}

int vt_cmd_revert(struct vt_cli *cli, int argc, char **argv)
{
        return todo(cli, argc, argv);
}

int vt_cmd_status(struct vt_cli *cli, int argc, char **argv)
{
        return todo(cli, argc, argv);
}
