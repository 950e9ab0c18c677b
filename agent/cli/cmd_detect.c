/* virtune detect: read the system into facts and print them. */
#include "log.h"
#include "module.h"
#include "cli.h"
#include "render.h"

static const char *str_at(json_object *facts, const char *module, const char *key)
{
        json_object *m, *v;
        if (!json_object_object_get_ex(facts, module, &m) || !json_object_object_get_ex(m, key, &v))
                return NULL;
        return json_object_get_string(v);
}

/* The few lines a person wants first; the full facts follow (text only: --json is unchanged). */
static void print_summary(json_object *facts)
{
        json_object *virtio, *devs, *cpuidle, *hp, *active, *reason, *steal, *pct;
        char buf[256];
        _cleanup_json_ json_object *doc = json_object_new_object();
        json_object *sum = json_object_new_object();
        if (!doc || !sum) {
                json_object_put(sum);
                return;
        }
        json_object_object_add(doc, "summary", sum);
        int n = snprintf(buf, sizeof(buf), "%s (%s), vcpus %s",
                         str_at(facts, "virt", "hypervisor") ?: "-",
                         str_at(facts, "virt", "hypervisor_source") ?: "-",
                         str_at(facts, "virt", "vcpus") ?: "-");
        if (json_object_object_get_ex(facts, "virt", &steal) &&
            json_object_object_get_ex(steal, "steal", &steal) && steal &&
            json_object_object_get_ex(steal, "percent", &pct) && n > 0 && (size_t)n < sizeof(buf))
                snprintf(buf + n, sizeof(buf) - (size_t)n, ", steal %s%%",
                         json_object_get_string(pct));
        vt_json_add_str(sum, "hypervisor", buf);
        buf[0] = '\0';
        if (json_object_object_get_ex(facts, "virtio", &virtio) &&
            json_object_object_get_ex(virtio, "devices", &devs)) {
                size_t len = 0;
                for (size_t i = 0; i < json_object_array_length(devs) && len < sizeof(buf); i++) {
                        json_object *type;
                        json_object_object_get_ex(json_object_array_get_idx(devs, i), "type",
                                                  &type);
                        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                                len ? " " : "", json_object_get_string(type));
                }
        }
        vt_json_add_str(sum, "virtio", buf[0] ? buf : "none");
        if (json_object_object_get_ex(facts, "cpuidle", &cpuidle) &&
            json_object_object_get_ex(cpuidle, "haltpoll", &hp) &&
            json_object_object_get_ex(hp, "active", &active) &&
            json_object_object_get_ex(hp, "reason", &reason)) {
                snprintf(buf, sizeof(buf), "%s%s%s",
                         json_object_get_boolean(active) ? "active" : "inactive (",
                         reason ? json_object_get_string(reason) : "",
                         json_object_get_boolean(active) ? "" : ")");
                vt_json_add_str(sum, "haltpoll", buf);
        }
        vt_json_add_str(sum, "pvspin", str_at(facts, "pvspin", "state") ?: "-");
        vt_render_text(stdout, doc);
}

int vt_cmd_detect(struct vt_cli *cli, int argc, char **argv)
{
        cli->no_policy = true; /* detect reads the system, not the policy */
        int i = vt_cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL,
                             "detect [--root DIR] [--json]\n\n"
                             "Prints the facts: hypervisor, virtio devices, cpuidle and haltpoll,\n"
                             "PV spinlocks, disks and I/O schedulers, hw RNG, qemu-ga, TPM.\n"
                             "Text output starts with a summary; --json keys: virtune-facts(7).\n");
        _cleanup_ctx_ struct vt_ctx *ctx = NULL;
        int e;
        if (!vt_cli_setup(cli, i, argc, argv, &ctx, &e))
                return e;
        _cleanup_json_ json_object *facts = NULL;
        int r = vt_detect_all(ctx, &facts);
        if (r < 0) {
                log_error_errno(r, "Failed to detect the system under %s", ctx->root);
                return VT_EXIT_FAIL;
        }
        if (!cli->json)
                print_summary(facts);
        vt_cli_print(cli, facts);
        return VT_EXIT_OK;
}
