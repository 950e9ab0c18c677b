/* Plans what keeps kernels installed later in step: on systems where kernel-install writes the
 * boot entries (BLS), a plugin that puts the tokens virtune added on every new entry. */
#include "module.h"
#include "owned.h"

#define M      "kernel"
#define PLUGIN "/etc/kernel/install.d/95-virtune.install"

static const char why_plugin[] =
        "kernel-install: new boot entries get virtune's tokens whatever their options come from "
        "(/etc/kernel/cmdline, /proc/cmdline, grubby's defaults)";

/* Runs after 90-loaderentry.install: rewrites the new entry's options line. POSIX sh. */
static const char plugin[] =
        "#!/bin/sh\n" VT_OWNED_HEADER
        "# kernel-install plugin: a new boot entry gets the kernel command-line tokens virtune\n"
        "# added (" VT_OWNED_TOKENS_PATH "), replacing any other value of the same key.\n"
        "[ \"$1\" = add ] || exit 0\n"
        "[ \"${KERNEL_INSTALL_LAYOUT:-bls}\" = bls ] || exit 0\n"
        "owned=${VIRTUNE_CMDLINE_OWNED:-" VT_OWNED_TOKENS_PATH "}\n"
        "[ -s \"$owned\" ] || exit 0\n"
        "dir=$KERNEL_INSTALL_BOOT_ROOT/loader/entries\n"
        "for entry in \"$dir/$KERNEL_INSTALL_ENTRY_TOKEN-$2.conf\" "
        "\"$dir/$KERNEL_INSTALL_ENTRY_TOKEN-$2+\"*.conf; do\n"
        "        [ -f \"$entry\" ] || continue\n"
        "        opts=$(sed -n 's/^options[[:space:]]*//p' \"$entry\" | head -n 1)\n"
        "        while read -r tok; do\n"
        "                case $tok in '' | '#'*) continue ;; esac\n"
        "                key=${tok%%=*} new=\"\"\n"
        "                for w in $opts; do\n"
        "                        case $w in \"$key\" | \"$key\"=*) ;; *) new=\"$new $w\" ;; esac\n"
        "                done\n"
        "                opts=\"${new# } $tok\"\n"
        "        done <\"$owned\"\n"
        "        OPTS=${opts# } awk '/^options/ && !d { print \"options    \" ENVIRON[\"OPTS\"]; d "
        "= 1; "
        "next } { print } END { if (!d) print \"options    \" ENVIRON[\"OPTS\"] }' \"$entry\" "
        ">\"$entry.virtune\" && mv \"$entry.virtune\" \"$entry\" || exit 1\n"
        "        [ \"${KERNEL_INSTALL_VERBOSE:-0}\" -gt 0 ] && echo \"virtune: options in "
        "$entry\"\n"
        "done\n"
        "exit 0\n";

int vt_kernel_plan_future(struct vt_ctx *ctx, json_object *facts, struct vt_plan *plan)
{
        if (!vt_json_bool(vt_json_get(facts, "kernel"), "kernel_install"))
                return 0;
        json_object *owned = vt_facts_get(facts, "kernel", "owned");
        bool tokens = owned && json_object_array_length(owned) > 0;
        for (size_t i = 0; !tokens && i < plan->n; i++)
                tokens = plan->changes[i].kind == VT_TARGET_CMDLINE && plan->changes[i].to;
        if (!tokens)
                return 0;
        return vt_plan_add(plan, M, VT_TARGET_FILE, PLUGIN, NULL, plugin, VT_WHEN_BOOT, why_plugin);
}
