/* Fuzz target: virtune-host scan against a fake guest's bytes, over a real socket. */
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "host.h"
#include "log.h"
#include "json_strict.h"
#include "fuzz_text.h"

/*
 * The input: byte 0 picks the output (JSON lines, Prometheus, table; bit 2: libvirt labels;
 * bit 3: JSON lines on a second stream too, as scan --json --prometheus-file writes them),
 * the rest is what the guest sends once it has read the scan's three pipelined requests, with
 * "$0", "$1", "$2" replaced by the ids of guest-sync-delimited, guest-info and virtune-status
 * (random on every run: the scan draws them). The guest then closes its end.
 *
 * The scan is given the socket to ask before its targets are known (prestart, as it has the last
 * scan's) and a resolve() that runs in a thread meanwhile: that thread is the fake guest. It
 * answers, then names two targets, that socket (claimed by the guest already asked) and a
 * domain that is not running.
 */
static char dir[] = "/tmp/vt-fuzz-scan-XXXXXX";
static char sock_path[sizeof(dir) + 16];
static int listen_fd = -1;
static const uint8_t *in_data;
static size_t in_size;

static void cleanup(void)
{
        close(listen_fd);
        unlink(sock_path);
        rmdir(dir);
}

static void setup(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (!mkdtemp(dir))
                abort();
        snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(listen_fd, 4) < 0)
                abort();
        vt_log_set_level(LOG_ERR);
        atexit(cleanup);
}

/* The ids of the requests in the order sent, read with strstr and strtoll (not json-c). */
static size_t request_ids(const char *buf, long long *ids, size_t max)
{
        size_t n = 0;
        for (const char *p = buf; n < max && (p = strstr(p, "\"id\":")); p += 5)
                ids[n++] = strtoll(p + 5, NULL, 10);
        return n;
}

/* The fake guest: reads the three requests, sends the input with the ids filled in, closes. */
static void serve(void)
{
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
                return; /* the scan could not connect: it reports the guest down */
        char req[4096];
        size_t len = 0, lines = 0;
        long long ids[3];
        while (lines < 3) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 5000) != 1)
                        abort(); /* the scan sends all three before it looks up the next */
                ssize_t k = read(fd, req + len, sizeof(req) - 1 - len);
                if (k <= 0)
                        abort();
                for (ssize_t i = 0; i < k; i++)
                        lines += req[len + i] == '\n';
                len += (size_t)k;
        }
        req[len] = '\0';
        if (request_ids(req, ids, 3) != 3)
                abort();
        int sndbuf = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        char *out = malloc(in_size * 8 + 1);
        size_t n = 0;
        if (!out)
                abort();
        for (size_t i = 0; i < in_size; i++) {
                if (in_data[i] == '$' && i + 1 < in_size && in_data[i + 1] >= '0' &&
                    in_data[i + 1] <= '2') {
                        n += (size_t)sprintf(out + n, "%lld", ids[in_data[++i] - '0']);
                        continue;
                }
                out[n++] = (char)in_data[i];
        }
        /* what does not fit the socket's buffer is cut: the scan reads it only after this */
        for (size_t off = 0; off < n;) {
                ssize_t w = send(fd, out + off, n - off, MSG_NOSIGNAL);
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        free(out);
        close(fd);
}

static int resolve(void *userdata, struct vt_host_targets *t, char *err, size_t errlen)
{
        struct pollfd p = {.fd = listen_fd, .events = POLLIN};
        if (poll(&p, 1, 5000) == 1)
                serve();
        return vt_host_targets_add(t, sock_path, "guest-0", "00000000-0000-0000-0000-000000000000",
                                   true) < 0 ||
                               vt_host_targets_add(t, NULL, NULL, NULL, false) < 0
                       ? -ENOMEM
                       : 0;
}

