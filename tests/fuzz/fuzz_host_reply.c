/* Fuzz target: virtune-host reading a fake guest's replies and what it does with their values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "host.h"
#include "log.h"
#include "render.h"
#include "json_strict.h"
#include "fuzz_text.h"
#ifdef VT_FUZZ_QUOTE
#include "host_verify.h"
#endif

/*
 * The input: byte 0 picks what the host does with the reply's value (bits 0-1: render it as
 * text, print it as JSON, print it as PCR values, verify it as the event log of a real quote)
 * and where the first segment is cut in two (bits 2-7); then what the guest sends after the
 * sync request, a 0xFE byte, and what it sends after the command's request. "$0" and "$1" in
 * them stand for the ids of the two requests (random, as virtune-host draws them).
 *
 * The connection's reading half runs as vt_host_conn_open and vt_host_conn_call run it (the
 * same reader, sync, id matching and parse budget), fed from the input instead of a socket.
 */
enum { DO_RENDER, DO_JSON, DO_PCRS, DO_VERIFY };

#ifdef VT_FUZZ_QUOTE
static json_object *quote;
static const uint8_t nonce[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
#endif

static void cleanup(void)
{
#ifdef VT_FUZZ_QUOTE
        json_object_put(quote);
#endif
}

/* The segment with the ids filled in. */
static char *fill(const uint8_t *s, size_t n, const int64_t *ids, size_t *len)
{
        char *out = malloc(n * 10 + 1);
        size_t k = 0;
        if (!out)
                abort();
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '$' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
                        k += (size_t)sprintf(out + k, "%lld", (long long)ids[s[++i] - '0']);
                        continue;
                }
                out[k++] = (char)s[i];
        }
        *len = k;
        return out;
}

static void check_error(int r, const struct vt_host_conn *c)
{
        if (r < 0 && (r != -EMSGSIZE && r != -E2BIG))
                abort();
        if (r < 0 && !c->synced)
                abort(); /* what others sent before our sync is not ours to refuse */
}

static void use_value(int what, json_object *value)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                abort();
        if (what == DO_JSON) {
                /* virtune-host --json prints the value so: one strict JSON text */
                fputs(json_object_to_json_string_ext(value, JSON_C_TO_STRING_PRETTY |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE),
                      f);
                fclose(f);
                if (!json_strict_valid(text, len, VT_PROTO_MAX_DEPTH + 1))
                        abort();
                free(text);
                return;
        }
#ifdef VT_FUZZ_QUOTE
        if (what == DO_PCRS) {
                int r = vt_host_pcrs_text(f, value);
                if (r < 0 && r != -EBADMSG)
                        abort();
        } else if (what == DO_VERIFY) {
                json_object *report = NULL, *ok;
                if (vt_host_verify(quote, nonce, sizeof(nonce), value, NULL, &report) != 0 ||
                    !json_object_object_get_ex(report, "ok", &ok))
                        abort();
                fputs(json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN), f);
                json_object_put(report);
        } else
#endif
                vt_render_text(f, value);
        fclose(f);
        fuzz_check_text(text, len, what != DO_VERIFY);
        free(text);
}

/* The guest's two segments through the reading half, as open and call see them. */
static void converse(struct vt_host_conn *c, const uint8_t *data, size_t size)
{
        int64_t ids[2] = {0, 0};
        json_object *v, *value;
        const char *class, *desc;
        size_t len0, len1;
        int what = data[0] & 3;
        const uint8_t *seg = data + 1, *sep = memchr(seg, 0xFE, size - 1);
        size_t n0 = sep ? (size_t)(sep - seg) : size - 1;

        ids[0] = vt_host_conn_next_id(c);
        _cleanup_free_ char *s0 = fill(seg, n0, ids, &len0);
        size_t cut = (size_t)(data[0] >> 2) * len0 / 63;
        int r = vt_host_conn_feed(c, s0, cut);
        if (r >= 0)
                r = vt_host_conn_feed(c, s0 + cut, len0 - cut);
        check_error(r, c);
        if (r < 0 || !c->synced)
                return;
        ids[1] = vt_host_conn_next_id(c);
        if (c->reply)
                abort();
        _cleanup_free_ char *s1 = sep ? fill(sep + 1, size - 1 - n0 - 1, ids, &len1) : NULL;
        r = s1 ? vt_host_conn_feed(c, s1, len1) : 0;
        check_error(r, c);
        if (r < 0 || !c->reply)
                return;

        /* The oracle, apart from the parser under test: the reply is the answer to our request,
         * it reads back as strict JSON (json_strict.h), within the parse budget it passed. */
        size_t units = 0, n;
        const char *plain = json_object_to_json_string_length(c->reply, JSON_C_TO_STRING_PLAIN, &n);
        if (!json_object_object_get_ex(c->reply, "id", &v) ||
            !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != ids[1] ||
            !plain || !json_strict_units(plain, n, VT_PROTO_MAX_DEPTH + 1, &units) ||
            units > VT_HOST_REPLY_UNITS_MAX)
                abort();
        if (vt_host_reply_value(c->reply, &value, &class, &desc) == 0)
                use_value(what, value);
        else if (!class || !desc)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_host_conn c;

        if (size == 0)
                return 0;
        vt_log_set_level(LOG_ERR);
#ifdef VT_FUZZ_QUOTE
        if (!quote) {
                quote = json_object_from_file(VT_FUZZ_QUOTE);
                if (!quote)
                        abort();
                atexit(cleanup);
        }
#endif
        vt_host_conn_init(&c, 60000);
        converse(&c, data, size);
        vt_host_conn_close(&c);
        return 0;
}
