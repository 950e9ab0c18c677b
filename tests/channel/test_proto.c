/* The protocol engine: the reader on split byte streams, the dispatcher's replies and errors. */
#include "../lib/testlib.h"
#include "proto.h"
#include "policy.h"
#include "module.h"
#include "../fuzz/json_strict.h"

/* What the reader handed out, as text: "M:<json>" per message, "L", "D", "R" for events. */
struct events {
        char log[8192];
};

static void record(enum vt_proto_event ev, const char *buf, size_t len, void *userdata)
{
        struct events *e = userdata;
        size_t n = strlen(e->log);
        switch (ev) {
        case VT_PROTO_MESSAGE:
                snprintf(e->log + n, sizeof(e->log) - n, "M:%.*s|", (int)len, buf);
                break;
        case VT_PROTO_TOO_LARGE:
                snprintf(e->log + n, sizeof(e->log) - n, "L|");
                break;
        case VT_PROTO_TOO_DEEP:
                snprintf(e->log + n, sizeof(e->log) - n, "D|");
                break;
        case VT_PROTO_RESET:
                snprintf(e->log + n, sizeof(e->log) - n, "R|");
                break;
        }
}

static const char stream[] =
        "{\"execute\":\"guest-ping\"}\n"
        "  {\"execute\": \"x\", \"arguments\": {\"s\": \"}{\\\"]\", \"a\": [1, [2]]}, \"id\": 7}"
        "{\n\"execute\"\n:\n\"multi-line\"\n}\n"
        "garbage here\n"
        "\xff{\"half\": \xff{\"execute\":\"after-reset\"}";

static const char expected[] =
        "M:{\"execute\":\"guest-ping\"}|"
        "M:{\"execute\": \"x\", \"arguments\": {\"s\": \"}{\\\"]\", \"a\": [1, [2]]}, \"id\": 7}|"
        "M:{\n\"execute\"\n:\n\"multi-line\"\n}|"
        "M:garbage here\n|"
        "R|R|"
        "M:{\"execute\":\"after-reset\"}|";

static void test_reader_splits_stream_at_every_position(void **state)
{
        size_t n = sizeof(stream) - 1;
        for (size_t cut = 0; cut <= n; cut++) {
                struct vt_proto_reader r;
                struct events e = {{0}};
                vt_proto_reader_init(&r);
                assert_int_equal(vt_proto_reader_feed(&r, stream, cut, record, &e), 0);
                assert_int_equal(vt_proto_reader_feed(&r, stream + cut, n - cut, record, &e), 0);
                assert_string_equal(e.log, expected);
                vt_proto_reader_done(&r);
        }
}

static void test_reader_byte_by_byte_matches_whole(void **state)
{
        struct vt_proto_reader r;
        struct events e = {{0}};
        vt_proto_reader_init(&r);
        for (size_t i = 0; i < sizeof(stream) - 1; i++)
                assert_int_equal(vt_proto_reader_feed(&r, stream + i, 1, record, &e), 0);
        assert_string_equal(e.log, expected);
        vt_proto_reader_done(&r);
}

/* Strings are taken in runs (up to the next quote, backslash, newline or 0xFF, and never past
 * the bound): random streams under a small bound give the same events whole as byte by byte. */
static void test_reader_string_runs_match_byte_by_byte(void **state)
{
        static const char alphabet[] = "\"\\\n\xff{}[]a  ";
        unsigned seed = 12;
        for (int round = 0; round < 300; round++) {
                char buf[600];
                size_t n = 1 + (size_t)rand_r(&seed) % sizeof(buf);
                for (size_t i = 0; i < n; i++)
                        buf[i] = alphabet[(size_t)rand_r(&seed) % (sizeof(alphabet) - 1)];
                size_t max = 8 + (size_t)rand_r(&seed) % 120;
                struct vt_proto_reader whole, bytes;
                struct events a = {{0}}, b = {{0}};
                vt_proto_reader_init_max(&whole, max);
                vt_proto_reader_init_max(&bytes, max);
                assert_int_equal(vt_proto_reader_feed(&whole, buf, n, record, &a), 0);
                for (size_t i = 0; i < n; i++)
                        assert_int_equal(vt_proto_reader_feed(&bytes, buf + i, 1, record, &b), 0);
                assert_string_equal(a.log, b.log);
                assert_true(whole.len <= max && whole.len == bytes.len);
                vt_proto_reader_done(&whole);
                vt_proto_reader_done(&bytes);
        }
}

