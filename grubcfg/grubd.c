/*
 * Backend: Debian/Ubuntu, a drop-in /etc/default/grub.d/90-virtune.cfg that sorts after the
 * cloud images' 50-cloudimg-settings.cfg and sets the full value of each variable it changes;
 * then update-grub.
 */
#include <fnmatch.h>
#include "util.h"
#include "backend.h"
#include "shell.h"
#include "shvars.h"

#define GRUBD     "/etc/default/grub.d"
#define DROPIN    "90-virtune.cfg"
#define MAX_FILES 64

static const char *const vars[] = {"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"};

static bool grubd_detect(struct vt_ctx *ctx)
{
        return vt_exists(ctx, "/etc/default/grub") && vt_exists(ctx, GRUBD);
}

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file update-grub sources, in its order: /etc/default/grub, then grub.d/ *.cfg sorted. */
static int list(struct vt_ctx *ctx, char **names, size_t *n)
{
        _cleanup_closedir_ DIR *d = NULL;
        int r = vt_opendir(ctx, GRUBD, &d);
        if (r < 0)
                return r;
        *n = 0;
        names[(*n)++] = strdup("/etc/default/grub");
        for (struct dirent *de; (de = readdir(d));) {
                if (fnmatch("*.cfg", de->d_name, 0) != 0)
                        continue;
                if (*n == MAX_FILES)
                        return -E2BIG;
                char *p = NULL;
                if (asprintf(&p, GRUBD "/%s", de->d_name) < 0)
                        return -ENOMEM;
                names[(*n)++] = p;
        }
        qsort(names + 1, *n - 1, sizeof(char *), cmp);
        for (size_t i = 0; i < *n; i++)
                if (!names[i])
                        return -ENOMEM;
        return 0;
}

struct state {
        char *names[MAX_FILES];
        struct vt_shvars *sv[MAX_FILES];
        size_t n;
        char *base[2];    /* the variables without our drop-in */
        char *current[2]; /* with it */
        char *ours;       /* the drop-in's content, NULL when absent */
        size_t ours_len;
};

static void state_clear(struct state *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->names[i]);
                vt_shvars_free(s->sv[i]);
        }
        for (size_t i = 0; i < 2; i++) {
                free(s->base[i]);
                free(s->current[i]);
        }
        free(s->ours);
}

static int load(struct vt_ctx *ctx, struct state *s, struct vt_bootcfg_set *set)
{
        int r = list(ctx, s->names, &s->n);
        if (r < 0)
                return r;
        struct vt_shvars *prev = NULL, *before_ours = NULL;
        for (size_t i = 0; i < s->n; i++) {
                bool is_ours = streq(s->names[i], GRUBD "/" DROPIN);
                bool after_ours = i > 0 && strcmp(strrchr(s->names[i], '/') + 1, DROPIN) > 0;
                _cleanup_free_ char *text = NULL;
                size_t len, line;
                const char *why;
                r = vt_bootcfg_read_file(ctx, s->names[i], &text, &len);
                if (r < 0)
                        return r;
                r = vt_shvars_parse(text, len, prev, &s->sv[i], &line, &why);
                if (r == -EBADMSG)
                        return vt_bootcfg_refuse(set, s->names[i], line, why);
                if (r < 0)
                        return r;
                if (after_ours)
                        for (size_t k = 0; k < 2; k++) {
                                const struct vt_shassign *a = vt_shvars_last(s->sv[i], vars[k]);
                                if (a)
                                        return vt_bootcfg_refuse(
                                                set, s->names[i], a->line,
                                                "sets the command line after virtune's " DROPIN
                                                " (rename it to sort before it)");
                        }
                if (is_ours) {
                        s->ours = TAKE_PTR(text);
                        s->ours_len = len;
                        before_ours = prev;
                } else if (!after_ours)
                        before_ours = s->sv[i];
                prev = s->sv[i];
        }
        /* base: as if our drop-in were not there; an unmodelled earlier value refuses */
        _cleanup_shvars_ struct vt_shvars *empty = NULL;
        if (!before_ours) {
                r = vt_shvars_parse("", 0, NULL, &empty, NULL, NULL);
                if (r < 0)
                        return r;
                before_ours = empty;
        }
        r = vt_default_grub_values(before_ours, GRUBD, s->base, set);
        if (r < 0)
                return r;
        return vt_default_grub_values(prev, GRUBD, s->current, set);
}

static int grubd_read(struct vt_ctx *ctx, json_object *entry, struct vt_bootcfg_set *set)
{
        struct state s = {0};
        int r = load(ctx, &s, set);
        if (r >= 0) {
                json_object *files = json_object_new_array();
                for (size_t i = 0; i < s.n; i++)
                        json_object_array_add(files, json_object_new_string(s.names[i]));
                json_object_object_add(entry, "files", files);
                _cleanup_free_ char *line = vt_default_grub_join(s.current);
                vt_json_add_str(entry, "cmdline", line);
        }
        state_clear(&s);
        return r;
}

static int grubd_write(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                       struct vt_bootcfg_set *set)
{
        struct state s = {0};
        int r = load(ctx, &s, set);
        if (r >= 0) {
                r = vt_cmdline_apply_vars(s.current, 2, 1, edits, n);
                if (r == -EBADMSG)
                        r = vt_bootcfg_refuse(set, GRUBD, 0,
                                              "unbalanced quote in the command line");
        }
        char *out = NULL;
        size_t olen = 0, nvars = 0;
        if (r >= 0) {
                FILE *f = open_memstream(&out, &olen);
                if (!f)
                        r = -ENOMEM;
                else {
                        fputs("# Written by virtune (virtune cmdline, virtune apply): the kernel "
                              "command line\n# for this VM. Sorts after the cloud image's "
                              "settings on purpose.\n",
                              f);
                        for (size_t i = 0; i < 2; i++) {
                                if (streq(s.current[i], s.base[i]))
                                        continue;
                                _cleanup_free_ char *w = vt_shell_quote(s.current[i], '"');
                                fprintf(f, "%s=%s\n", vars[i], w ? w : "\"\"");
                                nvars++;
                        }
                        if (fclose(f) != 0)
                                r = -ENOMEM;
                }
        }
        /* nothing to say and no file yet: leave it absent */
        if (r >= 0 && !s.ours && nvars == 0)
                free(TAKE_PTR(out));
        else if (r >= 0)
                r = vt_bootcfg_set_add(set, GRUBD "/" DROPIN, s.ours, s.ours_len, TAKE_PTR(out),
                                       olen);
        free(out);
        state_clear(&s);
        return r;
}

static int grubd_generator(struct vt_ctx *ctx, char ***argv)
{
        if (vt_exists(ctx, "/usr/sbin/update-grub")) {
                char **a = calloc(2, sizeof(char *));
                if (!a || !(a[0] = strdup("/usr/sbin/update-grub"))) {
                        free(a);
                        return -ENOMEM;
                }
                *argv = a;
                return 1;
        }
        return vt_grub_mkconfig_argv(ctx, argv);
}

const struct vt_bootcfg_backend vt_backend_grubd = {
        .name = "grub.d",
        .detect = grubd_detect,
        .read = grubd_read,
        .write = grubd_write,
        .generator = grubd_generator,
};
