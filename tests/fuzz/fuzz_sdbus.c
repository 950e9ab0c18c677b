/* Fuzz target: virtune's hand-written D-Bus client (modules/sys/sdbus.c) reading a "manager". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"
#include "sdbus.h"

/*
 * The input is every byte the manager sends after it accepted the connection: the answer to
 * the EXTERNAL authentication ("OK <guid>\r\n"), then messages (the method's return or error,
 * JobRemoved signals, anything). Byte 0 picks the call: bit 0 set, Reload (daemon-reload);
 * else TryRestartUnit and the wait for its job. The stand-in manager writes the rest, shuts its
 * side and reads what the client wrote until the client closes, so every input ends.
 */
struct feed {
        int listen_fd;
        const uint8_t *data;
        size_t size;
};

static void *manager(void *userdata)
{
        struct feed *f = userdata;
        int fd = accept(f->listen_fd, NULL, NULL);
        if (fd < 0)
                return NULL;
        for (size_t off = 0; off < f->size;) {
                ssize_t n = send(fd, f->data + off, f->size - off, MSG_NOSIGNAL);
                if (n <= 0)
                        break;
                off += (size_t)n;
        }
        shutdown(fd, SHUT_WR);
        char sink[4096];
        while (read(fd, sink, sizeof(sink)) > 0)
                ;
        close(fd);
        return NULL;
}

static int listen_fd = -1;
static char dir[] = "/tmp/fuzz-sdbus.XXXXXX";
static struct sockaddr_un sa = {.sun_family = AF_UNIX};

static void clean_up(void)
{
        unlink(sa.sun_path);
        rmdir(dir);
}

static void set_up(void)
{
        static char address[sizeof("unix:path=") + 108];
        if (!mkdtemp(dir))
                abort();
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/private", dir);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(listen_fd, 4) < 0)
                abort();
        atexit(clean_up); /* the socket stays for the process's life */
        snprintf(address, sizeof(address), "unix:path=%s", sa.sun_path);
        setenv("VIRTUNE_SYSTEMD_BUS", address, 1);
        vt_log_set_level(LOG_EMERG); /* what the client logs of bad input is not the point */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 1u << 16)
                return 0;
        if (listen_fd < 0)
                set_up();
        struct feed f = {.listen_fd = listen_fd, .data = data + 1, .size = size - 1};
        pthread_t th;
        if (pthread_create(&th, NULL, manager, &f) != 0)
                abort();
        if (data[0] & 1)
                (void)vt_sd_daemon_reload();
        else
                (void)vt_sd_try_restart("qemu-guest-agent.service");
        pthread_join(th, NULL);
        return 0;
}