static void test_reader_oversized_request_gives_one_event_and_skips_to_newline(void **state)
{
        struct vt_proto_reader r;
        struct events e = {{0}};
        size_t big = VT_PROTO_MAX_REQUEST + 1000;
        char *buf = malloc(big);
        assert_non_null(buf);
        memset(buf, 'a', big);
        buf[0] = '[';
        buf[1] = '"';
        vt_proto_reader_init(&r);
        /* Fed in uneven pieces to cross the bound inside a chunk. */
        for (size_t off = 0; off < big; off += 777) {
                size_t n = big - off < 777 ? big - off : 777;
                assert_int_equal(vt_proto_reader_feed(&r, buf + off, n, record, &e), 0);
        }
        const char tail[] = "}]\"still skipped\n{\"execute\":\"guest-ping\"}";
        assert_int_equal(vt_proto_reader_feed(&r, tail, sizeof(tail) - 1, record, &e), 0);
        assert_string_equal(e.log, "L|M:{\"execute\":\"guest-ping\"}|");
        assert_true(r.cap <= VT_PROTO_MAX_REQUEST);
        vt_proto_reader_done(&r);
        free(buf);
}

static void test_reader_oversized_request_skips_to_delimiter(void **state)
{
        struct vt_proto_reader r;
        struct events e = {{0}};
        char *buf = malloc(VT_PROTO_MAX_REQUEST + 2);
        assert_non_null(buf);
        memset(buf, ' ', VT_PROTO_MAX_REQUEST + 2);
        buf[0] = '{';
        vt_proto_reader_init(&r);
        assert_int_equal(vt_proto_reader_feed(&r, buf, VT_PROTO_MAX_REQUEST + 2, record, &e), 0);
        assert_int_equal(vt_proto_reader_feed(&r, "\xff[1]", 4, record, &e), 0);
        assert_string_equal(e.log, "L|R|M:[1]|");
        vt_proto_reader_done(&r);
        free(buf);
}

static void test_reader_nesting_deeper_than_32_is_refused(void **state)
{
        struct vt_proto_reader r;
        struct events e = {{0}};
        char ok[2 * VT_PROTO_MAX_DEPTH + 1] = "", deep[2 * VT_PROTO_MAX_DEPTH + 3] = "";
        memset(ok, '[', VT_PROTO_MAX_DEPTH);
        memset(ok + VT_PROTO_MAX_DEPTH, ']', VT_PROTO_MAX_DEPTH);
        memset(deep, '[', VT_PROTO_MAX_DEPTH + 1);
        memset(deep + VT_PROTO_MAX_DEPTH + 1, ']', VT_PROTO_MAX_DEPTH + 1);
        vt_proto_reader_init(&r);
        assert_int_equal(vt_proto_reader_feed(&r, deep, strlen(deep), record, &e), 0);
        assert_int_equal(vt_proto_reader_feed(&r, "\n", 1, record, &e), 0);
        assert_int_equal(vt_proto_reader_feed(&r, ok, strlen(ok), record, &e), 0);
        char want[256];
        snprintf(want, sizeof(want), "D|M:%s|", ok);
        assert_string_equal(e.log, want);
        vt_proto_reader_done(&r);
}

static void test_reader_raw_newline_in_string_ends_the_request(void **state)
{
        struct vt_proto_reader r;
        struct events e = {{0}};
        vt_proto_reader_init(&r);
        const char s[] = "{\"execute\":\"guest-\nping\"}\n{\"execute\":\"guest-ping\"}";
        assert_int_equal(vt_proto_reader_feed(&r, s, sizeof(s) - 1, record, &e), 0);
        assert_string_equal(e.log, "M:{\"execute\":\"guest-\n|M:ping\"}\n|"
                                   "M:{\"execute\":\"guest-ping\"}|");
        vt_proto_reader_done(&r);
}

