/* Fuzz target: the channel's reader and dispatcher on hostile bytes; every reply is valid JSON. */
#include <stdint.h>
#include "proto.h"
#include "policy.h"
#include "json_strict.h"

static struct vt_ctx *ctx;
static char root[] = "/tmp/vt-fuzz-proto-XXXXXX";

static void cleanup(void)
{
        vt_ctx_free(ctx);
        rmdir(root);
}

static void check_reply(enum vt_proto_event ev, const char *buf, size_t len, void *userdata)
{
        size_t n = 0;
        char *reply = vt_proto_dispatch(ctx, ev, buf, len, &n);
        if (!reply)
                return;
        /* The oracle, which shares no code with the parser under test: one line, optionally
         * after 0xFF, one strict JSON text (json_strict.h), a return or an error object. */
        if (getenv("VT_FUZZ_DEBUG"))
                fprintf(stderr, "reply: %.*s", (int)n, reply);
        size_t off = (unsigned char)reply[0] == VT_PROTO_DELIM ? 1 : 0;
        const char *line = reply + off;
        if (n <= off || reply[n - 1] != '\n' || memchr(line, '\n', n - off - 1) ||
            !json_strict_valid(line, n - off - 1, VT_PROTO_MAX_DEPTH + 2) ||
            (strncmp(line, "{\"return\":", 10) != 0 &&
             strncmp(line, "{\"error\":{\"class\":\"", 19) != 0) ||
            n > VT_PROTO_MAX_REPLY + 1)
                abort();
        free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_proto_reader r;

        if (!ctx) {
                /* An empty root with the default policy: nothing to read, nothing allowed to
                 * change. */
                if (!mkdtemp(root) || vt_ctx_new(root, &ctx) < 0)
                        abort();
                ctx->policy = vt_policy_new();
                atexit(cleanup);
        }
        /* The first byte picks where the stream is cut in two: splits must not matter. */
        size_t cut = size ? data[0] % (size + 1) : 0;
        vt_proto_reader_init(&r);
        vt_proto_reader_feed(&r, data, cut, check_reply, NULL);
        vt_proto_reader_feed(&r, data + cut, size - cut, check_reply, NULL);
        vt_proto_reader_done(&r);
        return 0;
}
