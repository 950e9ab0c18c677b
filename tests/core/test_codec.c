/* Hex and base64 as they travel in JSON: what each decoder takes back, and what it refuses. */
#include "../lib/testlib.h"
#include "codec.h"

static void test_base64_round_trips_every_length_and_byte(void **state)
{
        uint8_t data[256];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t)(i * 37 + 11);
        for (size_t len = 0; len <= sizeof(data); len++) {
                _cleanup_free_ char *text = vt_base64_encode(data, len);
                _cleanup_free_ uint8_t *back = NULL;
                size_t n = 0;
                assert_non_null(text);
                assert_int_equal(strlen(text), 4 * ((len + 2) / 3));
                assert_int_equal(vt_base64_decode(text, &back, &n), 0);
                assert_int_equal(n, len);
                assert_memory_equal(back, data, len);
        }
}

static void test_base64_decodes_the_rfc4648_vectors(void **state)
{
        static const char *const vectors[][2] = {
                {"", ""},
                {"Zg==", "f"},
                {"Zm8=", "fo"},
                {"Zm9v", "foo"},
                {"Zm9vYg==", "foob"},
                {"Zm9vYmE=", "fooba"},
                {"Zm9vYmFy", "foobar"},
                {"Zm9vYg", "foob"}, /* unpadded is taken too */
                {"+/+/", "\xfb\xff\xbf"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
                _cleanup_free_ uint8_t *out = NULL;
                size_t n = 0;
                assert_int_equal(vt_base64_decode(vectors[i][0], &out, &n), 0);
                assert_int_equal(n, strlen(vectors[i][1]));
                assert_memory_equal(out, vectors[i][1], n);
        }
}

static void test_base64_refuses_every_byte_outside_the_alphabet(void **state)
{
        static const char abc[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int c = 1; c < 256; c++) {
                char text[] = "QUJD?EVG";
                text[4] = (char)c;
                _cleanup_free_ uint8_t *out = NULL;
                size_t n = 0;
                int r = vt_base64_decode(text, &out, &n);
                if (strchr(abc, c))
                        assert_int_equal(r, 0);
                else
                        assert_int_equal(r, -EINVAL);
        }
        static const char *const bad[] = {"Q", "QUJDR", "Q===", "QU=J", " QUJD", "QUJD\n"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_free_ uint8_t *out = NULL;
                size_t n = 0;
                assert_int_equal(vt_base64_decode(bad[i], &out, &n), -EINVAL);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64_round_trips_every_length_and_byte),
                cmocka_unit_test(test_base64_decodes_the_rfc4648_vectors),
                cmocka_unit_test(test_base64_refuses_every_byte_outside_the_alphabet),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