/* Stray closers are garbage like any other: one text up to the newline, not one per byte. */
static void test_reader_stray_closers_make_one_text_per_line(void **state)
{
        struct vt_proto_reader r;
        struct events e = {{0}};
        vt_proto_reader_init(&r);
        const char s[] = "}}]}\n{\"execute\":\"guest-ping\"}}}\n";
        assert_int_equal(vt_proto_reader_feed(&r, s, sizeof(s) - 1, record, &e), 0);
        assert_string_equal(e.log, "M:}}]}\n|M:{\"execute\":\"guest-ping\"}|M:}}\n|");

        /* 64 KiB of them: one "too large", and the buffer is given back before the next text. */
        memset(&e, 0, sizeof(e));
        char *buf = malloc(VT_PROTO_MAX_REQUEST);
        assert_non_null(buf);
        memset(buf, '}', VT_PROTO_MAX_REQUEST);
        assert_int_equal(vt_proto_reader_feed(&r, buf, VT_PROTO_MAX_REQUEST, record, &e), 0);
        assert_int_equal(vt_proto_reader_feed(&r, "\n[1]", 4, record, &e), 0);
        assert_string_equal(e.log, "L|M:[1]|");
        assert_true(r.cap <= VT_PROTO_BUF_SMALL);
        free(buf);
        vt_proto_reader_done(&r);
}

/* The pull form stops at each event and says how much it took. */
static void test_reader_next_stops_at_each_event(void **state)
{
        struct vt_proto_reader r;
        struct vt_proto_reader_event ev;
        size_t used;
        const char s[] = "[1] \xff[2]";
        vt_proto_reader_init(&r);
        assert_int_equal(vt_proto_reader_next(&r, s, sizeof(s) - 1, &used, &ev), 1);
        assert_int_equal(used, 3);
        assert_int_equal(ev.ev, VT_PROTO_MESSAGE);
        assert_int_equal(ev.len, 3);
        assert_memory_equal(ev.buf, "[1]", 3);
        assert_int_equal(vt_proto_reader_next(&r, s + 3, sizeof(s) - 4, &used, &ev), 1);
        assert_int_equal(used, 2);
        assert_int_equal(ev.ev, VT_PROTO_RESET);
        assert_int_equal(vt_proto_reader_next(&r, s + 5, 2, &used, &ev), 0);
        assert_int_equal(used, 2);
        assert_int_equal(vt_proto_reader_next(&r, s + 7, 1, &used, &ev), 1);
        assert_memory_equal(ev.buf, "[2]", 3);
        vt_proto_reader_done(&r);
}

/* The dispatcher, on a context whose root is an empty directory. */
struct fixture {
        char *root;
        struct vt_ctx *ctx;
};

static struct vt_ctx *ctx_with_policy(void **state, const char *policy_text)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->root = vt_test_mkdtemp();
        assert_int_equal(vt_ctx_new(f->root, &f->ctx), 0);
        f->ctx->policy = vt_policy_new();
        assert_non_null(f->ctx->policy);
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(
                vt_policy_parse(f->ctx->policy, "test.conf", policy_text, err, sizeof(err)), 0);
        *state = f;
        return f->ctx;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        if (!f)
                return 0;
        vt_ctx_free(f->ctx);
        vt_test_root_free(f->root);
        free(f);
        return 0;
}

/* The reply to one request text, as a string without its newline (0xFF shown as "<FF>"). */
static char *ask(struct vt_ctx *ctx, const char *req)
{
        size_t n = 0;
        char *reply = vt_proto_dispatch(ctx, VT_PROTO_MESSAGE, req, strlen(req), &n);
        assert_non_null(reply);
        assert_true(n > 0 && reply[n - 1] == '\n');
        assert_int_equal(strlen(reply), n);
        reply[n - 1] = '\0';
        if ((unsigned char)reply[0] == VT_PROTO_DELIM) {
                char *s;
                assert_true(asprintf(&s, "<FF>%s", reply + 1) > 0);
                free(reply);
                return s;
        }
        return reply;
}

#define assert_reply(ctx, req, want)                                                               \
        do {                                                                                       \
                char *_r = ask(ctx, req);                                                          \
                assert_string_equal(_r, want);                                                     \
                free(_r);                                                                          \
        } while (0)

static void test_dispatch_ping_returns_empty_object_and_echoes_id(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        assert_reply(ctx, "{\"execute\":\"guest-ping\"}", "{\"return\":{}}");
        assert_reply(ctx, "{\"execute\":\"guest-ping\",\"id\":{\"any\":[1,\"x\"]}}",
                     "{\"return\":{},\"id\":{\"any\":[1,\"x\"]}}");
}

static void test_dispatch_sync_echoes_its_argument(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        assert_reply(ctx, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":123456789012}}",
                     "{\"return\":123456789012}");
        assert_reply(ctx, "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":-5}}",
                     "<FF>{\"return\":-5}");
}

