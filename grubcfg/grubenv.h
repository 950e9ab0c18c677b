/*
 * GRUB's environment block (grubenv): "# GRUB Environment Block\n", then name=value lines,
 * then '#' up to exactly 1024 bytes. Read and rewritten exactly; anything else is refused.
 */
#pragma once

#include <stddef.h>

#define VT_GRUBENV_SIZE 1024

/* The value of name in the block (len bytes), malloc'd in *ret; 0, -ENOENT, -EBADMSG. */
int vt_grubenv_get(const char *blk, size_t len, const char *name, char **ret);
/*
 * The block with name=value set (replaced in place, or added at the end), padded again to
 * 1024 bytes, in *ret (VT_GRUBENV_SIZE bytes + NUL). -ENOSPC when it no longer fits,
 * -EBADMSG when blk is not a grubenv block, -EINVAL for a value GRUB would escape.
 */
int vt_grubenv_set(const char *blk, size_t len, const char *name, const char *value, char **ret);
/* 0 when blk is a well-formed block; else -EBADMSG with *errline (1-based). */
int vt_grubenv_check(const char *blk, size_t len, size_t *errline);
