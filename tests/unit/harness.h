/*
 * tests/unit/harness.h: the unit test harness (STYLE 2.12).
 *
 *   TEST(buf_grows) { struct buf b = BUF_INIT; ...; ASSERT_EQ(b.len, 3); }
 *
 * Every TEST registers itself at load time; `unit` runs each in a forked
 * child with a timeout (30 s, or TEST_TIMEOUT seconds from the environment)
 * and ends with "N passed, N failed". `unit NAME...` runs only tests whose
 * name starts with one of the arguments.
 */
#ifndef BASALT_TESTS_UNIT_HARNESS_H
#define BASALT_TESTS_UNIT_HARNESS_H

#include "util/base.h"

#include <inttypes.h>

typedef void test_fn(void);

void harness_register(const char *name, test_fn *fn, const char *file);
void harness_fail(const char *file, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void register_##name(void)                                \
    {                                                                                              \
        harness_register(#name, test_##name, __FILE__);                                            \
    }                                                                                              \
    static void test_##name(void)

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            harness_fail(__FILE__, __LINE__, "ASSERT(%s)", #cond);                                 \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b)                                                                              \
            harness_fail(__FILE__, __LINE__, "ASSERT_EQ(%s, %s): %lld != %lld", #a, #b, _a, _b);   \
    } while (0)

#define ASSERT_NE(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a == _b)                                                                              \
            harness_fail(__FILE__, __LINE__, "ASSERT_NE(%s, %s): both %lld", #a, #b, _a);          \
    } while (0)

/* rc >= 0; prints the error name otherwise. */
#define ASSERT_OK(rc)                                                                              \
    do {                                                                                           \
        long long _rc = (long long)(rc);                                                           \
        if (_rc < 0)                                                                               \
            harness_fail(__FILE__, __LINE__, "ASSERT_OK(%s): %lld (%s)", #rc, _rc,                 \
                         err_name((int)_rc));                                                      \
    } while (0)

#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0)                                                     \
            harness_fail(__FILE__, __LINE__, "ASSERT_STREQ(%s, %s): \"%s\" != \"%s\"", #a, #b,     \
                         _a ? _a : "(null)", _b ? _b : "(null)");                                  \
    } while (0)

#define ASSERT_MEMEQ(a, b, n)                                                                      \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            harness_fail(__FILE__, __LINE__, "ASSERT_MEMEQ(%s, %s, %s)", #a, #b, #n);              \
    } while (0)

#include "util/err.h"

/* A fresh empty directory under $TMPDIR for this test; removed after the run. */
const char *harness_tmpdir(void);

/* xorshift64*: the next pseudo-random number from `*state` (not 0), for repeatable test data. */
uint64_t harness_rand(uint64_t *state);
/* `n` pseudo-random bytes from `*state` (the top byte of each harness_rand()). */
void harness_fill_random(uint64_t *state, void *p, size_t n);

#endif