static void test_dispatch_unknown_command_is_command_not_found(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        assert_reply(ctx, "{\"execute\":\"guest-exec\",\"id\":1}",
                     "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command "
                     "guest-exec has not been found\"},\"id\":1}");
}

static void test_dispatch_malformed_requests_are_generic_errors(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        static const struct {
                const char *req, *want;
        } cases[] = {
                {"garbage here\n", "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse "
                                   "error at byte 0: unexpected character\"}}"},
                {"{\"execute\":\"guest-ping\"", "{\"error\":{\"class\":\"GenericError\",\"desc\":"
                                                "\"JSON parse error: unexpected end of input\"}}"},
                {"{\"execute\":\"\xc3\x28\"}", "{\"error\":{\"class\":\"GenericError\",\"desc\":"
                                               "\"JSON parse error at byte 12: invalid "
                                               "UTF-8\"}}"},
                {"{\"execute\":\"\xc0\xaf\"}", "{\"error\":{\"class\":\"GenericError\",\"desc\":"
                                               "\"JSON parse error at byte 12: invalid "
                                               "UTF-8\"}}"},
                {"{\"execute\":\"\xed\xa0\x80\"}", "{\"error\":{\"class\":\"GenericError\","
                                                   "\"desc\":\"JSON parse error at byte 12: "
                                                   "invalid UTF-8\"}}"},
                {"[1,2]", "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Expected a JSON "
                          "object with 'execute'\"}}"},
                {"{\"execute\":5,\"id\":2}", "{\"error\":{\"class\":\"GenericError\",\"desc\":"
                                             "\"'execute' must be a string naming a "
                                             "command\"},\"id\":2}"},
                {"{\"execute\":\"guest-ping\",\"arguments\":[]}",
                 "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'arguments' must be an "
                 "object\"}}"},
                {"{\"execute\":\"guest-ping\",\"exec-oob\":1}",
                 "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Unexpected member "
                 "'exec-oob' in request\"}}"},
                {"{\"execute\":\"guest-ping\"} x", "{\"error\":{\"class\":\"GenericError\","
                                                   "\"desc\":\"JSON parse error at byte 25: "
                                                   "unexpected character\"}}"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                assert_reply(ctx, cases[i].req, cases[i].want);
}

static void test_dispatch_checks_argument_schema_strictly(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        assert_reply(ctx, "{\"execute\":\"guest-sync\"}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'id' "
                     "missing\"}}");
        assert_reply(ctx, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":\"1\"}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type "
                     "for 'id', expected: integer\"}}");
        assert_reply(ctx, "{\"execute\":\"guest-ping\",\"arguments\":{\"x\":1}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'x' is "
                     "unexpected\"}}");
        assert_reply(ctx, "{\"execute\":\"virtune-pcr-read\",\"arguments\":{\"pcrs\":[0,\"1\"]}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type "
                     "for 'pcrs[1]', expected: integer\"}}");
        assert_reply(ctx, "{\"execute\":\"virtune-quote\",\"arguments\":{\"nonce\":\"abcd\"}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'nonce' must be 16-64 "
                     "bytes in hex\"}}");
        assert_reply(ctx,
                     "{\"execute\":\"virtune-quote\",\"arguments\":{\"nonce\":"
                     "\"00112233445566778899aabbccddeeXX\"}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'nonce' must be 16-64 "
                     "bytes in hex\"}}");
}

/* Ranges, counts and lengths come from the table: no request out of them reaches a handler. */
static void test_dispatch_checks_ranges_from_the_schema(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "[channel]\nallow-apply = yes\n");
        static const struct {
                const char *req, *desc;
        } cases[] = {
                {"{\"execute\":\"virtune-pcr-read\",\"arguments\":{\"pcrs\":[0,24]}}",
                 "'pcrs[1]' = 24 is not 0-23"},
                {"{\"execute\":\"virtune-pcr-read\",\"arguments\":{\"pcrs\":[-1]}}",
                 "'pcrs[0]' = -1 is not 0-23"},
                {"{\"execute\":\"virtune-pcr-read\",\"arguments\":{\"pcrs\":[0,1,2,3,4,5,6,7,"
                 "8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,0]}}",
                 "'pcrs' must have 0-24 elements"},
                {"{\"execute\":\"virtune-pcr-read\",\"arguments\":{\"banks\":[\"\"]}}",
                 "'banks[0]' must be 1-16 bytes long"},
                {"{\"execute\":\"virtune-eventlog\",\"arguments\":{\"offset\":-1}}",
                 "'offset' = -1 is not 0-9223372036854775807"},
                {"{\"execute\":\"virtune-eventlog\",\"arguments\":{\"ima\":1}}",
                 "Invalid parameter type for 'ima', expected: boolean"},
                {"{\"execute\":\"virtune-quote\",\"arguments\":{\"nonce\":"
                 "\"00112233445566778899aabbccddeeff\",\"pcrs\":\"\"}}",
                 "'pcrs' must be 1-256 bytes long"},
                {"{\"execute\":\"virtune-quote\",\"arguments\":{\"nonce\":\"" /* 65 bytes */
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\"}}",
                 "'nonce' must be 16-64 bytes in hex"},
                {"{\"execute\":\"virtune-apply\",\"arguments\":{\"only\":[]}}",
                 "'only' must have 1-16 elements"},
                {"{\"execute\":\"virtune-apply\",\"arguments\":{\"only\":[\"iosched\",3]}}",
                 "Invalid parameter type for 'only[1]', expected: string"},
                {"{\"execute\":\"virtune-apply\",\"arguments\":{\"only\":[\"iosched\","
                 "\"nope\"]}}",
                 "'only[1]': no tunable module named 'nope'"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char want[512];
                snprintf(want, sizeof(want),
                         "{\"error\":{\"class\":\"GenericError\",\"desc\":\"%s\"}}", cases[i].desc);
                assert_reply(ctx, cases[i].req, want);
        }
}

/* One row per command: every one has its handler here (the worker's link), a schema, a place. */
static void test_command_table_binds_every_row(void **state)
{
        for (size_t i = 0; i < vt_proto_commands_len; i++) {
                const struct vt_proto_command *c = &vt_proto_commands[i];
                assert_non_null(c->fn);
                assert_non_null(c->args);
                assert_ptr_equal(vt_proto_command_find(c->name), c);
                /* Whatever changes the system runs in the worker. */
                if (c->mutating)
                        assert_int_equal(c->where, VT_PROTO_IN_WORKER);
                for (const struct vt_proto_arg *a = c->args; a->name; a++)
                        if (a->kind == VT_PROTO_ARRAY)
                                assert_non_null(a->elem);
        }
        assert_non_null(vt_proto_module_known);
}

/* The --only names are the module table's tunable ones, nothing else (as on the CLI). */
static void test_dispatch_only_takes_the_module_tables_names(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "[channel]\nallow-apply = yes\n");
        for (size_t i = 0; i < vt_modules_len; i++) {
                char req[256];
                snprintf(req, sizeof(req),
                         "{\"execute\":\"virtune-apply\",\"arguments\":{\"dry-run\":true,"
                         "\"only\":[\"%s\"]}}",
                         vt_modules[i]->name);
                char *r = ask(ctx, req);
                if (!strstr(r, "no tunable module named") != !!vt_modules[i]->plan)
                        fail_msg("%s: %s", vt_modules[i]->name, r);
                free(r);
        }
}

/* What json-c would let through: each is refused where it enters, with its byte. */
static void test_dispatch_refuses_non_finite_numbers_and_integers_past_int64(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        static const struct {
                const char *req, *desc;
        } cases[] = {
                {"{\"execute\":\"guest-ping\",\"id\":NaN}", "at byte 29: non-finite number"},
                {"{\"execute\":\"guest-ping\",\"id\":Infinity}", "at byte 29: non-finite number"},
                {"{\"execute\":\"guest-ping\",\"id\":[-Infinity]}",
                 "at byte 30: non-finite number"},
                {"{\"execute\":\"guest-ping\",\"id\":1e400}",
                 "at byte 29: number too large for a double"},
                {"{\"execute\":\"guest-ping\",\"id\":9223372036854775808}",
                 "at byte 29: integer past the int64 range"},
                {"{\"execute\":\"guest-ping\",\"id\":-9223372036854775809}",
                 "at byte 29: integer past the int64 range"},
                {"{\"execute\":\"guest-sync\",\"arguments\":{\"id\":123456789012345678901}}",
                 "at byte 42: integer past the int64 range"},
                {"{\"execute\":\"guest-ping\",\"i\\u0000d\":1}",
                 "at byte 24: NUL in a member name"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char want[512];
                snprintf(
                        want, sizeof(want),
                        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error %s\"}}",
                        cases[i].desc);
                assert_reply(ctx, cases[i].req, want);
        }
        /* The ends of int64, fractions and NUL in an id are echoed exactly as sent. */
        assert_reply(ctx, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":9223372036854775807}}",
                     "{\"return\":9223372036854775807}");
        assert_reply(ctx,
                     "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":-9223372036854775808}}",
                     "{\"return\":-9223372036854775808}");
        assert_reply(ctx, "{\"execute\":\"guest-ping\",\"id\":[1.10,-2e-400,\"a\\u0000b\"]}",
                     "{\"return\":{},\"id\":[1.10,-2e-400,\"a\\u0000b\"]}");
}

