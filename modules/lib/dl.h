/* Loading a shared library on first use and resolving the symbols its users need. */
#pragma once

#include <stddef.h>

/* One symbol: its name in the library and where its address goes. */
struct vt_dl_sym {
        const char *name;
        void **fn;
};

/*
 * A library opened once per process by its soname. Callers keep one static vt_dl_lib each;
 * the result (handle or error) is cached so a missing library costs one dlopen().
 */
struct vt_dl_lib {
        const char *soname;
        const struct vt_dl_sym *syms;
        size_t n_syms;
        void *handle;
        int r; /* 0 untried, 1 loaded, <0 the error */
};

#define VT_DL_SYM(name)                                                                            \
        {                                                                                          \
#name, (void **)&sym_##name                                                        \
        }

/* 0 when every symbol is resolved; -ELIBACC: the library is missing, -ELIBBAD: a symbol is. */
int vt_dl_open(struct vt_dl_lib *lib);
/* "SONAME not installed" (or "... lacks SYMBOL") after vt_dl_open() failed: for messages. */
const char *vt_dl_error(const struct vt_dl_lib *lib, char *buf, size_t size);
