/* Libraries opened on first use: found, missing, lacking a symbol; and who links what. */
#include <dlfcn.h>
#include <link.h>
#include "../lib/testlib.h"
#include "dl.h"
#include "dl_kmod.h"

static void *sym_first;
static void *sym_no_such;

static void test_dl_open_resolves_symbols_once(void **state)
{
        static const struct vt_dl_sym syms[] = {{"kmod_new", &sym_first}};
        struct vt_dl_lib lib = {.soname = "libkmod.so.2", .syms = syms, .n_syms = 1};
        assert_int_equal(vt_dl_open(&lib), 0);
        assert_non_null(sym_first);
        void *h = lib.handle;
        assert_int_equal(vt_dl_open(&lib), 0);
        assert_ptr_equal(lib.handle, h);
}

static void test_dl_open_missing_library_is_named(void **state)
{
        static const struct vt_dl_sym syms[] = {{"anything", &sym_no_such}};
        struct vt_dl_lib lib = {.soname = "libvirtune-absent.so.9", .syms = syms, .n_syms = 1};
        char msg[128];
        assert_int_equal(vt_dl_open(&lib), -ELIBACC);
        assert_int_equal(vt_dl_open(&lib), -ELIBACC); /* cached, not retried */
        assert_string_equal(vt_dl_error(&lib, msg, sizeof(msg)),
                            "libvirtune-absent.so.9 not installed");
}

static void test_dl_open_missing_symbol_is_an_old_library(void **state)
{
        static const struct vt_dl_sym syms[] = {{"kmod_new", &sym_first},
                                                {"kmod_no_such_function", &sym_no_such}};
        struct vt_dl_lib lib = {.soname = "libkmod.so.2", .syms = syms, .n_syms = 2};
        char msg[128];
        assert_int_equal(vt_dl_open(&lib), -ELIBBAD);
        assert_null(sym_first); /* nothing half-resolved */
        assert_string_equal(vt_dl_error(&lib, msg, sizeof(msg)),
                            "libkmod.so.2 is too old (a symbol virtune needs is missing)");
}

static void *sym_later;

static void test_dl_open_all_stops_at_the_first_missing_library_and_names_its_package(void **state)
{
        static const struct vt_dl_sym found[] = {{"kmod_new", &sym_first}};
        static const struct vt_dl_sym absent[] = {{"anything", &sym_no_such}};
        static const struct vt_dl_sym later[] = {{"kmod_unref", &sym_later}};
        struct vt_dl_lib libs[] = {
                VT_DL_LIB("libkmod.so.2", found),
                VT_DL_LIB("libvirtune-absent.so.9", absent, .package = "virtune-absent9"),
                VT_DL_LIB("libkmod.so.2", later),
        };
        char msg[128];
        assert_int_equal(vt_dl_open_all(libs, ARRAY_SIZE(libs)), -ELIBACC);
        assert_int_equal(libs[0].r, 1);
        assert_int_equal(libs[2].r, 0); /* not tried after the missing one */
        assert_null(sym_later);
        assert_string_equal(vt_dl_error_all(libs, ARRAY_SIZE(libs), msg, sizeof(msg)),
                            "libvirtune-absent.so.9 not installed (Debian: apt install "
                            "virtune-absent9)");
}

static int loaded(struct dl_phdr_info *info, size_t size, void *data)
{
        return info->dlpi_name && strstr(info->dlpi_name, data) ? 1 : 0;
}

/* The test links libvirtune like the programs do: nothing maps libkmod until it is asked. */
static void test_dl_kmod_is_not_mapped_until_first_use(void **state)
{
        assert_int_equal(dl_iterate_phdr(loaded, "libkmod.so"), 0);
        assert_int_equal(dl_iterate_phdr(loaded, "libcrypto.so"), 0);
        assert_int_equal(vt_dl_kmod(), 0);
        assert_non_null(sym_kmod_new);
        assert_int_equal(dl_iterate_phdr(loaded, "libkmod.so"), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dl_kmod_is_not_mapped_until_first_use),
                cmocka_unit_test(test_dl_open_resolves_symbols_once),
                cmocka_unit_test(test_dl_open_missing_library_is_named),
                cmocka_unit_test(test_dl_open_missing_symbol_is_an_old_library),
                cmocka_unit_test(
                        test_dl_open_all_stops_at_the_first_missing_library_and_names_its_package),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
