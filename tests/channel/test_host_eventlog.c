/* virtune-host puts a guest's event log together from its pieces, and refuses pieces that lie. */
#include "../lib/testlib.h"
#include "codec.h"
#include "host_eventlog.h"

enum lie { HONEST, NEXT_LIES, OFFSET_LIES, RESIZED, HUGE, DRIP, NOT_BASE64, NO_SIZE, GROWS };

struct guest {
        const uint8_t *log;
        size_t len, piece;
        enum lie lie;
        bool ima;
        int calls;
};

/* A guest's virtune-eventlog, as tpm2.c answers it, but for the lie it is told to tell. */
static int guest_call(void *userdata, const char *execute, json_object *args, json_object **value)
{
        struct guest *g = userdata;
        assert_string_equal(execute, "virtune-eventlog");
        json_object *x;
        size_t off = 0;
        if (json_object_object_get_ex(args, "offset", &x))
                off = (size_t)json_object_get_int64(x);
        assert_true(json_object_object_get_ex(args, "ima", &x) == g->ima);
        json_object_put(args);
        g->calls++;
        size_t size = g->len;
        if (g->lie == GROWS)
                size += 10 * (size_t)(g->calls - 1); /* an IMA log measuring as we read */
        assert_true(off <= size);
        size_t n = size - off < g->piece ? size - off : g->piece;
        if (g->lie == DRIP && n > 1)
                n = 1;
        uint8_t *grown = NULL;
        const uint8_t *src = g->log + off;
        if (g->lie == GROWS) {
                grown = calloc(1, n + 1);
                for (size_t i = 0; i < n; i++)
                        grown[i] = off + i < g->len ? g->log[off + i] : (uint8_t)'+';
                src = grown;
        }
        char *b64 = vt_base64_encode(src, n);
        free(grown);
        json_object *v = json_object_new_object();
        json_object_object_add(v, "source", json_object_new_string("/sys/kernel/security/tpm0/x"));
        json_object_object_add(v, "format", json_object_new_string(g->ima ? "ima-binary" : "tcg"));
        if (g->lie != NO_SIZE)
                json_object_object_add(v, "size",
                                       json_object_new_int64(g->lie == HUGE ? 1ll << 30
                                                             : g->lie == RESIZED
                                                                     ? (int64_t)size + g->calls
                                                                     : (int64_t)size));
        json_object_object_add(v, "offset",
                               json_object_new_int64(g->lie == OFFSET_LIES ? 0 : (int64_t)off));
        json_object_object_add(
                v, "next_offset",
                json_object_new_int64((int64_t)(off + n + (g->lie == NEXT_LIES && off ? 7 : 0))));
        json_object_object_add(v, "complete", json_object_new_boolean(off + n == size));
        json_object_object_add(v, "log", json_object_new_string(g->lie == NOT_BASE64 ? "@@" : b64));
        free(b64);
        *value = v;
        return 0;
}

static uint8_t *make_log(size_t len)
{
        uint8_t *b = malloc(len);
        assert_non_null(b);
        for (size_t i = 0; i < len; i++)
                b[i] = (uint8_t)(i * 13 + i / 251);
        return b;
}

static int fetch(struct guest *g, json_object **ret, char *err, size_t errlen)
{
        return vt_host_eventlog_fetch(guest_call, g, g->ima, ret, err, errlen);
}

