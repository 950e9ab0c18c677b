/* What the channel's test stand-ins (fake_guests, hostile_guest) share: a listening socket. */
#pragma once

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A non-blocking unix stream socket listening at path (replacing what is there); -1 on error. */
static inline int vt_stand_in_listen(const char *path, int backlog)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        unlink(path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}