/* NUL cuts a C string: never in a name or an argument, where it would change what is run;
 * no other control character in an argument either. */
static void test_dispatch_refuses_nul_in_command_names_and_arguments(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "[channel]\nallow-apply = yes\n");
        assert_reply(ctx, "{\"execute\":\"guest-ping\\u0000virtune-apply\",\"id\":1}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'execute' contains a "
                     "NUL character\"},\"id\":1}");
        assert_reply(ctx,
                     "{\"execute\":\"virtune-quote\",\"arguments\":{\"nonce\":"
                     "\"00112233445566778899aabbccddeeff\\u0000zz\"}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'nonce' contains a control "
                     "character\"}}");
        assert_reply(
                ctx,
                "{\"execute\":\"virtune-apply\",\"arguments\":{\"only\":[\"iosched\\u0000x\"]}}",
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'only[0]' contains a "
                "control character\"}}");
        /* ESC and the like too: an argument never needs one, a terminal would obey it. */
        assert_reply(
                ctx,
                "{\"execute\":\"virtune-pcr-read\",\"arguments\":{\"banks\":[\"\\u001b[2J\"]}}",
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'banks[0]' contains a "
                "control character\"}}");
}

static void test_dispatch_mutating_commands_refused_without_allow_apply(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "[channel]\nallow-apply = no\n");
        assert_reply(ctx, "{\"execute\":\"virtune-apply\",\"id\":\"a\"}",
                     "{\"error\":{\"class\":\"PermissionDenied\",\"desc\":\"virtune-apply is "
                     "refused: the guest's policy does not set [channel] allow-apply = "
                     "yes\"},\"id\":\"a\"}");
        assert_reply(ctx, "{\"execute\":\"virtune-revert\"}",
                     "{\"error\":{\"class\":\"PermissionDenied\",\"desc\":\"virtune-revert is "
                     "refused: the guest's policy does not set [channel] allow-apply = "
                     "yes\"}}");
}

