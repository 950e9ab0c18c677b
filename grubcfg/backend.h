/*
 * What every boot configuration backend shares: the interface (detect, read, write), the list
 * of files a change would rewrite, and helpers to read a file and apply edits to a line.
 */
#pragma once

#include "grubcfg.h"
#include "cmdline.h"

/* One file a change rewrites: old and new content (old NULL: the file is new). */
struct vt_bootcfg_file {
        char *path;
        char *old, *new;
        size_t old_len, new_len;
        const struct vt_bootcfg_backend *backend;
        size_t tool;    /* 1-based index into the set's tools when one writes it; 0: virtune does */
        bool generated; /* a generator's output (grub.cfg) edited in its place: it may rewrite it */
};

/*
 * A distribution tool that writes some files of a set in virtune's place (on a live root).
 * exact: what it writes must be byte-identical to what virtune computed; else what it wrote is
 * re-read and re-parsed, and must leave nothing more to do.
 */
struct vt_bootcfg_tool {
        const char *name;
        char **argv; /* host paths, NULL-terminated, owned */
        bool exact;
        bool ran;
};

struct vt_bootcfg_set {
        struct vt_bootcfg_file *f;
        size_t n, cap;
        const struct vt_bootcfg_backend *backend; /* the one adding files now */
        char err[512];                            /* "file:line: why" when a backend refuses */
        struct vt_bootcfg_tool tools[4];
        size_t ntools;
        unsigned regen; /* bit i: backends[i]'s generator runs though none of its files changed */
};

struct vt_bootcfg_backend {
        const char *name;
        bool (*detect)(struct vt_ctx *ctx);
        /* Adds "files" and "cmdline" (what the next boot gets from this backend) to entry. */
        int (*read)(struct vt_ctx *ctx, json_object *entry, struct vt_bootcfg_set *set);
        /* Adds every file the edits change, with its new content, to set. Writes nothing. */
        int (*write)(struct vt_ctx *ctx, const struct vt_cmdline_edit *edits, size_t n,
                     struct vt_bootcfg_set *set);
        /* The command that rebuilds the boot menu from these files (inside the root), or NULL. */
        int (*generator)(struct vt_ctx *ctx, char ***argv);
};

extern const struct vt_bootcfg_backend vt_backend_grubd, vt_backend_default_grub, vt_backend_bls,
        vt_backend_grub_cfg, vt_backend_kernel_cmdline;

/* Reads path; -ENOENT when absent. Logs nothing. */
int vt_bootcfg_read_file(struct vt_ctx *ctx, const char *path, char **ret, size_t *len);
/* A read() entry for a backend of one file: "files": [path], "cmdline": cmdline (may be NULL). */
void vt_bootcfg_entry_one(json_object *entry, const char *path, const char *cmdline);
/* Sets set->err to "path:line: why" and returns -EBADMSG. */
int vt_bootcfg_refuse(struct vt_bootcfg_set *set, const char *path, size_t line, const char *why);
/* Adds (path, old, new) when old != new; takes ownership of new. */
int vt_bootcfg_set_add(struct vt_bootcfg_set *set, const char *path, const char *old,
                       size_t old_len, char *new, size_t new_len);
void vt_bootcfg_set_clear(struct vt_bootcfg_set *set);

/* tool.c: the host path of the first of paths (inside the root) that is an executable file, when
 * the root is live; NULL otherwise (images keep virtune's own writers). */
char *vt_bootcfg_tool_path(struct vt_ctx *ctx, const char *const *paths, size_t n);
/* Adds a tool (takes argv) to set; its 1-based index, or -E2BIG. */
int vt_bootcfg_set_tool(struct vt_bootcfg_set *set, const char *name, char **argv, bool exact);
/* How generators and tools run: their chatter goes to our stderr, never into a diff or JSON. */
extern const struct vt_run_opts vt_bootcfg_run_opts;

/*
 * Applies edits to one command line (s, len bytes). *ret gets the new text (malloc'd).
 * Returns 1 when it changed, 0 when not, -EBADMSG when the line cannot be parsed with
 * certainty (*errpos set), -EINVAL for a bad edit.
 */
int vt_cmdline_apply(const char *s, size_t len, const struct vt_cmdline_edit *edits, size_t n,
                     char **ret, size_t *errpos);
/*
 * The same over several variables that together make the line (GRUB_CMDLINE_LINUX and
 * _DEFAULT): a key set goes where it already is (first var first), else into vars[home],
 * and leaves the others. vals[i] (malloc'd or NULL) are replaced.
 */
int vt_cmdline_apply_vars(char **vals, size_t nvars, size_t home,
                          const struct vt_cmdline_edit *edits, size_t n);

struct vt_shvars;
/* default_grub.c, shared with grubd.c: the two variables' values (vals[2], malloc'd). */
int vt_default_grub_values(struct vt_shvars *sv, const char *path, char **vals,
                           struct vt_bootcfg_set *set);
char *vt_default_grub_join(char **vals);
/*
 * bls.c: the options line's value of one BLS entry, [*vs, *ve) in text, its line number in
 * *line; refuses (-EBADMSG, set->err) no options line, a second one, a NUL byte.
 */
int vt_bls_find_options(const char *path, const char *text, size_t len, size_t *vs, size_t *ve,
                        size_t *line, struct vt_bootcfg_set *set);
/*
 * grub_cfg.c: text with edits applied to the arguments of every linux/linuxefi/linux16 line of
 * a non-rescue menu entry, in *ret (malloc'd, *ret_len bytes); *first (may be NULL) gets the
 * first such line's arguments before the edits. Refuses (-EBADMSG, set->err) what GRUB's script
 * quoting would change (quotes, escapes, ';', a value with spaces) and NUL bytes.
 */
int vt_grub_cfg_edit(const char *path, const char *text, size_t len,
                     const struct vt_cmdline_edit *edits, size_t n, char **ret, size_t *ret_len,
                     char **first, struct vt_bootcfg_set *set);
/*
 * The first /boot/efi/EFI/<vendor>/grub.cfg; on a live root whose ESP is mounted elsewhere,
 * <its mount point>/EFI/<vendor>/grub.cfg (libblkid finds it). *ret NULL when there is none.
 */
int vt_bootcfg_efi_grub_cfg(struct vt_ctx *ctx, char **ret);
/* grub(2)-mkconfig -o <the active grub.cfg>; 0 and *argv NULL when there is none. */
int vt_grub_mkconfig_argv(struct vt_ctx *ctx, char ***argv);
