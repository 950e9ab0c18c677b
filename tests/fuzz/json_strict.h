/* An RFC 8259 validator for fuzz oracles, written apart from the code under test (no json-c). */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Strict on purpose, and stricter than the RFC where virtune promises more: numbers must be
 * finite as doubles and integers must fit int64 (virtune refuses the others rather than echo
 * them changed); strings are valid UTF-8 (no overlong forms, no surrogates) with no raw control
 * characters and only the RFC's escapes, \u surrogates paired. Depth is bounded by the caller.
 */
struct json_strict {
        const unsigned char *p, *end;
        unsigned depth, max_depth;
        /* virtune-host's parse cost (host.h): 1, +8 per object, +2 per array, +1 per further
         * member or element */
        size_t units;
};

static bool js_value(struct json_strict *j);

static void js_ws(struct json_strict *j)
{
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
                j->p++;
}

static bool js_lit(struct json_strict *j, const char *lit)
{
        size_t n = strlen(lit);
        if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
                return false;
        j->p += n;
        return true;
}

static int js_hex4(const unsigned char *s)
{
        int v = 0;
        for (int i = 0; i < 4; i++) {
                int c = s[i], d = c >= '0' && c <= '9'   ? c - '0'
                                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                         : -1;
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

/* One UTF-8 sequence at j->p (first byte >= 0x80). */
static bool js_utf8(struct json_strict *j)
{
        unsigned char c = *j->p;
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF)
                n = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
                n = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
                n = 3, cp = c & 0x07, min = 0x10000;
        else
                return false;
        if ((size_t)(j->end - j->p) <= n)
                return false;
        for (size_t k = 1; k <= n; k++) {
                if ((j->p[k] & 0xC0) != 0x80)
                        return false;
                cp = cp << 6 | (j->p[k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return false;
        j->p += n + 1;
        return true;
}

static bool js_string(struct json_strict *j)
{
        if (j->p >= j->end || *j->p != '"')
                return false;
        j->p++;
        while (j->p < j->end) {
                unsigned char c = *j->p;
                if (c == '"') {
                        j->p++;
                        return true;
                }
                if (c < 0x20)
                        return false;
                if (c >= 0x80) {
                        if (!js_utf8(j))
                                return false;
                        continue;
                }
                if (c != '\\') {
                        j->p++;
                        continue;
                }
                if (j->end - j->p < 2)
                        return false;
                c = j->p[1];
                if (strchr("\"\\/bfnrt", c) && c) {
                        j->p += 2;
                        continue;
                }
                if (c != 'u' || j->end - j->p < 6)
                        return false;
                int u = js_hex4(j->p + 2);
                if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
                        return false;
                j->p += 6;
                if (u >= 0xD800 && u <= 0xDBFF) {
                        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
                                return false;
                        int lo = js_hex4(j->p + 2);
                        if (lo < 0xDC00 || lo > 0xDFFF)
                                return false;
                        j->p += 6;
                }
        }
        return false;
}

static bool js_digits(struct json_strict *j)
{
        const unsigned char *s = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
                j->p++;
        return j->p > s;
}

static bool js_number(struct json_strict *j)
{
        const unsigned char *s = j->p;
        bool neg = j->p < j->end && *j->p == '-', integer = true;
        if (neg)
                j->p++;
        if (j->p < j->end && *j->p == '0')
                j->p++;
        else if (!js_digits(j))
                return false;
        if (j->p < j->end && *j->p == '.') {
                j->p++;
                integer = false;
                if (!js_digits(j))
                        return false;
        }
        if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
                j->p++;
                integer = false;
                if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
                        j->p++;
                if (!js_digits(j))
                        return false;
        }
        size_t n = (size_t)(j->p - s);
        char *t = malloc(n + 1);
        if (!t)
                abort();
        memcpy(t, s, n);
        t[n] = '\0';
        bool ok;
        if (integer) {
                /* Within int64: compare the digits, no conversion to trust. */
                const char *d = t + neg, *lim = neg ? "9223372036854775808" : "9223372036854775807";
                size_t nd = strlen(d);
                ok = nd < 19 || (nd == 19 && strcmp(d, lim) <= 0);
        } else
                ok = isfinite(strtod(t, NULL));
        free(t);
        return ok;
}

static bool js_container(struct json_strict *j, char close)
{
        if (++j->depth > j->max_depth)
                return false;
        j->units += close == '}' ? 8 : 2;
        j->p++;
        js_ws(j);
        if (j->p < j->end && *j->p == close) {
                j->p++;
                j->depth--;
                return true;
        }
        for (;;) {
                if (close == '}') {
                        if (!js_string(j))
                                return false;
                        js_ws(j);
                        if (j->p >= j->end || *j->p != ':')
                                return false;
                        j->p++;
                        js_ws(j);
                }
                if (!js_value(j))
                        return false;
                js_ws(j);
                if (j->p < j->end && *j->p == ',') {
                        j->p++;
                        j->units++;
                        js_ws(j);
                        continue;
                }
                if (j->p < j->end && *j->p == close) {
                        j->p++;
                        j->depth--;
                        return true;
                }
                return false;
        }
}

static bool js_value(struct json_strict *j)
{
        if (j->p >= j->end)
                return false;
        switch (*j->p) {
        case '{':
                return js_container(j, '}');
        case '[':
                return js_container(j, ']');
        case '"':
                return js_string(j);
        case 't':
                return js_lit(j, "true");
        case 'f':
                return js_lit(j, "false");
        case 'n':
                return js_lit(j, "null");
        default:
                return js_number(j);
        }
}

/* Exactly one JSON text in s[0..n), whitespace around it allowed; *units its parse cost. */
static inline bool json_strict_units(const char *s, size_t n, unsigned max_depth, size_t *units)
{
        struct json_strict j = {(const unsigned char *)s, (const unsigned char *)s + n, 0,
                                max_depth, 1};
        js_ws(&j);
        if (!js_value(&j))
                return false;
        js_ws(&j);
        *units = j.units;
        return j.p == j.end;
}

static inline bool json_strict_valid(const char *s, size_t n, unsigned max_depth)
{
        size_t units;
        return json_strict_units(s, n, max_depth, &units);
}
