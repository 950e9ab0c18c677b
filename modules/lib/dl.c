/* Loading a shared library on first use and resolving the symbols its users need. */
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include "dl.h"
#include "log.h"

/*
 * Why: libkmod and the tss2 stack pull in libcrypto, and mapping them costs every command
 * about 2 MB and a few milliseconds at start-up, though only module loading and the TPM
 * commands use them. Like systemd, we open them when first asked.
 */
int vt_dl_open(struct vt_dl_lib *lib)
{
        assert(lib && lib->soname);
        if (lib->r != 0)
                return lib->r > 0 ? 0 : lib->r;
        void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                log_debug("dlopen(%s): %s", lib->soname, dlerror());
                return lib->r = -ELIBACC;
        }
        for (size_t i = 0; i < lib->n_syms; i++) {
                *lib->syms[i].fn = dlsym(h, lib->syms[i].name);
                if (!*lib->syms[i].fn) {
                        log_debug("%s has no %s", lib->soname, lib->syms[i].name);
                        for (size_t j = 0; j <= i; j++)
                                *lib->syms[j].fn = NULL;
                        dlclose(h);
                        return lib->r = -ELIBBAD;
                }
        }
        lib->handle = h;
        lib->r = 1;
        return 0;
}

const char *vt_dl_error(const struct vt_dl_lib *lib, char *buf, size_t size)
{
        snprintf(buf, size, "%s %s%s%s%s", lib->soname,
                 lib->r == -ELIBBAD ? "is too old (a symbol virtune needs is missing)"
                                    : "not installed",
                 lib->package ? " (Debian: apt install " : "", lib->package ? lib->package : "",
                 lib->package ? ")" : "");
        return buf;
}

int vt_dl_open_all(struct vt_dl_lib *libs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = vt_dl_open(&libs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

const char *vt_dl_error_all(const struct vt_dl_lib *libs, size_t n, char *buf, size_t size)
{
        for (size_t i = 0; i < n; i++)
                if (libs[i].r < 0)
                        return vt_dl_error(&libs[i], buf, size);
        snprintf(buf, size, "the libraries are loaded");
        return buf;
}