static void test_dispatch_mutating_commands_run_with_allow_apply(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "[channel]\nallow-apply = yes\n");
        char *r = ask(ctx, "{\"execute\":\"virtune-revert\",\"arguments\":{\"dry-run\":true}}");
        /* Whatever the tuner answers, the channel did not refuse it. */
        assert_null(strstr(r, "PermissionDenied"));
        free(r);
        assert_reply(ctx, "{\"execute\":\"virtune-apply\",\"arguments\":{\"only\":[\"nope\"]}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'only[0]': no tunable "
                     "module named 'nope'\"}}");
}

/* --only takes the module names the CLI takes: a concern with a plan half, by its folder name. */
static void test_dispatch_apply_only_takes_the_cli_module_names(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "[channel]\nallow-apply = yes\n");
        char *r = ask(ctx, "{\"execute\":\"virtune-apply\",\"arguments\":{\"dry-run\":true,"
                           "\"only\":[\"haltpoll\",\"qga\"]}}");
        assert_non_null(strstr(r, "\"status\":\"dry-run\""));
        free(r);
        assert_reply(ctx, "{\"execute\":\"virtune-apply\",\"arguments\":{\"only\":[\"cpuidle\"]}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'only[0]': no tunable "
                     "module named 'cpuidle'\"}}");
        assert_reply(ctx, "{\"execute\":\"virtune-apply\",\"arguments\":{\"only\":[\"tpm\"]}}",
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'only[0]': no tunable "
                     "module named 'tpm'\"}}");
}

