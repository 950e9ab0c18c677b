/* libkmod.so.2, opened on first use: the few functions module loading needs. */
#pragma once

#include <libkmod.h>

extern typeof(kmod_new) *sym_kmod_new;
extern typeof(kmod_unref) *sym_kmod_unref;
extern typeof(kmod_module_new_from_name) *sym_kmod_module_new_from_name;
extern typeof(kmod_module_unref) *sym_kmod_module_unref;
extern typeof(kmod_module_probe_insert_module) *sym_kmod_module_probe_insert_module;
extern typeof(kmod_module_remove_module) *sym_kmod_module_remove_module;

/* 0 when the sym_ pointers above are set; -ELIBACC/-ELIBBAD (see dl.h) otherwise. */
int vt_dl_kmod(void);
/* For messages after vt_dl_kmod() failed: "libkmod.so.2 not installed". */
const char *vt_dl_kmod_error(char *buf, size_t size);
