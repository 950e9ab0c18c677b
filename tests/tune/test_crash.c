/*
 * kill -9 of `virtune apply --root` or `virtune cmdline set --root` (and of the revert after
 * it) at random moments: the next revert, or apply then revert, gives back the original bytes
 * of every file ($VT_CRASH_RUNS rounds, 50 by default; bench/crash runs 1000). Two applies at
 * once lose nothing (the lock).
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include "../lib/testlib.h"

extern char **environ;

static char *original; /* the fixture with the policy, as it was before any apply */

static unsigned runs(void)
{
        const char *e = getenv("VT_CRASH_RUNS");
        return e && atoi(e) > 0 ? (unsigned)atoi(e) : 50;
}

static char *fresh_copy(void)
{
        return vt_test_copy_tree(original);
}

/* `virtune cmdline set` of this (two tokens, three boot files), or "apply" / "revert". */
static const char cmdline_set[] = "cmdline-set";

static pid_t spawn_virtune(const char *verb, const char *root)
{
        char *argv[8] = {getenv("VIRTUNE"), (char *)verb, "--root", (char *)root};
        if (streq(verb, cmdline_set)) {
                char *set[] = {getenv("VIRTUNE"), "cmdline",        "--root", (char *)root, "set",
                               "nopvspin",        "mitigations=off"};
                memcpy(argv, set, sizeof(set));
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        return pid;
}

static int run_virtune(const char *verb, const char *root)
{
        int status;
        assert_int_equal(waitpid(spawn_virtune(verb, root), &status, 0) > 0, 1);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* Starts verb and kills it with SIGKILL after delay_us (it may have finished by then). */
static void kill_after(const char *verb, const char *root, long delay_us)
{
        pid_t pid = spawn_virtune(verb, root);
        nanosleep(&(struct timespec){.tv_sec = delay_us / 1000000,
                                     .tv_nsec = (delay_us % 1000000) * 1000},
                  NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* Every file but virtune's own state (var/) is the original's, and no temp file is left. */
static bool same_as_original(const char *root)
{
        char *diff[] = {"diff", "-r", "-x", "var", (char *)original, (char *)root, NULL};
        if (vt_test_run(diff, NULL) != 0)
                return false;
        char *out = NULL;
        char *find[] = {"find", (char *)root, "-name", ".#*", NULL};
        assert_int_equal(vt_test_run(find, &out), 0);
        bool clean = !out || !*out;
        if (!clean)
                fprintf(stderr, "left behind: %s", out);
        free(out);
        return clean;
}

/* kill -9 of verb at random moments of its span; each round then goes on one of three ways. */
static void kill_9_rounds(const char *verb, unsigned n)
{
        /* How long a whole run takes here: kills land anywhere in it. */
        char *root = fresh_copy();
        long t0 = now_us();
        assert_int_equal(run_virtune(verb, root), 0);
        long span = now_us() - t0;
        assert_int_equal(run_virtune("revert", root), 0);
        assert_true(same_as_original(root));
        vt_test_root_free(root);

        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        unsigned bad = 0, failed_reverts = 0;
        for (unsigned i = 0; i < n; i++) {
                root = fresh_copy();
                long delay = (long)((double)rand() / RAND_MAX * (double)span);
                kill_after(verb, root, delay);
                switch (i % 3) {
                case 0: /* the next revert undoes it */
                        break;
                case 1: /* the next run finishes or undoes it; its revert undoes all */
                        if (run_virtune(verb, root) != 0)
                                failed_reverts++;
                        break;
                case 2: /* the revert is killed too; the one after finishes it */
                        kill_after("revert", root,
                                   (long)((double)rand() / RAND_MAX * (double)span));
                        break;
                }
                if (run_virtune("revert", root) != 0)
                        failed_reverts++;
                if (!same_as_original(root)) {
                        bad++;
                        fprintf(stderr,
                                "%s round %u (variant %u, kill after %ld us): not restored\n", verb,
                                i, i % 3, delay);
                }
                vt_test_root_free(root);
        }
        printf("kill -9 rounds of %s: %u, not restored: %u, %s/revert exiting non-zero after a "
               "kill: %u (span %ld us)\n",
               verb, n, bad, verb, failed_reverts, span);
        assert_int_equal(bad, 0);
        assert_int_equal(failed_reverts, 0);
}

static void test_kill_9_at_random_moments_then_revert_restores_every_byte(void **state)
{
        (void)state;
        kill_9_rounds("apply", runs());
}

/* `virtune cmdline set` is journaled like an apply, with its intent before any boot file. */
static void test_kill_9_of_cmdline_set_then_revert_restores_every_byte(void **state)
{
        (void)state;
        kill_9_rounds(cmdline_set, runs() / 2 + 1);
}

static void test_two_applies_at_once_lose_nothing(void **state)
{
        (void)state;
        unsigned n = runs() / 5 + 1;
        for (unsigned i = 0; i < n; i++) {
                char *root = fresh_copy();
                pid_t a = spawn_virtune("apply", root), b = spawn_virtune("apply", root);
                int sa, sb;
                assert_int_equal(waitpid(a, &sa, 0), a);
                assert_int_equal(waitpid(b, &sb, 0), b);
                assert_true(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
                assert_true(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
                /* one applied, the other found nothing left to do: one revert undoes all */
                assert_int_equal(run_virtune("revert", root), 0);
                assert_true(same_as_original(root));
                vt_test_root_free(root);
        }
}

static void test_apply_waits_for_the_lock_then_says_who_holds_it(void **state)
{
        (void)state;
        char *root = fresh_copy(), *lock = NULL, *err = NULL;
        assert_true(asprintf(&lock, "%s/var/lib/virtune/lock", root) > 0);
        vt_test_write(root, "var/lib/virtune/lock", "");
        int fd = open(lock, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        setenv("VIRTUNE_LOCK_TIMEOUT_MS", "200", 1);
        char *argv[] = {"sh", "-c", "\"$VIRTUNE\" apply --root \"$0\" 2>&1", root, NULL};
        long t0 = now_us();
        assert_int_equal(vt_test_run(argv, &err), 1);
        long waited = now_us() - t0;
        unsetenv("VIRTUNE_LOCK_TIMEOUT_MS");
        assert_true(waited >= 200 * 1000);
        assert_non_null(strstr(err, "another virtune apply or revert is changing"));
        assert_non_null(strstr(err, "/var/lib/virtune/lock"));
        assert_non_null(strstr(err, "waited 200 ms"));
        /* nothing was touched while it waited; once the lock is free the apply goes through */
        assert_true(same_as_original(root));
        close(fd);
        assert_int_equal(run_virtune("apply", root), 0);
        assert_int_equal(run_virtune("revert", root), 0);
        assert_true(same_as_original(root));
        free(err);
        free(lock);
        vt_test_root_free(root);
}

static int setup(void **state)
{
        (void)state;
        char *dir = vt_test_fixture("boot-rhel9-bls"), *src = NULL;
        assert_true(asprintf(&src, "%s/root", dir) > 0);
        original = vt_test_copy_tree(src);
        /* a boot-line change (three boot files) and a new file in new directories */
        vt_test_write(original, "etc/virtune/virtune.conf", "[pvspin]\nenable = no\n");
        free(src);
        free(dir);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        vt_test_root_free(original);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kill_9_at_random_moments_then_revert_restores_every_byte),
                cmocka_unit_test(test_kill_9_of_cmdline_set_then_revert_restores_every_byte),
                cmocka_unit_test(test_two_applies_at_once_lose_nothing),
                cmocka_unit_test(test_apply_waits_for_the_lock_then_says_who_holds_it),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
