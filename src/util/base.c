/*
 * util/base.c: checked allocators, die(), BUG_ON support, secure_zero and
 * constant-time comparison.
 */
#include "util/base.h"

#include <stdarg.h>

void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("basalt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void
bug_at(const char *file, int line, const char *cond)
{
    fprintf(stderr, "basalt: BUG at %s:%d: %s\n", file, line, cond);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        die("out of memory allocating %zu bytes", n);
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

    if (!p)
        die("out of memory allocating %zu x %zu bytes", nmemb, size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        die("out of memory reallocating %zu bytes", n);
    return q;
}

char *
xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *
xmemdup(const void *p, size_t n)
{
    void *q = xmalloc(n);

    memcpy(q, p, n);
    return q;
}

void
secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

bool
ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char acc = 0;
    size_t i;

    for (i = 0; i < n; i++)
        acc |= x[i] ^ y[i];
    return acc == 0;
}
