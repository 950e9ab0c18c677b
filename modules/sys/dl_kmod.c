/* libkmod.so.2, opened on first use: the few functions module loading needs. */
#include "dl.h"
#include "dl_kmod.h"
#include "util.h"

typeof(kmod_new) *sym_kmod_new;
typeof(kmod_unref) *sym_kmod_unref;
typeof(kmod_module_new_from_name) *sym_kmod_module_new_from_name;
typeof(kmod_module_unref) *sym_kmod_module_unref;
typeof(kmod_module_probe_insert_module) *sym_kmod_module_probe_insert_module;
typeof(kmod_module_remove_module) *sym_kmod_module_remove_module;

static const struct vt_dl_sym kmod_syms[] = {
        VT_DL_SYM(kmod_new),
        VT_DL_SYM(kmod_unref),
        VT_DL_SYM(kmod_module_new_from_name),
        VT_DL_SYM(kmod_module_unref),
        VT_DL_SYM(kmod_module_probe_insert_module),
        VT_DL_SYM(kmod_module_remove_module),
};

static struct vt_dl_lib kmod_lib = VT_DL_LIB("libkmod.so.2", kmod_syms);

int vt_dl_kmod(void)
{
        return vt_dl_open(&kmod_lib);
}

const char *vt_dl_kmod_error(char *buf, size_t size)
{
        return vt_dl_error(&kmod_lib, buf, size);
}
