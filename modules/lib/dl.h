/* Loading a shared library on first use and resolving the symbols its users need. */
#pragma once

#include <stddef.h>
#include "util.h"

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
        const char *package; /* the Debian package vt_dl_error() names, or NULL */
        const struct vt_dl_sym *syms;
        size_t n_syms;
        void *handle;
        int r; /* 0 untried, 1 loaded, <0 the error */
};

#define VT_DL_SYM(name)                                                                            \
        {                                                                                          \
#name, (void **)&sym_##name                                                        \
        }

/* A library and its symbol table, for a static vt_dl_lib or an array of them. */
#define VT_DL_LIB(so, symtab, ...)                                                                 \
        {                                                                                          \
                .soname = (so), .syms = (symtab), .n_syms = ARRAY_SIZE(symtab), __VA_ARGS__        \
        }

/* 0 when every symbol is resolved; -ELIBACC: the library is missing, -ELIBBAD: a symbol is. */
int vt_dl_open(struct vt_dl_lib *lib);
/* "SONAME not installed" (or "... is too old") after vt_dl_open() failed: for messages; with
 * " (Debian: apt install PACKAGE)" when the library names its package. */
const char *vt_dl_error(const struct vt_dl_lib *lib, char *buf, size_t size);
/* Libraries used together: opens libs[0..n) in order; 0, or the first failure's vt_dl_open(). */
int vt_dl_open_all(struct vt_dl_lib *libs, size_t n);
/* vt_dl_error() of the first of libs that failed to open, after vt_dl_open_all(). */
const char *vt_dl_error_all(const struct vt_dl_lib *libs, size_t n, char *buf, size_t size);
