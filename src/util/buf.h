/*
 * util/buf.h: the growable byte buffer (after git's strbuf).
 *
 * Invariants:
 *  - after BUF_INIT or buf_init(), `ptr` is never NULL and ptr[len] == '\0';
 *  - binary safe: `len` counts the bytes, NULs included;
 *  - buf_detach() is the only way to take ownership of the bytes; buf_attach()
 *    adopts malloc'd bytes.
 */
#ifndef BASALT_UTIL_BUF_H
#define BASALT_UTIL_BUF_H

#include "util/base.h"

#include <stdarg.h>

#include "util/slice.h"

struct buf {
    char *ptr;
    size_t len;
    size_t _alloc; /* 0 while ptr points at the shared empty string */
};

extern char buf__empty[];
#define BUF_INIT                                                                                   \
    {                                                                                              \
        buf__empty, 0, 0                                                                           \
    }

void buf_init(struct buf *b, size_t hint);
/* Frees the bytes and re-initializes `b` to empty. */
void buf_release(struct buf *b);
/* Like buf_release, zeroing the bytes first: for secrets. */
void buf_release_secure(struct buf *b);
/* Keeps the allocation, sets the length to 0. */
void buf_clear(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_setlen(struct buf *b, size_t len);
/* Returns the malloc'd bytes (NUL-terminated) and re-initializes `b`. */
char *buf_detach(struct buf *b, size_t *len);
/* Takes ownership of `p` (malloc'd, `alloc` bytes, `len` used, len < alloc). */
void buf_attach(struct buf *b, char *p, size_t len, size_t alloc);

void buf_add(struct buf *b, const void *p, size_t n);
void buf_addch(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addslice(struct buf *b, struct slice s);
void buf_addf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);

static inline struct slice
buf_slice(const struct buf *b)
{
    return slice_make(b->ptr, b->len);
}

#endif