static void test_dispatch_info_lists_every_command(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        char *r = ask(ctx, "{\"execute\":\"guest-info\"}");
        json_object *o = json_tokener_parse(r), *ret, *cmds;
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "return", &ret));
        assert_true(json_object_object_get_ex(ret, "supported_commands", &cmds));
        assert_int_equal(json_object_array_length(cmds), vt_proto_commands_len);
        assert_non_null(strstr(r, "{\"name\":\"virtune-apply\",\"enabled\":false,"));
        assert_non_null(strstr(r, "{\"name\":\"guest-ping\",\"enabled\":true,"));
        json_object_put(o);
        free(r);
}

static void test_dispatch_facts_returns_the_facts_document(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        char *r = ask(ctx, "{\"execute\":\"virtune-facts\",\"id\":3}");
        json_object *o = json_tokener_parse(r), *ret, *v;
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "return", &ret));
        assert_true(json_object_object_get_ex(ret, "virtune", &v));
        json_object_put(o);
        free(r);
}

static void test_dispatch_reader_errors_become_generic_errors(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        size_t n;
        char *r = vt_proto_dispatch(ctx, VT_PROTO_TOO_LARGE, NULL, 0, &n);
        assert_string_equal(r, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Request "
                               "exceeds 65536 bytes; skipped to the next newline or 0xFF\"}}\n");
        free(r);
        r = vt_proto_dispatch(ctx, VT_PROTO_TOO_DEEP, NULL, 0, &n);
        assert_string_equal(r, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Request nests "
                               "deeper than 32; skipped to the next newline or 0xFF\"}}\n");
        free(r);
        assert_null(vt_proto_dispatch(ctx, VT_PROTO_RESET, NULL, 0, &n));
}

static void test_dispatch_tpm_commands_without_tpm_are_unsupported_or_fail(void **state)
{
        struct vt_ctx *ctx = ctx_with_policy(state, "");
        char *r = ask(ctx, "{\"execute\":\"virtune-pcr-read\"}");
        /* No TPM under an empty root: never a success. */
        assert_true(startswith(r, "{\"error\":{\"class\":\""));
        free(r);
}

/* The fuzz oracle's validator, written apart from the parser, agrees with it on the edges. */
static void test_fuzz_oracle_and_parser_agree(void **state)
{
        static const struct {
                const char *text;
                bool valid;
        } cases[] = {
                {"{\"a\":[1,-0,1.5e3,\"\\u00e9\\ud83d\\ude00\"],\"b\":null}", true},
                /* In arrays: json-c cannot tell a bare number at the end of input is whole. */
                {"[9223372036854775807]", true},
                {"[-9223372036854775808]", true},
                {"[9223372036854775808]", false},
                {"[NaN]", false},
                {"[Infinity]", false},
                {"[-Infinity]", false},
                {"[1e400]", false},
                {"[01]", false},
                {"[1.]", false},
                {"\"\\ud800\"", false},
                {"\"\xc0\xaf\"", false},
                {"\"a\tb\"", false},
                {"{\"a\":1,}", false},
                {"[1] [2]", false},
                {"\"\\x41\"", false},
                {"[1.e5]", false},
                {"[-]", false},
                {"[1e]", false},
                {"[+1]", false},
                {"[.5]", false},
                {"[-0.0e-0]", true},
                {"\"\\udc00\"", false},
                {"\"\\ud800x\"", false},
                {"\"\\ud800\\u0041\"", false},
                {"\"\\u00\"", false},
                {"[\"\\u0000\"]", true},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                const char *t = cases[i].text;
                json_object *o = NULL;
                char err[256];
                bool parsed = vt_proto_parse(t, strlen(t), &o, err, sizeof(err)) == 0;
                json_object_put(o);
                if (json_strict_valid(t, strlen(t), 8) != cases[i].valid)
                        fail_msg("oracle on '%s': not %s", t, cases[i].valid ? "valid" : "invalid");
                if (parsed != cases[i].valid)
                        fail_msg("parser on '%s': not %s", t, cases[i].valid ? "valid" : "invalid");
        }
}

/* The policy virtuned hands to each worker: every value and its origin as they were, and an
 * entry the reader would refuse is refused. */
