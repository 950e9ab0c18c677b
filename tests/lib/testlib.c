/* Helpers for virtune's cmocka tests: temp trees, files, fixtures. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "testlib.h"

char *vt_test_mkdtemp(void)
{
        const char *tmp = getenv("TMPDIR");
        char *p;
        assert_true(asprintf(&p, "%s/virtune-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
        assert_non_null(mkdtemp(p));
        return p;
}

static void mkdir_p(char *path)
{
        for (char *s = path + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        mkdir(path, 0755);
                        *s = '/';
                }
}

void vt_test_write(const char *root, const char *rel, const char *content)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
        mkdir_p(p);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
        free(p);
}

void vt_test_symlink(const char *root, const char *rel, const char *target)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
        mkdir_p(p);
        assert_int_equal(symlink(target, p), 0);
        free(p);
}

char *vt_test_read(const char *root, const char *rel)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
        FILE *f = fopen(p, "re");
        free(p);
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t cap = 0;
        FILE *m = open_memstream(&buf, &cap);
        char chunk[4096];
        size_t k;
        while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, k, m);
        fclose(f);
        fclose(m);
        return buf;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(p);
}

void vt_test_rm_rf(const char *path)
{
        if (path)
                nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void vt_test_root_free(char *root)
{
        vt_test_rm_rf(root);
        free(root);
}

struct vt_ctx *vt_test_ctx(const char *root)
{
        struct vt_ctx *ctx = NULL;
        assert_int_equal(vt_ctx_new(root, &ctx), 0);
        return ctx;
}

char *vt_test_fixture(const char *name)
{
        const char *dir = getenv("VT_FIXTURES");
        assert_non_null(dir);
        char *p;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

int vt_test_run(char *const argv[], char **out)
{
        int pfd[2];
        assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(pfd[1], 1);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(pfd[1]);
        char *buf = NULL;
        size_t cap = 0;
        FILE *m = open_memstream(&buf, &cap);
        char chunk[4096];
        ssize_t k;
        while ((k = read(pfd[0], chunk, sizeof(chunk))) > 0)
                fwrite(chunk, 1, (size_t)k, m);
        close(pfd[0]);
        fclose(m);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (out)
                *out = buf;
        else
                free(buf);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *vt_test_copy_tree(const char *src)
{
        char *dst = vt_test_mkdtemp();
        char *from;
        assert_true(asprintf(&from, "%s/.", src) > 0);
        char *argv[] = {"cp", "-a", from, dst, NULL};
        assert_int_equal(vt_test_run(argv, NULL), 0);
        free(from);
        return dst;
}

char *vt_test_copy_fixture_root(const char *name)
{
        char *src = NULL, *dir = vt_test_fixture(name);
        assert_true(asprintf(&src, "%s/root", dir) > 0);
        free(dir);
        char *root = vt_test_copy_tree(src);
        free(src);
        return root;
}

char *vt_test_write_generator(const char *dir)
{
        vt_test_write(dir, "gen.sh",
                      "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/gen.log\"\nexit "
                      "${GEN_EXIT:-0}\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/gen.sh", dir) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        return p;
}

size_t vt_test_count_lines(const char *root, const char *rel)
{
        char *text = vt_test_read(root, rel);
        size_t n = 0;
        for (const char *c = text; c && *c; c++)
                n += *c == '\n';
        free(text);
        return n;
}

void vt_test_add_x86_kernel(const char *root, const char *release)
{
        const char *src = getenv("VT_SOURCE");
        assert_non_null(src);
        char *cmd = NULL;
        assert_true(asprintf(&cmd, "'%s/tests/lib/add-x86-kernel' '%s' '%s'", src, root, release) >
                    0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
}
