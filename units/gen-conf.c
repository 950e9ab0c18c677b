/* Writes the default /etc/virtune/virtune.conf from the policy schema: every key, commented. */
#include <inttypes.h>
#include <stdio.h>
#include "policy.h"

static const char *const type_hint[] = {
        [VT_POL_STRING] = "text",
        [VT_POL_BOOL] = "yes or no",
        [VT_POL_TRISTATE] = "auto, yes or no",
        [VT_POL_UINT] = "a number",
        [VT_POL_CHOICE] = "one of",
        [VT_POL_LIST] = "a comma-separated list",
        [VT_POL_AUTO_UINT] = "auto or a number",
};

static void print_key(FILE *f, const struct vt_policy_key *k)
{
        fprintf(f, "# %s (%s", k->help, type_hint[k->type]);
        for (const char *const *c = k->choices; c && *c; c++)
                fprintf(f, "%s%s", c == k->choices ? ": " : ", ", *c);
        if (k->max > 0)
                fprintf(f, " %" PRIu64 "-%" PRIu64, k->min, k->max);
        fprintf(f, ")\n");
        /* A key with no default stays unset: the kernel's or the tool's own value is kept. */
        size_t n = strlen(k->key);
        bool pattern = n > 0 && k->key[n - 1] == '*';
        fprintf(f, "#%.*s%s =%s%s\n", (int)(pattern ? n - 1 : n), k->key, pattern ? "NAME" : "",
                k->def ? " " : "", k->def ? k->def : "");
}

int main(int argc, char **argv)
{
        FILE *f = argc > 1 ? fopen(argv[1], "we") : stdout;
        if (!f) {
                perror(argv[1]);
                return 1;
        }
        fprintf(f, "# virtune's policy: the defaults, commented out. See virtune.conf(5).\n"
                   "# Prefer drop-ins in /etc/virtune/virtune.conf.d/*.conf (read after this\n"
                   "# file, in name order; the last value wins). Unknown keys are errors.\n");
        const char *section = "";
        const struct vt_policy_key *k;
        for (size_t i = 0; (k = vt_policy_schema_at(i)); i++) {
                if (!streq(section, k->section)) {
                        section = k->section;
                        fprintf(f, "\n[%s]\n", section);
                }
                print_key(f, k);
        }
        if (ferror(f) | (f != stdout ? fclose(f) : fflush(f))) {
                perror("virtune.conf");
                return 1;
        }
        return 0;
}
