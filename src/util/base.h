/*
 * util/base.h: the first include of every .c file. Feature macros, compiler
 * attributes, the checked allocators (out of memory aborts, STYLE 2.4), the
 * assertion macros and banned.h.
 */
#ifndef BASALT_UTIL_BASE_H
#define BASALT_UTIL_BASE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#define BASALT_VERSION "0.2.0" /* the release: `basalt version`, the admin API */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define UNUSED __attribute__((unused))
#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define WARN_UNUSED __attribute__((warn_unused_result))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);
NORETURN void bug_at(const char *file, int line, const char *cond);

/* Cheap invariants: stay in release builds. */
#define BUG_ON(cond)                                                                               \
    do {                                                                                           \
        if (UNLIKELY(cond))                                                                        \
            bug_at(__FILE__, __LINE__, #cond);                                                     \
    } while (0)

/* Expensive checks: debug builds only. */
#ifdef BASALT_DEBUG
#define DEBUG_ASSERT(cond) BUG_ON(!(cond))
#else
#define DEBUG_ASSERT(cond) ((void)0)
#endif

/* Defensive branches that should never be taken (SQLite ALWAYS/NEVER). */
#ifdef BASALT_DEBUG
#define ALWAYS(x) ((x) ? 1 : (bug_at(__FILE__, __LINE__, #x), 0))
#define NEVER(x) ((x) ? (bug_at(__FILE__, __LINE__, #x), 1) : 0)
#else
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#endif

/* Allocators that abort on out of memory: no caller carries ENOMEM paths. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* Zero memory in a way the compiler may not drop (for secrets). */
void secure_zero(void *p, size_t n);

/* Constant-time comparison of two byte strings of equal length `n`. */
bool ct_equal(const void *a, const void *b, size_t n);

#include "util/banned.h"

#endif
