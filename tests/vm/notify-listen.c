/* vt-notify-listen PATH SECONDS: the NOTIFY_SOCKET end of systemd, for a guest without systemd. */
/*
 * Binds a datagram socket at PATH, prints each message it receives (one line each, as sent),
 * and exits 0 once a message holds the line READY=1, 1 after SECONDS without it, 2 on a usage
 * or socket error. The guest's unit starter (tests/vm/unitctl) runs it before the service.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The sd_notify message limit systemd reads in one go is larger; ours need a line or two. */
#define MSG_MAX 4096

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when the message (newline-separated assignments) has the line READY=1. */
static int has_ready(const char *msg)
{
        for (const char *p = msg; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, "READY=1", 7) == 0 && (p[7] == '\n' || p[7] == '\0'))
                        return 1;
        return 0;
}

int main(int argc, char **argv)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char *end;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: vt-notify-listen PATH SECONDS\n");
                return 2;
        }
        long secs = strtol(argv[2], &end, 10);
        if (*end || secs <= 0 || secs > INT_MAX / 1000) {
                fprintf(stderr, "vt-notify-listen: bad timeout: %s\n", argv[2]);
                return 2;
        }
        memcpy(sa.sun_path, argv[1], strlen(argv[1]));
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "vt-notify-listen: %s: %s\n", argv[1], strerror(errno));
                return 2;
        }
        long long deadline = now_ms() + secs * 1000;
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (;;) {
                long long left = deadline - now_ms();
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        fprintf(stderr, "vt-notify-listen: no READY=1 within %ld s\n", secs);
                        return 1;
                }
                char msg[MSG_MAX + 1];
                ssize_t n = recv(fd, msg, MSG_MAX, 0);
                if (n < 0) {
                        fprintf(stderr, "vt-notify-listen: recv: %s\n", strerror(errno));
                        return 2;
                }
                msg[n] = '\0';
                printf("%s%s", msg, n > 0 && msg[n - 1] == '\n' ? "" : "\n");
                if (has_ready(msg))
                        return 0;
        }
}
