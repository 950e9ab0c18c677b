/* Readiness for systemd (Type=notify): the sd_notify datagram, without linking libsystemd. */
#include <sys/socket.h>
#include <sys/un.h>
#include "daemon.h"

int vt_notify(const char *state)
{
        const char *addr = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t n;

        if (!addr || !*addr)
                return 0;
        n = strlen(addr);
        if ((addr[0] != '/' && addr[0] != '@') || n >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, addr, n);
        if (addr[0] == '@')
                sa.sun_path[0] = '\0'; /* abstract namespace */

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        /* Never waits: a manager too busy to read its socket must not hold up our stop. */
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
                   len) < 0)
                return -errno;
        return 0;
}
