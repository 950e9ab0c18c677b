/* The command-line tokens virtune added (as tuned keeps /etc/tuned/bootcmdline): revert, auto and
 * enable = no take back exactly these and keep the operator's. */
#pragma once

#include "ctx.h"

#define VT_OWNED_TOKENS_PATH "/var/lib/virtune/cmdline-owned"

/* The keys, one a line in the file; an empty list when it is absent. */
int vt_owned_tokens_load(struct vt_ctx *ctx, char ***ret);
/* Adds (owned) or drops key from the file, written atomically. */
int vt_owned_tokens_set(struct vt_ctx *ctx, const char *key, bool owned);
