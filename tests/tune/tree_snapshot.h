/* Test helper: a whole tree as text, to show that revert gives it back byte for byte. */
#pragma once

#include <ftw.h>
#include <sys/stat.h>
#include "../lib/testlib.h"

/* The whole tree as text: "path mode bytes" per entry (symlinks as their target). */
static FILE *snap_out;
static const char *snap_root;

static inline int snap_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)ftw;
        const char *rel = p + strlen(snap_root);
        /* The journal (and the directories holding it) is meant to change. */
        if (startswith(rel, "/var/lib/virtune") || streq(rel, "/var") || streq(rel, "/var/lib"))
                return 0;
        fprintf(snap_out, "%s %o ", rel, (unsigned)st->st_mode);
        if (flag == FTW_SL) {
                char buf[4096];
                ssize_t k = readlink(p, buf, sizeof(buf) - 1);
                fprintf(snap_out, "-> %.*s", (int)(k < 0 ? 0 : k), buf);
        } else if (S_ISREG(st->st_mode)) {
                _cleanup_free_ char *c = vt_test_read("", p);
                fputs(c ? c : "", snap_out);
        }
        fputc('\n', snap_out);
        return 0;
}

static inline char *snapshot(const char *root)
{
        char *buf = NULL;
        size_t len = 0;
        snap_out = open_memstream(&buf, &len);
        snap_root = root;
        assert_int_equal(nftw(root, snap_one, 16, FTW_PHYS), 0);
        fclose(snap_out);
        return buf;
}

/* Equal trees, or the first line that differs on stderr. */
static inline void assert_same_tree(const char *a, const char *b)
{
        if (streq(a, b))
                return;
        size_t i = 0, line = 0;
        while (a[i] && a[i] == b[i])
                i++;
        while (i > 0 && a[i - 1] != '\n')
                i--;
        for (size_t k = 0; k < i; k++)
                line += a[k] == '\n';
        fprintf(stderr, "trees differ at entry line %zu:\n- %.200s\n+ %.200s\n", line + 1, a + i,
                b + i);
        fail();
}
