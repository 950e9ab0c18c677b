/* Test helper: the plan halves alone (no resolve against the root), and the check that they need
 * no root: the same facts, through JSON text, plan the same on an empty root. */
#pragma once

#include "module.h"
#include "plan.h"
#include "policy.h"
#include "../lib/testlib.h"

/* {"changes", "warnings", "notes", "error"} of every plan half on facts. */
static inline json_object *plan_halves(struct vt_ctx *ctx, json_object *facts)
{
        struct vt_plan plan;
        vt_plan_init(&plan);
        int r = 0;
        for (size_t i = 0; i < vt_modules_len && r >= 0; i++)
                if (vt_modules[i]->plan)
                        r = vt_modules[i]->plan(ctx, facts, &plan);
        assert_true(r >= 0 || r == -EINVAL);
        json_object *o = json_object_new_object(), *changes = json_object_new_array();
        for (size_t i = 0; i < plan.n; i++)
                json_object_array_add(changes, vt_change_to_json(&plan.changes[i]));
        json_object_object_add(o, "changes", changes);
        json_object_object_add(o, "warnings", json_object_get(plan.warnings));
        json_object_object_add(o, "notes", json_object_get(plan.notes));
        vt_json_add_str(o, "error", plan.error);
        vt_plan_done(&plan);
        return o;
}

/*
 * Plans facts (with policy text conf, may be NULL) on root, then the same facts printed and
 * parsed again on a fresh empty root: both must be equal. Returns the empty root's plan.
 */
static inline json_object *assert_plan_needs_no_root(const char *root, bool live,
                                                     json_object *facts, const char *conf)
{
        _cleanup_free_ char *empty = vt_test_mkdtemp();
        struct vt_ctx *a = NULL, *b = NULL;
        char err[VT_POLICY_ERR_MAX];
        assert_int_equal(vt_ctx_new(root, &a), 0);
        assert_int_equal(vt_ctx_new(empty, &b), 0);
        a->live = b->live = live;
        a->policy = vt_policy_new();
        b->policy = vt_policy_new();
        assert_int_equal(vt_policy_parse(a->policy, "t.conf", conf ? conf : "", err, sizeof(err)),
                         0);
        assert_int_equal(vt_policy_parse(b->policy, "t.conf", conf ? conf : "", err, sizeof(err)),
                         0);
        _cleanup_json_ json_object *copy = json_tokener_parse(json_object_to_json_string(facts));
        assert_non_null(copy);
        _cleanup_json_ json_object *want = plan_halves(a, facts);
        json_object *got = plan_halves(b, copy);
        if (!json_object_equal(want, got))
                fail_msg("the plan read the root: on %s\n%s\non an empty root\n%s", root,
                         json_object_to_json_string_ext(want, JSON_C_TO_STRING_PRETTY),
                         json_object_to_json_string_ext(got, JSON_C_TO_STRING_PRETTY));
        vt_ctx_free(a);
        vt_ctx_free(b);
        vt_test_rm_rf(empty);
        return got;
}
