/* The list of command-line token keys virtune added, under the root's /var/lib/virtune. */
#include "fsutil.h"
#include "owned.h"
#include "strv.h"

int vt_owned_tokens_load(struct vt_ctx *ctx, char ***ret)
{
        _cleanup_free_ char *text = NULL;
        int r = vt_read_file_max(ctx, VT_OWNED_TOKENS_PATH, 1u << 16, &text, NULL);
        if (r == -ENOENT)
                return vt_strv_split("", "\n", ret);
        if (r < 0)
                return r;
        _cleanup_strv_ char **lines = NULL, **keys = NULL;
        r = vt_strv_split(text, "\n", &lines);
        if (r < 0)
                return r;
        r = vt_strv_split("", "\n", &keys);
        for (char **l = lines; r >= 0 && l && *l; l++) {
                const char *k = vt_strip(*l);
                if (*k && *k != '#')
                        r = vt_strv_add_unique(&keys, k);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(keys);
        return 0;
}

const char *vt_owned_token_find(char *const *list, const char *key)
{
        size_t kl = strlen(key);
        for (char *const *t = list; t && *t; t++)
                if (strncmp(*t, key, kl) == 0 && ((*t)[kl] == '\0' || (*t)[kl] == '='))
                        return *t;
        return NULL;
}

int vt_owned_tokens_set(struct vt_ctx *ctx, const char *key, const char *token)
{
        _cleanup_strv_ char **tokens = NULL;
        int r = vt_owned_tokens_load(ctx, &tokens);
        if (r < 0)
                return r;
        const char *have = vt_owned_token_find(tokens, key);
        if (streq_ptr(have, token))
                return 0;
        if (!token && vt_strv_len(tokens) == 1) {
                r = vt_fs_unlink(ctx, VT_OWNED_TOKENS_PATH); /* the last one: no list left */
                return r == -ENOENT ? 0 : r;
        }
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        fputs("# Kernel command-line tokens virtune added; revert and enable = no remove them.\n",
              f);
        for (char **t = tokens; t && *t; t++)
                if (*t != have)
                        fprintf(f, "%s\n", *t);
        if (token)
                fprintf(f, "%s\n", token);
        if (fclose(f) != 0)
                return -ENOMEM;
        r = vt_fs_mkdir_p(ctx, VT_STATE_DIR, NULL);
        return r < 0 ? r : vt_fs_write_atomic(ctx, VT_OWNED_TOKENS_PATH, out, len, 0644);
}
