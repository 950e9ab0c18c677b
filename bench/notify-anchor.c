/* bench/notify-anchor: the cheapest Type=notify daemon, the anchor of exec to READY=1
 * (bench/image). */
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Sends READY=1 to $NOTIFY_SOCKET, then waits for a signal: its main process stays, so systemd
 * takes the notification (a sender that exited at once, as systemd-notify, may be dropped).
 * Built static by bench/image, so the loader has nothing to map. */
int main(void)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (!path || strlen(path) >= sizeof(sa.sun_path))
                return 1;
        memcpy(sa.sun_path, path, strlen(path));
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        static const char msg[] = "READY=1";
        if (fd < 0 ||
            sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sa,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path))) < 0)
                return 1;
        pause();
        return 0;
}
