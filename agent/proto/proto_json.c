/* The channel's JSON on the wire: strict parsing of one text, reply and request lines. */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include "proto.h"

static const char *const class_names[_VT_PROTO_CLASS_MAX] = {
        [VT_PROTO_GENERIC_ERROR] = "GenericError",
        [VT_PROTO_COMMAND_NOT_FOUND] = "CommandNotFound",
        [VT_PROTO_PERMISSION_DENIED] = "PermissionDenied",
        [VT_PROTO_UNSUPPORTED] = "Unsupported",
};

const char *vt_proto_class_name(enum vt_proto_class c)
{
        assert(c < _VT_PROTO_CLASS_MAX);
        return class_names[c];
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. json-c's own
 * check lets overlong forms through, and whatever we accept may be echoed back in a reply.
 * Returns the offset of the first bad byte, or len.
 */
static size_t utf8_check(const unsigned char *s, size_t len)
{
        size_t i = 0;
        while (i < len) {
                unsigned char c = s[i];
                size_t n;
                uint32_t cp, min;
                uint64_t eight;
                if (len - i >= 8 && (memcpy(&eight, s + i, 8), !(eight & 0x8080808080808080ull))) {
                        i += 8; /* eight ASCII bytes at once: most of a reply is hex or base64 */
                        continue;
                }
                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xE0) == 0xC0) {
                        n = 1, cp = c & 0x1F, min = 0x80;
                } else if ((c & 0xF0) == 0xE0) {
                        n = 2, cp = c & 0x0F, min = 0x800;
                } else if ((c & 0xF8) == 0xF0) {
                        n = 3, cp = c & 0x07, min = 0x10000;
                } else
                        return i;
                if (len - i <= n)
                        return i;
                for (size_t k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xC0) != 0x80)
                                return i;
                        cp = cp << 6 | (s[i + k] & 0x3F);
                }
                if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        return i;
                i += n + 1;
        }
        return len;
}

/* An integer literal's digits (no sign, no leading zeros: json-c checked the grammar) within
 * int64? */