static void test_policy_handover_keeps_values_and_origins(void **state)
{
        struct vt_policy *p = vt_policy_new(), *q = NULL;
        char err[VT_POLICY_ERR_MAX] = "";
        assert_non_null(p);
        assert_int_equal(vt_policy_parse(p, "/etc/virtune/virtune.conf",
                                         "[channel]\nallow-apply = yes\n\n[iosched]\n"
                                         "virtio = kyber\ndevice.vda = bfq\r x\n",
                                         err, sizeof(err)),
                         0);
        char *text = vt_policy_serialize(p);
        assert_non_null(text);
        assert_int_equal(vt_policy_deserialize(text, &q, err, sizeof(err)), 0);
        assert_string_equal(vt_policy_get(q, "iosched", "virtio"), "kyber");
        assert_string_equal(vt_policy_get(q, "iosched", "device.vda"), "bfq\r x");
        assert_string_equal(vt_policy_origin(q, "iosched", "virtio"),
                            "/etc/virtune/virtune.conf:5");
        assert_int_equal(vt_policy_get_tristate(q, "channel", "allow-apply"), 1);
        char *again = vt_policy_serialize(q);
        assert_string_equal(again, text);
        free(again);
        free(text);
        vt_policy_free(q);
        q = NULL;

        static const char *const bad[] = {
                "{\"files\":[],\"entries\":[[\"channel\",\"allow-apply\",\"maybe\",\"x:1\"]]}",
                "{\"files\":[],\"entries\":[[\"nosuch\",\"k\",\"v\",\"x:1\"]]}",
                "{\"files\":[],\"entries\":[[\"iosched\",\"virtio\",\"a\\nb\",\"x:1\"]]}",
                "{\"files\":[],\"entries\":[[\"iosched\",\"virtio\",\"none\"]]}",
                "{\"entries\":[]}",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                err[0] = '\0';
                assert_int_equal(vt_policy_deserialize(bad[i], &q, err, sizeof(err)), -EINVAL);
                assert_true(err[0] != '\0');
        }
        vt_policy_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reader_splits_stream_at_every_position),
                cmocka_unit_test(test_reader_byte_by_byte_matches_whole),
                cmocka_unit_test(test_reader_string_runs_match_byte_by_byte),
                cmocka_unit_test(
                        test_reader_oversized_request_gives_one_event_and_skips_to_newline),
                cmocka_unit_test(test_reader_oversized_request_skips_to_delimiter),
                cmocka_unit_test(test_reader_nesting_deeper_than_32_is_refused),
                cmocka_unit_test(test_reader_raw_newline_in_string_ends_the_request),
                cmocka_unit_test(test_reader_stray_closers_make_one_text_per_line),
                cmocka_unit_test(test_reader_next_stops_at_each_event),
                cmocka_unit_test(test_fuzz_oracle_and_parser_agree),
                cmocka_unit_test(test_policy_handover_keeps_values_and_origins),
                cmocka_unit_test_teardown(test_dispatch_ping_returns_empty_object_and_echoes_id,
                                          teardown),
                cmocka_unit_test_teardown(test_dispatch_sync_echoes_its_argument, teardown),
                cmocka_unit_test_teardown(test_dispatch_unknown_command_is_command_not_found,
                                          teardown),
                cmocka_unit_test_teardown(test_dispatch_malformed_requests_are_generic_errors,
                                          teardown),
                cmocka_unit_test_teardown(test_dispatch_checks_argument_schema_strictly, teardown),
                cmocka_unit_test_teardown(test_dispatch_checks_ranges_from_the_schema, teardown),
                cmocka_unit_test_teardown(
                        test_dispatch_refuses_non_finite_numbers_and_integers_past_int64, teardown),
                cmocka_unit_test_teardown(test_dispatch_refuses_nul_in_command_names_and_arguments,
                                          teardown),
                cmocka_unit_test(test_command_table_binds_every_row),
                cmocka_unit_test_teardown(test_dispatch_only_takes_the_module_tables_names,
                                          teardown),
                cmocka_unit_test_teardown(
                        test_dispatch_mutating_commands_refused_without_allow_apply, teardown),
                cmocka_unit_test_teardown(test_dispatch_mutating_commands_run_with_allow_apply,
                                          teardown),
                cmocka_unit_test_teardown(test_dispatch_apply_only_takes_the_cli_module_names,
                                          teardown),
                cmocka_unit_test_teardown(test_dispatch_info_lists_every_command, teardown),
                cmocka_unit_test_teardown(test_dispatch_facts_returns_the_facts_document, teardown),
                cmocka_unit_test_teardown(test_dispatch_reader_errors_become_generic_errors,
                                          teardown),
                cmocka_unit_test_teardown(
                        test_dispatch_tpm_commands_without_tpm_are_unsupported_or_fail, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
