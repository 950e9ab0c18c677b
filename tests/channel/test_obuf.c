/* virtuned's reply backlog: whole replies only, never the rest of one the host has started. */
#include "../lib/testlib.h"
#include "daemon.h"

static void append(struct vt_obuf *b, const char *s)
{
        assert_int_equal(vt_obuf_append(b, s, strlen(s)), 0);
}

static void assert_pending(const struct vt_obuf *b, const char *want)
{
        assert_int_equal(vt_obuf_pending(b), strlen(want));
        assert_memory_equal(b->data + b->off, want, strlen(want));
}

static void test_obuf_drop_keeps_the_rest_of_a_reply_partly_written(void **state)
{
        struct vt_obuf b = {0};
        append(&b, "{\"return\":{\"version\":\"1\"}}\n");
        append(&b, "{\"return\":{}}\n");
        append(&b, "\xff{\"return\":5}\n");
        b.off = 10; /* the host has read {"return": of the first */
        assert_int_equal(vt_obuf_drop(&b), 2);
        assert_pending(&b, "{\"version\":\"1\"}}\n");
        assert_int_equal(b.dropped, 2);
        vt_obuf_done(&b);
}

static void test_obuf_drop_at_a_reply_boundary_drops_all(void **state)
{
        struct vt_obuf b = {0};
        append(&b, "{\"return\":{}}\n");
        append(&b, "{\"return\":{}}\n");
        b.off = 14; /* the first went out whole */
        assert_int_equal(vt_obuf_drop(&b), 1);
        assert_int_equal(vt_obuf_pending(&b), 0);
        vt_obuf_done(&b);
}

static void test_obuf_refuses_what_would_pass_the_bound_and_queues_nothing(void **state)
{
        struct vt_obuf b = {0};
        size_t n = VT_OBUF_MAX / 2 + 1;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, 'x', n - 1);
        big[n - 1] = '\n';
        assert_int_equal(vt_obuf_append(&b, big, n), 0);
        assert_int_equal(vt_obuf_append(&b, big, n), -ENOBUFS);
        assert_int_equal(vt_obuf_pending(&b), n);
        /* The resync error always goes in. */
        assert_int_equal(vt_obuf_drop(&b), 1);
        assert_int_equal(vt_obuf_append_force(&b, "{\"error\":{}}\n", 13), 0);
        assert_pending(&b, "{\"error\":{}}\n");
        free(big);
        vt_obuf_done(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_obuf_drop_keeps_the_rest_of_a_reply_partly_written),
                cmocka_unit_test(test_obuf_drop_at_a_reply_boundary_drops_all),
                cmocka_unit_test(test_obuf_refuses_what_would_pass_the_bound_and_queues_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
