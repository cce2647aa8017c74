/*
 * tests/unit/harness.c: registry, fork-per-test runner with timeout, and the
 * final "N passed, N failed" line that CI reads.
 */
#include "util/base.h"

#include "harness.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "obs/log.h"
#include "util/clock.h"
#include "util/slice.h"

struct test {
    const char *name;
    const char *file;
    test_fn *fn;
};

static struct test *tests;
static size_t ntests, alloc_tests;
static char tmpdir[256];

void
harness_register(const char *name, test_fn *fn, const char *file)
{
    if (ntests == alloc_tests) {
        alloc_tests = alloc_tests ? alloc_tests * 2 : 64;
        tests = xrealloc(tests, alloc_tests * sizeof(*tests));
    }
    tests[ntests++] = (struct test){ name, file, fn };
}

void
harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

const char *
harness_tmpdir(void)
{
    return tmpdir;
}

uint64_t
harness_rand(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1Dull;
}

void
harness_fill_random(uint64_t *state, void *p, size_t n)
{
    uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        b[i] = (uint8_t)(harness_rand(state) >> 56);
}

static bool
selected(const char *name, int argc, char **argv)
{
    int i;

    if (argc < 2)
        return true;
    for (i = 1; i < argc; i++)
        if (strncmp(name, argv[i], strlen(argv[i])) == 0)
            return true;
    return false;
}

static int
run_one(const struct test *t, unsigned timeout)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char cmd[512];
    pid_t pid;
    int status = 0;
    unsigned waited_ms = 0;

    snprintf(tmpdir, sizeof(tmpdir), "%s/basalt-unit-XXXXXX", base);
    if (!mkdtemp(tmpdir))
        die("mkdtemp %s: %s", tmpdir, strerror(errno));
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        alarm(timeout);
        t->fn();
        fflush(NULL);
        _exit(0);
    }
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            break;
        if (waited_ms > (timeout + 5) * 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        usleep(2000);
        waited_ms += 2;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    return -1;
}

int
main(int argc, char **argv)
{
    unsigned passed = 0, failed = 0, timeout = 30;
    const char *env = getenv("TEST_TIMEOUT");
    size_t i;

    if (env) {
        uint64_t v;

        if (parse_u64(slice_cstr(env), &v) == 0 && v > 0 && v < 3600)
            timeout = (unsigned)v;
    }
    log_set_quiet(true);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 0; i < ntests; i++) {
        const struct test *t = &tests[i];
        int64_t start;

        if (!selected(t->name, argc, argv))
            continue;
        start = clock_mono_ns();
        if (run_one(t, timeout) == 0) {
            passed++;
            printf("ok   %s (%.0f ms)\n", t->name, (clock_mono_ns() - start) / 1e6);
        } else {
            failed++;
            printf("FAIL %s  [%s]\n", t->name, t->file);
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
