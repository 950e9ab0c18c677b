/* Hex and base64 text for binary data that travels in JSON. */
#include "codec.h"

char *vt_hex_encode(const uint8_t *buf, size_t len)
{
        static const char digits[] = "0123456789abcdef";
        char *s = malloc(2 * len + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                s[2 * i] = digits[buf[i] >> 4];
                s[2 * i + 1] = digits[buf[i] & 15];
        }
        s[2 * len] = 0;
        return s;
}

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int vt_hex_decode(const char *hex, uint8_t **ret, size_t *ret_len)
{
        size_t n = strlen(hex);
        if (n % 2)
                return -EINVAL;
        _cleanup_free_ uint8_t *buf = malloc(n / 2 + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < n / 2; i++) {
                int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                buf[i] = (uint8_t)(hi << 4 | lo);
        }
        *ret = TAKE_PTR(buf);
        *ret_len = n / 2;
        return 0;
}

char *vt_base64_encode(const uint8_t *buf, size_t len)
{
        static const char abc[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *s = malloc(4 * ((len + 2) / 3) + 1), *o = s;
        if (!s)
                return NULL;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)buf[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t)buf[i + 1] << 8;
                if (i + 2 < len)
                        v |= buf[i + 2];
                *o++ = abc[v >> 18 & 63];
                *o++ = abc[v >> 12 & 63];
                *o++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
                *o++ = i + 2 < len ? abc[v & 63] : '=';
        }
        *o = 0;
        return s;
}

/* A base64 digit's value plus one, 0 for every other byte: one load per character. */
static const uint8_t unbase64[256] = {
        ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
        ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
        ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
        ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
        ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
        ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
        ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
        ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
        ['/'] = 64,
};

int vt_base64_decode(const char *s, uint8_t **ret, size_t *ret_len)
{
        size_t all = strlen(s), n = all;
        while (n > 0 && s[n - 1] == '=' && all - n < 2)
                n--;
        if (n % 4 == 1)
                return -EINVAL;
        _cleanup_free_ uint8_t *buf = malloc(n / 4 * 3 + 3);
        if (!buf)
                return -ENOMEM;
        size_t o = 0;
        uint32_t acc = 0;
        for (size_t i = 0; i < n; i++) {
                uint32_t v = unbase64[(unsigned char)s[i]];
                if (!v)
                        return -EINVAL;
                acc = acc << 6 | (v - 1);
                if (i % 4 == 3) {
                        buf[o++] = (uint8_t)(acc >> 16);
                        buf[o++] = (uint8_t)(acc >> 8);
                        buf[o++] = (uint8_t)acc;
                        acc = 0;
                }
        }
        if (n % 4 == 2)
                buf[o++] = (uint8_t)(acc >> 4);
        else if (n % 4 == 3) {
                buf[o++] = (uint8_t)(acc >> 10);
                buf[o++] = (uint8_t)(acc >> 2);
        }
        *ret = TAKE_PTR(buf);
        *ret_len = o;
        return 0;
}
