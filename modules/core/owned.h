/* The command-line tokens virtune added (as tuned keeps /etc/tuned/bootcmdline): revert, auto and
 * enable = no take back exactly these and keep the operator's. */
#pragma once

#include "ctx.h"

#define VT_OWNED_TOKENS_PATH VT_STATE_DIR "/cmdline-owned"

/* The tokens ("key=value" or "flag"), one a line in the file; an empty list when it is absent.
 * The kernel-install plugin (/etc/kernel/install.d/95-virtune.install) reads the same file. */
int vt_owned_tokens_load(struct vt_ctx *ctx, char ***ret);
/* Records token (virtune set it) for key, or drops key when token is NULL; atomic. */
int vt_owned_tokens_set(struct vt_ctx *ctx, const char *key, const char *token);
/* The owned token for key in list, or NULL. */
const char *vt_owned_token_find(char *const *list, const char *key);
