/* Every boot backend of the system is read and brought in line, not only the first one. */
#include "ctx.h"
#include "plan.h"
#include "policy.h"
#include "tune.h"
#include "../lib/testlib.h"

#define BLS "boot/loader/entries/3f6a9c1e2b7d4e8f9a0b1c2d3e4f5a6b-5.14.0-362.8.1.el9_3.x86_64.conf"

static struct vt_ctx *ctx_for(const char *root)
{
        vt_test_write(root, "etc/virtune/virtune.conf", "[pvspin]\nenable = no\n");
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_policy_load(ctx, &ctx->policy, err, sizeof(err)), 0);
        return ctx;
}

static bool has_token(const char *root, const char *rel, const char *token)
{
        char *text = vt_test_read(root, rel);
        assert_non_null(text);
        bool found = strstr(text, token) != NULL;
        free(text);
        return found;
}

/* verify's drift entries of the pvspin module (other modules plan their own targets too). */
static size_t pvspin_drift(struct vt_ctx *ctx)
{
        json_object *v = NULL, *drift;
        assert_int_equal(vt_tune_verify(ctx, NULL, &v), 0);
        assert_true(json_object_object_get_ex(v, "drift", &drift));
        size_t n = 0;
        for (size_t i = 0; i < json_object_array_length(drift); i++)
                n += streq_ptr(vt_json_str(json_object_array_get_idx(drift, i), "module"),
                               "pvspin");
        json_object_put(v);
        return n;
}

static void test_token_in_bls_only_is_written_to_every_backend(void **state)
{
        (void)state;
        char *root = vt_test_copy_fixture_root("boot-rhel9-bls");
        vt_test_add_x86_kernel(root, "5.14.0-362.8.1.el9_3.x86_64"); /* evidence for nopvspin */
        char *bls = vt_test_read(root, BLS), *opt = strstr(bls, "$tuned_params");
        assert_non_null(opt);
        /* the BLS entry already has it; /etc/default/grub and /etc/kernel/cmdline do not */
        char *edited = NULL;
        assert_true(asprintf(&edited, "%.*s$tuned_params nopvspin%s", (int)(opt - bls), bls,
                             opt + strlen("$tuned_params")) > 0);
        vt_test_write(root, BLS, edited);
        struct vt_ctx *ctx = ctx_for(root);

        assert_int_equal(pvspin_drift(ctx), 1); /* two backends lack it: drift, not pending */

        struct vt_apply_opts o = {.only = (const char *const[]){"pvspin", NULL}};
        json_object *e = NULL;
        assert_int_equal(vt_tune_apply(ctx, &o, &e), 0);
        assert_string_equal(vt_json_str(e, "status"), "applied");
        json_object_put(e);
        assert_true(has_token(root, "etc/default/grub", "nopvspin"));
        assert_true(has_token(root, "etc/kernel/cmdline", "nopvspin"));
        assert_true(has_token(root, BLS, "nopvspin"));

        assert_int_equal(pvspin_drift(ctx), 0);

        /* revert gives back the BLS entry as it was (with the token), the others without */
        assert_int_equal(vt_tune_revert(ctx, false, &e), 0);
        json_object_put(e);
        char *now = vt_test_read(root, BLS);
        assert_string_equal(now, edited);
        assert_false(has_token(root, "etc/default/grub", "nopvspin"));
        free(now);
        free(edited);
        free(bls);
        vt_ctx_free(ctx);
        vt_test_root_free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_token_in_bls_only_is_written_to_every_backend),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
