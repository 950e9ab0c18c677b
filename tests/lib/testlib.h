/* Helpers for virtune's cmocka tests: temp trees, files, fixtures. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "ctx.h"
#include "util.h"

/* A fresh directory under $TMPDIR (or /tmp); the caller removes it with vt_test_root_free. */
char *vt_test_mkdtemp(void);
/* Writes root/rel (creating parent directories) with content. */
void vt_test_write(const char *root, const char *rel, const char *content);
void vt_test_symlink(const char *root, const char *rel, const char *target);
/* Reads root/rel whole; caller frees; NULL when absent. */
char *vt_test_read(const char *root, const char *rel);
void vt_test_rm_rf(const char *path);
/* Removes a temp tree (vt_test_mkdtemp, vt_test_copy_*) and frees its name; NULL is fine. */
void vt_test_root_free(char *root);
static inline void vt_test_root_freep(char **root)
{
        vt_test_root_free(*root);
}
#define _cleanup_test_root_ _cleanup_(vt_test_root_freep)
/* A context on root (vt_ctx_new, asserted to succeed); caller frees (_cleanup_ctx_). */
struct vt_ctx *vt_test_ctx(const char *root);
/* $VT_FIXTURES/name (the fixture's directory); caller frees. */
char *vt_test_fixture(const char *name);
/* Copies a tree (cp -a) into a new temp dir and returns it. */
char *vt_test_copy_tree(const char *src);
/* A temp copy of fixture <name>/root, to edit; caller frees and calls vt_test_rm_rf. */
char *vt_test_copy_fixture_root(const char *name);
/*
 * A stand-in for the boot configuration generator (update-grub & co, run as
 * $VIRTUNE_BOOTCFG_GENERATOR ROOT ARGV...): dir/gen.sh appends its arguments as one line to
 * dir/gen.log and exits with $GEN_EXIT (0 by default). Returns the script's path; caller frees.
 */
char *vt_test_write_generator(const char *dir);
/* How many lines root/rel has (0 when it is absent). */
size_t vt_test_count_lines(const char *root, const char *rel);
/* Runs argv (no shell), captures stdout into *out (may be NULL); returns the exit status. */
int vt_test_run(char *const argv[], char **out);
/*
 * The boot fixtures hold no kernel: give the image root one that shows it knows the tokens
 * virtune plans (tests/lib/add-x86-kernel: an x86 kernel built with PV spinlocks and THP, its
 * release and arch where a captured guest has them), for facts.kernel's evidence.
 */
void vt_test_add_x86_kernel(const char *root, const char *release);
