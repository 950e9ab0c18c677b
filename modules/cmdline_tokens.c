/* Splits /proc/cmdline into tokens the way the kernel does, and looks tokens up. */
#include <ctype.h>
#include "cmdline_tokens.h"

/* One token starting at *p (no leading space); NUL-terminates in place and advances *p. */
static void next_arg(char **p, char **key, char **val)
{
        char *a = *p;
        bool in_quote = false, quoted = false;
        size_t i, equals = 0;
        if (*a == '"') {
                a++;
                in_quote = quoted = true;
        }
        for (i = 0; a[i]; i++) {
                if (isspace((unsigned char)a[i]) && !in_quote)
                        break;
                if (equals == 0 && a[i] == '=')
                        equals = i;
                if (a[i] == '"')
                        in_quote = !in_quote;
        }
        *key = a;
        *val = NULL;
        if (equals) {
                a[equals] = '\0';
                *val = a + equals + 1;
                if (**val == '"') {
                        (*val)++;
                        if (a[i - 1] == '"')
                                a[i - 1] = '\0';
                }
        }
        if (quoted && i > 0 && a[i - 1] == '"')
                a[i - 1] = '\0';
        char *next = a + i;
        if (*next) {
                *next = '\0';
                next++;
        }
        while (isspace((unsigned char)*next))
                next++;
        *p = next;
}

int vt_cmdline_tokens_parse(const char *s, json_object **tokens, json_object **init)
{
        _cleanup_free_ char *buf = strdup(s);
        _cleanup_json_ json_object *t = json_object_new_array();
        _cleanup_json_ json_object *in = json_object_new_array();
        if (!buf || !t || !in)
                return -ENOMEM;
        char *p = buf;
        bool dashes = false;
        while (isspace((unsigned char)*p))
                p++;
        while (*p) {
                char *key, *val;
                next_arg(&p, &key, &val);
                if (!dashes && !val && streq(key, "--")) {
                        dashes = true;
                        continue;
                }
                if (dashes) {
                        _cleanup_free_ char *arg = NULL;
                        if (asprintf(&arg, "%s%s%s", key, val ? "=" : "", val ? val : "") < 0)
                                return -ENOMEM;
                        json_object_array_add(in, json_object_new_string(arg));
                        continue;
                }
                json_object *tok = json_object_new_object();
                json_object_object_add(tok, "key", json_object_new_string(key));
                vt_json_add_str(tok, "value", val);
                json_object_array_add(t, tok);
        }
        *tokens = TAKE_PTR(t);
        *init = TAKE_PTR(in);
        return 0;
}

static bool param_eq(const char *a, const char *b)
{
        for (; *a && *b; a++, b++) {
                char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
                if (x != y)
                        return false;
        }
        return *a == *b;
}

bool vt_cmdline_tokens_get(json_object *tokens, const char *key, const char **value)
{
        bool found = false;
        size_t n = tokens ? json_object_array_length(tokens) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *tok = json_object_array_get_idx(tokens, i), *k, *v;
                if (!json_object_object_get_ex(tok, "key", &k) ||
                    !param_eq(json_object_get_string(k), key))
                        continue;
                found = true;
                if (value)
                        *value = json_object_object_get_ex(tok, "value", &v)
                                         ? json_object_get_string(v)
                                         : NULL;
        }
        return found;
}