/* One Prometheus text sample or comment line: name{label="value",...} number. */
static void check_prom_line(const char *s, const char *end)
{
        if (*s == '#') {
                if (strncmp(s, "# HELP ", 7) != 0 && strncmp(s, "# TYPE ", 7) != 0)
                        abort();
                return;
        }
        if (!(isalpha((unsigned char)*s) || *s == '_' || *s == ':'))
                abort();
        while (s < end && (isalnum((unsigned char)*s) || *s == '_' || *s == ':'))
                s++;
        if (s < end && *s == '{') {
                s++;
                while (s < end && *s != '}') {
                        while (s < end && (isalnum((unsigned char)*s) || *s == '_'))
                                s++;
                        if (end - s < 2 || s[0] != '=' || s[1] != '"')
                                abort();
                        for (s += 2; s < end && *s != '"'; s++)
                                if (*s == '\\' && (s + 1 >= end || !strchr("\\\"n", *++s)))
                                        abort();
                        if (s >= end)
                                abort();
                        s++;
                        if (s < end && *s == ',')
                                s++;
                }
                if (s >= end)
                        abort();
                s++;
        }
        if (s >= end || *s != ' ')
                abort();
        char num[64];
        size_t k = (size_t)(end - s - 1);
        if (k == 0 || k >= sizeof(num))
                abort();
        memcpy(num, s + 1, k);
        num[k] = '\0';
        char *e;
        strtod(num, &e);
        if (*e)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (listen_fd < 0)
                setup();
        if (size == 0)
                return 0;
        in_data = data + 1;
        in_size = size - 1;
        char *text = NULL, err[256] = "";
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                abort();
        char *const prestart[] = {sock_path};
        struct vt_scan_source src = {.resolve = resolve, .prestart = prestart, .n_prestart = 1};
        struct vt_host_targets t = {};
        char *jtext = NULL;
        size_t jlen = 0;
        FILE *jout = data[0] & 8 ? open_memstream(&jtext, &jlen) : NULL;
        struct vt_scan_opts opts = {.timeout_ms = 10000,
                                    .format = (data[0] & 3) % 3,
                                    .libvirt = data[0] & 4,
                                    .json_out = jout};
        int up = vt_host_scan(&src, &opts, &t, out, err, sizeof(err));
        fclose(out);
        if (jout)
                fclose(jout);
        vt_host_targets_done(&t);
        if (getenv("VT_FUZZ_DEBUG"))
                fprintf(stderr, "up %d\n%s", up, text);
        /* The oracle, apart from the code under test: guest 1 is never up; the output is the
         * format's, line by line (json_strict.h for JSON), with no raw control characters. */
        if (up < 0 || up > 1)
                abort();
        fuzz_check_text(text, len, opts.format == VT_SCAN_TABLE);
        size_t lines = 0;
        for (char *p = text, *nl; p < text + len; p = nl + 1) {
                nl = memchr(p, '\n', (size_t)(text + len - p));
                if (!nl)
                        abort(); /* every line ends */
                /* each guest's line as it completes: guest 1 (no socket) is never up */
                if (opts.format == VT_SCAN_JSON) {
                        size_t k = (size_t)(nl - p);
                        bool one = memmem(p, k, "\"socket\":null", 13) != NULL;
                        bool is_up = memmem(p, k, "\"up\":true", 9) != NULL;
                        if (!json_strict_valid(p, k, 8) || *p != '{' || is_up != (!one && up == 1))
                                abort();
                }
                if (opts.format == VT_SCAN_PROMETHEUS)
                        check_prom_line(p, nl);
                lines++;
        }
        /* one line per guest; a table has its header too */
        if ((opts.format == VT_SCAN_JSON && lines != 2) ||
            (opts.format == VT_SCAN_TABLE && lines != 3))
                abort();
        /* the second stream: one whole JSON line per guest, whatever the first one's format */
        size_t jlines = 0;
        for (char *p = jtext, *nl; jout && opts.format != VT_SCAN_JSON && p < jtext + jlen;
             p = nl + 1, jlines++)
                if (!(nl = memchr(p, '\n', (size_t)(jtext + jlen - p))) ||
                    !json_strict_valid(p, (size_t)(nl - p), 8) || *p != '{')
                        abort();
        if (jout && opts.format != VT_SCAN_JSON && jlines != 2)
                abort();
        free(jtext);
        free(text);
        return 0;
}
