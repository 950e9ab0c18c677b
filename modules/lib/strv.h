/* NULL-terminated string vectors: the argv and word lists the detect helpers pass around. */
#pragma once

#include "util.h"

void vt_strv_free(char **l);
static inline void vt_strv_freep(char ***l)
{
        vt_strv_free(*l);
}
#define _cleanup_strv_ _cleanup_(vt_strv_freep)

size_t vt_strv_len(char *const *l);
/* Appends s (taken over, freed on failure); *l may be NULL. Returns 0 or -ENOMEM. */
int vt_strv_push(char ***l, char *s);
/* Appends a copy of s. */
int vt_strv_add(char ***l, const char *s);
/* Appends a copy of s when it is not in the list yet. */
int vt_strv_add_unique(char ***l, const char *s);
bool vt_strv_contains(char *const *l, const char *s);
/* Splits s at any of seps, dropping empty words and surrounding blanks. */
int vt_strv_split(const char *s, const char *seps, char ***ret);
/* Sorts in place by strcmp (NULL is fine). */
void vt_strv_sort(char **l);
/* A json array of strings ([] for NULL). */
json_object *vt_strv_to_json(char *const *l);