static bool int64_digits(const char *d, size_t n, bool negative)
{
        static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
        if (n != sizeof(max) - 1)
                return n < sizeof(max) - 1;
        return memcmp(d, negative ? min : max, n) <= 0;
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? (json-c takes "1." too). */
static bool number_grammar(const char *s, size_t n)
{
        size_t i = 0, k;
        if (i < n && s[i] == '-')
                i++;
        if (i < n && s[i] == '0')
                i++;
        else {
                for (k = i; i < n && isdigit((unsigned char)s[i]); i++)
                        ;
                if (i == k)
                        return false;
        }
        if (i < n && s[i] == '.') {
                for (k = ++i; i < n && isdigit((unsigned char)s[i]); i++)
                        ;
                if (i == k)
                        return false;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                if (++i < n && (s[i] == '+' || s[i] == '-'))
                        i++;
                for (k = i; i < n && isdigit((unsigned char)s[i]); i++)
                        ;
                if (i == k)
                        return false;
        }
        return i == n;
}

static bool finite_literal(const char *s, size_t n)
{
        char small[64];
        _cleanup_free_ char *big = NULL;
        char *t = small;
        if (n >= sizeof(small) && !(t = big = malloc(n + 1)))
                return false;
        memcpy(t, s, n);
        t[n] = '\0';
        return isfinite(strtod(t, NULL));
}

/*
 * What json-c lets through although the text cannot stand for it: NaN, Infinity and "1." (not
 * JSON), numbers that overflow a double, integers past int64 (json-c saturates them, so they
 * would not be echoed as sent), unpaired surrogate escapes (no character), raw control
 * characters in strings and NUL in a member
 * name (json-c cuts the name there, so "i\u0000d" would be "i"). Runs on a text json-c
 * accepted, so its tokens are delimited. Returns the offset of the first offence with *why, or
 * len.
 */
static size_t strict_check(const char *buf, size_t len, const char **why)
{
        for (size_t i = 0; i < len; i++) {
                char c = buf[i];
                if (c == '"') {
                        size_t start = i;
                        bool nul = false;
                        bool high = false; /* the last escape was a high surrogate */
                        for (i++; i < len && buf[i] != '"'; i++) {
                                /* a run of plain bytes (hex, base64): nothing to check in it */
                                while (!high && i < len && (unsigned char)buf[i] >= 0x20 &&
                                       buf[i] != '"' && buf[i] != '\\')
                                        i++;
                                if (i >= len || buf[i] == '"')
                                        break;
                                if ((unsigned char)buf[i] < 0x20) {
                                        *why = "control character in a string";
                                        return i;
                                }
                                int u = -1;
                                if (buf[i] == '\\' && len - i > 5 && buf[i + 1] == 'u')
                                        u = (int)strtol((char[5]){buf[i + 2], buf[i + 3],
                                                                  buf[i + 4], buf[i + 5], 0},
                                                        NULL, 16);
                                bool low = u >= 0xDC00 && u <= 0xDFFF;
                                if (high != low) {
                                        *why = "unpaired surrogate escape";
                                        return i;
                                }
                                high = u >= 0xD800 && u <= 0xDBFF;
                                nul |= u == 0;
                                if (buf[i] == '\\')
                                        i += u >= 0 ? 5 : 1;
                        }
                        if (high) {
                                *why = "unpaired surrogate escape";
                                return i;
                        }
                        size_t j = i + 1;
                        while (j < len && strchr(" \t\r\n", buf[j]))
                                j++;
                        if (nul && j < len && buf[j] == ':') {
                                *why = "NUL in a member name";
                                return start;
                        }
                        continue;
                }
                if (c == 'N' || c == 'I' || (c == '-' && i + 1 < len && buf[i + 1] == 'I')) {
                        *why = "non-finite number";
                        return i;
                }
                if (c != '-' && !isdigit((unsigned char)c))
                        continue;
                size_t j = i, digits = 0;
                bool fraction = false;
                while (j < len && strchr("0123456789+-.eE", buf[j]) && buf[j]) {
                        if (isdigit((unsigned char)buf[j]) && !fraction)
                                digits++;
                        else if (buf[j] != '-' || j != i)
                                fraction = true;
                        j++;
                }
                if (!number_grammar(buf + i, j - i)) {
                        *why = "malformed number";
                        return i;
                }
                if (!fraction && !int64_digits(buf + j - digits, digits, c == '-')) {
                        *why = "integer past the int64 range";
                        return i;
                }
                if (fraction && !finite_literal(buf + i, j - i)) {
                        *why = "number too large for a double";
                        return i;
                }
                i = j - 1;
        }
        return len;
}

static void tokener_freep(json_tokener **t)
{
        if (*t)
                json_tokener_free(*t);
}

int vt_proto_parse(const char *buf, size_t len, json_object **ret, char *err, size_t errlen)
{
        assert(ret);
        _cleanup_(tokener_freep) json_tokener *tok = NULL;
        _cleanup_json_ json_object *o = NULL;

        if (len > INT32_MAX) {
                snprintf(err, errlen, "JSON text of %zu bytes is too large", len);
                return -EINVAL;
        }
        size_t bad = utf8_check((const unsigned char *)buf, len);
        if (bad < len) {
                snprintf(err, errlen, "JSON parse error at byte %zu: invalid UTF-8", bad);
                return -EINVAL;
        }
        /* One more level than the reader allows, so the reader's bound is the one that bites. */
        tok = json_tokener_new_ex(VT_PROTO_MAX_DEPTH + 1);
        if (!tok)
                return -ENOMEM;
        /* not JSON_TOKENER_VALIDATE_UTF8: utf8_check() above is stricter, json-c's a second pass */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, buf, (int)len);
        enum json_tokener_error e = json_tokener_get_error(tok);
        if (e == json_tokener_continue) {
                snprintf(err, errlen, "JSON parse error: unexpected end of input");
                return -EINVAL;
        }
        if (e != json_tokener_success) {
                snprintf(err, errlen, "JSON parse error at byte %zu: %s",
                         json_tokener_get_parse_end(tok), json_tokener_error_desc(e));
                return -EINVAL;
        }
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (!strchr(" \t\r\n", buf[i]) || buf[i] == '\0') {
                        snprintf(err, errlen, "JSON parse error at byte %zu: trailing garbage", i);
                        return -EINVAL;
                }
        const char *why = NULL;
        bad = strict_check(buf, json_tokener_get_parse_end(tok), &why);
        if (why) {
                snprintf(err, errlen, "JSON parse error at byte %zu: %s", bad, why);
                return -EINVAL;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* Serialises {key: value, "id": id}; takes value. */
static char *reply_line(const char *key, json_object *value, json_object *id, bool delimited,
                        size_t *len)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o) {
                json_object_put(value);
                return NULL;
        }
        json_object_object_add(o, key, value ? value : json_object_new_object());
        if (id)
                json_object_object_add(o, "id", json_object_get(id));

        size_t n;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
        if (!s)
                return NULL;
        size_t off = delimited ? 1 : 0;
        char *line = malloc(off + n + 2);
        if (!line)
                return NULL;
        if (delimited)
                line[0] = (char)VT_PROTO_DELIM;
        memcpy(line + off, s, n);
        line[off + n] = '\n';
        line[off + n + 1] = '\0';
        if (len)
                *len = off + n + 1;
        return line;
}

char *vt_proto_reply_return(json_object *value, json_object *id, bool delimited, size_t *len)
{
        return reply_line("return", value, id, delimited, len);
}

char *vt_proto_reply_error(enum vt_proto_class c, const char *desc, json_object *id, size_t *len)
{
        json_object *e = json_object_new_object();
        if (!e)
                return NULL;
        json_object_object_add(e, "class", json_object_new_string(vt_proto_class_name(c)));
        json_object_object_add(e, "desc", json_object_new_string(desc ? desc : ""));
        return reply_line("error", e, id, false, len);
}

char *vt_proto_request(const char *name, json_object *args, json_object *id, size_t *len)
{
        assert(name);
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o) {
                json_object_put(args);
                json_object_put(id);
                return NULL;
        }
        json_object_object_add(o, "execute", json_object_new_string(name));
        if (args)
                json_object_object_add(o, "arguments", args);
        if (id)
                json_object_object_add(o, "id", id);
        size_t n;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
        if (!s)
                return NULL;
        char *line = malloc(n + 2);
        if (!line)
                return NULL;
        memcpy(line, s, n);
        line[n] = '\n';
        line[n + 1] = '\0';
        if (len)
                *len = n + 1;
        return line;
}
