/* vt-policy-check [--root DIR]: loads the policy the way every `virtune --root` command does
 * (vt_cli_ctx) and prints it as JSON; exit 2 with "file:line: why" when it does not parse. */
/* Not built any more: the tests load the policy with `virtune status --root` instead. The file
 * stays only because /work/tools/land cannot land the deletion of a .c file (its clang-format
 * step is given the deleted path); delete it once land filters deleted files. */
#include <stdio.h>
#include "cli.h"
#include "policy.h"

int main(int argc, char **argv)
{
        struct vt_cli cli = {.prog = "vt-policy-check", .command = "check"};
        int i = vt_cli_parse(&cli, argc, argv, NULL, NULL, NULL, NULL, "[--root DIR]\n");
        if (i < 0 || i < argc)
                return i == -2 ? VT_EXIT_OK : VT_EXIT_USAGE;
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        if (vt_cli_ctx(&cli, &ctx) < 0)
                return VT_EXIT_USAGE;
        _cleanup_json_ json_object *j = vt_policy_to_json(ctx->policy);
        cli.json = true;
        vt_cli_print(&cli, j);
        return VT_EXIT_OK;
}