static void test_pieces_are_put_together_byte_for_byte(void **state)
{
        (void)state;
        size_t len = (3u << 20) + 12345;
        uint8_t *log = make_log(len);
        struct guest g = {log, len, 1u << 20, HONEST, false, 0};
        json_object *v = NULL;
        char err[512];
        assert_int_equal(fetch(&g, &v, err, sizeof(err)), 0);
        assert_int_equal(g.calls, 4);
        uint8_t *got = NULL;
        size_t n = 0;
        assert_int_equal(vt_base64_decode(json_object_get_string(json_object_object_get(v, "log")),
                                          &got, &n),
                         0);
        assert_int_equal(n, len);
        assert_memory_equal(got, log, len);
        assert_int_equal(json_object_get_int64(json_object_object_get(v, "size")), len);
        assert_int_equal(json_object_get_int64(json_object_object_get(v, "next_offset")), len);
        assert_true(json_object_get_boolean(json_object_object_get(v, "complete")));
        assert_string_equal(json_object_get_string(json_object_object_get(v, "format")), "tcg");
        free(got);
        json_object_put(v);

        /* one piece (a small log, or a guest from before the pieces), and an empty log */
        struct guest one = {log, 1000, 1u << 20, HONEST, false, 0};
        assert_int_equal(fetch(&one, &v, err, sizeof(err)), 0);
        assert_int_equal(one.calls, 1);
        assert_int_equal(vt_base64_decode(json_object_get_string(json_object_object_get(v, "log")),
                                          &got, &n),
                         0);
        assert_int_equal(n, 1000);
        assert_memory_equal(got, log, n);
        free(got);
        json_object_put(v);
        struct guest none = {log, 0, 1u << 20, HONEST, false, 0};
        assert_int_equal(fetch(&none, &v, err, sizeof(err)), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(v, "log")), "");
        json_object_put(v);
        free(log);
}

/* The IMA log grows while it is read: the pieces follow it to its end then. */
static void test_an_ima_log_that_grows_between_pieces_is_followed(void **state)
{
        (void)state;
        size_t len = 5000;
        uint8_t *log = make_log(len);
        struct guest g = {log, len, 2048, GROWS, true, 0};
        json_object *v = NULL;
        char err[512];
        assert_int_equal(fetch(&g, &v, err, sizeof(err)), 0);
        int64_t size = json_object_get_int64(json_object_object_get(v, "size"));
        assert_true(size > (int64_t)len);
        json_object_put(v);
        /* the firmware's log may not */
        g = (struct guest){log, len, 2048, GROWS, false, 0};
        assert_int_equal(fetch(&g, &v, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "changed size between pieces"));
        free(log);
}

static void test_pieces_that_lie_are_refused_with_why(void **state)
{
        (void)state;
        static const struct {
                enum lie lie;
                int err;
                const char *why;
        } cases[] = {
                {NEXT_LIES, -EBADMSG, "it does not fit"},
                {OFFSET_LIES, -EBADMSG, "says offset 0"},
                {RESIZED, -EBADMSG, "changed size between pieces"},
                {HUGE, -EFBIG, "more than virtune-host takes"},
                {DRIP, -EBADMSG, "more than 1024 pieces"},
                {NOT_BASE64, -EBADMSG, "is not base64"},
                {NO_SIZE, -EBADMSG, "lacks its log, size"},
        };
        size_t len = 40000;
        uint8_t *log = make_log(len);
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct guest g = {log, len, 16384, cases[i].lie, false, 0};
                json_object *v = NULL;
                char err[512] = "";
                int r = fetch(&g, &v, err, sizeof(err));
                if (r != cases[i].err || !strstr(err, cases[i].why))
                        fail_msg("lie %d: %d '%s', expected %d '%s'", cases[i].lie, r, err,
                                 cases[i].err, cases[i].why);
                assert_null(v);
                assert_true(g.calls <= 1025);
        }
        free(log);
}

/* The guest's error (no log): the caller's own return, nothing made up. */
static int failing_call(void *userdata, const char *execute, json_object *args, json_object **value)
{
        json_object_put(args);
        return -EREMOTEIO;
}

static void test_the_guests_error_is_passed_on(void **state)
{
        (void)state;
        json_object *v = NULL;
        char err[64];
        assert_int_equal(vt_host_eventlog_fetch(failing_call, NULL, false, &v, err, sizeof(err)),
                         -EREMOTEIO);
        assert_null(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pieces_are_put_together_byte_for_byte),
                cmocka_unit_test(test_an_ima_log_that_grows_between_pieces_is_followed),
                cmocka_unit_test(test_pieces_that_lie_are_refused_with_why),
                cmocka_unit_test(test_the_guests_error_is_passed_on),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
