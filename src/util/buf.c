/* util/buf.c: the growable byte buffer. */
#include "util/base.h"

#include "util/buf.h"

char buf__empty[1];

void
buf_init(struct buf *b, size_t hint)
{
    b->ptr = buf__empty;
    b->len = 0;
    b->_alloc = 0;
    if (hint)
        buf_grow(b, hint);
}

void
buf_release(struct buf *b)
{
    if (b->_alloc)
        free(b->ptr);
    buf_init(b, 0);
}

void
buf_release_secure(struct buf *b)
{
    if (b->_alloc)
        secure_zero(b->ptr, b->_alloc);
    buf_release(b);
}

void
buf_clear(struct buf *b)
{
    buf_setlen(b, 0);
}

void
buf_grow(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t n;

    BUG_ON(need < b->len);
    if (need <= b->_alloc)
        return;
    n = b->_alloc ? b->_alloc : 64;
    while (n < need)
        n = n < SIZE_MAX / 2 ? n * 2 : need;
    if (b->_alloc) {
        b->ptr = xrealloc(b->ptr, n);
    } else {
        b->ptr = xmalloc(n);
        b->ptr[0] = '\0';
    }
    b->_alloc = n;
}

void
buf_setlen(struct buf *b, size_t len)
{
    if (!b->_alloc) {
        BUG_ON(len != 0);
        return;
    }
    BUG_ON(len >= b->_alloc);
    b->len = len;
    b->ptr[len] = '\0';
}

char *
buf_detach(struct buf *b, size_t *len)
{
    char *p;

    if (len)
        *len = b->len;
    p = b->_alloc ? b->ptr : xcalloc(1, 1);
    buf_init(b, 0);
    return p;
}

void
buf_attach(struct buf *b, char *p, size_t len, size_t alloc)
{
    BUG_ON(len >= alloc);
    buf_release(b);
    b->ptr = p;
    b->len = len;
    b->_alloc = alloc;
    b->ptr[len] = '\0';
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    buf_grow(b, n);
    memcpy(b->ptr + b->len, p, n);
    buf_setlen(b, b->len + n);
}

void
buf_addch(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void
buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void
buf_addslice(struct buf *b, struct slice s)
{
    buf_add(b, s.ptr, s.len);
}

void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    BUG_ON(n < 0);
    buf_grow(b, (size_t)n);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    buf_setlen(b, b->len + (size_t)n);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}
