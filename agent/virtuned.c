/* virtuned: the guest daemon (placeholder until the channel is written). */
#include "../modules/log.h"
#include "version.h"

int main(int argc, char **argv)
{
        (void)argc, (void)argv;
        vt_log_init_from_env();
        log_error("virtuned %s: not implemented yet", VT_VERSION);
        return 1;
}
